"""OCI image archives built by the tests themselves (no registry here): a
directory tree becomes one gzip layer, with its config, manifest and index,
tarred as an OCI image layout that `ctr images import` takes.  Used by
tests/integration/test_containerd.py and tests/cri."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import hostprobe


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(rootfs):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in sorted(Path(rootfs).rglob("*")):
            info = t.gettarinfo(str(path), arcname=str(path.relative_to(rootfs)))
            info.mtime = 0
            if info.isreg():
                with open(path, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
    return raw.getvalue()


def build_oci_archive(rootfs, dest, name, cmd=None, entrypoint=None):
    """Write an OCI image archive of rootfs to dest, named `name`
    (e.g. docker.io/edgecr-test/busybox:latest), for this host's platform."""
    layer = _layer(rootfs)
    gz = gzip.compress(layer, mtime=0)
    cfg = {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "WorkingDir": "/"}
    if cmd:
        cfg["Cmd"] = list(cmd)
    if entrypoint:
        cfg["Entrypoint"] = list(entrypoint)
    platform = {"architecture": hostprobe.oci_arch(), "os": "linux"}
    config = json.dumps({
        **platform, "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [_sha(layer)]},
        "history": [{"created_by": "edgecr test suite"}],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": _sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _sha(gz), "size": len(gz)}],
    }).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": _sha(manifest), "size": len(manifest), "platform": platform,
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name":
                                name.rsplit(":", 1)[-1]}}],
    }).encode()
    with tarfile.open(dest, "w") as t:
        def add(arcname, data):
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add("index.json", index)
        for blob in (config, manifest, gz):
            add("blobs/sha256/" + _sha(blob).split(":")[1], blob)
    return dest


def busybox_rootfs(dest):
    """A minimal rootfs: busybox-static, a symlink per applet, /etc/passwd
    and /etc/group with root, and the usual empty directories."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    root = Path(dest)
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        if a != "busybox" and not (root / "bin" / a).exists():
            os.symlink("busybox", root / "bin" / a)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root
