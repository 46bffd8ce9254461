/* admit.c - may a running tenant take a new schedule?  (admit.h; for
 * `edgecr update --metadata`, docs/tenants.md "Schedule and activations").
 *
 * The node's admitted real-time load is read from the runtime's state root
 * (every container whose process is alive), turned into a plan
 * configuration in memory (one node: this machine's CPUs, all of them
 * real-time, its kernel real-time throttling ratio) and judged by the same
 * analysis as `plan check`, with the tenant's schedule replaced.  A
 * SCHED_FIFO container that is not a tenant has no known execution time;
 * its cgroup real-time budget is the most it can take, so it counts as a
 * task of that budget and period (pessimistic, never optimistic).  The
 * cores are assigned as a plan does (the containers are not pinned by
 * edgecr), so "schedulable" means a partitioned placement exists.
 *
 * Linkable into the static runtime binary (libedgecr-plan-analysis: the
 * analysis without the plan's YAML loader, repository or reports), where
 * `edgecr update --metadata` runs. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "analysis.h"
#include "util.h"

#define BACKEND_RT_RUNTIME_US 100000 /* the runtime's default budget for SCHED_FIFO (src/linux/cgroup.h) */
#define BACKEND_RT_PERIOD_US 1000000

static long long read_ll(const char *path, long long dflt)
{
  cleanup_free char *buf = NULL;
  edgecr_error_t err = NULL;
  if (read_all_file(path, &buf, &err) < 0) {
    edgecr_error_release(&err);
    return dflt;
  }
  return strtoll(buf, NULL, 10);
}

static bool alive(json_t *state)
{
  json_int_t pid = json_integer_value(json_object_get(state, "pid"));
  return pid > 0 && (kill((pid_t) pid, 0) == 0 || errno == EPERM);
}

static json_int_t int_at(json_t *o, const char *key)
{
  return json_integer_value(json_object_get(o, key));
}

/* The requirements of a container that is not a tenant, from the copy of
 * its config.json in the state directory; false when it is not real-time. */
static bool config_rt(json_t *cfg, struct plan_rt *rt)
{
  json_t *sched = json_object_get(json_object_get(cfg, "process"), "scheduler");
  const char *policy = json_string_value(json_object_get(sched, "policy"));
  if (policy == NULL)
    return false;
  *rt = (struct plan_rt){.core = -1};
  if (strcmp(policy, "SCHED_DEADLINE") == 0) {
    rt->policy = PLAN_POLICY_DEADLINE;
    rt->budget = int_at(sched, "runtime");
    rt->period = int_at(sched, "period") ? int_at(sched, "period") : int_at(sched, "deadline");
    rt->deadline = int_at(sched, "deadline") ? int_at(sched, "deadline") : rt->period;
    return rt->budget > 0 && rt->period > 0;
  }
  if (strcmp(policy, "SCHED_FIFO") != 0 && strcmp(policy, "SCHED_RR") != 0)
    return false;
  json_t *cpu = json_object_get(json_object_get(json_object_get(cfg, "linux"), "resources"), "cpu");
  json_int_t r = int_at(cpu, "realtimeRuntime"), p = int_at(cpu, "realtimePeriod");
  p = p > 0 ? p : BACKEND_RT_PERIOD_US;
  r = r > 0 ? r : BACKEND_RT_RUNTIME_US * p / BACKEND_RT_PERIOD_US;
  rt->policy = PLAN_POLICY_FP;
  rt->priority = (int) int_at(sched, "priority");
  rt->period = rt->deadline = p * 1000;
  rt->budget = r * 1000 < rt->period ? r * 1000 : rt->period;
  return true;
}

/* The real-time requirements of the container in state directory `dir`
 * (1), none (0), or -1 with *why. */
static int container_rt(const char *dir, json_t *state, struct plan_rt *rt, char **why)
{
  cleanup_free char *cfg_path = xasprintf("%s/config.json", dir);
  json_error_t je;
  json_t *cfg = json_load_file(cfg_path, 0, &je);
  if (cfg == NULL)
    return 0;
  const char *file = json_string_value(json_object_get(json_object_get(state, "annotations"),
                                                       "org.edgecr.tenant.metadata"));
  const char *rootfs = json_string_value(json_object_get(state, "rootfs"));
  int rc;
  if (file != NULL && rootfs != NULL) {
    struct tenant_meta m;
    rc = plan_tenant_load(rootfs, file, &m, why) < 0 ? -1 : m.has_schedule && plan_tenant_schedule_rt(&m.schedule, rt);
  } else {
    rc = config_rt(cfg, rt);
  }
  json_decref(cfg);
  return rc;
}

