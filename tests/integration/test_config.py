"""config.json fields of the OCI runtime spec 1.2 take effect: each test sets
one field and checks it from INSIDE the container with busybox (id,
/proc/self/status, /proc/self/limits, hostname, /proc/mounts, ls -l /dev,
/proc/self/stat, ionice, taskset...) or from the host (cgroup files,
namespace inodes, hook output files)."""
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import pytest

import hostprobe
from itlib import (ALL_CAPS, CG, cap_mask, cgroup_dirs_for, cgroup_file,
                   ns_inode, parse_status)

spec12 = pytest.mark.spec12  # OCI 1.2 feature Debian's runc 1.1.5 lacks


def run_out(env, rt, script, configure=None, rc=0):
    """Run `sh -c script` in a fresh container; return its stdout
    (rc=None: any exit status)."""
    b = env.bundle("sh", "-c", script)
    if configure:
        configure(b)
    p = rt.run(b)
    assert rc is None or p.returncode == rc, \
        f"exit {p.returncode} (want {rc})\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def start_bg(env, rt, configure=None, script="while :; do sleep 0.05; done"):
    """Create+start a long-running container; returns (bundle, init pid)."""
    b = env.bundle("sh", "-c", f"trap 'exit 0' TERM; {script}")
    if configure:
        configure(b)
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "running")
    return b, rt.state(b.id)["pid"]


def stat_fields(text):
    """/proc/PID/stat split after the comm field (index 0 = field 3)."""
    return text.rsplit(")", 1)[1].split()


# ================================================================ process

@pytest.mark.sanitizer
def test_user_uid_gid_additional_gids(env, rt):
    def cfg(b):
        b.process["user"] = {"uid": 1000, "gid": 1000,
                             "additionalGids": [5, 65534]}
    out = run_out(env, rt, "id -u; id -g; grep '^Groups' /proc/self/status", cfg)
    lines = out.splitlines()
    assert lines[0] == "1000" and lines[1] == "1000"
    groups = set(lines[2].split()[1:])
    assert {"5", "65534"} <= groups
    assert "0" not in groups


def test_user_umask(env, rt):
    def cfg(b):
        b.process["user"]["umask"] = 0o027
    out = run_out(env, rt, "umask; touch /tmp/f; stat -c %a /tmp/f", cfg)
    assert out.split() == ["0027", "640"]


def test_default_umask_0022(env, rt):
    assert run_out(env, rt, "umask").strip() == "0022"


def test_env_and_cwd(env, rt):
    def cfg(b):
        b.process["env"] += ["FOO=bar baz", "EMPTY="]
        b.process["cwd"] = "/home/user"
    out = run_out(env, rt, 'echo "$FOO"; pwd; env | grep -c ^EMPTY=$', cfg)
    assert out.splitlines() == ["bar baz", "/home/user", "1"]


def test_cwd_created_when_missing(env, rt):
    def cfg(b):
        b.process["cwd"] = "/does/not/exist/yet"
    assert run_out(env, rt, "pwd", cfg).strip() == "/does/not/exist/yet"


def test_args_exec_path_lookup(env, rt):
    b = env.bundle("echo", "a  b", "c")
    p = rt.run(b)
    assert p.returncode == 0 and p.stdout == "a  b c\n"


def test_terminal(env, rt, console_socket):
    b = env.bundle("sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo is-a-tty; tty")
    b.process["terminal"] = True
    cs = console_socket()
    rt.create(b, None, "--console-socket", cs.path)
    rt.start(b.id)
    out = cs.read_until("/dev/")
    out += cs.read_until("\n", timeout=2)
    assert "is-a-tty" in out
    assert rt.wait_status(b.id, "stopped")


def test_rlimits(env, rt):
    def cfg(b):
        b.process["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
            {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
            {"type": "RLIMIT_MEMLOCK", "soft": 65536, "hard": 131072},
        ]
    out = run_out(env, rt, "cat /proc/self/limits; ulimit -n", cfg)
    rows = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if parts and parts[0] == "Max":
            name = " ".join(parts[:-3]) if parts[-1] != "" else parts
            rows[name] = parts[-3:]
    assert rows["Max open files"][:2] == ["512", "2048"]
    assert rows["Max core file size"][:2] == ["0", "4096"]
    assert rows["Max processes"][:2] == ["300", "400"]
    assert rows["Max locked memory"][:2] == ["65536", "131072"]
    assert out.splitlines()[-1] == "512"


CAP_SETS = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_TIME",
                 "CAP_SETUID", "CAP_SETGID"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
    "effective": ["CAP_CHOWN", "CAP_KILL"],
    "inheritable": ["CAP_KILL", "CAP_CHOWN"],
    "ambient": ["CAP_KILL"],
}


def test_capabilities_all_five_sets_nonroot(env, rt):
    """For a non-root user without file caps the kernel derives permitted and
    effective from ambient at execve; bounding and inheritable are kept."""
    def cfg(b):
        b.process["capabilities"] = {k: list(v) for k, v in CAP_SETS.items()}
        b.process["user"] = {"uid": 1000, "gid": 1000}
        b.process["noNewPrivileges"] = False
    st = parse_status(run_out(env, rt, "cat /proc/self/status", cfg))
    assert int(st["CapBnd"], 16) == cap_mask(CAP_SETS["bounding"])
    assert int(st["CapInh"], 16) == cap_mask(CAP_SETS["inheritable"])
    assert int(st["CapAmb"], 16) == cap_mask(CAP_SETS["ambient"])
    assert int(st["CapPrm"], 16) == cap_mask(CAP_SETS["ambient"])
    assert int(st["CapEff"], 16) == cap_mask(CAP_SETS["ambient"])


@pytest.mark.sanitizer
def test_capabilities_root(env, rt):
    def cfg(b):
        b.process["capabilities"] = {k: list(v) for k, v in CAP_SETS.items()}
    st = parse_status(run_out(env, rt, "cat /proc/self/status", cfg))
    bnd = cap_mask(CAP_SETS["bounding"])
    assert int(st["CapBnd"], 16) == bnd
    assert int(st["CapInh"], 16) == cap_mask(CAP_SETS["inheritable"])
    assert int(st["CapAmb"], 16) == cap_mask(CAP_SETS["ambient"])
    # root: execve grants the permitted set up to the bounding set
    assert int(st["CapPrm"], 16) & ~bnd == 0
    assert int(st["CapEff"], 16) & ~bnd == 0
    assert int(st["CapEff"], 16) & cap_mask(CAP_SETS["effective"]) == \
        cap_mask(CAP_SETS["effective"])


def test_capabilities_take_effect(env, rt):
    """Without CAP_CHOWN chown fails; with it it works."""
    def no_chown(b):
        b.process["capabilities"] = {k: ["CAP_KILL"] for k in
                                     ("bounding", "effective", "permitted")}
    out = run_out(env, rt, "touch /tmp/x; chown 1000 /tmp/x && echo ok || echo denied",
                  no_chown)
    assert "denied" in out

    def with_chown(b):
        b.process["capabilities"] = {k: ["CAP_CHOWN"] for k in
                                     ("bounding", "effective", "permitted")}
    out = run_out(env, rt, "touch /tmp/x; chown 1000 /tmp/x && echo ok || echo denied",
                  with_chown)
    assert "ok" in out


