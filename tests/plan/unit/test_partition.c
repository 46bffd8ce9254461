/* test_partition.c - the bookkeeping of partition.c on a fake cpuset tree
 * (plain files, EDGECR_PLAN_CPUSET): which cpusets move and back, the
 * record, a cpuset changed by its owner, a SIGKILL before every change
 * followed by a re-run forward or a teardown; and the switch's journalled
 * "partitions" step (between stops and starts, inverted by a rollback).
 * The kernel's own v1 rules (subset, exclusivity) are tested on the real
 * hierarchy by tests/plan/test_partitions.py.
 *
 * cgroup v2 (test_v2_*): this host's cpuset controller is bound to v1, so
 * the v2 path runs on a fake cgroup2 tree with a model of the kernel's
 * rules (kernel 6.1, cgroup-v2.rst "Cpuset Interface Files"), applied on
 * every write partition.c makes (plan_partition_write_hook): cpuset files
 * exist only below a parent with "cpuset" in cgroup.subtree_control; a
 * partition root is valid only under a valid partition root, with
 * non-empty cpuset.cpus that overlap no sibling's and some of the
 * parent's CPUs, else it reads "root invalid (reason)"; a valid root's
 * CPUs leave its parent's (and so its siblings') cpuset.cpus.effective;
 * a cpuset.cpus overlapping an exclusive sibling is refused (EINVAL);
 * "-cpuset" in a subtree_control a child still uses is refused (EBUSY).
 * Partitions not granted, siblings not moved, deeper or implicit cpusets
 * touched, or a wrong order of the writes, all fail these tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "partition.h"
#include "switch.h"
#include "util.h"

static char base[256], state[300], mnt[300];

static void put(const char *rel, const char *file, const char *v)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s/%s", mnt, rel, file);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(v, f);
  fclose(f);
}

static char *get(const char *rel, const char *file)
{
  char p[600], buf[128] = "";
  snprintf(p, sizeof p, "%s%s/%s", mnt, rel, file);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return strdup(buf);
}

static void cpuset(const char *rel, const char *cpus)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s", mnt, rel);
  mkdir(p, 0755);
  put(rel, "cpuset.cpus", cpus);
  put(rel, "cpuset.mems", "0");
  put(rel, "cpuset.sched_load_balance", "1");
  put(rel, "cpuset.cpu_exclusive", "0");
}

static void expect(const char *rel, const char *file, const char *want)
{
  char *v = get(rel, file);
  if (v == NULL || strcmp(v, want) != 0)
    fail_msg("%s/%s: `%s`, expected `%s`", rel, file, v ? v : "(missing)", want);
  free(v);
}

static bool exists(const char *rel)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s", mnt, rel);
  return access(p, F_OK) == 0;
}

static int setup(void **st)
{
  (void) st;
  snprintf(base, sizeof base, "/tmp/edgecr-test-partition-XXXXXX");
  assert_non_null(mkdtemp(base));
  snprintf(mnt, sizeof mnt, "%s/cpuset", base);
  snprintf(state, sizeof state, "%s/state", base);
  mkdir(mnt, 0755);
  mkdir(state, 0755);
  put("", "cpuset.cpus", "0-3");
  put("", "cpuset.mems", "0");
  put("", "cpuset.sched_load_balance", "1");
  cpuset("/host", "0-3");
  cpuset("/host/app", "1-2");
  cpuset("/edgecr-plan", "0-3");
  cpuset("/other", "0,2");
  setenv("EDGECR_PLAN_CPUSET", mnt, 1);
  return 0;
}

static int teardown(void **st)
{
  (void) st;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
  unsetenv("EDGECR_PLAN_CPUSET");
  unsetenv("EDGECR_PLAN_CPUSET_KILL_AT");
  return 0;
}

static void expect_partitioned(void)
{
  expect("", "cpuset.sched_load_balance", "0");
  expect("/edgecr-rt", "cpuset.cpus", "1,3");
  expect("/edgecr-rt", "cpuset.cpu_exclusive", "1");
  expect("/edgecr-rt", "cpuset.sched_load_balance", "0");
  expect("/edgecr-rt/cpu1", "cpuset.cpus", "1");
  expect("/edgecr-rt/cpu3", "cpuset.cpu_exclusive", "1");
  expect("/host", "cpuset.cpus", "0,2");
  expect("/host/app", "cpuset.cpus", "2");
  expect("/edgecr-plan", "cpuset.cpus", "0,2");
  expect("/other", "cpuset.cpus", "0,2"); /* off the partitions already: untouched */
}

