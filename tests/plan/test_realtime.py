"""The real thing on this machine: plans of periodic containers applied by
`edgecr plan apply` through the lifecycle library, enforced by the kernel
(SCHED_FIFO with cgroup real-time budgets, SCHED_DEADLINE reservations,
cpusets) and watched with `edgecr monitor`.

- a schedulable plan (one SCHED_FIFO, one SCHED_DEADLINE, one more FIFO)
  runs ~3 s with jobs recorded and no deadline miss (beyond a 1% allowance
  for stalls of the virtual machine itself);
- `plan switch` to a plan that changes one container restarts only it;
- an overloaded plan, forced past the analysis with --force, shows misses;
- everything is stopped and cleaned (no cgroup, process or state left).

The workload is tests/plan/rtjob.c, built with `cc -static` against
include/edgecr/rt.h and run in a busybox rootfs."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from plan_helpers import REPO, edgecr_bin
import hostprobe

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
CG = hostprobe.cgroups()
CPU_V1 = CG.v1_mount("cpu")  # where real-time group budgets live, if anywhere


def make_rootfs(dest, rtjob):
    """A busybox rootfs with the periodic program as /bin/rtjob."""
    for d in ("bin", "proc", "dev", "tmp", "run", "etc"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    os.symlink("busybox", dest / "bin" / "sh")
    shutil.copy2(rtjob, dest / "bin" / "rtjob")


def bundle_config(args):
    return {
        "ociVersion": "1.2.0",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
    }


def write_bundle(base, name, args, rtjob):
    b = base / "bundles" / name
    if not (b / "rootfs").exists():
        make_rootfs(b / "rootfs", rtjob)
    (b / "config.json").write_text(json.dumps(bundle_config(args)))


def edgecr_plan_leftovers(names):
    """The test's containers' cgroups still present, under /edgecr-plan or
    a deadline partition /edgecr-rt/cpuK (other suites on the same host may
    run their own containers under /edgecr-plan meanwhile)."""
    left = [str(p) for d in CG.procs_dirs("/edgecr-plan") if d.is_dir()
            for p in d.iterdir() if p.is_dir() and p.name in names]
    left += [str(p) for d in CG.procs_dirs("/edgecr-rt") if d.is_dir()
             for p in d.glob("cpu*/*") if p.is_dir() and p.name in names]
    return left


def wait_rt_bandwidth(runtime_us=500_000, timeout=15.0):
    """Wait until the root cpu cgroup can lend `runtime_us` per second: the
    kernel frees the real-time bandwidth of removed groups asynchronously
    (after their RCU grace period), so right after another test (or suite)
    deleted its real-time containers the bandwidth may still be taken."""
    if not hostprobe.rt_budget_expected():
        return
    probe = CPU_V1 / f"edgecr-plan-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        end = time.monotonic() + timeout
        while True:
            try:
                (probe / "cpu.rt_runtime_us").write_text(str(runtime_us))
                (probe / "cpu.rt_runtime_us").write_text("0")
                return
            except OSError:
                if time.monotonic() > end:
                    pytest.fail(f"no {runtime_us} us/s of real-time bandwidth free on this host")
                time.sleep(0.2)
    finally:
        probe.rmdir()


@pytest.fixture(params=["kernel", "no-rt-groups"])
def node(request, tmp_path, edgecr):
    """`kernel`: the node as its kernel is; `no-rt-groups`: edgecr told
    (EDGECR_RT_GROUP_SCHED=0) to behave as on a kernel without
    CONFIG_RT_GROUP_SCHED (stock Debian): no group budgets, SCHED_FIFO in
    the root real-time group, so both kinds of kernel are tested here."""
    if request.param == "no-rt-groups" and not hostprobe.rt_budget_expected():
        pytest.skip("the kernel itself has no real-time group budgets: the `kernel` run covers this mode")
    wait_rt_bandwidth()
    rtjob = tmp_path / "rtjob"
    subprocess.run(["cc", "-static", "-O2", "-I", str(REPO / "include"), "-o", str(rtjob),
                    str(REPO / "tests" / "plan" / "rtjob.c")], check=True)
    root = tmp_path / "root"
    env = {"EDGECR_PLAN_REPO": str(tmp_path / "store")}
    if request.param == "no-rt-groups":
        env["EDGECR_RT_GROUP_SCHED"] = "0"

    def run(*args, check=None, timeout=60):
        return edgecr("--root", root, *args, env=env, check=check, timeout=timeout)

    class Node:
        pass
    n = Node()
    n.tmp, n.root, n.run, n.rtjob = tmp_path, root, run, rtjob
    n.rt_groups = request.param == "kernel" and hostprobe.rt_budget_expected()
    n.names = set()
    yield n
    # Stop whatever the test started (kill only our containers), then check
    # that nothing is left behind.
    for name in n.names:
        run("delete", "--force", name)
    assert not [d for d in os.listdir(root) if d in n.names] if root.exists() else True
    assert edgecr_plan_leftovers(n.names) == [], "cgroups left behind"


def steal_ms():
    """CPU time the hypervisor took from this virtual machine, from
    /proc/stat (in USER_HZ ticks): printed with a miss, so that a failure
    on a shared machine shows whether the host stalled it."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) * 1000 // os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0


