/* idmap.h - id-mapped bind mounts (mounts[].uidMappings/gidMappings,
 * options idmap/ridmap), prepared by the runtime before the init exists. */
#ifndef EDGECR_IDMAP_H
#define EDGECR_IDMAP_H

#include <sys/types.h>

#include "config.h"
#include "error.h"

/* Writes n mappings to /proc/PID/FILE (uid_map or gid_map): the container's
 * user namespace, and the one an id-mapped mount borrows. */
int idmap_write_proc_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                         edgecr_error_t *err);

/* For every id-mapped mount: a detached, id-mapped clone of its source in
 * m->idmap_fd (close-on-exec; the init inherits it and moves it into
 * place).  On failure every fd made so far is closed. */
int idmap_prepare_mounts(struct oci_config *c, edgecr_error_t *err);
void idmap_close_mounts(struct oci_config *c);
/* Init side: attach the prepared mount on target (then closes the fd). */
int idmap_attach(const struct oci_mount *m, const char *target, edgecr_error_t *err);

#endif
