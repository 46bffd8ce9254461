/* test_cgroup.c - unit tests for src/linux/cgroup*.c against fake cgroup
 * roots built in a temporary directory and selected with
 * $EDGECR_CGROUP_ROOT: layout discovery (v2, v1, hybrid), the files each
 * linux.resources field is written to (v1 and v2 spellings, shares ->
 * weight, swap conversion, cpu.max, hugetlb, unified, io/blkio), cpuset
 * inheritance, device rules (incl. the default devices), v2 controller
 * enabling, the freezer, process lists, statistics, validation errors,
 * cgroupsPath resolution and normalisation, the record of directories
 * made (an occupied cgroup refused, roll-back, a shared parent removed by
 * the last container out, nothing removed that edgecr did not make),
 * signals reaching only the members of an owned cgroup, and real-time
 * budgets (default for SCHED_FIFO, explicit realtimeRuntime, ancestors
 * raised and given back on destroy).
 *
 * The layout is cached per process, so the executable runs ONE scenario,
 * named by argv[1] ("v2", "v1" or "hybrid"); meson registers it three times.
 *
 * A plain directory is not cgroupfs: the kernel would create the control
 * files of a new group, so the tests pre-create the tree and files that
 * cgroup_create() writes to (write_file never creates), and read them back.
 * Where a file is written several times (devices.allow, subtree_control),
 * it is a symlink to /proc/self/fd/<pipe>, so every write is captured in
 * order (O_TRUNC does not apply to pipes).  What cannot be tested without
 * the kernel: that a write is accepted (EBUSY/EINVAL from the kernel), and
 * rmdir of a group that still has control files (the kernel allows it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "error.h"
#include "util.h"

static char *g_root;

/* ---- fake tree helpers ----------------------------------------------------- */

static void put(const char *rel, const char *content)
{
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel);
  cleanup_free char *dir = xstrdup(p);
  *strrchr(dir, '/') = '\0';
  edgecr_error_t err = NULL;
  assert_int_equal(mkdir_p(dir, 0755, &err), 0);
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write_all(fd, content, strlen(content)), 0);
  close(fd);
}

/* Pre-create a group: directory plus empty control files. */
static void group(const char *rel_dir, const char *const *files)
{
  for (size_t i = 0; files[i]; i++) {
    cleanup_free char *f = xasprintf("%s/%s", rel_dir, files[i]);
    put(f, "");
  }
}

static char *get(const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel);
  char *s = NULL;
  edgecr_error_t err = NULL;
  if (read_all_file(p, &s, &err) < 0) {
    print_error("read %s: %s\n", p, err->msg);
    edgecr_error_release(&err);
    fail();
  }
  return s;
}

static void expect_file(const char *rel, const char *want)
{
  cleanup_free char *got = get(rel);
  if (strcmp(got, want) != 0) {
    print_error("%s: got \"%s\", want \"%s\"\n", rel, got, want);
    fail();
  }
}

static bool exists(const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel);
  return access(p, F_OK) == 0;
}

/* Every write to <rel> goes into a pipe we read back. */
struct capture {
  int r, w;
};

static struct capture capture_at(const char *rel)
{
  int fds[2];
  assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel);
  cleanup_free char *target = xasprintf("/proc/self/fd/%d", fds[1]);
  cleanup_free char *dir = xstrdup(p);
  *strrchr(dir, '/') = '\0';
  edgecr_error_t err = NULL;
  assert_int_equal(mkdir_p(dir, 0755, &err), 0);
  unlink(p);
  assert_int_equal(symlink(target, p), 0);
  return (struct capture){fds[0], fds[1]};
}

static char *captured(struct capture *c)
{
  size_t len = 0, cap = 256;
  char *buf = xmalloc0(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(c->r, buf + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t) n;
  }
  buf[len] = '\0';
  return buf;
}

static void capture_close(struct capture *c, const char *rel)
{
  close(c->r);
  close(c->w);
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel);
  unlink(p);
}

/* Remove the fake control files of a group so rmdir can work like on
 * cgroupfs (where control files do not keep a group alive). */
static void empty_group(const char *rel_dir)
{
  cleanup_free char *p = xasprintf("%s/%s", g_root, rel_dir);
  DIR *d = opendir(p);
  if (d == NULL)
    return;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.' || de->d_type == DT_DIR)
      continue;
    cleanup_free char *f = xasprintf("%s/%s", p, de->d_name);
    assert_int_equal(unlink(f), 0);
  }
  closedir(d);
}

static json_t *js(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL) {
    print_error("bad JSON in the test: %s: %s\n", text, jerr.text);
    fail();
  }
  return j;
}

static struct cgroup_layout *layout(void)
{
  struct cgroup_layout *l = NULL;
  edgecr_error_t err = NULL;
  if (cgroup_layout_get(&l, &err) < 0) {
    print_error("layout: %s\n", err->msg);
    fail();
  }
  return l;
}

static void create_ok(const char *path, const char *resources, const struct oci_process *proc, json_t **grants)
{
  json_t *res = resources ? js(resources) : NULL;
  edgecr_error_t err = NULL;
  json_t *g = NULL;
  int r = cgroup_create(layout(), path, res, proc, 0, &g, &err);
  json_decref(res);
  if (r < 0) {
    print_error("cgroup_create(%s): %s\n", path, err->msg);
    edgecr_error_release(&err);
    json_decref(g);
    fail();
  }
  if (grants)
    *grants = g;
  else
    json_decref(g);
}

/* A record saying edgecr made the leaf `path` in every hierarchy (what
 * cgroup_make records for a new leaf whose parents existed). */
static json_t *made_leaf(const char *path)
{
  struct cgroup_layout *l = layout();
  json_t *r = cgroup_record_new();
  json_t *created = json_object_get(r, "created");
  for (size_t i = 0; i < l->n_v1 + (l->unified != NULL); i++) {
    cleanup_free char *d = xasprintf("%s%s", i < l->n_v1 ? l->v1_mounts[i] : l->unified, path);
    json_array_append_new(created, json_string(d));
  }
  json_object_set_new(r, "owned", json_true());
  return r;
}

static int destroy_made(const char *path, json_t *grants, edgecr_error_t *err)
{
  json_t *r = made_leaf(path);
  int ret = cgroup_destroy(layout(), path, r, grants, err);
  json_decref(r);
  return ret;
}

/* Validation must fail with "<file>: `linux.resources.<field>`: <reason>". */
static void expect_invalid(const char *resources, const char *field, const char *reason)
{
  json_t *res = js(resources);
  edgecr_error_t err = NULL;
  int r = cgroup_resources_validate(layout(), res, "cfg.json", &err);
  json_decref(res);
  if (r == 0) {
    print_error("accepted: %s\n", resources);
    fail();
  }
  cleanup_free char *want = field ? xasprintf("cfg.json: `linux.resources.%s`: ", field) : xstrdup("cfg.json: ");
  if (!str_has_prefix(err->msg, want) || strstr(err->msg, reason) == NULL) {
    print_error("%s\n  got:  %s\n  want: %s...%s\n", resources, err->msg, want, reason);
    fail();
  }
  edgecr_error_release(&err);
}

static void expect_valid(const char *resources)
{
  json_t *res = js(resources);
  edgecr_error_t err = NULL;
  int r = cgroup_resources_validate(layout(), res, "cfg.json", &err);
  json_decref(res);
  if (r < 0) {
    print_error("refused: %s: %s\n", resources, err->msg);
    fail();
  }
}

static const struct oci_process *fifo_process(void)
{
  static struct oci_process p = {.scheduler = {.present = true, .policy = SCHED_FIFO, .priority = 10}};
  return &p;
}

static int make_root(void **state)
{
  (void) state;
  g_root = xstrdup("/tmp/edgecr-unit-cgroup-XXXXXX");
  assert_non_null(mkdtemp(g_root));
  setenv("EDGECR_CGROUP_ROOT", g_root, 1);
  return 0;
}

