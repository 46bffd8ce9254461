/* analysis.c - per-core exact tests (RTA, and QPA/admission for
 * reservations kept on one core), the global EDF tests of the deadline
 * reservations (admission, GFB, BCL), priority assignment and the cgroup
 * budget of a SCHED_FIFO container.  The methods and the rule for mixing
 * policies are explained in docs/plan.md ("Analysis"). */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_budget.h"
#include "util.h"

#define EPS 1e-9

static int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }
static double util(const struct plan_task *t) { return (double) t->C / (double) t->T; }

/* ---- fixed priorities: response-time analysis ---- */

/* SCHED_DEADLINE runs before SCHED_FIFO, so a reservation on the core is
 * higher-priority interference for every fixed-priority task.  Its budget
 * may be served anywhere in its period, so it is modelled as a sporadic
 * task with release jitter T - C (back-to-back budgets). */
static bool interferes(const struct plan_task *j, const struct plan_task *i)
{
  if (j == i)
    return false;
  return j->policy == PLAN_POLICY_DEADLINE || j->prio >= i->prio;
}

int64_t plan_dl_interference_jitter(const struct plan_task *t)
{
  /* A partitioned reservation's jobs complete by their deadline D (QPA on
   * the core proves it; with release jitter J the kernel's deadline is
   * D - J from a release at most J late), so its budget runs inside [kT,
   * kT + D]: jitter D - C.  A global one is only known to get its budget
   * in each period: T - C. */
  return (t->partitioned ? t->D : t->T) - t->C;
}

static int64_t interference_jitter(const struct plan_task *j)
{
  return j->policy == PLAN_POLICY_DEADLINE ? plan_dl_interference_jitter(j) : j->J;
}

int64_t plan_rta(struct plan_task **set, size_t n, size_t i, int64_t limit)
{
  return plan_rta_from(set, n, i, limit, 0);
}

int64_t plan_rta_from(struct plan_task **set, size_t n, size_t i, int64_t limit, int64_t start)
{
  const struct plan_task *t = set[i];
  int64_t r = t->C + t->B;
  for (size_t j = 0; j < n; j++)
    if (interferes(set[j], t))
      r += set[j]->C;
  if (start > r)
    r = start;
  for (;;) {
    if (r > limit)
      return INT64_MAX;
    int64_t next = t->C + t->B;
    for (size_t j = 0; j < n; j++)
      if (interferes(set[j], t))
        next += ceil_div(r + interference_jitter(set[j]), set[j]->T) * set[j]->C;
    if (next == r)
      return r;
    r = next;
  }
}

/* Upper bound on the fixed point when the interfering utilisation is below
 * one (so the iteration converges), used to report a failing task's real
 * response time; INT64_MAX when it may not converge. */
static int64_t rta_limit(struct plan_task **set, size_t n, size_t i)
{
  const struct plan_task *t = set[i];
  double u = 0, c = (double) (t->C + t->B);
  for (size_t j = 0; j < n; j++)
    if (interferes(set[j], t)) {
      u += util(set[j]);
      c += set[j]->C * (1.0 + (double) interference_jitter(set[j]) / set[j]->T);
    }
  if (u >= 1.0 - EPS)
    return INT64_MAX;
  double bound = c / (1.0 - u) + 1;
  return bound > 9e18 ? INT64_MAX : (int64_t) bound;
}

/* ---- deadline reservations: QPA (Zhang & Burns 2009) ---- */

static int64_t dl_deadline(const struct plan_task *t) { return t->D - t->J; }

static int64_t demand(struct plan_task **set, size_t n, int64_t t)
{
  int64_t h = 0;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *k = set[i];
    if (k->policy != PLAN_POLICY_DEADLINE || t < dl_deadline(k))
      continue;
    h += ((t - dl_deadline(k)) / k->T + 1) * k->C;
  }
  return h;
}

