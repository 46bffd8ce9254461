"""The libFuzzer targets of the wasm engine and its WASI layer
(tests/wasm/fuzz/): build them, replay every saved regression input and the
seed corpus through each, and fuzz each for a short bounded time
(EDGECR_FUZZ_SECONDS, default 20) from the seed corpus.

Longer runs are by hand: tests/wasm/fuzz/run.sh 600
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
SECONDS = int(os.environ.get("EDGECR_FUZZ_SECONDS", "20"))
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
    r = subprocess.run([str(fuzz_out / target), f"-max_total_time={SECONDS}", "-timeout=10",
                        "-rss_limit_mb=1024", "-max_len=65536",
                        f"-artifact_prefix={crashes}/", str(work)],
                       capture_output=True, text=True, timeout=SECONDS + 300)
    found = sorted(crashes.iterdir())
    assert r.returncode == 0 and not found, (
        f"{target} failed on {[str(f) for f in found]}; save the input under "
        f"tests/wasm/fuzz/regressions/ once fixed\n{r.stderr[-4000:]}")
    assert "Done" in r.stderr or "stat::number_of_executed_units" in r.stderr or "DONE" in r.stderr