static void add(struct plan_config *c, const char *name, const struct plan_rt *rt)
{
  c->containers = xrealloc(c->containers, (c->n + 1) * sizeof *c->containers);
  c->containers[c->n++] = (struct plan_container){.name = xstrdup(name), .image = xstrdup(name), .has_rt = true,
                                                   .rt = *rt, .memlock = 0};
}

/* The node and its live real-time containers, `id` with `next`. */
static int node_config(const char *state_root, const char *id, const struct plan_rt *next, struct plan_config *c,
                       char **why)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  c->node.cores = cpus < 1 ? 1 : cpus > PLAN_MAX_CORES ? PLAN_MAX_CORES : (int) cpus;
  for (int k = 0; k < c->node.cores; k++)
    c->node.rt_core[k] = true;
  c->node.rt_runtime_us = read_ll("/proc/sys/kernel/sched_rt_runtime_us", 950000);
  c->node.rt_period_us = read_ll("/proc/sys/kernel/sched_rt_period_us", 1000000);
  if (c->node.rt_runtime_us < 0) /* -1: no throttling */
    c->node.rt_runtime_us = c->node.rt_period_us;
  if (next != NULL)
    add(c, id, next);
  DIR *d = opendir(state_root);
  if (d == NULL)
    return 0; /* no state root yet: nothing else runs */
  struct dirent *de;
  int rc = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, id) == 0)
      continue;
    cleanup_free char *dir = xasprintf("%s/%s", state_root, de->d_name);
    cleanup_free char *state_path = xasprintf("%s/state.json", dir);
    json_error_t je;
    json_t *state = json_load_file(state_path, 0, &je);
    struct plan_rt rt;
    int has = state != NULL && alive(state) ? container_rt(dir, state, &rt, why) : 0;
    if (has < 0) {
      char *inner = *why;
      *why = xasprintf("container `%s`: %s", de->d_name, inner);
      free(inner);
      rc = -1;
    } else if (has > 0) {
      add(c, de->d_name, &rt);
    }
    json_decref(state);
  }
  closedir(d);
  return rc;
}

static char *join(char *s, const char *w)
{
  char *t = s ? xasprintf("%s; %s", s, w) : xstrdup(w);
  free(s);
  return t;
}

/* The analysis' failures in words: what `plan check` lists, at most three. */
static char *failures(const struct plan_analysis *a)
{
  char *s = NULL;
  int n = 0;
  if (a->problem)
    s = join(s, a->problem), n++;
  for (int k = 0; k < a->n_cores && n < 3; k++)
    if (a->cores[k].reason)
      s = join(s, a->cores[k].reason), n++;
  if (a->dl.reason && n < 3)
    s = join(s, a->dl.reason), n++;
  for (size_t i = 0; i < a->n && n < 3; i++)
    if (a->tasks[i].reason)
      s = join(s, a->tasks[i].reason), n++;
  return s ? s : xstrdup("the analysis found no schedulable placement");
}

/* What node_config built (model.c's plan_config_free is not linked: this
 * file goes into the runtime without the plan's loaders). */
static void config_free(struct plan_config *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free(c->containers[i].name);
    free(c->containers[i].image);
  }
  free(c->containers);
  free(c->name);
  free(c->file);
  free(c);
}

int plan_admit_schedule(const char *state_root, const char *id, const struct tenant_schedule *next, char **why)
{
  struct plan_rt rt;
  bool has = plan_tenant_schedule_rt(next, &rt);
  if (!has && next->priority > 0) {
    *why = xasprintf("the schedule gives SCHED_FIFO priority %u without a period and a budget: its load cannot be "
                     "analysed", next->priority);
    return -1;
  }
  struct plan_config *c = xmalloc0(sizeof *c);
  c->name = xstrdup("node");
  c->file = xstrdup(state_root);
  int rc = node_config(state_root, id, has ? &rt : NULL, c, why);
  struct plan_analysis *a = NULL;
  edgecr_error_t err = NULL;
  if (rc == 0 && plan_analyse(c, &a, &err) < 0) {
    *why = xasprintf("analysis: %s", err->msg);
    edgecr_error_release(&err);
    rc = -1;
  }
  if (rc == 0 && !a->schedulable) {
    cleanup_free char *f = failures(a);
    *why = xasprintf("the node's real-time load would not be schedulable with it (%zu real-time containers on %d "
                     "CPUs): %s", a->n, c->node.cores, f);
    rc = -1;
  }
  plan_analysis_free(a);
  config_free(c);
  return rc;
}