static void expect_restored(void)
{
  expect("", "cpuset.sched_load_balance", "1");
  expect("/host", "cpuset.cpus", "0-3");
  expect("/host/app", "cpuset.cpus", "1-2");
  expect("/edgecr-plan", "cpuset.cpus", "0-3");
  expect("/other", "cpuset.cpus", "0,2");
  assert_false(exists("/edgecr-rt/cpu1"));
  char rec[400];
  snprintf(rec, sizeof rec, "%s/%s", state, PLAN_PARTITION_STATE);
  assert_int_equal(access(rec, F_OK), -1);
}

static void test_up_and_down(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  expect_partitioned();
  /* again: nothing to do, same state */
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  expect_partitioned();
  /* a change of set: CPU 3 given back, CPU 1 kept */
  assert_int_equal(plan_partitions_set(state, "1", &err), 0);
  expect("/host", "cpuset.cpus", "0,2-3");
  expect("/host/app", "cpuset.cpus", "2");
  assert_false(exists("/edgecr-rt/cpu3"));
  expect("/edgecr-rt", "cpuset.cpus", "1");
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect_restored();
}

static void test_owner_changes_are_kept(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  put("/host", "cpuset.cpus", "0");      /* its owner narrows it meanwhile */
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect("/host", "cpuset.cpus", "0");   /* theirs */
  /* the child edgecr moved is given back (the kernel would refuse more than
   * its parent has, EACCES, and edgecr then gives what fits: see
   * move_one; plain files accept it) */
  expect("/host/app", "cpuset.cpus", "1-2");
  char rec[400];
  snprintf(rec, sizeof rec, "%s/%s", state, PLAN_PARTITION_STATE);
  assert_int_equal(access(rec, F_OK), -1);
}

static void test_cpuset_left_empty_is_refused(void **st)
{
  (void) st;
  cpuset("/pinned", "1");
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1", &err), -1);
  assert_non_null(strstr(err->msg, "`/pinned` (cpus 1) would have no CPU left"));
  edgecr_error_release(&err);
  expect("/host", "cpuset.cpus", "0-3"); /* refused before anything changed */
  expect("", "cpuset.sched_load_balance", "1");
}

/* ---- cgroup v2: the kernel model ---- */

#define V2_ALL 0xfULL /* the fake node's CPUs 0-3 */

static uint64_t mask_parse(const char *s)
{
  uint64_t m = 0;
  while (s && *s) {
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s)
      break;
    if (*end == '-')
      b = strtol(end + 1, &end, 10);
    for (long i = a; i <= b; i++)
      m |= 1ULL << i;
    s = *end == ',' ? end + 1 : end;
  }
  return m;
}

static void mask_format(uint64_t m, char *out, size_t n)
{
  size_t len = 0;
  out[0] = '\0';
  for (int i = 0; i < 64; i++) {
    if (!(m >> i & 1) || (i > 0 && (m >> (i - 1) & 1)))
      continue;
    int j = i;
    while (j < 63 && (m >> (j + 1) & 1))
      j++;
    len += (size_t) (j > i ? snprintf(out + len, n - len, "%s%d-%d", len ? "," : "", i, j)
                           : snprintf(out + len, n - len, "%s%d", len ? "," : "", i));
  }
}

