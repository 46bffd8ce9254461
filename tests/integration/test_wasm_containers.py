"""WebAssembly containers (src/wasm-backend/, docs/wasm-containers.md), end to
end: a clang-built wasm32-wasi program (tests/wasm_containers/c/wctest.c)
packed by tools/wasmimage into an OCI image, imported into a private
containerd and run with `ctr run --runc-binary $EDGECR_BIN`, with no flag
that says "WebAssembly": edgecr recognises the module by its magic.  Also
through edgecr directly (`rt`): selection by annotation, the memory limit,
and bad modules, which must fail `create` naming the file and the reason
and leave nothing behind (the `env` fixture checks processes, cgroups,
mounts and state)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import hostprobe
from itlib import BUSYBOX, RUNTIME, pid_alive, wait_until
from containerd_harness import CONTAINERD, CTR, Containerd, task_status

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

WASMIMAGE = REPO / "tools" / "wasmimage" / "wasmimage.py"
WCTEST = REPO / "tests" / "wasm_containers" / "c" / "wctest.c"
WASM_IMAGE = "docker.io/edgecr-test/wctest:latest"
BUSYBOX_IMAGE = "docker.io/edgecr-test/busybox:latest"
OTHER_IMAGE = "docker.io/edgecr-test/plain-wasm:latest"
EXIT_TRAP = 134

# ctr always asks for cpu.shares, which a runtime must refuse where the host
# has no cpu controller (test_containerd.py checks that refusal).
needs_ctrd = pytest.mark.skipif(
    not (CONTAINERD and CTR) or not hostprobe.cgroups().has("cpu"),
    reason="containerd/ctr not installed" if not (CONTAINERD and CTR) else
    "ctr always sets linux.resources.cpu.shares and this host has no cpu controller "
    f"({hostprobe.cgroups().describe()})")
needs_clang = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")
# A memory limit needs the memory controller (without one the runtime refuses
# it, tests/integration/test_lifecycle.py::test_update_missing_controller_refused).
needs_memory_controller = pytest.mark.skipif(
    not hostprobe.cgroups().has("memory"),
    reason=hostprobe.missing_controller_reason("memory"))


@pytest.fixture(scope="module")
def wctest():
    if shutil.which("clang") is None:
        pytest.skip("clang (wasm32-wasi) not installed")
    return compile_wasm(WCTEST)


# ------------------------------------------------------------ containerd

@pytest.fixture(scope="module")
def ctrd(tmp_path_factory, wctest):
    if not (CONTAINERD and CTR):
        pytest.skip("containerd/ctr not installed")
    from test_containerd import build_oci_archive
    from itlib import _build_rootfs
    tmp = tmp_path_factory.mktemp("wasm-ctrd")
    os.chmod(tmp, 0o755)
    (tmp / "hello.txt").write_text("a file of the image\n")
    subprocess.run([sys.executable, str(WASMIMAGE), "image", "--wasm", str(wctest), "--ref", WASM_IMAGE,
                    "--out", str(tmp / "layout"), "--tar", str(tmp / "wasm.tar"),
                    "--file", f"{tmp / 'hello.txt'}:/data/hello.txt",
                    "--file", f"{BUSYBOX}:/bin/busybox", "--env", "GREETING=hi"], check=True)
    build_oci_archive(_build_rootfs(tmp / "bb-rootfs"), tmp / "busybox.tar")
    # an image made without wasmimage: a plain layer with a module that is
    # not even executable, no annotation
    other = tmp / "other-rootfs"
    other.mkdir()
    shutil.copy(wctest, other / "prog.wasm")
    os.chmod(other / "prog.wasm", 0o644)
    build_oci_archive(other, tmp / "other.tar")
    d = tmp / "daemon"
    d.mkdir()
    c = Containerd(d)
    try:
        c.ctr("images", "import", str(tmp / "wasm.tar"))
        # build_oci_archive names every image BUSYBOX_IMAGE: tag the other
        # one away before the busybox one takes the name back
        c.ctr("images", "import", str(tmp / "other.tar"))
        c.ctr("images", "tag", "--force", BUSYBOX_IMAGE, OTHER_IMAGE)
        c.ctr("images", "import", str(tmp / "busybox.tar"))
        yield c
    finally:
        for cid in c.ctr("containers", "ls", "-q", check=False).stdout.split():
            c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
            c.ctr("task", "delete", "-f", cid, check=False)
            c.ctr("containers", "delete", cid, check=False)
        c.stop()


def cid_():
    return "w" + uuid.uuid4().hex[:10]


# ctr's arguments replace the image's whole command (entrypoint included),
# so they name the module, as a user of ctr would.
def run_rm(c, *args, check=False, timeout=60):
    return c.ctr("run", "--rm", "--runc-binary", RUNTIME, WASM_IMAGE, cid_(), "/app.wasm", *args, check=check,
                 timeout=timeout)



def task_pid(c, cid):
    for line in c.ctr("task", "ls").stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return int(f[1])
    return 0


def run_detached(c, cid, *args, image=WASM_IMAGE):
    if image == WASM_IMAGE:
        args = ("/app.wasm",) + args
    c.ctr("run", "-d", "--runc-binary", RUNTIME, image, cid, *args)
    assert wait_until(lambda: task_status(c, cid) == "RUNNING", 10), c.ctr("task", "ls").stdout


def remove(c, cid):
    c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
    wait_until(lambda: task_status(c, cid) in ("STOPPED", ""), 10)
    c.ctr("task", "delete", cid, check=False)
    c.ctr("containers", "delete", cid, check=False)


def assert_gone(c, cid, pid=0):
    assert cid not in c.ctr("containers", "ls", "-q").stdout.split()
    assert pid == 0 or not pid_alive(pid)
    from test_containerd import task_cgroup_dirs
    assert not task_cgroup_dirs(c, cid)


@needs_ctrd
def test_ctr_run_prints_args_and_env(ctrd):
    p = run_rm(ctrd, "echo", "two words", "", check=True)
    lines = p.stdout.splitlines()
    assert lines[:5] == ["argc=4", "argv[0]=/app.wasm", "argv[1]=echo", "argv[2]=two words", "argv[3]="], p.stdout
    env = [l[4:] for l in lines if l.startswith("env:")]
    assert "GREETING=hi" in env and not any(e.startswith("EDGECR_") for e in env)


@needs_ctrd
@pytest.mark.parametrize("code", [0, 3, 42, 255])
def test_ctr_run_returns_the_exit_code(ctrd, code):
    p = run_rm(ctrd, "exit", str(code))
    assert p.returncode == code, p.stderr
    assert p.stdout == f"exiting with {code}\n"


@needs_ctrd
def test_image_made_by_another_tool_runs(ctrd):
    p = ctrd.ctr("run", "--rm", "--runc-binary", RUNTIME, OTHER_IMAGE, cid_(), "/prog.wasm", "exit", "5",
                 check=False)
    assert p.returncode == 5 and p.stdout == "exiting with 5\n", p.stderr
    # the busybox image kept its name and is still Linux
    p = ctrd.ctr("run", "--rm", "--runc-binary", RUNTIME, BUSYBOX_IMAGE, cid_(), "echo", "linux")
    assert p.stdout == "linux\n"


@needs_ctrd
def test_ctr_run_reads_files_of_the_image(ctrd):
    p = run_rm(ctrd, "cat", "/data/hello.txt")
    assert p.returncode == 0 and p.stdout == "a file of the image\n", p.stderr
    p = run_rm(ctrd, "cat", "/data/../../../etc/hostname-of-the-host-does-not-exist")
    assert p.returncode == 2


@needs_ctrd
def test_ctr_run_trap_exits_134_with_the_message(ctrd):
    p = run_rm(ctrd, "trap")
    assert p.returncode == EXIT_TRAP
    assert p.stdout == "about to trap\n"
    assert "wasm trap: unreachable" in p.stdout + p.stderr


@needs_ctrd
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_stop_signal_ends_a_spinning_module(ctrd, sig):
    c, cid = ctrd, cid_()
    run_detached(c, cid, "spin")
    pid = task_pid(c, cid)
    t0 = time.monotonic()
    c.ctr("task", "kill", "-s", sig, cid)
    assert wait_until(lambda: task_status(c, cid) == "STOPPED", 5)
    took = time.monotonic() - t0
    out = c.ctr("task", "ls").stdout
    c.ctr("task", "delete", cid)
    c.ctr("containers", "delete", cid)
    assert took < 2.0, f"{sig} took {took:.2f}s"
    assert_gone(c, cid, pid)


@needs_ctrd
def test_sigterm_exit_status_is_the_signals(ctrd):
    """`ctr run` (foreground) of a spinning module killed with SIGTERM exits
    as a process killed by SIGTERM: 128 + 15."""
    c, cid = ctrd, cid_()
    p = subprocess.Popen(c.argv("run", "--rm", "--runc-binary", RUNTIME, WASM_IMAGE, cid, "/app.wasm", "spin"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: task_status(c, cid) == "RUNNING", 10)
        time.sleep(0.2)
        c.ctr("task", "kill", "-s", "SIGTERM", cid)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + signal.SIGTERM, (out, err)
    assert out == "spinning\n"


@needs_ctrd
def test_pause_resume_and_ps(ctrd):
    c, cid = ctrd, cid_()
    run_detached(c, cid, "spin")
    try:
        c.ctr("task", "pause", cid)
        assert wait_until(lambda: task_status(c, cid) == "PAUSED", 5)
        pid = task_pid(c, cid)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state in ("D", "S", "T"), state  # frozen, not running
        c.ctr("task", "resume", cid)
        assert wait_until(lambda: task_status(c, cid) == "RUNNING", 5)
        assert str(pid) in c.ctr("task", "ps", cid).stdout
    finally:
        remove(c, cid)


@needs_ctrd
def test_exec_runs_another_module_and_a_linux_binary(ctrd):
    c, cid = ctrd, cid_()
    run_detached(c, cid, "spin")
    try:
        p = c.ctr("task", "exec", "--exec-id", "e1", cid, "/app.wasm", "echo", "from exec")
        assert "argv[2]=from exec" in p.stdout, p.stdout
        p = c.ctr("task", "exec", "--exec-id", "e2", cid, "/bin/busybox", "echo", "linux in a wasm container")
        assert p.stdout == "linux in a wasm container\n"
        p = c.ctr("task", "exec", "--exec-id", "e3", cid, "/app.wasm", "exit", "9", check=False)
        assert p.returncode == 9
    finally:
        remove(c, cid)


@needs_ctrd
def test_terminal(ctrd):
    """ctr run -t: the module's stdin and stdout are the pty."""
    if shutil.which("script") is None:
        pytest.skip("script (util-linux) is needed to give ctr a terminal")
    cmd = " ".join(c for c in ctrd.argv("run", "--rm", "-t", "--runc-binary", RUNTIME, WASM_IMAGE, cid_(), "/app.wasm", "tty"))
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert "stdin tty=1 stdout tty=1" in p.stdout, (p.stdout, p.stderr)


