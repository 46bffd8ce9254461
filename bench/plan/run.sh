#!/usr/bin/env bash
# bench/plan/run.sh - how long `edgecr plan check` takes to analyse large
# configurations (parse + core assignment + exact tests), against the
# target of 100 ms for 1,000 containers on 16 cores; then the storage and
# delta sizes of the plan repository (bench/plan/storage.sh).
# Usage: bench/plan/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
bin=$build/src/plan/bench_plan_analysis
[ -x "$bin" ] || { echo "build first: $bin missing" >&2; exit 1; }
echo "== plan analysis (best of 5 runs; target: 1000 containers / 16 cores < 100 ms)"
printf '%-11s %-6s %-5s %9s %11s %10s %-12s %s\n' containers cores load parse_ms analyse_ms vs_target schedulable assignment
for spec in "100 4 0.7" "1000 16 0.5" "1000 16 0.7" "1000 16 0.85" "2000 32 0.7"; do
  set -- $spec
  out=$("$bin" "$1" "$2" "$3" 5)
  parse=$(sed -n 's/.*parse_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  ana=$(sed -n 's/.*analyse_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  sched=$(sed -n 's/.*schedulable=\([a-z]*\).*/\1/p' <<<"$out")
  how=$(sed -n 's/.*assignment="\(.*\)"/\1/p' <<<"$out")
  printf '%-11s %-6s %-5s %9s %11s %9.2fx %-12s %s\n' "$1" "$2" "$3" "$parse" "$ana" \
    "$(awk -v a="$ana" 'BEGIN{print a/100}')" "$sched" "$how"
done
if [ -x "$here/storage.sh" ]; then "$here/storage.sh" "$build"; fi
