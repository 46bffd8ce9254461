/* model.c - decode the doc.h tree into the plan_config model, checking
 * every field.  Each error names "FILE:LINE: FIELD: reason" where FIELD is
 * the path as written (containers[2].rt.period). */
#include "model.h"

#include <ctype.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "dl_limits.h"
#include "doc.h"
#include "util.h"

struct decoder {
  const char *file;
  edgecr_error_t *err;
};

__attribute__((format(printf, 4, 5)))
static int field_error(struct decoder *d, int line, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *why = NULL;
  if (vasprintf(&why, fmt, ap) < 0)
    why = NULL;
  va_end(ap);
  return edgecr_error_make(d->err, 0, "%s:%d: %s: %s", d->file, line, field, why ? why : "invalid");
}

/* Every key of a mapping must be one we know: a typo must not silently
 * drop a real-time requirement. */
static int check_keys(struct decoder *d, const struct doc_node *map, const char *field,
                      const char *const *known)
{
  for (size_t i = 0; i < map->n; i++) {
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++)
      ok = strcmp(*k, map->keys[i]) == 0;
    if (!ok) {
      cleanup_free char *f = xasprintf("%s%s%s", field, *field ? "." : "", map->keys[i]);
      return field_error(d, map->key_lines[i], f, "unknown field");
    }
  }
  return 0;
}

static int want_kind(struct decoder *d, const struct doc_node *n, enum doc_kind kind,
                     const char *field)
{
  static const char *const what[] = {"a single value", "a mapping (key: value)", "a list"};
  if (n->kind == kind)
    return 0;
  return field_error(d, n->line, field, "must be %s", what[kind]);
}

static int get_string(struct decoder *d, const struct doc_node *n, const char *field, char **out)
{
  if (want_kind(d, n, DOC_SCALAR, field) < 0)
    return -1;
  if (n->scalar[0] == '\0')
    return field_error(d, n->line, field, "must not be empty");
  *out = xstrdup(n->scalar);
  return 0;
}

static int get_duration(struct decoder *d, const struct doc_node *n, const char *field,
                        bool positive, int64_t *out)
{
  if (want_kind(d, n, DOC_SCALAR, field) < 0)
    return -1;
  if (!positive && strcmp(n->scalar, "0") == 0) {
    *out = 0;
    return 0;
  }
  if (plan_parse_duration(n->scalar, out) < 0 || (positive && *out <= 0))
    return field_error(d, n->line, field, "must be a %s duration like \"10ms\" (units ns, us, ms, s), not \"%s\"",
                       positive ? "positive" : "non-negative", n->scalar);
  return 0;
}

static int get_int(struct decoder *d, const struct doc_node *n, const char *field, long long lo,
                   long long hi, long long *out)
{
  if (want_kind(d, n, DOC_SCALAR, field) < 0)
    return -1;
  if (parse_int64(n->scalar, out) < 0 || *out < lo || *out > hi)
    return field_error(d, n->line, field, "must be a whole number from %lld to %lld, not \"%s\"", lo,
                       hi, n->scalar);
  return 0;
}

static int get_size(struct decoder *d, const struct doc_node *n, const char *field, uint64_t *out)
{
  if (want_kind(d, n, DOC_SCALAR, field) < 0)
    return -1;
  if (plan_parse_size(n->scalar, out) < 0)
    return field_error(d, n->line, field, "must be a size like \"64MiB\" (B, KiB, MiB, GiB), not \"%s\"",
                       n->scalar);
  return 0;
}

static int get_choice(struct decoder *d, const struct doc_node *n, const char *field,
                      const char *const *names, int *out)
{
  if (want_kind(d, n, DOC_SCALAR, field) < 0)
    return -1;
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], n->scalar) == 0) {
      *out = i;
      return 0;
    }
  char list[256] = "";
  for (int i = 0; names[i]; i++) {
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, names[i], sizeof list - strlen(list) - 1);
  }
  return field_error(d, n->line, field, "must be one of %s, not \"%s\"", list, n->scalar);
}

