/* partition.c - deadline partitions of partition.h (cgroup v1 cpusets,
 * or cgroup v2 partition roots).
 *
 * One call brings the node from whatever partitions it has to the ones
 * asked for, in an order the kernel accepts at every step:
 *   1. partitions no longer wanted are removed (their containers are
 *      stopped by then: the switch stops before it partitions);
 *   2. the node's other cpusets are moved off the wanted cores, deepest
 *      first (a parent may not shrink below a child), and given back the
 *      cores no longer partitioned, shallowest first (a child may not grow
 *      past its parent);
 *   3. the root stops balancing (root domains then follow the balanced
 *      cpusets), /edgecr-rt and one exclusive /edgecr-rt/cpuK per core
 *      are made.
 * cgroup v2 is the same walk with the kernel's v2 rules: only the root's
 * children need moving, and only those whose cpuset.cpus is set (an empty
 * one means "the parent's effective CPUs", which the kernel shrinks when
 * a partition takes CPUs), and each cgroup of step 3 is written
 * cpuset.cpus.partition = root and read back (the kernel marks a partition
 * it cannot grant "root invalid (reason)" without failing the write).
 * Each change is recorded in <state>/cpusets.json before it is made, with
 * the value it replaces: the record is what lets a re-run after SIGKILL,
 * and the final teardown, put the node's cpusets back. */
#include "partition.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_CPUS 1024

struct cpus {
  uint64_t b[MAX_CPUS / 64];
};

/* ---- CPU lists ("0-3,5") ---- */

static int cpus_parse(const char *s, struct cpus *c)
{
  memset(c, 0, sizeof *c);
  while (s && *s) {
    while (*s == ' ' || *s == '\n' || *s == ',')
      s++;
    if (*s == '\0')
      break;
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s)
      return -1;
    if (*end == '-') {
      s = end + 1;
      b = strtol(s, &end, 10);
      if (end == s)
        return -1;
    }
    if (a < 0 || b < a || b >= MAX_CPUS)
      return -1;
    for (long i = a; i <= b; i++)
      c->b[i / 64] |= 1ULL << (i % 64);
    s = end;
  }
  return 0;
}

static bool cpus_has(const struct cpus *c, int i) { return (c->b[i / 64] >> (i % 64)) & 1; }

static char *cpus_format(const struct cpus *c)
{
  size_t cap = 64, len = 0;
  char *s = xmalloc0(cap);
  for (int i = 0; i < MAX_CPUS; i++) {
    if (!cpus_has(c, i) || (i > 0 && cpus_has(c, i - 1)))
      continue;
    int j = i;
    while (j + 1 < MAX_CPUS && cpus_has(c, j + 1))
      j++;
    if (len + 32 > cap)
      s = xrealloc(s, cap *= 2);
    len += (size_t) (j > i ? snprintf(s + len, cap - len, "%s%d-%d", len ? "," : "", i, j)
                           : snprintf(s + len, cap - len, "%s%d", len ? "," : "", i));
  }
  return s;
}

static bool cpus_empty(const struct cpus *c)
{
  for (size_t i = 0; i < MAX_CPUS / 64; i++)
    if (c->b[i])
      return false;
  return true;
}

static bool cpus_equal(const struct cpus *a, const struct cpus *b) { return memcmp(a, b, sizeof *a) == 0; }

static bool cpus_subset(const struct cpus *a, const struct cpus *b)
{
  for (size_t i = 0; i < MAX_CPUS / 64; i++)
    if (a->b[i] & ~b->b[i])
      return false;
  return true;
}

static struct cpus cpus_minus(const struct cpus *a, const struct cpus *b)
{
  struct cpus r;
  for (size_t i = 0; i < MAX_CPUS / 64; i++)
    r.b[i] = a->b[i] & ~b->b[i];
  return r;
}

static struct cpus cpus_and(const struct cpus *a, const struct cpus *b)
{
  struct cpus r;
  for (size_t i = 0; i < MAX_CPUS / 64; i++)
    r.b[i] = a->b[i] & b->b[i];
  return r;
}

/* ---- the node's cpuset files ---- */

int (*plan_partition_write_hook)(const char *path, const char *value);

struct ctx {
  const char *state_dir;
  char *mount;    /* the v1 cpuset hierarchy, or the cgroup2 mount */
  bool v2;
  json_t *rec;    /* the record (cpusets.json) */
  edgecr_error_t *err;
};

