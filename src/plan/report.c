/* report.c - text tables and JSON for `edgecr plan check`. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const struct plan_task *plan_analysis_task(const struct plan_analysis *a, size_t id)
{
  for (size_t i = 0; i < a->n; i++)
    if (a->tasks[i].id == id)
      return &a->tasks[i];
  return NULL;
}

static const char *yes_no(bool ok) { return ok ? "ok" : "FAIL"; }

static void core_table(FILE *out, const struct plan_analysis *a)
{
  fprintf(out, "%-5s %-3s %5s %6s %6s %6s %-13s %-13s %-4s %-4s %-9s %s\n", "core", "rt", "tasks", "U",
          "U(fp)", "U(dl)", "Liu&Layland", "hyperbolic", "RTA", "QPA", "admission", "verdict");
  for (int k = 0; k < a->n_cores; k++) {
    const struct plan_core_result *r = &a->cores[k];
    char ll[32] = "-", hy[32] = "-";
    if (r->n_fp) {
      snprintf(ll, sizeof ll, "%.3f %s%s", r->ll_bound, r->ll_ok ? "ok" : "no", r->bounds_apply ? "" : "*");
      snprintf(hy, sizeof hy, "%.3f %s%s", r->hyperbolic, r->hyp_ok ? "ok" : "no", r->bounds_apply ? "" : "*");
    }
    fprintf(out, "%-5d %-3s %5zu %6.3f %6.3f %6.3f %-13s %-13s %-4s %-4s %-9s %s\n", k, r->rt ? "yes" : "no",
            r->dl_global ? r->n_fp : r->n_fp + r->n_dl, r->u, r->u_fp, r->u_dl, ll, hy,
            r->n_fp ? yes_no(r->rta_ok) : "-", r->n_dl && !r->dl_global ? yes_no(r->qpa_ok) : "-",
            r->n_dl && !r->dl_global ? yes_no(r->dl_admission_ok) : "-",
            r->ok ? "schedulable" : "NOT SCHEDULABLE");
  }
}

static void container_table(FILE *out, const struct plan_config *c, const struct plan_analysis *a)
{
  fprintf(out, "%-16s %4s %-8s %4s %9s %9s %9s %6s %9s %9s %s\n", "container", "core", "policy", "prio",
          "budget", "period", "deadline", "U", "response", "slack", "verdict");
  for (size_t i = 0; i < c->n; i++) {
    const struct plan_task *t = plan_analysis_task(a, i);
    if (t == NULL) {
      fprintf(out, "%-16s %4s %-8s %4s %9s %9s %9s %6s %9s %9s %s\n", c->containers[i].name, "-", "none",
              "-", "-", "-", "-", "-", "-", "-", "best effort");
      continue;
    }
    char cb[32], tb[32], db[32], rb[32] = "unbounded", sb[32] = "-", pb[8] = "-", kb[16] = "all";
    if (t->response != INT64_MAX) {
      plan_format_duration(t->response, rb, sizeof rb);
      if (t->policy == PLAN_POLICY_FP) /* a reservation's response is the EDF bound D */
        plan_format_duration(t->D - t->response, sb, sizeof sb);
    }
    if (t->policy == PLAN_POLICY_FP)
      snprintf(pb, sizeof pb, "%d", t->prio);
    if (t->core >= 0)
      snprintf(kb, sizeof kb, "%d", t->core);
    fprintf(out, "%-16s %4s %-8s %4s %9s %9s %9s %6.3f %s%8s %9s %s\n", t->name, kb,
            t->policy == PLAN_POLICY_FP ? "fifo" : "deadline", pb, plan_format_duration(t->C, cb, sizeof cb),
            plan_format_duration(t->T, tb, sizeof tb), plan_format_duration(t->D, db, sizeof db),
            (double) t->C / t->T, t->policy == PLAN_POLICY_DEADLINE ? "<=" : "  ", rb, sb,
            t->ok ? "ok" : "MISS");
  }
}

