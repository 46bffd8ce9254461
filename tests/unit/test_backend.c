/* test_backend.c - unit tests for src/oci/backend.c, the backend registry:
 * the backends linked into the runtime registered themselves, in claim
 * order; selection asks them in that order and the org.edgecr.backend
 * annotation overrides it (unknown names are errors naming the field);
 * backend_for_each_container visits only the backend's other containers;
 * backend_lock excludes a second holder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "error.h"
#include "state.h"
#include "util.h"

static char *tmpdir;

static struct oci_config *parse(const char *annotations, const char *arg0)
{
  cleanup_free char *text = xasprintf("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"%s\"},"
                                      "\"process\":{\"args\":[\"%s\"],\"cwd\":\"/\"},"
                                      "\"annotations\":%s}", tmpdir, arg0, annotations);
  struct oci_config *c = NULL;
  edgecr_error_t err = NULL;
  if (oci_config_parse(tmpdir, "config.json", text, &c, &err) < 0)
    fail_msg("parse: %s", err->msg);
  return c;
}

static const char *selected(const char *annotations, const char *arg0)
{
  struct oci_config *c = parse(annotations, arg0);
  const struct backend_ops *ops = NULL;
  edgecr_error_t err = NULL;
  int r = backend_select(c, &ops, &err);
  oci_config_free(c);
  edgecr_error_release(&err);
  return r == 0 ? ops->name : NULL;
}

static void test_registered_in_claim_order(void **state)
{
  (void) state;
  assert_int_equal(backend_count(), 3);
  assert_string_equal(backend_at(0)->name, "remoteproc");
  assert_string_equal(backend_at(1)->name, "wasm");
  assert_string_equal(backend_at(2)->name, "linux");
  for (size_t i = 1; i < backend_count(); i++)
    assert_true(backend_at(i - 1)->order <= backend_at(i)->order);
  assert_null(backend_at(3));
  assert_ptr_equal(backend_named("wasm"), backend_at(1));
  assert_null(backend_named("nope"));
  assert_null(backend_named(NULL)); /* no default hidden behind a NULL name */
}

static void test_selection(void **state)
{
  (void) state;
  /* a file with the WebAssembly magic as the entrypoint */
  cleanup_free char *mod = xasprintf("%s/m.wasm", tmpdir);
  FILE *f = fopen(mod, "wb");
  fwrite("\0asm\1\0\0\0", 1, 8, f);
  fclose(f);
  assert_string_equal(selected("{}", "/bin/true"), "linux");
  assert_string_equal(selected("{}", "/m.wasm"), "wasm");
  assert_string_equal(selected("{\"module.wasm.image/variant\":\"compat-smart\"}", "/bin/true"), "linux");
  assert_string_equal(selected("{\"run.oci.handler\":\"wasm\"}", "/bin/true"), "wasm");
  assert_string_equal(selected("{\"module.wasm.image/variant\":\"compat\"}", "/bin/true"), "wasm");
  assert_string_equal(selected("{\"remoteproc.name\":\"cm3\"}", "/m.wasm"), "remoteproc");
  assert_string_equal(selected("{\"org.edgecr.backend\":\"linux\"}", "/m.wasm"), "linux");
  /* a symlink that points out of the rootfs stays inside it */
  cleanup_free char *link = xasprintf("%s/escape", tmpdir);
  assert_int_equal(symlink("/../../m.wasm", link), 0);
  assert_string_equal(selected("{}", "/escape"), "wasm");

  struct oci_config *c = parse("{\"org.edgecr.backend\":\"quantum\"}", "/bin/true");
  const struct backend_ops *ops = NULL;
  edgecr_error_t err = NULL;
  assert_int_equal(backend_select(c, &ops, &err), -1);
  assert_non_null(strstr(err->msg, "annotations.org.edgecr.backend"));
  assert_non_null(strstr(err->msg, "unknown backend `quantum`"));
  assert_non_null(strstr(err->msg, "remoteproc, wasm, linux"));
  edgecr_error_release(&err);
  oci_config_free(c);
}

static void write_state(const char *id, const char *backend)
{
  cleanup_free char *dir = xasprintf("%s/state/%s", tmpdir, id);
  edgecr_error_t err = NULL;
  assert_int_equal(mkdir_p(dir, 0700, &err), 0);
  struct container_state s = {.id = (char *) id, .backend = (char *) backend, .phase = "created"};
  assert_int_equal(state_save(dir, &s, &err), 0);
}

static int collect(struct container *other, void *data)
{
  char *seen = data;
  strcat(seen, other->id);
  strcat(seen, ";");
  assert_string_equal(other->ops->name, "remoteproc");
  return 0;
}

static void test_for_each_and_lock(void **state)
{
  (void) state;
  write_state("a", "remoteproc");
  write_state("b", "linux");
  write_state("c", "remoteproc");
  write_state("self", "remoteproc");
  cleanup_free char *root = xasprintf("%s/state", tmpdir);
  struct container self = {.state_root = root, .id = "self", .lock_fd = -1, .ops = backend_named("remoteproc")};
  char seen[64] = "";
  assert_int_equal(backend_for_each_container(&self, collect, seen), 0);
  /* readdir order: both, not b (other backend), not self */
  assert_true(strcmp(seen, "a;c;") == 0 || strcmp(seen, "c;a;") == 0);

  int fd = -1;
  edgecr_error_t err = NULL;
  assert_int_equal(backend_lock(&self, &fd, &err), 0);
  cleanup_free char *lock = xasprintf("%s/.remoteproc.lock", root);
  int other = open(lock, O_RDWR | O_CLOEXEC);
  assert_true(other >= 0);
  assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
  close(fd);
  assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
  close(other);
}

int main(void)
{
  char tmpl[] = "/tmp/edgecr-test-backend-XXXXXX";
  tmpdir = mkdtemp(tmpl);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registered_in_claim_order),
    cmocka_unit_test(test_selection),
    cmocka_unit_test(test_for_each_and_lock),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  edgecr_error_t err = NULL;
  remove_tree(tmpdir, &err);
  edgecr_error_release(&err);
  return rc;
}
