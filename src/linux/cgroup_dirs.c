/* cgroup_dirs.c - a container's cgroup directories: making them in every
 * hierarchy (and recording which ones edgecr made), entering a process, and
 * removing exactly those again.
 *
 * Why the record: the cgroup path comes from the configuration, so it may
 * name a group that already exists and belongs to someone else.  edgecr
 * accepts an existing leaf only when it is empty, never removes a directory
 * it did not make, and signals processes only in a leaf it owns (see
 * cgroup_owned()). */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "process.h"
#include "util.h"

/* ---- hierarchy directories ------------------------------------------- */

/* "0,2-3" for a CPU set, into buf. */
static void format_cpu_list(const cpu_set_t *set, char *buf, size_t cap)
{
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < CPU_SETSIZE; i++) {
    if (!CPU_ISSET(i, set))
      continue;
    int j = i;
    while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
      j++;
    int w = j > i ? snprintf(buf + n, cap - n, "%s%d-%d", n ? "," : "", i, j)
                  : snprintf(buf + n, cap - n, "%s%d", n ? "," : "", i);
    if (w < 0 || (size_t) w >= cap - n)
      return;
    n += (size_t) w;
    i = j;
  }
}

/* The parent's CPUs less those its other children hold exclusively
 * (cpuset.cpu_exclusive = 1: a real-time partition, edgecr's own or the
 * node's).  The kernel refuses a new cpuset that overlaps an exclusive
 * sibling (EINVAL), and best-effort work does not belong on partitioned
 * CPUs anyway.  Returns the parent's list unchanged when no sibling is
 * exclusive. */
static char *cpus_beside_partitions(const char *parent_dir, const char *parent_cpus, const char *self)
{
  cpu_set_t set;
  if (parse_cpu_list(parent_cpus, &set) < 0)
    return xstrdup(parent_cpus);
  DIR *d = opendir(parent_dir);
  struct dirent *de;
  bool changed = false;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.' || strcmp(de->d_name, self) == 0)
      continue;
    cleanup_free char *xp = xasprintf("%s/%s/cpuset.cpu_exclusive", parent_dir, de->d_name);
    cleanup_free char *excl = cg_read_trimmed(xp);
    if (excl == NULL || strcmp(excl, "1") != 0)
      continue;
    cleanup_free char *cp = xasprintf("%s/%s/cpuset.cpus", parent_dir, de->d_name);
    cleanup_free char *theirs = cg_read_trimmed(cp);
    cpu_set_t held;
    if (theirs == NULL || parse_cpu_list(theirs, &held) < 0)
      continue;
    for (int i = 0; i < CPU_SETSIZE; i++)
      if (CPU_ISSET(i, &held) && CPU_ISSET(i, &set)) {
        CPU_CLR(i, &set);
        changed = true;
      }
  }
  if (d != NULL)
    closedir(d);
  if (!changed || CPU_COUNT(&set) == 0)
    return xstrdup(parent_cpus); /* nothing left: the kernel's error says why */
  char buf[1024];
  format_cpu_list(&set, buf, sizeof buf);
  return xstrdup(buf);
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks, so
 * copy the parent's values down each level we create (the CPUs without
 * those of exclusive siblings). */
static int cpuset_inherit(const char *mount, const char *path, edgecr_error_t *err)
{
  cleanup_free char *cur = xstrdup(mount);
  cleanup_free char *rest = xstrdup(path);
  char *save = NULL;
  for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    char *child = xasprintf("%s/%s", cur, tok);
    for (int i = 0; i < 2; i++) {
      const char *f = i == 0 ? "cpuset.cpus" : "cpuset.mems";
      cleanup_free char *cp = xasprintf("%s/%s", child, f);
      cleanup_free char *mine = cg_read_trimmed(cp);
      if (mine != NULL && *mine != '\0')
        continue;
      cleanup_free char *pp = xasprintf("%s/%s", cur, f);
      cleanup_free char *parent = cg_read_trimmed(pp);
      if (parent != NULL && i == 0) {
        char *fit = cpus_beside_partitions(cur, parent, tok);
        free(parent);
        parent = fit;
      }
      if (parent != NULL && write_file(cp, parent, strlen(parent), err) < 0) {
        free(child);
        return -1;
      }
    }
    free(cur);
    cur = child;
  }
  return 0;
}

