/* cgroup_procs.c - the processes of a container's cgroup: freezer, process
 * lists, signalling them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "util.h"

/* ---- freezer, pids, signals ----------------------------------------- */

static char *freezer_dir(const struct cgroup_layout *l, const char *path, bool *v2)
{
  if (!l->v2_only) {
    const char *m = cg_v1_mount(l, "freezer");
    if (m != NULL) {
      *v2 = false;
      return xasprintf("%s%s", m, path);
    }
  }
  if (l->unified != NULL) {
    *v2 = true;
    return xasprintf("%s%s", l->unified, path);
  }
  return NULL;
}

int cgroup_freeze(const struct cgroup_layout *l, const char *path, bool freeze, edgecr_error_t *err)
{
  bool v2;
  cleanup_free char *dir = freezer_dir(l, path, &v2);
  if (dir == NULL)
    return edgecr_error_make(err, ENOTSUP, "no freezer cgroup on this host");
  cleanup_free char *f = xasprintf("%s/%s", dir, v2 ? "cgroup.freeze" : "freezer.state");
  const char *val = v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
  if (write_file(f, val, strlen(val), err) < 0)
    return -1;
  /* v1 freezing is asynchronous: wait until the state settles. */
  for (int i = 0; i < 2000; i++) {
    if (cgroup_is_frozen(l, path) == freeze)
      return 0;
    if (!v2 && freeze && i % 50 == 49)
      (void) write_file(f, val, strlen(val), NULL);
    usleep(1000);
  }
  return edgecr_error_make(err, ETIMEDOUT, "cgroup `%s` did not %s in time", path, freeze ? "freeze" : "thaw");
}

bool cgroup_is_frozen(const struct cgroup_layout *l, const char *path)
{
  bool v2;
  cleanup_free char *dir = freezer_dir(l, path, &v2);
  if (dir == NULL)
    return false;
  if (v2) {
    cleanup_free char *f = xasprintf("%s/cgroup.events", dir);
    cleanup_free char *s = cg_read_trimmed(f);
    return s != NULL && strstr(s, "frozen 1") != NULL;
  }
  cleanup_free char *f = xasprintf("%s/freezer.state", dir);
  cleanup_free char *s = cg_read_trimmed(f);
  return s != NULL && strcmp(s, "FROZEN") == 0;
}

char *cg_procs_dir(const struct cgroup_layout *l, const char *path)
{
  if (!l->v2_only) {
    static const char *prefer[] = {"pids", "memory", "freezer", "cpu", "devices"};
    for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
      const char *m = cg_v1_mount(l, prefer[i]);
      if (m != NULL)
        return xasprintf("%s%s", m, path);
    }
    if (l->n_v1 > 0)
      return xasprintf("%s%s", l->v1_mounts[0], path);
  }
  return l->unified ? xasprintf("%s%s", l->unified, path) : NULL;
}

static void pids_push(pid_t **pids, size_t *n, size_t *cap, pid_t v)
{
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    *pids = xrealloc(*pids, *cap * sizeof **pids);
  }
  (*pids)[(*n)++] = v;
}

static int read_pids_file(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
  cleanup_free char *f = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *s = NULL;
  if (read_all_file(f, &s, NULL) < 0)
    return errno == ENOENT ? 0 : -1;
  for (char *p = s; *p;) {
    char *e;
    long v = strtol(p, &e, 10);
    if (e == p)
      break;
    pids_push(pids, n, cap, (pid_t) v);
    p = e;
    while (*p == '\n')
      p++;
  }
  return 0;
}

/* Processes of the group at `dir` and of every group nested in it
 * (containers may create sub-groups). */
static int read_tree_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
  if (read_pids_file(dir, pids, n, cap) < 0)
    return -1;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
    (void) read_tree_pids(sub, pids, n, cap);
  }
  closedir(d);
  return 0;
}

int cg_dir_pids(const char *dir, pid_t **pids, size_t *n)
{
  size_t cap = 0;
  *pids = NULL;
  *n = 0;
  return read_tree_pids(dir, pids, n, &cap);
}

int cgroup_pids(const struct cgroup_layout *l, const char *path, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  cleanup_free char *dir = cg_procs_dir(l, path);
  *pids = NULL;
  *n = 0;
  if (dir == NULL)
    return edgecr_error_make(err, ENOENT, "no cgroup hierarchy to list processes from");
  if (cg_dir_pids(dir, pids, n) < 0)
    return edgecr_error_make(err, errno, "read processes of cgroup `%s`", path);
  return 0;
}

