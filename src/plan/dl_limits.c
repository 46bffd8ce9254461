/* dl_limits.c - the kernel's SCHED_DEADLINE parameter rules (dl_limits.h). */
#include "dl_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

void plan_dl_limits_default(struct plan_dl_limits *l)
{
  *l = (struct plan_dl_limits){PLAN_DL_PERIOD_MIN_US_DEFAULT * 1000, PLAN_DL_PERIOD_MAX_US_DEFAULT * 1000,
                               "the kernel's default"};
}

static int read_us(const char *dir, const char *name, int64_t *ns, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "read `%s`", path);
  long long us = -1;
  int n = fscanf(f, "%lld", &us);
  fclose(f);
  if (n != 1 || us < 0)
    return edgecr_error_make(err, 0, "`%s`: not a number of microseconds", path);
  *ns = us * 1000;
  return 0;
}

int plan_dl_limits_read(const char *dir, struct plan_dl_limits *l, edgecr_error_t *err)
{
  plan_dl_limits_default(l);
  l->origin = "this node's";
  if (read_us(dir, "sched_deadline_period_min_us", &l->period_min_ns, err) < 0 ||
      read_us(dir, "sched_deadline_period_max_us", &l->period_max_ns, err) < 0)
    return -1;
  return 0;
}

enum plan_dl_field plan_dl_check(const struct plan_dl_limits *l, int64_t runtime, int64_t deadline, int64_t period,
                                 char **why)
{
  char a[32], b[32];
  *why = NULL;
  if (runtime < PLAN_DL_RUNTIME_MIN_NS) {
    *why = xasprintf("a deadline reservation's budget must be at least 1.024us (the kernel refuses a "
                     "SCHED_DEADLINE runtime under 2^10 ns), not %s", plan_format_duration(runtime, a, sizeof a));
    return PLAN_DL_BUDGET;
  }
  if (deadline < runtime || deadline <= 0 || deadline >= INT64_MAX) {
    *why = xasprintf("the kernel needs budget <= deadline - jitter <= period for SCHED_DEADLINE (deadline given "
                     "to the kernel: %s)", plan_format_duration(deadline, a, sizeof a));
    return PLAN_DL_DEADLINE;
  }
  if (period < deadline || period >= INT64_MAX) {
    *why = xasprintf("the kernel needs deadline <= period for SCHED_DEADLINE");
    return PLAN_DL_PERIOD;
  }
  if (period > l->period_max_ns) {
    *why = xasprintf("%s exceeds %s longest SCHED_DEADLINE period %s (sched_deadline_period_max_us = %lld)",
                     plan_format_duration(period, a, sizeof a), l->origin,
                     plan_format_duration(l->period_max_ns, b, sizeof b), (long long) (l->period_max_ns / 1000));
    return PLAN_DL_PERIOD;
  }
  if (period < l->period_min_ns) {
    *why = xasprintf("%s is shorter than %s shortest SCHED_DEADLINE period %s (sched_deadline_period_min_us = %lld)",
                     plan_format_duration(period, a, sizeof a), l->origin,
                     plan_format_duration(l->period_min_ns, b, sizeof b), (long long) (l->period_min_ns / 1000));
    return PLAN_DL_PERIOD;
  }
  return PLAN_DL_OK;
}

int plan_node_rt_groups(void)
{
  const char *env = getenv("EDGECR_RT_GROUP_SCHED");
  if (env && strcmp(env, "0") == 0)
    return 0;
  /* The runtime's view: a v1 hierarchy with the cpu controller whose root
   * shows the real-time files (without a v1 cpu hierarchy, as on pure
   * cgroup v2, there is no interface for group budgets at all). */
  static const char *const roots[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", NULL};
  for (size_t i = 0; roots[i]; i++) {
    cleanup_free char *p = xasprintf("%s/cpu.rt_runtime_us", roots[i]);
    if (access(p, F_OK) == 0)
      return 1;
  }
  return 0;
}
