#!/usr/bin/env bash
# bench/ipc/run_containers.sh [ROUND_TRIPS] [RUNS] - the channel round trip
# between two Linux containers made by edgecr (bench/ipc/chan_rt.c), the
# channels declared by annotations and mapped by the runtime, the echo
# container on CPU 1 and the timing one on CPU 0 (linux.resources.cpu.cpus),
# polling then blocking; RUNS times.  Compare with bench/ipc/run.sh (the
# same round trip between two processes).  Uses a private --root under
# /tmp and removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${EDGECR_BUILD:-$PWD/build}
EDGECR=${EDGECR_BIN:-$BUILD/src/cli/edgecr}
N=${1:-100000}
RUNS=${2:-3}
work=$(mktemp -d /tmp/edgecr-ipc-ctr-XXXXXX)
root=$work/root
ids=()
cleanup() {
  for id in "${ids[@]}"; do "$EDGECR" --root "$root" delete --force "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/rootfs/proc"
cp "$BUILD/bench/ipc/chan_rt" "$work/rootfs/chan_rt"
# bundle NAME CPU WAIT ARGS...: ping writes `ping` and reads `pong`; echo the reverse
bundle() {
  local name=$1 cpu=$2 wait=$3 role=$4 n=$5
  mkdir -p "$work/$name"
  python3 - "$work/$name/config.json" "$work/rootfs" "$cpu" "$wait" "$role" "$n" <<'PY'
import json, sys
out, rootfs, cpu, wait, role, n = sys.argv[1:]
chan = {"kind": "fifo", "message_size": 64, "depth": 4, "readers": 1, "wait": wait}
mine, other = ("ping", "pong") if role == "ping" else ("pong", "ping")
json.dump({
    "ociVersion": "1.2.0",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/chan_rt", role, n], "cwd": "/"},
    "root": {"path": rootfs},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
              "resources": {"cpu": {"cpus": cpu}}},
    "annotations": {f"org.edgecr.channel.{mine}": json.dumps(dict(chan, writer=True)),
                    f"org.edgecr.channel.{other}": json.dumps(dict(chan, reader=0))},
}, open(out, "w"))
PY
}
echo "64-byte round trips between two containers, CPUs 0 <-> 1, microseconds"
printf '%-12s %9s %9s %9s %10s\n' transport p50 p99 p99.9 max
for i in $(seq 1 "$RUNS"); do
  read -r _ u0 n0 s0 i0 w0 q0 sq0 st0 _ < /proc/stat
  for wait in poll futex; do
    bundle echo 1 "$wait" echo "$N"
    bundle ping 0 "$wait" ping "$N"
    id=ipcb-$$-$wait-$i
    ids+=("$id-echo" "$id-ping")
    "$EDGECR" --root "$root" create --bundle "$work/echo" "$id-echo" >/dev/null
    "$EDGECR" --root "$root" start "$id-echo"
    "$EDGECR" --root "$root" run --bundle "$work/ping" "$id-ping"
    "$EDGECR" --root "$root" delete --force "$id-echo" >/dev/null
  done
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat
  tot=$(( (u1+n1+s1+i1+w1+q1+sq1+st1) - (u0+n0+s0+i0+w0+q0+sq0+st0) ))
  echo "run $i: steal $((st1 - st0)) of $tot jiffies; CPUs busy $(( 100 - 100 * ((i1+w1) - (i0+w0)) / (tot > 0 ? tot : 1) ))%"
done
