"""Spec-script conformance of the engine on our own corpus.

Each tests/wasm/spec/*.wast is converted by wabt's wast2json into a temporary
directory, then run by wabt's spectest-interp (the reference: the script must
be right) and by `$EDGECR_BIN wasm spectest` (the engine under test).  Both
must pass every command; edgecr's last line must be the summary
`N passed, 0 failed, M skipped`.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(__file__).resolve().parent / "spec"
EDGECR_BIN = os.environ.get("EDGECR_BIN", str(REPO / "build" / "src" / "cli" / "edgecr"))
WASTS = sorted(SPEC_DIR.glob("*.wast"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")

needs_wabt = pytest.mark.skipif(shutil.which("wast2json") is None or
                                shutil.which("spectest-interp") is None,
                                reason="wabt (wast2json, spectest-interp) not installed")


def convert(wast, tmp_path):
    out = tmp_path / (wast.stem + ".json")
    subprocess.run(["wast2json", str(wast), "-o", str(out)], check=True,
                   capture_output=True, text=True, timeout=60)
    return out


def run_edgecr(json_path, *opts):
    return subprocess.run([EDGECR_BIN, "wasm", "spectest", *opts, str(json_path)],
                          capture_output=True, text=True, timeout=120)


# Every script runs with the default memories (guarded on 64-bit Linux: the
# MMU traps out-of-bounds accesses) and with --bounds-checks (every access
# compared with the memory size): the two loops of the interpreter; and
# with one unit of fuel at a time (every call, loop entry and back edge
# stops the run, which is then resumed), in both loops.
MODES = {"guarded": (), "checked": ("--bounds-checks",),
         "guarded-sliced": ("--fuel-slice", "1"),
         "checked-sliced": ("--bounds-checks", "--fuel-slice", "3")}


def check_reference_and_edgecr(json_path, mode):
    ref = subprocess.run(["spectest-interp", str(json_path)], capture_output=True,
                         text=True, timeout=120)
    assert ref.returncode == 0, f"reference rejects our script:\n{ref.stdout}\n{ref.stderr}"
    got = run_edgecr(json_path, *MODES[mode])
    lines = got.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{got.stderr}"
    m = SUMMARY.match(lines[-1])
    assert m, f"bad summary line {lines[-1]!r}"
    passed, failed, skipped = map(int, m.groups())
    assert failed == 0 and got.returncode == 0, got.stdout
    assert passed > 0
    # Our corpus has no text-format modules, so nothing may be skipped.
    assert skipped == 0, got.stdout


@needs_wabt
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wast", WASTS, ids=[w.stem for w in WASTS])
def test_wast_reference_and_edgecr_agree(wast, mode, tmp_path):
    check_reference_and_edgecr(convert(wast, tmp_path), mode)


GEN_BRANCHES = Path(__file__).resolve().parent / "gen_branches.py"


@pytest.fixture(scope="module")
def branches_json(tmp_path_factory):
    """The generated branch family (gen_branches.py: every branch kind to
    every kind of label, forward and backward, taken and not), its
    expectations computed by wabt's wasm-interp."""
    if shutil.which("wasm-interp") is None or shutil.which("wat2wasm") is None:
        pytest.skip("wabt (wasm-interp, wat2wasm) not installed")
    d = tmp_path_factory.mktemp("branches")
    wast = d / "branches.wast"
    with open(wast, "w") as out:
        subprocess.run(["/usr/bin/python3", str(GEN_BRANCHES)], stdout=out, check=True, timeout=300)
    return convert(wast, d)


@needs_wabt
@pytest.mark.parametrize("mode", MODES)
def test_generated_branch_family(branches_json, mode):
    """Before the BR_TABLE fix, the first br_table to a loop crashed edgecr."""
    check_reference_and_edgecr(branches_json, mode)


GEN_FUSED = Path(__file__).resolve().parent / "gen_fused.py"
FUSED_SEEDS = [1, 2]


@pytest.fixture(scope="module", params=FUSED_SEEDS)
def fused_json(request, tmp_path_factory):
    """The generated family of fused shapes (gen_fused.py: random
    straight-line code from the shapes the compiler fuses, destinations and
    operands on every small slot number), expectations from wabt's
    wasm-interp; two seeds."""
    if shutil.which("wasm-interp") is None or shutil.which("wat2wasm") is None:
        pytest.skip("wabt (wasm-interp, wat2wasm) not installed")
    d = tmp_path_factory.mktemp(f"fused{request.param}")
    wast = d / "fused_gen.wast"
    with open(wast, "w") as out:
        subprocess.run(["/usr/bin/python3", str(GEN_FUSED), str(request.param)], stdout=out,
                       check=True, timeout=300)
    return convert(wast, d)


@needs_wabt
@pytest.mark.parametrize("mode", MODES)
def test_generated_fused_family(fused_json, mode):
    """Before the accumulator notes were dropped with the code a fusion cuts
    off, about one assertion in five of each seed failed (wrong values and
    out-of-bounds traps)."""
    check_reference_and_edgecr(fused_json, mode)


