/* test_admit.c - plan_admit_schedule (src/plan/admit.c): may a running
 * tenant take a new schedule?  A fake state root holds live containers
 * (their pid is this test's own): a tenant whose schedule is read from its
 * metadata, a SCHED_DEADLINE container, a SCHED_FIFO one with a cgroup
 * budget; a dead container does not count.  The node is this machine (its
 * CPUs, its throttling ratio, assumed the default 0.95), so the loads are
 * chosen to be judged alike on any number of CPUs: the node-wide sum of
 * SCHED_FIFO cgroup budgets, and a single task that no CPU can hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit.h"

static char root[64];

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A container directory with state.json (pid: alive or not) and config.json. */
static void container(const char *id, bool live, const char *annotations, const char *config)
{
  char dir[160], path[200], text[1024];
  snprintf(dir, sizeof dir, "%s/%s", root, id);
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/state.json", dir);
  snprintf(text, sizeof text, "{\"id\": \"%s\", \"pid\": %d, \"rootfs\": \"%s/%s/rootfs\", \"annotations\": {%s}}", id,
           live ? (int) getpid() : 0, root, id, annotations);
  write_text(path, text);
  snprintf(path, sizeof path, "%s/config.json", dir);
  write_text(path, config);
}

/* A tenant: its metadata (a bare payload: admission reads, create verifies) in its rootfs. */
static void tenant(const char *id, uint32_t prio, uint64_t budget, uint64_t period)
{
  container(id, true, "\"org.edgecr.tenant.metadata\": \"/meta.cbor\"", "{\"process\": {\"args\": [\"/a.wasm\"]}}");
  struct tenant_meta m = {.format = TENANT_META_FORMAT, .type = TENANT_TYPE_WASM, .version = 1, .expires = 4000000000u,
                          .has_schedule = true, .schedule = {.priority = prio, .period_ns = period, .budget_ns = budget}};
  snprintf(m.id, sizeof m.id, "%s", id);
  snprintf(m.kid, sizeof m.kid, "vendor");
  uint8_t buf[4096];
  size_t n = tenant_meta_encode(&m, buf, sizeof buf);
  assert_true(n < sizeof buf);
  char path[200];
  snprintf(path, sizeof path, "%s/%s/rootfs", root, id);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/%s/rootfs/meta.cbor", root, id);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(buf, 1, n, f);
  fclose(f);
}

static int setup(void **state)
{
  (void) state;
  snprintf(root, sizeof root, "/tmp/edgecr-test-admit-XXXXXX");
  assert_non_null(mkdtemp(root));
  return 0;
}

static int teardown(void **state)
{
  (void) state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static void test_fits_and_overload_refused_with_reason(void **state)
{
  (void) state;
  tenant("a", 30, 2000000, 10000000); /* 0.2 of a CPU, SCHED_FIFO 30 */
  container("dl", true, "", "{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 3000000, "
            "\"deadline\": 10000000, \"period\": 10000000}}}");
  struct tenant_schedule small = {.priority = 40, .period_ns = 10000000, .budget_ns = 1000000};
  char *why = NULL;
  assert_int_equal(plan_admit_schedule(root, "a", &small, &why), 0);
  assert_null(why);
  /* each CPU gets 0.95 at most: one task of budget = period cannot run */
  struct tenant_schedule full = {.priority = 40, .period_ns = 10000000, .budget_ns = 10000000};
  assert_int_equal(plan_admit_schedule(root, "a", &full, &why), -1);
  assert_non_null(why);
  assert_non_null(strstr(why, "would not be schedulable"));
  free(why);
}

static void test_the_others_load_counts(void **state)
{
  (void) state;
  /* SCHED_FIFO tenants share the kernel's node-wide 0.95 of cgroup
   * real-time budget (docs/plan.md section 4): 0.5 + 0.5 do not fit */
  tenant("t0", 20, 5000000, 10000000);
  struct tenant_schedule half = {.priority = 10, .period_ns = 10000000, .budget_ns = 5000000};
  char *why = NULL;
  assert_int_equal(plan_admit_schedule(root, "new", &half, &why), -1);
  assert_non_null(strstr(why, "would not be schedulable"));
  assert_non_null(strstr(why, "cgroup real-time budgets"));
  free(why);
  why = NULL;
  /* the same, replacing the running one: it fits */
  assert_int_equal(plan_admit_schedule(root, "t0", &half, &why), 0);
  /* a dead container's load is gone */
  char path[128];
  snprintf(path, sizeof path, "%s/t0/state.json", root);
  write_text(path, "{\"id\": \"t0\", \"pid\": 0}");
  assert_int_equal(plan_admit_schedule(root, "new", &half, &why), 0);
}

static void test_fifo_container_counts_its_group_budget(void **state)
{
  (void) state;
  /* a SCHED_FIFO container that may take 0.4 s every second: its load is
   * that budget (its cgroup budget in the analysis: 0.4 + min(0.4, 0.6)) */
  container("f", true, "", "{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FIFO\", \"priority\": 50}}, "
            "\"linux\": {\"resources\": {\"cpu\": {\"realtimeRuntime\": 400000, \"realtimePeriod\": 1000000}}}}");
  struct tenant_schedule s = {.priority = 60, .period_ns = 10000000, .budget_ns = 2000000};
  char *why = NULL;
  assert_int_equal(plan_admit_schedule(root, "new", &s, &why), -1);
  free(why);
  why = NULL;
  s.budget_ns = 1000000; /* 0.8 + 0.101 <= 0.95 */
  assert_int_equal(plan_admit_schedule(root, "new", &s, &why), 0);
}

static void test_priority_without_period_is_refused(void **state)
{
  (void) state;
  struct tenant_schedule s = {.priority = 60};
  char *why = NULL;
  assert_int_equal(plan_admit_schedule(root, "x", &s, &why), -1);
  assert_non_null(strstr(why, "without a period and a budget"));
  free(why);
  /* no real-time schedule at all: nothing to admit */
  struct tenant_schedule none = {0};
  why = NULL;
  assert_int_equal(plan_admit_schedule(root, "x", &none, &why), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_fits_and_overload_refused_with_reason, setup, teardown),
    cmocka_unit_test_setup_teardown(test_the_others_load_counts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fifo_container_counts_its_group_budget, setup, teardown),
    cmocka_unit_test_setup_teardown(test_priority_without_period_is_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
