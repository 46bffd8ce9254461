"""`edgecr plan apply/switch/status/recover` through the CLI, with the
lifecycle replaced by tests/plan/fake_lifecycle.py (EDGECR_PLAN_LIFECYCLE), and a
SIGKILL of the switching process at every step, before and after the
step's effect: `recover` always ends with exactly one plan running."""
import json
import pathlib
import shutil

import pytest

from plan_helpers import CELL, EXAMPLES, make_bundles

FAKE = pathlib.Path(__file__).with_name("fake_lifecycle.py")


@pytest.fixture
def node(tmp_path, edgecr):
    make_bundles(tmp_path, CELL, size=1000)
    shutil.copy(EXAMPLES / "schedulable.yaml", tmp_path / "cell.yaml")
    store = tmp_path / "store"
    edgecr("plan", "build", tmp_path / "cell.yaml", "--repo", store, check=0)
    (tmp_path / "bundles" / "vision" / "config.json").write_text('{"ociVersion": "1.2.0", "v": 2}')
    edgecr("plan", "build", tmp_path / "cell.yaml", "--repo", store, check=0)
    return tmp_path


def run(edgecr, node, *args, env=None, check=None):
    full = {"EDGECR_PLAN_LIFECYCLE": str(FAKE), "EDGECR_PLAN_REPO": str(node / "store")}
    full.update(env or {})
    return edgecr("--root", node / "root", "plan", *args, env=full, check=check)


def running(node):
    fake = node / "root" / "fake"
    out = {}
    for f in fake.glob("*.json"):
        s = json.loads(f.read_text())
        out[f.stem] = (s["status"], s["checksum"])
    return out


def plan_checksums(edgecr, node, ref):
    diff = json.loads(edgecr("plan", "diff", ref, ref, "--repo", node / "store", "--format", "json",
                             check=0).stdout)
    return {c["name"]: ("running", c["checksum"]) for c in diff["containers"]}


def log(node):
    return (node / "root" / "fake" / "log").read_text().split("\n")[:-1]


def test_apply_then_switch_restarts_only_the_changed(edgecr, node):
    run(edgecr, node, "apply", "cell-controller^", check=0)
    old = plan_checksums(edgecr, node, "cell-controller^")
    assert running(node) == old
    creates = [line for line in log(node) if line.startswith("create")]
    assert creates == ["create sensor", "create motor-ctl", "create vision", "create logger", "create planner",
                       "create webui"] or len(creates) == 6
    (node / "root" / "fake" / "log").unlink()
    run(edgecr, node, "switch", "cell-controller", check=0)
    assert running(node) == plan_checksums(edgecr, node, "cell-controller")
    mutations = [line for line in log(node) if not line.startswith("state")]
    assert mutations == ["delete vision", "create vision", "start vision"]
    st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
    assert st["journal"] is None and st["current"]["name"] == "cell-controller"


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize("rollback", [False, True])
def test_sigkill_at_every_step(edgecr, node, after, rollback):
    old = plan_checksums(edgecr, node, "cell-controller^")
    new = plan_checksums(edgecr, node, "cell-controller")
    run(edgecr, node, "apply", "cell-controller^", check=0)
    shutil.copytree(node / "root", node / "applied", symlinks=True)
    for step in (1, 2, 3):
        shutil.rmtree(node / "root")
        shutil.copytree(node / "applied", node / "root", symlinks=True)  # the old plan runs
        env = {"FAKE_KILL_AT": str(step), "FAKE_KILL_AFTER": "1" if after else "0"}
        p = run(edgecr, node, "switch", "cell-controller", env=env)
        assert p.returncode == -9, (step, p.stdout, p.stderr)
        assert run(edgecr, node, "status").returncode == 3  # interrupted
        assert run(edgecr, node, "switch", "cell-controller").returncode == 1  # refused until recovered
        args = ["recover", "--rollback"] if rollback else ["recover"]
        run(edgecr, node, *args, check=0)
        assert running(node) == (old if rollback else new), (step, after, rollback)
        st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
        assert st["journal"] is None
        assert st["current"]["commit"] == json.loads(
            edgecr("plan", "list", "--repo", node / "store", "--format", "json", check=0).stdout)[0]["commit"] \
            or rollback


def fake_states(node):
    return sorted(f.stem for f in (node / "root" / "fake").glob("*.json"))


@pytest.mark.parametrize("first", [True, False])
def test_failed_apply_rolls_back(edgecr, node, first):
    """A start that fails (the kernel refuses a setting) leaves no pending
    switch: what the apply did is undone, the node runs the old plan (or
    nothing) and status says so (issue 9 #17)."""
    old = plan_checksums(edgecr, node, "cell-controller^")
    if not first:
        run(edgecr, node, "apply", "cell-controller^", check=0)
    target = "cell-controller^" if first else "cell-controller"
    new_vision = plan_checksums(edgecr, node, target)["vision"][1]  # the old one starts again
    p = run(edgecr, node, "apply", target, env={"FAKE_FAIL_START": f"vision:{new_vision}"}, check=1)
    assert "start `vision`" in p.stderr and "rolled back" in p.stderr, p.stderr
    assert ("nothing runs" if first else "runs plan `cell-controller` again") in p.stderr, p.stderr
    st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
    assert st["journal"] is None and st["not_running"] == []
    if first:
        assert st["current"] is None and fake_states(node) == []
    else:
        assert running(node) == old
        assert st["current"]["commit"] != json.loads(
            edgecr("plan", "list", "--repo", node / "store", "--format", "json", check=0).stdout)[0]["commit"]


