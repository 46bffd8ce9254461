/* cmd_plan_switch.c - `edgecr plan apply|switch|status|recover`: bring the
 * node to a plan through the crash-safe switch of src/plan/switch.c.
 *
 * The executor is the lifecycle library (cmd_plan_lifecycle.c).  For the
 * crash tests an external lifecycle program can stand in for it: when
 * $EDGECR_PLAN_LIFECYCLE names one, the switch runs `PROG --root ROOT
 * create|start|state|delete --force ...` (the container's plan entry in
 * the environment variable EDGECR_PLAN_CONTAINER), so a fake can SIGKILL
 * the switching process at any step (tests/plan/test_switch_cli.py). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_plan.h"
#include "model.h"
#include "repo.h"
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

/* Running (or paused) counts; a container left `created` or `stopped` by an
 * interrupted start is a leftover: it is deleted and counts as not running. */
static int exec_is_running(void *ctx, const char *name, edgecr_error_t *err)
{
  const char *state[] = {"state", name, NULL};
  cleanup_free char *out = NULL;
  int r = run_self(ctx, state, NULL, &out, err);
  if (r < 0)
    return -1;
  if (r != 0 || out == NULL)
    return 0;
  json_t *j = json_loads(out, 0, NULL);
  const char *status = json_string_value(json_object_get(j, "status"));
  bool running = status && (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0);
  json_decref(j);
  if (!running && exec_stop(ctx, name, err) < 0)
    return -1;
  return running;
}

struct switch_opts {
  const char *repo, *state, *format;
  bool rollback;
};

static int parse_switch_opts(struct edgecr_global *g, const char *cmd, int argc, char **argv, struct switch_opts *o,
                             char **state_default)
{
  static const struct option opts[] = {
    {"repo", required_argument, NULL, 'r'}, {"state", required_argument, NULL, 's'},
    {"format", required_argument, NULL, 'f'}, {"rollback", no_argument, NULL, 'b'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  *state_default = xasprintf("%s/plan", g->root);
  *o = (struct switch_opts){.repo = plan_repo_default_dir(), .state = *state_default, .format = "text"};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'r': o->repo = optarg; break;
    case 's': o->state = optarg; break;
    case 'f': o->format = optarg; break;
    case 'b': o->rollback = true; break;
    case 'h':
      /* cmd is the full command ("plan apply"): printed as is. */
      printf("usage: edgecr %s [--repo DIR] [--state DIR]%s\n", cmd,
             strcmp(cmd, "plan recover") == 0  ? " [--rollback]"
             : strcmp(cmd, "plan status") == 0 ? " [--format text|json]"
             : strcmp(cmd, "plan stop") == 0   ? ""
                                               : " PLAN");
      return 0;
    default: return cli_usage(cmd, "unknown option");
    }
  }
  if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0)
    return cli_usage(cmd, "--format must be text or json");
  return -1;
}

/* The lifecycle library, or the external program of $EDGECR_PLAN_LIFECYCLE. */
static struct plan_executor *make_executor(struct edgecr_global *g, const char *state_dir)
{
  const char *prog = getenv("EDGECR_PLAN_LIFECYCLE");
  if (prog == NULL || *prog == '\0')
    return plan_lifecycle_executor(g, state_dir);
  struct exec_ctx *x = xmalloc0(sizeof *x);
  x->self = prog;
  x->root = g->root;
  struct plan_executor *ex = xmalloc0(sizeof *ex);
  *ex = (struct plan_executor){x, exec_start, exec_stop, exec_is_running};
  return ex;
}

static int apply_or_switch(struct edgecr_global *g, int argc, char **argv, bool need_current)
{
  const char *cmd = need_current ? "plan switch" : "plan apply";
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, cmd, argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  if (optind != argc - 1)
    return cli_usage(cmd, "expected one plan (name, commit, or NAME^)");
  edgecr_error_t err = NULL;
  struct plan_repo *repo = NULL;
  cleanup_free char *commit = NULL, *checkout = NULL;
  json_t *plan = NULL, *status = NULL;
  int rc = 0;
  if (plan_switch_status(o.state, &status, &err) < 0 || plan_repo_open(o.repo, false, &repo, &err) < 0 ||
      plan_repo_resolve(repo, argv[optind], &commit, &err) < 0 || plan_repo_read_plan(repo, commit, &plan, &err) < 0 ||
      plan_repo_checkout(repo, commit, &checkout, &err) < 0) {
    rc = cli_fail(&err);
  } else if (need_current && json_is_null(json_object_get(status, "current"))) {
    fprintf(stderr, "edgecr: plan switch: no plan runs on this node yet (use `edgecr plan apply`)\n");
    rc = 1;
  } else {
    struct plan_executor *ex = make_executor(g, o.state);
    const char *name = json_string_value(json_object_get(plan, "name"));
    struct plan_located to = {name ? name : argv[optind], commit, checkout, plan};
    if (plan_switch_run(o.state, &to, ex, &err) < 0)
      rc = cli_fail(&err);
    else
      printf("node runs plan `%s` %.12s\n", to.name, commit);
    plan_executor_free(ex);
  }
  json_decref(status);
  json_decref(plan);
  plan_repo_close(repo);
  return rc;
}

int cmd_plan_apply(struct edgecr_global *g, int argc, char **argv) { return apply_or_switch(g, argc, argv, false); }
int cmd_plan_switch(struct edgecr_global *g, int argc, char **argv) { return apply_or_switch(g, argc, argv, true); }

int cmd_plan_status(struct edgecr_global *g, int argc, char **argv)
{
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, "plan status", argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  edgecr_error_t err = NULL;
  json_t *st = NULL;
  if (plan_switch_status(o.state, &st, &err) < 0)
    return cli_fail(&err);
  json_t *cur = json_object_get(st, "current"), *journal = json_object_get(st, "journal");
  if (strcmp(o.format, "json") == 0) {
    char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s ? s : "null");
    free(s);
  } else {
    if (json_is_null(cur))
      printf("current plan: none\n");
    else
    {
      size_t n = json_array_size(json_object_get(cur, "containers"));
      printf("current plan: %s %.12s (%zu %s)\n", json_string_value(json_object_get(cur, "name")),
             json_string_value(json_object_get(cur, "commit")), n, plan_noun((long long) n, "container", "containers"));
    }
    if (!json_is_null(journal)) {
      json_t *to = json_object_get(journal, "to");
      size_t steps = json_array_size(json_object_get(journal, "actions"));
      printf("INTERRUPTED %s to plan %s: %lld of %zu %s done; run `edgecr plan recover` (finish) or "
             "`edgecr plan recover --rollback`\n", json_string_value(json_object_get(journal, "phase")),
             json_string_value(json_object_get(to, "name")),
             (long long) json_integer_value(json_object_get(journal, "done")), steps,
             plan_noun((long long) steps, "step", "steps"));
    }
  }
  bool interrupted = !json_is_null(journal);
  json_decref(st);
  return interrupted ? 3 : 0;
}

int cmd_plan_recover(struct edgecr_global *g, int argc, char **argv)
{
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, "plan recover", argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  edgecr_error_t err = NULL;
  struct plan_executor *ex = make_executor(g, o.state);
  bool did = false;
  int r2 = plan_switch_recover(o.state, o.rollback, ex, &did, &err);
  plan_executor_free(ex);
  if (r2 < 0)
    return cli_fail(&err);
  printf("%s\n", !did ? "nothing to recover" : o.rollback ? "rolled back to the previous plan" : "switch completed");
  return 0;
}
