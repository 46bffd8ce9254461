"""A private containerd for the test suites (tests/integration and
tests/remoteproc): its own root, state and socket under a temporary
directory, a namespace of its own, `ctr` against it, and a stop that leaves
nothing behind (daemon, shims, snapshot mounts, the namespace's empty
cgroup directories)."""
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import hostprobe

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")

CONFIG_TEMPLATE = """version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [{disabled}]
oom_score = 0

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  level = "info"

[metrics]
  address = ""
{extra}
"""

DISABLED = ['"io.containerd.grpc.v1.cri"', '"io.containerd.snapshotter.v1.btrfs"',
            '"io.containerd.snapshotter.v1.zfs"', '"io.containerd.snapshotter.v1.aufs"',
            '"io.containerd.snapshotter.v1.devmapper"',
            '"io.containerd.tracing.processor.v1.otlp"',
            '"io.containerd.internal.v1.tracing"']


def _poll(pred, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Containerd:
    """env: the daemon's environment (its shims and the runtime inherit it);
    extra: more config.toml text; disabled: the plugins switched off."""

    def __init__(self, tmp, env=None, extra="", disabled=DISABLED):
        self.tmp = Path(tmp)
        self.sock = str(self.tmp / "c.sock")
        self.ns = "edgecr-" + uuid.uuid4().hex[:8]
        self.runc_root = str(self.tmp / "runtime-root")
        self.config = self.tmp / "config.toml"
        self.config.write_text(CONFIG_TEMPLATE.format(
            root=self.tmp / "root", state=self.tmp / "state", sock=self.sock,
            disabled=", ".join(disabled), extra=extra))
        self.log = open(self.tmp / "containerd.log", "w")
        self.proc = subprocess.Popen([CONTAINERD, "--config", str(self.config)], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        ok = _poll(lambda: self.proc.poll() is not None or (
            os.path.exists(self.sock) and self.ctr("version", check=False,
                                                   timeout=5).returncode == 0), 30)
        if self.proc.poll() is not None or not ok:
            self.stop()
            raise AssertionError("containerd did not start:\n" + self.logtext())

    def logtext(self):
        self.log.flush()
        return (self.tmp / "containerd.log").read_text()[-4000:]

    def argv(self, *args):
        """The ctr command line for args, against this daemon."""
        return [CTR, "-a", self.sock, "-n", self.ns, *map(str, args)]

    def ctr(self, *args, check=True, timeout=60, input=None):
        """Run ctr; a `run` keeps the runtime's state (--runc-root) in our
        directory unless the caller gives its own."""
        if args and args[0] == "run" and "--runc-root" not in args:
            args = ("run", "--runc-root", self.runc_root) + tuple(args[1:])
        p = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                           input=input, stdin=None if input else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {' '.join(map(str, args))} exited {p.returncode}\n"
                                 f"stdout: {p.stdout}\nstderr: {p.stderr}\n"
                                 f"containerd log:\n{self.logtext()}")
        return p

    def shim_pids(self):
        """Shims started by this containerd (their cmdline names our socket)."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and b"containerd-shim" in cmd[0] and self.sock.encode() in cmd:
                pids.append(int(d))
        return pids

    def stop(self):
        shims = self.shim_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in shims + self.shim_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _poll(lambda: not any(_alive(p) for p in shims), 5, 0.02)
        self.log.close()
        # snapshot mounts (overlay) under our root
        for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
            mp = line.split()[4]
            if mp.startswith(str(self.tmp) + "/"):
                subprocess.run(["umount", "-l", mp], capture_output=True)
        # the shim's cgroupsPath is /<namespace>/<id>: the (now empty)
        # namespace directories in every hierarchy (v1 and cgroup2) are
        # ours to remove
        for d in hostprobe.CgroupLayout(Path("/sys/fs/cgroup")).procs_dirs(self.ns):
            try:
                d.rmdir()
            except OSError:
                pass


def task_status(c, cid):
    """The STATUS column of `ctr task ls` for task cid ("" when there is none)."""
    for line in c.ctr("task", "ls").stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return f[2]
    return ""


def state_root(c, cid):
    """Where containerd's shim keeps edgecr's state (--root) for task cid."""
    for dirpath, dirs, _ in os.walk(c.runc_root):
        if cid in dirs:
            return dirpath
    raise AssertionError(f"no state of {cid} under {c.runc_root}")
