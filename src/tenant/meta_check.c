/* meta_check.c - the rules a decoded (or YAML-built) model must satisfy
 * beyond its types: a consistent schedule and no resource granted twice.
 * The same function judges both forms, so YAML and CBOR cannot disagree. */
#include <stdio.h>
#include <string.h>

#include "meta.h"

static int check_schedule(const struct tenant_schedule *s, struct tenant_err *e)
{
  if (s->budget_ns != 0 && s->period_ns == 0)
    return tenant_fail(e, "schedule.budget", "a budget per activation needs a period");
  if (s->deadline_ns != 0 && s->period_ns == 0)
    return tenant_fail(e, "schedule.deadline", "a deadline needs a period");
  if (s->period_ns != 0 && s->budget_ns > s->period_ns)
    return tenant_fail(e, "schedule.budget", "the budget (%llu ns) exceeds the period (%llu ns)",
                (unsigned long long) s->budget_ns, (unsigned long long) s->period_ns);
  if (s->period_ns != 0 && s->deadline_ns > s->period_ns)
    return tenant_fail(e, "schedule.deadline", "the deadline (%llu ns) exceeds the period (%llu ns)",
                (unsigned long long) s->deadline_ns, (unsigned long long) s->period_ns);
  if (s->deadline_ns != 0 && s->budget_ns > s->deadline_ns)
    return tenant_fail(e, "schedule.budget", "the budget (%llu ns) exceeds the deadline (%llu ns)",
                (unsigned long long) s->budget_ns, (unsigned long long) s->deadline_ns);
  return 0;
}

/* Index of the first name in names[0..i) equal to names[i], or -1.
 * `stride` walks arrays of structs whose first member is the name. */
static int earlier(const char *names, size_t stride, size_t i)
{
  for (size_t j = 0; j < i; j++)
    if (strcmp(names + j * stride, names + i * stride) == 0)
      return (int) j;
  return -1;
}

static int check_unique(const char *names, size_t stride, size_t n, const char *list, const char *field,
                        struct tenant_err *e)
{
  for (size_t i = 0; i < n; i++) {
    int j = earlier(names, stride, i);
    if (j >= 0) {
      char path[96];
      snprintf(path, sizeof path, "%s[%zu]%s", list, i, field);
      return tenant_fail(e, path, "`%s` is already listed at %s[%d]", names + i * stride, list, j);
    }
  }
  return 0;
}

static int check_permissions(const struct tenant_permissions *p, struct tenant_err *e)
{
  if (check_unique(p->kv[0].ns, sizeof p->kv[0], p->n_kv, "permissions.kv", ".namespace", e) < 0 ||
      check_unique(p->sensors[0], sizeof p->sensors[0], p->n_sensors, "permissions.sensor", "", e) < 0 ||
      check_unique(p->gpio[0].line, sizeof p->gpio[0], p->n_gpio, "permissions.gpio", ".line", e) < 0 ||
      check_unique(p->channels[0].name, sizeof p->channels[0], p->n_channels, "permissions.channel",
                   ".name", e) < 0)
    return -1;
  return 0;
}

int tenant_meta_check(const struct tenant_meta *m, struct tenant_err *e)
{
  if (m->format != TENANT_META_FORMAT)
    return tenant_fail(e, "format", "format %u is not supported (this edgecr reads format %d)", (unsigned) m->format,
                TENANT_META_FORMAT);
  if (!tenant_name_valid(m->id, strlen(m->id)))
    return tenant_fail(e, "id", "not a valid name");
  if (!tenant_name_valid(m->kid, strlen(m->kid)))
    return tenant_fail(e, "kid", "not a valid name");
  if (m->type != TENANT_TYPE_WASM)
    return tenant_fail(e, "type", "unknown container type");
  if (m->has_schedule && check_schedule(&m->schedule, e) < 0)
    return -1;
  if (check_permissions(&m->perms, e) < 0)
    return -1;
  return check_unique(m->endpoints[0].name, sizeof m->endpoints[0], m->n_endpoints, "endpoints", ".name", e);
}
