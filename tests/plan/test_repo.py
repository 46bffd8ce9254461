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
