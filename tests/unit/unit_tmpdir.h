/* unit_tmpdir.h - scratch directories for unit tests (include after
 * cmocka.h and util.h): make_tmpdir() creates /tmp/edgecr-unit-<tag>-XXXXXX,
 * rm_tmpdir() removes it with everything below. */
#ifndef EDGECR_UNIT_TMPDIR_H
#define EDGECR_UNIT_TMPDIR_H

static inline char *make_tmpdir_tagged(const char *tag)
{
  char *dir = xasprintf("/tmp/edgecr-unit-%s-XXXXXX", tag);
  assert_non_null(mkdtemp(dir));
  return dir;
}

static inline void rm_tmpdir(const char *dir)
{
  edgecr_error_t err = NULL;
  assert_int_equal(remove_tree(dir, &err), 0);
}

#endif
