/* cmd_plan_extlc.c - an external lifecycle program as the executor of
 * `plan apply|switch|stop|recover`, for the crash tests: when
 * $EDGECR_PLAN_LIFECYCLE names one, the switch runs `PROG --root ROOT
 * create|start|state|delete --force ...` (the container's plan entry in
 * the environment variable EDGECR_PLAN_CONTAINER), so a fake can SIGKILL
 * the switching process at any step (tests/plan/test_switch_cli.py).
 * Without it, the lifecycle library (cmd_plan_lifecycle.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_plan.h"
#include "switch.h"
#include "util.h"

struct exec_ctx {
  const char *self, *root;
};

/* Run `self --root ROOT args...`; capture stdout when out != NULL.
 * Returns the exit status, or -1 with err when it could not run. */
static int run_self(struct exec_ctx *x, const char *const *args, const char *env, char **out, edgecr_error_t *err)
{
  int pipefd[2] = {-1, -1};
  if (out && pipe2(pipefd, O_CLOEXEC) < 0)
    return edgecr_error_make(err, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0)
    return edgecr_error_make(err, errno, "fork");
  if (pid == 0) {
    const char *argv[16] = {x->self, "--root", x->root};
    size_t n = 3;
    for (size_t i = 0; args[i] && n < 15; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    if (out) { /* a query: its "does not exist" is an answer, not an error to show */
      dup2(pipefd[1], STDOUT_FILENO);
      int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null >= 0)
        dup2(null, STDERR_FILENO);
    }
    if (env)
      setenv("EDGECR_PLAN_CONTAINER", env, 1);
    execv(x->self, (char *const *) argv);
    _exit(127);
  }
  if (out) {
    close(pipefd[1]);
    read_all_fd(pipefd[0], "lifecycle output", out, err);
    close(pipefd[0]);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return edgecr_error_make(err, errno, "wait for `%s %s`", x->self, args[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int exec_start(void *ctx, const char *name, const char *bundle, const json_t *ct, edgecr_error_t *err)
{
  struct exec_ctx *x = ctx;
  if (bundle == NULL)
    return edgecr_error_make(err, ENOTSUP, "start `%s`: image references are not supported by this executor yet",
                             name);
  cleanup_free char *entry = json_dumps(ct, JSON_COMPACT);
  const char *create[] = {"create", "--bundle", bundle, name, NULL};
  const char *start[] = {"start", name, NULL};
  int r = run_self(x, create, entry, NULL, err);
  if (r == 0)
    r = run_self(x, start, NULL, NULL, err);
  if (r > 0)
    return edgecr_error_make(err, 0, "start `%s`: `%s` exited with %d", name, x->self, r);
  return r;
}

static int exec_stop(void *ctx, const char *name, edgecr_error_t *err)
{
  const char *del[] = {"delete", "--force", name, NULL};
  int r = run_self(ctx, del, NULL, NULL, err);
  if (r > 0)
    return edgecr_error_make(err, 0, "stop `%s`: delete exited with %d", name, r);
  return r;
}

static int exec_query(void *ctx, const char *name, char **status, edgecr_error_t *err)
{
  const char *state[] = {"state", name, NULL};
  cleanup_free char *out = NULL;
  *status = NULL;
  int r = run_self(ctx, state, NULL, &out, err);
  if (r < 0)
    return -1;
  if (r != 0 || out == NULL)
    return 0; /* no such container */
  json_t *j = json_loads(out, 0, NULL);
  const char *s = json_string_value(json_object_get(j, "status"));
  *status = xstrdup(s ? s : "unknown");
  json_decref(j);
  return 0;
}

/* The lifecycle library, or the external program of $EDGECR_PLAN_LIFECYCLE. */
struct plan_executor *plan_make_executor(struct edgecr_global *g, const char *state_dir)
{
  const char *prog = getenv("EDGECR_PLAN_LIFECYCLE");
  if (prog == NULL || *prog == '\0')
    return plan_lifecycle_executor(g, state_dir);
  struct exec_ctx *x = xmalloc0(sizeof *x);
  x->self = prog;
  x->root = g->root;
  struct plan_executor *ex = xmalloc0(sizeof *ex);
  *ex = (struct plan_executor){x, exec_start, exec_stop, exec_query};
  return ex;
}

