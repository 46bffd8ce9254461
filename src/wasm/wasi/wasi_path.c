/* wasi_path.c - the path_* calls.  Every path is guest bytes relative to a
 * guest directory descriptor and goes through the sandbox resolver
 * (wasi_sandbox.c): open/stat resolve the whole path beneath the
 * directory; create/remove/rename/link/symlink/readlink resolve the parent
 * beneath and act on the final name with the *at() call, which does not
 * follow it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wasi_internal.h"

/* The guest directory `fd` (must be a directory) and its path argument. */
static uint16_t dir_and_path(const struct wasi_call *c, uint32_t fd, uint32_t ptr, uint32_t len,
                             struct wasi_fd **dir, char *path)
{
  *dir = wasi_fd_get(c->ctx, fd);
  if (*dir == NULL)
    return WASI_EBADF;
  if (!(*dir)->dir_cap)
    return WASI_ENOTDIR;
  return wasi_path_copy(c, ptr, len, path);
}

/* Resolve the parent of a guest path: on success *parent is an O_PATH fd
 * the caller closes. */
static uint16_t resolve_parent(const struct wasi_call *c, uint32_t fd, uint32_t ptr, uint32_t len,
                               int *parent, char name[256])
{
  struct wasi_fd *dir;
  char path[WASI_PATH_MAX];
  uint16_t e = dir_and_path(c, fd, ptr, len, &dir, path);
  if (e != 0)
    return e;
  int p = wasi_sandbox_parent(dir->host_fd, path, name);
  if (p < 0)
    return (uint16_t) -p;
  *parent = p;
  return WASI_ESUCCESS;
}

static int host_open_flags(uint32_t oflags, uint64_t rights, uint32_t fdflags)
{
  bool read = rights & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
  bool write = rights & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |
                         WASI_RIGHT_FD_FILESTAT_SET_SIZE);
  int flags = write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (oflags & WASI_O_CREAT) flags |= O_CREAT;
  if (oflags & WASI_O_DIRECTORY) flags |= O_DIRECTORY;
  if (oflags & WASI_O_EXCL) flags |= O_EXCL;
  if (oflags & WASI_O_TRUNC) flags |= O_TRUNC;
  if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
  if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
  if (fdflags & WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
  if (fdflags & WASI_FDFLAG_SYNC) flags |= O_SYNC;
  if (fdflags & WASI_FDFLAG_RSYNC) flags |= O_RSYNC;
  return flags;
}

static uint16_t path_open(const struct wasi_call *c, const ew_value *a)
{
  uint32_t dirflags = WASI_ARG_U32(a, 1), oflags = WASI_ARG_U32(a, 4);
  uint64_t rights = WASI_ARG_U64(a, 5), rights_inh = WASI_ARG_U64(a, 6);
  uint32_t fdflags = WASI_ARG_U32(a, 7);
  struct wasi_fd *dir;
  char path[WASI_PATH_MAX];
  uint16_t e = dir_and_path(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 2), WASI_ARG_U32(a, 3), &dir, path);
  if (e != 0)
    return e;
  /* Check the result pointer first: a failure after the open would leave
   * a created file behind. */
  uint8_t *out = wasi_mem(c, WASI_ARG_U32(a, 8), 4);
  if (out == NULL)
    return WASI_EFAULT;
  if (oflags & ~(uint32_t) 15 || fdflags & ~(uint32_t) 31)
    return WASI_EINVAL;
  if ((oflags & WASI_O_DIRECTORY) && (oflags & (WASI_O_CREAT | WASI_O_TRUNC)))
    return WASI_EINVAL;
  /* Rights are bounded by what the directory may hand down. */
  rights &= dir->rights_inheriting;
  rights_inh &= dir->rights_inheriting;
  int flags = host_open_flags(oflags, rights, fdflags);
  int fd = wasi_sandbox_open(dir->host_fd, path, flags, 0666,
                             dirflags & WASI_LOOKUP_SYMLINK_FOLLOW);
  if (fd < 0)
    return (uint16_t) -fd;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return wasi_errno_from_host(errno);
  }
  uint8_t type = wasi_filetype_from_mode(st.st_mode);
  rights &= type == WASI_FILETYPE_DIRECTORY ? WASI_RIGHTS_DIR : WASI_RIGHTS_FILE;
  uint32_t guest_fd;
  e = wasi_fd_install(c->ctx, fd, type, rights, rights_inh, (uint16_t) fdflags, &guest_fd);
  if (e != 0)
    return e;
  /* resolved beneath a capability, so it is one itself */
  c->ctx->fds[guest_fd].dir_cap = type == WASI_FILETYPE_DIRECTORY;
  wasi_st32(out, guest_fd);
  return WASI_ESUCCESS;
}