def assert_few_misses(m, steal):
    """A schedulable plan on this machine must not miss deadlines because of
    the plan: a wrong policy, priority, core or budget misses in (nearly)
    every hyperperiod, which the overloaded test shows (half the jobs or
    more).  This machine is a virtual machine on a shared host, though, and
    no plan can hold a deadline while the host does not run the vCPU at all
    (seen in CI: one job in 300 late by a stall of more than 10 ms).  So a
    rate of at most 1% (plus one) is accepted and anything above fails."""
    allowed = 1 + m["jobs"] // 100
    assert m["deadline_misses"] <= allowed, f"{m['deadline_misses']} misses (at most {allowed} accepted); " \
        f"host stole {steal_ms() - steal} ms of CPU meanwhile; {m}"


def state(node, name):
    p = node.run("state", name, check=0)
    return json.loads(p.stdout)


def monitor(node):
    p = node.run("monitor", "--format", "json", check=0)
    return {m["name"]: m for m in json.loads(p.stdout)}


SCHEDULABLE = """
name: {name}
node: {{cores: 2, fifo_budgets: auto}}
containers:
  - name: ctl
    bundle: bundles/ctl
    rt: {{period: 10ms, budget: 2ms, priority: 80, core: 1}}
  - name: resv
    bundle: bundles/resv
    rt: {{policy: deadline, period: 10ms, budget: 3ms}}
  - name: logger
    bundle: bundles/logger
    rt: {{period: {log_period}, budget: 2ms, core: 0}}
"""


def build(node, name, text, *extra, check=0):
    cfg = node.tmp / f"{name}.yaml"
    cfg.write_text(text)
    return node.run("plan", "build", cfg, *extra, check=check)


