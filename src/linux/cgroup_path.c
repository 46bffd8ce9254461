/* cgroup_path.c - linux.cgroupsPath -> the container's cgroup path, relative to
 * every hierarchy root. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "util.h"

int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
                        edgecr_error_t *err)
{
  if (systemd || (cgroups_path && strchr(cgroups_path, ':') && cgroups_path[0] != '/')) {
    if (access("/run/systemd/system", F_OK) < 0)
      return edgecr_error_make(err, ENOTSUP,
                               "systemd cgroup driver requested (--systemd-cgroup or a `slice:prefix:name` "
                               "cgroupsPath) but systemd is not running on this host; use a path like `/edgecr/%s`",
                               id);
    return edgecr_error_make(err, ENOTSUP, "the systemd cgroup driver is not supported by edgecr yet");
  }
  if (cgroups_path == NULL || *cgroups_path == '\0')
    *out = xasprintf("/edgecr/%s", id);
  else if (cgroups_path[0] == '/')
    *out = xstrdup(cgroups_path);
  else
    *out = xasprintf("/edgecr/%s", cgroups_path);
  if (strstr(*out, "/../") || str_has_suffix(*out, "/..")) {
    free(*out);
    *out = NULL;
    return edgecr_error_make(err, EINVAL, "linux.cgroupsPath `%s` must not contain `..`", cgroups_path);
  }
  return 0;
}

