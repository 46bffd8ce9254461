"""The `infer` service in WebAssembly containers: the example keyword-spotting
tenant (examples/tenant-kws, its model in its data section) runs in a
container whose signed metadata (org.edgecr.tenant.metadata) grants infer:
its scores equal the native library's on the same model and windows; with
metadata that does not grant infer, every call is denied and reported on
the container's stderr."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANN = "org.edgecr.tenant.metadata"
YAML = """\
id: kws-1
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: vendor
permissions:
{perms}
"""

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")


@pytest.fixture
def kws(env, monkeypatch):
    keys, trust, out = env.tmp / "keys", env.tmp / "trust.d", env.tmp / "kws"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    subprocess.run(["sh", REPO / "examples" / "tenant-kws" / "build.sh", out], check=True, capture_output=True)

    def bundle(perms):
        b = env.bundle(cid=None)
        shutil.copy(out / "kws.wasm", b.path / "rootfs" / "kws.wasm")
        b.set_args("/kws.wasm")
        y = env.tmp / "t.yaml"
        y.write_text(YAML.format(perms=perms))
        env.rt("meta", "build", y, "--module", out / "kws.wasm", "-o", env.tmp / "meta.cbor")
        env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / "meta.cbor", "-o", b.path / "rootfs" / "meta.cose")
        b.config["annotations"] = {ANN: "/meta.cose"}
        return b
    return bundle, out / "data"


def native(env, data, i):
    runner = Path(os.environ.get("EDGECR_BUILD", REPO / "build")) / "src" / "infer" / "infer_run"
    r = subprocess.run([runner, data / "kws.tflite", data / f"window{i}.bin"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    return r.stdout.split()[1]


@pytest.mark.sanitizer
def test_kws_tenant_granted_infer_equals_native(env, kws):
    bundle, data = kws
    p = env.rt.run(bundle("  infer: {model-size: 16KiB, compute: 100ms}"), timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 3, p.stdout
    for i, line in enumerate(lines):
        assert line.startswith(f"window {i}: rc 0 scores {native(env, data, i)} keyword "), line


def test_kws_tenant_without_infer_grant_is_denied(env, kws):
    bundle, _ = kws
    p = env.rt.run(bundle("  log:"), timeout=60)
    assert p.returncode == 1
    assert p.stdout.splitlines() == [f"window {i}: rc -1" for i in range(3)]
    assert "edgecr: tenant kws-1: denied: edgecr.infer (service infer: not granted)" in p.stderr
