"""`edgecr plan check`: exit status, tables, reasons in words, JSON, SVG,
errors that name the file, the line and the field."""
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from plan_helpers import EXAMPLES


def test_schedulable_example(edgecr):
    p = edgecr("plan", "check", EXAMPLES / "schedulable.yaml", check=0)
    assert "verdict: schedulable" in p.stdout
    assert "motor-ctl" in p.stdout and "best effort" in p.stdout


def test_overloaded_example_explains(edgecr):
    p = edgecr("plan", "check", EXAMPLES / "overloaded.yaml", check=2)
    assert "sensor: response time 8ms exceeds deadline 7ms on core 1 " \
           "(interference from ctl (prio 90), log (prio 80))" in p.stdout
    assert "core 1 is overloaded: utilisation 1.025 > 1" in p.stdout
    j = json.loads(edgecr("plan", "check", EXAMPLES / "overloaded.yaml", "--format", "json", check=2).stdout)
    assert j["schedulable"] is False
    rt = {c["name"]: c["rt"] for c in j["containers"]}
    assert rt["sensor"]["response_ns"] == 8_000_000 and rt["sensor"]["slack_ns"] == -1_000_000
    assert rt["ctl"]["response_ns"] == 3_000_000 and rt["ctl"]["schedulable"] is True
    assert any("vision: response time 49ms" in f for f in j["failures"])


def test_mixed_and_auto_assignment(edgecr):
    j = json.loads(edgecr("plan", "check", EXAMPLES / "mixed.yaml", "--format", "json", check=0).stdout)
    core0 = j["cores"][0]
    assert core0["fixed_priority"] == 1 and core0["deadline"] == 3  # every reservation interferes everywhere
    dl = j["deadline_reservations"]
    assert dl["cpus"] == 2 and dl["reservations"] == 3 and dl["schedulable"] and dl["test"] == "GFB density bound"
    assert all(c["rt"]["core"] is None for c in j["containers"] if c["rt"]["policy"] == "deadline")
    assert j["warnings"] == []
    fusion = next(c for c in j["containers"] if c["name"] == "fusion")["rt"]
    assert fusion["priority_given"] is False and 1 <= fusion["priority"] <= 98
    j = json.loads(edgecr("plan", "check", EXAMPLES / "auto-assign.yaml", "--format", "json", check=0).stdout)
    assert j["assignment"] in ("first-fit decreasing", "worst-fit decreasing")
    cores = {c["rt"]["core"] for c in j["containers"] if c["rt"]["policy"] == "fixed-priority"}
    assert cores <= {1, 2, 3} and len(cores) >= 2
    # deadline-monotonic: shorter deadline, higher priority, on every core
    by_core = {}
    for c in j["containers"]:
        if c["rt"]["policy"] == "fixed-priority":
            by_core.setdefault(c["rt"]["core"], []).append(c["rt"])
    for tasks in by_core.values():
        for a in tasks:
            for b in tasks:
                if a["deadline_ns"] < b["deadline_ns"]:
                    assert a["priority"] > b["priority"]


def test_svg_timeline(edgecr, tmp_path):
    out = tmp_path / "o.svg"
    edgecr("plan", "check", EXAMPLES / "overloaded.yaml", "--svg", out, check=2)
    root = ET.parse(out).getroot()
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "NOT SCHEDULABLE" in texts and "core 1" in texts and "sensor" in texts
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert sum(1 for r in rects if r.get("fill") == "#d62728") >= 2  # late execution in red
    out2 = tmp_path / "w.svg"
    edgecr("plan", "check", EXAMPLES / "schedulable.yaml", "--svg", out2, "--window", "5ms", check=0)
    assert "0 to 5ms" in out2.read_text()
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-o", str(tmp_path / "o.png"), str(out)], check=True)
        assert (tmp_path / "o.png").stat().st_size > 1000


