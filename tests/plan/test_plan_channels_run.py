"""A plan's `channels:` on a real node (docs/channels.md): `plan apply`
creates each channel at its exact size and mounts it into exactly the
declared containers; a switch that leaves a channel's declaration alone
keeps the channel with its contents while its unchanged containers keep
running (a restarted reader goes on where it was); a switch that changes
the declaration makes a new channel; `plan stop` leaves no channel file.
Linux containers (busybox and tests/channel/chanctr), best-effort (no
real-time section), run by the real lifecycle."""
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from plan_helpers import REPO

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
BUILD = Path(os.environ.get("EDGECR_BUILD", REPO / "build"))
CHANCTR = BUILD / "tests" / "channel" / "chanctr"

# rt_cores: [1] puts the (best-effort) containers on CPU 0 alone, which any
# cpuset the node's /edgecr-plan parent may have been left with includes.
PLAN = """
name: {name}
node: {{cores: 2, rt_cores: [1]}}
containers:
  - name: hchan-prod
    bundle: bundles/prod
  - name: hchan-cons
    bundle: bundles/cons
{cons_extra}
  - name: hchan-other
    bundle: bundles/other
channels:
  - name: hchan-imu
    kind: fifo
    message_size: 64
    depth: {depth}
    writers: [hchan-prod]
    readers: [hchan-cons]
"""
NAMES = ("hchan-prod", "hchan-cons", "hchan-other")


