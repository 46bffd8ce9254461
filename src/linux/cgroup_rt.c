/* cgroup_rt.c - real-time group budgets (CONFIG_RT_GROUP_SCHED, the v1 cpu
 * controller): bandwidth lent to each ancestor and given back.
 *
 * What the kernel enforces (Documentation/scheduler/sched-rt-group.rst): a
 * group's cpu.rt_runtime_us per cpu.rt_period_us is granted on EACH CPU of
 * the group's tasks, and a parent refuses (EINVAL) children whose ratios
 * runtime/period sum above its own, up to the root's
 * sched_rt_runtime_us/sched_rt_period_us.  So the budgets of all groups of
 * the node share that one ratio however many cores they run on.  Without
 * CONFIG_RT_GROUP_SCHED (stock kernels) none of this exists: SCHED_FIFO
 * runs in any cgroup, bounded only by the global throttling per CPU. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "util.h"

/* The kernel releases a removed group's real-time bandwidth asynchronously
 * (after an RCU grace period and a work item), so for a moment after a
 * delete, raising or lowering a budget can be refused (EINVAL/EBUSY) though
 * the numbers add up.  Retry such writes for up to a second. */
int cg_write_rt(const char *dir, const char *f, long long v, edgecr_error_t *err)
{
  for (int i = 0;; i++) {
    edgecr_error_t e = NULL;
    if (cg_write_ll(dir, f, v, &e) == 0)
      return 0;
    int code = edgecr_error_errno(&e);
    if ((code != EINVAL && code != EBUSY) || i == 50) {
      if (err)
        *err = e;
      else
        edgecr_error_release(&e);
      return -1;
    }
    edgecr_error_release(&e);
    usleep(20000);
  }
}

/* Sum of the children's real-time runtimes of a cpu cgroup directory,
 * each scaled to the parent's period (rounded up, as the kernel checks
 * ratios). */
static long long rt_children_sum(const char *dir, long long period)
{
  long long sum = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)
      continue;
    cleanup_free char *child = xasprintf("%s/%s", dir, de->d_name);
    long long r = cg_read_ll(child, "cpu.rt_runtime_us"), p = cg_read_ll(child, "cpu.rt_period_us");
    if (r > 0 && p > 0)
      sum += (r * period + p - 1) / p;
  }
  closedir(d);
  return sum;
}

/* Give the leaf `runtime` us every `period` us.  Each ancestor we pass needs
 * at least as much bandwidth as it hands down, so it is raised first (top
 * down); what was added is recorded in `grants` for cgroup_destroy. */
