/* test_rproc.c - unit tests of src/remoteproc/rproc.c against plain files
 * laid out as the kernel's remoteproc class under a temporary root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rproc.h"
#include "util.h"

struct fixture {
  char root[64];
};

static void put(const char *root, const char *rel, const char *data, size_t len)
{
  cleanup_free char *path = xasprintf("%s/%s", root, rel);
  cleanup_free char *dir = xstrdup(path);
  *strrchr(dir, '/') = '\0';
  edgecr_error_t err = NULL;
  assert_int_equal(mkdir_p(dir, 0755, &err), 0);
  assert_int_equal(write_file_atomic(path, data, len, 0644, &err), 0);
}

static void put_str(const char *root, const char *rel, const char *text)
{
  put(root, rel, text, strlen(text));
}

static char *get(const char *root, const char *rel)
{
  cleanup_free char *path = xasprintf("%s/%s", root, rel);
  char *text = NULL;
  edgecr_error_t err = NULL;
  assert_true(read_all_file(path, &text, &err) >= 0);
  return text;
}

/* Two processors, listed out of order on purpose: remoteproc10 and 2. */
static int setup(void **state)
{
  struct fixture *f = xmalloc0(sizeof *f);
  strcpy(f->root, "/tmp/edgecr-rproc-XXXXXX");
  assert_non_null(mkdtemp(f->root));
  put_str(f->root, "sys/class/remoteproc/remoteproc10/name", "m4-fast\n");
  put_str(f->root, "sys/class/remoteproc/remoteproc10/state", "running\n");
  put_str(f->root, "sys/class/remoteproc/remoteproc10/firmware", "rproc-m4-fast-fw\n");
  put_str(f->root, "sys/class/remoteproc/remoteproc2/name", "m3\n");
  put_str(f->root, "sys/class/remoteproc/remoteproc2/state", "offline\n");
  put_str(f->root, "sys/class/remoteproc/remoteproc2/firmware", "rproc-m3-fw\n");
  put_str(f->root, "sys/class/remoteproc/not-a-proc/name", "ignored\n");
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  remove_tree(f->root, &err);
  edgecr_error_release(&err);
  free(f);
  return 0;
}

