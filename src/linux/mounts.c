/* mounts.c - mount namespace set-up for the container init.
 *
 * Paths inside the rootfs are always resolved with secure_join(), so a
 * symlink in an image (e.g. /dev -> /host) cannot redirect a mount or a
 * device node outside the container's root. */
#include "mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copyup.h"
#include "idmap.h"
#include "log.h"
#include "util.h"

char *secure_join(const char *root, const char *unsafe)
{
  /* `resolved` is the path below root (empty or starting with '/'), built
   * one component at a time; a symlink restarts resolution of its target
   * (relative to root when absolute) followed by what was left. */
  size_t cap = PATH_MAX;
  cleanup_free char *resolved = xmalloc0(cap);
  cleanup_free char *pending = xstrdup(unsafe);
  size_t pos = 0;
  int links = 0;
  while (pending[pos] != '\0') {
    while (pending[pos] == '/')
      pos++;
    if (pending[pos] == '\0')
      break;
    size_t len = strcspn(pending + pos, "/");
    cleanup_free char *comp = strndup(pending + pos, len);
    pos += len;
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      char *last = strrchr(resolved, '/');
      if (last)
        *last = '\0';
      continue;
    }
    size_t rl = strlen(resolved);
    if (rl + len + 2 >= cap)
      break; /* longer than any real path: stop resolving */
    resolved[rl] = '/';
    memcpy(resolved + rl + 1, comp, len + 1);
    cleanup_free char *full = xasprintf("%s%s", root, resolved);
    char target[PATH_MAX];
    ssize_t n = readlink(full, target, sizeof target - 1);
    if (n < 0)
      continue; /* not a symlink, or not there yet */
    if (++links > 255) {
      resolved[rl] = '\0'; /* never hand back the unresolved link itself */
      break;
    }
    target[n] = '\0';
    resolved[rl] = '\0'; /* drop the link itself */
    if (target[0] == '/')
      resolved[0] = '\0';
    char *next = xasprintf("%s/%s", target, pending + pos);
    free(pending);
    pending = next;
    pos = 0;
  }
  return xasprintf("%s%s", root, resolved);
}

/* Flags of an existing mount that a bind remount must keep (the kernel
 * refuses to clear locked nodev/nosuid/noexec/atime flags in a user ns). */
static unsigned long locked_flags(const char *path)
{
  struct statvfs s;
  if (statvfs(path, &s) < 0)
    return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int make_target(const char *target, bool is_file, edgecr_error_t *err)
{
  struct stat st;
  if (stat(target, &st) == 0)
    return 0;
  cleanup_free char *parent = xstrdup(target);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (mkdir_p(parent, 0755, err) < 0)
      return -1;
  }
  if (is_file) {
    int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
      return edgecr_error_make(err, errno, "create mount point `%s`", target);
    close(fd);
    return 0;
  }
  if (mkdir(target, 0755) < 0 && errno != EEXIST)
    return edgecr_error_make(err, errno, "create mount point `%s`", target);
  return 0;
}

static int bind_remount(const char *target, unsigned long flags, bool rec, edgecr_error_t *err)
{
  unsigned long f = MS_REMOUNT | MS_BIND | (rec ? MS_REC : 0) | flags | locked_flags(target);
  if (mount(NULL, target, NULL, f, NULL) < 0)
    return edgecr_error_make(err, errno, "remount `%s`", target);
  return 0;
}

static const unsigned long remountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/* Attach the detached copy of src (see mounts_open_bind_sources).  The
 * copy is a peer of the host's mount: make it a slave at once, as a bind
 * made inside our (rslave) namespace would be, so nothing mounted below it
 * in the container reaches the host.  The copy keeps the host mount's
 * flags (ro, nosuid, ...), though unlike a namespace copy they are not
 * locked against a remount by the namespace's root. */