def test_capabilities_all(env, rt):
    def cfg(b):
        b.process["capabilities"] = {k: list(ALL_CAPS) for k in
                                     ("bounding", "effective", "permitted",
                                      "inheritable")}
    st = parse_status(run_out(env, rt, "cat /proc/self/status", cfg))
    assert int(st["CapEff"], 16) == cap_mask(ALL_CAPS)
    assert int(st["CapBnd"], 16) == cap_mask(ALL_CAPS)


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(env, rt, nnp):
    def cfg(b):
        b.process["noNewPrivileges"] = nnp
    st = parse_status(run_out(env, rt, "cat /proc/self/status", cfg))
    assert st["NoNewPrivs"] == ("1" if nnp else "0")


def test_oom_score_adj(env, rt):
    def cfg(b):
        b.process["oomScoreAdj"] = 432
    assert run_out(env, rt, "cat /proc/self/oom_score_adj", cfg).strip() == "432"


# ---------------------------------------------------------------- scheduler

@spec12
def test_scheduler_other_nice(env, rt):
    def cfg(b):
        b.process["scheduler"] = {"policy": "SCHED_OTHER", "nice": 7}
    f = stat_fields(run_out(env, rt, "cat /proc/self/stat", cfg))
    # field 19 = nice, field 41 = policy (index = field - 3)
    assert f[19 - 3] == "7"
    assert f[41 - 3] == "0"


@spec12
def test_scheduler_batch(env, rt):
    def cfg(b):
        b.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 3}
    f = stat_fields(run_out(env, rt, "cat /proc/self/stat", cfg))
    assert f[41 - 3] == "3" and f[19 - 3] == "3"


def need_sched_fifo():
    """SCHED_FIFO must work in a container wherever the runtime can make it
    work: where it gives group budgets, or where our own group lets a
    process switch (no CONFIG_RT_GROUP_SCHED, or a group with a budget)."""
    if not hostprobe.rt_budget_expected() and not hostprobe.sched_fifo_allowed():
        pytest.skip("SCHED_FIFO is refused in this test's own cgroup and the "
                    "runtime cannot give budgets here: " +
                    hostprobe.rt_budget_skip_reason())


@pytest.mark.edgecr_only
@pytest.mark.sanitizer
def test_scheduler_fifo_gets_rt_budget(env, rt):
    """runc/crun give EPERM here (the container cgroup has no rt budget);
    edgecr gives the cgroup a real-time budget where the kernel has group
    budgets, and SCHED_FIFO works on every host."""
    need_sched_fifo()

    def cfg(b):
        b.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
        b.process["capabilities"] = {k: DEFAULT_PLUS_NICE for k in
                                     ("bounding", "effective", "permitted")}
    b, pid = start_bg(env, rt, cfg)
    f = stat_fields(Path(f"/proc/{pid}/stat").read_text())
    assert f[41 - 3] == "1", "policy is not SCHED_FIFO"
    assert f[40 - 3] == "10", "rt_priority is not 10"
    if hostprobe.rt_budget_expected():
        assert int(cgroup_file("cpu", b.cgroups_path, "cpu.rt_runtime_us")) > 0
    out = rt.exec(b.id, "sh", "-c", "cat /proc/self/stat").stdout
    assert stat_fields(out)[41 - 3] == "1", "exec'd process must inherit FIFO"


def expect_rt_budget_refused_on_v2(env, rt, cfg):
    """cgroup v2 has no real-time group budgets: where the cpu controller
    is v2, realtimeRuntime must be refused, naming the field."""
    if not CG.is_v2("cpu"):
        return False
    b = env.bundle("true")
    cfg(b)
    p = rt.run(b)
    assert p.returncode != 0
    assert "cpu.realtimeRuntime" in p.stderr and "v1" in p.stderr, p.stderr
    assert not cgroup_dirs_for(b.cgroups_path)
    return True


@pytest.mark.edgecr_only
def test_scheduler_rr_with_explicit_realtime_runtime(env, rt):
    def cfg(b):
        b.process["scheduler"] = {"policy": "SCHED_RR", "priority": 5}
        b.linux["resources"]["cpu"] = {"realtimeRuntime": 20000,
                                       "realtimePeriod": 1000000}
    if expect_rt_budget_refused_on_v2(env, rt, cfg):
        return
    need_sched_fifo()
    b, pid = start_bg(env, rt, cfg)
    f = stat_fields(Path(f"/proc/{pid}/stat").read_text())
    assert f[41 - 3] == "2" and f[40 - 3] == "5"
    if hostprobe.rt_budget_expected():
        assert cgroup_file("cpu", b.cgroups_path, "cpu.rt_runtime_us") == "20000"
        assert cgroup_file("cpu", b.cgroups_path, "cpu.rt_period_us") == "1000000"


DEFAULT_PLUS_NICE = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                     "CAP_SYS_NICE"]


@spec12
def test_scheduler_deadline(env, rt):
    def cfg(b):
        b.process["scheduler"] = {"policy": "SCHED_DEADLINE",
                                  "runtime": 2000000, "deadline": 10000000,
                                  "period": 10000000}
    # Read the shell's own entries: a SCHED_DEADLINE task may only fork with
    # SCHED_FLAG_RESET_ON_FORK, so its children (cat, grep) run SCHED_OTHER.
    out = run_out(env, rt, "cat /proc/$$/stat; grep -E '^(policy|dl.runtime)' "
                  "/proc/$$/sched", cfg)
    lines = out.splitlines()
    assert stat_fields(lines[0])[41 - 3] == "6"
    sched = {l.split(":")[0].strip(): l.split(":")[1].strip() for l in lines[1:]}
    assert sched["policy"] == "6"
    # /proc/<pid>/sched shows the budget *left* in the current period, so
    # it is at most the configured 2 ms reservation (and not zero).
    assert 0 < int(sched["dl.runtime"]) <= 2000000


@pytest.mark.edgecr_only
def test_scheduler_deadline_admission_refused_clearly(env, rt):
    """A reservation above the host's capacity: the kernel refuses
    (EBUSY); edgecr must say so, naming the field."""
    b = env.bundle("true")
    b.process["scheduler"] = {"policy": "SCHED_DEADLINE",
                              "runtime": 9900000, "deadline": 10000000,
                              "period": 10000000}
    # Two cores at 95% rt bandwidth: three such reservations cannot fit.
    b.process["args"] = ["sleep", "100"]
    bundles = [b]
    for _ in range(2):
        c = env.bundle("sleep", "100")
        c.process["scheduler"] = dict(b.process["scheduler"])
        bundles.append(c)
    results = []
    for x in bundles:
        x.write()
        rt.track(x)
        with open(x.stdout_file, "w") as o, open(x.stderr_file, "w") as e:
            p = rt("run", "-d", "--bundle", x.path, x.id, check=False,
                   stdout=o, stderr=e)
        results.append((p.returncode, x.stderr()))
    failed = [r for r in results if r[0] != 0]
    assert failed, "three 99% SCHED_DEADLINE reservations on 2 cores all admitted"
    msg = failed[0][1].lower()
    assert "process.scheduler" in msg
    assert "deadline" in msg and ("admission" in msg or "busy" in msg
                                  or "bandwidth" in msg)