static int remove_root(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  (void) remove_tree(g_root, &err);
  edgecr_error_release(&err);
  free(g_root);
  return 0;
}

/* ---- cgroupsPath (no layout needed) ------------------------------------------ */

static void test_resolve_path(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  char *p = NULL;
  assert_int_equal(cgroup_resolve_path(NULL, "c1", false, &p, &err), 0);
  assert_string_equal(p, "/edgecr/c1");
  free(p);
  assert_int_equal(cgroup_resolve_path("", "c1", false, &p, &err), 0);
  assert_string_equal(p, "/edgecr/c1");
  free(p);
  assert_int_equal(cgroup_resolve_path("/kubepods/pod1/c1", "c1", false, &p, &err), 0);
  assert_string_equal(p, "/kubepods/pod1/c1");
  free(p);
  assert_int_equal(cgroup_resolve_path("group/c1", "c1", false, &p, &err), 0);
  assert_string_equal(p, "/edgecr/group/c1");
  free(p);
  assert_int_equal(cgroup_resolve_path("/a/..b/c", "c1", false, &p, &err), 0); /* a name, not `..` */
  free(p);

  static const char *dotdot[] = {"..", "../x", "a/../../x", "/a/../b", "/a/..", "/.."};
  for (size_t i = 0; i < sizeof dotdot / sizeof dotdot[0]; i++) {
    p = (char *) 1;
    assert_int_equal(cgroup_resolve_path(dotdot[i], "c1", false, &p, &err), -1);
    assert_null(p);
    cleanup_free char *want = xasprintf("linux.cgroupsPath `%s` must not contain `..`", dotdot[i]);
    if (!str_has_prefix(err->msg, want)) {
      print_error("%s: %s\n", dotdot[i], err->msg);
      fail();
    }
    assert_int_equal(edgecr_error_errno(&err), EINVAL);
    edgecr_error_release(&err);
  }

  /* normalised: one spelling per cgroup */
  static const struct { const char *in, *out; } norm[] = {
    {"/a//b/./c/", "/a/b/c"}, {"//a", "/a"}, {"./x", "/edgecr/x"}, {"x/./y//", "/edgecr/x/y"},
  };
  for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
    assert_int_equal(cgroup_resolve_path(norm[i].in, "c1", false, &p, &err), 0);
    assert_string_equal(p, norm[i].out);
    free(p);
  }
  /* the root and /edgecr in any spelling, and names no cgroup can have */
  static const struct { const char *in, *why; } bad[] = {
    {"/", "names the root cgroup"}, {"/.", "names the root cgroup"}, {"//", "names the root cgroup"},
    {"/./", "names the root cgroup"}, {".", "names /edgecr, the parent"}, {"/edgecr/", "names /edgecr, the parent"},
    {"/a/../..", "must not contain `..`"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p = (char *) 1;
    assert_int_equal(cgroup_resolve_path(bad[i].in, "c1", false, &p, &err), -1);
    assert_null(p);
    if (strstr(err->msg, bad[i].why) == NULL) {
      print_error("%s: %s\n", bad[i].in, err->msg);
      fail();
    }
    assert_int_equal(edgecr_error_errno(&err), EINVAL);
    edgecr_error_release(&err);
  }
  char longname[300];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  cleanup_free char *too_long = xasprintf("/ok/%s", longname);
  assert_int_equal(cgroup_resolve_path(too_long, "c1", false, &p, &err), -1);
  assert_non_null(strstr(err->msg, "longer than NAME_MAX"));
  edgecr_error_release(&err);

  /* systemd form, or --systemd-cgroup: clear error (no systemd here). */
  bool has_systemd = access("/run/systemd/system", F_OK) == 0;
  assert_int_equal(cgroup_resolve_path("system.slice:edgecr:c1", "c1", false, &p, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), ENOTSUP);
  assert_non_null(strstr(err->msg, has_systemd ? "systemd cgroup driver is not supported"
                                               : "systemd is not running on this host; use a path like `/edgecr/c1`"));
  edgecr_error_release(&err);
  assert_int_equal(cgroup_resolve_path(NULL, "c1", true, &p, &err), -1);
  assert_non_null(strstr(err->msg, "systemd"));
  edgecr_error_release(&err);
  /* an absolute path may contain ':' */
  assert_int_equal(cgroup_resolve_path("/a:b", "c1", false, &p, &err), 0);
  assert_string_equal(p, "/a:b");
  free(p);
}

/* ============================= pure cgroup v2 ================================== */

static const char *const v2_files[] = {
  "memory.max", "memory.swap.max", "memory.low", "memory.high", "cpu.weight", "cpu.max", "cpu.max.burst",
  "pids.max", "io.weight", "cpuset.cpus", "cpuset.mems", "hugetlb.2MB.max", "cgroup.procs", "cgroup.freeze",
  "cgroup.events", "cgroup.subtree_control", NULL,
};

static int v2_setup(void **state)
{
  make_root(state);
  put("cgroup.controllers", "cpu memory pids io cpuset hugetlb\n");
  put("cgroup.procs", "");
  put("cgroup.subtree_control", "");
  put("edgecr/cgroup.procs", "");
  put("edgecr/cgroup.subtree_control", "");
  return 0;
}

static void test_v2_layout(void **state)
{
  (void) state;
  struct cgroup_layout *l = layout();
  assert_string_equal(cgroup_mode_name(l), "v2");
  assert_true(l->v2_only);
  assert_string_equal(l->root, g_root);
  assert_string_equal(l->unified, g_root);
  assert_string_equal(l->v2_controllers, "cpu memory pids io cpuset hugetlb");
  assert_int_equal(l->n_v1, 0);
  /* cached: the same object */
  assert_ptr_equal(layout(), l);
}

