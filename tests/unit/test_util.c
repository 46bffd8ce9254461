/* test_util.c - unit tests for src/common: errors, atomic writes, parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

static void test_error_wrap(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  assert_int_equal(edgecr_error_make(&err, 2, "open `%s`", "x"), -1);
  edgecr_error_wrap(&err, "load bundle");
  assert_string_equal(err->msg, "load bundle: open `x`: No such file or directory");
  assert_int_equal(edgecr_error_errno(&err), 2);
  edgecr_error_release(&err);
  assert_null(err);
}

static void test_atomic_write(void **state)
{
  (void) state;
  char dir[] = "/tmp/edgecr-unit-XXXXXX";
  assert_non_null(mkdtemp(dir));
  cleanup_free char *p = xasprintf("%s/f", dir);
  edgecr_error_t err = NULL;
  assert_int_equal(write_file_atomic(p, "one", 3, 0600, &err), 0);
  assert_int_equal(write_file_atomic(p, "two!", 4, 0600, &err), 0);
  cleanup_free char *got = NULL;
  assert_int_equal(read_all_file(p, &got, &err), 4);
  assert_string_equal(got, "two!");
  assert_int_equal(remove_tree(dir, &err), 0);
  assert_int_equal(access(dir, F_OK), -1);
}

static void test_parse(void **state)
{
  (void) state;
  long long v;
  unsigned long long u;
  assert_int_equal(parse_int64("-12", &v), 0);
  assert_int_equal(v, -12);
  assert_int_equal(parse_int64("12x", &v), -1);
  assert_int_equal(parse_uint64("-1", &u), -1);
  assert_int_equal(parse_uint64("18446744073709551615", &u), 0);
  assert_true(str_has_suffix("abc.wasm", ".wasm"));
  assert_false(str_has_prefix("ab", "abc"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_wrap),
    cmocka_unit_test(test_atomic_write),
    cmocka_unit_test(test_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