def test_schedulable_plan_then_switch_one_container(node):
    for name, args in (("ctl", ["rtjob", "ctl", "10000", "10000", "2000", "1000"]),
                       ("resv", ["rtjob", "resv", "10000", "10000", "3000", "1000"]),
                       ("logger", ["rtjob", "logger", "20000", "20000", "2000", "1000"])):
        write_bundle(node.tmp, name, args, node.rtjob)
    node.names |= {"ctl", "resv", "logger"}
    build(node, "cell", SCHEDULABLE.format(name="cell", log_period="20ms"))
    node.run("plan", "apply", "cell", check=0)
    pids = {n: state(node, n)["pid"] for n in ("ctl", "resv", "logger")}
    assert all(state(node, n)["status"] == "running" for n in pids)
    # The kernel enforces the plan: policies, priorities, cpuset, budget.
    sched = {n: subprocess.run(["chrt", "-p", str(p)], capture_output=True, text=True, check=True).stdout
             for n, p in pids.items()}
    assert "policy: SCHED_FIFO" in sched["ctl"] and "priority: 80" in sched["ctl"], sched["ctl"]
    assert "policy: SCHED_DEADLINE" in sched["resv"], sched["resv"]
    assert "parameters: 3000000/10000000/10000000" in sched["resv"], sched["resv"]
    assert "policy: SCHED_FIFO" in sched["logger"], sched["logger"]
    ctl_status = Path(f"/proc/{pids['ctl']}/status").read_text()
    assert "Cpus_allowed_list:\t1\n" in ctl_status
    # budget over the longest multiple of the period up to 1s: 100 x 2ms + min(2ms, D - C), D = 10ms;
    # only kernels with CONFIG_RT_GROUP_SCHED have group budgets
    if node.rt_groups:
        assert (CPU_V1 / "edgecr-plan/ctl/cpu.rt_period_us").read_text().strip() == "1000000"
        assert (CPU_V1 / "edgecr-plan/ctl/cpu.rt_runtime_us").read_text().strip() == "202000"
    elif CPU_V1 is not None:
        # no group budgets: the FIFO containers run in the root real-time
        # group (no EPERM), protected by the global throttling only
        cpu_line = [x for x in Path(f"/proc/{pids['ctl']}/cgroup").read_text().splitlines()
                    if x.split(":")[1] in ("cpu", "cpu,cpuacct", "cpuacct,cpu")]
        assert cpu_line and cpu_line[0].endswith(":/"), cpu_line
        assert not (CPU_V1 / "edgecr-plan/ctl").exists()
        check = node.run("plan", "check", node.tmp / "cell.yaml", check=0).stdout
        assert "protection is the global real-time throttling only" in check
        assert "use deadline reservations" in check
    steal = steal_ms()
    time.sleep(3)
    m = monitor(node)
    for name in ("ctl", "resv", "logger"):
        assert m[name]["jobs"] >= (100 if name == "logger" else 200), m[name]
        assert_few_misses(m[name], steal)
    # Switch: only logger changes (its period); ctl and resv keep running.
    write_bundle(node.tmp, "logger", ["rtjob", "logger", "25000", "25000", "2000", "1000"], node.rtjob)
    build(node, "cell", SCHEDULABLE.format(name="cell", log_period="25ms"))
    out = node.run("plan", "switch", "cell", check=0).stdout
    assert "node runs plan `cell`" in out
    after = {n: state(node, n)["pid"] for n in ("ctl", "resv", "logger")}
    assert after["ctl"] == pids["ctl"] and after["resv"] == pids["resv"]
    assert after["logger"] != pids["logger"]
    st = json.loads(node.run("plan", "status", "--format", "json", check=0).stdout)
    assert st["journal"] is None and st["current"]["name"] == "cell"
    listed = json.loads(node.run("plan", "list", "--format", "json", check=0).stdout)
    assert any(b.get("name", b.get("branch")) == "cell" for b in (listed if isinstance(listed, list)
                                                                  else listed.get("plans", [])))
    time.sleep(0.5)
    assert monitor(node)["logger"]["jobs"] > 0


OVERLOADED = """
name: overload
node: {cores: 2}
containers:
  - {name: hi, bundle: bundles/hi, rt: {period: 10ms, budget: 2ms, priority: 90, core: 0}}
  - {name: lo, bundle: bundles/lo, rt: {period: 10ms, budget: 2ms, deadline: 3ms, priority: 80, core: 0}}
"""