def bundle(base, name, script):
    b = base / "bundles" / name
    root = b / "rootfs"
    for d in ("bin", "proc", "dev", "tmp", "run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for tool in ("sh", "sleep", "ls", "cat"):
        os.symlink("busybox", root / "bin" / tool)
    shutil.copy2(CHANCTR, root / "bin" / "chanctr")
    (b / "config.json").write_text(json.dumps({
        "ociVersion": "1.2.0",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", script], "cwd": "/",
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
    }))


@pytest.fixture
def node(tmp_path, edgecr):
    if not CHANCTR.exists():
        pytest.skip(f"{CHANCTR} not built")
    bundle(tmp_path, "prod", "chanctr send hchan-imu 0 100 > /tmp/sent; exec sleep 1000")
    bundle(tmp_path, "cons", "exec sleep 1000")
    bundle(tmp_path, "other", "ls /run/edgecr/channels > /tmp/seen 2>&1; exec sleep 1000")
    root = tmp_path / "root"
    env = {"EDGECR_PLAN_REPO": str(tmp_path / "store")}

    def run(*args, check=None, timeout=60):
        return edgecr("--root", root, *args, env=env, check=check, timeout=timeout)

    class Node:
        pass
    n = Node()
    n.tmp, n.root, n.run = tmp_path, root, run
    n.chan = root / "channels" / "hchan-imu"
    yield n
    for name in NAMES:
        run("delete", "--force", name)


def build(node, name, depth=128, cons_extra=""):
    cfg = node.tmp / f"{name}.yaml"
    cfg.write_text(PLAN.format(name=name, depth=depth, cons_extra=cons_extra))
    node.run("plan", "build", cfg, check=0)


def pid(node, name):
    return json.loads(node.run("state", name, check=0).stdout)["pid"]


def exec_out(node, name, *args):
    return node.run("exec", name, *args, check=None)


def head(node):
    """The channel's `head` (messages sent), from its header on the host."""
    with open(node.chan / "data", "rb") as f:
        f.seek(128)
        return struct.unpack("<Q", f.read(8))[0]


def wait_head(node, want, timeout=10.0):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (node.chan / "data").exists() and head(node) == want:
            return
        time.sleep(0.05)
    pytest.fail(f"the writer did not send {want} messages (head {head(node) if node.chan.exists() else '-'})")


def test_apply_switch_keep_change_stop(node):
    build(node, "chanplan")
    node.run("plan", "apply", "chanplan", check=0)
    # Made at its exact size, with exactly the declared reader page.
    assert sorted(p.name for p in node.chan.iterdir()) == ["data", "reader.0"]
    assert (node.chan / "data").stat().st_size == 4096 + 128 * (8 + 64)
    wait_head(node, 100)
    # Each container has exactly its ends; the undeclared one nothing.
    r = exec_out(node, "hchan-prod", "ls", "/run/edgecr/channels/hchan-imu")
    assert r.stdout.split() == ["data", "reader.0"], r
    r = exec_out(node, "hchan-cons", "ls", "/run/edgecr/channels/hchan-imu")
    assert r.stdout.split() == ["data", "reader.0"], r
    r = exec_out(node, "hchan-other", "ls", "/run/edgecr/channels")
    assert "hchan-imu" not in r.stdout + r.stderr, r
    r = exec_out(node, "hchan-cons", "chanctr", "open-rw", "hchan-imu", "data")
    assert "open_rw=refused errno=30" in r.stdout, r  # EROFS: a read-only bind mount

    # The consumer reads half, then only the consumer changes: the channel
    # keeps its contents, the producer keeps running, the consumer goes on.
    r = exec_out(node, "hchan-cons", "chanctr", "recv", "hchan-imu", "0", "40", "10")
    assert "received=40 first=0 last=39 lost=0" in r.stdout, r
    prod, cons = pid(node, "hchan-prod"), pid(node, "hchan-cons")
    build(node, "chanplan", cons_extra="    memory: 256MiB")
    node.run("plan", "switch", "chanplan", check=0)
    assert pid(node, "hchan-prod") == prod
    assert pid(node, "hchan-cons") != cons
    assert head(node) == 100
    r = exec_out(node, "hchan-cons", "chanctr", "recv", "hchan-imu", "0", "60", "10")
    assert "received=60 first=40 last=99 lost=0" in r.stdout, r

    # The declaration changes (depth): both ends restart on a new channel.
    build(node, "chanplan", depth=256, cons_extra="    memory: 256MiB")
    node.run("plan", "switch", "chanplan", check=0)
    assert pid(node, "hchan-prod") != prod
    assert (node.chan / "data").stat().st_size == 4096 + 256 * (8 + 64)
    wait_head(node, 100)
    r = exec_out(node, "hchan-cons", "chanctr", "recv", "hchan-imu", "0", "100", "10")
    assert "received=100 first=0 last=99 lost=0" in r.stdout, r

    node.run("plan", "stop", check=0)
    assert not node.chan.exists()
    assert list((node.root / "channels" / ".owned").iterdir()) == []


def test_a_switch_removes_a_removed_channel(node):
    build(node, "chanplan")
    node.run("plan", "apply", "chanplan", check=0)
    wait_head(node, 100)
    cfg = node.tmp / "nochan.yaml"
    cfg.write_text(PLAN.split("channels:")[0].format(name="nochan", depth=1, cons_extra=""))
    node.run("plan", "build", cfg, check=0)
    other = pid(node, "hchan-other")
    node.run("plan", "switch", "nochan", check=0)
    assert not node.chan.exists()
    assert pid(node, "hchan-other") == other  # never declared a channel: untouched
    node.run("plan", "stop", check=0)


def stray_channels(node):
    base = node.root / "channels"
    if not base.exists():
        return []
    owned = base / ".owned"
    return sorted([p.name for p in base.iterdir() if not p.name.startswith(".")] +
                  [f".owned/{p.name}" for p in owned.iterdir()] if owned.exists() else [])


def test_sigkill_mid_apply_leaves_no_stray_channel(node, edgecr):
    """`plan apply` SIGKILLed at spread-out moments (before, while and after
    the channel is made and the containers created): `plan recover
    --rollback` always ends with no container and no channel file, and
    `plan recover` (forward) with the channel and its users."""
    import signal
    import time
    from plan_helpers import edgecr_bin
    build(node, "chanplan")
    env = dict(os.environ, EDGECR_PLAN_REPO=str(node.tmp / "store"))
    interrupted = 0
    for i in range(24):
        p = subprocess.Popen([edgecr_bin(), "--root", str(node.root), "plan", "apply", "chanplan"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i % 2:
            time.sleep(0.004 * i)
        else:  # as soon as the channel's marker exists, plus a little
            marker, end = node.root / "channels" / ".owned" / "hchan-imu", time.monotonic() + 5
            while not marker.exists() and p.poll() is None and time.monotonic() < end:
                pass
            time.sleep(0.0005 * i)
        p.send_signal(signal.SIGKILL)  # our own child, by its pid
        p.wait()
        st = json.loads(node.run("plan", "status", "--format", "json").stdout)
        if st["journal"] is None:  # killed before the journal, or after the end
            if st["current"] is not None:
                node.run("plan", "stop", check=0)
        elif i % 3 == 2:
            interrupted += bool(stray_channels(node))
            node.run("plan", "recover", check=0)
            assert stray_channels(node) == [".owned/hchan-imu", "hchan-imu"]
            node.run("plan", "stop", check=0)
        else:
            interrupted += bool(stray_channels(node))
            node.run("plan", "recover", "--rollback", check=0)
        assert stray_channels(node) == [], f"kill after {4 * i} ms"
        assert not [n for n in NAMES if (node.root / n).exists()], f"kill after {4 * i} ms"
    # Some kills must have landed mid-switch while the channel existed, or
    # the test proved nothing about it.
    assert interrupted > 0
