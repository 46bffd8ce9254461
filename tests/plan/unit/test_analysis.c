/* test_analysis.c - the schedulability analysis against textbook task sets
 * worked out by hand and against the discrete-event simulator on seeded
 * random task sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "compile.h"
#include "model.h"
#include "sim.h"

#define MS 1000000LL

static struct plan_task fp(const char *name, int64_t c, int64_t t, int64_t d, int prio)
{
  return (struct plan_task){.name = name, .C = c * MS, .T = t * MS, .D = d * MS,
                            .policy = PLAN_POLICY_FP, .prio = prio, .prio_given = prio > 0};
}

static struct plan_task dl(const char *name, int64_t c, int64_t t, int64_t d)
{
  return (struct plan_task){.name = name, .C = c * MS, .T = t * MS, .D = d * MS,
                            .policy = PLAN_POLICY_DEADLINE};
}

static bool check(struct plan_task *t, size_t n, struct plan_core_result *res)
{
  struct plan_task *set[16];
  for (size_t i = 0; i < n; i++) {
    set[i] = &t[i];
    t[i].id = i;
    t[i].core = 0;
  }
  *res = (struct plan_core_result){0};
  plan_assign_priorities(set, n);
  return plan_core_check(set, n, 1.0, true, res);
}

/* Burns & Wellings, "Real-Time Systems and Programming Languages": a(T=7,
 * C=3), b(T=12, C=3), c(T=20, C=5) under rate-monotonic priorities have
 * response times 3, 6 and 20 (by hand: w = 5+3+3 = 11 -> 14 -> 17 -> 20). */
static void test_burns_wellings(void **state)
{
  (void) state;
  struct plan_task t[] = {fp("a", 3, 7, 7, 0), fp("b", 3, 12, 12, 0), fp("c", 5, 20, 20, 0)};
  struct plan_core_result r;
  assert_true(check(t, 3, &r));
  assert_int_equal(t[0].response, 3 * MS);
  assert_int_equal(t[1].response, 6 * MS);
  assert_int_equal(t[2].response, 20 * MS);
  assert_true(t[0].prio > t[1].prio && t[1].prio > t[2].prio);
  free(r.reason);
}

/* Buttazzo-style set (1,4) (2,6) (3,10): U = 0.883 fails the Liu &
 * Layland bound (0.780) and the hyperbolic bound (2.167 > 2) but RTA gives
 * R3 = 3 + 3*1 + 2*2 = 10 = D: schedulable, with zero slack. */
static void test_bounds_vs_exact(void **state)
{
  (void) state;
  struct plan_task t[] = {fp("t1", 1, 4, 4, 0), fp("t2", 2, 6, 6, 0), fp("t3", 3, 10, 10, 0)};
  struct plan_core_result r;
  assert_true(check(t, 3, &r));
  assert_false(r.ll_ok);
  assert_false(r.hyp_ok);
  assert_true(r.bounds_apply);
  assert_float_equal(r.ll_bound, 3 * (cbrt(2.0) - 1), 1e-9);
  assert_int_equal(t[1].response, 3 * MS);
  assert_int_equal(t[2].response, 10 * MS);
  free(r.reason);
}

/* Jitter and blocking by hand: t1 (C=1, T=4, J=1), t2 (C=2, T=10, B=1).
 * R1 = 1, response 1 + J = 2.  R2 = 2 + 1 + ceil((R2 + 1)/4)*1: 4 -> 5 -> 5. */
static void test_jitter_blocking(void **state)
{
  (void) state;
  struct plan_task t[] = {fp("t1", 1, 4, 4, 20), fp("t2", 2, 10, 10, 10)};
  t[0].J = 1 * MS;
  t[1].B = 1 * MS;
  struct plan_core_result r;
  assert_true(check(t, 2, &r));
  assert_int_equal(t[0].response, 2 * MS);
  assert_int_equal(t[1].response, 5 * MS);
  free(r.reason);
}

/* A miss is explained in words naming the interference. */
static void test_failure_reason(void **state)
{
  (void) state;
  struct plan_task t[] = {fp("ctl", 4, 10, 10, 90), fp("log", 3, 10, 10, 80), fp("sensor", 4, 10, 10, 70)};
  struct plan_core_result r = {0};
  assert_false(check(t, 3, &r));
  assert_true(t[0].ok && t[1].ok);
  assert_false(t[2].ok);
  assert_non_null(t[2].reason);
  assert_non_null(strstr(t[2].reason, "sensor: response time"));
  assert_non_null(strstr(t[2].reason, "exceeds deadline 10ms on core 0"));
  assert_non_null(strstr(t[2].reason, "ctl (prio 90), log (prio 80)"));
  for (int i = 0; i < 3; i++)
    free(t[i].reason);
  free(r.reason);
}