def test_errors(edgecr, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("node:\n  cores: 2\ncontainers:\n  - name: a\n    bundle: x\n    rt:\n      period: 10\n"
                   "      budget: 1ms\n")
    p = edgecr("plan", "check", bad)
    assert p.returncode == 1
    assert 'bad.yaml:7: containers[0].rt.period: must be a positive duration like "10ms"' in p.stderr
    p = edgecr("plan", "check", tmp_path / "missing.yaml")
    assert p.returncode == 1 and "missing.yaml" in p.stderr
    p = edgecr("plan", "check")
    assert p.returncode == 1
    p = edgecr("plan", "check", EXAMPLES / "schedulable.yaml", "--window", "soon")
    assert p.returncode == 1 and "--window" in p.stderr


def test_json_config_is_the_same_model(edgecr, tmp_path):
    y = json.loads(edgecr("plan", "check", EXAMPLES / "mixed.yaml", "--format", "json", check=0).stdout)
    j = json.loads(edgecr("plan", "check", EXAMPLES / "mixed.json", "--format", "json", check=0).stdout)
    for d in (y, j):
        d.pop("file")
    assert y == j


def config(tmp_path, name, *containers, node="{cores: 2}"):
    """A configuration file with the given node and container lines."""
    cfg = tmp_path / name
    cfg.write_text(f"node: {node}\ncontainers:\n" + "".join(f"  - {c}\n" for c in containers))
    return cfg


def test_memory_must_fit_the_node(edgecr, tmp_path):
    cfg = config(tmp_path, "mem.yaml", "{name: a, bundle: x, memory: 768MiB, rt: {period: 10ms, budget: 1ms}}",
                 "{name: b, bundle: y, memory: 512MiB}", node="{cores: 2, memory: 1GiB}")
    p = edgecr("plan", "check", cfg, check=2)
    assert "memory: the containers' limits add up to 1280 MiB but node.memory is 1024 MiB" in p.stdout


def test_fifo_budgets_share_one_ratio(edgecr, tmp_path):
    """CONFIG_RT_GROUP_SCHED: the FIFO groups' runtime/period add up over the
    whole node against the root's 0.95, even on different cores."""
    # each: 100 x 4.8ms + min(4.8ms, D - C = 5.2ms) = 484.8ms per 1s
    cfg = config(tmp_path, "fifo.yaml", "{name: a, bundle: x, rt: {period: 10ms, budget: 4.8ms, core: 0}}",
                 "{name: b, bundle: y, rt: {period: 10ms, budget: 4.8ms, core: 1}}")
    p = edgecr("plan", "check", cfg, check=2)
    assert "the cgroup real-time budgets of the 2 SCHED_FIFO containers add up to 0.970 of a CPU " \
           "but the kernel allows 0.950 in total (sched_rt_runtime_us/sched_rt_period_us = 950000/1000000" in p.stdout
    j = json.loads(edgecr("plan", "check", cfg, "--format", "json", check=2).stdout)
    assert j["fifo_budgets"]["ok"] is False and abs(j["fifo_budgets"]["sum"] - 0.9696) < 1e-9
    assert all(c["rt"]["schedulable"] for c in j["containers"])  # each core alone is fine
    # only the node-wide budget fails, and the verdict says so (not "0 of 2 containers")
    assert "verdict: NOT SCHEDULABLE (the SCHED_FIFO cgroup budgets exceed the kernel's node-wide limit)" \
        in p.stdout, p.stdout
    # the same pair fits when the node's share is raised to 100%
    cfg.write_text(cfg.read_text().replace("cores: 2}", "cores: 2, rt_runtime: 1s}"))
    j = json.loads(edgecr("plan", "check", cfg, "--format", "json", check=0).stdout)
    assert j["fifo_budgets"]["ok"] and abs(j["fifo_budgets"]["sum"] - 0.9696) < 1e-9


def test_deadline_pin_is_a_warning(edgecr, tmp_path):
    cfg = config(tmp_path, "pin.yaml", "{name: r, bundle: x, rt: {policy: deadline, period: 10ms, budget: 1ms, core: 1}}")
    p = edgecr("plan", "check", cfg, check=0)
    assert "warning: r: rt.core 1 is not enforced for a deadline reservation: the kernel refuses " \
           "SCHED_DEADLINE for a task whose affinity is narrower than its root domain" in p.stdout
    j = json.loads(edgecr("plan", "check", cfg, "--format", "json", check=0).stdout)
    assert len(j["warnings"]) == 1 and j["failures"] == []


def test_dhall_effect_explained(edgecr, tmp_path):
    """U = 1.03 on 2 CPUs passes the kernel's admission but not global EDF."""
    cfg = EXAMPLES / "global-edf.yaml"
    p = edgecr("plan", "check", cfg, check=2)
    assert "kernel admission  U 1.030 <= 0.95 x 2 = 1.900: ok (necessary, not sufficient)" in p.stdout
    assert "GFB               density 1.030 <= 2 - 1 x 0.990 = 1.010: no" in p.stdout
    assert "heavy: global EDF on 2 CPUs is not shown schedulable" in p.stdout
    j = json.loads(edgecr("plan", "check", cfg, "--format", "json", check=2).stdout)
    d = j["deadline_reservations"]
    assert d["admission"]["ok"] and not d["gfb"]["ok"] and not d["bcl_ok"] and d["test"] is None
    out = tmp_path / "d.svg"
    edgecr("plan", "check", cfg, "--svg", out, "--window", "202ms", check=2)
    assert "global EDF" in out.read_text() and "simulated miss" in out.read_text()


def test_reservations_interfere_on_every_core(edgecr, tmp_path):
    """A reservation can run on any core: the FIFO task on core 0 counts it
    (R = 6 + ceil((R + 5)/10) x 5: 11 -> 16 -> 21 > 10)."""
    cfg = config(tmp_path, "x.yaml", "{name: f, bundle: x, rt: {period: 10ms, budget: 6ms, core: 0}}",
                 "{name: r, bundle: x, rt: {policy: deadline, period: 10ms, budget: 5ms}}")
    p = edgecr("plan", "check", cfg, check=2)
    assert "f: response time 21ms exceeds deadline 10ms on core 0 (interference from reservation r)" in p.stdout


def test_deep_nesting_is_an_error(edgecr, tmp_path):
    """The YAML reader recurses once per level: 30,000 levels overflowed the
    stack (issue 9 #20).  Both syntaxes get a clear error instead."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: x\nnode: {cores: 1}\nextra: " + "[" * 30000 + "]" * 30000 + "\n")
    p = edgecr("plan", "check", deep, check=1)
    assert f"{deep}:3: nested more than 64 levels deep" in p.stderr, p.stderr
    deep_json = tmp_path / "deep.json"  # within jansson's own limit (2048), beyond ours
    deep_json.write_text('{"node": {"cores": 1}, "x": ' + "[" * 1000 + "]" * 1000 + "}")
    p = edgecr("plan", "check", deep_json, check=1)
    assert "nested more than 64 levels deep" in p.stderr, p.stderr


@pytest.mark.parametrize("rt,field,why", [
    ("period: 5s, budget: 1ms", "period",
     "5s exceeds the kernel's default longest SCHED_DEADLINE period 4.194s (sched_deadline_period_max_us = 4194304)"),
    ("period: 50us, budget: 10us", "period",
     "50us is shorter than the kernel's default shortest SCHED_DEADLINE period 100us"),
    ("period: 10ms, budget: 500ns", "budget", "a deadline reservation's budget must be at least 1.024us"),
])
def test_deadline_parameters_the_kernel_refuses(edgecr, tmp_path, rt, field, why):
    """SCHED_DEADLINE parameters outside the kernel's limits (EINVAL at
    start) are errors of check and build, naming file:line:field (issue 9
    #17)."""
    cfg = tmp_path / "dl.yaml"
    cfg.write_text(f"node: {{cores: 2}}\ncontainers:\n  - name: r\n    bundle: b\n"
                   f"    rt: {{policy: deadline, {rt}}}\n")
    p = edgecr("plan", "check", cfg, check=1)
    assert f"{cfg}:5: containers[0].rt.{field}: {why}" in p.stderr, p.stderr
    assert edgecr("plan", "build", cfg, "--repo", tmp_path / "store").returncode == 1
    assert not (tmp_path / "store").exists()
    # the limits themselves are accepted (fixed priority has none of them)
    cfg.write_text("node: {cores: 2}\ncontainers:\n  - {name: r, bundle: b, rt: {policy: deadline, "
                   "period: 4194304us, budget: 1024ns}}\n  - {name: f, bundle: b, rt: {period: 5s, budget: 500ns}}\n")
    edgecr("plan", "check", cfg, check=0)


def test_partitioned_reservations(edgecr, tmp_path):
    """examples/plans/partitioned.yaml: three cores each filled to about 0.9
    by partitioned reservations (and one FIFO container below them) are
    schedulable per core; the same reservations as one global EDF set are
    not shown schedulable.  The plan names its partitions and the core left
    to best-effort work, and the timeline draws each reservation on its
    core."""
    j = json.loads(edgecr("plan", "check", EXAMPLES / "partitioned.yaml", "--format", "json", check=0).stdout)
    dl = j["deadline_reservations"]
    assert dl["mode"] == "partitioned" and dl["schedulable"] and dl["test"] == "partitioned EDF (QPA per core)"
    assert dl["partition_cpus"] == "1,2,3" and dl["general_cpus"] == "0"
    for core in j["cores"][1:]:
        assert core["utilisation"] >= 0.87 and core["qpa_ok"] and core["dl_admission_ok"], core
    assert not [w for w in j["warnings"] if "rt.core" in w]  # rt.core of a partitioned reservation is honoured
    glob = tmp_path / "global.yaml"
    glob.write_text((EXAMPLES / "partitioned.yaml").read_text().replace("deadline: partitioned", "deadline: global"))
    p = edgecr("plan", "check", glob, check=2)
    assert "global EDF on 4 CPUs is not shown schedulable" in p.stdout
    out = tmp_path / "p.svg"
    edgecr("plan", "check", EXAMPLES / "partitioned.yaml", "--svg", out, check=0)
    svg = out.read_text()
    assert "global EDF</text>" not in svg and "core 3</text>" in svg

