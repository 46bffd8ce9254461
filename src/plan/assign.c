/* assign.c - the whole-configuration analysis: place unpinned SCHED_FIFO
 * containers on cores (first-fit / worst-fit decreasing by utilisation,
 * each placement confirmed by the exact per-core test with every deadline
 * reservation as interference), test the reservations as one global EDF
 * set, check the FIFO budgets' node-wide sum, and collect the verdicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "util.h"

struct core_set {
  struct plan_task **t;
  size_t n, cap;
  double u, u_fp, u_dl;
};

struct packing {
  struct core_set *cores;
  int n_cores;
  int *rt_cores; /* indices of cores reserved for real-time */
  int n_rt;
  double rt_ratio;
  int64_t *saved; /* r_base of a core's tasks before a tentative placement */
  size_t saved_cap;
};

/* Core sets are kept in deadline-monotonic order so that priority
 * assignment does not sort again on every tentative placement. */
static size_t set_add(struct core_set *s, struct plan_task *t)
{
  if (s->n == s->cap)
    s->t = xrealloc(s->t, (s->cap = s->cap ? 2 * s->cap : 8) * sizeof *s->t);
  size_t at = s->n;
  while (at > 0 && plan_cmp_deadline_monotonic(&s->t[at - 1], &t) > 0)
    at--;
  memmove(&s->t[at + 1], &s->t[at], (s->n - at) * sizeof *s->t);
  s->t[at] = t;
  s->n++;
  double u = (double) t->C / (double) t->T;
  s->u += u;
  *(t->policy == PLAN_POLICY_DEADLINE ? &s->u_dl : &s->u_fp) += u;
  return at;
}

static void set_remove(struct core_set *s, size_t at)
{
  struct plan_task *t = s->t[at];
  memmove(&s->t[at], &s->t[at + 1], (s->n - at - 1) * sizeof *s->t);
  s->n--;
  double u = (double) t->C / (double) t->T;
  s->u -= u;
  *(t->policy == PLAN_POLICY_DEADLINE ? &s->u_dl : &s->u_fp) -= u;
}

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

/* Try task t on core c: cheap utilisation filters first, then the exact
 * test with priorities recomputed for the tentative set. */
static bool try_core(struct packing *p, int c, struct plan_task *t)
{
  struct core_set *s = &p->cores[c];
  double u = (double) t->C / (double) t->T;
  if (s->u + u > 1.0 + 1e-9)
    return false;
  if ((t->policy == PLAN_POLICY_DEADLINE ? s->u_dl : s->u_fp) + u > p->rt_ratio + 1e-9)
    return false;
  size_t at = set_add(s, t);
  bool folded = plan_assign_priorities_folded(s->t, s->n);
  /* The warm starts must stay lower bounds: a rejected placement's larger
   * responses are put back. */
  if (p->saved_cap < s->n)
    p->saved = xrealloc(p->saved, (p->saved_cap = 2 * s->n) * sizeof *p->saved);
  for (size_t i = 0; i < s->n; i++)
    p->saved[i] = s->t[i]->r_base;
  if (plan_core_accepts(s->t, s->n, p->rt_ratio, t, folded)) {
    t->core = c;
    return true;
  }
  for (size_t i = 0; i < s->n; i++)
    s->t[i]->r_base = p->saved[i];
  set_remove(s, at);
  plan_assign_priorities(s->t, s->n);
  return false;
}