/* Largest absolute deadline strictly below x (0 if none). */
static int64_t deadline_below(struct plan_task **set, size_t n, int64_t x)
{
  int64_t best = 0;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *k = set[i];
    if (k->policy != PLAN_POLICY_DEADLINE || dl_deadline(k) >= x)
      continue;
    int64_t d = (x - dl_deadline(k) - 1) / k->T * k->T + dl_deadline(k);
    if (d > best)
      best = d;
  }
  return best;
}

static int64_t busy_period(struct plan_task **set, size_t n)
{
  int64_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (set[i]->policy == PLAN_POLICY_DEADLINE)
      w += set[i]->C;
  for (int iter = 0; iter < 100000; iter++) {
    int64_t next = 0;
    for (size_t i = 0; i < n; i++)
      if (set[i]->policy == PLAN_POLICY_DEADLINE)
        next += ceil_div(w, set[i]->T) * set[i]->C;
    if (next == w)
      break;
    w = next;
  }
  return w;
}

bool plan_qpa(struct plan_task **set, size_t n, int64_t *fail_t, int64_t *fail_h)
{
  double u = 0, slack_sum = 0;
  int64_t d_min = INT64_MAX, d_max = 0;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *k = set[i];
    if (k->policy != PLAN_POLICY_DEADLINE)
      continue;
    count++;
    u += util(k);
    slack_sum += (double) (k->T - dl_deadline(k)) * util(k);
    d_min = dl_deadline(k) < d_min ? dl_deadline(k) : d_min;
    d_max = dl_deadline(k) > d_max ? dl_deadline(k) : d_max;
  }
  *fail_t = *fail_h = 0;
  if (count == 0)
    return true;
  if (u > 1.0 + EPS)
    return false;
  int64_t L = busy_period(set, n);
  if (u < 1.0 - EPS) {
    double la = fmax((double) d_max, slack_sum / (1.0 - u));
    if (la < (double) L)
      L = (int64_t) ceil(la) + 1;
  }
  int64_t t = deadline_below(set, n, L + 1);
  int64_t h = demand(set, n, t);
  while (h <= t && h > d_min) {
    t = h < t ? h : deadline_below(set, n, t);
    h = demand(set, n, t);
  }
  if (h <= d_min && h <= t)
    return true;
  *fail_t = t;
  *fail_h = h;
  return false;
}

/* ---- priorities ---- */

int plan_cmp_deadline_monotonic(const void *a, const void *b)
{
  const struct plan_task *x = *(struct plan_task *const *) a, *y = *(struct plan_task *const *) b;
  if (x->D != y->D)
    return x->D < y->D ? -1 : 1;
  if (x->T != y->T)
    return x->T < y->T ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

void plan_assign_priorities(struct plan_task **set, size_t n)
{
  plan_assign_priorities_folded(set, n);
}

bool plan_assign_priorities_folded(struct plan_task **set, size_t n)
{
  bool used[100] = {false};
  struct plan_task *autos_small[64];
  struct plan_task **autos = n <= 64 ? autos_small : xmalloc0(n * sizeof *autos);
  size_t n_auto = 0;
  for (size_t i = 0; i < n; i++) {
    if (set[i]->policy != PLAN_POLICY_FP)
      continue;
    if (set[i]->prio_given)
      used[set[i]->prio] = true;
    else
      autos[n_auto++] = set[i];
  }
  /* Free levels, most urgent first; 99 is left to the kernel's own
   * per-CPU threads (migration, watchdogs). */
  int free_levels[99], n_free = 0;
  for (int p = 98; p >= 1; p--)
    if (!used[p])
      free_levels[n_free++] = p;
  if (n_free == 0)
    free_levels[n_free++] = 1;
  bool sorted = true; /* packing keeps core sets in this order already */
  for (size_t i = 1; i < n_auto && sorted; i++)
    sorted = plan_cmp_deadline_monotonic(&autos[i - 1], &autos[i]) <= 0;
  if (!sorted)
    qsort(autos, n_auto, sizeof *autos, plan_cmp_deadline_monotonic);
  /* Equal deadlines share a level; more levels than free ones are folded
   * evenly (equal priorities are analysed as mutual interference). */
  size_t groups = 0;
  for (size_t i = 0; i < n_auto; i++)
    if (i == 0 || autos[i]->D != autos[i - 1]->D)
      groups++;
  size_t g = 0;
  for (size_t i = 0; i < n_auto; i++) {
    if (i > 0 && autos[i]->D != autos[i - 1]->D)
      g++;
    size_t level = groups <= (size_t) n_free ? g : g * (size_t) n_free / groups;
    autos[i]->prio = free_levels[level];
  }
  if (autos != autos_small)
    free(autos);
  return groups > (size_t) n_free;
}

/* ---- one core ---- */

static void core_utilisation(struct plan_task **set, size_t n, struct plan_core_result *r)
{
  double prod = 1.0;
  r->bounds_apply = true;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *t = set[i];
    r->u += util(t);
    if (t->policy == PLAN_POLICY_DEADLINE) {
      r->u_dl += util(t);
      r->n_dl++;
      r->bounds_apply = false;
      continue;
    }
    r->u_fp += util(t);
    r->n_fp++;
    prod *= util(t) + 1.0;
    if (t->D != t->T || t->J || t->B)
      r->bounds_apply = false;
  }
  r->ll_bound = r->n_fp ? r->n_fp * (pow(2.0, 1.0 / (double) r->n_fp) - 1.0) : 1.0;
  r->ll_ok = r->u_fp <= r->ll_bound + EPS;
  r->hyperbolic = prod;
  r->hyp_ok = prod <= 2.0 + EPS;
}

