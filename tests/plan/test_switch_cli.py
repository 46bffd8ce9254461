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