/* Processor demand by hand: (2,4,6) (2,5,8) (3,7,9): h(4)=2, h(5)=4,
 * h(7)=7, h(10)=9, h(13)=11, h(16)=16 <= 16: schedulable; shortening the
 * third deadline to 6 gives h(6) = 2 + 2 + 3 = 7 > 6. */
static void test_qpa(void **state)
{
  (void) state;
  struct plan_task t[] = {dl("a", 2, 6, 4), dl("b", 2, 8, 5), dl("c", 3, 9, 7)};
  struct plan_task *set[] = {&t[0], &t[1], &t[2]};
  int64_t ft, fh;
  assert_true(plan_qpa(set, 3, &ft, &fh));
  t[2].D = 6 * MS;
  assert_false(plan_qpa(set, 3, &ft, &fh));
  assert_int_equal(ft, 6 * MS);
  assert_int_equal(fh, 7 * MS);
  struct plan_core_result r;
  assert_false(check(t, 3, &r));
  assert_non_null(strstr(t[0].reason, "demand"));
  for (int i = 0; i < 3; i++)
    free(t[i].reason);
  free(r.reason);
}

/* The kernel's admission rule: bandwidth above rt_runtime/rt_period is refused. */
static void test_dl_admission(void **state)
{
  (void) state;
  struct plan_task t[] = {dl("a", 5, 10, 10), dl("b", 46, 100, 100)};
  struct plan_task *set[] = {&t[0], &t[1]};
  t[0].core = t[1].core = 0;
  struct plan_core_result r = {0};
  assert_false(plan_core_check(set, 2, 0.95, true, &r));
  assert_false(r.dl_admission_ok);
  assert_true(r.qpa_ok);
  assert_non_null(strstr(t[0].reason, "kernel would refuse"));
  free(t[0].reason);
  free(t[1].reason);
  free(r.reason);
}

/* Mixed core: an FP task sees the reservation as interference with jitter
 * T - C: R = 2 + ceil((R + 8)/10)*2 -> 4 -> 6 (response 6 <= 10). */
static void test_mixed(void **state)
{
  (void) state;
  struct plan_task t[] = {dl("res", 2, 10, 10), fp("fp", 2, 20, 20, 50)};
  struct plan_core_result r;
  assert_true(check(t, 2, &r));
  assert_int_equal(t[1].response, 6 * MS);
  free(r.reason);
}

/* The cgroup budget: a task with D = 3 (C = 2, T = 10) can run 2 + min(2,
 * 1) = 3ms in one 10ms window while it meets its deadline (the tail of one
 * job, then the next job); over a 1s window 100 x 2 + 1 = 201ms; with
 * D = C just C per period; with D = T: 2C. */
static void test_fifo_budget(void **state)
{
  (void) state;
  struct plan_task t = fp("x", 2, 10, 3, 50);
  int64_t p, r;
  t.response = 2 * MS; /* the analysed response does not matter: only C, T, D */
  plan_fifo_budget(&t, 10 * MS, &p, &r);
  assert_int_equal(p, 10000);
  assert_int_equal(r, 3000);
  plan_fifo_budget(&t, 1000 * MS, &p, &r);
  assert_int_equal(p, 1000000);
  assert_int_equal(r, 201000);
  plan_fifo_budget(&t, 15 * MS, &p, &r); /* one period: 15ms is not a multiple */
  assert_int_equal(p, 10000);
  t.D = 2 * MS;
  plan_fifo_budget(&t, 10 * MS, &p, &r);
  assert_int_equal(r, 2000);
  t.D = 10 * MS;
  t.response = INT64_MAX;
  plan_fifo_budget(&t, 10 * MS, &p, &r);
  assert_int_equal(r, 4000);
  /* Never below what the task can really run in a window while it meets
   * its deadline: slide a window of P over a schedule where each job ends
   * exactly at D and starts at D - C (the worst case), and compare. */
  t.D = 7 * MS;
  plan_fifo_budget(&t, 30 * MS, &p, &r);
  int64_t worst = 0;
  for (int64_t w = 0; w < 10 * MS; w += MS / 10) {
    int64_t ran = 0;
    for (int k = 0; k < 6; k++) {
      int64_t a = k * 10 * MS + 5 * MS, b = a + 2 * MS; /* runs [kT + D - C, kT + D] */
      int64_t lo = a > w ? a : w, hi = b < w + p * 1000 ? b : w + p * 1000;
      ran += hi > lo ? hi - lo : 0;
    }
    worst = ran > worst ? ran : worst;
  }
  assert_true(r * 1000 >= worst);
  assert_int_equal(r, 8000); /* 3 x 2 + min(2, 5) */
}

