"""Helpers for the integration suite (used by conftest.py and the tests):
the busybox-static rootfs builder, bundles built from Python dicts, a runtime
helper speaking the runc command line, a console-socket receiver, host-side
probes (cgroups, mounts, processes, fds) and the leak check the per-test
finalizer runs.

The runtime under test is $EDGECR_BIN (default build/src/cli/edgecr).  The
suite is written to the runc contract, so `EDGECR_BIN=/usr/sbin/runc` runs it
against runc; tests marked `edgecr_only` are skipped for any binary whose
basename is not edgecr.
"""
import array
import json
import select
import os
import shutil
import signal
import socket
import subprocess
import threading
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import hostprobe  # noqa: E402  (tests/lib: kernel and cgroup layout probes)

REPO = Path(__file__).resolve().parents[2]
RUNTIME = os.environ.get("EDGECR_BIN", str(REPO / "build" / "src" / "cli" / "edgecr"))
RUNTIME_NAME = os.path.basename(RUNTIME)
IS_EDGECR = RUNTIME_NAME.startswith("edgecr")
IS_RUNC = RUNTIME_NAME == "runc"
SANITIZED = os.environ.get("EDGECR_SANITIZED") == "1"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
CGROUP_PARENT = "edgecr-test"
# crun 1.8 refuses "1.2.0"; cross-checking with it needs e.g. 1.0.2.
OCI_VERSION = os.environ.get("EDGECR_OCI_VERSION", "1.2.0")
# One subprocess call of the runtime; generous for ASan builds.
CMD_TIMEOUT = 60 if SANITIZED else 30
# A whole test (SIGALRM watchdog, so a hung runtime cannot hang the suite).
TEST_TIMEOUT = int(os.environ.get("EDGECR_TEST_TIMEOUT", "300"))

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# --------------------------------------------------------------------------
# small host-side helpers (also imported by the test modules)

def cgroup_mounts():
    """Every cgroup (v1) and cgroup2 mount point on the host, from mountinfo."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype = fields[sep + 1]
            if fstype in ("cgroup", "cgroup2"):
                mounts.append(fields[4])
    return mounts


def v1_controller_dir(controller):
    """The mount point of a v1 controller (e.g. 'memory'), or None.  Tests
    should rather ask CG (hostprobe), which knows v2 as well."""
    return str(CG.v1_mount(controller)) if CG.v1_mount(controller) else None


def unified_dir():
    """The cgroup2 hierarchy the runtime uses, or None."""
    return str(CG.unified) if CG.unified is not None else None


# The cgroup layout the runtime under test sees (v1, hybrid or pure v2).
CG = hostprobe.cgroups()


def cgroup_file(controller, cgroups_path, v1name, v2name=None):
    """Read a container's setting from the hierarchy that holds controller:
    v1name there on v1, v2name on cgroup2 (see tests/lib/hostprobe.py)."""
    return CG.read(controller, cgroups_path, v1name, v2name)


def cgroup_dirs_for(cgroups_path):
    """Existing directories for cgroupsPath under every cgroup mount."""
    found = []
    for mnt in cgroup_mounts():
        p = Path(mnt, cgroups_path.lstrip("/"))
        if p.is_dir():
            found.append(str(p))
    return found


def mountinfo_lines():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def mounts_under(prefix):
    """Host mount points at or below prefix."""
    prefix = str(prefix)
    out = []
    for line in mountinfo_lines():
        mp = line.split()[4].replace("\\040", " ")
        if mp == prefix or mp.startswith(prefix + "/"):
            out.append(mp)
    return out


def pids_with_env(tag):
    """PIDs whose environment contains the test tag (our container processes)."""
    needle = tag.encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{d}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != "Z":
            pids.append(int(d))
    return pids


def fds_into(prefix, exclude=()):
    """(pid, fd, target) of open fds of other processes pointing below prefix."""
    prefix = str(prefix)
    hits = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me or int(d) in exclude:
            continue
        try:
            fds = os.listdir(f"/proc/{d}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{d}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(prefix + "/"):
                hits.append((int(d), int(fd), target))
    return hits


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def wait_until(pred, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def ns_inode(pid, ns):
    return os.stat(f"/proc/{pid}/ns/{ns}").st_ino


def parse_status(text):
    """Parse `cat /proc/self/status` output from inside a container."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