@needs_ctrd
def test_several_wasm_and_linux_containers_at_once(ctrd):
    c = ctrd
    ids = [cid_() for _ in range(4)]
    try:
        run_detached(c, ids[0], "spin")
        run_detached(c, ids[1], "sleep", "60000")
        run_detached(c, ids[2], "sleep", "60", image=BUSYBOX_IMAGE)
        run_detached(c, ids[3], "spin")
        assert all(task_status(c, i) == "RUNNING" for i in ids)
        pids = [task_pid(c, i) for i in ids]
        assert len(set(pids)) == 4
        # the sleeping module stops at once on SIGTERM (its sleep is interrupted)
        c.ctr("task", "kill", "-s", "SIGTERM", ids[1])
        assert wait_until(lambda: task_status(c, ids[1]) == "STOPPED", 3)
        assert task_status(c, ids[0]) == task_status(c, ids[3]) == task_status(c, ids[2]) == "RUNNING"
    finally:
        for i in ids:
            remove(c, i)
    for i, pid in zip(ids, pids):
        assert_gone(c, i, pid)


# ------------------------------------------------------------ edgecr directly

def wasm_bundle(env, module, *args, annotations=None):
    b = env.bundle(cid=None)
    shutil.copy(module, b.path / "rootfs" / "app.wasm")
    b.set_args("/app.wasm", *args)
    if annotations:
        b.config["annotations"] = annotations
    return b


