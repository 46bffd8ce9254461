/* cgroup_dirs.c - a container's cgroup directories: creating them in every
 * hierarchy, entering a process, and removing them again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "util.h"

/* ---- hierarchy directories ------------------------------------------- */

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks, so
 * copy the parent's values down each level we create. */
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
};

static int mk_one(const char *mount, const char *dir, bool v2, void *ud)
{
  struct mk_ctx *c = ud;
  if (v2 && c->unified_optional) {
    edgecr_error_t ignore = NULL;
    if (mkdir_p(dir, 0755, &ignore) < 0) {
      edgecr_error_release(&ignore);
      return 0;
    }
    return 0;
  }
  if (mkdir_p(dir, 0755, c->err) < 0)
    return edgecr_error_wrap(c->err, "cgroup");
  if (!v2 && str_has_suffix(mount, "/cpuset"))
    return cpuset_inherit(mount, c->path, c->err);
  (void) mount;
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
  struct mk_ctx c = {.path = path, .pid = pid, .err = err, .unified_optional = !l->v2_only};
  *rt_grants = json_array();
  if (cg_for_each_dir(l, path, mk_one, &c) < 0)
    return -1;
  if (l->unified != NULL)
    v2_enable_controllers(l, path);
  /* Device rules come later (cgroup_apply_devices): the init must first
   * create the container's device nodes, which a deny-all rule forbids. */
  if (cg_apply_limits(l, path, resources, err) < 0)
    return -1;
  long long runtime, period;
  if (cg_wants_rt_budget(resources, proc, &runtime, &period) &&
      cg_rt_budget_apply(l, path, runtime, period, *rt_grants, err) < 0)
    return -1;
  if (pid > 0 && cgroup_enter(l, path, pid, err) < 0)
    return -1;
  return 0;
}

static int rm_one(const char *mount, const char *dir, bool v2, void *ud)
{
  (void) v2;
  edgecr_error_t *err = ud;
  for (int i = 0; i < 200; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      break;
    if (errno != EBUSY)
      return edgecr_error_make(err, errno, "remove cgroup `%s`", dir);
    usleep(2000); /* processes still exiting */
    if (i == 199)
      return edgecr_error_make(err, EBUSY, "remove cgroup `%s`: still busy", dir);
  }
  /* Remove now-empty ancestors that edgecr owns (below `<mount>/edgecr`). */
  cleanup_free char *p = xstrdup(dir);
  cleanup_free char *own = xasprintf("%s/edgecr/", mount);
  for (char *slash = strrchr(p, '/'); slash && slash > p; slash = strrchr(p, '/')) {
    *slash = '\0';
    if (strlen(p) <= strlen(mount) || !str_has_prefix(p, own))
      break;
    if (rmdir(p) < 0)
      break;
  }
  return 0;
}

int cgroup_destroy(const struct cgroup_layout *l, const char *path, json_t *rt_grants, edgecr_error_t *err)
{
  if (path == NULL || *path == '\0' || strcmp(path, "/") == 0)
    return 0;
  cleanup_free char *dir = cg_procs_dir(l, path);
  if (dir != NULL && access(dir, F_OK) == 0) {
    pid_t *pids = NULL;
    size_t n = 0;
    if (cgroup_pids(l, path, &pids, &n, NULL) == 0 && n > 0) {
      (void) cgroup_freeze(l, path, false, NULL);
      for (size_t i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
      for (int i = 0; i < 500; i++) {
        free(pids);
        pids = NULL;
        if (cgroup_pids(l, path, &pids, &n, NULL) < 0 || n == 0)
          break;
        usleep(2000);
      }
    }
    free(pids);
  }
  /* A removed group's real-time budget stays counted until the kernel
   * frees it, which waits for its last (zombie) task to be reaped; drop the
   * leaf's budget first so the dying group holds none. */
  const char *cpu = l->v2_only ? NULL : cg_v1_mount(l, "cpu");
  if (cpu != NULL && json_array_size(rt_grants) > 0) {
    cleanup_free char *leaf = xasprintf("%s%s", cpu, path);
    if (access(leaf, F_OK) == 0 && cg_read_ll(leaf, "cpu.rt_runtime_us") > 0)
      (void) cg_write_rt(leaf, "cpu.rt_runtime_us", 0, NULL);
  }
  int ret = cg_for_each_dir(l, path, rm_one, err);
  cg_rt_budget_release(rt_grants);
  return ret;
}

