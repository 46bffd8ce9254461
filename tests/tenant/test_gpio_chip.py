"""The GPIO service on a GPIO chip: `edgecr wasm run --tenant-metadata`
(the static runtime, libgpiod 1.6 inside) under tests/lib/gpiochip_emu.c,
an emulated chip answering the v1 GPIO character-device ioctls with the
kernel's semantics (this host has no GPIO chip, no gpio-sim, no CUSE; see
that file for why a seccomp supervisor and not CUSE).  Checked: an output
line is driven (the emulator's state shows the level and the consumer
"edgecr:<tenant-id>"), an input line is read with active-low applied, a line held by
another process is EDGECR_EBUSY and free again once that process is gone,
directions and grants are enforced, and the sequence of ioctls libgpiod
issues is the v1 set the emulator implements (strace, when installed)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGECR = os.environ.get("EDGECR_BIN", str(ROOT / "build/src/cli/edgecr"))
BUILD = Path(os.environ.get("EDGECR_BUILD", str(ROOT / "build")))
EMU = BUILD / "src" / "tenant" / "gpiochip_emu"
sys.path.insert(0, str(ROOT / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

pytestmark = [pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed"),
              pytest.mark.skipif(os.geteuid() != 0, reason="the emulator needs root (mount namespace, mknod)")]

GUEST = ROOT / "tests" / "tenant" / "guests" / "services.c"
DENIED, EINVAL, EBUSY = -1, -2, -15
META = """\
id: gpio-tenant
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
  gpio:
    - {line: led0, direction: out}
    - {line: btn0, direction: in}
"""


@pytest.fixture(scope="module")
def guest():
    return compile_wasm(GUEST, ["-I", str(ROOT / "include")])


@pytest.fixture
def chip(tmp_path, guest, monkeypatch):
    if not EMU.exists():
        pytest.skip(f"{EMU} not built")
    node = tmp_path / "node"
    node.mkdir()
    (tmp_path / "inputs").write_text("00100000\n")   # btn0 (offset 2) is at level 1
    dev = f"{node}/gpiochip9"
    (tmp_path / "devices.json").write_text(
        '{"gpio": {"led0": {"chip": "%s", "offset": 1}, "btn0": {"chip": "%s", "offset": 2, "active-low": true},'
        ' "far": {"chip": "%s", "offset": 40}}}' % (dev, dev, dev))
    monkeypatch.setenv("EDGECR_DEVICE_MAP", str(tmp_path / "devices.json"))
    y = tmp_path / "g.yaml"
    y.write_text(META)
    r = subprocess.run([EDGECR, "meta", "build", y, "--module", guest, "-o", tmp_path / "g.cbor"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    emu = [EMU, "--node", node, "--lines", "8", "--names", "a,led0,btn0", "--state", tmp_path / "state",
           "--inputs", tmp_path / "inputs", "--"]
    probe = subprocess.run([*emu, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the GPIO chip emulator cannot run here: {probe.stderr.strip()}")
    run = [EDGECR, "wasm", "run", "--tenant-metadata", tmp_path / "g.cbor", guest]

    def state():
        return {int(f[0]): f[1:] for f in (ln.split() for ln in (tmp_path / "state").read_text().splitlines())}
    return {"emu": emu, "run": run, "state": state, "tmp": tmp_path}


def sh(chip, script, timeout=60):
    """Run a shell script under the emulator; $RUN is the guest's command line."""
    env = dict(os.environ, RUN=" ".join(map(str, chip["run"])))
    return subprocess.run([*chip["emu"], "sh", "-c", script], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=chip["tmp"])


def test_output_driven_input_read(chip):
    r = sh(chip, "$RUN gpio led0 out gset 0 1 gget 0 gpio btn0 in gget 1 gset 0 0 gget 0")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["gpio 0", "gset 0", "gget 1", "gpio 1", "gget 0", "gset 0", "gget 0"]
    st = chip["state"]()
    assert st[1] == ["led0", "out", "0", "edgecr:gpio-tenant"]     # driven low at the end, requested by the tenant
    assert st[2] == ["btn0", "in", "0", "edgecr:gpio-tenant"]
    r = sh(chip, "$RUN gpio led0 out gset 0 1")
    assert chip["state"]()[1][2] == "1"
    (chip["tmp"] / "inputs").write_text("00000000\n")  # btn0 now low: active-low reads 1
    assert sh(chip, "$RUN gpio btn0 in gget 0").stdout.splitlines() == ["gpio 0", "gget 1"]


def test_directions_and_grants(chip):
    r = sh(chip, "$RUN gpio btn0 out gpio btn0 in gset 0 1 gpio led0 in gset 1 1 gset 1 7 gpio far out gpio a out")
    assert r.stdout.splitlines() == [
        f"gpio {DENIED}",   # btn0 is granted as an input
        "gpio 0",
        f"gset {DENIED}",   # an input handle has no write right
        "gpio 1",           # an output grant may open as input...
        f"gset {EINVAL}",   # ...and an input is not driven (the kernel says EPERM)
        f"gset {EINVAL}",   # not a level
        f"gpio {DENIED}",   # not granted
        f"gpio {DENIED}"]   # a line of the chip that is not in the grants


def test_line_held_by_another_process_is_busy(chip):
    script = ("$RUN gpio led0 out sleep 1500 > first.out & sleep 0.7; "
              "$RUN gpio led0 out > second.out; wait; $RUN gpio led0 out > third.out; "
              "cat first.out second.out third.out")
    r = sh(chip, script)
    assert r.stdout.splitlines() == ["gpio 0", f"gpio {EBUSY}", "gpio 0"], r.stderr


def test_far_offset_is_an_error_of_the_chip(chip):
    # mapped at offset 40 of an 8-line chip: the grant allows it, the chip refuses (EINVAL: EDGECR_EIO)
    (chip["tmp"] / "g.yaml").write_text(META + "    - {line: far, direction: in}\n")
    r = subprocess.run([EDGECR, "meta", "build", chip["tmp"] / "g.yaml", "--module", chip["run"][-1], "-o",
                        chip["tmp"] / "g.cbor"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sh(chip, "$RUN gpio far in").stdout.splitlines() == ["gpio -6"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_libgpiod_issues_only_the_v1_ioctls(chip):
    # (LeakSanitizer cannot run under ptrace: a sanitizer build of edgecr skips it here)
    r = sh(chip, "ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=ioctl -o trace.txt $RUN gpio led0 out gset 0 1 gget 0 gpio btn0 in gget 1")
    assert r.returncode == 0, r.stderr
    trace = (chip["tmp"] / "trace.txt").read_text()
    used = {w for w in ("GPIO_GET_CHIPINFO_IOCTL", "GPIO_GET_LINEINFO_IOCTL", "GPIO_GET_LINEHANDLE_IOCTL",
                        "GPIOHANDLE_GET_LINE_VALUES_IOCTL", "GPIOHANDLE_SET_LINE_VALUES_IOCTL") if w in trace}
    assert used == {"GPIO_GET_CHIPINFO_IOCTL", "GPIO_GET_LINEINFO_IOCTL", "GPIO_GET_LINEHANDLE_IOCTL",
                    "GPIOHANDLE_GET_LINE_VALUES_IOCTL", "GPIOHANDLE_SET_LINE_VALUES_IOCTL"}, trace
    assert "GPIO_V2" not in trace
