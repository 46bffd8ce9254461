/* runconfig.h - the runtime side of a plan: the config.json a container
 * of the plan runs with.
 *
 * A plan entry (src/plan/compile.c) says how a container must run: its
 * scheduling policy, cgroup real-time budget, cores, memory limit, devices,
 * capabilities and rlimits.  The bundle in the plan's checkout says what it
 * runs.  plan_runtime_config() merges the two into a new OCI config, so the
 * lifecycle enforces the plan with no hand tuning; the checkout (hard links
 * into the plan repository) is never written: the result lives in a
 * generated bundle directory whose root.path points at the checked-out
 * rootfs.  The mapping is documented in docs/plan.md (section 5). */
#ifndef EDGECR_PLAN_RUNCONFIG_H
#define EDGECR_PLAN_RUNCONFIG_H

#include <jansson.h>

#include "error.h"

/* Where the container sees its rt.h page (EDGECR_RT_SHM): a file in a
 * small tmpfs the generated config mounts, so nothing is created in the
 * checked-out rootfs beyond the mount point directories. */
#define PLAN_RT_DIR_IN_CONTAINER "/run/edgecr"
#define PLAN_RT_PAGE_IN_CONTAINER "/run/edgecr/rt.page"
/* Parent of every plan container's cgroup. */
#define PLAN_CGROUP_PARENT "/edgecr-plan"

/* Build the config for plan entry `entry` from `<bundle>/config.json`.
 * `rt_page` is the host path of the container's rt page (bind-mounted at
 * PLAN_RT_PAGE_IN_CONTAINER), NULL for none.  Device nodes are looked up on
 * the host (type, major, minor).  *out: a new JSON object. */
int plan_runtime_config(const json_t *entry, const char *bundle, const char *rt_page, json_t **out,
                        edgecr_error_t *err);

/* Write the generated bundle: DIR/config.json (durably replaced, never
 * written in place).  DIR is created. */
int plan_runtime_bundle_write(const char *dir, const json_t *config, edgecr_error_t *err);

/* Create (or reset to zeros) the 4 KiB rt page at `path` (its directory is
 * created).  A zero page is shown by the monitor as "not started". */
int plan_rt_page_create(const char *path, edgecr_error_t *err);

#endif
