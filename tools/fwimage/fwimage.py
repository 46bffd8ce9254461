#!/usr/bin/env python3
"""fwimage - packs a remote-core firmware into an OCI image (an image layout
directory and a tar of it, for `ctr image import`), or into an OCI runtime
bundle (config.json + rootfs) for the remoteproc backend's tests.

  fwimage.py image  --firmware F.elf --processor NAME [--board MODEL]
                    --ref REPO:TAG --out LAYOUT_DIR [--tar FILE.tar] ...
  fwimage.py bundle --firmware F.elf --processor NAME [--board MODEL]
                    --out BUNDLE_DIR ...

The image's single layer holds the firmware at /<name> and the labels again
as /edgecr-remoteproc.json (containerd turns image labels into container
labels, not OCI annotations, so a runtime reading only the bundle still
finds them); the config runs it as process.args = ["/<name>"] and carries
the labels that select the core (docs/remoteproc.md, "Image labels").  Output is deterministic: the same
firmware and options give the same digests.  Python 3 standard library only.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tarfile

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

LABEL_RPROC_NAME = "remoteproc.name"  # the key of Arm's remoteproc-runtime
LABEL_PROCESSOR = "org.edgecr.remoteproc.processor"
LABEL_BOARD = "org.edgecr.remoteproc.board"
LABEL_CPU = "org.edgecr.remoteproc.cpu"
LABEL_MACHINE = "org.edgecr.remoteproc.machine"
LABEL_FIRMWARE = "org.edgecr.remoteproc.firmware"

METADATA_FILE = "edgecr-remoteproc.json"  # in the rootfs, for runtimes without the labels
EPOCH = "1970-01-01T00:00:00Z"  # fixed, for reproducible digests
EM_ARM = 40

# Go's GOARCH names, which OCI platforms use.
GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
          "armv7l": "arm", "armv6l": "arm", "riscv64": "riscv64", "ppc64le": "ppc64le",
          "s390x": "s390x", "i686": "386", "i386": "386"}


class FwImageError(Exception):
    pass


def check_firmware(path):
    """The firmware must be a 32-bit little-endian ARM ELF (what remoteproc
    loads); anything else is refused with the reason."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as e:
        raise FwImageError(f"firmware `{path}`: {e.strerror}") from None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise FwImageError(f"firmware `{path}`: not an ELF file")
    if head[4] != 1 or head[5] != 1:
        raise FwImageError(f"firmware `{path}`: not a 32-bit little-endian ELF")
    machine = int.from_bytes(head[18:20], "little")
    if machine != EM_ARM:
        raise FwImageError(f"firmware `{path}`: ELF machine {machine}, expected ARM ({EM_ARM})")


def labels_from(args):
    fw_in_root = "/" + args.name
    labels = {LABEL_RPROC_NAME: args.processor, LABEL_PROCESSOR: args.processor,
              LABEL_FIRMWARE: fw_in_root}
    if args.board:
        labels[LABEL_BOARD] = args.board
    if args.cpu:
        labels[LABEL_CPU] = args.cpu
    if args.machine:
        labels[LABEL_MACHINE] = args.machine
    for kv in args.label or []:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise FwImageError(f"--label `{kv}`: expected KEY=VALUE")
        labels[key] = value
    return labels


def metadata_json(labels):
    return (json.dumps(labels, indent=2, sort_keys=True) + "\n").encode()


def layer_tar(firmware, name, labels):
    """Uncompressed layer: the firmware at /<name> and the metadata file,
    root-owned, mtime 0."""
    files = {name: open(firmware, "rb").read(), METADATA_FILE: metadata_json(labels)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = name.split("/")
        for i in range(1, len(parts)):  # parent directories of a nested name
            d = tarfile.TarInfo("/".join(parts[:i]))
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(d)
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout, data):
    digest = sha256(data)
    path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def split_ref(ref):
    """"repo/name:tag" -> tag ("latest" when absent); a digest ref is refused."""
    if "@" in ref:
        raise FwImageError(f"--ref `{ref}`: a tag is needed, not a digest")
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        return ref, last.rsplit(":", 1)[1]
    return ref + ":latest", "latest"


