/* mounts.h - building the container's filesystem view inside its mount
 * namespace: rootfs propagation, the configured mounts, device nodes,
 * pivot_root, masked and read-only paths. Runs in the container init. */
#ifndef EDGECR_MOUNTS_H
#define EDGECR_MOUNTS_H

#include <stdbool.h>

#include "cgroup.h"
#include "config.h"
#include "error.h"

/* Runs in the runtime, before the init is cloned: for a container with a
 * user namespace and its own mount namespace, detached copies
 * (open_tree(OPEN_TREE_CLONE)) of the bind sources, one per mount (-1 for
 * others or on failure); NULL otherwise.  Opened by the host's root, so
 * sources that only it can reach still mount once the init is the user
 * namespace's root.  mounts_close_bind_sources closes them (in both
 * processes: they lead outside the container's root). */
int *mounts_open_bind_sources(const struct oci_config *c);
void mounts_close_bind_sources(const struct oci_config *c, int *fds);
/* Everything up to (not including) pivot_root.  in_userns selects
 * bind-mounted device nodes instead of mknod; source_fds (or NULL) are
 * from mounts_open_bind_sources. */
int mounts_setup_rootfs(const struct oci_config *c, const struct cgroup_layout *l, const char *cgroup_path,
                        bool in_userns, const int *source_fds, edgecr_error_t *err);
/* pivot_root (or MS_MOVE + chroot with no_pivot) into the rootfs. */
int mounts_enter_rootfs(const struct oci_config *c, bool no_pivot, edgecr_error_t *err);
/* After pivot: masked paths, read-only paths, read-only root, propagation. */
int mounts_finalize(const struct oci_config *c, edgecr_error_t *err);

/* Join `unsafe` below `root`, resolving symlinks as if root were "/".
 * The result never leaves root. */
char *secure_join(const char *root, const char *unsafe);

#endif