static int attach_tree(int tree_fd, const char *src, const char *target, edgecr_error_t *err)
{
  if (syscall(SYS_move_mount, tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return edgecr_error_make(err, errno, "bind mount `%s` on `%s`", src, target);
  if (mount(NULL, target, NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return edgecr_error_make(err, errno, "bind mount `%s`: make it a slave", src);
  return 0;
}

/* tree_fd >= 0: the source was opened by the runtime; src only names it. */
static int do_bind(const struct oci_mount *m, const char *src, int tree_fd, const char *target, edgecr_error_t *err)
{
  struct stat st;
  if ((tree_fd >= 0 ? fstat(tree_fd, &st) : stat(src, &st)) < 0)
    return edgecr_error_make(err, errno, "bind mount source `%s`", src);
  if (make_target(target, !S_ISDIR(st.st_mode), err) < 0)
    return -1;
  if (m->idmap) {
    if (idmap_attach(m, target, err) < 0)
      return -1;
  } else if (tree_fd >= 0) {
    if (attach_tree(tree_fd, src, target, err) < 0)
      return -1;
  } else if (mount(src, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), m->data) < 0) {
    /* (The kernel ignores data for a bind; it is passed as the spec says.) */
    return edgecr_error_make(err, errno, "bind mount `%s` on `%s`", src, target);
  }
  if (m->flags & remountable)
    return bind_remount(target, m->flags & remountable, m->recursive, err);
  return 0;
}

/* Mount the cgroup hierarchies the container may see: a tmpfs with one
 * bind mount per v1 hierarchy (the container's own cgroup directory), plus
 * the v2 tree; on a pure v2 host the container's directory directly. */
static int mount_cgroups(const struct oci_mount *m, const char *target, const struct cgroup_layout *l,
                         const char *cgpath, edgecr_error_t *err)
{
  unsigned long ro = m->flags & MS_RDONLY;
  if (make_target(target, false, err) < 0)
    return -1;
  if (l->v2_only) {
    cleanup_free char *src = xasprintf("%s%s", l->unified, cgpath);
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
      return edgecr_error_make(err, errno, "bind cgroup `%s`", src);
    return ro ? bind_remount(target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true, err) : 0;
  }
  if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    return edgecr_error_make(err, errno, "mount tmpfs for cgroups on `%s`", target);
  for (size_t i = 0; i <= l->n_v1; i++) {
    const char *mount_dir = i < l->n_v1 ? l->v1_mounts[i] : l->unified;
    if (mount_dir == NULL)
      continue;
    const char *base = strrchr(mount_dir, '/') + 1;
    cleanup_free char *src = xasprintf("%s%s", mount_dir, cgpath);
    cleanup_free char *dst = xasprintf("%s/%s", target, base);
    if (access(src, F_OK) < 0)
      continue;
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
      return edgecr_error_make(err, errno, "mkdir `%s`", dst);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
      return edgecr_error_make(err, errno, "bind cgroup `%s`", src);
    if (ro && bind_remount(dst, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true, err) < 0)
      return -1;
  }
  if (ro)
    return bind_remount(target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, false, err);
  return 0;
}

/* A tmpfs without mode= takes the mode of the directory it covers (as
 * under runc and crun; the kernel's default would be 1777).  Returns the
 * data string to mount with: m->data, or a new one (*owned). */
static const char *tmpfs_data(const struct oci_mount *m, const char *target, char **owned)
{
  *owned = NULL;
  if (strcmp(m->type, "tmpfs") != 0)
    return m->data;
  for (const char *d = m->data; d != NULL; d = strchr(d, ',') ? strchr(d, ',') + 1 : NULL)
    if (strncmp(d, "mode=", 5) == 0)
      return m->data;
  struct stat st;
  if (stat(target, &st) < 0)
    return m->data;
  unsigned mode = st.st_mode & 07777;
  *owned = m->data ? xasprintf("%s,mode=%o", m->data, mode) : xasprintf("mode=%o", mode);
  return *owned;
}

/* rro, rnosuid, ...: mount_setattr(2) with AT_RECURSIVE (Linux 5.12+),
 * so that every submount of a recursive bind gets the attribute too. */
static int set_recursive_attrs(const struct oci_mount *m, const char *target, edgecr_error_t *err)
{
  struct { uint64_t attr_set, attr_clr, propagation, userns_fd; } attr = {m->rec_attr_set, m->rec_attr_clr, 0, 0};
#ifdef SYS_mount_setattr
  if (syscall(SYS_mount_setattr, AT_FDCWD, target, 0x8000 /* AT_RECURSIVE */, &attr, sizeof attr) == 0)
    return 0;
  int e = errno;
#else
  int e = ENOSYS;
#endif
  return edgecr_error_make(err, e, "set recursive mount attributes (rro, rnosuid, ...)%s",
                           e == ENOSYS ? ": this kernel has no mount_setattr (needs Linux 5.12)" : "");
}

static int do_mount(const struct oci_config *c, size_t idx, const struct cgroup_layout *l,
                    const char *cgpath, const int *source_fds, edgecr_error_t *err)
{
  const struct oci_mount *m = &c->mounts[idx];
  const char *dest = m->destination;
  cleanup_free char *rel = dest[0] == '/' ? xstrdup(dest) : xasprintf("/%s", dest);
  cleanup_free char *target = secure_join(c->root_path, rel);
  int ret;
  if (m->bind) {
    cleanup_free char *src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", c->bundle, m->source);
    ret = do_bind(m, src, source_fds ? source_fds[idx] : -1, target, err);
  } else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
    ret = mount_cgroups(m, target, l, cgpath, err);
  } else {
    if (make_target(target, false, err) < 0)
      return -1;
    unsigned long flags = m->flags & ~MS_REMOUNT;
    cleanup_free char *owned = NULL;
    const char *data = tmpfs_data(m, target, &owned);
    ret = 0;
    /* tmpcopyup: this fd still sees what the tmpfs is about to cover. */
    cleanup_close int below = m->copyup ? open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (m->copyup && below < 0)
      return edgecr_error_make(err, errno, "%s: `mounts[%zu]` (%s): tmpcopyup: open the mount point", c->path, idx,
                               dest);
    /* A read-only tmpfs is filled first, then made read-only. */
    unsigned long first = m->copyup ? flags & ~MS_RDONLY : flags;
    if (mount(m->source ? m->source : m->type, target, m->type, first, data) == 0) {
      if (m->copyup && copyup_tree(below, target, err) < 0)
        ret = -1;
      else if (first != flags && mount(NULL, target, NULL, MS_REMOUNT | flags, data) < 0)
        ret = edgecr_error_make(err, errno, "tmpcopyup: remount `%s` read-only", m->destination);
    } else {
      int e = errno;
      /* sysfs without a network namespace of ours, and mqueue without an
       * ipc namespace, cannot be mounted fresh: bind the host's instead. */
      const char *fallback = strcmp(m->type, "sysfs") == 0 ? "/sys" : strcmp(m->type, "mqueue") == 0 ? "/dev/mqueue" : NULL;
      if ((e == EPERM || e == EINVAL) && fallback) {
        struct oci_mount b = *m;
        b.recursive = true;
        ret = do_bind(&b, fallback, -1, target, err);
      } else {
        if (e == ENODEV)
          ret = edgecr_error_make(err, e, "unknown filesystem type `%s`", m->type);
        else if (e == EINVAL && m->data)
          ret = edgecr_error_make(err, e, "mount %s on `%s`: invalid options `%s`", m->type, m->destination, m->data);
        else
          ret = edgecr_error_make(err, e, "mount `%s` (%s) on `%s`", m->source ? m->source : m->type, m->type,
                                  m->destination);
      }
    }
  }
  if (ret == 0 && (m->rec_attr_set | m->rec_attr_clr))
    ret = set_recursive_attrs(m, target, err);
  if (ret < 0)
    return edgecr_error_wrap(err, "%s: `mounts[%zu]` (%s)", c->path, idx, m->destination);
  if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
    return edgecr_error_make(err, errno, "%s: `mounts[%zu]` (%s): set propagation", c->path, idx, m->destination);
  return 0;
}

/* The configured mount of dest (the last one wins, as in mount order). */
static const struct oci_mount *config_mount(const struct oci_config *c, const char *dest)
{
  const struct oci_mount *found = NULL;
  for (size_t i = 0; i < c->n_mounts; i++) {
    const char *d = c->mounts[i].destination;
    while (*d == '/' && d[1] == '/')
      d++;
    if (strcmp(d, dest) == 0)
      found = &c->mounts[i];
  }
  return found;
}

static mode_t device_type(const struct oci_device *d)
{
  return d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
}

/* Is path (not followed) already the device d describes? */
static bool is_device(const char *path, const struct oci_device *d, bool follow)
{
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) < 0 || (st.st_mode & S_IFMT) != device_type(d))
    return false;
  return d->type == 'p' || st.st_rdev == makedev((unsigned) d->major, (unsigned) d->minor);
}

