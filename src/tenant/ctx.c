/* ctx.c - one instance's tenant state: the handle table with the rights
 * the current metadata gives, live metadata updates, and the accounting
 * of denied and failed calls.
 *
 * Rights are computed when a handle is opened and again, for every open
 * handle, when the metadata changes; a call then only tests bits.  A
 * handle whose grant was revoked stays open with no rights (its owner may
 * hold it in a global), so a later grant of the same name makes it work
 * again without a new open. */
#include <string.h>

#include "abi.h"

#define REPORT_INTERVAL_NS 1000000000ull

static bool str_eq(const char *a, const char *b)
{
  return strcmp(a, b) == 0;
}

uint8_t tenant_rights(const struct tenant_permissions *p, enum tenant_service s, const char *name)
{
  if ((p->granted & (1u << s)) == 0)
    return 0;
  switch (s) {
  case TENANT_SVC_KV:
    for (size_t i = 0; i < p->n_kv; i++)
      if (str_eq(p->kv[i].ns, name))
        return p->kv[i].access == TENANT_KV_READ_WRITE ? TENANT_R_READ | TENANT_R_WRITE : TENANT_R_READ;
    return 0;
  case TENANT_SVC_SENSOR:
    for (size_t i = 0; i < p->n_sensors; i++)
      if (str_eq(p->sensors[i], name))
        return TENANT_R_READ;
    return 0;
  case TENANT_SVC_GPIO:
    for (size_t i = 0; i < p->n_gpio; i++)
      if (str_eq(p->gpio[i].line, name))
        return p->gpio[i].dir == TENANT_GPIO_OUT ? TENANT_R_READ | TENANT_R_WRITE : TENANT_R_READ;
    return 0;
  case TENANT_SVC_CHANNEL:
    for (size_t i = 0; i < p->n_channels; i++)
      if (str_eq(p->channels[i].name, name))
        return (uint8_t) (((p->channels[i].access & TENANT_CHAN_SEND) ? TENANT_R_WRITE : 0) |
                          ((p->channels[i].access & TENANT_CHAN_RECEIVE) ? TENANT_R_READ : 0));
    return 0;
  default:
    return TENANT_R_READ | TENANT_R_WRITE; /* services without resources: the bit is the grant */
  }
}

uint64_t tenant_kv_quota(const struct tenant_permissions *p, const char *ns)
{
  for (size_t i = 0; i < p->n_kv; i++)
    if (str_eq(p->kv[i].ns, ns))
      return p->kv[i].quota;
  return 0;
}

void tenant_ctx_init(struct tenant_ctx *ctx, const struct tenant_platform *pf, void *pf_ctx,
                     const struct tenant_meta *m)
{
  memset(ctx, 0, sizeof *ctx);
  ctx->pf = pf;
  ctx->pf_ctx = pf_ctx;
  ctx->meta = *m;
  ctx->granted = m->perms.granted;
  ctx->stats = &ctx->own_stats;
  ctx->log_tokens = m->perms.log_rate;   /* a full bucket, refilled from now */
  ctx->log_tokens_at_ns = pf->now_ns != NULL ? pf->now_ns(pf_ctx) : 0;
  for (size_t i = 0; i < TENANT_MAX_HANDLES; i++)
    ctx->handles[i].service = TENANT_SVC_COUNT;
}

int tenant_handle_new(struct tenant_ctx *ctx, enum tenant_service s, const char *name, uint8_t rights, void *obj)
{
  for (int i = 0; i < TENANT_MAX_HANDLES; i++) {
    struct tenant_handle *h = &ctx->handles[i];
    if (h->service != TENANT_SVC_COUNT)
      continue;
    h->service = (uint8_t) s;
    h->rights = rights;
    size_t n = strlen(name);
    if (n >= sizeof h->name)
      n = sizeof h->name - 1;
    memcpy(h->name, name, n);
    h->name[n] = '\0';
    h->obj = obj;
    return i;
  }
  return EDGECR_EMFILE;
}

