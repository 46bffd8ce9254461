"""The tenant ABI's `channel` service (src/tenant/svc_channel.c,
src/tenant/linux/channel.c) through `edgecr wasm run --tenant-metadata`,
on channels made by build/tests/channel/chantest in a directory
($EDGECR_CHANNEL_DIR): a WebAssembly tenant and a native process exchange
messages both ways; the metadata's grants decide (send needs `send`,
receive needs `receive`); wrong sizes and unknown channels are refused."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EDGECR_BUILD", REPO / "build"))
EDGECR = os.environ.get("EDGECR_BIN", str(BUILD / "src" / "cli" / "edgecr"))
CHANTEST = BUILD / "tests" / "channel" / "chantest"
CHANCTR = BUILD / "tests" / "channel" / "chanctr"
GUEST = REPO / "tests" / "channel" / "guests" / "chan_guest.c"
sys.path.insert(0, str(REPO / "tests" / "wasm" / "c"))
from wasm_build import compile_wasm  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32-wasi) not installed")

META = """\
id: chan-tenant
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
  channel:
{grants}
"""


@pytest.fixture
def env(tmp_path):
    for b in (CHANTEST, CHANCTR):
        if not b.exists():
            pytest.skip(f"{b} not built")
    d = tmp_path / "channels"
    d.mkdir()
    guest = compile_wasm(GUEST, ["-I", str(REPO / "include")])

    class Env:
        pass
    e = Env()
    e.dir, e.guest, e.tmp = d, guest, tmp_path
    e.environ = dict(os.environ, EDGECR_CHANNEL_DIR=str(d), CHANCTR_DIR=str(d))

    def create(name, depth=64, readers=1, size=64, wait="futex"):
        subprocess.run([str(CHANTEST), "create", str(d), name, "fifo", str(size), str(depth), str(readers), wait,
                        "fail"], check=True, capture_output=True)

    def meta(grants):
        y = tmp_path / "t.yaml"
        y.write_text(META.format(grants="".join(f"    - {{name: {n}, access: {a}}}\n" for n, a in grants) or "    []"))
        out = tmp_path / "t.cbor"
        r = subprocess.run([EDGECR, "meta", "build", str(y), "--module", str(guest), "-o", str(out)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return out

    def wasm(grants, *args, **kw):
        return subprocess.Popen([EDGECR, "wasm", "run", "--tenant-metadata", str(meta(grants)), str(guest), *args],
                                env=e.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def native(*args):
        return subprocess.run([str(CHANCTR), *args], env=e.environ, capture_output=True, text=True, timeout=60)
    e.create, e.wasm, e.native = create, wasm, native
    return e


def test_tenant_and_native_process_exchange_both_ways(env):
    env.create("down")
    env.create("up")
    echo = env.wasm([("down", "receive"), ("up", "send")], "echo", "down", "up")
    try:
        back = subprocess.Popen([str(CHANCTR), "recv", "up", "0", "20000", "30"], env=env.environ,
                                stdout=subprocess.PIPE, text=True)
        r = env.native("send", "down", "0", "20000")
        assert "sent=20000" in r.stdout, r
        out, _ = back.communicate(timeout=60)
        assert "received=20000 first=0 last=19999 lost=0" in out, out
    finally:
        echo.kill()  # our own child, by its pid
        out, err = echo.communicate()
    assert "echo open 0 1" in out, out + err


def test_grants_decide(env):
    env.create("c")
    for grants, args, want in (
        ([("c", "receive")], ("open", "c", "send"), "open -1"),       # EDENIED
        ([("c", "send")], ("open", "c", "receive"), "open -1"),
        ([("other", "send-receive")], ("open", "c", "send"), "open -1"),
        ([], ("open", "c", "receive"), "open -1"),
        ([("c", "send-receive")], ("open", "c", "both"), "open 0"),
        ([("nosuch", "send")], ("open", "nosuch", "send"), "open -3"),  # ENOENT: granted, not on this node
        ([("c", "send")], ("badsend", "c", "63"), "badsend -2"),      # EINVAL: not the channel's size
        ([("c", "receive")], ("smallrecv", "c", "63"), "smallrecv -8"),  # E2BIG
        ([("c", "receive")], ("smallrecv", "c", "64"), "smallrecv -9"),  # EAGAIN: nothing yet
    ):
        p = env.wasm(grants, *args)
        out, err = p.communicate(timeout=60)
        assert want in out, (grants, args, out, err)
    p = env.wasm([("c", "receive")], "open", "c", "send")
    out, err = p.communicate(timeout=60)
    assert "denied: edgecr.channel_open" in err, err


def test_a_reader_page_is_found_and_kept(env):
    """A tenant reader goes on from its page's position when it runs again."""
    env.create("c", depth=256)
    assert "sent=100" in env.native("send", "c", "0", "100").stdout
    for first, last in ((0, 39), (40, 99)):
        p = env.wasm([("c", "receive")], "recv", "c", str(last - first + 1), "1000")
        out, err = p.communicate(timeout=60)
        assert f"received={last - first + 1} first={first} last={last} rc=0" in out, out + err
    p = env.wasm([("c", "receive")], "recv", "c", "1", "50")
    out, err = p.communicate(timeout=60)
    assert "received=0" in out and "rc=-10" in out, out  # ETIMEDOUT
