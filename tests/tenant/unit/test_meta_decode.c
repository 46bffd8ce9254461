/* test_meta_decode.c - cmocka tests of the tenant core: the strict CBOR
 * decoder of the metadata (every refusal names the field path and the
 * reason), the deterministic encoder, and the COSE_Sign1 envelope parser.
 * Inputs are built with the core's own tcbor writer, byte by byte where
 * the point is malformed CBOR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "meta.h"
#include "tcbor.h"

static uint8_t buf[8192];

/* The required fields; `extra` more pairs follow (written by the caller). */
static void put_base(struct tcbor_writer *w, size_t extra)
{
  static const uint8_t digest[32] = {1, 2, 3};
  tcbor_put_map(w, 7 + extra);
  tcbor_put_text(w, "format");
  tcbor_put_uint(w, 1);
  tcbor_put_text(w, "id");
  tcbor_put_text(w, "tenant-a");
  tcbor_put_text(w, "type");
  tcbor_put_text(w, "wasm");
  tcbor_put_text(w, "module");
  tcbor_put_bytes(w, digest, sizeof digest);
  tcbor_put_text(w, "version");
  tcbor_put_uint(w, 3);
  tcbor_put_text(w, "expires");
  tcbor_put_uint(w, 2000000000);
  tcbor_put_text(w, "kid");
  tcbor_put_text(w, "vendor");
}

static struct tenant_meta full_model(void)
{
  struct tenant_meta m;
  memset(&m, 0, sizeof m);
  m.format = 1;
  strcpy(m.id, "tenant-a");
  m.type = TENANT_TYPE_WASM;
  memset(m.module_sha256, 0xab, sizeof m.module_sha256);
  m.version = 7;
  m.expires = 2000000000;
  strcpy(m.kid, "vendor");
  m.has_schedule = true;
  m.schedule = (struct tenant_schedule){.priority = 50, .period_ns = 10000000, .budget_ns = 1000000,
                                        .deadline_ns = 5000000, .start_limit_ns = 1000000000,
                                        .stop_limit_ns = 2000000000};
  struct tenant_permissions *p = &m.perms;
  p->granted = (1u << TENANT_SVC_COUNT) - 1;
  p->log_rate = 10;
  p->n_kv = 2;
  strcpy(p->kv[0].ns, "config");
  p->kv[0].access = TENANT_KV_READ;
  strcpy(p->kv[1].ns, "state");
  p->kv[1].access = TENANT_KV_READ_WRITE;
  p->kv[1].quota = 65536;
  p->n_sensors = 1;
  strcpy(p->sensors[0], "temp0");
  p->n_gpio = 2;
  strcpy(p->gpio[0].line, "button");
  p->gpio[0].dir = TENANT_GPIO_IN;
  strcpy(p->gpio[1].line, "led0");
  p->gpio[1].dir = TENANT_GPIO_OUT;
  p->infer_model_size = 262144;
  p->infer_compute_ns = 20000000;
  p->n_channels = 1;
  strcpy(p->channels[0].name, "readings");
  p->channels[0].access = TENANT_CHAN_SEND | TENANT_CHAN_RECEIVE;
  m.n_endpoints = 1;
  strcpy(m.endpoints[0].name, "upstream");
  m.endpoints[0].kind = TENANT_EP_PEER;
  strcpy(m.endpoints[0].target, "aggregator");
  m.has_security = true;
  m.lifetime_s = 86400;
  return m;
}

/* Decode w's bytes; expect a refusal at `path` whose reason contains `why`. */
static void expect_refused(const uint8_t *data, size_t len, const char *path, const char *why)
{
  struct tenant_meta m;
  struct tenant_err e = {{0}, {0}};
  int rc = tenant_meta_decode(data, len, &m, &e);
  if (rc == 0 || strcmp(e.path, path) != 0 || strstr(e.reason, why) == NULL)
    fail_msg("expected refusal at `%s` (%s), got rc %d at `%s`: %s", path, why, rc, e.path, e.reason);
}

