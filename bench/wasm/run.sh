#!/usr/bin/env bash
# bench/wasm/run.sh - WebAssembly engine benchmark: CPU-bound C kernels run
# natively (cc -O2 -fno-tree-vectorize, scalar like wasm without SIMD) and
# under `edgecr wasm run` (clang --target=wasm32-wasi -O2); prints CPU time
# (user+sys) of each, the slowdown, their geometric mean, then the start-up
# cost of a WASI hello world (time per run over many runs, peak RSS), next
# to the reference figures of issue 3.  Native and wasm must print the same
# checksum: a mismatch is reported and makes the script fail.  Not a test:
# never run by `make check` (tests/wasm/test_bench_programs.py only checks
# the checksums at a small size).
#
#   EDGECR_BIN   binary to measure (default build/src/cli/edgecr)
#   BENCH_RUNS   repetitions per program, the best is kept (default 5)
#   STARTUP_RUNS runs of the hello world (default 200)
#   BENCH_ONLY   space-separated subset of programs
#   BENCH_WASM_FLAGS  extra `wasm run` options, e.g. --bounds-checks (checked
#                memories instead of the guarded ones of 64-bit Linux)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EDGECR=${EDGECR_BIN:-$ROOT/build/src/cli/edgecr}
RUNS=${BENCH_RUNS:-5}
STARTUP_RUNS=${STARTUP_RUNS:-200}
OUT=$(mktemp -d /tmp/edgecr-bench-wasm.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
PROGRAMS=${BENCH_ONLY:-"crc32 sha256 sort matmul nn_int8 mixed"}
WASM_FLAGS=${BENCH_WASM_FLAGS:-}

[ -x "$EDGECR" ] || { echo "bench: $EDGECR not built (make build)" >&2; exit 1; }

for p in $PROGRAMS; do
  cc -O2 -fno-tree-vectorize "$HERE/$p.c" -o "$OUT/$p.native" -lm
  clang --target=wasm32-wasi -O2 "$HERE/$p.c" -o "$OUT/$p.wasm" -lm
done
clang --target=wasm32-wasi -O2 "$ROOT/tests/wasm/c/hello.c" -o "$OUT/hello.wasm"

# cpu_once OUTFILE CMD... : user+sys seconds of one run, output kept.
cpu_once() {
  local out=$1; shift
  "/usr/bin/time" -f "%U %S" -o "$OUT/time" "$@" >"$out" || return 1
  awk '{printf "%.3f", $1 + $2}' "$OUT/time"
}
min() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a < b) ? a : b}'; }

status=0
printf "%-10s %12s %12s %10s  %s\n" program "native (s)" "edgecr (s)" slowdown checksum
logsum=0; n=0; worst=0
for p in $PROGRAMS; do
  # Native and wasm runs alternate, best of $RUNS each: on a shared machine
  # whose speed drifts, both sides then see the same conditions.
  tn=""; tw=""; failed=""
  for _ in $(seq "$RUNS"); do
    tn=$(min "$(cpu_once "$OUT/$p.native.out" "$OUT/$p.native")" "$tn")
    # shellcheck disable=SC2086
    if ! t=$(cpu_once "$OUT/$p.wasm.out" "$EDGECR" wasm run $WASM_FLAGS "$OUT/$p.wasm"); then
      failed=1; break
    fi
    tw=$(min "$t" "$tw")
  done
  if [ -n "$failed" ]; then
    printf "%-10s %12s %12s %10s  %s\n" "$p" "$tn" "FAILED" "-" "edgecr exited non-zero"
    status=1; continue
  fi
  if cmp -s "$OUT/$p.native.out" "$OUT/$p.wasm.out"; then check=same; else check=MISMATCH; status=1; fi
  ratio=$(awk -v w="$tw" -v n="$tn" 'BEGIN{ if (n < 0.001) n = 0.001; printf "%.2f", w / n }')
  logsum=$(awk -v s="$logsum" -v r="$ratio" 'BEGIN{printf "%.6f", s + log(r)}')
  worst=$(awk -v w="$worst" -v r="$ratio" 'BEGIN{print (r > w) ? r : w}')
  n=$((n + 1))
  printf "%-10s %12s %12s %9sx  %s\n" "$p" "$tn" "$tw" "$ratio" "$check"
done
if [ "$n" -gt 0 ]; then
  geo=$(awk -v s="$logsum" -v n="$n" 'BEGIN{printf "%.2f", exp(s / n)}')
  printf "%-10s %12s %12s %9sx  (worst %sx)\n" "geomean" "" "" "$geo" "$worst"
fi
echo "reference: wasm3 / WAMR fast interpreter ~7x geomean on such kernels (3.5-15x),"
echo "           ~19x on CoreMark; WAMR classic ~47x. Target: <= 5x geomean, <= 12x worst."
echo

# Start-up, two ways.  (1) In process (startup.c: the engine + WASI layer
# linked into a minimal program): decode+validate+compile, instantiate and
# run hello's _start, N times; one cold run for the peak RSS.  (2) The whole
# `edgecr wasm run` process (exec, dynamic loading of edgecr's libraries,
# load, run, exit), next to the cost of spawning /bin/true.
cc -std=c11 -D_GNU_SOURCE -O2 -I "$ROOT/src/wasm" -I "$ROOT/src/wasm/wasi" -I "$ROOT/src/common" \
  "$HERE/startup.c" "$ROOT"/src/wasm/*.c "$ROOT"/src/wasm/wasi/*.c "$ROOT/src/common/util.c" \
  "$ROOT/src/common/error.c" -lm -o "$OUT/startup"
warm=$("$OUT/startup" "$OUT/hello.wasm" 1000)
cold=$("$OUT/startup" "$OUT/hello.wasm" 1)
/usr/bin/time -f "%M" -o "$OUT/rss0" "$OUT/startup" "$OUT/hello.wasm" 1 >/dev/null
echo "start-up in process (engine + WASI): warm ${warm%%,*}; cold ${cold%%,*};" \
  "process peak RSS $(awk '{printf "%.2f MB", $1 / 1024}' "$OUT/rss0")"

"$EDGECR" wasm run "$OUT/hello.wasm" >/dev/null
t0=$(date +%s%N)
for _ in $(seq "$STARTUP_RUNS"); do "$EDGECR" wasm run "$OUT/hello.wasm" >/dev/null; done
t1=$(date +%s%N)
for _ in $(seq "$STARTUP_RUNS"); do /bin/true; done
t2=$(date +%s%N)
/usr/bin/time -f "%M" -o "$OUT/rss" "$EDGECR" wasm run "$OUT/hello.wasm" >/dev/null
per=$(awk -v a="$t0" -v b="$t1" -v n="$STARTUP_RUNS" 'BEGIN{printf "%.3f", (b - a) / n / 1e6}')
base=$(awk -v a="$t1" -v b="$t2" -v n="$STARTUP_RUNS" 'BEGIN{printf "%.3f", (b - a) / n / 1e6}')
printf "start-up of the edgecr process (%d runs): %s ms per run (spawning /bin/true: %s ms), peak RSS %.2f MB\n" \
  "$STARTUP_RUNS" "$per" "$base" "$(awk '{print $1 / 1024}' "$OUT/rss")"
echo "reference: wasm3 0.9 ms / 2.2 MB; WAMR 1-6 ms / 2.3-10 MB. Target: < 0.6 ms, < 1.5 MB."
exit $status
