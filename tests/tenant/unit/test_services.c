/* test_services.c - the Linux adapters of the kv, sensors and GPIO tenant
 * services (src/tenant/linux/): the device map's parsing and errors, IIO
 * sensors on a sysfs-shaped tree, the LMDB kv store (quota exact and
 * atomic, read-only, isolation between tenants, persistence, a SIGKILL in
 * the middle of a write loop losing nothing committed), and GPIO lookups
 * that need no chip.  GPIO lines against a chip: tests/tenant/test_gpio_cuse.py. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi.h"
#include "tenant_services.h"
#include "util.h"

static char tmp[64];
static struct tenant_platform pf;

static void put_file(const char *rel, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp, rel);
  edgecr_error_t err = NULL;
  char *dir = xstrdup(path);
  *strrchr(dir, '/') = '\0';
  assert_int_equal(mkdir_p(dir, 0755, &err), 0);
  free(dir);
  assert_int_equal(write_file_atomic(path, text, strlen(text), 0644, &err), 0);
}

static int setup(void **state)
{
  (void) state;
  snprintf(tmp, sizeof tmp, "/tmp/edgecr-tsvc-XXXXXX");
  assert_non_null(mkdtemp(tmp));
  memset(&pf, 0, sizeof pf);
  tenant_linux_kv_ops(&pf);
  tenant_linux_iio_ops(&pf);
  tenant_linux_gpio_ops(&pf);
  return 0;
}

static int teardown(void **state)
{
  (void) state;
  tenant_linux_services_close();
  edgecr_error_t err = NULL;
  remove_tree(tmp, &err);
  edgecr_error_release(&err);
  return 0;
}

/* ---- the device map ---- */

static void expect_map_error(const char *json, const char *want)
{
  struct tenant_devmap m;
  edgecr_error_t err = NULL;
  assert_int_equal(tenant_devmap_parse("devices.json", json, strlen(json), &m, &err), -1);
  if (strstr(err->msg, want) == NULL)
    fail_msg("error `%s` does not contain `%s`", err->msg, want);
  edgecr_error_release(&err);
}

static void test_devmap_parse(void **state)
{
  (void) state;
  const char *json = "{\"iio-root\": \"/r\", \"sensors\": {\"temp0\": {\"device\": \"iio:device3\", \"channel\": "
                     "\"temp\", \"factor\": 0.001}, \"v1\": {\"device\": \"iio:device0\", \"channel\": \"voltage1\", "
                     "\"root\": \"/other\"}}, \"gpio\": {\"led0\": {\"chip\": \"gpiochip1\", \"offset\": 7, "
                     "\"active-low\": true}}}";
  struct tenant_devmap m;
  edgecr_error_t err = NULL;
  assert_int_equal(tenant_devmap_parse("d.json", json, strlen(json), &m, &err), 0);
  assert_int_equal(m.n_sensors, 2);
  assert_string_equal(m.sensors[0].id, "temp0");
  assert_string_equal(m.sensors[0].root, "/r");
  assert_string_equal(m.sensors[0].device, "iio:device3");
  assert_true(m.sensors[0].factor == 0.001);
  assert_string_equal(m.sensors[1].root, "/other");
  assert_true(m.sensors[1].factor == 1.0);
  assert_int_equal(m.n_gpio, 1);
  assert_string_equal(m.gpio[0].chip, "gpiochip1");
  assert_int_equal(m.gpio[0].offset, 7);
  assert_true(m.gpio[0].active_low);
  tenant_devmap_free(&m);
}