static char *file_of(const char *dir, const char *name)
{
  char p[700], buf[256] = "";
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return strdup(buf);
}

static void file_put(const char *dir, const char *name, const char *v)
{
  char p[700];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(v, f);
  fclose(f);
}

static bool word_in(const char *list, const char *w)
{
  char buf[256];
  snprintf(buf, sizeof buf, " %s ", list ? list : "");
  char pat[64];
  snprintf(pat, sizeof pat, " %s ", w);
  return strstr(buf, pat) != NULL;
}

static bool cpuset_on(const char *dir) /* the parent enables cpuset for it */
{
  char parent[700];
  snprintf(parent, sizeof parent, "%s", dir);
  *strrchr(parent, '/') = '\0';
  char *sub = file_of(parent, "cgroup.subtree_control");
  bool on = word_in(sub, "cpuset");
  free(sub);
  return on;
}

static uint64_t explicit_cpus(const char *dir)
{
  char *s = file_of(dir, "cpuset.cpus");
  uint64_t m = mask_parse(s);
  free(s);
  return m;
}

static bool wants_root(const char *dir)
{
  char *s = file_of(dir, ".prs");
  bool r = s && strcmp(s, "root") == 0;
  free(s);
  return r;
}

static bool valid_root(const char *dir) /* as last computed */
{
  char *s = file_of(dir, "cpuset.cpus.partition");
  bool r = s && strcmp(s, "root") == 0;
  free(s);
  return r;
}

struct kids {
  char v[16][700];
  int n;
};

static void children(const char *dir, struct kids *k)
{
  k->n = 0;
  DIR *dp = opendir(dir);
  struct dirent *de;
  while (dp && (de = readdir(dp)) != NULL)
    if (de->d_type == DT_DIR && de->d_name[0] != '.' && k->n < 16)
      snprintf(k->v[k->n++], sizeof k->v[0], "%s/%s", dir, de->d_name);
  if (dp)
    closedir(dp);
}

/* The partition state of child i of a parent holding `pool`: NULL when
 * valid, else the kernel's reason. */
static const char *invalid_reason(const struct kids *k, int i, bool parent_root, uint64_t parent_cpus)
{
  uint64_t mine = explicit_cpus(k->v[i]);
  if (!parent_root)
    return "Parent is not a partition root";
  if (mine == 0)
    return "cpuset.cpus is empty";
  for (int j = 0; j < k->n; j++)
    if (j != i && cpuset_on(k->v[j]) && (explicit_cpus(k->v[j]) & mine))
      return "Cpu list in cpuset.cpus not exclusive";
  if (!(mine & parent_cpus))
    return "Invalid cpu list in cpuset.cpus";
  return NULL;
}

/* cgroup `dir` holds `pool` (its CPUs before its child partitions take
 * theirs): computes its children's partition states and everyone's
 * cpuset.cpus.effective. */
static void model_walk(const char *dir, bool is_root, uint64_t pool, bool top)
{
  struct kids k;
  children(dir, &k);
  uint64_t granted[16] = {0}, eff = pool;
  for (int i = 0; i < k.n; i++) {
    if (!cpuset_on(k.v[i])) { /* the kernel removes its cpuset files */
      static const char *const files[] = {"cpuset.cpus", "cpuset.cpus.partition", "cpuset.cpus.effective", ".prs"};
      for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char p[800];
        snprintf(p, sizeof p, "%s/%s", k.v[i], files[f]);
        unlink(p);
      }
      continue;
    }
    char *c = file_of(k.v[i], "cpuset.cpus");
    if (c == NULL)
      file_put(k.v[i], "cpuset.cpus", "");
    free(c);
    const char *why = wants_root(k.v[i]) ? invalid_reason(&k, i, is_root, top ? V2_ALL : explicit_cpus(dir)) : "";
    char st[128];
    snprintf(st, sizeof st, "%s", why == NULL ? "root" : *why ? "root invalid (" : "member");
    if (why && *why)
      strcat(strcat(st, why), ")");
    file_put(k.v[i], "cpuset.cpus.partition", st);
    if (why == NULL) {
      granted[i] = explicit_cpus(k.v[i]) & pool;
      eff &= ~granted[i];
    }
  }
  char buf[64];
  mask_format(eff, buf, sizeof buf);
  file_put(dir, "cpuset.cpus.effective", buf);
  for (int i = 0; i < k.n; i++) {
    if (!cpuset_on(k.v[i]))
      continue;
    uint64_t want = explicit_cpus(k.v[i]);
    uint64_t child = granted[i] ? granted[i] : (want & eff ? want & eff : eff);
    model_walk(k.v[i], granted[i] != 0, child, false);
  }
}