@pytest.mark.sanitizer
@needs_clang
def test_run_selected_by_magic_with_the_container_settings(env, wctest):
    b = wasm_bundle(env, wctest, "cat", "/etc/hostname")
    p = env.rt.run(b)
    assert p.returncode == 0 and p.stdout == "rootfs\n", p.stderr
    st = env.rt("features").stdout
    assert json.loads(st)["annotations"]["org.edgecr.backends"].split(",") == ["remoteproc", "wasm", "linux"]


@needs_clang
def test_readonly_rootfs_applies_to_the_module(env, wctest):
    b = wasm_bundle(env, wctest, "write", "/tmp/x", "data")
    b.config["root"]["readonly"] = True
    p = env.rt.run(b)
    assert p.returncode == 2 and "Read-only file system" in p.stderr, (p.stdout, p.stderr)


@needs_clang
@needs_memory_controller
def test_memory_limit_bounds_linear_memory(env, wctest):
    b = wasm_bundle(env, wctest, "alloc", "64")
    b.linux["resources"]["memory"] = {"limit": 32 << 20}
    p = env.rt.run(b)
    assert p.returncode == 4 and "allocation of 64 MB failed" in p.stdout, (p.stdout, p.stderr)
    b2 = wasm_bundle(env, wctest, "alloc", "8")
    b2.linux["resources"]["memory"] = {"limit": 32 << 20}
    p = env.rt.run(b2)
    assert p.returncode == 0 and "allocated 8" in p.stdout, (p.stdout, p.stderr)


