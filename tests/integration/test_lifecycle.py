"""The runc command-line contract: create/start/state/kill/delete, run (exit
status propagation, --detach), list, ps, exec (all its flags, incl. --tty
through a console socket), pause/resume, update, events, spec, features,
--version/--help, and the lifecycle errors (wrong state, unknown or
duplicate id) that must fail without changing anything."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import hostprobe
from itlib import CG, RUNTIME, cgroup_file, pid_alive, wait_until

# A container init that stays up and exits 0 on SIGTERM (pid 1 ignores
# signals it has no handler for, so plain `sleep` would not die of TERM).
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"]


def started(env, rt, args=LOOP, **kw):
    b = env.bundle(*args, **kw)
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "running")
    return b


# ---------------------------------------------------------------- create/start

@pytest.mark.sanitizer
def test_create_start_state_delete(env, rt):
    b = env.bundle("sh", "-c", "echo started; exec sleep 1000")
    b.config["annotations"] = {"org.example.k": "v", "edgecr.test": "1"}
    rt.create(b)
    st = rt.state(b.id)
    assert st["status"] == "created"
    assert st["id"] == b.id
    assert st["ociVersion"]
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    assert st["annotations"] == {"org.example.k": "v", "edgecr.test": "1"}
    pid = st["pid"]
    assert pid > 0 and pid_alive(pid)
    # Not yet started: the user process has not run.
    time.sleep(0.1)
    assert "started" not in b.stdout()
    rt.start(b.id)
    assert rt.wait_status(b.id, "running")
    assert wait_until(lambda: "started" in b.stdout(), 5)
    assert rt.state(b.id)["pid"] == pid
    rt.kill(b.id, "KILL")
    assert rt.wait_status(b.id, "stopped")
    rt.delete(b.id)
    assert rt.state(b.id, check=False) is None
    assert wait_until(lambda: not pid_alive(pid), 5)


def test_create_pid_file(env, rt):
    b = env.bundle(*LOOP)
    pidfile = env.tmp / "init.pid"
    rt.create(b, None, "--pid-file", pidfile)
    assert int(pidfile.read_text().strip()) == rt.state(b.id)["pid"]


def test_create_relative_pid_file_and_bundle(env, rt):
    b = env.bundle(*LOOP)
    # cwd-relative paths: run from env.tmp
    rt.track(b)
    with open(b.stdout_file, "w") as out, open(b.stderr_file, "w") as err:
        p = subprocess.run(rt.argv("create", "--bundle",
                                   os.path.relpath(b.path, env.tmp),
                                   "--pid-file", "rel.pid", b.id),
                           cwd=env.tmp, stdout=out, stderr=err, timeout=30,
                           env=rt.env())
    assert p.returncode == 0, b.stderr()
    st = rt.state(b.id)
    assert int((env.tmp / "rel.pid").read_text()) == st["pid"]
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)


def test_create_without_bundle_uses_cwd(env, rt):
    b = env.bundle(*LOOP)
    rt.track(b)
    with open(b.stdout_file, "w") as out, open(b.stderr_file, "w") as err:
        p = subprocess.run(rt.argv("create", b.id), cwd=b.path, stdout=out,
                           stderr=err, timeout=30, env=rt.env())
    assert p.returncode == 0, b.stderr()
    assert os.path.realpath(rt.state(b.id)["bundle"]) == os.path.realpath(b.path)


def test_state_stopped_after_exit(env, rt):
    b = env.bundle("sh", "-c", "exit 0")
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    st = rt.state(b.id)
    assert st["status"] == "stopped"
    rt.delete(b.id)


def run_with_fds(env, rt, b, *extra):
    """`run` with fds 3 and 7 open in the runtime (as containerd's shim
    leaves some); returns CompletedProcess."""
    b.write()
    rt.track(b)
    src = env.tmp / "fdsource"
    src.write_text("from-fd3\n")
    return subprocess.run(
        ["/bin/sh", "-c", f'exec "$@" 3<{src} 7<{src}', "sh",
         *rt.argv("run", *extra, "--bundle", b.path, b.id)],
        capture_output=True, text=True, timeout=30, env=rt.env(),
        stdin=subprocess.DEVNULL)


def test_inherited_fds_not_leaked(env, rt):
    # ls opens its directory at the lowest free fd: 3 if nothing leaked.
    b = env.bundle("ls", "/proc/self/fd")
    p = run_with_fds(env, rt, b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "1", "2", "3"]


def test_preserve_fds(env, rt):
    b = env.bundle("sh", "-c", "cat <&3; ls /proc/self/fd")
    p = run_with_fds(env, rt, b, "--preserve-fds", "1")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "from-fd3"
    assert "3" in lines[1:] and "7" not in lines[1:]


def test_no_pivot(env, rt):
    b = env.bundle("sh", "-c", "ls /; cat /etc/hostname")
    p = rt.run(b, None, "--no-pivot")
    assert p.returncode == 0, p.stderr
    assert "bin" in p.stdout.split() and "rootfs" in p.stdout


def test_no_new_keyring(env, rt):
    # A finished container's keyring stays listed in /proc/keys until the
    # kernel's key garbage collector runs, so a fresh run first would leave
    # its keyring visible to the shared run after it (this made the test
    # fail at random).  The shared run goes first: the keyring a fresh run
    # creates cannot have existed before it.  Compared by serial number.
    def keyrings(*extra):
        b = env.bundle("cat", "/proc/keys")
        b.linux["maskedPaths"] = []
        p = rt.run(b, None, *extra)
        assert p.returncode == 0, p.stderr
        return {l.split()[0] for l in p.stdout.splitlines() if " keyring " in l}
    shared = keyrings("--no-new-keyring")
    fresh = keyrings()
    assert fresh - shared, "no new session keyring without --no-new-keyring"


# ---------------------------------------------------------------- kill

@pytest.mark.parametrize("sig", ["SIGTERM", "TERM", "15"])
def test_kill_signal_spellings(env, rt, sig):
    b = started(env, rt)
    pid = rt.state(b.id)["pid"]
    rt.kill(b.id, sig)
    assert rt.wait_status(b.id, "stopped"), f"kill {sig} did not stop it"
    assert wait_until(lambda: not pid_alive(pid), 5)


def test_kill_default_signal_is_term(env, rt):
    b = started(env, rt)
    rt("kill", b.id)
    assert rt.wait_status(b.id, "stopped")


def test_kill_usr1_delivered(env, rt):
    b = started(env, rt, args=["sh", "-c",
                               "trap 'echo got-usr1' USR1; echo ready; "
                               "while :; do sleep 0.05; done"])
    assert wait_until(lambda: "ready" in b.stdout(), 5)  # trap installed
    rt.kill(b.id, "USR1")
    assert wait_until(lambda: "got-usr1" in b.stdout(), 5)
    assert rt.status(b.id) == "running"


def test_kill_all(env, rt):
    b = env.bundle("sh", "-c", "sleep 1000 & sleep 1000 & wait")
    b.config["linux"]["namespaces"] = [
        n for n in b.config["linux"]["namespaces"] if n["type"] != "pid"]
    rt.create(b)
    rt.start(b.id)
    assert wait_until(lambda: len(json.loads(
        rt("ps", "--format", "json", b.id).stdout)) >= 3, 5)
    pids = json.loads(rt("ps", "--format", "json", b.id).stdout)
    rt("kill", "--all", b.id, "KILL")
    assert wait_until(lambda: not any(pid_alive(p) for p in pids), 5)
    assert rt.wait_status(b.id, "stopped")


def test_kill_unknown_signal_fails(env, rt):
    b = started(env, rt)
    p = rt.kill(b.id, "SIGNOTREAL", check=False)
    assert p.returncode != 0
    assert rt.status(b.id) == "running"


# ---------------------------------------------------------------- delete

def test_delete_force_running(env, rt):
    b = started(env, rt)
    pid = rt.state(b.id)["pid"]
    rt.delete(b.id, force=True)
    assert rt.state(b.id, check=False) is None
    assert wait_until(lambda: not pid_alive(pid), 5)


def test_delete_created_never_started(env, rt):
    b = env.bundle("sh", "-c", "echo should-not-run")
    rt.create(b)
    pid = rt.state(b.id)["pid"]
    rt.delete(b.id, force=True)
    assert wait_until(lambda: not pid_alive(pid), 5)
    assert "should-not-run" not in b.stdout()


def test_delete_force_unknown_id(env, rt):
    # runc: delete --force of a missing container succeeds quietly.
    p = rt.delete("does-not-exist-xyz", force=True, check=False)
    assert p.returncode == 0


# ---------------------------------------------------------------- run

@pytest.mark.sanitizer
def test_run_exit_code(env, rt):
    b = env.bundle("sh", "-c", "echo out; echo err >&2; exit 3")
    p = rt.run(b)
    assert p.returncode == 3
    assert p.stdout == "out\n"
    assert "err\n" in p.stderr
    assert rt.state(b.id, check=False) is None  # run deletes on exit


def test_run_exit_zero(env, rt):
    p = rt.run(env.bundle("true"))
    assert p.returncode == 0


def test_run_stdin(env, rt):
    p = rt.run(env.bundle("sh", "-c", "read x; echo got:$x"), input="abc\n")
    assert p.returncode == 0 and p.stdout == "got:abc\n"


def test_run_signal_death_from_inside(env, rt):
    # Without a pid namespace sh is not init, so it can die of its own signal.
    b = env.bundle("sh", "-c", "kill -TERM $$; sleep 5")
    b.config["linux"]["namespaces"] = [
        n for n in b.config["linux"]["namespaces"] if n["type"] != "pid"]
    p = rt.run(b)
    assert p.returncode == 128 + signal.SIGTERM


def test_run_killed_from_outside(env, rt):
    b = env.bundle("sleep", "1000")
    b.write()
    rt.track(b)
    proc = subprocess.Popen(rt.argv("run", "--bundle", b.path, b.id),
                            env=rt.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert rt.wait_status(b.id, "running"), "container did not start"
        rt.kill(b.id, "KILL")
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGKILL, err


def test_run_detach(env, rt):
    b = env.bundle(*LOOP)
    rt.run_detached(b)
    assert rt.status(b.id) == "running"
    rt.kill(b.id, "TERM")
    assert rt.wait_status(b.id, "stopped")
    rt.delete(b.id)


def test_run_detach_pid_file(env, rt):
    b = env.bundle(*LOOP)
    pidfile = env.tmp / "run.pid"
    rt.run_detached(b, None, "--pid-file", pidfile)
    assert int(pidfile.read_text()) == rt.state(b.id)["pid"]


# ---------------------------------------------------------------- list / ps

@pytest.mark.sanitizer
def test_list_formats(env, rt):
    a = started(env, rt)
    b = env.bundle(*LOOP)
    rt.create(b)
    table = rt("list").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "PID", "STATUS", "BUNDLE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[a.id][2] == "running" and rows[b.id][2] == "created"
    assert rows[a.id][1] == str(rt.state(a.id)["pid"])
    assert sorted(rt("list", "-q").stdout.split()) == sorted([a.id, b.id])
    js = json.loads(rt("list", "--format", "json").stdout)
    by_id = {c["id"]: c for c in js}
    assert set(by_id) == {a.id, b.id}
    assert by_id[a.id]["status"] == "running"
    assert by_id[a.id]["pid"] == rt.state(a.id)["pid"]
    assert os.path.realpath(by_id[b.id]["bundle"]) == os.path.realpath(b.path)


def test_list_empty(env, rt):
    assert rt("list", "-q").stdout.strip() == ""
    js = rt("list", "--format", "json").stdout.strip()
    assert json.loads(js) in ([], None)


def test_ps_json(env, rt):
    b = env.bundle("sh", "-c", "sleep 1000 & sleep 1000 & wait")
    rt.create(b)
    rt.start(b.id)
    pids = wait_until(lambda: (lambda l: l if len(l) == 3 else None)(
        json.loads(rt("ps", "--format", "json", b.id).stdout)), 5)
    assert pids, "expected init + 2 sleeps"
    init = rt.state(b.id)["pid"]
    assert init in pids
    for p in pids:
        assert pid_alive(p)


def test_ps_table(env, rt):
    b = started(env, rt)
    out = rt("ps", b.id).stdout
    assert "PID" in out.splitlines()[0]
    assert str(rt.state(b.id)["pid"]) in out


# ---------------------------------------------------------------- exec

@pytest.mark.sanitizer
def test_exec_basic_exit_code(env, rt):
    b = started(env, rt)
    p = rt.exec(b.id, "sh", "-c", "echo hello; exit 5", check=False)
    assert p.returncode == 5 and p.stdout == "hello\n"


def test_exec_shares_namespaces(env, rt):
    b = started(env, rt)
    init = rt.state(b.id)["pid"]
    p = rt.exec(b.id, "sh", "-c", "for n in pid net mnt uts ipc; do "
                "readlink /proc/self/ns/$n; done; hostname")
    lines = p.stdout.split()
    want = [os.readlink(f"/proc/{init}/ns/{n}") for n in
            ("pid", "net", "mnt", "uts", "ipc")]
    assert lines[:5] == want
    assert lines[5] == "edgecr-test"


def test_exec_env_cwd_user(env, rt):
    b = started(env, rt)
    p = rt.exec(b.id, "sh", "-c", "echo $FOO $BAR; pwd; id -u; id -g",
                extra=("--env", "FOO=foo1", "--env", "BAR=bar2", "--cwd", "/tmp",
                       "--user", "1000:1000"))
    assert p.stdout.split() == ["foo1", "bar2", "/tmp", "1000", "1000"]


def test_exec_inherits_process_env(env, rt):
    b = env.bundle(*LOOP)
    b.config["process"]["env"].append("FROMCONFIG=yes")
    rt.create(b)
    rt.start(b.id)
    p = rt.exec(b.id, "sh", "-c", "echo $FROMCONFIG")
    assert p.stdout.strip() == "yes"


def test_exec_process_file(env, rt):
    b = started(env, rt)
    proc = {
        "terminal": False,
        "user": {"uid": 65534, "gid": 65534, "additionalGids": [1000]},
        "args": ["sh", "-c", "id -u; id -g; id -G; pwd; echo $X"],
        "env": ["PATH=/bin", "X=from-process-json", f"EDGECR_TEST_TAG={env.tag}"],
        "cwd": "/home",
        "capabilities": {"bounding": [], "effective": [], "permitted": []},
    }
    f = env.tmp / "process.json"
    f.write_text(json.dumps(proc))
    p = rt.exec(b.id, extra=("--process", f))
    lines = p.stdout.splitlines()
    assert lines[0] == "65534" and lines[1] == "65534"
    assert "1000" in lines[2].split()
    assert lines[3] == "/home"
    assert lines[4] == "from-process-json"


def test_exec_detach_pid_file(env, rt):
    b = started(env, rt)
    pidfile = env.tmp / "exec.pid"
    p = rt("exec", "--detach", "--pid-file", pidfile, b.id, "sh", "-c",
           "echo detached > /tmp/marker; sleep 1000",
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.returncode == 0
    pid = int(pidfile.read_text())
    rt.pids.add(pid)
    assert pid_alive(pid)
    assert pid in json.loads(rt("ps", "--format", "json", b.id).stdout)
    assert wait_until(lambda: rt.exec(b.id, "cat", "/tmp/marker",
                                      check=False).stdout == "detached\n", 5)


def test_exec_tty_foreground(env, rt):
    """Foreground `exec --tty`: the runtime allocates the pty and proxies it
    to its own stdio (here a host pty we hold the master of)."""
    b = started(env, rt)
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            rt.argv("exec", "--tty", b.id, "sh", "-c",
                    "tty; read line; echo got:$line; exit 4"),
            stdin=slave, stdout=slave, stderr=slave, env=rt.env())
        os.close(slave)
        slave = -1
        out = read_pty(master, "/dev/")
        os.write(master, b"hello\n")
        out += read_pty(master, "got:hello")
        rc = proc.wait(timeout=20)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert "/dev/pts/" in out, out
    assert "got:hello" in out
    assert rc == 4


def read_pty(fd, needle, timeout=10):
    import select
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and needle.encode() not in buf:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.decode(errors="replace")


def test_exec_tty_detach(env, rt, console_socket):
    b = started(env, rt)
    cs = console_socket()
    pidfile = env.tmp / "ttyexec.pid"
    rt("exec", "--tty", "--detach", "--console-socket", cs.path,
       "--pid-file", pidfile, b.id,
       "sh", "-c", "tty; echo ready; read x; echo echo:$x; sleep 1000",
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rt.pids.add(int(pidfile.read_text()))
    out = cs.read_until("ready")
    assert "ready" in out and "/dev/pts/" in out, out
    cs.write("ping\n")
    assert "echo:ping" in cs.read_until("echo:ping")


def test_exec_in_stopped_container_fails(env, rt):
    b = env.bundle("true")
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    p = rt.exec(b.id, "true", check=False)
    assert p.returncode != 0


def test_exec_missing_binary_fails(env, rt):
    b = started(env, rt)
    p = rt.exec(b.id, "/no/such/binary", check=False)
    assert p.returncode != 0
    assert rt.status(b.id) == "running"


# ---------------------------------------------------------------- create --tty

def test_create_terminal_console_socket(env, rt, console_socket):
    b = env.bundle("sh", "-c", "tty; read x; echo in:$x; exit 0")
    b.config["process"]["terminal"] = True
    cs = console_socket()
    rt.create(b, None, "--console-socket", cs.path)
    cs.wait()
    rt.start(b.id)
    out = cs.read_until("\n")
    cs.write("zz\n")
    out += cs.read_until("in:zz")
    assert "/dev/pts/0" in out or "/dev/console" in out, out
    assert "in:zz" in out
    assert rt.wait_status(b.id, "stopped")


# ---------------------------------------------------------------- pause/resume

def frozen(cgroups_path):
    """The kernel's view: v1 freezer.state, or v2 cgroup.events."""
    if CG.is_v2("freezer"):
        events = cgroup_file("freezer", cgroups_path, None, "cgroup.events")
        return "frozen 1" in events.splitlines()
    return {"FROZEN": True, "THAWED": False}[
        cgroup_file("freezer", cgroups_path, "freezer.state")]