/* Parse and analyse a two-core node with two containers (YAML flow maps). */
static struct plan_analysis *analyse_two(const char *first, const char *second, struct plan_config **c)
{
  char text[512];
  int len = snprintf(text, sizeof text, "node: {cores: 2}\ncontainers:\n  - %s\n  - %s\n", first, second);
  struct plan_analysis *a = NULL;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_config_parse("x.yaml", text, (size_t) len, false, c, &err), 0);
  assert_int_equal(plan_analyse(*c, &a, &err), 0);
  return a;
}

/* The compiled plan carries those budgets: f (C = 2, T = 10, D = 10; R =
 * 2 + 2 x 1 = 4 with the reservation) gets 100 x 2 + min(2, 8) = 202ms per
 * 1s; the reservation gets no core and no cpuset. */
static void test_compiled_budgets(void **state)
{
  (void) state;
  struct plan_config *c = NULL;
  struct plan_analysis *a = analyse_two("{name: f, bundle: b, rt: {period: 10ms, budget: 2ms, core: 0}}",
                                        "{name: r, bundle: b, rt: {policy: deadline, period: 10ms, budget: 1ms}}", &c);
  assert_true(a->schedulable);
  assert_int_equal(a->tasks[0].response, 4 * MS);
  edgecr_error_t err = NULL;
  json_t *plan = plan_compile(c, a, &err);
  assert_non_null(plan);
  json_t *list = json_object_get(plan, "containers");
  json_t *f = json_object_get(json_array_get(list, 0), "realtime");
  json_t *r = json_object_get(json_array_get(list, 1), "realtime");
  json_t *cg = json_object_get(f, "cgroup");
  assert_int_equal(json_integer_value(json_object_get(cg, "cpu.rt_period_us")), 1000000);
  assert_int_equal(json_integer_value(json_object_get(cg, "cpu.rt_runtime_us")), 202000);
  assert_string_equal(json_string_value(json_object_get(cg, "cpuset.cpus")), "0");
  assert_true(json_is_null(json_object_get(r, "core")));
  assert_int_equal(json_object_size(json_object_get(r, "cgroup")), 0);
  assert_float_equal(a->fifo_budget_sum, 0.202, 1e-9);
  json_decref(plan);
  plan_analysis_free(a);
  plan_config_free(c);
}

/* ---- deadline reservations: global EDF ---- */

static bool global_check(struct plan_task *t, size_t n, int m, struct plan_dl_result *res)
{
  struct plan_task *set[16];
  for (size_t i = 0; i < n; i++) {
    set[i] = &t[i];
    t[i].id = i;
    t[i].core = -1;
  }
  *res = (struct plan_dl_result){0};
  return plan_global_edf_check(set, n, m, 0.95, res);
}

static void free_reasons(struct plan_task *t, size_t n, struct plan_dl_result *res)
{
  for (size_t i = 0; i < n; i++) {
    free(t[i].reason);
    t[i].reason = NULL;
  }
  free(res->reason);
}

/* Dhall's effect (Dhall & Liu 1978): on m = 2 CPUs, two light tasks (2 per
 * 100) and a heavy one (100 per 101).  U = 1.03 passes the kernel's
 * admission (1.9) but global EDF misses: at 0 the light tasks (earlier
 * deadlines) take both CPUs, the heavy one starts at 2 and ends at 102 >
 * 101.  GFB: density 1.030 > 2 - 0.990 = 1.010; BCL fails too. */