static void set_reason(char **slot, char *text)
{
  free(*slot);
  *slot = text;
}

/* "ctl (prio 90), log (prio 80), reservation cam" for a failing FP task. */
static char *interference_list(struct plan_task **set, size_t n, const struct plan_task *t)
{
  size_t cap = 256, len = 0, shown = 0, more = 0;
  char *s = xmalloc0(cap);
  for (int pass = 0; pass < 2; pass++)
    for (size_t j = 0; j < n; j++) {
      const struct plan_task *o = set[j];
      if (!interferes(o, t) || (pass == 0) != (o->policy == PLAN_POLICY_DEADLINE))
        continue;
      if (shown == 6) {
        more++;
        continue;
      }
      char item[128];
      if (o->policy == PLAN_POLICY_DEADLINE)
        snprintf(item, sizeof item, "%sreservation %s", shown ? ", " : "", o->name);
      else
        snprintf(item, sizeof item, "%s%s (prio %d%s)", shown ? ", " : "", o->name, o->prio,
                 o->prio == t->prio ? ", same level" : "");
      if (len + strlen(item) + 1 > cap)
        s = xrealloc(s, cap *= 2);
      strcpy(s + len, item);
      len += strlen(item);
      shown++;
    }
  if (more) {
    char tail[64];
    snprintf(tail, sizeof tail, " and %zu more", more);
    s = xrealloc(s, len + sizeof tail);
    strcat(s, tail);
  }
  return s;
}

static void explain_fp_miss(struct plan_task **set, size_t n, struct plan_task *t, int core)
{
  char r[32], d[32], extra[96] = "";
  cleanup_free char *who = interference_list(set, n, t);
  if (t->J || t->B) {
    char j[32], b[32];
    snprintf(extra, sizeof extra, "; release jitter %s, blocking %s", plan_format_duration(t->J, j, sizeof j),
             plan_format_duration(t->B, b, sizeof b));
  }
  if (t->response == INT64_MAX)
    set_reason(&t->reason, xasprintf("%s: response time unbounded (interference at or above 100%%) on core %d, "
                                     "deadline %s (interference from %s%s)", t->name, core,
                                     plan_format_duration(t->D, d, sizeof d), *who ? who : "nothing", extra));
  else
    set_reason(&t->reason, xasprintf("%s: response time %s exceeds deadline %s on core %d (interference from %s%s)",
                                     t->name, plan_format_duration(t->response, r, sizeof r),
                                     plan_format_duration(t->D, d, sizeof d), core, *who ? who : "nothing", extra));
}

