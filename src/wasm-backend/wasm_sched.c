/* wasm_sched.c - a tenant's signed schedule as the container's real-time
 * settings (docs/tenants.md, "Schedule and activations").
 *
 * The schedule is mapped onto the settings a bundle could give itself, so
 * the Linux backend applies it with the mechanisms it already has (the
 * init's sched_setattr, the cgroup real-time budget) and nothing here
 * touches the kernel:
 *   - priority P > 0: process.scheduler = SCHED_FIFO P, and, unless the
 *     bundle gives linux.resources.cpu.realtimeRuntime itself, the cgroup
 *     budget that never throttles the tenant while it meets its deadline,
 *     by the plan's rule (rt_fifo_budget, docs/plan.md section 4) over the
 *     default window of 1 s: k C + min(C, D - C) every k T; the long
 *     window leaves room for the instantiation and _initialize, which a
 *     window of one period would throttle; without period and budget the
 *     backend's default budget for SCHED_FIFO applies;
 *   - no priority, a period and a budget: SCHED_DEADLINE (runtime = budget,
 *     deadline = deadline or period, period) with SCHED_FLAG_DL_OVERRUN:
 *     the kernel throttles the tenant when it has used its budget and
 *     says so with SIGXCPU, which the activation loop counts as an overrun
 *     (its own CPU-time check could not see it: the throttled thread runs
 *     again only at its next period);
 *   - otherwise nothing: the tenant is best effort (its activations still
 *     follow the period).
 * Precedence: the metadata is signed and the bundle is not, so the bundle
 * cannot change what the signer set; but silently overriding a bundle's
 * explicit setting would hide a mistake.  A bundle whose process.scheduler
 * says anything else than the mapping above is refused at create (equal
 * is fine: a plan writes the same settings). */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "cgroup.h"
#include "rt_budget.h"
#include "util.h"
#include "wasm_backend.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define SCHED_FLAG_DL_OVERRUN 0x04

/* The scheduler the schedule asks for; false when it asks for none. */
bool wb_schedule_policy(const struct tenant_schedule *s, struct oci_scheduler *out)
{
  memset(out, 0, sizeof *out);
  if (s->priority > 0) {
    *out = (struct oci_scheduler){.present = true, .policy = SCHED_FIFO, .priority = (int) s->priority};
    return true;
  }
  if (s->period_ns > 0 && s->budget_ns > 0) {
    *out = (struct oci_scheduler){.present = true, .policy = SCHED_DEADLINE, .runtime = s->budget_ns,
                                  .deadline = s->deadline_ns ? s->deadline_ns : s->period_ns,
                                  .period = s->period_ns, .flags = SCHED_FLAG_DL_OVERRUN};
    return true;
  }
  return false;
}

static const char *policy_name(int p)
{
  return p == SCHED_FIFO ? "SCHED_FIFO" : p == SCHED_RR ? "SCHED_RR" : p == SCHED_DEADLINE ? "SCHED_DEADLINE"
                                                                                             : "another policy";
}

static void describe(const struct oci_scheduler *s, char *buf, size_t cap)
{
  if (s->policy == SCHED_DEADLINE)
    snprintf(buf, cap, "SCHED_DEADLINE runtime %llu ns, deadline %llu ns, period %llu ns", s->runtime,
             s->deadline, s->period);
  else if (s->policy == SCHED_FIFO || s->policy == SCHED_RR)
    snprintf(buf, cap, "%s priority %d", policy_name(s->policy), s->priority);
  else
    snprintf(buf, cap, "%s", policy_name(s->policy));
}

static bool same(const struct oci_scheduler *a, const struct oci_scheduler *b)
{
  if (a->policy != b->policy)
    return false;
  if (a->policy == SCHED_DEADLINE)
    return a->runtime == b->runtime && a->deadline == b->deadline && a->period == b->period;
  return a->priority == b->priority;
}

/* linux.resources of the config, created in the document when absent (the
 * document owns it, so it lives and dies with the config). */
static json_t *resources_of(struct oci_config *cfg)
{
  if (cfg->resources != NULL)
    return cfg->resources;
  json_t *lnx = json_object_get(cfg->doc, "linux");
  if (lnx == NULL) {
    lnx = json_object();
    json_object_set_new(cfg->doc, "linux", lnx);
  }
  cfg->resources = json_object();
  json_object_set_new(lnx, "resources", cfg->resources);
  return cfg->resources;
}

/* The FIFO tenant's cgroup budget, unless the bundle set one: the plan's
 * rule over the backend's default window (so a plan, whose node has the
 * default rt_period, gives it the same). */
static void fifo_budget(struct oci_config *cfg, const struct tenant_schedule *s)
{
  if (s->period_ns == 0 || s->budget_ns == 0)
    return; /* the backend's default budget for SCHED_FIFO */
  json_t *res = resources_of(cfg);
  json_t *cpu = json_object_get(res, "cpu");
  if (cpu == NULL) {
    cpu = json_object();
    json_object_set_new(res, "cpu", cpu);
  }
  if (json_object_get(cpu, "realtimeRuntime") != NULL)
    return;
  int64_t period_us, runtime_us;
  rt_fifo_budget((int64_t) s->budget_ns, (int64_t) s->period_ns,
                 (int64_t) (s->deadline_ns ? s->deadline_ns : s->period_ns),
                 (int64_t) EDGECR_RT_DEFAULT_PERIOD_US * 1000, &period_us, &runtime_us);
  json_object_set_new(cpu, "realtimePeriod", json_integer(period_us));
  json_object_set_new(cpu, "realtimeRuntime", json_integer(runtime_us));
}

int wb_tenant_schedule(struct oci_config *cfg, const struct tenant_meta *m, const char *file, edgecr_error_t *err)
{
  struct oci_scheduler want;
  if (!m->has_schedule || !wb_schedule_policy(&m->schedule, &want) || cfg->process == NULL)
    return 0;
  struct oci_scheduler *have = &cfg->process->scheduler;
  char a[128], b[128];
  describe(&want, a, sizeof a);
  if (have->present && !same(have, &want)) {
    describe(have, b, sizeof b);
    return edgecr_error_make(err, EINVAL, "process.scheduler: %s conflicts with the schedule of the tenant's "
                             "signed metadata `%s` (%s): the metadata sets a tenant's schedule; remove "
                             "process.scheduler or make it equal", b, file, a);
  }
  if (!have->present)
    *have = want;
  if (want.policy == SCHED_FIFO)
    fifo_budget(cfg, &m->schedule);
  return 0;
}
