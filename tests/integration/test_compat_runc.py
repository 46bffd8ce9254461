"""Behaviour that runc and crun share and that configs and users rely on
(issue 9, items 11 and 13): configs that both accept (ambient capabilities
outside the inheritable set, filesystem options on bind mounts,
rootfsPropagation "unbindable") and the defaults of runc's process set-up
(HOME from /etc/passwd, a missing cwd under a read-only root, loopback up,
hooks inheriting the runtime's environment, exec'd processes in their own
session, tmpfs keeping its mount point's mode, /dev bound from the host,
bind sources and devices in a user namespace).

Every test runs real containers of the binary under test; the suite is
written to the runc contract, so EDGECR_BIN=/usr/sbin/runc runs it too.
"""
import os
import stat
import subprocess
from pathlib import Path

import pytest

from itlib import CAP_NUMBERS, IS_EDGECR, mounts_under, parse_status, wait_until

# Where runc 1.1.5 (Debian 12) fails a test here, the test is edgecr_only
# and says what runc does.
edgecr_only = pytest.mark.edgecr_only


def run_ok(env, rt, script, configure=None):
    """Run `sh -c script` in a fresh container; return (stdout, stderr)."""
    b = env.bundle("sh", "-c", script)
    if configure:
        configure(b)
    p = rt.run(b)
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout, p.stderr


def userns(b, host_id=100000):
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": host_id, "size": 65536}]


def userns_usable():
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except OSError:
        return False


needs_userns = pytest.mark.skipif(not userns_usable(),
                                  reason="user namespaces are disabled on this host")


# ---- item 11: configs runc and crun accept ---------------------------------

def test_ambient_outside_inheritable_raises_what_it_can(env, rt):
    """ambient = {NET_BIND_SERVICE, KILL}, inheritable = {NET_BIND_SERVICE}:
    the container runs, NET_BIND_SERVICE is ambient, KILL is not (the kernel
    cannot raise it) and the runtime says so."""
    def cfg(b):
        caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
        b.process["capabilities"] = {
            "bounding": caps, "effective": caps, "permitted": caps,
            "inheritable": ["CAP_NET_BIND_SERVICE"], "ambient": caps}
        b.process["user"] = {"uid": 1000, "gid": 1000}
    out, err = run_ok(env, rt, "cat /proc/self/status", cfg)
    amb = int(parse_status(out)["CapAmb"], 16)
    assert amb == 1 << CAP_NUMBERS["CAP_NET_BIND_SERVICE"], hex(amb)
    if IS_EDGECR:  # runc 1.1.5 is silent about it
        assert "CAP_KILL not raised" in err, err


def test_ambient_without_inheritable_runs(env, rt):
    """`runc spec`-era configs list ambient capabilities and no inheritable
    set: runc and crun run them (with no ambient capability)."""
    def cfg(b):
        caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        b.process["capabilities"] = {"bounding": caps, "effective": caps,
                                     "permitted": caps, "ambient": caps}
    out, _ = run_ok(env, rt, "cat /proc/self/status", cfg)
    st = parse_status(out)
    assert int(st["CapAmb"], 16) == 0
    assert int(st["CapEff"], 16) == sum(1 << CAP_NUMBERS[c] for c in
                                        ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"))


def test_bind_mount_with_filesystem_options(env, rt):
    """Options mount(2) does not know as flags are its data string; for a bind
    mount the kernel ignores them (runc and crun accept e.g. mode=)."""
    src = env.tmp / "bindsrc"
    src.mkdir()
    (src / "f").write_text("bound\n")
    def cfg(b):
        b.add_mount({"destination": "/data", "type": "bind", "source": str(src),
                     "options": ["rbind", "mode=755", "ro"]})
    out, _ = run_ok(env, rt, "cat /data/f; touch /data/g 2>/dev/null && echo writable || echo ro", cfg)
    assert out.split() == ["bound", "ro"]


@edgecr_only  # runc 1.1.5: EINVAL binding the rootfs from an unbindable /
def test_rootfs_propagation_unbindable(env, rt):
    def cfg(b):
        b.linux["rootfsPropagation"] = "unbindable"
    out, _ = run_ok(env, rt, "cat /proc/self/mountinfo", cfg)
    root = [l for l in out.splitlines() if l.split()[4] == "/"]
    assert root, out
    assert "unbindable" in root[-1].split(" - ")[0], root[-1]


# ---- item 13: runc's process defaults ---------------------------------------

@pytest.mark.parametrize("uid,home", [(0, "/root"), (1000, "/home/user"), (4242, "/")])
def test_home_from_container_passwd(env, rt, uid, home):
    def cfg(b):
        b.process["user"] = {"uid": uid, "gid": uid}
    out, _ = run_ok(env, rt, 'echo "HOME=$HOME"', cfg)
    assert out.strip() == f"HOME={home}"


def test_home_given_is_kept(env, rt):
    def cfg(b):
        b.process["env"].append("HOME=/elsewhere")
    out, _ = run_ok(env, rt, 'echo "HOME=$HOME"', cfg)
    assert out.strip() == "HOME=/elsewhere"


def test_home_in_exec(env, rt):
    b = env.bundle("sleep", "100")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    rt.run_detached(b)
    out = rt.exec(b.id, "sh", "-c", 'echo "HOME=$HOME"').stdout
    assert out.strip() == "HOME=/home/user"


def test_missing_cwd_created_under_readonly_root(env, rt):
    def cfg(b):
        b.config["root"]["readonly"] = True
        b.process["cwd"] = "/new/work/dir"
    out, _ = run_ok(env, rt, "pwd", cfg)
    assert out.strip() == "/new/work/dir"


def test_loopback_up_in_new_network_namespace(env, rt):
    # IFF_UP is bit 0 of the flags sysfs shows for the namespace's lo.
    def cfg(b):
        for k in ("bounding", "effective", "permitted"):
            b.process["capabilities"][k].append("CAP_NET_RAW")  # for ping
    out, _ = run_ok(env, rt, "cat /sys/class/net/lo/flags; "
                    "ping -c1 -W2 127.0.0.1 >/dev/null && echo pong", cfg)
    flags, pong = out.split()
    assert int(flags, 16) & 1, flags
    assert pong == "pong"


def test_hook_without_env_inherits_runtime_env(env, rt):
    out = env.tmp / "hook-env"
    b = env.bundle("true")
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"env > {out}"]}]}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    # The runtime runs with the test's tag in its environment (itlib).
    assert f"EDGECR_TEST_TAG={env.tag}" in lines
    assert any(l.startswith("PATH=") for l in lines)


