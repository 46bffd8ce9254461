"""Kubernetes' path to edgecr, for real: containerd's CRI plugin, driven over
gRPC the way kubelet drives it, runs a pod whose runtime handler is `edgecr`
(a RuntimeClass `handler: edgecr`), and edgecr is the OCI runtime under the
sandbox and the container.

RunPodSandbox -> CreateContainer -> StartContainer -> ExecSync ->
ContainerStats -> UpdateContainerResources -> StopContainer ->
RemoveContainer -> StopPodSandbox -> RemovePodSandbox, each checked on the
host (the runtime's own state, the cgroup files, the container's log), then
nothing may be left: no shim, no runtime state, no cgroup dir, no mount.

The pod uses the host network (NamespaceOption network=NODE), as kubelet
does for hostNetwork pods: no CNI plugin is needed, and nothing here touches
a network.  The pause image is built here from tests/cri/pause.c."""
import time
import uuid
from pathlib import Path

import pytest

import crilib
import hostprobe
from containerd_harness import _alive

CG = hostprobe.cgroups()

# containerd's CRI gives every sandbox cpu.shares (2 for the pause process),
# which a runtime must refuse without a cpu controller (runc does too;
# tests/integration/test_containerd.py checks that refusal through ctr).
WHY_NOT = crilib.missing_tools() or (None if CG.has("cpu") else (
    "the CRI plugin sets cpu.shares on every pod sandbox and this host has no "
    f"cpu controller ({CG.describe()})"))
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cri")
    tmp.chmod(0o755)
    pb, pb_grpc = crilib.compile_proto(tmp_path_factory.mktemp("cri-gen"))
    n = crilib.CriNode(tmp, pb, pb_grpc)
    try:
        yield n
    finally:
        n.stop()


def sandbox_config(node, name, log_dir):
    pb = node.pb
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uuid.uuid4().hex,
                                       namespace="default", attempt=0),
        # no hostname: kubelet sends none for host-network pods (the pod
        # shares the node's UTS namespace, where a runtime must not set it)
        log_directory=str(log_dir),
        labels={"app": name},
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=node.cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(
                    network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD))))


def resources(pb, memory=None, shares=None, quota=None, period=None):
    """LinuxContainerResources with what this host's controllers can hold
    (kubelet sends shares and a memory limit; a runtime must refuse a limit
    the host cannot enforce, which tests/integration checks)."""
    r = pb.LinuxContainerResources()
    if memory is not None and CG.has("memory"):
        r.memory_limit_in_bytes = memory
    if CG.has("cpu"):
        if shares is not None:
            r.cpu_shares = shares
        if quota is not None:
            r.cpu_quota, r.cpu_period = quota, period
    return r


def memory_limit(cgroups_path):
    return int(CG.read("memory", cgroups_path, "memory.limit_in_bytes", "memory.max"))


def cpu_quota(cgroups_path):
    if CG.is_v2("cpu"):
        return CG.read("cpu", cgroups_path, None, "cpu.max")
    return (CG.read("cpu", cgroups_path, "cpu.cfs_quota_us") + " " +
            CG.read("cpu", cgroups_path, "cpu.cfs_period_us"))


def runtime_status(node, cid):
    """The container's status as edgecr's own state has it."""
    import json
    p = node.edgecr("state", cid)
    return json.loads(p.stdout)["status"] if p.returncode == 0 else None