/* Set by a test: runs once before the model writes a partition root. */
static void (*before_root)(const char *dir);

static int model_write(const char *path, const char *value)
{
  char dir[700];
  snprintf(dir, sizeof dir, "%s", path);
  char *name = strrchr(dir, '/');
  *name++ = '\0';
  bool top = strcmp(dir, mnt) == 0;
  if (strncmp(name, "cpuset.", 7) == 0 && (top || !cpuset_on(dir))) {
    errno = ENOENT; /* no such file: cpuset is not enabled for it */
    return -1;
  }
  if (strcmp(name, "cgroup.subtree_control") == 0) {
    char *cur = file_of(dir, name), next[256] = "";
    bool add = value[0] == '+';
    const char *ctl = value + 1;
    if (add && !top && !cpuset_on(dir)) {
      errno = ENOENT;
      free(cur);
      return -1;
    }
    if (!add) {
      struct kids k;
      children(dir, &k);
      for (int i = 0; i < k.n; i++) {
        char *sub = file_of(k.v[i], name);
        bool busy = word_in(sub, ctl);
        free(sub);
        if (busy) {
          free(cur);
          errno = EBUSY;
          return -1;
        }
      }
    }
    char *save = NULL;
    for (char *w = strtok_r(cur ? cur : (char[]){""}, " ", &save); w; w = strtok_r(NULL, " ", &save))
      if (strcmp(w, ctl) != 0)
        strcat(strcat(next, *next ? " " : ""), w);
    if (add)
      strcat(strcat(next, *next ? " " : ""), ctl);
    free(cur);
    file_put(dir, name, next);
  } else if (strcmp(name, "cpuset.cpus") == 0) {
    /* the exclusivity rule: no overlap with a valid partition root among
     * siblings, nor for one */
    char parent[700];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = '\0';
    struct kids k;
    children(parent, &k);
    uint64_t m = mask_parse(value);
    for (int i = 0; i < k.n; i++)
      if (strcmp(k.v[i], dir) != 0 && cpuset_on(k.v[i]) && (explicit_cpus(k.v[i]) & m) &&
          (valid_root(k.v[i]) || valid_root(dir))) {
        errno = EINVAL;
        return -1;
      }
    file_put(dir, name, value);
  } else if (strcmp(name, "cpuset.cpus.partition") == 0) {
    if (strcmp(value, "root") != 0 && strcmp(value, "member") != 0) {
      errno = EINVAL;
      return -1;
    }
    if (strcmp(value, "root") == 0 && before_root) {
      void (*hook)(const char *) = before_root;
      before_root = NULL;
      hook(dir);
    }
    file_put(dir, ".prs", value);
  } else {
    file_put(dir, name, value);
  }
  model_walk(mnt, true, V2_ALL, true);
  return 0;
}

static void v2_cgroup(const char *rel, const char *cpus)
{
  char p[600];
  snprintf(p, sizeof p, "%s%s", mnt, rel);
  mkdir(p, 0755);
  if (cpus)
    put(rel, "cpuset.cpus", cpus);
}

