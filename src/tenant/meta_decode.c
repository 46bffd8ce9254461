/* meta_decode.c - CBOR payload -> struct tenant_meta, strictly.
 *
 * The decoder walks the schema, not the data: each map is read against a
 * table of its fields, so an unknown field, a duplicate key, a wrong type,
 * a missing required field, an oversized list or a truncated input stops
 * it with the field path and the reason.  It never skips an item it does
 * not know, so it never descends further than the schema does (deeply
 * nested input is refused at the first level where it does not fit), and
 * it never allocates (declared lengths are only compared, never trusted). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "meta.h"
#include "tcbor.h"

struct dec {
  struct tcbor_reader r;
  struct tenant_err *e;
  char path[sizeof ((struct tenant_err *) 0)->path];
  size_t path_len;
  int depth;
};

__attribute__((format(printf, 2, 3))) static int fail(struct dec *d, const char *fmt, ...)
{
  snprintf(d->e->path, sizeof d->e->path, "%s", d->path_len ? d->path : "(top level)");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->e->reason, sizeof d->e->reason, fmt, ap);
  va_end(ap);
  return -1;
}

/* Path components: push returns the old length for pop. */
static size_t push_key(struct dec *d, const char *key)
{
  size_t old = d->path_len;
  int n = snprintf(d->path + old, sizeof d->path - old, "%s%s", old ? "." : "", key);
  d->path_len = n < 0 ? old : (old + (size_t) n < sizeof d->path ? old + (size_t) n : sizeof d->path - 1);
  return old;
}

static size_t push_index(struct dec *d, size_t i)
{
  size_t old = d->path_len;
  int n = snprintf(d->path + old, sizeof d->path - old, "[%zu]", i);
  d->path_len = n < 0 ? old : (old + (size_t) n < sizeof d->path ? old + (size_t) n : sizeof d->path - 1);
  return old;
}

static void pop(struct dec *d, size_t old)
{
  d->path_len = old;
  d->path[old] = '\0';
}

static int next(struct dec *d, struct tcbor_item *it)
{
  switch (tcbor_next(&d->r, it)) {
  case TCBOR_OK: return 0;
  case TCBOR_TRUNCATED: return fail(d, "truncated: the input ends inside this item");
  case TCBOR_MALFORMED: break;
  }
  return fail(d, "malformed CBOR at byte %zu", d->r.pos);
}

static int expect(struct dec *d, struct tcbor_item *it, enum tcbor_type t)
{
  if (next(d, it) < 0)
    return -1;
  if (it->type != t)
    return fail(d, "expected %s, found %s", tcbor_type_name(t), tcbor_type_name(it->type));
  return 0;
}

static int read_uint(struct dec *d, uint64_t *out, uint64_t max)
{
  struct tcbor_item it;
  if (expect(d, &it, TCBOR_UINT) < 0)
    return -1;
  if (it.u > max)
    return fail(d, "%llu is too large (at most %llu)", (unsigned long long) it.u,
                (unsigned long long) max);
  *out = it.u;
  return 0;
}

static int read_name(struct dec *d, char out[TENANT_NAME_MAX])
{
  struct tcbor_item it;
  if (expect(d, &it, TCBOR_TEXT) < 0)
    return -1;
  if (!tenant_name_valid((const char *) it.ptr, it.len))
    return fail(d, "not a valid name (1 to %d of A-Z a-z 0-9 . _ - :, not starting with '.')",
                TENANT_NAME_MAX - 1);
  memcpy(out, it.ptr, it.len);
  out[it.len] = '\0';
  return 0;
}

/* A text word from a fixed set: WORD_FIELD(fn, type, parser, choices)
 * defines a field reader that parses into *(type *) obj. */
static int bad_word(struct dec *d, const struct tcbor_item *it, const char *choices)
{
  return fail(d, "unknown value `%.*s` (one of: %s)", it->len > 40 ? 40 : (int) it->len,
              (const char *) it->ptr, choices);
}
#define WORD_READER(fn, type, parser, choices)                                                     \
  static int fn(struct dec *d, type *out)                                                          \
  {                                                                                                \
    struct tcbor_item it;                                                                          \
    if (expect(d, &it, TCBOR_TEXT) < 0)                                                            \
      return -1;                                                                                   \
    if (parser((const char *) it.ptr, it.len, out) < 0)                                            \
      return bad_word(d, &it, choices);                                                            \
    return 0;                                                                                      \
  }
