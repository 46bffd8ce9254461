/* analysis.h - schedulability analysis of a system configuration.
 *
 * Per core, for the SCHED_FIFO containers: utilisation, Liu & Layland and
 * hyperbolic bounds (sufficient, for information), exact response-time
 * analysis (with release jitter and blocking) counting every deadline
 * reservation of the node as interference, and the real-time throttling
 * limit.  The deadline reservations, which the kernel runs unpinned, as
 * one global EDF set on all CPUs: the kernel's admission rule, the GFB and
 * BCL tests, QPA (Zhang & Burns) on a one-CPU node.  The FIFO containers'
 * cgroup budgets and their node-wide sum.  Assignment of unpinned FIFO
 * containers to cores (first-fit / worst-fit decreasing, exact test per
 * core) and deadline-monotonic priorities.  With node.deadline:
 * partitioned, the reservations are placed on cores too and analysed per
 * core (the kernel's per-root-domain admission less the fair server, QPA),
 * interfering with that core's FIFO tasks only.  See docs/plan.md. */
#ifndef EDGECR_PLAN_ANALYSIS_H
#define EDGECR_PLAN_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* One real-time container, flattened for analysis. */
struct plan_task {
  const char *name;
  size_t id;              /* index in plan_config.containers */
  int64_t C, T, D, J, B;  /* budget, period, deadline, jitter, blocking (ns) */
  enum plan_policy policy;
  int prio;               /* SCHED_FIFO priority in effect (FP), 0 for deadline */
  bool prio_given;
  int core;               /* assigned core, -1 none */
  bool pinned;
  bool partitioned;       /* a reservation confined to the root domain of its
                             core (node.deadline: partitioned): EDF per core */
  int64_t r_base;         /* response (w/o jitter) in the last accepted placement:
                             a lower bound that warm-starts RTA while packing */
  /* results */
  int64_t response;       /* worst-case response incl. jitter; INT64_MAX unbounded */
  bool ok;
  char *reason;           /* why not ok, in words (NULL when ok) */
};

struct plan_core_result {
  int core;
  bool rt;                 /* reserved for real-time */
  size_t n_fp, n_dl;
  double u, u_fp, u_dl;
  double ll_bound;         /* n(2^(1/n)-1) for the FP tasks */
  bool ll_ok;
  double hyperbolic;       /* prod(U_i + 1) for the FP tasks, must be <= 2 */
  bool hyp_ok;
  bool bounds_apply;       /* D = T, no jitter/blocking, no reservations */
  bool dl_global;          /* input: reservations in the set are global
                              interference only (their test is global EDF) */
  double dl_limit;         /* input: deadline bandwidth the kernel admits on
                              this core (partitioned); 0 = rt_runtime/rt_period */
  bool rta_ok, qpa_ok, dl_admission_ok, throttle_ok, ok;
  int64_t qpa_fail_t, qpa_fail_h; /* first t with h(t) > t when !qpa_ok */
  char *reason;            /* core-level failure in words */
};

/* The deadline reservations as one global EDF task set on the m CPUs of
 * the root domain (docs/plan.md section 2, "Deadline reservations"). */
struct plan_dl_result {
  int m;                   /* CPUs of the root domain */
  size_t n;
  double u, density, density_max; /* sums of C/T and C/min(D - J, T); largest density */
  double admission_limit;  /* rt_ratio x m */
  double gfb_bound;        /* m - (m - 1) density_max */
  bool admission_ok, gfb_ok, bcl_ok, qpa_ok, ok;
  const char *test;        /* the sufficient test that passed, or NULL */
  char *reason;            /* why not, in words */
};

struct plan_analysis {
  struct plan_task *tasks;
  size_t n;
  struct plan_core_result *cores;
  int n_cores;
  double rt_ratio;          /* rt_runtime / rt_period */
  const char *assignment;   /* "pinned", "none needed (no SCHED_FIFO container)",
                               "first-fit decreasing", "worst-fit decreasing",
                               "none found (worst-fit placement shown)" */
  bool schedulable;
  bool assignment_found;    /* every unpinned FIFO container found a core */
  bool memory_ok;           /* the memory limits fit node.memory */
  char *problem;            /* plan-wide problem (assignment, global admission), or NULL */
  struct plan_dl_result dl; /* the deadline reservations, global EDF */
  /* The SCHED_FIFO containers' cgroup budgets, summed as the kernel does
   * (CONFIG_RT_GROUP_SCHED: siblings' runtime/period must fit the parent's,
   * on every CPU at once): must not exceed rt_ratio. */
  double fifo_budget_sum;
  bool fifo_budget_ok;
  bool fifo_groups;         /* node.fifo_budgets: groups (else none: stock kernel) */
  bool fifo_budgets_probed; /* node.fifo_budgets: auto: fifo_groups is this machine's */
  bool dl_partitioned;      /* node.deadline: partitioned */
  double dl_core_limit;     /* deadline bandwidth the kernel admits per partitioned core */
  char *partition_cpus;     /* cores that get a partition ("1,3"), "" none */
  char *general_cpus;       /* cores left to best-effort work */
  char **warnings;          /* NULL-terminated: things that pass but deserve a word */
};

