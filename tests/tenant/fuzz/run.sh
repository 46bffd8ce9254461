#!/usr/bin/env bash
# tests/tenant/fuzz/run.sh [SECONDS] - build the libFuzzer target of the
# tenant metadata decoders (fuzz_meta: COSE_Sign1 envelope + CBOR payload,
# clang -fsanitize=fuzzer,address,undefined, linked with libcbor), replay
# every saved regression input, then fuzz for SECONDS (default 60) on a
# scratch copy of the seed corpus.  Crashing inputs land in
# $FUZZ_OUT/crashes/; once fixed, copy them to tests/tenant/fuzz/regressions/.
# CI runs it through tests/tenant/test_fuzz_meta.py (fixed seed and count).
#
#   FUZZ_OUT   build and scratch directory (default /tmp/edgecr-fuzz-tenant-$UID)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SECONDS_EACH=${1:-60}
OUT=${FUZZ_OUT:-/tmp/edgecr-fuzz-tenant-$(id -u)}
mkdir -p "$OUT/crashes"
BIN="$OUT/fuzz_meta"
SRCS=("$ROOT"/src/tenant/*.c)
if [ ! -x "$BIN" ] || [ -n "$(find "$HERE/fuzz_meta.c" "${SRCS[@]}" "$ROOT"/src/tenant/*.h -newer "$BIN" 2>/dev/null)" ]; then
  echo "fuzz: building fuzz_meta" >&2
  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I "$ROOT/src/tenant" "$HERE/fuzz_meta.c" "${SRCS[@]}" -lcbor -o "$BIN.tmp"
  mv "$BIN.tmp" "$BIN"
fi
regs=("$HERE"/regressions/*)
if [ -e "${regs[0]}" ]; then
  "$BIN" "${regs[@]}" >"$OUT/replay.log" 2>&1 || { echo "fuzz: a regression input fails again, see $OUT/replay.log" >&2; exit 1; }
fi
[ "$SECONDS_EACH" -gt 0 ] || exit 0
work="$OUT/corpus"
rm -rf "$work"; mkdir -p "$work"
cp "$HERE"/corpus/* "$work"/
echo "fuzz: running fuzz_meta for ${SECONDS_EACH}s" >&2
"$BIN" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -max_len=70000 \
  -artifact_prefix="$OUT/crashes/fuzz_meta-" -print_final_stats=1 "$work" >"$OUT/fuzz_meta.log" 2>&1 || {
  echo "fuzz: fuzz_meta found a failing input (see $OUT/fuzz_meta.log, $OUT/crashes/)" >&2
  tail -n 40 "$OUT/fuzz_meta.log" >&2
  exit 1
}
grep -E "stat::number_of_executed_units|cov:" "$OUT/fuzz_meta.log" | tail -n 2 >&2 || true