def test_hook_with_env_gets_only_that(env, rt):
    out = env.tmp / "hook-env"
    b = env.bundle("true")
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"env > {out}"], "env": ["ONLY=1"]}]}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    names = {l.split("=", 1)[0] for l in out.read_text().splitlines()}
    assert "ONLY" in names and "EDGECR_TEST_TAG" not in names


def _pgrp_and_session(stat_line):
    fields = stat_line.rsplit(")", 1)[1].split()
    return int(fields[2]), int(fields[3])  # pgrp, session


def test_exec_process_leads_its_own_group(env, rt):
    b = env.bundle("sleep", "100")
    rt.run_detached(b)
    out = rt.exec(b.id, "sh", "-c", 'echo $$; cat /proc/$$/stat').stdout.splitlines()
    pid = int(out[0])
    pgrp, session = _pgrp_and_session(out[1])
    assert pgrp == pid and session == pid, out


@pytest.mark.parametrize("options,mode", [
    ([], 0o750),
    # runc 1.1.5 chmods to the mount point's mode even over an explicit mode=
    pytest.param(["mode=711"], 0o711, marks=edgecr_only)])
def test_tmpfs_takes_mount_point_mode(env, rt, options, mode):
    def cfg(b):
        d = b.rootfs / "scratch"
        d.mkdir()
        os.chmod(d, 0o750)
        b.add_mount({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                     "options": ["nosuid"] + options})
    out, _ = run_ok(env, rt, "stat -c %a /scratch; grep ' /scratch ' /proc/self/mounts", cfg)
    lines = out.splitlines()
    assert int(lines[0], 8) == mode, out
    assert "tmpfs" in lines[1]


def _without_dev_mounts(b):
    b.config["mounts"] = [m for m in b.config["mounts"]
                          if not m["destination"].startswith("/dev")]


