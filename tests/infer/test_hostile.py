"""Hostile models for the inference library's reader and plan (src/infer):
each is refused with an error code and a message naming the op or tensor
and the reason, and never makes the library read or write outside the
model's bytes or the arena.  Every case runs through the normal test driver
and through one built here with ASan/UBSan (clang), whose reports fail the
test; the model buffer is malloc'd at its exact size so an overread shows.
"""
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import gen_models as g  # noqa: E402

BUILD = Path(os.environ.get("EDGECR_BUILD", ROOT / "build"))
RUNNER = BUILD / "src" / "infer" / "infer_run"
# error codes of src/infer/infer.h
TRUNCATED, FORMAT, UNSUPPORTED, SHAPE, QUANT, ARENA, GRAPH = -1, -2, -3, -4, -5, -6, -7


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    if not RUNNER.exists():
        pytest.skip(f"{RUNNER} not built")
    out = [RUNNER]
    if shutil.which("clang"):
        d = tmp_path_factory.mktemp("asan")
        exe = d / "infer_run_asan"
        srcs = [ROOT / "tests/infer/infer_run.c"] + sorted((ROOT / "src/infer").glob("*.c"))
        subprocess.run(["clang", "-std=c11", "-g", "-O1", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all", "-I", str(ROOT / "src/infer"), *map(str, srcs),
                        "-o", str(exe)], check=True)
        out.append(exe)
    return out


def run_all(runners, model_bytes, input_bytes, tmp_path, arena=None):
    """run on every driver; returns the first's result after checking they agree"""
    mp, ip = tmp_path / "m.tflite", tmp_path / "m.in"
    mp.write_bytes(model_bytes)
    ip.write_bytes(input_bytes)
    results = []
    for exe in runners:
        cmd = [str(exe)] + (["-a", str(arena)] if arena else []) + [str(mp), str(ip)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0"})
        assert r.returncode in (0, 2), f"{exe.name} crashed ({r.returncode}): {r.stderr[-3000:]}"
        assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-3000:]
        results.append(r)
    assert len({r.stdout for r in results}) == 1
    return results[0]


def refused(runners, model, tmp_path, code, words, input_bytes=b"\0" * 64):
    raw = model if isinstance(model, bytes) else model.build()
    r = run_all(runners, raw, input_bytes, tmp_path)
    assert r.returncode == 2, r.stdout
    line = r.stdout.strip()
    assert line.startswith(f"error {code} "), line
    for w in words:
        assert w in line, line
    return line


# ---- byte-level: truncation, offsets, vtables ------------------------------
def u32(b, at):
    return struct.unpack_from("<I", b, at)[0]


def field_pos(b, table, fid):
    """position of field fid of the table at `table` (None when absent)"""
    vt = table - struct.unpack_from("<i", b, table)[0]
    slot = 4 + 2 * fid
    if slot >= struct.unpack_from("<H", b, vt)[0]:
        return None
    fo = struct.unpack_from("<H", b, vt + slot)[0]
    return table + fo if fo else None


def follow(b, at):
    return at + u32(b, at)


def patch(b, at, value, fmt="<I"):
    b = bytearray(b)
    struct.pack_into(fmt, b, at, value)
    return bytes(b)


def subgraph_table(b):
    root = u32(b, 0)
    vec = follow(b, field_pos(b, root, 2))
    return vec, follow(b, vec + 4)


def test_truncated_everywhere(runners, tmp_path):
    raw = g.fc_basic().build()
    for n in list(range(0, 64)) + list(range(64, len(raw), 13)):
        r = run_all(runners[:1], raw[:n], b"\0" * 20, tmp_path)
        assert r.returncode == 2 and r.stdout.startswith("error "), (n, r.stdout)
    for n in range(0, len(raw), 41):  # fewer under ASan: slower
        run_all(runners, raw[:n], b"\0" * 20, tmp_path)


