/* test_partition.c - the bookkeeping of partition.c on a fake cpuset tree
 * (plain files, EDGECR_PLAN_CPUSET): which cpusets move and back, the
 * record, a cpuset changed by its owner, a SIGKILL before every change
 * followed by a re-run forward or a teardown; and the switch's journalled
 * "partitions" step (between stops and starts, inverted by a rollback).
 * The kernel's own rules (subset, exclusivity) are tested on the real
 * hierarchy by tests/plan/test_partitions.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "partition.h"
#include "switch.h"
#include "util.h"

static char base[256], state[300], mnt[300];

static void put(const char *rel, const char *file, const char *v)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s/%s", mnt, rel, file);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(v, f);
  fclose(f);
}

static char *get(const char *rel, const char *file)
{
  char p[600], buf[128] = "";
  snprintf(p, sizeof p, "%s%s/%s", mnt, rel, file);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return strdup(buf);
}

static void cpuset(const char *rel, const char *cpus)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s", mnt, rel);
  mkdir(p, 0755);
  put(rel, "cpuset.cpus", cpus);
  put(rel, "cpuset.mems", "0");
  put(rel, "cpuset.sched_load_balance", "1");
  put(rel, "cpuset.cpu_exclusive", "0");
}

static void expect(const char *rel, const char *file, const char *want)
{
  char *v = get(rel, file);
  if (v == NULL || strcmp(v, want) != 0)
    fail_msg("%s/%s: `%s`, expected `%s`", rel, file, v ? v : "(missing)", want);
  free(v);
}

static bool exists(const char *rel)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s", mnt, rel);
  return access(p, F_OK) == 0;
}

static int setup(void **st)
{
  (void) st;
  snprintf(base, sizeof base, "/tmp/edgecr-test-partition-XXXXXX");
  assert_non_null(mkdtemp(base));
  snprintf(mnt, sizeof mnt, "%s/cpuset", base);
  snprintf(state, sizeof state, "%s/state", base);
  mkdir(mnt, 0755);
  mkdir(state, 0755);
  put("", "cpuset.cpus", "0-3");
  put("", "cpuset.mems", "0");
  put("", "cpuset.sched_load_balance", "1");
  cpuset("/host", "0-3");
  cpuset("/host/app", "1-2");
  cpuset("/edgecr-plan", "0-3");
  cpuset("/other", "0,2");
  setenv("EDGECR_PLAN_CPUSET", mnt, 1);
  return 0;
}

static int teardown(void **st)
{
  (void) st;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
  unsetenv("EDGECR_PLAN_CPUSET");
  unsetenv("EDGECR_PLAN_CPUSET_KILL_AT");
  return 0;
}

static void expect_partitioned(void)
{
  expect("", "cpuset.sched_load_balance", "0");
  expect("/edgecr-rt", "cpuset.cpus", "1,3");
  expect("/edgecr-rt", "cpuset.cpu_exclusive", "1");
  expect("/edgecr-rt", "cpuset.sched_load_balance", "0");
  expect("/edgecr-rt/cpu1", "cpuset.cpus", "1");
  expect("/edgecr-rt/cpu3", "cpuset.cpu_exclusive", "1");
  expect("/host", "cpuset.cpus", "0,2");
  expect("/host/app", "cpuset.cpus", "2");
  expect("/edgecr-plan", "cpuset.cpus", "0,2");
  expect("/other", "cpuset.cpus", "0,2"); /* off the partitions already: untouched */
}

static void expect_restored(void)
{
  expect("", "cpuset.sched_load_balance", "1");
  expect("/host", "cpuset.cpus", "0-3");
  expect("/host/app", "cpuset.cpus", "1-2");
  expect("/edgecr-plan", "cpuset.cpus", "0-3");
  expect("/other", "cpuset.cpus", "0,2");
  assert_false(exists("/edgecr-rt/cpu1"));
  char rec[400];
  snprintf(rec, sizeof rec, "%s/%s", state, PLAN_PARTITION_STATE);
  assert_int_equal(access(rec, F_OK), -1);
}

static void test_up_and_down(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  expect_partitioned();
  /* again: nothing to do, same state */
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  expect_partitioned();
  /* a change of set: CPU 3 given back, CPU 1 kept */
  assert_int_equal(plan_partitions_set(state, "1", &err), 0);
  expect("/host", "cpuset.cpus", "0,2-3");
  expect("/host/app", "cpuset.cpus", "2");
  assert_false(exists("/edgecr-rt/cpu3"));
  expect("/edgecr-rt", "cpuset.cpus", "1");
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect_restored();
}

