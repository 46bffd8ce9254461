/* dl_limits.h - the parameters the kernel accepts for SCHED_DEADLINE
 * (sched_setattr, __checkparam_dl in kernel/sched/deadline.c;
 * Documentation/scheduler/sched-deadline.rst):
 *   runtime >= 2^10 ns (DL_SCALE), runtime <= deadline <= period,
 *   deadline and period below 2^63 ns, and the period within the sysctls
 *   kernel.sched_deadline_period_min_us (default 100) and
 *   kernel.sched_deadline_period_max_us (default 4194304, ~4.19 s).
 * Anything else is EINVAL at start.  `plan check` (off-device) uses the
 * defaults, `plan apply` the node's values. */
#ifndef EDGECR_PLAN_DL_LIMITS_H
#define EDGECR_PLAN_DL_LIMITS_H

#include <stdint.h>

#include "error.h"

#define PLAN_DL_RUNTIME_MIN_NS 1024LL
#define PLAN_DL_PERIOD_MIN_US_DEFAULT 100LL
#define PLAN_DL_PERIOD_MAX_US_DEFAULT 4194304LL

struct plan_dl_limits {
  int64_t period_min_ns, period_max_ns;
  const char *origin; /* "the kernel's default" or "this node's" (for messages) */
};

void plan_dl_limits_default(struct plan_dl_limits *l);
/* The node's sysctls from `dir` (normally /proc/sys/kernel); a missing file
 * keeps the default (kernels without SCHED_DEADLINE sysctls). */
int plan_dl_limits_read(const char *dir, struct plan_dl_limits *l, edgecr_error_t *err);

enum plan_dl_field { PLAN_DL_OK, PLAN_DL_BUDGET, PLAN_DL_DEADLINE, PLAN_DL_PERIOD };

/* Check runtime/deadline/period (ns, as given to the kernel).  Returns the
 * offending field and *why (allocated, in words), or PLAN_DL_OK. */
enum plan_dl_field plan_dl_check(const struct plan_dl_limits *l, int64_t runtime, int64_t deadline, int64_t period,
                                 char **why);

/* Does this machine give SCHED_FIFO containers cgroup real-time budgets
 * (CONFIG_RT_GROUP_SCHED, seen through the v1 cpu hierarchy's
 * cpu.rt_runtime_us, as the runtime sees it)?  1 yes, 0 no.
 * EDGECR_RT_GROUP_SCHED=0 makes it (and the runtime) behave as on a
 * kernel without them: the tests run the real-time suite in both modes. */
int plan_node_rt_groups(void);

#endif
