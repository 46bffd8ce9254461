/* activate.h - the activations of a reactor tenant, portable part
 * (docs/tenants.md, "Schedule and activations"): release times, the
 * schedule of each activation read from the tenant's context (so a live
 * update counts from the next activation), when an activation is cut and
 * why, and the counters (struct tenant_stats: activations, overruns,
 * misses).  No OS calls: the host passes the times in (CLOCK_MONOTONIC
 * and the thread's CPU time on Linux, src/wasm-backend/wasm_activate.c;
 * the microcontroller host its own), sleeps, and runs the call. */
#ifndef EDGECR_TENANT_ACTIVATE_H
#define EDGECR_TENANT_ACTIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi.h"

struct tenant_act {
  uint64_t release;      /* this (or the next) release, monotonic ns */
  uint64_t period;       /* in effect (a schedule without one keeps the last) */
  uint64_t budget;       /* of the activation in progress; 0: none */
  uint64_t deadline_at;  /* its absolute deadline */
  uint64_t skipped;      /* releases the last tenant_act_release skipped */
};

enum tenant_cut {
  TENANT_CUT_NONE,       /* goes on */
  TENANT_CUT_BUDGET,     /* used more than its budget: an overrun */
  TENANT_CUT_DEADLINE,   /* still running at its deadline: a miss */
};

/* The first release is `now`; ctx's schedule must have a period. */
void tenant_act_start(struct tenant_act *a, const struct tenant_ctx *ctx, uint64_t now);

/* At a->release or later (`now`): apply a pending update, take the
 * schedule of this release.  true: the activation runs now (counted;
 * a->budget, a->deadline_at set).  false: the releases whose deadline has
 * passed are skipped and counted as misses (a->skipped of them), and
 * a->release is the next one to wait for. */
bool tenant_act_release(struct tenant_act *a, struct tenant_ctx *ctx, uint64_t now);

/* Between two slices of the activation (or after a sleep in it): cut it?
 * `cpu_used`: the CPU time it has used; `throttled`: the host's scheduler
 * says it held the tenant back for using up its reservation (Linux:
 * SIGXCPU of SCHED_FLAG_DL_OVERRUN).  Under a reservation equal to the
 * budget, which also pays for the host's own work at the release, the
 * tenant is throttled a little before the activation itself used the
 * budget and runs again only past its deadline: an activation cut at its
 * deadline that used 90 % of its budget or more counts as an overrun. */
enum tenant_cut tenant_act_check(const struct tenant_act *a, uint64_t cpu_used, uint64_t now, bool throttled);

/* The activation ended (returned, or cut): count the cut, move to the
 * next release. */
void tenant_act_end(struct tenant_act *a, struct tenant_ctx *ctx, enum tenant_cut cut);

#endif