static void test_v2_create(void **state)
{
  (void) state;
  group("edgecr/c1", v2_files);
  struct capture root_sc = capture_at("cgroup.subtree_control");
  struct capture edgecr_sc = capture_at("edgecr/cgroup.subtree_control");
  create_ok("/edgecr/c1",
            "{\"memory\": {\"limit\": 1048576, \"swap\": 3145728, \"reservation\": 524288},"
            " \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"burst\": 1000,"
            "  \"cpus\": \"0-1\", \"mems\": \"0\"},"
            " \"pids\": {\"limit\": 100},"
            " \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}],"
            " \"unified\": {\"memory.high\": \"5000000\"}}",
            NULL, NULL);
  expect_file("edgecr/c1/memory.max", "1048576");
  expect_file("edgecr/c1/memory.swap.max", "2097152"); /* memory+swap minus memory */
  expect_file("edgecr/c1/memory.low", "524288");
  expect_file("edgecr/c1/cpu.weight", "39"); /* 1 + (1024-2)*9999/262142 */
  expect_file("edgecr/c1/cpu.max", "50000 100000");
  expect_file("edgecr/c1/cpu.max.burst", "1000");
  expect_file("edgecr/c1/pids.max", "100");
  expect_file("edgecr/c1/cpuset.cpus", "0-1");
  expect_file("edgecr/c1/cpuset.mems", "0");
  expect_file("edgecr/c1/hugetlb.2MB.max", "4194304");
  expect_file("edgecr/c1/memory.high", "5000000");
  expect_file("edgecr/c1/cgroup.procs", ""); /* pid 0: not entered */
  /* controllers enabled one by one in every ancestor, not in the leaf */
  cleanup_free char *r1 = captured(&root_sc);
  cleanup_free char *r2 = captured(&edgecr_sc);
  assert_string_equal(r1, "+cpu+memory+pids+io+cpuset+hugetlb");
  assert_string_equal(r2, "+cpu+memory+pids+io+cpuset+hugetlb");
  expect_file("edgecr/c1/cgroup.subtree_control", "");
  capture_close(&root_sc, "cgroup.subtree_control");
  capture_close(&edgecr_sc, "edgecr/cgroup.subtree_control");
  put("cgroup.subtree_control", "");
  put("edgecr/cgroup.subtree_control", "");

  /* "unlimited" spellings */
  create_ok("/edgecr/c1",
            "{\"memory\": {\"limit\": -1, \"swap\": -1}, \"cpu\": {\"quota\": -1}, \"pids\": {\"limit\": 0}}",
            NULL, NULL);
  expect_file("edgecr/c1/memory.max", "max");
  expect_file("edgecr/c1/memory.swap.max", "max");
  expect_file("edgecr/c1/cpu.max", "max 100000");
  expect_file("edgecr/c1/pids.max", "max");
  create_ok("/edgecr/c1", "{\"cpu\": {\"period\": 20000}}", NULL, NULL);
  expect_file("edgecr/c1/cpu.max", "max 20000");

  /* update: validated, then written; shares at the ends of the range */
  json_t *upd = js("{\"cpu\": {\"shares\": 2}, \"memory\": {\"limit\": 2097152, \"swap\": 2097152}}");
  edgecr_error_t err = NULL;
  assert_int_equal(cgroup_update(layout(), "/edgecr/c1", upd, &err), 0);
  json_decref(upd);
  expect_file("edgecr/c1/cpu.weight", "1");
  expect_file("edgecr/c1/memory.max", "2097152");
  expect_file("edgecr/c1/memory.swap.max", "0");
  /* the swap alone: memory+swap against the current memory.max */
  upd = js("{\"memory\": {\"swap\": 3145728}}");
  assert_int_equal(cgroup_update(layout(), "/edgecr/c1", upd, &err), 0);
  json_decref(upd);
  expect_file("edgecr/c1/memory.swap.max", "1048576");
  upd = js("{\"cpu\": {\"shares\": 262144}}");
  assert_int_equal(cgroup_update(layout(), "/edgecr/c1", upd, &err), 0);
  json_decref(upd);
  expect_file("edgecr/c1/cpu.weight", "10000");
  /* an invalid update writes nothing */
  upd = js("{\"pids\": {\"limit\": 7}, \"cpu\": {\"period\": 5}}");
  assert_int_equal(cgroup_update(layout(), "/edgecr/c1", upd, &err), -1);
  assert_non_null(strstr(err->msg, "update: `linux.resources.cpu.period`: 5 us is outside the kernel's range"));
  edgecr_error_release(&err);
  json_decref(upd);
  expect_file("edgecr/c1/pids.max", "max");
}

/* blockIO on v2 is the io controller (docs/runtime.md: io.weight). */
static void test_v2_blockio(void **state)
{
  (void) state;
  group("edgecr/io1", v2_files);
  expect_valid("{\"blockIO\": {\"weight\": 500}}");
  create_ok("/edgecr/io1", "{\"blockIO\": {\"weight\": 500}}", NULL, NULL);
  cleanup_free char *w = get("edgecr/io1/io.weight");
  assert_true(strlen(w) > 0);
}

/* SCHED_FIFO on pure v2: there is no group budget to give (the kernel has
 * no v2 interface for it), so the container must be created without one
 * rather than refused (runc/crun run it there). */
static void test_v2_fifo_without_budget(void **state)
{
  (void) state;
  group("edgecr/rt1", v2_files);
  json_t *g = NULL;
  create_ok("/edgecr/rt1", NULL, fifo_process(), &g);
  assert_int_equal(json_array_size(g), 0);
  json_decref(g);
}

static void test_v2_validate(void **state)
{
  (void) state;
  expect_valid("{}");
  expect_valid("{\"memory\": {\"limit\": 1}, \"cpu\": {\"shares\": 2, \"cpus\": \"0\"}, \"pids\": {\"limit\": -1},"
               " \"hugepageLimits\": [{\"pageSize\": \"1GB\", \"limit\": 0}], \"unified\": {\"io.max\": \"8:0 rbps=1\"}}");
  expect_invalid("{\"memory\": {\"limit\": \"1G\"}}", "memory.limit", "must be an integer");
  expect_invalid("{\"memory\": []}", "memory", "must be an object");
  expect_invalid("{\"memory\": {\"limit\": 2048, \"swap\": 1024}}", "memory.swap",
                 "memory+swap limit 1024 is below the memory limit 2048");
  expect_invalid("{\"memory\": {\"swappiness\": 10}}", "memory.swappiness", "not supported on cgroup v2");
  expect_invalid("{\"memory\": {\"swappiness\": 101}}", "memory.swappiness", "must be 0..100");
  expect_invalid("{\"memory\": {\"disableOOMKiller\": 1}}", "memory.disableOOMKiller", "must be true or false");
  expect_invalid("{\"memory\": {\"disableOOMKiller\": true}}", "memory.disableOOMKiller", "not supported on cgroup v2");
  expect_invalid("{\"cpu\": {\"shares\": -1}}", "cpu.shares", "must not be negative");
  expect_invalid("{\"cpu\": {\"cpus\": 1}}", "cpu.cpus", "must be a string");
  expect_invalid("{\"cpu\": {\"mems\": [0]}}", "cpu.mems", "must be a string");
  expect_invalid("{\"cpu\": {\"period\": 999}}", "cpu.period", "999 us is outside the kernel's range 1000..1000000");
  expect_invalid("{\"cpu\": {\"quota\": 999}}", "cpu.quota", "999 us is below the kernel's minimum of 1000");
  expect_invalid("{\"cpu\": {\"realtimeRuntime\": 1000}}", "cpu.realtimeRuntime",
                 "real-time group budgets need the cgroup v1 cpu controller");
  expect_invalid("{\"cpu\": {\"realtimeRuntime\": 2000, \"realtimePeriod\": 1000}}", "cpu.realtimeRuntime",
                 "2000 us exceeds realtimePeriod 1000 us");
  expect_invalid("{\"pids\": {\"limit\": \"10\"}}", "pids.limit", "must be an integer");
  expect_invalid("{\"blockIO\": {\"weight\": 5}}", "blockIO.weight", "must be 10..1000");
  expect_invalid("{\"hugepageLimits\": {}}", "hugepageLimits", "must be an array");
  expect_invalid("{\"hugepageLimits\": [{\"limit\": 1}]}", "hugepageLimits[0]", "needs pageSize");
  expect_invalid("{\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]}", "hugepageLimits[0]", "needs limit");
  expect_invalid("{\"network\": {\"classID\": 1}}", "network.classID",
                 "the `net_cls` cgroup controller is not available on this host (v2 cgroups)");
  /* device rules are valid on v2 too (compiled to an eBPF program) */
  expect_valid("{\"devices\": [{\"allow\": false}]}");
  expect_invalid("{\"unified\": {\"a/b\": \"1\"}}", "unified.a/b", "not a cgroup file name");
  expect_invalid("{\"unified\": {\"..\": \"1\"}}", "unified...", "not a cgroup file name");
  expect_invalid("{\"unified\": {\"memory.high\": 1}}", "unified.memory.high", "must be a string");
  expect_invalid("{\"unified\": []}", "unified", "must be an object");
  expect_invalid("[]", NULL, "`linux.resources`: must be an object");
}