/* Root with "cpuset" enabled or not; /host and /edgecr-plan with explicit
 * CPUs (moved), /host/app deeper (left), /other off the cores already,
 * /empty inheriting (left: its effective CPUs shrink by themselves). */
static int setup_v2_with(bool cpuset_enabled)
{
  setup(NULL);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'/* && true", mnt);
  assert_int_equal(system(cmd), 0);
  put("", "cgroup.controllers", "cpuset cpu io memory pids");
  put("", "cgroup.subtree_control", cpuset_enabled ? "cpu cpuset memory" : "cpu memory");
  v2_cgroup("/host", cpuset_enabled ? "0-3" : NULL);
  put("/host", "cgroup.subtree_control", cpuset_enabled ? "cpuset" : "");
  v2_cgroup("/host/app", cpuset_enabled ? "1-2" : NULL);
  v2_cgroup("/edgecr-plan", cpuset_enabled ? "0-3" : NULL);
  v2_cgroup("/other", cpuset_enabled ? "0,2" : NULL);
  v2_cgroup("/empty", cpuset_enabled ? "" : NULL);
  plan_partition_write_hook = model_write;
  model_walk(mnt, true, V2_ALL, true);
  return 0;
}

static int setup_v2(void **st)
{
  (void) st;
  return setup_v2_with(true);
}

static int setup_v2_off(void **st)
{
  (void) st;
  return setup_v2_with(false);
}

static int teardown_v2(void **st)
{
  plan_partition_write_hook = NULL;
  before_root = NULL;
  return teardown(st);
}

static void expect_v2_partitioned(void)
{
  expect("/edgecr-rt", "cpuset.cpus.partition", "root");
  expect("/edgecr-rt", "cpuset.cpus.effective", "");
  expect("/edgecr-rt/cpu1", "cpuset.cpus.partition", "root");
  expect("/edgecr-rt/cpu1", "cpuset.cpus.effective", "1");
  expect("/edgecr-rt/cpu3", "cpuset.cpus.partition", "root");
  expect("/edgecr-rt/cpu3", "cpuset.cpus.effective", "3");
  expect("", "cpuset.cpus.effective", "0,2");
  expect("/host", "cpuset.cpus", "0,2");
  expect("/host/app", "cpuset.cpus", "1-2"); /* deeper: not edgecr's to move */
  expect("/host/app", "cpuset.cpus.effective", "2");
  expect("/edgecr-plan", "cpuset.cpus", "0,2");
  expect("/other", "cpuset.cpus", "0,2");
  expect("/empty", "cpuset.cpus", "");       /* implicit: left so */
  expect("/empty", "cpuset.cpus.effective", "0,2");
}

static void expect_v2_restored(void)
{
  expect("", "cgroup.subtree_control", "cpu cpuset memory");
  expect("", "cpuset.cpus.effective", "0-3");
  expect("/host", "cpuset.cpus", "0-3");
  expect("/host/app", "cpuset.cpus", "1-2");
  expect("/edgecr-plan", "cpuset.cpus", "0-3");
  expect("/other", "cpuset.cpus", "0,2");
  expect("/empty", "cpuset.cpus", "");
  expect("/empty", "cpuset.cpus.effective", "0-3");
  assert_false(exists("/edgecr-rt"));
  char rec[400];
  snprintf(rec, sizeof rec, "%s/%s", state, PLAN_PARTITION_STATE);
  assert_int_equal(access(rec, F_OK), -1);
}

static void test_v2_up_and_down(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  if (plan_partitions_set(state, "1,3", &err) < 0)
    fail_msg("%s", err->msg);
  expect_v2_partitioned();
  assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
  expect_v2_partitioned();
  assert_int_equal(plan_partitions_set(state, "1", &err), 0);
  expect("/host", "cpuset.cpus", "0,2-3");
  expect("", "cpuset.cpus.effective", "0,2-3");
  expect("/edgecr-rt/cpu1", "cpuset.cpus.partition", "root");
  assert_false(exists("/edgecr-rt/cpu3"));
  assert_int_equal(plan_partitions_set(state, "3", &err), 0);
  expect("/host", "cpuset.cpus", "0-2");
  expect("/edgecr-rt/cpu3", "cpuset.cpus.effective", "3");
  assert_false(exists("/edgecr-rt/cpu1"));
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect_v2_restored();
}