static void test_devmap_errors(void **state)
{
  (void) state;
  expect_map_error("{\"sensors\": {\"t\": {\"device\": \"iio:device0\"}}}", "devices.json: `sensors.t.channel`: missing");
  expect_map_error("{\"sensors\": {\"t\": {\"channel\": \"temp\"}}}", "`sensors.t`: give exactly one of");
  expect_map_error("{\"sensors\": {\"t\": {\"device\": \"x/../y\", \"channel\": \"temp\"}}}",
                   "`sensors.t.device`: expected iio:deviceN");
  expect_map_error("{\"sensors\": {\"t\": {\"device\": \"iio:device0\", \"channel\": \"t\", \"bogus\": 1}}}",
                   "`sensors.t.bogus`: unknown field");
  expect_map_error("{\"sensors\": {\"../t\": {\"device\": \"iio:device0\", \"channel\": \"t\"}}}",
                   "`sensors.../t`: not a valid name");
  expect_map_error("{\"gpio\": {\"led\": {\"chip\": \"gpiochip0\", \"offset\": -1}}}",
                   "`gpio.led.offset`: expected an integer 0..65535");
  expect_map_error("{\"gpio\": {\"led\": {\"offset\": 1}}}", "`gpio.led.chip`: missing");
  expect_map_error("{\"gpio\": []}", "`gpio`: expected an object");
  expect_map_error("{\"gpi\": {}}", "`gpi`: unknown field");
  expect_map_error("{\"gpio\": {}", "devices.json:1:");
  expect_map_error("{\"gpio\": {\"a\": {\"chip\": \"c\", \"offset\": 1}, \"a\": {\"chip\": \"c\", \"offset\": 2}}}",
                   "duplicate");
}

/* ---- sensors on a sysfs-shaped tree ---- */

static void write_map(const char *json)
{
  put_file("devices.json", json);
}

static void open_services(const char *tenant)
{
  char map[128], kv[128];
  snprintf(map, sizeof map, "%s/devices.json", tmp);
  snprintf(kv, sizeof kv, "%s/kv", tmp);
  struct tenant_services_cfg cfg = {.kv_root = kv, .tenant_id = tenant, .device_map = map, .kv_map_size = 8 << 20};
  edgecr_error_t err = NULL;
  if (tenant_linux_services_open(&cfg, &err) < 0)
    fail_msg("services_open: %s", err->msg);
}