/* Enable controllers down a v2 path so the leaf can use them. */
static void v2_enable_controllers(const struct cgroup_layout *l, const char *path)
{
  if (l->v2_controllers == NULL || *l->v2_controllers == '\0')
    return;
  cleanup_free char *ctrls = xstrdup(l->v2_controllers);
  cleanup_free char *enable = xstrdup("");
  char *save = NULL;
  for (char *t = strtok_r(ctrls, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    /* On hybrid hosts a controller also bound to v1 cannot be enabled. */
    if (!l->v2_only && cg_v1_mount(l, t) != NULL)
      continue;
    char *n = xasprintf("%s%s+%s", enable, *enable ? " " : "", t);
    free(enable);
    enable = n;
  }
  if (*enable == '\0')
    return;
  cleanup_free char *cur = xstrdup(l->unified);
  cleanup_free char *rest = xstrdup(path);
  char *save2 = NULL;
  char *tok = strtok_r(rest, "/", &save2);
  while (tok != NULL) {
    char *next = strtok_r(NULL, "/", &save2);
    cleanup_free char *sc = xasprintf("%s/cgroup.subtree_control", cur);
    /* Each controller separately: one refused must not block the others. */
    cleanup_free char *list = xstrdup(enable);
    char *s3 = NULL;
    for (char *c = strtok_r(list, " ", &s3); c; c = strtok_r(NULL, " ", &s3))
      (void) write_file(sc, c, strlen(c), NULL);
    char *child = xasprintf("%s/%s", cur, tok);
    free(cur);
    cur = child;
    tok = next;
  }
}

int cg_for_each_dir(const struct cgroup_layout *l, const char *path,
                        int (*fn)(const char *mount, const char *dir, bool v2, void *ud), void *ud)
{
  int ret = 0;
  for (size_t i = 0; i < l->n_v1; i++) {
    cleanup_free char *d = xasprintf("%s%s", l->v1_mounts[i], path);
    if (fn(l->v1_mounts[i], d, false, ud) < 0)
      ret = -1;
  }
  if (l->unified != NULL) {
    cleanup_free char *d = xasprintf("%s%s", l->unified, path);
    if (fn(l->unified, d, true, ud) < 0)
      ret = -1;
  }
  return ret;
}

struct mk_ctx {
  const char *path;
  pid_t pid;
  edgecr_error_t *err;
  bool unified_optional; /* hybrid: the v2 tree is best effort */
  json_t *created;       /* cgroup_make: directories made, in order */
};

json_t *cgroup_record_new(void)
{
  return json_pack("{s:[],s:b}", "created", "owned", 0);
}

/* An existing leaf holding processes belongs to someone else: using it
 * would let `kill --all` and `delete --force` reach them. */
static int check_foreign_leaf(const char *dir, edgecr_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  (void) cg_dir_pids(dir, &pids, &n);
  pid_t first = n > 0 ? pids[0] : 0;
  free(pids);
  if (n == 0)
    return 0;
  return edgecr_error_invalid(err, "linux.cgroupsPath: cgroup `%s` already exists and holds %zu process(es) "
                                   "(pid %d...): edgecr uses an existing cgroup only when it is empty", dir, n,
                              (int) first);
}

/* mkdir each component of c->path below mount; the ones made are recorded
 * and marked.  ENOENT part way means a marked parent was just removed by
 * the delete of another container: the walk starts again. */
static int mk_in(const char *mount, bool v2, struct mk_ctx *c)
{
  bool optional = v2 && c->unified_optional;
  for (int attempt = 0;; attempt++) {
    cleanup_free char *cur = xstrdup(mount);
    cleanup_free char *rest = xstrdup(c->path);
    char *save = NULL;
    bool made = false;
    int e = 0;
    for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
      char *next = xasprintf("%s/%s", cur, tok);
      free(cur);
      cur = next;
      made = mkdir(cur, 0755) == 0;
      if (made) {
        json_array_append_new(c->created, json_string(cur));
        (void) setxattr(cur, CGROUP_MARK_XATTR, "1", 1, 0); /* best effort: not every fs has trusted.* */
        continue;
      }
      int mk_errno = errno;
      struct stat st;
      if (mk_errno == EEXIST && stat(cur, &st) == 0 && S_ISDIR(st.st_mode))
        continue;
      e = mk_errno == EEXIST ? ENOTDIR : mk_errno;
      break;
    }
    if (e == ENOENT && attempt < 5)
      continue;
    if (e != 0)
      return optional ? 0 : edgecr_error_make(c->err, e, "linux.cgroupsPath: create cgroup `%s`", cur);
    return made ? 0 : check_foreign_leaf(cur, c->err);
  }
}