/* The reservations as one global EDF set: which test passed, or why not. */
static void dl_summary(FILE *out, const struct plan_analysis *a)
{
  const struct plan_dl_result *d = &a->dl;
  if (d->n == 0)
    return;
  if (a->dl_partitioned) {
    fprintf(out, "\ndeadline reservations: %zu, partitioned: one root domain per core (cores %s), EDF per core "
            "(kernel admission <= %.2f and QPA on each): U %.3f in total\n", d->n, a->partition_cpus,
            a->dl_core_limit, d->u);
    fprintf(out, "  general-purpose cores (best effort, the host): %s\n", a->general_cpus);
    fprintf(out, "  verdict: %s\n", d->ok ? d->test : "NOT SCHEDULABLE (see the cores)");
    return;
  }
  fprintf(out, "\ndeadline reservations: %zu, global EDF on the %d %s of the root domain: U %.3f, density %.3f "
          "(max %.3f)\n", d->n, d->m, plan_noun(d->m, "CPU", "CPUs"), d->u, d->density, d->density_max);
  fprintf(out, "  kernel admission  U %.3f <= %.2f x %d = %.3f: %s (necessary, not sufficient)\n", d->u,
          a->rt_ratio, d->m, d->admission_limit, d->admission_ok ? "ok" : "FAIL");
  fprintf(out, "  GFB               density %.3f <= %d - %d x %.3f = %.3f: %s\n", d->density, d->m, d->m - 1,
          d->density_max, d->gfb_bound, d->gfb_ok ? "ok" : "no");
  fprintf(out, "  BCL               %s\n", d->bcl_ok ? "ok" : "no");
  if (d->m == 1)
    fprintf(out, "  QPA (one CPU)     %s\n", d->qpa_ok ? "ok" : "no");
  fprintf(out, "  verdict: %s\n", d->ok ? d->test : "NOT SHOWN SCHEDULABLE");
}

/* What fails, in a few words for the verdict line: the containers that can
 * miss deadlines and every node-wide check that fails (the details are
 * under "why it fails"). */
static char *verdict_failures(const struct plan_analysis *a, size_t failures)
{
  cleanup_free char *s = xstrdup("");
  int cores_failing = 0;
  for (int k = 0; k < a->n_cores; k++)
    cores_failing += !a->cores[k].ok;
  const char *parts[6] = {NULL};
  char buf[2][96];
  size_t n = 0;
  if (failures) {
    snprintf(buf[0], sizeof buf[0], "%zu of %zu real-time %s can miss deadlines", failures, a->n,
             plan_noun((long long) a->n, "container", "containers"));
    parts[n++] = buf[0];
  }
  if (cores_failing) {
    snprintf(buf[1], sizeof buf[1], "%d %s %s", cores_failing, plan_noun(cores_failing, "core", "cores"),
             plan_noun(cores_failing, "fails", "fail"));
    parts[n++] = buf[1];
  }
  if (!a->assignment_found)
    parts[n++] = "no core assignment found";
  if (!a->dl.ok)
    parts[n++] = "the deadline reservations are not shown schedulable";
  if (!a->fifo_budget_ok)
    parts[n++] = "the SCHED_FIFO cgroup budgets exceed the kernel's node-wide limit";
  if (!a->memory_ok)
    parts[n++] = "the memory limits exceed node.memory";
  for (size_t i = 0; i < n; i++) {
    char *next = xasprintf("%s%s%s", s, i ? "; " : "", parts[i]);
    free(s);
    s = next;
  }
  if (n == 0) {
    free(s);
    s = xstrdup("see above");
  }
  char *r = s;
  s = NULL;
  return r;
}

