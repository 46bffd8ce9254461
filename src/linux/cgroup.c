/* cgroup.c - discovery of the cgroup layout (v1, v2, hybrid) and the small
 * helpers every cgroup file shares: which hierarchy holds a controller,
 * reading and writing control files. */
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

/* ---- layout ---------------------------------------------------------- */

static struct cgroup_layout *cached_layout;

bool cg_file_exists(const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* Control files are small: read at most a page (a bounded read also keeps
 * a wrong path, say to a device, from reading forever). */
char *cg_read_trimmed(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char *s = xmalloc0(4097);
  ssize_t n = read_full(fd, s, 4096);
  if (n < 0) {
    free(s);
    return NULL;
  }
  s[n] = '\0';
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
  return s;
}

int cgroup_layout_get(struct cgroup_layout **out, edgecr_error_t *err)
{
  if (cached_layout != NULL) {
    *out = cached_layout;
    return 0;
  }
  const char *root = getenv("EDGECR_CGROUP_ROOT");
  if (root == NULL || *root == '\0')
    root = "/sys/fs/cgroup";
  struct cgroup_layout *l = xmalloc0(sizeof *l);
  l->root = xstrdup(root);
  if (cg_file_exists(root, "cgroup.controllers")) {
    l->v2_only = true;
    l->unified = xstrdup(root);
  } else {
    DIR *d = opendir(root);
    if (d == NULL) {
      free(l->root);
      free(l);
      return edgecr_error_make(err, errno, "cgroups: open `%s`", root);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && l->n_v1 < CGROUP_MAX_HIERARCHIES) {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *dir = xasprintf("%s/%s", root, de->d_name);
      struct stat st;
      if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        continue; /* symlinks such as cpu -> cpu,cpuacct name a hierarchy twice */
      if (strcmp(de->d_name, "unified") == 0 && cg_file_exists(dir, "cgroup.controllers")) {
        l->unified = xstrdup(dir);
        continue;
      }
      if (!cg_file_exists(dir, "cgroup.procs") || cg_rt_groups_hidden(dir))
        continue;
      l->v1_names[l->n_v1] = xstrdup(strcmp(de->d_name, "systemd") == 0 ? "name=systemd" : de->d_name);
      l->v1_mounts[l->n_v1] = xstrdup(dir);
      l->n_v1++;
    }
    closedir(d);
    if (l->n_v1 == 0 && l->unified == NULL) {
      free(l->root);
      free(l);
      return edgecr_error_make(err, ENOENT, "cgroups: no cgroup hierarchy found under `%s`", root);
    }
  }
  if (l->unified != NULL) {
    cleanup_free char *p = xasprintf("%s/cgroup.controllers", l->unified);
    l->v2_controllers = cg_read_trimmed(p);
    if (l->v2_controllers == NULL)
      l->v2_controllers = xstrdup("");
  }
  cached_layout = l;
  *out = l;
  return 0;
}

const char *cgroup_mode_name(const struct cgroup_layout *l)
{
  if (l->v2_only)
    return "v2";
  return l->unified ? "hybrid" : "v1";
}

/* Is `ctrl` in a list of names separated by commas (v1 mount names) or
 * spaces (cgroup.controllers)? */
static bool name_has(const char *names, const char *ctrl)
{
  size_t n = strlen(ctrl);
  for (const char *p = names; *p;) {
    const char *e = strpbrk(p, ", ");
    size_t len = e ? (size_t) (e - p) : strlen(p);
    if (len == n && strncmp(p, ctrl, n) == 0)
      return true;
    if (!e)
      break;
    p = e + 1;
  }
  return false;
}

const char *cg_v1_mount(const struct cgroup_layout *l, const char *ctrl)
{
  for (size_t i = 0; i < l->n_v1; i++)
    if (name_has(l->v1_names[i], ctrl))
      return l->v1_mounts[i];
  return NULL;
}

bool cg_v2_has(const struct cgroup_layout *l, const char *ctrl)
{
  if (l->unified == NULL)
    return false;
  if (l->v2_only && (strcmp(ctrl, "freezer") == 0 || strcmp(ctrl, "devices") == 0))
    return true; /* built into cgroup2 core (cgroup.freeze) and BPF */
  return name_has(l->v2_controllers, ctrl);
}


/* Directory of `path` in the hierarchy holding `ctrl`; NULL if none. */
char *cg_ctrl_dir(const struct cgroup_layout *l, const char *ctrl, const char *path, bool *is_v2)
{
  const char *m = l->v2_only ? NULL : cg_v1_mount(l, ctrl);
  if (m != NULL) {
    *is_v2 = false;
    return xasprintf("%s%s", m, path);
  }
  /* cgroup v2 calls the block I/O controller "io". */
  if (cg_v2_has(l, strcmp(ctrl, "blkio") == 0 ? "io" : ctrl)) {
    *is_v2 = true;
    return xasprintf("%s%s", l->unified, path);
  }
  return NULL;
}


long long cg_read_ll(const char *dir, const char *f)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, f);
  cleanup_free char *s = cg_read_trimmed(p);
  long long v;
  if (s == NULL || parse_int64(s, &v) < 0)
    return -2;
  return v;
}

int cg_write_ll(const char *dir, const char *f, long long v, edgecr_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  cleanup_free char *p = xasprintf("%s/%s", dir, f);
  return write_file(p, buf, strlen(buf), err);
}
