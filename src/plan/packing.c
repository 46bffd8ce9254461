/* packing.c - core assignment of packing.h.
 *
 * Cost.  A placement is tried on a core by, in order: the utilisation
 * filters (O(1)); a sufficient response-time bound for every FIFO task of
 * the core (O(n) for the whole core, below); only when the bound cannot
 * accept, the exact response-time test, incremental and warm-started
 * (plan_core_accepts).  Worst-fit keeps the cores sorted by utilisation
 * (one insertion step per placement), so the first core tried is the
 * least loaded one and the bound nearly always accepts there.  A task that
 * misses its deadline even alone with the reservations is refused without
 * trying the other cores.  With this, 10,000 containers on 64 cores take a
 * fraction of a second (bench/plan/assign.sh) instead of minutes.
 *
 * The bound (a linear upper bound of the request-bound function, as in
 * Bini & Baruah's response-time upper bound): the demand of a
 * higher-priority task j in a window t is ceil((t + J_j)/T_j) C_j <=
 * C_j + U_j J_j + U_j t, so the response of task i is at most
 *   R_ub = (C_i + B_i + sum_j (C_j + U_j J_j)) / (1 - sum_j U_j)
 * over its interferers j (equal priorities included, every reservation
 * with jitter T - C, as in the exact test), and R_ub + J_i <= D_i proves
 * the task schedulable.  Bucketing the sums by priority level gives every
 * task's bound in one pass. */
#include "packing.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static double util(const struct plan_task *t) { return (double) t->C / (double) t->T; }

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
  double u = util(t);
  s->u += u;
  *(t->policy == PLAN_POLICY_DEADLINE ? &s->u_dl : &s->u_fp) += u;
  return at;
}

static void set_remove(struct core_set *s, size_t at)
{
  struct plan_task *t = s->t[at];
  memmove(&s->t[at], &s->t[at + 1], (s->n - at - 1) * sizeof *s->t);
  s->n--;
  double u = util(t);
  s->u -= u;
  *(t->policy == PLAN_POLICY_DEADLINE ? &s->u_dl : &s->u_fp) -= u;
}

/* The sufficient bound of the file comment, for every FIFO task of the
 * set.  Floating-point sums of whole nanoseconds: a relative margin of
 * 1e-9 keeps the rounding on the safe side. */
bool plan_core_bound_ok(struct plan_task **set, size_t n)
{
  double lvl_a[100] = {0}, lvl_u[100] = {0}, dl_a = 0, dl_u = 0;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *t = set[i];
    double u = util(t);
    if (t->policy == PLAN_POLICY_DEADLINE) {
      dl_a += (double) t->C + u * (double) plan_dl_interference_jitter(t);
      dl_u += u;
    } else {
      int p = t->prio < 0 ? 0 : t->prio > 99 ? 99 : t->prio;
      lvl_a[p] += (double) t->C + u * (double) t->J;
      lvl_u[p] += u;
    }
  }
  /* Suffix sums: interference from every level >= p. */
  for (int p = 98; p >= 0; p--) {
    lvl_a[p] += lvl_a[p + 1];
    lvl_u[p] += lvl_u[p + 1];
  }
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *t = set[i];
    if (t->policy != PLAN_POLICY_FP)
      continue;
    int p = t->prio < 0 ? 0 : t->prio > 99 ? 99 : t->prio;
    double u = util(t);
    double a = dl_a + lvl_a[p] - ((double) t->C + u * (double) t->J);
    double uh = dl_u + lvl_u[p] - u;
    if (uh >= 1.0 - 1e-9)
      return false;
    double r = ((double) (t->C + t->B) + a) / (1.0 - uh);
    if (r * (1.0 + 1e-9) + 1.0 + (double) t->J > (double) t->D)
      return false;
  }
  return true;
}

/* Try task t on core c: utilisation filters, the bound, then the exact
 * test with priorities recomputed for the tentative set. */
