"""Shared-memory channels (include/edgecr/channel.h, src/channel): the
client's promises checked between real processes on two cores, driven by
build/tests/channel/chantest (one end of a channel per process; each prints
what it counted).  Fifo messages carry their seq, a byte pattern and a
checksum, so a torn, mixed, lost, repeated or reordered message is seen.
"""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("EDGECR_BUILD", Path(__file__).resolve().parents[2] / "build"))
CHANTEST = BUILD / "tests" / "channel" / "chantest"
# Two cores when the machine has them (the point: the writer's stores reach
# another core's cache); -1 = not pinned.
CPUS = sorted(os.sched_getaffinity(0))
CPU_W, CPU_R = (str(CPUS[0]), str(CPUS[1])) if len(CPUS) >= 2 else ("-1", "-1")


def run(*args, timeout=30):
    r = subprocess.run([str(CHANTEST), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args}: rc {r.returncode}: {r.stderr}"
    return r.stdout


def fields(line):
    return {k: int(v) for k, v in (kv.split("=") for kv in line.split())}


@pytest.fixture
def chans(tmp_path):
    if not CHANTEST.exists():
        pytest.skip(f"{CHANTEST} not built")
    d = tmp_path / "channels"

    def create(name, kind="fifo", size=64, depth=64, readers=1, wait="poll", full="fail"):
        run("create", d, name, kind, size, depth, readers, wait, full)
        run("validate", d, name)
        return name
    create.dir = d
    return create


def stream(d, name, count, writer_args=(), reader_args=("poll",), timeout=90):
    """One writer and one reader process of `count` messages, concurrently."""
    w = subprocess.Popen([str(CHANTEST), "write", str(d), name, str(count), CPU_W, *map(str, writer_args)],
                         stdout=subprocess.PIPE, text=True)
    try:
        r = subprocess.run([str(CHANTEST), "read", str(d), name, "0", str(count), CPU_R, *map(str, reader_args)],
                           capture_output=True, text=True, timeout=timeout)
        # A writer under the fail policy whose reader gave up spins on a
        # full queue: it must not outlive the test.
        wout, _ = w.communicate(timeout=timeout if r.returncode == 0 else 2)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 0 and r.returncode == 0, r.stderr
    return fields(wout), fields(r.stdout)


def test_two_million_messages_no_loss_dup_or_reorder(chans):
    n = 2_000_000
    w, r = stream(chans.dir, chans("q"), n)
    assert w["sent"] == n
    assert (r["got"], r["lost"], r["bad"], r["disorder"], r["pos"]) == (n, 0, 0, 0, n)


def test_blocking_reader_gets_everything(chans):
    # The writer pauses 200 us every 1000 messages, so the reader empties
    # the queue and sleeps in the futex hundreds of times, each time to be
    # woken by the next send (a missed wake-up costs a 2 s timeout).
    n = 300_000
    w, r = stream(chans.dir, chans("qb", wait="futex"), n, writer_args=(1000, 200), reader_args=("wait",))
    assert (r["got"], r["lost"], r["bad"], r["disorder"], r["timeouts"]) == (n, 0, 0, 0, 0)


def test_overwrite_counts_exactly_what_was_lost(chans):
    # A reader slower than the writer (pauses 50 us every 500 messages).
    n = 2_000_000
    w, r = stream(chans.dir, chans("ow", depth=16, full="overwrite"), n,
                  reader_args=("poll", 500, 50))
    assert w["sent"] == n and w["full"] == 0
    assert r["bad"] == 0 and r["disorder"] == 0
    assert r["lost"] > 0, "the reader was never overrun: the test did not test overwrite"
    assert r["got"] + r["lost"] == n
    assert r["page_lost"] == r["lost"]


def test_slow_reader_with_fail_policy_loses_nothing(chans):
    n = 50_000
    w, r = stream(chans.dir, chans("slow", depth=8), n, reader_args=("poll", 100, 200))
    assert (r["got"], r["lost"], r["bad"], r["disorder"]) == (n, 0, 0, 0)
    assert w["full"] > 0 and r["full_fails"] == w["full"]
    assert r["max_fill"] == 8


def test_writer_sigkilled_mid_write_never_shows_a_torn_message(chans):
    # 32 KiB messages in 4 slots, overwrite policy: the reader races every
    # copy.  The writer is killed 25 times, mostly in the middle of a copy
    # (the `state` command sees the slot left marked as being written), and
    # restarted: the reader must see only intact messages, in order.
    d, name = chans.dir, chans("kill", size=32768, depth=4, full="overwrite")
    reader = subprocess.Popen([str(CHANTEST), "read", str(d), name, "0", "0", CPU_R, "poll", "0", "0", "1500"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    torn_left = 0
    try:
        for i in range(25):
            w = subprocess.Popen([str(CHANTEST), "blast", str(d), name, CPU_W], stdout=subprocess.PIPE, text=True)
            try:
                assert w.stdout.readline().strip() == "ready"
                time.sleep(0.01 + (i % 5) * 0.007)
            finally:
                w.send_signal(signal.SIGKILL)  # the blast writer never stops by itself
                w.wait(timeout=10)
            torn_left += fields(run("state", d, name))["torn_slot"]
    finally:
        try:
            out, err = reader.communicate(timeout=30)
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    assert reader.returncode == 0, err
    r = fields(out)
    assert r["got"] > 0
    assert r["bad"] == 0, f"a torn message was returned ({r})"
    assert torn_left > 0, "no writer was killed in the middle of a copy: the test did not test that"
    assert r["disorder"] == 0
    # Restarted writers go on numbering from the channel's head.
    assert r["got"] + r["lost"] == r["head"]


def test_blocking_wakeups_never_lost(chans):
    # Ping-pong over two blocking channels: every round trip sleeps in the
    # futex on both sides; one lost wake-up stalls it (2 s timeout).
    run("create", chans.dir, "ping", "fifo", 64, 1, 1, "futex", "fail")
    run("create", chans.dir, "pong", "fifo", 64, 1, 1, "futex", "fail")
    r = fields(run("pingpong", chans.dir, "ping", "pong", CPU_W, CPU_R, 20000, timeout=120))
    assert r == {"timeouts": 0, "wrong": 0, "echo_status": 0}


def test_latest_value_is_never_a_mix(chans):
    n = 3_000_000
    d, name = chans.dir, chans("pose", kind="latest", size=256, depth=2, full="-")
    w = subprocess.Popen([str(CHANTEST), "latest-write", str(d), name, str(n), CPU_W],
                         stdout=subprocess.PIPE, text=True)
    try:
        r = fields(run("latest-read", d, name, 0, n, CPU_R))
        w.communicate(timeout=30)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert r["mixed"] == 0 and r["backwards"] == 0
    assert r["last"] == n
    assert r["reads"] > 1000


def test_restarted_reader_picks_up_where_it_was(chans):
    d, name = chans.dir, chans("resume", depth=1000)
    assert fields(run("write", d, name, 500, CPU_W))["sent"] == 500
    first = fields(run("read", d, name, 0, 200, CPU_R, "poll"))
    assert (first["got"], first["pos"]) == (200, 200)
    second = fields(run("read", d, name, 0, 500, CPU_R, "poll"))
    assert (second["got"], second["disorder"], second["bad"], second["pos"]) == (300, 0, 0, 500)


def test_reader_cannot_write_the_data(chans):
    # In a child process: the reader writes its own page (allowed), then the
    # message data it maps read-only: SIGSEGV, and the data is unchanged.
    d, name = chans.dir, chans("ro")
    r = subprocess.run([str(CHANTEST), "ro-write", str(d), name, "0"], capture_output=True, text=True, timeout=10)
    assert "own page written" in r.stdout
    assert "data written" not in r.stdout
    assert r.returncode == -signal.SIGSEGV
    assert (d / name / "data").read_bytes()[4096] == 0


def test_remove_leaves_nothing(chans):
    d, name = chans.dir, chans("gone", readers=3)
    assert sorted(p.name for p in (d / name).iterdir()) == ["data", "reader.0", "reader.1", "reader.2"]
    run("remove", d, name)
    assert not (d / name).exists()


def test_attach_refuses_what_is_not_a_channel_end(chans):
    # The client checks the header before trusting a mapping (as the runtime
    # does): a garbled header, a reader index that was not declared.
    import errno
    d, name = chans.dir, chans("att", readers=2)
    assert fields(run("attach", d, name, "writer"))["rc"] == 0
    assert fields(run("attach", d, name, "1"))["rc"] == 0
    assert fields(run("attach", d, name, "2"))["rc"] == -errno.ERANGE
    data = d / name / "data"
    b = bytearray(data.read_bytes())
    b[30] = 9  # wait_mode
    data.write_bytes(bytes(b))
    assert fields(run("attach", d, name, "writer"))["rc"] == -errno.EPROTO
    assert fields(run("attach", d, name, "0"))["rc"] == -errno.EPROTO


@pytest.mark.parametrize("kind", ["fifo", "latest"])
def test_a_writer_breaking_the_protocol_cannot_crash_or_hang_a_reader(chans, kind):
    # The reader attached first (its geometry is the one it checked); then
    # the writer claims a huge depth and message size and a head far ahead
    # of slots it never wrote.  The reader must neither fault nor spin.
    d = chans.dir
    name = chans("bad", kind=kind, depth=4, full="-" if kind == "latest" else "overwrite")
    reader_cmd = ["read", d, name, "0", "0", CPU_R, "poll", "0", "0", "300"] if kind == "fifo" else \
        ["latest-read", d, name, "0", "1", CPU_R, "1000"]
    r = subprocess.Popen([str(CHANTEST), *map(str, reader_cmd)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        time.sleep(0.1)
        run("hostile", d, name)
        out, err = r.communicate(timeout=30)
    finally:
        if r.poll() is None:
            r.kill()
            r.wait()
    assert r.returncode == 0, err
    got = fields(out)
    assert got.get("bad", 0) == 0 and got.get("mixed", 0) == 0
