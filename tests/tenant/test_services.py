"""The kv, sensor and GPIO services (src/tenant/svc_{kv,sensor,gpio}.c and
their Linux adapters) through `edgecr wasm run --tenant-metadata`: a
clang-built guest (tests/tenant/guests/services.c) calls the `edgecr`
functions and prints what each returned.

kv: allowed, denied (service or namespace not granted), read-only, quota
exact, isolation between tenants, persistence across runs, a SIGKILL in the
middle of a write loop losing nothing committed.  Sensors: an IIO tree with
the kernel's file names and formats (EDGECR_DEVICE_MAP points the device map
at it).  GPIO: every answer that needs no chip (denied, direction, not in the
map, chip missing); a real line needs a GPIO chip (tests/tenant/
test_gpio_chip.py).  Grant and revoke while running: tests/tenant/unit/
test_services_abi.c (at tenant_ctx_update, `edgecr update --metadata` is not
there yet); in a container: tests/integration/test_tenant_services.py."""
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGECR = os.environ.get("EDGECR_BIN", str(ROOT / "build/src/cli/edgecr"))
sys.path.insert(0, str(ROOT / "tests" / "wasm" / "c"))
sys.path.insert(0, str(ROOT / "tests" / "lib"))
from iio_tree import make_iio_tree, set_attr  # noqa: E402
from wasm_build import compile_wasm  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

GUEST = ROOT / "tests" / "tenant" / "guests" / "services.c"
DENIED, EINVAL, ENOENT, EQUOTA, EIO, EBADH = -1, -2, -3, -4, -6, -7

META = """\
id: {id}
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
{perms}
"""


