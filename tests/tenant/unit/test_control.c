/* test_control.c - cmocka tests of the Linux tenant control page
 * (src/tenant/linux/control.c) and the version record (policy.c): a posted
 * payload reaches the tenant's context at its next poll and the answer
 * comes back; a payload for another tenant, another module or an older
 * version is refused with the reason and leaves the context as it was; an
 * update posted before the tenant attached is taken at its first poll; a
 * writer killed half-way (sequence left odd) does not stop the next one
 * from getting through; the counters live in the page; the version
 * record's round trip, its removal and a damaged record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi.h"
#include "tenant_control.h"
#include "tenant_linux.h"
#include "util.h"

static uint64_t fake_now_ns(void *p) { (void) p; return 1; }

static char dir[] = "/tmp/edgecr-test-control.XXXXXX";

static void base_meta(struct tenant_meta *m, const char *id, uint64_t version, uint8_t module)
{
  memset(m, 0, sizeof *m);
  m->format = TENANT_META_FORMAT;
  snprintf(m->id, sizeof m->id, "%s", id);
  m->type = TENANT_TYPE_WASM;
  memset(m->module_sha256, module, sizeof m->module_sha256);
  m->version = version;
  m->expires = 4000000000u;
  snprintf(m->kid, sizeof m->kid, "vendor");
}

static uint32_t post_meta(struct tenant_control *page, const struct tenant_meta *m)
{
  static uint8_t buf[TENANT_META_MAX_BYTES];
  size_t n = tenant_meta_encode(m, buf, sizeof buf);
  assert_true(n <= sizeof buf);
  return tenant_control_post(page, buf, n);
}

struct fixture {
  struct tenant_control *page;
  struct tenant_platform pf;
  struct tenant_ctx ctx;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  edgecr_error_t err = NULL;
  char path[64];
  snprintf(path, sizeof path, "%s/tenant.ctl", dir);
  unlink(path);
  f->page = tenant_control_create(dir, &err);
  assert_non_null(f->page);
  f->pf = (struct tenant_platform){.now_ns = fake_now_ns};
  struct tenant_meta m;
  base_meta(&m, "t1", 3, 7);
  m.perms.granted = 1u << TENANT_SVC_LOG;
  tenant_ctx_init(&f->ctx, &f->pf, NULL, &m);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  tenant_control_close(f->page);
  free(f);
  return 0;
}

static void test_update_reaches_the_tenant_and_the_answer_comes_back(void **state)
{
  struct fixture *f = *state;
  tenant_control_attach(f->page, &f->pf, &f->ctx);
  assert_int_equal(f->page->running, 1);
  tenant_ctx_poll(&f->ctx); /* nothing posted: nothing changes */
  assert_int_equal(f->ctx.meta.version, 3);
  struct tenant_meta m;
  base_meta(&m, "t1", 4, 7);
  m.perms.granted = 1u << TENANT_SVC_CLOCK;
  uint32_t gen = post_meta(f->page, &m);
  int rc = -2;
  char reason[256];
  assert_int_equal(tenant_control_wait(f->page, gen, 0, &rc, reason, sizeof reason), 0); /* not yet */
  tenant_ctx_poll(&f->ctx);
  assert_int_equal(f->ctx.meta.version, 4);
  assert_int_equal(f->ctx.granted, 1u << TENANT_SVC_CLOCK);
  assert_int_equal(tenant_control_wait(f->page, gen, 0, &rc, reason, sizeof reason), 1);
  assert_int_equal(rc, 0);
  assert_int_equal(f->page->version, 4); /* the monitor's "version in force" */
  /* the counters are the page's */
  assert_ptr_equal(f->ctx.stats, &f->page->stats);
  assert_int_equal(f->page->stats.updates, 1);
}

static void test_refused_updates_leave_the_tenant_as_it_was(void **state)
{
  struct fixture *f = *state;
  tenant_control_attach(f->page, &f->pf, &f->ctx);
  struct {
    const char *id;
    uint64_t version;
    uint8_t module;
    const char *why;
  } cases[] = {
    {"t2", 9, 7, "another tenant"},
    {"t1", 9, 8, "not the running module"},
    {"t1", 3, 7, "not above the running version 3"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct tenant_meta m;
    base_meta(&m, cases[i].id, cases[i].version, cases[i].module);
    m.perms.granted = 1u << TENANT_SVC_CLOCK;
    uint32_t gen = post_meta(f->page, &m);
    tenant_ctx_poll(&f->ctx);
    int rc = 0;
    char reason[256];
    assert_int_equal(tenant_control_wait(f->page, gen, 0, &rc, reason, sizeof reason), 1);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(reason, cases[i].why));
    assert_int_equal(f->ctx.meta.version, 3);
    assert_int_equal(f->ctx.granted, 1u << TENANT_SVC_LOG);
  }
  /* a payload that does not decode */
  uint32_t gen = tenant_control_post(f->page, (const uint8_t *) "\xa1", 1);
  tenant_ctx_poll(&f->ctx);
  int rc = 0;
  char reason[256];
  assert_int_equal(tenant_control_wait(f->page, gen, 0, &rc, reason, sizeof reason), 1);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(reason, "payload:"));
  assert_int_equal(f->page->stats.updates, 0);
}

