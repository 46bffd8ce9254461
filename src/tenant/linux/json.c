/* json.c - a tenant's metadata as readable JSON (`edgecr meta show`):
 * the keys of the CBOR form, the digest as "sha256:<hex>", and the expiry
 * both as seconds and as an RFC 3339 UTC string. */
#include <stdio.h>
#include <time.h>

#include "tenant_linux.h"

/* JSON integers are signed 64-bit in jansson: larger values (a uint64
 * expiry or quota near 2^64) become reals rather than wrapping negative. */
static json_t *uint_json(uint64_t v)
{
  return v <= (uint64_t) INT64_MAX ? json_integer((json_int_t) v) : json_real((double) v);
}

static json_t *schedule_json(const struct tenant_schedule *s)
{
  json_t *o = json_object();
  const struct { const char *key; uint64_t v; } f[] = {
    {"priority", s->priority}, {"period", s->period_ns}, {"budget", s->budget_ns},
    {"deadline", s->deadline_ns}, {"start-limit", s->start_limit_ns}, {"stop-limit", s->stop_limit_ns},
  };
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (f[i].v != 0)
      json_object_set_new(o, f[i].key, uint_json(f[i].v));
  return o;
}

static json_t *service_json(const struct tenant_permissions *p, enum tenant_service s)
{
  json_t *a;
  switch (s) {
  case TENANT_SVC_LOG:
    return p->log_rate ? json_pack("{s:I}", "rate", (json_int_t) p->log_rate) : json_object();
  case TENANT_SVC_CLOCK:
    return json_object();
  case TENANT_SVC_KV:
    a = json_array();
    for (size_t i = 0; i < p->n_kv; i++)
      json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "namespace", p->kv[i].ns, "access",
                                         tenant_kv_access_name(p->kv[i].access), "quota",
                                         uint_json(p->kv[i].quota)));
    return a;
  case TENANT_SVC_SENSOR:
    a = json_array();
    for (size_t i = 0; i < p->n_sensors; i++)
      json_array_append_new(a, json_string(p->sensors[i]));
    return a;
  case TENANT_SVC_GPIO:
    a = json_array();
    for (size_t i = 0; i < p->n_gpio; i++)
      json_array_append_new(a, json_pack("{s:s, s:s}", "line", p->gpio[i].line, "direction",
                                         tenant_gpio_dir_name(p->gpio[i].dir)));
    return a;
  case TENANT_SVC_INFER:
    a = json_pack("{s:o, s:o}", "model-size", uint_json(p->infer_model_size), "compute",
                  uint_json(p->infer_compute_ns));
    if (p->infer_arena_size != 0)
      json_object_set_new(a, "arena", uint_json(p->infer_arena_size));
    return a;
  case TENANT_SVC_CHANNEL:
    a = json_array();
    for (size_t i = 0; i < p->n_channels; i++)
      json_array_append_new(a, json_pack("{s:s, s:s}", "name", p->channels[i].name, "access",
                                         tenant_chan_access_name(p->channels[i].access)));
    return a;
  case TENANT_SVC_COUNT:
    break;
  }
  return json_null();
}

json_t *tenant_meta_to_json(const struct tenant_meta *m)
{
  char digest[80], when[40];
  time_t t = m->expires > (uint64_t) INT64_MAX ? (time_t) INT64_MAX : (time_t) m->expires;
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(when, sizeof when, "(out of range)");
  json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "format", (int) m->format, "id", m->id,
                        "type", tenant_type_name(m->type), "module",
                        tenant_digest_str(m->module_sha256, digest, sizeof digest), "version",
                        uint_json(m->version), "expires", uint_json(m->expires), "expires-utc", when,
                        "kid", m->kid);
  if (m->has_schedule)
    json_object_set_new(o, "schedule", schedule_json(&m->schedule));
  if (m->perms.granted != 0) {
    json_t *p = json_object();
    for (int s = 0; s < TENANT_SVC_COUNT; s++)
      if ((m->perms.granted >> s) & 1u)
        json_object_set_new(p, tenant_service_name((enum tenant_service) s),
                            service_json(&m->perms, (enum tenant_service) s));
    json_object_set_new(o, "permissions", p);
  }
  if (m->n_endpoints != 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_endpoints; i++)
      json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", m->endpoints[i].name, "kind",
                                         tenant_endpoint_kind_name(m->endpoints[i].kind), "target",
                                         m->endpoints[i].target));
    json_object_set_new(o, "endpoints", a);
  }
  if (m->has_security)
    json_object_set_new(o, "security", json_pack("{s:o}", "lifetime", uint_json(m->lifetime_s)));
  return o;
}
