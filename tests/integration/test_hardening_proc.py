"""Regression tests for issue 9 ("Hardening"), process and lifecycle items:
seccomp and no_new_privs (6), restrictive profiles that must not deadlock
create/start (7), a state larger than the sync socket's buffer (9), a
container without /proc (10), and spec rules about hooks, joined mount
namespaces and fields that must work or be refused (12).

Every create/start/run here has a timeout well under the suite's
watchdog: a hang is the defect several of these tests catch.
"""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import hostprobe
from itlib import IS_EDGECR, SANITIZED, wait_until

CG = hostprobe.cgroups()

# A hang shows up as a TimeoutExpired in seconds, not at the watchdog.
QUICK = 15


def run_out(env, rt, script, configure=None):
    b = env.bundle("sh", "-c", script)
    if configure:
        configure(b)
    p = rt.run(b, timeout=QUICK)
    return p


def mount_setattr_available():
    """mount_setattr(2) exists (probed with a call that must fail)."""
    if os.uname().machine != "x86_64":
        return False  # the probe uses the x86_64 syscall number
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(442, -1, b"", 0, None, 0)
    return not (r < 0 and ctypes.get_errno() == 38)  # ENOSYS


def nnp_of(status_text):
    for line in status_text.splitlines():
        if line.startswith("NoNewPrivs:"):
            return line.split()[1]
    return None


# ------------------------------------------------------------------ item 6

@pytest.mark.parametrize("nnp", [False, True])
def test_seccomp_keeps_no_new_privileges_as_configured(env, rt, nnp):
    """libseccomp sets no_new_privs when it loads a filter unless told
    not to: with noNewPrivileges false the process must not have it."""
    def cfg(b):
        b.process["noNewPrivileges"] = nnp
        b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    p = run_out(env, rt, "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status", cfg)
    assert p.returncode == 0, p.stderr
    assert nnp_of(p.stdout) == ("1" if nnp else "0"), p.stdout
    assert "Seccomp:\t2" in p.stdout


def test_seccomp_without_nnp_still_filters_and_switches_user(env, rt):
    """The filter that needs CAP_SYS_ADMIN is loaded before the user switch;
    the process still ends up as the configured user, filtered."""
    def cfg(b):
        b.process["noNewPrivileges"] = False
        b.process["user"] = {"uid": 1000, "gid": 1000}
        b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    p = run_out(env, rt, "id -u; mkdir /tmp/x 2>&1; grep ^NoNewPrivs /proc/self/status", cfg)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1000"
    assert "Permission denied" in p.stdout
    assert nnp_of(p.stdout) == "0"


# ------------------------------------------------------------------ item 7

# What a static busybox needs to run `true`, and nothing for the runtime.
BUSYBOX_TRUE = ["execve", "arch_prctl", "brk", "exit_group", "getrandom",
                "getuid", "mprotect", "prctl", "prlimit64", "readlink", "rseq",
                "set_robust_list", "set_tid_address", "exit"]
# Without no_new_privs the filter must be loaded while the runtime still
# has CAP_SYS_ADMIN, before it becomes the container's user (as in runc):
# those identity calls then run under the filter.
IDENTITY = ["setgroups", "setresgid", "setresuid", "capget", "capset",
            "chdir", "umask"]


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_default_deny_allowlist_does_not_deadlock(env, rt, nnp):
    if SANITIZED and not nnp:
        pytest.skip("the sanitizer runtime makes syscalls of its own between an early filter and execve")
    b = env.bundle("true")
    allowed = BUSYBOX_TRUE + ([] if nnp else IDENTITY)
    b.process["noNewPrivileges"] = nnp
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO",
                          "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]}
    t0 = time.monotonic()
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 10
    # create + start separately too
    b2 = env.bundle("true")
    b2.config = json.loads(json.dumps(b.config))
    b2.config["linux"]["cgroupsPath"] = b.cgroups_path + "-2"
    b2.write()
    rt.create(b2)
    rt("start", b2.id, timeout=QUICK)
    assert rt.wait_status(b2.id, "stopped", timeout=QUICK)


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_denying_sendmsg_and_write_does_not_deadlock(env, rt, nnp):
    """A profile that forbids the very calls the runtime uses for its own
    protocol (send/sendmsg on the sync socket, write on the fifo)."""
    def cfg(b):
        b.process["noNewPrivileges"] = nnp
        b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["sendmsg", "sendto", "write", "writev", "pwrite64"],
             "action": "SCMP_ACT_ERRNO"}]}
    b = env.bundle("sh", "-c", "exit 7")
    cfg(b)
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 7, p.stderr
    b2 = env.bundle("sh", "-c", "exit 3")
    cfg(b2)
    rt.create(b2)
    rt("start", b2.id, timeout=QUICK)
    assert rt.wait_status(b2.id, "stopped", timeout=QUICK)