/* A node of d's type and number directly in dir, or NULL. */
static char *find_device_in(const char *dir, const struct oci_device *d)
{
  DIR *dp = opendir(dir);
  char *found = NULL;
  for (struct dirent *e; dp != NULL && found == NULL && (e = readdir(dp)) != NULL;) {
    found = xasprintf("%s/%s", dir, e->d_name);
    if (!is_device(found, d, false)) {
      free(found);
      found = NULL;
    }
  }
  if (dp != NULL)
    closedir(dp);
  return found;
}

/* The host's node for d (we are still in the host's root): its own path
 * when that is the same device, else the udev links /dev/char|block/M:m,
 * else any node of that number directly in /dev.  NULL if none. */
static char *host_device_node(const struct oci_device *d)
{
  if (is_device(d->path, d, true))
    return xstrdup(d->path);
  cleanup_free char *link = xasprintf("/dev/%s/%lld:%lld", d->type == 'b' ? "block" : "char", d->major, d->minor);
  if (is_device(link, d, true))
    return steal_pointer(&link);
  return find_device_in("/dev", d);
}

/* mknod is not allowed in a user namespace: bind the host's node of the
 * same number onto an empty file (FIFOs can still be made). */
static int bind_device(const struct oci_device *d, const char *target, edgecr_error_t *err)
{
  cleanup_free char *node = host_device_node(d);
  if (node == NULL)
    return edgecr_error_make(err, ENOENT, "linux.devices: `%s` (%c %lld:%lld): in a user namespace a device is "
                                          "bind-mounted from the host, which has no such node in /dev",
                             d->path, d->type, d->major, d->minor);
  struct oci_mount b = {.bind = true};
  return do_bind(&b, node, -1, target, err);
}