static char *read_trimmed(const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  char buf[4096];
  FILE *f = fopen(p, "re");
  if (f == NULL)
    return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return xstrdup(buf);
}

static bool read_cpus(const char *dir, struct cpus *c)
{
  cleanup_free char *s = read_trimmed(dir, "cpuset.cpus");
  return s != NULL && cpus_parse(s, c) == 0;
}

/* The crash tests kill the process before the N-th change of a run
 * (EDGECR_PLAN_CPUSET_KILL_AT=N): every state in between must recover.
 * EDGECR_PLAN_CPUSET_TRACE=FILE appends one line per change (they count
 * the steps with it). */
static void maybe_killed(const char *what, const char *where)
{
  static int step;
  const char *at = getenv("EDGECR_PLAN_CPUSET_KILL_AT"), *trace = getenv("EDGECR_PLAN_CPUSET_TRACE");
  step++;
  if (trace && *trace) {
    FILE *f = fopen(trace, "ae");
    if (f) {
      fprintf(f, "%d %s %s\n", step, what, where);
      fclose(f);
    }
  }
  if (at && atoi(at) == step)
    raise(SIGKILL);
}

static int save_record(struct ctx *c)
{
  cleanup_free char *path = xasprintf("%s/%s", c->state_dir, PLAN_PARTITION_STATE);
  cleanup_free char *text = json_dumps(c->rec, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  if (write_file_durable(path, text, strlen(text), 0644, c->err) < 0)
    return edgecr_error_wrap(c->err, "record the node's cpusets");
  return 0;
}

/* One write of a control file.  O_CREAT changes nothing on cgroupfs (the
 * files exist, and it creates none) and lets the unit tests use a tree of
 * plain files (EDGECR_PLAN_CPUSET). */
static int put(struct ctx *c, const char *dir, const char *file, const char *value)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  maybe_killed(value, p);
  if (plan_partition_write_hook) {
    if (plan_partition_write_hook(p, value) < 0)
      return edgecr_error_make(c->err, errno, "cpuset partition: write `%s` to %s", value, p);
    return 0;
  }
  cleanup_close int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, value, strlen(value)) < 0)
    return edgecr_error_make(c->err, errno, "cpuset partition: write `%s` to %s", value, p);
  return 0;
}

/* The relative path of a cpuset ("/edgecr") for records and messages. */
static const char *rel(const struct ctx *c, const char *dir)
{
  const char *r = dir + strlen(c->mount);
  return *r ? r : "/";
}

/* ---- the record ---- */

static json_t *moved_entry(struct ctx *c, const char *relpath, size_t *idx)
{
  json_t *moved = json_object_get(c->rec, "moved");
  for (size_t i = 0; i < json_array_size(moved); i++) {
    json_t *e = json_array_get(moved, i);
    if (strcmp(json_string_value(json_object_get(e, "path")), relpath) == 0) {
      if (idx)
        *idx = i;
      return e;
    }
  }
  return NULL;
}

static int load_record(struct ctx *c)
{
  cleanup_free char *path = xasprintf("%s/%s", c->state_dir, PLAN_PARTITION_STATE);
  if (access(path, F_OK) == 0) {
    json_error_t je;
    c->rec = json_load_file(path, 0, &je);
    if (c->rec == NULL)
      return edgecr_error_make(c->err, 0, "%s:%d: %s", path, je.line, je.text);
    return 0;
  }
  c->rec = json_pack("{s:s,s:i,s:n,s:[]}", "mount", c->mount, "cgroup", c->v2 ? 2 : 1, "root_load_balance", "moved");
  return 0;
}

/* ---- 1. partitions no longer wanted ---- */

static int remove_dir(struct ctx *c, const char *dir)
{
  if (access(dir, F_OK) < 0)
    return 0;
  maybe_killed("rmdir", dir);
  if (rmdir(dir) < 0 && errno == ENOTEMPTY) {
    /* A cgroup never says ENOTEMPTY (child cgroups or tasks: EBUSY): a
     * plain directory of the tests' fake hierarchy, whose files go first. */
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp && (de = readdir(dp)) != NULL)
      if (de->d_type == DT_REG) {
        cleanup_free char *f = xasprintf("%s/%s", dir, de->d_name);
        (void) unlink(f);
      }
    if (dp)
      closedir(dp);
    (void) rmdir(dir);
  }
  if (access(dir, F_OK) == 0 && rmdir(dir) < 0 && errno != ENOENT)
    return edgecr_error_make(c->err, errno, "cpuset partition: remove `%s` (a container of the plan may still "
                                            "run in it)", rel(c, dir));
  return 0;
}

