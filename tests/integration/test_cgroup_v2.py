"""edgecr on a pure cgroup v2 host, for real.

The runtime is pointed ($EDGECR_CGROUP_ROOT) at this host's cgroup2
hierarchy as a pure v2 root: on a hybrid host that is /sys/fs/cgroup/unified
(whose only delegated controllers are those no v1 hierarchy holds), in the
cgroup2-only view of tests/lib/cgroup2_only.sh or on a pure v2 host it is
/sys/fs/cgroup itself.  So the v2 code paths run against the kernel, not a
fake tree: the eBPF device program, the cgroup.freeze freezer,
cgroup.procs and removal.
"""
import os
from pathlib import Path

import pytest

from itlib import CG, wait_until

UNIFIED = Path(CG.unified) if CG.unified is not None else None

pytestmark = [
    pytest.mark.edgecr_only,
    pytest.mark.skipif(UNIFIED is None,
                       reason=f"no cgroup2 hierarchy on this host ({CG.describe()})"),
]


@pytest.fixture
def v2rt(rt):
    """The runtime, seeing the cgroup2 mount as a pure v2 root."""
    rt.env = lambda: dict(os.environ, EDGECR_TEST_TAG=rt.tag,
                          EDGECR_CGROUP_ROOT=str(UNIFIED))
    return rt


def v2_bundle(env, *args):
    b = env.bundle(*args)
    # Only the devices rules: memory/cpu/pids may not be delegated on this
    # cgroup2 hierarchy (on a hybrid host they belong to v1 hierarchies).
    b.linux["resources"] = {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rw"},
    ]}
    b.linux["devices"] = [
        {"path": "/dev/denied0", "type": "c", "major": 6, "minor": 0},
        {"path": "/dev/full2", "type": "c", "major": 1, "minor": 7},
    ]
    return b


def test_v2_device_rules_enforced_by_bpf(env, v2rt):
    b = v2_bundle(env, "sh", "-c",
                  "echo x > /dev/null && echo null-ok; "
                  "cat /dev/denied0 2>&1; "
                  "head -c 3 /dev/full2 | od -An -tx1")
    p = v2rt.run(b)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "null-ok" in out                      # a default device
    assert "Operation not permitted" in out      # not allowed by any rule
    assert "00 00 00" in out                     # explicitly allowed c 1:7
    assert not (UNIFIED / b.cgroups_path.lstrip("/")).exists()


def test_v2_freeze_and_process_list(env, v2rt):
    b = v2_bundle(env, "sh", "-c", "while :; do sleep 0.05; done")
    v2rt.create(b)
    v2rt.start(b.id)
    cg = UNIFIED / b.cgroups_path.lstrip("/")
    pid = v2rt.state(b.id)["pid"]
    assert str(pid) in (cg / "cgroup.procs").read_text().split()
    v2rt("pause", b.id)
    assert v2rt.status(b.id) == "paused"
    assert "frozen 1" in (cg / "cgroup.events").read_text()
    v2rt("resume", b.id)
    assert v2rt.status(b.id) == "running"
    ps = v2rt("ps", "--format", "json", b.id).stdout
    assert str(pid) in ps
    v2rt.kill(b.id, "KILL")
    assert v2rt.wait_status(b.id, "stopped")
    v2rt.delete(b.id)
    assert wait_until(lambda: not cg.exists(), 5)


def test_v2_update_devices_replaces_program(env, v2rt):
    """update with new device rules: the old program is detached (the
    kernel ANDs all attached programs, so a stale one would still deny)."""
    b = v2_bundle(env, "sh", "-c", "while :; do sleep 0.05; done")
    v2rt.create(b)
    v2rt.start(b.id)
    denied = v2rt.exec(b.id, "sh", "-c", "cat /dev/denied0 2>&1; true").stdout
    assert "Operation not permitted" in denied
    res = env.tmp / "res.json"
    res.write_text('{"devices": [{"allow": true, "access": "rwm"}]}')
    v2rt("update", "-r", str(res), b.id)
    allowed = v2rt.exec(b.id, "sh", "-c", "cat /dev/denied0 2>&1; true").stdout
    # c 6:0 has no driver here: now the open reaches it and fails with
    # ENXIO/ENODEV instead of being refused by the device program.
    assert "Operation not permitted" not in allowed, allowed
    v2rt.delete(b.id, force=True)
