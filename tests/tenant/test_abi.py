"""The tenant ABI core (src/tenant/abi.c, ctx.c, svc_log.c, svc_clock.c)
through `edgecr wasm run --tenant-metadata`: a clang-built guest that
includes include/edgecr/guest.h calls the `edgecr` functions and prints what
each returned.  Checked: the ABI version, log lines carry the tenant id, the
log rate limit is exact, the clocks, sleep_until keeps a period without
drift, bad arguments, denied calls (codes, counted, reported once per
second per service), and imports outside the ABI refused naming the import."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGECR = os.environ.get("EDGECR_BIN", str(ROOT / "build/src/cli/edgecr"))
sys.path.insert(0, str(ROOT / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm, wat2wasm  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

GUEST = ROOT / "tests" / "tenant" / "guests" / "abi_basic.c"
INCLUDE = ["-I", str(ROOT / "include")]

META = """\
id: basic
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
{perms}
"""


def edgecr(*args, timeout=60):
    return subprocess.run([EDGECR, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def guest():
    return compile_wasm(GUEST, INCLUDE)


def meta(tmp_path, guest, perms):
    y = tmp_path / "t.yaml"
    y.write_text(META.format(perms=perms))
    r = edgecr("meta", "build", y, "--module", guest, "-o", tmp_path / "t.cbor")
    assert r.returncode == 0, r.stderr
    return tmp_path / "t.cbor"


def run(guest, metadata, *ops):
    extra = ["--tenant-metadata", metadata] if metadata else []
    return edgecr("wasm", "run", *extra, guest, *ops)


def test_granted_log_and_clock(tmp_path, guest):
    m = meta(tmp_path, guest, "  log:\n  clock:")
    r = run(guest, m, "version", "log", "hello there", "now", "wall")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "version 1"
    assert "[basic] INFO: hello there" in lines and "log 0" in lines and "now positive" in lines
    wall = int(next(l for l in lines if l.startswith("wall ")).split()[1])
    assert abs(wall - time.time()) < 5
    assert r.stderr == ""


def test_log_rate_limit_is_exact(tmp_path, guest):
    m = meta(tmp_path, guest, "  log: {rate: 5}")
    r = run(guest, m, "lograte", "12")
    assert r.returncode == 0, r.stderr
    assert "lograte ok=5 rate=7" in r.stdout
    assert r.stdout.count("DEBUG: burst") == 5


def test_sleep_until_keeps_the_period(tmp_path, guest):
    m = meta(tmp_path, guest, "  clock:")
    r = run(guest, m, "sleep", "10", "20")
    assert r.returncode == 0, r.stderr
    got = re.search(r"sleep rc=0 elapsed_ms=(\d+)", r.stdout)
    assert got, r.stdout
    # absolute deadlines: 10 periods of 20 ms end at 200 ms however long each wake-up took
    assert 199 <= int(got.group(1)) < 400


def test_bad_arguments(tmp_path, guest):
    m = meta(tmp_path, guest, "  log:")
    r = run(guest, m, "badlog", "close", "3", "close", "-1", "close", "64")
    assert r.returncode == 0, r.stderr
    assert "badlog -2 -2" in r.stdout          # level 7; a range outside memory
    assert r.stdout.count("close -7") == 3     # no such handle


def test_denied_calls_without_a_grant(tmp_path, guest):
    m = meta(tmp_path, guest, "  log:")        # log only: the clock is denied
    r = run(guest, m, "now", "now", "sleep", "1", "10", "wall", "log", "ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("now denied") == 2
    assert "sleep rc=-1" in r.stdout and "wall -1" in r.stdout and "log 0" in r.stdout
    # reported once per second per service, with the count so far
    assert r.stderr.count("edgecr: tenant basic: denied: edgecr.clock_now (service clock: not granted); "
                          "1 denied so far") == 1
    assert r.stderr.count("edgecr: tenant") == 1, r.stderr


def test_no_metadata_denies_everything(guest):
    r = run(guest, None, "version", "log", "x", "now")
    assert r.returncode == 0, r.stderr
    assert "version 1" in r.stdout and "log -1" in r.stdout and "now denied" in r.stdout
    assert "denied: edgecr.log" in r.stderr and "denied: edgecr.clock_now" in r.stderr


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wabt not installed")
@pytest.mark.parametrize("wat,why", [
    ('(import "edgecr" "launch" (func))', "edgecr.launch"),
    ('(import "edgecr" "log" (func (param i32) (result i32)))', "edgecr.log"),
])
def test_imports_outside_the_abi_are_refused(wat, why):
    mod = wat2wasm(f'(module {wat} (func (export "_start")))')
    r = edgecr("wasm", "run", mod)
    assert r.returncode == 125 and why in r.stderr, r.stderr
