#!/usr/bin/env bash
# bench/plan/storage.sh - what plans cost in the plan repository and on the
# wire: ten containers whose bundles hold real binaries; then one file of
# one container changes.  Targets: the second plan costs only the unique
# bytes; the delta is within 2x of the changed file's compressed size.
# Usage: bench/plan/storage.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
edgecr=${EDGECR_BIN:-$build/src/cli/edgecr}
work=$(mktemp -d /tmp/edgecr-plan-storage.XXXXXX)
trap 'rm -rf "$work"' EXIT
bins=(/usr/bin/ls /usr/bin/cp /usr/bin/tar /usr/bin/find /usr/bin/grep /usr/bin/sed /usr/bin/awk
      /usr/bin/sort /usr/bin/du /usr/bin/date)
{
  echo "name: storage-bench"
  echo "node: {cores: 4, rt_cores: [1, 2, 3]}"
  echo "containers:"
  for i in $(seq 0 9); do
    mkdir -p "$work/bundles/c$i/rootfs/bin"
    printf '{"ociVersion":"1.2.0","process":{"args":["/bin/app"]}}\n' > "$work/bundles/c$i/config.json"
    cp "$(readlink -f "${bins[$i]}")" "$work/bundles/c$i/rootfs/bin/app"
    echo "  - {name: c$i, bundle: bundles/c$i, rt: {period: 100ms, budget: 5ms}}"
  done
} > "$work/plan.yaml"
objects() { find "$work/store/repo/objects" -type f -printf '%s\n' | awk '{s += $1} END {print s}'; }
"$edgecr" plan build "$work/plan.yaml" --repo "$work/store" >/dev/null
first=$(objects)
# one changed file: container c3's binary is replaced by another program
new=$(readlink -f /usr/bin/xargs)
cp "$new" "$work/bundles/c3/rootfs/bin/app"
"$edgecr" plan build "$work/plan.yaml" --repo "$work/store" >/dev/null
second=$(objects)
unique=$(stat -c %s "$new")
"$edgecr" plan export --from storage-bench^ --to storage-bench "$work/one.delta" --repo "$work/store" >/dev/null
delta=$(stat -c %s "$work/one.delta")
xzsize=$(xz -9 -c "$new" | wc -c)
gzsize=$(gzip -9 -c "$new" | wc -c)
"$edgecr" plan export --to storage-bench "$work/full.delta" --repo "$work/store" >/dev/null
full=$(stat -c %s "$work/full.delta")
bundles=$(du -sb "$work/bundles" | cut -f1)
echo
echo "== plan storage (10 containers, $(numfmt --to=iec "$bundles") of bundles; one file changed: $(basename "$new"), $unique bytes)"
printf '%-44s %12s %s\n' measure bytes ratio
printf '%-44s %12d\n' "repository after plan 1" "$first"
printf '%-44s %12d %.3fx of the changed file\n' "growth for plan 2 (one file differs)" "$((second - first))" \
  "$(awk -v a=$((second - first)) -v b="$unique" 'BEGIN{print a/b}')"
printf '%-44s %12d\n' "changed file, xz -9" "$xzsize"
printf '%-44s %12d\n' "changed file, gzip -9" "$gzsize"
printf '%-44s %12d %.3fx of xz size (target <= 2x)\n' "delta plan 1 -> plan 2 (export)" "$delta" \
  "$(awk -v a="$delta" -v b="$xzsize" 'BEGIN{print a/b}')"
printf '%-44s %12d %.3fx of the bundles\n' "full export of plan 2 (no base)" "$full" \
  "$(awk -v a="$full" -v b="$bundles" 'BEGIN{print a/b}')"