/* cpuset not enabled at the root: edgecr enables it for the partitions
 * and disables it again with the last one. */
static void test_v2_enables_cpuset_and_restores(void **st)
{
  (void) st;
  edgecr_error_t err = NULL;
  if (plan_partitions_set(state, "1", &err) < 0)
    fail_msg("%s", err->msg);
  expect("", "cgroup.subtree_control", "cpu memory cpuset");
  expect("/edgecr-rt/cpu1", "cpuset.cpus.partition", "root");
  expect("", "cpuset.cpus.effective", "0,2-3");
  expect("/host", "cpuset.cpus", ""); /* given cpuset files by the kernel, empty */
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect("", "cgroup.subtree_control", "cpu memory");
  assert_false(exists("/edgecr-rt"));
  assert_false(exists("/host/cpuset.cpus"));
}

static void someone_overlaps(const char *dir)
{
  (void) dir;
  put("/other", "cpuset.cpus", "0-3");
}

/* A sibling set onto the cores between the moves and the partition: the
 * kernel marks the partition invalid; the error says why, and the
 * partition is undone. */
static void test_v2_invalid_partition_is_an_error_and_undone(void **st)
{
  (void) st;
  before_root = someone_overlaps;
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1", &err), -1);
  assert_non_null(err);
  if (strstr(err->msg, "`/edgecr-rt`") == NULL || strstr(err->msg, "Cpu list in cpuset.cpus not exclusive") == NULL)
    fail_msg("%s", err->msg);
  edgecr_error_release(&err);
  assert_false(exists("/edgecr-rt"));
  expect("", "cpuset.cpus.effective", "0-3");
  put("/other", "cpuset.cpus", "0,2"); /* its owner puts it back */
  assert_int_equal(plan_partitions_set(state, "", &err), 0);
  expect_v2_restored();
}

static void test_v2_cpuset_left_empty_is_refused(void **st)
{
  (void) st;
  v2_cgroup("/pinned", "1");
  edgecr_error_t err = NULL;
  assert_int_equal(plan_partitions_set(state, "1", &err), -1);
  assert_non_null(strstr(err->msg, "`/pinned` (cpus 1) would have no CPU left"));
  edgecr_error_release(&err);
  expect("/host", "cpuset.cpus", "0-3");
  assert_false(exists("/edgecr-rt"));
}

/* Containers created on their own (partition_ctr.c) on the v2 model: the
 * partition is made with the first, shared, removed with the last; a
 * container whose state directory is gone holds nothing; a partition of
 * someone else's is not taken over. */