static int cmp_prio_desc(const void *a, const void *b)
{
  const struct plan_task *x = *(struct plan_task *const *) a, *y = *(struct plan_task *const *) b;
  return (x->prio < y->prio) - (x->prio > y->prio);
}

/* Fixed-priority tasks from the most urgent down.  When task i is strictly
 * below task k (the previous one), everything that interferes with k also
 * interferes with i, and so does k itself: R_i >= R_k + C_i + B_i - B_k
 * (a proven lower bound), which saves most of the iterations. */
static bool check_fp(struct plan_task **set, size_t n, bool exact, struct plan_core_result *res)
{
  cleanup_free struct plan_task **order = xmalloc0((n + 1) * sizeof *order);
  cleanup_free size_t *pos = xmalloc0((n + 1) * sizeof *pos);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (set[i]->policy == PLAN_POLICY_FP)
      order[m++] = set[i];
  qsort(order, m, sizeof *order, cmp_prio_desc);
  for (size_t k = 0; k < m; k++)
    for (size_t i = 0; i < n; i++)
      if (set[i] == order[k])
        pos[k] = i;
  bool ok = true;
  const struct plan_task *prev = NULL;
  int64_t prev_r = INT64_MAX;
  for (size_t k = 0; k < m; k++) {
    struct plan_task *t = order[k];
    int64_t start = 0;
    if (prev && prev_r != INT64_MAX && prev->prio > t->prio)
      start = prev_r + t->C + t->B - prev->B;
    int64_t r = plan_rta_from(set, n, pos[k], t->D - t->J, start);
    int64_t limit = r == INT64_MAX && exact ? rta_limit(set, n, pos[k]) : INT64_MAX;
    if (limit != INT64_MAX) /* converges: report the true response of the miss */
      r = plan_rta_from(set, n, pos[k], limit, start);
    t->r_base = r == INT64_MAX ? t->r_base : r;
    t->response = r == INT64_MAX ? INT64_MAX : r + t->J;
    t->ok = t->response <= t->D;
    prev = t;
    prev_r = r;
    if (!t->ok) {
      ok = false;
      if (res)
        explain_fp_miss(set, n, t, res->core);
      else if (!exact)
        return false;
    }
  }
  return ok;
}

static char *dl_names(struct plan_task **set, size_t n, int64_t t)
{
  size_t cap = 64;
  for (size_t i = 0; i < n; i++)
    cap += strlen(set[i]->name) + 32;
  char *s = xmalloc0(cap);
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *k = set[i];
    if (k->policy != PLAN_POLICY_DEADLINE || t < dl_deadline(k))
      continue;
    char c[32];
    int64_t jobs = (t - dl_deadline(k)) / k->T + 1;
    sprintf(s + strlen(s), "%s%s %lld x %s", *s ? ", " : "", k->name, (long long) jobs,
            plan_format_duration(k->C, c, sizeof c));
  }
  return s;
}

