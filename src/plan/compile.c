/* compile.c - the plan JSON of compile.h.
 *
 * Real-time settings, per container:
 *  - fixed priority: SCHED_FIFO at the analysed priority, pinned to its core
 *    (cpuset.cpus), and a cgroup real-time budget so that SCHED_FIFO is
 *    allowed at all: cpu.rt_period_us = the longest multiple k T of the
 *    period up to the node's rt_period, cpu.rt_runtime_us = the most the
 *    container can run in any window of that length while it meets its
 *    deadline D, k C + min(C, D - C) (plan_fifo_budget).  The kernel's
 *    budget windows are not aligned with the job releases: a job finishing
 *    at D and the next one starting at once run C + (D - C) inside one
 *    period, and throttling them there would break the analysis.  The
 *    deadline rather than the analysed response keeps the budget a
 *    function of the container's own requirements (a change elsewhere in
 *    the plan does not change it).  The long window keeps
 *    the ratio close to C/T, which matters because all the groups' ratios
 *    share the root's 0.95 (docs/plan.md section 4).
 *  - deadline: SCHED_DEADLINE (runtime = budget, deadline = deadline -
 *    jitter, period).  Global: no cpuset (the kernel refuses a deadline
 *    task whose affinity is narrower than its root domain), so it runs
 *    under the kernel's global EDF over all the node's CPUs.  Partitioned:
 *    the cpuset of its core's partition (a root domain of its own,
 *    partition.h), and so does every real-time container of that core.
 *  - node.fifo_budgets: none: SCHED_FIFO without a cgroup budget.
 *  - no rt section: the cores not reserved for real-time. */
#include "compile.h"

#include <stdio.h>
#include <stdlib.h>

#include "plan_channels.h"
#include "util.h"

static char *core_list(const struct plan_node *n, bool rt)
{
  size_t cap = 8 + (size_t) n->cores * 5, len = 0;
  char *s = xmalloc0(cap);
  for (int k = 0; k < n->cores; k++)
    if (n->rt_core[k] == rt)
      len += (size_t) snprintf(s + len, cap - len, "%s%d", len ? "," : "", k);
  return s;
}

/* Is core k a deadline partition of this plan (a reservation runs there)? */
static bool is_partition(const struct plan_analysis *a, int k)
{
  for (size_t i = 0; a->dl_partitioned && i < a->n; i++)
    if (a->tasks[i].policy == PLAN_POLICY_DEADLINE && a->tasks[i].core == k)
      return true;
  return false;
}

static json_t *realtime_json(const struct plan_analysis *a, const struct plan_task *t, int64_t window)
{
  char cpus[16];
  snprintf(cpus, sizeof cpus, "%d", t->core);
  json_t *sched;
  json_t *cgroup = json_object();
  /* Every real-time container of a partitioned core lives in the
   * partition's cpuset (an exclusive cpuset admits no overlapping sibling). */
  if (t->core >= 0 && is_partition(a, t->core))
    json_object_set_new(cgroup, "partition", json_integer(t->core));
  if (t->policy == PLAN_POLICY_FP) {
    json_object_set_new(cgroup, "cpuset.cpus", json_string(cpus));
    sched = json_pack("{s:s,s:i}", "policy", "SCHED_FIFO", "priority", t->prio);
    int64_t period_us, runtime_us;
    plan_fifo_budget(t, window, &period_us, &runtime_us);
    if (a->fifo_groups) { /* none: no group budgets (stock kernels), docs/plan.md section 4 */
      json_object_set_new(cgroup, "cpu.rt_period_us", json_integer(period_us));
      json_object_set_new(cgroup, "cpu.rt_runtime_us", json_integer(runtime_us));
    }
  } else if (t->partitioned) {
    /* Partitioned: the reservation's cpuset is its core's partition, a
     * root domain of its own, so the kernel admits and runs it there. */
    sched = json_pack("{s:s,s:I,s:I,s:I}", "policy", "SCHED_DEADLINE", "runtime_ns", (json_int_t) t->C,
                      "deadline_ns", (json_int_t) (t->D - t->J), "period_ns", (json_int_t) t->T);
    json_object_set_new(cgroup, "cpuset.cpus", json_string(cpus));
  } else {
    sched = json_pack("{s:s,s:I,s:I,s:I}", "policy", "SCHED_DEADLINE", "runtime_ns", (json_int_t) t->C,
                      "deadline_ns", (json_int_t) (t->D - t->J), "period_ns", (json_int_t) t->T);
    /* No cpuset: the kernel refuses SCHED_DEADLINE (EPERM) for a task whose
     * affinity is narrower than its root domain; the reservation runs on
     * the whole root domain (docs/plan.md section 5). */
  }
  return json_pack("{s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I},s:{s:o,s:I}}", "core",
                   t->core >= 0 ? json_integer(t->core) : json_null(), "sched", sched,
                   "cgroup", cgroup, "requirements", "period_ns", (json_int_t) t->T, "budget_ns",
                   (json_int_t) t->C, "deadline_ns", (json_int_t) t->D, "jitter_ns", (json_int_t) t->J,
                   "blocking_ns", (json_int_t) t->B, "analysis", "response_ns",
                   t->response == INT64_MAX ? json_null() : json_integer(t->response), "utilisation_ppm",
                   (json_int_t) (t->C * 1000000 / t->T));
}