static void test_v2_containers_share_a_partition(void **st)
{
  (void) st;
  char root[400], d[500];
  snprintf(root, sizeof root, "%s/root", base);
  mkdir(root, 0755);
  snprintf(d, sizeof d, "%s/a", root);
  mkdir(d, 0755);
  snprintf(d, sizeof d, "%s/b", root);
  mkdir(d, 0755);
  edgecr_error_t err = NULL;
  if (plan_partition_join(root, "a", 1, &err) < 0)
    fail_msg("%s", err->msg);
  expect("/edgecr-rt/cpu1", "cpuset.cpus.partition", "root");
  expect("", "cpuset.cpus.effective", "0,2-3");
  assert_int_equal(plan_partition_join(root, "b", 1, &err), 0);
  assert_int_equal(plan_partition_join(root, "gone", 3, &err), 0); /* its create is killed: no state dir */
  expect("/edgecr-rt/cpu3", "cpuset.cpus.partition", "root");
  assert_int_equal(plan_partition_leave(root, "a", &err), 0); /* drops `gone` too */
  expect("/edgecr-rt/cpu1", "cpuset.cpus.partition", "root");
  assert_false(exists("/edgecr-rt/cpu3"));
  expect("/host", "cpuset.cpus", "0,2-3");
  assert_int_equal(plan_partition_leave(root, "b", &err), 0);
  expect_v2_restored();
  snprintf(d, sizeof d, "%s/.rt-partition", root);
  assert_int_equal(access(d, F_OK), -1);
  assert_int_equal(plan_partition_leave(root, "b", &err), 0); /* holds none: nothing to do */
  /* someone else's partitions (a plan's record elsewhere) */
  char other[400];
  snprintf(other, sizeof other, "%s/plan", base);
  mkdir(other, 0755);
  assert_int_equal(plan_partitions_set(other, "3", &err), 0);
  assert_int_equal(plan_partition_join(root, "a", 1, &err), -1);
  assert_non_null(strstr(err->msg, "is not this runtime root's"));
  edgecr_error_release(&err);
  expect("/edgecr-rt/cpu3", "cpuset.cpus.partition", "root");
  assert_int_equal(plan_partitions_set(other, "", &err), 0);
  expect_v2_restored();
}

static void test_container_request(void **st)
{
  (void) st;
  json_t *ann = json_pack("{s:s}", PLAN_PARTITION_ANNOTATION, "true");
  json_t *res = json_pack("{s:{s:s}}", "cpu", "cpus", "1");
  int cpu = 7;
  edgecr_error_t err = NULL;
  if (sysconf(_SC_NPROCESSORS_CONF) > 1) { /* CPU 1 exists */
    assert_int_equal(plan_partition_wanted(ann, true, res, &cpu, &err), 0);
    assert_int_equal(cpu, 1);
  }
  assert_int_equal(plan_partition_wanted(ann, false, res, &cpu, &err), -1);
  assert_non_null(strstr(err->msg, "process.scheduler.policy is not SCHED_DEADLINE"));
  edgecr_error_release(&err);
  json_object_set_new(json_object_get(res, "cpu"), "cpus", json_string("0-1"));
  assert_int_equal(plan_partition_wanted(ann, true, res, &cpu, &err), -1);
  assert_non_null(strstr(err->msg, "exactly one CPU (the partition's), not `0-1`"));
  edgecr_error_release(&err);
  json_object_set_new(ann, PLAN_PARTITION_ANNOTATION, json_string("yes"));
  assert_int_equal(plan_partition_wanted(ann, true, res, &cpu, &err), -1);
  edgecr_error_release(&err);
  json_object_set_new(ann, PLAN_PARTITION_ANNOTATION, json_string("false"));
  assert_int_equal(plan_partition_wanted(ann, true, res, &cpu, &err), 0);
  assert_int_equal(cpu, -1);
  char *p = plan_partition_container_cgroup(2, "/edgecr/x");
  assert_string_equal(p, "/edgecr-rt/cpu2/edgecr/x");
  free(p);
  json_decref(ann);
  json_decref(res);
}

/* SIGKILL before the k-th change, for every k, then a re-run forward (or
 * the teardown): always the full partition (or exactly the node as before). */
