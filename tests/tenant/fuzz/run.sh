#!/usr/bin/env bash
# tests/tenant/fuzz/run.sh [SECONDS] - build the libFuzzer target of the
# tenant metadata decoders (COSE_Sign1 envelope + CBOR payload, clang
# -fsanitize=fuzzer,address,undefined) twice: fuzz_meta on the libcbor shim,
# fuzz_meta_native on the libcbor-free one; replay every saved regression
# input through both, then fuzz each for SECONDS (default 60) on a scratch
# copy of the seed corpus.  Crashing inputs land in
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
SRCS=("$ROOT"/src/tenant/meta_*.c "$ROOT/src/tenant/cose.c" "$ROOT/src/tenant/tenant_err.c" "$ROOT/src/tenant/tcbor_common.c")
status=0
for t in fuzz_meta fuzz_meta_native; do
  BIN="$OUT/$t"
  shim="$ROOT/src/tenant/tcbor_libcbor.c"; libs=(-lcbor)
  if [ "$t" = fuzz_meta_native ]; then shim="$ROOT/src/tenant/tcbor_native.c"; libs=(); fi
  if [ ! -x "$BIN" ] || [ -n "$(find "$HERE/fuzz_meta.c" "${SRCS[@]}" "$shim" "$ROOT"/src/tenant/*.h -newer "$BIN" 2>/dev/null)" ]; then
    echo "fuzz: building $t" >&2
    clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I "$ROOT/src/tenant" "$HERE/fuzz_meta.c" "${SRCS[@]}" "$shim" "${libs[@]}" -o "$BIN.tmp"
    mv "$BIN.tmp" "$BIN"
  fi
  regs=("$HERE"/regressions/*)
  if [ -e "${regs[0]}" ] && ! "$BIN" "${regs[@]}" >"$OUT/$t.replay.log" 2>&1; then
    echo "fuzz: $t: a regression input fails again, see $OUT/$t.replay.log" >&2
    status=1
    continue
  fi
  [ "$SECONDS_EACH" -gt 0 ] || continue
  work="$OUT/corpus-$t"
  rm -rf "$work"; mkdir -p "$work"
  cp "$HERE"/corpus/* "$work"/
  echo "fuzz: running $t for ${SECONDS_EACH}s" >&2
  if ! "$BIN" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -max_len=70000 \
      -artifact_prefix="$OUT/crashes/$t-" -print_final_stats=1 "$work" >"$OUT/$t.log" 2>&1; then
    echo "fuzz: $t found a failing input (see $OUT/$t.log, $OUT/crashes/)" >&2
    tail -n 40 "$OUT/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$OUT/$t.log" | tail -n 2 >&2 || true
  fi
done
exit $status