/* rmdir, waiting out EBUSY for a while when `wait` (the last processes of
 * the group may still be exiting).  0, or -1 with errno. */
static int rmdir_wait(const char *dir, bool wait)
{
  for (int i = 0; i < (wait ? 200 : 1); i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return -1;
    if (wait)
      usleep(2000);
  }
  return -1;
}

/* rmdir a parent group once its children are gone.  A real-time budget it
 * still holds would stay counted against its parent until the kernel frees
 * the group (asynchronously), so it is given back first. */
static int rmdir_parent(const char *dir)
{
  if (cg_read_ll(dir, "cpu.rt_runtime_us") > 0 && access(dir, F_OK) == 0)
    (void) cg_write_ll(dir, "cpu.rt_runtime_us", 0, NULL);
  return rmdir_wait(dir, false);
}

/* Remove the directories of `created` innermost first (the array is in
 * making order), leaving those still in use by other containers. */
static void remove_made(json_t *created)
{
  for (size_t i = json_array_size(created); i-- > 0;) {
    const char *d = json_string_value(json_array_get(created, i));
    if (d != NULL && rmdir_parent(d) == 0)
      json_array_remove(created, i);
  }
}

/* The directories of `path` below mount that do not exist yet. */
static void list_missing(const char *mount, const char *path, json_t *out)
{
  cleanup_free char *cur = xstrdup(mount);
  cleanup_free char *rest = xstrdup(path);
  char *save = NULL;
  for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    char *next = xasprintf("%s/%s", cur, tok);
    free(cur);
    cur = next;
    if (access(cur, F_OK) < 0 && errno == ENOENT)
      json_array_append_new(out, json_string(cur));
  }
}

void cgroup_plan_dirs(const struct cgroup_layout *l, const char *path, json_t *record)
{
  json_t *pending = json_array();
  for (size_t i = 0; path != NULL && i < l->n_v1 + (l->unified != NULL); i++)
    list_missing(i < l->n_v1 ? l->v1_mounts[i] : l->unified, path, pending);
  json_object_set_new(record, "pending", pending);
}

int cgroup_make(const struct cgroup_layout *l, const char *path, json_t *record, edgecr_error_t *err)
{
  json_t *created = json_object_get(record, "created");
  struct mk_ctx c = {.path = path, .err = err, .unified_optional = !l->v2_only, .created = created};
  if (path == NULL || strcmp(path, "/") == 0 || *path != '/')
    return edgecr_error_invalid(err, "linux.cgroupsPath: `%s` is not a container's cgroup", path ? path : "");
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < l->n_v1 + (l->unified != NULL); i++)
    ret = i < l->n_v1 ? mk_in(l->v1_mounts[i], false, &c) : mk_in(l->unified, true, &c);
  /* from now on `created` alone says what was made */
  json_object_del(record, "pending");
  if (ret < 0) {
    remove_made(created);
    return -1;
  }
  json_object_set_new(record, "owned", json_true());
  return 0;
}

static int enter_one(const char *mount, const char *dir, bool v2, void *ud)
{
  struct mk_ctx *c = ud;
  (void) mount;
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int) c->pid);
  cleanup_free char *p = xasprintf("%s/cgroup.procs", dir);
  if (v2 && c->unified_optional) {
    (void) write_file(p, buf, strlen(buf), NULL);
    return 0;
  }
  if (write_file(p, buf, strlen(buf), c->err) < 0)
    return edgecr_error_wrap(c->err, "cgroup: add process %d", (int) c->pid);
  return 0;
}

int cgroup_enter(const struct cgroup_layout *l, const char *path, pid_t pid, edgecr_error_t *err)
{
  struct mk_ctx c = {.path = path, .pid = pid, .err = err, .unified_optional = !l->v2_only};
  return cg_for_each_dir(l, path, enter_one, &c);
}


int cgroup_create(const struct cgroup_layout *l, const char *path, json_t *resources,
                  const struct oci_process *proc, pid_t pid, json_t **rt_grants, edgecr_error_t *err)
{
  *rt_grants = json_array();
  const char *cpuset = l->v2_only ? NULL : cg_v1_mount(l, "cpuset");
  if (cpuset != NULL && cpuset_inherit(cpuset, path, err) < 0)
    return edgecr_error_wrap(err, "cgroup");
  if (l->unified != NULL)
    v2_enable_controllers(l, path);
  /* Device rules come later (cgroup_apply_devices): the init must first
   * create the container's device nodes, which a deny-all rule forbids. */
  if (cg_apply_limits(l, path, resources, err) < 0)
    return -1;
  long long runtime, period;
  if (cg_wants_rt_budget(resources, proc, &runtime, &period) &&
      cg_rt_budget_apply(l, path, runtime, period,
                         json_is_integer(json_object_get(json_object_get(resources, "cpu"), "realtimeRuntime")),
                         *rt_grants, err) < 0)
    return -1;
  if (pid > 0 && cgroup_enter(l, path, pid, err) < 0)
    return -1;
  return 0;
}