static void test_dhall_effect(void **state)
{
  (void) state;
  struct plan_task t[] = {dl("light1", 2, 100, 100), dl("light2", 2, 100, 100), dl("heavy", 100, 101, 101)};
  struct plan_dl_result r;
  assert_false(global_check(t, 3, 2, &r));
  assert_true(r.admission_ok);
  assert_false(r.gfb_ok);
  assert_false(r.bcl_ok);
  assert_null(r.test);
  assert_float_equal(r.gfb_bound, 2 - 100.0 / 101, 1e-9);
  assert_non_null(strstr(r.reason, "global EDF on 2 CPUs is not shown schedulable"));
  assert_non_null(strstr(r.reason, "Dhall"));
  assert_false(t[2].ok);
  struct plan_sim s;
  plan_simulate(t, 3, 2, 202 * MS, false, &s);
  assert_true(s.misses[2] >= 1);
  assert_int_equal(s.misses[0] + s.misses[1], 0);
  assert_int_equal(s.worst_response[2], 102 * MS);
  plan_sim_free(&s);
  free_reasons(t, 3, &r);
  /* the same set on one CPU: U = 1.03 > 0.95, the kernel refuses it */
  assert_false(global_check(t, 3, 1, &r));
  assert_false(r.admission_ok);
  assert_non_null(strstr(r.reason, "the kernel would refuse the reservations"));
  free_reasons(t, 3, &r);
}

/* Four tasks of density 0.2 on 2 CPUs: GFB 0.8 <= 2 - 0.2; the admission
 * rule alone would accept 1.9.  One CPU: QPA (exact) decides. */
static void test_gfb_and_one_cpu(void **state)
{
  (void) state;
  struct plan_task t[] = {dl("a", 2, 10, 10), dl("b", 2, 10, 10), dl("c", 2, 10, 10), dl("d", 2, 10, 10)};
  struct plan_dl_result r;
  assert_true(global_check(t, 4, 2, &r));
  assert_true(r.gfb_ok);
  assert_string_equal(r.test, "GFB density bound");
  assert_int_equal(t[0].response, 10 * MS);
  free_reasons(t, 4, &r);
  assert_true(global_check(t, 4, 1, &r)); /* U 0.8 */
  assert_string_equal(r.test, "QPA (one CPU: exact)");
  free_reasons(t, 4, &r);
  /* QPA's textbook failure, now as the one-CPU case of the global test */
  struct plan_task q[] = {dl("a", 2, 6, 4), dl("b", 2, 8, 5), dl("c", 3, 9, 6)};
  assert_false(global_check(q, 3, 1, &r));
  assert_non_null(strstr(r.reason, "demand 7ms of work due within the first 6ms"));
  free_reasons(q, 3, &r);
}

/* A reservation "placed" on core 1 can still run on core 0: the FIFO task
 * there counts it (R = 6 + ceil((R + 5)/10) x 5: 11 -> 16 -> 21 > 10). */
static void test_fifo_sees_every_reservation(void **state)
{
  (void) state;
  struct plan_config *c = NULL;
  struct plan_analysis *a = analyse_two("{name: f, bundle: b, rt: {period: 10ms, budget: 6ms, core: 0}}",
                                        "{name: r, bundle: b, rt: {policy: deadline, period: 10ms, budget: 5ms, core: 1}}", &c);
  assert_false(a->schedulable);
  assert_true(a->dl.ok);
  assert_false(a->tasks[0].ok);
  assert_int_equal(a->tasks[1].core, -1);
  assert_non_null(strstr(a->tasks[0].reason, "reservation r"));
  assert_non_null(a->warnings);
  assert_non_null(strstr(a->warnings[0], "r: rt.core 1 is not enforced"));
  /* and the simulation agrees: with both on the node, f misses */
  struct plan_sim s;
  plan_simulate(a->tasks, a->n, a->n_cores, 20 * MS, false, &s);
  assert_true(s.misses[0] >= 1);
  plan_sim_free(&s);
  plan_analysis_free(a);
  plan_config_free(c);
}

/* ---- analysis vs simulation ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t) (rng_state >> 33);
}

static const int64_t periods[] = {4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60};

/* A random set on one core: periods from a small harmonic-ish list so the
 * hyperperiod stays small; utilisation 0.5..1.05, constrained deadlines. */
/* One random task: a period from the list, utilisation u x (u_lo +
 * [0, u_span)) / 100, deadline C + (T - C) x (d_lo + [0, d_span)) / 100. */
