/* svc_gpio.c - the `gpio` service: line names of the node's device map
 * that the metadata grants, as input (read) or output (read and write).
 *
 * gpio_open checks the grant by name once: an input grant opens only as an
 * input, an output grant either way.  gpio_get tests READ, gpio_set WRITE,
 * of the handle's rights, which a live update recomputes (ctx.c). */
#include "abi.h"

#define SVC TENANT_SVC_GPIO

#define enter(host_ctx) tenant_enter(host_ctx, SVC)
#define result(ctx, rc) tenant_result(ctx, SVC, rc)

static int fn_gpio_open(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = enter(host_ctx);
  char line[TENANT_NAME_MAX];
  int32_t dir = args[2].i32;
  uint8_t rights = 0, need = dir == EDGECR_GPIO_OUT ? TENANT_R_READ | TENANT_R_WRITE : TENANT_R_READ;
  int rc = tenant_open_check(ctx, inst, SVC, "gpio_open", args[0].u32, args[1].u32, need, line, &rights);
  if (rc == EDGECR_OK && dir != EDGECR_GPIO_IN && dir != EDGECR_GPIO_OUT)
    rc = result(ctx, EDGECR_EINVAL);
  if (rc < 0) {
    results[0].i32 = rc;
    return 0;
  }
  if (ctx->pf->gpio_open == NULL) {
    results[0].i32 = result(ctx, EDGECR_ENOSYS);
    return 0;
  }
  void *obj = NULL;
  rc = ctx->pf->gpio_open(ctx->pf_ctx, line, dir == EDGECR_GPIO_OUT ? TENANT_GPIO_OUT : TENANT_GPIO_IN, &obj);
  if (rc == EDGECR_OK && (rc = tenant_handle_new(ctx, SVC, line, rights, obj)) < 0)
    ctx->pf->gpio_close(ctx->pf_ctx, obj);
  results[0].i32 = result(ctx, rc);
  return 0;
}

static int fn_gpio_get(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst;
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_READ, "gpio_get", &rc);
  if (h != NULL)
    rc = result(ctx, ctx->pf->gpio_get == NULL ? EDGECR_ENOSYS : ctx->pf->gpio_get(ctx->pf_ctx, h->obj));
  results[0].i32 = rc;
  return 0;
}

static int fn_gpio_set(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst;
  struct tenant_ctx *ctx = enter(host_ctx);
  int rc = EDGECR_OK;
  struct tenant_handle *h = tenant_handle_for(ctx, SVC, args[0].i32, TENANT_R_WRITE, "gpio_set", &rc);
  if (h != NULL && args[1].i32 != 0 && args[1].i32 != 1)
    rc = result(ctx, EDGECR_EINVAL);
  else if (h != NULL)
    rc = result(ctx, ctx->pf->gpio_set == NULL ? EDGECR_ENOSYS : ctx->pf->gpio_set(ctx->pf_ctx, h->obj, args[1].i32));
  results[0].i32 = rc;
  return 0;
}

const struct tenant_fn tenant_fns_gpio[] = {
  {"gpio_open", "iii", "i", SVC, fn_gpio_open},
  {"gpio_get", "i", "i", SVC, fn_gpio_get},
  {"gpio_set", "ii", "i", SVC, fn_gpio_set},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