@pytest.mark.sanitizer
def test_pause_resume(env, rt):
    b = started(env, rt, args=["sh", "-c",
                               "i=0; while :; do i=$((i+1)); echo $i > /tmp/c; "
                               "sleep 0.02; done"])
    pid = rt.state(b.id)["pid"]
    rt("pause", b.id)
    assert rt.status(b.id) == "paused"
    assert frozen(b.cgroups_path) is True
    cnt = Path(f"/proc/{pid}/root/tmp/c")
    v1 = cnt.read_text()
    time.sleep(0.3)
    assert cnt.read_text() == v1, "counter advanced while paused"
    rt("resume", b.id)
    assert rt.status(b.id) == "running"
    assert frozen(b.cgroups_path) is False
    assert wait_until(lambda: cnt.read_text() != v1, 5)


def test_pause_stopped_fails(env, rt):
    b = env.bundle("true")
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    assert rt("pause", b.id, check=False).returncode != 0
    assert rt.status(b.id) == "stopped"


def test_resume_not_paused_fails(env, rt):
    b = started(env, rt)
    assert rt("resume", b.id, check=False).returncode != 0
    assert rt.status(b.id) == "running"


def test_delete_force_paused(env, rt):
    b = started(env, rt)
    rt("pause", b.id)
    rt.delete(b.id, force=True)
    assert rt.state(b.id, check=False) is None