def build_image(args):
    check_firmware(args.firmware)
    labels = labels_from(args)
    full_ref, tag = split_ref(args.ref)
    layout = args.out
    if os.path.exists(layout):
        if not os.path.isdir(layout) or os.listdir(layout):
            raise FwImageError(f"--out `{layout}`: exists and is not an empty directory")
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)

    tar_bytes = layer_tar(args.firmware, args.name, labels)
    gz = gzip.compress(tar_bytes, compresslevel=9, mtime=0)
    layer = dict(mediaType=MT_LAYER_GZIP, **write_blob(layout, gz))
    config = {
        "created": EPOCH,
        "architecture": args.arch,
        "os": "linux",
        "config": {"Cmd": ["/" + args.name], "WorkingDir": "/", "Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
        "history": [{"created": EPOCH,
                     "created_by": f"edgecr fwimage: firmware /{args.name} for {args.processor}"}],
    }
    return finish_layout(layout, config, layer, labels, args.arch, tag, full_ref, args.tar)


def finish_layout(layout, config, layer, annotations, arch, tag, full_ref, tar=None):
    """Writes an image's config, manifest (one layer, the annotations),
    index.json naming it `full_ref`, and oci-layout into layout (and, with
    tar, the tar of it); returns the manifest's digest.  Shared by the
    image packers (fwimage, wasmimage)."""
    config_desc = dict(mediaType=MT_CONFIG, **write_blob(layout, canonical(config)))
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": config_desc,
                "layers": [layer], "annotations": dict(annotations)}
    manifest_desc = dict(mediaType=MT_MANIFEST, **write_blob(layout, canonical(manifest)))
    manifest_desc["platform"] = {"architecture": arch, "os": "linux"}
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": tag,
                                    "io.containerd.image.name": full_ref}
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [manifest_desc]}
    with open(os.path.join(layout, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(layout, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    if tar:
        tar_layout(layout, tar)
    return manifest_desc["digest"]


def tar_layout(layout, out):
    """The layout as a tar with its files at the archive root, as
    `ctr image import` and `docker load` expect."""
    def norm(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for top in ("oci-layout", "index.json"):
            tar.add(os.path.join(layout, top), arcname=top, filter=norm)
        for d in ("blobs", "blobs/sha256"):
            tar.add(os.path.join(layout, d), arcname=d, recursive=False, filter=norm)
        for blob in sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))):
            tar.add(os.path.join(layout, "blobs", "sha256", blob),
                    arcname=f"blobs/sha256/{blob}", filter=norm)
    os.replace(tmp, out)


def build_bundle(args):
    """An OCI runtime bundle: rootfs/<name> and a config.json whose
    annotations carry the same labels as the image."""
    check_firmware(args.firmware)
    labels = labels_from(args)
    bundle = args.out
    if os.path.exists(bundle) and (not os.path.isdir(bundle) or os.listdir(bundle)):
        raise FwImageError(f"--out `{bundle}`: exists and is not an empty directory")
    dest = os.path.join(bundle, "rootfs", args.name)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(args.firmware, dest)
    os.chmod(dest, 0o644)
    with open(os.path.join(bundle, "rootfs", METADATA_FILE), "wb") as f:
        f.write(metadata_json(labels))
    spec = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
                    "args": ["/" + args.name], "cwd": "/",
                    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "root": {"path": "rootfs", "readonly": True},
        "annotations": labels,
    }
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f, indent=2, sort_keys=True)
        f.write("\n")


def main(argv=None):
    p = argparse.ArgumentParser(prog="fwimage", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("image", "bundle"):
        s = sub.add_parser(name)
        s.add_argument("--firmware", required=True, help="firmware ELF file")
        s.add_argument("--name", help="file name inside the rootfs (default: the firmware's)")
        s.add_argument("--processor", required=True, help="remoteproc name the firmware is for")
        s.add_argument("--board", help="board, matched against the devicetree model")
        s.add_argument("--cpu", help="core type, e.g. cortex-m3 (informational)")
        s.add_argument("--machine", help="QEMU machine of the emulation, e.g. mps2-an385")
        s.add_argument("--label", action="append", help="extra KEY=VALUE label")
        s.add_argument("--out", required=True, help="output directory (new or empty)")
        if name == "image":
            s.add_argument("--ref", required=True, help="image reference, e.g. edgecr.local/fw/hello:1")
            s.add_argument("--tar", help="also write the layout as this tar")
            s.add_argument("--arch", default=GOARCH.get(platform.machine(), platform.machine()),
                           help="platform architecture of the Linux host (default: this one)")
    args = p.parse_args(argv)
    if args.name is None:
        args.name = os.path.basename(args.firmware)
    if (not args.name or args.name.startswith("/") or ".." in args.name.split("/")
            or args.name == METADATA_FILE):
        print(f"fwimage: --name `{args.name}`: must be a relative path inside the rootfs",
              file=sys.stderr)
        return 2
    try:
        if args.cmd == "image":
            digest = build_image(args)
            print(digest)
        else:
            build_bundle(args)
    except FwImageError as e:
        print(f"fwimage: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
