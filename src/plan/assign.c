/* assign.c - the whole-configuration analysis: place unpinned SCHED_FIFO
 * containers on cores (packing.c: first-fit / worst-fit decreasing by
 * utilisation, each placement confirmed per core with every deadline
 * reservation as interference), test the reservations as one global EDF
 * set, check the FIFO budgets' node-wide sum, and collect the verdicts
 * (every core's exact test from scratch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "dl_limits.h"
#include "packing.h"
#include "util.h"

struct plan_task *plan_tasks_from_config(const struct plan_config *c, size_t *n)
{
  struct plan_task *tasks = xmalloc0((c->n + 1) * sizeof *tasks);
  size_t k = 0;
  for (size_t i = 0; i < c->n; i++) {
    const struct plan_container *ct = &c->containers[i];
    if (!ct->has_rt)
      continue;
    tasks[k++] = (struct plan_task){
      .name = ct->name, .id = i, .C = ct->rt.budget, .T = ct->rt.period, .D = ct->rt.deadline,
      .J = ct->rt.jitter, .B = ct->rt.blocking, .policy = ct->rt.policy,
      .prio = ct->rt.priority, .prio_given = ct->rt.priority > 0,
      .core = ct->rt.core, .pinned = ct->rt.core >= 0,
    };
  }
  *n = k;
  return tasks;
}

static void add_problem(struct plan_analysis *a, char *msg);

/* The memory limits must fit the node's memory (when it is given). */
static void check_memory(const struct plan_config *c, struct plan_analysis *a)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < c->n; i++)
    sum += c->containers[i].memory_limit;
  a->memory_ok = c->node.memory == 0 || sum <= c->node.memory;
  if (a->memory_ok)
    return;
  add_problem(a, xasprintf("memory: the containers' limits add up to %llu MiB but node.memory is %llu MiB",
                           (unsigned long long) (sum >> 20), (unsigned long long) (c->node.memory >> 20)));
}

static void add_problem(struct plan_analysis *a, char *msg)
{
  if (a->problem) {
    char *both = xasprintf("%s; %s", a->problem, msg);
    free(a->problem);
    free(msg);
    msg = both;
  }
  a->problem = msg;
  a->schedulable = false;
}

static void add_warning(struct plan_analysis *a, char *msg)
{
  size_t n = 0;
  while (a->warnings && a->warnings[n])
    n++;
  a->warnings = xrealloc(a->warnings, (n + 2) * sizeof *a->warnings);
  a->warnings[n] = msg;
  a->warnings[n + 1] = NULL;
}

/* The kernel's to_ratio(): bandwidth as a 20-bit fixed-point fraction. */
static uint64_t kernel_ratio(int64_t period_ns, int64_t runtime_ns)
{
  return period_ns <= 0 ? 0 : ((uint64_t) runtime_ns << 20) / (uint64_t) period_ns;
}

/* With CONFIG_RT_GROUP_SCHED a group's rt_runtime/rt_period applies on
 * every CPU, and the sum over sibling groups must fit the parent's ratio,
 * up to the root's sched_rt_runtime_us/sched_rt_period_us: the budgets of
 * all SCHED_FIFO containers share that one ratio whatever their cores. */
static void check_fifo_budgets(const struct plan_config *c, struct plan_analysis *a)
{
  uint64_t sum = 0, limit = kernel_ratio(c->node.rt_period_us * 1000, c->node.rt_runtime_us * 1000);
  double sum_d = 0;
  size_t n_fifo = 0;
  const struct plan_task *big = NULL;
  double big_bw = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct plan_task *t = &a->tasks[i];
    if (t->policy != PLAN_POLICY_FP)
      continue;
    int64_t p_us, r_us;
    plan_fifo_budget(t, c->node.rt_period_us * 1000, &p_us, &r_us);
    sum += kernel_ratio(p_us * 1000, r_us * 1000);
    double bw = (double) r_us / (double) p_us;
    sum_d += bw;
    n_fifo++;
    if (bw > big_bw) {
      big_bw = bw;
      big = t;
    }
  }
  a->fifo_budget_sum = sum_d;
  a->fifo_budget_ok = sum <= limit;
  if (a->fifo_budget_ok)
    return;
  add_problem(a, xasprintf("the cgroup real-time budgets of the %zu SCHED_FIFO containers add up to %.3f of a CPU "
                           "but the kernel allows %.3f in total (sched_rt_runtime_us/sched_rt_period_us = %lld/%lld; "
                           "with CONFIG_RT_GROUP_SCHED every group's budget counts on every CPU, whatever its core); "
                           "the largest is %s with %.3f; the kernel throttles SCHED_FIFO only at %.2f of each CPU, but "
                           "the group budgets share that once: move work "
                           "into deadline reservations (rt.policy: deadline, node.deadline: partitioned admits "
                           "%.2f per core), or raise the kernel's sched_rt_runtime_us", n_fifo, sum_d, a->rt_ratio,
                           (long long) c->node.rt_runtime_us, (long long) c->node.rt_period_us,
                           big ? big->name : "?", big_bw, a->rt_ratio, a->dl_core_limit));
}