static void check_dl(struct plan_task **set, size_t n, double rt_ratio, struct plan_core_result *res,
                     bool *qpa_ok, bool *admission_ok)
{
  int64_t ft, fh;
  double u_dl = 0;
  for (size_t i = 0; i < n; i++)
    if (set[i]->policy == PLAN_POLICY_DEADLINE)
      u_dl += util(set[i]);
  *admission_ok = u_dl <= rt_ratio + EPS;
  *qpa_ok = plan_qpa(set, n, &ft, &fh);
  if (res) {
    res->qpa_fail_t = ft;
    res->qpa_fail_h = fh;
  }
  for (size_t i = 0; i < n; i++) {
    struct plan_task *t = set[i];
    if (t->policy != PLAN_POLICY_DEADLINE)
      continue;
    /* EDF over the reservations meets every (D - J) when QPA holds; the
     * job is released at most J late, so it completes by D. */
    t->response = t->D;
    t->ok = *qpa_ok && *admission_ok;
    if (t->ok || res == NULL)
      continue;
    char a[32], b[32];
    if (!*admission_ok)
      set_reason(&t->reason, xasprintf("%s: the kernel would refuse the reservation on core %d: deadline "
                                       "bandwidth %.3f exceeds the limit %.3f (rt_runtime/rt_period less the fair "
                                       "server's share)",
                                       t->name, res->core, u_dl, rt_ratio));
    else if (ft == 0)
      set_reason(&t->reason, xasprintf("%s: deadline reservations on core %d need %.3f of the core (more than all of it)",
                                       t->name, res->core, u_dl));
    else {
      cleanup_free char *who = dl_names(set, n, ft);
      set_reason(&t->reason, xasprintf("%s: deadline reservations on core %d demand %s of work due within "
                                       "the first %s (%s)", t->name, res->core,
                                       plan_format_duration(fh, a, sizeof a), plan_format_duration(ft, b, sizeof b), who));
    }
  }
}

bool plan_partitioned_edf_check(struct plan_task **set, size_t n, int core, double limit,
                                struct plan_core_result *res)
{
  struct plan_core_result local = {.core = core};
  bool qpa_ok, admission_ok;
  check_dl(set, n, limit, res ? res : &local, &qpa_ok, &admission_ok);
  return qpa_ok && admission_ok;
}

bool plan_core_check(struct plan_task **set, size_t n, double rt_ratio, bool exact_responses,
                     struct plan_core_result *res)
{
  struct plan_core_result local = {0};
  struct plan_core_result *r = res ? res : &local;
  int core = r->core;
  bool rt = r->rt, global = r->dl_global;
  double dl_limit = r->dl_limit > 0 ? r->dl_limit : rt_ratio;
  free(r->reason);
  *r = (struct plan_core_result){.core = core, .rt = rt, .dl_global = global, .dl_limit = r->dl_limit};
  core_utilisation(set, n, r);
  /* SCHED_FIFO time beyond rt_runtime/rt_period is throttled by the kernel. */
  r->throttle_ok = r->u_fp <= rt_ratio + EPS;
  if (res == NULL && (!r->throttle_ok || r->u_dl > dl_limit + EPS || r->u > 1.0 + EPS))
    return false;
  if (global) /* the reservations are tested together (global EDF); here they only interfere */
    r->qpa_ok = r->dl_admission_ok = true;
  else
    check_dl(set, n, dl_limit, res, &r->qpa_ok, &r->dl_admission_ok);
  if (res == NULL && !(r->qpa_ok && r->dl_admission_ok))
    return false;
  r->rta_ok = check_fp(set, n, exact_responses, res);
  /* With global reservations, the core's load matters only to its own
   * fixed-priority tasks (the reservations have their own global test). */
  bool load_ok = r->u <= 1.0 + EPS || (global && r->n_fp == 0);
  r->ok = r->throttle_ok && r->qpa_ok && r->dl_admission_ok && r->rta_ok && load_ok;
  if (res && !r->ok) {
    if (!load_ok && global && r->n_dl)
      r->reason = xasprintf("core %d is overloaded: utilisation %.3f > 1 (fixed priorities %.3f + every "
                            "reservation %.3f: reservations run on any core)", core, r->u, r->u_fp, r->u_dl);
    else if (!load_ok)
      r->reason = xasprintf("core %d is overloaded: utilisation %.3f > 1", core, r->u);
    else if (!r->throttle_ok)
      r->reason = xasprintf("core %d: fixed-priority utilisation %.3f exceeds the real-time throttling "
                            "limit %.3f (rt_runtime/rt_period)", core, r->u_fp, rt_ratio);
    else if (!r->dl_admission_ok)
      r->reason = xasprintf("core %d: SCHED_DEADLINE admission fails: bandwidth %.3f > %.3f (rt_runtime/rt_period "
                            "less the kernel's fair server, node.dl_server)", core, r->u_dl, dl_limit);
  }
  return r->ok;
}

