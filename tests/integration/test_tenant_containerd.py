"""Tenants through containerd (docs/tenants.md): the signed metadata travels
inside the image, next to the module (tools/wasmimage --metadata puts it at
/app.wasm.meta; containerd passes no image annotation to the runtime), and
`ctr run --runc-binary edgecr` checks it at create with the node's trust
directory, policy and version record (the daemon's environment reaches the
runtime).  Then `edgecr update --metadata` on the running task grants and
revokes the clock live (the tenant's counters, read with `edgecr events
--stats`, show calls denied, then allowed, then denied again, in one
process); a replayed older version, another module's metadata and unsigned
metadata are refused with their reason, changing nothing; after an update
the image's own, older metadata cannot be run again; unsigned metadata in
an image runs only through a runtime configured with
`--tenant-policy allow-unsigned` (a --runc-binary wrapper), marked unsigned."""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import hostprobe
from itlib import RUNTIME, wait_until
from containerd_harness import CONTAINERD, CTR, Containerd, state_root, task_status

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

WASMIMAGE = REPO / "tools" / "wasmimage" / "wasmimage.py"
GUEST = REPO / "tests" / "tenant" / "guests" / "live.c"
SIGNED_IMAGE = "docker.io/edgecr-test/tenant-live:1"
UNSIGNED_IMAGE = "docker.io/edgecr-test/tenant-live-unsigned:1"
TID = "tl-ctrd"

pytestmark = [
    pytest.mark.skipif(not (CONTAINERD and CTR), reason="containerd/ctr not installed"),
    pytest.mark.skipif(not hostprobe.cgroups().has("cpu"),
                       reason="ctr always sets linux.resources.cpu.shares and this host has no cpu controller"),
    pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed"),
]


def edgecr(*args, check=True, env=None):
    p = subprocess.run([RUNTIME, *map(str, args)], capture_output=True, text=True, timeout=60, env=env)
    if check:
        assert p.returncode == 0, p.stderr
    return p


class Node:
    """Keys, trust directory, version records, the metadata builder."""

    def __init__(self, tmp):
        self.tmp, self.keys, self.trust, self.vdir = tmp, tmp / "keys", tmp / "trust.d", tmp / "tenants"
        self.trust.mkdir()
        edgecr("meta", "keygen", "--out", self.keys, "vendor")
        shutil.copy(self.keys / "vendor.pub", self.trust / "vendor.pub")
        self.guest = compile_wasm(GUEST, ["-I", str(REPO / "include")])
        self.n = 0

    def meta(self, version, perms, module=None, sign=True, tid=TID):
        self.n += 1
        y = self.tmp / f"m{self.n}.yaml"
        body = "".join(f"  {p}:\n" for p in perms)
        y.write_text(f"id: {tid}\ntype: wasm\nversion: {version}\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\n"
                     + (f"permissions:\n{body}" if perms else ""))
        cbor = self.tmp / f"m{self.n}.cbor"
        edgecr("meta", "build", y, "--module", module or self.guest, "-o", cbor)
        if not sign:
            return cbor
        cose = self.tmp / f"m{self.n}.cose"
        edgecr("meta", "sign", "--key", self.keys / "vendor.key", cbor, "-o", cose)
        return cose

    def env(self):
        return dict(os.environ, EDGECR_TRUST_DIR=str(self.trust), EDGECR_TENANT_DIR=str(self.vdir))


def image(node, ref, meta, name):
    out = node.tmp / name
    subprocess.run([sys.executable, str(WASMIMAGE), "image", "--wasm", str(node.guest), "--ref", ref,
                    "--out", str(out), "--tar", str(out) + ".tar", "--metadata", str(meta)], check=True)
    return str(out) + ".tar"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tenant-ctrd")
    os.chmod(tmp, 0o755)
    node = Node(tmp)
    signed = image(node, SIGNED_IMAGE, node.meta(1, ["log"]), "signed")
    unsigned = image(node, UNSIGNED_IMAGE, node.meta(1, ["log", "clock"], sign=False, tid="tl-ctrd-dev"),
                     "unsigned")
    # a runtime configured for development nodes: the policy as a global option
    wrapper = tmp / "edgecr-dev"
    wrapper.write_text(f"#!/bin/sh\nexec {RUNTIME} --tenant-policy allow-unsigned \"$@\"\n")
    wrapper.chmod(0o755)
    d = tmp / "daemon"
    d.mkdir()
    c = Containerd(d, env=node.env())
    try:
        c.ctr("images", "import", signed)
        c.ctr("images", "import", unsigned)
        yield c, node, wrapper
    finally:
        for cid in c.ctr("containers", "ls", "-q", check=False).stdout.split():
            c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
            wait_until(lambda: task_status(c, cid) in ("STOPPED", ""), 10)
            c.ctr("task", "delete", "-f", cid, check=False)
            c.ctr("containers", "delete", cid, check=False)
        c.stop()