@pytest.mark.parametrize("nnp", [True, False])
def test_exec_under_a_profile_denying_write(env, rt, nnp):
    b = env.bundle("sleep", "30")
    b.process["noNewPrivileges"] = nnp
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["sendmsg", "sendto", "write", "writev"], "action": "SCMP_ACT_ERRNO"}]}
    rt.create(b)
    rt("start", b.id, timeout=QUICK)
    assert rt.exec(b.id, "true", timeout=QUICK).returncode == 0
    p = rt.exec(b.id, "sh", "-c", "exit 5", check=False, timeout=QUICK)
    assert p.returncode == 5, p.stderr


def test_identity_error_after_an_early_filter_is_reported(env, rt):
    """Without noNewPrivileges the filter is loaded before the identity is
    set, which then happens after `start`: its errors must still surface
    (from `start`), not hang or pass silently."""
    b = env.bundle("true")
    b.process["noNewPrivileges"] = False
    b.process["cwd"] = "/etc/hostname"  # exists, but is not a directory
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    p = rt.run(b, timeout=QUICK)
    assert p.returncode != 0
    assert "process.cwd" in p.stderr, p.stderr


def test_seccomp_flags_are_applied_or_refused(env, rt):
    """Every flag `features` lists as supported works; none is dropped
    silently."""
    from itlib import RUNTIME
    f = json.loads(subprocess.run([RUNTIME, "features"], capture_output=True, text=True,
                                  timeout=QUICK).stdout)
    flags = f["linux"]["seccomp"]["supportedFlags"]
    b = env.bundle("true")
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "flags": flags, "syscalls": [
        {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 0, p.stderr


def listen_once(path):
    """A seccomp agent: accepts one connection, keeps the message and fds."""
    import array
    import socket
    import threading
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(QUICK)
    got = {}

    def run():
        try:
            conn, _ = srv.accept()
            with conn:
                fds = array.array("i")
                msg, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(16))
                for level, typ, raw in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(raw[:len(raw) - len(raw) % 4])
                got["msg"] = json.loads(msg)
                got["fdlinks"] = [os.readlink(f"/proc/self/fd/{fd}") for fd in fds]
                for fd in fds:
                    os.close(fd)
        except Exception as exc:
            got["error"] = repr(exc)
        finally:
            srv.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, got


@pytest.mark.parametrize("nnp", [True, False])
def test_listener_path_without_notify_rule(env, rt, nnp):
    """listenerPath with no SCMP_ACT_NOTIFY rule: create must not fail, and
    the agent still gets a notification fd (as runc and crun hand over)."""
    path = str(env.tmp / "agent.sock")
    t, got = listen_once(path)

    def cfg(b):
        b.process["noNewPrivileges"] = nnp
        b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path,
                              "listenerMetadata": "m-1",
                              "syscalls": [{"names": ["mkdirat", "mkdir"],
                                            "action": "SCMP_ACT_ERRNO"}]}
    p = run_out(env, rt, "echo ok; mkdir /tmp/x 2>/dev/null || echo denied", cfg)
    t.join(QUICK)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["ok", "denied"]
    assert "error" not in got, got
    assert len(got["fdlinks"]) == 1 and "seccomp" in got["fdlinks"][0], got
    assert got["msg"]["metadata"] == "m-1"
    assert got["msg"]["state"]["status"] == "creating"
    assert got["msg"]["state"]["id"]


