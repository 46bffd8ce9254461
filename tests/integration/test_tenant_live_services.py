"""Every tenant service denied, granted live and revoked live in a running
container (docs/tenants.md, "Changing a running tenant"): one guest,
tests/tenant/guests/live_probe.c, calls the service under test every 20 ms
and prints "SEQ RC VALUE" per call.  The container starts with metadata
that does not grant the service (its calls are denied, and counted), then
`edgecr update --metadata` version 2 grants it (from the next call it works,
checked by its effect: the kv value read back by another run of the same
tenant, the reading of the IIO tree, the level of the line on the emulated
GPIO chip, the inference output equal to the native library's, the messages
received at the channel's other end), then version 3 revokes it (denied
again from the next call, on the open handle too; the effect stops: no new
kv value, a new reading not seen, the line level left as it was, no new
message).  The outcomes run denied, ok, denied: each change from one call to
the next, never back.  Through the CLI (edgecr create/start/update) for
kv, sensor, gpio, infer and channel; through containerd (`ctr run
--runc-binary edgecr`, metadata in the image, `edgecr --root ... update`)
for kv and sensor, the kv root and device map reaching the runtime through
the daemon's environment."""
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

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EDGECR_BUILD", str(REPO / "build")))
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "tests" / "infer"))
from iio_tree import make_iio_tree, set_attr  # noqa: E402
from wasm_build import compile_wasm  # noqa: E402

GUEST = REPO / "tests" / "tenant" / "guests" / "live_probe.c"
SERVICES = REPO / "tests" / "tenant" / "guests" / "services.c"
EMU = BUILD / "src" / "tenant" / "gpiochip_emu"
INFER_RUN = BUILD / "src" / "infer" / "infer_run"
CHANCTR = BUILD / "tests" / "channel" / "chanctr"
ANN = "org.edgecr.tenant.metadata"
DENIED = -1
PERIOD_MS = 20

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

# the grant of each service under test (YAML under `permissions:`)
GRANTS = {
    "kv": "  kv:\n    - {namespace: state, access: read-write, quota: 100000}\n",
    "sensor": "  sensor: [temp0]\n",
    "gpio": "  gpio:\n    - {line: led0, direction: out}\n",
    "infer": "  infer: {model-size: 64KiB, compute: 1s}\n",
    "channel": "  channel:\n    - {name: probe, access: send}\n",
}
CHANNEL_ANN = ("org.edgecr.channel.probe", json.dumps(
    {"writer": True, "kind": "fifo", "message_size": 64, "depth": 4096, "readers": 1}))


class Node:
    """Keys and trust directory, the kv root, the device map (an IIO tree
    and an emulated GPIO line), the metadata builder."""

    def __init__(self, tmp):
        self.tmp, self.keys, self.trust = tmp, tmp / "keys", tmp / "trust.d"
        self.trust.mkdir()
        edgecr("meta", "keygen", "--out", self.keys, "vendor")
        shutil.copy(self.keys / "vendor.pub", self.trust / "vendor.pub")
        self.guest = compile_wasm(GUEST, ["-I", str(REPO / "include")])
        self.iio = make_iio_tree(tmp / "iio", {"iio:device0": {"channels": {"temp": {"raw": 19750, "scale": 0.001}}}})
        self.gnode = tmp / "gnode"
        self.gnode.mkdir()
        (tmp / "gpio.inputs").write_text("00000000\n")
        (tmp / "devices.json").write_text(json.dumps({
            "iio-root": str(self.iio), "sensors": {"temp0": {"device": "iio:device0", "channel": "temp"}},
            "gpio": {"led0": {"chip": f"{self.gnode}/gpiochip9", "offset": 1}}}))
        self.n = 0

    def env(self):
        return dict(os.environ, EDGECR_TRUST_DIR=str(self.trust), EDGECR_TENANT_DIR=str(self.tmp / "tenants"),
                    EDGECR_KV_ROOT=str(self.tmp / "kv"), EDGECR_DEVICE_MAP=str(self.tmp / "devices.json"))

    def meta(self, tid, version, grant, module=None, sign=True):
        self.n += 1
        y = self.tmp / f"m{self.n}.yaml"
        y.write_text(f"id: {tid}\ntype: wasm\nversion: {version}\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\n"
                     f"permissions:\n  log:\n{grant}")
        cbor = self.tmp / f"m{self.n}.cbor"
        edgecr("meta", "build", y, "--module", module or self.guest, "-o", cbor)
        if not sign:
            return cbor
        cose = self.tmp / f"m{self.n}.cose"
        edgecr("meta", "sign", "--key", self.keys / "vendor.key", cbor, "-o", cose)
        return cose