/* rt.core of a deadline container cannot be enforced (no cpuset for
 * SCHED_DEADLINE, see compile.c): say so instead of silently ignoring it. */
static void warn_pinned_reservations(const struct plan_config *c, struct plan_analysis *a)
{
  for (size_t i = 0; i < a->n; i++) {
    const struct plan_task *t = &a->tasks[i];
    if (t->policy == PLAN_POLICY_DEADLINE && t->pinned)
      add_warning(a, xasprintf("%s: rt.core %d is not enforced for a deadline reservation: the kernel refuses "
                               "SCHED_DEADLINE for a task whose affinity is narrower than its root domain, so it "
                               "runs under global EDF on all %d %s of the node (and is analysed that way)",
                               t->name, c->containers[t->id].rt.core, c->node.cores,
                               plan_noun(c->node.cores, "core", "cores")));
  }
}

/* Without group budgets (stock kernels, node.fifo_budgets: none) nothing
 * is summed node-wide: each CPU's SCHED_FIFO time is only bounded by the
 * global throttling (checked per core).  Say what that protects and what
 * it does not. */
static void note_protection(struct plan_analysis *a)
{
  size_t n_fifo = 0;
  for (size_t i = 0; i < a->n; i++)
    n_fifo += a->tasks[i].policy == PLAN_POLICY_FP;
  if (n_fifo == 0)
    return;
  if (a->fifo_groups) {
    /* Analysed for group budgets (the default, off-device), but the
     * machine running the check has none: say what that node gets. */
    if (!a->fifo_budgets_probed && plan_node_rt_groups() == 0)
      add_warning(a, xasprintf("this machine's kernel has no real-time group budgets (no CONFIG_RT_GROUP_SCHED): "
                               "on such a node the SCHED_FIFO budgets are not applied and the global real-time "
                               "throttling is the only protection (node.fifo_budgets: auto analyses for the "
                               "kernel it runs on; deadline reservations are enforced everywhere)"));
    return;
  }
  add_warning(a, xasprintf("%s: the %zu SCHED_FIFO %s run without cgroup real-time budgets "
                           "(a kernel without CONFIG_RT_GROUP_SCHED has none): the node's only protection is the "
                           "global real-time throttling (%.2f of each CPU, sched_rt_runtime_us/sched_rt_period_us), "
                           "so a container that overruns its budget delays the others of its core unchecked; "
                           "for enforced budgets use deadline reservations (rt.policy: deadline, node.deadline: "
                           "partitioned)", a->fifo_budgets_probed ? "this machine's kernel has no real-time group "
                           "budgets (no CONFIG_RT_GROUP_SCHED; node.fifo_budgets: auto)" : "node.fifo_budgets: none",
                           n_fifo, plan_noun((long long) n_fifo, "container", "containers"),
                           a->rt_ratio));
}

/* Partitioned reservations: one root domain per core that runs some
 * (docs/plan.md section 2).  The per-core verdicts carry the tests; here
 * the summary and which cores stay general-purpose. */
static void partitioned_summary(const struct plan_config *c, struct plan_analysis *a)
{
  struct plan_dl_result *d = &a->dl;
  free(d->reason);
  *d = (struct plan_dl_result){.m = 1, .admission_limit = a->rt_ratio, .admission_ok = true, .gfb_ok = true,
                               .bcl_ok = true, .qpa_ok = true, .ok = true};
  bool part[PLAN_MAX_CORES] = {false};
  for (size_t i = 0; i < a->n; i++) {
    const struct plan_task *t = &a->tasks[i];
    if (t->policy != PLAN_POLICY_DEADLINE)
      continue;
    d->n++;
    d->u += (double) t->C / (double) t->T;
    if (t->core >= 0)
      part[t->core] = true;
    d->ok &= t->ok;
  }
  d->qpa_ok = d->ok;
  d->test = d->ok ? "partitioned EDF (QPA per core)" : NULL;
  size_t cap = 8 + (size_t) c->node.cores * 5, lp = 0, lg = 0;
  a->partition_cpus = xmalloc0(cap);
  a->general_cpus = xmalloc0(cap);
  for (int pass = 0; pass < 2 && lg == 0; pass++)
    for (int k = 0; k < c->node.cores; k++)
      if (!part[k] && (pass == 1 || !c->node.rt_core[k]))
        lg += (size_t) snprintf(a->general_cpus + lg, cap - lg, "%s%d", lg ? "," : "", k);
  for (int k = 0; k < c->node.cores; k++)
    if (part[k])
      lp += (size_t) snprintf(a->partition_cpus + lp, cap - lp, "%s%d", lp ? "," : "", k);
  if (lg == 0 && d->n > 0)
    add_problem(a, xasprintf("every core of the node would be a deadline partition (%s): at least one core must "
                             "stay general-purpose for best-effort work and the host's own processes",
                             a->partition_cpus));
}