def wait_for(pred, timeout=20, interval=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def test_version(node):
    v = node.call("Version", node.pb.VersionRequest(version="v1"))
    assert v.runtime_name == "containerd"
    assert v.runtime_api_version == "v1"


def test_pod_lifecycle_through_cri(node, tmp_path):
    pb = node.pb
    tmp_path.chmod(0o755)
    name = f"edgecr-cri-{uuid.uuid4().hex[:6]}"
    sb_cfg = sandbox_config(node, name, tmp_path)
    sb = node.call("RunPodSandbox", pb.RunPodSandboxRequest(
        config=sb_cfg, runtime_handler=crilib.HANDLER)).pod_sandbox_id
    ctr_id = None
    try:
        # the sandbox runs under edgecr: its state is in the handler's root
        assert runtime_status(node, sb) == "running", node.edgecr("list").stdout
        st = node.call("PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=sb))
        assert st.status.state == pb.SANDBOX_READY
        sb_cgroup = node.bundle_config(sb)["linux"]["cgroupsPath"]
        assert sb_cgroup.startswith(node.cgroup_parent + "/"), sb_cgroup

        script = ("echo hello-from-cri; trap 'echo bye; exit 0' TERM; "
                  "while :; do sleep 0.1; done")
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="main", attempt=0),
            image=pb.ImageSpec(image=crilib.IMAGE),
            command=["sh", "-c", script], working_dir="/tmp",
            envs=[pb.KeyValue(key="GREETING", value="hi")],
            log_path="main.log",
            linux=pb.LinuxContainerConfig(
                resources=resources(pb, memory=96 << 20, shares=256),
                security_context=pb.LinuxContainerSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER),
                    no_new_privs=True)))
        ctr_id = node.call("CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=sb, config=cfg, sandbox_config=sb_cfg)).container_id
        # containerd 1.6 calls the runtime's create only at StartContainer
        assert node.call("ContainerStatus", pb.ContainerStatusRequest(
            container_id=ctr_id)).status.state == pb.CONTAINER_CREATED
        node.call("StartContainer", pb.StartContainerRequest(container_id=ctr_id))
        assert wait_for(lambda: runtime_status(node, ctr_id) == "running")
        log = Path(tmp_path, "main.log")
        assert wait_for(lambda: log.exists() and "hello-from-cri" in log.read_text()), \
            "the container's stdout did not reach its CRI log"
        ctr_cgroup = node.bundle_config(ctr_id)["linux"]["cgroupsPath"]
        if CG.has("memory"):
            assert memory_limit(ctr_cgroup) == 96 << 20

        # ExecSync: stdout, stderr and the exit code come back separately
        r = node.call("ExecSync", pb.ExecSyncRequest(
            container_id=ctr_id, timeout=20,
            cmd=["sh", "-c", "echo $GREETING in $(pwd); echo oops >&2; exit 3"]))
        assert (r.stdout, r.stderr, r.exit_code) == (b"hi in /tmp\n", b"oops\n", 3)

        # ContainerStats: what the shim reads from the container's cgroup
        stats = node.call("ContainerStats", pb.ContainerStatsRequest(
            container_id=ctr_id)).stats
        assert stats.attributes.id == ctr_id
        if CG.has("cpuacct") or CG.is_v2("cpu"):
            assert stats.cpu.usage_core_nano_seconds.value > 0, stats
        if CG.has("memory"):
            assert stats.memory.working_set_bytes.value > 0, stats

        # UpdateContainerResources: in-place resize reaches the cgroup
        # (a memory raise: test_update_raises_memory_limit)
        upd = resources(pb, memory=64 << 20, shares=512, quota=50000, period=100000)
        node.call("UpdateContainerResources", pb.UpdateContainerResourcesRequest(
            container_id=ctr_id, linux=upd))
        if CG.has("memory"):
            assert memory_limit(ctr_cgroup) == 64 << 20
        if CG.has("cpu"):
            assert cpu_quota(ctr_cgroup) == "50000 100000"
        assert runtime_status(node, ctr_id) == "running"

        # StopContainer: SIGTERM, the container's trap exits 0
        node.call("StopContainer", pb.StopContainerRequest(container_id=ctr_id, timeout=10))
        cs = node.call("ContainerStatus", pb.ContainerStatusRequest(
            container_id=ctr_id)).status
        assert cs.state == pb.CONTAINER_EXITED
        assert cs.exit_code == 0, cs
        assert "bye" in log.read_text()
        node.call("RemoveContainer", pb.RemoveContainerRequest(container_id=ctr_id))
        assert node.edgecr("state", ctr_id).returncode != 0
        assert not [str(d) for d in CG.procs_dirs(ctr_cgroup) if d.exists()]
        ctr_id = None
    finally:
        if ctr_id:
            node.rs.RemoveContainer(pb.RemoveContainerRequest(container_id=ctr_id))
        node.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sb))
        node.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sb))

    # nothing left: runtime state, shims, cgroup dirs, mounts of the pod
    assert node.edgecr("state", sb).returncode != 0
    assert node.edgecr("list", "-q").stdout.split() == []
    assert wait_for(lambda: not [p for p in node.daemon.shim_pids() if _alive(p)], 10), \
        "a shim outlived RemovePodSandbox"
    assert not [str(d) for d in CG.procs_dirs(sb_cgroup) if d.exists()]
    mounts = [l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()
              if sb in l.split()[4]]
    assert not mounts, mounts


def test_unknown_runtime_handler_refused(node, tmp_path):
    """A RuntimeClass whose handler containerd does not know fails clearly
    (and starts nothing)."""
    import grpc
    pb = node.pb
    cfg = sandbox_config(node, "no-such-handler", tmp_path)
    with pytest.raises(grpc.RpcError) as e:
        node.rs.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler="nope"),
                              timeout=30)
    assert "nope" in e.value.details()
    assert node.edgecr("list", "-q").stdout.split() == []