@needs_clang
def test_fuel_annotation_ends_the_run(env, wctest):
    b = wasm_bundle(env, wctest, "spin", annotations={"org.edgecr.wasm.fuel": "1000000"})
    p = env.rt.run(b, timeout=30)
    assert p.returncode == 124 and "ran out of fuel" in p.stderr, (p.returncode, p.stderr)


def test_handler_annotation_on_a_non_module_fails_create(env):
    b = env.bundle("true")
    b.config["annotations"] = {"run.oci.handler": "wasm"}
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and "not a WebAssembly module" in p.stderr and "/bin/true" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()


def test_unknown_backend_annotation_fails_create(env):
    b = env.bundle("true")
    b.config["annotations"] = {"org.edgecr.backend": "quantum"}
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and "unknown backend `quantum`" in p.stderr and "wasm" in p.stderr, p.stderr


@needs_clang
def test_compat_smart_leaves_linux_binaries_to_linux(env):
    b = env.bundle("echo", "plain linux")
    b.config["annotations"] = {"module.wasm.image/variant": "compat-smart"}
    p = env.rt.run(b)
    assert p.returncode == 0 and p.stdout == "plain linux\n"


def _bad_modules(tmp, good):
    data = Path(good).read_bytes()
    out = {}
    (tmp / "truncated.wasm").write_bytes(data[: len(data) // 2])
    out["truncated"] = (tmp / "truncated.wasm", "malformed module")
    (tmp / "invalid.wasm").write_bytes(Path(wat2wasm(
        '(module (func (export "_start") (drop (i32.const 1) (i32.const 2))))', features=["--no-check"])).read_bytes())
    out["invalid"] = (tmp / "invalid.wasm", "invalid module")
    out["import"] = (wat2wasm('(module (import "env" "launch_missiles" (func)) (func (export "_start")))'),
                     "imports func `env.launch_missiles`")
    out["wasi-unknown"] = (wat2wasm('(module (import "wasi_snapshot_preview1" "fd_teleport" (func)) '
                                    '(func (export "_start")))'), "wasi_snapshot_preview1.fd_teleport")
    out["reactor"] = (wat2wasm('(module (func (export "_initialize")))'), "exports no function `_start`")
    return out


@pytest.mark.sanitizer
@needs_clang
@pytest.mark.parametrize("kind", ["truncated", "invalid", "import", "wasi-unknown", "reactor"])
def test_bad_module_fails_create_and_leaves_nothing(env, wctest, kind):
    path, why = _bad_modules(env.tmp, wctest)[kind]
    b = wasm_bundle(env, path)
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "/app.wasm" in p.stderr and why in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
    # the env fixture then checks: no process, cgroup, mount or fd left


@needs_clang
def test_sigkill_of_edgecr_during_create_leaves_what_delete_force_removes(env, wctest):
    """SIGKILL of `edgecr create` at several points of a WebAssembly
    container's create (before the clone, with the init loading the module,
    after READY): `delete --force` removes everything."""
    from test_robustness import assert_clean, kill_and_force_delete, popen_create, snapshot
    rt = env.rt
    b0 = wasm_bundle(env, wctest, "spin")
    t0 = time.monotonic()
    rt.create(b0)
    base = time.monotonic() - t0
    rt.delete(b0.id, force=True)
    before = snapshot(env)
    bundles = []
    for frac in (0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2):
        b = wasm_bundle(env, wctest, "spin")
        b.write()
        bundles.append(b)
        proc = popen_create(rt, b)
        time.sleep(base * frac)
        kill_and_force_delete(rt, proc, b)
    assert_clean(env, rt, bundles, before)


@needs_clang
@needs_memory_controller
def test_update_stats_and_ps_of_a_wasm_container(env, wctest):
    rt = env.rt
    b = wasm_bundle(env, wctest, "sleep", "60000")
    rt.create(b)
    rt.start(b.id)
    try:
        pid = rt.state(b.id)["pid"]
        assert str(pid) in rt("ps", "--format", "json", b.id).stdout
        rt("update", "--memory", str(64 << 20), b.id)
        stats = json.loads(rt("events", "--stats", b.id).stdout)
        assert stats["data"]["memory"]["usage"]["limit"] == 64 << 20, stats
        rt.kill(b.id, "TERM")
        assert rt.wait_status(b.id, "stopped", 3)
    finally:
        rt.delete(b.id, force=True)


@needs_clang
def test_scheduler_and_rlimits_apply_to_the_module(env, wctest):
    """process.scheduler and rlimits are the container's, as for a process:
    the engine runs with them."""
    b = wasm_bundle(env, wctest, "sleep", "60000")
    b.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 7}
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 77, "soft": 77}]
    env.rt.create(b)
    env.rt.start(b.id)
    try:
        pid = env.rt.state(b.id)["pid"]
        out = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True).stdout
        assert "SCHED_FIFO" in out and "priority: 7" in out, out
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert any(l.startswith("Max open files") and l.split()[3:5] == ["77", "77"] for l in limits.splitlines())
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "app.wasm"
    finally:
        env.rt.delete(b.id, force=True)