# ---------------------------------------------------------------- update

def need_controllers(*ctrls):
    missing = [c for c in ctrls if not CG.has(c)]
    if missing:
        pytest.skip(hostprobe.missing_controller_reason(" and ".join(missing)) +
                    "; test_update_missing_controller_refused checks the refusal")


def cpu_setting(cg, shares=None, quota=None, period=None):
    """cpu settings as the host spells them: v1 files, or v2 cpu.weight
    (converted from shares) and cpu.max."""
    if CG.is_v2("cpu"):
        if shares is not None:
            weight = 1 + (shares - 2) * 9999 // 262142
            assert cgroup_file("cpu", cg, None, "cpu.weight") == str(weight)
        if quota is not None:
            assert cgroup_file("cpu", cg, None, "cpu.max") == f"{quota} {period}"
        return
    if shares is not None:
        assert cgroup_file("cpu", cg, "cpu.shares") == str(shares)
    if quota is not None:
        assert cgroup_file("cpu", cg, "cpu.cfs_quota_us") == str(quota)
        assert cgroup_file("cpu", cg, "cpu.cfs_period_us") == str(period)


def memory_limit(cg):
    return int(cgroup_file("memory", cg, "memory.limit_in_bytes", "memory.max"))


@pytest.mark.sanitizer
def test_update_flags(env, rt):
    need_controllers("memory", "cpu", "pids")
    b = started(env, rt)
    cg = b.cgroups_path
    rt("update", "--memory", "64M", "--cpu-quota", "20000", "--cpu-period",
       "100000", "--pids-limit", "42", b.id)
    assert memory_limit(cg) == 64 << 20
    cpu_setting(cg, quota=20000, period=100000)
    assert cgroup_file("pids", cg, "pids.max", "pids.max") == "42"