static int decode_core_list(struct decoder *d, const struct doc_node *n, struct plan_node *node)
{
  if (want_kind(d, n, DOC_SEQ, "node.rt_cores") < 0)
    return -1;
  memset(node->rt_core, 0, sizeof node->rt_core);
  for (size_t i = 0; i < n->n; i++) {
    char field[64];
    snprintf(field, sizeof field, "node.rt_cores[%zu]", i);
    long long core;
    if (get_int(d, n->items[i], field, 0, node->cores - 1, &core) < 0)
      return -1;
    node->rt_core[core] = true;
  }
  return 0;
}

static int decode_node(struct decoder *d, const struct doc_node *n, struct plan_node *node)
{
  static const char *const keys[] = {"cores", "rt_cores", "memory", "rt_runtime", "rt_period",
                                     "assignment", "deadline", "fifo_budgets", "dl_server", NULL};
  static const char *const assigns[] = {"auto", "first-fit", "worst-fit", NULL};
  static const char *const dl_modes[] = {"global", "partitioned", NULL};
  static const char *const budget_modes[] = {"groups", "none", "auto", NULL};
  if (want_kind(d, n, DOC_MAP, "node") < 0 || check_keys(d, n, "node", keys) < 0)
    return -1;
  struct doc_node *v = doc_get(n, "cores");
  long long cores;
  if (v == NULL)
    return field_error(d, n->line, "node.cores", "is required (number of CPU cores)");
  if (get_int(d, v, "node.cores", 1, PLAN_MAX_CORES, &cores) < 0)
    return -1;
  node->cores = (int) cores;
  for (int i = 0; i < node->cores; i++)
    node->rt_core[i] = true;
  if ((v = doc_get(n, "rt_cores")) && decode_core_list(d, v, node) < 0)
    return -1;
  if ((v = doc_get(n, "memory")) && get_size(d, v, "node.memory", &node->memory) < 0)
    return -1;
  int64_t t = 950000000;
  if ((v = doc_get(n, "rt_runtime")) && get_duration(d, v, "node.rt_runtime", true, &t) < 0)
    return -1;
  node->rt_runtime_us = t / 1000;
  t = 1000000000;
  if ((v = doc_get(n, "rt_period")) && get_duration(d, v, "node.rt_period", true, &t) < 0)
    return -1;
  node->rt_period_us = t / 1000;
  if (node->rt_runtime_us > node->rt_period_us)
    return field_error(d, n->line, "node.rt_runtime", "must not exceed node.rt_period");
  int a = 0;
  if ((v = doc_get(n, "assignment")) && get_choice(d, v, "node.assignment", assigns, &a) < 0)
    return -1;
  node->assign = (enum plan_assign) a;
  a = 0;
  if ((v = doc_get(n, "deadline")) && get_choice(d, v, "node.deadline", dl_modes, &a) < 0)
    return -1;
  node->dl_partitioned = a == 1;
  a = 0;
  if ((v = doc_get(n, "fifo_budgets")) && get_choice(d, v, "node.fifo_budgets", budget_modes, &a) < 0)
    return -1;
  node->fifo_budgets = (enum plan_fifo_budgets) a;
  t = 50000000; /* the default of kernels >= 6.12: 50 ms every second on each CPU */
  if ((v = doc_get(n, "dl_server")) && get_duration(d, v, "node.dl_server", false, &t) < 0)
    return -1;
  if (t >= node->rt_runtime_us * 1000)
    return field_error(d, v ? v->line : n->line, "node.dl_server", "must be below node.rt_runtime (it is part of it)");
  node->dl_server = t;
  return 0;
}