/* For the task just added: the closest strictly higher-priority FP task k
 * is unaffected by it, so its r_base is exact, and R_t >= R_k + C_t + B_t -
 * B_k (everything that interferes with k interferes with t, and so does k). */
static int64_t neighbour_bound(struct plan_task **set, size_t n, const struct plan_task *t)
{
  const struct plan_task *k = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct plan_task *o = set[i];
    if (o->policy == PLAN_POLICY_FP && o->prio > t->prio && o->r_base > 0 && (k == NULL || o->prio < k->prio))
      k = o;
  }
  return k ? k->r_base + t->C + t->B - k->B : 0;
}

bool plan_core_accepts(struct plan_task **set, size_t n, double rt_ratio,
                       const struct plan_task *added, bool folded)
{
  double u = 0, u_fp = 0, u_dl = 0;
  for (size_t i = 0; i < n; i++) {
    u += util(set[i]);
    *(set[i]->policy == PLAN_POLICY_DEADLINE ? &u_dl : &u_fp) += util(set[i]);
  }
  if (u > 1.0 + EPS || u_fp > rt_ratio + EPS)
    return false;
  int64_t ft, fh; /* (partitioned reservations only; global ones are never packed) */
  if (added->policy == PLAN_POLICY_DEADLINE && (u_dl > rt_ratio + EPS || !plan_qpa(set, n, &ft, &fh)))
    return false;
  /* Lowest priority first (packing keeps sets in deadline-monotonic
   * order): that is where a placement fails, and failing fast is cheap. */
  for (size_t i = n; i-- > 0;) {
    struct plan_task *t = set[i];
    if (t->policy != PLAN_POLICY_FP)
      continue;
    int64_t start = 0;
    if (t != added) {
      if (!folded && !interferes(added, t) && t->r_base > 0)
        continue; /* unaffected: its last response still holds */
      start = t->r_base + (interferes(added, t) ? added->C : 0);
      if (start + t->J > t->D)
        return false; /* the new interference alone breaks it */
    } else if (!folded) {
      start = neighbour_bound(set, n, t);
    }
    int64_t r = plan_rta_from(set, n, i, t->D - t->J, start);
    if (r == INT64_MAX)
      return false;
    t->r_base = r;
  }
  return true;
}

/* ---- cgroup real-time budgets of SCHED_FIFO containers ---- */

void plan_fifo_budget(const struct plan_task *t, int64_t window, int64_t *period_us, int64_t *runtime_us)
{
  rt_fifo_budget(t->C, t->T, t->D, window, period_us, runtime_us); /* shared with the runtime (tenants) */
}

/* ---- deadline reservations: global EDF on the root domain ---- */

static double density(const struct plan_task *t)
{
  int64_t d = dl_deadline(t) < t->T ? dl_deadline(t) : t->T;
  return (double) t->C / (double) d;
}

/* BCL: for every task k, sum over i != k of min(beta_i, 1 - lambda_k) <
 * m (1 - lambda_k), beta_i = W_i(D_k) / D_k with the carry-in workload
 * W_i(D_k) = N C_i + min(C_i, max(0, D_k - N T_i)), N = floor((D_k -
 * D_i) / T_i) + 1 (Bertogna, Cirinei & Lipari, ECRTS 2005, Theorem 4,
 * strict form).  Returns the first failing task or NULL. */
static const struct plan_task *bcl_fails(struct plan_task **dl, size_t n, int m)
{
  for (size_t k = 0; k < n; k++) {
    int64_t Dk = dl_deadline(dl[k]);
    double lambda = (double) dl[k]->C / (double) Dk, sum = 0;
    for (size_t i = 0; i < n; i++) {
      if (i == k)
        continue;
      int64_t diff = Dk - dl_deadline(dl[i]);
      int64_t N = diff >= 0 ? diff / dl[i]->T + 1 : 0; /* D_i <= T_i: diff > -T_i */
      int64_t rest = Dk - N * dl[i]->T;
      int64_t W = N * dl[i]->C + (rest <= 0 ? 0 : rest < dl[i]->C ? rest : dl[i]->C);
      double beta = (double) W / (double) Dk;
      sum += beta < 1.0 - lambda ? beta : 1.0 - lambda;
    }
    if (!(sum < (double) m * (1.0 - lambda) - EPS))
      return dl[k];
  }
  return NULL;
}