WORD_READER(read_kv_access, enum tenant_kv_access, tenant_kv_access_parse, "read, read-write")
WORD_READER(read_gpio_dir, enum tenant_gpio_dir, tenant_gpio_dir_parse, "in, out")
WORD_READER(read_chan_access, unsigned, tenant_chan_access_parse, "send, receive, send-receive")
WORD_READER(read_ep_kind, enum tenant_endpoint_kind, tenant_endpoint_kind_parse, "peer, device")
WORD_READER(read_type, enum tenant_type, tenant_type_parse, "wasm")

static int enter(struct dec *d)
{
  if (++d->depth > TENANT_MAX_DEPTH)
    return fail(d, "nested too deeply (more than %d levels)", TENANT_MAX_DEPTH);
  return 0;
}

typedef int (*field_fn)(struct dec *d, void *obj);
struct field {
  const char *name;
  bool required;
  field_fn read;
};

static const struct field *find_field(const struct field *f, size_t nf, const uint8_t *k, size_t n)
{
  for (size_t i = 0; i < nf; i++)
    if (strlen(f[i].name) == n && memcmp(f[i].name, k, n) == 0)
      return &f[i];
  return NULL;
}

/* A map read against its field table (at most 32 fields). */
static int read_map(struct dec *d, void *obj, const struct field *f, size_t nf)
{
  struct tcbor_item it;
  if (enter(d) < 0 || expect(d, &it, TCBOR_MAP) < 0)
    return -1;
  uint32_t seen = 0;
  for (uint64_t i = 0; i < it.u; i++) {
    struct tcbor_item key;
    if (next(d, &key) < 0)
      return -1;
    if (key.type != TCBOR_TEXT)
      return fail(d, "map keys must be text strings, found %s", tcbor_type_name(key.type));
    const struct field *fld = find_field(f, nf, key.ptr, key.len);
    if (fld == NULL) {
      char shown[48];
      snprintf(shown, sizeof shown, "%.*s", key.len > 40 ? 40 : (int) key.len, (const char *) key.ptr);
      size_t old = push_key(d, shown);
      fail(d, "unknown field");
      pop(d, old);
      return -1;
    }
    size_t old = push_key(d, fld->name);
    uint32_t bit = 1u << (fld - f);
    if (seen & bit)
      return fail(d, "duplicate key");
    seen |= bit;
    if (fld->read(d, obj) < 0)
      return -1;
    pop(d, old);
  }
  for (size_t i = 0; i < nf; i++) {
    if (f[i].required && !(seen & (1u << i))) {
      size_t old = push_key(d, f[i].name);
      fail(d, "missing required field");
      pop(d, old);
      return -1;
    }
  }
  d->depth--;
  return 0;
}

/* An array of at most max items, each read by item(d, obj, index). */
typedef int (*item_fn)(struct dec *d, void *obj, size_t i);
static int read_list(struct dec *d, void *obj, size_t max, size_t *count, item_fn item)
{
  struct tcbor_item it;
  if (enter(d) < 0 || expect(d, &it, TCBOR_ARRAY) < 0)
    return -1;
  if (it.u > max)
    return fail(d, "too many entries (%llu, at most %zu)", (unsigned long long) it.u, max);
  for (size_t i = 0; i < (size_t) it.u; i++) {
    size_t old = push_index(d, i);
    if (item(d, obj, i) < 0)
      return -1;
    pop(d, old);
  }
  *count = (size_t) it.u;
  d->depth--;
  return 0;
}

#define META(obj) ((struct tenant_meta *) (obj))
#define PERMS(obj) (&META(obj)->perms)
#define SCHED(obj) (&META(obj)->schedule)

/* ---- schedule ---- */
static int f_priority(struct dec *d, void *o)
{
  uint64_t v = 0;
  if (read_uint(d, &v, 99) < 0)
    return -1;
  SCHED(o)->priority = (uint32_t) v;
  return 0;
}
static int f_period(struct dec *d, void *o) { return read_uint(d, &SCHED(o)->period_ns, UINT64_MAX); }
static int f_budget(struct dec *d, void *o) { return read_uint(d, &SCHED(o)->budget_ns, UINT64_MAX); }
static int f_deadline(struct dec *d, void *o) { return read_uint(d, &SCHED(o)->deadline_ns, UINT64_MAX); }
static int f_start_limit(struct dec *d, void *o) { return read_uint(d, &SCHED(o)->start_limit_ns, UINT64_MAX); }
static int f_stop_limit(struct dec *d, void *o) { return read_uint(d, &SCHED(o)->stop_limit_ns, UINT64_MAX); }

static const struct field schedule_fields[] = {
  {"priority", false, f_priority}, {"period", false, f_period}, {"budget", false, f_budget},
  {"deadline", false, f_deadline}, {"start-limit", false, f_start_limit},
  {"stop-limit", false, f_stop_limit},
};