static int drop_partitions(struct ctx *c, const struct cpus *have, const struct cpus *want)
{
  cleanup_free char *parent = xasprintf("%s%s", c->mount, PLAN_PARTITION_PARENT);
  for (int k = 0; k < MAX_CPUS; k++) {
    if (!cpus_has(have, k) || cpus_has(want, k))
      continue;
    cleanup_free char *dir = xasprintf("%s/cpu%d", parent, k);
    if (remove_dir(c, dir) < 0)
      return -1;
  }
  struct cpus keep = cpus_and(have, want);
  if (access(parent, F_OK) < 0)
    return 0;
  if (cpus_empty(&keep))
    return remove_dir(c, parent);
  struct cpus now;
  if (read_cpus(parent, &now) && !cpus_equal(&now, &keep)) {
    cleanup_free char *s = cpus_format(&keep);
    return put(c, parent, "cpuset.cpus", s);
  }
  return 0;
}

/* ---- 2. the node's other cpusets ---- */

struct dirs {
  char **v;
  size_t n, cap;
};

static void collect(const char *dir, struct dirs *d, const char *skip, int levels)
{
  DIR *dp = opendir(dir);
  if (dp == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(dp)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)
      continue;
    char *child = xasprintf("%s/%s", dir, de->d_name);
    if (strcmp(child, skip) == 0) {
      free(child);
      continue;
    }
    if (d->n == d->cap)
      d->v = xrealloc(d->v, (d->cap = d->cap ? 2 * d->cap : 16) * sizeof *d->v);
    d->v[d->n++] = child;
    if (levels > 1)
      collect(child, d, skip, levels - 1);
  }
  closedir(dp);
}

static int depth(const char *p)
{
  int n = 0;
  for (; *p; p++)
    n += *p == '/';
  return n;
}

static int cmp_deepest_first(const void *a, const void *b)
{
  return depth(*(char *const *) b) - depth(*(char *const *) a);
}

/* What cpuset `dir` should hold with partitions `want`: what it had before
 * edgecr touched it, less the partitioned cores.  The record says what
 * edgecr last wrote ("set") and, while a write is in flight, what it was
 * writing ("next"): a cpuset reading anything else was changed by its
 * owner since and is theirs again (its record is dropped). */
static struct cpus desired(struct ctx *c, const char *dir, const struct cpus *now, const struct cpus *want)
{
  size_t idx;
  json_t *e = moved_entry(c, rel(c, dir), &idx);
  struct cpus base = *now, set, next;
  const char *nx = json_string_value(json_object_get(e, "next"));
  bool mine = e && ((cpus_parse(json_string_value(json_object_get(e, "set")), &set) == 0 && cpus_equal(&set, now)) ||
                    (nx && cpus_parse(nx, &next) == 0 && cpus_equal(&next, now)));
  if (mine)
    (void) cpus_parse(json_string_value(json_object_get(e, "cpus")), &base);
  struct cpus to = cpus_minus(&base, want);
  /* Someone else's now, or already back where it was: no record left. */
  if (e && (!mine || (cpus_equal(&base, now) && cpus_equal(&to, now))))
    json_array_remove(json_object_get(c->rec, "moved"), idx);
  return to;
}

static void drop_entry(struct ctx *c, const char *dir)
{
  size_t idx;
  if (moved_entry(c, rel(c, dir), &idx))
    json_array_remove(json_object_get(c->rec, "moved"), idx);
}

/* Before a batch of moves: each entry says what it will be ("next"), so
 * that a cpuset found at either value after a crash is known as edgecr's. */
static void announce_move(struct ctx *c, const char *dir, const struct cpus *now, const struct cpus *to)
{
  cleanup_free char *was = cpus_format(now);
  cleanup_free char *s = cpus_format(to);
  json_t *e = moved_entry(c, rel(c, dir), NULL);
  if (e == NULL) {
    e = json_pack("{s:s,s:s,s:s}", "path", rel(c, dir), "cpus", was, "set", was);
    json_array_append_new(json_object_get(c->rec, "moved"), e);
  }
  json_object_set_new(e, "next", json_string(s));
}