int plan_analyse(const struct plan_config *c, struct plan_analysis **out, edgecr_error_t *err)
{
  (void) err;
  struct plan_analysis *a = xmalloc0(sizeof *a);
  a->tasks = plan_tasks_from_config(c, &a->n);
  a->n_cores = c->node.cores;
  a->rt_ratio = (double) c->node.rt_runtime_us / (double) c->node.rt_period_us;
  /* auto: the kernel of the machine running the check (dl_limits.h) */
  a->fifo_budgets_probed = c->node.fifo_budgets == PLAN_FIFO_BUDGETS_AUTO;
  a->fifo_groups = a->fifo_budgets_probed ? plan_node_rt_groups() != 0
                                          : c->node.fifo_budgets == PLAN_FIFO_BUDGETS_GROUPS;
  a->dl_partitioned = c->node.dl_partitioned;
  /* Each partition is a root domain of one CPU: the kernel admits
   * reservations up to rt_runtime/rt_period of it, of which the fair
   * server (>= 6.12) already holds its share. */
  a->dl_core_limit = a->rt_ratio - (double) c->node.dl_server / 1e9;
  a->cores = xmalloc0((size_t) a->n_cores * sizeof *a->cores);
  struct packing p;
  plan_packing_init(&p, c);
  bool found;
  a->assignment = plan_pack(&p, c, a->tasks, a->n, &found);
  a->schedulable = found;
  a->assignment_found = found;
  if (!found)
    a->problem = xasprintf("no assignment of containers to cores passes the exact tests "
                           "(tried %s)", c->node.assign == PLAN_ASSIGN_FIRST_FIT ? "first-fit decreasing"
                           : c->node.assign == PLAN_ASSIGN_WORST_FIT ? "worst-fit decreasing"
                           : "first-fit and worst-fit decreasing");
  cleanup_free struct plan_task **all = xmalloc0((a->n + 1) * sizeof *all);
  for (size_t i = 0; i < a->n; i++)
    all[i] = &a->tasks[i];
  /* Global: no cpuset partition, the root domain is every CPU of the node. */
  if (!c->node.dl_partitioned && !plan_global_edf_check(all, a->n, c->node.cores, a->rt_ratio, &a->dl))
    a->schedulable = false;
  for (int k = 0; k < a->n_cores; k++) {
    struct core_set *s = &p.cores[k];
    a->cores[k].core = k;
    a->cores[k].rt = c->node.rt_core[k];
    a->cores[k].dl_global = !c->node.dl_partitioned;
    a->cores[k].dl_limit = c->node.dl_partitioned ? a->dl_core_limit : 0;
    plan_assign_priorities(s->t, s->n);
    if (!plan_core_check(s->t, s->n, a->rt_ratio, true, &a->cores[k]))
      a->schedulable = false;
  }
  plan_packing_free(&p);
  if (c->node.dl_partitioned)
    partitioned_summary(c, a);
  else
    warn_pinned_reservations(c, a);
  if (a->fifo_groups)
    check_fifo_budgets(c, a);
  else
    a->fifo_budget_ok = true;
  note_protection(a);
  check_memory(c, a);
  *out = a;
  return 0;
}

void plan_analysis_free(struct plan_analysis *a)
{
  if (a == NULL)
    return;
  for (size_t i = 0; i < a->n; i++)
    free(a->tasks[i].reason);
  for (int k = 0; k < a->n_cores; k++)
    free(a->cores[k].reason);
  free(a->tasks);
  free(a->cores);
  free(a->problem);
  free(a->dl.reason);
  free(a->partition_cpus);
  free(a->general_cpus);
  edgecr_cleanup_strvp(&a->warnings);
  free(a);
}