static void dl_verdicts(struct plan_task **dl, size_t n, const struct plan_dl_result *res)
{
  for (size_t i = 0; i < n; i++) {
    dl[i]->response = dl[i]->D;
    dl[i]->ok = res->ok;
    if (!res->ok)
      set_reason(&dl[i]->reason, xasprintf("%s: %s", dl[i]->name, res->reason));
  }
}

bool plan_global_edf_check(struct plan_task **set, size_t n, int m, double rt_ratio, struct plan_dl_result *res)
{
  free(res->reason);
  *res = (struct plan_dl_result){.m = m};
  cleanup_free struct plan_task **dl = xmalloc0((n + 1) * sizeof *dl);
  for (size_t i = 0; i < n; i++)
    if (set[i]->policy == PLAN_POLICY_DEADLINE) {
      dl[res->n++] = set[i];
      res->u += util(set[i]);
      res->density += density(set[i]);
      res->density_max = fmax(res->density_max, density(set[i]));
    }
  res->admission_limit = rt_ratio * m;
  res->gfb_bound = m - (m - 1) * res->density_max;
  if (res->n == 0) {
    res->admission_ok = res->gfb_ok = res->bcl_ok = res->qpa_ok = res->ok = true;
    return true;
  }
  res->admission_ok = res->u <= res->admission_limit + EPS;
  res->gfb_ok = res->density <= res->gfb_bound + EPS;
  const struct plan_task *bcl_bad = bcl_fails(dl, res->n, m);
  res->bcl_ok = bcl_bad == NULL;
  int64_t ft = 0, fh = 0;
  res->qpa_ok = m == 1 && plan_qpa(dl, res->n, &ft, &fh);
  res->test = res->qpa_ok ? "QPA (one CPU: exact)" : res->gfb_ok ? "GFB density bound"
              : res->bcl_ok ? "BCL (Bertogna, Cirinei & Lipari)" : NULL;
  res->ok = res->admission_ok && res->test != NULL;
  if (!res->admission_ok)
    res->reason = xasprintf("the kernel would refuse the reservations: their bandwidth %.3f exceeds %.2f x %d %s "
                            "= %.3f (SCHED_DEADLINE admission, rt_runtime/rt_period x CPUs of the root domain)",
                            res->u, rt_ratio, m, plan_noun(m, "CPU", "CPUs"), res->admission_limit);
  else if (!res->ok && m == 1 && ft > 0) {
    char a[32], b[32];
    cleanup_free char *who = dl_names(dl, res->n, ft);
    res->reason = xasprintf("deadline reservations (EDF on the one CPU) demand %s of work due within the first %s (%s)",
                            plan_format_duration(fh, a, sizeof a), plan_format_duration(ft, b, sizeof b), who);
  } else if (!res->ok && m == 1)
    res->reason = xasprintf("deadline reservations need %.3f of the one CPU (more than all of it)", res->u);
  else if (!res->ok)
    res->reason = xasprintf("global EDF on %d CPUs is not shown schedulable: GFB needs density %.3f <= %d - %d x "
                            "%.3f (densest task) = %.3f, and BCL fails for %s (bandwidth %.3f fits the kernel's "
                            "admission %.3f, which is necessary, not sufficient: Dhall's effect)",
                            m, res->density, m, m - 1, res->density_max, res->gfb_bound, bcl_bad->name, res->u,
                            res->admission_limit);
  dl_verdicts(dl, res->n, res);
  return res->ok;
}