# ------------------------------------------------------------------ item 9

def test_state_larger_than_the_sync_socket_buffer(env, rt):
    """20,000 annotations make a ~600 KB state, handed to the init."""
    b = env.bundle("true")
    b.config["annotations"] = {f"org.example.key{i:05d}": "v" * 16 for i in range(20000)}
    b.write()
    rt.create(b)
    st = rt.state(b.id)
    assert st["status"] == "created"
    assert len(st.get("annotations", {})) == 20000
    rt("start", b.id, timeout=QUICK)
    assert rt.wait_status(b.id, "stopped", timeout=QUICK)


def test_hook_ignoring_a_large_state_still_times_out(env, rt):
    """A hook that never reads its stdin must not block the runtime on a
    full pipe past the hook's timeout (a ~600 KB state)."""
    b = env.bundle("true")
    b.config["annotations"] = {f"org.example.key{i:05d}": "v" * 16 for i in range(20000)}
    b.config["hooks"] = {"prestart": [
        {"path": hook_script(env, "sleepy.sh", "exec sleep 30"), "timeout": 1}]}
    t0 = time.monotonic()
    p = rt.create(b, check=False)
    assert p.returncode != 0
    assert "timed out" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 10


def test_hooks_read_a_large_state(env, rt):
    out = env.tmp / "state-seen.json"
    b = env.bundle("true")
    b.config["annotations"] = {f"org.example.key{i:05d}": "v" * 16 for i in range(20000)}
    b.config["hooks"] = {"createRuntime": [
        {"path": hook_script(env, "reader.sh", f"cat > {out}")}]}
    rt.create(b)
    st = json.loads(out.read_text())
    assert st["id"] == b.id and len(st["annotations"]) == 20000


# ------------------------------------------------------------------ item 10

def test_container_without_proc_mount(env, rt):
    b = env.bundle("echo", "no-proc")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.linux["maskedPaths"] = []
    b.linux["readonlyPaths"] = []
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "no-proc"


def test_container_without_proc_create_start(env, rt):
    b = env.bundle("sh", "-c", "echo started > /tmp/mark; sleep 0.2")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.linux["maskedPaths"] = []
    b.linux["readonlyPaths"] = []
    rt.create(b)
    assert rt.status(b.id) == "created"
    rt("start", b.id, timeout=QUICK)
    assert rt.wait_status(b.id, "stopped", timeout=QUICK)
    assert (b.rootfs / "tmp" / "mark").read_text() == "started\n"


def test_exec_in_a_container_without_proc(env, rt):
    b = env.bundle("sleep", "30")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.linux["maskedPaths"] = []
    b.linux["readonlyPaths"] = []
    b.process["oomScoreAdj"] = 100
    rt.create(b)
    rt("start", b.id, timeout=QUICK)
    pid = rt.state(b.id)["pid"]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "100"
    p = rt.exec(b.id, "echo", "exec-ok", timeout=QUICK)
    assert p.stdout.strip() == "exec-ok"


# ------------------------------------------------------------------ item 12: hooks

def hook_script(env, name, body):
    path = env.tmp / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_in_container_hooks_see_status_created(env, rt):
    """createContainer and startContainer run after the runtime's part of
    create: their state says "created" (createRuntime's says "creating")."""
    d = env.tmp / "hookout"
    d.mkdir()
    b = env.bundle("true")
    b.add_mount({"destination": "/hookout", "type": "bind", "source": str(d), "options": ["bind"]})
    b.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {d}/createRuntime"]}],
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {d}/createContainer"]}],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /hookout/startContainer"]}],
    }
    rt.create(b)
    rt("start", b.id, timeout=QUICK)
    assert rt.wait_status(b.id, "stopped", timeout=QUICK)
    got = {n: json.loads((d / n).read_text())["status"]
           for n in ("createRuntime", "createContainer", "startContainer")}
    assert got == {"createRuntime": "creating", "createContainer": "created",
                   "startContainer": "created"}, got