static int make_device(const struct oci_config *c, const struct oci_device *d, bool in_userns, edgecr_error_t *err)
{
  cleanup_free char *target = secure_join(c->root_path, d->path);
  cleanup_free char *parent = xstrdup(target);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (mkdir_p(parent, 0755, err) < 0)
      return -1;
  }
  if (in_userns && d->type != 'p')
    return bind_device(d, target, err);
  mode_t mode = d->has_mode ? d->mode : 0666;
  unlink(target);
  if (mknod(target, device_type(d) | (mode & 07777), makedev((unsigned) d->major, (unsigned) d->minor)) < 0)
    return edgecr_error_make(err, errno, "linux.devices: create `%s`", d->path);
  if (chmod(target, mode & 07777) < 0)
    return edgecr_error_make(err, errno, "linux.devices: chmod `%s`", d->path);
  if ((d->has_uid || d->has_gid) && chown(target, d->has_uid ? d->uid : (uid_t) -1, d->has_gid ? d->gid : (gid_t) -1) < 0)
    return edgecr_error_make(err, errno, "linux.devices: chown `%s`", d->path);
  return 0;
}

static const struct oci_device default_devices[] = {
  {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
  {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
  {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
  {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
  {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
  {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

/* The /proc/self/fd links, unless an entry of that name exists (a /dev from
 * the host or the image has them): the name itself is never followed. */
static int make_dev_links(const struct oci_config *c, edgecr_error_t *err)
{
  static const char *links[][2] = {
    {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
  };
  cleanup_free char *dev = secure_join(c->root_path, "/dev");
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    cleanup_free char *p = xasprintf("%s/%s", dev, links[i][1]);
    struct stat st;
    if (lstat(p, &st) == 0)
      continue;
    if (symlink(links[i][0], p) < 0 && errno != EEXIST)
      return edgecr_error_make(err, errno, "symlink `/dev/%s`", links[i][1]);
  }
  return 0;
}

static int setup_dev(const struct oci_config *c, bool in_userns, edgecr_error_t *err)
{
  /* A /dev bound from the host is the host's: its nodes are left alone (a
   * configured device that is already there is kept, as is). */
  const struct oci_mount *devm = config_mount(c, "/dev");
  bool host_dev = devm != NULL && devm->bind;
  for (size_t i = 0; i < c->n_devices; i++) {
    const struct oci_device *d = &c->devices[i];
    cleanup_free char *target = host_dev ? secure_join(c->root_path, d->path) : NULL;
    if (host_dev && is_device(target, d, false))
      continue;
    if (make_device(c, d, in_userns, err) < 0)
      return -1;
  }
  if (host_dev)
    return 0;
  /* The spec's default devices, unless the config brings its own. */
  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++) {
    bool given = false;
    for (size_t k = 0; k < c->n_devices; k++)
      if (strcmp(c->devices[k].path, default_devices[i].path) == 0)
        given = true;
    if (!given && make_device(c, &default_devices[i], in_userns, err) < 0)
      return -1;
  }
  if (make_dev_links(c, err) < 0)
    return -1;
  if (config_mount(c, "/dev/pts") != NULL) {
    cleanup_free char *dev = secure_join(c->root_path, "/dev");
    cleanup_free char *p = xasprintf("%s/ptmx", dev);
    unlink(p);
    if (symlink("pts/ptmx", p) < 0)
      return edgecr_error_make(err, errno, "symlink /dev/ptmx");
  }
  return 0;
}

int *mounts_open_bind_sources(const struct oci_config *c)
{
  const struct oci_namespace *user = oci_config_namespace(c, CLONE_NEWUSER);
  const struct oci_namespace *mnt = oci_config_namespace(c, CLONE_NEWNS);
  if (user == NULL || mnt == NULL || mnt->path != NULL)
    return NULL;
  int *fds = xmalloc0((c->n_mounts + 1) * sizeof *fds);
  for (size_t i = 0; i < c->n_mounts; i++) {
    const struct oci_mount *m = &c->mounts[i];
    fds[i] = -1;
    if (!m->bind)
      continue;
    cleanup_free char *src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", c->bundle, m->source);
    /* On failure (e.g. a kernel before 5.2) the init binds the path itself;
     * errors are reported there, with the mount's field. */
    fds[i] = (int) syscall(SYS_open_tree, AT_FDCWD, src,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
  }
  return fds;
}

void mounts_close_bind_sources(const struct oci_config *c, int *fds)
{
  for (size_t i = 0; fds != NULL && i < c->n_mounts; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);
}

int mounts_setup_rootfs(const struct oci_config *c, const struct cgroup_layout *l, const char *cgroup_path,
                        bool in_userns, const int *source_fds, edgecr_error_t *err)
{
  /* Nothing we mount may propagate back to the host (unless asked).  Shared
   * and unbindable are applied after pivot_root: shared here would reach
   * the host, and an unbindable / could not be bound as the new root. */
  unsigned long prop = c->rootfs_propagation ? c->rootfs_propagation : MS_SLAVE | MS_REC;
  unsigned long kind = prop & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
  if (kind == MS_SHARED || kind == MS_UNBINDABLE)
    prop = MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
    return edgecr_error_make(err, errno, "set propagation of /");
  struct stat st;
  if (stat(c->root_path, &st) < 0)
    return edgecr_error_make(err, errno, "root.path `%s`", c->root_path);
  if (!S_ISDIR(st.st_mode))
    return edgecr_error_make(err, ENOTDIR, "root.path `%s`", c->root_path);
  if (mount(c->root_path, c->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return edgecr_error_make(err, errno, "bind rootfs `%s`", c->root_path);
  for (size_t i = 0; i < c->n_mounts; i++)
    if (do_mount(c, i, l, cgroup_path, source_fds, err) < 0)
      return -1;
  return setup_dev(c, in_userns, err);
}

int mounts_enter_rootfs(const struct oci_config *c, bool no_pivot, edgecr_error_t *err)
{
  if (chdir(c->root_path) < 0)
    return edgecr_error_make(err, errno, "chdir `%s`", c->root_path);
  if (no_pivot) {
    if (mount(c->root_path, "/", NULL, MS_MOVE, NULL) < 0)
      return edgecr_error_make(err, errno, "move rootfs to /");
    if (chroot(".") < 0)
      return edgecr_error_make(err, errno, "chroot");
  } else {
    cleanup_close int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old_root < 0)
      return edgecr_error_make(err, errno, "open the old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return edgecr_error_make(err, errno, "pivot_root `%s`", c->root_path);
    /* The old root is now stacked on "/": step onto it (not the new root,
     * whose mounts keep their propagation) and detach it. */
    if (fchdir(old_root) < 0)
      return edgecr_error_make(err, errno, "enter the old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
      return edgecr_error_make(err, errno, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
      return edgecr_error_make(err, errno, "detach old root");
  }
  if (chdir("/") < 0)
    return edgecr_error_make(err, errno, "chdir /");
  return 0;
}

static int mask_path(const char *p, edgecr_error_t *err)
{
  struct stat st;
  if (stat(p, &st) < 0)
    return 0; /* nothing to hide */
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
      return edgecr_error_make(err, errno, "linux.maskedPaths: `%s`", p);
  } else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
    return edgecr_error_make(err, errno, "linux.maskedPaths: `%s`", p);
  }
  return 0;
}

static int readonly_path(const char *p, edgecr_error_t *err)
{
  if (access(p, F_OK) < 0)
    return 0;
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
    return edgecr_error_make(err, errno, "linux.readonlyPaths: bind `%s`", p);
  if (bind_remount(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true, err) < 0)
    return edgecr_error_wrap(err, "linux.readonlyPaths");
  return 0;
}

int mounts_finalize(const struct oci_config *c, edgecr_error_t *err)
{
  for (size_t i = 0; c->masked_paths && c->masked_paths[i]; i++)
    if (mask_path(c->masked_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; c->readonly_paths && c->readonly_paths[i]; i++)
    if (readonly_path(c->readonly_paths[i], err) < 0)
      return -1;
  if (c->root_readonly && bind_remount("/", MS_RDONLY, false, err) < 0)
    return edgecr_error_wrap(err, "root.readonly");
  if (c->rootfs_propagation && mount(NULL, "/", NULL, c->rootfs_propagation, NULL) < 0)
    return edgecr_error_make(err, errno, "linux.rootfsPropagation");
  return 0;
}
