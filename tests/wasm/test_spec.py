"""Spec-script conformance of the engine on our own corpus.

Each tests/wasm/spec/*.wast is converted by wabt's wast2json into a temporary
directory, then run by wabt's spectest-interp (the reference: the script must
be right) and by `$EDGECR_BIN wasm spectest` (the engine under test).  Both
must pass every command; edgecr's last line must be the summary
`N passed, 0 failed, M skipped`.
"""
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
# compared with the memory size): the two loops of the interpreter.
MODES = {"guarded": (), "checked": ("--bounds-checks",)}


@needs_wabt
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wast", WASTS, ids=[w.stem for w in WASTS])
def test_wast_reference_and_edgecr_agree(wast, mode, tmp_path):
    json_path = convert(wast, tmp_path)
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
