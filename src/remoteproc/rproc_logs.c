/* rproc_logs.c - the remoteproc backend's `logs` operation: the firmware's
 * output that the log process (rproc_logger.c) keeps in the container's
 * state directory, RP_LOG_OLD (the previous megabyte) then RP_LOG_FILE;
 * with follow, until the log process has exited and everything it wrote
 * is copied, or the container is deleted. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "rproc_backend.h"
#include "util.h"

#define FOLLOW_POLL_MS 50

/* Copies fd from its offset to EOF onto out. */
static int copy_to(int fd, int out)
{
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write_all(out, buf, (size_t) n) < 0)
      return -1;
  return n < 0 ? -1 : 0;
}

static bool same_file(int fd, const char *path)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int follow(struct container *c, const char *path, int fd, int out, edgecr_error_t *err)
{
  for (;;) {
    bool alive = proc_alive(c->state->pid, c->state->pid_start_time);
    if (fd >= 0 && copy_to(fd, out) < 0)
      return edgecr_error_make(err, errno, "logs: copy `%s`", path);
    if (fd < 0 || !same_file(fd, path)) { /* rotated, or not created yet */
      int nfd = open(path, O_RDONLY | O_CLOEXEC);
      if (nfd >= 0) {
        if (fd >= 0)
          close(fd);
        fd = nfd;
        continue;
      }
    }
    if (!alive || access(c->dir, F_OK) < 0)
      break;
    poll(NULL, 0, FOLLOW_POLL_MS);
  }
  if (fd >= 0)
    close(fd);
  return 0;
}

int rp_logs(struct container *c, int out, bool want_follow, edgecr_error_t *err)
{
  cleanup_free char *old = xasprintf("%s/%s", c->dir, RP_LOG_OLD);
  cleanup_free char *path = xasprintf("%s/%s", c->dir, RP_LOG_FILE);
  cleanup_close int ofd = open(old, O_RDONLY | O_CLOEXEC);
  if (ofd >= 0 && copy_to(ofd, out) < 0)
    return edgecr_error_make(err, errno, "logs: copy `%s`", old);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (want_follow)
    return follow(c, path, fd, out, err);
  int rc = fd >= 0 ? copy_to(fd, out) : 0;
  if (fd >= 0)
    close(fd);
  return rc < 0 ? edgecr_error_make(err, errno, "logs: copy `%s`", path) : 0;
}