void plan_report_text(FILE *out, const struct plan_config *c, const struct plan_analysis *a)
{
  int rt = 0;
  for (int k = 0; k < c->node.cores; k++)
    rt += c->node.rt_core[k];
  fprintf(out, "plan `%s` (%s): %d %s (%d for real-time), %zu %s (%zu real-time)\n", c->name, c->file,
          c->node.cores, plan_noun(c->node.cores, "core", "cores"), rt, c->n,
          plan_noun((long long) c->n, "container", "containers"), a->n);
  fprintf(out, "core assignment: %s; real-time share per core %.2f (rt_runtime/rt_period)\n",
          a->assignment, a->rt_ratio);
  if (a->fifo_groups)
    fprintf(out, "SCHED_FIFO cgroup budgets: %.3f of the %.2f the kernel shares among all groups (%s)\n\n",
            a->fifo_budget_sum, a->rt_ratio, a->fifo_budget_ok ? "ok" : "FAIL");
  else
    fprintf(out, "SCHED_FIFO cgroup budgets: none (%s): protection is the global real-time throttling only, %.2f "
            "of each CPU; deadline reservations are enforced\n\n",
            a->fifo_budgets_probed ? "this machine's kernel has no real-time group budgets" : "node.fifo_budgets: none",
            a->rt_ratio);
  core_table(out, a);
  fprintf(out, "  (* bound shown for information: it assumes D = T, no jitter, no blocking, no reservations)\n");
  if (a->dl.n && !a->dl_partitioned)
    fprintf(out, "  (U and U(dl) of a core count every reservation: they run on any core)\n");
  dl_summary(out, a);
  fputc('\n', out);
  container_table(out, c, a);
  size_t failures = 0;
  for (size_t i = 0; i < a->n; i++)
    failures += !a->tasks[i].ok;
  bool core_reason = false;
  for (int k = 0; k < a->n_cores; k++)
    core_reason |= a->cores[k].reason != NULL;
  if (failures || a->problem || core_reason) {
    fprintf(out, "\nwhy it fails:\n");
    if (a->problem)
      fprintf(out, "  %s\n", a->problem);
    if (a->dl.reason)
      fprintf(out, "  deadline reservations: %s\n", a->dl.reason);
    for (int k = 0; k < a->n_cores; k++)
      if (a->cores[k].reason)
        fprintf(out, "  %s\n", a->cores[k].reason);
    for (size_t i = 0; i < a->n; i++)
      if (a->tasks[i].reason)
        fprintf(out, "  %s\n", a->tasks[i].reason);
  }
  for (size_t i = 0; a->warnings && a->warnings[i]; i++)
    fprintf(out, "%swarning: %s\n", i ? "" : "\n", a->warnings[i]);
  if (a->schedulable) {
    fprintf(out, "\nverdict: schedulable (%zu real-time %s on %d %s)\n", a->n,
            plan_noun((long long) a->n, "container", "containers"), rt, plan_noun(rt, "core", "cores"));
  } else {
    cleanup_free char *what = verdict_failures(a, failures);
    fprintf(out, "\nverdict: NOT SCHEDULABLE (%s)\n", what);
  }
}

static json_t *duration_or_null(int64_t ns)
{
  return ns == INT64_MAX ? json_null() : json_integer(ns);
}

static json_t *core_json(const struct plan_core_result *r)
{
  return json_pack("{s:i,s:b,s:i,s:i,s:f,s:f,s:f,s:{s:f,s:b,s:b},s:{s:f,s:b,s:b},s:b,s:b,s:b,s:b,s:b,s:o}",
                   "core", r->core, "rt", r->rt, "fixed_priority", (int) r->n_fp, "deadline", (int) r->n_dl,
                   "utilisation", r->u, "fp_utilisation", r->u_fp, "dl_utilisation", r->u_dl,
                   "liu_layland", "bound", r->ll_bound, "ok", r->ll_ok, "applies", r->bounds_apply,
                   "hyperbolic", "product", r->hyperbolic, "ok", r->hyp_ok, "applies", r->bounds_apply,
                   "rta_ok", r->rta_ok, "qpa_ok", r->qpa_ok, "dl_admission_ok", r->dl_admission_ok,
                   "throttle_ok", r->throttle_ok, "schedulable", r->ok,
                   "reason", r->reason ? json_string(r->reason) : json_null());
}

