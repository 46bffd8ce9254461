/* idmap.c - id-mapped bind mounts.
 *
 * The kernel maps a mount's file owners through a user namespace given to
 * mount_setattr(MOUNT_ATTR_IDMAP) (Linux 5.12+, filesystems that support
 * it).  That namespace holds the mount's mappings, in the spec's sense:
 * an on-disk id `containerID` appears as `hostID`.  The runtime builds it
 * with a short-lived child cloned into a new user namespace (writing its
 * maps needs the host's view of /proc), clones the bind source into a
 * detached mount, id-maps it, and hands the mount fd to the init, which
 * only has to move it into place. */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define OPEN_TREE_CLONE_ 1
#define AT_RECURSIVE_ 0x8000
#define MOVE_MOUNT_F_EMPTY_PATH_ 0x4
#define MOUNT_ATTR_IDMAP_ 0x100000

struct mount_attr_ {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

int idmap_write_proc_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                         edgecr_error_t *err)
{
  size_t cap = 64 * (n + 1), len = 0;
  cleanup_free char *buf = xmalloc0(cap);
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int) pid, file);
  return write_file(path, buf, len, err);
}

/* A user namespace holding the mappings, as an fd. */
static int userns_with_maps(const struct oci_id_mapping *uids, size_t nu, const struct oci_id_mapping *gids,
                            size_t ng, edgecr_error_t *err)
{
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0)
    return edgecr_error_make(err, errno, "id-mapped mount: pipe");
  pid_t pid = (pid_t) syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    char b;
    close(hold[1]);
    while (read(hold[0], &b, 1) < 0 && errno == EINTR)
      ;
    _exit(0); /* its namespace lives on through the fd */
  }
  int e = errno;
  close(hold[0]);
  if (pid < 0) {
    close(hold[1]);
    return edgecr_error_make(err, e, "id-mapped mount: create a user namespace");
  }
  int fd = -1;
  if (idmap_write_proc_map(pid, "uid_map", uids, nu, err) == 0 &&
      idmap_write_proc_map(pid, "gid_map", gids, ng, err) == 0) {
    cleanup_free char *ns = xasprintf("/proc/%d/ns/user", (int) pid);
    fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      edgecr_error_make(err, errno, "id-mapped mount: open `%s`", ns);
  }
  close(hold[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return fd;
}

static int prepare_one(const struct oci_config *c, size_t idx, edgecr_error_t *err)
{
  struct oci_mount *m = &c->mounts[idx];
  const struct oci_id_mapping *uids = m->n_uid_map ? m->uid_map : c->uid_mappings;
  const struct oci_id_mapping *gids = m->n_gid_map ? m->gid_map : c->gid_mappings;
  size_t nu = m->n_uid_map ? m->n_uid_map : c->n_uid_mappings;
  size_t ng = m->n_gid_map ? m->n_gid_map : c->n_gid_mappings;
  if (nu == 0 || ng == 0)
    return edgecr_error_make(err, EINVAL, "%s: `mounts[%zu]`: idmap without mappings needs the container's "
                                          "linux.uidMappings/gidMappings", c->path, idx);
  cleanup_close int userns = userns_with_maps(uids, nu, gids, ng, err);
  if (userns < 0)
    return edgecr_error_wrap(err, "%s: `mounts[%zu]`", c->path, idx);
  cleanup_free char *src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", c->bundle, m->source);
  int tree = (int) syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE_ | O_CLOEXEC | (m->recursive ? AT_RECURSIVE_ : 0));
  if (tree < 0)
    return edgecr_error_make(err, errno, "%s: `mounts[%zu]`: clone `%s` for an id-mapped mount%s", c->path, idx, src,
                             errno == ENOSYS ? " (needs Linux 5.2)" : "");
  struct mount_attr_ attr = {.attr_set = MOUNT_ATTR_IDMAP_, .userns_fd = (uint64_t) userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (m->idmap_recursive ? AT_RECURSIVE_ : 0), &attr,
              sizeof attr) < 0) {
    int e = errno;
    close(tree);
    return edgecr_error_make(err, e, "%s: `mounts[%zu]`: id-map `%s`%s", c->path, idx, src,
                             e == ENOSYS ? " (needs Linux 5.12)"
                             : e == EINVAL ? " (the filesystem may not support id-mapped mounts)" : "");
  }
  m->idmap_fd = tree;
  return 0;
}

int idmap_prepare_mounts(struct oci_config *c, edgecr_error_t *err)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    c->mounts[i].idmap_fd = -1;
  for (size_t i = 0; i < c->n_mounts; i++) {
    if (c->mounts[i].idmap && prepare_one(c, i, err) < 0) {
      idmap_close_mounts(c);
      return -1;
    }
  }
  return 0;
}

void idmap_close_mounts(struct oci_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (c->mounts[i].idmap && c->mounts[i].idmap_fd >= 0) {
      close(c->mounts[i].idmap_fd);
      c->mounts[i].idmap_fd = -1;
    }
}

int idmap_attach(const struct oci_mount *m, const char *target, edgecr_error_t *err)
{
  if (m->idmap_fd < 0)
    return edgecr_error_make(err, EBADF, "id-mapped mount `%s` was not prepared", m->destination);
  int r = (int) syscall(SYS_move_mount, m->idmap_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH_);
  int e = errno;
  close(m->idmap_fd); /* the init's copy; the runtime closes its own */
  if (r < 0)
    return edgecr_error_make(err, e, "attach the id-mapped mount on `%s`", target);
  return 0;
}
