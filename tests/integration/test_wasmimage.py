"""tools/wasmimage: a WebAssembly module packed as an OCI image layout (+
tar): blobs match their digests, the config runs the module and carries the
variant annotation, the output is deterministic, umoci can unpack it, and
bad input is refused with the reason (containerd runs the image in
test_wasm_containers.py)."""
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

REPO = Path(__file__).resolve().parents[2]
WASMIMAGE = REPO / "tools" / "wasmimage" / "wasmimage.py"
MODULE = b"\0asm\1\0\0\0"  # the smallest valid module


def wasmimage(*args, check=True):
    r = subprocess.run([sys.executable, str(WASMIMAGE), *map(str, args)], capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def blob(layout, desc):
    hexd = desc["digest"].split(":")[1]
    data = (layout / "blobs" / "sha256" / hexd).read_bytes()
    assert hashlib.sha256(data).hexdigest() == hexd and len(data) == desc["size"]
    return data


def make(tmp_path, name="l", extra=()):
    mod = tmp_path / "m.wasm"
    mod.write_bytes(MODULE)
    (tmp_path / "data.txt").write_text("data\n")
    r = wasmimage("image", "--wasm", mod, "--ref", "edgecr.local/w:1", "--out", tmp_path / name,
                  "--tar", tmp_path / f"{name}.tar", "--arch", "amd64", "--file", f"{tmp_path / 'data.txt'}:/d/x.txt",
                  *extra)
    return tmp_path / name, r.stdout.strip()


def test_layout_config_and_layer(tmp_path):
    layout, digest = make(tmp_path, extra=("--variant", "compat-smart", "--env", "A=1"))
    [mdesc] = json.loads((layout / "index.json").read_text())["manifests"]
    assert mdesc["digest"] == digest
    assert mdesc["annotations"]["io.containerd.image.name"] == "edgecr.local/w:1"
    manifest = json.loads(blob(layout, mdesc))
    assert manifest["annotations"] == {"module.wasm.image/variant": "compat-smart"}
    config = json.loads(blob(layout, manifest["config"]))
    assert config["config"]["Entrypoint"] == ["/app.wasm"] and config["config"]["Env"] == ["A=1"]
    assert config["config"]["Labels"] == {"module.wasm.image/variant": "compat-smart"}
    layer = gzip.decompress(blob(layout, manifest["layers"][0]))
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        names = {m.name: m for m in t.getmembers()}
        assert t.extractfile("app.wasm").read() == MODULE
        assert t.extractfile("d/x.txt").read() == b"data\n"
        assert names["d"].isdir()
    with tarfile.open(tmp_path / "l.tar") as t:
        assert {"oci-layout", "index.json"} <= set(t.getnames())


def test_deterministic(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, d1 = make(tmp_path / "a")
    _, d2 = make(tmp_path / "b")
    assert d1 == d2
    assert (tmp_path / "a" / "l.tar").read_bytes() == (tmp_path / "b" / "l.tar").read_bytes()


def test_umoci_unpacks_it(tmp_path):
    if shutil.which("umoci") is None:
        pytest.skip("umoci not installed")
    layout, _ = make(tmp_path)
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:1", str(tmp_path / "bundle")], check=True,
                   capture_output=True)
    assert (tmp_path / "bundle" / "rootfs" / "app.wasm").read_bytes() == MODULE
    cfg = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert cfg["process"]["args"] == ["/app.wasm"]


@pytest.mark.parametrize("content,why", [(b"\x7fELF\1\1\1", "no \\0asm magic"),
                                         (b"\0asm\x0d\0\1\0", "version 0d000100, not 1")])
def test_bad_module_refused(tmp_path, content, why):
    (tmp_path / "bad.wasm").write_bytes(content)
    r = wasmimage("image", "--wasm", tmp_path / "bad.wasm", "--ref", "x:1", "--out", tmp_path / "o", check=False)
    assert r.returncode == 1 and "bad.wasm" in r.stderr and why in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_bad_file_option_refused(tmp_path):
    (tmp_path / "m.wasm").write_bytes(MODULE)
    r = wasmimage("image", "--wasm", tmp_path / "m.wasm", "--ref", "x:1", "--out", tmp_path / "o",
                  "--file", f"{tmp_path / 'm.wasm'}:relative", check=False)
    assert r.returncode == 1 and "SRC:/ABSOLUTE/DEST" in r.stderr


def test_metadata_next_to_the_module_and_annotated(tmp_path):
    """--metadata: the tenant metadata (here a stand-in COSE_Sign1 that
    holds the module's digest as a 32-byte string) is stored as
    /app.wasm.meta, where the runtime looks, and named by the annotation
    and label org.edgecr.tenant.metadata with its digest beside."""
    digest = hashlib.sha256(MODULE).digest()
    meta = tmp_path / "meta.cose"
    meta.write_bytes(b"\xd2\x84\x43\xa1\x01\x27\xa0\x58\x24\xa1\x66module\x58\x20" + digest + b"\x40")
    layout, _ = make(tmp_path, extra=("--metadata", meta))
    [mdesc] = json.loads((layout / "index.json").read_text())["manifests"]
    manifest = json.loads(blob(layout, mdesc))
    layer = gzip.decompress(blob(layout, manifest["layers"][0]))
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        stored = t.extractfile("app.wasm.meta").read()
        assert "edgecr-wasm.json" not in t.getnames()
    assert stored == meta.read_bytes()
    want = {"org.edgecr.tenant.metadata": "/app.wasm.meta",
            "org.edgecr.tenant.metadata-digest": "sha256:" + hashlib.sha256(stored).hexdigest()}
    assert want.items() <= manifest["annotations"].items()
    config = json.loads(blob(layout, manifest["config"]))
    assert want.items() <= config["config"]["Labels"].items()


@pytest.mark.parametrize("content,why", [
    (b'{"tenant": "a"}', "not tenant metadata"),          # the JSON this option once took
    (b"", "not tenant metadata"),
    (b"\xd2\x84" + b"\0" * 40, "does not bind the module"),   # another module's metadata
    (b"\xa1" + b"\0" * (65536 + 1024), "larger than"),
], ids=["json", "empty", "other-module", "too-large"])
def test_metadata_that_is_not_for_this_module_refused(tmp_path, content, why):
    (tmp_path / "m.wasm").write_bytes(MODULE)
    meta = tmp_path / "meta.bin"
    meta.write_bytes(content)
    r = wasmimage("image", "--wasm", tmp_path / "m.wasm", "--ref", "x:1", "--out", tmp_path / "o2",
                  "--metadata", meta, check=False)
    assert r.returncode == 1 and why in r.stderr and "--metadata" in r.stderr, r.stderr
    assert not (tmp_path / "o2").exists()