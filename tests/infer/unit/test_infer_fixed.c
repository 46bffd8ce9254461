/* test_infer_fixed.c - cmocka tests of the inference library's fixed-point
 * arithmetic (TFLite's SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
 * QuantizeMultiplier, half-away rounding) at its edges, and of the API's
 * argument checks (model alignment, tiny arenas, an arena at an odd address). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_srdhm(void **state) {
  (void)state;
  assert_int_equal(ei_srdhm(INT32_MIN, INT32_MIN), INT32_MAX); /* the one saturating case */
  assert_int_equal(ei_srdhm(1 << 30, 1 << 30), 1 << 29);        /* 2^29 + 0.5 truncates */
  assert_int_equal(ei_srdhm(-(1 << 30), 1 << 30), -(1 << 29));
  assert_int_equal(ei_srdhm(3, 1 << 30), 2);                    /* 1.5 rounds up */
  assert_int_equal(ei_srdhm(-3, 1 << 30), -1); /* -1.5: the negative nudge is 1 - 2^30, toward 0 */
  assert_int_equal(ei_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1);
}

static void test_rdivpot(void **state) {
  (void)state;
  assert_int_equal(ei_rdivpot(5, 1), 3);   /* 2.5 -> 3 */
  assert_int_equal(ei_rdivpot(-5, 1), -3); /* -2.5 -> -3: half away from zero */
  assert_int_equal(ei_rdivpot(-4, 1), -2);
  assert_int_equal(ei_rdivpot(7, 2), 2);
  assert_int_equal(ei_rdivpot(-6, 2), -2); /* -1.5 -> -2 */
  assert_int_equal(ei_rdivpot(-5, 2), -1); /* -1.25 -> -1 */
  assert_int_equal(ei_rdivpot(INT32_MIN, 31), -1);
  assert_int_equal(ei_rdivpot(INT32_MAX, 31), 1);
  assert_int_equal(ei_rdivpot(123, 0), 123);
}

static void test_quantize_multiplier(void **state) {
  (void)state;
  int32_t m, s;
  assert_int_equal(ei_quantize_multiplier(0.5, &m, &s), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(s, 0);
  assert_int_equal(ei_quantize_multiplier(1.0, &m, &s), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(s, 1);
  assert_int_equal(ei_quantize_multiplier(0.75, &m, &s), 0);
  assert_int_equal(m, 0x60000000);
  /* q rounds up to 2^31: halved, shift + 1 */
  assert_int_equal(ei_quantize_multiplier(0.99999999999, &m, &s), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(s, 1);
  assert_int_equal(ei_quantize_multiplier(0x1p-40, &m, &s), 0); /* below 2^-31: zero */
  assert_int_equal(m, 0);
  assert_int_equal(s, 0);
  assert_int_equal(ei_quantize_multiplier(3e9, &m, &s), -1);
  assert_int_equal(ei_quantize_multiplier(0.0, &m, &s), -1);
  assert_int_equal(ei_quantize_multiplier(-1.0, &m, &s), -1);
  assert_int_equal(ei_mul_qm(100, 1 << 30, 0), 50);
  assert_int_equal(ei_mul_qm(3, 1 << 30, 2), 6); /* x * 0.5 * 4 */
}

static void test_roundf(void **state) {
  (void)state;
  assert_int_equal(ei_roundf(2.5f), 3);
  assert_int_equal(ei_roundf(-2.5f), -3);
  assert_int_equal(ei_roundf(2.4999998f), 2);
  assert_int_equal(ei_roundf(1e10f), INT32_MAX);
  assert_int_equal(ei_roundf(-1e10f), INT32_MIN);
  float nan = __builtin_nanf("");
  assert_int_equal(ei_roundf(nan), INT32_MIN);
}

static void test_api_arguments(void **state) {
  (void)state;
  static uint32_t model_words[16];
  static uint8_t arena[4096 + 1];
  ei_plan *p;
  ei_error err;
  /* a misaligned model is refused, not read */
  assert_int_equal(ei_plan_build((const uint8_t *)model_words + 1, 16, arena, sizeof arena, &p, &err), EI_E_ARG);
  assert_non_null(strstr(err.msg, "4-byte aligned"));
  /* an arena that cannot hold the plan header */
  assert_int_equal(ei_plan_build((const uint8_t *)model_words, 16, arena, 8, &p, &err), EI_E_ARENA);
  /* an arena at an odd address is aligned inside; the empty model is truncated */
  assert_int_equal(ei_plan_build((const uint8_t *)model_words, 0, arena + 1, 4096, &p, &err), EI_E_TRUNCATED);
  assert_int_equal(err.op, -1);
  assert_non_null(strstr(err.msg, "bad root table"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_srdhm), cmocka_unit_test(test_rdivpot),
      cmocka_unit_test(test_quantize_multiplier), cmocka_unit_test(test_roundf),
      cmocka_unit_test(test_api_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