static struct plan_task random_task(double u, int u_lo, int u_span, int d_lo, int d_span)
{
  int64_t T = periods[rnd() % 12] * MS;
  u *= (u_lo + (int) (rnd() % (uint32_t) u_span)) / 100.0;
  int64_t C = (int64_t) (u * (double) T);
  C = C < 100000 ? 100000 : C > T ? T : C;
  int64_t D = C + (int64_t) ((T - C) * ((d_lo + (int) (rnd() % (uint32_t) d_span)) / 100.0));
  return (struct plan_task){.name = "x", .C = C, .T = T, .D = D};
}

static size_t random_set(struct plan_task *t, int mode)
{
  size_t n = 2 + rnd() % 5;
  double target = 0.5 + (rnd() % 56) / 100.0;
  for (size_t i = 0; i < n; i++) {
    t[i] = random_task(target / (double) n, 50, 100, 60, 41);
    bool is_dl = mode == 1 || (mode == 2 && rnd() % 2);
    t[i].id = i;
    t[i].policy = is_dl ? PLAN_POLICY_DEADLINE : PLAN_POLICY_FP;
  }
  return n;
}

static void run_random(int mode, int rounds, int *schedulable)
{
  for (int round = 0; round < rounds; round++) {
    struct plan_task t[8];
    size_t n = random_set(t, mode);
    struct plan_task *set[8];
    for (size_t i = 0; i < n; i++)
      set[i] = &t[i];
    plan_assign_priorities(set, n);
    /* distinct priorities for the exactness check */
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++)
        if (t[i].policy == PLAN_POLICY_FP && t[j].policy == PLAN_POLICY_FP && t[i].prio == t[j].prio)
          t[i].prio_given = true;
    bool ok = plan_core_check(set, n, 1.0, false, NULL);
    struct plan_sim s;
    plan_simulate(t, n, 1, plan_hyperperiod(t, n, 10000 * MS), false, &s);
    size_t misses = 0;
    for (size_t i = 0; i < n; i++)
      misses += s.misses[i];
    if (ok) {
      (*schedulable)++;
      if (misses) {
        fprintf(stderr, "seed round %d mode %d: analysis says schedulable, simulation misses\n", round, mode);
        fail();
      }
      bool distinct = true;
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
          if (t[i].prio == t[j].prio)
            distinct = false;
      if (mode == 0 && distinct)
        for (size_t i = 0; i < n; i++)
          assert_int_equal(s.worst_response[i], t[i].response);
    }
    plan_sim_free(&s);
  }
}

static void test_random_fp(void **state)
{
  (void) state;
  rng_state = 42;
  int ok = 0;
  run_random(0, 400, &ok);
  assert_true(ok > 40); /* the generator must produce both verdicts */
  assert_true(ok < 380);
}

static void test_random_dl(void **state)
{
  (void) state;
  rng_state = 7;
  int ok = 0;
  run_random(1, 400, &ok);
  assert_true(ok > 40);
  assert_true(ok < 380);
}

static void test_random_mixed(void **state)
{
  (void) state;
  rng_state = 1234;
  int ok = 0;
  run_random(2, 400, &ok);
  assert_true(ok > 20);
}

/* Random global EDF sets on 2..4 CPUs: whatever the tests accept never
 * misses in the simulation; both verdicts occur; BCL accepts some sets
 * GFB rejects. */
static void test_random_global(void **state)
{
  (void) state;
  rng_state = 2024;
  int ok = 0, bcl_only = 0;
  for (int round = 0; round < 300; round++) {
    int m = 2 + (int) (rnd() % 3);
    size_t n = (size_t) m + 1 + rnd() % 5;
    struct plan_task t[12];
    double target = m * (0.3 + (rnd() % 60) / 100.0);
    for (size_t i = 0; i < n; i++) {
      t[i] = random_task(target / (double) n, 30, 140, 50, 51);
      t[i].policy = PLAN_POLICY_DEADLINE;
    }
    struct plan_dl_result r;
    bool pass = global_check(t, n, m, &r);
    if (pass) {
      ok++;
      bcl_only += !r.gfb_ok;
      struct plan_sim s;
      plan_simulate(t, n, m, plan_hyperperiod(t, n, 2000 * MS), false, &s);
      for (size_t i = 0; i < n; i++)
        if (s.misses[i])
          fail_msg("round %d: global EDF test accepts (%s) but task %zu misses", round, r.test, i);
      plan_sim_free(&s);
    }
    free_reasons(t, n, &r);
  }
  fprintf(stderr, "global: %d of 300 accepted, %d by BCL only\n", ok, bcl_only);
  assert_true(ok > 30 && ok < 270);
  assert_true(bcl_only > 0);
}