@spec12
def test_io_priority(env, rt):
    def cfg(b):
        b.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    out = run_out(env, rt, "ionice -p $$", cfg)
    assert "best-effort" in out and "6" in out, out


@spec12
def test_exec_cpu_affinity(env, rt):
    def cfg(b):
        b.process["execCPUAffinity"] = {"initial": "1", "final": "0"}
    b, pid = start_bg(env, rt, cfg)
    # final applies to the container process after exec
    assert Path(f"/proc/{pid}/status").read_text().count(
        "Cpus_allowed_list:\t0\n") == 1
    out = rt.exec(b.id, "sh", "-c", "grep Cpus_allowed_list /proc/self/status")
    assert out.stdout.split()[-1] == "0"


# ================================================================ root / mounts

def test_root_readonly(env, rt):
    def cfg(b):
        b.config["root"]["readonly"] = True
    out = run_out(env, rt, "touch /x 2>&1 && echo wrote || echo refused; "
                  "grep -E '^[^ ]+ / ' /proc/mounts", cfg)
    assert "refused" in out
    root_line = [l for l in out.splitlines() if " / " in l][-1]
    assert "ro" in root_line.split()[3].split(",")


def test_root_writable_default(env, rt):
    assert "wrote" in run_out(env, rt, "touch /x && echo wrote")


def test_bind_mount_ro(env, rt):
    src = env.tmp / "share"
    src.mkdir()
    (src / "hello.txt").write_text("from-host\n")

    def cfg(b):
        b.add_mount({"destination": "/data", "type": "bind", "source": str(src),
                     "options": ["bind", "ro"]})
    out = run_out(env, rt, "cat /data/hello.txt; touch /data/x 2>/dev/null "
                  "&& echo wrote || echo refused", cfg)
    assert out.splitlines() == ["from-host", "refused"]
    assert not (src / "x").exists()


def test_bind_mount_rw_and_file(env, rt):
    src = env.tmp / "rwshare"
    src.mkdir()
    f = env.tmp / "single.txt"
    f.write_text("one-file\n")

    def cfg(b):
        b.add_mount({"destination": "/rw", "type": "bind", "source": str(src),
                     "options": ["rbind", "rw"]})
        b.add_mount({"destination": "/etc/single.txt", "type": "none",
                     "source": str(f), "options": ["bind"]})
    out = run_out(env, rt, "echo inside > /rw/out; cat /etc/single.txt", cfg)
    assert out == "one-file\n"
    assert (src / "out").read_text() == "inside\n"


def test_rbind_includes_submounts_bind_does_not(env, rt):
    src = env.tmp / "tree"
    sub = src / "sub"
    sub.mkdir(parents=True)
    (sub / "under").write_text("lower\n")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(sub)],
                   check=True)
    try:
        (sub / "upper").write_text("upper\n")

        def cfg(b):
            b.add_mount({"destination": "/r", "type": "bind", "source": str(src),
                         "options": ["rbind"]})
            b.add_mount({"destination": "/nr", "type": "bind", "source": str(src),
                         "options": ["bind"]})
        out = run_out(env, rt, "ls /r/sub; echo --; ls /nr/sub", cfg)
    finally:
        subprocess.run(["umount", str(sub)], check=True)
    r, nr = out.split("--\n")
    assert r.split() == ["upper"]
    assert nr.split() == ["under"]


def test_tmpfs_with_options(env, rt):
    def cfg(b):
        b.add_mount({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                     "options": ["nosuid", "nodev", "noexec", "size=2m",
                                 "mode=1750", "uid=1000", "gid=1000"]})
    out = run_out(env, rt, "grep ' /scratch ' /proc/mounts; stat -c '%a %u %g' "
                  "/scratch", cfg)
    mline, st = out.splitlines()
    opts = mline.split()[3].split(",")
    assert mline.split()[2] == "tmpfs"
    assert {"nosuid", "nodev", "noexec", "size=2048k", "mode=1750",
            "uid=1000", "gid=1000"} <= set(opts)
    assert st == "1750 1000 1000"


def test_default_special_mounts(env, rt):
    out = run_out(env, rt, "cat /proc/mounts")
    fs = {l.split()[1]: (l.split()[2], l.split()[3].split(","))
          for l in out.splitlines()}
    assert fs["/proc"][0] == "proc"
    assert fs["/sys"][0] == "sysfs" and "ro" in fs["/sys"][1]
    assert fs["/dev"][0] == "tmpfs"
    assert fs["/dev/pts"][0] == "devpts"
    assert fs["/dev/shm"][0] == "tmpfs"
    assert fs["/dev/mqueue"][0] == "mqueue"
    cg = [m for m in fs if m.startswith("/sys/fs/cgroup")]
    assert cg, "no cgroup mount"


def test_cgroup_mount_shows_own_cgroup(env, rt):
    def cfg(b):
        b.linux["namespaces"].append({"type": "cgroup"})
    out = run_out(env, rt, "ls /sys/fs/cgroup; echo --; cat /proc/self/cgroup", cfg)
    ls, cg = out.split("--\n")
    if CG.v2_only:  # the cgroup2 hierarchy itself
        assert "cgroup.controllers" in ls.split(), ls
    else:  # a dir for each v1 controller the host has
        for ctrl in ("memory", "cpu", "pids", "freezer", "devices"):
            if CG.v1_mount(ctrl) is not None:
                assert any(ctrl in e.split(",") for e in ls.split()), \
                    f"{ctrl} missing from /sys/fs/cgroup: {ls.split()}"
    # cgroup namespace: own cgroup is the root
    for line in cg.splitlines():
        assert line.split(":", 2)[2] == "/", line


def test_mqueue_usable(env, rt):
    out = run_out(env, rt, "touch /dev/mqueue/q 2>&1; ls /dev/mqueue; "
                  "grep mqueue /proc/mounts")
    assert "mqueue" in out


def test_devpts_newinstance(env, rt):
    out = run_out(env, rt, "ls /dev/pts; ls -l /dev/ptmx")
    assert "ptmx" in out


def test_sysfs_mount_rw_option(env, rt):
    def cfg(b):
        for m in b.config["mounts"]:
            if m["destination"] == "/sys":
                m["options"] = ["nosuid", "noexec", "nodev", "ro"]
    out = run_out(env, rt, "ls /sys/kernel >/dev/null && echo listed; "
                  "grep ' /sys ' /proc/mounts", cfg)
    assert "listed" in out and " ro," in out or ",ro," in out or " ro " in out


def test_proc_mount_extra(env, rt):
    def cfg(b):
        b.add_mount({"destination": "/proc2", "type": "proc", "source": "proc"})
    out = run_out(env, rt, "cat /proc2/self/status | grep ^Pid", cfg)
    assert out.split() == ["Pid:", "1"] or out.split()[0] == "Pid:"


@pytest.mark.parametrize("prop,tag", [("rshared", "shared:"),
                                      ("rprivate", None)])
