"""The libFuzzer target of the inference library's model reader and planner
(tests/infer/fuzz/fuzz_model.c): build it, replay every saved regression
input and the seed corpus, and fuzz for a fixed number of runs with a fixed
seed (EDGECR_FUZZ_RUNS, default 200000, a few seconds; EDGECR_FUZZ_SEED,
default 1), so that CI is repeatable.  Exploration with fresh seeds is by
hand: tests/infer/fuzz/run.sh 600
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
RUNS = int(os.environ.get("EDGECR_FUZZ_RUNS", "200000"))
SEED = int(os.environ.get("EDGECR_FUZZ_SEED", "1"))


@pytest.fixture(scope="module")
def fuzzer():
    if not shutil.which("clang"):
        pytest.skip("clang (libFuzzer) not installed")
    out = Path(os.environ.get("FUZZ_OUT") or
               Path(tempfile.gettempdir()) / f"edgecr-infer-fuzz-pytest-{os.getuid()}")
    r = subprocess.run(["bash", str(FUZZ / "run.sh"), "0"], capture_output=True, text=True,
                       env={**os.environ, "FUZZ_OUT": str(out)}, timeout=600)
    assert (out / "fuzz_model").exists(), r.stderr
    return out / "fuzz_model"


def test_regressions_and_corpus_replay(fuzzer):
    inputs = sorted((FUZZ / "regressions").glob("*.tflite")) + sorted((FUZZ / "corpus").glob("*.tflite"))
    assert len(inputs) > 10
    r = subprocess.run([str(fuzzer), *map(str, inputs)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]


def test_short_fuzz(fuzzer, tmp_path):
    work = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus", work)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    r = subprocess.run([str(fuzzer), f"-runs={RUNS}", f"-seed={SEED}", "-max_total_time=600",
                        "-timeout=10", "-rss_limit_mb=1024", "-max_len=65536",
                        f"-artifact_prefix={crashes}/", str(work)],
                       capture_output=True, text=True, timeout=900)
    found = sorted(crashes.iterdir())
    assert r.returncode == 0 and not found, (
        f"fuzz_model (seed {SEED}) failed on {[str(f) for f in found]}; save the input under "
        f"tests/infer/fuzz/regressions/ once fixed\n{r.stderr[-4000:]}")
    assert "Done" in r.stderr or "stat::number_of_executed_units" in r.stderr
