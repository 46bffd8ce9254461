#!/usr/bin/env bash
# bench/tenant-calls/run.sh - the cost of one tenant ABI call, measured as a
# loop inside a clang-built module (calls.c) under `edgecr wasm run
# --tenant-metadata` (the same engine, import resolution and Linux platform
# adapter a WebAssembly container uses; the metadata grants the clock, not
# the log).  RUNS repetitions; the median ns per call of each op, its
# difference to the empty host call (edgecr.abi_version) and the ratio.
# Target (issue 11): a permitted or denied call costs at most 100 ns more
# than an empty host call.  A permitted 16-byte kv get (calls_kv.c, its
# own module: LMDB under a temporary --kv-root) is measured when the build
# has the kv service; otherwise the table says it is not available.
#
#   EDGECR_BIN  binary to measure (default build/src/cli/edgecr)
#   RUNS        repetitions (default 7)
#   CALLS       calls per op and run (default 2000000)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EDGECR=${EDGECR_BIN:-$ROOT/build/src/cli/edgecr}
RUNS=${RUNS:-7}
CALLS=${CALLS:-2000000}
OUT=$(mktemp -d /tmp/edgecr-bench-tenant.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x "$EDGECR" ] || { echo "bench: $EDGECR not built" >&2; exit 1; }

clang --target=wasm32-wasi -O2 -I "$ROOT/include" "$HERE/calls.c" -o "$OUT/calls.wasm"
clang --target=wasm32-wasi -O2 -I "$ROOT/include" "$HERE/calls_kv.c" -o "$OUT/calls_kv.wasm"
cat >"$OUT/meta.yaml" <<YAML
id: bench
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: bench
permissions:
  clock:
  kv:
    - {namespace: bench, access: read-write, quota: 64KiB}
YAML
"$EDGECR" meta build "$OUT/meta.yaml" --module "$OUT/calls.wasm" -o "$OUT/meta.cbor"
"$EDGECR" meta build "$OUT/meta.yaml" --module "$OUT/calls_kv.wasm" -o "$OUT/meta_kv.cbor"
kv=1
for i in $(seq 1 "$RUNS"); do
  "$EDGECR" wasm run --tenant-metadata "$OUT/meta.cbor" "$OUT/calls.wasm" "$CALLS" >>"$OUT/results" 2>"$OUT/stderr" ||
    { cat "$OUT/stderr" >&2; exit 1; }
  if [ $kv = 1 ] && ! EDGECR_KV_ROOT="$OUT/kv" "$EDGECR" wasm run --tenant-metadata "$OUT/meta_kv.cbor" \
      "$OUT/calls_kv.wasm" "$CALLS" >>"$OUT/results" 2>"$OUT/stderr_kv"; then
    kv=0
    echo "kv not measured: $(head -c 300 "$OUT/stderr_kv")"
  fi
done
/usr/bin/python3 - "$OUT/results" "$RUNS" "$CALLS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    op, ns = line.split()
    runs.setdefault(op, []).append(float(ns))
med = {op: statistics.median(v) for op, v in runs.items()}
base = med["empty"]
names = {"loop": "loop alone (no call)", "empty": "empty host call (edgecr.abi_version)",
         "clock": "permitted edgecr.clock_now", "denied": "denied edgecr.log (no grant)",
         "wasi": "WASI clock_time_get", "kv": "permitted edgecr.kv_get (16 bytes)"}
print(f"tenant ABI per-call cost: median of {sys.argv[2]} runs x {sys.argv[3]} calls")
print(f"| {'call':38} | {'ns/call':>8} | {'- empty':>8} | {'/ empty':>8} |")
print(f"| {'-'*38} | {'-'*7}: | {'-'*7}: | {'-'*7}: |")
for op in ("loop", "empty", "clock", "denied", "wasi", "kv"):
    if op not in med:
        print(f"| {names[op]:38} | {'n/a':>8} | {'':>8} | {'':>8} |")
        continue
    print(f"| {names[op]:38} | {med[op]:8.1f} | {med[op]-base:+8.1f} | {med[op]/base:8.2f} |")
worst = max(med[op] for op in ("clock", "denied", "kv") if op in med) - base
print(f"target: permitted/denied <= empty + 100 ns: {'met' if worst <= 100 else 'NOT met'} (worst +{worst:.1f} ns)")
PY