/* ---- permissions ---- */
static int f_log_rate(struct dec *d, void *o)
{
  uint64_t v = 0;
  if (read_uint(d, &v, UINT32_MAX) < 0)
    return -1;
  PERMS(o)->log_rate = (uint32_t) v;
  return 0;
}
static const struct field log_fields[] = {{"rate", false, f_log_rate}};

static int f_log(struct dec *d, void *o) { return read_map(d, o, log_fields, 1); }
static int f_clock(struct dec *d, void *o) { return read_map(d, o, NULL, 0); }

/* kv entries: obj is the grant itself. */
static int f_kv_ns(struct dec *d, void *o) { return read_name(d, ((struct tenant_kv_grant *) o)->ns); }
static int f_kv_access(struct dec *d, void *o)
{
  return read_kv_access(d, &((struct tenant_kv_grant *) o)->access);
}
static int f_kv_quota(struct dec *d, void *o) { return read_uint(d, &((struct tenant_kv_grant *) o)->quota, UINT64_MAX); }
static const struct field kv_fields[] = {
  {"namespace", true, f_kv_ns}, {"access", true, f_kv_access}, {"quota", true, f_kv_quota},
};
static int kv_item(struct dec *d, void *o, size_t i) { return read_map(d, &PERMS(o)->kv[i], kv_fields, 3); }
static int f_kv(struct dec *d, void *o) { return read_list(d, o, TENANT_MAX_KV, &PERMS(o)->n_kv, kv_item); }

static int sensor_item(struct dec *d, void *o, size_t i) { return read_name(d, PERMS(o)->sensors[i]); }
static int f_sensor(struct dec *d, void *o)
{
  return read_list(d, o, TENANT_MAX_SENSORS, &PERMS(o)->n_sensors, sensor_item);
}

static int f_gpio_line(struct dec *d, void *o) { return read_name(d, ((struct tenant_gpio_grant *) o)->line); }
static int f_gpio_dir(struct dec *d, void *o)
{
  return read_gpio_dir(d, &((struct tenant_gpio_grant *) o)->dir);
}
static const struct field gpio_fields[] = {{"line", true, f_gpio_line}, {"direction", true, f_gpio_dir}};
static int gpio_item(struct dec *d, void *o, size_t i) { return read_map(d, &PERMS(o)->gpio[i], gpio_fields, 2); }
static int f_gpio(struct dec *d, void *o) { return read_list(d, o, TENANT_MAX_GPIO, &PERMS(o)->n_gpio, gpio_item); }

static int f_infer_size(struct dec *d, void *o) { return read_uint(d, &PERMS(o)->infer_model_size, UINT64_MAX); }
static int f_infer_compute(struct dec *d, void *o) { return read_uint(d, &PERMS(o)->infer_compute_ns, UINT64_MAX); }
static int f_infer_arena(struct dec *d, void *o) { return read_uint(d, &PERMS(o)->infer_arena_size, UINT64_MAX); }
static const struct field infer_fields[] = {
  {"model-size", true, f_infer_size}, {"compute", true, f_infer_compute}, {"arena", false, f_infer_arena},
};
static int f_infer(struct dec *d, void *o) { return read_map(d, o, infer_fields, 3); }

static int f_chan_name(struct dec *d, void *o) { return read_name(d, ((struct tenant_chan_grant *) o)->name); }
static int f_chan_access(struct dec *d, void *o)
{
  return read_chan_access(d, &((struct tenant_chan_grant *) o)->access);
}
static const struct field chan_fields[] = {{"name", true, f_chan_name}, {"access", true, f_chan_access}};
static int chan_item(struct dec *d, void *o, size_t i) { return read_map(d, &PERMS(o)->channels[i], chan_fields, 2); }
static int f_channel(struct dec *d, void *o)
{
  return read_list(d, o, TENANT_MAX_CHANNELS, &PERMS(o)->n_channels, chan_item);
}

/* Each service's reader, in enum tenant_service order; the key being
 * present is the grant. */
static const field_fn service_readers[TENANT_SVC_COUNT] = {
  f_log, f_clock, f_kv, f_sensor, f_gpio, f_infer, f_channel,
};
#define GRANT(svc)                                                                                 \
  static int g_##svc(struct dec *d, void *o)                                                       \
  {                                                                                                \
    PERMS(o)->granted |= 1u << svc;                                                                \
    return service_readers[svc](d, o);                                                             \
  }
