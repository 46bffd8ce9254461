"""Helpers for the remoteproc tests: building the example firmware, driving
remoteproc-emu (start/stop, attribute reads/writes with their errno), reading
the ttyRPMSG pty with timeouts, and finding QEMU processes.

Paths come from the environment: EDGECR_BUILD (the Meson build dir, default
<repo>/build) holds tools/remoteproc-emu/remoteproc-emu; the firmware is
built with firmware/build.sh into EDGECR_FW_BUILD (default
$EDGECR_BUILD/firmware-cm3)."""
import errno
import os
import select
import subprocess
import termios
import time
import tty
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EDGECR_BUILD", REPO / "build"))
EMU_BIN = BUILD / "tools" / "remoteproc-emu" / "remoteproc-emu"
FW_BUILD = Path(os.environ.get("EDGECR_FW_BUILD", BUILD / "firmware-cm3"))
FIRMWARES = ("hello", "sampler", "crash")


def build_firmware():
    """Builds (incrementally) and returns {name: path of name.elf}."""
    subprocess.run([str(REPO / "firmware" / "build.sh"), str(FW_BUILD)],
                   check=True, timeout=300)
    return {fw: FW_BUILD / f"{fw}.elf" for fw in FIRMWARES}


def wait_until(predicate, timeout=5.0, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def qemu_pids(root):
    """Live QEMU processes whose command line mentions root."""
    found = []
    needle = str(root).encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system-arm" in cmd.split(b"\0")[0] and needle in cmd and pid_alive(int(d.name)):
            found.append(int(d.name))
    return found


def mounted(path):
    path = str(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def write_attr(path, value):
    """Writes value in one write(2); returns 0 or the errno that open(2) or
    write(2) failed with."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, value.encode() if isinstance(value, str) else value)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


class Tty:
    """Reader of a ttyRPMSG pty: lines with a timeout, writes to the core."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = b""
        self.lines = []

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _fill(self, timeout):
        r, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not r:
            return
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line.decode(errors="replace").rstrip("\r"))

    def wait_line(self, predicate, timeout=5.0):
        """Returns the first unread line satisfying predicate (a str means
        "contains"), consuming lines up to it."""
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda line: needle in line  # noqa: E731
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            while self.lines:
                line = self.lines.pop(0)
                seen.append(line)
                if predicate(line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching tty line in {timeout}s; saw {seen[-10:]}")
            self._fill(min(left, 0.2))

    def write(self, data):
        os.write(self.fd, data.encode())


class Emulator:
    """One remoteproc-emu daemon on a private root."""

    def __init__(self, root, args=()):
        self.root = Path(root)
        self.args = list(args)
        self.run_dir = self.root / "run" / "remoteproc-emu"
        self.ttys = []

    # lifecycle -------------------------------------------------------------
    def start(self, check=True):
        r = subprocess.run([str(EMU_BIN), "start", "--root", str(self.root), *self.args],
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"remoteproc-emu start failed: {r.stderr}")
        return r

    def stop(self):
        for t in self.ttys:
            t.close()
        self.ttys = []
        return subprocess.run([str(EMU_BIN), "stop", "--root", str(self.root)],
                              capture_output=True, text=True, timeout=60)

    def daemon_pid(self):
        return int((self.run_dir / "pid").read_text())

    # attributes ------------------------------------------------------------
    def rp(self, n):
        return self.root / "sys" / "class" / "remoteproc" / f"remoteproc{n}"

    def read(self, n, attr):
        return (self.rp(n) / attr).read_text()

    def write(self, n, attr, value):
        return write_attr(self.rp(n) / attr, value)

    def state(self, n):
        return self.read(n, "state").strip()

    def wait_state(self, n, want, timeout=5.0):
        wait_until(lambda: self.state(n) == want, timeout, what=f"remoteproc{n} {want}")

    def install(self, src, name, subdir="lib/firmware"):
        dest = self.root / subdir / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(Path(src).read_bytes())
        return dest

    def boot(self, n, fw_name):
        assert self.write(n, "firmware", fw_name) == 0
        assert self.write(n, "state", "start") == 0
        assert self.state(n) == "running"

    def tty(self, n):
        t = Tty(self.root / "dev" / f"ttyRPMSG{n}")
        self.ttys.append(t)
        return t

    def qemu_pid(self, n):
        try:
            return int((self.run_dir / f"remoteproc{n}.qemu.pid").read_text())
        except (OSError, ValueError):
            return None

    def events(self):
        try:
            return (self.run_dir / "events.log").read_text().splitlines()
        except OSError:
            return []

    def count_events(self, n, word):
        return sum(1 for e in self.events() if f"remoteproc{n} {word}" in e)


__all__ = ["Emulator", "Tty", "build_firmware", "wait_until", "qemu_pids", "mounted",
           "pid_alive", "write_attr", "EMU_BIN", "errno"]
