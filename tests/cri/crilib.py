"""The CRI side of tests/cri: a private containerd with its CRI plugin whose
runtime handler `edgecr` is the runtime under test, the images it needs
(built here: a busybox image and a pause image), and a gRPC client of the
CRI (runtime.v1) made from cri_subset.proto at test time.

Kubernetes' kubelet talks to containerd exactly this way: gRPC on
containerd's socket, service runtime.v1.RuntimeService, each pod sandbox and
container naming a runtime handler (a RuntimeClass's `handler`)."""
import importlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))

import hostprobe  # noqa: E402
import oci_image  # noqa: E402
from containerd_harness import CONTAINERD, CTR, DISABLED, Containerd  # noqa: E402

RUNTIME = os.environ.get("EDGECR_BIN", str(REPO / "build" / "src" / "cli" / "edgecr"))
IMAGE = "docker.io/edgecr-test/busybox:latest"
PAUSE_IMAGE = "docker.io/edgecr-test/pause:1"
WASM_IMAGE = "docker.io/edgecr-test/wctest:1"  # tests/wasm_containers/c/wctest.c, by tools/wasmimage
WCTEST = REPO / "tests" / "wasm_containers" / "c" / "wctest.c"
HANDLER = "edgecr"
CRI_NAMESPACE = "k8s.io"  # the containerd namespace the CRI plugin uses


def missing_tools():
    """Why the CRI tests cannot run here, or None."""
    if not (CONTAINERD and CTR):
        return "containerd/ctr not installed (Debian package containerd)"
    try:
        import grpc  # noqa: F401
        import grpc_tools.protoc  # noqa: F401
    except ImportError:
        return "python3-grpcio / python3-grpc-tools not installed"
    if shutil.which("cc") is None:
        return "no C compiler for the pause image"
    return None


def compile_proto(out_dir):
    """cri_subset.proto -> cri_subset_pb2{,_grpc}.py in out_dir; returns
    (messages module, grpc module).  Generated code is never committed."""
    from grpc_tools import protoc
    import grpc_tools
    include = Path(grpc_tools.__file__).parent / "_proto"
    rc = protoc.main(["protoc", f"-I{HERE}", f"-I{include}", f"--python_out={out_dir}",
                      f"--grpc_python_out={out_dir}", str(HERE / "cri_subset.proto")])
    assert rc == 0, "grpc_tools.protoc failed on cri_subset.proto"
    sys.path.insert(0, str(out_dir))
    try:
        return (importlib.import_module("cri_subset_pb2"),
                importlib.import_module("cri_subset_pb2_grpc"))
    finally:
        sys.path.remove(str(out_dir))


def build_images(tmp):
    """The busybox image and a pause image (busybox plus a static /pause)."""
    rootfs = oci_image.busybox_rootfs(tmp / "busybox-rootfs")
    busybox = oci_image.build_oci_archive(rootfs, tmp / "busybox.tar", IMAGE, cmd=["sh"])
    pause_root = tmp / "pause-rootfs"
    pause_root.mkdir()
    subprocess.run(["cc", "-static", "-O2", "-o", str(pause_root / "pause"),
                    str(HERE / "pause.c")], check=True)
    pause = oci_image.build_oci_archive(pause_root, tmp / "pause.tar", PAUSE_IMAGE,
                                        entrypoint=["/pause"])
    return [busybox, pause] + wasm_images(tmp)


def wasm_images(tmp):
    """A WebAssembly image packed by tools/wasmimage from the clang-built
    test program, where clang can target wasm32-wasi; else none (the
    WebAssembly pod test then skips)."""
    if shutil.which("clang") is None:
        return []
    sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
    from wasm_build import compile_wasm
    module = compile_wasm(WCTEST)
    subprocess.run([sys.executable, str(REPO / "tools" / "wasmimage" / "wasmimage.py"), "image",
                    "--wasm", str(module), "--ref", WASM_IMAGE, "--out", str(tmp / "wasm-layout"),
                    "--tar", str(tmp / "wasm.tar"), "--env", "GREETING=hi"], check=True)
    return [tmp / "wasm.tar"]


def cri_config(tmp, runtime_root):
    """config.toml tables for the CRI plugin (the daemon's own settings,
    with `version = 2`, come from containerd_harness): the pause image built
    here, the edgecr handler as documented in docs/containerd.md, CNI dirs
    that stay empty (the pods use the host network), the stream server on
    loopback only.  Where root lacks CAP_SYS_RESOURCE no runtime can give
    the sandbox the oom_score_adj of -998 that the CRI asks for, so it is
    held at containerd's own score, as containerd offers for such hosts."""
    restrict_oom = "false" if hostprobe.has_capability(hostprobe.CAP_SYS_RESOURCE) else "true"
    return f"""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  enable_selinux = false
  restrict_oom_score_adj = {restrict_oom}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{HANDLER}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{HANDLER}.options]
        BinaryName = "{RUNTIME}"
        Root = "{runtime_root}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{tmp}/cni-bin"
    conf_dir = "{tmp}/cni-conf"
"""


class CriNode:
    """A private containerd with CRI, its images imported, and a client.
    `rt` is the runtime root of the edgecr handler (Root + namespace)."""

    def __init__(self, tmp, pb, pb_grpc):
        import grpc
        self.tmp = Path(tmp)
        self.pb = pb
        self.runtime_root = self.tmp / "edgecr-root"
        (self.tmp / "daemon").mkdir()
        self.daemon = Containerd(self.tmp / "daemon",
                                 extra=cri_config(self.tmp, self.runtime_root),
                                 disabled=[p for p in DISABLED if "cri" not in p])
        try:
            for archive in build_images(self.tmp):
                self.ctr_k8s("images", "import", str(archive))
            self.channel = grpc.insecure_channel(f"unix://{self.daemon.sock}")
            self.rs = pb_grpc.RuntimeServiceStub(self.channel)
        except BaseException:
            self.daemon.stop()
            raise
        self.cgroup_parent = f"/edgecr-test/cri-{uuid.uuid4().hex[:8]}"

    def ctr_k8s(self, *args):
        p = subprocess.run([CTR, "-a", self.daemon.sock, "-n", CRI_NAMESPACE, *args],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"ctr {' '.join(args)}: {p.stderr}\n{self.daemon.logtext()}"
        return p.stdout

    def call(self, rpc, request, timeout=60):
        """One RuntimeService call; a gRPC error shows containerd's log."""
        import grpc
        try:
            return getattr(self.rs, rpc)(request, timeout=timeout)
        except grpc.RpcError as e:
            raise AssertionError(f"{rpc}: {e.code()} {e.details()}\n"
                                 f"containerd log:\n{self.daemon.logtext()}") from None

    def edgecr(self, *args):
        """The runtime under test, on the handler's state root."""
        return subprocess.run([RUNTIME, "--root", str(self.runtime_root / CRI_NAMESPACE),
                               *map(str, args)], capture_output=True, text=True, timeout=30)

    def bundle_config(self, cid):
        """The config.json containerd's shim handed to the runtime."""
        import json
        p = (self.tmp / "daemon" / "state" / "io.containerd.runtime.v2.task" /
             CRI_NAMESPACE / cid / "config.json")
        return json.loads(p.read_text())

    def stop(self):
        try:
            self.channel.close()
        finally:
            self.daemon.stop()
            for d in hostprobe.cgroups().procs_dirs(self.cgroup_parent):
                try:
                    d.rmdir()
                except OSError:
                    pass