static int decode_rt(struct decoder *d, const struct doc_node *n, const char *cf,
                     const struct plan_node *node, struct plan_rt *rt)
{
  static const char *const keys[] = {"period", "budget", "wcet", "deadline", "jitter", "blocking",
                                     "policy", "priority", "core", NULL};
  static const char *const policies[] = {"fixed-priority", "deadline", NULL};
  char f[128];
  snprintf(f, sizeof f, "%s.rt", cf);
  if (want_kind(d, n, DOC_MAP, f) < 0 || check_keys(d, n, f, keys) < 0)
    return -1;
  *rt = (struct plan_rt){.core = -1};
  struct doc_node *v;
#define FIELD(name) (snprintf(f, sizeof f, "%s.rt.%s", cf, name), f)
  if ((v = doc_get(n, "period")) == NULL)
    return field_error(d, n->line, FIELD("period"), "is required (e.g. \"10ms\")");
  if (get_duration(d, v, FIELD("period"), true, &rt->period) < 0)
    return -1;
  struct doc_node *b = doc_get(n, "budget"), *w = doc_get(n, "wcet");
  if (b && w)
    return field_error(d, w->line, FIELD("wcet"), "give either budget or wcet, not both");
  if (!b && !w)
    return field_error(d, n->line, FIELD("budget"), "is required (the execution time per period, e.g. \"2ms\")");
  if (get_duration(d, b ? b : w, FIELD(b ? "budget" : "wcet"), true, &rt->budget) < 0)
    return -1;
  rt->deadline = rt->period;
  if ((v = doc_get(n, "deadline")) && get_duration(d, v, FIELD("deadline"), true, &rt->deadline) < 0)
    return -1;
  if ((v = doc_get(n, "jitter")) && get_duration(d, v, FIELD("jitter"), false, &rt->jitter) < 0)
    return -1;
  if ((v = doc_get(n, "blocking")) && get_duration(d, v, FIELD("blocking"), false, &rt->blocking) < 0)
    return -1;
  int p = 0;
  if ((v = doc_get(n, "policy")) && get_choice(d, v, FIELD("policy"), policies, &p) < 0)
    return -1;
  rt->policy = (enum plan_policy) p;
  long long x;
  if ((v = doc_get(n, "priority"))) {
    if (rt->policy != PLAN_POLICY_FP)
      return field_error(d, v->line, FIELD("priority"), "only fixed-priority tasks have a priority");
    if (get_int(d, v, FIELD("priority"), 1, 99, &x) < 0)
      return -1;
    rt->priority = (int) x;
  }
  if ((v = doc_get(n, "core"))) {
    if (get_int(d, v, FIELD("core"), 0, node->cores - 1, &x) < 0)
      return -1;
    if (!node->rt_core[x])
      return field_error(d, v->line, f, "core %lld is not in node.rt_cores", x);
    rt->core = (int) x;
  }
  /* Relations between the fields, reported on the field that breaks them. */
  if (rt->deadline > rt->period)
    return field_error(d, doc_get(n, "deadline")->line, FIELD("deadline"),
                       "must not exceed the period (constrained deadlines only)");
  v = doc_get(n, "deadline") ? doc_get(n, "deadline") : b ? b : w;
  if (rt->budget > rt->deadline)
    return field_error(d, v->line, FIELD(b ? "budget" : "wcet"),
                       "the budget exceeds the deadline: no core can meet it");
  if (rt->policy == PLAN_POLICY_DEADLINE && rt->jitter + rt->budget > rt->deadline)
    return field_error(d, doc_get(n, "jitter")->line, FIELD("jitter"),
                       "a deadline reservation needs budget + jitter <= deadline");
  if (rt->policy == PLAN_POLICY_DEADLINE && rt->blocking > 0)
    return field_error(d, doc_get(n, "blocking")->line, FIELD("blocking"),
                       "blocking is analysed for fixed-priority tasks only");
  if (rt->policy == PLAN_POLICY_DEADLINE) {
    /* What the kernel would refuse at start (EINVAL) is an error now, with
     * the default sysctls: the check runs off-device (apply checks again
     * with the node's own). */
    struct plan_dl_limits lim;
    plan_dl_limits_default(&lim);
    cleanup_free char *why = NULL;
    enum plan_dl_field bad = plan_dl_check(&lim, rt->budget, rt->deadline - rt->jitter, rt->period, &why);
    if (bad == PLAN_DL_BUDGET)
      return field_error(d, (b ? b : w)->line, FIELD(b ? "budget" : "wcet"), "%s", why);
    if (bad == PLAN_DL_DEADLINE) {
      v = doc_get(n, "deadline") ? doc_get(n, "deadline") : doc_get(n, "period");
      return field_error(d, v->line, FIELD(doc_get(n, "deadline") ? "deadline" : "period"), "%s", why);
    }
    if (bad == PLAN_DL_PERIOD)
      return field_error(d, doc_get(n, "period")->line, FIELD("period"), "%s", why);
  }
#undef FIELD
  return 0;
}