@pytest.mark.edgecr_only
def test_failing_poststart_hook_fails_start_and_stops(env, rt):
    b = env.bundle("sleep", "30")
    b.config["hooks"] = {"poststart": [{"path": hook_script(env, "fail.sh", "exit 3")}]}
    rt.create(b)
    p = rt("start", b.id, check=False, timeout=QUICK)
    assert p.returncode != 0
    assert "poststart" in p.stderr, p.stderr
    # stopped, and the lifecycle went on to its destruction (spec: "continue
    # the lifecycle at step 12"), as with runc and crun
    st = rt("state", b.id, check=False)
    assert st.returncode != 0 and "does not exist" in st.stderr, (st.stdout, st.stderr)
    assert not any(d.exists() for d in CG.procs_dirs(b.cgroups_path))


def test_failing_poststop_hook_does_not_skip_the_others(env, rt):
    mark = env.tmp / "second-ran"
    b = env.bundle("true")
    b.config["hooks"] = {"poststop": [
        {"path": hook_script(env, "fail.sh", "exit 3")},
        {"path": hook_script(env, "mark.sh", f"touch {mark}")}]}
    rt.create(b)
    rt("start", b.id, timeout=QUICK)
    assert rt.wait_status(b.id, "stopped", timeout=QUICK)
    p = rt.delete(b.id, check=False)
    assert p.returncode == 0, p.stderr
    assert mark.exists(), "the poststop hook after a failing one did not run"


# ------------------------------------------------------------------ item 12: joined mount ns

def test_joined_mount_namespace_honours_root_path(env, rt):
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                               "sleep", "60"])
    try:
        ns = f"/proc/{holder.pid}/ns/mnt"
        assert wait_until(lambda: os.stat(ns).st_ino != os.stat("/proc/self/ns/mnt").st_ino, 5)
        b = env.bundle("sh", "-c", "cat /marker; readlink /proc/self/ns/mnt")
        (b.rootfs / "marker").write_text("inside-rootfs\n")
        for n in b.linux["namespaces"]:
            if n["type"] == "mount":
                n["path"] = ns
        p = rt.run(b, timeout=QUICK)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0] == "inside-rootfs"
        assert lines[1] == f"mnt:[{os.stat(ns).st_ino}]"
    finally:
        holder.kill()
        holder.wait()


def test_root_path_is_looked_up_in_the_joined_mount_namespace(env, rt):
    """A root that exists only in the joined namespace (a tmpfs mounted
    there) is found; one that exists nowhere is an error naming it."""
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               "mount -t tmpfs tmpfs /mnt && mkdir /mnt/r && "
                               "cp -a \"$0\"/. /mnt/r/ && echo private > /mnt/r/where && "
                               "touch /mnt/ready && exec sleep 60", str(env.template)])
    try:
        ready = f"/proc/{holder.pid}/root/mnt/ready"
        assert wait_until(lambda: os.path.exists(ready), 10)
        b = env.bundle("cat", "/where")
        b.config["root"]["path"] = "/mnt/r"
        for n in b.linux["namespaces"]:
            if n["type"] == "mount":
                n["path"] = f"/proc/{holder.pid}/ns/mnt"
        p = rt.run(b, timeout=QUICK)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "private"
        b2 = env.bundle("true")
        b2.config["root"]["path"] = "/mnt/nowhere"
        for n in b2.linux["namespaces"]:
            if n["type"] == "mount":
                n["path"] = f"/proc/{holder.pid}/ns/mnt"
        p = rt.run(b2, timeout=QUICK)
        assert p.returncode != 0
        assert "/mnt/nowhere" in p.stderr, p.stderr
    finally:
        holder.kill()
        holder.wait()


# ------------------------------------------------------------------ item 12: work or refuse

@pytest.mark.edgecr_only
def test_kernel_tcp_is_accepted_with_a_warning(env, rt):
    b = env.bundle("true")
    b.linux["resources"]["memory"] = {"kernelTCP": 16 * 1024 * 1024}
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 0, p.stderr
    assert "kernelTCP" in p.stderr, p.stderr