static void test_roundtrip(void **state)
{
  (void) state;
  struct tenant_meta m = full_model(), back;
  size_t n = tenant_meta_encode(&m, buf, sizeof buf);
  assert_true(n < sizeof buf);
  struct tenant_err e;
  assert_int_equal(tenant_meta_decode(buf, n, &back, &e), 0);
  assert_memory_equal(&m, &back, sizeof m);
  uint8_t again[8192];
  assert_int_equal(tenant_meta_encode(&back, again, sizeof again), n);
  assert_memory_equal(buf, again, n);
  /* Too small a buffer: the size needed comes back, nothing is overrun. */
  uint8_t tiny[16];
  assert_int_equal(tenant_meta_encode(&m, tiny, sizeof tiny), n);
}

static void test_minimal_and_base(void **state)
{
  (void) state;
  struct tcbor_writer w;
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 0);
  struct tenant_meta m;
  struct tenant_err e;
  assert_int_equal(tenant_meta_decode(buf, w.len, &m, &e), 0);
  assert_string_equal(m.id, "tenant-a");
  assert_int_equal(m.version, 3);
  assert_int_equal(m.perms.granted, 0);
  assert_false(m.has_schedule);
}

static void test_wrong_types(void **state)
{
  (void) state;
  struct tcbor_writer w;
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "schedule");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "period");
  tcbor_put_text(&w, "10ms");
  expect_refused(buf, w.len, "schedule.period", "expected an unsigned integer, found a text string");

  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "permissions");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "kv");
  tcbor_put_array(&w, 1);
  tcbor_put_map(&w, 3);
  tcbor_put_text(&w, "namespace");
  tcbor_put_text(&w, "cfg");
  tcbor_put_text(&w, "access");
  tcbor_put_text(&w, "write-only");
  expect_refused(buf, w.len, "permissions.kv[0].access", "unknown value `write-only`");

  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_array(&w, 1);
  tcbor_put_uint(&w, 1);
  expect_refused(buf, w.len, "(top level)", "expected a map, found an array");

  /* Integer keys are not the metadata's form. */
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_uint(&w, 1);
  tcbor_put_uint(&w, 1);
  expect_refused(buf, w.len, "(top level)", "map keys must be text strings");

  /* A digest of the wrong size, a name with a slash, a priority above 99. */
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "module");
  tcbor_put_bytes(&w, "abc", 3);
  expect_refused(buf, w.len, "module", "a SHA-256 digest is 32 bytes, found 3");
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "id");
  tcbor_put_text(&w, "../etc");
  expect_refused(buf, w.len, "id", "not a valid name");
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "schedule");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "priority");
  tcbor_put_uint(&w, 100);
  expect_refused(buf, w.len, "schedule.priority", "too large");
}

static void test_unknown_duplicate_missing(void **state)
{
  (void) state;
  struct tcbor_writer w;
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "permisions");
  tcbor_put_map(&w, 0);
  expect_refused(buf, w.len, "permisions", "unknown field");

  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "permissions");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "gpio");
  tcbor_put_array(&w, 1);
  tcbor_put_map(&w, 3);
  tcbor_put_text(&w, "line");
  tcbor_put_text(&w, "led");
  tcbor_put_text(&w, "direction");
  tcbor_put_text(&w, "out");
  tcbor_put_text(&w, "pull");
  tcbor_put_text(&w, "up");
  expect_refused(buf, w.len, "permissions.gpio[0].pull", "unknown field");

  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "version");
  tcbor_put_uint(&w, 9);
  expect_refused(buf, w.len, "version", "duplicate key");

  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "format");
  tcbor_put_uint(&w, 1);
  expect_refused(buf, w.len, "id", "missing required field");

  /* The same resource granted twice. */
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "permissions");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "sensor");
  tcbor_put_array(&w, 2);
  tcbor_put_text(&w, "temp0");
  tcbor_put_text(&w, "temp0");
  expect_refused(buf, w.len, "permissions.sensor[1]", "already listed at permissions.sensor[0]");
}

