#!/usr/bin/env bash
# Benchmark: a WASI hello-world container vs a Linux /bin/true container
# (same bundle settings), edgecr and crun; see bench.py.  Runs in a private
# mount namespace with /sys/fs/cgroup/unified unmounted, as
# bench/runtime/run-bench.sh does, so that crun works on a hybrid host.
#
# usage: bench/wasm-containers/run.sh [-n RUNS] [--json FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
edgecr=${EDGECR_BIN:-$repo/build/src/cli/edgecr}
[ "$(id -u)" -eq 0 ] || { echo "wasm-containers bench: needs root" >&2; exit 1; }
command -v clang >/dev/null || { echo "wasm-containers bench: needs clang (wasm32-wasi)" >&2; exit 1; }
work=$(mktemp -d /tmp/edgecr-bench-wasmc.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -static -o "$work/spawn" "$repo/bench/runtime/spawn.c" 2>/dev/null ||
  gcc -O2 -o "$work/spawn" "$repo/bench/runtime/spawn.c"
unshare -m --propagation private -- sh -c '
  if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
  exec "$@"' sh \
  /usr/bin/python3 "$here/bench.py" --spawn "$work/spawn" --edgecr "$edgecr" "$@"
