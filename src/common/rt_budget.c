/* rt_budget.c - the cgroup real-time budget of a periodic SCHED_FIFO task
 * (rt_budget.h). */
#include "rt_budget.h"

void rt_fifo_budget(int64_t C, int64_t T, int64_t D, int64_t window, int64_t *period_us, int64_t *runtime_us)
{
  /* The longest multiple of T up to `window`: the unaligned job costs
   * min(C, D - C) once per window, so a longer window brings the ratio
   * down to C/T (it only changes how late a runaway is throttled). */
  int64_t k = window > T ? window / T : 1;
  int64_t p_us = (k * T + 999) / 1000, P = p_us * 1000, W;
  /* Job k runs inside [kT, kT + D] when the task meets its deadline D
   * (which counts the release jitter), so a window of length P holds N
   * whole jobs and at most min(C, rest) of one more: the workload bound of
   * Bertogna, Cirinei & Lipari.  The deadline, not the analysed response:
   * the budget then depends on the container's own requirements only, so
   * a change elsewhere in the plan never changes it (and never restarts
   * it, docs/plan.md section 5). */
  int64_t N = (P + D - C) / T;
  int64_t rest = P + D - C - N * T;
  W = N * C + (rest < C ? rest : C);
  W = W < P ? W : P;
  *period_us = p_us;
  *runtime_us = (W + 999) / 1000;
}
