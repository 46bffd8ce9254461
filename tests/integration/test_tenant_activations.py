"""Schedule and activations of tenants (docs/tenants.md, "Schedule and
activations"; src/wasm-backend/wasm_activate.c, wasm_sched.c): a reactor
tenant (clang -mexec-model=reactor, exporting edgecr_activate) in a
WebAssembly container with signed metadata is activated once per period;
overruns are cut and counted, misses counted; the start limit, the stop
limit and security.lifetime are enforced; the schedule becomes the
container's SCHED_FIFO (with its cgroup real-time budget) or SCHED_DEADLINE.

The counters are read from the summary line the runtime writes to the
container's stderr when the tenant ends ("N activations, O overruns, M
misses"); the guest prints each activation's CLOCK_MONOTONIC time."""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

ANN = "org.edgecr.tenant.metadata"
SUMMARY = re.compile(r"tenant act: (\d+) activations, (\d+) overruns, (\d+) misses")
needs_clang = pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
pytestmark = needs_clang


@pytest.fixture(scope="module")
def reactor():
    return compile_wasm(REPO / "tests" / "wasm_containers" / "c" / "reactor.c",
                        extra=["-mexec-model=reactor", "-I", str(REPO / "include")])


@pytest.fixture(scope="module")
def command():
    return compile_wasm(REPO / "tests" / "wasm_containers" / "c" / "wctest.c")


@pytest.fixture
def tenant(env):
    """tenant(module, schedule_yaml, security_yaml="", env_vars={}) -> a
    bundle whose rootfs has the module and its signed metadata; the trust
    directory is passed to the runtime through EDGECR_TRUST_DIR."""
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    import os
    os.environ["EDGECR_TRUST_DIR"] = str(trust)

    def make(module, schedule, security="", args=(), permissions="", **envs):
        y = env.tmp / "t.yaml"
        y.write_text("id: act\ntype: wasm\nversion: 1\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\n"
                     f"schedule: {schedule}\n" + (f"security: {security}\n" if security else "")
                     + (f"permissions: {permissions}\n" if permissions else ""))
        env.rt("meta", "build", y, "--module", module, "-o", env.tmp / "meta.cbor")
        env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / "meta.cbor", "-o", env.tmp / "meta.cose")
        b = env.bundle(cid=None)
        shutil.copy(module, b.path / "rootfs" / "app.wasm")
        shutil.copy(env.tmp / "meta.cose", b.path / "rootfs" / "meta.cose")
        b.set_args("/app.wasm", *args)
        b.process["env"] = b.process.get("env", []) + [f"{k}={v}" for k, v in envs.items()]
        b.config["annotations"] = {ANN: "/meta.cose"}
        return b
    yield make
    del os.environ["EDGECR_TRUST_DIR"]


def summary(text):
    m = SUMMARY.search(text)
    assert m, text
    return tuple(int(x) for x in m.groups())


def activations(stdout):
    """[(n, t_ns)] of the guest's "act N T" lines."""
    return [(int(n), int(t)) for n, t in re.findall(r"^act (\d+) (\d+)$", stdout, re.M)]


def assert_periodic(acts, period):
    """Activation n starts at release r0 + (n - 1) x period plus a wake-up
    latency: the offsets t_n - (n - 1) x period are all at or above the
    earliest one (an activation is never early) and, on this shared VM,
    most of them within 15 ms of it (a preempted activation is late, the
    next release is not moved by it), the last one included (no drift)."""
    off = [t - (n - 1) * period for n, t in acts]
    base = min(off)
    late = [(o - base) / 1e6 for o in off]
    assert sum(1 for x in late if x < 15) >= 0.75 * len(late), late
    assert late[-1] < 15, late


def test_activations_follow_the_period(env, tenant, reactor):
    b = tenant(reactor, "{period: 50ms, budget: 5ms}", TENANT_MAX=20)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    acts = activations(p.stdout)
    assert [n for n, _ in acts] == list(range(1, 21)), p.stdout
    assert p.stdout.startswith("init\n")  # _initialize ran first
    assert_periodic(acts, 50_000_000)
    assert summary(p.stderr) == (20, 0, 0)


def test_overrun_is_cut_off_counted_and_the_next_activation_runs(env, tenant, reactor):
    # every third activation spins without end: cut after 2 ms of CPU
    b = tenant(reactor, "{period: 100ms, budget: 2ms}", TENANT_MODE="overrun", TENANT_MAX=10)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    acts = activations(p.stdout)
    assert [n for n, _ in acts] == list(range(1, 11)), p.stdout
    assert_periodic(acts, 100_000_000)
    assert summary(p.stderr) == (10, 3, 0), p.stderr
    assert "overran its budget of 2000000 ns: cut off" in p.stderr


