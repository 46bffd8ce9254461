"""`edgecr plan monitor` / `edgecr monitor` against a real periodic program
built with include/edgecr/rt.h: a lax loop reports no misses, a loop whose
jobs sometimes run longer than the period reports them."""
import json
import shutil
import subprocess
import time

import pytest

from plan_helpers import REPO

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


@pytest.fixture(scope="module")
def periodic(tmp_path_factory):
    if CC is None:
        pytest.fail("no C compiler")
    out = tmp_path_factory.mktemp("bin") / "periodic"
    subprocess.run([CC, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-I", str(REPO / "include"), str(REPO / "tests" / "plan" / "periodic.c"), "-o", str(out)],
                   check=True)
    return out


def fifo_prefix():
    """Run the loop as SCHED_FIFO when this machine allows it (as the plan
    would), so that ordinary load on a shared machine cannot cause misses."""
    chrt = shutil.which("chrt")
    if chrt and subprocess.run([chrt, "-f", "10", "true"], capture_output=True).returncode == 0:
        return [chrt, "-f", "10"]
    return []


def run_loop(periodic, page, *args):
    env = {"EDGECR_RT_SHM": str(page), "PATH": "/usr/bin:/bin"}
    subprocess.run([*fifo_prefix(), str(periodic), *map(str, args)], env=env, check=True, timeout=30)


def monitor(edgecr, rtdir, *extra):
    p = edgecr("plan", "monitor", "--dir", rtdir, "--format", "json", *extra, check=0)
    return {m["name"]: m for m in json.loads(p.stdout)}


def test_lax_loop_has_no_misses(edgecr, periodic, tmp_path):
    # 20 ms period, 300 us of work, about 2 s: 100 jobs, none late.
    run_loop(periodic, tmp_path / "lax.rt", "lax", 20000, 2000, 300)
    m = monitor(edgecr, tmp_path)["lax"]
    assert 95 <= m["jobs"] <= 103
    assert m["deadline_misses"] == 0
    assert m["period_ns"] == 20_000_000
    assert 300_000 <= m["max_response_ns"] < 20_000_000
    assert sum(b["count"] for b in m["response_histogram"]) == m["jobs"]
    assert sum(b["count"] for b in m["jitter_histogram"]) == m["jobs"]
    assert len(m["recent"]) == 83
    assert all(r["lateness_ns"] < 0 for r in m["recent"])
    assert m["running"] is False
    text = edgecr("plan", "monitor", "--dir", tmp_path, check=0).stdout
    assert "lax" in text and "response time" in text


def test_overrunning_jobs_are_reported(edgecr, periodic, tmp_path):
    # 5 ms period; every 10th job busy-loops 12 ms: it and the one after miss.
    run_loop(periodic, tmp_path / "hot.rt", "hot", 5000, 1000, 200, 10, 12000)
    run_loop(periodic, tmp_path / "calm.rt", "calm", 10000, 300, 100)
    ms = monitor(edgecr, tmp_path)
    hot, calm = ms["hot"], ms["calm"]
    assert hot["deadline_misses"] >= 10
    assert hot["budget_overruns"] >= 10
    assert hot["max_lateness_ns"] > 5_000_000
    assert calm["deadline_misses"] == 0
    late = [r for r in hot["recent"] if r["lateness_ns"] > 0]
    assert late and all(r["finish_ns"] > r["release_ns"] + 5_000_000 for r in late)
    only = monitor(edgecr, tmp_path, "hot")
    assert list(only) == ["hot"]


def test_monitor_errors(edgecr, tmp_path):
    p = edgecr("plan", "monitor", "--dir", tmp_path / "missing")
    assert p.returncode == 1 and "missing" in p.stderr
    (tmp_path / "junk.rt").write_bytes(b"x" * 4096)
    p = edgecr("plan", "monitor", "--dir", tmp_path)
    assert p.returncode == 1 and "not an edgecr rt.h page" in p.stderr


def test_running_means_a_live_writer(edgecr, periodic, tmp_path):
    """A writer in its own pid namespace (as in a container) records pid 1:
    `running` must follow the writer itself, not whatever the host's pid 1
    is (issue 9 #19)."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--pid", "--fork", "true"], capture_output=True).returncode:
        pytest.skip("cannot create a pid namespace here (unshare --pid)")
    env = {"EDGECR_RT_SHM": str(tmp_path / "ns.rt"), "PATH": "/usr/bin:/bin"}
    loop = subprocess.Popen([unshare, "--pid", "--fork", "--kill-child", str(periodic), "ns", "10000", "60000", "100"], env=env)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and monitor(edgecr, tmp_path).get("ns", {}).get("jobs", 0) < 5:
            time.sleep(0.05)
        m = monitor(edgecr, tmp_path)["ns"]
        assert m["pid"] == 1, m  # its own pid, in its namespace
        assert m["running"] is True and m["host_pid"] not in (0, 1), m
        assert "ns" in edgecr("plan", "monitor", "--dir", tmp_path, check=0).stdout
    finally:
        loop.kill()  # --kill-child: the loop dies with it
        loop.wait()
    deadline = time.monotonic() + 5
    while monitor(edgecr, tmp_path)["ns"]["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    m = monitor(edgecr, tmp_path)["ns"]
    assert m["running"] is False and m["host_pid"] == 0, m