def test_update_cpu_shares_and_cpuset(env, rt):
    need_controllers("cpu", "cpuset")
    b = started(env, rt)
    cg = b.cgroups_path
    rt("update", "--cpu-share", "512", "--cpuset-cpus", "0", b.id)
    cpu_setting(cg, shares=512)
    assert cgroup_file("cpuset", cg, "cpuset.cpus", "cpuset.cpus") == "0"


def test_update_resources_file(env, rt):
    need_controllers("memory", "cpu", "pids")
    b = started(env, rt)
    cg = b.cgroups_path
    res = {"memory": {"limit": 100 << 20},
           "cpu": {"shares": 256, "quota": 50000, "period": 200000},
           "pids": {"limit": 77}}
    f = env.tmp / "res.json"
    f.write_text(json.dumps(res))
    rt("update", "-r", f, b.id)
    assert memory_limit(cg) == 100 << 20
    cpu_setting(cg, shares=256, quota=50000, period=200000)
    assert cgroup_file("pids", cg, "pids.max", "pids.max") == "77"


def test_update_resources_stdin(env, rt):
    need_controllers("pids")
    b = started(env, rt)
    rt("update", "-r", "-", b.id, input=json.dumps({"pids": {"limit": 33}}))
    assert cgroup_file("pids", b.cgroups_path, "pids.max", "pids.max") == "33"


