/* svc_log.c - the `log` service: one message to the container's log,
 * under the tenant's rate limit.
 *
 * The rate limit is a token bucket of perms.log_rate tokens refilled at
 * log_rate per second; the clock is read only when the bucket is empty,
 * so a tenant under its limit pays no clock read per message. */
#include "abi.h"

static bool take_token(struct tenant_ctx *ctx)
{
  uint32_t rate = ctx->meta.perms.log_rate;
  if (rate == 0)
    return true;
  if (ctx->log_tokens == 0) {
    uint64_t now = ctx->pf->now_ns(ctx->pf_ctx);
    uint64_t per_token = 1000000000ull / rate;
    uint64_t earned = (now - ctx->log_tokens_at_ns) / (per_token ? per_token : 1);
    if (earned == 0)
      return false;
    ctx->log_tokens = earned > rate ? rate : (uint32_t) earned;
    ctx->log_tokens_at_ns = now;
  }
  ctx->log_tokens--;
  return true;
}

static int fn_log(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = host_ctx;
  tenant_ctx_poll(ctx);
  ctx->stats->svc[TENANT_SVC_LOG].calls++;
  if ((ctx->granted & (1u << TENANT_SVC_LOG)) == 0) {
    results[0].i32 = tenant_deny(ctx, TENANT_SVC_LOG, "log");
    return 0;
  }
  int32_t level = args[0].i32;
  uint32_t ptr = (uint32_t) args[1].i32, len = (uint32_t) args[2].i32;
  const char *msg = ew_memory_ptr(inst, ptr, len);
  if (level < EDGECR_LOG_ERROR || level > EDGECR_LOG_DEBUG || (msg == NULL && len != 0)) {
    results[0].i32 = tenant_failed(ctx, TENANT_SVC_LOG, EDGECR_EINVAL);
    return 0;
  }
  if (!take_token(ctx)) {
    results[0].i32 = tenant_failed(ctx, TENANT_SVC_LOG, EDGECR_ERATE);
    return 0;
  }
  int rc = ctx->pf->log(ctx->pf_ctx, level, msg, len > TENANT_LOG_MAX ? TENANT_LOG_MAX : len);
  results[0].i32 = rc < 0 ? tenant_failed(ctx, TENANT_SVC_LOG, rc) : EDGECR_OK;
  return 0;
}

const struct tenant_fn tenant_fns_log[] = {
  {"log", "iii", "i", TENANT_SVC_LOG, fn_log},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