def test_activation_still_running_at_its_deadline_is_a_miss(env, tenant, reactor):
    # each activation sleeps 80 ms, past its 30 ms deadline: cut there
    b = tenant(reactor, "{period: 50ms, deadline: 30ms}", TENANT_MODE="sleep", TENANT_SLEEP_MS=80,
               TENANT_MAX=6)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    assert summary(p.stderr) == (6, 0, 5), p.stderr
    assert "still ran at its deadline of 30000000 ns: cut off" in p.stderr
    acts = activations(p.stdout)
    assert_periodic(acts, 50_000_000)


def test_tenant_sleep_until_inside_an_activation_ends_at_its_deadline(env, tenant, reactor):
    # the clock service's sleep_until (80 ms) inside each activation: cut at the 30 ms deadline
    b = tenant(reactor, "{period: 50ms, deadline: 30ms}", permissions="{clock: {}}", TENANT_MODE="tsleep",
               TENANT_SLEEP_MS=80, TENANT_MAX=4)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    assert summary(p.stderr) == (4, 0, 3), p.stderr
    assert_periodic(activations(p.stdout), 50_000_000)
    # granted time to finish (a 100 ms deadline), the sleeps end normally
    b = tenant(reactor, "{period: 100ms}", permissions="{clock: {}}", TENANT_MODE="tsleep", TENANT_SLEEP_MS=20,
               TENANT_MAX=4)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0 and summary(p.stderr) == (4, 0, 0), p.stderr


def test_releases_that_cannot_start_by_their_deadline_are_misses(env, tenant, reactor):
    """Paused for 0.6 s at a 20 ms period: the releases of the pause start
    after their deadlines, so they are skipped and counted as misses; the
    activations go on after resume."""
    b = tenant(reactor, "{period: 20ms, budget: 2ms}")
    env.rt.run_detached(b)
    try:
        assert env.rt.status(b.id) == "running"
        time.sleep(0.3)
        env.rt("pause", b.id)
        time.sleep(0.6)
        env.rt("resume", b.id)
        n_before = len(activations(b.stdout()))
        time.sleep(0.3)
        assert len(activations(b.stdout())) > n_before + 5
        env.rt.kill(b.id, "TERM")
        assert env.rt.wait_status(b.id, "stopped")
    finally:
        env.rt.delete(b.id, force=True)
    acts, overruns, misses = summary(b.stderr())
    assert overruns == 0 and 20 <= misses <= 40, b.stderr()
    assert "could not start before their deadline: skipped" in b.stderr()


def test_start_limit_kills_a_tenant_that_is_slow_to_start(env, tenant, reactor):
    b = tenant(reactor, "{period: 50ms, start-limit: 300ms}", TENANT_INIT_MS=5000, TENANT_MAX=3)
    t0 = time.monotonic()
    p = env.rt.run(b, timeout=60)
    took = time.monotonic() - t0
    assert p.returncode == 123, (p.returncode, p.stderr)
    assert "no activation within its start limit of 300000000 ns: killed" in p.stderr
    assert took < 3.0 and "act 1" not in p.stdout
    # within the limit it runs
    b = tenant(reactor, "{period: 50ms, start-limit: 3s}", TENANT_INIT_MS=200, TENANT_MAX=3)
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0 and summary(p.stderr) == (3, 0, 0), p.stderr


def _stop_time(env, b):
    """Seconds from SIGTERM to the container's end, and its stderr."""
    env.rt.run_detached(b)
    try:
        assert env.rt.status(b.id) == "running"
        time.sleep(0.3)  # inside activation 1, which spins
        t0 = time.monotonic()
        env.rt.kill(b.id, "TERM")
        assert env.rt.wait_status(b.id, "stopped", timeout=10)
        return time.monotonic() - t0
    finally:
        env.rt.delete(b.id, force=True)


def test_stop_limit_bounds_the_grace_after_sigterm(env, tenant, reactor):
    """The activation in progress may finish after SIGTERM, within the stop
    limit (default 200 ms): an activation that spins is ended at the limit."""
    took = _stop_time(env, tenant(reactor, "{period: 10s, stop-limit: 1500ms}", TENANT_MODE="spin"))
    assert 1.3 < took < 4.0, took
    took = _stop_time(env, tenant(reactor, "{period: 10s}", TENANT_MODE="spin"))
    assert took < 1.2, took