static void platform_close(struct tenant_ctx *ctx, struct tenant_handle *h)
{
  const struct tenant_platform *pf = ctx->pf;
  void (*close_fn)(void *, void *) = NULL;
  switch (h->service) {
  case TENANT_SVC_KV: close_fn = pf->kv_close; break;
  case TENANT_SVC_SENSOR: close_fn = pf->sensor_close; break;
  case TENANT_SVC_GPIO: close_fn = pf->gpio_close; break;
  case TENANT_SVC_CHANNEL: close_fn = pf->chan_close; break;
  default: break;
  }
  if (close_fn != NULL && h->obj != NULL)
    close_fn(ctx->pf_ctx, h->obj);
}

int tenant_handle_close(struct tenant_ctx *ctx, int32_t h)
{
  if (h < 0 || h >= TENANT_MAX_HANDLES || ctx->handles[h].service == TENANT_SVC_COUNT)
    return EDGECR_EBADH;
  platform_close(ctx, &ctx->handles[h]);
  memset(&ctx->handles[h], 0, sizeof ctx->handles[h]);
  ctx->handles[h].service = TENANT_SVC_COUNT;
  return EDGECR_OK;
}

void tenant_ctx_close(struct tenant_ctx *ctx)
{
  for (int i = 0; i < TENANT_MAX_HANDLES; i++)
    if (ctx->handles[i].service != TENANT_SVC_COUNT)
      tenant_handle_close(ctx, i);
  tenant_infer_close(ctx);
}

int tenant_ctx_update(struct tenant_ctx *ctx, const struct tenant_meta *m, struct tenant_err *e)
{
  if (strcmp(m->id, ctx->meta.id) != 0)
    return tenant_fail(e, "id", "`%s` is another tenant than the running `%s`", m->id, ctx->meta.id);
  if (memcmp(m->module_sha256, ctx->meta.module_sha256, TENANT_DIGEST_LEN) != 0)
    return tenant_fail(e, "module", "the digest is not the running module's");
  if (m->version <= ctx->meta.version)
    return tenant_fail(e, "version", "%llu is not above the running version %llu", (unsigned long long) m->version,
                       (unsigned long long) ctx->meta.version);
  ctx->meta = *m;
  ctx->granted = m->perms.granted;
  if (ctx->log_tokens > m->perms.log_rate)
    ctx->log_tokens = m->perms.log_rate;
  for (int i = 0; i < TENANT_MAX_HANDLES; i++) {
    struct tenant_handle *h = &ctx->handles[i];
    if (h->service == TENANT_SVC_COUNT)
      continue;
    h->rights = tenant_rights(&m->perms, (enum tenant_service) h->service, h->name);
    if (h->service == TENANT_SVC_KV && ctx->pf->kv_set_limits != NULL)
      ctx->pf->kv_set_limits(ctx->pf_ctx, h->obj, (h->rights & TENANT_R_WRITE) != 0, tenant_kv_quota(&m->perms, h->name));
  }
  ctx->stats->updates++;
  return 0;
}

void tenant_ctx_apply_pending(struct tenant_ctx *ctx)
{
  ctx->seen_gen = *ctx->update_gen;
  if (ctx->pf->fetch_update == NULL)
    return;
  /* static: a metadata is several KB, too much for a small stack; one
   * instance's thread applies updates, one at a time */
  static struct tenant_meta next;
  struct tenant_err e;
  if (ctx->pf->fetch_update(ctx->pf_ctx, &next) == 0 && tenant_ctx_update(ctx, &next, &e) < 0 &&
      ctx->pf->report != NULL) {
    char msg[320];
    size_t n = strlen(e.path), r = strlen(e.reason);
    if (n + r + 40 < sizeof msg) {
      memcpy(msg, "metadata update not applied: ", 29);
      memcpy(msg + 29, e.path, n);
      memcpy(msg + 29 + n, ": ", 2);
      memcpy(msg + 31 + n, e.reason, r + 1);
      ctx->pf->report(ctx->pf_ctx, msg);
    }
  }
}

