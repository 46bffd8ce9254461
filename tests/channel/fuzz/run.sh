#!/usr/bin/env bash
# tests/channel/fuzz/run.sh [SECONDS] - build the libFuzzer target of
# src/channel (clang -fsanitize=fuzzer,address,undefined), replay the saved
# regression inputs and the seeds, then fuzz for SECONDS (default 60) on a
# scratch copy of the seed corpus.  Crashing inputs land in
# $FUZZ_OUT/crashes/; once fixed, copy them to tests/channel/fuzz/regressions/.
# FUZZ_OUT: build and scratch directory (default /tmp/edgecr-fuzz-chan-$UID).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SECONDS_EACH=${1:-60}
OUT=${FUZZ_OUT:-/tmp/edgecr-fuzz-chan-$(id -u)}
mkdir -p "$OUT/crashes"
SRCS=("$ROOT/src/channel/decl.c" "$ROOT/src/channel/chanfs.c" "$ROOT/src/common/error.c" "$ROOT/src/common/util.c"
      "$ROOT/src/common/log.c")
bin="$OUT/fuzz_channel"
if [ ! -x "$bin" ] || [ -n "$(find "$HERE/fuzz_channel.c" "${SRCS[@]}" "$ROOT/src/channel/chanlib.h" \
      "$ROOT/include/edgecr/channel.h" -newer "$bin" 2>/dev/null)" ]; then
  echo "fuzz: building fuzz_channel" >&2
  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I "$ROOT/src/channel" -I "$ROOT/src/common" -I "$ROOT/include" \
    "$HERE/fuzz_channel.c" "${SRCS[@]}" $(pkg-config --cflags --libs jansson) -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
shopt -s nullglob
inputs=("$HERE"/regressions/* "$HERE"/corpus/*)
if ! "$bin" "${inputs[@]}" >"$OUT/replay.log" 2>&1; then
  echo "fuzz: a saved input fails, see $OUT/replay.log" >&2
  exit 1
fi
[ "$SECONDS_EACH" -gt 0 ] || exit 0
work="$OUT/corpus"; rm -rf "$work"; mkdir -p "$work"; cp "$HERE"/corpus/* "$work"/
"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
  -artifact_prefix="$OUT/crashes/fuzz_channel-" -print_final_stats=1 "$work" >"$OUT/fuzz.log" 2>&1 \
  || { echo "fuzz: fuzz_channel found a failing input (see $OUT/fuzz.log)" >&2; tail -n 40 "$OUT/fuzz.log" >&2; exit 1; }
grep -E "stat::number_of_executed_units" "$OUT/fuzz.log" >&2 || true
