#!/bin/sh
# switch.sh - a plan switch that changes one container of ten, against
# starting that container alone (issue 4 target: at most 1.5x).
#
#   bench/plan/switch.sh [BUILD]      (default build/; needs root)
#
# Ten best-effort busybox containers (`sleep`), plan A applied; plan B
# changes one container's config.  Timed, best of 5 each:
#   start-one   `edgecr plan apply` of a one-container plan (that container)
#   switch      `edgecr plan switch` A -> B (restarts only the changed one)
# and how many containers the switch restarted (by pid).
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$REPO/build}
EDGECR=${EDGECR_BIN:-$BUILD/src/cli/edgecr}
BUSYBOX=$(command -v busybox || echo /bin/busybox)
W=$(mktemp -d /tmp/edgecr-bench-switch.XXXXXX)
ROOT=$W/root
export EDGECR_PLAN_REPO=$W/store
N=10
cleanup() {
  for i in $(seq 1 $N) 0; do "$EDGECR" --root "$ROOT" delete --force "c$i" >/dev/null 2>&1 || true; done
  "$EDGECR" --root "$W/root1" delete --force c1 >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

mkdir -p "$W/rootfs/bin" "$W/rootfs/proc"
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
ln -s busybox "$W/rootfs/bin/sleep"
bundle() { # NAME ARG
  mkdir -p "$W/bundles/$1"
  [ -e "$W/bundles/$1/rootfs" ] || cp -a "$W/rootfs" "$W/bundles/$1/rootfs"
  cat > "$W/bundles/$1/config.json" <<JSON
{"ociVersion": "1.2.0", "root": {"path": "rootfs"},
 "process": {"args": ["sleep", "$2"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}}
JSON
}
plan() { # NAME CONTAINERS...
  f=$W/$1.yaml; name=$1; shift
  { echo "name: $name"; echo "node: {cores: 2}"; echo "containers:"
    for c in "$@"; do echo "  - {name: $c, bundle: bundles/$c}"; done; } > "$f"
  "$EDGECR" plan build "$f" >/dev/null
}
now() { date +%s%N; }
for i in $(seq 1 $N); do bundle "c$i" 1000; done
ALL=$(seq -f 'c%g' 1 $N | tr '\n' ' ')

best_start=; best_switch=; restarted=
for run in 1 2 3 4 5; do
  # start-one: the changed container alone, on an empty node
  bundle c1 1000; plan one c1
  t0=$(now); "$EDGECR" --root "$W/root1" plan apply one >/dev/null; t1=$(now)
  "$EDGECR" --root "$W/root1" delete --force c1 >/dev/null; rm -rf "$W/root1"
  s=$(( (t1 - t0) / 1000 ))
  [ -z "$best_start" ] || [ "$s" -lt "$best_start" ] && best_start=$s
  # switch: ten running, one changes
  rm -rf "$ROOT"
  bundle c1 1000; plan ten $ALL
  "$EDGECR" --root "$ROOT" plan apply ten >/dev/null
  pids() { for i in $(seq 1 $N); do "$EDGECR" --root "$ROOT" state "c$i" | grep '"pid"'; done; }
  pids > "$W/before"
  bundle c1 1001; plan ten $ALL
  t0=$(now); "$EDGECR" --root "$ROOT" plan switch ten >/dev/null; t1=$(now)
  pids > "$W/after"
  restarted=$(diff "$W/before" "$W/after" | grep -c '^>' || true)
  s=$(( (t1 - t0) / 1000 ))
  [ -z "$best_switch" ] || [ "$s" -lt "$best_switch" ] && best_switch=$s
  for i in $(seq 1 $N); do "$EDGECR" --root "$ROOT" delete --force "c$i" >/dev/null; done
  rm -rf "$ROOT/plan"
done
ratio=$(awk -v a="$best_switch" -v b="$best_start" 'BEGIN { printf "%.2f", a / b }')
printf '%-44s %12s %8s\n' "operation (best of 5)" "time" "ratio"
printf '%-44s %9d us %8s\n' "start one container alone (plan apply)" "$best_start" "1.00"
printf '%-44s %9d us %8sx   (target <= 1.5x)\n' "switch changing 1 of $N containers" "$best_switch" "$ratio"
printf '%-44s %12s\n' "containers restarted by the switch" "$restarted of $N"
