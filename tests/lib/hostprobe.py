"""What this host's kernel and cgroup layout offer, probed in one place for
every pytest suite (tests/integration, tests/plan, tests/remoteproc, tests/cri).

Tests assert what the runtime promises *on the host they run on*: a limit is
checked in the file of the hierarchy that holds its controller (v1 or v2), a
controller the host lacks must be refused with a clear error, a real-time
budget is checked only where the kernel has group budgets.  Only what cannot
exist on a host is skipped, with the reason from here.

The cgroup layout is discovered exactly as the runtime discovers it
(src/linux/cgroup.c, cgroup_layout_get): from $EDGECR_CGROUP_ROOT (default
/sys/fs/cgroup), a root with cgroup.controllers is pure v2; otherwise every
real subdirectory holding cgroup.procs is a v1 hierarchy (named after its
directory: `cpu,cpuacct`), and `unified/` with cgroup.controllers is the v2
half of a hybrid host.  tests/lib/cgroup2_only.sh runs a command in a view
where /sys/fs/cgroup is the cgroup2 hierarchy alone.
"""
import functools
import gzip
import os
import platform
import re
from pathlib import Path

CGROUP_ROOT = Path(os.environ.get("EDGECR_CGROUP_ROOT") or "/sys/fs/cgroup")


class CgroupLayout:
    """mode: "v1", "hybrid" or "v2"; v1: hierarchy name -> mount dir;
    unified: the cgroup2 dir or None; v2_controllers: its cgroup.controllers."""

    def __init__(self, root=CGROUP_ROOT):
        self.root = Path(root)
        self.v1 = {}
        self.unified = None
        self.v2_controllers = set()
        if (self.root / "cgroup.controllers").exists():
            self.unified = self.root
        else:
            for d in sorted(self.root.iterdir()):
                if d.is_symlink() or not d.is_dir():
                    continue
                if d.name == "unified" and (d / "cgroup.controllers").exists():
                    self.unified = d
                elif (d / "cgroup.procs").exists():
                    self.v1["name=systemd" if d.name == "systemd" else d.name] = d
        if self.unified is not None:
            self.v2_controllers = set(
                (self.unified / "cgroup.controllers").read_text().split())

    @property
    def mode(self):
        if self.v2_only:
            return "v2"
        return "hybrid" if self.unified is not None else "v1"

    @property
    def v2_only(self):
        return self.unified is not None and self.unified == self.root

    def v1_mount(self, ctrl):
        for names, d in self.v1.items():
            if ctrl in names.split(","):
                return d
        return None

    def where(self, ctrl):
        """(hierarchy dir, is_v2) that holds controller ctrl (v1 spelling:
        blkio, not io), as the runtime chooses it; None if the host has none.
        On pure v2 the freezer and device control are cgroup2 core."""
        m = None if self.v2_only else self.v1_mount(ctrl)
        if m is not None:
            return m, False
        if self.unified is None:
            return None
        if self.v2_only and ctrl in ("freezer", "devices"):
            return self.unified, True
        if (("io" if ctrl == "blkio" else ctrl) in self.v2_controllers
                and self.v2_usable(ctrl)):
            return self.unified, True
        return None

    def v2_usable(self, ctrl):
        """A v2 controller can be handed to children only if no v1 hierarchy
        holds it (hybrid hosts) — the kernel binds a controller once."""
        return self.v2_only or self.v1_mount(ctrl) is None

    def has(self, ctrl):
        return self.where(ctrl) is not None

    def is_v2(self, ctrl):
        w = self.where(ctrl)
        return bool(w and w[1])

    def dir(self, ctrl, cgroups_path):
        w = self.where(ctrl)
        assert w, f"no {ctrl} controller on this host ({self.mode} cgroups)"
        return Path(w[0], cgroups_path.lstrip("/"))

    def file(self, ctrl, cgroups_path, v1name, v2name):
        """The file holding a setting: v1name or v2name, whichever hierarchy
        holds ctrl (a None name: the setting has no file in that version)."""
        w = self.where(ctrl)
        assert w, f"no {ctrl} controller on this host ({self.mode} cgroups)"
        name = v2name if w[1] else v1name
        assert name, f"{ctrl}: no {'v2' if w[1] else 'v1'} file for this setting"
        return Path(w[0], cgroups_path.lstrip("/"), name)

    def read(self, ctrl, cgroups_path, v1name, v2name=None):
        return self.file(ctrl, cgroups_path, v1name, v2name).read_text().strip()

    def procs_dirs(self, cgroups_path):
        """Every dir a container's cgroupsPath must have (each v1 hierarchy,
        and the cgroup2 one where the runtime must place it)."""
        dirs = [Path(d, cgroups_path.lstrip("/")) for d in self.v1.values()]
        if self.unified is not None:
            dirs.append(Path(self.unified, cgroups_path.lstrip("/")))
        return dirs

    def describe(self):
        v1 = ",".join(sorted(self.v1)) or "-"
        v2 = " ".join(sorted(self.v2_controllers)) or "-"
        return f"{self.mode} cgroups under {self.root} (v1: {v1}; v2: {v2})"


@functools.lru_cache(maxsize=None)
def cgroups():
    """The layout as the runtime under test sees it (cached per process)."""
    return CgroupLayout()


def missing_controller_reason(ctrl):
    return (f"no {ctrl} controller on this host "
            f"({cgroups().describe()})")


# ---------------------------------------------------------------- kernel

