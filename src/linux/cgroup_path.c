/* cgroup_path.c - linux.cgroupsPath -> the container's cgroup path, relative
 * to every hierarchy root.
 *
 * The result is normalised ("//" and "." components dropped, no trailing
 * slash) because the path decides which processes `kill --all` and
 * `delete --force` may reach: "/." or "//" must not become a second
 * spelling of the root cgroup that slips past a comparison with "/".  `..`
 * is refused rather than resolved (it can only mean to leave the place the
 * configuration names), and so is any path that normalises to a hierarchy
 * root or to /edgecr itself, the parent of every default container path. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "util.h"

/* Append the components of `in` to `out` (which ends without a slash),
 * skipping empty and "." ones.  -1 names the problem in *why. */
static int append_components(char **out, const char *in, const char **why)
{
  cleanup_free char *copy = xstrdup(in);
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      *why = "must not contain `..`";
      return -1;
    }
    if (strlen(c) > NAME_MAX) {
      *why = "has a component longer than NAME_MAX (255 bytes), which no cgroup can be named";
      return -1;
    }
    char *n = xasprintf("%s/%s", *out, c);
    free(*out);
    *out = n;
  }
  return 0;
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
                        edgecr_error_t *err)
{
  *out = NULL;
  if (systemd || (cgroups_path && strchr(cgroups_path, ':') && cgroups_path[0] != '/')) {
    if (access("/run/systemd/system", F_OK) < 0)
      return edgecr_error_make(err, ENOTSUP,
                               "systemd cgroup driver requested (--systemd-cgroup or a `slice:prefix:name` "
                               "cgroupsPath) but systemd is not running on this host; use a path like `/edgecr/%s`",
                               id);
    return edgecr_error_make(err, ENOTSUP, "the systemd cgroup driver is not supported by edgecr yet");
  }
  if (cgroups_path == NULL || *cgroups_path == '\0')
    cgroups_path = id;
  /* Relative paths are below the runtime's own place, /edgecr (spec:
   * "relative to the cgroups mount point" chosen by the runtime). */
  char *path = xstrdup(cgroups_path[0] != '/' ? "/edgecr" : "");
  const char *why = NULL;
  if (append_components(&path, cgroups_path, &why) < 0) {
    free(path);
    return edgecr_error_invalid(err, "linux.cgroupsPath `%s` %s", cgroups_path, why);
  }
  if (*path == '\0' || strcmp(path, "/edgecr") == 0) {
    const char *what = *path ? "/edgecr, the parent of every container's default cgroup" : "the root cgroup";
    free(path);
    return edgecr_error_invalid(err, "linux.cgroupsPath `%s` names %s, not a cgroup of its own", cgroups_path,
                                what);
  }
  if (strlen(path) > PATH_MAX / 2) {
    free(path);
    return edgecr_error_invalid(err, "linux.cgroupsPath is %zu bytes long, more than edgecr accepts (%d)",
                                strlen(cgroups_path), PATH_MAX / 2);
  }
  *out = path;
  return 0;
}
