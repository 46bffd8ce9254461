/* hooks.c - fork/exec a hook, feed it the state, wait with a timeout. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int pidfd_open_(pid_t pid)
{
  return (int) syscall(SYS_pidfd_open, pid, 0);
}

/* The state goes to the hook's stdin from a memfd rather than a pipe: a
 * hook that never reads its stdin would otherwise block us on a full pipe
 * (states reach hundreds of KB with many annotations), past its timeout. */
static int state_fd(const char *state, const char *kind, size_t idx, edgecr_error_t *err)
{
  int fd = memfd_create("edgecr-hook-state", MFD_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "hook %s[%zu]: memfd for the state", kind, idx);
  if (write_all(fd, state, strlen(state)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    int e = errno;
    close(fd);
    return edgecr_error_make(err, e, "hook %s[%zu]: write the state", kind, idx);
  }
  return fd;
}

static int run_one(const struct oci_hook *h, const char *kind, size_t idx, const char *state, edgecr_error_t *err)
{
  cleanup_close int in = state_fd(state, kind, idx, err);
  if (in < 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return edgecr_error_make(err, errno, "hook %s[%zu]: fork", kind, idx);
  if (pid == 0) {
    dup2(in, 0);
    /* A hook's output must not mix into what callers read on our stdout
     * (e.g. `state` JSON): send it to stderr. */
    dup2(2, 1);
    char *argv0[] = {h->path, NULL};
    /* A hook that names no environment inherits the runtime's, as under
     * runc (hooks written for it expect PATH and the caller's variables). */
    execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : environ);
    _exit(127);
  }

  int status = 0;
  if (h->timeout > 0) {
    cleanup_close int pfd = pidfd_open_(pid);
    if (pfd >= 0) {
      struct pollfd p = {.fd = pfd, .events = POLLIN};
      int r;
      do
        r = poll(&p, 1, h->timeout * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return edgecr_error_make(err, ETIMEDOUT, "hook %s[%zu] `%s` timed out after %d s", kind, idx, h->path,
                                 h->timeout);
      }
    }
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return edgecr_error_make(err, errno, "hook %s[%zu]: wait", kind, idx);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return edgecr_error_make(err, ENOENT, "hook %s[%zu] `%s` could not be executed", kind, idx, h->path);
  if (WIFEXITED(status))
    return edgecr_error_make(err, 0, "hook %s[%zu] `%s` failed with exit status %d", kind, idx, h->path,
                             WEXITSTATUS(status));
  return edgecr_error_make(err, 0, "hook %s[%zu] `%s` killed by signal %d", kind, idx, h->path, WTERMSIG(status));
}

int hooks_run_list(const struct oci_hook *hooks, size_t n, const char *kind_name, const char *state_json,
                   edgecr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (run_one(&hooks[i], kind_name, i, state_json, err) < 0)
      return -1;
  return 0;
}

int hooks_run_all(const struct oci_config *c, enum oci_hook_kind kind, const char *state_json, edgecr_error_t *err)
{
  int ret = 0;
  for (size_t i = 0; i < c->n_hooks[kind]; i++) {
    edgecr_error_t e = NULL;
    if (run_one(&c->hooks[kind][i], oci_hook_kind_name(kind), i, state_json, &e) == 0)
      continue;
    log_warning("%s", e->msg);
    if (ret == 0 && err != NULL)
      *err = steal_pointer(&e);
    edgecr_error_release(&e);
    ret = -1;
  }
  return ret;
}

int hooks_run(const struct oci_config *c, enum oci_hook_kind kind, const char *state_json, edgecr_error_t *err)
{
  return hooks_run_list(c->hooks[kind], c->n_hooks[kind], oci_hook_kind_name(kind), state_json, err);
}
