/* wasi_sandbox.c - resolving guest paths without ever leaving a preopen.
 *
 * Every guest path is relative to a guest directory descriptor.  The rule:
 * resolution stays beneath that directory.  `..` may climb back up only as
 * far as the directory itself, absolute paths are refused, and a symlink
 * is followed only when its target, resolved the same way, stays beneath
 * (absolute targets are refused).  Escapes fail with ENOTCAPABLE.
 *
 * Two resolvers implement the rule:
 *  - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel
 *    does the whole walk atomically (Linux >= 5.6);
 *  - a component-by-component walk with openat(O_PATH|O_NOFOLLOW), used
 *    when openat2 is missing (ENOSYS, e.g. under an old seccomp filter) and
 *    forced by EDGECR_WASI_RESOLVE=walk so tests cover it.
 * Operations on a final name (mkdir, unlink, rename, symlink, readlink,
 * lstat) resolve the parent beneath and then use the *at() call on the last
 * component, which never follows it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"
#include "wasi_internal.h"

#define MAX_SYMLINKS 40   /* as Linux's MAXSYMLINKS */
#define MAX_DEPTH 1024

enum resolver { RESOLVER_UNKNOWN, RESOLVER_OPENAT2, RESOLVER_WALK };
static enum resolver resolver_mode = RESOLVER_UNKNOWN;

static enum resolver current_resolver(void)
{
  if (resolver_mode == RESOLVER_UNKNOWN) {
    const char *e = getenv("EDGECR_WASI_RESOLVE");
    resolver_mode = e != NULL && strcmp(e, "walk") == 0 ? RESOLVER_WALK : RESOLVER_OPENAT2;
  }
  return resolver_mode;
}

const char *wasi_sandbox_resolver(void)
{
  return current_resolver() == RESOLVER_WALK ? "walk" : "openat2";
}

uint16_t wasi_path_copy(const struct wasi_call *c, uint32_t ptr, uint32_t len, char *out)
{
  if (len >= WASI_PATH_MAX)
    return WASI_ENAMETOOLONG;
  const uint8_t *p = wasi_mem(c, ptr, len);
  if (p == NULL)
    return WASI_EFAULT;
  if (memchr(p, 0, len) != NULL)
    return WASI_EILSEQ;
  memcpy(out, p, len);
  out[len] = 0;
  return WASI_ESUCCESS;
}

/* ---- openat2 ---- */

static int openat2_beneath(int dirfd, const char *path, int flags, unsigned mode)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? mode : 0, /* the kernel refuses a mode without O_CREAT */
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  for (int attempt = 0; attempt < 8; attempt++) {
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0)
      return (int) fd;
    /* EAGAIN: a concurrent rename made the kernel unsure `..` stayed
     * beneath; retrying is what the man page suggests. */
    if (errno != EAGAIN && errno != EINTR)
      break;
  }
  if (errno == EXDEV)
    return -WASI_ENOTCAPABLE;
  if (errno == ENOSYS)
    return -ENOSYS; /* caller falls back to the walk */
  return -(int) wasi_errno_from_host(errno);
}

/* ---- component walk ---- */

struct walk {
  int stack[MAX_DEPTH];   /* stack[0] is the caller's dirfd (not ours) */
  int depth;
  char rest[2 * WASI_PATH_MAX];
  int symlinks;
};

static void walk_close(struct walk *w)
{
  while (w->depth > 0)
    close(w->stack[w->depth--]);
}

/* Replace the component just consumed (a symlink) by its target:
 * rest = target + "/" + tail. */
static int walk_splice(struct walk *w, int cur, const char *comp, const char *tail)
{
  char target[WASI_PATH_MAX];
  if (++w->symlinks > MAX_SYMLINKS)
    return WASI_ELOOP;
  ssize_t n = readlinkat(cur, comp, target, sizeof target - 1);
  if (n < 0)
    return wasi_errno_from_host(errno);
  target[n] = 0;
  if (n == 0)
    return WASI_ENOENT;
  if (target[0] == '/')
    return WASI_ENOTCAPABLE;
  char joined[2 * WASI_PATH_MAX];
  int len = snprintf(joined, sizeof joined, "%s%s%s", target, *tail ? "/" : "", tail);
  if (len < 0 || (size_t) len >= sizeof joined)
    return WASI_ENAMETOOLONG;
  memcpy(w->rest, joined, (size_t) len + 1);
  return WASI_ESUCCESS;
}

