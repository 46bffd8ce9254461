#!/usr/bin/env bash
# Remote-core start-up anchor: how long QEMU (mps2-an385, Cortex-M3) takes
# from being spawned to the first UART line of the hello firmware, booted
# directly; and the same firmware through the emulated remote processor
# (write `start` to remoteproc0/state -> first line on ttyRPMSG0), and the
# emulator's `stop` (write returns once QEMU is reaped and `offline`).  The
# edgecr side (create+start to the first log line) joins this table when the
# remoteproc backend lands.  Prints a table with ratios to the anchor.
#   bench/remoteproc/qemu-direct.sh [RUNS]      (default 20)
# Env: EDGECR_BUILD (default build/), EDGECR_FW_BUILD (default
# $EDGECR_BUILD/firmware-cm3).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-20}
BUILD=${EDGECR_BUILD:-$PWD/build}
FW_BUILD=${EDGECR_FW_BUILD:-$BUILD/firmware-cm3}
firmware/build.sh "$FW_BUILD"
exec python3 - "$RUNS" "$FW_BUILD/hello.elf" "$BUILD/tools/remoteproc-emu/remoteproc-emu" <<'PY'
import os, select, signal, statistics, subprocess, sys, tempfile, time, shutil

runs, fw, emu_bin = int(sys.argv[1]), sys.argv[2], sys.argv[3]
QEMU = ["qemu-system-arm", "-M", "mps2-an385", "-nodefaults", "-display", "none",
        "-chardev", "stdio,id=uart0,signal=off", "-serial", "chardev:uart0",
        "-semihosting-config", "enable=on,target=native", "-kernel", fw]

def first_line(fd, deadline):
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("no UART line within 10 s")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise SystemExit("QEMU exited before printing")
            buf += chunk

def qemu_direct():
    t0 = time.monotonic()
    p = subprocess.Popen(QEMU, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        first_line(p.stdout.fileno(), t0 + 10)
        return time.monotonic() - t0
    finally:
        p.send_signal(signal.SIGKILL)  # by PID: the child we started
        p.wait()

def through_emulator(root):
    state = f"{root}/sys/class/remoteproc/remoteproc0/state"
    fd = os.open(f"{root}/dev/ttyRPMSG0", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        t0 = time.monotonic()
        with open(state, "w") as f:
            f.write("start")
        first_line(fd, t0 + 10)
        elapsed = time.monotonic() - t0
        t1 = time.monotonic()
        with open(state, "w") as f:
            f.write("stop")  # returns once QEMU is gone and the state is offline
        stops.append(time.monotonic() - t1)
        return elapsed
    finally:
        os.close(fd)

def stats(name, xs, anchor_ms):
    ms = sorted(x * 1000 for x in xs)
    med = statistics.median(ms)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{name:<34} {len(ms):>4} {ms[0]:>8.1f} {med:>8.1f} {p90:>8.1f} {ms[-1]:>8.1f}"
          f" {med / anchor_ms:>8.2f}x")

stops = []
direct = [qemu_direct() for _ in range(runs)]
rows = [("qemu-system-arm direct", direct)]
if os.access(emu_bin, os.X_OK):
    root = tempfile.mkdtemp(prefix="rproc-bench-")
    os.makedirs(f"{root}/lib/firmware")
    shutil.copy(fw, f"{root}/lib/firmware/hello.elf")
    subprocess.run([emu_bin, "start", "--root", root], check=True)
    try:
        with open(f"{root}/sys/class/remoteproc/remoteproc0/firmware", "w") as f:
            f.write("hello.elf")
        rows.append(("remoteproc-emu start -> tty line", [through_emulator(root) for _ in range(runs)]))
    finally:
        subprocess.run([emu_bin, "stop", "--root", root], check=True)
        shutil.rmtree(root, ignore_errors=True)

anchor = 135.0  # midpoint of the 110-160 ms the issue measured for QEMU to first UART line
print("remoteproc start-up: spawn/start to first UART line (ms); ratio = median / 135 ms anchor")
print(f"{'path':<34} {'runs':>4} {'min':>8} {'median':>8} {'p90':>8} {'max':>8} {'ratio':>9}")
for name, xs in rows:
    stats(name, xs, anchor)
if stops:
    ms = sorted(x * 1000 for x in stops)
    print(f"{'remoteproc-emu stop -> offline':<34} {len(ms):>4} {ms[0]:>8.1f}"
          f" {statistics.median(ms):>8.1f} {ms[min(len(ms) - 1, int(len(ms) * 0.9))]:>8.1f}"
          f" {ms[-1]:>8.1f} {'(target < 20 ms for edgecr kill)':>9}")
if len(rows) == 2:
    overhead = statistics.median(rows[1][1]) - statistics.median(rows[0][1])
    print(f"emulator overhead over direct QEMU (median): {overhead * 1000:+.1f} ms")
PY