def test_root_offset_out_of_range(runners, tmp_path):
    raw = g.fc_basic().build()
    refused(runners, patch(raw, 0, len(raw) + 16), tmp_path, TRUNCATED, ["bad root table"])
    refused(runners, patch(raw, 0, 0xFFFFFFFC), tmp_path, TRUNCATED, ["bad root table"])


def test_vtable_out_of_range(runners, tmp_path):
    raw = g.fc_basic().build()
    root = u32(raw, 0)
    refused(runners, patch(raw, root, -0x7FFFFFF0, "<i"), tmp_path, TRUNCATED, ["bad root table"])
    # a vtable claiming to be longer than the buffer
    vt = root - struct.unpack_from("<i", raw, root)[0]
    refused(runners, patch(raw, vt, 0xFFFE, "<H"), tmp_path, FORMAT, ["bad root table"])
    # a field offset beyond its object
    refused(runners, patch(raw, vt + 4 + 2 * 2, 0xFFF0, "<H"), tmp_path, FORMAT, [])


def test_backward_offset_as_cycle(runners, tmp_path):
    raw = g.fc_basic().build()
    vec, _ = subgraph_table(raw)
    # the subgraph entry pointing back at its own vector's length word: an
    # unsigned offset that wraps in 32 bits must not become a cycle
    refused(runners, patch(raw, vec + 4, 0xFFFFFFFC), tmp_path, TRUNCATED, ["malformed subgraph"])
    refused(runners, patch(raw, vec + 4, 0), tmp_path, TRUNCATED, ["malformed subgraph"])


def test_vector_length_beyond_buffer(runners, tmp_path):
    raw = g.fc_basic().build()
    _, sg = subgraph_table(raw)
    tensors = follow(raw, field_pos(raw, sg, 0))
    refused(runners, patch(raw, tensors, 0x3FFFFFFF), tmp_path, TRUNCATED, ["no tensors vector"])
    ops = follow(raw, field_pos(raw, sg, 3))
    refused(runners, patch(raw, ops, 0xFFFFFFFF), tmp_path, TRUNCATED, ["no operators vector"])


def test_every_word_hostile(runners, tmp_path):
    """every aligned word replaced by hostile values: refused or run, never a
    crash or a sanitizer report (the outputs then are whatever they are)"""
    raw = g.conv_valid_dil2().build()
    inp = np.zeros(1 * 10 * 11 * 2, np.int8).tobytes()
    # the sanitized driver only (it is the one that sees a bad access), every
    # other word; the
    # builder writes the weights last, at the end: the structure is in front
    # (the libFuzzer target, tests/infer/fuzz, goes much further)
    for at in range(0, min(len(raw), 1024) - 3, 8):
        for v in (0xFFFFFFFC, len(raw) - at):
            run_all(runners[-1:], patch(raw, at, v), inp, tmp_path)


# ---- model-level: shapes, types, ops, quantization, graph -----------------
def test_huge_dimensions(runners, tmp_path):
    m = g.fc_basic()
    m.tensors[0].shape = [65536, 65536]
    refused(runners, m, tmp_path, SHAPE, ["tensor 0:", "too many elements"])
    m.tensors[0].shape = [2, -10]
    refused(runners, m, tmp_path, SHAPE, ["tensor 0:", "dimension not positive", "(-10)"])
    m.tensors[0].shape = [1] * 7
    refused(runners, m, tmp_path, SHAPE, ["tensor 0:", "too many dimensions"])


def test_buffer_length_disagrees_with_shape(runners, tmp_path):
    m = g.fc_basic()
    m.tensors[1].data = m.tensors[1].data[:, :9].copy()  # weights [7,10] but 63 bytes
    refused(runners, m, tmp_path, SHAPE, ["tensor 1:", "buffer length differs", "(63)"])


