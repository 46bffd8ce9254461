"""cgroupsPath safety, memory updates, and the command-line hardening of
issue 9 (items 8, 14, 15, 16), on the host's real cgroups.

Processes that must survive are sacrificial ones this test starts itself,
in cgroups this test makes itself (never the host's root cgroup): a
`sleep` in /h-cgroup-victim-<uuid> stands for "someone else's processes".
Spellings of the root cgroup are only ever given to `create`, which must
refuse them before it touches anything; the test does not track those
containers, so its clean-up never runs `delete --force` on them.

Runs on v1, hybrid and pure v2 hosts: hierarchies are found from the
mount table, and the memory test uses whichever hierarchy has memory.  On
a hybrid host the cgroup tests run twice: on the host's layout, and with
edgecr pointed at the cgroup2 mount alone ($EDGECR_CGROUP_ROOT), the layout
of a default Debian 12 install.
"""
import json
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from itlib import (CGROUP_PARENT, cgroup_mounts, pid_alive,
                   unified_dir, v1_controller_dir, wait_until)

pytestmark = pytest.mark.edgecr_only

MiB = 1024 * 1024


def host_hierarchies():
    """Every cgroup hierarchy root edgecr writes to (v1 mounts + cgroup2)."""
    return [m for m in cgroup_mounts() if os.path.exists(os.path.join(m, "cgroup.procs"))]


def hybrid_unified():
    """The cgroup2 mount of a hybrid host, or None."""
    u = unified_dir()
    if u and not Path("/sys/fs/cgroup/cgroup.controllers").exists() and v1_controller_dir("pids") \
            is not None:
        return u
    return None


class Layout:
    def __init__(self, name, rt, hierarchies):
        self.name = name
        self.rt = rt
        self.hierarchies = hierarchies

    def dirs_for(self, cgroups_path):
        return [str(Path(m, cgroups_path.lstrip("/"))) for m in self.hierarchies
                if Path(m, cgroups_path.lstrip("/")).is_dir()]


@pytest.fixture(params=["host", "pure-v2"])
def cg(request, env):
    rt = env.rt
    if request.param == "host":
        return Layout("host", rt, host_hierarchies())
    u = hybrid_unified()
    if u is None:
        pytest.skip("not a hybrid host: its own layout is the only one (the `host` run covers it)")
    rt.env = lambda: dict(os.environ, EDGECR_TEST_TAG=rt.tag, EDGECR_CGROUP_ROOT=u)
    return Layout("pure-v2", rt, [u])


class Victim:
    """A sleep we start, in a cgroup we make in every hierarchy."""

    def __init__(self, hierarchies):
        self.path = f"/h-cgroup-victim-{uuid.uuid4().hex[:12]}"
        self.dirs = []
        for m in hierarchies:
            d = Path(m, self.path.lstrip("/"))
            try:
                d.mkdir()
            except OSError:
                continue  # e.g. a hybrid host's cgroup2 refusing a controller
            self.dirs.append(d)
        assert self.dirs, "could not make the victim's cgroup anywhere"
        self.proc = subprocess.Popen(["sleep", "1000"])
        for d in self.dirs:
            try:
                (d / "cgroup.procs").write_text(str(self.proc.pid))
            except OSError:
                pass
        assert any(str(self.proc.pid) in (d / "cgroup.procs").read_text().split()
                   for d in self.dirs)

    def alive(self):
        return self.proc.poll() is None and pid_alive(self.proc.pid)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()  # by its Popen handle: our own child
        self.proc.wait()
        for d in self.dirs:
            wait_until(lambda: _try_rmdir(d), 5)


def _try_rmdir(d):
    try:
        d.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


@pytest.fixture
def victim(cg):
    v = Victim(cg.hierarchies)
    yield v
    v.close()


def bundle_at(env, cgroups_path, *args):
    b = env.bundle(*(args or ("sleep", "1000")))
    b.config["linux"]["cgroupsPath"] = cgroups_path
    # no device rules: nothing to write anywhere but the container's group
    b.config["linux"].pop("resources", None)
    b.write()
    return b


def no_state(rt, cid):
    return not (rt.root / cid).exists()


# ---------------------------------------------------------------- item 8

def test_existing_cgroup_with_processes_is_refused(env, cg, victim):
    rt = cg.rt
    """Someone else's cgroup (it holds processes): create refuses it, so no
    kill --all or delete --force of this container can reach them."""
    for spelling in (victim.path, victim.path + "/.", "/" + victim.path + "//"):
        b = bundle_at(env, spelling)
        p = rt.create(b, check=False)
        if p.returncode == 0:  # the defect: prove the harm, then fail
            rt("kill", "--all", b.id, "KILL", check=False)
            wait_until(lambda: not victim.alive(), 2)
        assert p.returncode != 0, f"create accepted the occupied cgroup {spelling!r}"
        assert "already exists and holds 1 process(es)" in p.stderr, p.stderr
        assert no_state(rt, b.id)
        assert victim.alive()
        assert all(d.is_dir() for d in victim.dirs), "the victim's cgroup was removed"


