"""The `infer` service of the tenant ABI (src/tenant/svc_infer.c) through
`edgecr wasm run --tenant-metadata`: clang-built guests call edgecr_infer on
models in their own memory.  Checked: results equal the native library's
(tests/infer/infer_run) for the example keyword-spotting tenant
(examples/tenant-kws, model in its data section) and the test guest; the
grant (denied without it, reported); the model-size and compute limits
(EDGECR_ELIMIT, reported; a model whose fastest run is over the limit is
refused before running); hostile models through the service (EDGECR_EMODEL
with the op index and reason in the report, every word of a model replaced);
a model rewritten in place is never served by a stale plan; bad ranges."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "wasm" / "c"))
import gen_models as g  # noqa: E402
from wasm_build import compile_wasm  # noqa: E402

EDGECR = os.environ.get("EDGECR_BIN", str(ROOT / "build/src/cli/edgecr"))
BUILD = Path(os.environ.get("EDGECR_BUILD", ROOT / "build"))
RUNNER = BUILD / "src" / "infer" / "infer_run"
GUEST = HERE / "guests" / "infer_guest.c"
DENIED, EINVAL, ELIMIT, EMODEL = -1, -2, -11, -12

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

META = """\
id: infer-t
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
{perms}
"""


def edgecr(*args, timeout=120):
    return subprocess.run([EDGECR, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def meta(tmp_path, module, perms):
    y = tmp_path / "t.yaml"
    y.write_text(META.format(perms=perms))
    r = edgecr("meta", "build", y, "--module", module, "-o", tmp_path / "t.cbor")
    assert r.returncode == 0, r.stderr
    return tmp_path / "t.cbor"


def native(model_path, input_path):
    r = subprocess.run([RUNNER, model_path, input_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.split()[1]


@pytest.fixture(scope="module")
def guest():
    return compile_wasm(GUEST, ["-I", str(ROOT / "include")])


def write_model(tmp_path, name, m):
    path, inp = tmp_path / f"{name}.tflite", tmp_path / f"{name}.in"
    path.write_bytes(m.build())
    inp.write_bytes(np.concatenate([p.ravel().view(np.uint8) for p in m.example_input()]).tobytes())
    return path, inp


def out_bytes(model_path, input_path):
    return len(native(model_path, input_path)) // 2


def run_guest(guest, metadata, tmp_path, model, inp, *ops, olen=None):
    olen = out_bytes(model, inp) if olen is None else olen
    extra = ["--tenant-metadata", metadata] if metadata else []
    return edgecr("wasm", "run", *extra, "--dir", tmp_path, guest, model, inp, olen, *ops)


GRANT = "  clock:\n  infer: {model-size: 64KiB, compute: 1s}"


def test_example_kws_tenant_equals_native(tmp_path):
    r = subprocess.run(["sh", ROOT / "examples" / "tenant-kws" / "build.sh", tmp_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wasm = tmp_path / "kws.wasm"
    m = meta(tmp_path, wasm, "  infer: {model-size: 16KiB, compute: 100ms}")
    r = edgecr("wasm", "run", "--tenant-metadata", m, wasm)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        want = native(tmp_path / "data" / "kws.tflite", tmp_path / "data" / f"window{i}.bin")
        assert line.startswith(f"window {i}: rc 0 scores {want} keyword "), line


def test_example_kws_tenant_denied_without_grant(tmp_path):
    subprocess.run(["sh", ROOT / "examples" / "tenant-kws" / "build.sh", tmp_path], check=True, capture_output=True)
    wasm = tmp_path / "kws.wasm"
    r = edgecr("wasm", "run", "--tenant-metadata", meta(tmp_path, wasm, "  log:"), wasm)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"window {i}: rc {DENIED}" for i in range(3)]
    assert r.stderr.count("denied: edgecr.infer (service infer: not granted); 1 denied so far") == 1, r.stderr


@pytest.mark.parametrize("name", ["fc_basic", "conv_same_stride2", "dw_same_mult2", "mlp", "cnn", "softmax"])
def test_results_equal_native_library(tmp_path, guest, name):
    model, inp = write_model(tmp_path, name, g.MODELS[name]())
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "run", "run")
    assert r.returncode == 0, r.stderr
    want = native(model, inp)
    assert r.stdout.splitlines() == [f"run 0 {want}"] * 2
    assert r.stderr == ""


def test_model_size_limit(tmp_path, guest):
    model, inp = write_model(tmp_path, "cnn", g.cnn())
    size = model.stat().st_size
    m = meta(tmp_path, guest, f"  infer: {{model-size: {size - 1}, compute: 1s}}")
    r = run_guest(guest, m, tmp_path, model, inp, "run")
    assert r.stdout.startswith(f"run {ELIMIT} "), r.stdout
    assert f"infer: model of {size} bytes is over the metadata's model-size" in r.stderr
    m = meta(tmp_path, guest, f"  infer: {{model-size: {size}, compute: 1s}}")
    assert run_guest(guest, m, tmp_path, model, inp, "run").stdout.startswith("run 0 ")


def test_compute_limit_refuses_before_running_again(tmp_path, guest):
    model, inp = write_model(tmp_path, "cnn", g.cnn())  # ~0.1-1 ms a run, far over 1 us
    m = meta(tmp_path, guest, "  clock:\n  infer: {model-size: 64KiB, compute: 1us}")
    r = run_guest(guest, m, tmp_path, model, inp, "run", "sleep", "1100", "run")
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"run {ELIMIT} ") and lines[2].startswith(f"run {ELIMIT} "), r.stdout
    # the first call ran (and took too long); the second was refused on the fastest run so far
    assert "infer: a run took " in r.stderr and " ns, over the metadata's compute" in r.stderr
    assert "infer: the model's fastest run took " in r.stderr, r.stderr


def test_hostile_model_is_refused_with_op_and_reason(tmp_path, guest):
    m = g.fc_basic()
    m.ops[0] = (2, *m.ops[0][1:])  # CONCATENATION: not supported
    model, inp = write_model(tmp_path, "hostile", m)
    ok_model, _ = write_model(tmp_path, "fc_basic", g.fc_basic())
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "run", olen=14)
    assert r.stdout.startswith(f"run {EMODEL} "), r.stdout
    assert "edgecr: tenant infer-t: infer: model refused: op 0:" in r.stderr
    assert "unsupported operator" in r.stderr
    trunc = tmp_path / "trunc.tflite"
    trunc.write_bytes(ok_model.read_bytes()[:200])
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, trunc, inp, "run", olen=14)
    assert r.stdout.startswith(f"run {EMODEL} "), r.stdout


@pytest.mark.parametrize("value", ["0xffffffff", "0x7fffffff", "0", "0x80000000"])
def test_every_word_hostile_through_the_service(tmp_path, guest, value):
    model, inp = write_model(tmp_path, "cnn", g.cnn())
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "sweep", value, "run")
    assert r.returncode == 0, r.stderr
    sweep, last = r.stdout.splitlines()
    counts = dict(kv.split("=") for kv in sweep.split()[1:])
    assert counts["other"] == "0" and int(counts["model"]) > 100, sweep
    assert last == f"run 0 {native(model, inp)}"  # the original model after all that


def find(raw, arr):
    at = raw.find(arr.tobytes())
    assert at > 0 and raw.find(arr.tobytes(), at + 1) < 0
    return at


def test_model_changed_in_place_gets_no_stale_plan(tmp_path, guest):
    m = g.fc_basic()
    model, inp = write_model(tmp_path, "fc", m)
    raw = model.read_bytes()
    w_at, b_at = find(raw, m.tensors[1].data), find(raw, m.tensors[2].data)
    bias_val, w_val = (raw[b_at] + 100) % 256, (raw[w_at + 3] + 77) % 256
    patched_b = bytearray(raw)
    patched_b[b_at] = bias_val
    patched_bw = bytearray(patched_b)
    patched_bw[w_at + 3] = w_val
    (tmp_path / "b.tflite").write_bytes(patched_b)
    (tmp_path / "bw.tflite").write_bytes(patched_bw)
    want = [native(model, inp), native(tmp_path / "b.tflite", inp), native(tmp_path / "bw.tflite", inp)]
    assert len(set(want)) == 3
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp,
                  "run", "poke", b_at, bias_val, "run", "poke", w_at + 3, w_val, "run")
    assert r.stdout.splitlines() == [f"run 0 {w}" for w in want], r.stderr


def test_bad_ranges(tmp_path, guest):
    model, inp = write_model(tmp_path, "fc", g.fc_basic())
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "misalign", "oob", "shortout")
    assert r.stdout.splitlines() == [f"misalign {EINVAL}", f"oob {EINVAL}", f"shortout {EINVAL}"]
    assert "infer: the model must be 4-byte aligned in memory" in r.stderr


def test_plan_larger_than_the_node_arena_is_a_limit(tmp_path, guest):
    n = 600_000  # int8 in and out, both live: 1.2 MB of activations > the 1 MiB arena
    m, x = g.single_input([1, n], 0.05, 10)
    y = m.t([1, n], g.INT8, 0.07, -20)
    m.op(g.QUANTIZE, [x], [y])
    m.outputs = [y]
    model, inp = write_model(tmp_path, "big", m)
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "run", olen=n)
    assert r.stdout.startswith(f"run {ELIMIT} "), r.stdout[:80]
    assert "infer: the model's plan needs more than the node's arena of 1048576 bytes" in r.stderr
    m.tensors[0].shape = m.tensors[1].shape = [1, 400_000]  # 0.8 MB: fits
    model, inp = write_model(tmp_path, "fits", m)
    r = run_guest(guest, meta(tmp_path, guest, GRANT), tmp_path, model, inp, "run", olen=400_000)
    assert r.stdout.startswith("run 0 "), r.stdout[:80] + r.stderr


def test_plan_larger_than_the_metadata_arena_is_a_limit(tmp_path, guest):
    """permissions.infer.arena lowers the node's arena for this tenant."""
    n = 20_000  # 40 KB of activations
    m, x = g.single_input([1, n], 0.05, 10)
    y = m.t([1, n], g.INT8, 0.07, -20)
    m.op(g.QUANTIZE, [x], [y])
    m.outputs = [y]
    model, inp = write_model(tmp_path, "mid", m)
    small = meta(tmp_path, guest, "  clock:\n  infer: {model-size: 64KiB, compute: 1s, arena: 16KiB}")
    r = run_guest(guest, small, tmp_path, model, inp, "run", olen=n)
    assert r.stdout.startswith(f"run {ELIMIT} "), r.stdout[:80]
    assert "infer: the model's plan needs more than the metadata's arena of 16384 bytes" in r.stderr
    enough = meta(tmp_path, guest, "  clock:\n  infer: {model-size: 64KiB, compute: 1s, arena: 64KiB}")
    r = run_guest(guest, enough, tmp_path, model, inp, "run", olen=n)
    assert r.stdout.startswith("run 0 "), r.stdout[:80] + r.stderr


@pytest.mark.parametrize("others,cached", [(3, True), (4, False)])
def test_plan_cache_is_bounded_least_recently_used_out(tmp_path, guest, others, cached):
    # Whether copy 0's plan is still cached shows in the compute limit: a
    # cached plan remembers its fastest run and is refused before running,
    # a new one runs (and is reported as a run over the limit).
    model, inp = write_model(tmp_path, "cnn", g.cnn())
    m = meta(tmp_path, guest, "  clock:\n  infer: {model-size: 64KiB, compute: 1us}")
    ops = ["copies", others + 1, "runcopy", 0]
    for k in range(1, others + 1):
        ops += ["runcopy", k]
    r = run_guest(guest, m, tmp_path, model, inp, *ops, "sleep", 1100, "runcopy", 0)
    assert r.stdout.count(f" {ELIMIT}\n") == others + 2, r.stdout
    last = r.stderr.strip().splitlines()[-1]
    if cached:   # 4 slots: copies 0..3 all fit
        assert "infer: the model's fastest run took " in last, r.stderr
    else:        # a 5th model replaced the least recently used: copy 0
        assert "infer: a run took " in last, r.stderr