# cgroup v1 refuses a memory limit above memory.memsw.limit_in_bytes, and
# containerd sends swap = limit with every resize (see test_lifecycle.py).
def test_update_raises_memory_limit(node, tmp_path):
    """kubelet's in-place resize up: 32 MiB -> 128 MiB through the CRI."""
    if not CG.has("memory"):
        pytest.skip(hostprobe.missing_controller_reason("memory"))
    pb = node.pb
    tmp_path.chmod(0o755)
    sb_cfg = sandbox_config(node, f"edgecr-cri-{uuid.uuid4().hex[:6]}", tmp_path)
    sb = node.call("RunPodSandbox", pb.RunPodSandboxRequest(
        config=sb_cfg, runtime_handler=crilib.HANDLER)).pod_sandbox_id
    try:
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="grow"), image=pb.ImageSpec(image=crilib.IMAGE),
            command=["sleep", "600"],
            linux=pb.LinuxContainerConfig(resources=resources(pb, memory=32 << 20)))
        cid = node.call("CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=sb, config=cfg, sandbox_config=sb_cfg)).container_id
        node.call("StartContainer", pb.StartContainerRequest(container_id=cid))
        cg = node.bundle_config(cid)["linux"]["cgroupsPath"]
        assert memory_limit(cg) == 32 << 20
        node.call("UpdateContainerResources", pb.UpdateContainerResourcesRequest(
            container_id=cid, linux=resources(pb, memory=128 << 20)))
        assert memory_limit(cg) == 128 << 20
    finally:
        node.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sb))
        node.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sb))
    assert node.edgecr("list", "-q").stdout.split() == []


def wasm_container(node, sb, sb_cfg, name, args):
    pb = node.pb
    cfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=0),
        image=pb.ImageSpec(image=crilib.WASM_IMAGE), args=args, log_path=f"{name}.log",
        linux=pb.LinuxContainerConfig(
            resources=resources(pb, memory=64 << 20, shares=128),
            security_context=pb.LinuxContainerSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER))))
    return node.call("CreateContainer", pb.CreateContainerRequest(
        pod_sandbox_id=sb, config=cfg, sandbox_config=sb_cfg)).container_id


def runtime_backend(node, cid):
    import json
    return json.loads((node.runtime_root / crilib.CRI_NAMESPACE / cid / "state.json").read_text())["backend"]


def test_wasm_pod_through_cri(node, tmp_path):
    """A WebAssembly container in a pod, as kubelet would run one with a
    RuntimeClass whose handler is edgecr: the image (packed by
    tools/wasmimage) needs no flag, the module's output reaches the CRI log,
    its exit code the container status, and StopContainer's SIGTERM stops
    a module that never returns (128 + 15)."""
    if not (node.tmp / "wasm.tar").exists():
        pytest.skip("clang cannot target wasm32-wasi here: no WebAssembly image")
    pb = node.pb
    tmp_path.chmod(0o755)
    sb_cfg = sandbox_config(node, f"edgecr-cri-wasm-{uuid.uuid4().hex[:6]}", tmp_path)
    sb = node.call("RunPodSandbox", pb.RunPodSandboxRequest(
        config=sb_cfg, runtime_handler=crilib.HANDLER)).pod_sandbox_id
    try:
        once = wasm_container(node, sb, sb_cfg, "once", ["exit", "7"])
        node.call("StartContainer", pb.StartContainerRequest(container_id=once))
        assert runtime_backend(node, once) == "wasm"
        assert wait_for(lambda: node.call("ContainerStatus", pb.ContainerStatusRequest(
            container_id=once)).status.state == pb.CONTAINER_EXITED)
        cs = node.call("ContainerStatus", pb.ContainerStatusRequest(container_id=once)).status
        assert cs.exit_code == 7, cs
        assert "exiting with 7" in Path(tmp_path, "once.log").read_text()

        spin = wasm_container(node, sb, sb_cfg, "spin", ["spin"])
        node.call("StartContainer", pb.StartContainerRequest(container_id=spin))
        log = Path(tmp_path, "spin.log")
        assert wait_for(lambda: log.exists() and "spinning" in log.read_text())
        assert runtime_status(node, spin) == "running"
        stats = node.call("ContainerStats", pb.ContainerStatsRequest(container_id=spin)).stats
        if CG.has("cpuacct") or CG.unified is not None:
            assert stats.cpu.usage_core_nano_seconds.value > 0, stats
        node.call("StopContainer", pb.StopContainerRequest(container_id=spin, timeout=10))
        cs = node.call("ContainerStatus", pb.ContainerStatusRequest(container_id=spin)).status
        assert cs.state == pb.CONTAINER_EXITED and cs.exit_code == 128 + 15, cs
        for cid in (once, spin):
            node.call("RemoveContainer", pb.RemoveContainerRequest(container_id=cid))
    finally:
        node.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sb))
        node.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sb))
    assert node.edgecr("list", "-q").stdout.split() == []
