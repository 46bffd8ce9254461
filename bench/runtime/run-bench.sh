#!/usr/bin/env bash
# Benchmark: `run` of a /bin/true container for edgecr, crun and runc on the
# same bundle, in one run, with a table and the ratios edgecr/crun and
# edgecr/runc.  All three run inside one private mount namespace with
# /sys/fs/cgroup/unified unmounted: crun refuses this host's hybrid cgroup
# layout otherwise, and the same conditions must hold for all.
#
# usage: bench/runtime/run-bench.sh [-n RUNS] [--json FILE]
#   EDGECR_BIN  edgecr binary (default build/src/cli/edgecr)
#   CRUN_BIN, RUNC_BIN  override the Debian binaries
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
edgecr=${EDGECR_BIN:-$repo/build/src/cli/edgecr}
crun=${CRUN_BIN:-$(command -v crun || echo /usr/bin/crun)}
runc=${RUNC_BIN:-$(command -v runc || echo /usr/sbin/runc)}
[ "$(id -u)" -eq 0 ] || { echo "run-bench: needs root (namespaces, cgroups)" >&2; exit 1; }
py=/usr/bin/python3
work=$(mktemp -d /tmp/edgecr-bench-spawn.XXXXXX)
trap 'rm -rf "$work"' EXIT
# static, so the helper's own pre-exec memory (counted in ru_maxrss) is tiny
gcc -O2 -static -o "$work/spawn" "$here/spawn.c" 2>/dev/null ||
  gcc -O2 -o "$work/spawn" "$here/spawn.c"
unshare -m --propagation private -- sh -c '
  if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
  exec "$@"' sh \
  "$py" "$here/bench.py" --spawn "$work/spawn" "$@" \
  "edgecr=$edgecr" "crun=$crun" "runc=$runc"