def test_lifetime_stops_the_tenant_with_a_message(env, tenant, reactor, command):
    b = tenant(reactor, "{period: 50ms}", security="{lifetime: 1}")
    t0 = time.monotonic()
    p = env.rt.run(b, timeout=60)
    took = time.monotonic() - t0
    assert p.returncode == 122, (p.returncode, p.stderr)
    assert "its lifetime of 1 s (security.lifetime) is over: stopped" in p.stderr
    assert 0.9 < took < 4.0, took
    acts, _, _ = summary(p.stderr)
    assert 15 <= acts <= 21, p.stderr
    # a command tenant too, even while it sleeps
    b = tenant(command, "{priority: 0}", security="{lifetime: 1}", args=("sleep", "60000"))
    t0 = time.monotonic()
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 122 and "is over: stopped" in p.stderr, (p.returncode, p.stderr)
    assert time.monotonic() - t0 < 4.0


def _sched(pid):
    return {l.split(":")[0].strip(): l.split(":")[1].strip()
            for l in Path(f"/proc/{pid}/sched").read_text().splitlines() if ":" in l}


def test_fifo_schedule_is_applied_with_its_group_budget(env, tenant, reactor):
    b = tenant(reactor, "{priority: 20, period: 50ms, budget: 5ms}")
    env.rt.run_detached(b)
    try:
        pid = env.rt.state(b.id)["pid"]
        out = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True).stdout
        assert "SCHED_FIFO" in out and "priority: 20" in out, out
        rt_file = Path("/sys/fs/cgroup/cpu") / b.cgroups_path.lstrip("/") / "cpu.rt_runtime_us"
        if Path("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists():  # CONFIG_RT_GROUP_SCHED, v1 cpu
            # the plan's rule over a 1 s window: 20 x 5 ms + min(5, 45) ms per 20 periods
            assert rt_file.read_text().strip() == "105000"
            assert (rt_file.parent / "cpu.rt_period_us").read_text().strip() == "1000000"
    finally:
        env.rt.delete(b.id, force=True)


def test_deadline_schedule_is_applied(env, tenant, reactor):
    b = tenant(reactor, "{period: 50ms, budget: 5ms, deadline: 40ms}")
    env.rt.run_detached(b)
    try:
        pid = env.rt.state(b.id)["pid"]
        s = _sched(pid)
        assert s["policy"] == "6", s
        attr = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True).stdout
        assert "SCHED_DEADLINE" in attr and "5000000/40000000/50000000" in attr, attr
    finally:
        env.rt.delete(b.id, force=True)


def test_bundle_scheduler_conflicting_with_the_metadata_is_refused(env, tenant, reactor):
    b = tenant(reactor, "{priority: 20, period: 50ms, budget: 5ms}")
    b.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 7}
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "process.scheduler: SCHED_FIFO priority 7 conflicts with the schedule of the tenant's signed " \
           "metadata" in p.stderr and "SCHED_FIFO priority 20" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
    # the same settings are fine (a plan writes them)
    b = tenant(reactor, "{priority: 20, period: 50ms, budget: 5ms}", TENANT_MAX=2)
    b.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 20}
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr


def test_reactor_without_a_period_or_with_start_fails_create(env, tenant, reactor):
    b = tenant(reactor, "{priority: 0}")
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and "exports `edgecr_activate` but its metadata has no schedule.period" in p.stderr
    assert not (env.rt.root / b.id).exists()


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")
@pytest.mark.parametrize("text,reason", [
    ('(module (func (export "_start")) (func (export "edgecr_activate")))',
     "exports both `_start` and `edgecr_activate`: a tenant is either a command or a reactor"),
    ('(module (func (export "edgecr_activate") (param i32)))',
     "`edgecr_activate` must take no parameters and return nothing"),
])
def test_module_that_cannot_be_a_reactor_fails_create(env, tenant, text, reason):
    b = tenant(wat2wasm(text), "{period: 10ms}")
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and reason in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()


def test_stop_limit_replaces_the_grace_of_a_command_blocked_in_a_host_call(env, tenant, command):
    """A command blocked reading stdin reaches no safe point: the timer that
    ends it fires after the tenant's stop limit instead of 200 ms."""
    def stop_time(schedule):
        b = tenant(command, schedule, args=("read",))
        b.write()
        env.rt.track(b)
        p = subprocess.Popen(env.rt.argv("run", "--bundle", b.path, b.id), env=env.rt.env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline() == "reading\n"
            t0 = time.monotonic()
            env.rt.kill(b.id, "TERM")
            p.wait(timeout=10)
            return time.monotonic() - t0, p.returncode
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
    took, status = stop_time("{stop-limit: 1500ms}")
    assert status == 143 and 1.3 < took < 4.0, (status, took)
    took, status = stop_time("{stop-limit: 10ms}")
    assert status == 143 and took < 1.0, (status, took)
