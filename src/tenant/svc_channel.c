/* svc_channel.c - the `channel` service: a WebAssembly tenant's end of a
 * shared-memory channel (docs/channels.md), under its metadata's channel
 * grants: `send` gives TENANT_R_WRITE, `receive` TENANT_R_READ.
 *
 * channel_open(name, access) checks that the grant covers every access
 * asked for and opens the platform's end(s); channel_send and channel_recv
 * test the handle's current rights (a live update may revoke them) and
 * hand the guest's memory range to the platform, which copies the message
 * straight into the channel or out of it: one copy, no staging buffer.
 * Messages have the channel's fixed size (the platform says so with
 * EDGECR_EINVAL for a send of another length and EDGECR_E2BIG for a
 * receive buffer too small). */
#include "abi.h"

static bool service_granted(struct tenant_ctx *ctx)
{
  tenant_ctx_poll(ctx);
  ctx->stats->svc[TENANT_SVC_CHANNEL].calls++;
  return (ctx->granted & (1u << TENANT_SVC_CHANNEL)) != 0;
}

static uint8_t rights_for(int32_t access)
{
  return (uint8_t) (((access & EDGECR_CHAN_SEND) ? TENANT_R_WRITE : 0) |
                    ((access & EDGECR_CHAN_RECEIVE) ? TENANT_R_READ : 0));
}

static int32_t channel_open(ew_instance *inst, struct tenant_ctx *ctx, const ew_value *args)
{
  if (!service_granted(ctx))
    return tenant_deny(ctx, TENANT_SVC_CHANNEL, "channel_open");
  char name[TENANT_NAME_MAX];
  int32_t access = args[2].i32;
  if (tenant_guest_name(inst, (uint32_t) args[0].i32, (uint32_t) args[1].i32, name) < 0 || access <= 0 ||
      (access & ~(EDGECR_CHAN_SEND | EDGECR_CHAN_RECEIVE)) != 0)
    return tenant_failed(ctx, TENANT_SVC_CHANNEL, EDGECR_EINVAL);
  uint8_t rights = tenant_rights(&ctx->meta.perms, TENANT_SVC_CHANNEL, name), need = rights_for(access);
  if ((rights & need) != need)
    return tenant_deny(ctx, TENANT_SVC_CHANNEL, "channel_open");
  const struct tenant_platform *pf = ctx->pf;
  if (pf->chan_open == NULL)
    return tenant_failed(ctx, TENANT_SVC_CHANNEL, EDGECR_ENOSYS);
  void *obj = NULL;
  unsigned acc = ((access & EDGECR_CHAN_SEND) ? TENANT_CHAN_SEND : 0u) |
                 ((access & EDGECR_CHAN_RECEIVE) ? TENANT_CHAN_RECEIVE : 0u);
  int rc = pf->chan_open(ctx->pf_ctx, name, acc, &obj);
  if (rc < 0)
    return tenant_failed(ctx, TENANT_SVC_CHANNEL, rc);
  int h = tenant_handle_new(ctx, TENANT_SVC_CHANNEL, name, rights, obj);
  if (h < 0) {
    if (pf->chan_close != NULL)
      pf->chan_close(ctx->pf_ctx, obj);
    return tenant_failed(ctx, TENANT_SVC_CHANNEL, h);
  }
  return h;
}

static int fn_channel_open(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  results[0].i32 = channel_open(inst, host_ctx, args);
  return 0;
}

/* The handle for an operation needing `right`, or a negative result. */
static struct tenant_handle *handle_for(struct tenant_ctx *ctx, int32_t h, uint8_t right, const char *fn,
                                        int32_t *rc)
{
  if (!service_granted(ctx)) {
    *rc = tenant_deny(ctx, TENANT_SVC_CHANNEL, fn);
    return NULL;
  }
  struct tenant_handle *hd = tenant_handle_get(ctx, h, TENANT_SVC_CHANNEL);
  if (hd == NULL) {
    *rc = tenant_failed(ctx, TENANT_SVC_CHANNEL, EDGECR_EBADH);
    return NULL;
  }
  if ((hd->rights & right) == 0) { /* never granted, or revoked by a live update */
    *rc = tenant_deny(ctx, TENANT_SVC_CHANNEL, fn);
    return NULL;
  }
  return hd;
}

static int fn_channel_send(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = host_ctx;
  int32_t rc = EDGECR_OK;
  struct tenant_handle *h = handle_for(ctx, args[0].i32, TENANT_R_WRITE, "channel_send", &rc);
  if (h != NULL) {
    uint32_t ptr = (uint32_t) args[1].i32, len = (uint32_t) args[2].i32;
    const void *msg = ew_memory_ptr(inst, ptr, len);
    if (msg == NULL)
      rc = tenant_failed(ctx, TENANT_SVC_CHANNEL, EDGECR_EINVAL);
    else if ((rc = ctx->pf->chan_send(ctx->pf_ctx, h->obj, msg, len)) < 0 && rc != EDGECR_EAGAIN)
      rc = tenant_failed(ctx, TENANT_SVC_CHANNEL, rc); /* a full queue is not a failure */
  }
  results[0].i32 = rc;
  return 0;
}

static int fn_channel_recv(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = host_ctx;
  int32_t rc = EDGECR_OK;
  struct tenant_handle *h = handle_for(ctx, args[0].i32, TENANT_R_READ, "channel_recv", &rc);
  if (h != NULL) {
    uint32_t ptr = (uint32_t) args[1].i32, cap = (uint32_t) args[2].i32;
    void *buf = ew_memory_ptr(inst, ptr, cap);
    size_t len = 0;
    if (buf == NULL)
      rc = tenant_failed(ctx, TENANT_SVC_CHANNEL, EDGECR_EINVAL);
    else if ((rc = ctx->pf->chan_recv(ctx->pf_ctx, h->obj, buf, cap, args[3].i64, &len)) < 0)
      rc = rc == EDGECR_EAGAIN || rc == EDGECR_ETIMEDOUT ? rc : tenant_failed(ctx, TENANT_SVC_CHANNEL, rc);
    else
      rc = (int32_t) len;
  }
  results[0].i32 = rc;
  return 0;
}

const struct tenant_fn tenant_fns_channel[] = {
  {"channel_open", "iii", "i", TENANT_SVC_CHANNEL, fn_channel_open},
  {"channel_send", "iii", "i", TENANT_SVC_CHANNEL, fn_channel_send},
  {"channel_recv", "iiiI", "i", TENANT_SVC_CHANNEL, fn_channel_recv},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
