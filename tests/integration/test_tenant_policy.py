"""Tenant metadata at `create`, the node's side (docs/tenants.md, "Node
policy", "Versions", "Where the metadata is"): the policy for unsigned
metadata (signed by default, allow-unsigned for development, by global
option or environment), the record of the highest version accepted per
tenant id (an older one is refused, an equal one is a restart, a failed
create leaves the record alone, a damaged record fails closed), and the
metadata found next to the module (`<module>.meta`) when no annotation
names one.  Each refusal names its reason and leaves nothing behind (the
`env` fixture checks processes, cgroups, mounts and state)."""
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
id: {id}
type: wasm
version: {version}
expires: 2099-01-01T00:00:00Z
kid: vendor
permissions:
  clock:
"""

pytestmark = pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")


@pytest.fixture
def tenants(env, monkeypatch):
    """Keys, a trust directory, a private version-record directory, and
    make(module, version, sign) -> metadata file."""
    keys, trust, vdir = env.tmp / "keys", env.tmp / "trust.d", env.tmp / "tenants"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    monkeypatch.setenv("EDGECR_TENANT_DIR", str(vdir))
    monkeypatch.delenv("EDGECR_TENANT_POLICY", raising=False)
    n = [0]

    def make(module, version=3, sign=True, tid="tl-tenant"):
        n[0] += 1
        y = env.tmp / f"t{n[0]}.yaml"
        y.write_text(YAML.format(id=tid, version=version))
        cbor = env.tmp / f"m{n[0]}.cbor"
        env.rt("meta", "build", y, "--module", module, "-o", cbor)
        if not sign:
            return cbor
        cose = env.tmp / f"m{n[0]}.cose"
        env.rt("meta", "sign", "--key", keys / "vendor.key", cbor, "-o", cose)
        return cose
    return type("T", (), {"make": staticmethod(make), "vdir": vdir, "trust": trust, "keys": keys})


def module():
    return wat2wasm('(module (func (export "_start")))')


def bundle(env, mod, meta, where="/meta.cose"):
    """meta goes to `where` in the rootfs; the annotation names it unless
    where is None (then it lies next to the module as /app.wasm.meta)."""
    b = env.bundle(cid=None)
    shutil.copy(mod, b.path / "rootfs" / "app.wasm")
    b.set_args("/app.wasm")
    if meta is not None:
        dest = where or "/app.wasm.meta"
        shutil.copy(meta, b.path / "rootfs" / dest.lstrip("/"))
    if where is not None:
        b.config["annotations"] = {ANN: where}
    return b


def annotations(env, cid):
    return json.loads(env.rt("state", cid).stdout).get("annotations", {})


def record(t, tid="tl-tenant"):
    p = t.vdir / f"{tid}.version"
    return p.read_text() if p.exists() else None


def create_ok(env, b, *global_args):
    env.rt.track(b)
    b.write()
    with open(b.stdout_file, "a") as out, open(b.stderr_file, "a") as err:
        p = env.rt("create", "--bundle", b.path, b.id, check=False, stdout=out, stderr=err,
                   global_args=list(global_args))
    return p.returncode, b.stderr()


# ---------------------------------------------------------------- policy

def test_unsigned_refused_by_default(env, tenants):
    b = bundle(env, module(), tenants.make(module(), sign=False))
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "tenant metadata refused" in p.stderr and "no signature" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
    assert record(tenants) is None


@pytest.mark.parametrize("how", ["option", "environment"])
def test_unsigned_allowed_by_policy_with_a_warning_and_marked(env, tenants, monkeypatch, how):
    b = bundle(env, module(), tenants.make(module(), sign=False))
    if how == "environment":
        monkeypatch.setenv("EDGECR_TENANT_POLICY", "allow-unsigned")
        rc, err = create_ok(env, b)
    else:
        rc, err = create_ok(env, b, "--tenant-policy", "allow-unsigned")
    assert rc == 0, err
    assert "unsigned metadata `/meta.cose` accepted by the node policy allow-unsigned" in err
    a = annotations(env, b.id)
    assert a["org.edgecr.tenant.signed"] == "false"
    assert "org.edgecr.tenant.key" not in a
    assert a["org.edgecr.tenant.id"] == "tl-tenant" and a["org.edgecr.tenant.version"] == "3"
    assert record(tenants) == "3\n"
    env.rt("delete", "--force", b.id)


def test_signed_metadata_is_marked_signed(env, tenants):
    mod = module()
    b = bundle(env, mod, tenants.make(mod))
    rc, err = create_ok(env, b)
    assert rc == 0, err
    a = annotations(env, b.id)
    assert a["org.edgecr.tenant.signed"] == "true" and a["org.edgecr.tenant.key"] == "vendor"
    import hashlib
    assert a["org.edgecr.tenant.module"] == "sha256:" + hashlib.sha256(mod.read_bytes()).hexdigest()
    env.rt("delete", "--force", b.id)


@pytest.mark.parametrize("case,reason", [
    ("unknown-key", "unknown key `vendor`"),
    ("tampered", "bad signature"),
])
def test_allow_unsigned_still_refuses_a_signature_that_fails(env, tenants, monkeypatch, case, reason):
    """The policy lets a bare payload through, never a bad or unknown signature."""
    meta = tenants.make(module())
    if case == "unknown-key":
        (tenants.trust / "vendor.pub").unlink()
    else:
        data = bytearray(meta.read_bytes())
        data[data.find(b"tl-tenant")] ^= 1
        meta.write_bytes(bytes(data))
    monkeypatch.setenv("EDGECR_TENANT_POLICY", "allow-unsigned")
    p = env.rt.create(bundle(env, module(), meta), check=False)
    assert p.returncode != 0 and reason in p.stderr, p.stderr
    assert record(tenants) is None


def test_unknown_policy_word_refused(env, tenants, monkeypatch):
    b = bundle(env, module(), tenants.make(module()))
    rc, err = create_ok(env, b, "--tenant-policy", "lenient")
    assert rc != 0
    p = env.rt("list", check=False, global_args=["--tenant-policy", "lenient"])
    assert p.returncode != 0 and "--tenant-policy: unknown policy `lenient`" in p.stderr
    monkeypatch.setenv("EDGECR_TENANT_POLICY", "lenient")
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and "$EDGECR_TENANT_POLICY: unknown tenant policy `lenient`" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()


# ---------------------------------------------------------------- versions

@pytest.mark.sanitizer
def test_older_version_refused_equal_allowed_higher_raises(env, tenants):
    mod = module()
    b = bundle(env, mod, tenants.make(mod, version=5))
    env.rt.create(b)
    assert record(tenants) == "5\n"
    env.rt("delete", "--force", b.id)
    # a restart with the same version
    b = bundle(env, mod, tenants.make(mod, version=5))
    env.rt.create(b)
    env.rt("delete", "--force", b.id)
    # a replay of an older, validly signed metadata
    b = bundle(env, mod, tenants.make(mod, version=4))
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "older version: version 4 is older than the running version 5" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
    assert record(tenants) == "5\n"
    b = bundle(env, mod, tenants.make(mod, version=9))
    env.rt.create(b)
    assert record(tenants) == "9\n"
    env.rt("delete", "--force", b.id)
    # the record is per tenant id
    b = bundle(env, mod, tenants.make(mod, version=1, tid="tl-other"))
    env.rt.create(b)
    assert record(tenants, "tl-other") == "1\n" and record(tenants) == "9\n"
    env.rt("delete", "--force", b.id)


def test_a_failed_create_leaves_the_record(env, tenants):
    """The check passes, the container cannot be created (the module imports
    a function no host provides): the record stays where it was."""
    mod = module()
    env.rt.create(b := bundle(env, mod, tenants.make(mod, version=2)))
    env.rt("delete", "--force", b.id)
    bad = wat2wasm('(module (import "nowhere" "f" (func)) (func (export "_start")))')
    b = bundle(env, bad, tenants.make(bad, version=7))
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and "nowhere" in p.stderr, p.stderr
    assert record(tenants) == "2\n"
    assert not (env.rt.root / b.id).exists()


def test_a_damaged_record_fails_closed(env, tenants):
    tenants.vdir.mkdir()
    (tenants.vdir / "tl-tenant.version").write_text("seven\n")
    b = bundle(env, module(), tenants.make(module(), version=8))
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "tl-tenant.version`: expected one decimal number" in p.stderr, p.stderr
    assert (tenants.vdir / "tl-tenant.version").read_text() == "seven\n"


def test_global_option_names_the_record_directory(env, tenants):
    other = env.tmp / "elsewhere"
    b = bundle(env, module(), tenants.make(module(), version=4))
    rc, err = create_ok(env, b, "--tenant-dir", other)
    assert rc == 0, err
    assert (other / "tl-tenant.version").read_text() == "4\n" and record(tenants) is None
    env.rt("delete", "--force", b.id)


# ------------------------------------------------- metadata next to the module

def test_metadata_next_to_the_module_is_checked(env, tenants):
    mod = module()
    b = bundle(env, mod, tenants.make(mod), where=None)
    env.rt.create(b)
    a = annotations(env, b.id)
    assert a[ANN] == "/app.wasm.meta" and a["org.edgecr.tenant.version"] == "3"
    env.rt("delete", "--force", b.id)


def test_refused_metadata_next_to_the_module_fails_create(env, tenants):
    mod = module()
    other = wat2wasm('(module (func (export "_start") nop))')
    b = bundle(env, mod, tenants.make(other), where=None)
    p = env.rt.create(b, check=False)
    assert p.returncode != 0
    assert "/app.wasm.meta" in p.stderr and "module digest mismatch" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