@pytest.mark.parametrize("spelling", ["/", "/.", "//", "/./", "/a/../..", "..", ".",
                                      "/edgecr", "edgecr/.."])
def test_root_spellings_refused(env, rt, spelling):
    """Every spelling of a hierarchy root (or of /edgecr, the parent of all
    default container groups) is refused before anything is made."""
    b = bundle_at(env, spelling)
    cid = b.id  # deliberately not tracked: no clean-up delete --force
    p = rt("create", "--bundle", b.path, cid, check=False)
    if p.returncode == 0:  # the defect: undo by hand, never via the runtime
        st = json.loads((rt.root / cid / "state.json").read_text())
        if st.get("pid"):
            os.kill(st["pid"], signal.SIGKILL)
        shutil.rmtree(rt.root / cid, ignore_errors=True)
    assert p.returncode != 0, f"create accepted cgroupsPath {spelling!r}"
    assert "linux.cgroupsPath" in p.stderr, p.stderr
    assert no_state(rt, cid)


def test_component_longer_than_name_max_fails_cleanly(env, rt):
    b = bundle_at(env, f"/{CGROUP_PARENT}/{'n' * 300}")
    p = rt.create(b, check=False)
    assert p.returncode != 0
    assert "NAME_MAX" in p.stderr, p.stderr
    assert no_state(rt, b.id)
    assert rt("delete", "--force", b.id, check=False).returncode == 0


def test_path_that_cannot_be_made_fails_cleanly(env, cg):
    """A component that is a file (here cgroup.procs): create fails, what it
    made on the way is removed, and nothing undeletable is left."""
    rt = cg.rt
    top = f"/h-cgroup-nomk-{uuid.uuid4().hex[:12]}"
    b = bundle_at(env, f"{top}/cgroup.procs/x")
    p = rt.create(b, check=False)
    assert p.returncode != 0
    assert "create cgroup" in p.stderr, p.stderr
    assert no_state(rt, b.id)
    assert rt("delete", "--force", b.id, check=False).returncode == 0
    assert cg.dirs_for(top) == []


def test_nested_parents_made_by_edgecr_are_removed(env, cg):
    rt = cg.rt
    top = f"/h-cgroup-nest-{uuid.uuid4().hex[:12]}"
    b = bundle_at(env, f"{top}/a/b", "true")
    rt.create(b)
    assert len(cg.dirs_for(f"{top}/a/b")) == len(cg.hierarchies)
    rt.start(b.id)
    assert rt.wait_status(b.id, "stopped")
    rt.delete(b.id)
    assert cg.dirs_for(top) == [], "parents edgecr made were left"


def test_shared_parent_goes_with_the_last_container(env, cg):
    """The parent is made by the first container; it is still removed when
    that one is deleted first and the other one last."""
    rt = cg.rt
    top = f"/h-cgroup-shared-{uuid.uuid4().hex[:12]}"
    b1 = bundle_at(env, f"{top}/c1")
    b2 = bundle_at(env, f"{top}/c2")
    rt.create(b1)
    rt.create(b2)
    rt.delete(b1.id, force=True)
    assert cg.dirs_for(top), "parent removed while c2 still uses it"
    assert cg.dirs_for(f"{top}/c2")
    rt.delete(b2.id, force=True)
    assert cg.dirs_for(top) == []


def test_existing_empty_cgroup_is_used_and_kept(env, cg):
    """An empty group made by someone else may be used (as runc allows); it
    is not edgecr's to remove."""
    rt = cg.rt
    path = f"/h-cgroup-pre-{uuid.uuid4().hex[:12]}"
    made = []
    for m in cg.hierarchies:
        d = Path(m, path.lstrip("/"))
        try:
            d.mkdir()
            made.append(d)
        except OSError:
            pass
    try:
        b = bundle_at(env, path)
        rt.create(b)
        pid = rt.state(b.id)["pid"]
        assert any(str(pid) in (d / "cgroup.procs").read_text().split() for d in made)
        rt("kill", "--all", b.id, "KILL")
        assert rt.wait_status(b.id, "stopped")
        rt.delete(b.id)
        assert all(d.is_dir() for d in made), "delete removed a cgroup it did not make"
    finally:
        for d in made:
            wait_until(lambda: _try_rmdir(d), 5)


def test_kill_all_reaches_every_process_of_its_own_group(env, cg, victim):
    rt = cg.rt
    b = env.bundle("sh", "-c", "sleep 1000 & sleep 1000 & wait")
    rt.create(b)
    rt.start(b.id)
    pids = wait_until(lambda: (lambda ps: ps if len(ps) >= 3 else None)(
        json.loads(rt("ps", "--format", "json", b.id).stdout)), 5)
    assert pids and len(pids) >= 3
    rt("kill", "--all", b.id, "KILL")
    assert wait_until(lambda: not any(pid_alive(p) for p in pids), 5)
    assert victim.alive()
    rt.delete(b.id)