def test_mount_propagation_flag(env, rt, prop, tag):
    src = env.tmp / "prop"
    src.mkdir()

    def cfg(b):
        b.add_mount({"destination": "/p", "type": "bind", "source": str(src),
                     "options": ["rbind", prop]})
    out = run_out(env, rt, "grep ' /p ' /proc/self/mountinfo", cfg)
    line = out.strip()
    assert line, "no /p in mountinfo"
    if tag:
        assert tag in line, line
    else:
        assert "shared:" not in line and "master:" not in line, line


def test_mount_relative_destination(env, rt):
    """Spec 1.2: a relative destination is relative to the container root."""
    src = env.tmp / "reldir"
    src.mkdir()
    (src / "f").write_text("rel\n")

    def cfg(b):
        b.add_mount({"destination": "mnt/rel", "type": "bind",
                     "source": str(src), "options": ["bind"]})
    assert run_out(env, rt, "cat /mnt/rel/f", cfg) == "rel\n"


def test_mount_relative_source_from_bundle(env, rt):
    def cfg(b):
        (b.path / "bundlefile").write_text("from-bundle\n")
        b.add_mount({"destination": "/bf", "type": "bind",
                     "source": "bundlefile", "options": ["bind"]})
    assert run_out(env, rt, "cat /bf", cfg) == "from-bundle\n"


def test_mount_creates_missing_destination(env, rt):
    def cfg(b):
        b.add_mount({"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"})
    assert "tmpfs" in run_out(env, rt, "grep ' /a/b/c ' /proc/mounts", cfg)


def test_mount_stays_in_container(env, rt):
    """Mounts made for the container never show up on the host."""
    def cfg(b):
        b.add_mount({"destination": "/t", "type": "tmpfs", "source": "tmpfs"})
    b, pid = start_bg(env, rt, cfg)
    with open("/proc/self/mountinfo") as f:
        host = f.read()
    assert str(b.rootfs) + "/t " not in host


# ================================================================ uts

def test_hostname(env, rt):
    def cfg(b):
        b.config["hostname"] = "box-one"
    out = run_out(env, rt, "hostname", cfg)
    assert out.splitlines() == ["box-one"]
    assert os.uname().nodename != "box-one"


@spec12
def test_domainname(env, rt):
    def cfg(b):
        b.config["hostname"] = "box-two"
        b.config["domainname"] = "example.test"
    out = run_out(env, rt, "hostname; cat /proc/sys/kernel/domainname", cfg)
    assert out.splitlines() == ["box-two", "example.test"]


# ================================================================ hooks

HOOK_SCRIPT = """#!/bin/sh
# $1 = hook name; stdin = state JSON
out="$(dirname "$0")/hooks.log"
{ printf 'HOOK %s ARGC %s ENV %s\\n' "$1" "$#" "$HOOKVAR"; cat; printf '\\n'; } >> "$out"
"""


def hook_setup(env, b, with_timeout=None):
    d = env.tmp / "hooks"
    d.mkdir(exist_ok=True)
    script = d / "hook.sh"
    script.write_text(HOOK_SCRIPT)
    script.chmod(0o755)
    # startContainer runs in the container: same dir bind-mounted, busybox sh
    b.add_mount({"destination": "/hookdir", "type": "bind", "source": str(d),
                 "options": ["bind"]})

    def h(name, path=str(script)):
        entry = {"path": path, "args": ["hook.sh", name, "extra"],
                 "env": ["HOOKVAR=set-" + name, "PATH=/bin:/usr/bin"]}
        if with_timeout:
            entry["timeout"] = with_timeout
        return [entry]
    b.config["hooks"] = {
        "prestart": h("prestart"),
        "createRuntime": h("createRuntime"),
        "createContainer": h("createContainer"),
        "startContainer": h("startContainer", "/hookdir/hook.sh"),
        "poststart": h("poststart"),
        "poststop": h("poststop"),
    }
    return d / "hooks.log"


def parse_hook_log(text):
    recs = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("HOOK "):
            parts = lines[i].split()
            state = json.loads(lines[i + 1])
            recs.append({"name": parts[1], "argc": parts[3], "env": parts[5],
                         "state": state})
            i += 2
        else:
            i += 1
    return recs


@pytest.mark.sanitizer
@spec12  # runc < 1.2 runs poststart hooks at create time, not after start
def test_hooks_order_and_state(env, rt):
    b = env.bundle("sh", "-c", "echo main-ran > /hookdir/main; sleep 0.2")
    log = hook_setup(env, b)
    b.config["annotations"] = {"hook.test": "yes"}
    rt.create(b)
    names = [r["name"] for r in parse_hook_log(log.read_text())]
    assert names == ["prestart", "createRuntime", "createContainer"], names
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped", timeout=10)
    rt.delete(b.id)
    recs = parse_hook_log(log.read_text())
    names = [r["name"] for r in recs]
    assert names == ["prestart", "createRuntime", "createContainer",
                     "startContainer", "poststart", "poststop"], names
    assert (env.tmp / "hooks" / "main").read_text() == "main-ran\n"
    for r in recs:
        st = r["state"]
        assert st["id"] == b.id, r
        assert st["ociVersion"]
        assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path) or \
            r["name"] == "startContainer"
        assert r["argc"] == "2", "hook args (argv[0] excluded) not passed"
        assert r["env"] == "set-" + r["name"], "hook env not passed"
        assert st.get("annotations", {}).get("hook.test") == "yes"
    by = {r["name"]: r["state"] for r in recs}
    for n in ("prestart", "createRuntime", "poststart"):
        assert by[n]["pid"] > 0, n
    assert by["poststart"]["status"] == "running"
    assert by["poststop"]["status"] == "stopped"


def test_hooks_all_run_with_state(env, rt):
    """Every hook kind runs exactly once with the state on stdin (order as
    far as runc 1.1 agrees with the spec: create-time hooks first,
    startContainer at start, poststop at delete)."""
    b = env.bundle("sh", "-c", "sleep 0.2")
    log = hook_setup(env, b)
    rt.create(b)
    created = [r["name"] for r in parse_hook_log(log.read_text())]
    assert created[:3] == ["prestart", "createRuntime", "createContainer"]
    assert "startContainer" not in created and "poststop" not in created
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped", timeout=10)
    rt.delete(b.id)
    recs = parse_hook_log(log.read_text())
    assert sorted(r["name"] for r in recs) == sorted(
        ["prestart", "createRuntime", "createContainer", "startContainer",
         "poststart", "poststop"])
    assert recs[-1]["name"] == "poststop"
    for r in recs:
        assert r["state"]["id"] == b.id
        assert r["env"] == "set-" + r["name"]


def test_hook_failure_fails_create(env, rt):
    b = env.bundle("true")
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                            "args": ["sh", "-c", "exit 3"]}]}
    p = rt.create(b, check=False)
    assert p.returncode != 0
    assert rt.state(b.id, check=False) is None


def test_hook_timeout_fails_create(env, rt):
    b = env.bundle("true")
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep",
                                            "args": ["sleep", "20"],
                                            "timeout": 1}]}
    t0 = time.monotonic()
    p = rt.create(b, check=False)
    assert p.returncode != 0
    assert time.monotonic() - t0 < 15, "hook timeout not enforced"
    assert rt.state(b.id, check=False) is None


