"""Partitioned deadline reservations on this machine (node.deadline:
partitioned, src/plan/partition.c): the plan makes CPU 1 a root domain of
its own (an exclusive cpuset, the node's other cpusets moved off it), the
kernel admits reservations per core, and everything edgecr changed in the
node's cpusets is put back when the plan stops, also after a SIGKILL at
any step.

- CPU 1 filled to 0.9 by two reservations while CPU 0 runs a best-effort
  busy loop: no deadline misses beyond the VM-stall allowance of
  test_realtime.py; the kernel's own admission per partition (a further
  5 ms / 10 ms on CPU 1 refused with EBUSY, the same on CPU 0 admitted);
- an overloaded partitioned core is refused by `plan check`; forced, only
  that core's container misses;
- SIGKILL of `plan apply` and `plan stop` before every change to the
  node's cpusets (EDGECR_PLAN_CPUSET_KILL_AT), then `plan recover` forward
  or backward: the node ends with the plan's partitions or none, and its
  cpusets exactly as before;
- a container created on its own that asks for a partition
  (org.edgecr.rt.partition): per-CPU admission, sharing, config errors,
  SIGKILL of create/delete repaired by `delete --force`."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from plan_helpers import edgecr_bin  # noqa: F401 (the edgecr fixture's binary)
from test_realtime import (assert_few_misses, build, monitor, node, state, steal_ms,  # noqa: F401
                           write_bundle)

CPUSET = Path("/sys/fs/cgroup/cpuset")
FAKE = Path(__file__).with_name("fake_lifecycle.py")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="cpusets and SCHED_DEADLINE need root"),
    pytest.mark.skipif(not (CPUSET / "cpuset.cpus").exists(),
                       reason="no cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset (cgroup v2 partitions: "
                              "test_partitions_v2.py)"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a partition needs a second CPU"),
]


def cpuset_snapshot():
    """cpus of every cpuset outside edgecr's partitions, and the root's
    balancing flag."""
    snap = {"/": (CPUSET / "cpuset.sched_load_balance").read_text().strip()}
    for d in CPUSET.rglob("*"):
        rel = "/" + str(d.relative_to(CPUSET))
        if not d.is_dir() or rel.startswith("/edgecr-rt"):
            continue
        try:
            snap[rel] = (d / "cpuset.cpus").read_text().strip()
        except OSError:
            pass  # removed meanwhile by its owner
    return snap


def same_as_before(before, after):
    """The cpusets that exist in both snapshots are as they were (others'
    tests may create and remove their own meanwhile)."""
    diff = {k: (v, after[k]) for k, v in before.items() if k in after and after[k] != v}
    assert diff == {}, f"node cpusets not restored: {diff}"
    assert not (CPUSET / "edgecr-rt").exists(), "stray partition left"


def cpu_list(s):
    out = set()
    for part in filter(None, s.split(",")):
        a, _, b = part.partition("-")
        out |= set(range(int(a), int(b or a) + 1))
    return out


def assert_partitioned(cpu=1):
    """CPU `cpu` is a root domain of its own: an exclusive cpuset holds it
    and no other balanced cpuset spans it."""
    part = CPUSET / "edgecr-rt" / f"cpu{cpu}"
    assert (part / "cpuset.cpus").read_text().strip() == str(cpu)
    assert (part / "cpuset.cpu_exclusive").read_text().strip() == "1"
    assert (CPUSET / "cpuset.sched_load_balance").read_text().strip() == "0"
    for d in CPUSET.rglob("cpuset.cpus"):
        rel = "/" + str(d.parent.relative_to(CPUSET))
        if rel == "/." or rel.startswith("/edgecr-rt"):
            continue
        try:
            assert cpu not in cpu_list(d.read_text().strip()), f"{rel} still spans CPU {cpu}"
        except OSError:
            pass


def chrt_deadline(cgroup_dir, runtime_ms):
    """Ask the kernel for a runtime_ms / 10 ms reservation from a process in
    cpuset `cgroup_dir`; returns chrt's result."""
    script = f"echo $$ > {cgroup_dir}/tasks && exec chrt -d --sched-runtime {runtime_ms * 1000000} " \
             f"--sched-deadline 10000000 --sched-period 10000000 0 true"
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True)


