/* tenant_rt.c - a plan container that is a WebAssembly tenant takes its
 * real-time requirements from its signed metadata (docs/tenants.md,
 * "Schedule and activations"; docs/plan.md).
 *
 * The runtime makes a tenant's schedule its scheduler at create
 * (src/wasm-backend/wasm_sched.c): SCHED_FIFO at the priority when there
 * is one, else SCHED_DEADLINE when there are a period and a budget.  So
 * that `plan check` analyses what will run, a bundle whose config.json has
 * the annotation org.edgecr.tenant.metadata gets its container's `rt:`
 * from that metadata (policy fixed-priority with the priority, or
 * deadline; period, budget, deadline), and an `rt:` written in the plan
 * must say the same, or the plan is refused (the runtime would refuse the
 * container at create).  The payload is decoded, not verified: the trust
 * directory is the device's, and create checks the signature there. */
#include <errno.h>
#include <string.h>

#include "admit.h"
#include "meta.h"
#include "model.h"
#include "util.h"

/* The metadata file `file` (a path inside the container) beneath the
 * rootfs directory `rootfs`, decoded into m (a COSE_Sign1's payload, not
 * verified, or a bare payload).  0, or -1 with *why. */
int plan_tenant_load(const char *rootfs, const char *file, struct tenant_meta *m, char **why)
{
  while (*file == '/')
    file++;
  cleanup_free char *path = xasprintf("%s/%s", rootfs, file);
  cleanup_free char *buf = NULL;
  edgecr_error_t err = NULL;
  ssize_t len = read_all_file(path, &buf, &err);
  if (len < 0) {
    *why = xasprintf("tenant metadata `%s`: %s", path, err->msg);
    edgecr_error_release(&err);
    return -1;
  }
  struct tenant_err e;
  struct tenant_cose c;
  const uint8_t *payload = (const uint8_t *) buf;
  size_t plen = (size_t) len;
  if (tenant_form_of(payload, plen) == TENANT_FORM_SIGN1) {
    if (tenant_cose_decode(payload, plen, &c, &e) < 0) {
      *why = xasprintf("tenant metadata `%s`: %s: %s", path, e.path, e.reason);
      return -1;
    }
    payload = c.payload;
    plen = c.payload_len;
  }
  if (tenant_meta_decode(payload, plen, m, &e) < 0) {
    *why = xasprintf("tenant metadata `%s`: payload: `%s`: %s", path, e.path, e.reason);
    return -1;
  }
  return 0;
}

/* The tenant metadata named by the bundle's config, decoded into m:
 * 1, 0 when the bundle is not a tenant, -1 with *why. */
static int load_meta(const char *bundle, struct tenant_meta *m, char **why)
{
  cleanup_free char *cfg_path = xasprintf("%s/config.json", bundle);
  json_error_t je;
  json_t *cfg = json_load_file(cfg_path, 0, &je);
  if (cfg == NULL)
    return 0; /* the bundle's own problem, reported where the plan reads it */
  const char *file = json_string_value(json_object_get(json_object_get(cfg, "annotations"),
                                                       "org.edgecr.tenant.metadata"));
  const char *root = json_string_value(json_object_get(json_object_get(cfg, "root"), "path"));
  cleanup_free char *rootfs = root == NULL ? xasprintf("%s/rootfs", bundle)
                              : root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", bundle, root);
  cleanup_free char *f = file ? xstrdup(file) : NULL;
  json_decref(cfg);
  if (f == NULL)
    return 0;
  return plan_tenant_load(rootfs, f, m, why) < 0 ? -1 : 1;
}

/* The requirements the schedule means (see the header); false when it has
 * none the plan can analyse. */
bool plan_tenant_schedule_rt(const struct tenant_schedule *s, struct plan_rt *rt)
{
  if (s->period_ns == 0 || s->budget_ns == 0)
    return false;
  *rt = (struct plan_rt){.period = (int64_t) s->period_ns, .budget = (int64_t) s->budget_ns,
                         .deadline = (int64_t) (s->deadline_ns ? s->deadline_ns : s->period_ns),
                         .policy = s->priority > 0 ? PLAN_POLICY_FP : PLAN_POLICY_DEADLINE,
                         .priority = (int) s->priority, .core = -1};
  return true;
}

static bool rt_equal(const struct plan_rt *a, const struct plan_rt *b)
{
  return a->period == b->period && a->budget == b->budget && a->deadline == b->deadline && a->policy == b->policy &&
         (a->policy != PLAN_POLICY_FP || a->priority == b->priority);
}

static char *describe(const struct plan_rt *rt)
{
  if (rt->policy == PLAN_POLICY_FP && rt->priority == 0)
    return xasprintf("fixed-priority, period %lld ns, budget %lld ns, deadline %lld ns", (long long) rt->period,
                     (long long) rt->budget, (long long) rt->deadline);
  if (rt->policy == PLAN_POLICY_FP)
    return xasprintf("fixed-priority %d, period %lld ns, budget %lld ns, deadline %lld ns", rt->priority,
                     (long long) rt->period, (long long) rt->budget, (long long) rt->deadline);
  return xasprintf("deadline, period %lld ns, budget %lld ns, deadline %lld ns", (long long) rt->period,
                   (long long) rt->budget, (long long) rt->deadline);
}

int plan_tenant_rt(struct plan_container *c, char **why)
{
  struct tenant_meta m;
  if (c->bundle == NULL)
    return 0;
  int rc = load_meta(c->bundle, &m, why);
  if (rc <= 0)
    return rc;
  struct plan_rt want;
  if (!m.has_schedule || !plan_tenant_schedule_rt(&m.schedule, &want)) {
    if (m.has_schedule && m.schedule.priority > 0) {
      *why = xasprintf("the tenant's signed schedule gives SCHED_FIFO priority %u without a period and a budget: "
                       "the plan cannot analyse it", m.schedule.priority);
      return -1;
    }
    if (c->has_rt) {
      *why = xasprintf("`rt` is given but the tenant's signed metadata has no period and budget: its schedule "
                       "comes from the metadata");
      return -1;
    }
    return 0;
  }
  if (!c->has_rt) {
    c->rt = want;
    c->has_rt = true;
    return 0;
  }
  struct plan_rt given = c->rt;
  if (given.policy == PLAN_POLICY_FP && given.priority == 0)
    given.priority = want.priority; /* a priority left to the plan: the metadata's */
  if (!rt_equal(&given, &want)) {
    cleanup_free char *a = describe(&c->rt), *b = describe(&want);
    *why = xasprintf("`rt` (%s) differs from the tenant's signed schedule (%s): the metadata sets a tenant's "
                     "schedule; leave `rt` out or make it equal", a, b);
    return -1;
  }
  c->rt.priority = want.priority;
  return 0;
}