# cgroup v1 refuses a memory limit above memory.memsw.limit_in_bytes, so a
# raise of both must write memsw first (a lowering: the limit first).
@pytest.mark.parametrize("before,after", [
    pytest.param(64, 96, id="raise"),
    pytest.param(96, 64, id="lower")])
def test_update_memory_with_swap_both_ways(env, rt, before, after):
    """What kubelet's in-place resize sends through containerd: memory limit
    and swap (= the limit) together, raised or lowered."""
    need_controllers("memory")
    b = env.bundle(*LOOP)
    b.linux["resources"]["memory"] = {"limit": before << 20, "swap": before << 20}
    rt.create(b)
    rt.start(b.id)
    res = {"memory": {"limit": after << 20, "swap": after << 20}}
    rt("update", "-r", "-", b.id, input=json.dumps(res))
    assert memory_limit(b.cgroups_path) == after << 20


@pytest.mark.edgecr_only
@pytest.mark.parametrize("ctrl,flag", [("memory", ["--memory", "64M"]),
                                       ("pids", ["--pids-limit", "5"]),
                                       ("cpu", ["--cpu-share", "512"])])
def test_update_missing_controller_refused(env, rt, ctrl, flag):
    """`update` of a limit the host has no controller for fails with a clear
    error and leaves the running container as it was."""
    if CG.has(ctrl):
        pytest.skip(f"the {ctrl} controller exists here ({CG.describe()})")
    b = started(env, rt)
    p = rt("update", *flag, b.id, check=False)
    assert p.returncode != 0
    assert f"`{ctrl}` cgroup controller is not available" in p.stderr, p.stderr
    assert rt.status(b.id) == "running"