static int decode_strv(struct decoder *d, const struct doc_node *n, const char *field, char ***out)
{
  if (want_kind(d, n, DOC_SEQ, field) < 0)
    return -1;
  char **v = xmalloc0((n->n + 1) * sizeof *v);
  *out = v;
  for (size_t i = 0; i < n->n; i++) {
    char f[160];
    snprintf(f, sizeof f, "%s[%zu]", field, i);
    if (get_string(d, n->items[i], f, &v[i]) < 0)
      return -1;
  }
  return 0;
}

static int decode_devices(struct decoder *d, const struct doc_node *n, const char *cf,
                          struct plan_container *c)
{
  char f[160];
  snprintf(f, sizeof f, "%s.devices", cf);
  if (want_kind(d, n, DOC_SEQ, f) < 0)
    return -1;
  c->devices = xmalloc0((n->n + 1) * sizeof *c->devices);
  for (size_t i = 0; i < n->n; i++) {
    struct doc_node *it = n->items[i], *v;
    struct plan_device *dev = &c->devices[i];
    c->n_devices = i + 1; /* counted before filling, so a failure frees it */
    snprintf(f, sizeof f, "%s.devices[%zu]", cf, i);
    if (it->kind == DOC_SCALAR) {
      dev->path = xstrdup(it->scalar);
      dev->access = xstrdup("rw");
    } else {
      static const char *const keys[] = {"path", "access", NULL};
      if (want_kind(d, it, DOC_MAP, f) < 0 || check_keys(d, it, f, keys) < 0)
        return -1;
      if ((v = doc_get(it, "path")) == NULL)
        return field_error(d, it->line, f, "needs `path` (e.g. /dev/gpiochip0)");
      if (get_string(d, v, f, &dev->path) < 0)
        return -1;
      v = doc_get(it, "access");
      dev->access = xstrdup(v && v->kind == DOC_SCALAR ? v->scalar : "rw");
      if (strspn(dev->access, "rwm") != strlen(dev->access) || dev->access[0] == '\0')
        return field_error(d, v->line, f, "access must be letters of \"rwm\", not \"%s\"", dev->access);
    }
    if (!str_has_prefix(dev->path, "/dev/"))
      return field_error(d, it->line, f, "device path must be under /dev/, not \"%s\"", dev->path);
  }
  return 0;
}

static int decode_caps(struct decoder *d, const struct doc_node *n, const char *cf,
                       struct plan_container *c)
{
  /* The capabilities real-time code needs; the rest are the bundle's business. */
  static const char *const allowed[] = {"IPC_LOCK", "SYS_RAWIO", "SYS_NICE", "SYS_TIME", "NET_ADMIN",
                                        "NET_RAW", "SYS_RESOURCE", NULL};
  char f[160];
  snprintf(f, sizeof f, "%s.capabilities", cf);
  if (decode_strv(d, n, f, &c->capabilities) < 0)
    return -1;
  for (size_t i = 0; c->capabilities[i]; i++) {
    char *name = c->capabilities[i];
    const char *bare = str_has_prefix(name, "CAP_") ? name + 4 : name;
    bool ok = false;
    for (int k = 0; allowed[k] && !ok; k++)
      ok = strcmp(allowed[k], bare) == 0;
    if (!ok)
      return field_error(d, n->items[i]->line, f,
                         "\"%s\" is not a real-time capability (IPC_LOCK, SYS_RAWIO, SYS_NICE, "
                         "SYS_TIME, SYS_RESOURCE, NET_ADMIN, NET_RAW)", name);
    char *full = xasprintf("CAP_%s", bare);
    free(name);
    c->capabilities[i] = full;
  }
  return 0;
}

static bool valid_name(const char *s)
{
  if (!isalnum((unsigned char) s[0]))
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_' && *s != '.')
      return false;
  return true;
}

