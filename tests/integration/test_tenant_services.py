"""The kv and sensor services in WebAssembly containers with signed metadata:
the container's init opens the tenant's kv store and the node's devices
before it enters the container's root (linux_payload_ops.early), so the
payload uses them from inside a root that has neither the store nor the
devices.  Checked: kv data survives the container (a new container of the
same tenant reads it), another tenant's container does not see it, a
SIGKILLed container loses nothing it committed, a sensor of the device map
reads from a tree the container cannot see, and a bad device map fails
create naming the file and field.  The guest is tests/tenant/guests/services.c."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "tests" / "lib"))
from iio_tree import make_iio_tree  # noqa: E402
from itlib import wait_until  # noqa: E402
from wasm_build import compile_wasm  # noqa: E402

ANN = "org.edgecr.tenant.metadata"
GUEST = REPO / "tests" / "tenant" / "guests" / "services.c"
YAML = """\
id: {tid}
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: vendor
permissions:
  kv:
    - {{namespace: state, access: read-write, quota: 1000000}}
  sensor: [temp0]
  gpio:
    - {{line: led0, direction: out}}
"""

BUILD = Path(os.environ.get("EDGECR_BUILD", str(REPO / "build")))
needs_clang = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")


@pytest.fixture
def tenant(env, monkeypatch):
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    monkeypatch.setenv("EDGECR_KV_ROOT", str(env.tmp / "kv"))
    make_iio_tree(env.tmp / "iio", {"iio:device0": {"channels": {"temp": {"raw": 19750, "scale": 0.001}}}})
    (env.tmp / "devices.json").write_text(json.dumps({
        "iio-root": str(env.tmp / "iio"),
        "sensors": {"temp0": {"device": "iio:device0", "channel": "temp"}}}))
    monkeypatch.setenv("EDGECR_DEVICE_MAP", str(env.tmp / "devices.json"))
    guest = compile_wasm(GUEST, ["-I", str(REPO / "include")])

    def bundle(tid, *args):
        b = env.bundle(cid=None)
        shutil.copy(guest, b.path / "rootfs" / "app.wasm")
        b.set_args("/app.wasm", *map(str, args))
        y = env.tmp / f"{tid}.yaml"
        y.write_text(YAML.format(tid=tid))
        env.rt("meta", "build", y, "--module", guest, "-o", env.tmp / "meta.cbor")
        env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / "meta.cbor",
               "-o", b.path / "rootfs" / "meta.cose")
        b.config["annotations"] = {ANN: "/meta.cose"}
        return b
    return bundle


def run_ok(env, b):
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    env.rt.delete(b.id, check=False)
    return p.stdout.splitlines()


@pytest.mark.sanitizer
@needs_clang
def test_kv_survives_the_container_and_stays_with_its_tenant(env, tenant):
    assert run_ok(env, tenant("meter-7", "kv", "state", "put", 0, "count", "41")) == ["kv 0", "put 0"]
    # a new container of the same tenant: its data
    assert run_ok(env, tenant("meter-7", "kv", "state", "get", 0, "count")) == ["kv 0", "get 2 41"]
    # another tenant, same namespace name: not its data
    assert run_ok(env, tenant("meter-8", "kv", "state", "get", 0, "count")) == ["kv 0", "get -3"]
    assert (env.tmp / "kv" / "meter-7" / "data.mdb").exists()


@needs_clang
def test_sensor_reads_a_tree_the_container_cannot_see(env, tenant):
    assert run_ok(env, tenant("meter-7", "sensor", "temp0", "sensor", "temp1")) == \
        ["sensor 0 0 19.750000", "sensor -1 -1 0.000000"]


@needs_clang
def test_sigkilled_container_loses_nothing_committed(env, tenant):
    b = tenant("meter-9", "kv", "state", "loop", 0, 0)
    env.rt.run_detached(b)

    def committed():
        return [int(x.split()[1]) for x in b.stdout().splitlines() if x.startswith("committed ")]
    assert wait_until(lambda: len(committed()) >= 100, timeout=60), b.stdout() + b.stderr()
    env.rt.kill(b.id, "KILL")
    env.rt.wait_status(b.id, "stopped", timeout=20)
    last = max(committed())
    env.rt.delete(b.id)
    ops = []
    for i in range(last + 1):
        ops += ["get", 0, f"key-{i:08d}"]
    out = run_ok(env, tenant("meter-9", "kv", "state", *ops))
    assert out[1:] == [f"get {len(f'value-{i}')} value-{i}" for i in range(last + 1)]


@needs_clang
def test_bad_device_map_fails_create(env, tenant):
    (env.tmp / "devices.json").write_text('{"gpio": {"led0": {"chip": "gpiochip0"}}}')
    b = tenant("meter-7", "sensor", "temp0")
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert f"{env.tmp / 'devices.json'}: `gpio.led0.offset`: missing" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()


@needs_clang
def test_gpio_line_in_a_container_on_the_emulated_chip(env, tenant):
    """The init opens the chip before it enters the root: the container has
    no /dev/gpiochip* and its config allows no device (the default config's
    devices rule denies all), yet its tenant drives the granted line."""
    emu = BUILD / "src" / "tenant" / "gpiochip_emu"
    if not emu.exists():
        pytest.skip(f"{emu} not built")
    node = env.tmp / "gnode"
    node.mkdir()
    (env.tmp / "gpio.inputs").write_text("00000000\n")
    (env.tmp / "devices.json").write_text(json.dumps(
        {"gpio": {"led0": {"chip": f"{node}/gpiochip9", "offset": 1}}}))
    b = tenant("meter-7", "gpio", "led0", "out", "gset", 0, 1, "gget", 0)
    b.write()
    env.rt.track(b)
    cmd = [emu, "--node", node, "--lines", "8", "--names", "a,led0", "--state", env.tmp / "gpio.state",
           "--inputs", env.tmp / "gpio.inputs", "--", *env.rt.argv("run", "--bundle", b.path, b.id)]
    p = subprocess.run(list(map(str, cmd)), env=env.rt.env(), capture_output=True, text=True, timeout=60)
    if p.returncode == 125 and "gpiochip_emu:" in p.stderr:
        pytest.skip(f"the GPIO chip emulator cannot run here: {p.stderr.strip()}")
    env.rt.delete(b.id, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines() == ["gpio 0", "gset 0", "gget 1"]
    st = (env.tmp / "gpio.state").read_text().splitlines()[1].split()
    assert st == ["1", "led0", "out", "1", "edgecr:meter-7"]


@needs_clang
def test_global_options_name_the_kv_root_and_device_map(env, tenant, monkeypatch):
    monkeypatch.delenv("EDGECR_KV_ROOT")
    monkeypatch.delenv("EDGECR_DEVICE_MAP")
    (env.tmp / "other-map.json").write_text(json.dumps({
        "iio-root": str(env.tmp / "iio"), "sensors": {"temp0": {"device": "iio:device0", "channel": "temp"}}}))
    b = tenant("meter-7", "kv", "state", "put", 0, "k", "v", "sensor", "temp0")
    b.write()
    env.rt.track(b)
    p = env.rt("--kv-root", env.tmp / "kv2", "--device-map", env.tmp / "other-map.json",
               "run", "--bundle", b.path, b.id, check=False, timeout=60)
    env.rt.delete(b.id, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["kv 0", "put 0", "sensor 1 0 19.750000"]
    assert (env.tmp / "kv2" / "meter-7" / "data.mdb").exists()
