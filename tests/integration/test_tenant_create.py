"""Tenant metadata checked at `create` (docs/tenants.md, src/wasm-backend/
wasm_tenant.c): the annotation org.edgecr.tenant.metadata names a signed
COSE_Sign1 file in the rootfs; create verifies it against the trust
directory and the module that will run, records what it verified in the
state's annotations (`edgecr state`), and otherwise fails with the check's
reason and leaves nothing behind (the `env` fixture checks processes,
cgroups, mounts and state)."""
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import wat2wasm  # noqa: E402

ANN = "org.edgecr.tenant.metadata"
YAML = """\
id: shop-sensor
type: wasm
version: 3
expires: {expires}
kid: vendor
permissions:
  clock:
"""

needs_wat2wasm = pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")


@pytest.fixture
def signed(env, monkeypatch):
    """keys/, trust.d/ and a function that builds and signs metadata for a module."""
    # the record of accepted versions in the test's own directory
    monkeypatch.setenv("EDGECR_TENANT_DIR", str(env.tmp / "tenants"))
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")

    def make(module, expires="2099-01-01T00:00:00Z", sign=True):
        y = env.tmp / "t.yaml"
        y.write_text(YAML.format(expires=expires))
        env.rt("meta", "build", y, "--module", module, "-o", env.tmp / "meta.cbor")
        if not sign:
            return env.tmp / "meta.cbor"
        env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / "meta.cbor", "-o", env.tmp / "meta.cose")
        return env.tmp / "meta.cose"
    return {"make": make, "trust": trust}


def modules():
    ok = wat2wasm('(module (func (export "_start")))')
    other = wat2wasm('(module (func (export "_start") nop))')
    return ok, other


def tenant_bundle(env, module, meta):
    b = env.bundle(cid=None)
    shutil.copy(module, b.path / "rootfs" / "app.wasm")
    if meta is not None:
        shutil.copy(meta, b.path / "rootfs" / "meta.cose")
    b.set_args("/app.wasm")
    b.config["annotations"] = {ANN: "/meta.cose"}
    return b


@pytest.mark.sanitizer
@needs_wat2wasm
def test_verified_metadata_creates_and_state_shows_it(env, signed):
    ok, _ = modules()
    meta = signed["make"](ok)
    b = tenant_bundle(env, ok, meta)
    # The global option reaches the backend.
    env.rt.track(b)
    b.write()
    # (output to files: the container's init keeps create's stdio open)
    with open(b.stdout_file, "a") as out, open(b.stderr_file, "a") as err:
        p = env.rt("create", "--bundle", b.path, b.id, check=False, stdout=out, stderr=err,
                   global_args=["--trust-dir", signed["trust"]])
    assert p.returncode == 0, b.stderr()
    st = json.loads(env.rt("state", b.id).stdout)
    a = st["annotations"]
    assert a["org.edgecr.tenant.id"] == "shop-sensor"
    assert a["org.edgecr.tenant.version"] == "3"
    assert a["org.edgecr.tenant.key"] == "vendor"
    assert a["org.edgecr.tenant.metadata-digest"] == "sha256:" + hashlib.sha256(meta.read_bytes()).hexdigest()
    env.rt("delete", "--force", b.id)


@pytest.mark.sanitizer
@needs_wat2wasm
@pytest.mark.parametrize("case,reason", [
    ("unknown-key", "unknown key `vendor`"),
    ("unsigned", "no signature"),
    ("other-module", "module digest mismatch"),
    ("expired", "expired: valid until 2001-01-01T00:00:00Z"),
    ("tampered", "bad signature"),
    ("missing", "open `/meta.cose` in the rootfs"),
])
def test_refused_metadata_fails_create_and_leaves_nothing(env, signed, monkeypatch, case, reason):
    ok, other = modules()
    trust = signed["trust"]
    if case == "unknown-key":
        trust = env.tmp / "empty.d"
        trust.mkdir()
    meta = {"unsigned": lambda: signed["make"](ok, sign=False),
            "other-module": lambda: signed["make"](other),
            "expired": lambda: signed["make"](ok, expires="2001-01-01T00:00:00Z")}.get(case, lambda: signed["make"](ok))()
    if case == "tampered":
        data = bytearray(meta.read_bytes())
        i = data.find(b"shop-sensor")
        data[i] ^= 0x01
        meta.write_bytes(bytes(data))
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    b = tenant_bundle(env, ok, None if case == "missing" else meta)
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "org.edgecr.tenant.metadata" in p.stderr and reason in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()


@needs_wat2wasm
def test_without_the_annotation_nothing_is_checked(env):
    ok, _ = modules()
    b = env.bundle(cid=None)
    shutil.copy(ok, b.path / "rootfs" / "app.wasm")
    b.set_args("/app.wasm")
    p = env.rt.create(b, check=False)
    assert p.returncode == 0, p.stderr
    st = json.loads(env.rt("state", b.id).stdout)
    assert "org.edgecr.tenant.version" not in st.get("annotations", {})
    env.rt("delete", "--force", b.id)