static void test_update_posted_before_the_tenant_runs(void **state)
{
  struct fixture *f = *state;
  struct tenant_meta m;
  base_meta(&m, "t1", 5, 7);
  post_meta(f->page, &m);
  tenant_control_attach(f->page, &f->pf, &f->ctx);
  tenant_ctx_poll(&f->ctx);
  assert_int_equal(f->ctx.meta.version, 5);
}

static void test_a_writer_killed_half_way_does_not_block_the_next(void **state)
{
  struct fixture *f = *state;
  tenant_control_attach(f->page, &f->pf, &f->ctx);
  f->page->payload_seq = 1; /* left odd: the writer died while writing */
  struct tenant_meta m;
  base_meta(&m, "t1", 6, 7);
  post_meta(f->page, &m);
  assert_int_equal(f->page->payload_seq % 2, 0);
  tenant_ctx_poll(&f->ctx);
  assert_int_equal(f->ctx.meta.version, 6);
}

/* A post lands after the tenant saw generation g but before it read the
 * payload: it applies the newer payload under g, then sees g+1 and reads
 * the same payload again: that must be answered "applied", not refused
 * (the updater would roll back an update the tenant runs). */
static void test_a_payload_read_twice_is_applied_once(void **state)
{
  struct fixture *f = *state;
  tenant_control_attach(f->page, &f->pf, &f->ctx);
  struct tenant_meta m;
  base_meta(&m, "t1", 4, 7);
  uint32_t gen = post_meta(f->page, &m);
  tenant_ctx_poll(&f->ctx);
  assert_int_equal(f->ctx.meta.version, 4);
  gen = post_meta(f->page, &m); /* the same payload under a new generation */
  tenant_ctx_poll(&f->ctx);
  int rc = -2;
  char reason[256];
  assert_int_equal(tenant_control_wait(f->page, gen, 0, &rc, reason, sizeof reason), 1);
  assert_int_equal(rc, 0);
  assert_int_equal(f->page->stats.updates, 1);
}

static void test_open_checks_the_page(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  struct tenant_control *c = tenant_control_open(dir, false, &err);
  assert_non_null(c);
  tenant_control_close(c);
  assert_null(tenant_control_open("/nonexistent-edgecr", false, &err));
  assert_non_null(err);
  edgecr_error_release(&err);
}

static void test_version_record(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  struct tenant_version v;
  assert_int_equal(tenant_version_load(dir, "tv", &v, &err), 0);
  assert_false(v.known);
  assert_int_equal(tenant_version_raise(dir, "tv", 4, &err), 0);
  assert_int_equal(tenant_version_raise(dir, "tv", 2, &err), 0); /* never lowered */
  assert_int_equal(tenant_version_load(dir, "tv", &v, &err), 0);
  assert_true(v.known);
  assert_int_equal(v.version, 4);
  v.known = false;
  assert_int_equal(tenant_version_store(dir, "tv", &v, &err), 0);
  assert_int_equal(tenant_version_load(dir, "tv", &v, &err), 0);
  assert_false(v.known);
  char path[96];
  snprintf(path, sizeof path, "%s/tv.version", dir);
  assert_int_equal(write_file_atomic(path, "x1\n", 3, 0600, &err), 0);
  assert_int_equal(tenant_version_load(dir, "tv", &v, &err), -1);
  assert_non_null(strstr(err->msg, "expected one decimal number"));
  edgecr_error_release(&err);
}

int main(void)
{
  if (mkdtemp(dir) == NULL)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_update_reaches_the_tenant_and_the_answer_comes_back, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_updates_leave_the_tenant_as_it_was, setup, teardown),
    cmocka_unit_test_setup_teardown(test_update_posted_before_the_tenant_runs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_a_writer_killed_half_way_does_not_block_the_next, setup, teardown),
    cmocka_unit_test_setup_teardown(test_a_payload_read_twice_is_applied_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_open_checks_the_page, setup, teardown),
    cmocka_unit_test(test_version_record),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  edgecr_error_t err = NULL;
  remove_tree(dir, &err);
  edgecr_error_release(&err);
  return rc;
}