def test_poststop_failure_still_deletes(env, rt):
    """Spec: a failing poststop hook is logged; the lifecycle goes on."""
    b = env.bundle("true")
    b.config["hooks"] = {"poststop": [{"path": "/bin/false"}]}
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    rt.delete(b.id, check=False)
    assert rt.state(b.id, check=False) is None


def test_annotations_in_state(env, rt):
    b = env.bundle("sleep", "100")
    # (not remoteproc.name: that one selects the remote-core backend)
    b.config["annotations"] = {"org.example.board": "m4", "x": "y z"}
    rt.create(b)
    assert rt.state(b.id)["annotations"] == {"org.example.board": "m4", "x": "y z"}


# ================================================================ namespaces

def test_pid_namespace(env, rt):
    assert run_out(env, rt, "echo $$; ps -o pid | wc -l").split()[0] == "1"


def test_no_pid_namespace_shares_host(env, rt):
    def cfg(b):
        b.linux["namespaces"] = [n for n in b.linux["namespaces"]
                                 if n["type"] != "pid"]
    b, pid = start_bg(env, rt, cfg)
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink("/proc/self/ns/pid")


def test_namespaces_are_new(env, rt):
    b, pid = start_bg(env, rt)
    for ns in ("pid", "mnt", "uts", "ipc", "net"):
        assert ns_inode(pid, ns) != ns_inode(os.getpid(), ns), ns


def test_net_namespace_only_lo(env, rt):
    out = run_out(env, rt, "ls /sys/class/net; cat /proc/net/dev")
    assert out.split("\n")[0].split() == ["lo"] or out.splitlines()[0] == "lo"
    devs = [l.split(":")[0].strip() for l in out.splitlines() if ":" in l]
    assert devs == ["lo"], devs


def test_ipc_namespace(env, rt):
    def cfg(b):
        b.add_mount({"destination": "/hostipc", "type": "bind",
                     "source": "/proc/sysvipc", "options": ["rbind", "ro"]})
    out = run_out(env, rt, "cat /proc/sysvipc/shm | wc -l")
    assert out.strip() == "1"  # header only


def test_user_namespace_mappings(env, rt):
    def cfg(b):
        b.linux["namespaces"].append({"type": "user"})
        b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        # sysfs cannot be mounted in a userns without its own netns owner: ok
    b, pid = start_bg(env, rt, cfg)
    st = Path(f"/proc/{pid}/status").read_text()
    uid_line = [l for l in st.splitlines() if l.startswith("Uid:")][0]
    assert uid_line.split()[1] == "100000"
    assert Path(f"/proc/{pid}/uid_map").read_text().split() == \
        ["0", "100000", "65536"]
    assert Path(f"/proc/{pid}/gid_map").read_text().split() == \
        ["0", "100000", "65536"]
    out = rt.exec(b.id, "id", "-u").stdout
    assert out.strip() == "0"
    assert ns_inode(pid, "user") != ns_inode(os.getpid(), "user")


def test_cgroup_namespace(env, rt):
    def cfg(b):
        b.linux["namespaces"].append({"type": "cgroup"})
    b, pid = start_bg(env, rt, cfg)
    assert ns_inode(pid, "cgroup") != ns_inode(os.getpid(), "cgroup")
    out = rt.exec(b.id, "cat", "/proc/self/cgroup").stdout
    for line in out.splitlines():
        assert line.endswith(":/"), line


@spec12
def test_time_namespace_offsets(env, rt):
    def cfg(b):
        b.linux["namespaces"].append({"type": "time"})
        b.linux["timeOffsets"] = {"monotonic": {"secs": 864000, "nanosecs": 0},
                                  "boottime": {"secs": 864000, "nanosecs": 0}}
    out = run_out(env, rt, "cut -d' ' -f1 /proc/uptime", cfg)
    host_up = float(Path("/proc/uptime").read_text().split()[0])
    assert float(out) >= host_up + 864000 - 5


def test_join_namespaces_by_path(env, rt):
    a, apid = start_bg(env, rt, lambda b: b.config.update(hostname="first"))

    def join(b):
        b.linux["namespaces"] = [
            {"type": "pid"}, {"type": "mount"},
            {"type": "network", "path": f"/proc/{apid}/ns/net"},
            {"type": "uts", "path": f"/proc/{apid}/ns/uts"},
            {"type": "ipc", "path": f"/proc/{apid}/ns/ipc"}]
        b.config.pop("hostname", None)
    b, bpid = start_bg(env, rt, join)
    for ns in ("net", "uts", "ipc"):
        assert ns_inode(apid, ns) == ns_inode(bpid, ns), ns
    for ns in ("pid", "mnt"):
        assert ns_inode(apid, ns) != ns_inode(bpid, ns), ns
    assert rt.exec(b.id, "hostname").stdout.strip() == "first"


def test_join_nonexistent_namespace_path_fails(env, rt):
    b = env.bundle("true")
    b.linux["namespaces"] = [{"type": "network", "path": "/proc/999999999/ns/net"}]
    p = rt.run(b)
    assert p.returncode != 0


# ================================================================ devices

@pytest.mark.sanitizer
def test_device_nodes_created(env, rt):
    def cfg(b):
        b.linux["devices"] = [
            {"path": "/dev/xyz", "type": "c", "major": 1, "minor": 3,
             "fileMode": 0o646, "uid": 1000, "gid": 65534},
            {"path": "/dev/sub/blk", "type": "b", "major": 7, "minor": 200,
             "fileMode": 0o600, "uid": 0, "gid": 0},
        ]
        b.linux["resources"]["devices"] = [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
    out = run_out(env, rt, "stat -c '%F %t %T %a %u %g' /dev/xyz /dev/sub/blk; "
                  "echo hi > /dev/xyz && echo wrote", cfg)
    lines = out.splitlines()
    assert lines[0] == "character special file 1 3 646 1000 65534"
    assert lines[1] == "block special file 7 c8 600 0 0"
    assert lines[2] == "wrote"


def test_default_devices_present(env, rt):
    out = run_out(env, rt, "for d in null zero full random urandom tty; do "
                  "[ -c /dev/$d ] && echo $d; done; echo x > /dev/null && echo ok; "
                  "head -c 4 /dev/zero | wc -c; ls -l /dev/fd /dev/stdin /dev/ptmx")
    assert out.splitlines()[:8] == ["null", "zero", "full", "random", "urandom",
                                    "tty", "ok", "4"]


# loop0 (b 7:0): not in any runtime's default allow-list, harmless to open.
LOOP0 = {"path": "/dev/lp0x", "type": "b", "major": 7, "minor": 0,
         "fileMode": 0o666}


@pytest.mark.parametrize("allowed", [False, True])
def test_device_cgroup_allow_deny(env, rt, allowed):
    def cfg(b):
        b.linux["devices"] = [dict(LOOP0)]
        rules = [{"allow": False, "access": "rwm"}]
        if allowed:
            rules.append({"allow": True, "type": "b", "major": 7, "minor": 0,
                          "access": "r"})
        b.linux["resources"]["devices"] = rules
    out = run_out(env, rt, "head -c 1 /dev/lp0x >/dev/null 2>/tmp/err; "
                  "echo rc=$?; cat /tmp/err; "
                  "echo > /dev/null && echo null-ok", cfg)
    if allowed:
        assert "rc=0" in out, out
    else:
        assert "Operation not permitted" in out, out
    assert "null-ok" in out


def test_resources_devices_list(env, rt):
    if CG.is_v2("devices"):
        pytest.skip("devices.list is cgroup v1's interface; on cgroup v2 the "
                    "rules are an eBPF program (test_device_cgroup_allow_deny "
                    "and test_cgroup_v2.py check what it allows)")

    def cfg(b):
        b.linux["resources"]["devices"] = [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "r"}]
    b, pid = start_bg(env, rt, cfg)
    lst = cgroup_file("devices", b.cgroups_path, "devices.list", None).splitlines()
    assert "b 7:0 r" in lst
    assert "a *:* rwm" not in lst
    assert "c 1:3 rwm" in lst  # /dev/null always allowed


