/* test_packing.c - core assignment at scale: a generated large plan is
 * placed so that every core passes the exact test from scratch, the
 * sufficient bound that lets packing skip the exact test never accepts a
 * core the exact test rejects, and the assignment is named for what it
 * did.  (Timing is bench/plan/assign.sh, not a test.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "model.h"
#include "packing.h"
#include "util.h"

static unsigned long long rng_state = 12345;
static unsigned long long rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static const int periods_ms[] = {1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50, 100};

/* n unpinned FIFO containers at `load` of the cores, some with jitter or
 * blocking, and n_dl small reservations. */
static char *large_plan(int n, int cores, double load, int n_dl)
{
  size_t cap = 256 + (size_t) (n + n_dl) * 200, len = 0;
  char *s = xmalloc0(cap);
  len += (size_t) snprintf(s, cap, "name: big\nnode: {cores: %d, rt_runtime: 1s}\ncontainers:\n", cores);
  for (int i = 0; i < n; i++) {
    long long t = periods_ms[rnd() % 12] * 1000LL;
    long long c = (long long) (load * cores / n * (0.2 + (double) (rnd() % 160) / 100.0) * (double) t);
    c = c < 1 ? 1 : c;
    long long d = c + (t - c) * (60 + (long long) (rnd() % 41)) / 100;
    const char *extra = rnd() % 10 == 0 ? ", jitter: 20us" : rnd() % 10 == 0 ? ", blocking: 10us" : "";
    len += (size_t) snprintf(s + len, cap - len, "  - {name: c%d, bundle: b, rt: {period: %lldus, budget: %lldus, "
                             "deadline: %lldus%s}}\n", i, t, c, d, extra);
  }
  for (int i = 0; i < n_dl; i++)
    len += (size_t) snprintf(s + len, cap - len, "  - {name: r%d, bundle: b, rt: {policy: deadline, period: 100ms, "
                             "budget: 20us}}\n", i);
  return s;
}

static void test_large_plan_schedulable_per_core(void **state)
{
  (void) state;
  cleanup_free char *text = large_plan(3000, 64, 0.75, 4);
  struct plan_config *c = NULL;
  struct plan_analysis *a = NULL;
  edgecr_error_t err = NULL;
  if (plan_config_parse("big.yaml", text, strlen(text), false, &c, &err) < 0)
    fail_msg("%s", err->msg);
  assert_int_equal(plan_analyse(c, &a, &err), 0);
  assert_true(a->assignment_found);
  assert_non_null(strstr(a->assignment, "decreasing"));
  int used = 0;
  for (int k = 0; k < a->n_cores; k++) {
    if (!a->cores[k].ok)
      fail_msg("core %d fails its exact test: %s", k, a->cores[k].reason ? a->cores[k].reason : "?");
    used += a->cores[k].n_fp > 0;
  }
  assert_int_equal(used, 64);
  for (size_t i = 0; i < a->n; i++) {
    const struct plan_task *t = &a->tasks[i];
    if (!t->ok || t->response == INT64_MAX || t->response > t->D)
      fail_msg("%s misses on core %d: %s", t->name, t->core, t->reason ? t->reason : "?");
    if (t->policy == PLAN_POLICY_FP)
      assert_true(t->core >= 0 && t->core < 64);
  }
  plan_analysis_free(a);
  plan_config_free(c);
}

/* Whenever the bound accepts a core, the exact test from scratch agrees. */
static void test_bound_is_sufficient(void **state)
{
  (void) state;
  int accepted = 0, rejected = 0;
  for (int round = 0; round < 3000; round++) {
    struct plan_task tasks[24];
    struct plan_task *set[24];
    size_t n = 2 + rnd() % 22;
    double load = 0.2 + (double) (rnd() % 80) / 100.0;
    for (size_t i = 0; i < n; i++) {
      int64_t t = periods_ms[rnd() % 12] * 1000000LL;
      int64_t c = (int64_t) (load / (double) n * (0.3 + (double) (rnd() % 140) / 100.0) * (double) t);
      c = c < 1000 ? 1000 : c;
      int64_t d = c + (t - c) * (50 + (int64_t) (rnd() % 51)) / 100;
      bool dl = rnd() % 9 == 0;
      tasks[i] = (struct plan_task){.name = "t", .id = i, .C = c, .T = t, .D = d, .core = 0,
                                    .J = !dl && rnd() % 5 == 0 ? (d - c) / 4 : 0, .B = rnd() % 6 == 0 ? c / 3 : 0,
                                    .policy = dl ? PLAN_POLICY_DEADLINE : PLAN_POLICY_FP,
                                    .prio = rnd() % 4 == 0 ? 1 + (int) (rnd() % 90) : 0};
      if (dl)
        tasks[i].B = 0, tasks[i].prio = 0;
      tasks[i].prio_given = tasks[i].prio > 0;
      set[i] = &tasks[i];
    }
    qsort(set, n, sizeof *set, plan_cmp_deadline_monotonic);
    plan_assign_priorities(set, n);
    if (!plan_core_bound_ok(set, n)) {
      rejected++;
      continue;
    }
    accepted++;
    struct plan_core_result res = {.dl_global = true};
    if (!plan_core_check(set, n, 1.0, true, &res))
      fail_msg("round %d: the bound accepts a core the exact test rejects (%s)", round, res.reason ? res.reason : "");
    for (size_t i = 0; i < n; i++)
      if (set[i]->policy == PLAN_POLICY_FP && (set[i]->response == INT64_MAX || set[i]->response > set[i]->D))
        fail_msg("round %d: the bound accepts task %zu, which misses", round, i);
    free(res.reason);
  }
  fprintf(stderr, "bound: %d accepted, %d left to the exact test\n", accepted, rejected);
  assert_true(accepted > 100 && rejected > 100);
}

static const char *assignment_of(const char *yaml)
{
  static char out[128];
  struct plan_config *c = NULL;
  struct plan_analysis *a = NULL;
  edgecr_error_t err = NULL;
  if (plan_config_parse("a.yaml", yaml, strlen(yaml), false, &c, &err) < 0)
    fail_msg("%s", err->msg);
  assert_int_equal(plan_analyse(c, &a, &err), 0);
  snprintf(out, sizeof out, "%s", a->assignment);
  plan_analysis_free(a);
  plan_config_free(c);
  return out;
}

/* "core assignment: pinned" only when some container is pinned. */
static void test_assignment_named_for_what_it_did(void **state)
{
  (void) state;
  assert_string_equal(assignment_of("node: {cores: 2}\ncontainers:\n  - {name: a, bundle: b}\n"),
                      "none needed (no SCHED_FIFO container)");
  assert_string_equal(assignment_of("node: {cores: 2}\ncontainers:\n  - {name: a, bundle: b, rt: {policy: deadline, "
                                    "period: 10ms, budget: 1ms}}\n"),
                      "none needed (no SCHED_FIFO container)");
  assert_string_equal(assignment_of("node: {cores: 2}\ncontainers:\n  - {name: a, bundle: b, rt: {period: 10ms, "
                                    "budget: 1ms, core: 1}}\n"),
                      "pinned");
  assert_string_equal(assignment_of("node: {cores: 2}\ncontainers:\n  - {name: a, bundle: b, rt: {period: 10ms, "
                                    "budget: 1ms}}\n"),
                      "worst-fit decreasing");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_large_plan_schedulable_per_core),
    cmocka_unit_test(test_bound_is_sufficient),
    cmocka_unit_test(test_assignment_named_for_what_it_did),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
