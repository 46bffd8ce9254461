"""Live tenant updates through the CLI (docs/tenants.md, "Changing a running
tenant"): `edgecr update --metadata FILE ID` on a running WebAssembly
container whose guest (tests/tenant/guests/live.c) calls edgecr.log and
edgecr.clock_now in a loop and prints when an outcome changes.  A grant
works and a revocation is denied from the next call, without a restart;
`edgecr state` shows the new version; the counters reach `edgecr events
--stats` and `edgecr monitor --tenants`, and denied calls are reported in
the container's log.  Refused updates (an older or equal version, another
module's digest, another tenant, unsigned under each policy, an unknown
key) each say why and change nothing: not the state, not the version
record, not the running tenant."""
import hashlib
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import pytest

from itlib import wait_until

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

GUEST = REPO / "tests" / "tenant" / "guests" / "live.c"
INCLUDE = ["-I", str(REPO / "include")]
ANN = "org.edgecr.tenant.metadata"
TID = "tl-live"

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")


def yaml(version, perms, tid=TID, schedule=None):
    s = f"id: {tid}\ntype: wasm\nversion: {version}\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\n"
    if schedule:
        s += f"schedule: {schedule}\n"
    if perms:
        s += "permissions:\n" + "".join(f"  {p}:\n" for p in perms)
    return s


@pytest.fixture
def live(env, monkeypatch):
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    monkeypatch.setenv("EDGECR_TENANT_DIR", str(env.tmp / "tenants"))
    monkeypatch.delenv("EDGECR_TENANT_POLICY", raising=False)
    guest = compile_wasm(GUEST, INCLUDE)
    n = [0]

    def meta(version, perms, module=guest, sign=True, tid=TID, key="vendor", schedule=None):
        n[0] += 1
        y = env.tmp / f"m{n[0]}.yaml"
        y.write_text(yaml(version, perms, tid, schedule))
        cbor = env.tmp / f"m{n[0]}.cbor"
        env.rt("meta", "build", y, "--module", module, "-o", cbor)
        if not sign:
            return cbor
        cose = env.tmp / f"m{n[0]}.cose"
        env.rt("meta", "sign", "--key", keys / f"{key}.key", cbor, "-o", cose)
        return cose

    def start(perms, version=1):
        b = env.bundle(cid=None)
        shutil.copy(guest, b.path / "rootfs" / "app.wasm")
        shutil.copy(meta(version, perms), b.path / "rootfs" / "meta.cose")
        b.set_args("/app.wasm")
        b.config["annotations"] = {ANN: "/meta.cose"}
        env.rt.create(b)
        env.rt.start(b.id)
        return b
    return type("L", (), {"meta": staticmethod(meta), "start": staticmethod(start), "keys": keys,
                          "trust": trust, "guest": guest, "vdir": env.tmp / "tenants"})


def outcomes(b):
    return [line.split(": ", 1)[1] for line in b.stdout().splitlines() if line.startswith("call ")]


def wait_outcome(b, want, timeout=10):
    assert wait_until(lambda: outcomes(b) and outcomes(b)[-1] == want, timeout), (outcomes(b), b.stderr()[-2000:])


def state_ann(env, b):
    return json.loads(env.rt("state", b.id).stdout)["annotations"]


def update(env, b, meta, check=True, global_args=()):
    p = env.rt("update", "--metadata", meta, b.id, check=False, global_args=list(global_args))
    if check:
        assert p.returncode == 0, p.stderr
    return p


def snapshot(env, b, live):
    rec = live.vdir / f"{TID}.version"
    return (state_ann(env, b), rec.read_text() if rec.exists() else None)


@pytest.mark.sanitizer
def test_grant_and_revoke_live(env, live):
    b = live.start(["log"])
    wait_outcome(b, "log=ok clock=denied")
    p = update(env, b, live.meta(2, ["log", "clock"]))
    assert f"tenant {TID}: version 2 applied" in p.stdout
    wait_outcome(b, "log=ok clock=ok")
    a = state_ann(env, b)
    assert a["org.edgecr.tenant.version"] == "2" and (live.vdir / f"{TID}.version").read_text() == "2\n"
    pid = json.loads(env.rt("state", b.id).stdout)["pid"]
    # revoke both
    update(env, b, live.meta(3, []))
    wait_outcome(b, "log=denied clock=denied")
    # grant the log again
    update(env, b, live.meta(4, ["log"]))
    wait_outcome(b, "log=ok clock=denied")
    st = json.loads(env.rt("state", b.id).stdout)
    assert st["pid"] == pid and st["status"] == "running"   # never restarted
    # the denied calls were reported (rate-limited) in the container's log
    err = b.stderr()
    assert f"edgecr: tenant {TID}: denied: edgecr.clock_now" in err
    assert err.count("denied: edgecr.clock_now") < 40
    env.rt("delete", "--force", b.id)


