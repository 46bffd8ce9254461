"""The remoteproc backend of edgecr against the emulated remote processor:
firmware bundles (fwimage bundle) through `edgecr create/start/state/kill/
delete/run/logs`, several cores, crash and recovery, busy core, wrong board,
missing firmware, refused config, edgecr SIGKILLed midway; and through a
private containerd (`ctr run --runc-binary $EDGECR_BIN` of an image made by
fwimage).

Every test's finalizer checks that nothing is left: no state directory, no
staged firmware, no log process (found by the emulator root in its
environment), every core offline."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from rproclib import REPO, pid_alive, wait_until
from containerd_harness import CONTAINERD, CTR, Containerd

EDGECR = Path(os.environ.get("EDGECR_BIN", REPO / "build" / "src" / "cli" / "edgecr"))
FWIMAGE = REPO / "tools" / "fwimage" / "fwimage.py"
MODEL = "Arm MPS2 AN385 (emulated)"


def log_processes(root):
    """Live log processes (comm edgecr-rproc) whose environment names this
    emulator root."""
    needle = f"EDGECR_REMOTEPROC_ROOT={root}".encode()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "edgecr-rproc":
                continue
            env = (d / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in env and pid_alive(int(d.name)):
            found.append(int(d.name))
    return found


class Runtime:
    """edgecr with a private state root, driving one emulator."""

    def __init__(self, emu, tmp):
        self.emu = emu
        self.tmp = Path(tmp)
        self.state_root = self.tmp / "state"
        self.env = dict(os.environ, EDGECR_REMOTEPROC_ROOT=str(emu.root))
        self.ids = []

    def argv(self, *args):
        return [str(EDGECR), "--root", str(self.state_root), *map(str, args)]

    def __call__(self, *args, check=True, timeout=30):
        r = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError(f"edgecr {' '.join(map(str, args))}: rc={r.returncode} {r.stderr}")
        return r

    def bundle(self, fw, processor="cm3-0", *extra):
        out = self.tmp / f"b-{uuid.uuid4().hex[:8]}"
        subprocess.run([sys.executable, str(FWIMAGE), "bundle", "--firmware", str(fw),
                        "--processor", processor, *extra, "--out", str(out)],
                       check=True, capture_output=True, timeout=30)
        return out

    def create(self, bundle, cid=None, check=True):
        """create with stdout/stderr in files: the log process keeps them."""
        cid = cid or "fw-" + uuid.uuid4().hex[:8]
        self.ids.append(cid)
        out = self.tmp / f"{cid}.out"
        err = self.tmp / f"{cid}.err"
        with open(out, "w") as o, open(err, "w") as e:
            r = subprocess.run(self.argv("create", "--bundle", bundle, cid), env=self.env, stdout=o,
                               stderr=e, stdin=subprocess.DEVNULL, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"create {cid}: rc={r.returncode} {err.read_text()}")
        return cid, r.returncode, err.read_text()

    def out(self, cid):
        return (self.tmp / f"{cid}.out").read_text()

    def err(self, cid):
        return (self.tmp / f"{cid}.err").read_text()

    def state(self, cid):
        r = self(f"state", cid, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def status(self, cid):
        st = self.state(cid)
        return st and st["status"]

    def stats(self, cid):
        return json.loads(self("events", "--stats", cid).stdout)["data"]["remoteproc"]

    def staged(self):
        d = self.emu.root / "lib" / "firmware" / "edgecr"
        return sorted(p.name for p in d.iterdir()) if d.exists() else []

    def assert_clean(self):
        for cid in self.ids:
            assert not (self.state_root / cid).exists(), f"state left for {cid}"
        assert self.staged() == [], f"staged firmware left: {self.staged()}"
        assert wait_until(lambda: not log_processes(self.emu.root), 5, what="no log process"), \
            log_processes(self.emu.root)


@pytest.fixture
def make_rt(emulator):
    made = []

    def make(*emu_args):
        if not EDGECR.exists():
            pytest.skip(f"{EDGECR} not built")
        emu = emulator(*emu_args)
        rt = Runtime(emu, tempfile.mkdtemp(prefix="rproc-rt-"))
        made.append(rt)
        return rt

    yield make
    for rt in made:  # before the emulator's own finalizer stops it
        for cid in rt.ids:
            rt("delete", "--force", cid, check=False)
        for pid in log_processes(rt.emu.root):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(rt.tmp, ignore_errors=True)


def wait_status(rt, cid, want, timeout=5):
    wait_until(lambda: rt.status(cid) == want, timeout, what=f"{cid} {want}")


def wait_exit_status(rt, cid, timeout=5):
    """The log process writes its exit status as it exits (after draining)."""
    wait_until(lambda: "exitStatus" in rt.stats(cid), timeout, what=f"{cid}'s exit status")
    return rt.stats(cid)["exitStatus"]


def wait_output(rt, cid, needle, timeout=5):
    wait_until(lambda: needle in rt.out(cid), timeout, what=f"`{needle}` in {cid}'s stdout")


# ---------------------------------------------------------------- lifecycle

def test_create_start_kill_delete(make_rt, firmware):
    rt = make_rt("--procs", "1")
    cid, _, _ = rt.create(rt.bundle(firmware["hello"]))
    st = rt.state(cid)
    assert st["status"] == "created" and pid_alive(st["pid"])
    assert rt.emu.state(0) == "offline"  # create does not boot the core
    assert len(rt.staged()) == 1 and rt.staged()[0].startswith(cid)
    assert rt("ps", "--format", "json", cid).stdout.strip() == f"[{st['pid']}]"
    rt("start", cid)
    assert rt.status(cid) == "running"
    assert rt.emu.state(0) == "running"
    assert rt.emu.read(0, "firmware").strip() == "edgecr/" + rt.staged()[0]
    wait_output(rt, cid, "hello: heartbeat 2")
    assert "says hello" in rt.out(cid).splitlines()[0]
    assert "\r" not in rt.out(cid)
    assert "heartbeat 2" in rt("logs", cid).stdout
    s = rt.stats(cid)
    assert s["state"] == "running" and s["processor"] == "cm3-0" and s["ours"]
    rt("kill", cid, "TERM")
    assert rt.emu.state(0) == "offline"  # kill returns once the core is offline
    wait_status(rt, cid, "stopped")
    wait_until(lambda: not pid_alive(st["pid"]), 5, what="log process exit")
    assert rt.stats(cid)["exitStatus"] == 0
    assert "heartbeat 2" in rt("logs", cid).stdout
    rt("delete", cid)
    rt.assert_clean()


def test_ignored_signal_and_unsupported_operations(make_rt, firmware):
    rt = make_rt("--procs", "1")
    cid, _, _ = rt.create(rt.bundle(firmware["hello"]))
    rt("start", cid)
    rt("kill", cid, "USR1")  # not a stop signal: ignored
    time.sleep(0.1)
    assert rt.status(cid) == "running" and rt.emu.state(0) == "running"
    for args in (["pause", cid], ["exec", cid, "/bin/true"],
                 ["update", "--memory", "1000000", cid]):
        r = rt(*args, check=False)
        assert r.returncode != 0
        assert "not supported for remote cores" in r.stderr and "cm3-0" in r.stderr, r.stderr
    r = rt("delete", cid, check=False)
    assert r.returncode != 0 and "not stopped" in r.stderr
    rt("delete", "--force", cid)
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()


def test_several_cores_at_once(make_rt, firmware):
    rt = make_rt("--procs", "3")
    ids = [rt.create(rt.bundle(firmware[fw], f"cm3-{i}"))[0]
           for i, fw in enumerate(("hello", "sampler", "hello"))]
    for cid in ids:
        rt("start", cid)
    for i, cid in enumerate(ids):
        assert rt.emu.state(i) == "running"
    wait_output(rt, ids[1], "sampler: seq=3")
    wait_output(rt, ids[0], "heartbeat 1")
    wait_output(rt, ids[2], "heartbeat 1")
    assert "sampler" not in rt.out(ids[0]) and "hello" not in rt.out(ids[1])
    rt("kill", ids[1], "KILL")
    wait_status(rt, ids[1], "stopped")
    assert [rt.emu.state(i) for i in range(3)] == ["running", "offline", "running"]
    for cid in ids:
        rt("delete", "--force", cid)
    assert [rt.emu.state(i) for i in range(3)] == ["offline"] * 3
    rt.assert_clean()


def test_crash_stops_container_with_nonzero_exit(make_rt, firmware):
    rt = make_rt("--procs", "1", "--no-recovery")
    cid, _, _ = rt.create(rt.bundle(firmware["crash"]))
    rt("start", cid)
    wait_status(rt, cid, "stopped")
    assert rt.emu.state(0) == "crashed"
    assert wait_exit_status(rt, cid) == 1
    assert "rproc-crash:" in rt.out(cid) and "HardFault" in rt("logs", cid).stdout
    assert "crashed" in rt.err(cid)
    rt("delete", cid)  # a stopped container: no --force needed; the core is stopped
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()


def test_recovery_restarts_and_keeps_running(make_rt, firmware):
    rt = make_rt("--procs", "1")  # recovery enabled, the kernel's default
    cid, _, _ = rt.create(rt.bundle(firmware["crash"]))
    rt("start", cid)
    wait_until(lambda: rt.emu.count_events(0, "running") >= 3, 10, what="two recoveries")
    assert rt.status(cid) == "running"
    assert rt.out(cid).count("rproc-crash:") >= 2
    rt("kill", cid)
    wait_status(rt, cid, "stopped")
    assert wait_exit_status(rt, cid) == 0
    rt("delete", cid)
    rt.assert_clean()


# ---------------------------------------------------------------- refusals

def test_busy_core_names_the_holder(make_rt, firmware):
    rt = make_rt("--procs", "2")
    holder, _, _ = rt.create(rt.bundle(firmware["hello"]), "holder-a")
    _, rc, err = rt.create(rt.bundle(firmware["sampler"]), "second-b", check=False)
    assert rc != 0
    assert "busy" in err and "`holder-a`" in err and "created" in err and "cm3-0" in err, err
    rt("start", holder)
    _, rc, err = rt.create(rt.bundle(firmware["sampler"]), "third-c", check=False)
    assert rc != 0 and "`holder-a` (running)" in err, err
    assert not (rt.state_root / "third-c").exists()
    # A core started outside edgecr is busy too.
    rt.emu.install(firmware["hello"], "manual.elf")
    rt.emu.boot(1, "manual.elf")
    _, rc, err = rt.create(rt.bundle(firmware["hello"], "cm3-1"), "fourth-d", check=False)
    assert rc != 0 and "started outside edgecr" in err and "manual.elf" in err, err
    assert rt.emu.write(1, "state", "stop") == 0
    rt("delete", "--force", holder)
    # Released: the core can be taken again.
    cid, _, _ = rt.create(rt.bundle(firmware["sampler"]))
    rt("start", cid)
    wait_output(rt, cid, "sampler: seq=1")
    rt("delete", "--force", cid)
    rt.assert_clean()


def test_board_match(make_rt, firmware):
    rt = make_rt("--procs", "1", "--model", MODEL)
    _, rc, err = rt.create(rt.bundle(firmware["hello"], "cm3-0", "--board", "STM32MP157C-DK2"),
                           "wrong-board", check=False)
    assert rc != 0
    assert "wrong board" in err and "`STM32MP157C-DK2`" in err and f"`{MODEL}`" in err, err
    rt.assert_clean()
    cid, _, _ = rt.create(rt.bundle(firmware["hello"], "cm3-0", "--board", MODEL))
    rt("start", cid)
    wait_output(rt, cid, "says hello")
    rt("delete", "--force", cid)
    rt.assert_clean()


def test_missing_firmware_leaves_nothing(make_rt, firmware):
    rt = make_rt("--procs", "1")
    b = rt.bundle(firmware["hello"])
    (b / "rootfs" / "hello.elf").unlink()
    _, rc, err = rt.create(b, "nofw", check=False)
    assert rc != 0 and "process.args[0]" in err and "/hello.elf" in err, err
    assert not (rt.state_root / "nofw").exists()
    # A processor that does not exist, a firmware outside the rootfs, a terminal.
    _, rc, err = rt.create(rt.bundle(firmware["hello"], "dsp-7"), "noproc", check=False)
    assert rc != 0 and "dsp-7" in err and "cm3-0" in err, err
    b = rt.bundle(firmware["hello"])
    (b / "rootfs" / "escape.elf").symlink_to(firmware["hello"])
    cfg = json.loads((b / "config.json").read_text())
    cfg["process"]["args"] = ["/escape.elf"]
    (b / "config.json").write_text(json.dumps(cfg))
    _, rc, err = rt.create(b, "escape", check=False)
    assert rc != 0 and "outside the rootfs" in err, err
    cfg["process"]["args"] = ["/hello.elf"]
    cfg["process"]["terminal"] = True
    (b / "config.json").write_text(json.dumps(cfg))
    _, rc, err = rt.create(b, "tty", check=False)
    assert rc != 0 and "process.terminal" in err, err
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()


def test_labels_file_without_annotations(make_rt, firmware):
    """fwimage's /edgecr-remoteproc.json selects the backend and the core
    when the bundle has no annotations (containerd's `ctr run`)."""
    rt = make_rt("--procs", "2")
    b = rt.bundle(firmware["sampler"], "cm3-1")
    cfg = json.loads((b / "config.json").read_text())
    del cfg["annotations"]
    (b / "config.json").write_text(json.dumps(cfg))
    cid, _, _ = rt.create(b)
    rt("start", cid)
    assert rt.emu.state(1) == "running" and rt.emu.state(0) == "offline"
    wait_output(rt, cid, "sampler: seq=1")
    rt("delete", "--force", cid)
    rt.assert_clean()


def test_logs_of_a_linux_container_says_why(make_rt, firmware):
    rt = make_rt("--procs", "1")
    cid, _, _ = rt.create(rt.bundle(firmware["hello"]))
    # A Linux container's record, as the lifecycle writes it.
    other = rt.state_root / "linux-one"
    other.mkdir()
    st = json.loads((rt.state_root / cid / "state.json").read_text())
    st.update(id="linux-one", backend="linux", pid=0, backend_data={})
    (other / "state.json").write_text(json.dumps(st))
    r = rt("logs", "linux-one", check=False)
    assert r.returncode != 0 and "keeps no log" in r.stderr and "stdio" in r.stderr, r.stderr
    shutil.rmtree(other)
    r = rt("logs", "nobody", check=False)
    assert r.returncode != 0 and "does not exist" in r.stderr
    rt("delete", "--force", cid)
    rt.assert_clean()


# ---------------------------------------------------------------- robustness

@pytest.mark.parametrize("phase,delays", [("create", (0.001, 0.004, 0.015)),
                                          ("start", (0.005, 0.03, 0.08))])
def test_sigkill_midway_is_recoverable(make_rt, firmware, phase, delays):
    rt = make_rt("--procs", "1")
    bundle = rt.bundle(firmware["hello"])
    for i, delay in enumerate(delays):
        cid = f"k{phase}{i}"
        if phase == "start":
            rt.create(bundle, cid)
            argv = rt.argv("start", cid)
        else:
            rt.ids.append(cid)
            argv = rt.argv("create", "--bundle", bundle, cid)
        p = subprocess.Popen(argv, env=rt.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        rt("delete", "--force", cid)
        assert rt.emu.state(0) == "offline", f"{phase} killed after {delay}s"
        # Killed before the lifecycle wrote state.json: `delete --force`
        # removes the bare directory too (src/oci/lifecycle.c, lc_delete).
        assert not (rt.state_root / cid).exists(), f"{phase} killed after {delay}s left its state dir"
        rt.assert_clean()
    # The core is as good as new.
    cid, _, _ = rt.create(bundle)
    rt("start", cid)
    wait_output(rt, cid, "says hello")
    rt("delete", "--force", cid)
    rt.assert_clean()


def test_run_prints_the_log_and_returns_when_killed(make_rt, firmware):
    rt = make_rt("--procs", "1")
    b = rt.bundle(firmware["hello"])
    p = subprocess.Popen(rt.argv("run", "--bundle", b, "runner"), env=rt.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rt.ids.append("runner")
    try:
        first = p.stdout.readline()
        assert "says hello" in first, first + p.stderr.read() if p.poll() is not None else first
        assert "heartbeat 1" in p.stdout.readline()
        rt("kill", "runner")
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()  # run deletes the container
    # SIGTERM to `edgecr run` itself is forwarded: the core stops too.
    p = subprocess.Popen(rt.argv("run", "--bundle", b, "runner2"), env=rt.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rt.ids.append("runner2")
    assert "says hello" in p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=10)
    assert p.returncode == 0
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()


def test_run_of_crashing_firmware_exits_nonzero(make_rt, firmware):
    rt = make_rt("--procs", "1", "--no-recovery")
    b = rt.bundle(firmware["crash"])
    rt.ids.append("crasher")
    r = subprocess.run(rt.argv("run", "--bundle", b, "crasher"), env=rt.env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r.stderr
    assert "rproc-crash:" in r.stdout and "crashed" in r.stderr
    assert rt.emu.state(0) == "offline"
    rt.assert_clean()


# ---------------------------------------------------------------- containerd

@pytest.mark.skipif(not (CONTAINERD and CTR), reason="containerd/ctr not installed")
def test_ctr_run_prints_firmware_log_and_task_kill_stops_the_core(make_rt, firmware):
    rt = make_rt("--procs", "1")
    tar = rt.tmp / "hello.tar"
    subprocess.run([sys.executable, str(FWIMAGE), "image", "--firmware", str(firmware["hello"]),
                    "--processor", "cm3-0", "--ref", "edgecr.local/firmware/hello:1",
                    "--out", str(rt.tmp / "layout"), "--tar", str(tar)],
                   check=True, capture_output=True, timeout=60)
    cd_tmp = Path(tempfile.mkdtemp(prefix="rproc-ctrd-"))
    c = Containerd(cd_tmp, rt.env)
    run = None
    try:
        c.ctr("images", "import", tar)
        # No --annotation: the image's /edgecr-remoteproc.json selects the core.
        run = subprocess.Popen(c.argv("run", "--runc-binary", EDGECR, "--runc-root", rt.state_root,
                                      "edgecr.local/firmware/hello:1", "fw1"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        first = run.stdout.readline()
        assert "says hello" in first, (first, c.logtext())
        assert "heartbeat 1" in run.stdout.readline()
        assert rt.emu.state(0) == "running"
        assert "RUNNING" in c.ctr("task", "ls").stdout
        c.ctr("task", "kill", "fw1")
        out, err = run.communicate(timeout=20)
        assert run.returncode == 0, err
        assert rt.emu.state(0) == "offline"
        c.ctr("task", "delete", "fw1", check=False)
        c.ctr("containers", "delete", "fw1")
        assert rt.staged() == []
        assert wait_until(lambda: not log_processes(rt.emu.root), 5, what="no log process")
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        c.ctr("task", "kill", "-s", "SIGKILL", "fw1", check=False)
        c.ctr("task", "delete", "-f", "fw1", check=False)
        c.ctr("containers", "delete", "fw1", check=False)
        c.stop()
        shutil.rmtree(cd_tmp, ignore_errors=True)