static void test_v2_freeze_pids_stats(void **state)
{
  (void) state;
  group("edgecr/f1", v2_files);
  struct cgroup_layout *l = layout();
  edgecr_error_t err = NULL;
  /* the kernel reports the state in cgroup.events; fake it settled */
  put("edgecr/f1/cgroup.events", "populated 1\nfrozen 1\n");
  assert_int_equal(cgroup_freeze(l, "/edgecr/f1", true, &err), 0);
  expect_file("edgecr/f1/cgroup.freeze", "1");
  assert_true(cgroup_is_frozen(l, "/edgecr/f1"));
  put("edgecr/f1/cgroup.events", "populated 1\nfrozen 0\n");
  assert_int_equal(cgroup_freeze(l, "/edgecr/f1", false, &err), 0);
  expect_file("edgecr/f1/cgroup.freeze", "0");
  assert_false(cgroup_is_frozen(l, "/edgecr/f1"));

  /* enter writes the pid to cgroup.procs */
  assert_int_equal(cgroup_enter(l, "/edgecr/f1", 4242, &err), 0);
  expect_file("edgecr/f1/cgroup.procs", "4242");
  /* processes of nested groups are included */
  put("edgecr/f1/cgroup.procs", "11\n12\n");
  put("edgecr/f1/sub/cgroup.procs", "13\n");
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal(cgroup_pids(l, "/edgecr/f1", &pids, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(pids[0] + pids[1] + pids[2], 36);
  free(pids);

  put("edgecr/f1/memory.current", "4096\n");
  put("edgecr/f1/memory.max", "max\n");
  put("edgecr/f1/memory.stat", "anon 100\nfile 200\n");
  put("edgecr/f1/cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 3\nnr_throttled 1\n"
                            "throttled_usec 7\n");
  put("edgecr/f1/pids.current", "2\n");
  put("edgecr/f1/pids.max", "50\n");
  json_t *st = NULL;
  assert_int_equal(cgroup_stats(l, "/edgecr/f1", &st, &err), 0);
  json_t *e = NULL;
  assert_int_equal(json_unpack(st, "{s:{s:{s:o}}}", "memory", "usage", "usage", &e), 0);
  assert_int_equal(json_integer_value(e), 4096);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(st, "memory"), "usage"),
                                                      "limit")), INT64_MAX);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "memory"), "cache")), 200);
  json_t *cpu = json_object_get(st, "cpu");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(cpu, "usage"), "total")), 10000);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(cpu, "usage"), "kernel")), 4000);
  /* runc's types.Stats: throttled_time is in ns (v2 reports throttled_usec) */
  assert_int_equal(json_integer_value(json_object_get(json_object_get(cpu, "throttling"), "throttled_time")), 7000);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "pids"), "current")), 2);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "pids"), "limit")), 50);
  json_decref(st);
}

static bool xattrs_work(void)
{
  cleanup_free char *d = xasprintf("%s/xattr-probe", g_root);
  mkdir(d, 0755);
  bool ok = setxattr(d, CGROUP_MARK_XATTR, "1", 1, 0) == 0;
  rmdir(d);
  return ok;
}

static json_t *make_ok(const char *path)
{
  json_t *r = cgroup_record_new();
  edgecr_error_t err = NULL;
  if (cgroup_make(layout(), path, r, &err) < 0) {
    print_error("cgroup_make(%s): %s\n", path, err->msg);
    fail();
  }
  assert_true(cgroup_owned(r));
  return r;
}

static void make_fails(const char *path, const char *why)
{
  json_t *r = cgroup_record_new();
  edgecr_error_t err = NULL;
  assert_int_equal(cgroup_make(layout(), path, r, &err), -1);
  if (strstr(err->msg, why) == NULL) {
    print_error("cgroup_make(%s): %s\n  want: %s\n", path, err->msg, why);
    fail();
  }
  edgecr_error_release(&err);
  assert_false(cgroup_owned(r));
  assert_int_equal(json_array_size(json_object_get(r, "created")), 0); /* rolled back */
  json_decref(r);
}

/* delete removes exactly the directories create made: the leaf and the
 * parents it made, innermost first, when empty; never one it found. */
static void test_v2_destroy(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  json_t *rec = make_ok("/edgecr/grp/d1");
  json_t *created = json_object_get(rec, "created");
  assert_int_equal(json_array_size(created), 2); /* grp, grp/d1: /edgecr existed */
  cleanup_free char *grp = xasprintf("%s/edgecr/grp", g_root);
  assert_string_equal(json_string_value(json_array_get(created, 0)), grp);
  group("edgecr/grp/d1", v2_files);
  create_ok("/edgecr/grp/d1", "{\"pids\": {\"limit\": 3}}", NULL, NULL);
  expect_file("edgecr/grp/d1/pids.max", "3");
  empty_group("edgecr/grp/d1");
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/grp/d1", rec, NULL, &err), 0);
  assert_false(exists("edgecr/grp/d1"));
  assert_false(exists("edgecr/grp")); /* made for it, now empty */
  assert_true(exists("edgecr"));      /* found, not made: kept */
  /* idempotent, and harmless on the root */
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/grp/d1", rec, NULL, &err), 0);
  assert_int_equal(cgroup_destroy(layout(), "/", rec, NULL, &err), 0);
  assert_int_equal(cgroup_destroy(layout(), "", NULL, NULL, &err), 0);
  assert_true(exists("cgroup.controllers"));
  json_decref(rec);

  /* an existing empty leaf is used (owned) but not removed */
  put("edgecr/pre/cgroup.procs", "");
  rec = make_ok("/edgecr/pre");
  assert_int_equal(json_array_size(json_object_get(rec, "created")), 0);
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/pre", rec, NULL, &err), 0);
  assert_true(exists("edgecr/pre"));
  json_decref(rec);

  /* a made leaf that cannot be removed is reported */
  rec = make_ok("/edgecr/busy");
  group("edgecr/busy", v2_files);
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/busy", rec, NULL, &err), -1);
  assert_non_null(strstr(err->msg, "remove cgroup"));
  edgecr_error_release(&err);
  json_decref(rec);

  /* a state without a record (older edgecr): an empty leaf goes, a busy
   * one stays, and neither is an error */
  put("edgecr/old1/cgroup.procs", "");
  empty_group("edgecr/old1");
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/old1", NULL, NULL, &err), 0);
  assert_false(exists("edgecr/old1"));
  put("edgecr/old2/cgroup.procs", "");
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/old2", NULL, NULL, &err), 0);
  assert_true(exists("edgecr/old2"));
}

/* An existing cgroup holding processes is someone else's: refused, and
 * nothing made is left behind.  So is a path that cannot be made. */
static void test_v2_make_refuses(void **state)
{
  (void) state;
  put("edgecr/foreign/cgroup.procs", "4242\n");
  make_fails("/edgecr/foreign", "already exists and holds 1 process(es) (pid 4242...)");
  put("edgecr/nested/cgroup.procs", "");
  put("edgecr/nested/sub/cgroup.procs", "77\n");
  make_fails("/edgecr/nested", "already exists and holds 1 process(es)");
  assert_true(exists("edgecr/foreign/cgroup.procs"));
  /* the parent made before the failing component is removed again */
  char longname[300];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  cleanup_free char *too_long = xasprintf("/edgecr/fresh/%s", longname);
  make_fails(too_long, "File name too long");
  assert_false(exists("edgecr/fresh"));
  put("edgecr/afile", "");
  make_fails("/edgecr/afile/x", "Not a directory");
  make_fails("/", "is not a container's cgroup");
}

/* Killed between a mkdir and the state update (even before the mark was
 * set): the directories listed as pending are removed by delete; one that
 * existed before the plan is not. */