def test_gone_containers_are_noticed(edgecr, node):
    """A container deleted behind the plan's back: status says so (exit 4)
    and apply starts it again, touching nothing else (issue 9 #18)."""
    run(edgecr, node, "apply", "cell-controller^", check=0)
    (node / "root" / "fake" / "sensor.json").unlink()  # as `edgecr delete --force sensor` would
    p = run(edgecr, node, "status", check=4)
    assert "NOT RUNNING: sensor (gone)" in p.stdout, p.stdout
    st = json.loads(run(edgecr, node, "status", "--format", "json", check=4).stdout)
    assert st["not_running"] == [{"name": "sensor", "status": "gone"}]
    (node / "root" / "fake" / "log").unlink()
    run(edgecr, node, "apply", "cell-controller^", check=0)
    assert [line for line in log(node) if not line.startswith("state")] == ["create sensor", "start sensor"]
    assert running(node) == plan_checksums(edgecr, node, "cell-controller^")
    run(edgecr, node, "status", check=0)


def test_plan_stop(edgecr, node):
    """plan stop deletes the plan's containers and clears the node's plan
    state; the next apply starts everything (issue 9 #18)."""
    out = run(edgecr, node, "stop", check=0).stdout
    assert "no plan runs on this node" in out
    run(edgecr, node, "apply", "cell-controller^", check=0)
    (node / "root" / "fake" / "webui.json").unlink()  # one is already gone: stop still succeeds
    out = run(edgecr, node, "stop", check=0).stdout
    assert "stopped plan `cell-controller`: 6 containers deleted" in out, out
    assert fake_states(node) == []
    st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
    assert st["current"] is None and st["journal"] is None
    assert run(edgecr, node, "switch", "cell-controller").returncode == 1  # nothing runs to switch from
    run(edgecr, node, "apply", "cell-controller", check=0)
    assert running(node) == plan_checksums(edgecr, node, "cell-controller")


@pytest.mark.parametrize("rollback", [False, True])
def test_plan_stop_survives_sigkill(edgecr, node, rollback):
    """A stop killed at any step is a pending switch to no plan: recover
    finishes it (nothing runs) or rolls it back (the plan runs again)."""
    run(edgecr, node, "apply", "cell-controller^", check=0)
    old = plan_checksums(edgecr, node, "cell-controller^")
    shutil.copytree(node / "root", node / "applied", symlinks=True)
    for step in ((3,) if rollback else (1, 6)):
        shutil.rmtree(node / "root")
        shutil.copytree(node / "applied", node / "root", symlinks=True)
        p = run(edgecr, node, "stop", env={"FAKE_KILL_AT": str(step), "FAKE_KILL_AFTER": "1"})
        assert p.returncode == -9, (step, p.stdout, p.stderr)
        assert "INTERRUPTED forward to no plan (plan stop)" in run(edgecr, node, "status", check=3).stdout
        run(edgecr, node, "recover", *(["--rollback"] if rollback else []), check=0)
        assert running(node) == (old if rollback else {}), step
        st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
        assert st["journal"] is None and (st["current"] is not None) == rollback


def test_deadline_limits_of_this_node(edgecr, node, tmp_path):
    """apply checks SCHED_DEADLINE parameters against this node's sysctls
    (stricter than the defaults `plan check` uses) before changing
    anything, naming file:line:field (issue 9 #17)."""
    make_bundles(node, ["resv"], size=100)
    cfg = node / "dl.yaml"
    cfg.write_text("name: dl\nnode: {cores: 2}\ncontainers:\n"
                   "  - name: resv\n    bundle: bundles/resv\n    rt: {policy: deadline, period: 50ms, budget: 1ms}\n")
    edgecr("plan", "build", cfg, "--repo", node / "store", check=0)
    sysctl = tmp_path / "sysctl"
    sysctl.mkdir()
    (sysctl / "sched_deadline_period_max_us").write_text("20000\n")
    (sysctl / "sched_deadline_period_min_us").write_text("100\n")
    p = run(edgecr, node, "apply", "dl", env={"EDGECR_PLAN_SYSCTL_DIR": str(sysctl)}, check=1)
    assert f"{cfg}:4: containers[0].rt.period: 50ms exceeds this node's longest SCHED_DEADLINE period 20ms" \
        in p.stderr, p.stderr
    assert "nothing was changed" in p.stderr
    assert not (node / "root" / "fake").exists() or fake_states(node) == []
    st = json.loads(run(edgecr, node, "status", "--format", "json", check=0).stdout)
    assert st["current"] is None and st["journal"] is None
    (sysctl / "sched_deadline_period_max_us").write_text("4194304\n")
    run(edgecr, node, "apply", "dl", env={"EDGECR_PLAN_SYSCTL_DIR": str(sysctl)}, check=0)
