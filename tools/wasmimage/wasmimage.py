#!/usr/bin/env python3
"""wasmimage - packs a WebAssembly module (a WASI command) into an OCI image:
an image layout directory and a tar of it that `ctr image import` accepts.
The sibling of tools/fwimage (whose layout helpers it uses), for the
WebAssembly backend (docs/wasm-containers.md).

  wasmimage.py image --wasm APP.wasm --ref REPO:TAG --out LAYOUT_DIR
                     [--tar FILE.tar] [--name app.wasm]
                     [--variant compat|compat-smart] [--file SRC:DEST]...
                     [--env K=V]... [--arch amd64] [--metadata META.cose]

The single layer holds the module at /<name> (and each --file); the image
config runs it (Entrypoint ["/<name>"]) and, like the manifest, carries the
annotation module.wasm.image/variant (the key crun and the Kubernetes
ecosystem use).  edgecr needs none of it to pick the WebAssembly backend:
an entrypoint that starts with the magic \\0asm is enough, so images made
by other tools run too.  --metadata adds the tenant's metadata
(docs/tenants.md: a COSE_Sign1 from `edgecr meta sign`, or a bare CBOR
payload for nodes whose policy allows unsigned metadata) next to the
module, as /<name>.meta, where the runtime looks for it at create (an
image's annotations do not reach the container's config through
containerd); the annotation and label org.edgecr.tenant.metadata name that
path and org.edgecr.tenant.metadata-digest its SHA-256.  The metadata must
bind this module (hold its SHA-256).  Output is deterministic (same
inputs, same digests).  Python 3 standard library only.
"""
import argparse
import gzip
import hashlib
import io
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fwimage"))
from fwimage import (EPOCH, GOARCH, MT_LAYER_GZIP,  # noqa: E402
                     FwImageError, finish_layout, split_ref, sha256, write_blob)
import platform  # noqa: E402

ANN_VARIANT = "module.wasm.image/variant"
ANN_METADATA = "org.edgecr.tenant.metadata"
ANN_METADATA_DIGEST = "org.edgecr.tenant.metadata-digest"
METADATA_SUFFIX = ".meta"           # the runtime's WB_TENANT_META_SUFFIX
METADATA_MAX = 65536 + 1024         # the runtime's TENANT_FILE_MAX_BYTES
WASM_MAGIC = b"\0asm"


class WasmImageError(FwImageError):
    pass


def check_module(path):
    """A binary WebAssembly module, version 1; anything else is refused."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise WasmImageError(f"--wasm `{path}`: {e.strerror}")
    if head[:4] != WASM_MAGIC:
        raise WasmImageError(f"--wasm `{path}`: not a WebAssembly binary module (no \\0asm magic)")
    if head[4:8] != b"\1\0\0\0":
        raise WasmImageError(f"--wasm `{path}`: WebAssembly binary version {head[4:8].hex()}, not 1")


def parse_files(specs):
    out = []
    for s in specs:
        src, sep, dest = s.partition(":")
        if not sep or not dest.startswith("/") or ".." in dest.split("/"):
            raise WasmImageError(f"--file `{s}`: expected SRC:/ABSOLUTE/DEST")
        if not os.path.isfile(src):
            raise WasmImageError(f"--file `{s}`: `{src}` is not a file")
        out.append((src, dest.lstrip("/")))
    return out


def read_metadata(path, module):
    """Tenant metadata: a COSE_Sign1 (tagged 18 or a 4-array) or a bare CBOR
    map, that binds `module` (its SHA-256 as the 32-byte string of the
    `module` field).  The runtime verifies everything else at create."""
    try:
        with open(path, "rb") as f:
            data = f.read(METADATA_MAX + 1)
    except OSError as e:
        raise WasmImageError(f"--metadata `{path}`: {e.strerror}")
    if len(data) > METADATA_MAX:
        raise WasmImageError(f"--metadata `{path}`: larger than {METADATA_MAX} bytes: not tenant metadata")
    if not data or not (data[0] in (0xD2, 0x84) or 0xA0 <= data[0] <= 0xBB):
        raise WasmImageError(f"--metadata `{path}`: not tenant metadata (a COSE_Sign1 from `edgecr meta sign`, "
                             "or a bare CBOR payload from `edgecr meta build`)")
    with open(module, "rb") as f:
        digest = hashlib.sha256(f.read()).digest()
    if b"\x58\x20" + digest not in data:
        raise WasmImageError(f"--metadata `{path}`: does not bind the module `{module}` "
                             f"(sha256:{digest.hex()}): build it with `edgecr meta build --module`")
    return data


def layer_tar(entries):
    """Uncompressed layer: (data, path, mode) entries, root-owned, mtime 0,
    with their parent directories."""
    buf = io.BytesIO()
    dirs = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for data, path, mode in entries:
            parts = path.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                    tar.addfile(info)
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_image(args):
    check_module(args.wasm)
    name = args.name.lstrip("/")
    if not name or ".." in name.split("/"):
        raise WasmImageError(f"--name `{args.name}`: a path inside the image is needed")
    files = parse_files(args.file)
    metadata = read_metadata(args.metadata, args.wasm) if args.metadata else None
    full_ref, tag = split_ref(args.ref)
    layout = args.out
    if os.path.exists(layout) and (not os.path.isdir(layout) or os.listdir(layout)):
        raise WasmImageError(f"--out `{layout}`: exists and is not an empty directory")
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)

    entries = [(open(args.wasm, "rb").read(), name, 0o755)]
    entries += [(open(src, "rb").read(), dest, 0o755 if os.access(src, os.X_OK) else 0o644)
                for src, dest in files]
    annotations = {ANN_VARIANT: args.variant}
    if metadata is not None:
        entries.append((metadata, name + METADATA_SUFFIX, 0o644))
        annotations[ANN_METADATA] = "/" + name + METADATA_SUFFIX
        annotations[ANN_METADATA_DIGEST] = sha256(metadata)
    tar_bytes = layer_tar(entries)
    gz = gzip.compress(tar_bytes, compresslevel=9, mtime=0)
    layer = dict(mediaType=MT_LAYER_GZIP, **write_blob(layout, gz))
    config = {
        "created": EPOCH,
        "architecture": args.arch,
        "os": "linux",
        "config": {"Entrypoint": ["/" + name], "WorkingDir": "/", "Env": list(args.env),
                   "Labels": dict(annotations)},
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
        "history": [{"created": EPOCH, "created_by": f"edgecr wasmimage: WebAssembly module /{name}"}],
    }
    return finish_layout(layout, config, layer, annotations, args.arch, tag, full_ref, args.tar)


def main(argv=None):
    p = argparse.ArgumentParser(prog="wasmimage", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    img = sub.add_parser("image", help="an OCI image layout (+ tar) holding the module")
    img.add_argument("--wasm", required=True)
    img.add_argument("--ref", required=True)
    img.add_argument("--out", required=True)
    img.add_argument("--tar")
    img.add_argument("--name", default="app.wasm")
    img.add_argument("--variant", choices=["compat", "compat-smart"], default="compat")
    img.add_argument("--file", action="append", default=[])
    img.add_argument("--env", action="append", default=[])
    img.add_argument("--metadata")
    img.add_argument("--arch", default=GOARCH.get(platform.machine(), platform.machine()))
    args = p.parse_args(argv)
    try:
        print(build_image(args))
    except FwImageError as e:
        print(f"wasmimage: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
