/* copyup.c - `tmpcopyup`: fill a fresh tmpfs with the contents of the
 * directory it covers, so that an image's /run or /tmp keeps its files
 * (a runc/crun extension the spec lists among mount options).
 *
 * Everything is resolved relative to directory fds opened with O_NOFOLLOW,
 * so a symlink in the image can neither redirect the copy nor be followed
 * out of the tree: links are copied as links. */
#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Deeper trees than this are not what tmpcopyup is for (and would make
 * the recursion unbounded). */
#define COPYUP_MAX_DEPTH 64

static int copy_tree(int src, int dst, int depth, edgecr_error_t *err);

static int copy_file(int src, int dst, const char *name, const struct stat *st, edgecr_error_t *err)
{
  cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: open `%s`", name);
  cleanup_close int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: create `%s`", name);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || write_all(out, buf, (size_t) n) < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: copy `%s`", name);
  }
  /* chown first: it clears set-id bits that fchmod then restores. */
  if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: owner and mode of `%s`", name);
  return 0;
}

static int copy_entry(int src, int dst, const char *name, int depth, edgecr_error_t *err)
{
  struct stat st;
  if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: stat `%s`", name);
  if (S_ISREG(st.st_mode))
    return copy_file(src, dst, name, &st, err);
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(src, name, target, sizeof target - 1);
    if (n < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: read link `%s`", name);
    target[n] = '\0';
    if (symlinkat(target, dst, name) < 0 || fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: link `%s`", name);
    return 0;
  }
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dst, name, 0700) < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: mkdir `%s`", name);
    cleanup_close int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || d < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: open directory `%s`", name);
    if (copy_tree(s, d, depth + 1, err) < 0)
      return edgecr_error_wrap(err, "%s", name);
    if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, st.st_mode & 07777) < 0)
      return edgecr_error_make(err, errno, "tmpcopyup: owner and mode of `%s`", name);
    return 0;
  }
  /* fifos, sockets, device nodes */
  if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0 || fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: create node `%s`", name);
  return 0;
}

static int copy_tree(int src, int dst, int depth, edgecr_error_t *err)
{
  if (depth > COPYUP_MAX_DEPTH)
    return edgecr_error_make(err, ELOOP, "tmpcopyup: more than %d directory levels", COPYUP_MAX_DEPTH);
  int fd = dup(src);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return edgecr_error_make(err, e, "tmpcopyup: read directory");
  }
  rewinddir(d);
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      ret = copy_entry(src, dst, de->d_name, depth, err);
  closedir(d);
  return ret;
}

int copyup_tree(int below, const char *target, edgecr_error_t *err)
{
  cleanup_close int dst = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return edgecr_error_make(err, errno, "tmpcopyup: open `%s`", target);
  /* The tmpfs root itself keeps what its mount options say (mode=...). */
  return copy_tree(below, dst, 0, err);
}