/* Appends s to buf at *n (always NUL-terminated). */
static void put(char *buf, size_t cap, size_t *n, const char *s)
{
  while (*s != '\0' && *n + 1 < cap)
    buf[(*n)++] = *s++;
  buf[*n] = '\0';
}

static void put_u64(char *buf, size_t cap, size_t *n, uint64_t v)
{
  char d[24];
  int i = (int) sizeof d - 1;
  d[i] = '\0';
  do
    d[--i] = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  put(buf, cap, n, d + i);
}

int tenant_deny(struct tenant_ctx *ctx, enum tenant_service s, const char *fn)
{
  struct tenant_svc_stats *st = &ctx->stats->svc[s];
  st->denied++;
  if (ctx->pf->report == NULL || ctx->pf->now_ns == NULL)
    return EDGECR_EDENIED;
  uint64_t now = ctx->pf->now_ns(ctx->pf_ctx);
  if (ctx->last_report_ns[s] != 0 && now - ctx->last_report_ns[s] < REPORT_INTERVAL_NS)
    return EDGECR_EDENIED;
  ctx->last_report_ns[s] = now;
  char msg[200];
  size_t n = 0;
  put(msg, sizeof msg, &n, "denied: edgecr.");
  put(msg, sizeof msg, &n, fn);
  put(msg, sizeof msg, &n, " (service ");
  put(msg, sizeof msg, &n, tenant_service_name(s));
  put(msg, sizeof msg, &n, (ctx->granted & (1u << s)) ? ": resource not granted" : ": not granted");
  put(msg, sizeof msg, &n, "); ");
  put_u64(msg, sizeof msg, &n, st->denied);
  put(msg, sizeof msg, &n, " denied so far");
  ctx->pf->report(ctx->pf_ctx, msg);
  return EDGECR_EDENIED;
}

int tenant_failed(struct tenant_ctx *ctx, enum tenant_service s, int rc)
{
  ctx->stats->svc[s].errors++;
  return rc;
}

int tenant_guest_name(ew_instance *inst, uint32_t ptr, uint32_t len, char out[TENANT_NAME_MAX])
{
  if (len == 0 || len >= TENANT_NAME_MAX)
    return EDGECR_EINVAL;
  const char *s = ew_memory_ptr(inst, ptr, len);
  if (s == NULL || !tenant_name_valid(s, len))
    return EDGECR_EINVAL;
  memcpy(out, s, len);
  out[len] = '\0';
  return EDGECR_OK;
}

int tenant_open_check(struct tenant_ctx *ctx, ew_instance *inst, enum tenant_service s, const char *fn,
                      uint32_t ptr, uint32_t len, uint8_t need, char name[TENANT_NAME_MAX], uint8_t *rights)
{
  if ((ctx->granted & (1u << s)) == 0)
    return tenant_deny(ctx, s, fn);
  int rc = tenant_guest_name(inst, ptr, len, name);
  if (rc < 0)
    return tenant_failed(ctx, s, rc);
  *rights = tenant_rights(&ctx->meta.perms, s, name);
  if ((*rights & need) != need || *rights == 0)
    return tenant_deny(ctx, s, fn);
  return 0;
}

struct tenant_handle *tenant_handle_for(struct tenant_ctx *ctx, enum tenant_service s, int32_t h, uint8_t right,
                                        const char *fn, int *rc)
{
  struct tenant_handle *hd = tenant_handle_get(ctx, h, s);
  if (hd == NULL) {
    *rc = tenant_failed(ctx, s, EDGECR_EBADH);
    return NULL;
  }
  if ((hd->rights & right) == 0) {
    *rc = tenant_deny(ctx, s, fn);
    return NULL;
  }
  return hd;
}
