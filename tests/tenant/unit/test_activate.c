/* test_activate.c - cmocka tests of the portable activation logic
 * (src/tenant/activate.c): absolute releases, releases past their deadline
 * skipped and counted as misses, when an activation is cut and why
 * (budget, deadline, a throttled reservation), and a live update that
 * changes period and budget from the next activation on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "activate.h"

#define MS 1000000ull

static struct tenant_meta next_meta;
static int fetch_update(void *p, struct tenant_meta *out) { (void) p; *out = next_meta; return 0; }
static void report(void *p, const char *msg) { (void) p; (void) msg; }
static const struct tenant_platform pf = {.fetch_update = fetch_update, .report = report};

static void meta(struct tenant_meta *m, uint64_t version, uint64_t period, uint64_t budget, uint64_t deadline)
{
  memset(m, 0, sizeof *m);
  m->format = TENANT_META_FORMAT;
  snprintf(m->id, sizeof m->id, "t1");
  m->type = TENANT_TYPE_WASM;
  m->version = version;
  m->has_schedule = true;
  m->schedule = (struct tenant_schedule){.period_ns = period, .budget_ns = budget, .deadline_ns = deadline};
}

static struct tenant_ctx ctx;

static void init(uint64_t period, uint64_t budget, uint64_t deadline)
{
  struct tenant_meta m;
  meta(&m, 1, period, budget, deadline);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
}

static void test_releases_are_absolute(void **state)
{
  (void) state;
  init(10 * MS, 2 * MS, 0);
  struct tenant_act a;
  tenant_act_start(&a, &ctx, 1000);
  for (int k = 0; k < 5; k++) {
    /* each activation starts a little late and takes a while: no drift */
    assert_true(tenant_act_release(&a, &ctx, a.release + 300000));
    assert_int_equal(a.deadline_at, 1000 + (uint64_t) k * 10 * MS + 10 * MS);
    assert_int_equal(a.budget, 2 * MS);
    tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
    assert_int_equal(a.release, 1000 + (uint64_t) (k + 1) * 10 * MS);
  }
  assert_int_equal(ctx.stats->activations, 5);
  assert_int_equal(ctx.stats->overruns + ctx.stats->misses, 0);
}

static void test_late_releases_are_skipped_as_misses(void **state)
{
  (void) state;
  init(10 * MS, 2 * MS, 4 * MS);
  struct tenant_act a;
  tenant_act_start(&a, &ctx, 0);
  /* paused until 25 ms: releases 0, 10 and 20 ms have passed their 4 ms
   * deadline (20 + 4 < 25), so the next to run is 30 ms */
  assert_false(tenant_act_release(&a, &ctx, 25 * MS));
  assert_int_equal(a.skipped, 3);
  assert_int_equal(ctx.stats->misses, 3);
  assert_int_equal(a.release, 30 * MS);
  assert_true(tenant_act_release(&a, &ctx, 30 * MS));
  assert_int_equal(ctx.stats->activations, 1);
  /* late but before its deadline: it runs */
  tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
  assert_true(tenant_act_release(&a, &ctx, 43 * MS));
  assert_int_equal(a.deadline_at, 44 * MS);
  /* exactly at its deadline: a miss */
  tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
  assert_false(tenant_act_release(&a, &ctx, 54 * MS));
  assert_int_equal(a.skipped, 1);
}

static void test_cuts(void **state)
{
  (void) state;
  init(10 * MS, 2 * MS, 0);
  struct tenant_act a;
  tenant_act_start(&a, &ctx, 0);
  assert_true(tenant_act_release(&a, &ctx, 0));
  assert_int_equal(tenant_act_check(&a, 1 * MS, 5 * MS, false), TENANT_CUT_NONE);
  assert_int_equal(tenant_act_check(&a, 2 * MS, 5 * MS, false), TENANT_CUT_NONE);   /* at the budget: not over */
  assert_int_equal(tenant_act_check(&a, 2 * MS + 1, 5 * MS, false), TENANT_CUT_BUDGET);
  /* at the deadline: late unless it used (nearly) its budget or was throttled */
  assert_int_equal(tenant_act_check(&a, 1 * MS, 10 * MS, false), TENANT_CUT_DEADLINE);
  assert_int_equal(tenant_act_check(&a, 1 * MS, 10 * MS, true), TENANT_CUT_BUDGET);
  assert_int_equal(tenant_act_check(&a, 1900000, 10 * MS, false), TENANT_CUT_BUDGET);
  assert_int_equal(tenant_act_check(&a, 1700000, 10 * MS, false), TENANT_CUT_DEADLINE);
  tenant_act_end(&a, &ctx, TENANT_CUT_BUDGET);
  assert_true(tenant_act_release(&a, &ctx, 10 * MS));
  tenant_act_end(&a, &ctx, TENANT_CUT_DEADLINE);
  assert_int_equal(ctx.stats->overruns, 1);
  assert_int_equal(ctx.stats->misses, 1);
  assert_int_equal(ctx.stats->activations, 2);
  /* without a budget only the deadline cuts */
  init(10 * MS, 0, 0);
  tenant_act_start(&a, &ctx, 0);
  assert_true(tenant_act_release(&a, &ctx, 0));
  assert_int_equal(tenant_act_check(&a, 9 * MS, 9 * MS, true), TENANT_CUT_NONE);
  assert_int_equal(tenant_act_check(&a, 9 * MS, 10 * MS, true), TENANT_CUT_DEADLINE);
}

static void test_live_update_takes_effect_from_the_next_activation(void **state)
{
  (void) state;
  init(10 * MS, 2 * MS, 0);
  volatile uint32_t gen = 0;
  ctx.update_gen = &gen;
  struct tenant_act a;
  tenant_act_start(&a, &ctx, 0);
  assert_true(tenant_act_release(&a, &ctx, 0));
  /* an update arrives during activation 1: it goes on with its own budget */
  meta(&next_meta, 2, 20 * MS, 5 * MS, 15 * MS);
  gen++;
  assert_int_equal(tenant_act_check(&a, 2 * MS + 1, 1 * MS, false), TENANT_CUT_BUDGET);
  tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
  assert_int_equal(a.release, 10 * MS);   /* activation 2 was due with the old period */
  assert_true(tenant_act_release(&a, &ctx, 10 * MS));
  assert_int_equal(ctx.meta.version, 2);
  assert_int_equal(a.budget, 5 * MS);     /* the new budget and deadline */
  assert_int_equal(a.deadline_at, 25 * MS);
  assert_int_equal(tenant_act_check(&a, 4 * MS, 11 * MS, false), TENANT_CUT_NONE);
  tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
  assert_int_equal(a.release, 30 * MS);   /* the new period from here */
  /* an update without a period keeps the last one (a reactor needs one) */
  meta(&next_meta, 3, 0, 1 * MS, 0);
  gen++;
  assert_true(tenant_act_release(&a, &ctx, 30 * MS));
  assert_int_equal(a.deadline_at, 50 * MS);
  tenant_act_end(&a, &ctx, TENANT_CUT_NONE);
  assert_int_equal(a.release, 50 * MS);
  assert_int_equal(ctx.stats->updates, 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_releases_are_absolute),
    cmocka_unit_test(test_late_releases_are_skipped_as_misses),
    cmocka_unit_test(test_cuts),
    cmocka_unit_test(test_live_update_takes_effect_from_the_next_activation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
