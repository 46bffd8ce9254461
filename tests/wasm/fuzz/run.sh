#!/usr/bin/env bash
# tests/wasm/fuzz/run.sh [SECONDS] - build the libFuzzer targets of the wasm
# engine and its WASI layer (clang -fsanitize=fuzzer,address,undefined):
# fuzz_decode (decode+validate), fuzz_run (instantiate+run under fuel),
# fuzz_wasi (run with the real WASI layer in a scratch preopen); run each for
# SECONDS (default 60) on a scratch copy of the seed corpus, after replaying
# every saved regression input.  Crashing inputs land in $FUZZ_OUT/crashes/;
# once the bug is fixed, copy them to tests/wasm/fuzz/regressions/.
#
#   FUZZ_OUT   build and scratch directory (default /tmp/edgecr-fuzz-$UID)
#   FUZZ_JOBS  libFuzzer -jobs/-workers (default: one process, the machine is shared)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SECONDS_EACH=${1:-60}
OUT=${FUZZ_OUT:-/tmp/edgecr-fuzz-$(id -u)}
mkdir -p "$OUT/crashes"

SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
# EW_GUARD_PAGES: the engine with guarded memories (as built on 64-bit Linux);
# fuzz_run gives half of its inputs a guarded memory.
CFLAGS=(-std=c11 -D_GNU_SOURCE -DEW_GUARD_PAGES=1 -g -O1 "${SAN[@]}" -I "$ROOT/src/wasm"
        -I "$ROOT/src/wasm/wasi" -I "$ROOT/src/common")
ENGINE=("$ROOT"/src/wasm/*.c)
WASI=("$ROOT"/src/wasm/wasi/*.c "$ROOT/src/common/util.c" "$ROOT/src/common/error.c")

# Each source is compiled once (instrumented for coverage) into $OUT/obj;
# compile_all SRC... sets OBJS to their objects.
compile_all() {
  mkdir -p "$OUT/obj"
  OBJS=()
  local src obj
  for src in "$@"; do
    obj="$OUT/obj/$(basename "$(dirname "$src")")-$(basename "$src" .c).o"
    OBJS+=("$obj")
    if [ ! -e "$obj" ] || [ -n "$(find "$src" "$(dirname "$src")"/*.h -newer "$obj" 2>/dev/null)" ]; then
      # The interpreter is two copies of one very large function: clang
      # needs minutes per copy at -O1 with the sanitizers, seconds at -O0.
      local opt=()
      if [ "$(basename "$src")" = interp.c ]; then opt=(-O0); fi
      clang "${CFLAGS[@]}" "${opt[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    fi
  done
}

build() { # target
  local t=$1 bin="$OUT/$1"
  if [ "$t" = fuzz_wasi ]; then compile_all "${ENGINE[@]}" "${WASI[@]}"; else compile_all "${ENGINE[@]}"; fi
  if [ ! -x "$bin" ] || [ -n "$(find "$HERE/$t.c" "${OBJS[@]}" -newer "$bin" 2>/dev/null)" ]; then
    echo "fuzz: building $t" >&2
    clang "${CFLAGS[@]}" -fsanitize=fuzzer "$HERE/$t.c" "${OBJS[@]}" -lm -o "$bin.tmp"
    mv "$bin.tmp" "$bin"
  fi
}

status=0
for t in fuzz_decode fuzz_run fuzz_wasi; do
  build "$t"
  # Replay: libFuzzer runs each file given on the command line once.
  regs=("$HERE"/regressions/*.wasm)
  if [ -e "${regs[0]}" ]; then
    if ! "$OUT/$t" "${regs[@]}" >"$OUT/$t.replay.log" 2>&1; then
      echo "fuzz: $t: a regression input fails again, see $OUT/$t.replay.log" >&2
      status=1
      continue
    fi
  fi
  [ "$SECONDS_EACH" -gt 0 ] || continue
  work="$OUT/corpus-$t"
  rm -rf "$work"; mkdir -p "$work"
  cp "$HERE"/corpus/*.wasm "$work"/
  echo "fuzz: running $t for ${SECONDS_EACH}s" >&2
  if ! "$OUT/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
        -max_len=65536 ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
        -artifact_prefix="$OUT/crashes/$t-" -print_final_stats=1 "$work" \
        >"$OUT/$t.log" 2>&1; then
    echo "fuzz: $t found a failing input (see $OUT/$t.log, $OUT/crashes/)" >&2
    tail -n 40 "$OUT/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$OUT/$t.log" | tail -n 2 >&2 || true
  fi
done
exit $status