static int decode_container(struct decoder *d, const struct doc_node *n, size_t idx,
                            const struct plan_node *node, const char *base_dir,
                            struct plan_container *c)
{
  static const char *const keys[] = {"name", "bundle", "image", "backend", "rt", "memory",
                                     "memlock", "capabilities", "devices", "depends_on", NULL};
  static const char *const backends[] = {"linux", "wasm", "remoteproc", NULL};
  char cf[64], f[160];
  snprintf(cf, sizeof cf, "containers[%zu]", idx);
  if (want_kind(d, n, DOC_MAP, cf) < 0 || check_keys(d, n, cf, keys) < 0)
    return -1;
  c->line = n->line;
  c->memlock = 0;
  struct doc_node *v;
#define FIELD(name) (snprintf(f, sizeof f, "%s.%s", cf, name), f)
  if ((v = doc_get(n, "name")) == NULL)
    return field_error(d, n->line, FIELD("name"), "is required");
  if (get_string(d, v, FIELD("name"), &c->name) < 0)
    return -1;
  if (!valid_name(c->name) || strlen(c->name) > 64)
    return field_error(d, v->line, f, "\"%s\" must be letters, digits, '-', '_' or '.' (at most 64)",
                       c->name);
  struct doc_node *bundle = doc_get(n, "bundle"), *image = doc_get(n, "image");
  if (bundle && image)
    return field_error(d, image->line, FIELD("image"), "give either bundle or image, not both");
  if (!bundle && !image)
    return field_error(d, n->line, FIELD("bundle"), "is required (a bundle directory, or `image`)");
  if (bundle) {
    cleanup_free char *b = NULL;
    if (get_string(d, bundle, FIELD("bundle"), &b) < 0)
      return -1;
    c->bundle = b[0] == '/' ? steal_pointer(&b) : xasprintf("%s/%s", base_dir, b);
  } else if (get_string(d, image, FIELD("image"), &c->image) < 0) {
    return -1;
  }
  int be = 0;
  if ((v = doc_get(n, "backend")) && get_choice(d, v, FIELD("backend"), backends, &be) < 0)
    return -1;
  c->backend = (enum plan_backend) be;
  if ((v = doc_get(n, "rt"))) {
    if (decode_rt(d, v, cf, node, &c->rt) < 0)
      return -1;
    c->has_rt = true;
  }
  cleanup_free char *tenant_why = NULL; /* a WebAssembly tenant: `rt` from its metadata (tenant_rt.c) */
  if (plan_tenant_rt(c, &tenant_why) < 0)
    return field_error(d, (v ? v : n)->line, v ? FIELD("rt") : FIELD("bundle"), "%s", tenant_why);
  if ((v = doc_get(n, "memory")) && get_size(d, v, FIELD("memory"), &c->memory_limit) < 0)
    return -1;
  if ((v = doc_get(n, "memlock"))) {
    uint64_t bytes;
    if (v->kind == DOC_SCALAR && strcmp(v->scalar, "unlimited") == 0)
      c->memlock = -1;
    else if (get_size(d, v, FIELD("memlock"), &bytes) < 0)
      return -1;
    else
      c->memlock = (int64_t) bytes;
  }
  if ((v = doc_get(n, "capabilities")) && decode_caps(d, v, cf, c) < 0)
    return -1;
  if ((v = doc_get(n, "devices")) && decode_devices(d, v, cf, c) < 0)
    return -1;
  if ((v = doc_get(n, "depends_on")) && decode_strv(d, v, FIELD("depends_on"), &c->depends_on) < 0)
    return -1;
#undef FIELD
  if (!c->capabilities)
    c->capabilities = xmalloc0(sizeof(char *));
  if (!c->depends_on)
    c->depends_on = xmalloc0(sizeof(char *));
  return 0;
}

static int start_order(const struct plan_config *c, size_t *order, int *cycle_at,
                       edgecr_error_t *err);

static int cmp_name_index(const void *a, const void *b)
{
  const struct plan_container *x = *(struct plan_container *const *) a, *y = *(struct plan_container *const *) b;
  int r = strcmp(x->name, y->name);
  return r ? r : (x < y ? -1 : x > y);
}

/* Names unique: sorted (n log n; pairwise comparison took seconds for
 * 10,000 containers), reporting the duplicate that comes first in the file
 * with the earlier container of its name. */
static int check_unique_names(struct decoder *d, struct plan_config *c)
{
  cleanup_free struct plan_container **by = xmalloc0((c->n + 1) * sizeof *by);
  for (size_t i = 0; i < c->n; i++)
    by[i] = &c->containers[i];
  qsort(by, c->n, sizeof *by, cmp_name_index);
  size_t best_i = SIZE_MAX, best_j = 0;
  for (size_t k = 1; k < c->n; k++) {
    if (strcmp(by[k]->name, by[k - 1]->name) != 0)
      continue;
    size_t i = (size_t) (by[k] - c->containers), first = k; /* the earliest container of this name */
    while (first > 0 && strcmp(by[first - 1]->name, by[k]->name) == 0)
      first--;
    size_t j = (size_t) (by[first] - c->containers);
    if (i < best_i) {
      best_i = i;
      best_j = j;
    }
  }
  if (best_i == SIZE_MAX)
    return 0;
  return field_error(d, c->containers[best_i].line, "name", "containers[%zu] and containers[%zu] are both named \"%s\"",
                     best_j, best_i, c->containers[best_i].name);
}