def test_shape_disagrees_with_fc(runners, tmp_path):
    m = g.fc_basic()
    m.tensors[0].shape = [2, 9]
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "not a multiple of the weights' depth"])
    m = g.fc_basic()
    m.tensors[3].shape = [2, 8]
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "tensor 3:", "batches x units"])
    m = g.fc_basic()
    m.tensors[2].shape, m.tensors[2].data = [6], m.tensors[2].data[:6].copy()
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "bias"])


def test_shape_disagrees_with_conv(runners, tmp_path):
    m = g.conv_same_stride2()
    m.tensors[3].shape = [1, 5, 5, 4]  # SAME stride 2 of 9x7 is 5x4
    refused(runners, m, tmp_path, SHAPE, ["op 0: CONV_2D:", "output size disagrees with the window"])
    m = g.conv_valid_dil2()
    m.ops[0][4][3:] = [(3, "b", 0), (4, "i", 6), (5, "i", 6)]  # dilation 6: 13 > 10 rows
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "filter larger than the input"])
    m = g.dw_same_mult2()
    m.ops[0][4][3] = (3, "i", 3)
    refused(runners, m, tmp_path, SHAPE, ["op 0: DEPTHWISE_CONV_2D:", "depth_multiplier"])
    m = g.conv_same_stride2()
    m.ops[0][4][1] = (1, "i", -1)
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "stride", "(-1)"])
    m.ops[0][4][1] = (1, "i", 0)  # not stored (schema default 0): refused too
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "stride", "(0)"])


def test_scale_ratio_out_of_range(runners, tmp_path):
    # found by test_every_word_hostile: a ratio >= 2^31 made the fixed-point
    # left shift undefined (UBSan: shift exponent 130)
    m = g.fc_basic()
    m.tensors[3].scale = 1e-30
    refused(runners, m, tmp_path, QUANT, ["op 0:", "requantization scale ratio out of range"])
    # found by the fuzzer: zp + round(-1 / 1e-30) overflowed int32 (UB)
    m = g.fc_basic()
    m.tensors[3].scale = 1e-30
    m.ops[0][4][0] = (0, "b", g.RELU_N1_TO_1)
    refused(runners, m, tmp_path, QUANT, ["op 0:", "requantization scale ratio out of range"])
    m = g.binary(g.ADD, [1, 4, 4, 3], scales=(1e20, 0.1, 1e-20))
    refused(runners, m, tmp_path, QUANT, ["op 0:", "requantization scale ratio out of range"])


def test_per_channel_scale_count(runners, tmp_path):
    m = g.conv_same_stride2()
    m.tensors[1].scale = m.tensors[1].scale[:3]
    m.tensors[1].zp = [0, 0, 0]
    refused(runners, m, tmp_path, QUANT, ["op 0:", "per-channel scales"])


def test_bad_quantization(runners, tmp_path):
    m = g.fc_basic()
    m.tensors[0].zp = 200
    refused(runners, m, tmp_path, QUANT, ["tensor 0:", "zero_point outside int8", "(200)"])
    m = g.fc_basic()
    m.tensors[0].scale = -1.0
    refused(runners, m, tmp_path, QUANT, ["tensor 0:", "scale not positive"])
    m = g.fc_basic()
    m.tensors[3].scale = None
    refused(runners, m, tmp_path, QUANT, ["op 0:", "tensor 3:", "without quantization"])
    m = g.fc_basic()
    m.tensors[1].zp = 4
    refused(runners, m, tmp_path, QUANT, ["op 0:", "zero_point 0"])


def test_logistic_output_quantization(runners, tmp_path):
    m = g.logistic(0.1, 5)
    m.tensors[1].zp = 0
    refused(runners, m, tmp_path, QUANT, ["op 0: LOGISTIC:", "scale 1/256 and zero point -128"])


