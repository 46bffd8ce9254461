/* svc_kv.c - the `kv` service: namespaces the metadata grants (read or
 * read-write, a byte quota), opened by name, used through handles.
 *
 * kv_open compares names once (tenant_rights) and keeps the rights in the
 * handle; get/put/delete test a bit of the handle, bounds-check the guest's
 * buffers and call the platform (LMDB on Linux).  A revoked namespace's
 * handle stays open with no rights (ctx.c), so its calls are denied until
 * a later grant; quota and read-only changes reach the platform through
 * kv_set_limits at the update. */
#include "abi.h"

#define SVC TENANT_SVC_KV

#define enter(host_ctx) tenant_enter(host_ctx, SVC)
#define result(ctx, rc) tenant_result(ctx, SVC, rc)

static int fn_kv_open(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  char ns[TENANT_NAME_MAX];
  uint8_t rights = 0;
  int rc = tenant_open_check(ctx, inst, SVC, "kv_open", args[0].u32, args[1].u32, TENANT_R_READ, ns, &rights);
  if (rc < 0) {
    results[0].i32 = rc;
    return 0;
  }
  if (ctx->pf->kv_open == NULL) {
    results[0].i32 = result(ctx, EDGECR_ENOSYS);
    return 0;
  }
  void *obj = NULL;
  rc = ctx->pf->kv_open(ctx->pf_ctx, ns, (rights & TENANT_R_WRITE) != 0, tenant_kv_quota(&ctx->meta.perms, ns), &obj);
  if (rc == EDGECR_OK && (rc = tenant_handle_new(ctx, SVC, ns, rights, obj)) < 0)
    ctx->pf->kv_close(ctx->pf_ctx, obj);
  results[0].i32 = result(ctx, rc);
  return 0;
}

/* The key in guest memory: 1..TENANT_KV_KEY_MAX bytes inside it. */
static const uint8_t *guest_key(ew_instance *inst, uint32_t ptr, uint32_t len, int *rc)
{
  if (len == 0 || len > TENANT_KV_KEY_MAX) {
    *rc = len == 0 ? EDGECR_EINVAL : EDGECR_E2BIG;
    return NULL;
  }
  const uint8_t *k = ew_memory_ptr(inst, ptr, len);
  if (k == NULL)
    *rc = EDGECR_EINVAL;
  return k;
}

static int fn_kv_get(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_READ, "kv_get", &rc);
  if (h == NULL) {
    results[0].i32 = rc;
    return 0;
  }
  const uint8_t *key = guest_key(inst, args[1].u32, args[2].u32, &rc);
  uint32_t cap = args[4].u32;
  uint8_t *val = ew_memory_ptr(inst, args[3].u32, cap);
  if (key != NULL && val == NULL)
    rc = EDGECR_EINVAL;
  size_t vlen = 0;
  if (rc == EDGECR_OK)
    rc = ctx->pf->kv_get == NULL ? EDGECR_ENOSYS : ctx->pf->kv_get(ctx->pf_ctx, h->obj, key, args[2].u32, val, cap, &vlen);
  results[0].i32 = rc < 0 ? tenant_failed(ctx, SVC, rc) : (int32_t) vlen;
  return 0;
}

static int fn_kv_put(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_WRITE, "kv_put", &rc);
  if (h == NULL) {
    results[0].i32 = rc;
    return 0;
  }
  const uint8_t *key = guest_key(inst, args[1].u32, args[2].u32, &rc);
  uint32_t len = args[4].u32;
  const uint8_t *val = ew_memory_ptr(inst, args[3].u32, len);
  if (key != NULL && len > TENANT_KV_VALUE_MAX)
    rc = EDGECR_E2BIG;
  else if (key != NULL && val == NULL)
    rc = EDGECR_EINVAL;
  if (rc == EDGECR_OK)
    rc = ctx->pf->kv_put == NULL ? EDGECR_ENOSYS : ctx->pf->kv_put(ctx->pf_ctx, h->obj, key, args[2].u32, val, len);
  results[0].i32 = result(ctx, rc);
  return 0;
}

static int fn_kv_delete(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_WRITE, "kv_delete", &rc);
  if (h == NULL) {
    results[0].i32 = rc;
    return 0;
  }
  const uint8_t *key = guest_key(inst, args[1].u32, args[2].u32, &rc);
  if (rc == EDGECR_OK)
    rc = ctx->pf->kv_delete == NULL ? EDGECR_ENOSYS : ctx->pf->kv_delete(ctx->pf_ctx, h->obj, key, args[2].u32);
  results[0].i32 = result(ctx, rc);
  return 0;
}

const struct tenant_fn tenant_fns_kv[] = {
  {"kv_open", "ii", "i", SVC, fn_kv_open},
  {"kv_get", "iiiii", "i", SVC, fn_kv_get},
  {"kv_put", "iiiii", "i", SVC, fn_kv_put},
  {"kv_delete", "iii", "i", SVC, fn_kv_delete},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