@functools.lru_cache(maxsize=None)
def kernel_config():
    """CONFIG_* -> value from /proc/config.gz or /boot/config-$(uname -r);
    {} when the kernel publishes neither."""
    text = ""
    try:
        with gzip.open("/proc/config.gz", "rt") as f:
            text = f.read()
    except OSError:
        try:
            text = Path(f"/boot/config-{os.uname().release}").read_text()
        except OSError:
            return {}
    out = {}
    for line in text.splitlines():
        m = re.match(r"(CONFIG_\w+)=(.*)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@functools.lru_cache(maxsize=None)
def rt_group_sched():
    """Does the kernel have real-time group budgets (CONFIG_RT_GROUP_SCHED)?
    The v1 cpu hierarchy shows cpu.rt_runtime_us exactly then; without a
    visible v1 cpu hierarchy (pure v2) the kernel config tells."""
    cpu = CgroupLayout(Path("/sys/fs/cgroup")).v1_mount("cpu") if \
        Path("/sys/fs/cgroup").is_dir() else None
    if cpu is not None:
        return (cpu / "cpu.rt_runtime_us").exists()
    return kernel_config().get("CONFIG_RT_GROUP_SCHED") == "y"


def rt_budget_expected():
    """Does the runtime promise a cgroup real-time budget here?  Only where
    the kernel has group budgets and the runtime sees the v1 cpu controller
    (cgroup v2 has no interface for them)."""
    return rt_group_sched() and cgroups().v1_mount("cpu") is not None


def rt_budget_skip_reason():
    if not rt_group_sched():
        return ("the kernel has no real-time group budgets (no "
                "CONFIG_RT_GROUP_SCHED, as in stock Debian kernels)")
    return ("real-time group budgets need the v1 cpu controller, which this "
            f"host does not show ({cgroups().describe()})")


@functools.lru_cache(maxsize=None)
def sched_fifo_allowed():
    """Can a process of ours switch to SCHED_FIFO here (a forked child
    tries)?  Without RT group budgets, or in a group with budget, it can."""
    pid = os.fork()
    if pid == 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            os._exit(0)
        except OSError:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@functools.lru_cache(maxsize=None)
def blkio_weight_file():
    """The proportional block I/O weight file a container's cgroup gets on
    this host, or None.  v1: blkio.weight (CFQ) or blkio.bfq.weight (BFQ),
    shown at the hierarchy's root too.  v2: io.weight, which only non-root
    groups show, from blk-iocost (CONFIG_BLK_CGROUP_IOCOST)."""
    w = cgroups().where("blkio")
    if w is None:
        return None
    if w[1]:
        return "io.weight" if kernel_config().get("CONFIG_BLK_CGROUP_IOCOST") == "y" else None
    for n in ("blkio.weight", "blkio.bfq.weight"):
        if (w[0] / n).exists():
            return n
    return None


def hugepage_sizes():
    """Huge page sizes as the cgroup files spell them ("2MB", "1GB")."""
    out = []
    for d in sorted(Path("/sys/kernel/mm/hugepages").glob("hugepages-*kB")):
        kb = int(d.name.split("-")[1][:-2])
        out.append(f"{kb // 1024 // 1024}GB" if kb >= 1 << 20 else f"{kb // 1024}MB")
    return out


# ---------------------------------------------------------------- seccomp

# platform.machine() -> the native libseccomp arch and the other ABIs the
# same kernel runs (what a runtime's default profile lists).
_SECCOMP_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "i386": ["SCMP_ARCH_X86"], "i686": ["SCMP_ARCH_X86"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    "armv7l": ["SCMP_ARCH_ARM"], "armv6l": ["SCMP_ARCH_ARM"],
    "riscv64": ["SCMP_ARCH_RISCV64"],
    "ppc64le": ["SCMP_ARCH_PPC64LE"],
    "s390x": ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
    "mips64": ["SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS"],
    "loongarch64": ["SCMP_ARCH_LOONGARCH64"],
}


def seccomp_native_arch():
    """The SCMP_ARCH_* name of the architecture the tests run on."""
    m = platform.machine()
    assert m in _SECCOMP_ARCHES, f"unknown machine {m}: add it to hostprobe.py"
    return _SECCOMP_ARCHES[m][0]


def seccomp_arches():
    """The native arch first, then the compat ABIs of the same kernel."""
    return list(_SECCOMP_ARCHES[platform.machine()])


def seccomp_foreign_arch():
    """An arch this host's kernel cannot run (a filter must not match it)."""
    native = set(seccomp_arches())
    for a in ("SCMP_ARCH_AARCH64", "SCMP_ARCH_X86_64", "SCMP_ARCH_RISCV64"):
        if a not in native:
            return a
    raise AssertionError("unreachable")


def linux32_machines():
    """What `uname -m` may say under the LINUX32 personality here (empty:
    the architecture has no 32-bit personality)."""
    return {"x86_64": ("i686", "i386"), "aarch64": ("armv8l", "armv7l"),
            "ppc64le": ("ppc",), "s390x": ("s390",)}.get(platform.machine(), ())


def oci_arch():
    """The OCI image platform architecture (GOARCH spelling) of this host."""
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
            "armv6l": "arm", "i686": "386", "i386": "386"}.get(m, m)


# ---------------------------------------------------------------- privileges

CAP_SYS_RESOURCE = 24


def has_capability(cap):
    """Is capability number `cap` in our effective set?  (Some hosts run
    their root without e.g. CAP_SYS_RESOURCE, which a negative
    oom_score_adj needs.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> cap & 1)
    return False
