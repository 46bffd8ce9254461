/* test_model.c - the configuration model: YAML and JSON decode to the same
 * model, and every error names the file, the line and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const char YAML[] =
  "name: demo\n"
  "node:\n"
  "  cores: 4\n"
  "  rt_cores: [1, 2]\n"
  "  memory: 1GiB\n"
  "containers:\n"
  "  - name: ctl\n"
  "    bundle: /b/ctl\n"
  "    rt: {period: 10ms, budget: 1500us, deadline: 8ms, jitter: 100us, priority: 90, core: 1}\n"
  "    memlock: unlimited\n"
  "    capabilities: [IPC_LOCK, CAP_SYS_RAWIO]\n"
  "    devices: [/dev/ttyS1, {path: /dev/gpiochip0, access: r}]\n"
  "  - name: cam\n"
  "    image: oci:/images/cam:1\n"
  "    backend: wasm\n"
  "    rt: {policy: deadline, period: 1s, wcet: 0.25s}\n"
  "    depends_on: [ctl]\n";

static const char JSON[] =
  "{\"name\": \"demo\", \"node\": {\"cores\": 4, \"rt_cores\": [1, 2], \"memory\": \"1GiB\"},\n"
  " \"containers\": [\n"
  "  {\"name\": \"ctl\", \"bundle\": \"/b/ctl\", \"rt\": {\"period\": \"10ms\", \"budget\": \"1500us\",\n"
  "   \"deadline\": \"8ms\", \"jitter\": \"100us\", \"priority\": 90, \"core\": 1}, \"memlock\": \"unlimited\",\n"
  "   \"capabilities\": [\"IPC_LOCK\", \"CAP_SYS_RAWIO\"],\n"
  "   \"devices\": [\"/dev/ttyS1\", {\"path\": \"/dev/gpiochip0\", \"access\": \"r\"}]},\n"
  "  {\"name\": \"cam\", \"image\": \"oci:/images/cam:1\", \"backend\": \"wasm\",\n"
  "   \"rt\": {\"policy\": \"deadline\", \"period\": \"1s\", \"wcet\": \"0.25s\"}, \"depends_on\": [\"ctl\"]}]}\n";

static void check_demo(const struct plan_config *c)
{
  assert_string_equal(c->name, "demo");
  assert_int_equal(c->node.cores, 4);
  assert_false(c->node.rt_core[0]);
  assert_true(c->node.rt_core[1] && c->node.rt_core[2]);
  assert_int_equal(c->node.memory, 1ULL << 30);
  assert_int_equal(c->n, 2);
  const struct plan_container *k = &c->containers[0];
  assert_int_equal(k->rt.period, 10000000);
  assert_int_equal(k->rt.budget, 1500000);
  assert_int_equal(k->rt.deadline, 8000000);
  assert_int_equal(k->rt.jitter, 100000);
  assert_int_equal(k->rt.priority, 90);
  assert_int_equal(k->rt.core, 1);
  assert_int_equal(k->memlock, -1);
  assert_string_equal(k->capabilities[0], "CAP_IPC_LOCK");
  assert_string_equal(k->capabilities[1], "CAP_SYS_RAWIO");
  assert_int_equal(k->n_devices, 2);
  assert_string_equal(k->devices[0].access, "rw");
  assert_string_equal(k->devices[1].path, "/dev/gpiochip0");
  assert_string_equal(k->devices[1].access, "r");
  k = &c->containers[1];
  assert_int_equal(k->backend, PLAN_BACKEND_WASM);
  assert_int_equal(k->rt.policy, PLAN_POLICY_DEADLINE);
  assert_int_equal(k->rt.budget, 250000000);
  assert_int_equal(k->rt.deadline, 1000000000);
  assert_int_equal(k->rt.core, -1);
  assert_string_equal(k->depends_on[0], "ctl");
  size_t order[2];
  edgecr_error_t err = NULL;
  assert_int_equal(plan_config_start_order(c, order, &err), 0);
  assert_int_equal(order[0], 0);
}

static void test_yaml_and_json_same_model(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  struct plan_config *y = NULL, *j = NULL;
  assert_int_equal(plan_config_parse("p.yaml", YAML, strlen(YAML), false, &y, &err), 0);
  assert_int_equal(plan_config_parse("p.json", JSON, strlen(JSON), true, &j, &err), 0);
  check_demo(y);
  check_demo(j);
  plan_config_free(y);
  plan_config_free(j);
}

static void expect_error(const char *text, bool json, const char *message)
{
  edgecr_error_t err = NULL;
  struct plan_config *c = NULL;
  assert_int_equal(plan_config_parse(json ? "p.json" : "plan.yaml", text, strlen(text), json, &c, &err), -1);
  assert_null(c);
  if (strstr(err->msg, message) == NULL)
    fail_msg("expected \"%s\" in \"%s\"", message, err->msg);
  edgecr_error_release(&err);
}

#define HEAD "node:\n  cores: 2\ncontainers:\n  - name: a\n    bundle: x\n"

static void test_errors_name_file_line_field(void **state)
{
  (void) state;
  expect_error(HEAD "    rt: {period: 10, budget: 1ms}\n", false,
               "plan.yaml:6: containers[0].rt.period: must be a positive duration like \"10ms\"");
  expect_error(HEAD "    rt:\n      period: 10ms\n      budget: 1ms\n      deadline: 11ms\n", false,
               "plan.yaml:9: containers[0].rt.deadline: must not exceed the period");
  expect_error(HEAD "    rt: {period: 10ms, budget: 1ms, priority: 100}\n", false,
               "plan.yaml:6: containers[0].rt.priority: must be a whole number from 1 to 99");
  expect_error(HEAD "    rt: {period: 10ms, budget: 1ms, polcy: deadline}\n", false,
               "plan.yaml:6: containers[0].rt.polcy: unknown field");
  expect_error(HEAD "    rt: {period: 10ms}\n", false, "plan.yaml:6: containers[0].rt.budget: is required");
  expect_error(HEAD "    memory: lots\n", false, "plan.yaml:6: containers[0].memory: must be a size");
  expect_error(HEAD "    devices: [/tmp/x]\n", false, "plan.yaml:6: containers[0].devices[0]: device path must be under /dev/");
  expect_error(HEAD "    capabilities: [SYS_ADMIN]\n", false, "containers[0].capabilities: \"SYS_ADMIN\" is not a real-time capability");
  expect_error(HEAD "  - name: a\n    bundle: y\n", false, "plan.yaml:6: name: containers[0] and containers[1] are both named \"a\"");
  expect_error(HEAD "    depends_on: [b]\n  - name: b\n    bundle: y\n    depends_on: [c]\n  - name: c\n    bundle: z\n"
               "    depends_on: [a]\n", false, "containers[0].depends_on: dependency cycle: a -> b -> c -> a");
  expect_error(HEAD "    depends_on: [ghost]\n", false, "plan.yaml:6: containers[0].depends_on[0]: no container is named \"ghost\"");
  expect_error(HEAD "    rt: {period: 10ms, budget: 1ms, core: 7}\n", false, "containers[0].rt.core: must be a whole number from 0 to 1");
  expect_error("node:\n  cores: 2\n  rt_cores: [1]\ncontainers:\n  - name: a\n    bundle: x\n    rt: {period: 10ms, budget: 1ms, core: 0}\n",
               false, "plan.yaml:7: containers[0].rt.core: core 0 is not in node.rt_cores");
  expect_error(HEAD "    bundle: y\n", false, "plan.yaml:6: duplicate key `bundle`");
  expect_error("node: {cores: 2}\ncontainers: [\n", false, "plan.yaml:");
  expect_error("{\"node\": {\"cores\": 2},\n \"containers\": [\n  {\"name\": \"a\", \"bundle\": \"x\",\n"
               "   \"rt\": {\"period\": \"10ms\", \"budget\": \"20ms\"}}]}", true,
               "p.json:4: containers[0].rt.budget: the budget exceeds the deadline");
  expect_error("{\"node\": {\"cores\": 2}, \"containers\": [,]}", true, "p.json:1:");
  expect_error(HEAD "    rt: {policy: deadline, period: 10ms, budget: 5ms, jitter: 6ms}\n", false,
               "containers[0].rt.jitter: a deadline reservation needs budget + jitter <= deadline");
}

static void test_units(void **state)
{
  (void) state;
  int64_t ns;
  uint64_t b;
  assert_int_equal(plan_parse_duration("1.5ms", &ns), 0);
  assert_int_equal(ns, 1500000);
  assert_int_equal(plan_parse_duration("250us", &ns), 0);
  assert_int_equal(ns, 250000);
  assert_int_equal(plan_parse_duration("3s", &ns), 0);
  assert_int_equal(ns, 3000000000LL);
  assert_int_equal(plan_parse_duration("10", &ns), -1);
  assert_int_equal(plan_parse_duration("-1ms", &ns), -1);
  assert_int_equal(plan_parse_duration("0.5ns", &ns), -1);
  assert_int_equal(plan_parse_size("64MiB", &b), 0);
  assert_int_equal(b, 64ULL << 20);
  assert_int_equal(plan_parse_size("4096", &b), 0);
  assert_int_equal(b, 4096);
  char buf[32];
  assert_string_equal(plan_format_duration(12400000, buf, sizeof buf), "12.4ms");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_yaml_and_json_same_model),
    cmocka_unit_test(test_errors_name_file_line_field),
    cmocka_unit_test(test_units),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
