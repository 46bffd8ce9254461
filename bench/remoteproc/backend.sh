#!/usr/bin/env bash
# The remoteproc backend's cost: `edgecr create` + `edgecr start` of a
# firmware bundle to the first line of the firmware's log on the
# container's stdout, against QEMU booting the same firmware directly (the
# anchor) and against the emulated remote processor alone (`start` write to
# first tty line).  edgecr's own overhead is the difference to the latter
# (target < 10 ms).  Then `edgecr kill` until the core is offline (target
# < 20 ms; kill returns once the core is offline) and until the container's
# log process has exited.  Prints a table (ms) with ratios to the anchor.
#   bench/remoteproc/backend.sh [RUNS]      (default 20)
# Env: EDGECR_BIN (default $EDGECR_BUILD/src/cli/edgecr), EDGECR_BUILD
# (default build/), EDGECR_FW_BUILD (default $EDGECR_BUILD/firmware-cm3).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-20}
BUILD=${EDGECR_BUILD:-$PWD/build}
FW_BUILD=${EDGECR_FW_BUILD:-$BUILD/firmware-cm3}
EDGECR=${EDGECR_BIN:-$BUILD/src/cli/edgecr}
firmware/build.sh "$FW_BUILD" >/dev/null
exec python3 - "$RUNS" "$FW_BUILD/hello.elf" "$BUILD/tools/remoteproc-emu/remoteproc-emu" "$EDGECR" <<'PY'
import os, select, signal, statistics, subprocess, sys, tempfile, time, shutil

runs, fw, emu_bin, edgecr = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
QEMU = ["qemu-system-arm", "-M", "mps2-an385", "-nodefaults", "-display", "none",
        "-chardev", "stdio,id=uart0,signal=off", "-serial", "chardev:uart0",
        "-semihosting-config", "enable=on,target=native", "-kernel", fw]

def first_line(fd, deadline):
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("no log line within 10 s")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise SystemExit("output closed before the first line")
            buf += chunk

def qemu_direct():
    t0 = time.monotonic()
    p = subprocess.Popen(QEMU, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        first_line(p.stdout.fileno(), t0 + 10)
        return time.monotonic() - t0
    finally:
        p.send_signal(signal.SIGKILL)  # by PID: the child we started
        p.wait()

def emu_alone(root):
    rp = f"{root}/sys/class/remoteproc/remoteproc0"
    with open(f"{rp}/firmware", "w") as f:
        f.write("hello.elf")
    fd = os.open(f"{root}/dev/ttyRPMSG0", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        t0 = time.monotonic()
        with open(f"{rp}/state", "w") as f:
            f.write("start")
        first_line(fd, t0 + 10)
        elapsed = time.monotonic() - t0
        t1 = time.monotonic()
        with open(f"{rp}/state", "w") as f:
            f.write("stop")
        emu_stop.append(time.monotonic() - t1)
        return elapsed
    finally:
        os.close(fd)

def edgecr_run(root, state, bundle, i):
    env = dict(os.environ, EDGECR_REMOTEPROC_ROOT=root)
    ed = lambda *a, **kw: subprocess.run([edgecr, "--root", state, *a], env=env, check=True,
                                         stdin=subprocess.DEVNULL, **kw)
    cid = f"bench{i}"
    r, w = os.pipe()
    try:
        t0 = time.monotonic()
        ed("create", "--bundle", bundle, cid, stdout=w)
        t1 = time.monotonic()
        ed("start", cid)
        t2 = time.monotonic()
        os.close(w); w = -1
        first_line(r, t0 + 10)
        t3 = time.monotonic()
        create_ms.append(t1 - t0); start_ms.append(t2 - t1)
        pid = int(open(f"{state}/{cid}/state.json").read().split('"pid":')[1].split(",")[0])
        k0 = time.monotonic()
        ed("kill", cid, "TERM")
        k1 = time.monotonic()
        with open(f"{root}/sys/class/remoteproc/remoteproc0/state") as f:
            assert f.read().strip() == "offline", "kill returned before the core was offline"
        # the log process drains the tty and exits: EOF on its stdout
        while os.read(r, 4096):
            pass
        k2 = time.monotonic()
        kill_ms.append(k1 - k0); exit_ms.append(k2 - k0)
        d0 = time.monotonic()
        ed("delete", cid)
        delete_ms.append(time.monotonic() - d0)
        return t3 - t0
    finally:
        if w >= 0:
            os.close(w)
        os.close(r)

emu_stop, create_ms, start_ms, kill_ms, exit_ms, delete_ms = [], [], [], [], [], []
direct = [qemu_direct() for _ in range(runs)]
tmp = tempfile.mkdtemp(prefix="rproc-bench-")
root, state = f"{tmp}/board", f"{tmp}/state"
os.makedirs(f"{root}/lib/firmware")
shutil.copy(fw, f"{root}/lib/firmware/hello.elf")
bundle = f"{tmp}/bundle"
subprocess.run([sys.executable, "tools/fwimage/fwimage.py", "bundle", "--firmware", fw, "--processor",
                "cm3-0", "--out", bundle], check=True, stdout=subprocess.DEVNULL)
subprocess.run([emu_bin, "start", "--root", root], check=True)
try:
    # Interleaved, so that load from elsewhere hits both paths alike; the
    # overhead is taken per pair of runs.
    emu, ours = [], []
    for i in range(runs):
        emu.append(emu_alone(root))
        ours.append(edgecr_run(root, state, bundle, i))
finally:
    subprocess.run([edgecr, "--root", state, "delete", "--force", f"bench{len(create_ms)}"],
                   env=dict(os.environ, EDGECR_REMOTEPROC_ROOT=root), capture_output=True)
    subprocess.run([emu_bin, "stop", "--root", root], check=True)
    shutil.rmtree(tmp, ignore_errors=True)

anchor = statistics.median(direct) * 1000
def row(name, xs, note=""):
    ms = sorted(x * 1000 for x in xs)
    med = statistics.median(ms)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{name:<40} {len(ms):>4} {ms[0]:>7.1f} {med:>7.1f} {p90:>7.1f} {ms[-1]:>7.1f}"
          f" {med / anchor:>7.2f}x  {note}")

print(f"remoteproc backend (ms); ratio = median / median of QEMU direct ({anchor:.1f} ms)")
print(f"{'path':<40} {'runs':>4} {'min':>7} {'median':>7} {'p90':>7} {'max':>7} {'ratio':>8}")
row("qemu-system-arm direct -> first line", direct, "anchor")
row("remoteproc-emu start -> first tty line", emu)
row("edgecr create+start -> first log line", ours)
row("  edgecr create", create_ms)
row("  edgecr start (incl. the core's boot)", start_ms)
row("edgecr kill -> core offline", kill_ms, "target < 20 ms")
row("edgecr kill -> log process exited", exit_ms)
row("remoteproc-emu stop -> offline", emu_stop)
row("edgecr delete", delete_ms)
pairs = sorted((o - e) * 1000 for o, e in zip(ours, emu))
print(f"edgecr overhead over the emulated core alone, per interleaved pair: median {statistics.median(pairs):+.1f} ms,"
      f" min {pairs[0]:+.1f} ms; of the medians: {(statistics.median(ours) - statistics.median(emu)) * 1000:+.1f} ms"
      f" (target < 10 ms)")
PY