static int walk_open(int dirfd, const char *path, int flags, unsigned mode, bool follow)
{
  struct walk *w = malloc(sizeof *w);
  if (w == NULL)
    return -WASI_ENOMEM;
  w->stack[0] = dirfd;
  w->depth = 0;
  w->symlinks = 0;
  snprintf(w->rest, sizeof w->rest, "%s", path);
  int result = -WASI_EIO;

  for (;;) {
    int cur = w->stack[w->depth];
    char *slash = strchr(w->rest, '/');
    size_t n = slash != NULL ? (size_t) (slash - w->rest) : strlen(w->rest);
    const char *tail = slash != NULL ? slash + 1 : "";
    char comp[256];
    if (n >= sizeof comp) {
      result = -WASI_ENAMETOOLONG;
      break;
    }
    memcpy(comp, w->rest, n);
    comp[n] = 0;
    bool last = slash == NULL;
    /* A trailing slash names the directory itself ("dir/" == "dir/."). */
    if (last && comp[0] == 0)
      strcpy(comp, ".");

    if (strcmp(comp, ".") == 0 || comp[0] == 0) {
      if (last) {
        int fd = openat(cur, ".", flags | O_CLOEXEC, mode);
        result = fd >= 0 ? fd : -(int) wasi_errno_from_host(errno);
        break;
      }
    } else if (strcmp(comp, "..") == 0) {
      if (w->depth == 0) {
        result = -WASI_ENOTCAPABLE;
        break;
      }
      close(w->stack[w->depth--]);
      if (last) {
        int fd = openat(w->stack[w->depth], ".", flags | O_CLOEXEC, mode);
        result = fd >= 0 ? fd : -(int) wasi_errno_from_host(errno);
        break;
      }
    } else {
      struct stat st;
      bool exists = fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && S_ISLNK(st.st_mode) && (!last || follow)) {
        uint16_t e = walk_splice(w, cur, comp, tail);
        if (e != 0) {
          result = -(int) e;
          break;
        }
        continue;
      }
      if (last) {
        /* O_NOFOLLOW: the name was checked above, but it could have been
         * swapped for a symlink since; never follow it here. */
        int fd = openat(cur, comp, flags | O_CLOEXEC | O_NOFOLLOW, mode);
        result = fd >= 0 ? fd : -(int) wasi_errno_from_host(errno);
        break;
      }
      if (!exists) {
        result = -(int) wasi_errno_from_host(errno);
        break;
      }
      if (w->depth + 1 >= MAX_DEPTH) {
        result = -WASI_ENAMETOOLONG;
        break;
      }
      int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        result = -(int) wasi_errno_from_host(errno == ELOOP ? ENOTDIR : errno);
        break;
      }
      w->stack[++w->depth] = fd;
    }
    memmove(w->rest, tail, strlen(tail) + 1);
  }
  walk_close(w);
  free(w);
  return result;
}

int wasi_sandbox_open(int dirfd, const char *path, int flags, unsigned mode, bool follow)
{
  if (path[0] == 0)
    return -WASI_ENOENT;
  if (path[0] == '/')
    return -WASI_ENOTCAPABLE;
  if (current_resolver() == RESOLVER_OPENAT2) {
    int fd = openat2_beneath(dirfd, path, flags | (follow ? 0 : O_NOFOLLOW), mode);
    if (fd != -ENOSYS)
      return fd;
    resolver_mode = RESOLVER_WALK;
  }
  return walk_open(dirfd, path, flags, mode, follow);
}

int wasi_sandbox_parent(int dirfd, const char *path, char name[256])
{
  char buf[WASI_PATH_MAX];
  size_t n = strlen(path);
  if (n == 0)
    return -WASI_ENOENT;
  if (n >= sizeof buf)
    return -WASI_ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  while (n > 1 && buf[n - 1] == '/')
    buf[--n] = 0;
  char *slash = strrchr(buf, '/');
  const char *base = slash ? slash + 1 : buf;
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || base[0] == 0)
    return -WASI_EINVAL;
  if (strlen(base) > 255)
    return -WASI_ENAMETOOLONG;
  snprintf(name, 256, "%s", base);
  const char *parent = ".";
  if (slash == buf)
    return -WASI_ENOTCAPABLE; /* "/name": absolute */
  if (slash != NULL) {
    *slash = 0;
    parent = buf;
  }
  return wasi_sandbox_open(dirfd, parent, O_PATH | O_DIRECTORY, 0, true);
}
