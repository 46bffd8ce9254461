"""Channels declared by annotations (`org.edgecr.channel.NAME`) of Linux
containers made with `edgecr create` / `edgecr run` (docs/channels.md):
mapping rights checked from inside real containers, messages between two
containers, the refusals, and nothing left after the last user.

Each container runs tests/channel/chanctr (static, client header only) in
a busybox rootfs of its own."""
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EDGECR_BUILD", REPO / "build"))
EDGECR = Path(os.environ.get("EDGECR_BIN", BUILD / "src" / "cli" / "edgecr"))
CHANCTR = BUILD / "tests" / "channel" / "chanctr"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
FIFO = {"kind": "fifo", "message_size": 64, "depth": 16, "readers": 2}


class Node:
    def __init__(self, tmp):
        self.tmp, self.root = tmp, tmp / "root"
        self.prefix = f"hchan-{uuid.uuid4().hex[:6]}"
        self.ids = []

    def edgecr(self, *args, check=None, timeout=60, **kw):
        p = subprocess.run([str(EDGECR), "--root", str(self.root), *map(str, args)], capture_output=True,
                           text=True, timeout=timeout, **kw)
        if check is not None:
            assert p.returncode == check, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def bundle(self, name, args, channels, uid=0):
        """A bundle with its own rootfs; channels: {NAME: annotation object}."""
        b = self.tmp / name
        root = b / "rootfs"
        for d in ("bin", "proc", "dev", "tmp"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        for tool in ("sh", "ls", "cat", "true"):
            os.symlink("busybox", root / "bin" / tool)
        shutil.copy2(CHANCTR, root / "bin" / "chanctr")
        ann = {f"org.edgecr.channel.{k}": v if isinstance(v, str) else json.dumps(v) for k, v in channels.items()}
        (b / "config.json").write_text(json.dumps({
            "ociVersion": "1.2.0",
            "process": {"terminal": False, "user": {"uid": uid, "gid": uid}, "args": args, "cwd": "/",
                        "env": ["PATH=/bin"]},
            "root": {"path": "rootfs"},
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
            "annotations": ann,
        }))
        return b

    def cid(self, name):
        i = f"{self.prefix}-{name}"
        self.ids.append(i)
        return i

    def run(self, name, args, channels, check=None, uid=0):
        return self.edgecr("run", "--bundle", self.bundle(name, args, channels, uid), self.cid(name), check=check)

    def create(self, name, args, channels, out=None, check=None, uid=0):
        """`edgecr create`; the container's stdio goes to `out` (it inherits create's)."""
        err = self.tmp / f"{name}.create-err"
        with open(out or os.devnull, "w") as f, open(err, "w") as e:
            p = subprocess.run([str(EDGECR), "--root", str(self.root), "create", "--bundle",
                                str(self.bundle(name, args, channels, uid)), self.cid(name)], stdout=f, stderr=e,
                               timeout=60)
        p.stderr = err.read_text()
        if check is not None:
            assert p.returncode == check, p.stderr
        return p

    def status(self, cid):
        p = self.edgecr("state", cid)
        return json.loads(p.stdout)["status"] if p.returncode == 0 else None

    def channels(self):
        d = self.root / "channels"
        if not d.exists():
            return []
        return sorted([p.name for p in d.iterdir() if not p.name.startswith(".")] +
                      [f".owned/{p.name}" for p in (d / ".owned").iterdir()] if (d / ".owned").exists() else [])


@pytest.fixture
def node(tmp_path):
    if not CHANCTR.exists() or not EDGECR.exists():
        pytest.skip(f"{CHANCTR} or {EDGECR} not built")
    n = Node(tmp_path)
    yield n
    for cid in n.ids:
        n.edgecr("delete", "--force", cid)
    assert n.channels() == [], "channel files left after the last container"


def end(role, **extra):
    return dict(FIFO, **role, **extra)


def test_undeclared_container_finds_nothing(node):
    node.create("w", ["sh", "-c", "exec cat"], {"imu": end({"writer": True})}, check=0)
    p = node.run("x", ["sh", "-c", "ls /run/edgecr/channels/imu /run/edgecr 2>&1; echo end"], {}, check=0)
    assert "No such file" in p.stdout and "end" in p.stdout, p.stdout
    # Nor does a reader of another channel see this one.
    p = node.run("y", ["sh", "-c", "ls /run/edgecr/channels; echo end"],
                 {"other": end({"reader": 0}, readers=1)}, check=0)
    assert p.stdout.split() == ["other", "end"], p.stdout


def test_reader_write_to_data_faults_its_index_works(node):
    node.create("w", ["sh", "-c", "exec cat"], {"imu": end({"writer": True})}, check=0)
    p = node.run("r", ["chanctr", "poke", "imu", "1"], {"imu": end({"reader": 1})})
    assert "index-ok" in p.stdout and "data-written" not in p.stdout, p.stdout + p.stderr
    assert p.returncode == 128 + 11, f"exit {p.returncode}: expected death by SIGSEGV"
    p = node.run("r2", ["chanctr", "open-rw", "imu", "data"], {"imu": end({"reader": 0})}, check=0)
    assert "open_rw=refused errno=30" in p.stdout, p.stdout  # EROFS: the bind mount is read-only
    # A reader sees only its own page, so it cannot touch another reader's.
    p = node.run("r3", ["ls", "/run/edgecr/channels/imu"], {"imu": end({"reader": 0})}, check=0)
    assert p.stdout.split() == ["data", "reader.0"]
    # The writer sees every reader page, read-only.
    p = node.run("w2", ["chanctr", "open-rw", "imu", "reader.0"], {"imu2": end({"writer": True}, readers=1)})
    assert "open_rw=" not in p.stdout  # imu is not its channel: it cannot even find it
    p = node.run("w3", ["sh", "-c", "ls /run/edgecr/channels/imu2; chanctr open-rw imu2 reader.0"],
                 {"imu2": end({"writer": True}, readers=1)}, check=0)
    assert p.stdout.split()[:2] == ["data", "reader.0"] and "open_rw=refused errno=30" in p.stdout, p.stdout


@pytest.mark.parametrize("wait", ["poll", "futex"])
def test_writer_and_reader_in_two_containers_exchange_messages(node, wait):
    chan = {"kind": "fifo", "message_size": 64, "depth": 64, "readers": 1, "wait": wait}
    out = node.tmp / "reader.out"
    r = node.create("r", ["chanctr", "recv", "imu", "0", "200000", "60"], {"imu": dict(chan, reader=0)}, out=out)
    assert r.returncode == 0, r.stderr
    node.edgecr("start", node.ids[-1], check=0)
    node.run("w", ["chanctr", "send", "imu", "0", "200000"], {"imu": dict(chan, writer=True)}, check=0)
    end_t = time.monotonic() + 60
    while node.status(node.ids[0]) == "running" and time.monotonic() < end_t:
        time.sleep(0.05)
    assert "received=200000 first=0 last=199999 lost=0" in out.read_text(), out.read_text()


def test_a_reader_finds_its_own_page_without_its_index(node):
    chan = {"kind": "fifo", "message_size": 64, "depth": 64, "readers": 3}
    node.create("hold", ["sh", "-c", "exec cat"], {"imu": dict(chan, reader=0)}, check=0)
    node.run("w", ["chanctr", "send", "imu", "0", "10"], {"imu": dict(chan, writer=True)}, check=0)
    p = node.run("r", ["chanctr", "recv", "imu", "own", "10", "5"], {"imu": dict(chan, reader=2)}, check=0)
    assert "received=10 first=0 last=9 lost=0" in p.stdout, p.stdout
    m = json.loads(node.edgecr("monitor", "--channels", "--format", "json", check=0).stdout)
    assert [r["received"] for r in m[0]["readers"]] == [0, 0, 10]


def test_contradicting_declarations_are_refused_and_leave_nothing(node):
    node.create("w", ["sh", "-c", "exec cat"], {"imu": end({"writer": True})}, check=0)
    before = (node.root / "channels" / "imu" / "data").stat().st_ino
    for name, chans, want in (
        ("d", {"imu": end({"reader": 0}, depth=32)}, "uses it with another declaration (field `depth`)"),
        ("w2", {"imu": end({"writer": True})}, "is its writer already"),
    ):
        p = node.create(name, ["true"], chans)
        assert p.returncode != 0 and want in p.stderr, p.stderr
        assert not (node.root / node.ids[-1]).exists()
    node.create("r", ["true"], {"imu": end({"reader": 0})}, check=0)
    p = node.create("r0", ["true"], {"imu": end({"reader": 0})})
    assert p.returncode != 0 and "is its reader 0 already" in p.stderr, p.stderr
    assert (node.root / "channels" / "imu" / "data").stat().st_ino == before  # untouched


@pytest.mark.parametrize("value,want", [
    ("not json", "annotation `org.edgecr.channel.imu`: must be a JSON object"),
    ({"kind": "fifo", "message_size": 64, "depth": 16, "readers": 1}, "`writer`: the container is neither the writer"),
    ({"kind": "fifo", "message_size": 64, "depth": 16, "readers": 1, "reader": 1}, "`reader`: 1: the channel has 1 reader"),
    ({"kind": "fifo", "message_size": 64, "depth": 0, "readers": 1, "writer": True}, "`channels.imu.depth`: 0: must be"),
    ({"kind": "fifo", "message_size": 64, "depth": 4, "readers": 1, "writer": True, "color": 1},
     "`channels.imu.color`: unknown field"),
])
def test_bad_annotation_names_file_annotation_and_field(node, value, want):
    p = node.create("bad", ["true"], {"imu": value})
    assert p.returncode != 0
    assert "config.json" in p.stderr and want in p.stderr, p.stderr
    assert not (node.root / node.ids[-1]).exists() and node.channels() == []


def test_a_channel_directory_edgecr_did_not_make_is_left_alone(node):
    foreign = node.root / "channels" / "imu"
    foreign.mkdir(parents=True)
    (foreign / "data").write_text("mine")
    p = node.create("w", ["true"], {"imu": end({"writer": True})})
    assert p.returncode != 0 and "edgecr did not make it: it is left alone" in p.stderr, p.stderr
    assert (foreign / "data").read_text() == "mine"
    shutil.rmtree(foreign)


def test_last_user_deleted_removes_the_channel(node):
    node.create("w", ["sh", "-c", "exec cat"], {"imu": end({"writer": True})}, check=0)
    node.create("r", ["sh", "-c", "exec cat"], {"imu": end({"reader": 1})})
    assert node.channels() == [".owned/imu", "imu"]
    node.edgecr("delete", "--force", node.ids[0], check=0)
    assert node.channels() == [".owned/imu", "imu"]  # the reader still uses it
    node.edgecr("delete", "--force", node.ids[1], check=0)
    assert node.channels() == []


def test_monitor_counts_sent_received_lost_and_fill(node):
    chan = {"kind": "fifo", "message_size": 64, "depth": 16, "readers": 2, "full": "overwrite"}
    node.create("hold", ["sh", "-c", "exec cat"], {"imu": dict(chan, reader=1)}, check=0)
    node.run("w", ["chanctr", "send", "imu", "0", "100"], {"imu": dict(chan, writer=True)}, check=0)
    p = node.run("r", ["chanctr", "recv", "imu", "0", "16", "5"], {"imu": dict(chan, reader=0)}, check=0)
    assert "received=16 first=84 last=99 lost=84" in p.stdout, p.stdout
    m = json.loads(node.edgecr("monitor", "--channels", "--format", "json", check=0).stdout)
    assert m == [{"name": "imu", "kind": "fifo", "message_size": 64, "depth": 16, "sent": 100, "full_fails": 0,
                  "max_fill": 16, "readers": [
                      {"index": 0, "received": 16, "lost": 84, "pending": 0, "max_fill": 16},
                      {"index": 1, "received": 0, "lost": 0, "pending": 16, "max_fill": 0}]}], m
    text = node.edgecr("monitor", "--channels", check=0).stdout
    assert "imu" in text and "reader 0   received 16, lost 84, waiting 0, highest fill 16" in text, text
    assert node.edgecr("monitor", "--channels", "nosuch").returncode == 1
    (node.root / "rt").mkdir()  # no real-time page: the plain report then shows the channels alone
    text = node.edgecr("monitor", check=0).stdout
    assert "CHANNEL" in text and "imu" in text, text


def test_ends_run_by_other_users_get_their_files(node):
    """A writer and a reader that are not root (uids 1000 and 1001, no
    capabilities) can use their ends, and still only their ends."""
    chan = {"kind": "fifo", "message_size": 64, "depth": 64, "readers": 2}
    node.create("hold", ["sh", "-c", "exec cat"], {"imu": dict(chan, reader=1)}, check=0)
    node.run("w", ["chanctr", "send", "imu", "0", "10"], {"imu": dict(chan, writer=True)}, uid=1000, check=0)
    p = node.run("r", ["chanctr", "recv", "imu", "0", "10", "5"], {"imu": dict(chan, reader=0)}, uid=1001, check=0)
    assert "received=10 first=0 last=9 lost=0" in p.stdout, p.stdout
    d = node.root / "channels" / "imu"
    assert (d / "reader.0").stat().st_uid == 1001 and (d / "reader.1").stat().st_uid == 0
    assert oct(d.stat().st_mode & 0o777) == "0o700"  # nobody else on the host reaches the files
    p = node.run("r2", ["chanctr", "open-rw", "imu", "data"], {"imu": dict(chan, reader=0)}, uid=1001, check=0)
    assert "open_rw=refused" in p.stdout, p.stdout


def test_a_container_named_channels_is_never_taken_for_the_channels(node):
    b = node.bundle("c", ["sh", "-c", "exec cat"], {})
    with open(os.devnull, "w") as f:
        subprocess.run([str(EDGECR), "--root", str(node.root), "create", "--bundle", str(b), "channels"],
                       stdout=f, stderr=f, check=True, timeout=60)
    node.ids.append("channels")
    p = node.create("w", ["true"], {"imu": end({"writer": True})})
    assert p.returncode != 0 and "is the state of a container named `channels`" in p.stderr, p.stderr
    assert not {".owned", ".lock", "imu"} & set(os.listdir(node.root / "channels"))  # nothing added to its state


def test_a_container_both_writer_and_reader_of_a_channel(node):
    chan = {"kind": "fifo", "message_size": 64, "depth": 8, "readers": 2}
    node.create("hold", ["sh", "-c", "exec cat"], {"loop": dict(chan, reader=1)}, check=0)
    p = node.run("wr", ["sh", "-c", "chanctr send loop 0 5 && chanctr recv loop own 5 5"],
                 {"loop": dict(chan, writer=True, reader=0)}, check=0)
    assert "sent=5" in p.stdout and "received=5 first=0 last=4 lost=0" in p.stdout, p.stdout
