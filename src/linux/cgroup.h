/* cgroup.h - control groups on v1, v2 and hybrid hosts.
 *
 * The layout is discovered by scanning the cgroup root directory (default
 * /sys/fs/cgroup, or $EDGECR_CGROUP_ROOT so tests can point it at a
 * directory): a root with cgroup.controllers is pure v2; otherwise every
 * subdirectory holding cgroup.procs is a v1 hierarchy, and a `unified`
 * subdirectory with cgroup.controllers is the v2 part of a hybrid host.
 * Controllers live wherever the host put them: on a hybrid host a resource
 * is written to the v1 hierarchy of its controller if there is one, else to
 * the v2 hierarchy when it has that controller (hugetlb on this machine). */
#ifndef EDGECR_CGROUP_H
#define EDGECR_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

#define CGROUP_MAX_HIERARCHIES 24

struct cgroup_layout {
  char *root;
  bool v2_only;                          /* root itself is cgroup2 */
  char *unified;                         /* the v2 mount (root or root/unified), or NULL */
  char *v2_controllers;                  /* content of <unified>/cgroup.controllers */
  size_t n_v1;
  char *v1_names[CGROUP_MAX_HIERARCHIES];   /* "cpu", "memory", "name=systemd" ... */
  char *v1_mounts[CGROUP_MAX_HIERARCHIES];  /* absolute directory */
};

int cgroup_layout_get(struct cgroup_layout **out, edgecr_error_t *err);
const char *cgroup_mode_name(const struct cgroup_layout *l);

/* Resolve the container's cgroup path: absolute cgroupsPath as given,
 * relative ones below /edgecr, empty -> /edgecr/<id>; normalised (no "//",
 * "." or trailing "/"), and refused when it contains `..`, a component
 * longer than NAME_MAX, or names a hierarchy root or /edgecr itself.  With
 * systemd-style "slice:prefix:name" paths an error explains systemd is
 * absent. */
int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
                        edgecr_error_t *err);

/* Validate linux.resources without touching anything (field-path errors). */
int cgroup_resources_validate(const struct cgroup_layout *l, json_t *resources, const char *file,
                              edgecr_error_t *err);

/* Real-time budget needed by a process's scheduler policy: the explicit
 * linux.resources.cpu.realtimeRuntime/Period, else the default for
 * SCHED_FIFO/RR (EDGECR_RT_DEFAULT_RUNTIME_US per EDGECR_RT_DEFAULT_PERIOD_US). */
#define EDGECR_RT_DEFAULT_RUNTIME_US 100000
#define EDGECR_RT_DEFAULT_PERIOD_US 1000000

/* A container's cgroup record, kept in its state so that delete undoes
 * exactly what create did:
 *   "created": absolute directories edgecr made for it, outermost first in
 *              each hierarchy (also marked with the xattr CGROUP_MARK_XATTR,
 *              so a parent shared by several containers is removed by the
 *              last one out, whichever made it);
 *   "owned":   true once the leaf is known to be the container's: made by
 *              edgecr, or an existing group found empty;
 *   "pending": while cgroup_make runs, the directories that did not exist
 *              before it (so that a create killed between a mkdir and the
 *              next state update leaves nothing delete cannot remove).
 * Only the processes of an owned cgroup are ever signalled. */
#define CGROUP_MARK_XATTR "trusted.edgecr.created"
json_t *cgroup_record_new(void);
bool cgroup_owned(json_t *record);

/* Fill record's "pending" list: to be saved in the state before
 * cgroup_make. */
void cgroup_plan_dirs(const struct cgroup_layout *l, const char *path, json_t *record);
/* Make the container's directories in every hierarchy, recording each one
 * made in `record`.  An existing leaf that holds processes is refused (it
 * is someone else's); on error, what was made is removed again. */
int cgroup_make(const struct cgroup_layout *l, const char *path, json_t *record, edgecr_error_t *err);

/* Apply resources to the (made) cgroup and add pid (if > 0).
 * rt_grants (out) is a JSON array recording real-time bandwidth added to
 * ancestors, to be given back by cgroup_destroy. */
int cgroup_create(const struct cgroup_layout *l, const char *path, json_t *resources,
                  const struct oci_process *proc, pid_t pid, json_t **rt_grants, edgecr_error_t *err);
/* Device allow/deny rules (after the init has made its device nodes). */
int cgroup_apply_devices(const struct cgroup_layout *l, const char *path, json_t *resources, edgecr_error_t *err);
int cgroup_enter(const struct cgroup_layout *l, const char *path, pid_t pid, edgecr_error_t *err);
int cgroup_update(const struct cgroup_layout *l, const char *path, json_t *resources,
                  edgecr_error_t *err);
int cgroup_freeze(const struct cgroup_layout *l, const char *path, bool freeze, edgecr_error_t *err);
bool cgroup_is_frozen(const struct cgroup_layout *l, const char *path);
int cgroup_pids(const struct cgroup_layout *l, const char *path, pid_t **pids, size_t *n,
                edgecr_error_t *err);
/* Signal every process of an owned cgroup (and of groups nested in it);
 * refused for a cgroup that is not owned. */
int cgroup_signal_all(const struct cgroup_layout *l, const char *path, json_t *record, int sig,
                      edgecr_error_t *err);
/* Kill what is left of an owned cgroup, remove the directories the record
 * says edgecr made (innermost first, only when empty) and marked empty
 * ancestors, give rt bandwidth back.  Idempotent.  A NULL record (state
 * written by an edgecr before records) signals nothing and removes only an
 * empty leaf. */
int cgroup_destroy(const struct cgroup_layout *l, const char *path, json_t *record, json_t *rt_grants,
                   edgecr_error_t *err);
int cgroup_stats(const struct cgroup_layout *l, const char *path, json_t **out, edgecr_error_t *err);

#endif
