/* cmd_logs.c - `edgecr logs [-f] ID`: print (or follow) the log a
 * container's backend keeps.  Remote-core containers keep their firmware's
 * output in <state>/<id>/firmware.log (and the previous megabyte in
 * firmware.log.1), written by their log process (src/remoteproc/
 * rproc_logger.c).  Linux containers keep nothing: their output is the
 * stdio they were given, which the caller (containerd's shim, a terminal)
 * owns. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "state.h"
#include "util.h"

/* The names src/remoteproc/rproc_backend.h defines (RP_LOG_FILE, RP_LOG_OLD). */
#define LOG_FILE "firmware.log"
#define LOG_OLD "firmware.log.1"
#define FOLLOW_POLL_MS 50

/* Copies fd from its offset to EOF onto stdout. */
static int copy_to_stdout(int fd)
{
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
      return -1;
  return n < 0 ? -1 : 0;
}

static bool same_file(int fd, const char *path)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Follows the log until the container's log process has exited and
 * everything it wrote is printed, or the container is deleted. */
static int follow(const char *dir, const char *path, int fd, const struct container_state *s)
{
  for (;;) {
    bool alive = proc_alive(s->pid, s->pid_start_time);
    if (fd >= 0 && copy_to_stdout(fd) < 0)
      return 1;
    if (fd < 0 || !same_file(fd, path)) { /* rotated, or not created yet */
      int nfd = open(path, O_RDONLY | O_CLOEXEC);
      if (nfd >= 0) {
        if (fd >= 0)
          close(fd);
        fd = nfd;
        continue;
      }
    }
    if (!alive || access(dir, F_OK) < 0)
      break;
    poll(NULL, 0, FOLLOW_POLL_MS);
  }
  if (fd >= 0)
    close(fd);
  return 0;
}

int cmd_logs(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool want_follow = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
    if (c == 'f')
      want_follow = true;
    else if (c == 'h') {
      puts("usage: edgecr logs [-f|--follow] ID\n\n"
           "Prints the log of a remote-core (firmware) container; with -f, keeps printing\n"
           "until the container stops.  Linux containers have no log here: their output\n"
           "is the stdio they were started with.");
      return 0;
    } else
      return cli_usage("logs", "unknown option");
  }
  if (optind != argc - 1)
    return cli_usage("logs", "expects exactly one container id");
  const char *id = argv[optind];
  edgecr_error_t err = NULL;
  if (!container_id_valid(id)) {
    edgecr_error_make(&err, EINVAL, "invalid container id `%s`", id);
    return cli_fail(&err);
  }
  cleanup_free char *dir = xasprintf("%s/%s", g->root, id);
  cleanup_state struct container_state *s = NULL;
  if (state_load(dir, &s, &err) < 0) {
    if (edgecr_error_errno(&err) == ENOENT) {
      edgecr_error_release(&err);
      edgecr_error_make(&err, ENOENT, "container `%s` does not exist", id);
    }
    return cli_fail(&err);
  }
  if (s->backend == NULL || strcmp(s->backend, "remoteproc") != 0) {
    edgecr_error_make(&err, ENOTSUP, "container `%s` is a %s container: edgecr keeps no log of it; its output "
                      "goes to the stdio it was started with (containerd's shim keeps it: `ctr task attach`, "
                      "`kubectl logs`; `edgecr run` prints it)", id, s->backend ? s->backend : "Linux");
    return cli_fail(&err);
  }
  cleanup_free char *old = xasprintf("%s/%s", dir, LOG_OLD);
  cleanup_free char *path = xasprintf("%s/%s", dir, LOG_FILE);
  cleanup_close int ofd = open(old, O_RDONLY | O_CLOEXEC);
  if (ofd >= 0 && copy_to_stdout(ofd) < 0)
    return 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (!want_follow) {
    int rc = fd >= 0 ? copy_to_stdout(fd) : 0;
    if (fd >= 0)
      close(fd);
    return rc < 0 ? 1 : 0;
  }
  return follow(dir, path, fd, s);
}