FULL_CORE = """
name: {name}
node: {{cores: 2, rt_cores: [1], deadline: partitioned}}
containers:
  - {{name: ra, bundle: bundles/ra, rt: {{policy: deadline, period: 10ms, budget: 5ms, core: 1}}}}
  - {{name: rb, bundle: bundles/rb, rt: {{policy: deadline, period: 20ms, budget: 8ms, core: 1}}}}
  - {{name: busy, bundle: bundles/busy}}
"""


def test_core_filled_to_0_9_with_best_effort_load_beside(node):
    before = cpuset_snapshot()
    write_bundle(node.tmp, "ra", ["rtjob", "ra", "10000", "10000", "5000", "4000"], node.rtjob)
    write_bundle(node.tmp, "rb", ["rtjob", "rb", "20000", "20000", "8000", "6500"], node.rtjob)
    write_bundle(node.tmp, "busy", ["sh", "-c", "while :; do :; done"], node.rtjob)
    node.names |= {"ra", "rb", "busy"}
    build(node, "full", FULL_CORE.format(name="full"))
    check = json.loads(node.run("plan", "check", node.tmp / "full.yaml", "--format", "json", check=0).stdout)
    assert abs(check["cores"][1]["dl_utilisation"] - 0.9) < 1e-9
    assert check["deadline_reservations"]["partition_cpus"] == "1"
    assert check["deadline_reservations"]["general_cpus"] == "0"
    try:
        node.run("plan", "apply", "full", check=0)
        assert_partitioned(1)
        pids = {n: state(node, n)["pid"] for n in ("ra", "rb", "busy")}
        for n in ("ra", "rb"):
            assert Path(f"/proc/{pids[n]}/cpuset").read_text().strip() == f"/edgecr-rt/cpu1/{n}"
            assert "Cpus_allowed_list:\t1\n" in Path(f"/proc/{pids[n]}/status").read_text()
        assert "Cpus_allowed_list:\t0\n" in Path(f"/proc/{pids['busy']}/status").read_text()
        sched = subprocess.run(["chrt", "-p", str(pids["ra"])], capture_output=True, text=True).stdout
        assert "5000000/10000000/10000000" in sched, sched
        # The kernel admits per partition: CPU 1 is full (0.9 + the fair
        # server), CPU 0 (the general-purpose cpuset) is not.
        refused = chrt_deadline(CPUSET / "edgecr-rt" / "cpu1", 5)
        assert refused.returncode != 0 and "busy" in refused.stderr.lower(), refused
        admitted = chrt_deadline(CPUSET / "edgecr-plan", 5)
        assert admitted.returncode == 0, admitted
        steal = steal_ms()
        time.sleep(3)
        m = monitor(node)
        print({n: (m[n]["jobs"], m[n]["deadline_misses"], m[n]["max_response_ns"]) for n in ("ra", "rb")})
        assert m["ra"]["jobs"] >= 250 and m["rb"]["jobs"] >= 125, m
        for n in ("ra", "rb"):
            assert_few_misses(m[n], steal)
    finally:
        node.run("plan", "stop")
    same_as_before(before, cpuset_snapshot())


def test_kernel_admission_per_partition(node):
    """The issue's facts with a single reservation: 9 ms / 10 ms fits CPU 1's
    partition; a second 5 ms / 10 ms there is refused (EBUSY); 5 ms / 10 ms
    on CPU 0 is admitted."""
    before = cpuset_snapshot()
    write_bundle(node.tmp, "nine", ["rtjob", "nine", "10000", "10000", "9000", "7000"], node.rtjob)
    node.names |= {"nine"}
    build(node, "nine", "name: nine\nnode: {cores: 2, rt_cores: [1], deadline: partitioned}\ncontainers:\n"
          "  - {name: nine, bundle: bundles/nine, rt: {policy: deadline, period: 10ms, budget: 9ms, core: 1}}\n")
    try:
        node.run("plan", "apply", "nine", check=0)
        pid = state(node, "nine")["pid"]
        assert "9000000/10000000/10000000" in subprocess.run(["chrt", "-p", str(pid)], capture_output=True,
                                                              text=True).stdout
        refused = chrt_deadline(CPUSET / "edgecr-rt" / "cpu1", 5)
        assert refused.returncode != 0 and "busy" in refused.stderr.lower(), refused
        assert chrt_deadline(CPUSET / "edgecr-plan", 5).returncode == 0
        assert_container_beside_partition(node)
    finally:
        node.run("plan", "stop")
    same_as_before(before, cpuset_snapshot())