@pytest.fixture(scope="module")
def guest():
    return compile_wasm(GUEST, ["-I", str(ROOT / "include")])


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A kv root and a device map of this test only."""
    monkeypatch.setenv("EDGECR_KV_ROOT", str(tmp_path / "kv"))
    monkeypatch.setenv("EDGECR_DEVICE_MAP", str(tmp_path / "devices.json"))
    (tmp_path / "devices.json").write_text("{}")
    return tmp_path


def meta(node, guest, perms, tid="tenant-a"):
    y = node / f"{tid}.yaml"
    y.write_text(META.format(id=tid, perms=perms))
    out = node / f"{tid}.cbor"
    r = subprocess.run([EDGECR, "meta", "build", y, "--module", guest, "-o", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def run(guest, metadata, *ops, check=True):
    r = subprocess.run([EDGECR, "wasm", "run", "--tenant-metadata", metadata, guest, *map(str, ops)],
                       capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def lines(r):
    return r.stdout.splitlines()


KV_RW = "  kv:\n    - {namespace: state, access: read-write, quota: 100}\n    - {namespace: ro, access: read, quota: 100}"


def test_kv_allowed_and_denied(node, guest):
    m = meta(node, guest, KV_RW + "\n  log:")
    r = run(guest, m, "kv", "state", "put", 0, "k", "hello", "get", 0, "k", "del", 0, "k", "get", 0, "k",
            "kv", "other", "kv", "ro", "put", 1, "x", "y", "del", 1, "x", "get", 1, "x", "get", 9, "x")
    assert lines(r) == ["kv 0", "put 0", "get 5 hello", "del 0", f"get {ENOENT}",
                        f"kv {DENIED}", "kv 1", f"put {DENIED}", f"del {DENIED}", f"get {ENOENT}",
                        f"get {EBADH}"]
    # denied calls are reported (rate-limited: one line per second per service)
    assert "denied: edgecr.kv_open (service kv: resource not granted)" in r.stderr
    # without the kv service at all
    m2 = meta(node, guest, "  log:", tid="tenant-nokv")
    r = run(guest, m2, "kv", "state")
    assert lines(r) == [f"kv {DENIED}"]
    assert "service kv: not granted" in r.stderr
    assert not (node / "kv" / "tenant-nokv").exists()   # no store made for a tenant without kv


def test_kv_bad_arguments(node, guest):
    m = meta(node, guest, KV_RW)
    r = run(guest, m, "kv", "../state", "kv", "state", "get", 0, "")
    assert lines(r) == [f"kv {EINVAL}", "kv 0", f"get {EINVAL}"]


def test_kv_quota_exact(node, guest):
    # quota 100: each entry is a 2-3 byte key "f<i>" + 10 bytes
    m = meta(node, guest, KV_RW)
    r = run(guest, m, "kv", "state", "fill", 0, 10, "put", 0, "x", "", "get", 0, "f0")
    out = lines(r)
    assert out[1] == f"fill 8 then {EQUOTA}"      # 8 * 12 = 96 bytes; the 9th (12 more) would pass 100
    assert out[2] == "put 0"                      # 97: one byte key, empty value still fits
    assert out[3] == "get 10 vvvvvvvvvv"
    # the store remembers 97 bytes: 3 more reach the quota exactly, then not one byte more
    r = run(guest, m, "kv", "state", "put", 0, "abcd", "", "put", 0, "abc", "", "put", 0, "a", "",
            "put", 0, "abc", "", "del", 0, "abc", "put", 0, "a", "")
    assert lines(r)[1:] == [f"put {EQUOTA}", "put 0", f"put {EQUOTA}", "put 0", "del 0", "put 0"]


def test_kv_isolation_between_tenants(node, guest):
    a = meta(node, guest, KV_RW, tid="tenant-a")
    b = meta(node, guest, KV_RW, tid="tenant-b")
    assert lines(run(guest, a, "kv", "state", "put", 0, "secret", "A"))[1] == "put 0"
    # the same namespace name is another namespace for another tenant
    assert lines(run(guest, b, "kv", "state", "get", 0, "secret", "put", 0, "secret", "B"))[1:] == \
        [f"get {ENOENT}", "put 0"]
    assert lines(run(guest, a, "kv", "state", "get", 0, "secret"))[1] == "get 1 A"
    assert sorted(p.name for p in (node / "kv").iterdir()) == ["tenant-a", "tenant-b"]
    assert oct((node / "kv" / "tenant-a").stat().st_mode & 0o777) == "0o700"


def test_kv_persists_across_runs(node, guest):
    m = meta(node, guest, KV_RW)
    run(guest, m, "kv", "state", "put", 0, "boot", "1")
    assert lines(run(guest, m, "kv", "state", "get", 0, "boot", "put", 0, "boot", "2"))[1:] == ["get 1 1", "put 0"]
    assert lines(run(guest, m, "kv", "ro", "get", 0, "boot"))[1] == f"get {ENOENT}"   # another namespace
    assert lines(run(guest, m, "kv", "state", "get", 0, "boot"))[1] == "get 1 2"


def test_kv_sigkill_mid_write_loop_loses_nothing_committed(node, guest):
    m = meta(node, guest, "  kv:\n    - {namespace: log, access: read-write, quota: 10000000}")
    p = subprocess.Popen([EDGECR, "wasm", "run", "--tenant-metadata", m, guest, "kv", "log", "loop", "0", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = -1
    try:
        for line in p.stdout:
            if line.startswith("committed "):
                last = int(line.split()[1])
                if last >= 150:
                    break
    finally:
        os.kill(p.pid, signal.SIGKILL)   # our own child, by pid, in the middle of its loop
        rest = p.communicate()[0]
    assert p.returncode == -signal.SIGKILL
    for line in rest.splitlines():
        if line.startswith("committed "):
            last = int(line.split()[1])
    assert last >= 150
    # every key the guest saw committed is there, with its value
    ops = []
    for i in range(0, last + 1):
        ops += ["get", 0, f"key-{i:08d}"]
    r = run(guest, m, "kv", "log", *ops)
    out = lines(r)[1:]
    for i, line in enumerate(out):
        assert line == f"get {len(f'value-{i}')} value-{i}", (i, line)
    # and the store takes writes again: the killed writer left no lock behind
    assert lines(run(guest, m, "kv", "log", "put", 0, "after", "x"))[1] == "put 0"


IIO = {
    "iio:device0": {"name": "bme280", "channels": {"temp": {"raw": 23125, "offset": -125, "scale": 1.0}}},
    "iio:device1": {"name": "adc", "channels": {"voltage0": {"raw": 1024}}, "shared": {"voltage": {"scale": 0.805664062}}},
}


@pytest.fixture
def iio(node):
    root = make_iio_tree(node / "iio", IIO)
    (node / "devices.json").write_text(json.dumps({
        "iio-root": str(root),
        "sensors": {"temp0": {"name": "bme280", "channel": "temp", "factor": 0.001},
                    "vin": {"device": "iio:device1", "channel": "voltage0"},
                    "gone": {"device": "iio:device7", "channel": "temp"}},
        "gpio": {"led0": {"chip": str(node / "no-such-gpiochip"), "offset": 3}}}))
    return root


def test_sensors_allowed_denied_missing(node, guest, iio):
    m = meta(node, guest, "  sensor: [temp0, vin, gone, unmapped]")
    r = run(guest, m, "sensor", "temp0", "sensor", "vin", "sensor", "gone", "sensor", "unmapped", "sensor", "other",
            "read", 7)
    assert lines(r) == ["sensor 0 0 23.000000",      # (23125 - 125) * 1 milli-degrees * 0.001
                        "sensor 1 0 824.999999",     # 1024 * 0.805664062 mV
                        f"sensor {EIO} {EIO} 0.000000",        # mapped, no such device
                        f"sensor {ENOENT} {ENOENT} 0.000000",  # granted, not in the node's map
                        f"sensor {DENIED} {DENIED} 0.000000",  # not granted
                        f"read {EBADH} 0.000000"]
    # why the mapped device failed is reported to the operator (not to the tenant)
    assert f"edgecr: tenant tenant-a: sensor `gone`: open `{iio}/iio:device7`: No such file or directory" in r.stderr
    m2 = meta(node, guest, "  log:", tid="tenant-nosensor")
    assert lines(run(guest, m2, "sensor", "temp0"))[0] == f"sensor {DENIED} {DENIED} 0.000000"


def test_sensor_reads_each_time(node, guest, iio):
    m = meta(node, guest, "  sensor: [temp0]")
    p = subprocess.Popen([EDGECR, "wasm", "run", "--tenant-metadata", m, guest, "sensor", "temp0", "sleep", "300",
                          "read", "0"], stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    set_attr(iio, "iio:device0", "temp", "raw", 30125)
    out = first + p.communicate(timeout=30)[0]
    assert out.splitlines() == ["sensor 0 0 23.000000", "read 0 30.000000"]


def test_bad_device_map_is_refused_naming_file_and_field(node, guest):
    (node / "devices.json").write_text('{"sensors": {"t": {"device": "iio:device0"}}}')
    m = meta(node, guest, "  sensor: [t]")
    r = run(guest, m, "sensor", "t", check=False)
    assert r.returncode == 125
    assert f"{node / 'devices.json'}: `sensors.t.channel`: missing" in r.stderr


def test_gpio_without_a_chip(node, guest, iio):
    m = meta(node, guest, "  gpio:\n    - {line: led0, direction: in}\n    - {line: nope, direction: out}")
    r = run(guest, m, "gpio", "led0", "out", "gpio", "led0", "in", "gpio", "nope", "out", "gpio", "other", "in",
            "gpio", "led0", "sideways", "gget", 0, "gset", 0, 1)
    assert lines(r) == [f"gpio {DENIED}",   # an input grant does not open as output
                        f"gpio {EIO}",      # mapped, but the chip is not there
                        f"gpio {ENOENT}",   # granted, not in the node's map
                        f"gpio {DENIED}",   # not granted
                        f"gpio {EINVAL}",   # not a direction
                        f"gget {EBADH}", f"gset {EBADH}"]
    assert f"GPIO line `led0`: open GPIO chip `{node / 'no-such-gpiochip'}`: No such file or directory" in r.stderr