def test_softmax_checks(runners, tmp_path):
    m = g.softmax([2, 5], 0.1, 0, 0.0)  # beta absent (schema default 0)
    refused(runners, m, tmp_path, QUANT, ["op 0: SOFTMAX:", "beta x input scale out of range"])
    m = g.softmax([1, 5000], 0.1, 0, 1.0)
    refused(runners, m, tmp_path, SHAPE, ["op 0: SOFTMAX:", "depth above 4096", "(5000)"])
    m = g.softmax([2, 5], 0.1, 0, 1.0)
    m.tensors[1].scale = 1.0 / 255
    refused(runners, m, tmp_path, QUANT, ["op 0: SOFTMAX:", "scale 1/256"])


def test_unsupported_op_and_type(runners, tmp_path):
    m = g.fc_basic()
    m.ops[0] = (2, *m.ops[0][1:])  # CONCATENATION
    refused(runners, m, tmp_path, UNSUPPORTED, ["op 0:", "unsupported operator", "(2)"])
    m = g.fc_basic()
    m.tensors[0].type = 1  # FLOAT16
    refused(runners, m, tmp_path, UNSUPPORTED, ["tensor 0:", "unsupported tensor type", "(1)"])
    m = g.fc_basic()
    m.ops[0][4][0] = (0, "b", 4)  # TANH fused
    refused(runners, m, tmp_path, UNSUPPORTED, ["op 0:", "fused activation"])


def test_graph_errors(runners, tmp_path):
    m = g.mlp()
    m.ops[1], m.ops[2] = m.ops[2], m.ops[1]  # the second FC now reads before the first writes
    refused(runners, m, tmp_path, GRAPH, ["op 1:", "read before any op writes it"])
    m = g.fc_basic()
    m.ops[0][2][0] = m.t([2, 7], g.INT8, 0.1, -5, np.zeros((2, 7), np.int8))  # a constant
    refused(runners, m, tmp_path, GRAPH, ["op 0:", "tensor 4:", "writes a constant"])
    m = g.fc_basic()
    m.ops[0][2][0] = 0  # writes its own input
    refused(runners, m, tmp_path, GRAPH, ["op 0:", "aliases an input"])
    # found by the fuzzer: -1 (omitted optional input) as the first input
    m = g.reshape()
    m.ops[0][1][0] = -1
    refused(runners, m, tmp_path, SHAPE, ["op 0:", "missing first input"])
    m = g.fc_basic()
    m.ops[0][1][0] = 99
    refused(runners, m, tmp_path, FORMAT, ["op 0:", "inputs vector or tensor index"])
    m = g.fc_basic()
    m.ops.append((g.FULLY_CONNECTED, [0, 1, 2], [3], g.OPT_FC, [(0, "b", 0)]))
    refused(runners, m, tmp_path, GRAPH, ["op 1:", "tensor 3:", "written twice"])


def test_bad_opcode_index(runners, tmp_path):
    raw = g.mlp().build()  # op 0 (QUANTIZE) has opcode_index 2: stored
    _, sg = subgraph_table(raw)
    ops = follow(raw, field_pos(raw, sg, 3))
    op0 = follow(raw, ops + 4)
    at = field_pos(raw, op0, 0)
    refused(runners, patch(raw, at, 5), tmp_path, FORMAT, ["op 0:", "bad opcode_index"])


def test_arena_exhausted_at_every_size(runners, tmp_path):
    raw = g.mlp().build()
    inp = np.zeros(64, np.float32).tobytes()
    mp, ip = tmp_path / "m.tflite", tmp_path / "m.in"
    mp.write_bytes(raw)
    ip.write_bytes(inp)
    r = subprocess.run([str(runners[0]), str(mp), str(ip)], capture_output=True, text=True)
    used = int(r.stdout.split("arena ")[1].split()[0])
    for size in range(1, used, 97):
        r = run_all(runners, raw, inp, tmp_path, arena=size)
        assert r.returncode == 2 and r.stdout.startswith(f"error {ARENA} "), (size, r.stdout)
