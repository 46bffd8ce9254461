"""The tenant ABI in WebAssembly containers: the permissions of the metadata
verified at create (org.edgecr.tenant.metadata) are the tenant's permission
table in the container's init; calls outside them are denied (EDGECR_EDENIED
to the guest, reported on the container's stderr); a container without
metadata is granted nothing; an import outside the ABI fails create naming
it.  The guest is tests/tenant/guests/abi_basic.c, built with clang."""
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

ANN = "org.edgecr.tenant.metadata"
GUEST = REPO / "tests" / "tenant" / "guests" / "abi_basic.c"
YAML = """\
id: meter-7
type: wasm
version: 2
expires: 2099-01-01T00:00:00Z
kid: vendor
permissions:
{perms}
"""

needs_tools = pytest.mark.skipif(shutil.which("clang") is None or shutil.which("wat2wasm") is None,
                                 reason="clang (wasm32-wasi) or wabt not installed")


@pytest.fixture
def tenant(env, monkeypatch):
    keys, trust = env.tmp / "keys", env.tmp / "trust.d"
    trust.mkdir()
    env.rt("meta", "keygen", "--out", keys, "vendor")
    shutil.copy(keys / "vendor.pub", trust / "vendor.pub")
    monkeypatch.setenv("EDGECR_TRUST_DIR", str(trust))
    guest = compile_wasm(GUEST, ["-I", str(REPO / "include")])

    def bundle(perms, *args, module=guest, signed=True):
        b = env.bundle(cid=None)
        shutil.copy(module, b.path / "rootfs" / "app.wasm")
        b.set_args("/app.wasm", *args)
        if perms is not None:
            y = env.tmp / "t.yaml"
            y.write_text(YAML.format(perms=perms))
            env.rt("meta", "build", y, "--module", module, "-o", env.tmp / "meta.cbor")
            env.rt("meta", "sign", "--key", keys / "vendor.key", env.tmp / "meta.cbor",
                   "-o", b.path / "rootfs" / "meta.cose")
            b.config["annotations"] = {ANN: "/meta.cose"}
        return b
    return bundle


@pytest.mark.sanitizer
@needs_tools
def test_metadata_grants_are_the_tenants_permissions(env, tenant):
    b = tenant("  log:", "log", "from the container", "now")
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "[meter-7] INFO: from the container" in p.stdout and "log 0" in p.stdout
    assert "now denied" in p.stdout
    assert "edgecr: tenant meter-7: denied: edgecr.clock_now (service clock: not granted)" in p.stderr


@needs_tools
def test_clock_granted_sleep_until_in_a_container(env, tenant):
    b = tenant("  clock:", "now", "sleep", "5", "10", "log", "x")
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "now positive" in p.stdout and "sleep rc=0" in p.stdout and "log -1" in p.stdout


@needs_tools
def test_without_metadata_every_call_is_denied(env, tenant):
    b = tenant(None, "version", "log", "x", "now")
    p = env.rt.run(b, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "version 1" in p.stdout and "log -1" in p.stdout and "now denied" in p.stdout


@needs_tools
@pytest.mark.parametrize("wat,why", [
    ('(import "edgecr" "launch" (func))', "import `edgecr.launch`: no such function in the edgecr ABI"),
    ('(import "edgecr" "clock_now" (func (result i32)))',
     "import `edgecr.clock_now`: imported with type () -> (i32), but it has type () -> (i64)"),
])
def test_import_outside_the_abi_fails_create(env, tenant, wat, why):
    mod = wat2wasm(f'(module {wat} (func (export "_start")))')
    b = tenant(None, module=mod)
    p = env.rt.create(b, check=False)
    assert p.returncode != 0 and why in p.stderr and "/app.wasm" in p.stderr, p.stderr
    assert not (env.rt.root / b.id).exists()
