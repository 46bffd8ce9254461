#!/usr/bin/env bash
# bench/run-all.sh - every benchmark, one after the other (`make bench`).
# Benchmarks are never part of `make check`; each prints its own table with
# ratios to its anchors (crun/runc, native code, QEMU booting directly).
# Results measured by the developers are in docs/benchmarks.md.
set -uo pipefail
cd "$(dirname "$0")/.."
export EDGECR_BIN=${EDGECR_BIN:-$PWD/build/src/cli/edgecr}
export EDGECR_BUILD=${EDGECR_BUILD:-$PWD/build}
status=0
run() {
  echo
  echo "######## $*"
  "$@" || { echo "(benchmark failed: $*)"; status=1; }
}
run bash bench/runtime/run-bench.sh
run bash bench/wasm/run.sh
run bash bench/wasm-containers/run.sh
run bash bench/tenant-calls/run.sh
run bash bench/infer/run.sh
command -v qemu-system-arm >/dev/null && run bash bench/infer/m3/run.sh
run bash bench/plan/run.sh "$EDGECR_BUILD"
run bash bench/plan/assign.sh "$EDGECR_BUILD"
[ -x bench/plan/switch.sh ] && run bash bench/plan/switch.sh
run bash bench/remoteproc/qemu-direct.sh
run bash bench/remoteproc/backend.sh
run bash bench/ipc/run.sh
exit $status
