/* meta_encode.c - struct tenant_meta -> CBOR payload.
 *
 * Deterministic: keys in one fixed order (the order of docs/tenants.md),
 * shortest integer heads, definite lengths, optional parts omitted when
 * empty.  The same model therefore always gives the same bytes, which is
 * what gets hashed and signed. */
#include <string.h>

#include "meta.h"
#include "tcbor.h"

static void put_uint_field(struct tcbor_writer *w, const char *key, uint64_t v)
{
  tcbor_put_text(w, key);
  tcbor_put_uint(w, v);
}

static void put_schedule(struct tcbor_writer *w, const struct tenant_schedule *s)
{
  const struct { const char *key; uint64_t v; } f[] = {
    {"priority", s->priority}, {"period", s->period_ns}, {"budget", s->budget_ns},
    {"deadline", s->deadline_ns}, {"start-limit", s->start_limit_ns}, {"stop-limit", s->stop_limit_ns},
  };
  size_t n = 0;
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    n += f[i].v != 0;
  tcbor_put_map(w, n);
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (f[i].v != 0)
      put_uint_field(w, f[i].key, f[i].v);
}

static void put_service(struct tcbor_writer *w, const struct tenant_permissions *p, enum tenant_service s)
{
  tcbor_put_text(w, tenant_service_name(s));
  switch (s) {
  case TENANT_SVC_LOG:
    tcbor_put_map(w, p->log_rate != 0);
    if (p->log_rate != 0)
      put_uint_field(w, "rate", p->log_rate);
    break;
  case TENANT_SVC_CLOCK:
    tcbor_put_map(w, 0);
    break;
  case TENANT_SVC_KV:
    tcbor_put_array(w, p->n_kv);
    for (size_t i = 0; i < p->n_kv; i++) {
      tcbor_put_map(w, 3);
      tcbor_put_text(w, "namespace");
      tcbor_put_text(w, p->kv[i].ns);
      tcbor_put_text(w, "access");
      tcbor_put_text(w, tenant_kv_access_name(p->kv[i].access));
      put_uint_field(w, "quota", p->kv[i].quota);
    }
    break;
  case TENANT_SVC_SENSOR:
    tcbor_put_array(w, p->n_sensors);
    for (size_t i = 0; i < p->n_sensors; i++)
      tcbor_put_text(w, p->sensors[i]);
    break;
  case TENANT_SVC_GPIO:
    tcbor_put_array(w, p->n_gpio);
    for (size_t i = 0; i < p->n_gpio; i++) {
      tcbor_put_map(w, 2);
      tcbor_put_text(w, "line");
      tcbor_put_text(w, p->gpio[i].line);
      tcbor_put_text(w, "direction");
      tcbor_put_text(w, tenant_gpio_dir_name(p->gpio[i].dir));
    }
    break;
  case TENANT_SVC_INFER:
    tcbor_put_map(w, p->infer_arena_size != 0 ? 3 : 2);
    put_uint_field(w, "model-size", p->infer_model_size);
    put_uint_field(w, "compute", p->infer_compute_ns);
    if (p->infer_arena_size != 0)
      put_uint_field(w, "arena", p->infer_arena_size);
    break;
  case TENANT_SVC_CHANNEL:
    tcbor_put_array(w, p->n_channels);
    for (size_t i = 0; i < p->n_channels; i++) {
      tcbor_put_map(w, 2);
      tcbor_put_text(w, "name");
      tcbor_put_text(w, p->channels[i].name);
      tcbor_put_text(w, "access");
      tcbor_put_text(w, tenant_chan_access_name(p->channels[i].access));
    }
    break;
  case TENANT_SVC_COUNT:
    break;
  }
}

static void put_permissions(struct tcbor_writer *w, const struct tenant_permissions *p)
{
  size_t n = 0;
  for (int s = 0; s < TENANT_SVC_COUNT; s++)
    n += (p->granted >> s) & 1u;
  tcbor_put_map(w, n);
  for (int s = 0; s < TENANT_SVC_COUNT; s++)
    if ((p->granted >> s) & 1u)
      put_service(w, p, (enum tenant_service) s);
}

static void put_endpoints(struct tcbor_writer *w, const struct tenant_meta *m)
{
  tcbor_put_array(w, m->n_endpoints);
  for (size_t i = 0; i < m->n_endpoints; i++) {
    const struct tenant_endpoint *ep = &m->endpoints[i];
    tcbor_put_map(w, 3);
    tcbor_put_text(w, "name");
    tcbor_put_text(w, ep->name);
    tcbor_put_text(w, "kind");
    tcbor_put_text(w, tenant_endpoint_kind_name(ep->kind));
    tcbor_put_text(w, "target");
    tcbor_put_text(w, ep->target);
  }
}

size_t tenant_meta_encode(const struct tenant_meta *m, uint8_t *out, size_t cap)
{
  struct tcbor_writer w;
  tcbor_writer_init(&w, out, cap);
  bool perms = m->perms.granted != 0, eps = m->n_endpoints != 0;
  tcbor_put_map(&w, 7 + m->has_schedule + perms + eps + m->has_security);
  put_uint_field(&w, "format", m->format);
  tcbor_put_text(&w, "id");
  tcbor_put_text(&w, m->id);
  tcbor_put_text(&w, "type");
  tcbor_put_text(&w, tenant_type_name(m->type));
  tcbor_put_text(&w, "module");
  tcbor_put_bytes(&w, m->module_sha256, TENANT_DIGEST_LEN);
  put_uint_field(&w, "version", m->version);
  put_uint_field(&w, "expires", m->expires);
  tcbor_put_text(&w, "kid");
  tcbor_put_text(&w, m->kid);
  if (m->has_schedule) {
    tcbor_put_text(&w, "schedule");
    put_schedule(&w, &m->schedule);
  }
  if (perms) {
    tcbor_put_text(&w, "permissions");
    put_permissions(&w, &m->perms);
  }
  if (eps) {
    tcbor_put_text(&w, "endpoints");
    put_endpoints(&w, m);
  }
  if (m->has_security) {
    tcbor_put_text(&w, "security");
    tcbor_put_map(&w, 1);
    put_uint_field(&w, "lifetime", m->lifetime_s);
  }
  return w.len;
}
