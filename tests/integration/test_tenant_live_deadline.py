"""A new period of a SCHED_DEADLINE tenant through `edgecr update
--metadata` (docs/tenants.md, "Changing a running tenant", Schedule): the
kernel reservation set at create is moved to the new runtime / deadline /
period by `update` (sched_setattr on the container's process, before the
payload is posted), so `chrt -p` shows the new one and the activations of
the reactor tenant (tests/wasm_containers/c/reactor.c, TENANT_MODE=count)
come at the new period, in the same process.  Skipped where the kernel
gives no SCHED_DEADLINE (probed in a child)."""
import ctypes
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from itlib import wait_until

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

ANN = "org.edgecr.tenant.metadata"
SYS_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274}.get(os.uname().machine)


def deadline_support():
    """None if a process can become SCHED_DEADLINE here, else why not."""
    if shutil.which("clang") is None:
        return "clang (wasm32-wasi) not installed"
    if SYS_SCHED_SETATTR is None or shutil.which("chrt") is None:
        return f"no sched_setattr number for {os.uname().machine} or no chrt"
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 6, 0, 0, 0, 1000000, 10000000, 10000000))
        os._exit(0 if libc.syscall(SYS_SCHED_SETATTR, 0, attr, 0) == 0 else ctypes.get_errno())
    _, st = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(st)
    return None if rc == 0 else f"the kernel refuses SCHED_DEADLINE here: {os.strerror(rc)}"


pytestmark = pytest.mark.skipif(deadline_support() is not None, reason=str(deadline_support()))


@pytest.fixture
def dl_tenant(env):
    """(bundle, meta(version, schedule), acts(), chrt(pid)): a reactor tenant
    under SCHED_DEADLINE, 5 ms every 100 ms, activated 5 times already."""
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    os.environ["EDGECR_TRUST_DIR"] = str(trust)
    os.environ["EDGECR_TENANT_DIR"] = str(env.tmp / "tenants")
    reactor = compile_wasm(REPO / "tests" / "wasm_containers" / "c" / "reactor.c",
                           extra=["-mexec-model=reactor", "-I", str(REPO / "include")])

    def meta(version, schedule):
        y = env.tmp / f"m{version}.yaml"
        y.write_text(f"id: dl-live\ntype: wasm\nversion: {version}\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\n"
                     f"schedule: {schedule}\n")
        env.rt("meta", "build", y, "--module", reactor, "-o", env.tmp / f"m{version}.cbor")
        env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / f"m{version}.cbor",
               "-o", env.tmp / f"m{version}.cose")
        return env.tmp / f"m{version}.cose"

    b = env.bundle(cid=None)
    shutil.copy(reactor, b.path / "rootfs" / "app.wasm")
    shutil.copy(meta(1, "{period: 100ms, budget: 5ms}"), b.path / "rootfs" / "meta.cose")
    b.set_args("/app.wasm")
    b.process["env"] = b.process.get("env", []) + ["TENANT_MODE=count"]
    b.config["annotations"] = {ANN: "/meta.cose"}

    def acts():
        return [int(t) for t in re.findall(r"^act \d+ (\d+)$", b.stdout(), re.M)]
    try:
        env.rt.create(b)
        env.rt.start(b.id)
        assert wait_until(lambda: len(acts()) >= 5, 10), b.stderr()
        yield b, meta, acts
    finally:
        env.rt("delete", "--force", b.id, check=False)
        del os.environ["EDGECR_TRUST_DIR"], os.environ["EDGECR_TENANT_DIR"]


def chrt(pid):
    return subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True).stdout


def test_a_new_period_of_a_deadline_tenant_reaches_the_kernel(env, dl_tenant):
    b, meta, acts = dl_tenant
    pid = json.loads(env.rt("state", b.id).stdout)["pid"]
    assert "SCHED_DEADLINE" in chrt(pid) and "5000000/100000000/100000000" in chrt(pid), chrt(pid)
    n0 = len(acts())
    p = env.rt("update", "--metadata", meta(2, "{period: 20ms, budget: 4ms, deadline: 15ms}"), b.id)
    assert "version 2" in p.stdout, p.stdout + p.stderr
    # the kernel's reservation is the new one, on every thread of the tenant's process
    for tid in os.listdir(f"/proc/{pid}/task"):
        assert "SCHED_DEADLINE" in chrt(tid) and "4000000/15000000/20000000" in chrt(tid), chrt(tid)
    assert wait_until(lambda: len(acts()) >= n0 + 20, 10), b.stderr()
    t = acts()
    before = [y - x for x, y in zip(t[1:n0 - 1], t[2:n0])]   # (the last before the update)
    after = [y - x for x, y in zip(t[n0 + 2:], t[n0 + 3:])]
    assert min(before) > 80e6, before
    assert 15e6 < statistics.median(after) < 25e6, after
    assert json.loads(env.rt("state", b.id).stdout)["pid"] == pid   # the same process


def hold_bandwidth(runtime_ns, period_ns):
    """A child of ours that holds a SCHED_DEADLINE reservation, asleep (it
    uses no CPU, but the kernel's admission counts it); killed by pid."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # never back into pytest: whatever happens, _exit
        try:
            os.close(r)
            libc = ctypes.CDLL(None, use_errno=True)
            attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 6, 0, 0, 0, runtime_ns, period_ns,
                                                           period_ns))
            ok = libc.syscall(SYS_SCHED_SETATTR, 0, attr, 0) == 0
            os.write(w, b"1" if ok else b"0")
            while True:
                time.sleep(100)
        except BaseException as e:
            open(f"/tmp/hl-child-{os.getpid()}", "w").write(repr(e))
        finally:
            os._exit(0)
    os.close(w)
    ok = os.read(r, 1) == b"1"
    os.close(r)
    return pid, ok


def test_a_reservation_the_kernel_refuses_leaves_the_old_one(env, dl_tenant):
    """The kernel's admission (EBUSY) is the last judge: with the node's
    deadline bandwidth taken by reservations the plan analysis does not see
    (processes of ours, asleep, for about a second), an update asking for
    half a CPU is refused with the kernel's reason, and nothing changes:
    the reservation, the version, the period of the activations."""
    b, meta, acts = dl_tenant
    pid = json.loads(env.rt("state", b.id).stdout)["pid"]
    before = json.loads(env.rt("state", b.id).stdout)["annotations"]
    holders = []
    try:
        for _ in range(os.cpu_count() or 1):   # 0.85 of each CPU's share
            h, ok = hold_bandwidth(85000000, 100000000)
            holders.append(h)
            if not ok:
                break
        p = env.rt("update", "--metadata", meta(2, "{period: 20ms, budget: 10ms}"), b.id, check=False)
    finally:
        for h in holders:
            os.kill(h, 9)
            os.waitpid(h, 0)
    assert p.returncode != 0 and "the kernel refused the new SCHED_DEADLINE reservation" in p.stderr, p.stderr
    assert "the old reservation stays" in p.stderr
    assert "5000000/100000000/100000000" in chrt(pid), chrt(pid)
    assert json.loads(env.rt("state", b.id).stdout)["annotations"] == before
    n0 = len(acts())
    assert wait_until(lambda: len(acts()) >= n0 + 3, 5), b.stderr()
    t = acts()
    assert min(y - x for x, y in zip(t[n0 - 1:], t[n0:])) > 80e6
