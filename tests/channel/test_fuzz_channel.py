"""The libFuzzer target of the channel declarations and header validation
(tests/channel/fuzz/fuzz_channel.c): build it, replay every saved
regression input and the seeds, and fuzz for a fixed number of runs with a
fixed seed (EDGECR_FUZZ_RUNS, default 200000, a few seconds;
EDGECR_FUZZ_SEED, default 1), as tests/wasm/test_fuzz_regress.py does for
the engine: CI must be repeatable.  Long exploration is by hand:
tests/channel/fuzz/run.sh 600
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
RUNS = int(os.environ.get("EDGECR_FUZZ_CHANNEL_RUNS", os.environ.get("EDGECR_FUZZ_RUNS", "200000")))
SEED = int(os.environ.get("EDGECR_FUZZ_SEED", "1"))


@pytest.fixture(scope="module")
def fuzzer():
    if not shutil.which("clang"):
        pytest.skip("clang (libFuzzer) is not installed")
    out = Path(os.environ.get("FUZZ_OUT") or Path(tempfile.gettempdir()) / f"edgecr-fuzz-chan-pytest-{os.getuid()}")
    # 0 seconds: build, then replay the regressions and the seeds.
    r = subprocess.run(["bash", str(FUZZ / "run.sh"), "0"], capture_output=True, text=True,
                       env={**os.environ, "FUZZ_OUT": str(out)}, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    return out / "fuzz_channel"


def test_regressions_and_seeds_replay(fuzzer):
    inputs = sorted(p for d in ("regressions", "corpus") for p in (FUZZ / d).iterdir() if not p.name.startswith("."))
    assert any(p.parent.name == "regressions" for p in inputs), "no saved regression input"
    r = subprocess.run([str(fuzzer), *map(str, inputs)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]


def test_short_fuzz(fuzzer, tmp_path):
    work = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus", work)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    r = subprocess.run([str(fuzzer), f"-runs={RUNS}", f"-seed={SEED}", "-max_total_time=300", "-timeout=10",
                        "-rss_limit_mb=1024", "-max_len=4096", f"-artifact_prefix={crashes}/", str(work)],
                       capture_output=True, text=True, timeout=600)
    found = sorted(crashes.iterdir())
    assert r.returncode == 0 and not found, (
        f"fuzz_channel (seed {SEED}) failed on {[str(f) for f in found]}; save the input under "
        f"tests/channel/fuzz/regressions/ once fixed\n{r.stderr[-4000:]}")
    assert "stat::number_of_executed_units" in r.stderr or "Done" in r.stderr