# ================================================================ cgroups

# Each controller's settings, their v1 and v2 files and the value the
# runtime must write there (v2 converts cpu.shares to cpu.weight, and spells
# quota+period as cpu.max).  Only the controllers this host has are set.
RESOURCES = {
    "memory": ({"memory": {"limit": 96 << 20, "reservation": 32 << 20}},
               [("memory.limit_in_bytes", "memory.max", str(96 << 20)),
                ("memory.soft_limit_in_bytes", "memory.low", str(32 << 20))]),
    "cpu": ({"cpu": {"shares": 333, "quota": 30000, "period": 150000}},
            [("cpu.shares", "cpu.weight", "333", "13"),
             ("cpu.cfs_quota_us", "cpu.max", "30000", "30000 150000"),
             ("cpu.cfs_period_us", None, "150000")]),
    "cpuset": ({"cpu": {"cpus": "0", "mems": "0"}},
               [("cpuset.cpus", "cpuset.cpus", "0"),
                ("cpuset.mems", "cpuset.mems", "0")]),
    "pids": ({"pids": {"limit": 64}}, [("pids.max", "pids.max", "64")]),
}


def merge_resources(res, more):
    for k, v in more.items():
        res.setdefault(k, {}).update(v)


@pytest.mark.sanitizer
def test_cgroup_resources_applied(env, rt):
    present = [c for c in RESOURCES if CG.has(c)]

    def cfg(b):
        for c in present:
            merge_resources(b.linux["resources"], RESOURCES[c][0])
    b, pid = start_bg(env, rt, cfg)
    cg = b.cgroups_path
    for c in present:
        for v1name, v2name, v1val, *v2val in RESOURCES[c][1]:
            if CG.is_v2(c) and v2name is None:
                continue
            want = (v2val[0] if v2val else v1val) if CG.is_v2(c) else v1val
            assert cgroup_file(c, cg, v1name, v2name) == want, (c, v1name, v2name)
    for d in CG.procs_dirs(cg):
        assert str(pid) in (d / "cgroup.procs").read_text().split(), \
            f"init not in {d}"
    if "cpuset" in present:  # the process sees its cpuset
        out = rt.exec(b.id, "grep", "Cpus_allowed_list", "/proc/self/status").stdout
        assert out.split()[-1] == "0"


# A setting for each controller: the field the runtime must name when the
# host has no such controller.
ONE_SETTING = {
    "memory": ({"memory": {"limit": 64 << 20}}, "memory.limit"),
    "cpu": ({"cpu": {"shares": 512}}, "cpu.shares"),
    "cpuset": ({"cpu": {"cpus": "0"}}, "cpu.cpus"),
    "pids": ({"pids": {"limit": 10}}, "pids.limit"),
    "blkio": ({"blockIO": {"weight": 500}}, "blockIO.weight"),
    "hugetlb": ({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 21}]},
                "hugepageLimits[0]"),
}


@pytest.mark.edgecr_only
@pytest.mark.parametrize("ctrl", sorted(ONE_SETTING))
def test_missing_controller_refused(env, rt, ctrl):
    """A limit the host cannot enforce is refused, naming the field and the
    controller, before anything is created (never silently dropped)."""
    if CG.has(ctrl):
        pytest.skip(f"the {ctrl} controller exists here ({CG.describe()}): "
                    "test_cgroup_resources_applied and friends check it")
    b = env.bundle("true")
    res, field = ONE_SETTING[ctrl]
    merge_resources(b.linux["resources"], res)
    p = rt.run(b)
    assert p.returncode != 0
    assert f"linux.resources.{field}" in p.stderr, p.stderr
    assert f"`{ctrl}` cgroup controller is not available" in p.stderr, p.stderr
    assert not cgroup_dirs_for(b.cgroups_path)


def test_cgroup_unified_has_container(env, rt):
    """The container is placed in the cgroup2 hierarchy too (hybrid host:
    best effort beside the v1 hierarchies; pure v2: the only one)."""
    if CG.unified is None:
        pytest.skip(f"no cgroup2 hierarchy here ({CG.describe()})")
    b, pid = start_bg(env, rt)
    procs = Path(CG.unified, b.cgroups_path.lstrip("/"), "cgroup.procs").read_text().split()
    assert str(pid) in procs


def need_controller(ctrl):
    if not CG.has(ctrl):
        pytest.skip(hostprobe.missing_controller_reason(ctrl) +
                    "; test_missing_controller_refused checks the refusal")