/* The simulator finds the miss the analysis predicts. */
static void test_sim_detects_miss(void **state)
{
  (void) state;
  struct plan_task t[] = {fp("hi", 6, 10, 10, 90), fp("lo", 5, 10, 10, 10)};
  struct plan_sim s;
  t[0].core = t[1].core = 0;
  plan_simulate(t, 2, 1, 20 * MS, true, &s);
  assert_int_equal(s.misses[0], 0);
  assert_true(s.misses[1] >= 1);
  assert_true(s.n_seg >= 3);
  assert_true(s.n_miss >= 1);
  plan_sim_free(&s);
}

/* Core assignment: whenever packing (with its warm-started tests) finds a
 * placement, the from-scratch exact test of every core agrees, and the
 * simulation of the result shows no miss. */
static void test_packing_agrees_with_exact(void **state)
{
  (void) state;
  rng_state = 99;
  int found = 0;
  for (int round = 0; round < 300; round++) {
    char text[8192];
    size_t len = (size_t) snprintf(text, sizeof text, "node: {cores: 4}\ncontainers:\n");
    int n = 8 + (int) (rnd() % 25);
    double load = 0.3 + (rnd() % 50) / 100.0;
    for (int i = 0; i < n; i++) {
      int64_t T = periods[rnd() % 12];
      int64_t c_us = (int64_t) (load * 4.0 / n * (0.5 + (rnd() % 100) / 100.0) * (double) T * 1000.0);
      c_us = c_us < 50 ? 50 : c_us > T * 1000 ? T * 1000 : c_us;
      int64_t d_us = c_us + (T * 1000 - c_us) * (60 + (int64_t) (rnd() % 41)) / 100;
      len += (size_t) snprintf(text + len, sizeof text - len,
                               "  - {name: t%d, bundle: b, rt: {policy: %s, period: %lldms, budget: %lldus, deadline: %lldus%s}}\n",
                               i, rnd() % 8 == 0 ? "deadline" : "fixed-priority", (long long) T, (long long) c_us,
                               (long long) d_us, rnd() % 7 == 0 ? ", core: 1" : "");
    }
    struct plan_config *c = NULL;
    struct plan_analysis *a = NULL;
    edgecr_error_t err = NULL;
    if (plan_config_parse("r.yaml", text, len, false, &c, &err) < 0) {
      fprintf(stderr, "%s\n", err->msg);
      fail();
    }
    assert_int_equal(plan_analyse(c, &a, &err), 0);
    bool placed = strstr(a->assignment, "decreasing") != NULL;
    if (placed) {
      found++;
      /* a core the packing put an unpinned task on passed its test there */
      for (int k = 0; k < a->n_cores; k++) {
        bool packed = false;
        for (size_t i = 0; i < a->n; i++)
          packed |= a->tasks[i].core == k && !a->tasks[i].pinned;
        if (packed && !a->cores[k].ok)
          fail_msg("round %d: packing accepted core %d but the exact test rejects it", round, k);
      }
    }
    if (a->schedulable) {
      struct plan_sim s;
      plan_simulate(a->tasks, a->n, a->n_cores, plan_hyperperiod(a->tasks, a->n, 10000 * MS), false, &s);
      for (size_t i = 0; i < a->n; i++)
        assert_int_equal(s.misses[i], 0);
      plan_sim_free(&s);
    }
    plan_analysis_free(a);
    plan_config_free(c);
  }
  fprintf(stderr, "packing: %d of 300 placed\n", found);
  assert_true(found > 50);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_burns_wellings),   cmocka_unit_test(test_bounds_vs_exact),
    cmocka_unit_test(test_jitter_blocking),  cmocka_unit_test(test_failure_reason),
    cmocka_unit_test(test_qpa),              cmocka_unit_test(test_dl_admission),
    cmocka_unit_test(test_mixed),            cmocka_unit_test(test_fifo_budget),
    cmocka_unit_test(test_compiled_budgets), cmocka_unit_test(test_dhall_effect),
    cmocka_unit_test(test_gfb_and_one_cpu),
    cmocka_unit_test(test_fifo_sees_every_reservation), cmocka_unit_test(test_random_global),
    cmocka_unit_test(test_random_fp),
    cmocka_unit_test(test_random_dl),        cmocka_unit_test(test_random_mixed),
    cmocka_unit_test(test_sim_detects_miss), cmocka_unit_test(test_packing_agrees_with_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
