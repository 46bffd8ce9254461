/* activate.c - the activations of a reactor tenant, portable part
 * (activate.h; docs/tenants.md, "Schedule and activations").
 *
 * Releases are absolute (release k = first + the sum of the periods in
 * effect before it), so activations do not drift whatever each one costs.
 * The schedule is read at each release after applying a pending live
 * update: a new period moves the releases from the next one on, a new
 * budget or deadline applies to the next activation. */
#include "activate.h"

static uint64_t deadline_of(const struct tenant_schedule *s, uint64_t period)
{
  return s->deadline_ns ? s->deadline_ns : period;
}

void tenant_act_start(struct tenant_act *a, const struct tenant_ctx *ctx, uint64_t now)
{
  *a = (struct tenant_act){.release = now, .period = ctx->meta.schedule.period_ns};
}

bool tenant_act_release(struct tenant_act *a, struct tenant_ctx *ctx, uint64_t now)
{
  tenant_ctx_poll(ctx);
  const struct tenant_schedule *s = &ctx->meta.schedule;
  if (s->period_ns > 0)
    a->period = s->period_ns;
  uint64_t deadline = deadline_of(s, a->period);
  a->skipped = 0;
  if (now >= a->release + deadline) { /* every release whose deadline has passed */
    a->skipped = (now - a->release - deadline) / a->period + 1;
    ctx->stats->misses += a->skipped;
    a->release += a->skipped * a->period;
    return false;
  }
  ctx->stats->activations++;
  a->budget = s->budget_ns;
  a->deadline_at = a->release + deadline;
  return true;
}

enum tenant_cut tenant_act_check(const struct tenant_act *a, uint64_t cpu_used, uint64_t now, bool throttled)
{
  if (a->budget > 0 && cpu_used > a->budget)
    return TENANT_CUT_BUDGET;
  if (now < a->deadline_at)
    return TENANT_CUT_NONE;
  if (a->budget > 0 && (throttled || cpu_used >= a->budget - a->budget / 10))
    return TENANT_CUT_BUDGET;
  return TENANT_CUT_DEADLINE;
}

void tenant_act_end(struct tenant_act *a, struct tenant_ctx *ctx, enum tenant_cut cut)
{
  if (cut == TENANT_CUT_BUDGET)
    ctx->stats->overruns++;
  else if (cut == TENANT_CUT_DEADLINE)
    ctx->stats->misses++;
  a->release += a->period;
}