static bool is_marked(const char *dir)
{
  char v[8];
  return getxattr(dir, CGROUP_MARK_XATTR, v, sizeof v) > 0;
}

/* Last: remove the empty ancestors below `mount` that edgecr made, for
 * whichever container (they carry the mark), bottom up. */
static int sweep_marked_parents(const char *mount, const char *leaf, bool v2, void *ud)
{
  (void) v2;
  (void) ud;
  cleanup_free char *p = xstrdup(leaf);
  if (access(p, F_OK) == 0)
    return 0; /* the leaf stays, and so do its parents */
  for (char *slash = strrchr(p, '/'); slash && (size_t) (slash - p) > strlen(mount); slash = strrchr(p, '/')) {
    *slash = '\0';
    if (access(p, F_OK) < 0)
      continue;
    if (!is_marked(p) || rmdir_parent(p) < 0)
      break;
  }
  return 0;
}

struct rm_ctx {
  json_t *created, *pending;
  bool legacy;
  edgecr_error_t *err;
};

static bool listed(json_t *dirs, const char *dir)
{
  for (size_t i = 0; i < json_array_size(dirs); i++) {
    const char *d = json_string_value(json_array_get(dirs, i));
    if (d != NULL && strcmp(d, dir) == 0)
      return true;
  }
  return false;
}

static int rm_leaf(const char *mount, const char *dir, bool v2, void *ud)
{
  (void) mount;
  (void) v2;
  struct rm_ctx *c = ud;
  if (c->legacy) {
    /* No record: remove the leaf only if that needs no signal (empty). */
    if (rmdir(dir) < 0 && errno != ENOENT)
      log_warning("cgroup `%s` is left: %s (the container's state does not say edgecr made it)", dir,
                  strerror(errno));
    return 0;
  }
  if (listed(c->created, dir)) {
    if (rmdir_wait(dir, true) < 0)
      return edgecr_error_make(c->err, errno, "remove cgroup `%s`", dir);
  } else if (listed(c->pending, dir) || is_marked(dir)) {
    /* made by edgecr but not (yet) in `created`: create was killed between
     * mkdir and the state update, before anything was put in it; or an
     * earlier container of the same path made it */
    (void) rmdir_parent(dir);
  }
  return 0;
}

int cgroup_destroy(const struct cgroup_layout *l, const char *path, json_t *record, json_t *rt_grants,
                   edgecr_error_t *err)
{
  if (path == NULL || *path != '/' || strcmp(path, "/") == 0)
    return 0;
  if (cgroup_owned(record) && cg_kill_members(l, path) < 0)
    log_warning("cgroup `%s` still has processes after SIGKILL", path);
  /* A removed group's real-time budget stays counted until the kernel
   * frees it, which waits for its last (zombie) task to be reaped; drop the
   * leaf's budget first so the dying group holds none. */
  const char *cpu = l->v2_only ? NULL : cg_v1_mount(l, "cpu");
  if (cpu != NULL && json_array_size(rt_grants) > 0 && cgroup_owned(record)) {
    cleanup_free char *leaf = xasprintf("%s%s", cpu, path);
    if (access(leaf, F_OK) == 0 && cg_read_ll(leaf, "cpu.rt_runtime_us") > 0)
      (void) cg_write_rt(leaf, "cpu.rt_runtime_us", 0, NULL);
  }
  struct rm_ctx c = {.created = json_object_get(record, "created"), .pending = json_object_get(record, "pending"),
                     .legacy = record == NULL, .err = err};
  int ret = cg_for_each_dir(l, path, rm_leaf, &c);
  if (ret == 0 && !c.legacy) {
    /* then the parents made for it (innermost first), and marked ones */
    remove_made(c.created);
    remove_made(c.pending);
    (void) cg_for_each_dir(l, path, sweep_marked_parents, NULL);
  }
  cg_rt_budget_release(rt_grants);
  return ret;
}