static void test_v2_pending_after_crash(void **state)
{
  (void) state;
  put("edgecr/kept/cgroup.procs", "");
  json_t *rec = cgroup_record_new();
  cgroup_plan_dirs(layout(), "/edgecr/kept/pend/leaf", rec);
  json_t *pending = json_object_get(rec, "pending");
  assert_int_equal(json_array_size(pending), 2);
  cleanup_free char *first = xasprintf("%s/edgecr/kept/pend", g_root);
  assert_string_equal(json_string_value(json_array_get(pending, 0)), first);
  cleanup_free char *leaf = xasprintf("%s/edgecr/kept/pend/leaf", g_root);
  assert_int_equal(mkdir(first, 0755), 0); /* what the killed create made */
  assert_int_equal(mkdir(leaf, 0755), 0);
  edgecr_error_t err = NULL;
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/kept/pend/leaf", rec, NULL, &err), 0);
  assert_false(exists("edgecr/kept/pend"));
  assert_true(exists("edgecr/kept"));
  json_decref(rec);
  /* a finished make drops the pending list: `created` is the truth */
  rec = cgroup_record_new();
  cgroup_plan_dirs(layout(), "/edgecr/kept/done", rec);
  json_decref(make_ok("/edgecr/kept/other"));
  assert_int_equal(cgroup_make(layout(), "/edgecr/kept/done", rec, &err), 0);
  assert_null(json_object_get(rec, "pending"));
  assert_int_equal(json_array_size(json_object_get(rec, "created")), 1);
  json_decref(rec);
}

/* A parent shared by two containers goes with the last one out, whichever
 * made it (the mark), even when the one that made it leaves first. */
static void test_v2_shared_parent(void **state)
{
  (void) state;
  if (!xattrs_work())
    skip(); /* the fake root's file system has no trusted.* xattrs */
  edgecr_error_t err = NULL;
  json_t *a = make_ok("/edgecr/shared/a");
  json_t *b = make_ok("/edgecr/shared/b");
  assert_int_equal(json_array_size(json_object_get(a, "created")), 2);
  assert_int_equal(json_array_size(json_object_get(b, "created")), 1);
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/shared/a", a, NULL, &err), 0);
  assert_true(exists("edgecr/shared/b"));
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/shared/b", b, NULL, &err), 0);
  assert_false(exists("edgecr/shared"));
  assert_true(exists("edgecr"));
  json_decref(a);
  json_decref(b);
  /* made and marked, but the state never got the record (a crash between
   * mkdir and the state update): delete still removes the empty groups */
  json_t *lost = make_ok("/edgecr/crash/leaf");
  json_decref(lost);
  json_t *none = cgroup_record_new();
  assert_int_equal(cgroup_destroy(layout(), "/edgecr/crash/leaf", none, NULL, &err), 0);
  assert_false(exists("edgecr/crash"));
  json_decref(none);
}

/* kill --all reaches the processes listed in the container's own cgroup
 * and no other, and only when the cgroup is owned. */
static void test_v2_signal_only_members(void **state)
{
  (void) state;
  pid_t member = fork();
  if (member == 0) {
    pause();
    _exit(0);
  }
  pid_t other = fork();
  if (other == 0) {
    pause();
    _exit(0);
  }
  json_t *rec = make_ok("/edgecr/sig1");
  char line[32];
  snprintf(line, sizeof line, "%d\n", (int) member);
  put("edgecr/sig1/cgroup.procs", line);
  edgecr_error_t err = NULL;
  json_t *foreign = cgroup_record_new(); /* not owned */
  assert_int_equal(cgroup_signal_all(layout(), "/edgecr/sig1", foreign, SIGTERM, &err), -1);
  assert_non_null(strstr(err->msg, "does not signal the processes in it"));
  edgecr_error_release(&err);
  assert_int_equal(cgroup_signal_all(layout(), "/edgecr/sig1", NULL, SIGTERM, &err), -1);
  edgecr_error_release(&err);
  assert_int_equal(waitpid(member, NULL, WNOHANG), 0); /* still alive */
  /* an owned record with a root spelling (a hand-edited state): refused */
  static const char *roots[] = {"/", "/.", "//", "/edgecr/..", "/edgecr/sig1/"};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    assert_int_equal(cgroup_signal_all(layout(), roots[i], rec, SIGTERM, &err), -1);
    assert_non_null(strstr(err->msg, "is not a container's cgroup"));
    edgecr_error_release(&err);
  }
  assert_int_equal(waitpid(member, NULL, WNOHANG), 0);
  assert_int_equal(cgroup_signal_all(layout(), "/edgecr/sig1", rec, SIGTERM, &err), 0);
  int status = 0;
  assert_int_equal(waitpid(member, &status, 0), member);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  assert_int_equal(waitpid(other, NULL, WNOHANG), 0); /* not a member: untouched */
  kill(other, SIGKILL);
  waitpid(other, NULL, 0);
  json_decref(foreign);
  json_decref(rec);
}

/* ============================= pure cgroup v1 =================================== */

#define CPU "cpu,cpuacct"

static const char *const v1_ctrls[] = {CPU, "memory", "pids", "cpuset", "devices", "freezer", "blkio", "hugetlb",
                                       "net_cls,net_prio", "systemd", NULL};

static const char *const v1_files[] = {
  "cgroup.procs", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
  "memory.swappiness", "memory.oom_control", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us",
  "cpu.cfs_burst_us", "cpu.rt_runtime_us", "cpu.rt_period_us", "cpuset.cpus", "cpuset.mems", "pids.max",
  "freezer.state", "blkio.weight", "blkio.weight_device", "blkio.throttle.read_bps_device",
  "blkio.throttle.write_iops_device", "hugetlb.2MB.limit_in_bytes", "net_cls.classid", "net_prio.ifpriomap", NULL,
};

/* Pre-create <ctrl>/<rel> in every hierarchy with every file. */
static void v1_group(const char *rel)
{
  for (size_t i = 0; v1_ctrls[i]; i++) {
    cleanup_free char *d = xasprintf("%s/%s", v1_ctrls[i], rel);
    group(d, v1_files);
  }
}

static int v1_setup(void **state)
{
  make_root(state);
  for (size_t i = 0; v1_ctrls[i]; i++) {
    cleanup_free char *f = xasprintf("%s/cgroup.procs", v1_ctrls[i]);
    put(f, "");
  }
  /* cpu and cpuacct are symlinks to the co-mounted hierarchy on real hosts */
  cleanup_free char *l1 = xasprintf("%s/cpu", g_root);
  cleanup_free char *l2 = xasprintf("%s/cpuacct", g_root);
  assert_int_equal(symlink(CPU, l1), 0);
  assert_int_equal(symlink(CPU, l2), 0);
  cleanup_free char *other = xasprintf("%s/notacgroup", g_root); /* no cgroup.procs: not a hierarchy */
  assert_int_equal(mkdir(other, 0755), 0);
  put("cpuset/cpuset.cpus", "0-3\n");
  put("cpuset/cpuset.mems", "0\n");
  put(CPU "/cpu.rt_period_us", "1000000\n");
  put(CPU "/cpu.rt_runtime_us", "950000\n");
  v1_group("edgecr");
  put(CPU "/edgecr/cpu.rt_period_us", "1000000\n");
  put(CPU "/edgecr/cpu.rt_runtime_us", "0\n");
  return 0;
}

static void test_v1_layout(void **state)
{
  (void) state;
  struct cgroup_layout *l = layout();
  assert_string_equal(cgroup_mode_name(l), "v1");
  assert_false(l->v2_only);
  assert_null(l->unified);
  assert_int_equal(l->n_v1, 10); /* not the symlinks, not notacgroup */
  bool systemd = false, cpu = false;
  for (size_t i = 0; i < l->n_v1; i++) {
    if (strcmp(l->v1_names[i], "name=systemd") == 0)
      systemd = true;
    if (strcmp(l->v1_names[i], CPU) == 0) {
      cpu = true;
      cleanup_free char *m = xasprintf("%s/%s", g_root, CPU);
      assert_string_equal(l->v1_mounts[i], m);
    }
  }
  assert_true(systemd);
  assert_true(cpu);
}

