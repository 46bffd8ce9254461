"""`edgecr plan build/list/diff/export/import`: plans in the libostree
repository, deduplicated storage, deltas of about one changed file."""
import json
import lzma
import os
import shutil

import pytest

from plan_helpers import CELL, EXAMPLES, make_bundles


@pytest.fixture
def cell(tmp_path):
    make_bundles(tmp_path, CELL)
    shutil.copy(EXAMPLES / "schedulable.yaml", tmp_path / "cell.yaml")
    return tmp_path


def object_bytes(repo):
    return sum(f.stat().st_size for f in (repo / "repo" / "objects").rglob("*") if f.is_file())


def test_build_dedup_diff_export_import(edgecr, cell):
    store = cell / "store"
    out = edgecr("plan", "build", cell / "cell.yaml", "--repo", store, check=0).stdout
    assert "built plan `cell-controller`" in out
    first = object_bytes(store)
    # one file changes: storage grows by that file plus small metadata only
    changed = cell / "bundles" / "vision" / "rootfs" / "bin" / "vision"
    changed.write_bytes(os.urandom(150_000))
    edgecr("plan", "build", cell / "cell.yaml", "--repo", store, check=0)
    growth = object_bytes(store) - first
    assert 150_000 <= growth < 150_000 + 16_384, growth

    listing = json.loads(edgecr("plan", "list", "--repo", store, "--format", "json", check=0).stdout)
    assert [p["name"] for p in listing] == ["cell-controller"] and listing[0]["versions"] == 2

    diff = json.loads(edgecr("plan", "diff", "cell-controller^", "cell-controller", "--repo", store,
                             "--format", "json", check=0).stdout)
    changes = {c["name"]: c["change"] for c in diff["containers"]}
    assert changes == {"motor-ctl": "unchanged", "sensor": "unchanged", "planner": "unchanged",
                       "vision": "changed", "logger": "unchanged", "webui": "unchanged"}

    delta = cell / "one.delta"
    r = json.loads(edgecr("plan", "export", "--from", "cell-controller^", "--to", "cell-controller", delta,
                          "--repo", store, "--format", "json", check=0).stdout)
    compressed = len(lzma.compress(changed.read_bytes()))
    assert r["bytes"] == delta.stat().st_size
    assert r["bytes"] <= 2 * compressed, (r["bytes"], compressed)

    # a device that has the first plan receives the delta
    device = cell / "device"
    full = cell / "full.delta"
    edgecr("plan", "export", "--to", "cell-controller^", full, "--repo", store, check=0)
    edgecr("plan", "import", full, "--repo", device, check=0)
    out = edgecr("plan", "import", delta, "--repo", device, check=0).stdout
    assert diff["to"] in out
    again = json.loads(edgecr("plan", "diff", "cell-controller^", "cell-controller", "--repo", device,
                              "--format", "json", check=0).stdout)
    assert again == diff


def test_build_refuses_unschedulable(edgecr, tmp_path):
    make_bundles(tmp_path, ["ctl", "log", "sensor", "vision"], size=10)
    shutil.copy(EXAMPLES / "overloaded.yaml", tmp_path / "o.yaml")
    p = edgecr("plan", "build", tmp_path / "o.yaml", "--repo", tmp_path / "s")
    assert p.returncode == 2 and "not schedulable" in p.stderr
    p = edgecr("plan", "build", tmp_path / "o.yaml", "--repo", tmp_path / "s", "--force", check=0)
    assert "NOT SCHEDULABLE" in p.stdout


def test_repo_errors(edgecr, tmp_path, cell):
    p = edgecr("plan", "list", "--repo", tmp_path / "none")
    assert p.returncode == 1 and "does not exist" in p.stderr
    shutil.rmtree(cell / "bundles" / "sensor")
    p = edgecr("plan", "build", cell / "cell.yaml", "--repo", tmp_path / "s2")
    assert p.returncode == 1 and "containers[1].bundle" in p.stderr and "cell.yaml:" in p.stderr
    (tmp_path / "junk.delta").write_text("hello")
    p = edgecr("plan", "import", tmp_path / "junk.delta", "--repo", tmp_path / "s3")
    assert p.returncode == 1 and "not an edgecr plan delta" in p.stderr


def three_on_one_core(tmp_path, names, prio_c=50):
    """FIFO containers sharing core 0 (each one's response depends on the
    others), in the order given (= start order)."""
    rt = {"a": "{period: 10ms, budget: 2ms, core: 0, priority: 70}",
          "b": "{period: 20ms, budget: 2ms, core: 0, priority: 60}",
          "c": f"{{period: 40ms, budget: 2ms, core: 0, priority: {prio_c}}}"}
    lines = ["name: trio", "node: {cores: 2}", "containers:"]
    lines += [f"  - {{name: {n}, bundle: bundles/{n}, rt: {rt[n]}}}" for n in names]
    (tmp_path / "trio.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path / "trio.yaml"


def test_identity_is_what_runs(edgecr, tmp_path):
    """Removing one container changes the others' start order and response
    times, not what they run: they stay unchanged (issue 9 #19); a real
    change says which field."""
    make_bundles(tmp_path, ["a", "b", "c"], size=1000)
    store = tmp_path / "store"
    edgecr("plan", "build", three_on_one_core(tmp_path, "abc"), "--repo", store, check=0)
    edgecr("plan", "build", three_on_one_core(tmp_path, "bc"), "--repo", store, check=0)
    diff = json.loads(edgecr("plan", "diff", "trio^", "trio", "--repo", store, "--format", "json", check=0).stdout)
    assert {c["name"]: c["change"] for c in diff["containers"]} == \
        {"a": "removed", "b": "unchanged", "c": "unchanged"}, diff
    edgecr("plan", "build", three_on_one_core(tmp_path, "bc", prio_c=40), "--repo", store, check=0)
    diff = json.loads(edgecr("plan", "diff", "trio^", "trio", "--repo", store, "--format", "json", check=0).stdout)
    why = {c["name"]: c["why"] for c in diff["containers"]}
    assert why == {"b": [], "c": ["realtime.sched.priority: 50 -> 40"]}, diff
    text = edgecr("plan", "diff", "trio^", "trio", "--repo", store, check=0).stdout
    assert "changed    c\n             realtime.sched.priority: 50 -> 40\n" in text, text
    (tmp_path / "bundles" / "b" / "rootfs" / "bin" / "b").write_bytes(b"new")
    edgecr("plan", "build", three_on_one_core(tmp_path, "bc", prio_c=40), "--repo", store, check=0)
    diff = json.loads(edgecr("plan", "diff", "trio^", "trio", "--repo", store, "--format", "json", check=0).stdout)
    assert {c["name"]: c["why"] for c in diff["containers"]} == {"b": ["bundle contents"], "c": []}, diff