static json_t *task_json(const struct plan_container *ct, const struct plan_task *t)
{
  json_t *o = json_pack("{s:s,s:s,s:b}", "name", ct->name, "backend", plan_backend_name(ct->backend),
                        "realtime", t != NULL);
  if (t == NULL)
    return o;
  json_t *rt = json_pack("{s:o,s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:f,s:o,s:o,s:b,s:o}", "core",
                         t->core >= 0 ? json_integer(t->core) : json_null(),
                         "policy", plan_policy_name(t->policy),
                         "priority", t->policy == PLAN_POLICY_FP ? json_integer(t->prio) : json_null(),
                         "budget_ns", (json_int_t) t->C, "period_ns", (json_int_t) t->T,
                         "deadline_ns", (json_int_t) t->D, "jitter_ns", (json_int_t) t->J,
                         "blocking_ns", (json_int_t) t->B, "utilisation", (double) t->C / t->T,
                         "response_ns", duration_or_null(t->response),
                         "slack_ns", t->response == INT64_MAX || t->policy == PLAN_POLICY_DEADLINE
                                         ? json_null() : json_integer(t->D - t->response),
                         "schedulable", t->ok, "reason", t->reason ? json_string(t->reason) : json_null());
  json_object_set_new(rt, "pinned", json_boolean(t->pinned));
  json_object_set_new(rt, "priority_given", json_boolean(t->prio_given));
  json_object_set_new(o, "rt", rt);
  return o;
}

json_t *plan_report_json(const struct plan_config *c, const struct plan_analysis *a)
{
  json_t *cores = json_array(), *containers = json_array(), *failures = json_array();
  for (int k = 0; k < a->n_cores; k++) {
    json_array_append_new(cores, core_json(&a->cores[k]));
    if (a->cores[k].reason)
      json_array_append_new(failures, json_string(a->cores[k].reason));
  }
  for (size_t i = 0; i < c->n; i++)
    json_array_append_new(containers, task_json(&c->containers[i], plan_analysis_task(a, i)));
  for (size_t i = 0; i < a->n; i++)
    if (a->tasks[i].reason)
      json_array_append_new(failures, json_string(a->tasks[i].reason));
  if (a->problem)
    json_array_insert_new(failures, 0, json_string(a->problem));
  const struct plan_dl_result *d = &a->dl;
  json_t *dl = json_pack("{s:i,s:i,s:f,s:f,s:f,s:{s:f,s:b},s:{s:f,s:b},s:b,s:b,s:b,s:o,s:o}", "cpus", d->m,
                         "reservations", (int) d->n, "utilisation", d->u, "density", d->density, "density_max",
                         d->density_max, "admission", "limit", d->admission_limit, "ok", d->admission_ok, "gfb",
                         "bound", d->gfb_bound, "ok", d->gfb_ok, "bcl_ok", d->bcl_ok, "qpa_ok", d->qpa_ok,
                         "schedulable", d->ok, "test", d->test ? json_string(d->test) : json_null(), "reason",
                         d->reason ? json_string(d->reason) : json_null());
  json_object_set_new(dl, "mode", json_string(a->dl_partitioned ? "partitioned" : "global"));
  if (a->dl_partitioned) {
    json_object_set_new(dl, "partition_cpus", json_string(a->partition_cpus));
    json_object_set_new(dl, "general_cpus", json_string(a->general_cpus));
  }
  json_t *warnings = json_array();
  for (size_t i = 0; a->warnings && a->warnings[i]; i++)
    json_array_append_new(warnings, json_string(a->warnings[i]));
  json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:f,s:i,s:{s:f,s:b},s:o,s:o,s:o,s:o,s:o}", "name", c->name, "file", c->file,
                   "schedulable", a->schedulable, "assignment", a->assignment, "rt_ratio", a->rt_ratio,
                   "cores_total", c->node.cores, "fifo_budgets", "sum", a->fifo_budget_sum, "ok",
                   a->fifo_budget_ok, "deadline_reservations", dl, "cores", cores, "containers", containers, "failures", failures,
                   "warnings", warnings);
  json_t *fb = json_object_get(r, "fifo_budgets");
  json_object_set_new(fb, "mode", json_string(a->fifo_groups ? "groups" : "none"));
  json_object_set_new(fb, "probed", json_boolean(a->fifo_budgets_probed));
  json_object_set_new(fb, "protection", json_string(a->fifo_groups ? "cgroup real-time budgets per container"
                                                                    : "global real-time throttling only"));
  return r;
}