@needs_wabt
def test_failures_are_reported_with_wast_line(tmp_path):
    """A wrong expectation must fail, name its line and make the exit non-zero."""
    wast = tmp_path / "wrong.wast"
    wast.write_text('(module (func (export "f") (result i32) (i32.const 1)))\n'
                    '(assert_return (invoke "f") (i32.const 2))\n'
                    '(assert_trap (invoke "f") "unreachable")\n'
                    '(assert_malformed (module quote "(func") "unexpected end")\n')
    json_path = convert(wast, tmp_path)
    got = run_edgecr(json_path)
    assert got.returncode != 0
    lines = got.stdout.strip().splitlines()
    assert lines[-1] == "1 passed, 2 failed, 1 skipped", got.stdout
    assert any(":2:" in l and "FAIL" in l for l in lines), got.stdout
    assert any(":3:" in l and "FAIL" in l for l in lines), got.stdout
    assert any(":4:" in l and "SKIP" in l and "text" in l for l in lines), got.stdout


@needs_wabt
def test_wrong_trap_kind_fails(tmp_path):
    """assert_trap passes only on a trap of the kind the script names: a
    division by zero expected as an overflow must fail (as must the
    reverse), an out-of-bounds access expected as "call stack exhausted"
    (assert_exhaustion) too; an unknown text or other wording is a NOTE."""
    wast = tmp_path / "traps.wast"
    wast.write_text(
        '(module\n'
        '  (memory 1)\n'
        '  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))\n'
        '  (func (export "oob") (result i32) (i32.load (i32.const 65536))))\n'
        '(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer overflow")\n'
        '(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")\n'
        '(assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer divide by zero")\n'
        '(assert_trap (invoke "oob") "out of bounds memory access")\n'
        '(assert_exhaustion (invoke "oob") "call stack exhausted")\n'
        '(assert_trap (invoke "oob") "out of bounds")\n'
        '(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "words nobody uses")\n')
    got = run_edgecr(convert(wast, tmp_path))
    assert got.returncode != 0
    lines = got.stdout.strip().splitlines()
    assert lines[-1] == "5 passed, 3 failed, 0 skipped", got.stdout   # the module counts
    for line in (5, 7, 9):
        assert any(f":{line}: FAIL" in l for l in lines), got.stdout
    assert any(":11: NOTE" in l for l in lines), got.stdout


@needs_wabt
def test_wrong_rejection_kind_fails(tmp_path):
    """assert_malformed wants a module that does not decode, assert_invalid
    one that decodes but does not validate: the other kind of rejection
    fails; a reason worded differently is a NOTE."""
    wast = tmp_path / "reject.wast"
    wast.write_text(
        '(assert_invalid (module binary "\\00asm\\01\\00\\00\\00\\01\\05\\00") "type mismatch")\n'
        '(assert_malformed (module (func (result i32) (i64.const 0))) "type mismatch")\n'
        '(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")\n'
        '(assert_invalid (module (func (result i32) (i64.const 0))) "other words")\n'
        '(assert_malformed (module binary "\\00asm\\01\\00\\00\\00\\01\\05\\00") "length out of bounds")\n')
    got = run_edgecr(convert(wast, tmp_path))
    assert got.returncode != 0
    lines = got.stdout.strip().splitlines()
    assert lines[-1] == "3 passed, 2 failed, 0 skipped", got.stdout
    assert any(":1: FAIL" in l for l in lines) and any(":2: FAIL" in l for l in lines), got.stdout
    assert any(":4: NOTE" in l for l in lines), got.stdout


def test_features_names_the_webassembly_version():
    """`edgecr features` (valid JSON) says which WebAssembly core
    specification the engine implements, as docs/wasm.md does."""
    got = subprocess.run([EDGECR_BIN, "features"], capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    features = json.loads(got.stdout)
    assert features["annotations"]["org.edgecr.wasm.version"] == "2.0"
    assert "WebAssembly 2.0" in (REPO / "docs" / "wasm.md").read_text()


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                    reason="gcc-arm-none-eabi not installed")
def test_engine_builds_freestanding_for_cortex_m3_within_budget():
    """The engine (no WASI) cross-builds with -Os -ffreestanding for
    Cortex-M3, its code stays within the issue's 48 KiB budget, and it has
    no writable static data (no global mutable state: .data and .bss are
    empty)."""
    got = subprocess.run([str(REPO / "scripts" / "wasm-size.sh")], capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    m = re.search(r"code\+rodata: (\d+) bytes", got.stdout)
    assert m, got.stdout
    assert 10 * 1024 < int(m.group(1)) <= 48 * 1024, got.stdout
    totals = next(l for l in got.stdout.splitlines() if "(TOTALS)" in l).split()
    assert totals[1] == "0" and totals[2] == "0", got.stdout   # data, bss
