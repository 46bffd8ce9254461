#!/usr/bin/env bash
# bench/infer/run.sh - int8 inference, the same models three ways:
#   service  edgecr's `infer` host service called from a tenant: the guest
#            tests/infer/guests/infer_guest.c (clang, wasm32) under `edgecr
#            wasm run --tenant-metadata` calls edgecr_infer in a loop timed
#            with edgecr_clock_now (plan cached after the first call)
#   native   for reference, the library alone in a native program
#            (bench_infer.c linked with build/src/infer/libedgecr-infer.a)
#   wasm     the same kernels (src/infer + bench_infer.c) compiled with clang
#            for wasm32-wasi and run by `edgecr wasm run`: what a tenant pays
#            computing the model itself
#   armnn    Arm NN's TfLiteParser on CpuRef (python3-pyarmnn, /usr/bin/python3)
# Prints the time per inference of each (best of 5 batches of >= BENCH_MIN_MS),
# the ratios wasm/service and armnn/service (targets: >= 10x, > 1x), and
# whether the outputs agree (service, native and wasm: same checksum, else the script
# fails; Arm NN: `same` or its largest difference in LSB, docs/tinyml.md says
# which ops round differently).  Not a test: never run by `make check`.
#
#   EDGECR_BIN    binary to measure (default build/src/cli/edgecr)
#   BENCH_MIN_MS  minimum length of a batch in ms (default 200)
#   BENCH_ONLY    space-separated subset of the models
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EDGECR=${EDGECR_BIN:-$ROOT/build/src/cli/edgecr}
BUILD=${EDGECR_BUILD:-$ROOT/build}
MIN_MS=${BENCH_MIN_MS:-200}
MODELS=${BENCH_ONLY:-"mlp kws_cnn fc_1024 conv_3x3 cnn_vww"}
OUT=$(mktemp -d /tmp/edgecr-bench-infer.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

[ -x "$EDGECR" ] && [ -f "$BUILD/src/infer/libedgecr-infer.a" ] ||
  { echo "bench: $EDGECR or $BUILD/src/infer/libedgecr-infer.a not built (make build)" >&2; exit 1; }
/usr/bin/python3 "$HERE/gen_bench_models.py" "$OUT"
cc -std=c11 -O2 -I "$ROOT/src/infer" "$HERE/bench_infer.c" "$BUILD/src/infer/libedgecr-infer.a" \
  -o "$OUT/bench_native" -lm
clang --target=wasm32-wasi -O2 -I "$ROOT/include" "$ROOT/tests/infer/guests/infer_guest.c" -o "$OUT/guest.wasm"
cat >"$OUT/meta.yaml" <<EOM
id: bench-infer
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: dev
permissions:
  clock:
  infer: {model-size: 1048576, compute: 1s}
EOM
"$EDGECR" meta build "$OUT/meta.yaml" --module "$OUT/guest.wasm" -o "$OUT/meta.cbor" >/dev/null
# the same sources with clang -O3 (the level the library gets on the host; the
# engine has no SIMD).  (The engine once trapped on -O1/-O2/-Os builds of an
# earlier conv kernel: fixed, tests/wasm/c/conv_acc.c.)
clang --target=wasm32-wasi -std=c11 -O3 -I "$ROOT/src/infer" "$ROOT"/src/infer/fb.c "$ROOT"/src/infer/plan.c \
  "$ROOT"/src/infer/kernels.c "$HERE/bench_infer.c" -o "$OUT/bench.wasm" -lm
have_armnn=1
/usr/bin/python3 -c 'import pyarmnn' 2>/dev/null || have_armnn=""

# field NAME LINE: the value after NAME in a "k v k v" line
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$2"; }
us() { awk -v n="$1" 'BEGIN{printf "%.1f", n / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a / b}'; }

status=0
printf "%-9s %9s %11s %10s %10s %10s %9s %9s  %s\n" model MACs "service us" "native us" "wasm us" \
  "armnn us" wasm/svc armnn/svc "output check"
for m in $MODELS; do
  model=$OUT/$m.tflite in=$OUT/$m.in.bin
  n=$("$OUT/bench_native" "$model" "$in" "$MIN_MS" "$OUT/$m.out")
  olen=$(stat -c %s "$OUT/$m.out")
  t=$("$EDGECR" wasm run --tenant-metadata "$OUT/meta.cbor" --dir "$OUT" "$OUT/guest.wasm" "$model" "$in" \
      "$olen" bench "$MIN_MS")
  w=$("$EDGECR" wasm run --dir "$OUT" "$OUT/bench.wasm" "$model" "$in" "$MIN_MS")
  check="wasm $( [ "$(field out "$n")" = "$(field out "$w")" ] && echo same || echo MISMATCH)"
  check="$check, service $( [ "$(field out "$n")" = "$(field out "$t")" ] && [ "$(field bench "$t")" = 0 ] &&
    echo same || echo MISMATCH)"
  [[ $check == *MISMATCH* ]] && status=1
  svc=$(field run_ns "$t")
  a_us=- a_ratio=-
  if [ -n "$have_armnn" ]; then
    a=$(/usr/bin/python3 "$HERE/armnn_bench.py" "$model" "$in" "$MIN_MS" "$OUT/$m.out" 2>/dev/null)
    a_us=$(us "$(field run_ns "$a")") a_ratio=$(ratio "$(field run_ns "$a")" "$svc")x
    check="$check, armnn ${a#* runs * }"
  fi
  printf "%-9s %9s %11s %10s %10s %10s %9s %9s  %s\n" "$m" "$(field work "$n")" "$(us "$svc")" \
    "$(us "$(field run_ns "$n")")" "$(us "$(field run_ns "$w")")" "$a_us" "$(ratio "$(field run_ns "$w")" "$svc")x" \
    "$a_ratio" "$check"
done
[ -n "$have_armnn" ] || echo "(Arm NN: python3-pyarmnn not installed, column skipped)"
echo "targets: service >= 10x faster than wasm, faster than Arm NN CpuRef"
exit $status
