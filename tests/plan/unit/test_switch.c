/* test_switch.c - the switching logic with a fake executor: the order of
 * actions, unchanged containers kept, and a simulated crash before and
 * after every single action, each followed by `recover` forward and by
 * `recover --rollback`, always ending in exactly the old or the new plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "switch.h"
#include "util.h"

#define MAX 16

/* The fake node: which container runs which version (checksum). */
struct fake {
  char names[MAX][32], versions[MAX][32];
  int n;
  char log[64][48];
  int n_log;
  int crash_at;        /* executor call (start/stop) that "crashes"; -1 never */
  bool crash_after;    /* the crashing call did its work first */
  int calls;
};

static int find(struct fake *f, const char *name)
{
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->names[i], name) == 0)
      return i;
  return -1;
}

static int crash_point(struct fake *f, bool after, edgecr_error_t *err)
{
  if (f->calls++ == f->crash_at && f->crash_after == after)
    return edgecr_error_make(err, 0, "simulated crash");
  return 0;
}

static int fake_start(void *ctx, const char *name, const char *bundle, const json_t *ct, edgecr_error_t *err)
{
  struct fake *f = ctx;
  assert_non_null(bundle);
  if (f->calls == f->crash_at && !f->crash_after)
    return crash_point(f, false, err);
  assert_int_equal(find(f, name), -1);
  strcpy(f->names[f->n], name);
  strcpy(f->versions[f->n++], json_string_value(json_object_get(ct, "checksum")));
  snprintf(f->log[f->n_log++], 48, "start %s", name);
  return crash_point(f, true, err);
}

static int fake_stop(void *ctx, const char *name, edgecr_error_t *err)
{
  struct fake *f = ctx;
  if (f->calls == f->crash_at && !f->crash_after)
    return crash_point(f, false, err);
  int i = find(f, name);
  assert_true(i >= 0);
  f->n--;
  memmove(f->names[i], f->names[i + 1], sizeof f->names[0] * (size_t) (f->n - i));
  memmove(f->versions[i], f->versions[i + 1], sizeof f->versions[0] * (size_t) (f->n - i));
  snprintf(f->log[f->n_log++], 48, "stop %s", name);
  return crash_point(f, true, err);
}

static int fake_query(void *ctx, const char *name, char **status, edgecr_error_t *err)
{
  (void) err;
  *status = find(ctx, name) >= 0 ? strdup("running") : NULL;
  return 0;
}

/* plan with containers "name:checksum:dep1,dep2" in start order; the
 * checksum stands for the bundle's contents (bundle_tree: part of the
 * identity), and the start order is in the entry as the compiler writes
 * it (not part of the identity). */
static json_t *plan(const char *const *spec)
{
  json_t *cs = json_array();
  for (; *spec; spec++) {
    char name[32], sum[32];
    sscanf(*spec, "%31[^:]:%31s", name, sum);
    json_array_append_new(cs, json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", name, "checksum", sum, "bundle_tree", sum,
                                        "bundle", "bundles/x", "start_order", (json_int_t) json_array_size(cs)));
  }
  return json_pack("{s:o}", "containers", cs);
}

static const char *const OLD[] = {"db:d1", "sensor:s1", "ctl:c1", "log:l1", "ui:u1", NULL};
static const char *const NEW[] = {"db:d1", "sensor:s2", "ctl:c1", "ui:u1", "cam:k1", NULL};

/* Does the fake run exactly this plan? */
static bool runs(struct fake *f, const char *const *spec)
{
  int n = 0;
  for (; *spec; spec++, n++) {
    char name[32], sum[32];
    sscanf(*spec, "%31[^:]:%31s", name, sum);
    int i = find(f, name);
    if (i < 0 || strcmp(f->versions[i], sum) != 0)
      return false;
  }
  return n == f->n;
}

static char *state_dir(void)
{
  char tmpl[] = "/tmp/edgecr-switch-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  return xstrdup(tmpl);
}

static void apply(const char *dir, json_t *p, const char *name, struct fake *f, int expect)
{
  struct plan_located to = {.name = name, .commit = name, .checkout = "/plans/co", .plan = p};
  struct plan_executor ex = {f, fake_start, fake_stop, fake_query};
  edgecr_error_t err = NULL;
  int r = plan_switch_run(dir, &to, &ex, &err);
  assert_int_equal(r, expect);
  edgecr_error_release(&err);
}

