"""`edgecr meta`: tenant metadata built from YAML, signed as COSE_Sign1
(EdDSA/Ed25519), verified against a trust directory, shown as JSON.

Interoperability is checked both ways against an independent COSE_Sign1
implementation written here with python3-cbor2 and python3-nacl (RFC 9052
§4.4: Sig_structure = ["Signature1", protected, external_aad, payload]).
Every refusal is checked for its reason: no signature, not COSE_Sign1,
unknown key, bad signature (tampered payload, wrong key), expired, module
digest mismatch, older version, malformed payload CBOR.
"""
import hashlib
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

cbor2 = pytest.importorskip("cbor2", reason="python3-cbor2 (scripts/install-deps.sh)")
signing = pytest.importorskip("nacl.signing", reason="python3-nacl (scripts/install-deps.sh)")

ROOT = Path(__file__).resolve().parents[2]
EDGECR = os.environ.get("EDGECR_BIN", str(ROOT / "build/src/cli/edgecr"))

YAML = """\
# a tenant with every kind of permission
id: sensor-a
type: wasm
version: 3
expires: 2099-01-01T00:00:00Z
kid: vendor
schedule:
  priority: 50
  period: 10ms
  budget: 1ms
  deadline: 5ms
  start-limit: 1s
  stop-limit: 2s
permissions:
  log: {rate: 10}
  clock:
  kv:
    - {namespace: cfg, access: read, quota: 0}
    - {namespace: state, access: read-write, quota: 64KiB}
  sensor: [temp0, humidity]
  gpio:
    - {line: button, direction: in}
    - {line: led0, direction: out}
  infer: {model-size: 256KiB, compute: 20ms}
  channel:
    - {name: readings, access: send}
endpoints:
  - {name: upstream, kind: peer, target: aggregator}
  - {name: display, kind: device, target: spi-lcd0}
security:
  lifetime: 86400
"""