static void test_owner_changes_are_kept(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  put("/host", "cpuset.cpus", "0");      /* its owner narrows it meanwhile */
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect("/host", "cpuset.cpus", "0");   /* theirs */
  /* the child edgecr moved is given back (the kernel would refuse more than
   * its parent has, EACCES, and edgecr then gives what fits: see
   * move_one; plain files accept it) */
  expect("/host/app", "cpuset.cpus", "1-2");
  char rec[400];
  snprintf(rec, sizeof rec, "%s/%s", state, PLAN_PARTITION_STATE);
  assert_int_equal(access(rec, F_OK), -1);
}

static void test_cpuset_left_empty_is_refused(void **st)
{
  (void) st;
  cpuset("/pinned", "1");
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1", &err), -1);
  assert_non_null(strstr(err->msg, "`/pinned` (cpus 1) would have no CPU left"));
  edgecr_error_release(&err);
  expect("/host", "cpuset.cpus", "0-3"); /* refused before anything changed */
  expect("", "cpuset.sched_load_balance", "1");
}

/* SIGKILL before the k-th change, for every k, then a re-run forward (or
 * the teardown): always the full partition (or exactly the node as before). */
static void test_kill_at_every_step(void **st)
{
  (void) st;
  for (int teardown_after = 0; teardown_after < 2; teardown_after++)
    for (int k = 1;; k++) {
      pid_t pid = fork();
      if (pid == 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        setenv("EDGECR_PLAN_CPUSET_KILL_AT", n, 1);
        _exit(plan_partitions_set(state, "1,3", NULL) == 0 ? 0 : 3);
      }
      int status;
      assert_int_equal(waitpid(pid, &status, 0), pid);
      edgecr_error_t err = NULL;
      if (WIFEXITED(status)) {
        assert_int_equal(WEXITSTATUS(status), 0);
        expect_partitioned();
        assert_int_equal(plan_partitions_set(state, "", &err), 0);
        expect_restored();
        break;
      }
      assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      if (!teardown_after) {
        assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
        expect_partitioned();
      }
      assert_int_equal(plan_partitions_set(state, "", &err), 0);
      expect_restored();
      /* and a kill during the teardown itself */
      assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
      pid = fork();
      if (pid == 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        setenv("EDGECR_PLAN_CPUSET_KILL_AT", n, 1);
        _exit(plan_partitions_set(state, "", NULL) == 0 ? 0 : 3);
      }
      assert_int_equal(waitpid(pid, &status, 0), pid);
      assert_int_equal(plan_partitions_set(state, "", &err), 0);
      expect_restored();
      assert_true(k < 100);
    }
}

/* The switch's actions: stops, then the partitions step, then starts; a
 * rollback journal runs the inverse step. */
static void test_switch_step(void **st)
{
  (void) st;
  json_t *from = json_pack("{s:{s:s},s:[{s:s,s:s,s:o}]}", "node", "partitions", "1", "containers", "name", "a",
                           "backend", "linux", "realtime", json_null());
  json_t *to = json_pack("{s:{s:s},s:[{s:s,s:s,s:o}]}", "node", "partitions", "1,3", "containers", "name", "a",
                         "backend", "wasm", "realtime", json_null());
  struct plan_located f = {.name = "p", .commit = "c1", .checkout = "/x", .plan = from};
  struct plan_located t = {.name = "p", .commit = "c2", .checkout = "/y", .plan = to};
  size_t kept;
  edgecr_error_t err = NULL;
  json_t *actions = plan_switch_actions(&f, &t, &kept, &err);
  assert_non_null(actions);
  assert_int_equal(json_array_size(actions), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 0), "op")), "stop");
  json_t *p = json_array_get(actions, 1);
  assert_string_equal(json_string_value(json_object_get(p, "op")), "partitions");
  assert_string_equal(json_string_value(json_object_get(p, "cpus")), "1,3");
  assert_string_equal(json_string_value(json_object_get(p, "undo")), "1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 2), "op")), "start");
  json_decref(actions);
  /* same partitions: no step */
  json_object_set_new(json_object_get(to, "node"), "partitions", json_string("1"));
  actions = plan_switch_actions(&f, &t, &kept, &err);
  assert_int_equal(json_array_size(actions), 2);
  json_decref(actions);
  json_decref(from);
  json_decref(to);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_up_and_down, setup, teardown),
    cmocka_unit_test_setup_teardown(test_owner_changes_are_kept, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cpuset_left_empty_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_at_every_step, setup, teardown),
    cmocka_unit_test(test_switch_step),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