def test_kill_all_leaves_a_paused_container_paused(env, cg):
    rt = cg.rt
    b = env.bundle("sleep", "1000")
    rt.create(b)
    rt.start(b.id)
    rt("pause", b.id)
    rt("kill", "--all", b.id, "CONT")
    assert rt.status(b.id) == "paused"
    rt("resume", b.id)
    assert rt.status(b.id) == "running"
    rt.delete(b.id, force=True)


# ---------------------------------------------------------------- item 14

def memory_files(cg, cgroups_path):
    """(dir, memory file, swap file, v2?) of the hierarchy holding memory."""
    v1 = v1_controller_dir("memory")
    if v1 and v1 in cg.hierarchies:
        d = Path(v1, cgroups_path.lstrip("/"))
        return d, "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", False
    u = unified_dir()
    if u in cg.hierarchies and "memory" in Path(u, "cgroup.controllers").read_text().split():
        d = Path(u, cgroups_path.lstrip("/"))
        return d, "memory.max", "memory.swap.max", True
    return None


def test_update_memory_with_swap_both_directions(env, cg):
    """What Kubernetes' in-place resize sends: memory and memory+swap
    together, up and then down."""
    rt = cg.rt
    b = env.bundle("sleep", "1000")
    b.config["linux"]["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    b.write()
    probe = memory_files(cg, b.cgroups_path)
    if probe is None:
        pytest.skip(f"no memory controller in the {cg.name} layout of this host")
    d, mem_file, swap_file, v2 = probe
    if not v2 and not Path(v1_controller_dir("memory"), swap_file).exists():
        pytest.skip("cgroup v1 without swap accounting (swapaccount=0): no memsw limit to order")
    rt.create(b)
    if v2 and not (d / swap_file).exists():
        rt.delete(b.id, force=True)
        pytest.skip("cgroup v2 without swap accounting (no memory.swap.max)")
    for mem, swap in ((128, 128), (256, 512), (96, 96), (32, 64)):
        p = rt("update", "--memory", str(mem * MiB), "--memory-swap", str(swap * MiB), b.id, check=False)
        assert p.returncode == 0, f"update to {mem}M/{swap}M: {p.stderr}"
        assert int((d / mem_file).read_text()) == mem * MiB
        want_swap = (swap - mem) * MiB if v2 else swap * MiB
        assert int((d / swap_file).read_text()) == want_swap
    if not v2:  # memory alone above memory+swap: the kernel's EINVAL, explained
        p = rt("update", "--memory", str(128 * MiB), b.id, check=False)
        assert p.returncode != 0
        assert "memory.memsw.limit_in_bytes) is 67108864, below the new memory limit" in p.stderr, p.stderr
    rt.delete(b.id, force=True)


# ---------------------------------------------------------------- item 15

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_errors_reach_stderr_and_the_log(env, rt, fmt):
    log = env.tmp / f"rt-{fmt}.log"
    p = rt("update", "--memory", "1", "no-such-container", check=False, log=log, log_format=fmt)
    assert p.returncode != 0
    assert "no-such-container" in p.stderr and "does not exist" in p.stderr, p.stderr
    assert p.stderr.count("does not exist") == 1
    text = log.read_text()
    assert "does not exist" in text
    if fmt == "json":
        recs = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert any(r["level"] == "error" and "does not exist" in r["msg"] for r in recs)


# ---------------------------------------------------------------- item 16

def test_ps_arguments_are_not_a_shell_command(env, rt):
    b = env.bundle("sleep", "1000")
    rt.create(b)
    marker = env.tmp / "pwned"
    p = rt("ps", b.id, f"x'; touch {marker}; echo '", check=False)
    assert not marker.exists(), "ps ran its arguments through a shell"
    assert p.returncode != 0  # ps itself refuses the odd argument
    p = rt("ps", b.id, "-o", "pid,comm")
    pid = rt.state(b.id)["pid"]
    assert any(line.split()[0] == str(pid) for line in p.stdout.splitlines()[1:]), p.stdout
    rt.delete(b.id, force=True)


def test_exec_reads_the_config_under_the_container_lock(env, rt):
    """While another operation holds the container's lock, exec must not
    read its config: it sees the config as the lock holder leaves it."""
    import fcntl
    b = env.bundle("sleep", "1000")
    rt.create(b)
    rt.start(b.id)
    cdir = rt.root / b.id
    fd = os.open(cdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen(rt.argv("exec", b.id, "sh", "-c", "echo $LOCKTEST"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=rt.env())
        # exec is now waiting for the lock (or, before the fix, has read
        # the config already); change the config as the lock holder
        wait_until(lambda: proc.poll() is not None, 0.5)
        cfg = json.loads((cdir / "config.json").read_text())
        cfg["process"]["env"].append("LOCKTEST=after-the-lock")
        (cdir / "config.json").write_text(json.dumps(cfg))
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "after-the-lock"
    rt.delete(b.id, force=True)
