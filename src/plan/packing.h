/* packing.h - placing the unpinned SCHED_FIFO containers on cores (used by
 * assign.c): first-fit or worst-fit decreasing by utilisation, every
 * placement confirmed per core, first by a cheap sufficient response-time
 * bound and only when that fails by the exact, warm-started test.  Global
 * deadline reservations are never placed: each core set holds all of them
 * as interference (they run under global EDF on every core); partitioned
 * ones (node.deadline: partitioned) are placed like FIFO containers, each
 * placement confirmed by the core's admission and QPA. */
#ifndef EDGECR_PLAN_PACKING_H
#define EDGECR_PLAN_PACKING_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis.h"
#include "model.h"

struct core_set {
  struct plan_task **t; /* deadline-monotonic order */
  size_t n, cap;
  double u, u_fp, u_dl;
};

struct packing {
  struct core_set *cores;
  int n_cores;
  int *rt_cores; /* indices of cores reserved for real-time */
  int n_rt;
  double rt_ratio;
  bool partitioned; /* node.deadline: partitioned: reservations are placed too */
  double dl_limit;  /* deadline bandwidth admitted per partitioned core */
  int64_t *saved; /* r_base of a core's tasks before a tentative placement */
  size_t saved_cap;
  int *by_load;   /* rt cores, least utilised first (worst-fit order) */
  struct plan_task **dl; /* the reservations (interference on every core) */
  size_t n_dl;
};

void plan_packing_init(struct packing *p, const struct plan_config *c);
void plan_packing_free(struct packing *p);

/* Place the unpinned FIFO tasks (node.assignment decides the heuristics);
 * returns the name of the heuristic that succeeded, or what failed.
 * *found tells whether every task found a core passing the test.  The core
 * sets stay filled for the final verdicts. */
const char *plan_pack(struct packing *p, const struct plan_config *c, struct plan_task *tasks, size_t n,
                      bool *found);

/* The sufficient response-time bound (packing.c): true when it proves
 * every FIFO task of the set schedulable with the priorities in effect. */
bool plan_core_bound_ok(struct plan_task **set, size_t n);

#endif