static void kill_at_every_step(void (*partitioned)(void), void (*restored)(void))
{
  for (int teardown_after = 0; teardown_after < 2; teardown_after++)
    for (int k = 1;; k++) {
      pid_t pid = fork();
      if (pid == 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        setenv("EDGECR_PLAN_CPUSET_KILL_AT", n, 1);
        _exit(plan_partitions_set(state, "1,3", NULL) == 0 ? 0 : 3);
      }
      int status;
      assert_int_equal(waitpid(pid, &status, 0), pid);
      edgecr_error_t err = NULL;
      if (WIFEXITED(status)) {
        assert_int_equal(WEXITSTATUS(status), 0);
        partitioned();
        assert_int_equal(plan_partitions_set(state, "", &err), 0);
        restored();
        break;
      }
      assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      if (!teardown_after) {
        assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
        partitioned();
      }
      assert_int_equal(plan_partitions_set(state, "", &err), 0);
      restored();
      /* and a kill during the teardown itself */
      assert_int_equal(plan_partitions_set(state, "1,3", &err), 0);
      pid = fork();
      if (pid == 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        setenv("EDGECR_PLAN_CPUSET_KILL_AT", n, 1);
        _exit(plan_partitions_set(state, "", NULL) == 0 ? 0 : 3);
      }
      assert_int_equal(waitpid(pid, &status, 0), pid);
      assert_int_equal(plan_partitions_set(state, "", &err), 0);
      restored();
      assert_true(k < 100);
    }
}

static void test_kill_at_every_step(void **st)
{
  (void) st;
  kill_at_every_step(expect_partitioned, expect_restored);
}

static void test_v2_kill_at_every_step(void **st)
{
  (void) st;
  kill_at_every_step(expect_v2_partitioned, expect_v2_restored);
}

/* The switch's actions: stops, then the partitions step, then starts; a
 * rollback journal runs the inverse step. */
static void test_switch_step(void **st)
{
  (void) st;
  json_t *from = json_pack("{s:{s:s},s:[{s:s,s:s,s:o}]}", "node", "partitions", "1", "containers", "name", "a",
                           "backend", "linux", "realtime", json_null());
  json_t *to = json_pack("{s:{s:s},s:[{s:s,s:s,s:o}]}", "node", "partitions", "1,3", "containers", "name", "a",
                         "backend", "wasm", "realtime", json_null());
  struct plan_located f = {.name = "p", .commit = "c1", .checkout = "/x", .plan = from};
  struct plan_located t = {.name = "p", .commit = "c2", .checkout = "/y", .plan = to};
  size_t kept;
  edgecr_error_t err = NULL;
  json_t *actions = plan_switch_actions(&f, &t, &kept, &err);
  assert_non_null(actions);
  assert_int_equal(json_array_size(actions), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 0), "op")), "stop");
  json_t *p = json_array_get(actions, 1);
  assert_string_equal(json_string_value(json_object_get(p, "op")), "partitions");
  assert_string_equal(json_string_value(json_object_get(p, "cpus")), "1,3");
  assert_string_equal(json_string_value(json_object_get(p, "undo")), "1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 2), "op")), "start");
  json_decref(actions);
  /* same partitions: no step */
  json_object_set_new(json_object_get(to, "node"), "partitions", json_string("1"));
  actions = plan_switch_actions(&f, &t, &kept, &err);
  assert_int_equal(json_array_size(actions), 2);
  json_decref(actions);
  json_decref(from);
  json_decref(to);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_up_and_down, setup, teardown),
    cmocka_unit_test_setup_teardown(test_owner_changes_are_kept, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cpuset_left_empty_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_at_every_step, setup, teardown),
    cmocka_unit_test(test_switch_step),
    cmocka_unit_test_setup_teardown(test_v2_up_and_down, setup_v2, teardown_v2),
    cmocka_unit_test_setup_teardown(test_v2_enables_cpuset_and_restores, setup_v2_off, teardown_v2),
    cmocka_unit_test_setup_teardown(test_v2_invalid_partition_is_an_error_and_undone, setup_v2, teardown_v2),
    cmocka_unit_test_setup_teardown(test_v2_cpuset_left_empty_is_refused, setup_v2, teardown_v2),
    cmocka_unit_test_setup_teardown(test_v2_kill_at_every_step, setup_v2, teardown_v2),
    cmocka_unit_test_setup_teardown(test_v2_containers_share_a_partition, setup_v2, teardown_v2),
    cmocka_unit_test(test_container_request),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
