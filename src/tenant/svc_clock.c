/* svc_clock.c - the `clock` service: monotonic and wall time, and
 * sleep_until for periodic loops (absolute deadlines: no drift).
 *
 * This is the shortest path through the ABI and the one the per-call
 * benchmark measures: a pending-update check, a counter, one bit test,
 * the platform's clock. */
#include "abi.h"

static inline bool granted(struct tenant_ctx *ctx)
{
  tenant_ctx_poll(ctx);
  ctx->stats->svc[TENANT_SVC_CLOCK].calls++;
  return (ctx->granted & (1u << TENANT_SVC_CLOCK)) != 0;
}

static int fn_clock_now(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst, (void) args;
  struct tenant_ctx *ctx = host_ctx;
  results[0].i64 = granted(ctx) ? (int64_t) ctx->pf->now_ns(ctx->pf_ctx) : tenant_deny(ctx, TENANT_SVC_CLOCK, "clock_now");
  return 0;
}

static int fn_clock_wall(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst, (void) args;
  struct tenant_ctx *ctx = host_ctx;
  if (!granted(ctx))
    results[0].i64 = tenant_deny(ctx, TENANT_SVC_CLOCK, "clock_wall");
  else if (ctx->pf->wall_ns == NULL)
    results[0].i64 = tenant_failed(ctx, TENANT_SVC_CLOCK, EDGECR_ENOSYS);
  else
    results[0].i64 = (int64_t) ctx->pf->wall_ns(ctx->pf_ctx);
  return 0;
}

static int fn_sleep_until(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = host_ctx;
  if (!granted(ctx)) {
    results[0].i32 = tenant_deny(ctx, TENANT_SVC_CLOCK, "sleep_until");
    return 0;
  }
  if (args[0].i64 < 0) {
    results[0].i32 = tenant_failed(ctx, TENANT_SVC_CLOCK, EDGECR_EINVAL);
    return 0;
  }
  if (ctx->pf->sleep_until == NULL) {
    results[0].i32 = tenant_failed(ctx, TENANT_SVC_CLOCK, EDGECR_ENOSYS);
    return 0;
  }
  int rc = ctx->pf->sleep_until(ctx->pf_ctx, inst, (uint64_t) args[0].i64);
  results[0].i32 = rc < 0 ? tenant_failed(ctx, TENANT_SVC_CLOCK, rc) : EDGECR_OK;
  return rc == TENANT_SLEEP_SUSPEND ? ew_host_suspend(inst) : 0;
}

const struct tenant_fn tenant_fns_clock[] = {
  {"clock_now", "", "I", TENANT_SVC_CLOCK, fn_clock_now},
  {"clock_wall", "", "I", TENANT_SVC_CLOCK, fn_clock_wall},
  {"sleep_until", "I", "i", TENANT_SVC_CLOCK, fn_sleep_until},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
