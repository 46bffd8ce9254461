#!/usr/bin/env bash
# cgroup2_only.sh CMD [ARGS...]: run CMD in a private mount namespace whose
# /sys/fs/cgroup shows only the cgroup2 hierarchy: the layout of a default
# Debian 12 install, whatever this host mounts there (v1, hybrid or v2).
#
# The namespace is private, so nothing here is visible to the host and it
# all goes away with CMD: the host's own cgroup mounts are untouched.  The
# cgroup2 hierarchy mounted here is the host's one (there is only one per
# kernel), with whatever controllers v2 has on this host: on a hybrid host
# the controllers bound to v1 hierarchies cannot appear in v2, so the suites
# probe which controllers exist (tests/lib/hostprobe.py) and assert
# accordingly.  Sets EDGECR_TEST_CGROUP_VIEW=cgroup2-only for the record.
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [ "${EDGECR_TEST_CGROUP_VIEW:-}" = cgroup2-only ] && [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  exec "$@"  # already inside such a view
fi
export EDGECR_TEST_CGROUP_VIEW=cgroup2-only
# The inner script runs as root in the new namespace; $0 there is "inner".
exec unshare --mount --propagation private -- /bin/bash -c '
  set -euo pipefail
  # Whatever is mounted at and below /sys/fs/cgroup (v1 hierarchies, a
  # tmpfs, a hybrid cgroup2 at unified/) leaves this namespace only.
  if mountpoint -q /sys/fs/cgroup; then
    umount -R /sys/fs/cgroup 2>/dev/null || umount -R -l /sys/fs/cgroup
  fi
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
  exec "$@"' inner "$@"
