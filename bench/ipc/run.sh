#!/usr/bin/env bash
# bench/ipc/run.sh [ROUND_TRIPS] [RUNS] - the IPC round-trip benchmark
# (bench/ipc/ipc_bench.c), RUNS times (default 3: tails on a shared virtual
# machine are noisy, so several runs are reported, each with its steal
# time).  Starts an iceoryx RouDi daemon for the run when the build has the
# iceoryx anchor, and stops it after.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${EDGECR_BUILD:-$PWD/build}
N=${1:-100000}
RUNS=${2:-3}
roudi_pid=
if [ -x /usr/bin/iox-roudi ] && ldd "$BUILD/bench/ipc/ipc_bench" 2>/dev/null | grep -q iceoryx_binding_c; then
  /usr/bin/iox-roudi >/tmp/edgecr-ipc-roudi.log 2>&1 &
  roudi_pid=$!
  sleep 1
fi
trap '[ -n "$roudi_pid" ] && kill "$roudi_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
for i in $(seq 1 "$RUNS"); do
  echo "== run $i of $RUNS"
  "$BUILD/bench/ipc/ipc_bench" "$N"
done