/* Names unique, dependencies exist, no cycles. */
static int check_references(struct decoder *d, const struct doc_node *list, struct plan_config *c)
{
  if (check_unique_names(d, c) < 0)
    return -1;
  for (size_t i = 0; i < c->n; i++) {
    for (size_t k = 0; c->containers[i].depends_on[k]; k++) {
      const char *dep = c->containers[i].depends_on[k];
      if (plan_config_find(c, dep) < 0) {
        char f[96];
        snprintf(f, sizeof f, "containers[%zu].depends_on[%zu]", i, k);
        struct doc_node *dn = doc_get(list->items[i], "depends_on");
        return field_error(d, dn->items[k]->line, f, "no container is named \"%s\"", dep);
      }
    }
  }
  cleanup_free size_t *order = xmalloc0((c->n + 1) * sizeof *order);
  int cycle_at;
  if (start_order(c, order, &cycle_at, d->err) < 0)
    return edgecr_error_wrap(d->err, "%s:%d: containers[%d].depends_on", d->file,
                             c->containers[cycle_at].line, cycle_at);
  return 0;
}

static char *default_name(const char *path)
{
  cleanup_free char *copy = xstrdup(path);
  char *base = xstrdup(basename(copy));
  char *dot = strrchr(base, '.');
  if (dot && dot != base)
    *dot = '\0';
  return base;
}

/* A channel entry as the JSON object edgecr_channel_decl_from_json() reads:
 * digits become numbers, lists stay lists (of names). */
static json_t *channel_json(struct decoder *d, const struct doc_node *n, const char *field)
{
  json_t *o = json_object();
  for (size_t i = 0; i < n->n; i++) {
    const struct doc_node *v = n->items[i];
    cleanup_free char *f = xasprintf("%s.%s", field, n->keys[i]);
    long long x;
    json_t *j = NULL;
    if (v->kind == DOC_SCALAR)
      j = !v->quoted && parse_int64(v->scalar, &x) == 0 ? json_integer(x) : json_string(v->scalar);
    else if (strcmp(n->keys[i], "writers") != 0 && strcmp(n->keys[i], "readers") != 0)
      j = json_null(); /* not a list field: the declaration check names it */
    else if (v->kind == DOC_SEQ) {
      j = json_array();
      for (size_t k = 0; k < v->n; k++) {
        if (v->items[k]->kind != DOC_SCALAR) {
          json_decref(j), json_decref(o);
          return field_error(d, v->items[k]->line, f, "must be a list of container names"), NULL;
        }
        json_array_append_new(j, json_string(v->items[k]->scalar));
      }
    } else {
      json_decref(o);
      return field_error(d, v->line, f, "must be a single value or a list"), NULL;
    }
    json_object_set_new(o, n->keys[i], j ? j : json_null());
  }
  return o;
}

/* The ends of a channel: a list of containers of this plan. */
static int channel_ends(struct decoder *d, const struct doc_node *n, const char *field, const char *key,
                        const struct plan_config *c, char ***out)
{
  const struct doc_node *v = doc_get(n, key);
  cleanup_free char *f = xasprintf("%s.%s", field, key);
  if (v->kind != DOC_SEQ)
    return field_error(d, v->line, f, "must list the containers of this plan at that end");
  *out = xmalloc0((v->n + 1) * sizeof **out);
  for (size_t k = 0; k < v->n; k++) {
    if (plan_config_find(c, v->items[k]->scalar) < 0)
      return field_error(d, v->items[k]->line, f, "\"%s\" is not a container of this plan", v->items[k]->scalar);
    (*out)[k] = xstrdup(v->items[k]->scalar);
  }
  return 0;
}

/* The line of the field a channel declaration error names
 * ("`channels.NAME.FIELD`"), or the entry's line. */