static int cmp_util_desc(const void *a, const void *b)
{
  const struct plan_task *x = *(struct plan_task *const *) a, *y = *(struct plan_task *const *) b;
  double ux = (double) x->C / x->T, uy = (double) y->C / y->T;
  if (ux != uy)
    return ux > uy ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static void reset_packing(struct packing *p, struct plan_task *tasks, size_t n)
{
  for (int c = 0; c < p->n_cores; c++) {
    p->cores[c].n = 0;
    p->cores[c].u = p->cores[c].u_fp = p->cores[c].u_dl = 0;
  }
  for (size_t i = 0; i < n; i++) {
    struct plan_task *t = &tasks[i];
    t->r_base = 0;
    if (t->policy == PLAN_POLICY_DEADLINE) {
      /* Global EDF: a reservation may run on any core, so it interferes
       * with the fixed-priority tasks of every real-time core. */
      t->core = -1;
      for (int k = 0; k < p->n_rt; k++)
        set_add(&p->cores[p->rt_cores[k]], t);
    } else if (t->pinned) {
      set_add(&p->cores[t->core], t);
    } else {
      t->core = -1;
    }
  }
}

/* Order in which worst-fit tries the cores: least utilised first. */
static void cores_by_load(struct packing *p, int *order)
{
  for (int i = 0; i < p->n_rt; i++) {
    int c = p->rt_cores[i], k = i;
    while (k > 0 && p->cores[order[k - 1]].u > p->cores[c].u) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = c;
  }
}

/* One heuristic over the unpinned tasks (sorted by utilisation); returns
 * true when every task found a core that passes the exact test.  With
 * `force`, a task no core accepts goes to the least loaded core anyway so
 * that the report can show what fails. */
static bool pack(struct packing *p, struct plan_task *tasks, size_t n, struct plan_task **todo,
                 size_t n_todo, bool worst_fit, bool force)
{
  reset_packing(p, tasks, n);
  cleanup_free int *order = xmalloc0((size_t) (p->n_rt + 1) * sizeof *order);
  bool all = true;
  for (size_t i = 0; i < n_todo; i++) {
    if (worst_fit)
      cores_by_load(p, order);
    else
      memcpy(order, p->rt_cores, (size_t) p->n_rt * sizeof *order);
    bool placed = false;
    for (int k = 0; k < p->n_rt && !placed; k++)
      placed = try_core(p, order[k], todo[i]);
    if (!placed) {
      all = false;
      if (!force)
        return false;
      cores_by_load(p, order);
      todo[i]->core = order[0];
      set_add(&p->cores[order[0]], todo[i]);
    }
  }
  return all;
}

static const char *assign_cores(struct packing *p, const struct plan_config *c,
                                struct plan_task *tasks, size_t n, bool *found)
{
  cleanup_free struct plan_task **todo = xmalloc0((n + 1) * sizeof *todo);
  size_t n_todo = 0;
  for (size_t i = 0; i < n; i++)
    if (!tasks[i].pinned && tasks[i].policy == PLAN_POLICY_FP)
      todo[n_todo++] = &tasks[i];
  qsort(todo, n_todo, sizeof *todo, cmp_util_desc);
  *found = true;
  if (n_todo == 0 || p->n_rt == 0) {
    reset_packing(p, tasks, n);
    *found = n_todo == 0;
    return n_todo == 0 ? "pinned" : "none found (no core is reserved for real-time)";
  }
  enum plan_assign how = c->node.assign;
  if (how != PLAN_ASSIGN_WORST_FIT && pack(p, tasks, n, todo, n_todo, false, false))
    return "first-fit decreasing";
  if (how != PLAN_ASSIGN_FIRST_FIT && pack(p, tasks, n, todo, n_todo, true, false))
    return "worst-fit decreasing";
  *found = false;
  pack(p, tasks, n, todo, n_todo, true, true);
  return "none found (worst-fit placement shown)";
}

static void packing_free(struct packing *p)
{
  for (int c = 0; c < p->n_cores; c++)
    free(p->cores[c].t);
  free(p->cores);
  free(p->rt_cores);
  free(p->saved);
}

static void add_problem(struct plan_analysis *a, char *msg);

/* The memory limits must fit the node's memory (when it is given). */
static void check_memory(const struct plan_config *c, struct plan_analysis *a)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < c->n; i++)
    sum += c->containers[i].memory_limit;
  if (c->node.memory == 0 || sum <= c->node.memory)
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
                           "the largest is %s with %.3f", n_fifo, sum_d, a->rt_ratio,
                           (long long) c->node.rt_runtime_us, (long long) c->node.rt_period_us,
                           big ? big->name : "?", big_bw));
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
                               "runs under global EDF on all %d cores of the node (and is analysed that way)",
                               t->name, c->containers[t->id].rt.core, c->node.cores));
  }
}

int plan_analyse(const struct plan_config *c, struct plan_analysis **out, edgecr_error_t *err)
{
  (void) err;
  struct plan_analysis *a = xmalloc0(sizeof *a);
  a->tasks = plan_tasks_from_config(c, &a->n);
  a->n_cores = c->node.cores;
  a->rt_ratio = (double) c->node.rt_runtime_us / (double) c->node.rt_period_us;
  a->cores = xmalloc0((size_t) a->n_cores * sizeof *a->cores);
  struct packing p = {.n_cores = a->n_cores, .rt_ratio = a->rt_ratio};
  p.cores = xmalloc0((size_t) a->n_cores * sizeof *p.cores);
  p.rt_cores = xmalloc0((size_t) a->n_cores * sizeof *p.rt_cores);
  for (int k = 0; k < a->n_cores; k++)
    if (c->node.rt_core[k])
      p.rt_cores[p.n_rt++] = k;
  bool found;
  a->assignment = assign_cores(&p, c, a->tasks, a->n, &found);
  a->schedulable = found;
  if (!found)
    a->problem = xasprintf("no assignment of containers to cores passes the exact tests "
                           "(tried %s)", c->node.assign == PLAN_ASSIGN_FIRST_FIT ? "first-fit decreasing"
                           : c->node.assign == PLAN_ASSIGN_WORST_FIT ? "worst-fit decreasing"
                           : "first-fit and worst-fit decreasing");
  cleanup_free struct plan_task **all = xmalloc0((a->n + 1) * sizeof *all);
  for (size_t i = 0; i < a->n; i++)
    all[i] = &a->tasks[i];
  /* No cpuset partition: the root domain is every CPU of the node. */
  if (!plan_global_edf_check(all, a->n, c->node.cores, a->rt_ratio, &a->dl))
    a->schedulable = false;
  for (int k = 0; k < a->n_cores; k++) {
    struct core_set *s = &p.cores[k];
    a->cores[k].core = k;
    a->cores[k].rt = c->node.rt_core[k];
    a->cores[k].dl_global = true;
    plan_assign_priorities(s->t, s->n);
    if (!plan_core_check(s->t, s->n, a->rt_ratio, true, &a->cores[k]))
      a->schedulable = false;
  }
  packing_free(&p);
  check_fifo_budgets(c, a);
  warn_pinned_reservations(c, a);
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
  edgecr_cleanup_strvp(&a->warnings);
  free(a);
}