static uint16_t path_filestat_get(const struct wasi_call *c, const ew_value *a)
{
  struct wasi_fd *dir;
  char path[WASI_PATH_MAX];
  uint16_t e = dir_and_path(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 2), WASI_ARG_U32(a, 3), &dir, path);
  if (e != 0)
    return e;
  uint8_t *out = wasi_mem(c, WASI_ARG_U32(a, 4), WASI_FILESTAT_SIZE);
  if (out == NULL)
    return WASI_EFAULT;
  cleanup_close int fd = wasi_sandbox_open(dir->host_fd, path, O_PATH, 0,
                                           WASI_ARG_U32(a, 1) & WASI_LOOKUP_SYMLINK_FOLLOW);
  if (fd < 0)
    return (uint16_t) -fd;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return wasi_errno_from_host(errno);
  wasi_store_filestat(out, &st);
  return WASI_ESUCCESS;
}

static uint16_t path_filestat_set_times(const struct wasi_call *c, const ew_value *a)
{
  struct timespec ts[2];
  uint16_t e = wasi_times_from_flags(WASI_ARG_U64(a, 4), WASI_ARG_U64(a, 5), WASI_ARG_U32(a, 6), ts);
  if (e != 0)
    return e;
  struct wasi_fd *dir;
  char path[WASI_PATH_MAX];
  e = dir_and_path(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 2), WASI_ARG_U32(a, 3), &dir, path);
  if (e != 0)
    return e;
  /* Resolve beneath (following or not), then act on that very file
   * through its O_PATH descriptor: the kernel never re-walks the path. */
  cleanup_close int fd = wasi_sandbox_open(dir->host_fd, path, O_PATH, 0,
                                           WASI_ARG_U32(a, 1) & WASI_LOOKUP_SYMLINK_FOLLOW);
  if (fd < 0)
    return (uint16_t) -fd;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
    return wasi_errno_from_host(errno);
  return WASI_ESUCCESS;
}

/* The three calls that act on one final name in a resolved parent. */
static int do_mkdir(int parent, const char *name) { return mkdirat(parent, name, 0777); }
static int do_unlink(int parent, const char *name) { return unlinkat(parent, name, 0); }
static int do_rmdir(int parent, const char *name) { return unlinkat(parent, name, AT_REMOVEDIR); }

static uint16_t on_final_name(const struct wasi_call *c, const ew_value *a,
                              int (*op)(int parent, const char *name))
{
  char name[256];
  cleanup_close int parent = -1;
  uint16_t e = resolve_parent(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1), WASI_ARG_U32(a, 2), &parent, name);
  if (e != 0)
    return e;
  return op(parent, name) < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
}

static uint16_t path_create_directory(const struct wasi_call *c, const ew_value *a)
{
  return on_final_name(c, a, do_mkdir);
}

static uint16_t path_unlink_file(const struct wasi_call *c, const ew_value *a)
{
  return on_final_name(c, a, do_unlink);
}

static uint16_t path_remove_directory(const struct wasi_call *c, const ew_value *a)
{
  return on_final_name(c, a, do_rmdir);
}

/* rename and link: two (dir, path) pairs starting at argument `first_old`
 * and `first_new`; the final names are handed to op. */