def test_update_pids_limit_enforced(env, rt):
    need_controllers("pids")
    b = started(env, rt)
    rt("update", "--pids-limit", "3", b.id)
    # init(sh) + its sleep = 2; an exec'd sh + 3 backgrounded sleeps must fail.
    p = rt.exec(b.id, "sh", "-c", "for i in 1 2 3 4; do sleep 5 & done; wait",
                check=False)
    assert "fork" in p.stderr.lower() or "resource" in p.stderr.lower() \
        or p.returncode != 0, p


def test_update_unknown_id_fails(env, rt):
    p = rt("update", "--pids-limit", "5", "nosuchid123", check=False)
    assert p.returncode != 0


# ---------------------------------------------------------------- events

def test_events_stats(env, rt):
    b = started(env, rt)
    p = rt("events", "--stats", b.id)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert len(lines) == 1
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == b.id
    data = ev["data"]
    # each figure comes from its controller's files: checked where it exists;
    # the CPU usage also from cgroup2's core cpu.stat, which every cgroup2
    # group has, with or without the cpu controller
    if CG.has("cpuacct") or CG.unified is not None:
        assert data["cpu"]["usage"]["total"] > 0
    if CG.has("memory"):
        assert data["memory"]["usage"]["usage"] > 0
    if CG.has("pids"):
        assert data["pids"]["current"] >= 2


