"""`plan check` of WebAssembly tenants (src/plan/tenant_rt.c): a container
whose bundle carries signed tenant metadata (annotation
org.edgecr.tenant.metadata) is analysed with the schedule of its metadata,
as the runtime will schedule it (SCHED_FIFO at its priority, else
SCHED_DEADLINE); an `rt` written in the plan must say the same."""
import json
import shutil
import sys

import pytest

from plan_helpers import REPO

sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")
META = "id: {name}\ntype: wasm\nversion: 1\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\nschedule: {schedule}\n"


@pytest.fixture
def plan(tmp_path, edgecr):
    module = compile_wasm(REPO / "tests" / "wasm_containers" / "c" / "reactor.c",
                          extra=["-mexec-model=reactor", "-I", str(REPO / "include")])
    edgecr("meta", "keygen", "--out", tmp_path / "keys", "vendor", check=0)

    def tenant(name, schedule):
        b = tmp_path / "bundles" / name
        (b / "rootfs").mkdir(parents=True)
        shutil.copy(module, b / "rootfs" / "app.wasm")
        (tmp_path / f"{name}.yaml").write_text(META.format(name=name, schedule=schedule))
        edgecr("meta", "build", tmp_path / f"{name}.yaml", "--module", module, "-o", tmp_path / f"{name}.cbor", check=0)
        edgecr("meta", "sign", "--key", tmp_path / "keys" / "vendor.key", tmp_path / f"{name}.cbor", "-o",
               b / "rootfs" / "meta.cose", check=0)
        (b / "config.json").write_text(json.dumps({
            "ociVersion": "1.2.0", "process": {"args": ["/app.wasm"], "cwd": "/"}, "root": {"path": "rootfs"},
            "annotations": {"org.edgecr.tenant.metadata": "/meta.cose"}}))

    def check(containers, status):
        text = "name: t\nnode: {cores: 1}\ncontainers:\n" + "".join(f"  - {c}\n" for c in containers)
        (tmp_path / "p.yaml").write_text(text)
        p = edgecr("plan", "check", tmp_path / "p.yaml", "--format", "json")
        assert p.returncode == status, p.stdout + p.stderr
        return json.loads(p.stdout) if status in (0, 2) else p.stderr
    return tenant, check


def test_tenants_are_analysed_with_their_signed_schedule(plan):
    tenant, check = plan
    tenant("ta", "{priority: 30, period: 10ms, budget: 2ms}")
    tenant("tb", "{period: 20ms, budget: 4ms, deadline: 15ms}")
    j = check(["{name: ta, bundle: bundles/ta, backend: wasm}", "{name: tb, bundle: bundles/tb, backend: wasm}"], 0)
    rt = {c["name"]: c["rt"] for c in j["containers"]}
    assert rt["ta"]["policy"] == "fixed-priority" and rt["ta"]["priority"] == 30
    assert (rt["ta"]["budget_ns"], rt["ta"]["period_ns"], rt["ta"]["deadline_ns"]) == (2_000_000, 10_000_000, 10_000_000)
    assert rt["tb"]["policy"] == "deadline"
    assert (rt["tb"]["budget_ns"], rt["tb"]["period_ns"], rt["tb"]["deadline_ns"]) == (4_000_000, 20_000_000, 15_000_000)


def test_overloaded_tenants_are_unschedulable(plan):
    tenant, check = plan
    tenant("ta", "{priority: 30, period: 10ms, budget: 6ms}")
    tenant("tb", "{priority: 20, period: 10ms, budget: 6ms}")
    j = check(["{name: ta, bundle: bundles/ta, backend: wasm}", "{name: tb, bundle: bundles/tb, backend: wasm}"], 2)
    assert j["schedulable"] is False


def test_plan_rt_must_agree_with_the_metadata(plan):
    tenant, check = plan
    tenant("ta", "{priority: 30, period: 10ms, budget: 2ms}")
    err = check(["{name: ta, bundle: bundles/ta, backend: wasm, rt: {period: 10ms, budget: 3ms}}"], 1)
    assert "containers[0].rt: `rt` (fixed-priority, period 10000000 ns, budget 3000000 ns" in err
    assert "differs from the tenant's signed schedule (fixed-priority 30" in err
    # the same requirements (priority left to the plan) are fine
    check(["{name: ta, bundle: bundles/ta, backend: wasm, rt: {period: 10ms, budget: 2ms, core: 0}}"], 0)


def test_priority_without_period_cannot_be_analysed(plan):
    tenant, check = plan
    tenant("ta", "{priority: 30}")
    err = check(["{name: ta, bundle: bundles/ta, backend: wasm}"], 1)
    assert "containers[0].bundle: the tenant's signed schedule gives SCHED_FIFO priority 30 without a period" in err


def test_plan_apply_runs_the_tenant_with_its_schedule(tmp_path, edgecr, plan):
    """Through the lifecycle: the plan's generated config carries the
    schedule the metadata sets (the runtime accepts it: equal), and the
    tenant runs SCHED_FIFO at its priority, activated by the runtime."""
    import subprocess
    import time
    tenant, _ = plan
    tenant("tapply", "{priority: 21, period: 20ms, budget: 2ms}")
    cfg_path = tmp_path / "bundles" / "tapply" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["process"].update({"user": {"uid": 0, "gid": 0}, "env": ["TENANT_MODE=count"]})
    cfg["linux"] = {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]}
    cfg_path.write_text(json.dumps(cfg))
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(tmp_path / "keys" / "vendor.pub", trust)
    root = tmp_path / "root"
    env = {"EDGECR_PLAN_REPO": str(tmp_path / "store"), "EDGECR_TRUST_DIR": str(trust)}
    (tmp_path / "apply.yaml").write_text("name: apply\nnode: {cores: 2}\ncontainers:\n"
                                         "  - {name: tapply, bundle: bundles/tapply, backend: wasm}\n")
    try:
        edgecr("--root", root, "plan", "build", tmp_path / "apply.yaml", env=env, check=0)
        edgecr("--root", root, "plan", "apply", "apply", env=env, check=0)
        st = json.loads(edgecr("--root", root, "state", "tapply", env=env, check=0).stdout)
        assert st["status"] == "running"
        out = subprocess.run(["chrt", "-p", str(st["pid"])], capture_output=True, text=True, check=True).stdout
        assert "SCHED_FIFO" in out and "priority: 21" in out, out
        time.sleep(0.3)
        assert json.loads(edgecr("--root", root, "state", "tapply", env=env, check=0).stdout)["status"] == "running"
    finally:
        edgecr("--root", root, "plan", "stop", env=env)
        edgecr("--root", root, "delete", "--force", "tapply", env=env)