static json_t *strv_json(char **v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *container_json(const struct plan_config *c, const struct plan_analysis *a, size_t i,
                              size_t order, const char *best_effort_cpus)
{
  const struct plan_container *k = &c->containers[i];
  json_t *o = json_pack("{s:s,s:s,s:I,s:i,s:I}", "name", k->name, "backend", plan_backend_name(k->backend),
                        "start_order", (json_int_t) order, "source_line", k->line, "source_index",
                        (json_int_t) i);
  if (k->bundle)
    json_object_set_new(o, "bundle", json_sprintf("bundles/%s", k->name));
  else
    json_object_set_new(o, "image", json_string(k->image));
  json_object_set_new(o, "depends_on", strv_json(k->depends_on));
  const struct plan_task *t = NULL;
  for (size_t j = 0; j < a->n && t == NULL; j++)
    if (a->tasks[j].id == i)
      t = &a->tasks[j];
  json_object_set_new(o, "realtime", t ? realtime_json(a, t, c->node.rt_period_us * 1000) : json_null());
  if (t == NULL)
    json_object_set_new(o, "cgroup", json_pack("{s:s}", "cpuset.cpus", best_effort_cpus));
  json_t *limits = json_object();
  if (k->memory_limit)
    json_object_set_new(limits, "memory.max", json_integer((json_int_t) k->memory_limit));
  if (k->memlock)
    json_object_set_new(limits, "RLIMIT_MEMLOCK", k->memlock < 0 ? json_string("unlimited") : json_integer(k->memlock));
  json_object_set_new(o, "limits", limits);
  json_object_set_new(o, "capabilities", strv_json(k->capabilities));
  json_t *devices = json_array();
  for (size_t d = 0; d < k->n_devices; d++)
    json_array_append_new(devices, json_pack("{s:s,s:s,s:b}", "path", k->devices[d].path, "access",
                                             k->devices[d].access, "allow", 1));
  json_object_set_new(o, "devices", devices);
  json_t *chans = plan_compile_channels(c, k->name); /* only when it has any: other entries keep their identity */
  if (chans)
    json_object_set_new(o, "channels", chans);
  return o;
}

json_t *plan_compile(const struct plan_config *c, const struct plan_analysis *a, edgecr_error_t *err)
{
  cleanup_free size_t *order = xmalloc0((c->n + 1) * sizeof *order);
  if (plan_config_start_order(c, order, err) < 0)
    return NULL;
  cleanup_free char *rt_cpus = core_list(&c->node, true);
  cleanup_free char *be_cpus = core_list(&c->node, false);
  if (a->dl_partitioned && a->general_cpus && *a->general_cpus) {
    /* best-effort work stays off the partitioned cores */
    free(be_cpus);
    be_cpus = xstrdup(a->general_cpus);
  } else if (*be_cpus == '\0') {
    free(be_cpus);
    be_cpus = xstrdup(rt_cpus);
  }
  json_t *containers = json_array();
  for (size_t k = 0; k < c->n; k++)
    json_array_append_new(containers, container_json(c, a, order[k], k, be_cpus));
  json_t *plan = json_pack("{s:i,s:s,s:s,s:{s:i,s:s,s:s,s:I,s:I,s:I},s:b,s:s,s:o}", "edgecr_plan",
                           PLAN_FORMAT_VERSION, "name", c->name, "source", c->file, "node", "cores", c->node.cores,
                           "rt_cpus", rt_cpus, "best_effort_cpus", be_cpus, "memory", (json_int_t) c->node.memory,
                           "rt_runtime_us", (json_int_t) c->node.rt_runtime_us, "rt_period_us",
                           (json_int_t) c->node.rt_period_us, "schedulable", a->schedulable, "assignment",
                           a->assignment, "containers", containers);
  json_t *node = json_object_get(plan, "node");
  json_object_set_new(node, "fifo_budgets", json_string(a->fifo_groups ? "groups" : "none"));
  json_object_set_new(node, "deadline", json_string(c->node.dl_partitioned ? "partitioned" : "global"));
  if (c->node.dl_partitioned)
    json_object_set_new(node, "partitions", json_string(a->partition_cpus ? a->partition_cpus : ""));
  return plan;
}
