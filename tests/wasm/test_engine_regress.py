"""Programs that once ran wrongly in the engine, built the way they failed.

conv_acc.c (src/infer's CONV_2D kernel, reduced) trapped with "out of
bounds memory access" under clang -O1/-O2/-Os: a fusion of two indexed
loads left a stale accumulator note behind (see tests/wasm/spec/acc.wast,
x2_load*).  Each build must print what the native build prints, with
guarded memories and with --bounds-checks."""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "c"))
from wasm_build import C_DIR, compile_native, compile_wasm, run_wasm  # noqa: E402

MODES = {"guarded": (), "checked": ("--bounds-checks",)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("opt", ["-O0", "-O1", "-O2", "-Os", "-O3"])
def test_conv_acc_matches_native(opt, mode):
    src = C_DIR / "conv_acc.c"
    native = subprocess.run([compile_native(src)], capture_output=True, text=True, timeout=60)
    assert native.returncode == 0 and native.stdout.strip(), native.stderr
    r = run_wasm(compile_wasm(src, [opt]), opts=MODES[mode], timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    assert r.stdout == native.stdout