@pytest.mark.edgecr_only
@pytest.mark.parametrize("mount,field", [
    ({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
      "options": ["idmap"]}, "mounts[7].options"),
    ({"destination": "/mnt", "type": "bind", "source": "/tmp",
      "options": ["rbind", "idmap"]}, "mounts[7]"),   # no mappings, no user ns
    ({"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind"],
      "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1000}]}, "mounts[7]"),
    ({"destination": "/mnt", "type": "bind", "source": "/tmp",
      "options": ["rbind", "tmpcopyup"]}, "mounts[7].options"),
])
def test_mount_features_misused_are_refused(env, rt, mount, field):
    b = env.bundle("true")
    b.add_mount(mount)
    assert len(b.config["mounts"]) == 8
    p = rt.run(b, timeout=QUICK)
    assert p.returncode != 0
    assert f"`{field}`" in p.stderr, p.stderr
    assert rt.status(b.id) is None


def test_idmap_mount_maps_file_owners(env, rt):
    """mounts[].uidMappings: an on-disk owner `containerID` shows as
    `hostID`; owners outside the mapping show as the overflow id."""
    if not mount_setattr_available():
        pytest.skip("needs mount_setattr(2) (Linux 5.12)")
    src = env.tmp / "idmap-src"
    src.mkdir()
    (src / "by-root").write_text("r")
    (src / "by-user").write_text("u")
    os.chown(src / "by-user", 1000, 1000)
    b = env.bundle("sh", "-c", "stat -c '%u:%g' /mnt/by-root /mnt/by-user")
    b.add_mount({"destination": "/mnt", "type": "bind", "source": str(src),
                 "options": ["bind"],
                 "uidMappings": [{"containerID": 0, "hostID": 2000, "size": 1}],
                 "gidMappings": [{"containerID": 0, "hostID": 3000, "size": 1}]})
    p = rt.run(b, timeout=QUICK)
    if p.returncode != 0 and "not support id-mapped" in p.stderr:
        pytest.skip(f"this filesystem cannot be id-mapped: {p.stderr.strip()}")
    assert p.returncode == 0, p.stderr
    overflow = Path("/proc/sys/fs/overflowuid").read_text().strip()
    overflow_g = Path("/proc/sys/fs/overflowgid").read_text().strip()
    assert p.stdout.splitlines() == ["2000:3000", f"{overflow}:{overflow_g}"], p.stdout
    # the files themselves are untouched
    assert os.stat(src / "by-root").st_uid == 0


@pytest.mark.parametrize("option", ["idmap", "ridmap"])
def test_idmap_option_takes_the_container_mappings(env, rt, option):
    """In a user-namespaced container, `idmap` without mappings of its own
    maps the source like the container: host root's files show as the
    container's root instead of the overflow id."""
    if not mount_setattr_available():
        pytest.skip("needs mount_setattr(2) (Linux 5.12)")
    src = env.tmp / "idmap-ns-src"
    src.mkdir()
    (src / "by-root").write_text("r")
    b = env.bundle("sh", "-c", "stat -c '%u' /mnt/by-root /mnt/plain/by-root")
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    os.chown(b.rootfs, 200000, 200000)
    b.add_mount({"destination": "/mnt", "type": "bind", "source": str(src),
                 "options": ["rbind", option]})
    (src / "plain").mkdir()
    b.add_mount({"destination": "/mnt/plain", "type": "bind", "source": str(src),
                 "options": ["rbind"]})
    p = rt.run(b, timeout=QUICK)
    if p.returncode != 0 and "not support id-mapped" in p.stderr:
        pytest.skip(f"this filesystem cannot be id-mapped: {p.stderr.strip()}")
    assert p.returncode == 0, p.stderr
    overflow = Path("/proc/sys/kernel/overflowuid").read_text().strip()
    assert p.stdout.splitlines() == ["0", overflow], p.stdout


@pytest.mark.parametrize("ro", [False, True])
def test_tmpcopyup_fills_the_tmpfs(env, rt, ro):
    b = env.bundle("sh", "-c",
                   "grep ' /srv ' /proc/mounts | cut -d' ' -f3; cat /srv/a /srv/d/b; "
                   "readlink /srv/l; stat -c '%u:%g %a' /srv/a /srv/d; "
                   "touch /srv/new 2>/dev/null && echo writable || echo read-only")
    srv = b.rootfs / "srv"
    (srv / "d").mkdir(parents=True)
    (srv / "a").write_text("file-a\n")
    (srv / "d" / "b").write_text("file-b\n")
    os.symlink("d/b", srv / "l")
    os.chown(srv / "a", 1000, 1000)
    os.chmod(srv / "a", 0o604)
    os.chmod(srv / "d", 0o711)
    b.add_mount({"destination": "/srv", "type": "tmpfs", "source": "tmpfs",
                 "options": ["tmpcopyup", "mode=755"] + (["ro"] if ro else [])})
    p = rt.run(b, timeout=QUICK)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "tmpfs", "file-a", "file-b", "d/b", "1000:1000 604", "0:0 711",
        "read-only" if ro else "writable"], p.stdout
    # the copy went to the tmpfs, not into the image
    assert not (srv / "new").exists()