static void test_actions_order(void **state)
{
  (void) state;
  json_t *a = plan(OLD), *b = plan(NEW);
  struct plan_located from = {"old", "c1", "/co/old", a}, to = {"new", "c2", "/co/new", b};
  size_t kept;
  edgecr_error_t err = NULL;
  json_t *acts = plan_switch_actions(&from, &to, &kept, &err);
  assert_non_null(acts);
  const char *want[] = {"stop log", "stop sensor", "start sensor", "start cam"};
  assert_int_equal(json_array_size(acts), 4);
  for (size_t i = 0; i < 4; i++) {
    char got[48];
    json_t *x = json_array_get(acts, i);
    snprintf(got, sizeof got, "%s %s", json_string_value(json_object_get(x, "op")),
             json_string_value(json_object_get(x, "name")));
    assert_string_equal(got, want[i]);
  }
  assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 2), "bundle")), "/co/new/bundles/x");
  assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 1), "bundle")), "/co/old/bundles/x");
  assert_int_equal(kept, 3);
  struct plan_diff_entry *d;
  size_t n;
  assert_int_equal(plan_diff(a, b, &d, &n, &err), 0);
  assert_int_equal(n, 6);
  assert_int_equal(d[0].change, PLAN_UNCHANGED);
  assert_int_equal(d[1].change, PLAN_CHANGED);
  assert_int_equal(d[4].change, PLAN_ADDED);
  assert_int_equal(d[5].change, PLAN_REMOVED);
  assert_string_equal(d[5].name, "log");
  free(d);
  json_decref(acts);
  json_decref(a);
  json_decref(b);
}

static void test_switch_keeps_unchanged(void **state)
{
  (void) state;
  cleanup_free char *dir = state_dir();
  json_t *a = plan(OLD), *b = plan(NEW);
  struct fake f = {.crash_at = -1};
  apply(dir, a, "old", &f, 0);
  assert_true(runs(&f, OLD));
  f.n_log = 0;
  apply(dir, b, "new", &f, 0);
  assert_true(runs(&f, NEW));
  assert_int_equal(f.n_log, 4); /* db, ctl, ui never touched */
  json_t *st;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_switch_status(dir, &st, &err), 0);
  assert_true(json_is_null(json_object_get(st, "journal")));
  assert_string_equal(json_string_value(json_object_get(json_object_get(st, "current"), "name")), "new");
  json_decref(st);
  json_decref(a);
  json_decref(b);
  remove_tree(dir, &err);
}

/* Crash at every executor call, before or after its effect; then recover
 * forward or backward, and crash once more during the recovery. */
static void crash_case(int at, bool after, bool rollback, int recover_crash)
{
  cleanup_free char *dir = state_dir();
  json_t *a = plan(OLD), *b = plan(NEW);
  struct fake f = {.crash_at = -1};
  apply(dir, a, "old", &f, 0);
  f.calls = 0;
  f.crash_at = at;
  f.crash_after = after;
  apply(dir, b, "new", &f, -1);
  assert_false(runs(&f, NEW) && runs(&f, OLD));
  struct plan_executor ex = {&f, fake_start, fake_stop, fake_query};
  edgecr_error_t err = NULL;
  bool did;
  /* a new switch is refused while one is pending */
  apply(dir, b, "new", &f, -1);
  int r = -1;
  if (recover_crash >= 0) { /* the recovery itself crashes once */
    f.calls = 0;
    f.crash_at = recover_crash;
    r = plan_switch_recover(dir, rollback, &ex, &did, &err);
    edgecr_error_release(&err);
  }
  if (r < 0) {
    f.crash_at = -1;
    assert_int_equal(plan_switch_recover(dir, rollback, &ex, &did, &err), 0);
    assert_true(did);
  }
  assert_true(rollback ? runs(&f, OLD) : runs(&f, NEW));
  assert_int_equal(plan_switch_recover(dir, false, &ex, &did, &err), 0);
  assert_false(did);
  json_t *st;
  assert_int_equal(plan_switch_status(dir, &st, &err), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(st, "current"), "name")),
                      rollback ? "old" : "new");
  json_decref(st);
  json_decref(a);
  json_decref(b);
  remove_tree(dir, &err);
}

static void test_crash_everywhere(void **state)
{
  (void) state;
  for (int at = 0; at < 4; at++)
    for (int after = 0; after < 2; after++)
      for (int rb = 0; rb < 2; rb++)
        for (int rc = -1; rc < 4; rc++)
          crash_case(at, after, rb, rc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_actions_order),
    cmocka_unit_test(test_switch_keeps_unchanged),
    cmocka_unit_test(test_crash_everywhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