int cg_rt_budget_apply(const struct cgroup_layout *l, const char *path, long long runtime, long long period,
                       bool explicit, json_t *grants, edgecr_error_t *err)
{
  const char *mount = l->v2_only ? NULL : cg_v1_mount(l, "cpu");
  /* No v1 cpu controller (pure v2), or a kernel without
   * CONFIG_RT_GROUP_SCHED: there are no group budgets to give, and
   * SCHED_FIFO needs none there.  A budget the config asked for by name is
   * not dropped in silence. */
  if (mount == NULL || cg_read_ll(mount, "cpu.rt_runtime_us") == -2) {
    if (explicit)
      log_warning("`linux.resources.cpu.realtimeRuntime` (%lld us every %lld us) not applied: this host has no "
                  "real-time group budgets (%s)", runtime, period,
                  mount == NULL ? "no cgroup v1 cpu controller" : "kernel without CONFIG_RT_GROUP_SCHED");
    return 0;
  }
  long long root_period = cg_read_ll(mount, "cpu.rt_period_us");
  cleanup_free char *rest = xstrdup(path);
  cleanup_free char *cur = xstrdup(mount);
  char *save = NULL;
  char *tok = strtok_r(rest, "/", &save);
  while (tok != NULL) {
    char *next = strtok_r(NULL, "/", &save);
    char *child = xasprintf("%s/%s", cur, tok);
    free(cur);
    cur = child;
    if (next == NULL)
      break;
    /* ancestor: it must hold what its children already have plus the
     * leaf's bandwidth, scaled to its own period (computed from the tree,
     * so bandwidth leaked by an earlier crash does not accumulate) */
    long long ap = cg_read_ll(cur, "cpu.rt_period_us");
    long long ar = cg_read_ll(cur, "cpu.rt_runtime_us");
    if (ap <= 0)
      ap = root_period;
    long long add = (runtime * ap + period - 1) / period;
    long long need = rt_children_sum(cur, ap) + add;
    if (need > ar && cg_write_rt(cur, "cpu.rt_runtime_us", need, err) < 0)
      return edgecr_error_wrap(err, "real-time budget: cannot raise `%s` from %lld to %lld us per %lld us "
                                    "(not enough real-time bandwidth left in its parent; see cpu.rt_runtime_us)",
                               cur + strlen(mount), ar, need, ap);
    json_t *g = json_object();
    json_object_set_new(g, "dir", json_string(cur));
    json_object_set_new(g, "add", json_integer(add));
    json_array_append_new(grants, g);
    tok = next;
  }
  if (cg_write_ll(cur, "cpu.rt_period_us", period, err) < 0)
    return edgecr_error_wrap(err, "real-time budget: set period %lld us", period);
  if (cg_write_rt(cur, "cpu.rt_runtime_us", runtime, err) < 0)
    return edgecr_error_wrap(err, "real-time budget: cannot give %lld us per %lld us to the container "
                                  "(the host's real-time bandwidth is exhausted: every group's runtime/period "
                                  "counts against kernel.sched_rt_runtime_us/sched_rt_period_us)", runtime, period);
  return 0;
}

/* Give bandwidth back: each ancestor edgecr raised is set to exactly what
 * its remaining children hold (bottom-up, the reverse of cg_rt_budget_apply).
 * Recomputing instead of subtracting also heals what a crash leaked. */
void cg_rt_budget_release(json_t *grants)
{
  for (size_t i = json_array_size(grants); i-- > 0;) {
    json_t *g = json_array_get(grants, i);
    const char *dir = json_string_value(json_object_get(g, "dir"));
    if (dir == NULL || access(dir, F_OK) < 0)
      continue;
    long long ap = cg_read_ll(dir, "cpu.rt_period_us");
    long long cur = cg_read_ll(dir, "cpu.rt_runtime_us");
    long long need = rt_children_sum(dir, ap > 0 ? ap : 1000000);
    if (cur > need && cg_write_rt(dir, "cpu.rt_runtime_us", need, NULL) < 0)
      log_warning("real-time budget: could not lower `%s` to %lld us", dir, need);
  }
}

bool cg_rt_groups_hidden(const char *mount)
{
  const char *env = getenv("EDGECR_RT_GROUP_SCHED");
  return env != NULL && strcmp(env, "0") == 0 && cg_file_exists(mount, "cpu.rt_runtime_us");
}

bool cg_wants_rt_budget(json_t *resources, const struct oci_process *proc, long long *runtime,
                            long long *period)
{
  json_t *cpu = json_object_get(resources, "cpu");
  json_t *r = json_object_get(cpu, "realtimeRuntime");
  json_t *p = json_object_get(cpu, "realtimePeriod");
  *period = json_is_integer(p) ? json_integer_value(p) : EDGECR_RT_DEFAULT_PERIOD_US;
  if (json_is_integer(r)) {
    *runtime = json_integer_value(r);
    return *runtime > 0;
  }
  if (proc != NULL && proc->scheduler.present &&
      (proc->scheduler.policy == 1 /* SCHED_FIFO */ || proc->scheduler.policy == 2 /* SCHED_RR */)) {
    *runtime = EDGECR_RT_DEFAULT_RUNTIME_US * *period / EDGECR_RT_DEFAULT_PERIOD_US;
    return true;
  }
  return false;
}

