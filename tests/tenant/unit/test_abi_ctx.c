/* test_abi_ctx.c - cmocka tests of the tenant ABI core's state (ctx.c) on a
 * fake platform: rights of handles from the grants, recomputed by a live
 * update (revoked, narrowed, granted again), kv limits pushed to the
 * platform, updates refused without changing anything (another tenant,
 * another module, not a higher version), the pending-update path, denied
 * calls counted and reported at most once per second per service, and the
 * handle table's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"

static uint64_t fake_now;
static int reports;
static char last_report[256];
static int limits_calls;
static bool limits_writable;
static uint64_t limits_quota;
static int closes;
static struct tenant_meta next_meta;

static uint64_t now_ns(void *p) { (void) p; return fake_now; }
static void report(void *p, const char *msg)
{
  (void) p;
  reports++;
  snprintf(last_report, sizeof last_report, "%s", msg);
}
static int kv_set_limits(void *p, void *obj, bool writable, uint64_t quota)
{
  (void) p, (void) obj;
  limits_calls++;
  limits_writable = writable;
  limits_quota = quota;
  return 0;
}
static void kv_close(void *p, void *obj) { (void) p, (void) obj; closes++; }
static int fetch_update(void *p, struct tenant_meta *out) { (void) p; *out = next_meta; return 0; }

static const struct tenant_platform pf = {.now_ns = now_ns, .report = report, .kv_set_limits = kv_set_limits,
                                          .kv_close = kv_close, .fetch_update = fetch_update};

static void base_meta(struct tenant_meta *m, uint64_t version)
{
  memset(m, 0, sizeof *m);
  m->format = TENANT_META_FORMAT;
  snprintf(m->id, sizeof m->id, "t1");
  m->type = TENANT_TYPE_WASM;
  m->module_sha256[0] = 7;
  m->version = version;
}

static void grant_kv(struct tenant_meta *m, const char *ns, enum tenant_kv_access a, uint64_t quota)
{
  m->perms.granted |= 1u << TENANT_SVC_KV;
  struct tenant_kv_grant *g = &m->perms.kv[m->perms.n_kv++];
  snprintf(g->ns, sizeof g->ns, "%s", ns);
  g->access = a;
  g->quota = quota;
}

static struct tenant_ctx ctx;

static int setup(void **state)
{
  (void) state;
  fake_now = 5000000000ull;
  reports = limits_calls = closes = 0;
  last_report[0] = '\0';
  return 0;
}

static void test_rights_follow_updates(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  grant_kv(&m, "cfg", TENANT_KV_READ_WRITE, 100);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  uint8_t r = tenant_rights(&ctx.meta.perms, TENANT_SVC_KV, "cfg");
  assert_int_equal(r, TENANT_R_READ | TENANT_R_WRITE);
  assert_int_equal(tenant_rights(&ctx.meta.perms, TENANT_SVC_KV, "other"), 0);
  int h = tenant_handle_new(&ctx, TENANT_SVC_KV, "cfg", r, (void *) 1);
  assert_true(h >= 0);

  struct tenant_err e;
  base_meta(&m, 2); /* narrowed: read only, smaller quota */
  grant_kv(&m, "cfg", TENANT_KV_READ, 10);
  assert_int_equal(tenant_ctx_update(&ctx, &m, &e), 0);
  assert_int_equal(ctx.handles[h].rights, TENANT_R_READ);
  assert_int_equal(limits_calls, 1);
  assert_false(limits_writable);
  assert_int_equal(limits_quota, 10);

  base_meta(&m, 3); /* revoked: the handle stays, with no rights */
  assert_int_equal(tenant_ctx_update(&ctx, &m, &e), 0);
  assert_int_equal(ctx.handles[h].service, TENANT_SVC_KV);
  assert_int_equal(ctx.handles[h].rights, 0);
  assert_int_equal(ctx.granted & (1u << TENANT_SVC_KV), 0);

  base_meta(&m, 4); /* granted again: the same handle works again */
  grant_kv(&m, "cfg", TENANT_KV_READ_WRITE, 50);
  assert_int_equal(tenant_ctx_update(&ctx, &m, &e), 0);
  assert_int_equal(ctx.handles[h].rights, TENANT_R_READ | TENANT_R_WRITE);
  assert_int_equal(ctx.stats->updates, 3);

  assert_int_equal(tenant_handle_close(&ctx, h), EDGECR_OK);
  assert_int_equal(closes, 1);
  assert_int_equal(tenant_handle_close(&ctx, h), EDGECR_EBADH);
}