def _fake_host_dev(tmp):
    """A directory laid out like a host's /dev: device nodes and the
    /proc/self/fd links."""
    d = tmp / "fakedev"
    d.mkdir()
    for name, minor in (("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)):
        os.mknod(d / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        os.chmod(d / name, 0o666)
    os.mknod(d / "tty", 0o666 | stat.S_IFCHR, os.makedev(5, 0))
    os.symlink("/proc/self/fd", d / "fd")
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", d / name)
    return d


def test_dev_bound_from_host_directory(env, rt):
    """/dev bind-mounted from a host directory that already has the nodes
    and links: the container runs and the host entries are left alone."""
    fake = _fake_host_dev(env.tmp)
    before = {n: os.lstat(fake / n) for n in os.listdir(fake)}
    def cfg(b):
        _without_dev_mounts(b)
        b.add_mount({"destination": "/dev", "type": "bind", "source": str(fake),
                     "options": ["rbind"]})
    out, _ = run_ok(env, rt, "echo hidden > /dev/null; echo seen > /dev/stdout; "
                    "head -c 3 /dev/zero | wc -c", cfg)
    assert out.split() == ["seen", "3"]
    after = {n: os.lstat(fake / n) for n in os.listdir(fake)}
    assert set(after) == set(before)
    for n, st in before.items():
        assert (after[n].st_ino, after[n].st_mode, after[n].st_rdev) == \
            (st.st_ino, st.st_mode, st.st_rdev), n


def test_image_dev_with_links_and_no_dev_mount(env, rt):
    """No /dev mount: the image's /dev already has the /proc/self/fd links
    (the runtime must not follow them) and a node."""
    def cfg(b):
        _without_dev_mounts(b)
        dev = b.rootfs / "dev"
        os.symlink("/proc/self/fd", dev / "fd")
        for i, name in enumerate(("stdin", "stdout", "stderr")):
            os.symlink(f"/proc/self/fd/{i}", dev / name)
        os.mknod(dev / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    out, _ = run_ok(env, rt, "echo x > /dev/null; echo seen > /dev/stdout; "
                    "readlink /dev/stderr", cfg)
    assert out.split() == ["seen", "/proc/self/fd/2"]


def test_dev_bound_from_host_dev(env, rt):
    """The host's own /dev (read-only, so a runtime that tried to replace
    its entries could not harm the host)."""
    null = os.stat("/dev/null")
    def cfg(b):
        _without_dev_mounts(b)
        b.add_mount({"destination": "/dev", "type": "bind", "source": "/dev",
                     "options": ["rbind", "ro"]})
    out, _ = run_ok(env, rt, "echo x > /dev/null && echo ok > /dev/stdout", cfg)
    assert out.strip() == "ok"
    assert os.stat("/dev/null").st_ino == null.st_ino


@needs_userns
@edgecr_only  # runc 1.1.5: permission denied
def test_userns_bind_source_only_root_can_reach(env, rt):
    """A bind source below a directory only the host's root may enter: the
    runtime reaches it before it becomes the user namespace's root."""
    secret = env.tmp / "secret"
    secret.mkdir(mode=0o700)
    os.chmod(secret, 0o700)
    (secret / "data").mkdir()
    (secret / "data" / "f").write_text("reached\n")
    def cfg(b):
        userns(b)
        # /mnt exists in the image: the mapped root could not create it in
        # a rootfs that host root owns.
        b.add_mount({"destination": "/mnt", "type": "bind",
                     "source": str(secret / "data"), "options": ["rbind"]})
    out, _ = run_ok(env, rt, "cat /mnt/f", cfg)
    assert out.strip() == "reached"


@needs_userns
@edgecr_only  # runc 1.1.5: permission denied
def test_userns_bind_source_of_another_user(env, rt):
    """A source below a 0700 directory of host uid 1234: reachable by the
    host's root only through CAP_DAC_OVERRIDE, which a user namespace's root
    does not have over it."""
    other = env.tmp / "other"
    other.mkdir()
    (other / "data").mkdir()
    (other / "data" / "f").write_text("other\n")
    os.chown(other, 1234, 1234)
    os.chmod(other, 0o700)
    def cfg(b):
        userns(b)
        b.add_mount({"destination": "/mnt", "type": "bind",
                     "source": str(other / "data"), "options": ["bind", "ro"]})
    out, _ = run_ok(env, rt, "cat /mnt/f; touch /mnt/g 2>/dev/null || echo ro", cfg)
    assert out.split() == ["other", "ro"]


@needs_userns
def test_userns_bind_mounts_do_not_propagate_to_host(env, rt):
    """What the container mounts below a bind mount of a shared host mount
    stays in the container."""
    src = env.tmp / "shared-src"
    (src / "sub").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(src), str(src)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(src)], check=True)
        b = env.bundle("sh", "-c", "mount -t tmpfs t /mnt/sub && touch /tmp/mounted; sleep 100")
        userns(b)
        for k in ("bounding", "effective", "permitted"):
            b.process["capabilities"][k].append("CAP_SYS_ADMIN")
        b.add_mount({"destination": "/mnt", "type": "bind", "source": str(src),
                     "options": ["rbind"]})
        rt.run_detached(b)
        assert wait_until(lambda: (b.rootfs / "tmp" / "mounted").exists()), b.stderr()
        assert mounts_under(src) == [str(src)]
    finally:
        rt.delete(b.id, force=True, check=False)
        subprocess.run(["umount", "-R", "-l", str(src)], check=False)


@needs_userns
@edgecr_only  # runc 1.1.5 binds the container path from the host: ENOENT
def test_userns_device_bound_from_host_node(env, rt):
    """mknod is impossible in a user namespace: a device whose path does not
    exist on the host is bound from the host's node of that number."""
    def cfg(b):
        userns(b)
        b.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1,
                               "minor": 3, "fileMode": 0o666}]
    out, _ = run_ok(env, rt, "echo x > /dev/mynull && stat -c '%t:%T' /dev/mynull "
                    "&& head -c 2 /dev/zero | wc -c", cfg)
    assert out.split() == ["1:3", "2"]


@needs_userns
@edgecr_only  # runc 1.1.5 binds the host's /dev/full (1:7)
def test_userns_device_with_wrong_host_path_number(env, rt):
    """The host's node at the same path is a different device: the number
    wins, not the path."""
    def cfg(b):
        userns(b)
        b.linux["devices"] = [{"path": "/dev/full", "type": "c", "major": 1,
                               "minor": 5, "fileMode": 0o666}]
    out, _ = run_ok(env, rt, "stat -c '%t:%T' /dev/full", cfg)
    assert out.strip() == "1:5"
