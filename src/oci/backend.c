/* backend.c - the registry of backends and what the lifecycle offers every
 * backend: selection of the backend for a bundle (in a documented order),
 * a lock over all containers of one backend, and a walk over them.
 *
 * Backends register themselves (backend_register, called from a
 * constructor in each backend's library), so this file, the lifecycle and
 * the CLI never name one; which backends exist is decided by what the
 * executable links. */
#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

static const struct backend_ops *registry[BACKEND_MAX];
static size_t n_registered;

/* Kept sorted by claim order (ties: first registered first), whatever
 * order the constructors run in. */
void backend_register(const struct backend_ops *ops)
{
  if (n_registered == BACKEND_MAX || backend_named(ops->name) != NULL)
    abort(); /* a build error, not a runtime condition */
  size_t i = n_registered;
  while (i > 0 && registry[i - 1]->order > ops->order) {
    registry[i] = registry[i - 1];
    i--;
  }
  registry[i] = ops;
  n_registered++;
}

size_t backend_count(void)
{
  return n_registered;
}

const struct backend_ops *backend_at(size_t i)
{
  return i < n_registered ? registry[i] : NULL;
}

const struct backend_ops *backend_named(const char *name)
{
  for (size_t i = 0; name != NULL && i < n_registered; i++)
    if (strcmp(registry[i]->name, name) == 0)
      return registry[i];
  return NULL;
}

static char *backend_names(void)
{
  char *s = xstrdup("");
  for (size_t i = 0; i < n_registered; i++) {
    char *t = xasprintf("%s%s%s", s, i ? ", " : "", registry[i]->name);
    free(s);
    s = t;
  }
  return s;
}

int backend_select(const struct oci_config *cfg, const struct backend_ops **out, edgecr_error_t *err)
{
  const char *named = json_string_value(json_object_get(cfg->annotations, BACKEND_ANNOTATION));
  if (named != NULL) {
    *out = backend_named(named);
    if (*out != NULL)
      return 0;
    cleanup_free char *known = backend_names();
    return edgecr_error_make(err, EINVAL, "%s: `annotations.%s`: unknown backend `%s` (this edgecr has: %s)",
                             cfg->path, BACKEND_ANNOTATION, named, known);
  }
  for (size_t i = 0; i < n_registered; i++)
    if (registry[i]->claims != NULL && registry[i]->claims(cfg)) {
      *out = registry[i];
      return 0;
    }
  return edgecr_error_make(err, ENOTSUP, "%s: no backend of this edgecr takes the bundle", cfg->path);
}

int backend_lock(struct container *c, int *fd_out, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/.%s.lock", c->state_root, c->ops->name);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", path);
  if (flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return edgecr_error_make(err, e, "lock `%s`", path);
  }
  *fd_out = fd;
  return 0;
}

static int visit_one(struct container *c, const char *name, backend_visit_fn fn, void *data)
{
  cleanup_free char *dir = xasprintf("%s/%s", c->state_root, name);
  cleanup_state struct container_state *s = NULL;
  if (state_load(dir, &s, NULL) < 0 || s->backend == NULL || strcmp(s->backend, c->ops->name) != 0)
    return 0;
  struct container other = {.state_root = c->state_root, .id = (char *) name, .dir = dir, .lock_fd = -1,
                            .systemd_cgroup = c->systemd_cgroup, .state = s, .ops = c->ops};
  int r = fn(&other, data);
  oci_config_free(other.config); /* if fn loaded it */
  return r;
}

int backend_for_each_container(struct container *c, backend_visit_fn fn, void *data)
{
  DIR *d = opendir(c->state_root);
  if (d == NULL)
    return 0;
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, c->id) == 0 || !container_id_valid(de->d_name))
      continue;
    r = visit_one(c, de->d_name, fn, data);
  }
  closedir(d);
  return r;
}