GRANT(TENANT_SVC_LOG)
GRANT(TENANT_SVC_CLOCK)
GRANT(TENANT_SVC_KV)
GRANT(TENANT_SVC_SENSOR)
GRANT(TENANT_SVC_GPIO)
GRANT(TENANT_SVC_INFER)
GRANT(TENANT_SVC_CHANNEL)
static const struct field permission_fields[] = {
  {"log", false, g_TENANT_SVC_LOG}, {"clock", false, g_TENANT_SVC_CLOCK},
  {"kv", false, g_TENANT_SVC_KV}, {"sensor", false, g_TENANT_SVC_SENSOR},
  {"gpio", false, g_TENANT_SVC_GPIO}, {"infer", false, g_TENANT_SVC_INFER},
  {"channel", false, g_TENANT_SVC_CHANNEL},
};

/* ---- endpoints, security ---- */
static int f_ep_name(struct dec *d, void *o) { return read_name(d, ((struct tenant_endpoint *) o)->name); }
static int f_ep_kind(struct dec *d, void *o)
{
  return read_ep_kind(d, &((struct tenant_endpoint *) o)->kind);
}
static int f_ep_target(struct dec *d, void *o) { return read_name(d, ((struct tenant_endpoint *) o)->target); }
static const struct field endpoint_fields[] = {
  {"name", true, f_ep_name}, {"kind", true, f_ep_kind}, {"target", true, f_ep_target},
};
static int ep_item(struct dec *d, void *o, size_t i) { return read_map(d, &META(o)->endpoints[i], endpoint_fields, 3); }

static int f_lifetime(struct dec *d, void *o) { return read_uint(d, &META(o)->lifetime_s, UINT64_MAX); }
static const struct field security_fields[] = {{"lifetime", true, f_lifetime}};

/* ---- top level ---- */
static int f_format(struct dec *d, void *o)
{
  uint64_t v = 0;
  if (read_uint(d, &v, UINT32_MAX) < 0)
    return -1;
  if (v != TENANT_META_FORMAT)
    return fail(d, "format %llu is not supported (this edgecr reads format %d)", (unsigned long long) v,
                TENANT_META_FORMAT);
  META(o)->format = (uint32_t) v;
  return 0;
}
static int f_id(struct dec *d, void *o) { return read_name(d, META(o)->id); }
static int f_type(struct dec *d, void *o)
{
  return read_type(d, &META(o)->type);
}
static int f_module(struct dec *d, void *o)
{
  struct tcbor_item it;
  if (expect(d, &it, TCBOR_BYTES) < 0)
    return -1;
  if (it.len != TENANT_DIGEST_LEN)
    return fail(d, "a SHA-256 digest is %d bytes, found %zu", TENANT_DIGEST_LEN, it.len);
  memcpy(META(o)->module_sha256, it.ptr, TENANT_DIGEST_LEN);
  return 0;
}
static int f_version(struct dec *d, void *o) { return read_uint(d, &META(o)->version, UINT64_MAX); }
static int f_expires(struct dec *d, void *o) { return read_uint(d, &META(o)->expires, UINT64_MAX); }
static int f_kid(struct dec *d, void *o) { return read_name(d, META(o)->kid); }
static int f_schedule(struct dec *d, void *o)
{
  META(o)->has_schedule = true;
  return read_map(d, o, schedule_fields, sizeof schedule_fields / sizeof *schedule_fields);
}
static int f_permissions(struct dec *d, void *o)
{
  return read_map(d, o, permission_fields, sizeof permission_fields / sizeof *permission_fields);
}
static int f_endpoints(struct dec *d, void *o)
{
  return read_list(d, o, TENANT_MAX_ENDPOINTS, &META(o)->n_endpoints, ep_item);
}
static int f_security(struct dec *d, void *o)
{
  META(o)->has_security = true;
  return read_map(d, o, security_fields, 1);
}

static const struct field top_fields[] = {
  {"format", true, f_format}, {"id", true, f_id}, {"type", true, f_type},
  {"module", true, f_module}, {"version", true, f_version}, {"expires", true, f_expires},
  {"kid", true, f_kid}, {"schedule", false, f_schedule}, {"permissions", false, f_permissions},
  {"endpoints", false, f_endpoints}, {"security", false, f_security},
};

int tenant_meta_decode(const uint8_t *buf, size_t len, struct tenant_meta *m, struct tenant_err *e)
{
  memset(m, 0, sizeof *m);
  struct dec d = {.e = e};
  tcbor_reader_init(&d.r, buf, len);
  if (len > TENANT_META_MAX_BYTES)
    return fail(&d, "%zu bytes is too large for metadata (at most %d)", len, TENANT_META_MAX_BYTES);
  if (read_map(&d, m, top_fields, sizeof top_fields / sizeof *top_fields) < 0)
    return -1;
  if (d.r.pos != len)
    return fail(&d, "%zu trailing bytes after the metadata map", len - d.r.pos);
  return tenant_meta_check(m, e);
}
