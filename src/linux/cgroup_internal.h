/* cgroup_internal.h - what the cgroup_*.c files share and nothing else
 * includes: where a controller lives, control file reading/writing, the
 * walk over every hierarchy, and the pieces cgroup_create() is made of. */
#ifndef EDGECR_CGROUP_INTERNAL_H
#define EDGECR_CGROUP_INTERNAL_H

#include "cgroup.h"

bool cg_file_exists(const char *dir, const char *name);
/* A control file's content without the trailing newline/blanks; NULL on error. */
char *cg_read_trimmed(const char *path);
/* The mount of the v1 hierarchy holding ctrl, or NULL. */
const char *cg_v1_mount(const struct cgroup_layout *l, const char *ctrl);
bool cg_v2_has(const struct cgroup_layout *l, const char *ctrl);
/* Directory of `path` in the hierarchy holding `ctrl` (NULL if none); *is_v2 says which. */
char *cg_ctrl_dir(const struct cgroup_layout *l, const char *ctrl, const char *path, bool *is_v2);
/* Integer control file: its value, or -2 when missing or not a number. */
long long cg_read_ll(const char *dir, const char *f);
int cg_write_ll(const char *dir, const char *f, long long v, edgecr_error_t *err);
/* The directory whose cgroup.procs lists the container's processes. */
char *cg_procs_dir(const struct cgroup_layout *l, const char *path);
/* Processes of the group at dir and the groups nested in it. */
int cg_dir_pids(const char *dir, pid_t **pids, size_t *n);
/* SIGKILL every member of an owned cgroup, wait until it is empty; -1 if it is not. */
int cg_kill_members(const struct cgroup_layout *l, const char *path);
/* Call fn for `path` in every hierarchy (v1 ones, then the v2 one). */
int cg_for_each_dir(const struct cgroup_layout *l, const char *path,
                    int (*fn)(const char *mount, const char *dir, bool v2, void *ud), void *ud);

/* Resources (cgroup_resources.c): the limits part of linux.resources. */
int cg_apply_limits(const struct cgroup_layout *l, const char *path, json_t *resources, edgecr_error_t *err);

/* Real-time budgets (cgroup_rt.c). */
int cg_write_rt(const char *dir, const char *f, long long v, edgecr_error_t *err);
bool cg_wants_rt_budget(json_t *resources, const struct oci_process *proc, long long *runtime, long long *period);
/* explicit: the config named realtimeRuntime (warned about where budgets do not exist). */
int cg_rt_budget_apply(const struct cgroup_layout *l, const char *path, long long runtime, long long period,
                       bool explicit, json_t *grants, edgecr_error_t *err);
void cg_rt_budget_release(json_t *grants);
/* EDGECR_RT_GROUP_SCHED=0 (the tests' second mode): behave as on a kernel
 * without CONFIG_RT_GROUP_SCHED.  True for the v1 hierarchy at `mount`
 * when it holds the real-time group files, which the layout then leaves
 * out: containers stay in the root real-time group, as on a stock kernel. */
bool cg_rt_groups_hidden(const char *mount);

#endif