/* One move of a batch (announced and saved before): write, and note the
 * outcome in the record (saved after the batch). */
static int move_one(struct ctx *c, const char *dir, const struct cpus *now, const struct cpus *to)
{
  cleanup_free char *s = cpus_format(to);
  json_t *e = moved_entry(c, rel(c, dir), NULL);
  edgecr_error_t failed = NULL;
  struct ctx quiet = *c;
  quiet.err = &failed;
  if (put(&quiet, dir, "cpuset.cpus", s) < 0) {
    /* Removed by its owner meanwhile: nothing to move or restore.  Growing
     * back under a parent its owner narrowed meanwhile (EACCES): as much of
     * it as the parent has. */
    struct cpus parent_cpus, fit;
    cleanup_free char *parent = xstrdup(dir);
    *strrchr(parent, '/') = '\0';
    bool gone = access(dir, F_OK) < 0;
    bool narrowed = edgecr_error_errno(&failed) == EACCES && read_cpus(parent, &parent_cpus) &&
                    !cpus_subset(to, &parent_cpus);
    if (gone || narrowed)
      edgecr_error_release(&failed);
    if (gone) {
      drop_entry(c, dir);
      return 0;
    }
    if (!narrowed) {
      if (c->err)
        *c->err = failed;
      else
        edgecr_error_release(&failed);
      return -1;
    }
    fit = cpus_and(to, &parent_cpus);
    free(s);
    s = cpus_format(&fit);
    if (cpus_equal(&fit, now) || cpus_empty(&fit)) {
      drop_entry(c, dir);
      return 0;
    }
    json_object_set_new(e, "next", json_string(s));
    if (save_record(c) < 0 || put(c, dir, "cpuset.cpus", s) < 0)
      return -1;
  }
  json_object_set_new(e, "set", json_string(s));
  json_object_del(e, "next");
  if (strcmp(json_string_value(json_object_get(e, "cpus")), s) == 0)
    drop_entry(c, dir); /* back where it was: nothing left to restore */
  return 0;
}

/* Records of cpusets that are gone (removed by their owner) restore nothing. */
static void prune_gone(struct ctx *c)
{
  json_t *moved = json_object_get(c->rec, "moved");
  for (size_t i = json_array_size(moved); i-- > 0;) {
    cleanup_free char *dir =
        xasprintf("%s%s", c->mount, json_string_value(json_object_get(json_array_get(moved, i), "path")));
    if (access(dir, F_OK) < 0)
      json_array_remove(moved, i);
  }
}

static int move_cpusets(struct ctx *c, const struct cpus *want)
{
  prune_gone(c);
  cleanup_free char *skip = xasprintf("%s%s", c->mount, PLAN_PARTITION_PARENT);
  struct dirs d = {0};
  /* v2: only the root's children (the exclusivity rule is between
   * siblings, and deeper cgroups' effective CPUs shrink with their
   * parents'). */
  collect(c->mount, &d, skip, c->v2 ? 1 : 1 << 30);
  qsort(d.v, d.n, sizeof *d.v, cmp_deepest_first);
  int r = 0;
  struct cpus *now = xmalloc0((d.n + 1) * sizeof *now), *to = xmalloc0((d.n + 1) * sizeof *to);
  bool *ok = xmalloc0(d.n + 1);
  /* First every check, so that a cpuset that cannot move fails the call
   * before anything changed. */
  for (size_t i = 0; i < d.n && r == 0; i++) {
    ok[i] = read_cpus(d.v[i], &now[i]);
    if (!ok[i])
      continue;
    to[i] = desired(c, d.v[i], &now[i], want);
    if (cpus_empty(&to[i]) && !cpus_empty(&now[i])) {
      cleanup_free char *s = cpus_format(&now[i]);
      r = edgecr_error_make(c->err, EBUSY, "cpuset partition: the node's cpuset `%s` (cpus %s) would have no CPU "
                                           "left outside the partitions; it is not edgecr's to empty",
                            rel(c, d.v[i]), s);
    }
  }
  bool any = false;
  for (size_t i = 0; i < d.n && r == 0; i++)
    if (ok[i] && !cpus_equal(&to[i], &now[i])) {
      announce_move(c, d.v[i], &now[i], &to[i]);
      any = true;
    }
  if (r == 0 && any)
    r = save_record(c);
  for (size_t i = 0; i < d.n && r == 0; i++) /* shrink, deepest first */
    if (ok[i] && !cpus_equal(&to[i], &now[i]) && cpus_subset(&to[i], &now[i]))
      r = move_one(c, d.v[i], &now[i], &to[i]);
  for (size_t i = d.n; i-- > 0 && r == 0;) /* grow back, shallowest first */
    if (ok[i] && !cpus_equal(&to[i], &now[i]) && !cpus_subset(&to[i], &now[i]))
      r = move_one(c, d.v[i], &now[i], &to[i]);
  if (r == 0 && any)
    r = save_record(c);
  for (size_t i = 0; i < d.n; i++)
    free(d.v[i]);
  free(d.v);
  free(now);
  free(to);
  free(ok);
  return r;
}

