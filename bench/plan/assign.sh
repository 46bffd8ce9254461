#!/usr/bin/env bash
# bench/plan/assign.sh - how long the automatic core assignment of
# `edgecr plan check` takes for large plans: 1,000 / 2,000 / 10,000
# unpinned SCHED_FIFO containers on 64 cores at 70 % load (the target: 10,000
# in under 1 s), then a heavier and a failing case.  A benchmark, not a
# test: it prints times and never fails on them.
# Usage: bench/plan/assign.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
bin=$build/src/plan/bench_plan_assign
[ -x "$bin" ] || { echo "build first: $bin missing" >&2; exit 1; }
echo "== core assignment (plan_analyse: assignment + every exact test; best of 3)"
printf '%-11s %-6s %-5s %-8s %10s %10s  %s\n' containers cores load dl_share parse_ms assign_ms assignment
for spec in "1000 64 0.7 0" "2000 64 0.7 0" "10000 64 0.7 0" "10000 64 0.9 0" "10000 64 0.7 0.01"; do
  set -- $spec
  out=$("$bin" "$1" "$2" "$3" "$4" 3)
  parse=$(sed -n 's/.*parse_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  ms=$(sed -n 's/.*assign_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  how=$(sed -n 's/.*assignment="\(.*\)"/\1/p' <<<"$out")
  printf '%-11s %-6s %-5s %-8s %10s %10s  %s\n' "$1" "$2" "$3" "$4" "$parse" "$ms" "$how"
done