def test_rro_makes_submounts_read_only(env, rt):
    if not mount_setattr_available():
        pytest.skip("needs mount_setattr(2) (Linux 5.12), probed on x86_64")
    src = env.tmp / "rro-src"
    (src / "sub").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(src / "sub")], check=True)
    try:
        b = env.bundle("sh", "-c", "touch /mnt/sub/f 2>&1; echo rc=$?; touch /mnt/g 2>&1; echo rc=$?")
        b.add_mount({"destination": "/mnt", "type": "bind", "source": str(src),
                     "options": ["rbind", "rro"]})
        p = rt.run(b, timeout=QUICK)
        assert p.returncode == 0, p.stderr
        assert p.stdout.count("Read-only file system") == 2, p.stdout
        assert "rc=0" not in p.stdout
    finally:
        subprocess.run(["umount", "-l", str(src / "sub")])


@pytest.mark.edgecr_only
def test_features_lists_what_now_works():
    from itlib import RUNTIME
    f = json.loads(subprocess.run([RUNTIME, "features"], capture_output=True, text=True,
                                  timeout=QUICK).stdout)
    assert {"rro", "rnosuid", "idmap", "ridmap", "tmpcopyup"} <= set(f["mountOptions"])
    assert f["linux"]["mountExtensions"]["idmap"]["enabled"] is True


def numa_nodes():
    try:
        return Path("/sys/devices/system/node/online").read_text().strip()
    except OSError:
        return None


@pytest.mark.parametrize("mode,with_nodes,flags,shown", [
    ("MPOL_DEFAULT", False, [], " default"),
    ("MPOL_LOCAL", False, [], " local"),
    ("MPOL_BIND", True, [], " bind:"),
    ("MPOL_INTERLEAVE", True, [], " interleave:"),
    ("MPOL_PREFERRED", True, ["MPOL_F_STATIC_NODES"], " prefer=static:"),
])
def test_memory_policy_is_applied(env, rt, mode, with_nodes, flags, shown):
    nodes = numa_nodes()
    if nodes is None:
        pytest.skip("kernel without NUMA support (no /sys/devices/system/node)")
    first = nodes.split(",")[0].split("-")[0]

    def cfg(b):
        b.linux["memoryPolicy"] = {"mode": mode, "flags": flags}
        if with_nodes:
            b.linux["memoryPolicy"]["nodes"] = first
    # numa_maps shows each mapping's policy; the process policy applies to
    # the ones without their own (the heap, the stack).
    p = run_out(env, rt, "cat /proc/self/numa_maps", cfg)
    assert p.returncode == 0, p.stderr
    assert shown in p.stdout, p.stdout


@pytest.mark.edgecr_only
@pytest.mark.parametrize("policy,field", [
    ({"mode": "MPOL_FOO"}, "linux.memoryPolicy.mode"),
    ({"mode": "MPOL_BIND"}, "linux.memoryPolicy.nodes"),
    ({"mode": "MPOL_LOCAL", "nodes": "0"}, "linux.memoryPolicy.nodes"),
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_BOGUS"]},
     "linux.memoryPolicy.flags"),
])
def test_memory_policy_errors_name_the_field(env, rt, policy, field):
    b = env.bundle("true")
    b.linux["memoryPolicy"] = policy
    p = rt.run(b, timeout=QUICK)
    assert p.returncode != 0
    assert field in p.stderr, p.stderr