/* ---- 3. the root and the partitions ---- */

static int root_balance(struct ctx *c, bool partitioned)
{
  cleanup_free char *cur = read_trimmed(c->mount, "cpuset.sched_load_balance");
  json_t *was = json_object_get(c->rec, "root_load_balance");
  if (cur == NULL)
    return edgecr_error_make(c->err, ENOENT, "cpuset partition: no cpuset.sched_load_balance in `%s`", c->mount);
  if (partitioned) {
    if (strcmp(cur, "0") == 0)
      return 0;
    if (json_is_null(was)) {
      json_object_set_new(c->rec, "root_load_balance", json_string(cur));
      if (save_record(c) < 0)
        return -1;
    }
    return put(c, c->mount, "cpuset.sched_load_balance", "0");
  }
  if (json_is_string(was) && strcmp(cur, json_string_value(was)) != 0 &&
      put(c, c->mount, "cpuset.sched_load_balance", json_string_value(was)) < 0)
    return -1;
  return 0;
}

static int make_dir(struct ctx *c, const char *dir, const char *cpus, const char *mems, bool balance)
{
  if (access(dir, F_OK) < 0) {
    maybe_killed("mkdir", dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return edgecr_error_make(c->err, errno, "cpuset partition: create `%s`", rel(c, dir));
  }
  cleanup_free char *m = read_trimmed(dir, "cpuset.mems");
  cleanup_free char *k = read_trimmed(dir, "cpuset.cpus");
  cleanup_free char *x = read_trimmed(dir, "cpuset.cpu_exclusive");
  cleanup_free char *b = read_trimmed(dir, "cpuset.sched_load_balance");
  struct cpus have, want;
  if ((m == NULL || strcmp(m, mems) != 0) && put(c, dir, "cpuset.mems", mems) < 0)
    return -1;
  if ((k == NULL || !read_cpus(dir, &have) || cpus_parse(cpus, &want) < 0 || !cpus_equal(&have, &want)) &&
      put(c, dir, "cpuset.cpus", cpus) < 0)
    return -1;
  if ((x == NULL || strcmp(x, "1") != 0) && put(c, dir, "cpuset.cpu_exclusive", "1") < 0)
    return -1;
  if ((b == NULL || strcmp(b, balance ? "1" : "0") != 0) &&
      put(c, dir, "cpuset.sched_load_balance", balance ? "1" : "0") < 0)
    return -1;
  return 0;
}

static int make_partitions(struct ctx *c, const struct cpus *want)
{
  cleanup_free char *mems = read_trimmed(c->mount, "cpuset.mems");
  cleanup_free char *all = cpus_format(want);
  cleanup_free char *parent = xasprintf("%s%s", c->mount, PLAN_PARTITION_PARENT);
  if (mems == NULL)
    return edgecr_error_make(c->err, ENOENT, "cpuset partition: no cpuset.mems in `%s`", c->mount);
  if (make_dir(c, parent, all, mems, false) < 0)
    return -1;
  for (int k = 0; k < MAX_CPUS; k++) {
    if (!cpus_has(want, k))
      continue;
    cleanup_free char *dir = xasprintf("%s/cpu%d", parent, k);
    char one[16];
    snprintf(one, sizeof one, "%d", k);
    if (make_dir(c, dir, one, mems, true) < 0)
      return -1;
  }
  return 0;
}

/* ---- 3 (cgroup v2). partition roots ---- */

static bool has_word(const char *list, const char *w)
{
  size_t n = strlen(w);
  for (const char *p = list; p && (p = strstr(p, w)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
      return true;
  return false;
}

/* The root's children get cpuset files only with "cpuset" in the root's
 * cgroup.subtree_control; edgecr records that it enabled it, to disable
 * it again with the last partition. */
static int v2_root_cpuset(struct ctx *c, bool partitioned)
{
  cleanup_free char *cur = read_trimmed(c->mount, "cgroup.subtree_control");
  bool on = has_word(cur, "cpuset");
  json_t *added = json_object_get(c->rec, "subtree_cpuset");
  if (partitioned) {
    if (on)
      return 0;
    if (added == NULL) {
      json_object_set_new(c->rec, "subtree_cpuset", json_string("added"));
      if (save_record(c) < 0)
        return -1;
    }
    return put(c, c->mount, "cgroup.subtree_control", "+cpuset");
  }
  if (added == NULL)
    return 0;
  if (on) {
    /* Refused (EBUSY) while some child enabled cpuset for its own
     * children meanwhile: theirs to keep then. */
    edgecr_error_t busy = NULL;
    struct ctx quiet = *c;
    quiet.err = &busy;
    if (put(&quiet, c->mount, "cgroup.subtree_control", "-cpuset") < 0)
      edgecr_error_release(&busy);
  }
  json_object_del(c->rec, "subtree_cpuset");
  return save_record(c);
}

/* After `root` is written: the kernel grants the partition or marks it
 * "root invalid (reason)".  Invalid: an error with the kernel's reason,
 * and the cgroup is made a member again and removed. */
static int v2_check_root(struct ctx *c, const char *dir)
{
  cleanup_free char *st = read_trimmed(dir, "cpuset.cpus.partition");
  if (st && strcmp(st, "root") == 0)
    return 0;
  edgecr_error_t ignored = NULL;
  struct ctx quiet = *c;
  quiet.err = &ignored;
  if (put(&quiet, dir, "cpuset.cpus.partition", "member") == 0)
    (void) remove_dir(&quiet, dir);
  edgecr_error_release(&ignored);
  const char *why = st ? strchr(st, '(') : NULL;
  return edgecr_error_make(c->err, EINVAL, "cpuset partition: the kernel did not make `%s` a partition root: "
                                           "cpuset.cpus.partition reads `%s`%s%.*s", rel(c, dir),
                           st ? st : "(missing)", why ? ": " : "", why ? (int) strcspn(why + 1, ")") : 0,
                           why ? why + 1 : "");
}

static int v2_make_dir(struct ctx *c, const char *dir, const char *cpus)
{
  if (access(dir, F_OK) < 0) {
    maybe_killed("mkdir", dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return edgecr_error_make(c->err, errno, "cpuset partition: create `%s`", rel(c, dir));
  }
  struct cpus have, want;
  if ((!read_cpus(dir, &have) || cpus_parse(cpus, &want) < 0 || !cpus_equal(&have, &want)) &&
      put(c, dir, "cpuset.cpus", cpus) < 0)
    return -1;
  cleanup_free char *st = read_trimmed(dir, "cpuset.cpus.partition");
  if ((st == NULL || strcmp(st, "root") != 0) && put(c, dir, "cpuset.cpus.partition", "root") < 0)
    return -1;
  return v2_check_root(c, dir);
}

/* /edgecr-rt (a partition root: a partition's parent must be one; it
 * keeps no CPU and runs no task) and /edgecr-rt/cpuK below it. */
static int v2_make_partitions(struct ctx *c, const struct cpus *want)
{
  cleanup_free char *all = cpus_format(want);
  cleanup_free char *parent = xasprintf("%s%s", c->mount, PLAN_PARTITION_PARENT);
  if (v2_root_cpuset(c, true) < 0 || v2_make_dir(c, parent, all) < 0)
    return -1;
  cleanup_free char *sub = read_trimmed(parent, "cgroup.subtree_control");
  if (!has_word(sub, "cpuset") && put(c, parent, "cgroup.subtree_control", "+cpuset") < 0)
    return -1;
  for (int k = 0; k < MAX_CPUS; k++) {
    if (!cpus_has(want, k))
      continue;
    cleanup_free char *dir = xasprintf("%s/cpu%d", parent, k);
    char one[16];
    snprintf(one, sizeof one, "%d", k);
    if (v2_make_dir(c, dir, one) < 0)
      return -1;
  }
  return 0;
}

/* ---- entry ---- */

/* The v1 cpuset hierarchy if there is one, else a cgroup2 mount with the
 * cpuset controller; EDGECR_PLAN_CPUSET names another (tests' fake trees:
 * v2 when it has cgroup.controllers). */
static char *find_mount(bool *v2, edgecr_error_t *err)
{
  const char *env = getenv("EDGECR_PLAN_CPUSET");
  cleanup_free char *ctl = NULL;
  *v2 = false;
  if (env && *env) {
    cleanup_free char *p = xasprintf("%s/cgroup.controllers", env);
    *v2 = access(p, F_OK) == 0;
    return xstrdup(env);
  }
  if (access("/sys/fs/cgroup/cpuset/cpuset.cpus", F_OK) == 0)
    return xstrdup("/sys/fs/cgroup/cpuset");
  ctl = read_trimmed("/sys/fs/cgroup", "cgroup.controllers");
  if (has_word(ctl, "cpuset")) {
    *v2 = true;
    return xstrdup("/sys/fs/cgroup");
  }
  edgecr_error_make(err, ENOTSUP, "cpuset partition: this node has neither a cgroup v1 cpuset hierarchy at "
                                  "/sys/fs/cgroup/cpuset nor the cpuset controller in the cgroup2 hierarchy at "
                                  "/sys/fs/cgroup (%s): use node.deadline: global",
                  ctl ? "cgroup.controllers lists no cpuset: it is bound to a v1 hierarchy elsewhere"
                      : "not a cgroup2 mount");
  return NULL;
}

char *plan_partition_cgroup(int core) { return xasprintf("%s/cpu%d", PLAN_PARTITION_PARENT, core); }

int plan_partitions_set(const char *state_dir, const char *cpus, edgecr_error_t *err)
{
  struct cpus want, have = {0};
  if (cpus_parse(cpus ? cpus : "", &want) < 0)
    return edgecr_error_invalid(err, "cpuset partition: bad CPU list `%s`", cpus);
  cleanup_free char *path = xasprintf("%s/%s", state_dir, PLAN_PARTITION_STATE);
  /* Nothing wanted and nothing recorded: this node was never touched. */
  if (cpus_empty(&want) && access(path, F_OK) < 0)
    return 0;
  struct ctx c = {.state_dir = state_dir, .err = err};
  c.mount = find_mount(&c.v2, err);
  if (c.mount == NULL)
    return -1;
  int r = load_record(&c);
  cleanup_free char *parent = xasprintf("%s%s", c.mount, PLAN_PARTITION_PARENT);
  if (access(parent, F_OK) == 0)
    (void) read_cpus(parent, &have);
  if (r == 0 && save_record(&c) < 0)
    r = -1;
  if (r == 0)
    r = drop_partitions(&c, &have, &want);
  /* A cpuset made by someone else between the walk and the writes (a
   * child spanning the cores its parent is leaving: EBUSY) is moved by
   * walking again. */
  for (int attempt = 0; r == 0; attempt++) {
    edgecr_error_t e = NULL;
    c.err = &e;
    r = move_cpusets(&c, &want);
    c.err = err;
    if (r == 0)
      break;
    if (edgecr_error_errno(&e) != EBUSY || attempt == 4) {
      if (err)
        *err = e;
      else
        edgecr_error_release(&e);
      break;
    }
    edgecr_error_release(&e);
    r = 0;
  }
  if (r == 0 && !c.v2)
    r = root_balance(&c, !cpus_empty(&want));
  if (r == 0 && !cpus_empty(&want))
    r = c.v2 ? v2_make_partitions(&c, &want) : make_partitions(&c, &want);
  if (r == 0 && c.v2 && cpus_empty(&want))
    r = v2_root_cpuset(&c, false);
  if (r == 0 && cpus_empty(&want) && json_array_size(json_object_get(c.rec, "moved")) == 0) {
    maybe_killed("unlink", path);
    if (unlink(path) < 0 && errno != ENOENT)
      r = edgecr_error_make(err, errno, "remove `%s`", path);
  }
  json_decref(c.rec);
  free(c.mount);
  return r;
}
