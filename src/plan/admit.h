/* admit.h - tenants and the plan analysis (docs/tenants.md, "Schedule and
 * activations"): a tenant's signed schedule as a plan container's
 * real-time requirements, and whether a running tenant may take a new
 * schedule without making the node's admitted real-time load
 * unschedulable (for `edgecr update --metadata`). */
#ifndef EDGECR_PLAN_ADMIT_H
#define EDGECR_PLAN_ADMIT_H

#include <stdbool.h>

#include "meta.h"
#include "model.h"

/* A container whose bundle is a WebAssembly tenant (annotation
 * org.edgecr.tenant.metadata): `rt` from its signed schedule, or -1 with
 * *why when the plan's own `rt` differs.  tenant_rt.c. */
int plan_tenant_rt(struct plan_container *c, char **why);

/* The requirements a schedule means, as the runtime schedules a tenant
 * (src/wasm-backend/wasm_sched.c): fixed-priority at its priority, else a
 * deadline reservation; false without a period and a budget.  tenant_rt.c. */
bool plan_tenant_schedule_rt(const struct tenant_schedule *s, struct plan_rt *rt);

/* The metadata file `file` (a path in the container) beneath `rootfs`,
 * decoded (not verified: create verifies) into m.  0, or -1 with *why
 * (malloc'd).  tenant_rt.c. */
int plan_tenant_load(const char *rootfs, const char *file, struct tenant_meta *m, char **why);

/* May container `id` of the state root take schedule `next`?  The node's
 * admitted real-time load is every live container of the state root that
 * runs real-time: a tenant by its metadata's schedule, a SCHED_DEADLINE
 * container by its reservation, a SCHED_FIFO/RR one by its cgroup
 * real-time budget (the most it can take: runtime every period, at its
 * priority); with `id`'s schedule replaced by `next`, the plan analysis
 * must find it schedulable on this node (its CPUs, its
 * kernel.sched_rt_runtime_us / sched_rt_period_us), with the cores
 * assigned as a plan would.  0, or -1 with *why (malloc'd): the reason in
 * words (the analysis' first failures).  admit.c. */
int plan_admit_schedule(const char *state_root, const char *id, const struct tenant_schedule *next, char **why);

#endif