static void test_truncation_every_prefix(void **state)
{
  (void) state;
  struct tenant_meta m = full_model(), out;
  size_t n = tenant_meta_encode(&m, buf, sizeof buf);
  for (size_t cut = 0; cut < n; cut++) {
    struct tenant_err e = {{0}, {0}};
    assert_int_equal(tenant_meta_decode(buf, cut, &out, &e), -1);
    /* Cut between two items the decoder finds a missing field; inside one, truncation. */
    assert_true(strstr(e.reason, "truncated") != NULL || strstr(e.reason, "missing") != NULL);
    assert_true(e.path[0] != '\0');
  }
  struct tenant_err e;
  expect_refused(buf, 0, "(top level)", "truncated");
  buf[n] = 0x00;
  assert_int_equal(tenant_meta_decode(buf, n + 1, &out, &e), -1);
  assert_non_null(strstr(e.reason, "trailing bytes"));
}

static void test_deep_nesting(void **state)
{
  (void) state;
  /* 60000 nested arrays where a rate belongs: refused at that field,
   * without descending (a recursive decoder would overflow its stack). */
  static uint8_t deep[200000];
  struct tcbor_writer w;
  tcbor_writer_init(&w, deep, sizeof deep);
  put_base(&w, 1);
  tcbor_put_text(&w, "permissions");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "log");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "rate");
  for (int i = 0; i < 60000; i++)
    tcbor_put_array(&w, 1);
  tcbor_put_uint(&w, 1);
  assert_false(w.overflow);
  expect_refused(deep, w.len, "permissions.log.rate", "expected an unsigned integer, found an array");
}

static void test_huge_lengths(void **state)
{
  (void) state;
  struct tcbor_writer w;
  /* An array claiming 2^63 entries: refused on its count, nothing allocated. */
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "endpoints");
  tcbor_put_array(&w, (size_t) 1 << 62);
  expect_refused(buf, w.len, "endpoints", "too many entries");
  /* A text string claiming 2^64-1 bytes: truncated, not read past the end. */
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "id");
  size_t at = w.len;
  buf[at] = 0x7b; /* text, 8-byte length */
  memset(buf + at + 1, 0xff, 8);
  expect_refused(buf, at + 9, "id", "truncated");
  /* A map claiming 2^64-1 pairs ends in truncation too. */
  buf[0] = 0xbb;
  memset(buf + 1, 0xff, 8);
  expect_refused(buf, 9, "(top level)", "truncated");
  /* 17 kv grants where 16 fit. */
  tcbor_writer_init(&w, buf, sizeof buf);
  put_base(&w, 1);
  tcbor_put_text(&w, "permissions");
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "kv");
  tcbor_put_array(&w, TENANT_MAX_KV + 1);
  expect_refused(buf, w.len, "permissions.kv", "too many entries (17, at most 16)");
}

static void test_non_deterministic_items(void **state)
{
  (void) state;
  /* Indefinite-length map, float, tag: not in the metadata's form. */
  const uint8_t indef[] = {0xbf, 0xff};
  expect_refused(indef, sizeof indef, "(top level)", "expected a map, found a float, undefined or indefinite");
  struct tcbor_writer w;
  tcbor_writer_init(&w, buf, sizeof buf);
  tcbor_put_map(&w, 1);
  tcbor_put_text(&w, "version");
  size_t at = w.len;
  buf[at] = 0xfb; /* float64 */
  memset(buf + at + 1, 0, 8);
  expect_refused(buf, at + 9, "version", "expected an unsigned integer, found a float");
  const uint8_t reserved[] = {0xa1, 0x62, 'i', 'd', 0x1c};
  expect_refused(reserved, sizeof reserved, "id", "malformed CBOR");
}

static void test_schedule_rules(void **state)
{
  (void) state;
  struct tenant_meta m = full_model();
  struct tenant_err e;
  m.schedule.budget_ns = m.schedule.period_ns + 1;
  assert_int_equal(tenant_meta_check(&m, &e), -1);
  assert_string_equal(e.path, "schedule.budget");
  m = full_model();
  m.schedule.period_ns = 0;
  assert_int_equal(tenant_meta_check(&m, &e), -1);
  assert_non_null(strstr(e.reason, "needs a period"));
  m = full_model();
  m.format = 2;
  assert_int_equal(tenant_meta_check(&m, &e), -1);
  assert_string_equal(e.path, "format");
}

/* ---- COSE_Sign1 envelope ---- */

