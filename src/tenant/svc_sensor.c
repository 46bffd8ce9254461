/* svc_sensor.c - the `sensor` service: sensor ids of the node's device map
 * that the metadata grants, read-only.
 *
 * sensor_open checks the grant by name once; sensor_read tests the
 * handle's READ bit, reads through the platform (IIO sysfs on Linux) and
 * stores the value as a little-endian f64 in the guest's memory (WebAssembly
 * memory is little-endian whatever the host is). */
#include "abi.h"

#define SVC TENANT_SVC_SENSOR

#define enter(host_ctx) tenant_enter(host_ctx, SVC)
#define result(ctx, rc) tenant_result(ctx, SVC, rc)

static int fn_sensor_open(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  char id[TENANT_NAME_MAX];
  uint8_t rights = 0;
  int rc = tenant_open_check(ctx, inst, SVC, "sensor_open", args[0].u32, args[1].u32, TENANT_R_READ, id, &rights);
  if (rc < 0) {
    results[0].i32 = rc;
    return 0;
  }
  if (ctx->pf->sensor_open == NULL) {
    results[0].i32 = result(ctx, EDGECR_ENOSYS);
    return 0;
  }
  void *obj = NULL;
  rc = ctx->pf->sensor_open(ctx->pf_ctx, id, &obj);
  if (rc == EDGECR_OK && (rc = tenant_handle_new(ctx, SVC, id, rights, obj)) < 0)
    ctx->pf->sensor_close(ctx->pf_ctx, obj);
  results[0].i32 = result(ctx, rc);
  return 0;
}

static int fn_sensor_read(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_READ, "sensor_read", &rc);
  if (h == NULL) {
    results[0].i32 = rc;
    return 0;
  }
  uint8_t *out = ew_memory_ptr(inst, args[1].u32, 8);
  double v = 0;
  rc = out == NULL ? EDGECR_EINVAL
           : ctx->pf->sensor_read == NULL ? EDGECR_ENOSYS
                                          : ctx->pf->sensor_read(ctx->pf_ctx, h->obj, &v);
  if (rc == EDGECR_OK) {
    union { double d; uint64_t u; } bits = {.d = v};
    for (int i = 0; i < 8; i++)
      out[i] = (uint8_t) (bits.u >> (8 * i));
  }
  results[0].i32 = result(ctx, rc);
  return 0;
}

const struct tenant_fn tenant_fns_sensor[] = {
  {"sensor_open", "ii", "i", SVC, fn_sensor_open},
  {"sensor_read", "ii", "i", SVC, fn_sensor_read},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