def test_counters_in_events_and_monitor(env, live):
    b = live.start(["log"])
    wait_outcome(b, "log=ok clock=denied")
    update(env, b, live.meta(2, ["log", "clock"]))
    time.sleep(0.2)
    ev = json.loads(env.rt("events", "--stats", b.id).stdout)
    t = ev["data"]["tenant"]
    assert t["id"] == TID and t["updates"] == 1
    assert t["services"]["clock"]["denied"] > 0 and t["services"]["clock"]["calls"] > t["services"]["clock"]["denied"]
    assert t["services"]["log"]["denied"] == 0 and t["services"]["log"]["calls"] > 0
    m = env.rt("monitor", "--tenants", "--format", "json").stdout
    [row] = [r for r in json.loads(m) if r["container"] == b.id]
    assert row["id"] == TID and row["updates"] == 1 and row["services"]["clock"]["denied"] > 0
    text = env.rt("monitor", "--tenants").stdout
    assert b.id in text and "clock" in text
    env.rt("delete", "--force", b.id)


@pytest.mark.parametrize("case,reason", [
    ("older", "not newer: version 1 is not above the running version 5"),
    ("equal", "not newer: version 5 is not above the running version 5"),
    ("other-module", "module digest mismatch"),
    ("other-tenant", "tenant id mismatch: the metadata is for tenant `tl-someone`"),
    ("unsigned", "no signature"),
    ("unknown-key", "unknown key `stranger`"),
    ("expired", None),
])
def test_refused_update_changes_nothing(env, live, case, reason):
    b = live.start(["log"], version=5)
    wait_outcome(b, "log=ok clock=denied")
    before = snapshot(env, b, live)
    other = wat2wasm('(module (func (export "_start")))')
    if case == "unknown-key":
        env.rt("meta", "keygen", "--out", live.keys, "stranger")
    meta = {
        "older": lambda: live.meta(1, ["log", "clock"]),
        "equal": lambda: live.meta(5, ["log", "clock"]),
        "other-module": lambda: live.meta(6, ["log", "clock"], module=other),
        "other-tenant": lambda: live.meta(6, ["log", "clock"], tid="tl-someone"),
        "unsigned": lambda: live.meta(6, ["log", "clock"], sign=False),
        "unknown-key": lambda: None,
        "expired": lambda: live.meta(6, ["log", "clock"]),
    }[case]()
    if case == "unknown-key":
        # signed by a key the node does not trust (the payload names it)
        y = env.tmp / "s.yaml"
        y.write_text(yaml(6, ["log", "clock"]).replace("kid: vendor", "kid: stranger"))
        env.rt("meta", "build", y, "--module", live.guest, "-o", env.tmp / "s.cbor")
        env.rt("meta", "sign", "--key", live.keys / "stranger.key", env.tmp / "s.cbor", "-o", env.tmp / "s.cose")
        meta = env.tmp / "s.cose"
    if case == "expired":
        y = env.tmp / "e.yaml"
        y.write_text(yaml(6, ["log", "clock"]).replace("2099-01-01", "2001-01-01"))
        env.rt("meta", "build", y, "--module", live.guest, "-o", env.tmp / "e.cbor")
        env.rt("meta", "sign", "--key", live.keys / "vendor.key", env.tmp / "e.cbor", "-o", env.tmp / "e.cose")
        meta, reason = env.tmp / "e.cose", "expired: valid until 2001-01-01T00:00:00Z"
    p = update(env, b, meta, check=False)
    assert p.returncode != 0 and reason in p.stderr and "refused" in p.stderr, p.stderr
    time.sleep(0.1)
    assert snapshot(env, b, live) == before
    assert outcomes(b)[-1] == "log=ok clock=denied"
    env.rt("delete", "--force", b.id)


def test_unsigned_update_under_allow_unsigned(env, live):
    b = live.start(["log"])
    wait_outcome(b, "log=ok clock=denied")
    p = update(env, b, live.meta(2, ["log", "clock"], sign=False), global_args=["--tenant-policy", "allow-unsigned"])
    assert "unsigned metadata" in p.stderr and "allow-unsigned" in p.stderr
    wait_outcome(b, "log=ok clock=ok")
    a = state_ann(env, b)
    assert a["org.edgecr.tenant.signed"] == "false" and "org.edgecr.tenant.key" not in a
    env.rt("delete", "--force", b.id)


def test_update_refused_for_a_container_without_metadata(env, live):
    b = env.bundle(cid=None)
    shutil.copy(live.guest, b.path / "rootfs" / "app.wasm")
    b.set_args("/app.wasm")
    env.rt.create(b)
    p = update(env, b, live.meta(2, ["log"]), check=False)
    assert p.returncode != 0 and "was created without tenant metadata" in p.stderr, p.stderr
    env.rt("delete", "--force", b.id)