static bool try_core(struct packing *p, int c, struct plan_task *t)
{
  struct core_set *s = &p->cores[c];
  double u = util(t);
  bool dl = t->policy == PLAN_POLICY_DEADLINE;
  if (s->u + u > 1.0 + 1e-9 || (!dl && s->u_fp + u > p->rt_ratio + 1e-9) ||
      (dl && s->u_dl + u > p->dl_limit + 1e-9))
    return false;
  size_t at = set_add(s, t);
  bool folded = plan_assign_priorities_folded(s->t, s->n);
  int64_t ft, fh;
  if (dl && !plan_qpa(s->t, s->n, &ft, &fh)) { /* a partitioned reservation: EDF on this core */
    set_remove(s, at);
    plan_assign_priorities(s->t, s->n);
    return false;
  }
  if (plan_core_bound_ok(s->t, s->n)) {
    /* Accepted without exact responses: the warm starts (r_base) of the
     * others are now from a smaller set, still lower bounds. */
    t->core = c;
    return true;
  }
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

/* Can t meet its deadline on some core at all?  Every core holds every
 * reservation, so t alone with them is the best any core offers. */
static bool fits_alone(struct packing *p, struct plan_task *t)
{
  if (t->policy == PLAN_POLICY_DEADLINE)
    return true; /* budget <= deadline - jitter (checked when read): alone it fits */
  cleanup_free struct plan_task **set = xmalloc0((p->n_dl + 1) * sizeof *set);
  memcpy(set, p->dl, p->n_dl * sizeof *set);
  set[p->n_dl] = t;
  int64_t r = plan_rta(set, p->n_dl + 1, p->n_dl, t->D - t->J);
  return r != INT64_MAX && r + t->J <= t->D;
}

static int cmp_util_desc(const void *a, const void *b)
{
  const struct plan_task *x = *(struct plan_task *const *) a, *y = *(struct plan_task *const *) b;
  double ux = util(x), uy = util(y);
  if (ux != uy)
    return ux > uy ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Worst-fit order after core `c` got heavier: one insertion step. */
static void by_load_raise(struct packing *p, int c)
{
  int k = 0;
  while (k < p->n_rt && p->by_load[k] != c)
    k++;
  for (; k + 1 < p->n_rt; k++) {
    int next = p->by_load[k + 1];
    if (p->cores[next].u > p->cores[c].u || (p->cores[next].u == p->cores[c].u && next > c))
      break;
    p->by_load[k] = next;
  }
  if (k < p->n_rt)
    p->by_load[k] = c;
}

static void by_load_sort(struct packing *p)
{
  for (int i = 0; i < p->n_rt; i++) {
    int c = p->rt_cores[i], k = i;
    while (k > 0 && p->cores[p->by_load[k - 1]].u > p->cores[c].u) {
      p->by_load[k] = p->by_load[k - 1];
      k--;
    }
    p->by_load[k] = c;
  }
}

static void reset_packing(struct packing *p, struct plan_task *tasks, size_t n)
{
  for (int c = 0; c < p->n_cores; c++) {
    p->cores[c].n = 0;
    p->cores[c].u = p->cores[c].u_fp = p->cores[c].u_dl = 0;
  }
  p->n_dl = 0;
  for (size_t i = 0; i < n; i++) {
    struct plan_task *t = &tasks[i];
    t->r_base = 0;
    if (t->policy == PLAN_POLICY_DEADLINE && p->partitioned) {
      /* Partitioned: the reservation runs in its core's root domain and
       * interferes there only; an unpinned one is placed like a FIFO task. */
      t->partitioned = true;
      if (t->pinned)
        set_add(&p->cores[t->core], t);
      else
        t->core = -1;
    } else if (t->policy == PLAN_POLICY_DEADLINE) {
      t->partitioned = false;
      /* Global EDF: a reservation may run on any core, so it interferes
       * with the fixed-priority tasks of every real-time core. */
      t->core = -1;
      p->dl[p->n_dl++] = t;
      for (int k = 0; k < p->n_rt; k++)
        set_add(&p->cores[p->rt_cores[k]], t);
    } else if (t->pinned) {
      set_add(&p->cores[t->core], t);
    } else {
      t->core = -1;
    }
  }
  by_load_sort(p);
}

/* One heuristic over the unpinned tasks (sorted by utilisation); returns
 * true when every task found a core that passes the test.  With `force`,
 * a task no core accepts goes to the least loaded core anyway so that the
 * report can show what fails. */
static bool pack(struct packing *p, struct plan_task *tasks, size_t n, struct plan_task **todo, size_t n_todo,
                 bool worst_fit, bool force)
{
  reset_packing(p, tasks, n);
  bool all = true;
  for (size_t i = 0; i < n_todo; i++) {
    struct plan_task *t = todo[i];
    const int *order = worst_fit ? p->by_load : p->rt_cores;
    int placed = -1;
    /* The forced pass only shows what fails: plain worst-fit by
     * utilisation, no test (the final verdicts test every core). */
    int tries = force ? 0 : p->n_rt;
    for (int k = 0; k < tries && placed < 0; k++) {
      if (try_core(p, order[k], t))
        placed = order[k];
      else if (k == 0 && !fits_alone(p, t))
        break; /* no core can take it */
    }
    if (placed < 0) {
      all = false;
      if (!force)
        return false;
      placed = p->by_load[0];
      t->core = placed;
      set_add(&p->cores[placed], t);
    }
    by_load_raise(p, placed);
  }
  return all;
}

/* Every unpinned task must fit some core alone with the reservations, and
 * the FIFO utilisation must fit the cores' throttling limits. */
static bool packable(struct packing *p, struct plan_task *tasks, size_t n, struct plan_task **todo, size_t n_todo)
{
  reset_packing(p, tasks, n);
  double u_fp = 0, u_dl = 0;
  for (size_t i = 0; i < n; i++)
    *(tasks[i].policy == PLAN_POLICY_FP ? &u_fp : &u_dl) += util(&tasks[i]);
  if (u_fp > p->rt_ratio * p->n_rt + 1e-9 || (p->partitioned && u_dl > p->dl_limit * p->n_rt + 1e-9) ||
      (p->partitioned && u_fp + u_dl > p->n_rt + 1e-9))
    return false;
  for (size_t i = 0; i < n_todo; i++)
    if (!fits_alone(p, todo[i]))
      return false;
  return true;
}

const char *plan_pack(struct packing *p, const struct plan_config *c, struct plan_task *tasks, size_t n,
                      bool *found)
{
  cleanup_free struct plan_task **todo = xmalloc0((n + 1) * sizeof *todo);
  size_t n_todo = 0, n_fp = 0;
  p->dl = xrealloc(p->dl, (n + 1) * sizeof *p->dl);
  for (size_t i = 0; i < n; i++) {
    n_fp += tasks[i].policy == PLAN_POLICY_FP;
    if (!tasks[i].pinned && (tasks[i].policy == PLAN_POLICY_FP || p->partitioned))
      todo[n_todo++] = &tasks[i];
  }
  qsort(todo, n_todo, sizeof *todo, cmp_util_desc);
  *found = true;
  if (n_todo == 0 || p->n_rt == 0) {
    reset_packing(p, tasks, n);
    *found = n_todo == 0;
    /* Say "pinned" only when some container is. */
    return n_todo > 0 ? "none found (no core is reserved for real-time)"
           : n_fp > 0 || (p->partitioned && n > 0) ? "pinned" : "none needed (no SCHED_FIFO container)";
  }
  /* Necessary conditions: when one fails no heuristic can succeed, and
   * trying them (first-fit tries every core for every task) is what made
   * a failing plan slow. */
  if (!packable(p, tasks, n, todo, n_todo)) {
    *found = false;
    pack(p, tasks, n, todo, n_todo, true, true);
    return "none found (worst-fit placement shown)";
  }
  /* auto: worst-fit first.  It leaves every core the most slack, and the
   * least loaded core nearly always takes a task at the first try (the
   * bound accepts), while first-fit tries every full core first. */
  enum plan_assign how = c->node.assign;
  if (how != PLAN_ASSIGN_FIRST_FIT && pack(p, tasks, n, todo, n_todo, true, false))
    return "worst-fit decreasing";
  if (how != PLAN_ASSIGN_WORST_FIT && pack(p, tasks, n, todo, n_todo, false, false))
    return "first-fit decreasing";
  *found = false;
  pack(p, tasks, n, todo, n_todo, true, true);
  return "none found (worst-fit placement shown)";
}

void plan_packing_init(struct packing *p, const struct plan_config *c)
{
  *p = (struct packing){.n_cores = c->node.cores, .partitioned = c->node.dl_partitioned,
                        .rt_ratio = (double) c->node.rt_runtime_us / (double) c->node.rt_period_us};
  p->dl_limit = p->rt_ratio - (double) c->node.dl_server / 1e9;
  p->cores = xmalloc0((size_t) p->n_cores * sizeof *p->cores);
  p->rt_cores = xmalloc0((size_t) p->n_cores * sizeof *p->rt_cores);
  p->by_load = xmalloc0((size_t) p->n_cores * sizeof *p->by_load);
  for (int k = 0; k < p->n_cores; k++)
    if (c->node.rt_core[k])
      p->rt_cores[p->n_rt++] = k;
}

void plan_packing_free(struct packing *p)
{
  for (int c = 0; c < p->n_cores; c++)
    free(p->cores[c].t);
  free(p->cores);
  free(p->rt_cores);
  free(p->by_load);
  free(p->saved);
  free(p->dl);
}
