"""The libFuzzer targets of the wasm engine and its WASI layer
(tests/wasm/fuzz/): build them, replay every saved regression input and the
seed corpus through each, and fuzz each for a fixed number of runs from the
seed corpus with a fixed seed (EDGECR_FUZZ_RUNS, default 30000, about 20 s;
EDGECR_FUZZ_SEED, default 1).  The seed is fixed so that CI is repeatable: a
test that fails on one run and passes on the next tells nobody anything.
Exploration with fresh seeds is by hand and long:
tests/wasm/fuzz/run.sh 600
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
TARGETS = ["fuzz_decode", "fuzz_run", "fuzz_wasi"]


@pytest.fixture(scope="module")
def fuzz_out():
    # Kept between runs: run.sh rebuilds only what changed (by mtime).
    out = Path(os.environ.get("FUZZ_OUT") or
               Path(tempfile.gettempdir()) / f"edgecr-fuzz-pytest-{os.getuid()}")
    # Build only (0 seconds of fuzzing); run.sh also replays the regressions.
    r = subprocess.run(["bash", str(FUZZ / "run.sh"), "0"], capture_output=True, text=True,
                       env={**os.environ, "FUZZ_OUT": str(out)}, timeout=900)
    assert all((out / t).exists() for t in TARGETS), r.stderr
    return out


def regression_inputs():
    return sorted((FUZZ / "regressions").glob("*.wasm"))


@pytest.mark.parametrize("target", TARGETS)
def test_regressions_replay(fuzz_out, target):
    inputs = regression_inputs()
    corpus = sorted((FUZZ / "corpus").glob("*.wasm"))
    assert corpus, "the seed corpus is empty"
    # The seeds are replayed too: they must all pass through cleanly.
    r = subprocess.run([str(fuzz_out / target), *map(str, inputs + corpus)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]


@pytest.mark.parametrize("target", TARGETS)
def test_short_fuzz(fuzz_out, target, tmp_path):
    work = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus", work)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    # max_total_time only guards against a hang; -runs decides how long.
    r = subprocess.run([str(fuzz_out / target), f"-runs={RUNS}", f"-seed={SEED}",
                        "-max_total_time=600", "-timeout=10",
                        "-rss_limit_mb=1024", "-max_len=65536",
                        f"-artifact_prefix={crashes}/", str(work)],
                       capture_output=True, text=True, timeout=900)
    found = sorted(crashes.iterdir())
    assert r.returncode == 0 and not found, (
        f"{target} (seed {SEED}) failed on {[str(f) for f in found]}; save the input under "
        f"tests/wasm/fuzz/regressions/ once fixed\n{r.stderr[-4000:]}")
    assert "Done" in r.stderr or "stat::number_of_executed_units" in r.stderr or "DONE" in r.stderr
