"""The benchmark kernels of bench/wasm/ (not a benchmark: no timing here):
each built natively and to wasm32-wasi must print the same checksum at the
small size (argument 1)."""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "c"))
from wasm_build import REPO, compile_native, compile_wasm, run_wasm  # noqa: E402

BENCH = REPO / "bench" / "wasm"
# Every kernel; startup.c is the start-up harness linked with the engine.
PROGRAMS = sorted(p.stem for p in BENCH.glob("*.c") if p.stem != "startup")


def test_suite_is_complete():
    assert {"crc32", "sha256", "sort", "matmul", "nn_int8", "mixed"} <= set(PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_native_and_wasm_checksums_agree(name):
    src = BENCH / f"{name}.c"
    native = subprocess.run([compile_native(src), "1"], capture_output=True, text=True, timeout=120)
    assert native.returncode == 0 and native.stdout.strip(), native.stderr
    r = run_wasm(compile_wasm(src), "1", timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout == native.stdout