@needs_memory_controller
def test_module_whose_memory_exceeds_the_limit_exits_125(env):
    """A module that declares more memory than linux.resources.memory.limit
    allows cannot be instantiated: exit status 125 and the reason."""
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm (wabt) not installed")
    mod = wat2wasm('(module (memory 100) (func (export "_start")))')  # 6.25 MiB
    b = wasm_bundle(env, mod)
    b.linux["resources"]["memory"] = {"limit": 4 << 20}
    p = env.rt.run(b)
    assert p.returncode == 125 and "instantiate `/app.wasm`" in p.stderr, (p.returncode, p.stderr)
    b2 = wasm_bundle(env, mod)
    b2.linux["resources"]["memory"] = {"limit": 16 << 20}
    assert env.rt.run(b2).returncode == 0


@pytest.mark.sanitizer
@needs_clang
def test_sigterm_ends_a_module_blocked_reading_stdin(env, wctest):
    """WASI retries a read that a signal interrupted, so a module waiting for
    stdin reaches no safe point: the stop signal's grace timer ends it, with
    the status of a process killed by SIGTERM."""
    rt = env.rt
    b = wasm_bundle(env, wctest, "read")
    b.write()
    rt.track(b)
    p = subprocess.Popen(rt.argv("run", "--bundle", b.path, b.id), env=rt.env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "reading\n"
        t0 = time.monotonic()
        rt.kill(b.id, "TERM")
        p.wait(timeout=5)  # stdin stays open: no EOF ends the read
        took = time.monotonic() - t0
        p.stdin.close()
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + signal.SIGTERM, (p.returncode, out, err)
    assert took < 2.0, took
    # with input and EOF it reads to the end
    b2 = wasm_bundle(env, wctest, "read")
    r = rt.run(b2, input="x" * 1000)
    assert r.returncode == 0 and r.stdout == "reading\nread 1000 bytes\n", (r.stdout, r.stderr)


@needs_clang
def test_mounts_are_reachable_and_keep_their_options(env, wctest):
    """The module reaches a bind mount through "/", and the mount's
    read-only option holds for it."""
    src = env.tmp / "shared"
    src.mkdir()
    (src / "f.txt").write_text("from the host\n")
    b = wasm_bundle(env, wctest, "cat", "/mnt/f.txt")
    b.add_mount({"destination": "/mnt", "type": "bind", "source": str(src), "options": ["rbind", "ro"]})
    p = env.rt.run(b)
    assert p.returncode == 0 and p.stdout == "from the host\n", (p.stdout, p.stderr)
    b2 = wasm_bundle(env, wctest, "write", "/mnt/g.txt", "x")
    b2.add_mount({"destination": "/mnt", "type": "bind", "source": str(src), "options": ["rbind", "ro"]})
    p = env.rt.run(b2)
    assert p.returncode == 2 and "Read-only file system" in p.stderr, (p.stdout, p.stderr)
    assert not (src / "g.txt").exists()


@needs_clang
def test_bind_mounts_are_preopened(env, wctest):
    """Besides the root, each bind mount of a directory is a preopen of its
    own (a file bind and kernel filesystems are not)."""
    d = env.tmp / "vol"
    d.mkdir()
    f = env.tmp / "one.txt"
    f.write_text("x")
    b = wasm_bundle(env, wctest, "preopens")
    b.add_mount({"destination": "/data", "type": "bind", "source": str(d), "options": ["rbind"]})
    b.add_mount({"destination": "/etc/one.txt", "type": "bind", "source": str(f), "options": ["bind"]})
    p = env.rt.run(b)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.splitlines() == ["preopen /", "preopen /data"], p.stdout


@needs_clang
def test_address_space_rlimit_falls_back_to_checked_memory(env, wctest):
    """RLIMIT_AS below the 8 GiB reservation of a guarded memory: the engine
    uses a checked memory instead, and the module runs."""
    b = wasm_bundle(env, wctest, "alloc", "8")
    b.process["rlimits"] = [{"type": "RLIMIT_AS", "hard": 1 << 30, "soft": 1 << 30}]
    p = env.rt.run(b)
    assert p.returncode == 0 and "allocated 8" in p.stdout, (p.stdout, p.stderr)
