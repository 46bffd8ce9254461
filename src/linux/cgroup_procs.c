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
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 16;
      *pids = xrealloc(*pids, *cap * sizeof **pids);
    }
    (*pids)[(*n)++] = (pid_t) v;
    p = e;
    while (*p == '\n')
      p++;
  }
  return 0;
}

int cgroup_pids(const struct cgroup_layout *l, const char *path, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  cleanup_free char *dir = cg_procs_dir(l, path);
  *pids = NULL;
  *n = 0;
  size_t cap = 0;
  if (dir == NULL)
    return edgecr_error_make(err, ENOENT, "no cgroup hierarchy to list processes from");
  /* Include nested cgroups (containers may create sub-groups). */
  if (read_pids_file(dir, pids, n, &cap) < 0)
    return edgecr_error_make(err, errno, "read processes of cgroup `%s`", path);
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      cleanup_free char *subpath = xasprintf("%s/%s", path, de->d_name);
      pid_t *more = NULL;
      size_t m = 0;
      if (cgroup_pids(l, subpath, &more, &m, NULL) == 0) {
        for (size_t i = 0; i < m; i++) {
          if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *pids = xrealloc(*pids, cap * sizeof **pids);
          }
          (*pids)[(*n)++] = more[i];
        }
      }
      free(more);
    }
    closedir(d);
  }
  return 0;
}

int cgroup_signal_all(const struct cgroup_layout *l, const char *path, int sig, edgecr_error_t *err)
{
  /* Freeze first so no process can fork away from the signal. */
  bool frozen = cgroup_freeze(l, path, true, NULL) == 0;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = cgroup_pids(l, path, &pids, &n, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      ret = edgecr_error_make(err, errno, "kill %d", (int) pids[i]);
  free(pids);
  if (frozen)
    (void) cgroup_freeze(l, path, false, NULL);
  return ret;
}

