/* util.c - implementation of the shared helpers in util.h. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void edgecr_cleanup_freep(void *p)
{
  void **pp = p;
  free(*pp);
  *pp = NULL;
}

void edgecr_cleanup_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
  *fd = -1;
}

void edgecr_cleanup_fclosep(FILE **f)
{
  if (*f != NULL)
    fclose(*f);
  *f = NULL;
}

void edgecr_cleanup_strvp(char ***v)
{
  if (*v == NULL)
    return;
  for (char **it = *v; *it; it++)
    free(*it);
  free(*v);
  *v = NULL;
}

static void oom(void)
{
  static const char msg[] = "edgecr: out of memory\n";
  if (write(2, msg, sizeof msg - 1) < 0) { /* nothing left to do */ }
  abort();
}

void *xmalloc0(size_t n)
{
  void *p = calloc(1, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    oom();
  return q;
}

char *xstrdup(const char *s)
{
  char *p = strdup(s ? s : "");
  if (p == NULL)
    oom();
  return p;
}

char *xasprintf(const char *fmt, ...)
{
  char *out = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&out, fmt, ap);
  va_end(ap);
  if (r < 0)
    oom();
  return out;
}

ssize_t read_all_fd(int fd, const char *what, char **out, edgecr_error_t *err)
{
  size_t cap = 4096, len = 0;
  char *buf = xmalloc0(cap);
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      return edgecr_error_make(err, errno, "read `%s`", what);
    }
    if (r == 0)
      break;
    len += (size_t) r;
  }
  buf[len] = '\0';
  *out = buf;
  return (ssize_t) len;
}

ssize_t read_all_file(const char *path, char **out, edgecr_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", path);
  return read_all_fd(fd, path, out, err);
}

int write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t) w;
  }
  return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *) buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    got += (size_t) r;
  }
  return (ssize_t) got;
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                        edgecr_error_t *err)
{
  cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int) getpid());
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return edgecr_error_make(err, errno, "create `%s`", tmp);
  if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
    int e = errno;
    unlink(tmp);
    return edgecr_error_make(err, e, "write `%s`", tmp);
  }
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return edgecr_error_make(err, e, "rename `%s` to `%s`", tmp, path);
  }
  return 0;
}

int write_file_at(int dirfd, const char *name, const char *data, size_t len,
                  edgecr_error_t *err)
{
  cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", name);
  if (write_all(fd, data, len) < 0)
    return edgecr_error_make(err, errno, "write `%.*s` to `%s`",
                             (int) (len > 64 ? 64 : len), data, name);
  return 0;
}

int write_file(const char *path, const char *data, size_t len, edgecr_error_t *err)
{
  return write_file_at(AT_FDCWD, path, data, len, err);
}

int mkdir_p(const char *path, mode_t mode, edgecr_error_t *err)
{
  /* Common case first: only the last component is missing. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return edgecr_error_make(err, errno, "mkdir `%s`", path);
  cleanup_free char *p = xstrdup(path);
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return edgecr_error_make(err, errno, "mkdir `%s`", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return edgecr_error_make(err, errno, "mkdir `%s`", p);
  return 0;
}

static int remove_tree_at(int parent_fd, const char *name, dev_t dev, edgecr_error_t *err)
{
  struct stat st;
  if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "stat `%s`", name);
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
      return edgecr_error_make(err, errno, "unlink `%s`", name);
    return 0;
  }
  if (st.st_dev != dev)
    return edgecr_error_make(err, EBUSY, "`%s` is a mount point", name);
  int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", name);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return edgecr_error_make(err, errno, "opendir `%s`", name);
  }
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    ret = remove_tree_at(dirfd(d), de->d_name, dev, err);
    if (ret < 0)
      break;
  }
  closedir(d);
  if (ret < 0)
    return ret;
  if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "rmdir `%s`", name);
  return 0;
}

int remove_tree(const char *path, edgecr_error_t *err)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "stat `%s`", path);
  return remove_tree_at(AT_FDCWD, path, st.st_dev, err);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, edgecr_error_t *err)
{
  return write_atomic(path, data, len, mode, false, err);
}

int write_file_durable(const char *path, const void *data, size_t len, mode_t mode, edgecr_error_t *err)
{
  return write_atomic(path, data, len, mode, true, err);
}

bool str_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int parse_int64(const char *s, long long *out)
{
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int parse_uint64(const char *s, unsigned long long *out)
{
  if (s == NULL || *s == '\0' || *s == '-')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

unsigned long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long) ts.tv_sec * 1000000000ull + (unsigned long long) ts.tv_nsec;
}

void close_fds_from(int from, const int *keep, size_t n)
{
  /* Fast path: close_range on the gaps between kept fds. */
  int lo = from;
  for (;;) {
    int next = INT_MAX;
    for (size_t i = 0; i < n; i++)
      if (keep[i] >= lo && keep[i] < next)
        next = keep[i];
    if (next > lo) {
      unsigned int hi = next == INT_MAX ? ~0u : (unsigned int) next - 1;
      if (syscall(SYS_close_range, (unsigned int) lo, hi, 0) < 0) {
        for (int fd = lo; fd <= (int) (hi > 65535 ? 65535 : hi); fd++)
          close(fd);
      }
    }
    if (next == INT_MAX)
      break;
    lo = next + 1;
  }
}