static int field_line(const struct doc_node *n, const char *msg)
{
  const char *p = strstr(msg, "`channels.");
  const char *end = p ? strchr(p + 1, '`') : NULL;
  if (!end)
    return n->line;
  const char *dot = end;
  while (dot > p && *dot != '.')
    dot--;
  for (size_t i = 0; i < n->n; i++)
    if (strlen(n->keys[i]) == (size_t)(end - dot - 1) && strncmp(n->keys[i], dot + 1, (size_t)(end - dot - 1)) == 0)
      return n->key_lines[i];
  return n->line;
}

static int decode_channel(struct decoder *d, const struct doc_node *n, size_t i, struct plan_config *c)
{
  cleanup_free char *field = xasprintf("channels[%zu]", i);
  if (want_kind(d, n, DOC_MAP, field) < 0)
    return -1;
  json_t *o = channel_json(d, n, field);
  if (!o)
    return -1;
  struct plan_channel *ch = &c->channels[c->n_channels++];
  ch->line = n->line;
  char *where = xasprintf("%s:%d", d->file, n->line);
  edgecr_error_t e = NULL;
  int r = edgecr_channel_decl_from_json(o, where, &ch->decl, &e);
  json_decref(o);
  if (r < 0) {
    /* "FILE:LINE: `channels.NAME.FIELD`: reason": said again with the line
     * of FIELD when the entry has it. */
    int line = field_line(n, e->msg);
    if (line != n->line) {
      edgecr_error_release(&e);
      free(where);
      where = xasprintf("%s:%d", d->file, line);
      o = channel_json(d, n, field);
      if (o)
        edgecr_channel_decl_from_json(o, where, &ch->decl, &e);
      json_decref(o);
    }
    free(where);
    *d->err = e;
    return -1;
  }
  free(where);
  for (size_t k = 0; k + 1 < c->n_channels; k++)
    if (strcmp(c->channels[k].decl.name, ch->decl.name) == 0)
      return field_error(d, n->line, field, "channel \"%s\" is declared twice (first at line %d)", ch->decl.name,
                         c->channels[k].line);
  if (channel_ends(d, n, field, "writers", c, &ch->writers) < 0 || channel_ends(d, n, field, "readers", c, &ch->readers) < 0)
    return -1;
  return 0;
}

static int decode_channels(struct decoder *d, const struct doc_node *root, struct plan_config *c)
{
  const struct doc_node *list = doc_get(root, "channels");
  if (!list)
    return 0;
  if (want_kind(d, list, DOC_SEQ, "channels") < 0)
    return -1;
  c->channels = xmalloc0((list->n + 1) * sizeof *c->channels);
  for (size_t i = 0; i < list->n; i++)
    if (decode_channel(d, list->items[i], i, c) < 0)
      return -1;
  return 0;
}

static int decode_config(struct decoder *d, const struct doc_node *root, struct plan_config *c)
{
  static const char *const keys[] = {"name", "node", "containers", "channels", NULL};
  if (check_keys(d, root, "", keys) < 0)
    return -1;
  struct doc_node *v = doc_get(root, "name");
  if (v && get_string(d, v, "name", &c->name) < 0)
    return -1;
  if (c->name && !valid_name(c->name))
    return field_error(d, v->line, "name", "\"%s\" must be letters, digits, '-', '_' or '.'", c->name);
  if (!c->name)
    c->name = default_name(c->file);
  if ((v = doc_get(root, "node")) == NULL)
    return field_error(d, root->line, "node", "is required (cores, rt_cores, memory)");
  if (decode_node(d, v, &c->node) < 0)
    return -1;
  struct doc_node *list = doc_get(root, "containers");
  if (list == NULL)
    return field_error(d, root->line, "containers", "is required (a list)");
  if (want_kind(d, list, DOC_SEQ, "containers") < 0)
    return -1;
  cleanup_free char *copy = xstrdup(c->file);
  const char *base_dir = dirname(copy);
  c->containers = xmalloc0((list->n + 1) * sizeof *c->containers);
  for (size_t i = 0; i < list->n; i++, c->n++)
    if (decode_container(d, list->items[i], i, &c->node, base_dir, &c->containers[i]) < 0) {
      c->n++;
      return -1;
    }
  if (check_references(d, list, c) < 0)
    return -1;
  return decode_channels(d, root, c);
}