static void test_v1_create(void **state)
{
  (void) state;
  v1_group("edgecr/c1");
  create_ok("/edgecr/c1",
            "{\"memory\": {\"limit\": 1048576, \"swap\": 3145728, \"reservation\": 524288, \"swappiness\": 10,"
            "  \"disableOOMKiller\": true},"
            " \"cpu\": {\"shares\": 512, \"quota\": 20000, \"period\": 50000, \"burst\": 300, \"mems\": \"0\"},"
            " \"pids\": {\"limit\": 64},"
            " \"blockIO\": {\"weight\": 300, \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 200}],"
            "  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 1048576}],"
            "  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 100}]},"
            " \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 2097152}],"
            " \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 5}]}}",
            NULL, NULL);
  expect_file("memory/edgecr/c1/memory.limit_in_bytes", "1048576");
  expect_file("memory/edgecr/c1/memory.memsw.limit_in_bytes", "3145728"); /* v1: memory+swap as given */
  expect_file("memory/edgecr/c1/memory.soft_limit_in_bytes", "524288");
  expect_file("memory/edgecr/c1/memory.swappiness", "10");
  expect_file("memory/edgecr/c1/memory.oom_control", "1");
  expect_file(CPU "/edgecr/c1/cpu.shares", "512");
  expect_file(CPU "/edgecr/c1/cpu.cfs_quota_us", "20000");
  expect_file(CPU "/edgecr/c1/cpu.cfs_period_us", "50000");
  expect_file(CPU "/edgecr/c1/cpu.cfs_burst_us", "300");
  expect_file(CPU "/edgecr/c1/cpu.rt_runtime_us", ""); /* no real-time budget asked for */
  expect_file("pids/edgecr/c1/pids.max", "64");
  expect_file("blkio/edgecr/c1/blkio.weight", "300");
  expect_file("blkio/edgecr/c1/blkio.weight_device", "8:0 200");
  expect_file("blkio/edgecr/c1/blkio.throttle.read_bps_device", "8:16 1048576");
  expect_file("blkio/edgecr/c1/blkio.throttle.write_iops_device", "8:0 100");
  expect_file("hugetlb/edgecr/c1/hugetlb.2MB.limit_in_bytes", "2097152");
  expect_file("net_cls,net_prio/edgecr/c1/net_cls.classid", "1048577");
  expect_file("net_cls,net_prio/edgecr/c1/net_prio.ifpriomap", "eth0 5");
  /* cpuset: empty cpus/mems inherited from the parent at each level */
  expect_file("cpuset/edgecr/cpuset.cpus", "0-3");
  expect_file("cpuset/edgecr/cpuset.mems", "0");
  expect_file("cpuset/edgecr/c1/cpuset.cpus", "0-3");
  expect_file("cpuset/edgecr/c1/cpuset.mems", "0");
  /* nothing went to the devices hierarchy yet (see test_v1_devices) */
  expect_file("devices/edgecr/c1/cgroup.procs", "");

  /* explicit cpus win over the inherited value; quota -1 unlimits */
  v1_group("edgecr/c2");
  put("cpuset/edgecr/c2/cpuset.mems", "0\n");
  create_ok("/edgecr/c2", "{\"cpu\": {\"cpus\": \"2\", \"quota\": -1}, \"memory\": {\"limit\": -1}}", NULL, NULL);
  expect_file("cpuset/edgecr/c2/cpuset.cpus", "2");
  expect_file(CPU "/edgecr/c2/cpu.cfs_quota_us", "-1");
  expect_file("memory/edgecr/c2/memory.limit_in_bytes", "-1");

  /* no memsw file: swap accounting off, the swap limit is skipped */
  v1_group("edgecr/c3");
  cleanup_free char *memsw = xasprintf("%s/memory/edgecr/c3/memory.memsw.limit_in_bytes", g_root);
  assert_int_equal(unlink(memsw), 0);
  create_ok("/edgecr/c3", "{\"memory\": {\"limit\": 4096, \"swap\": 8192}}", NULL, NULL);
  expect_file("memory/edgecr/c3/memory.limit_in_bytes", "4096");
  assert_false(exists("memory/edgecr/c3/memory.memsw.limit_in_bytes"));

  /* a page size the host does not have */
  v1_group("edgecr/c4");
  json_t *res = js("{\"hugepageLimits\": [{\"pageSize\": \"1GB\", \"limit\": 1}]}");
  json_t *g = NULL;
  edgecr_error_t err = NULL;
  assert_int_equal(cgroup_create(layout(), "/edgecr/c4", res, NULL, 0, &g, &err), -1);
  assert_string_equal(err->msg, "config.json: `linux.resources.hugepageLimits[0]`: page size `1GB` is not supported "
                                "by this host");
  edgecr_error_release(&err);
  json_decref(res);
  json_decref(g);
}

static void test_v1_devices(void **state)
{
  (void) state;
  v1_group("edgecr/dev1");
  struct capture allow = capture_at("devices/edgecr/dev1/devices.allow");
  struct capture deny = capture_at("devices/edgecr/dev1/devices.deny");
  json_t *res = js("{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
                   " {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rwm\"},"
                   " {\"allow\": false, \"type\": \"b\", \"major\": 8, \"access\": \"w\"},"
                   " {\"allow\": true, \"type\": \"c\", \"minor\": 3}]}");
  edgecr_error_t err = NULL;
  /* cgroup_create leaves device rules alone (the init makes nodes first) */
  json_t *g = NULL;
  assert_int_equal(cgroup_create(layout(), "/edgecr/dev1", res, NULL, 0, &g, &err), 0);
  json_decref(g);
  cleanup_free char *none = captured(&allow);
  assert_string_equal(none, "");
  assert_int_equal(cgroup_apply_devices(layout(), "/edgecr/dev1", res, &err), 0);
  json_decref(res);
  cleanup_free char *a = captured(&allow);
  cleanup_free char *d = captured(&deny);
  assert_string_equal(d, "a" "b 8:* w");
  assert_string_equal(a, "c 10:200 rwm" "c *:3 rwm"
                         /* the default devices, always allowed last */
                         "c 1:3 rwm" "c 1:5 rwm" "c 1:7 rwm" "c 1:8 rwm" "c 1:9 rwm"
                         "c 5:0 rwm" "c 5:1 rwm" "c 5:2 rwm" "c 136:* rwm");
  /* no rules at all: still the default devices */
  assert_int_equal(cgroup_apply_devices(layout(), "/edgecr/dev1", NULL, &err), 0);
  cleanup_free char *a2 = captured(&allow);
  assert_true(str_has_prefix(a2, "c 1:3 rwm"));
  assert_true(str_has_suffix(a2, "c 136:* rwm"));
  capture_close(&allow, "devices/edgecr/dev1/devices.allow");
  capture_close(&deny, "devices/edgecr/dev1/devices.deny");

  expect_invalid("{\"devices\": {}}", "devices", "must be an array");
  expect_invalid("{\"devices\": [1]}", "devices[0]", "must be an object");
  expect_invalid("{\"devices\": [{\"type\": \"c\"}]}", "devices[0]", "needs `allow`: true or false");
  expect_invalid("{\"devices\": [{\"allow\": true, \"type\": \"u\"}]}", "devices[0]", "type must be a, c or b");
  expect_invalid("{\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}", "devices[0]",
                 "access must be made of r, w, m");
  expect_invalid("{\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": \"1\"}]}", "devices[0]",
                 "must be an integer");
}

static void test_v1_validate(void **state)
{
  (void) state;
  expect_valid("{\"memory\": {\"swappiness\": 0, \"disableOOMKiller\": false}, \"cpu\": {\"realtimeRuntime\": 1000,"
               " \"realtimePeriod\": 10000}, \"devices\": [{\"allow\": false}], \"network\": {\"classID\": 1}}");
  expect_invalid("{\"unified\": {\"memory.high\": \"1\"}}", "unified", "needs a cgroup v2 hierarchy, and this host has none");
  expect_invalid("{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0}]}}", "blockIO.weightDevice[0]",
                 "needs weight");
  expect_invalid("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"rate\": 1}]}}",
                 "blockIO.throttleReadBpsDevice[0]", "needs major and minor");
  expect_invalid("{\"blockIO\": {\"throttleWriteBpsDevice\": {}}}", "blockIO.throttleWriteBpsDevice", "must be an array");
  expect_invalid("{\"network\": {\"priorities\": [{\"priority\": 1}]}}", "network.priorities[0]",
                 "needs name and priority");
}