def edgecr(*args, check=True, env=None, timeout=60):
    p = subprocess.run([RUNTIME, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def calls(text):
    """[(seq, rc, value)] of the guest's lines."""
    out = []
    for line in text.splitlines():
        f = line.split(" ", 2)
        if len(f) >= 2 and f[0].isdigit():
            out.append((int(f[0]), int(f[1]), f[2] if len(f) > 2 else ""))
    return out


def phases(cs):
    """The outcomes in runs: [("denied", n), ("ok", n), ...]."""
    runs = []
    for _, rc, _ in cs:
        kind = "ok" if rc == 0 else "denied" if rc == DENIED else f"rc {rc}"
        if runs and runs[-1][0] == kind:
            runs[-1][1] += 1
        else:
            runs.append([kind, 1])
    return [tuple(r) for r in runs]


def wait_calls(read, pred, what, timeout=10):
    assert wait_until(lambda: pred(calls(read())), timeout), f"{what}: {calls(read())[-5:]}"


def after(cs, seq):
    return [c for c in cs if c[0] > seq]


def native_infer(model, inp):
    r = subprocess.run([INFER_RUN, model, inp], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.split()[1]


def kv_value(node, tid):
    """Key `n` of the tenant's namespace `state`, read by another run of the
    same tenant (edgecr wasm run: the development harness, same kv root)."""
    svc = compile_wasm(SERVICES, ["-I", str(REPO / "include")])
    m = node.meta(tid, 99, GRANTS["kv"], module=svc, sign=False)
    p = edgecr("wasm", "run", "--tenant-metadata", m, svc, "kv", "state", "get", 0, "n", env=node.env())
    return p.stdout.splitlines()[1]


class Probe:
    """The service-specific set-up, effects and checks."""

    def __init__(self, svc, node, tid):
        self.svc, self.node, self.tid = svc, node, tid

    def args(self):
        return {"kv": ["kv", "state", "n"], "sensor": ["sensor", "temp0"], "gpio": ["gpio", "led0"],
                "infer": ["infer", "/model.tflite", "/input.bin", str(len(self.infer_want) // 2)
                          if self.svc == "infer" else "0"],
                "channel": ["channel", "probe"]}[self.svc]

    def prepare(self, rootfs):
        if self.svc == "infer":
            import numpy as np
            import gen_models as g
            m = g.fc_basic()
            (rootfs / "model.tflite").write_bytes(m.build())
            (rootfs / "input.bin").write_bytes(
                np.concatenate([p.ravel().view(np.uint8) for p in m.example_input()]).tobytes())
            self.infer_want = native_infer(rootfs / "model.tflite", rootfs / "input.bin")

    def while_granted(self, read):
        """The effect while granted (after a few ok calls)."""
        cs = [c for c in calls(read()) if c[1] == 0]
        if self.svc == "kv":
            assert all(v == str(s) for s, _, v in cs), cs          # the value put, read back
        elif self.svc == "sensor":
            assert all(v == "19.750000" for _, _, v in cs), cs
            set_attr(self.node.iio, "iio:device0", "temp", "raw", 21000)   # a new reading is seen
            wait_calls(read, lambda c: c[-1][1:] == (0, "21.000000"), "new reading")
        elif self.svc == "gpio":
            assert all(v == str(s & 1) for s, _, v in cs), cs
            state = self.gpio_state()
            assert state[:3] == ["led0", "out", state[2]] and state[3] == f"edgecr:{self.tid}", state
        elif self.svc == "infer":
            assert all(v == self.infer_want for _, _, v in cs), (cs, self.infer_want)

    def gpio_state(self):
        for line in (self.node.tmp / "gpio.state").read_text().splitlines():
            f = line.split()
            if f and f[0] == "1":
                return f[1:]
        return []

    def after_revoke(self, read, last_ok):
        """The effect has stopped."""
        if self.svc == "sensor":
            set_attr(self.node.iio, "iio:device0", "temp", "raw", 30000)
            n = len(calls(read()))
            wait_calls(read, lambda c: len(c) >= n + 5, "calls after the new reading")
            assert all(v == "" for _, rc, v in after(calls(read()), last_ok[0])), calls(read())[-5:]
        elif self.svc == "gpio":
            state = self.gpio_state()
            # the level stays the last one set while granted
            assert state[2] == last_ok[2], (state, last_ok)

    def check_end(self, cs, last_ok, stopped_seq):
        oks = [c for c in cs if c[1] == 0]
        if self.svc == "kv":
            # the last granted put stored its sequence number, and no put came after the revocation
            # (its own get may have been revoked already: then the line shows "get:-1", not the value)
            v, stored = kv_value(self.node, self.tid), str(last_ok[0])
            assert v == f"get {len(stored)} {stored}", (v, last_ok)
        elif self.svc == "channel":
            assert [v for _, _, v in oks] == [str(i) for i in range(len(oks))]
            assert self.received == len(oks), (self.received, len(oks))


def run_phases(node, probe, start, update, read, stats):
    """The three versions on a running tenant; returns its calls."""
    start(node.meta(probe.tid, 1, ""))
    wait_calls(read, lambda c: len(c) >= 3, "denied calls")
    assert all(rc == DENIED for _, rc, _ in calls(read())), calls(read())
    p = update(node.meta(probe.tid, 2, GRANTS[probe.svc]))
    assert f"tenant {probe.tid}: version 2 applied" in p.stdout, p.stdout + p.stderr
    wait_calls(read, lambda c: sum(1 for x in c if x[1] == 0) >= 5, "granted calls")
    probe.while_granted(read)
    t = stats()
    assert t["services"][probe.svc]["denied"] >= 3 and t["updates"] == 1, t
    p = update(node.meta(probe.tid, 3, ""))
    assert f"tenant {probe.tid}: version 3 applied" in p.stdout, p.stdout + p.stderr
    last_ok = [c for c in calls(read()) if c[1] == 0][-1]
    wait_calls(read, lambda c: len(after(c, last_ok[0])) >= 5, "revoked calls")
    probe.after_revoke(read, last_ok)
    cs = calls(read())
    assert [k for k, _ in phases(cs)] == ["denied", "ok", "denied"], phases(cs)
    t = stats()
    denied = sum(1 for c in cs if c[1] == DENIED)
    assert t["updates"] == 2 and t["services"][probe.svc]["denied"] >= denied, (t, denied)
    return cs, last_ok


# ---- through the CLI ----------------------------------------------------------

@pytest.fixture
def node(env, monkeypatch):
    n = Node(env.tmp)
    for k, v in n.env().items():
        if k.startswith("EDGECR_") and k != "EDGECR_BIN":
            monkeypatch.setenv(k, v)
    return n


def emulated_gpio(node, env, b):
    """`edgecr create` under the GPIO chip emulator (the init inherits its
    seccomp supervision); the emulator's command lives until /stop."""
    if not EMU.exists():
        pytest.skip(f"{EMU} not built")
    if os.geteuid() != 0:
        pytest.skip("the GPIO chip emulator needs root (mount namespace, mknod)")
    create = " ".join(f"'{a}'" for a in map(str, env.rt.argv("create", "--bundle", b.path, b.id)))
    stop = b.path / "rootfs" / "stop"
    script = f"{create} >>'{b.stdout_file}' 2>>'{b.stderr_file}' || exit 1; echo created; while [ ! -e '{stop}' ]; do sleep 0.1; done"
    cmd = [EMU, "--node", node.gnode, "--lines", "8", "--names", "a,led0", "--state", node.tmp / "gpio.state",
           "--inputs", node.tmp / "gpio.inputs", "--", "sh", "-c", script]
    p = subprocess.Popen(list(map(str, cmd)), env=env.rt.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    if line.strip() != "created":
        out, err = p.communicate(timeout=20)
        if p.returncode == 125 and "gpiochip_emu:" in err:
            pytest.skip(f"the GPIO chip emulator cannot run here: {err.strip()}")
        raise AssertionError(line + out + err)
    return p


@pytest.mark.parametrize("svc", ["kv", "sensor", "gpio", "infer", "channel"])
def test_denied_granted_live_revoked_live_cli(env, node, svc):
    if svc == "infer" and not INFER_RUN.exists():
        pytest.skip(f"{INFER_RUN} not built")
    if svc == "channel" and not CHANCTR.exists():
        pytest.skip(f"{CHANCTR} not built")
    probe = Probe(svc, node, f"h-live-{svc}")
    b = env.bundle(cid=None)
    emu = []

    def start(meta):
        shutil.copy(node.guest, b.path / "rootfs" / "app.wasm")
        shutil.copy(meta, b.path / "rootfs" / "meta.cose")
        probe.prepare(b.path / "rootfs")
        b.set_args("/app.wasm", str(PERIOD_MS), "3000", *probe.args())
        b.config["annotations"] = {ANN: "/meta.cose"}
        if svc == "channel":
            b.config["annotations"][CHANNEL_ANN[0]] = CHANNEL_ANN[1]
        if svc == "gpio":
            b.write()
            env.rt.track(b)
            emu.append(emulated_gpio(node, env, b))
        else:
            env.rt.create(b)
        env.rt.start(b.id)

    def update(meta):
        return env.rt("update", "--metadata", meta, b.id)

    def stats():
        return json.loads(env.rt("events", "--stats", b.id).stdout)["data"]["tenant"]
    try:
        pid = None
        cs, last_ok = run_phases(node, probe, start, update, b.stdout, stats)
        pid = json.loads(env.rt("state", b.id).stdout)["pid"]
        if svc == "channel":
            r = subprocess.run([CHANCTR, "recv", "probe", "0", "100000", "1"], capture_output=True, text=True,
                               env=dict(os.environ, CHANCTR_DIR=str(env.rt.root / "channels")), timeout=30)
            f = dict(kv.split("=") for kv in r.stdout.split())
            assert f["first"] == "0" and f["lost"] == "0", r.stdout
            probe.received = int(f["received"])
        (b.path / "rootfs" / "stop").write_text("")
        env.rt.wait_status(b.id, "stopped", timeout=10)
        probe.check_end(calls(b.stdout()), last_ok, None)
        assert pid is not None   # one process throughout (checked by the stop: the guest ran to /stop)
    finally:
        (b.path / "rootfs" / "stop").write_text("")
        env.rt("delete", "--force", b.id, check=False)
        for p in emu:
            p.communicate(timeout=20)


# ---- through containerd -------------------------------------------------------

CONTAINERD = CTR = None
try:
    from containerd_harness import CONTAINERD, CTR, Containerd, state_root, task_status  # noqa: F811
except ImportError:
    pass




@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    if not (CONTAINERD and CTR):
        pytest.skip("containerd/ctr not installed")
    if not hostprobe.cgroups().has("cpu"):
        pytest.skip("ctr always sets linux.resources.cpu.shares and this host has no cpu controller")
    tmp = tmp_path_factory.mktemp("live-ctrd")
    os.chmod(tmp, 0o755)
    node = Node(tmp)
    d = tmp / "daemon"
    d.mkdir()
    c = Containerd(d, env=node.env())   # the daemon's environment reaches the runtime
    try:
        yield c, node
    finally:
        for cid in c.ctr("containers", "ls", "-q", check=False).stdout.split():
            c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
            wait_until(lambda: task_status(c, cid) in ("STOPPED", ""), 10)
            c.ctr("task", "delete", "-f", cid, check=False)
            c.ctr("containers", "delete", cid, check=False)
        c.stop()


@pytest.mark.parametrize("svc", ["kv", "sensor"])
def test_denied_granted_live_revoked_live_containerd(daemon, svc):
    c, node = daemon
    tid = f"h-live-ctrd-{svc}"
    probe = Probe(svc, node, tid)
    ref = f"docker.io/edgecr-test/live-probe-{svc}:1"
    cid = "hl" + uuid.uuid4().hex[:8]
    log = node.tmp / f"{cid}.log"

    def start(meta):
        out = node.tmp / f"img-{svc}"
        subprocess.run([sys.executable, str(REPO / "tools" / "wasmimage" / "wasmimage.py"), "image", "--wasm",
                        str(node.guest), "--ref", ref, "--out", str(out), "--tar", f"{out}.tar", "--metadata",
                        str(meta)], check=True, capture_output=True)
        c.ctr("images", "import", f"{out}.tar")
        c.ctr("run", "-d", "--log-uri", f"file://{log}", "--runc-binary", RUNTIME, ref, cid,
              "/app.wasm", str(PERIOD_MS), "3000", *probe.args())
        assert wait_until(lambda: task_status(c, cid) == "RUNNING", 10), c.logtext()

    def read():
        return log.read_text() if log.exists() else ""

    def update(meta):
        return edgecr("--root", state_root(c, cid), "update", "--metadata", meta, cid, env=node.env())

    def stats():
        p = edgecr("--root", state_root(c, cid), "events", "--stats", cid)
        return json.loads(p.stdout)["data"]["tenant"]
    try:
        cs, last_ok = run_phases(node, probe, start, update, read, stats)
        a = json.loads(edgecr("--root", state_root(c, cid), "state", cid).stdout)["annotations"]
        assert a["org.edgecr.tenant.metadata"] == "/app.wasm.meta" and a["org.edgecr.tenant.version"] == "3"
    finally:
        c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
        wait_until(lambda: task_status(c, cid) in ("STOPPED", ""), 10)
        c.ctr("task", "delete", cid, check=False)
        c.ctr("containers", "delete", cid, check=False)
    probe.check_end(calls(read()), last_ok, None)
