/* rt_budget.h - the cgroup real-time budget of a periodic SCHED_FIFO task
 * (docs/plan.md section 4), shared by the plan analysis (plan_fifo_budget)
 * and the runtime (a tenant's schedule, src/wasm-backend/wasm_sched.c), so
 * that a container gets the same budget whether a plan or its signed
 * metadata asks for it. */
#ifndef EDGECR_RT_BUDGET_H
#define EDGECR_RT_BUDGET_H

#include <stdint.h>

/* The budget that never throttles a task of execution time C, period T
 * and deadline D (ns) while it meets its deadline: period = the longest
 * multiple k T of T up to `window` (at least T), rounded up to
 * microseconds, and runtime = the most the task can execute in any window
 * of that length when every job ends by its deadline: W(P) = N C + min(C,
 * P + D - C - N T), N = floor((P + D - C) / T) (so k C + min(C, D - C)
 * when P = k T), at most P.  Both in microseconds, rounded up. */
void rt_fifo_budget(int64_t C, int64_t T, int64_t D, int64_t window, int64_t *period_us, int64_t *runtime_us);

#endif