def test_events_interval_streams(env, rt):
    b = started(env, rt)
    proc = subprocess.Popen(rt.argv("events", "--interval", "100ms", b.id),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
    for l in (first, second):
        ev = json.loads(l)
        assert ev["type"] == "stats" and ev["id"] == b.id


# ---------------------------------------------------------------- spec

def test_spec_writes_config(env, rt, tmp_path):
    d = env.tmp / "specdir"
    d.mkdir()
    p = subprocess.run([RUNTIME, "spec"], cwd=d, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    types = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= types
    # refuses to overwrite
    p2 = subprocess.run([RUNTIME, "spec"], cwd=d, capture_output=True, text=True,
                        timeout=30)
    assert p2.returncode != 0


def test_spec_bundle_flag_and_rootless(env):
    d = env.tmp / "rootless"
    d.mkdir()
    p = subprocess.run([RUNTIME, "spec", "--rootless", "--bundle", str(d)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((d / "config.json").read_text())
    types = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert "user" in types
    assert cfg["linux"]["uidMappings"] and cfg["linux"]["gidMappings"]


def test_spec_default_runs(env, rt):
    """The spec the runtime writes must itself run (with terminal off)."""
    b = env.bundle("true")
    os.unlink(b.path / "config.json")
    p = subprocess.run([RUNTIME, "spec", "--bundle", str(b.path)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((b.path / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sh", "-c", "echo from-spec"]
    cfg["process"]["env"].append(f"EDGECR_TEST_TAG={env.tag}")
    cfg.setdefault("linux", {})["cgroupsPath"] = b.cgroups_path
    b.config = cfg
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "from-spec\n"


# ---------------------------------------------------------------- features

def test_features_json(env):
    p = subprocess.run([RUNTIME, "features"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    f = json.loads(p.stdout)
    assert f["ociVersionMin"].startswith("1.0")
    assert f["ociVersionMax"].startswith("1.")
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert {"bind", "rbind", "ro", "nosuid", "nodev", "noexec"} <= set(f["mountOptions"])
    lin = f["linux"]
    assert {"pid", "mount", "ipc", "uts", "network", "user", "cgroup"} <= \
        set(lin["namespaces"])
    assert "CAP_SYS_ADMIN" in lin["capabilities"]
    assert lin["cgroup"]["v1"] is True


def features():
    return json.loads(subprocess.run([RUNTIME, "features"], capture_output=True,
                                     text=True, timeout=30).stdout)


def test_features_namespaces_work(env, rt):
    """Every namespace `features` claims can actually be used."""
    for ns in features()["linux"]["namespaces"]:
        b = env.bundle("true")
        types = {n["type"] for n in b.linux["namespaces"]}
        if ns not in types:
            b.linux["namespaces"].append({"type": ns})
        if ns == "user":
            b.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000,
                                       "size": 65536}]
            b.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000,
                                       "size": 65536}]
        p = rt.run(b)
        assert p.returncode == 0, f"namespace {ns}: {p.stderr}"


def test_features_seccomp_actions_work(env, rt):
    """Every seccomp action `features` claims is accepted (on a syscall
    busybox `true` does not make)."""
    sc = features()["linux"].get("seccomp", {})
    if not sc.get("enabled"):
        pytest.skip("seccomp not enabled")
    for action in sc.get("actions", []):
        if action == "SCMP_ACT_NOTIFY":
            continue  # needs a listener: test_config.py covers it
        b = env.bundle("true")
        b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                              "architectures": [hostprobe.seccomp_native_arch()],
                              "syscalls": [{"names": ["acct"],
                                            "action": action}]}
        p = rt.run(b)
        assert p.returncode == 0, f"seccomp action {action}: {p.stderr}"


@pytest.mark.edgecr_only
def test_features_accurate_for_edgecr(env):
    f = json.loads(subprocess.run([RUNTIME, "features"], capture_output=True,
                                  text=True, timeout=30).stdout)
    assert f["ociVersionMax"].startswith("1.2")
    lin = f["linux"]
    assert "time" in lin["namespaces"]
    assert lin["cgroup"]["v2"] is True
    # no systemd on edge devices: edgecr must not claim it
    assert not lin["cgroup"].get("systemd")
    sc = lin["seccomp"]
    assert sc["enabled"] is True
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
            "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE",
            "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"} <= set(sc["actions"])
    assert hostprobe.seccomp_native_arch() in sc["archs"]
    # intelRdt is not implemented: must not be advertised as enabled
    assert not lin.get("intelRdt", {}).get("enabled", False)
    # selinux/apparmor unsupported here: if present, not enabled
    for k in ("selinux", "apparmor"):
        assert not lin.get(k, {}).get("enabled", False)


# ---------------------------------------------------------------- misc CLI

def test_version():
    p = subprocess.run([RUNTIME, "--version"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0
    assert "version" in p.stdout.lower()
    assert "spec" in p.stdout.lower()


@pytest.mark.edgecr_only
def test_version_names_edgecr():
    p = subprocess.run([RUNTIME, "--version"], capture_output=True, text=True,
                       timeout=30)
    assert p.stdout.lower().startswith("edgecr version")
    assert "spec: 1.2" in p.stdout


def test_help_lists_commands():
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0
    for cmd in ("create", "start", "run", "state", "kill", "delete", "list",
                "ps", "exec", "pause", "resume", "update", "events", "spec",
                "features"):
        assert cmd in p.stdout, f"--help does not mention {cmd}"


def test_unknown_command_fails():
    p = subprocess.run([RUNTIME, "frobnicate"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0


def test_log_json(env, rt):
    log = env.tmp / "rt.log"
    p = rt("state", "nonexistent-id", check=False, log=log, log_format="json")
    assert p.returncode != 0
    lines = [l for l in log.read_text().splitlines() if l.strip()]
    assert lines, "nothing logged for a failing command"
    for l in lines:
        rec = json.loads(l)
        assert "msg" in rec and "level" in rec


@pytest.mark.edgecr_only
def test_systemd_cgroup_clear_error(env, rt):
    b = env.bundle("true")
    b.config["linux"]["cgroupsPath"] = "system.slice:edgecr:" + b.id
    b.write()
    rt.track(b.id)
    p = rt("--systemd-cgroup", "run", "--bundle", b.path, b.id, check=False)
    assert p.returncode != 0
    assert "systemd" in p.stderr.lower()


# ---------------------------------------------------------------- lifecycle errors

def test_start_running_fails(env, rt):
    b = started(env, rt)
    pid = rt.state(b.id)["pid"]
    p = rt.start(b.id, check=False)
    assert p.returncode != 0
    st = rt.state(b.id)
    assert st["status"] == "running" and st["pid"] == pid


def test_start_twice_after_exit_fails(env, rt):
    b = env.bundle("true")
    rt.create(b)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    assert rt.start(b.id, check=False).returncode != 0
    assert rt.status(b.id) == "stopped"


def test_delete_running_without_force_fails(env, rt):
    b = started(env, rt)
    pid = rt.state(b.id)["pid"]
    p = rt.delete(b.id, check=False)
    assert p.returncode != 0
    assert rt.status(b.id) == "running"
    assert pid_alive(pid)


def test_delete_created_without_force_fails_or_cleans(env, rt):
    # runc refuses to delete a created container without --force? It kills
    # and deletes it. Either way the state must be consistent afterwards.
    b = env.bundle(*LOOP)
    rt.create(b)
    pid = rt.state(b.id)["pid"]
    p = rt.delete(b.id, check=False)
    if p.returncode == 0:
        assert rt.state(b.id, check=False) is None
        assert wait_until(lambda: not pid_alive(pid), 5)
    else:
        assert rt.status(b.id) == "created"


@pytest.mark.parametrize("cmd", [["state"], ["start"], ["kill"], ["delete"],
                                 ["pause"], ["resume"], ["ps"], ["exec", "--"],
                                 ["events", "--stats"]])
def test_unknown_id_fails(env, rt, cmd):
    args = list(cmd) + ["no-such-container-42"]
    if cmd == ["exec", "--"]:
        args = ["exec", "no-such-container-42", "true"]
    p = rt(*args, check=False)
    assert p.returncode != 0
    assert rt("list", "-q").stdout.strip() == ""


def test_duplicate_id_fails(env, rt):
    a = started(env, rt)
    pid = rt.state(a.id)["pid"]
    b = env.bundle("true", cid=a.id, name="second")
    b.write()
    with open(b.stderr_file, "w") as err:
        p = rt("create", "--bundle", b.path, a.id, check=False,
               stdout=subprocess.DEVNULL, stderr=err)
    assert p.returncode != 0
    st = rt.state(a.id)
    assert st["pid"] == pid and st["status"] == "running"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(a.path)


@pytest.mark.parametrize("bad", ["", "a/b", "..", "with space"])
def test_invalid_id_fails(env, rt, bad):
    b = env.bundle("true")
    with open(b.stderr_file, "w") as err:
        p = rt("create", "--bundle", b.path, bad, check=False,
               stdout=subprocess.DEVNULL, stderr=err)
    assert p.returncode != 0
    assert rt("list", "-q").stdout.strip() == ""


def test_state_root_created_on_demand(env):
    root = env.tmp / "fresh" / "root"
    p = subprocess.run([RUNTIME, "--root", str(root), "list", "-q"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
