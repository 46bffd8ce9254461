"""armnn_bench.py - time Arm NN's TfLiteParser on its CpuRef backend
(Debian's python3-pyarmnn, run with /usr/bin/python3) on one model, the
third column of bench/infer/run.sh.

Usage: armnn_bench.py MODEL.tflite INPUT.bin MIN_MS EDGECR_OUTPUT.bin
Loads and optimizes the network (timed as plan_ns), runs it once, then in 5
batches of at least MIN_MS each, and prints the best time per run
(EnqueueWorkload with prepared input/output tensors, so Python's share is
one call per run) in the format of bench_infer.c, plus how the output
compares with edgecr's: `same` or `max N LSB` (float outputs are compared in
LSBs of the int8 tensor they were dequantized from, via their scale).
"""
import sys
import time

import numpy as np
import pyarmnn as ann


def main():
    model, inp, min_ms, edgecr_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    raw = open(inp, "rb").read()
    t0 = time.perf_counter_ns()
    parser = ann.ITfLiteParser()
    net = parser.CreateNetworkFromBinaryFile(model)
    ins = [parser.GetNetworkInputBindingInfo(0, n) for n in parser.GetSubgraphInputTensorNames(0)]
    outs = [parser.GetNetworkOutputBindingInfo(0, n) for n in parser.GetSubgraphOutputTensorNames(0)]
    rt = ann.IRuntime(ann.CreationOptions())
    opt, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], rt.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = rt.LoadNetwork(opt)
    plan_ns = time.perf_counter_ns() - t0
    arrays, off = [], 0
    for bi in ins:
        dt = np.float32 if bi[1].GetDataType() == ann.DataType_Float32 else np.int8
        n = bi[1].GetNumBytes()
        arrays.append(np.frombuffer(raw[off:off + n], dtype=dt).copy())
        off += n
    it, ot = ann.make_input_tensors(ins, arrays), ann.make_output_tensors(outs)
    rt.EnqueueWorkload(net_id, it, ot)
    best, runs = None, 0
    for _ in range(5):
        n, start = 0, time.perf_counter_ns()
        while True:
            rt.EnqueueWorkload(net_id, it, ot)
            n += 1
            el = time.perf_counter_ns() - start
            if el >= min_ms * 1000000:
                break
        best = el // n if best is None else min(best, el // n)
        runs += n
    res = ann.workload_tensors_to_ndarray(ot)
    mine = open(edgecr_out, "rb").read()
    worst, off = 0.0, 0
    for bi, a in zip(outs, res):
        a = np.asarray(a).ravel()
        nb = a.nbytes
        e = np.frombuffer(mine[off:off + nb], dtype=a.dtype)
        off += nb
        d = np.abs(a.astype(np.float64) - e.astype(np.float64))
        if a.dtype == np.float32:
            d = d / max(bi[1].GetQuantizationScale(), 1e-30) if bi[1].GetQuantizationScale() else d
        worst = max(worst, float(d.max()) if d.size else 0.0)
    cmpres = "same" if worst == 0 else f"max {worst:.3g} LSB"
    print(f"plan_ns {plan_ns} run_ns {best} runs {runs} {cmpres}")


if __name__ == "__main__":
    main()