def rt(c, cid, *args, check=True, env=None, binary=RUNTIME):
    p = subprocess.run([str(binary), "--root", state_root(c, cid), *map(str, args)], capture_output=True,
                       text=True, timeout=60, env=env)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def clock(c, cid, node):
    t = json.loads(rt(c, cid, "events", "--stats", cid).stdout)["data"]["tenant"]
    return t["services"]["clock"], t


def settle(c, cid, node):
    """The clock's counters over 150 ms: (calls made, calls denied)."""
    a, _ = clock(c, cid, node)
    time.sleep(0.15)
    b, _ = clock(c, cid, node)
    return b["calls"] - a["calls"], b["denied"] - a["denied"]


def remove(c, cid):
    c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
    wait_until(lambda: task_status(c, cid) in ("STOPPED", ""), 10)
    c.ctr("task", "delete", cid, check=False)
    c.ctr("containers", "delete", cid, check=False)


def test_metadata_from_the_image_then_live_updates(setup):
    c, node, _ = setup
    cid = "tl" + uuid.uuid4().hex[:8]
    c.ctr("run", "-d", "--null-io", "--runc-binary", RUNTIME, SIGNED_IMAGE, cid)
    try:
        assert wait_until(lambda: task_status(c, cid) == "RUNNING", 10)
        a = json.loads(rt(c, cid, "state", cid).stdout)["annotations"]
        assert a["org.edgecr.tenant.metadata"] == "/app.wasm.meta"      # found next to the module
        assert a["org.edgecr.tenant.id"] == TID and a["org.edgecr.tenant.version"] == "1"
        assert a["org.edgecr.tenant.signed"] == "true"
        pid = json.loads(rt(c, cid, "state", cid).stdout)["pid"]
        # version 1: the clock is denied
        assert wait_until(lambda: settle(c, cid, node)[1] > 0, 5)
        # granted live
        p = rt(c, cid, "update", "--metadata", node.meta(2, ["log", "clock"]), cid, env=node.env())
        assert "version 2 applied" in p.stdout
        calls, denied = settle(c, cid, node)
        assert calls > 0 and denied == 0
        # revoked live
        rt(c, cid, "update", "--metadata", node.meta(3, ["log"]), cid, env=node.env())
        calls, denied = settle(c, cid, node)
        assert calls > 0 and denied == calls
        _, t = clock(c, cid, node)
        assert t["updates"] == 2 and t["services"]["log"]["denied"] == 0
        # refused: each with its reason, nothing changes
        before = (rt(c, cid, "state", cid).stdout, (node.vdir / f"{TID}.version").read_text())
        other = wat2wasm('(module (func (export "_start")))')
        for meta, reason in [(node.meta(2, ["log", "clock"]), "not newer: version 2 is not above the running version 3"),
                             (node.meta(4, ["log", "clock"], module=other), "module digest mismatch"),
                             (node.meta(4, ["log", "clock"], sign=False), "no signature")]:
            p = rt(c, cid, "update", "--metadata", meta, cid, check=False, env=node.env())
            assert p.returncode != 0 and reason in p.stderr, p.stderr
        assert (rt(c, cid, "state", cid).stdout, (node.vdir / f"{TID}.version").read_text()) == before
        calls, denied = settle(c, cid, node)
        assert calls > 0 and denied == calls          # still version 3's permissions
        assert json.loads(rt(c, cid, "state", cid).stdout)["pid"] == pid
    finally:
        remove(c, cid)
    # the image still holds version 1: a replay, refused at create
    cid2 = "tl" + uuid.uuid4().hex[:8]
    p = c.ctr("run", "-d", "--null-io", "--runc-binary", RUNTIME, SIGNED_IMAGE, cid2, check=False)
    assert p.returncode != 0
    assert "older version: version 1 is older than the running version 3" in p.stderr + c.logtext(), p.stderr
    c.ctr("containers", "delete", cid2, check=False)


def test_unsigned_image_metadata_under_each_policy(setup):
    c, node, wrapper = setup
    cid = "tl" + uuid.uuid4().hex[:8]
    p = c.ctr("run", "-d", "--null-io", "--runc-binary", RUNTIME, UNSIGNED_IMAGE, cid, check=False)
    assert p.returncode != 0 and "no signature" in p.stderr + c.logtext(), p.stderr
    c.ctr("containers", "delete", cid, check=False)
    cid = "tl" + uuid.uuid4().hex[:8]
    c.ctr("run", "-d", "--null-io", "--runc-binary", wrapper, UNSIGNED_IMAGE, cid)
    try:
        assert wait_until(lambda: task_status(c, cid) == "RUNNING", 10)
        a = json.loads(rt(c, cid, "state", cid).stdout)["annotations"]
        assert a["org.edgecr.tenant.signed"] == "false" and "org.edgecr.tenant.key" not in a
        calls, denied = settle(c, cid, node)
        assert calls > 0 and denied == 0
    finally:
        remove(c, cid)