def run(*args, check=False):
    r = subprocess.run([EDGECR, *map(str, args)], capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def refused(r, reason):
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert reason in r.stderr, r.stderr


# ---- the independent COSE_Sign1 implementation ----

def py_sign(payload: bytes, key, kid: str, protected=None) -> bytes:
    prot = cbor2.dumps({1: -8}) if protected is None else protected
    tbs = cbor2.dumps(["Signature1", prot, b"", payload])
    sig = key.sign(tbs).signature
    return cbor2.dumps(cbor2.CBORTag(18, [prot, {4: kid.encode()}, payload, sig]))


def py_verify(cose: bytes, verify_key):
    obj = cbor2.loads(cose)
    assert isinstance(obj, cbor2.CBORTag) and obj.tag == 18
    prot, unprot, payload, sig = obj.value
    assert cbor2.loads(prot) == {1: -8}
    tbs = cbor2.dumps(["Signature1", prot, b"", payload])
    verify_key.verify(tbs, sig)  # raises BadSignatureError
    return unprot[4].decode(), cbor2.loads(payload)


def payload_dict(module: bytes, **over):
    d = {"format": 1, "id": "py-tenant", "type": "wasm", "module": hashlib.sha256(module).digest(),
         "version": 5, "expires": int(time.time()) + 3600, "kid": "pykey",
         "permissions": {"clock": {}, "kv": [{"namespace": "ns1", "access": "read-write", "quota": 4096}]}}
    d.update(over)
    return d


@pytest.fixture
def env(tmp_path):
    module = tmp_path / "app.wasm"
    module.write_bytes(b"\0asm\1\0\0\0" + b"\0" * 16)
    other = tmp_path / "other.wasm"
    other.write_bytes(b"\0asm\1\0\0\0" + b"\1" * 16)
    keys, trust = tmp_path / "keys", tmp_path / "trust.d"
    trust.mkdir()
    run("meta", "keygen", "--out", keys, "vendor", check=True)
    (trust / "vendor.pub").write_text((keys / "vendor.pub").read_text())
    # A python key pair, trusted as `pykey`.
    pykey = signing.SigningKey.generate()
    (trust / "pykey.pub").write_text(pykey.verify_key.encode().hex() + "\n")
    (tmp_path / "t.yaml").write_text(YAML)
    return {"dir": tmp_path, "module": module, "other": other, "keys": keys, "trust": trust,
            "pykey": pykey}


def build_and_sign(env, yaml_text=YAML):
    d = env["dir"]
    (d / "t.yaml").write_text(yaml_text)
    run("meta", "build", d / "t.yaml", "--module", env["module"], "-o", d / "meta.cbor", check=True)
    run("meta", "sign", "--key", env["keys"] / "vendor.key", d / "meta.cbor", "-o", d / "meta.cose",
        check=True)
    return d / "meta.cose"


def verify(env, path, *extra):
    return run("meta", "verify", "--trust-dir", env["trust"], *extra, path)


def test_keygen_files(env):
    keys = env["keys"]
    assert stat.S_IMODE((keys / "vendor.key").stat().st_mode) == 0o600
    assert len(bytes.fromhex((keys / "vendor.pub").read_text().strip())) == 32
    # A key is never overwritten.
    refused(run("meta", "keygen", "--out", keys, "vendor"), "vendor.key")
    refused(run("meta", "keygen", "--out", keys, "../evil"), "not a valid name")


def test_roundtrip_build_sign_verify_show(env):
    cose = build_and_sign(env)
    r = verify(env, cose, "--module", env["module"])
    assert r.returncode == 0, r.stderr
    assert "verified: tenant sensor-a version 3, key vendor" in r.stdout
    shown = json.loads(run("meta", "show", cose, check=True).stdout)
    assert shown["signed"]["kid"] == "vendor" and shown["signed"]["verified"] is False
    m = shown["metadata"]
    assert m["module"] == "sha256:" + hashlib.sha256(env["module"].read_bytes()).hexdigest()
    assert m["expires-utc"] == "2099-01-01T00:00:00Z"
    assert m["schedule"] == {"priority": 50, "period": 10_000_000, "budget": 1_000_000,
                             "deadline": 5_000_000, "start-limit": 1_000_000_000,
                             "stop-limit": 2_000_000_000}
    p = m["permissions"]
    assert p["log"] == {"rate": 10} and p["clock"] == {}
    assert p["kv"][1] == {"namespace": "state", "access": "read-write", "quota": 65536}
    assert p["sensor"] == ["temp0", "humidity"]
    assert p["gpio"] == [{"line": "button", "direction": "in"}, {"line": "led0", "direction": "out"}]
    assert p["infer"] == {"model-size": 262144, "compute": 20_000_000}
    assert p["channel"] == [{"name": "readings", "access": "send"}]
    assert m["endpoints"][1] == {"name": "display", "kind": "device", "target": "spi-lcd0"}
    assert m["security"] == {"lifetime": 86400}
    # The unsigned payload shows the same metadata; building again gives the same bytes.
    plain = json.loads(run("meta", "show", env["dir"] / "meta.cbor", check=True).stdout)
    assert plain == {"metadata": m}
    first = (env["dir"] / "meta.cbor").read_bytes()
    build_and_sign(env)
    assert (env["dir"] / "meta.cbor").read_bytes() == first


def test_trust_dir_from_global_option_and_environment(env):
    cose = build_and_sign(env)
    r = run("--trust-dir", env["trust"], "meta", "verify", cose)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([EDGECR, "meta", "verify", str(cose)], capture_output=True, text=True,
                       env={**os.environ, "EDGECR_TRUST_DIR": str(env["trust"])})
    assert r.returncode == 0, r.stderr
    # An empty trust directory knows no key.
    empty = env["dir"] / "empty.d"
    empty.mkdir()
    refused(run("--trust-dir", empty, "meta", "verify", cose), "unknown key `vendor`")


def test_python_signed_verified_by_edgecr(env):
    module = env["module"].read_bytes()
    payload = cbor2.dumps(payload_dict(module))
    cose = env["dir"] / "py.cose"
    cose.write_bytes(py_sign(payload, env["pykey"], "pykey"))
    r = verify(env, cose, "--module", env["module"])
    assert r.returncode == 0, r.stderr
    assert "tenant py-tenant version 5, key pykey" in r.stdout
    # Untagged COSE_Sign1 is accepted too (RFC 9052 allows both).
    obj = cbor2.loads(cose.read_bytes())
    cose.write_bytes(cbor2.dumps(obj.value))
    assert verify(env, cose, "--module", env["module"]).returncode == 0


def test_edgecr_signed_verified_by_python(env):
    cose = build_and_sign(env)
    vk = signing.VerifyKey(bytes.fromhex((env["keys"] / "vendor.pub").read_text().strip()))
    kid, payload = py_verify(cose.read_bytes(), vk)
    assert kid == "vendor"
    assert payload["module"] == hashlib.sha256(env["module"].read_bytes()).digest()
    assert payload["id"] == "sensor-a" and payload["version"] == 3 and payload["format"] == 1
    assert payload["permissions"]["gpio"][1] == {"line": "led0", "direction": "out"}
    # And python rejects a signature edgecr made over something else.
    obj = cbor2.loads(cose.read_bytes())
    obj.value[2] = obj.value[2].replace(b"sensor-a", b"sensor-b")
    with pytest.raises(Exception):
        py_verify(cbor2.dumps(obj), vk)


def test_tampered_payload(env):
    cose = build_and_sign(env)
    obj = cbor2.loads(cose.read_bytes())
    payload = cbor2.loads(obj.value[2])
    payload["version"] = 99
    obj.value[2] = cbor2.dumps(payload)
    cose.write_bytes(cbor2.dumps(obj))
    refused(verify(env, cose), "bad signature")


def test_wrong_key(env):
    impostor = signing.SigningKey.generate()
    payload = cbor2.dumps(payload_dict(env["module"].read_bytes()))
    cose = env["dir"] / "x.cose"
    cose.write_bytes(py_sign(payload, impostor, "pykey"))
    refused(verify(env, cose), "bad signature")


def test_unknown_key(env):
    stranger = signing.SigningKey.generate()
    payload = cbor2.dumps(payload_dict(env["module"].read_bytes(), kid="stranger"))
    cose = env["dir"] / "x.cose"
    cose.write_bytes(py_sign(payload, stranger, "stranger"))
    refused(verify(env, cose), "unknown key `stranger`: no stranger.pub")


def test_key_id_inside_must_match(env):
    payload = cbor2.dumps(payload_dict(env["module"].read_bytes(), kid="vendor"))
    cose = env["dir"] / "x.cose"
    cose.write_bytes(py_sign(payload, env["pykey"], "pykey"))
    refused(verify(env, cose), "key id mismatch")


def test_expired(env):
    payload = cbor2.dumps(payload_dict(env["module"].read_bytes(), expires=int(time.time()) - 10))
    cose = env["dir"] / "x.cose"
    cose.write_bytes(py_sign(payload, env["pykey"], "pykey"))
    refused(verify(env, cose), "expired: valid until")


def test_digest_of_another_module(env):
    cose = build_and_sign(env)
    refused(verify(env, cose, "--module", env["other"]), "module digest mismatch")
    assert verify(env, cose, "--module", env["module"]).returncode == 0


def test_replayed_older_version(env):
    cose = build_and_sign(env)  # version 3
    refused(verify(env, cose, "--running-version", "4"), "older version: version 3 is older than")
    assert verify(env, cose, "--running-version", "3").returncode == 0
    assert verify(env, cose, "--running-version", "2").returncode == 0


def test_no_signature_and_not_cose(env):
    build_and_sign(env)
    refused(verify(env, env["dir"] / "meta.cbor"), "no signature")
    other = env["dir"] / "x.cose"
    other.write_bytes(cbor2.dumps([1, 2, 3]))
    refused(verify(env, other), "not COSE_Sign1")
    other.write_bytes(cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", []])))
    refused(verify(env, other), "tag 98 is not COSE_Sign1")
    # Another algorithm in the protected header (ES256, -7) is refused, not tried.
    payload = cbor2.dumps(payload_dict(env["module"].read_bytes()))
    other.write_bytes(py_sign(payload, env["pykey"], "pykey", protected=cbor2.dumps({1: -7})))
    refused(verify(env, other), "the algorithm is not EdDSA")


def test_truncated_envelope(env):
    data = build_and_sign(env).read_bytes()
    cut = env["dir"] / "cut.cose"
    for n in (1, 5, len(data) // 2, len(data) - 1):
        cut.write_bytes(data[:n])
        refused(verify(env, cut), "truncated")


def signed_raw(env, payload: bytes):
    """A correctly signed envelope around an arbitrary payload: the
    signature passes, so the payload decoder must judge it."""
    cose = env["dir"] / "raw.cose"
    cose.write_bytes(py_sign(payload, env["pykey"], "pykey"))
    return cose


@pytest.mark.parametrize("mutate,reason", [
    (lambda p: p[:-3], "truncated"),
    (lambda p: cbor2.dumps({**cbor2.loads(p), "version": "five"}),
     "`version`: expected an unsigned integer, found a text string"),
    (lambda p: cbor2.dumps({**cbor2.loads(p), "module": b"short"}),
     "`module`: a SHA-256 digest is 32 bytes"),
    (lambda p: cbor2.dumps({**cbor2.loads(p), "owner": "mallory"}), "`owner`: unknown field"),
    (lambda p: cbor2.dumps({k: v for k, v in cbor2.loads(p).items() if k != "expires"}),
     "`expires`: missing required field"),
])
def test_malformed_payload(env, mutate, reason):
    good = cbor2.dumps(payload_dict(env["module"].read_bytes()))
    refused(verify(env, signed_raw(env, mutate(good))), reason)


def test_malformed_payload_deep_nesting(env):
    # 50000 nested one-element arrays where the rate belongs (spliced in:
    # cbor2 itself would recurse too deep writing them).
    d = payload_dict(env["module"].read_bytes())
    d["permissions"] = {"log": {"rate": 424242}}
    marker = cbor2.dumps(424242)
    payload = cbor2.dumps(d).replace(marker, b"\x81" * 50000 + b"\x01")
    refused(verify(env, signed_raw(env, payload)),
            "`permissions.log.rate`: expected an unsigned integer, found an array")


def test_malformed_payload_huge_lengths(env):
    good = cbor2.dumps(payload_dict(env["module"].read_bytes()))
    # A map claiming 2^64-1 pairs, a text string claiming 2^64-1 bytes,
    # an array claiming 2^32 entries: refused, nothing allocated for them.
    refused(verify(env, signed_raw(env, b"\xbb" + b"\xff" * 8 + good[1:])), "payload")
    huge_text = b"\xa1\x62id\x7b" + b"\xff" * 8 + b"abc"
    refused(verify(env, signed_raw(env, huge_text)), "`id`: truncated")
    huge_array = cbor2.dumps({**cbor2.loads(good), "endpoints": []})[:-1] + b"\x9a\xff\xff\xff\xff"
    refused(verify(env, signed_raw(env, huge_array)), "`endpoints`: too many entries")
    # A duplicate key (cbor2 cannot write one: splice the bytes).
    dup = b"\xa2\x62id\x61a\x62id\x61b"
    refused(verify(env, signed_raw(env, dup)), "`id`: duplicate key")


def test_yaml_errors_name_file_line_field(env):
    d = env["dir"]
    bad = YAML.replace("budget: 1ms", "budget: 1 fortnight")
    (d / "bad.yaml").write_text(bad)
    r = run("meta", "build", d / "bad.yaml", "--module", env["module"], "-o", d / "o.cbor")
    line = bad.splitlines().index("  budget: 1 fortnight") + 1
    refused(r, f"bad.yaml:{line}: `schedule.budget`: expected a duration")
    bad = YAML.replace("direction: out", "direction: sideways")
    (d / "bad.yaml").write_text(bad)
    r = run("meta", "build", d / "bad.yaml", "--module", env["module"], "-o", d / "o.cbor")
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if "sideways" in l)
    refused(r, f"bad.yaml:{line}: `permissions.gpio[1].direction`: unknown value `sideways`")
    bad = YAML.replace("security:", "securty:")
    (d / "bad.yaml").write_text(bad)
    r = run("meta", "build", d / "bad.yaml", "--module", env["module"], "-o", d / "o.cbor")
    refused(r, "`securty`: unknown field")
    assert not (d / "o.cbor").exists()
    # Without --module (and no `module` in the file) nothing is built.
    refused(run("meta", "build", d / "t.yaml", "-o", d / "o.cbor"), "--module")


def test_sign_refuses_key_id_mismatch(env):
    d = env["dir"]
    run("meta", "keygen", "--out", env["keys"], "other", check=True)
    build_and_sign(env)
    refused(run("meta", "sign", "--key", env["keys"] / "other.key", d / "meta.cbor", "-o", d / "o.cose"),
            "names key `vendor`, but the signing key is `other`")
    assert not (d / "o.cose").exists()


def test_show_huge_numbers_do_not_wrap(env):
    # uint64 values above 2^63 stay positive in the JSON view.
    d = payload_dict(env["module"].read_bytes(), version=2**64 - 1)
    f = env["dir"] / "big.cbor"
    f.write_bytes(cbor2.dumps(d))
    m = json.loads(run("meta", "show", f, check=True).stdout)["metadata"]
    assert m["version"] > 2**63