static uint16_t on_two_names(const struct wasi_call *c, const ew_value *a, int first_old, int first_new,
                             int (*op)(int, const char *, int, const char *))
{
  char old_name[256], new_name[256];
  cleanup_close int old_parent = -1;
  cleanup_close int new_parent = -1;
  uint16_t e = resolve_parent(c, WASI_ARG_U32(a, first_old), WASI_ARG_U32(a, first_old + 1),
                              WASI_ARG_U32(a, first_old + 2), &old_parent, old_name);
  if (e == 0)
    e = resolve_parent(c, WASI_ARG_U32(a, first_new), WASI_ARG_U32(a, first_new + 1),
                       WASI_ARG_U32(a, first_new + 2), &new_parent, new_name);
  if (e != 0)
    return e;
  return op(old_parent, old_name, new_parent, new_name) < 0 ? wasi_errno_from_host(errno)
                                                            : WASI_ESUCCESS;
}

static int do_link(int op, const char *on, int np, const char *nn) { return linkat(op, on, np, nn, 0); }

static uint16_t path_rename(const struct wasi_call *c, const ew_value *a)
{
  return on_two_names(c, a, 0, 3, renameat);
}

/* The lookup flags (a[1]) are not honoured: following the final symlink
 * would happen in the kernel, outside the sandbox's resolution. */
static uint16_t path_link(const struct wasi_call *c, const ew_value *a)
{
  ew_value args[6] = {a[0], a[2], a[3], a[4], a[5], a[6]};
  return on_two_names(c, args, 0, 3, do_link);
}

static uint16_t path_symlink(const struct wasi_call *c, const ew_value *a)
{
  char target[WASI_PATH_MAX], name[256];
  uint16_t e = wasi_path_copy(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1), target);
  if (e != 0)
    return e;
  /* An absolute target could never be followed inside the sandbox, but a
   * host process walking the preopen later would follow it: refuse. */
  if (target[0] == '/' || target[0] == 0)
    return target[0] == 0 ? WASI_ENOENT : WASI_ENOTCAPABLE;
  cleanup_close int parent = -1;
  e = resolve_parent(c, WASI_ARG_U32(a, 2), WASI_ARG_U32(a, 3), WASI_ARG_U32(a, 4), &parent, name);
  if (e != 0)
    return e;
  return symlinkat(target, parent, name) < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
}

static uint16_t path_readlink(const struct wasi_call *c, const ew_value *a)
{
  uint32_t buf = WASI_ARG_U32(a, 3), buf_len = WASI_ARG_U32(a, 4);
  uint8_t *dst = wasi_mem(c, buf, buf_len);
  uint8_t *used = wasi_mem(c, WASI_ARG_U32(a, 5), 4);
  if (dst == NULL || used == NULL)
    return WASI_EFAULT;
  char name[256];
  cleanup_close int parent = -1;
  uint16_t e = resolve_parent(c, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1), WASI_ARG_U32(a, 2), &parent, name);
  if (e != 0)
    return e;
  char target[WASI_PATH_MAX];
  ssize_t n = readlinkat(parent, name, target, sizeof target);
  if (n < 0)
    return wasi_errno_from_host(errno);
  uint32_t take = (uint64_t) n < buf_len ? (uint32_t) n : buf_len;
  memcpy(dst, target, take);
  wasi_st32(used, take);
  return WASI_ESUCCESS;
}

const struct wasi_func_def wasi_defs_path[] = {
  {"path_create_directory", "iii", true, path_create_directory},
  {"path_filestat_get", "iiiii", true, path_filestat_get},
  {"path_filestat_set_times", "iiiiIIi", true, path_filestat_set_times},
  {"path_link", "iiiiiii", true, path_link},
  {"path_open", "iiiiiIIii", true, path_open},
  {"path_readlink", "iiiiii", true, path_readlink},
  {"path_remove_directory", "iii", true, path_remove_directory},
  {"path_rename", "iiiiii", true, path_rename},
  {"path_symlink", "iiiii", true, path_symlink},
  {"path_unlink_file", "iii", true, path_unlink_file},
  {NULL, NULL, false, NULL},
};