def cap_mask(names):
    """Capability names → the hex bitmask /proc/PID/status shows."""
    bits = 0
    for n in names:
        bits |= 1 << CAP_NUMBERS[n]
    return bits


CAP_NUMBERS = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2,
    "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6,
    "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
    "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12,
    "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18,
    "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
    "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24,
    "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
    "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30,
    "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
    "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36,
    "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}


def host_last_cap():
    return int(Path("/proc/sys/kernel/cap_last_cap").read_text())


def own_bounding_set():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    return 0


# Every capability this process may hand down (the host may lack some).
ALL_CAPS = [n for n, v in CAP_NUMBERS.items()
            if v <= host_last_cap() and own_bounding_set() >> v & 1]


# --------------------------------------------------------------------------
# rootfs and bundles

def _build_rootfs(dest):
    root = Path(dest)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys",
              "dev", "tmp", "root", "home/user", "var", "run", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        if a == "busybox":
            continue
        link = root / "bin" / a
        if not link.exists():
            os.symlink("busybox", link)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "user:x:1000:1000:user:/home/user:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (root / "etc" / "group").write_text(
        "root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n")
    (root / "etc" / "hostname").write_text("rootfs\n")
    os.chown(root / "home" / "user", 1000, 1000)
    return root


# Ids start with a per-session tag, so that host-wide probes (e.g. counting
# cgroup dirs under /edgecr-test) only see this session's containers even
# when another suite runs on the same host.
SESSION_TAG = uuid.uuid4().hex[:4]


def new_id(prefix="t"):
    return f"{prefix}{SESSION_TAG}{uuid.uuid4().hex[:8]}"


