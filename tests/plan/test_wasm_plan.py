"""Plans with WebAssembly containers, through the real lifecycle: a plan's
`backend: wasm` reaches the runtime (the org.edgecr.backend annotation the
generated config carries, src/plan/runconfig.c) and the container runs on
the WebAssembly backend; `plan switch` of a plan that changes one
WebAssembly container restarts only it, the others (WebAssembly and Linux)
keep running; everything is removed afterwards."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plan_helpers import REPO

sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
CGROUP_ROOT = Path("/sys/fs/cgroup")
WCTEST = REPO / "tests" / "wasm_containers" / "c" / "wctest.c"

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")


def write_bundle(base, name, args, module):
    b = base / "bundles" / name
    root = b / "rootfs"
    for d in ("bin", "proc", "dev", "tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(module, root / "app.wasm")
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    cfg = {
        "ociVersion": "1.2.0",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
    }
    (b / "config.json").write_text(json.dumps(cfg))


PLAN = """
name: {name}
node: {{cores: 2}}
containers:
  - {{name: wa, bundle: bundles/wa, backend: wasm}}
  - {{name: wb, bundle: bundles/wb, backend: wasm}}
  - {{name: lx, bundle: bundles/lx}}
"""


@pytest.fixture
def node(tmp_path, edgecr):
    module = compile_wasm(WCTEST)
    root = tmp_path / "root"
    env = {"EDGECR_PLAN_REPO": str(tmp_path / "store")}

    def run(*args, check=None, timeout=60):
        return edgecr("--root", root, *args, env=env, check=check, timeout=timeout)

    class Node:
        pass
    n = Node()
    n.tmp, n.run, n.module = tmp_path, run, module
    yield n
    for name in ("wa", "wb", "lx", "bad"):
        run("delete", "--force", name)
    assert not [p for p in CGROUP_ROOT.glob("*/edgecr-plan/*") if p.name in ("wa", "wb", "lx", "bad")]


def build(node, name, text, check=0):
    (node.tmp / f"{name}.yaml").write_text(text)
    return node.run("plan", "build", node.tmp / f"{name}.yaml", check=check)


def state(node, name):
    return json.loads(node.run("state", name, check=0).stdout)


def test_plan_runs_wasm_containers_and_switches_one(node):
    write_bundle(node.tmp, "wa", ["/app.wasm", "sleep", "600000"], node.module)
    write_bundle(node.tmp, "wb", ["/app.wasm", "sleep", "600000"], node.module)
    write_bundle(node.tmp, "lx", ["/bin/busybox", "sleep", "600"], node.module)
    build(node, "mixed", PLAN.format(name="mixed"))
    checked = json.loads(node.run("plan", "check", node.tmp / "mixed.yaml", "--format", "json", check=0).stdout)
    assert {c["name"]: c["backend"] for c in checked["containers"]} == {"wa": "wasm", "wb": "wasm", "lx": "linux"}
    node.run("plan", "apply", "mixed", check=0)
    pids = {n: state(node, n)["pid"] for n in ("wa", "wb", "lx")}
    assert all(state(node, n)["status"] == "running" for n in pids)
    # the WebAssembly containers' process is the engine in the container's
    # init (the edgecr binary), the Linux one is busybox
    exe = {n: os.readlink(f"/proc/{p}/exe") for n, p in pids.items()}
    assert "busybox" in exe["lx"] and "busybox" not in exe["wa"] and "busybox" not in exe["wb"], exe
    write_bundle(node.tmp, "wb", ["/app.wasm", "sleep", "500000"], node.module)
    build(node, "mixed", PLAN.format(name="mixed"))
    out = node.run("plan", "switch", "mixed", check=0).stdout
    assert "node runs plan `mixed`" in out
    after = {n: state(node, n)["pid"] for n in ("wa", "wb", "lx")}
    assert after["wa"] == pids["wa"] and after["lx"] == pids["lx"] and after["wb"] != pids["wb"]
    assert state(node, "wb")["status"] == "running"
    node.run("plan", "stop", check=None)


def test_plan_backend_field_is_honoured(node):
    """`backend: wasm` on a bundle whose entrypoint is a Linux binary: the
    runtime is asked for the WebAssembly backend, which refuses it (without
    the field, Linux would have run it)."""
    write_bundle(node.tmp, "bad", ["/bin/busybox", "true"], node.module)
    build(node, "forced", """
name: forced
node: {cores: 2}
containers:
  - {name: bad, bundle: bundles/bad, backend: wasm}
""")
    p = node.run("plan", "apply", "forced")
    assert p.returncode != 0
    assert "not a WebAssembly module" in p.stderr and "/bin/busybox" in p.stderr, p.stderr