static void test_v1_freezer(void **state)
{
  (void) state;
  v1_group("edgecr/fz");
  struct cgroup_layout *l = layout();
  edgecr_error_t err = NULL;
  assert_false(cgroup_is_frozen(l, "/edgecr/fz"));
  assert_int_equal(cgroup_freeze(l, "/edgecr/fz", true, &err), 0);
  expect_file("freezer/edgecr/fz/freezer.state", "FROZEN");
  assert_true(cgroup_is_frozen(l, "/edgecr/fz"));
  assert_int_equal(cgroup_freeze(l, "/edgecr/fz", false, &err), 0);
  expect_file("freezer/edgecr/fz/freezer.state", "THAWED");
  /* pids come from the pids hierarchy */
  put("pids/edgecr/fz/cgroup.procs", "7\n");
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal(cgroup_pids(l, "/edgecr/fz", &pids, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(pids[0], 7);
  free(pids);
  /* enter: every hierarchy gets the pid */
  assert_int_equal(cgroup_enter(l, "/edgecr/fz", 99, &err), 0);
  for (size_t i = 0; v1_ctrls[i]; i++) {
    cleanup_free char *f = xasprintf("%s/edgecr/fz/cgroup.procs", v1_ctrls[i]);
    expect_file(f, "99");
  }
}

/* Real-time budgets: CONFIG_RT_GROUP_SCHED files in the v1 cpu hierarchy. */
/* Remove the files of group edgecr/<name> in every v1 hierarchy. */
static void empty_all(const char *name)
{
  for (size_t k = 0; v1_ctrls[k]; k++) {
    cleanup_free char *d = xasprintf("%s/edgecr/%s", v1_ctrls[k], name);
    empty_group(d);
  }
}

/* Leaked bandwidth heals: an ancestor holding more than its children need
 * is brought back to their sum at the next give-back. */
static void test_v1_rt_leak_heals(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  v1_group("edgecr/lk1");
  json_t *g = NULL;
  create_ok("/edgecr/lk1", "{\"cpu\": {\"realtimeRuntime\": 50000}}", NULL, &g);
  put(CPU "/edgecr/cpu.rt_runtime_us", "650000\n"); /* as if a crash leaked 600 ms */
  empty_all("lk1");
  assert_int_equal(destroy_made("/edgecr/lk1", g, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "0");
  json_decref(g);
}

static void test_v1_rt_budget(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  /* SCHED_FIFO without realtimeRuntime: the documented default */
  v1_group("edgecr/rt1");
  json_t *g1 = NULL;
  create_ok("/edgecr/rt1", NULL, fifo_process(), &g1);
  expect_file(CPU "/edgecr/rt1/cpu.rt_period_us", "1000000");
  char want[32];
  snprintf(want, sizeof want, "%d", EDGECR_RT_DEFAULT_RUNTIME_US);
  expect_file(CPU "/edgecr/rt1/cpu.rt_runtime_us", want);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", want); /* ancestor raised by the same */
  assert_int_equal(json_array_size(g1), 1);
  cleanup_free char *edgecr_cpu = xasprintf("%s/" CPU "/edgecr", g_root);
  assert_string_equal(json_string_value(json_object_get(json_array_get(g1, 0), "dir")), edgecr_cpu);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(g1, 0), "add")), EDGECR_RT_DEFAULT_RUNTIME_US);

  /* explicit budget, another period: the ancestor gets the same bandwidth at
   * its own period (20 ms per 100 ms = 200 ms per 1 s) */
  v1_group("edgecr/rt2");
  json_t *g2 = NULL;
  create_ok("/edgecr/rt2", "{\"cpu\": {\"realtimeRuntime\": 20000, \"realtimePeriod\": 100000}}", NULL, &g2);
  expect_file(CPU "/edgecr/rt2/cpu.rt_period_us", "100000");
  expect_file(CPU "/edgecr/rt2/cpu.rt_runtime_us", "20000");
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "300000");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(g2, 0), "add")), 200000);

  /* default runtime scales with an explicit period */
  v1_group("edgecr/rt3");
  json_t *g3 = NULL;
  create_ok("/edgecr/rt3", "{\"cpu\": {\"realtimePeriod\": 10000}}", fifo_process(), &g3);
  expect_file(CPU "/edgecr/rt3/cpu.rt_period_us", "10000");
  expect_file(CPU "/edgecr/rt3/cpu.rt_runtime_us", "1000");
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "400000");

  /* nested: every ancestor below the root is raised, at its own period */
  v1_group("edgecr/grp");
  v1_group("edgecr/grp/rt4");
  put(CPU "/edgecr/grp/cpu.rt_period_us", "500000\n");
  put(CPU "/edgecr/grp/cpu.rt_runtime_us", "0\n");
  json_t *g4 = NULL;
  create_ok("/edgecr/grp/rt4", "{\"cpu\": {\"realtimeRuntime\": 3000}}", NULL, &g4);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "403000");
  expect_file(CPU "/edgecr/grp/cpu.rt_runtime_us", "1500");
  expect_file(CPU "/edgecr/grp/rt4/cpu.rt_runtime_us", "3000");
  assert_int_equal(json_array_size(g4), 2);

  /* realtimeRuntime 0 asks for nothing, even for SCHED_FIFO */
  v1_group("edgecr/rt5");
  json_t *g5 = NULL;
  create_ok("/edgecr/rt5", "{\"cpu\": {\"realtimeRuntime\": 0}}", fifo_process(), &g5);
  assert_int_equal(json_array_size(g5), 0);
  expect_file(CPU "/edgecr/rt5/cpu.rt_runtime_us", "");
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "403000");
  json_decref(g5);

  /* the leaf refuses its budget (here: a write error): the error says so,
   * and the grant already made to the ancestor is recorded for destroy */
  v1_group("edgecr/rt6");
  cleanup_free char *leaf = xasprintf("%s/" CPU "/edgecr/rt6/cpu.rt_runtime_us", g_root);
  assert_int_equal(unlink(leaf), 0);
  assert_int_equal(symlink("/dev/full", leaf), 0);
  json_t *g6 = NULL;
  json_t *res = js("{\"cpu\": {\"realtimeRuntime\": 5000}}");
  assert_int_equal(cgroup_create(layout(), "/edgecr/rt6", res, NULL, 0, &g6, &err), -1);
  json_decref(res);
  assert_non_null(strstr(err->msg, "real-time budget: cannot give 5000 us per 1000000 us to the container"));
  edgecr_error_release(&err);
  assert_int_equal(json_array_size(g6), 1);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "408000");
  assert_int_equal(unlink(leaf), 0);
  empty_group(CPU "/edgecr/rt6");

  /* destroy gives the bandwidth back, in any order, and removes the groups.
   * The ancestor is recomputed from the children that remain, so each group
   * keeps its files until it is destroyed (as in the kernel, where they go
   * with the rmdir); empty_group() lets rmdir work on the fake tree. */
  empty_all("rt5");
  empty_all("rt6");
  assert_int_equal(destroy_made("/edgecr/rt6", g6, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "403000");
  empty_all("rt2");
  assert_int_equal(destroy_made("/edgecr/rt2", g2, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "203000");
  assert_false(exists(CPU "/edgecr/rt2"));
  assert_false(exists("memory/edgecr/rt2"));
  empty_all("rt1");
  assert_int_equal(destroy_made("/edgecr/rt1", g1, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "103000");
  empty_all("rt3");
  assert_int_equal(destroy_made("/edgecr/rt3", g3, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "3000");
  for (size_t k = 0; v1_ctrls[k]; k++) {
    cleanup_free char *d = xasprintf("%s/edgecr/grp/rt4", v1_ctrls[k]);
    empty_group(d);
    cleanup_free char *p = xasprintf("%s/edgecr/grp", v1_ctrls[k]);
    if (strcmp(v1_ctrls[k], CPU) != 0)
      empty_group(p);
  }
  /* grp still has its (fake) rt files: it stays, and gets its share back */
  assert_int_equal(destroy_made("/edgecr/grp/rt4", g4, &err), 0);
  expect_file(CPU "/edgecr/cpu.rt_runtime_us", "0");
  expect_file(CPU "/edgecr/grp/cpu.rt_runtime_us", "0");
  assert_false(exists(CPU "/edgecr/grp/rt4"));
  assert_true(exists("memory/edgecr/grp")); /* made by the test, not by edgecr: kept */
  assert_true(exists("memory/edgecr"));
  json_decref(g1);
  json_decref(g2);
  json_decref(g3);
  json_decref(g4);
  json_decref(g6);
}

/* ============================= hybrid ============================================ */

static const char *const hy_ctrls[] = {CPU, "memory", "pids", "cpuset", "devices", "freezer", "blkio", NULL};

static int hybrid_setup(void **state)
{
  make_root(state);
  for (size_t i = 0; hy_ctrls[i]; i++) {
    cleanup_free char *f = xasprintf("%s/cgroup.procs", hy_ctrls[i]);
    put(f, "");
    cleanup_free char *e = xasprintf("%s/edgecr", hy_ctrls[i]);
    group(e, v1_files);
    cleanup_free char *d = xasprintf("%s/edgecr/c1", hy_ctrls[i]);
    group(d, v1_files);
  }
  put("cpuset/cpuset.cpus", "0-1\n");
  put("cpuset/cpuset.mems", "0\n");
  put("unified/cgroup.controllers", "hugetlb\n");
  put("unified/cgroup.procs", "");
  put("unified/cgroup.subtree_control", "");
  put("unified/edgecr/cgroup.subtree_control", "");
  group("unified/edgecr/c1", v2_files);
  return 0;
}

static void test_hybrid_layout(void **state)
{
  (void) state;
  struct cgroup_layout *l = layout();
  assert_string_equal(cgroup_mode_name(l), "hybrid");
  assert_false(l->v2_only);
  cleanup_free char *u = xasprintf("%s/unified", g_root);
  assert_string_equal(l->unified, u);
  assert_string_equal(l->v2_controllers, "hugetlb");
  assert_int_equal(l->n_v1, 7); /* `unified` is not a v1 hierarchy */
}

static void test_hybrid_create(void **state)
{
  (void) state;
  struct capture root_sc = capture_at("unified/cgroup.subtree_control");
  json_t *g = NULL;
  /* SCHED_FIFO, but this kernel has no RT group scheduling (no rt files):
   * nothing to grant, and no error */
  create_ok("/edgecr/c1",
            "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 8388608}], \"memory\": {\"limit\": 65536},"
            " \"pids\": {\"limit\": 9}, \"cpu\": {\"shares\": 100}, \"unified\": {\"hugetlb.2MB.max\": \"4096\"}}",
            fifo_process(), &g);
  assert_int_equal(json_array_size(g), 0);
  json_decref(g);
  cleanup_free char *sc = captured(&root_sc);
  assert_string_equal(sc, "+hugetlb");
  capture_close(&root_sc, "unified/cgroup.subtree_control");
  /* unified is written after hugepageLimits: the explicit file wins */
  expect_file("unified/edgecr/c1/hugetlb.2MB.max", "4096");
  expect_file("memory/edgecr/c1/memory.limit_in_bytes", "65536");
  expect_file("pids/edgecr/c1/pids.max", "9");
  expect_file(CPU "/edgecr/c1/cpu.shares", "100"); /* v1 spelling, no weight conversion */
  expect_file("unified/edgecr/c1/cpu.weight", "");
  expect_file("unified/edgecr/c1/memory.max", "");
  expect_file("cpuset/edgecr/c1/cpuset.cpus", "0-1");

  create_ok("/edgecr/c1", "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 8388608}]}", NULL, NULL);
  expect_file("unified/edgecr/c1/hugetlb.2MB.max", "8388608");

  /* enter: v1 and (best effort) v2 */
  edgecr_error_t err = NULL;
  assert_int_equal(cgroup_enter(layout(), "/edgecr/c1", 77, &err), 0);
  expect_file("unified/edgecr/c1/cgroup.procs", "77");
  expect_file("memory/edgecr/c1/cgroup.procs", "77");
  /* the v2 half is best effort on a hybrid host: a missing tree is no error */
  cleanup_free char *procs = xasprintf("%s/unified/edgecr/c1/cgroup.procs", g_root);
  assert_int_equal(unlink(procs), 0);
  assert_int_equal(cgroup_enter(layout(), "/edgecr/c1", 78, &err), 0);
  expect_file("memory/edgecr/c1/cgroup.procs", "78");
  for (size_t i = 0; hy_ctrls[i]; i++) {
    cleanup_free char *f = xasprintf("%s/edgecr/c1/cgroup.procs", hy_ctrls[i]);
    put(f, "");
  }
}

static void test_hybrid_validate(void **state)
{
  (void) state;
  expect_valid("{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}], \"unified\": {\"hugetlb.2MB.max\": \"1\"},"
               " \"memory\": {\"swappiness\": 1}, \"devices\": [{\"allow\": true}], \"cpu\": {\"realtimeRuntime\": 10}}");
  expect_invalid("{\"network\": {\"classID\": 1}}", "network.classID",
                 "the `net_cls` cgroup controller is not available on this host (hybrid cgroups)");
}

int main(int argc, char **argv)
{
  const char *scenario = argc > 1 ? argv[1] : "";
  const struct CMUnitTest v2[] = {
    cmocka_unit_test(test_resolve_path),
    cmocka_unit_test(test_v2_layout),
    cmocka_unit_test(test_v2_create),
    cmocka_unit_test(test_v2_blockio),
    cmocka_unit_test(test_v2_fifo_without_budget),
    cmocka_unit_test(test_v2_validate),
    cmocka_unit_test(test_v2_freeze_pids_stats),
    cmocka_unit_test(test_v2_destroy),
    cmocka_unit_test(test_v2_make_refuses),
    cmocka_unit_test(test_v2_shared_parent),
    cmocka_unit_test(test_v2_pending_after_crash),
    cmocka_unit_test(test_v2_signal_only_members),
  };
  const struct CMUnitTest v1[] = {
    cmocka_unit_test(test_v1_layout),
    cmocka_unit_test(test_v1_create),
    cmocka_unit_test(test_v1_devices),
    cmocka_unit_test(test_v1_validate),
    cmocka_unit_test(test_v1_freezer),
    cmocka_unit_test(test_v1_rt_budget),
    cmocka_unit_test(test_v1_rt_leak_heals),
  };
  const struct CMUnitTest hybrid[] = {
    cmocka_unit_test(test_hybrid_layout),
    cmocka_unit_test(test_hybrid_create),
    cmocka_unit_test(test_hybrid_validate),
  };
  if (strcmp(scenario, "v2") == 0)
    return cmocka_run_group_tests_name("cgroup v2", v2, v2_setup, remove_root);
  if (strcmp(scenario, "v1") == 0)
    return cmocka_run_group_tests_name("cgroup v1", v1, v1_setup, remove_root);
  if (strcmp(scenario, "hybrid") == 0)
    return cmocka_run_group_tests_name("cgroup hybrid", hybrid, hybrid_setup, remove_root);
  fprintf(stderr, "usage: %s v2|v1|hybrid (one layout per process: the layout is cached)\n", argv[0]);
  return 2;
}
