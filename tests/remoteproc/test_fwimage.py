"""tools/fwimage: firmware packed as an OCI image layout (+ tar) valid per
the OCI image spec, unpackable by umoci, and as an OCI runtime bundle."""
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import hostprobe
from rproclib import REPO

# The image's platform: this host's (containerd unpacks only its own).
ARCH = hostprobe.oci_arch()

FWIMAGE = REPO / "tools" / "fwimage" / "fwimage.py"


def fwimage(*args, check=True):
    r = subprocess.run([sys.executable, str(FWIMAGE), *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def make_image(tmp_path, fw, out="layout", tar="image.tar", extra=()):
    r = fwimage("image", "--firmware", fw, "--processor", "cm3-0",
                "--board", "Arm MPS2 AN385", "--cpu", "cortex-m3", "--machine", "mps2-an385",
                "--ref", "edgecr.local/firmware/hello:1.0", "--arch", ARCH,
                "--out", tmp_path / out, "--tar", tmp_path / tar, *extra)
    return tmp_path / out, tmp_path / tar, r.stdout.strip()


def read_blob(layout, desc):
    algo, hexd = desc["digest"].split(":")
    assert algo == "sha256"
    data = (layout / "blobs" / "sha256" / hexd).read_bytes()
    assert hashlib.sha256(data).hexdigest() == hexd, "blob content does not match its digest"
    assert len(data) == desc["size"], "descriptor size does not match the blob"
    return data


LABELS = {"remoteproc.name": "cm3-0", "org.edgecr.remoteproc.processor": "cm3-0",
          "org.edgecr.remoteproc.board": "Arm MPS2 AN385",
          "org.edgecr.remoteproc.cpu": "cortex-m3",
          "org.edgecr.remoteproc.machine": "mps2-an385",
          "org.edgecr.remoteproc.firmware": "/hello.elf"}


def test_image_layout_is_valid(tmp_path, firmware):
    layout, _, printed = make_image(tmp_path, firmware["hello"])
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    [mdesc] = index["manifests"]
    assert mdesc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert mdesc["digest"] == printed
    assert mdesc["platform"] == {"architecture": ARCH, "os": "linux"}
    assert mdesc["annotations"] == {"org.opencontainers.image.ref.name": "1.0",
                                    "io.containerd.image.name": "edgecr.local/firmware/hello:1.0"}
    manifest = json.loads(read_blob(layout, mdesc))
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == mdesc["mediaType"]
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert manifest["annotations"] == LABELS
    config = json.loads(read_blob(layout, manifest["config"]))
    assert (config["os"], config["architecture"]) == ("linux", ARCH)
    assert config["config"]["Cmd"] == ["/hello.elf"]
    assert config["config"]["Labels"] == LABELS
    [ldesc] = manifest["layers"]
    assert ldesc["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    layer = gzip.decompress(read_blob(layout, ldesc))
    assert config["rootfs"] == {"type": "layers",
                                "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        assert sorted(t.getnames()) == ["edgecr-remoteproc.json", "hello.elf"]
        assert t.extractfile("hello.elf").read() == firmware["hello"].read_bytes()
        assert json.loads(t.extractfile("edgecr-remoteproc.json").read()) == LABELS
    # Every blob is referenced: nothing stray in the layout.
    blobs = {p.name for p in (layout / "blobs" / "sha256").iterdir()}
    refs = {d["digest"].split(":")[1] for d in (mdesc, manifest["config"], ldesc)}
    assert blobs == refs


def test_tar_holds_the_layout_and_is_reproducible(tmp_path, firmware):
    layout, tar, digest = make_image(tmp_path, firmware["hello"])
    with tarfile.open(tar) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    on_disk = {str(p.relative_to(layout)): p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    assert files == on_disk
    _, tar2, digest2 = make_image(tmp_path, firmware["hello"], out="layout2", tar="image2.tar")
    assert digest2 == digest
    assert tar2.read_bytes() == tar.read_bytes()
    _, _, other = make_image(tmp_path, firmware["sampler"], out="layout3", tar="image3.tar",
                             extra=("--name", "hello.elf"))
    assert other != digest


@pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")
def test_umoci_unpacks_it(tmp_path, firmware):
    layout, _, _ = make_image(tmp_path, firmware["sampler"], extra=("--name", "fw/sampler.elf"))
    bundle = tmp_path / "bundle"
    r = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:1.0", str(bundle)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    spec = json.loads((bundle / "config.json").read_text())
    assert spec["process"]["args"] == ["/fw/sampler.elf"]
    assert spec["annotations"]["remoteproc.name"] == "cm3-0"
    assert (bundle / "rootfs/fw/sampler.elf").read_bytes() == firmware["sampler"].read_bytes()


def test_bundle(tmp_path, firmware):
    out = tmp_path / "bundle"
    fwimage("bundle", "--firmware", firmware["crash"], "--processor", "cm3-1",
            "--board", "Arm MPS2 AN385", "--label", "org.example.note=x=y", "--out", out)
    spec = json.loads((out / "config.json").read_text())
    assert spec["process"]["args"] == ["/crash.elf"]
    assert spec["root"] == {"path": "rootfs", "readonly": True}
    assert spec["annotations"] == {
        "remoteproc.name": "cm3-1", "org.edgecr.remoteproc.processor": "cm3-1",
        "org.edgecr.remoteproc.board": "Arm MPS2 AN385",
        "org.edgecr.remoteproc.firmware": "/crash.elf", "org.example.note": "x=y"}
    assert (out / "rootfs/crash.elf").read_bytes() == firmware["crash"].read_bytes()
    meta = json.loads((out / "rootfs/edgecr-remoteproc.json").read_text())
    assert meta == spec["annotations"]


def test_bad_input_is_refused(tmp_path, firmware):
    not_elf = tmp_path / "fw.bin"
    not_elf.write_bytes(b"\x00" * 64)
    x86_elf = tmp_path / "i386.elf"  # a 32-bit little-endian ELF for EM_386
    x86_elf.write_bytes(b"\x7fELF\x01\x01\x01" + b"\x00" * 9 + b"\x02\x00\x03\x00" + b"\x00" * 32)
    host_elf = Path(sys.executable).resolve()  # 64-bit on 64-bit hosts
    cases = [
        (["--firmware", tmp_path / "missing.elf"], "No such file"),
        (["--firmware", not_elf], "not an ELF"),
        (["--firmware", x86_elf], "expected ARM"),
        *([(["--firmware", host_elf], "not a 32-bit")]
          if host_elf.read_bytes()[4] == 2 else []),  # ELFCLASS64
        (["--firmware", firmware["hello"], "--name", "../x.elf"], "relative path"),
        (["--firmware", firmware["hello"], "--label", "novalue"], "KEY=VALUE"),
    ]
    for i, (args, msg) in enumerate(cases):
        r = fwimage("bundle", "--processor", "p", "--out", tmp_path / f"b{i}", *args, check=False)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = fwimage("image", "--firmware", firmware["hello"], "--processor", "p", "--ref", "a/b",
                "--out", tmp_path / "full", check=False)
    assert r.returncode == 2 and "not an empty directory" in r.stderr