def test_memory_policy_on_a_node_that_does_not_exist_fails_cleanly(env, rt):
    if numa_nodes() is None:
        pytest.skip("kernel without NUMA support (no /sys/devices/system/node)")
    b = env.bundle("true")
    b.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "1000"}
    p = rt.run(b, timeout=QUICK)
    assert p.returncode != 0
    assert "memoryPolicy" in p.stderr, p.stderr


def test_unknown_capabilities_are_ignored_with_a_warning(env, rt):
    """A capability name this host does not know (a config for a newer
    kernel) is ignored, as runc and crun do, and create says so."""
    b = env.bundle("sh", "-c", "grep CapBnd /proc/self/status")
    caps = b.process.setdefault("capabilities", {})
    caps["bounding"] = ["CAP_KILL", "CAP_UNKNOWN"]
    caps["effective"] = caps["permitted"] = ["CAP_KILL"]
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert "0000000000000020" in p.stdout, p.stdout  # CAP_KILL (bit 5) only
    if IS_EDGECR:
        assert "CAP_UNKNOWN" in p.stderr and "ignored" in p.stderr, p.stderr


# crun's behaviour (runc 1.1 lets a contradicting kernel.domainname through);
# kernel.hostname is refused by all three.
@pytest.mark.edgecr_only
def test_domainname_sysctl_agreeing_with_domainname(env, rt):
    """kernel.domainname as a sysctl in the container's own UTS namespace:
    accepted when it agrees with domainname, refused (naming the field) when
    it contradicts it; kernel.hostname is `hostname`'s alone."""
    cmd = "cat /proc/sys/kernel/domainname"
    b = env.bundle("sh", "-c", cmd)
    b.config["domainname"] = "same.example"
    b.linux["sysctl"] = {"kernel.domainname": "same.example"}
    p = rt.run(b)
    assert p.returncode == 0 and p.stdout.strip() == "same.example", (p.stdout, p.stderr)
    b2 = env.bundle("sh", "-c", cmd)
    b2.config["domainname"] = "one.example"
    b2.linux["sysctl"] = {"kernel.domainname": "other.example"}
    p = rt.run(b2)
    assert p.returncode != 0
    assert "linux.sysctl.kernel.domainname" in p.stderr and "contradicts" in p.stderr, p.stderr
    b3 = env.bundle("true")
    b3.config["hostname"] = "h"
    b3.linux["sysctl"] = {"kernel.hostname": "h"}
    p = rt.run(b3)
    assert p.returncode != 0 and "linux.sysctl.kernel.hostname" in p.stderr, p.stderr


def test_exec_cap_adds_bounding_effective_permitted(env, rt):
    """`exec --cap` gives the exec'd process the capability in its bounding,
    effective and permitted sets, not inheritable (runc, crun); an unknown
    name is ignored."""
    b = env.bundle("sleep", "30")
    b.process["capabilities"] = {}
    rt.create(b)
    rt.start(b.id)
    try:
        p = rt("exec", "--cap", "CAP_KILL", b.id, "cat", "/proc/self/status")
        st = dict(l.split(":\t") for l in p.stdout.splitlines() if l.startswith("Cap"))
        assert (st["CapBnd"], st["CapEff"], st["CapPrm"], st["CapInh"]) == (
            "0000000000000020", "0000000000000020", "0000000000000020", "0000000000000000"), st
        p = rt("exec", "--cap", "CAP_UNKNOWN", b.id, "cat", "/proc/self/status", check=False)
        assert p.returncode == 0, p.stderr
        # `"capabilities": {}`: every set empty, for the exec'd process too
        st = dict(l.split(":\t") for l in p.stdout.splitlines() if l.startswith("Cap"))
        assert set(st.values()) == {"0000000000000000"}, st
    finally:
        rt.delete(b.id, force=True)