int plan_config_parse(const char *file, const char *text, size_t len, bool json,
                      struct plan_config **out, edgecr_error_t *err)
{
  struct doc_node *root = doc_parse(file, text, len, json, err);
  if (root == NULL)
    return -1;
  struct plan_config *c = xmalloc0(sizeof *c);
  c->file = xstrdup(file);
  struct decoder d = {.file = file, .err = err};
  int r = decode_config(&d, root, c);
  doc_free(root);
  if (r < 0) {
    plan_config_free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int plan_config_load(const char *path, struct plan_config **out, edgecr_error_t *err)
{
  cleanup_free char *text = NULL;
  ssize_t len = read_all_file(path, &text, err);
  if (len < 0)
    return edgecr_error_wrap(err, "read configuration");
  return plan_config_parse(path, text, (size_t) len, str_has_suffix(path, ".json"), out, err);
}

static void strv_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

void plan_config_free(struct plan_config *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_channels; i++) {
    strv_free(c->channels[i].writers);
    strv_free(c->channels[i].readers);
  }
  free(c->channels);
  for (size_t i = 0; i < c->n; i++) {
    struct plan_container *k = &c->containers[i];
    free(k->name);
    free(k->bundle);
    free(k->image);
    strv_free(k->capabilities);
    strv_free(k->depends_on);
    for (size_t j = 0; j < k->n_devices; j++) {
      free(k->devices[j].path);
      free(k->devices[j].access);
    }
    free(k->devices);
  }
  free(c->containers);
  free(c->file);
  free(c->name);
  free(c);
}

int plan_config_find(const struct plan_config *c, const char *name)
{
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->containers[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Depth-first topological sort; state 1 = on the current path (a cycle if
 * met again), 2 = placed.  path[] holds the current chain for the message. */
struct topo {
  const struct plan_config *c;
  unsigned char *state;
  size_t *path, depth;
  size_t *order, n;
  int cycle_at;
};

static int cycle_error(struct topo *t, size_t i, edgecr_error_t *err)
{
  size_t from = 0;
  while (t->path[from] != i)
    from++;
  size_t cap = 64;
  for (size_t k = from; k < t->depth; k++)
    cap += strlen(t->c->containers[t->path[k]].name) + 4;
  cleanup_free char *chain = xmalloc0(cap);
  for (size_t k = from; k < t->depth; k++) {
    strcat(chain, t->c->containers[t->path[k]].name);
    strcat(chain, " -> ");
  }
  strcat(chain, t->c->containers[i].name);
  t->cycle_at = (int) i;
  return edgecr_error_make(err, 0, "dependency cycle: %s", chain);
}

static int visit(struct topo *t, size_t i, edgecr_error_t *err)
{
  if (t->state[i] == 2)
    return 0;
  if (t->state[i] == 1)
    return cycle_error(t, i, err);
  t->state[i] = 1;
  t->path[t->depth++] = i;
  char **deps = t->c->containers[i].depends_on;
  for (size_t k = 0; deps && deps[k]; k++) {
    int j = plan_config_find(t->c, deps[k]);
    if (j >= 0 && visit(t, (size_t) j, err) < 0)
      return -1;
  }
  t->depth--;
  t->state[i] = 2;
  t->order[t->n++] = i;
  return 0;
}

static int start_order(const struct plan_config *c, size_t *order, int *cycle_at,
                       edgecr_error_t *err)
{
  cleanup_free unsigned char *state = xmalloc0(c->n + 1);
  cleanup_free size_t *path = xmalloc0((c->n + 1) * sizeof *path);
  struct topo t = {.c = c, .state = state, .path = path, .order = order, .cycle_at = -1};
  for (size_t i = 0; i < c->n; i++)
    if (visit(&t, i, err) < 0) {
      *cycle_at = t.cycle_at;
      return -1;
    }
  return 0;
}

int plan_config_start_order(const struct plan_config *c, size_t *order, edgecr_error_t *err)
{
  int cycle_at;
  return start_order(c, order, &cycle_at, err);
}

const char *plan_backend_name(enum plan_backend b)
{
  static const char *const names[] = {"linux", "wasm", "remoteproc"};
  return names[b];
}

const char *plan_policy_name(enum plan_policy p)
{
  return p == PLAN_POLICY_DEADLINE ? "deadline" : "fixed-priority";
}