static void test_refused_updates_change_nothing(void **state)
{
  (void) state;
  struct tenant_meta m, n;
  base_meta(&m, 5);
  grant_kv(&m, "cfg", TENANT_KV_READ, 1);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  struct tenant_err e;

  base_meta(&n, 5); /* same version: a replay */
  assert_int_equal(tenant_ctx_update(&ctx, &n, &e), -1);
  assert_string_equal(e.path, "version");
  base_meta(&n, 4);
  assert_int_equal(tenant_ctx_update(&ctx, &n, &e), -1);
  base_meta(&n, 9);
  snprintf(n.id, sizeof n.id, "t2");
  assert_int_equal(tenant_ctx_update(&ctx, &n, &e), -1);
  assert_string_equal(e.path, "id");
  base_meta(&n, 9);
  n.module_sha256[0] = 8;
  assert_int_equal(tenant_ctx_update(&ctx, &n, &e), -1);
  assert_string_equal(e.path, "module");

  assert_int_equal(ctx.meta.version, 5);
  assert_int_equal(ctx.granted, 1u << TENANT_SVC_KV);
  assert_int_equal(ctx.stats->updates, 0);
}

static void test_pending_update_applied_at_next_call(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  volatile uint32_t gen = 0;
  ctx.update_gen = &gen;
  tenant_ctx_poll(&ctx); /* nothing pending */
  assert_int_equal(ctx.meta.version, 1);

  base_meta(&next_meta, 2);
  next_meta.perms.granted = 1u << TENANT_SVC_CLOCK;
  gen = 1;
  tenant_ctx_poll(&ctx);
  assert_int_equal(ctx.meta.version, 2);
  assert_int_equal(ctx.granted, 1u << TENANT_SVC_CLOCK);

  base_meta(&next_meta, 1); /* a refused one is reported, nothing changes */
  gen = 2;
  tenant_ctx_poll(&ctx);
  assert_int_equal(ctx.meta.version, 2);
  assert_int_equal(reports, 1);
  assert_non_null(strstr(last_report, "metadata update not applied: version"));
  tenant_ctx_poll(&ctx); /* seen: not applied twice */
  assert_int_equal(reports, 1);
}

static void test_denied_counted_and_reported_once_per_second(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  for (int i = 0; i < 5; i++)
    assert_int_equal(tenant_deny(&ctx, TENANT_SVC_CLOCK, "clock_now"), EDGECR_EDENIED);
  assert_int_equal(ctx.stats->svc[TENANT_SVC_CLOCK].denied, 5);
  assert_int_equal(reports, 1);
  assert_string_equal(last_report, "denied: edgecr.clock_now (service clock: not granted); 1 denied so far");
  tenant_deny(&ctx, TENANT_SVC_LOG, "log"); /* another service: its own report */
  assert_int_equal(reports, 2);
  fake_now += 1000000000ull;
  tenant_deny(&ctx, TENANT_SVC_CLOCK, "clock_now");
  assert_int_equal(reports, 3);
  assert_string_equal(last_report, "denied: edgecr.clock_now (service clock: not granted); 6 denied so far");
  assert_int_equal(tenant_failed(&ctx, TENANT_SVC_LOG, EDGECR_EINVAL), EDGECR_EINVAL);
  assert_int_equal(ctx.stats->svc[TENANT_SVC_LOG].errors, 1);
}

static void test_handle_table_limits(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  for (int i = 0; i < TENANT_MAX_HANDLES; i++)
    assert_int_equal(tenant_handle_new(&ctx, TENANT_SVC_SENSOR, "s", 0, NULL), i);
  assert_int_equal(tenant_handle_new(&ctx, TENANT_SVC_SENSOR, "s", 0, NULL), EDGECR_EMFILE);
  assert_null(tenant_handle_get(&ctx, -1, TENANT_SVC_SENSOR));
  assert_null(tenant_handle_get(&ctx, TENANT_MAX_HANDLES, TENANT_SVC_SENSOR));
  assert_null(tenant_handle_get(&ctx, 3, TENANT_SVC_KV)); /* open, but for another service */
  assert_non_null(tenant_handle_get(&ctx, 3, TENANT_SVC_SENSOR));
  tenant_ctx_close(&ctx);
  assert_int_equal(tenant_handle_new(&ctx, TENANT_SVC_GPIO, "x", 0, NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_rights_follow_updates, setup),
    cmocka_unit_test_setup(test_refused_updates_change_nothing, setup),
    cmocka_unit_test_setup(test_pending_update_applied_at_next_call, setup),
    cmocka_unit_test_setup(test_denied_counted_and_reported_once_per_second, setup),
    cmocka_unit_test_setup(test_handle_table_limits, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
