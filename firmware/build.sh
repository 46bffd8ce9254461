#!/usr/bin/env bash
# Builds the example firmware into OUTDIR (hello.elf, sampler.elf, crash.elf)
# with the Cortex-M3 cross file.  Incremental: an existing OUTDIR is reused.
#   firmware/build.sh OUTDIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
out=$1
log=$(mktemp); trap 'rm -f "$log"' EXIT
if [ ! -f "$out/build.ninja" ]; then
  meson setup --cross-file "$src/cross-cortex-m3.ini" "$out" "$src" >"$log" 2>&1 ||
    { cat "$log" >&2; exit 1; }
fi
ninja -C "$out" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
for fw in hello sampler crash; do
  test -f "$out/$fw.elf" || { echo "build.sh: $out/$fw.elf missing" >&2; exit 1; }
done