def default_config(cid, args, tag):
    """A sane default config.json, close to what `runc spec` writes."""
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": [PATH_ENV, "TERM=xterm", f"EDGECR_TEST_TAG={tag}"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in
                             ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "edgecr-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "cgroupsPath": f"/{CGROUP_PARENT}/{cid}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore",
                            "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug",
                            "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Bundle:
    """A bundle directory: config.json (from self.config) + rootfs/."""

    def __init__(self, path, cid, config):
        self.path = Path(path)
        self.id = cid
        self.config = config
        self.rootfs = self.path / "rootfs"
        self.stdout_file = self.path / "container.stdout"
        self.stderr_file = self.path / "container.stderr"

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    @property
    def cgroups_path(self):
        return self.config.get("linux", {}).get("cgroupsPath")

    def set_args(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def add_mount(self, m):
        self.config["mounts"].append(m)
        return self

    def write(self, raw=None):
        """Write config.json (raw text wins over self.config when given)."""
        text = raw if raw is not None else json.dumps(self.config, indent=2)
        (self.path / "config.json").write_text(text)
        return self

    def stdout(self):
        return self.stdout_file.read_text() if self.stdout_file.exists() else ""

    def stderr(self):
        return self.stderr_file.read_text() if self.stderr_file.exists() else ""


class RuntimeError_(AssertionError):
    pass


class Runtime:
    """Runs the binary under test with a private --root state directory."""

    def __init__(self, binary, root, tmp, tag):
        self.binary = binary
        self.root = Path(root)
        self.tmp = Path(tmp)
        self.tag = tag
        self.ids = []          # every id we tried to create (for cleanup)
        self.cgroup_paths = set()
        self.pids = set()      # every container/exec pid we saw
        self.log_file = None
        self.log_format = None

    def argv(self, *args, log=None, log_format=None, global_args=()):
        cmd = [self.binary, "--root", str(self.root)]
        log = log or self.log_file
        log_format = log_format or self.log_format
        if log:
            cmd += ["--log", str(log)]
        if log_format:
            cmd += ["--log-format", log_format]
        cmd += list(global_args)
        cmd += [str(a) for a in args]
        return cmd

    def __call__(self, *args, check=True, timeout=None, input=None,
                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, log=None, log_format=None,
                 global_args=(), env=None, pass_fds=()):
        cmd = self.argv(*args, log=log, log_format=log_format,
                        global_args=global_args)
        if input is not None:
            stdin = None
        p = subprocess.run(cmd, input=input, stdin=stdin, stdout=stdout,
                           stderr=stderr, timeout=timeout or CMD_TIMEOUT,
                           text=True, env=env or self.env(), pass_fds=pass_fds)
        if check and p.returncode != 0:
            raise RuntimeError_(self.describe(p, cmd))
        return p

    def env(self):
        """The runtime's environment carries the test tag, so every process
        it forks (hooks, the container init before its execve) is found by
        the leak check even if the runtime is killed."""
        return dict(os.environ, EDGECR_TEST_TAG=self.tag)

    def describe(self, p, cmd):
        msg = (f"{' '.join(cmd)} exited {p.returncode}\n"
               f"stdout: {p.stdout!r}\nstderr: {p.stderr!r}")
        if self.log_file and Path(self.log_file).exists():
            msg += f"\nlog: {Path(self.log_file).read_text()[-2000:]}"
        return msg

    def track(self, bundle_or_id):
        if isinstance(bundle_or_id, Bundle):
            cid = bundle_or_id.id
            if bundle_or_id.cgroups_path:
                self.cgroup_paths.add(bundle_or_id.cgroups_path)
        else:
            cid = bundle_or_id
        if cid not in self.ids:
            self.ids.append(cid)
        return cid

    # ---- lifecycle shortcuts (container stdio goes to files in the bundle)

    def create(self, bundle, cid=None, *extra, check=True, write=True):
        cid = cid or bundle.id
        if write:
            bundle.write()
        self.track(bundle)
        self.track(cid)
        with open(bundle.stdout_file, "a") as out, open(bundle.stderr_file, "a") as err:
            p = self("create", "--bundle", bundle.path, *extra, cid,
                     check=False, stdout=out, stderr=err)
        p.stdout, p.stderr = bundle.stdout(), bundle.stderr()
        if check and p.returncode != 0:
            raise RuntimeError_(f"create {cid} failed ({p.returncode}): "
                                f"{bundle.stderr()}")
        if p.returncode == 0:
            self.state(cid)  # records the pid
        return p

    def start(self, cid, check=True):
        if isinstance(cid, Bundle):
            cid = cid.id
        return self("start", cid, check=check)

    def run(self, bundle, cid=None, *extra, check=False, write=True,
            timeout=None, input=None):
        """Foreground `run`: returns CompletedProcess with the container's
        stdout/stderr and exit status."""
        cid = cid or bundle.id
        if write:
            bundle.write()
        self.track(bundle)
        self.track(cid)
        p = self("run", "--bundle", bundle.path, *extra, cid, check=False,
                 timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise RuntimeError_(self.describe(p, ["run", cid]))
        return p

    def run_detached(self, bundle, cid=None, *extra):
        cid = cid or bundle.id
        bundle.write()
        self.track(bundle)
        self.track(cid)
        with open(bundle.stdout_file, "a") as out, open(bundle.stderr_file, "a") as err:
            p = self("run", "--detach", "--bundle", bundle.path, *extra, cid,
                     check=False, stdout=out, stderr=err)
        if p.returncode != 0:
            raise RuntimeError_(f"run -d {cid} failed ({p.returncode}): "
                                f"{bundle.stderr()}")
        self.state(cid)
        return p

    def state(self, cid, check=True):
        if isinstance(cid, Bundle):
            cid = cid.id
        p = self("state", cid, check=check)
        if p.returncode != 0:
            return None
        st = json.loads(p.stdout)
        if st.get("pid"):
            self.pids.add(st["pid"])
        return st

    def status(self, cid):
        st = self.state(cid, check=False)
        return st["status"] if st else None

    def kill(self, cid, sig="KILL", check=True, *extra):
        return self("kill", *extra, cid, sig, check=check)

    def delete(self, cid, force=False, check=True):
        args = ["delete"] + (["--force"] if force else []) + [cid]
        return self(*args, check=check)

    def wait_status(self, cid, status, timeout=10):
        return wait_until(lambda: self.status(cid) == status, timeout)

    def exec(self, cid, *args, check=True, extra=(), timeout=None):
        return self("exec", *extra, cid, *args, check=check, timeout=timeout)

    def cleanup(self):
        # Always ask, even when `state` fails: a half-created container may
        # have state that `state` cannot read but `delete --force` can clean.
        for cid in reversed(self.ids):
            try:
                self("delete", "--force", cid, check=False, timeout=CMD_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass


# --------------------------------------------------------------------------
# per-test fixtures

class Env:
    """Everything a test needs: tmp dir, bundle factory, runtime."""

    def __init__(self, tmp, template, runtime, tag):
        self.tmp = Path(tmp)
        self.template = template
        self.rt = runtime
        self.tag = tag

    def bundle(self, *args, cid=None, name=None):
        """A fresh bundle running args (default: `true`)."""
        cid = cid or new_id()
        path = self.tmp / (name or f"bundle-{cid}")
        path.mkdir(parents=True)
        shutil.copytree(self.template, path / "rootfs", symlinks=True)
        cfg = default_config(cid, args or ["true"], self.tag)
        b = Bundle(path, cid, cfg)
        b.write()
        return b


def _assert_no_leaks(env, rt, mount_before):
    problems = []
    left = pids_with_env(env.tag)
    for pid in sorted(rt.pids):
        if pid_alive(pid) and pid not in left:
            # A recorded pid alive is a leak only if it is still ours.
            try:
                env_b = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if env.tag.encode() in env_b:
                left.append(pid)
    if left:
        problems.append(f"container processes still alive: {left}")
    for cg in sorted(rt.cgroup_paths):
        dirs = cgroup_dirs_for(cg)
        if dirs:
            problems.append(f"cgroup dirs left for {cg}: {dirs}")
    if rt.root.exists():
        entries = [e for e in os.listdir(rt.root) if any(i in e for i in rt.ids)]
        if entries:
            problems.append(f"state entries left in {rt.root}: {entries}")
    mnts = mounts_under(env.tmp)
    if mnts:
        problems.append(f"host mounts left below {env.tmp}: {mnts}")
    fds = fds_into(env.tmp)
    if fds:
        problems.append(f"fds left open into {env.tmp}: {fds[:10]}")
    return problems, left


def _force_clean(env, rt, left):
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    wait_until(lambda: not pids_with_env(env.tag), 5)
    for cg in rt.cgroup_paths:
        for d in cgroup_dirs_for(cg):
            for sub in sorted(Path(d).glob("**/"), key=lambda p: -len(str(p))):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
    for mp in sorted(mounts_under(env.tmp), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)



class ConsoleSocket:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.master = None
        self.error = None
        self._got = threading.Event()
        self._t = threading.Thread(target=self._accept, daemon=True)
        self._t.start()

    def _accept(self):
        try:
            self.sock.settimeout(CMD_TIMEOUT)
            conn, _ = self.sock.accept()
            with conn:
                fds = array.array("i")
                msg, anc, flags, addr = conn.recvmsg(
                    4096, socket.CMSG_SPACE(4 * fds.itemsize))
                for level, typ, data in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
                if fds:
                    self.master = fds[0]
                    for extra in fds[1:]:
                        os.close(extra)
        except Exception as exc:  # reported by wait()
            self.error = exc
        finally:
            self._got.set()

    def wait(self, timeout=CMD_TIMEOUT):
        assert self._got.wait(timeout), "no pty master received on console socket"
        assert self.master is not None, f"console socket: {self.error!r}"
        return self.master

    def write(self, data):
        os.write(self.wait(), data.encode() if isinstance(data, str) else data)

    def read_until(self, needle=None, timeout=10):
        """Read the pty until needle appears, EOF/EIO, or timeout."""
        fd = self.wait()
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if needle is not None and needle.encode() in buf:
                break
        return buf.decode(errors="replace")

    def close(self):
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
