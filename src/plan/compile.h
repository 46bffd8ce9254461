/* compile.h - turn a checked configuration into a plan: the resolved,
 * device-ready settings of every container (core, cpuset, SCHED_FIFO
 * priority or SCHED_DEADLINE reservation, cgroup real-time budget, memory,
 * capabilities, device rules, start order).  The plan is JSON; its schema
 * is in docs/plan.md.  The repository (repo.h) adds each container's
 * content checksum and stores it. */
#ifndef EDGECR_PLAN_COMPILE_H
#define EDGECR_PLAN_COMPILE_H

#include <jansson.h>

#include "analysis.h"
#include "model.h"

#define PLAN_FORMAT_VERSION 1

/* Returns a new plan object, or NULL with err (start order cycle). */
json_t *plan_compile(const struct plan_config *c, const struct plan_analysis *a, edgecr_error_t *err);

#endif
