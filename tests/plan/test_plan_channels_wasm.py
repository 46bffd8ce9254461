"""A plan with a Linux container and a WebAssembly tenant on the same
channels (docs/channels.md): `lx` (busybox + tests/channel/chanctr) sends
on `down`, the tenant `wt` (tests/channel/guests/chan_guest.c, signed
metadata granting `down: receive` and `up: send`) echoes every message on
`up`, which `lx` reads: both directions.  Applied; switched with the
channels unchanged (only the tenant restarts: `lx` keeps running, the
messages waiting in `up` are kept, and the new tenant goes on in `down`
where the old one stopped); switched with `up` changed (both ends restart
on a new channel); stopped (no channel file left)."""
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from plan_helpers import REPO

sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
BUILD = Path(os.environ.get("EDGECR_BUILD", REPO / "build"))
CHANCTR = BUILD / "tests" / "channel" / "chanctr"
GUEST = REPO / "tests" / "channel" / "guests" / "chan_guest.c"
NAMES = ("hchan-lx", "hchan-wt")

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

# rt_cores: [1] puts the (best-effort) containers on CPU 0 alone, which any
# cpuset the node's /edgecr-plan parent may have been left with includes.
PLAN = """
name: {name}
node: {{cores: 2, rt_cores: [1]}}
containers:
  - name: hchan-lx
    bundle: bundles/lx
  - name: hchan-wt
    bundle: bundles/wt
    backend: wasm
{wt_extra}
channels:
  - {{name: hchan-down, kind: fifo, message_size: 64, depth: 256, writers: [hchan-lx], readers: [hchan-wt],
     wait: futex}}
  - {{name: hchan-up, kind: fifo, message_size: 64, depth: {up_depth}, writers: [hchan-wt], readers: [hchan-lx],
     wait: futex}}
"""

META = """\
id: chan-echo
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: vendor
permissions:
  channel:
    - {name: hchan-down, access: receive}
    - {name: hchan-up, access: send}
"""


def base_config(args):
    return {
        "ociVersion": "1.2.0",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
    }


@pytest.fixture
def node(tmp_path, edgecr):
    if not CHANCTR.exists():
        pytest.skip(f"{CHANCTR} not built")
    keys, trust = tmp_path / "keys", tmp_path / "trust.d"
    trust.mkdir()
    edgecr("meta", "keygen", "--out", keys, "vendor", check=0)
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    # lx: sends 0..99 on down at start, then waits
    lx = tmp_path / "bundles" / "lx"
    for d in ("bin", "proc", "dev", "tmp"):
        (lx / "rootfs" / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, lx / "rootfs" / "bin" / "busybox")
    for tool in ("sh", "sleep", "ls"):
        os.symlink("busybox", lx / "rootfs" / "bin" / tool)
    shutil.copy2(CHANCTR, lx / "rootfs" / "bin" / "chanctr")
    (lx / "config.json").write_text(json.dumps(base_config(
        ["sh", "-c", "chanctr send hchan-down 0 100; exec sleep 1000"])))
    # wt: the tenant, echoing down -> up
    module = compile_wasm(GUEST, ["-I", str(REPO / "include")])
    wt = tmp_path / "bundles" / "wt"
    for d in ("proc", "dev", "tmp"):
        (wt / "rootfs" / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(module, wt / "rootfs" / "app.wasm")
    (tmp_path / "t.yaml").write_text(META)
    edgecr("meta", "build", tmp_path / "t.yaml", "--module", module, "-o", tmp_path / "t.cbor", check=0)
    edgecr("meta", "sign", "--key", keys / "vendor.key", tmp_path / "t.cbor", "-o", wt / "rootfs" / "meta.cose",
           check=0)
    cfg = base_config(["/app.wasm", "echo", "hchan-down", "hchan-up"])
    cfg["annotations"] = {"org.edgecr.tenant.metadata": "/meta.cose"}
    (wt / "config.json").write_text(json.dumps(cfg))
    root = tmp_path / "root"
    env = {"EDGECR_PLAN_REPO": str(tmp_path / "store"), "EDGECR_TRUST_DIR": str(trust)}

    def run(*args, check=None, timeout=60):
        return edgecr("--root", root, *args, env=env, check=check, timeout=timeout)

    class Node:
        pass
    n = Node()
    n.tmp, n.root, n.run = tmp_path, root, run
    yield n
    for name in NAMES:
        run("delete", "--force", name)


def build(node, up_depth=256, wt_extra=""):
    cfg = node.tmp / "echo.yaml"
    cfg.write_text(PLAN.format(name="echo", up_depth=up_depth, wt_extra=wt_extra))
    node.run("plan", "build", cfg, check=0)


def pid(node, name):
    return json.loads(node.run("state", name, check=0).stdout)["pid"]


def sent(node, channel):
    """`head` of a channel (messages its writer sent), from the host."""
    m = json.loads(node.run("monitor", "--channels", "--format", "json", channel, check=0).stdout)
    return m[0]["sent"]


def wait_sent(node, channel, want, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sent(node, channel) >= want:
            return
        time.sleep(0.05)
    pytest.fail(f"{channel}: {sent(node, channel)} messages sent, expected {want}; "
                f"tenant log: {node.run('logs', 'hchan-wt').stdout}")


def lx(node, *args):
    return node.run("exec", "hchan-lx", "chanctr", *args).stdout


def test_linux_container_and_tenant_on_one_channel_applied_and_switched(node):
    build(node)
    node.run("plan", "apply", "echo", check=0)
    # Both directions: lx -> tenant on down, tenant -> lx on up.
    wait_sent(node, "hchan-up", 100)
    assert "received=50 first=0 last=49 lost=0" in lx(node, "recv", "hchan-up", "0", "50", "10")

    # Switch with the channels unchanged (only the tenant's memory limit
    # changes): lx keeps running, the 50 messages waiting in `up` (echoed
    # by the old tenant) are kept, and the new tenant goes on in `down`
    # from where the old one was.
    lx_pid, wt_pid = pid(node, "hchan-lx"), pid(node, "hchan-wt")
    build(node, wt_extra="    memory: 64MiB")
    node.run("plan", "switch", "echo", check=0)
    assert pid(node, "hchan-lx") == lx_pid and pid(node, "hchan-wt") != wt_pid
    assert "received=50 first=50 last=99 lost=0" in lx(node, "recv", "hchan-up", "0", "50", "10")
    assert "sent=30" in lx(node, "send", "hchan-down", "100", "30")
    assert "received=30 first=100 last=129 lost=0" in lx(node, "recv", "hchan-up", "0", "30", "10")

    # Switch with `up` changed (depth): both of its ends restart on a new
    # channel, and the exchange works again from the start.
    build(node, up_depth=512, wt_extra="    memory: 64MiB")
    node.run("plan", "switch", "echo", check=0)
    assert pid(node, "hchan-lx") != lx_pid
    up = node.root / "channels" / "hchan-up" / "data"
    assert up.stat().st_size == 4096 + 512 * (8 + 64)
    wait_sent(node, "hchan-up", 100)
    assert "received=100 first=0 last=99 lost=0" in lx(node, "recv", "hchan-up", "0", "100", "10")

    node.run("plan", "stop", check=0)
    left = node.root / "channels"
    assert not [p for p in left.iterdir() if not p.name.startswith(".")]
    assert list((left / ".owned").iterdir()) == []
