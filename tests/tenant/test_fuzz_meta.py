"""The libFuzzer target of the tenant metadata decoders
(tests/tenant/fuzz/fuzz_meta.c: COSE_Sign1 envelope + CBOR payload), built
on each CBOR shim (libcbor, and the libcbor-free one of the static runtime):
build them, replay every saved regression input and the seed corpus, and fuzz for a
fixed number of runs with a fixed seed (EDGECR_FUZZ_RUNS, default 30000;
EDGECR_FUZZ_SEED, default 1), as tests/wasm/test_fuzz_regress.py does for
the wasm engine: CI must be repeatable.  Exploration with fresh seeds is by
hand: tests/tenant/fuzz/run.sh 600
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
RUNS = int(os.environ.get("EDGECR_FUZZ_RUNS", "30000"))
SEED = int(os.environ.get("EDGECR_FUZZ_SEED", "1"))


TARGETS = ["fuzz_meta", "fuzz_meta_native"]  # on the libcbor shim, on the libcbor-free one


@pytest.fixture(scope="module")
def fuzz_out():
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed (scripts/install-deps.sh installs it)")
    out = Path(os.environ.get("FUZZ_OUT_TENANT") or
               Path(tempfile.gettempdir()) / f"edgecr-fuzz-tenant-pytest-{os.getuid()}")
    r = subprocess.run(["bash", str(FUZZ / "run.sh"), "0"], capture_output=True, text=True,
                       env={**os.environ, "FUZZ_OUT": str(out)}, timeout=600)
    assert r.returncode == 0 and all((out / t).exists() for t in TARGETS), r.stderr
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_replay_regressions_and_seeds(fuzz_out, target):
    fuzz_bin = fuzz_out / target
    corpus = sorted((FUZZ / "corpus").iterdir())
    assert corpus, "the seed corpus is empty"
    inputs = sorted((FUZZ / "regressions").glob("*")) + corpus
    r = subprocess.run([str(fuzz_bin), *map(str, inputs)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]


@pytest.mark.parametrize("target", TARGETS)
def test_short_fuzz(fuzz_out, target, tmp_path):
    fuzz_bin = fuzz_out / target
    work = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus", work)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    r = subprocess.run([str(fuzz_bin), f"-runs={RUNS}", f"-seed={SEED}", "-max_total_time=600",
                        "-timeout=10", "-rss_limit_mb=1024", "-max_len=70000",
                        f"-artifact_prefix={crashes}/", str(work)],
                       capture_output=True, text=True, timeout=900)
    found = sorted(crashes.iterdir())
    assert r.returncode == 0 and not found, (
        f"{target} (seed {SEED}) failed on {[str(f) for f in found]}; save the input under "
        f"tests/tenant/fuzz/regressions/ once fixed\n{r.stderr[-4000:]}")
    assert "Done" in r.stderr or "DONE" in r.stderr
