"""The example firmware (firmware/) booted directly under QEMU, without the
emulator: each prints on the mps2-an385 UART, the crash firmware reports its
HardFault and ends QEMU with status 1 through semihosting, and still prints
its crash line when semihosting is off (then the core locks up)."""
import os
import select
import shutil
import subprocess
import time

import pytest

QEMU = ["qemu-system-arm", "-M", "mps2-an385", "-nographic"]


@pytest.fixture(autouse=True)
def need_qemu():
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed")


def boot(fw, semihosting=True, lines=3, timeout=10.0):
    """Boots fw, returns (first `lines` UART lines, exit status or None if
    still running; then it is killed by PID)."""
    args = QEMU + (["-semihosting-config", "enable=on,target=native"] if semihosting else [])
    p = subprocess.Popen(args + ["-kernel", str(fw)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while buf.count(b"\n") < lines and time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        try:  # a crash report is followed by an exit, if it comes
            status = p.wait(timeout=2) if b"rproc-crash:" in buf else p.poll()
        except subprocess.TimeoutExpired:
            status = None
        return buf.decode().replace("\r", "").splitlines()[:lines], status
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_hello_prints_and_beats(firmware):
    lines, status = boot(firmware["hello"])
    assert lines == ["hello: edgecr firmware on mps2-an385 (Cortex-M3) says hello",
                     "hello: heartbeat 1 uptime_ms=100", "hello: heartbeat 2 uptime_ms=200"]
    assert status is None  # runs forever


def test_sampler_logs_sequenced_readings(firmware):
    lines, _ = boot(firmware["sampler"], lines=4)
    assert lines[0] == "sampler: start period_ms=50 sensor=sim-temp"
    for seq, line in enumerate(lines[1:]):
        fields = dict(kv.split("=") for kv in line.split()[1:4])
        assert line.startswith("sampler: ") and line.endswith(" C")
        assert int(fields["seq"]) == seq and int(fields["t_ms"]) == 50 * (seq + 1)
        assert 18.0 < float(fields["temp"]) < 24.0


def test_crash_reports_and_exits_1(firmware):
    lines, status = boot(firmware["crash"], lines=7)
    assert lines[:4] == ["crash: boot"] + [f"crash: line {i} of 3 before the fault" for i in (1, 2, 3)]
    assert lines[4].startswith("HardFault: pc=0x")
    # UsageFault (undefined instruction) escalated: CFSR.UNDEFINSTR, HFSR.FORCED.
    assert "cfsr=0x00010000 hfsr=0x40000000" in lines[5]
    assert lines[6].startswith("rproc-crash: HardFault pc=0x")
    assert status == 1


def test_crash_line_without_semihosting(firmware):
    lines, status = boot(firmware["crash"], semihosting=False, lines=7)
    assert lines[6].startswith("rproc-crash: HardFault")
    # The BKPT faults inside the handler: a lockup.  QEMU 7.2 aborts on it
    # (SIGABRT); a QEMU that models lockup keeps running until killed.
    assert status is None or status == -6
