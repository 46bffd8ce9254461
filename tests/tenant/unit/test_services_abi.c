/* test_services_abi.c - the kv, sensor and GPIO service glue
 * (src/tenant/svc_{kv,sensor,gpio}.c) on the Linux adapters, called the
 * way the engine calls them (a real instance's memory holds the guest's
 * strings and buffers), through live metadata updates (tenant_ctx_update):
 * a grant works from the next call, a revoke denies from the next call on
 * handles already open, a changed kv access or quota reaches the store, and
 * a refused update changes nothing.  (`edgecr update --metadata` will drive
 * the same tenant_ctx_update in a running container.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "abi.h"
#include "tenant_services.h"
#include "util.h"

static char tmp[64];
static struct tenant_platform pf;
static struct tenant_ctx ctx;
static ew_module *mod;
static ew_instance *inst;
static int reports;

static uint64_t mono(void *p)
{
  (void) p;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void report(void *p, const char *msg)
{
  (void) p, (void) msg;
  reports++;
}

static void *a_alloc(void *c, size_t n) { (void) c; return malloc(n); }
static void *a_realloc(void *c, void *p, size_t n) { (void) c; return realloc(p, n); }
static void a_free(void *c, void *p) { (void) c; free(p); }
static const ew_allocator heap = {a_alloc, a_realloc, a_free, NULL};

/* A module with one memory page and nothing else. */
static const uint8_t module_bytes[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01};

/* Guest memory layout: strings at 0x100.., buffers at 0x800. */
static uint32_t str_at(uint32_t off, const char *s)
{
  memcpy(ew_memory_ptr(inst, off, strlen(s)), s, strlen(s));
  return off;
}

static int32_t call(const char *name, ew_value a0, ew_value a1, ew_value a2, ew_value a3, ew_value a4)
{
  const struct tenant_fn *tables[] = {tenant_fns_kv, tenant_fns_sensor, tenant_fns_gpio, tenant_fns_core};
  ew_value args[5] = {a0, a1, a2, a3, a4}, res[1] = {{0}};
  for (size_t t = 0; t < 4; t++)
    for (const struct tenant_fn *f = tables[t]; f->name != NULL; f++)
      if (strcmp(f->name, name) == 0) {
        assert_int_equal(f->fn(inst, &ctx, args, res), 0);
        return res[0].i32;
      }
  fail_msg("no function %s", name);
  return 0;
}

#define V(x) ((ew_value){.i64 = (int64_t) (x)})
#define Z V(0)

static int32_t kv_open(const char *ns) { return call("kv_open", V(str_at(0x100, ns)), V(strlen(ns)), Z, Z, Z); }
static int32_t kv_put(int32_t h, const char *k, const char *v)
{
  return call("kv_put", V(h), V(str_at(0x200, k)), V(strlen(k)), V(str_at(0x300, v)), V(strlen(v)));
}
static int32_t kv_get(int32_t h, const char *k) { return call("kv_get", V(h), V(str_at(0x200, k)), V(strlen(k)), V(0x800), V(64)); }
static int32_t kv_del(int32_t h, const char *k) { return call("kv_delete", V(h), V(str_at(0x200, k)), V(strlen(k)), Z, Z); }
static int32_t sensor_open(const char *id) { return call("sensor_open", V(str_at(0x100, id)), V(strlen(id)), Z, Z, Z); }
static int32_t sensor_read(int32_t h) { return call("sensor_read", V(h), V(0x808), Z, Z, Z); }
static int32_t gpio_open(const char *l, int dir) { return call("gpio_open", V(str_at(0x100, l)), V(strlen(l)), V(dir), Z, Z); }

static double sensor_value(void)
{
  const uint8_t *b = ew_memory_ptr(inst, 0x808, 8);
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--)
    u = u << 8 | b[i];
  union { uint64_t u; double d; } x = {.u = u};
  return x.d;
}

static void put_file(const char *rel, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp, rel);
  char *dir = xstrdup(path);
  *strrchr(dir, '/') = '\0';
  edgecr_error_t err = NULL;
  assert_int_equal(mkdir_p(dir, 0755, &err), 0);
  free(dir);
  assert_int_equal(write_file_atomic(path, text, strlen(text), 0644, &err), 0);
}

static void base_meta(struct tenant_meta *m, uint64_t version)
{
  memset(m, 0, sizeof *m);
  m->format = TENANT_META_FORMAT;
  snprintf(m->id, sizeof m->id, "live");
  m->type = TENANT_TYPE_WASM;
  m->version = version;
  m->expires = 4102444800u;
}