bool cgroup_owned(json_t *record)
{
  return json_is_true(json_object_get(record, "owned"));
}

static bool pid_listed(const pid_t *pids, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* A path as cgroup_resolve_path() makes them: absolute, normalised, not a
 * root.  Checked again here, where a state file (hand-edited, or from an
 * older edgecr) could otherwise steer a signal at the root cgroup. */
static bool container_path(const char *path)
{
  if (path == NULL || path[0] != '/' || path[1] == '\0' || str_has_suffix(path, "/") ||
      str_has_suffix(path, "/.") || str_has_suffix(path, "/.."))
    return false;
  return strstr(path, "//") == NULL && strstr(path, "/./") == NULL && strstr(path, "/../") == NULL;
}

/* Signal the processes of the container's cgroup tree and no other.  A pid
 * read from cgroup.procs may exit and be reused by a process elsewhere
 * before the signal, so each one is pinned with a pidfd first and signalled
 * only if the group still lists that pid afterwards: then the pinned
 * process is the member (or is gone, and the signal fails with ESRCH). */
static int signal_members(const struct cgroup_layout *l, const char *path, int sig, edgecr_error_t *err)
{
  pid_t *before = NULL, *after = NULL;
  size_t nb = 0, na = 0;
  if (!container_path(path))
    return edgecr_error_invalid(err, "cgroup path `%s` is not a container's cgroup: nothing signalled",
                                path ? path : "");
  if (cgroup_pids(l, path, &before, &nb, err) < 0)
    return -1;
  cleanup_free int *fds = xmalloc0((nb + 1) * sizeof *fds);
  bool no_pidfd = false; /* kernels before 5.3: plain kill after the same check */
  for (size_t i = 0; i < nb; i++) {
    fds[i] = (int) syscall(SYS_pidfd_open, before[i], 0);
    if (fds[i] < 0 && errno == ENOSYS)
      no_pidfd = true;
  }
  int ret = cgroup_pids(l, path, &after, &na, err);
  for (size_t i = 0; i < nb; i++) {
    if (ret == 0 && (fds[i] >= 0 || no_pidfd) && pid_listed(after, na, before[i])) {
      int r = fds[i] >= 0 ? (int) syscall(SYS_pidfd_send_signal, fds[i], sig, NULL, 0) : kill(before[i], sig);
      if (r < 0 && errno != ESRCH)
        ret = edgecr_error_make(err, errno, "signal %d to process %d of cgroup `%s`", sig, (int) before[i], path);
    }
    if (fds[i] >= 0)
      close(fds[i]);
  }
  free(before);
  free(after);
  return ret;
}

int cgroup_signal_all(const struct cgroup_layout *l, const char *path, json_t *record, int sig,
                      edgecr_error_t *err)
{
  if (!cgroup_owned(record))
    return edgecr_error_make(err, EPERM, "cgroup `%s` was neither created for this container nor found empty "
                                         "when it was created: edgecr does not signal the processes in it",
                             path ? path : "");
  if (!container_path(path))
    return edgecr_error_invalid(err, "cgroup path `%s` is not a container's cgroup: nothing signalled", path);
  /* Freeze first so no process can fork away from the signal (and thaw
   * after only what was not paused before). */
  bool frozen = !cgroup_is_frozen(l, path) && cgroup_freeze(l, path, true, NULL) == 0;
  int ret = signal_members(l, path, sig, err);
  if (frozen)
    (void) cgroup_freeze(l, path, false, NULL);
  return ret;
}

/* SIGKILL every member and wait (up to a second) until the group is empty. */
int cg_kill_members(const struct cgroup_layout *l, const char *path)
{
  if (!container_path(path))
    return -1;
  (void) cgroup_freeze(l, path, false, NULL);
  for (int i = 0; i < 500; i++) {
    pid_t *pids = NULL;
    size_t n = 0;
    int r = cgroup_pids(l, path, &pids, &n, NULL);
    free(pids);
    if (r < 0 || n == 0)
      return 0;
    if (i % 50 == 0)
      (void) signal_members(l, path, SIGKILL, NULL);
    usleep(2000);
  }
  return -1;
}