int plan_analyse(const struct plan_config *c, struct plan_analysis **out, edgecr_error_t *err);
void plan_analysis_free(struct plan_analysis *a);

/* The cgroup real-time budget that never throttles SCHED_FIFO task `t`
 * while it meets its deadline (docs/plan.md section 4): period P = the
 * longest multiple k T of its period up to `window` (the node's rt_period;
 * at least T), rounded up to microseconds, and runtime = the most the task
 * can execute in any window of length P when every job ends by its
 * deadline: W(P) = N C + min(C, P + D - C - N T), N = floor((P + D - C) /
 * T) (so k C + min(C, D - C) when P = k T).  It depends on the task's own
 * C, T, D only.  Runtime in microseconds, rounded up. */
void plan_fifo_budget(const struct plan_task *t, int64_t window, int64_t *period_us, int64_t *runtime_us);

/* ---- building blocks (exported for the tests and the benchmark) ---- */

/* Build the task array from the configuration (no assignment yet). */
struct plan_task *plan_tasks_from_config(const struct plan_config *c, size_t *n);

/* Give priorities to the FP tasks without one, deadline-monotonic, among
 * the levels 1..98 that the explicitly prioritised tasks do not use. */
void plan_assign_priorities(struct plan_task **set, size_t n);
/* Same; returns true when there were more deadline groups than free levels
 * and some were folded onto one level. */
bool plan_assign_priorities_folded(struct plan_task **set, size_t n);

/* Exact test of the tasks of one core; fills responses (and reasons when
 * res != NULL). `exact_responses` continues past the deadline to report
 * the true response time of a failing task.  Returns true if schedulable. */
bool plan_core_check(struct plan_task **set, size_t n, double rt_ratio,
                     bool exact_responses, struct plan_core_result *res);

/* Global EDF test of the deadline reservations of the set on m CPUs: the
 * kernel's admission rule (sum C/T <= rt_ratio m, necessary), then the
 * sufficient tests GFB (Goossens, Funk & Baruah 2003) and BCL (Bertogna,
 * Cirinei & Lipari 2005), and on one CPU the exact QPA.  Sets every
 * reservation's response (D), verdict and reason.  Returns res->ok. */
bool plan_global_edf_check(struct plan_task **set, size_t n, int m, double rt_ratio, struct plan_dl_result *res);

/* Partitioned EDF of the reservations of one core: the kernel's per-root-
 * domain admission (sum C/T <= limit) and QPA, exact for EDF on one CPU.
 * Sets each reservation's response (D), verdict and reason. */
bool plan_partitioned_edf_check(struct plan_task **set, size_t n, int core, double limit,
                                struct plan_core_result *res);

/* The release jitter with which a reservation interferes with SCHED_FIFO
 * tasks: its budget can run anywhere between its release and its deadline
 * (D for a partitioned one, which QPA proves; T for a global one). */
int64_t plan_dl_interference_jitter(const struct plan_task *t);

/* qsort order of deadline-monotonic priority (shortest deadline first) on
 * an array of struct plan_task pointers. */
int plan_cmp_deadline_monotonic(const void *a, const void *b);

/* The packing test: does the core still pass after `added` joined it?
 * Uses and updates the warm starts (r_base) of the tasks; when priorities
 * were not folded, tasks above `added` are not affected and are skipped,
 * and a task below it needs at least r_base + C(added). */
bool plan_core_accepts(struct plan_task **set, size_t n, double rt_ratio,
                       const struct plan_task *added, bool folded);

/* Response time (without the task's own jitter) of task `i` of the set
 * under fixed priorities, or INT64_MAX when it exceeds `limit`.  The
 * iteration starts from `start` when larger than the usual first value
 * (any lower bound of the response keeps the result exact). */
int64_t plan_rta(struct plan_task **set, size_t n, size_t i, int64_t limit);
int64_t plan_rta_from(struct plan_task **set, size_t n, size_t i, int64_t limit, int64_t start);

/* QPA on the deadline tasks of the set.  Returns true if the demand bound
 * holds; on failure *fail_t, *fail_h give a t with h(t) > t. */
bool plan_qpa(struct plan_task **set, size_t n, int64_t *fail_t, int64_t *fail_h);

#endif