static void grant_kv(struct tenant_meta *m, enum tenant_kv_access a, uint64_t quota)
{
  m->perms.granted |= 1u << TENANT_SVC_KV;
  m->perms.n_kv = 1;
  snprintf(m->perms.kv[0].ns, TENANT_NAME_MAX, "state");
  m->perms.kv[0].access = a;
  m->perms.kv[0].quota = quota;
}

static void grant_sensor(struct tenant_meta *m)
{
  m->perms.granted |= 1u << TENANT_SVC_SENSOR;
  m->perms.n_sensors = 1;
  snprintf(m->perms.sensors[0], TENANT_NAME_MAX, "temp0");
}

static void grant_gpio(struct tenant_meta *m, enum tenant_gpio_dir d)
{
  m->perms.granted |= 1u << TENANT_SVC_GPIO;
  m->perms.n_gpio = 1;
  snprintf(m->perms.gpio[0].line, TENANT_NAME_MAX, "led0");
  m->perms.gpio[0].dir = d;
}

static void update(const struct tenant_meta *m)
{
  struct tenant_err e;
  if (tenant_ctx_update(&ctx, m, &e) < 0)
    fail_msg("update: %s: %s", e.path, e.reason);
}

static int setup(void **state)
{
  (void) state;
  snprintf(tmp, sizeof tmp, "/tmp/edgecr-tsabi-XXXXXX");
  assert_non_null(mkdtemp(tmp));
  put_file("iio/iio:device0/in_temp_raw", "21500\n");
  put_file("iio/iio:device0/in_temp_scale", "0.001\n");
  char json[512], map[128], kv[128];
  snprintf(json, sizeof json, "{\"iio-root\": \"%s/iio\", \"sensors\": {\"temp0\": {\"device\": \"iio:device0\", "
           "\"channel\": \"temp\"}}, \"gpio\": {\"led0\": {\"chip\": \"%s/none\", \"offset\": 0}}}", tmp, tmp);
  put_file("devices.json", json);
  snprintf(map, sizeof map, "%s/devices.json", tmp);
  snprintf(kv, sizeof kv, "%s/kv", tmp);
  struct tenant_services_cfg cfg = {.kv_root = kv, .tenant_id = "live", .device_map = map, .kv_map_size = 8 << 20};
  edgecr_error_t err = NULL;
  if (tenant_linux_services_open(&cfg, &err) < 0)
    fail_msg("%s", err->msg);
  pf = (struct tenant_platform){.now_ns = mono, .report = report};
  tenant_linux_kv_ops(&pf);
  tenant_linux_iio_ops(&pf);
  tenant_linux_gpio_ops(&pf);
  mod = ew_module_new(&heap, module_bytes, sizeof module_bytes, NULL);
  assert_non_null(mod);
  ew_instance_config ic = {0};
  inst = ew_instance_new(mod, &heap, &ic, NULL);
  assert_non_null(inst);
  return 0;
}

static int teardown(void **state)
{
  (void) state;
  tenant_ctx_close(&ctx);
  ew_instance_free(inst);
  ew_module_free(mod);
  tenant_linux_services_close();
  edgecr_error_t err = NULL;
  remove_tree(tmp, &err);
  edgecr_error_release(&err);
  return 0;
}