def test_update_of_a_created_container_is_taken_at_start(env, live):
    """Posted before the tenant runs: its first call already has the grant."""
    b = env.bundle(cid=None)
    shutil.copy(live.guest, b.path / "rootfs" / "app.wasm")
    shutil.copy(live.meta(1, ["log"]), b.path / "rootfs" / "meta.cose")
    b.set_args("/app.wasm")
    b.config["annotations"] = {ANN: "/meta.cose"}
    env.rt.create(b)
    p = update(env, b, live.meta(2, ["log", "clock"]))
    assert "delivered" in p.stdout
    env.rt.start(b.id)
    wait_outcome(b, "log=ok clock=ok")
    assert outcomes(b)[0] == "log=ok clock=ok"
    env.rt("delete", "--force", b.id)


def test_replayed_metadata_refused_at_the_next_create(env, live):
    """After an update to version 2, the image's version 1 cannot run again."""
    b = live.start(["log"])
    update(env, b, live.meta(2, ["log", "clock"]))
    env.rt("delete", "--force", b.id)
    b2 = env.bundle(cid=None)
    shutil.copy(live.guest, b2.path / "rootfs" / "app.wasm")
    shutil.copy(live.meta(1, ["log"]), b2.path / "rootfs" / "meta.cose")
    b2.set_args("/app.wasm")
    b2.config["annotations"] = {ANN: "/meta.cose"}
    p = env.rt.create(b2, check=False)
    assert p.returncode != 0 and "older version: version 1 is older than the running version 2" in p.stderr


def rt_throttled():
    try:
        return int(Path("/proc/sys/kernel/sched_rt_runtime_us").read_text()) >= 0
    except OSError:
        return False


@pytest.mark.skipif(not rt_throttled(), reason="kernel.sched_rt_runtime_us is -1: real-time tasks are not "
                    "throttled, so no fixed-priority budget is too large")
def test_a_schedule_the_node_cannot_admit_is_refused(env, live):
    """A new schedule is judged by the plan analysis (edgecr plan
    admit-schedule): a whole CPU of fixed-priority budget is more than the
    kernel's real-time share; a small one passes; an update that leaves the
    schedule alone is not judged at all."""
    b = live.start(["log"])
    wait_outcome(b, "log=ok clock=denied")
    before = snapshot(env, b, live)
    p = update(env, b, live.meta(2, ["log", "clock"],
                                 schedule="{priority: 10, period: 10ms, budget: 10ms, deadline: 10ms}"), check=False)
    assert p.returncode != 0 and "schedule not admissible" in p.stderr, p.stderr
    assert "real-time" in p.stderr
    assert snapshot(env, b, live) == before and outcomes(b)[-1] == "log=ok clock=denied"
    p = update(env, b, live.meta(3, ["log", "clock"],
                                 schedule="{priority: 10, period: 10ms, budget: 1ms, deadline: 10ms}"))
    wait_outcome(b, "log=ok clock=ok")
    update(env, b, live.meta(4, ["log"], schedule="{priority: 10, period: 10ms, budget: 1ms, deadline: 10ms}"))
    wait_outcome(b, "log=ok clock=denied")
    env.rt("delete", "--force", b.id)


def test_a_new_period_takes_effect_from_the_next_activation(env, live):
    """A reactor tenant (tests/wasm_containers/c/reactor.c) activated every
    100 ms is updated to a 20 ms period: the activations that follow come
    every ~20 ms, in the same process.  (SCHED_FIFO; SCHED_DEADLINE, whose
    kernel reservation update moves too, is test_tenant_live_deadline.py.)"""
    import re
    reactor = compile_wasm(REPO / "tests" / "wasm_containers" / "c" / "reactor.c",
                           extra=["-mexec-model=reactor", "-I", str(REPO / "include")])
    b = env.bundle(cid=None)
    shutil.copy(reactor, b.path / "rootfs" / "app.wasm")
    shutil.copy(live.meta(1, [], module=reactor, schedule="{priority: 10, period: 100ms, budget: 5ms}"),
                b.path / "rootfs" / "meta.cose")
    b.set_args("/app.wasm")
    b.process["env"] = b.process.get("env", []) + ["TENANT_MODE=count"]
    b.config["annotations"] = {ANN: "/meta.cose"}
    env.rt.create(b)
    env.rt.start(b.id)

    def acts():
        return [int(t) for t in re.findall(r"^act \d+ (\d+)$", b.stdout(), re.M)]
    assert wait_until(lambda: len(acts()) >= 5, 10), b.stderr()
    pid = json.loads(env.rt("state", b.id).stdout)["pid"]
    update(env, b, live.meta(2, [], module=reactor, schedule="{priority: 10, period: 20ms, budget: 5ms}"))
    n0 = len(acts())
    assert wait_until(lambda: len(acts()) >= n0 + 15, 10), b.stderr()
    t = acts()
    before = [b_ - a for a, b_ in zip(t[1:n0 - 1], t[2:n0])]
    after = [b_ - a for a, b_ in zip(t[n0 + 2:], t[n0 + 3:])]
    assert min(before) > 80e6, before
    assert statistics.median(after) < 30e6, after
    assert json.loads(env.rt("state", b.id).stdout)["pid"] == pid
    env.rt("delete", "--force", b.id)