def test_overloaded_plan_forced_shows_misses(node):
    # hi stays inside its declared 2ms (1.5ms of work): its cgroup budget is
    # the analysed bound with no margin (100 x 2ms per 1s), so a job running
    # past the declared budget would rightly be throttled.  lo still misses
    # (1.5 + 2 > 3ms).
    write_bundle(node.tmp, "hi", ["rtjob", "hi", "10000", "10000", "2000", "1500"], node.rtjob)
    write_bundle(node.tmp, "lo", ["rtjob", "lo", "10000", "3000", "2000", "2000"], node.rtjob)
    node.names |= {"hi", "lo"}
    build(node, "overload", OVERLOADED, check=2)
    p = node.run("plan", "check", node.tmp / "overload.yaml", check=2)
    assert "lo: response time 4ms exceeds deadline 3ms on core 0" in p.stdout
    build(node, "overload", OVERLOADED, "--force", check=0)
    node.run("plan", "apply", "overload", check=0)
    steal = steal_ms()
    time.sleep(2)
    m = monitor(node)
    assert m["hi"]["jobs"] >= 100, m["hi"]
    assert_few_misses(m["hi"], steal)
    assert m["lo"]["jobs"] >= 100 and m["lo"]["deadline_misses"] >= m["lo"]["jobs"] // 2, m["lo"]


OVERRUN = """
name: overrun
node: {cores: 2}
containers:
  - {name: greedy, bundle: bundles/greedy, rt: {policy: deadline, period: 10ms, budget: 5ms}}
"""


def test_deadline_overrun_signalled_by_kernel(node):
    """A reservation whose jobs need more than their runtime: the kernel
    throttles it and, with the SCHED_FLAG_DL_OVERRUN the plan sets, signals
    each overrun (SIGXCPU); the process keeps running (it starts with the
    signal ignored) and rt.h counts the signals into the monitor's page.
    The kernel raises the signal from the scheduler tick while the task
    runs, so the runtime (5 ms) is longer than a tick (at most 4 ms)."""
    write_bundle(node.tmp, "greedy", ["rtjob", "greedy", "10000", "10000", "5000", "12000"], node.rtjob)
    node.names |= {"greedy"}
    build(node, "overrun", OVERRUN, check=0)
    node.run("plan", "apply", "overrun", check=0)
    time.sleep(1.5)
    assert state(node, "greedy")["status"] == "running"
    m = monitor(node)["greedy"]
    assert m["jobs"] > 10, m
    assert m["kernel_overruns"] > 0, m


NODE_WIDE_CAP = """
name: {name}
node: {{cores: 2, fifo_budgets: {mode}}}
containers:
  - {{name: left, bundle: bundles/left, rt: {{period: 10ms, budget: 5ms, core: 0}}}}
  - {{name: right, bundle: bundles/right, rt: {{period: 10ms, budget: 5ms, core: 1}}}}
"""


def test_plan_refused_only_by_the_node_wide_cap(node):
    """Half of each CPU in SCHED_FIFO: every core passes its own test, but
    with group budgets their ratios (0.5 + 0.5 + the unaligned tails) share
    the kernel's 0.95 once, so the plan is refused.  Without group budgets
    (a stock kernel) it is admitted and runs without misses; a plan built
    that way is refused, with the reason, on a node whose kernel has them."""
    for name in ("left", "right"):
        write_bundle(node.tmp, name, ["rtjob", name, "10000", "10000", "5000", "4000"], node.rtjob)
    node.names |= {"left", "right"}
    p = build(node, "capped", NODE_WIDE_CAP.format(name="capped", mode="groups"), check=2)
    out = node.run("plan", "check", node.tmp / "capped.yaml", check=2).stdout
    assert "the kernel allows 0.950 in total" in out and "move work into deadline reservations" in out, out
    build(node, "uncapped", NODE_WIDE_CAP.format(name="uncapped", mode="none"), check=0)
    if node.rt_groups:
        p = node.run("plan", "apply", "uncapped", check=1)
        assert "this node's kernel has group budgets" in p.stderr, p.stderr
        assert "rolled back" in p.stderr
        return
    node.run("plan", "apply", "uncapped", check=0)
    steal = steal_ms()
    time.sleep(2)
    m = monitor(node)
    for name in ("left", "right"):
        assert m[name]["jobs"] >= 150, m[name]
        assert_few_misses(m[name], steal)
    node.run("plan", "stop", check=0)
