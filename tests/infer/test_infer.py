"""The int8 inference library (src/infer) against two references, on the
models of gen_models.py run through the test driver (build/src/infer/infer_run):

- tflite_ref.py, a NumPy reference of TFLite's integer semantics: every
  output must be bit-exact.
- Arm NN 20.08's TfLiteParser on its CpuRef backend (python3-pyarmnn):
  CpuRef computes int8 ops by dequantizing to float, computing in float and
  quantizing back (rounding half away from zero), not with TFLite's
  fixed-point requantization; it therefore differs by at most 1 LSB on some
  elements of some ops (ARMNN_1LSB, docs/tinyml.md says why) and must match
  bit for bit everywhere else.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_models as g  # noqa: E402
import tflite_ref  # noqa: E402

BUILD = Path(os.environ.get("EDGECR_BUILD", HERE.parent.parent / "build"))
RUNNER = BUILD / "src" / "infer" / "infer_run"

# Models where Arm NN CpuRef's float requantization rounds some element(s)
# one step differently from TFLite's fixed point (at most 1 LSB):
#   ADD: CpuRef adds the dequantized floats; TFLite rescales each input to
#        2*max(scale) in Q20 with two roundings.
#   AVERAGE_POOL_2D: CpuRef averages (x - zp) * scale and rounds half away
#        from zero around the zero point; TFLite rounds the integer average
#        of the raw values half away from zero around 0 -> ties differ.
#   DEPTHWISE_CONV_2D: float product of the scales vs the Q31 multiplier.
ARMNN_1LSB = {"add_same", "avgpool_valid", "avgpool_same_edges", "dw_same_mult2"}


def run_driver(model_path, input_bytes, tmp_path, arena=None):
    inp = tmp_path / (model_path.stem + ".in")
    inp.write_bytes(input_bytes)
    cmd = [str(RUNNER)] + (["-a", str(arena)] if arena is not None else []) + [str(model_path), str(inp)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return r


def output_bytes(r):
    assert r.returncode == 0, r.stdout + r.stderr
    line = r.stdout.splitlines()[0]
    assert line.startswith("ok "), line
    return bytes.fromhex(line[3:])


def as_arrays(mod, raw):
    out, off = [], 0
    for i in mod.outputs:
        t = mod.tensors[i]
        dt = np.float32 if t.type == g.FLOAT32 else np.int8
        n = int(np.prod(t.shape)) * np.dtype(dt).itemsize
        out.append(np.frombuffer(raw[off:off + n], dtype=dt).reshape(t.shape))
        off += n
    assert off == len(raw)
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    if not RUNNER.exists():
        pytest.skip(f"{RUNNER} not built")
    d = tmp_path_factory.mktemp("infer-models")
    out = {}
    for name, f in g.MODELS.items():
        m = f()
        p = d / f"{name}.tflite"
        p.write_bytes(m.build())
        inputs = m.example_input()
        out[name] = (m, p, inputs, b"".join(np.ascontiguousarray(x).tobytes() for x in inputs))
    return out


@pytest.mark.parametrize("name", list(g.MODELS))
def test_bit_exact_with_integer_reference(models, name, tmp_path):
    m, path, inputs, raw_in = models[name]
    got = as_arrays(m, output_bytes(run_driver(path, raw_in, tmp_path)))
    want = tflite_ref.run(m, inputs)
    for gv, wv in zip(got, want):
        assert gv.dtype == wv.dtype and gv.shape == wv.shape
        diff = np.flatnonzero(gv.ravel() != wv.ravel())
        assert diff.size == 0, f"{diff.size} elements differ, first at {diff[:5]}: " \
                               f"got {gv.ravel()[diff[:5]]} want {wv.ravel()[diff[:5]]}"


def armnn_run(path, raw_in, mod):
    ann = pytest.importorskip("pyarmnn")
    parser = ann.ITfLiteParser()
    net = parser.CreateNetworkFromBinaryFile(str(path))
    ins = [parser.GetNetworkInputBindingInfo(0, n) for n in parser.GetSubgraphInputTensorNames(0)]
    outs = [parser.GetNetworkOutputBindingInfo(0, n) for n in parser.GetSubgraphOutputTensorNames(0)]
    rt = ann.IRuntime(ann.CreationOptions())
    opt, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], rt.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = rt.LoadNetwork(opt)
    arrays, off = [], 0
    for i, bi in zip(mod.inputs, ins):
        dt = np.float32 if mod.tensors[i].type == g.FLOAT32 else np.int8
        n = bi[1].GetNumBytes()
        arrays.append(np.frombuffer(raw_in[off:off + n], dtype=dt))
        off += n
    ot = ann.make_output_tensors(outs)
    rt.EnqueueWorkload(net_id, ann.make_input_tensors(ins, arrays), ot)
    return [np.asarray(a) for a in ann.workload_tensors_to_ndarray(ot)]


@pytest.mark.parametrize("name", list(g.MODELS))
def test_matches_armnn_cpuref(models, name, tmp_path):
    m, path, inputs, raw_in = models[name]
    got = as_arrays(m, output_bytes(run_driver(path, raw_in, tmp_path)))
    ref = armnn_run(path, raw_in, m)
    for i, gv, rv in zip(m.outputs, got, ref):
        t = m.tensors[i]
        rv = rv.reshape(gv.shape).astype(gv.dtype)
        if t.type == g.FLOAT32:
            # a float output is a dequantized int8: compare in LSBs of its input
            src = next(m.tensors[op[1][0]] for op in m.ops if op[2][0] == i)
            lsb = np.abs(gv.astype(np.float64) - rv) / np.float32(src.scale)
        else:
            lsb = np.abs(gv.astype(np.int64) - rv.astype(np.int64))
        allowed = 1.001 if name in ARMNN_1LSB else 1e-6
        assert lsb.max() <= allowed, f"max {lsb.max()} LSB, {np.count_nonzero(lsb > 1e-6)} elements differ"


def test_arena_too_small_is_refused(models, tmp_path):
    m, path, inputs, raw_in = models["cnn"]
    r = run_driver(path, raw_in, tmp_path)
    used = int(r.stdout.split("arena ")[1].split()[0])
    ok = run_driver(path, raw_in, tmp_path, arena=used)
    assert output_bytes(ok) == output_bytes(r)
    small = run_driver(path, raw_in, tmp_path, arena=used - 1)
    assert small.returncode == 2 and "arena too small" in small.stdout, small.stdout


def test_wrong_input_size_is_refused(models, tmp_path):
    m, path, inputs, raw_in = models["fc_basic"]
    r = run_driver(path, raw_in[:-1], tmp_path)
    assert r.returncode == 2 and "input size differs" in r.stdout, r.stdout


def requant_chain(n, elems=4000):
    m = g.Model()
    x = m.t([1, elems], g.INT8, 0.05, 0)
    m.inputs = [x]
    for i in range(n):
        y = m.t([1, elems], g.INT8, 0.05 + 0.01 * (i + 1), i)
        m.op(g.QUANTIZE, [x], [y])
        x = y
    m.outputs = [x]
    return m


def test_arena_reuses_dead_activations(tmp_path):
    """a chain of 10 ops on 4000-byte tensors needs 2 live regions at a time,
    not 11: the arena grows by the op/tensor tables only, and the result
    still equals the reference"""
    used = {}
    for n in (2, 10):
        m = requant_chain(n)
        p = tmp_path / f"chain{n}.tflite"
        p.write_bytes(m.build())
        inputs = m.example_input()
        r = run_driver(p, inputs[0].tobytes(), tmp_path)
        assert as_arrays(m, output_bytes(r))[0].tobytes() == tflite_ref.run(m, inputs)[0].tobytes()
        used[n] = int(r.stdout.split("arena ")[1].split()[0])
    assert used[10] - used[2] < 8 * 4000 // 4, used


def test_plan_work_counts_macs(models, tmp_path):
    """the work a caller can budget before running: MACs of FC/conv/depthwise,
    window elements of pools, one per output element of the other ops"""
    m, path, inputs, raw_in = models["mlp"]
    r = run_driver(path, raw_in, tmp_path)
    assert int(r.stdout.split("work ")[1]) == 64 + 64 * 32 + 32 * 16 + 16 * 4 + 4
    m, path, inputs, raw_in = models["cnn"]
    r = run_driver(path, raw_in, tmp_path)
    # conv 10x4x1 -> 25x5x16, dw 3x3, pointwise 16 -> 24, avg pool 25x5, reshape, FC 24 -> 12
    want = 25 * 5 * 16 * 40 + 25 * 5 * 16 * 9 + 25 * 5 * 24 * 16 + 24 * 125 + 24 + 12 * 24
    assert int(r.stdout.split("work ")[1]) == want