def assert_container_beside_partition(node):
    """A container outside the plan, in a cpuset of its own made next to
    the partition (a fresh top-level cgroupsPath, as containerd's `ctr run`
    gives), runs on the general-purpose CPUs: its cpuset gets the parent's
    CPUs without the exclusive sibling's (the kernel refuses an overlap:
    create used to fail with "write `0-1` to .../cpuset.cpus: Invalid
    argument")."""
    write_bundle(node.tmp, "beside", ["/bin/busybox", "grep", "Cpus_allowed_list", "/proc/self/status"], node.rtjob)
    cfg_path = node.tmp / "bundles" / "beside" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    top = f"edgecr-beside-{os.getpid()}"
    cfg["linux"]["cgroupsPath"] = f"/{top}/c"
    cfg["linux"].pop("resources", None)
    cfg_path.write_text(json.dumps(cfg))
    r = node.run("run", "--bundle", cfg_path.parent, f"beside-{os.getpid()}", check=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == "0", r.stdout
    assert not (CPUSET / top).exists()


OVERLOADED_CORE = """
name: overcore
node: {cores: 2, rt_cores: [0, 1], deadline: partitioned, dl_server: 0}
containers:
  - {name: r, bundle: bundles/r, rt: {policy: deadline, period: 10ms, budget: 5ms, core: 1}}
  - {name: f, bundle: bundles/f, rt: {period: 10ms, budget: 6ms, priority: 50, core: 1}}
  - {name: g, bundle: bundles/g, rt: {period: 20ms, budget: 2ms, priority: 50, core: 0}}
"""


def test_overloaded_core_refused_and_forced_misses_only_there(node):
    before = cpuset_snapshot()
    # The work really overloads core 1 (4.2 + 5.95 ms every 10 ms), each
    # inside its declared budget: f, below the reservation, falls behind in
    # every period.
    write_bundle(node.tmp, "r", ["rtjob", "r", "10000", "10000", "5000", "4200"], node.rtjob)
    write_bundle(node.tmp, "f", ["rtjob", "f", "10000", "10000", "6000", "5950"], node.rtjob)
    write_bundle(node.tmp, "g", ["rtjob", "g", "20000", "20000", "2000", "1000"], node.rtjob)
    node.names |= {"r", "f", "g"}
    build(node, "overcore", OVERLOADED_CORE, check=2)
    out = node.run("plan", "check", node.tmp / "overcore.yaml", check=2).stdout
    assert "core 1 is overloaded: utilisation 1.100 > 1" in out, out
    assert "f: response time" in out and "on core 1 (interference from reservation r)" in out, out
    build(node, "overcore", OVERLOADED_CORE, "--force", check=0)
    try:
        node.run("plan", "apply", "overcore", check=0)
        steal = steal_ms()
        time.sleep(2)
        m = monitor(node)
        print({n: (m[n]["jobs"], m[n]["deadline_misses"]) for n in ("r", "f", "g")})
        assert m["f"]["jobs"] >= 50 and m["f"]["deadline_misses"] >= m["f"]["jobs"] // 2, m["f"]
        assert m["r"]["jobs"] >= 150, m["r"]
        assert_few_misses(m["r"], steal)
        assert m["g"]["jobs"] >= 75, m["g"]
        assert_few_misses(m["g"], steal)
    finally:
        node.run("plan", "stop")
    same_as_before(before, cpuset_snapshot())


# ---- crash safety, with the lifecycle faked (the cpusets are real) ----

PART = """
name: {name}
node: {{cores: 2, rt_cores: [1], deadline: partitioned}}
containers:
  - {{name: resv, bundle: bundles/resv, rt: {{policy: deadline, period: 10ms, budget: {budget}, core: 1}}}}
  - {{name: be, bundle: bundles/be}}
"""


@pytest.fixture
def fake_node(tmp_path, edgecr):
    for n in ("resv", "be"):
        (tmp_path / "bundles" / n / "rootfs").mkdir(parents=True)
        (tmp_path / "bundles" / n / "config.json").write_text('{"ociVersion": "1.2.0"}')
    (tmp_path / "part.yaml").write_text(PART.format(name="hrt-part", budget="4ms"))
    env = {"EDGECR_PLAN_LIFECYCLE": str(FAKE), "EDGECR_PLAN_REPO": str(tmp_path / "store")}

    def run(*args, check=None, extra=None):
        return edgecr("--root", tmp_path / "root", "plan", *args, env={**env, **(extra or {})}, check=check)
    run("build", tmp_path / "part.yaml", check=0)
    yield run
    run("recover", "--rollback")
    run("stop")
    assert not (CPUSET / "edgecr-rt").exists(), "stray partition left"


def kill_points(run, tmp_path, *args):
    """The steps to kill at: `plan ARGS` is run once with every change to
    the node's cpusets traced, and the kills go before the first and the
    last ones (the root, the partition) and one in between (each of the
    node's cpusets is one step; every step is killed at on a fake tree by
    tests/plan/unit/test_partition.c)."""
    trace = tmp_path / "trace"
    run(*args, check=0, extra={"EDGECR_PLAN_CPUSET_TRACE": str(trace)})
    total = len(trace.read_text().splitlines())
    trace.unlink()
    assert total >= 5, total
    points = {1, 2, total // 2} | set(range(max(1, total - 4), total + 1))
    return sorted(points), total


@pytest.mark.parametrize("rollback", [False, True])
def test_sigkill_at_cpuset_steps_of_apply(fake_node, tmp_path, rollback):
    run = fake_node
    before = cpuset_snapshot()
    points, total = kill_points(run, tmp_path, "apply", "hrt-part")
    run("stop", check=0)
    same_as_before(before, cpuset_snapshot())
    for step in points:
        p = run("apply", "hrt-part", extra={"EDGECR_PLAN_CPUSET_KILL_AT": str(step)})
        if p.returncode == 0:  # fewer steps this time (others removed cpusets)
            assert_partitioned(1)
        else:
            assert p.returncode == -9, p.stderr
            assert json.loads(run("status", "--format", "json").stdout)["journal"] is not None
            r = run("recover", *(["--rollback"] if rollback else []))
            assert r.returncode == 0, r.stderr
            if rollback:
                same_as_before(before, cpuset_snapshot())
                assert not (tmp_path / "root" / "plan" / "cpusets.json").exists()
                continue
            assert_partitioned(1)
        run("stop", check=0)
        same_as_before(before, cpuset_snapshot())
        assert not (tmp_path / "root" / "plan" / "cpusets.json").exists()


def test_sigkill_at_cpuset_steps_of_stop(fake_node, tmp_path):
    run = fake_node
    before = cpuset_snapshot()
    run("apply", "hrt-part", check=0)
    points, total = kill_points(run, tmp_path, "stop")
    same_as_before(before, cpuset_snapshot())
    for step in points:
        run("apply", "hrt-part", check=0)
        assert_partitioned(1)
        p = run("stop", extra={"EDGECR_PLAN_CPUSET_KILL_AT": str(step)})
        if p.returncode != 0:
            assert p.returncode == -9, p.stderr
            run("recover", check=0)
        same_as_before(before, cpuset_snapshot())
        assert json.loads(run("status", "--format", "json").stdout)["current"] is None
        assert not (tmp_path / "root" / "plan" / "cpusets.json").exists()


def test_cpusets_of_the_node_left_alone_when_changed_by_their_owner(fake_node, tmp_path):
    """A cpuset edgecr moved off CPU 1 is given back when the partition
    goes, unless its owner changed it meanwhile: then it is theirs."""
    run = fake_node
    mine = CPUSET / f"hrt-owner-{os.getpid()}"
    mine.mkdir()
    try:
        (mine / "cpuset.mems").write_text((CPUSET / "cpuset.mems").read_text())
        (mine / "cpuset.cpus").write_text("0-1")
        run("apply", "hrt-part", check=0)
        assert (mine / "cpuset.cpus").read_text().strip() == "0"
        rec = json.loads((tmp_path / "root" / "plan" / "cpusets.json").read_text())
        assert {"path": f"/{mine.name}", "cpus": "0-1", "set": "0"} in rec["moved"], rec
        run("stop", check=0)
        assert (mine / "cpuset.cpus").read_text().strip() == "0-1"  # given back
        run("apply", "hrt-part", check=0)
        (mine / "cpuset.cpus").write_text("\n")  # its owner empties it meanwhile
        run("stop", check=0)
        assert (mine / "cpuset.cpus").read_text().strip() == ""  # left as they set it
        assert not (tmp_path / "root" / "plan" / "cpusets.json").exists()
    finally:
        run("stop")
        mine.rmdir()


def test_switch_between_partition_sets_and_global(fake_node, tmp_path):
    """A switch that changes a reservation keeps the partition; a switch to
    a plan without partitions removes it and restores the node."""
    run = fake_node
    before = cpuset_snapshot()
    run("apply", "hrt-part", check=0)
    assert_partitioned(1)
    (tmp_path / "part.yaml").write_text(PART.format(name="hrt-part", budget="5ms"))
    run("build", tmp_path / "part.yaml", check=0)
    run("switch", "hrt-part", check=0)
    assert_partitioned(1)
    (tmp_path / "glob.yaml").write_text(PART.format(name="hrt-part", budget="5ms")
                                        .replace("deadline: partitioned", "deadline: global"))
    run("build", tmp_path / "glob.yaml", check=0)
    run("switch", "hrt-part", check=0)
    same_as_before(before, cpuset_snapshot())
    assert json.loads(run("status", "--format", "json").stdout)["current"]["partitions"] == ""


# ---- a container created on its own that asks for a partition ----

def partition_bundle(node, name, runtime_us, cpus="1", annotate=True):
    """A bundle whose config asks for CPU `cpus` as a deadline partition
    (docs/plan.md, "Partitions for single containers")."""
    write_bundle(node.tmp, name, ["sh", "-c", "while :; do :; done"], node.rtjob)
    path = node.tmp / "bundles" / name / "config.json"
    cfg = json.loads(path.read_text())
    cfg["process"]["scheduler"] = {"policy": "SCHED_DEADLINE", "runtime": runtime_us * 1000,
                                   "deadline": 10000000, "period": 10000000}
    cfg["linux"]["resources"] = {"cpu": {"cpus": cpus}}
    if annotate:
        cfg["annotations"] = {"org.edgecr.rt.partition": "true"}
    path.write_text(json.dumps(cfg))
    return path.parent


def create(node, bundle, name, check=None, env=None):
    """`edgecr create`: the container's init inherits its stdio, so stdout
    goes to /dev/null and stderr to a file (a pipe would stay open)."""
    err = node.tmp / f"create-{name}.err"
    with open(err, "w") as f:
        p = subprocess.run([edgecr_bin(), "--root", node.root, "create", "--bundle", bundle, name],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f, timeout=60,
                           env=dict(os.environ, **(env or {})))
    p.stderr = err.read_text()
    if check is not None:
        assert p.returncode == check, p.stderr
    return p


def in_partition(node, name, cpu=1):
    pid = state(node, name)["pid"]
    assert Path(f"/proc/{pid}/cpuset").read_text().strip() == f"/edgecr-rt/cpu{cpu}/edgecr/{name}"
    assert f"Cpus_allowed_list:\t{cpu}\n" in Path(f"/proc/{pid}/status").read_text()
    return pid


def test_container_asking_for_a_partition(node):
    """Created on its own with SCHED_DEADLINE, one CPU and the annotation,
    a container gets CPU 1 as a partition: 9 ms / 10 ms fits there (the
    kernel admits per CPU), a further 1 ms / 10 ms container there is then
    refused and leaves nothing; 8 + 1 ms share the partition (a 5 ms probe
    beside them refused), which goes with the last of them; the node's
    cpusets are then as before."""
    before = cpuset_snapshot()
    a, b = f"h-rt2-pa-{os.getpid()}", f"h-rt2-pb-{os.getpid()}"
    node.names |= {a, b}
    try:
        create(node, partition_bundle(node, "pa", 9000), a, check=0)
        assert_partitioned(1)
        pid = in_partition(node, a)
        assert "9000000/10000000/10000000" in subprocess.run(["chrt", "-p", str(pid)], capture_output=True,
                                                              text=True).stdout
        full = create(node, partition_bundle(node, "pb", 1000), b)
        assert full.returncode != 0 and "busy" in full.stderr.lower(), full.stderr
        assert json.loads((node.root / ".rt-partition" / "users.json").read_text()) == {a: 1}
        assert_partitioned(1)
        node.run("delete", "--force", a, check=0)
        same_as_before(before, cpuset_snapshot())
        assert not (node.root / ".rt-partition").exists()

        create(node, partition_bundle(node, "pa", 8000), a, check=0)
        create(node, partition_bundle(node, "pb", 1000), b, check=0)
        in_partition(node, a)
        in_partition(node, b)
        refused = chrt_deadline(CPUSET / "edgecr-rt" / "cpu1", 5)
        assert refused.returncode != 0 and "busy" in refused.stderr.lower(), refused
        node.run("delete", "--force", a, check=0)
        assert_partitioned(1)
        in_partition(node, b)
    finally:
        node.run("delete", "--force", b)
        node.run("delete", "--force", a)
    same_as_before(before, cpuset_snapshot())
    assert not (node.root / ".rt-partition").exists()


def test_container_partition_config_errors(node):
    """The annotation without SCHED_DEADLINE or with other than one CPU:
    a clear error naming the field, and nothing left behind."""
    before = cpuset_snapshot()
    name = f"h-rt2-bad-{os.getpid()}"
    node.names |= {name}
    r = create(node, partition_bundle(node, "bad", 1000, cpus="0-1"), name)
    assert r.returncode != 0 and "linux.resources.cpu.cpus to name exactly one CPU" in r.stderr, r.stderr
    path = partition_bundle(node, "bad", 1000) / "config.json"
    cfg = json.loads(path.read_text())
    del cfg["process"]["scheduler"]
    path.write_text(json.dumps(cfg))
    r = create(node, path.parent, name)
    assert r.returncode != 0 and "process.scheduler.policy is not SCHED_DEADLINE" in r.stderr, r.stderr
    same_as_before(before, cpuset_snapshot())
    assert not (node.root / name).exists()


def test_container_partition_sigkill_repaired(node, tmp_path):
    """A create or delete SIGKILLed before any change to the node's
    cpusets (first, middle, last) is repaired by `delete --force`: no
    partition left and the node's cpusets as before."""
    before = cpuset_snapshot()
    name = f"h-rt2-k-{os.getpid()}"
    node.names |= {name}
    bundle = partition_bundle(node, "k", 1000)
    def delete(env=None):
        return subprocess.run([edgecr_bin(), "--root", node.root, "delete", "--force", name],
                              env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=60)

    totals = {}
    for op in ("create", "delete"):  # the number of cpuset changes of each
        trace = tmp_path / f"trace-{op}"
        traced = {"EDGECR_PLAN_CPUSET_TRACE": str(trace)}
        create(node, bundle, name, check=0, env=traced if op == "create" else None)
        assert delete(traced if op == "delete" else None).returncode == 0
        totals[op] = len(trace.read_text().splitlines())
        same_as_before(before, cpuset_snapshot())
    assert totals["create"] >= 3 and totals["delete"] >= 3, totals
    for op in ("create", "delete"):
        for step in sorted({1, totals[op] // 2, totals[op]}):
            kill = {"EDGECR_PLAN_CPUSET_KILL_AT": str(step)}
            if op == "create":
                p = create(node, bundle, name, env=kill)
            else:
                create(node, bundle, name, check=0)
                p = delete(kill)
            assert p.returncode == -9, (op, step, p.returncode, p.stderr)
            node.run("delete", "--force", name, check=0)
            same_as_before(before, cpuset_snapshot())
            assert not (node.root / ".rt-partition").exists(), (op, step)
