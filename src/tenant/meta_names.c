/* meta_names.c - the words of the metadata's CBOR form (service names,
 * access modes, kinds) in both directions, and the rule for names. */
#include <string.h>

#include "meta.h"

struct word {
  const char *s;
  int v;
};

static int lookup(const struct word *w, const char *s, size_t n, int *out)
{
  for (; w->s != NULL; w++) {
    if (strlen(w->s) == n && memcmp(w->s, s, n) == 0) {
      *out = w->v;
      return 0;
    }
  }
  return -1;
}

static const char *name_of(const struct word *w, int v)
{
  for (; w->s != NULL; w++)
    if (w->v == v)
      return w->s;
  return "?";
}

static const struct word services[] = {
  {"log", TENANT_SVC_LOG}, {"clock", TENANT_SVC_CLOCK}, {"kv", TENANT_SVC_KV},
  {"sensor", TENANT_SVC_SENSOR}, {"gpio", TENANT_SVC_GPIO}, {"infer", TENANT_SVC_INFER},
  {"channel", TENANT_SVC_CHANNEL}, {NULL, 0},
};
static const struct word kv_access[] = {
  {"read", TENANT_KV_READ}, {"read-write", TENANT_KV_READ_WRITE}, {NULL, 0},
};
static const struct word gpio_dir[] = {{"in", TENANT_GPIO_IN}, {"out", TENANT_GPIO_OUT}, {NULL, 0}};
static const struct word chan_access[] = {
  {"send", TENANT_CHAN_SEND}, {"receive", TENANT_CHAN_RECEIVE},
  {"send-receive", TENANT_CHAN_SEND | TENANT_CHAN_RECEIVE}, {NULL, 0},
};
static const struct word ep_kind[] = {{"peer", TENANT_EP_PEER}, {"device", TENANT_EP_DEVICE}, {NULL, 0}};
static const struct word types[] = {{"wasm", TENANT_TYPE_WASM}, {NULL, 0}};

const char *tenant_service_name(enum tenant_service s) { return name_of(services, (int) s); }
const char *tenant_kv_access_name(enum tenant_kv_access a) { return name_of(kv_access, (int) a); }
const char *tenant_gpio_dir_name(enum tenant_gpio_dir d) { return name_of(gpio_dir, (int) d); }
const char *tenant_chan_access_name(unsigned a) { return name_of(chan_access, (int) a); }
const char *tenant_endpoint_kind_name(enum tenant_endpoint_kind k) { return name_of(ep_kind, (int) k); }
const char *tenant_type_name(enum tenant_type t) { return name_of(types, (int) t); }

#define PARSER(fn, table, type)                                                                    \
  int fn(const char *s, size_t n, type *out)                                                       \
  {                                                                                                \
    int v;                                                                                         \
    if (lookup(table, s, n, &v) < 0)                                                               \
      return -1;                                                                                   \
    *out = (type) v;                                                                               \
    return 0;                                                                                      \
  }

PARSER(tenant_kv_access_parse, kv_access, enum tenant_kv_access)
PARSER(tenant_gpio_dir_parse, gpio_dir, enum tenant_gpio_dir)
PARSER(tenant_chan_access_parse, chan_access, unsigned)
PARSER(tenant_endpoint_kind_parse, ep_kind, enum tenant_endpoint_kind)
PARSER(tenant_type_parse, types, enum tenant_type)

/* Names end up in log lines, file names (key ids) and device maps: a small
 * safe alphabet, and no leading '.' so that no name is "." or "..". */
bool tenant_name_valid(const char *s, size_t n)
{
  if (n == 0 || n >= TENANT_NAME_MAX || s[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok)
      return false;
  }
  return true;
}
