#!/usr/bin/env bash
# tests/infer/fuzz/run.sh [SECONDS] - build the libFuzzer target of the
# inference library (clang -fsanitize=fuzzer,address,undefined), replay every
# saved regression input, then fuzz for SECONDS (default 60) from a scratch
# copy of the seed corpus (models of tests/infer/gen_models.py).  Crashing
# inputs land in $FUZZ_OUT/crashes/; once fixed, copy them to regressions/.
#   FUZZ_OUT   build and scratch directory (default /tmp/edgecr-infer-fuzz-$UID)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SECONDS_EACH=${1:-60}
OUT=${FUZZ_OUT:-/tmp/edgecr-infer-fuzz-$(id -u)}
mkdir -p "$OUT/crashes"
bin="$OUT/fuzz_model"
srcs=("$HERE/fuzz_model.c" "$ROOT"/src/infer/*.c)
if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$ROOT"/src/infer/*.h -newer "$bin" 2>/dev/null)" ]; then
  echo "fuzz: building fuzz_model" >&2
  clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I "$ROOT/src/infer" "${srcs[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
regs=("$HERE"/regressions/*.tflite)
if [ -e "${regs[0]}" ] && ! "$bin" "${regs[@]}" >"$OUT/replay.log" 2>&1; then
  echo "fuzz: a regression input fails again, see $OUT/replay.log" >&2
  exit 1
fi
[ "$SECONDS_EACH" -gt 0 ] || exit 0
work="$OUT/corpus"
rm -rf "$work"; mkdir -p "$work"
cp "$HERE"/corpus/*.tflite "$work"/
"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
       -artifact_prefix="$OUT/crashes/" -print_final_stats=1 "$work"