static void test_grant_and_revoke_live(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  grant_kv(&m, TENANT_KV_READ_WRITE, 100);
  tenant_ctx_init(&ctx, &pf, NULL, &m);

  /* v1: kv read-write; no sensors, no GPIO */
  int32_t kh = kv_open("state");
  assert_true(kh >= 0);
  assert_int_equal(kv_put(kh, "k", "v1"), EDGECR_OK);
  assert_int_equal(sensor_open("temp0"), EDGECR_EDENIED);
  assert_int_equal(gpio_open("led0", EDGECR_GPIO_OUT), EDGECR_EDENIED);
  assert_int_equal(ctx.stats->svc[TENANT_SVC_SENSOR].denied, 1);
  assert_int_equal(ctx.stats->svc[TENANT_SVC_GPIO].denied, 1);

  /* v2: kv becomes read-only, the sensor and the line (input) are granted */
  base_meta(&m, 2);
  grant_kv(&m, TENANT_KV_READ, 100);
  grant_sensor(&m);
  grant_gpio(&m, TENANT_GPIO_IN);
  update(&m);
  assert_int_equal(kv_put(kh, "k", "v2"), EDGECR_EDENIED);      /* the open handle lost WRITE */
  assert_int_equal(kv_del(kh, "k"), EDGECR_EDENIED);
  assert_int_equal(kv_get(kh, "k"), 2);
  assert_memory_equal(ew_memory_ptr(inst, 0x800, 2), "v1", 2);
  int32_t sh = sensor_open("temp0");
  assert_true(sh >= 0);
  assert_int_equal(sensor_read(sh), EDGECR_OK);
  assert_true(sensor_value() > 21.4999 && sensor_value() < 21.5001);
  assert_int_equal(gpio_open("led0", EDGECR_GPIO_OUT), EDGECR_EDENIED);   /* granted as input only */
  assert_int_equal(gpio_open("led0", EDGECR_GPIO_IN), EDGECR_EIO);        /* allowed: reaches the (absent) chip */

  /* v3: everything revoked: open handles are denied from the next call */
  base_meta(&m, 3);
  update(&m);
  assert_int_equal(kv_get(kh, "k"), EDGECR_EDENIED);
  assert_int_equal(sensor_read(sh), EDGECR_EDENIED);
  assert_int_equal(kv_open("state"), EDGECR_EDENIED);
  uint64_t denied = ctx.stats->svc[TENANT_SVC_KV].denied;
  assert_int_equal(denied, 4);   /* v2: put, delete; v3: get, open */
  assert_true(reports >= 1);

  /* v4: kv granted again with a quota below what it holds: the same handle
   * works again, growing is refused, shrinking is allowed */
  base_meta(&m, 4);
  grant_kv(&m, TENANT_KV_READ_WRITE, 3);
  update(&m);
  assert_int_equal(kv_get(kh, "k"), 2);
  assert_int_equal(kv_put(kh, "k", "v44"), EDGECR_EQUOTA);           /* 1 + 3 > 3 */
  assert_int_equal(kv_put(kh, "k", "v"), EDGECR_OK);                  /* 2: fits */
  assert_int_equal(kv_put(kh, "j", "x"), EDGECR_EQUOTA);              /* 2 + 2 > 3 */
  assert_int_equal(ctx.stats->svc[TENANT_SVC_KV].errors, 2);
  assert_int_equal(sensor_read(sh), EDGECR_EDENIED);                  /* still revoked */

  /* a refused update (not a higher version) changes nothing */
  struct tenant_meta old;
  base_meta(&old, 4);
  grant_sensor(&old);
  struct tenant_err e;
  assert_int_equal(tenant_ctx_update(&ctx, &old, &e), -1);
  assert_string_equal(e.path, "version");
  assert_int_equal(sensor_read(sh), EDGECR_EDENIED);
  assert_int_equal(kv_put(kh, "k", "w"), EDGECR_OK);
}

static void test_bad_arguments(void **state)
{
  (void) state;
  struct tenant_meta m;
  base_meta(&m, 1);
  grant_kv(&m, TENANT_KV_READ_WRITE, 1000);
  grant_sensor(&m);
  tenant_ctx_init(&ctx, &pf, NULL, &m);
  int32_t kh = kv_open("state");
  assert_true(kh >= 0);
  /* outside memory, empty and too long keys, too large value */
  assert_int_equal(call("kv_get", V(kh), V(0x10000 - 2), V(4), V(0x800), V(8)), EDGECR_EINVAL);
  assert_int_equal(call("kv_get", V(kh), V(0x200), V(1), V(0xfff0), V(64)), EDGECR_EINVAL);
  assert_int_equal(call("kv_get", V(kh), V(0x200), V(0), V(0x800), V(8)), EDGECR_EINVAL);
  assert_int_equal(call("kv_put", V(kh), V(0x200), V(TENANT_KV_KEY_MAX + 1), V(0x800), V(1)), EDGECR_E2BIG);
  assert_int_equal(call("kv_put", V(kh), V(0x200), V(1), V(0), V(TENANT_KV_VALUE_MAX + 1)), EDGECR_E2BIG);
  assert_int_equal(call("kv_open", V(0xfffff), V(3), Z, Z, Z), EDGECR_EINVAL);
  /* a kv handle is not a sensor handle, and the reverse */
  assert_int_equal(sensor_read(kh), EDGECR_EBADH);
  int32_t sh = sensor_open("temp0");
  assert_int_equal(kv_get(sh, "k"), EDGECR_EBADH);
  assert_int_equal(call("sensor_read", V(sh), V(0xfffc), Z, Z, Z), EDGECR_EINVAL);
  /* close, then the handle is gone */
  assert_int_equal(call("close", V(sh), Z, Z, Z, Z), EDGECR_OK);
  assert_int_equal(sensor_read(sh), EDGECR_EBADH);
  /* a cap of 0 asks for the length only */
  assert_int_equal(kv_put(kh, "k", "12345"), EDGECR_OK);
  assert_int_equal(call("kv_get", V(kh), V(str_at(0x200, "k")), V(1), V(0x800), V(0)), 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_grant_and_revoke_live, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