def test_memory_limit_enforced(env, rt):
    need_controller("memory")

    def cfg(b):
        b.linux["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}
    # tmpfs pages are charged to the cgroup: writing 64M must fail / OOM
    b = env.bundle("sh", "-c", "mount -t tmpfs -o size=128m t /mnt 2>/dev/null || "
                   "true; head -c 67108864 /dev/zero > /dev/shm/big; echo done")
    cfg(b)
    for m in b.config["mounts"]:
        if m["destination"] == "/dev/shm":
            m["options"] = ["nosuid", "nodev", "mode=1777", "size=128m"]
    p = rt.run(b)
    assert p.returncode != 0 or "done" not in p.stdout, p


def test_pids_limit_enforced(env, rt):
    need_controller("pids")

    def cfg(b):
        b.linux["resources"]["pids"] = {"limit": 4}
    out = run_out(env, rt, "for i in 1 2 3 4 5 6; do sleep 2 & done 2>&1; "
                  "echo spawned", cfg, rc=None)
    assert "can't fork" in out or "Resource temporarily unavailable" in out \
        or "fork" in out.lower(), out


def test_blockio_weight(env, rt):
    """blkio.weight (v1 CFQ), blkio.bfq.weight (v1 BFQ) or io.weight (v2)
    where the host has a proportional I/O policy; without one the runtime
    promises a warning that it ignores the weight, and a running container."""
    need_controller("blkio")

    def cfg(b):
        b.linux["resources"]["blockIO"] = {"weight": 321}
    b, pid = start_bg(env, rt, cfg)
    f = hostprobe.blkio_weight_file()
    if f is None:
        assert "blockIO.weight ignored" in b.stderr(), b.stderr()
        return
    val = Path(CG.dir("blkio", b.cgroups_path), f).read_text().split()[-1]
    # v2's io.weight runs 1..10000 where blkio.weight ran 10..1000
    assert val == (str(1 + (321 - 10) * 9999 // 990) if CG.is_v2("blkio") else "321")


@pytest.mark.edgecr_only
def test_realtime_runtime_resources(env, rt):
    """runc fails here (EINVAL): the parent cgroup it creates has no rt
    budget to hand down; edgecr must give the parents a budget."""
    def cfg(b):
        b.linux["resources"]["cpu"] = {"realtimeRuntime": 10000,
                                       "realtimePeriod": 1000000}
    if expect_rt_budget_refused_on_v2(env, rt, cfg):
        return
    if not hostprobe.rt_budget_expected():
        pytest.skip(hostprobe.rt_budget_skip_reason())
    b, pid = start_bg(env, rt, cfg)
    assert cgroup_file("cpu", b.cgroups_path, "cpu.rt_runtime_us") == "10000"
    assert cgroup_file("cpu", b.cgroups_path, "cpu.rt_period_us") == "1000000"


def hugepage_size():
    need_controller("hugetlb")
    sizes = hostprobe.hugepage_sizes()
    if not sizes:
        pytest.skip("the kernel offers no huge page size")
    return sizes[0]


@pytest.mark.edgecr_only
def test_hugepage_limits(env, rt):
    """hugepageLimits go to whichever hierarchy holds hugetlb (on a hybrid
    host often only the cgroup2 one)."""
    size = hugepage_size()

    def cfg(b):
        b.linux["resources"]["hugepageLimits"] = [{"pageSize": size, "limit": 4 << 21}]
    b, pid = start_bg(env, rt, cfg)
    val = cgroup_file("hugetlb", b.cgroups_path, f"hugetlb.{size}.limit_in_bytes",
                      f"hugetlb.{size}.max")
    assert int(val) == 4 << 21


@pytest.mark.edgecr_only
def test_unified_resources(env, rt):
    """linux.resources.unified is written as given into the cgroup2 dir."""
    size = hugepage_size()
    if not CG.is_v2("hugetlb"):
        pytest.skip(f"hugetlb is not a cgroup2 controller here ({CG.describe()})")

    def cfg(b):
        b.linux["resources"]["unified"] = {f"hugetlb.{size}.max": str(2 << 21)}
    b, pid = start_bg(env, rt, cfg)
    val = Path(CG.unified, b.cgroups_path.lstrip("/"),
               f"hugetlb.{size}.max").read_text().strip()
    assert int(val) == 2 << 21


def test_cgroups_path_nested_and_removed(env, rt):
    b = env.bundle("true")
    nest = f"/edgecr-test/nest-{b.id}"
    b.linux["cgroupsPath"] = f"{nest}/inner"
    rt.track(b)
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert not cgroup_dirs_for(f"{nest}/inner")
    for d in cgroup_dirs_for(nest):
        os.rmdir(d)


# ================================================================ sysctl

def test_sysctl_net_and_ipc(env, rt):
    def cfg(b):
        b.linux["sysctl"] = {"net.ipv4.ip_forward": "1",
                             "kernel.shmmax": "123456789",
                             "kernel.msgmax": "12345"}
    out = run_out(env, rt, "cat /proc/sys/net/ipv4/ip_forward "
                  "/proc/sys/kernel/shmmax /proc/sys/kernel/msgmax", cfg)
    assert out.split() == ["1", "123456789", "12345"]
    assert Path("/proc/sys/kernel/shmmax").read_text().strip() != "123456789"


def test_sysctl_host_namespace_refused(env, rt):
    """A sysctl for a namespace the container does not own must fail."""
    b = env.bundle("true")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"]
                             if n["type"] != "network"]
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    p = rt.run(b)
    assert p.returncode != 0
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == before


# ================================================================ seccomp

def seccomp_cfg(default, syscalls):
    return {"defaultAction": default,
            "architectures": hostprobe.seccomp_arches(),
            "syscalls": syscalls}


@pytest.mark.sanitizer
def test_seccomp_errno(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
             "errnoRet": 13}])
    out = run_out(env, rt, "grep ^Seccomp: /proc/self/status; "
                  "mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touched", cfg)
    assert "Seccomp:\t2" in out
    assert "Permission denied" in out and "rc=1" in out
    assert "touched" in out


def test_seccomp_errno_default_eperm(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    out = run_out(env, rt, "mkdir /tmp/d 2>&1; true", cfg)
    assert "Operation not permitted" in out


def test_seccomp_kill(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}])
    out = run_out(env, rt, "sh -c 'mkdir /tmp/d'; echo rc=$?", cfg)
    assert "rc=159" in out  # 128 + SIGSYS


def test_seccomp_kill_process(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}])
    out = run_out(env, rt, "sh -c 'mkdir /tmp/d'; echo rc=$?", cfg)
    assert "rc=159" in out


def test_seccomp_trap(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_TRAP"}])
    out = run_out(env, rt, "sh -c 'mkdir /tmp/d'; echo rc=$?", cfg)
    assert "rc=159" in out


def test_seccomp_argument_filter(env, rt):
    # personality(PER_LINUX32=8) denied, personality(0) allowed
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "errnoRet": 1,
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}])
    out = run_out(env, rt, "linux64 uname -m; linux32 uname -m 2>&1; echo rc=$?",
                  cfg)
    lines = out.splitlines()
    assert lines[0] == platform.machine()
    assert "rc=0" not in out, out


def test_seccomp_default_errno_allowlist(env, rt):
    """defaultAction ERRNO with an allow-list: everything else fails."""
    allowed = ["read", "write", "exit", "exit_group", "execve", "brk",
               "arch_prctl", "mmap", "munmap", "mprotect", "rt_sigaction",
               "rt_sigprocmask", "rt_sigreturn", "getpid", "getppid", "getuid",
               "geteuid", "getgid", "getegid", "ioctl", "fcntl", "close",
               "newfstatat", "fstat", "stat", "lstat", "uname", "set_tid_address",
               "set_robust_list", "prlimit64", "getcwd", "futex", "openat",
               "open", "writev", "readv", "lseek", "getdents64", "access",
               "faccessat", "faccessat2", "readlink", "readlinkat", "wait4",
               "fork", "vfork", "clone", "clone3", "dup2", "dup3", "pipe",
               "pipe2", "sigaltstack", "statx", "getrandom", "rseq",
               "capget", "capset", "prctl", "setgroups", "setuid", "setgid",
               "setresuid", "setresgid", "chdir", "fchdir", "select", "pselect6",
               "poll", "ppoll", "nanosleep", "clock_nanosleep", "clock_gettime",
               "getpgrp", "setpgid", "getpgid", "gettid", "tgkill", "kill",
               "epoll_pwait", "epoll_ctl", "epoll_create1", "seccomp",
               "sched_getaffinity", "sched_yield", "madvise", "fchown",
               "fchmod", "umask", "setsid", "getsid", "mount", "pivot_root",
               "umount2", "sethostname", "setdomainname", "chroot", "keyctl",
               "unshare", "setns", "fstatfs", "statfs", "getxattr", "lgetxattr",
               "fgetxattr", "close_range", "membarrier", "getrlimit",
               "setrlimit", "sysinfo", "times", "alarm", "pause", "wait4",
               "waitid", "exit", "socket", "connect", "sendto", "recvfrom",
               "socketpair", "sendmsg", "recvmsg", "write", "getdents",
               "mknodat", "symlinkat", "fchownat", "fchmodat", "unlinkat",
               "renameat2", "linkat", "utimensat", "fsync", "fdatasync"]

    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ERRNO", [
            {"names": allowed, "action": "SCMP_ACT_ALLOW"}])
    out = run_out(env, rt, "echo alive; mkdir /tmp/x 2>&1; echo rc=$?", cfg)
    assert out.startswith("alive")
    assert "rc=1" in out


