/* sim.h - discrete-event simulation of the task sets of plan analysis:
 * synchronous release at 0, strictly periodic jobs that each run for their
 * full budget.  Partitioned reservations (t->partitioned) run by EDF on
 * their own core, above its fixed-priority tasks.  Other deadline
 * reservations are scheduled by global EDF over all
 * n_cores CPUs (the m earliest deadlines run; a reservation keeps its last
 * CPU when it can, else takes the lowest free one), above the
 * fixed-priority tasks, which are pinned to their core (as SCHED_DEADLINE
 * runs before SCHED_FIFO); fixed priorities preemptive, FIFO among equals.
 * Used to draw the SVG timeline and, in the tests, to check the analysis. */
#ifndef EDGECR_PLAN_SIM_H
#define EDGECR_PLAN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

struct plan_sim_segment {   /* one stretch of execution */
  int core;
  size_t task;              /* index into the task array */
  int64_t start, end;
  int64_t job_release;
  bool late;                /* the job is already past its deadline */
};

struct plan_sim_miss {
  size_t task;
  int64_t release, deadline, finish; /* finish = -1: not finished by the horizon */
};

struct plan_sim {
  int64_t horizon;
  size_t n_tasks;
  int64_t *worst_response;  /* per task, over finished jobs */
  size_t *jobs, *misses;    /* per task */
  struct plan_sim_segment *seg;
  size_t n_seg;
  struct plan_sim_miss *miss;
  size_t n_miss;
  bool truncated;           /* more segments than recorded */
};

/* Simulate [0, horizon).  Fixed-priority tasks must carry their core and
 * priority (as after plan_analyse); a reservation's core is ignored.  record: keep segments and misses for drawing. */
void plan_simulate(const struct plan_task *tasks, size_t n, int n_cores, int64_t horizon,
                   bool record, struct plan_sim *out);
void plan_sim_free(struct plan_sim *s);

/* Least common multiple of the periods, or `cap` when it exceeds cap. */
int64_t plan_hyperperiod(const struct plan_task *tasks, size_t n, int64_t cap);

#endif