static void test_iio_read(void **state)
{
  (void) state;
  put_file("iio/iio:device0/name", "bme280\n");
  put_file("iio/iio:device0/in_temp_raw", "23125\n");
  put_file("iio/iio:device0/in_temp_scale", "1.000000\n");
  put_file("iio/iio:device0/in_temp_offset", "-125\n");
  put_file("iio/iio:device1/name", "adc\n");
  put_file("iio/iio:device1/in_voltage0_raw", "1024\n");
  put_file("iio/iio:device1/in_voltage_scale", "0.805664062\n");   /* shared by the type */
  put_file("iio/iio:device1/in_voltage1_raw", "garbage\n");
  put_file("iio/iio:device1/in_illuminance_raw", "-40\n");         /* neither scale nor offset */
  char json[1024];
  snprintf(json, sizeof json,
           "{\"iio-root\": \"%s/iio\", \"sensors\": {"
           "\"temp0\": {\"name\": \"bme280\", \"channel\": \"temp\", \"factor\": 0.001},"
           "\"vin\": {\"device\": \"iio:device1\", \"channel\": \"voltage0\"},"
           "\"bad\": {\"device\": \"iio:device1\", \"channel\": \"voltage1\"},"
           "\"lux\": {\"device\": \"iio:device1\", \"channel\": \"illuminance\"},"
           "\"nochan\": {\"device\": \"iio:device1\", \"channel\": \"current0\"},"
           "\"gone\": {\"device\": \"iio:device9\", \"channel\": \"temp\"}}}",
           tmp);
  write_map(json);
  open_services(NULL);
  void *s;
  double v;
  assert_int_equal(pf.sensor_open(NULL, "temp0", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_OK);
  assert_true(v > 22.9999 && v < 23.0001);          /* (23125 - 125) * 1 milli-degrees */
  put_file("iio/iio:device0/in_temp_raw", "24125\n");   /* read each time, not cached */
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_OK);
  assert_true(v > 23.9999 && v < 24.0001);
  pf.sensor_close(NULL, s);
  assert_int_equal(pf.sensor_open(NULL, "vin", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_OK);
  assert_true(v > 824.99 && v < 825.01);            /* 1024 * 0.805664062 mV */
  pf.sensor_close(NULL, s);
  assert_int_equal(pf.sensor_open(NULL, "lux", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_OK);
  assert_true(v == -40.0);
  pf.sensor_close(NULL, s);
  assert_int_equal(pf.sensor_open(NULL, "bad", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_EIO);
  pf.sensor_close(NULL, s);
  assert_int_equal(pf.sensor_open(NULL, "nochan", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_EIO);
  pf.sensor_close(NULL, s);
  assert_int_equal(pf.sensor_open(NULL, "gone", &s), EDGECR_EIO);       /* mapped, device missing */
  assert_int_equal(pf.sensor_open(NULL, "unmapped", &s), EDGECR_ENOENT);
  tenant_linux_services_close();
}

/* The directory is opened early: reads work after the tree's path is gone
 * (as after pivot_root, when the host's /sys is out of reach). */
static void test_iio_opened_early(void **state)
{
  (void) state;
  put_file("iio/iio:device0/in_temp_raw", "5\n");
  char json[512], from[128], to[128];
  snprintf(json, sizeof json, "{\"iio-root\": \"%s/iio\", \"sensors\": {\"t\": {\"device\": \"iio:device0\", "
           "\"channel\": \"temp\"}}}", tmp);
  write_map(json);
  open_services(NULL);
  snprintf(from, sizeof from, "%s/iio", tmp);
  snprintf(to, sizeof to, "%s/moved", tmp);
  assert_int_equal(rename(from, to), 0);
  void *s;
  double v;
  assert_int_equal(pf.sensor_open(NULL, "t", &s), EDGECR_OK);
  assert_int_equal(pf.sensor_read(NULL, s, &v), EDGECR_OK);
  assert_true(v == 5.0);
  pf.sensor_close(NULL, s);
  tenant_linux_services_close();
}

/* ---- GPIO without a chip ---- */

static void test_gpio_lookup(void **state)
{
  (void) state;
  write_map("{\"gpio\": {\"led0\": {\"chip\": \"/nonexistent/gpiochip7\", \"offset\": 1}}}");
  open_services(NULL);
  void *l;
  assert_int_equal(pf.gpio_open(NULL, "nope", TENANT_GPIO_OUT, &l), EDGECR_ENOENT);
  assert_int_equal(pf.gpio_open(NULL, "led0", TENANT_GPIO_OUT, &l), EDGECR_EIO);
  assert_int_equal(pf.gpio_open(NULL, "led0", 3, &l), EDGECR_EINVAL);
  assert_non_null(strstr(tenant_devmap_current()->gpio[0].why, "/nonexistent/gpiochip7"));
  tenant_linux_services_close();
}

/* ---- kv ---- */

static void *kv(const char *ns, bool writable, uint64_t quota)
{
  void *o = NULL;
  assert_int_equal(pf.kv_open(NULL, ns, writable, quota, &o), EDGECR_OK);
  return o;
}

static int put(void *o, const char *k, const char *v)
{
  return pf.kv_put(NULL, o, (const uint8_t *) k, strlen(k), (const uint8_t *) v, strlen(v));
}

static int get(void *o, const char *k, char *buf, size_t cap, size_t *len)
{
  return pf.kv_get(NULL, o, (const uint8_t *) k, strlen(k), (uint8_t *) buf, cap, len);
}

static void test_kv_basic(void **state)
{
  (void) state;
  write_map("{}");
  open_services("tenant-a");
  void *o = kv("state", true, 1000);
  char buf[64];
  size_t len = 0;
  assert_int_equal(get(o, "k", buf, sizeof buf, &len), EDGECR_ENOENT);
  assert_int_equal(put(o, "k", "hello world"), EDGECR_OK);
  assert_int_equal(get(o, "k", buf, 4, &len), EDGECR_OK);   /* cut at cap, full length told */
  assert_int_equal(len, 11);
  assert_memory_equal(buf, "hell", 4);
  assert_int_equal(tenant_linux_kv_usage(o), 12);
  assert_int_equal(pf.kv_delete(NULL, o, (const uint8_t *) "k", 1), EDGECR_OK);
  assert_int_equal(pf.kv_delete(NULL, o, (const uint8_t *) "k", 1), EDGECR_ENOENT);
  assert_int_equal(tenant_linux_kv_usage(o), 0);
  uint8_t big[TENANT_KV_KEY_MAX + 1] = {0};
  assert_int_equal(pf.kv_put(NULL, o, big, sizeof big, big, 1), EDGECR_EINVAL);
  assert_int_equal(pf.kv_put(NULL, o, big, 0, big, 1), EDGECR_EINVAL);
  assert_int_equal(pf.kv_put(NULL, o, big, TENANT_KV_KEY_MAX, big, 1), EDGECR_OK);   /* the longest key */
  pf.kv_close(NULL, o);
  assert_int_equal(pf.kv_open(NULL, "../x", true, 1, &o), EDGECR_EINVAL);
  tenant_linux_services_close();
}

static void test_kv_quota(void **state)
{
  (void) state;
  write_map("{}");
  open_services("tenant-q");
  void *o = kv("q", true, 20);
  assert_int_equal(put(o, "a", "123456789"), EDGECR_OK);       /* 10 */
  assert_int_equal(put(o, "b", "12345678"), EDGECR_OK);        /* 19 */
  assert_int_equal(put(o, "c", "1"), EDGECR_EQUOTA);           /* 21 > 20: refused, nothing written */
  char buf[16];
  size_t len;
  assert_int_equal(get(o, "c", buf, sizeof buf, &len), EDGECR_ENOENT);
  assert_int_equal(tenant_linux_kv_usage(o), 19);
  assert_int_equal(put(o, "b", "123456789"), EDGECR_OK);       /* replace: 20, exactly the quota */
  assert_int_equal(put(o, "b", "1234567890"), EDGECR_EQUOTA);  /* 21 */
  assert_int_equal(get(o, "b", buf, sizeof buf, &len), EDGECR_OK);
  assert_int_equal(len, 9);
  /* a lowered quota: growing refused, shrinking and deleting allowed */
  assert_int_equal(pf.kv_set_limits(NULL, o, true, 5), EDGECR_OK);
  assert_int_equal(put(o, "a", "12345678"), EDGECR_OK);        /* 19: smaller than before */
  assert_int_equal(put(o, "z", ""), EDGECR_EQUOTA);
  assert_int_equal(pf.kv_delete(NULL, o, (const uint8_t *) "b", 1), EDGECR_OK);
  assert_int_equal(tenant_linux_kv_usage(o), 9);
  /* read-only: writes refused, reads fine; and back */
  assert_int_equal(pf.kv_set_limits(NULL, o, false, 100), EDGECR_OK);
  assert_int_equal(put(o, "n", "1"), EDGECR_EDENIED);
  assert_int_equal(pf.kv_delete(NULL, o, (const uint8_t *) "a", 1), EDGECR_EDENIED);
  assert_int_equal(get(o, "a", buf, sizeof buf, &len), EDGECR_OK);
  assert_int_equal(pf.kv_set_limits(NULL, o, true, 100), EDGECR_OK);
  assert_int_equal(put(o, "n", "1"), EDGECR_OK);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
}

static void test_kv_persist_and_isolation(void **state)
{
  (void) state;
  write_map("{}");
  open_services("tenant-a");
  void *o = kv("shared-name", true, 100);
  assert_int_equal(put(o, "secret", "a's"), EDGECR_OK);
  pf.kv_close(NULL, o);
  o = kv("other", true, 100);
  assert_int_equal(put(o, "o", "1"), EDGECR_OK);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
  /* another tenant naming the same namespace sees its own, empty one */
  open_services("tenant-b");
  o = kv("shared-name", true, 100);
  char buf[16];
  size_t len;
  assert_int_equal(get(o, "secret", buf, sizeof buf, &len), EDGECR_ENOENT);
  assert_int_equal(put(o, "secret", "b's"), EDGECR_OK);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
  /* the first tenant again (a restarted container): its data, read-only too */
  open_services("tenant-a");
  o = kv("shared-name", false, 100);
  assert_int_equal(get(o, "secret", buf, sizeof buf, &len), EDGECR_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(buf, "a's", 3);
  assert_int_equal(tenant_linux_kv_usage(o), 9);
  pf.kv_close(NULL, o);
  /* a namespace first opened after a get (its open commits nothing: it
   * exists) reads at once: the kept read snapshot is not reused for it */
  void *o2 = kv("other", false, 100);
  assert_int_equal(get(o2, "o", buf, sizeof buf, &len), EDGECR_OK);
  pf.kv_close(NULL, o2);
  /* a read-only grant of a namespace never written is an empty namespace */
  o = kv("fresh", false, 100);
  assert_int_equal(get(o, "x", buf, sizeof buf, &len), EDGECR_ENOENT);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
  /* a tenant id cannot leave the root */
  char root[128];
  snprintf(root, sizeof root, "%s/kv", tmp);
  edgecr_error_t err = NULL;
  assert_int_equal(tenant_linux_kv_configure(root, "../kv2", 0, &err), -1);
  assert_non_null(strstr(err->msg, "not a valid name"));
  edgecr_error_release(&err);
}

/* Two processes of one tenant (two containers of it) write one namespace
 * at once until the quota refuses them: the quota holds across processes
 * (each write checks and updates the usage in its own transaction), and
 * the usage record is exactly what the namespace holds. */
static void test_kv_quota_two_writers(void **state)
{
  (void) state;
  write_map("{}");
  const uint64_t quota = 20000;
  pid_t kids[2];
  for (int w = 0; w < 2; w++) {
    kids[w] = fork();
    assert_true(kids[w] >= 0);
    if (kids[w] == 0) {
      open_services("tenant-w");
      void *o = kv("shared", true, quota);
      for (int i = 0;; i++) {
        char k[32];
        snprintf(k, sizeof k, "w%d-%06d", w, i);    /* 9 + 41 = 50 bytes an entry */
        int rc = put(o, k, "0123456789012345678901234567890123456789x");
        if (rc == EDGECR_EQUOTA)
          _exit(0);
        if (rc != EDGECR_OK)
          _exit(3);
      }
    }
  }
  for (int w = 0; w < 2; w++) {
    int st;
    waitpid(kids[w], &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  open_services("tenant-w");
  void *o = kv("shared", true, quota);
  int64_t used = tenant_linux_kv_usage(o);
  assert_int_equal(used, 20000);   /* 400 entries of 50 bytes: full to the byte, never past */
  uint64_t count = 0;
  for (int w = 0; w < 2; w++)
    for (int i = 0; i < 400; i++) {
      char k[32], buf[64];
      size_t len;
      snprintf(k, sizeof k, "w%d-%06d", w, i);
      if (get(o, k, buf, sizeof buf, &len) == EDGECR_OK)
        count += strlen(k) + len;
    }
  assert_int_equal(count, (uint64_t) used);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
}

/* The node's store full (LMDB's map): EDGECR_EIO, nothing half-written,
 * the namespace still readable and writable once room is made. */
static void test_kv_store_full(void **state)
{
  (void) state;
  char root[128];
  snprintf(root, sizeof root, "%s/kv", tmp);
  edgecr_error_t err = NULL;
  assert_int_equal(tenant_linux_kv_configure(root, "tiny", 256 << 10, &err), 0);
  void *o = kv("big", true, UINT64_MAX);
  static uint8_t val[TENANT_KV_VALUE_MAX];
  memset(val, 'x', sizeof val);
  int rc = EDGECR_OK;
  int64_t sum = 0;
  for (int n = 0; n < 64 && rc == EDGECR_OK; n++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", n);
    rc = pf.kv_put(NULL, o, (const uint8_t *) k, strlen(k), val, sizeof val);
    if (rc == EDGECR_OK)
      sum += (int64_t) (strlen(k) + sizeof val);
  }
  assert_int_equal(rc, EDGECR_EIO);
  assert_true(sum > 0);
  assert_int_equal(tenant_linux_kv_usage(o), sum);   /* the failed put counted nothing */
  char buf[8];
  size_t len;
  assert_int_equal(get(o, "k0", buf, sizeof buf, &len), EDGECR_OK);
  assert_int_equal(len, sizeof val);
  assert_int_equal(pf.kv_delete(NULL, o, (const uint8_t *) "k0", 2), EDGECR_OK);
  assert_int_equal(put(o, "small", "1"), EDGECR_OK);
  pf.kv_close(NULL, o);
  tenant_linux_kv_shutdown();
}

/* A writer killed (SIGKILL) in the middle of its loop loses nothing it
 * committed: every key the child reported after its put returned is
 * there with its value, and the usage record matches the contents. */
static void test_kv_sigkill(void **state)
{
  (void) state;
  write_map("{}");
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(pfd[0]);
    open_services("tenant-k");
    void *o = kv("log", true, 1u << 30);
    for (uint32_t i = 0;; i++) {
      char k[32], v[64];
      snprintf(k, sizeof k, "key-%08u", i);
      snprintf(v, sizeof v, "value-%u-%0*u", i, (int) (i % 40), 0);
      if (put(o, k, v) != EDGECR_OK)
        _exit(3);
      if (write(pfd[1], &i, sizeof i) != sizeof i)
        _exit(4);
    }
  }
  close(pfd[1]);
  uint32_t last = 0, n = 0, got;
  while (n < 300 && read(pfd[0], &got, sizeof got) == sizeof got) {
    last = got;
    n++;
  }
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFSIGNALED(st));
  while (read(pfd[0], &got, sizeof got) == sizeof got)   /* what it reported before dying */
    last = got;
  close(pfd[0]);
  open_services("tenant-k");
  void *o = kv("log", true, 1u << 30);
  uint64_t sum = 0;
  for (uint32_t i = 0;; i++) {
    char k[32], v[64], buf[64];
    size_t len;
    snprintf(k, sizeof k, "key-%08u", i);
    snprintf(v, sizeof v, "value-%u-%0*u", i, (int) (i % 40), 0);
    int rc = get(o, k, buf, sizeof buf, &len);
    if (rc == EDGECR_ENOENT) {
      assert_true(i > last);   /* every reported key is there; at most the one in flight beyond */
      assert_true(i <= last + 2);
      break;
    }
    assert_int_equal(rc, EDGECR_OK);
    assert_int_equal(len, strlen(v));
    assert_memory_equal(buf, v, len);
    sum += strlen(k) + len;
  }
  assert_int_equal(tenant_linux_kv_usage(o), (int64_t) sum);
  /* and the store takes writes again (the dead writer's lock was released) */
  assert_int_equal(put(o, "after", "x"), EDGECR_OK);
  pf.kv_close(NULL, o);
  tenant_linux_services_close();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_devmap_parse),
      cmocka_unit_test(test_devmap_errors),
      cmocka_unit_test_setup_teardown(test_iio_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_iio_opened_early, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gpio_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_basic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_quota, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_persist_and_isolation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_quota_two_writers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_store_full, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kv_sigkill, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