static void test_list_and_find(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  struct rproc **list = NULL;
  size_t n = 0;
  assert_int_equal(rproc_list(f->root, &list, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(list[0]->index, 2);
  assert_string_equal(list[0]->name, "m3");
  assert_int_equal(list[1]->index, 10);
  assert_null(list[2]);
  rproc_list_free(list);

  struct rproc *r = NULL;
  assert_int_equal(rproc_find(f->root, "m4-fast", &r, &err), 0);
  assert_int_equal(r->index, 10);
  cleanup_free char *want_dir = xasprintf("%s/sys/class/remoteproc/remoteproc10", f->root);
  assert_string_equal(r->dir, want_dir);
  rproc_free(r);
  /* A trailing slash on the root changes nothing. */
  cleanup_free char *slashed = xasprintf("%s/", f->root);
  assert_int_equal(rproc_find(slashed, "m3", &r, &err), 0);
  assert_int_equal(r->index, 2);
  rproc_free(r);
}

static void test_find_missing_names_the_present(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  struct rproc *r = NULL;
  assert_int_equal(rproc_find(f->root, "dsp", &r, &err), -1);
  assert_null(r);
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  assert_non_null(strstr(err->msg, "no remote processor named `dsp`"));
  assert_non_null(strstr(err->msg, "`m3`, `m4-fast`"));
  edgecr_error_release(&err);
  assert_int_equal(rproc_find("/nonexistent-root", "m3", &r, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  assert_non_null(strstr(err->msg, "/nonexistent-root/sys/class/remoteproc"));
  edgecr_error_release(&err);
}

static void test_states(void **state)
{
  struct fixture *f = *state;
  const char *names[] = {"offline", "suspended", "running", "crashed",
                         "deleted", "attached", "detached", "invalid"};
  for (int s = 0; s < 8; s++) {
    assert_int_equal(rproc_state_parse(names[s]), s);
    assert_string_equal(rproc_state_name((enum rproc_state) s), names[s]);
  }
  assert_int_equal(rproc_state_parse("running\n"), RPROC_STATE_RUNNING);
  assert_int_equal(rproc_state_parse("runnin"), RPROC_STATE_UNKNOWN);
  assert_int_equal(rproc_state_parse("running2"), RPROC_STATE_UNKNOWN);

  edgecr_error_t err = NULL;
  struct rproc *r = NULL;
  assert_int_equal(rproc_find(f->root, "m3", &r, &err), 0);
  enum rproc_state s;
  assert_int_equal(rproc_read_state(r, &s, &err), 0);
  assert_int_equal(s, RPROC_STATE_OFFLINE);
  put_str(f->root, "sys/class/remoteproc/remoteproc2/state", "exploded\n");
  assert_int_equal(rproc_read_state(r, &s, &err), -1);
  assert_non_null(strstr(err->msg, "unknown state `exploded`"));
  edgecr_error_release(&err);
  rproc_free(r);
}

static void test_writes(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  struct rproc *r = NULL;
  assert_int_equal(rproc_find(f->root, "m3", &r, &err), 0);
  assert_int_equal(rproc_set_firmware(r, "edgecr/abc.elf", &err), 0);
  cleanup_free char *fw = NULL;
  assert_int_equal(rproc_read_firmware(r, &fw, &err), 0);
  assert_string_equal(fw, "edgecr/abc.elf");
  assert_int_equal(rproc_set_firmware(r, "two\nlines", &err), -1);
  assert_int_equal(edgecr_error_errno(&err), EINVAL);
  edgecr_error_release(&err);
  assert_int_equal(rproc_start(r, &err), 0);
  cleanup_free char *st = get(f->root, "sys/class/remoteproc/remoteproc2/state");
  assert_string_equal(st, "start");
  assert_int_equal(rproc_stop(r, &err), 0);
  /* A failed write names the processor, the file and the reason. */
  cleanup_free char *attr = xasprintf("%s/state", r->dir);
  assert_int_equal(unlink(attr), 0);
  assert_int_equal(mkdir(attr, 0755), 0);
  assert_int_equal(rproc_start(r, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), EISDIR);
  assert_non_null(strstr(err->msg, "remoteproc2 (`m3`): write `start` to"));
  edgecr_error_release(&err);
  rproc_free(r);
}

static void test_errno_reasons(void **state)
{
  (void) state;
  assert_string_equal(rproc_errno_reason("state", "start", EBUSY),
                      "the processor is already running");
  assert_string_equal(rproc_errno_reason("state", "stop", EINVAL), "the processor is not running");
  assert_string_equal(rproc_errno_reason("state", "start", ENOENT),
                      "the firmware file was not found in the firmware search path");
  assert_non_null(strstr(rproc_errno_reason("state", "start", EINVAL), "rejected"));
  assert_non_null(strstr(rproc_errno_reason("firmware", "x", EBUSY), "not offline"));
  assert_non_null(strstr(rproc_errno_reason("coredump", "inline", EBUSY), "crashed"));
  assert_string_equal(rproc_errno_reason("state", "start", EIO), strerror(EIO));
}

struct flip {
  char *path;
  unsigned after_ms;
};

static void *flip_later(void *arg)
{
  struct flip *fl = arg;
  struct timespec ts = {0, (long) fl->after_ms * 1000000L};
  nanosleep(&ts, NULL);
  edgecr_error_t err = NULL;
  write_file_atomic(fl->path, "running\n", 8, 0644, &err);
  return NULL;
}

static void test_wait_state(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  struct rproc *r = NULL;
  assert_int_equal(rproc_find(f->root, "m3", &r, &err), 0);
  enum rproc_state last;
  unsigned long long t0 = now_ns();
  assert_int_equal(rproc_wait_state(r, RPROC_STATE_RUNNING, 30, &last, &err), -1);
  assert_true(now_ns() - t0 >= 30000000ULL);
  assert_int_equal(edgecr_error_errno(&err), ETIMEDOUT);
  assert_int_equal(last, RPROC_STATE_OFFLINE);
  assert_non_null(strstr(err->msg, "still `offline` after 30 ms waiting for `running`"));
  edgecr_error_release(&err);

  struct flip fl = {xasprintf("%s/state", r->dir), 20};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, flip_later, &fl), 0);
  assert_int_equal(rproc_wait_state(r, RPROC_STATE_RUNNING, 2000, &last, &err), 0);
  assert_int_equal(last, RPROC_STATE_RUNNING);
  pthread_join(t, NULL);
  free(fl.path);
  rproc_free(r);
}

static void test_model(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  char *model = NULL;
  assert_int_equal(rproc_read_model(f->root, &model, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  edgecr_error_release(&err);
  /* The sysfs copy, then /proc/device-tree which wins. */
  put(f->root, "sys/firmware/devicetree/base/model", "Board A\0", 8);
  assert_int_equal(rproc_read_model(f->root, &model, &err), 0);
  assert_string_equal(model, "Board A");
  free(model);
  put(f->root, "proc/device-tree/model", "Board B rev 2\n\0", 15);
  assert_int_equal(rproc_read_model(f->root, &model, &err), 0);
  assert_string_equal(model, "Board B rev 2");
  free(model);
}

static void test_stage_firmware(void **state)
{
  struct fixture *f = *state;
  edgecr_error_t err = NULL;
  put(f->root, "src/fw.elf", "\x7f" "ELF firmware bytes", 19);
  cleanup_free char *src = xasprintf("%s/src/fw.elf", f->root);
  cleanup_free char *a = NULL, *b = NULL;
  assert_int_equal(rproc_stage_firmware(f->root, src, "ctr-1", &a, &err), 0);
  assert_int_equal(rproc_stage_firmware(f->root, src, "ctr-1", &b, &err), 0);
  assert_true(str_has_prefix(a, "edgecr/ctr-1-") && str_has_suffix(a, ".elf"));
  assert_string_not_equal(a, b); /* unique per staging */
  cleanup_free char *rel = xasprintf("lib/firmware/%s", a);
  cleanup_free char *copy = get(f->root, rel);
  assert_memory_equal(copy, "\x7f" "ELF firmware bytes", 19);
  /* Nothing outside lib/firmware/edgecr/ was created. */
  cleanup_free char *top = xasprintf("%s/lib/firmware", f->root);
  DIR *d = opendir(top);
  assert_non_null(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                strcmp(de->d_name, "edgecr") == 0);
  closedir(d);
  assert_int_equal(rproc_unstage_firmware(f->root, a, &err), 0);
  cleanup_free char *gone = xasprintf("%s/%s", f->root, rel);
  assert_int_equal(access(gone, F_OK), -1);
  assert_int_equal(rproc_unstage_firmware(f->root, a, &err), 0); /* already gone: fine */
  assert_int_equal(rproc_unstage_firmware(f->root, b, &err), 0);

  assert_int_equal(rproc_stage_firmware(f->root, src, "../evil", &a, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), EINVAL);
  edgecr_error_release(&err);
  assert_int_equal(rproc_unstage_firmware(f->root, "edgecr/../../etc/passwd", &err), -1);
  edgecr_error_release(&err);
  assert_int_equal(rproc_unstage_firmware(f->root, "other.elf", &err), -1);
  edgecr_error_release(&err);
  cleanup_free char *missing = xasprintf("%s/src/none.elf", f->root);
  cleanup_free char *c = NULL;
  assert_int_equal(rproc_stage_firmware(f->root, missing, "x", &c, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  assert_non_null(strstr(err->msg, "none.elf"));
  edgecr_error_release(&err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_list_and_find, setup, teardown),
    cmocka_unit_test_setup_teardown(test_find_missing_names_the_present, setup, teardown),
    cmocka_unit_test_setup_teardown(test_states, setup, teardown),
    cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
    cmocka_unit_test(test_errno_reasons),
    cmocka_unit_test_setup_teardown(test_wait_state, setup, teardown),
    cmocka_unit_test_setup_teardown(test_model, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stage_firmware, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