def test_seccomp_notify_listener(env, rt):
    """SCMP_ACT_NOTIFY: the runtime hands the notify fd plus the container
    process state to linux.seccomp.listenerPath over SCM_RIGHTS.  The
    listener here closes the fd, after which the notified syscall fails
    with ENOSYS instead of hanging."""
    import array
    import socket
    import threading
    path = str(env.tmp / "seccomp.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(20)
    got = {}

    def listen():
        try:
            conn, _ = srv.accept()
            with conn:
                fds = array.array("i")
                data = b""
                msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16))
                data += msg
                for level, typ, raw in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(raw[:len(raw) - len(raw) % 4])
                conn.settimeout(0.5)
                try:
                    while True:
                        more = conn.recv(65536)
                        if not more:
                            break
                        data += more
                except OSError:
                    pass
                got["state"] = json.loads(data)
                got["fds"] = list(fds)
                for fd in fds:
                    got.setdefault("fdlink", os.readlink(f"/proc/self/fd/{fd}"))
                    os.close(fd)
        except Exception as exc:
            got["error"] = repr(exc)
    t = threading.Thread(target=listen, daemon=True)
    t.start()

    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}])
        b.linux["seccomp"]["listenerPath"] = path
        b.linux["seccomp"]["listenerMetadata"] = "meta-42"
    try:
        out = run_out(env, rt, "sleep 0.3; mkdir /tmp/n 2>&1; echo rc=$?", cfg)
    finally:
        t.join(20)
        srv.close()
    assert "error" not in got, got
    assert len(got["fds"]) == 1
    assert "seccomp" in got["fdlink"], got["fdlink"]
    st = got["state"]
    assert st["fds"] == ["seccompFd"]
    assert st["metadata"] == "meta-42"
    assert st["pid"] > 0
    assert st["state"]["id"]
    assert "rc=1" in out and "Function not implemented" in out, out


def test_seccomp_log(env, rt):
    def cfg(b):
        b.linux["seccomp"] = seccomp_cfg("SCMP_ACT_ALLOW", [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}])
    out = run_out(env, rt, "mkdir /tmp/d && echo made", cfg)
    assert "made" in out


# ================================================================ masked/readonly

@pytest.mark.sanitizer
def test_masked_and_readonly_paths(env, rt):
    def cfg(b):
        b.linux["maskedPaths"] = b.linux["maskedPaths"] + ["/etc/hostname",
                                                            "/home"]
    # /proc/kcore only exists with CONFIG_PROC_KCORE
    kcore = os.path.exists("/proc/kcore")
    out = run_out(env, rt, ("wc -c < /proc/kcore; " if kcore else "echo 0; ") +
                  "cat /etc/hostname | wc -c; ls /home | wc -l; "
                  "echo x > /proc/sys/kernel/hostname 2>/dev/null && echo wrote "
                  "|| echo ro; grep ' /proc/sys ' /proc/mounts", cfg)
    lines = out.splitlines()
    assert lines[0].strip() == "0", "/proc/kcore not masked"
    assert lines[1].strip() == "0", "/etc/hostname (file) not masked"
    assert lines[2].strip() == "0", "/home (dir) not masked"
    assert lines[3] == "ro", "/proc/sys writable"
    assert "ro" in lines[4].split()[3].split(",")


def test_masked_proc_acpi_dir(env, rt):
    if not os.path.isdir("/proc/acpi"):
        # mask a directory that exists instead
        target = "/proc/bus"
    else:
        target = "/proc/acpi"

    def cfg(b):
        b.linux["maskedPaths"] = [target]
        b.linux["readonlyPaths"] = []
    out = run_out(env, rt, f"ls {target} | wc -l", cfg)
    assert out.strip() == "0"


def test_readonly_path_custom(env, rt):
    def cfg(b):
        b.linux["readonlyPaths"] = ["/home"]
    out = run_out(env, rt, "touch /home/x 2>/dev/null && echo wrote || echo ro; "
                  "touch /tmp/y && echo tmp-ok", cfg)
    assert out.split() == ["ro", "tmp-ok"]


# ================================================================ misc linux

@pytest.mark.parametrize("prop", [
    "private", "slave",
    # runc 1.1 leaves "/" private whatever rootfsPropagation says
    pytest.param("shared", marks=pytest.mark.spec12)])
def test_rootfs_propagation(env, rt, prop):
    def cfg(b):
        b.linux["rootfsPropagation"] = prop
    out = run_out(env, rt, "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' "
                  "/proc/self/mountinfo", cfg)
    line = out.strip().splitlines()[-1]
    if prop == "shared":
        assert "shared:" in line, line
    elif prop == "private":
        assert "shared:" not in line and "master:" not in line, line


@spec12
def test_personality_linux32(env, rt):
    want = hostprobe.linux32_machines()
    if not want:
        pytest.skip(f"{platform.machine()} has no 32-bit personality")

    def cfg(b):
        b.linux["personality"] = {"domain": "LINUX32"}
    assert run_out(env, rt, "uname -m", cfg).strip() in want


@pytest.mark.edgecr_only
def test_intel_rdt_clear_unsupported_error(env, rt):
    b = env.bundle("true")
    b.linux["intelRdt"] = {"closID": "grp", "l3CacheSchema": "L3:0=ff"}
    p = rt.run(b)
    assert p.returncode != 0
    assert "intelRdt" in p.stderr
    assert "support" in p.stderr.lower()


@pytest.mark.edgecr_only
def test_selinux_mount_label_ignored_cleanly(env, rt):
    def cfg(b):
        b.linux["mountLabel"] = "system_u:object_r:container_file_t:s0"
        b.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    assert run_out(env, rt, "echo fine", cfg) == "fine\n"


@pytest.mark.edgecr_only
def test_explicit_realtime_runtime_without_group_budgets_warns(env, rt):
    """Where the host has no real-time group budgets at all (no v1 cpu
    controller and cpu not in v2, or a kernel without CONFIG_RT_GROUP_SCHED),
    an explicit realtimeRuntime cannot be applied: the container runs, and
    the runtime says so instead of dropping it in silence."""
    if hostprobe.rt_budget_expected():
        pytest.skip("this host has real-time group budgets (applied: see the SCHED_RR test)")
    if CG.is_v2("cpu"):
        pytest.skip("the cpu controller is v2 here: realtimeRuntime is refused (see the SCHED_RR test)")
    b = env.bundle("true")
    b.linux["resources"]["cpu"] = {"realtimeRuntime": 20000, "realtimePeriod": 1000000}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert "realtimeRuntime" in p.stderr and "not applied" in p.stderr, p.stderr