static size_t make_cose(uint8_t *out, size_t cap, bool tagged, int alg, const char *kid, size_t sig_len)
{
  static const uint8_t payload[] = {0xa0}, sig[80];
  uint8_t prot[16];
  struct tcbor_writer pw;
  tcbor_writer_init(&pw, prot, sizeof prot);
  tcbor_put_map(&pw, 1);
  tcbor_put_uint(&pw, 1);
  tcbor_put_negint(&pw, (uint64_t) (-1 - alg));
  struct tcbor_writer w;
  tcbor_writer_init(&w, out, cap);
  if (tagged)
    tcbor_put_tag(&w, 18);
  tcbor_put_array(&w, 4);
  tcbor_put_bytes(&w, prot, pw.len);
  tcbor_put_map(&w, kid ? 1 : 0);
  if (kid) {
    tcbor_put_uint(&w, 4);
    tcbor_put_bytes(&w, kid, strlen(kid));
  }
  tcbor_put_bytes(&w, payload, sizeof payload);
  tcbor_put_bytes(&w, sig, sig_len);
  return w.len;
}

static void test_cose_envelope(void **state)
{
  (void) state;
  struct tenant_cose c;
  struct tenant_err e;
  size_t n = make_cose(buf, sizeof buf, true, -8, "vendor", 64);
  assert_int_equal(tenant_form_of(buf, n), TENANT_FORM_SIGN1);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), 0);
  assert_string_equal(c.kid, "vendor");
  assert_int_equal(c.payload_len, 1);
  /* Our own encoder writes the same structure back. */
  uint8_t again[256];
  size_t m = tenant_cose_encode(&c, again, sizeof again);
  assert_int_equal(m, n);
  assert_memory_equal(again, buf, n);

  n = make_cose(buf, sizeof buf, false, -8, "vendor", 64);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), 0);
  n = make_cose(buf, sizeof buf, true, -7, "vendor", 64);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), -1);
  assert_string_equal(e.path, "COSE_Sign1.protected");
  assert_non_null(strstr(e.reason, "not EdDSA"));
  n = make_cose(buf, sizeof buf, true, -8, NULL, 64);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), -1);
  assert_non_null(strstr(e.reason, "key id"));
  n = make_cose(buf, sizeof buf, true, -8, "a/b", 64);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), -1);
  assert_string_equal(e.path, "COSE_Sign1.unprotected.kid");
  n = make_cose(buf, sizeof buf, true, -8, "vendor", 63);
  assert_int_equal(tenant_cose_decode(buf, n, &c, &e), -1);
  assert_string_equal(e.path, "COSE_Sign1.signature");
  n = make_cose(buf, sizeof buf, true, -8, "vendor", 64);
  for (size_t cut = 0; cut < n; cut++)
    assert_int_equal(tenant_cose_decode(buf, cut, &c, &e), -1);
  const uint8_t plain[] = {0xa0};
  assert_int_equal(tenant_form_of(plain, 1), TENANT_FORM_PLAIN);
}

static void test_sig_structure(void **state)
{
  (void) state;
  /* RFC 9052 §4.4 for protected {1:-8}, empty aad, payload h'a0'. */
  uint8_t prot[8];
  size_t pl = tenant_cose_protected(prot, sizeof prot);
  const uint8_t want_prot[] = {0xa1, 0x01, 0x27};
  assert_int_equal(pl, sizeof want_prot);
  assert_memory_equal(prot, want_prot, pl);
  const uint8_t payload[] = {0xa0};
  uint8_t tbs[64];
  size_t n = tenant_cose_tbs(prot, pl, payload, 1, tbs, sizeof tbs);
  const uint8_t want[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1',
                          0x43, 0xa1, 0x01, 0x27, 0x40, 0x41, 0xa0};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(tbs, want, n);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_minimal_and_base),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_unknown_duplicate_missing),
    cmocka_unit_test(test_truncation_every_prefix),
    cmocka_unit_test(test_deep_nesting),
    cmocka_unit_test(test_huge_lengths),
    cmocka_unit_test(test_non_deterministic_items),
    cmocka_unit_test(test_schedule_rules),
    cmocka_unit_test(test_cose_envelope),
    cmocka_unit_test(test_sig_structure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
