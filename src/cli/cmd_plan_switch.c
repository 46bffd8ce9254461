/* cmd_plan_switch.c - `edgecr plan apply|switch|stop|status|recover`:
 * bring the node to a plan (or to none) through the crash-safe switch of
 * src/plan/switch.c.
 *
 * The executor is the lifecycle library (cmd_plan_lifecycle.c), or an
 * external lifecycle program for the crash tests (cmd_plan_extlc.c). */
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
#include "dl_limits.h"
#include "model.h"
#include "repo.h"
#include "switch.h"
#include "util.h"

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
      printf("usage: edgecr %s [--state DIR]%s\n", cmd,
             strcmp(cmd, "plan recover") == 0  ? " [--rollback]"
             : strcmp(cmd, "plan status") == 0 ? " [--format text|json]\n"
                                                 "exit status: 0 the node runs its plan (or none), 3 an interrupted "
                                                 "switch is pending, 4 containers of the plan do not run"
             : strcmp(cmd, "plan stop") == 0   ? ""
                                               : " [--repo DIR] PLAN");
      return 0;
    default: return cli_usage(cmd, "unknown option");
    }
  }
  if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0)
    return cli_usage(cmd, "--format must be text or json");
  return -1;
}

/* The SCHED_DEADLINE parameters this node's kernel would refuse (EINVAL
 * at start; dl_limits.h) stop the switch before anything changes.  The
 * node's sysctls come from /proc/sys/kernel ($EDGECR_PLAN_SYSCTL_DIR
 * stands in for it in tests). */
static int check_node_limits(const json_t *plan, edgecr_error_t *err)
{
  const char *dir = getenv("EDGECR_PLAN_SYSCTL_DIR");
  struct plan_dl_limits lim;
  if (plan_dl_limits_read(dir && *dir ? dir : "/proc/sys/kernel", &lim, err) < 0)
    return -1;
  static const char *const fields[] = {"", "budget", "deadline", "period"};
  const char *source = json_string_value(json_object_get(plan, "source"));
  size_t i;
  json_t *ct;
  json_array_foreach(json_object_get(plan, "containers"), i, ct) {
    json_t *sched = json_object_get(json_object_get(ct, "realtime"), "sched");
    const char *policy = json_string_value(json_object_get(sched, "policy"));
    if (policy == NULL || strcmp(policy, "SCHED_DEADLINE") != 0)
      continue;
    cleanup_free char *why = NULL;
    enum plan_dl_field bad = plan_dl_check(&lim, json_integer_value(json_object_get(sched, "runtime_ns")),
                                           json_integer_value(json_object_get(sched, "deadline_ns")),
                                           json_integer_value(json_object_get(sched, "period_ns")), &why);
    if (bad == PLAN_DL_OK)
      continue;
    json_t *line = json_object_get(ct, "source_line"), *index = json_object_get(ct, "source_index");
    const char *name = json_string_value(json_object_get(ct, "name"));
    if (source && json_is_integer(line) && json_is_integer(index))
      return edgecr_error_make(err, EINVAL, "%s:%lld: containers[%lld].rt.%s: %s (container `%s`; nothing was "
                               "changed)", source, (long long) json_integer_value(line),
                               (long long) json_integer_value(index), fields[bad], why, name);
    return edgecr_error_make(err, EINVAL, "container `%s`: rt.%s: %s (nothing was changed)", name, fields[bad], why);
  }
  return 0;
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
    struct plan_executor *ex = plan_make_executor(g, o.state);
    const char *name = json_string_value(json_object_get(plan, "name"));
    struct plan_located to = {name ? name : argv[optind], commit, checkout, plan};
    if (check_node_limits(plan, &err) < 0 || plan_switch_apply(o.state, &to, ex, &err) < 0)
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

/* The current plan's containers that do not run (exited, or deleted
 * behind the plan's back), as [{"name", "status"}]: status is the
 * container's state, or "gone" when it does not exist. */
static json_t *not_running(const json_t *cur, const struct plan_executor *ex, edgecr_error_t *err)
{
  json_t *out = json_array();
  size_t i;
  json_t *ct;
  json_array_foreach(json_object_get(cur, "containers"), i, ct) {
    const char *name = json_string_value(json_object_get(ct, "name"));
    cleanup_free char *status = NULL;
    if (name == NULL)
      continue;
    if (ex->query(ex->ctx, name, &status, err) < 0) {
      json_decref(out);
      return NULL;
    }
    if (status == NULL || (strcmp(status, "running") != 0 && strcmp(status, "paused") != 0))
      json_array_append_new(out, json_pack("{s:s,s:s}", "name", name, "status", status ? status : "gone"));
  }
  return out;
}

static void status_text(const json_t *st)
{
  json_t *cur = json_object_get(st, "current"), *journal = json_object_get(st, "journal");
  if (json_is_null(cur)) {
    printf("current plan: none\n");
  } else {
    size_t n = json_array_size(json_object_get(cur, "containers"));
    printf("current plan: %s %.12s (%zu %s)\n", json_string_value(json_object_get(cur, "name")),
           json_string_value(json_object_get(cur, "commit")), n, plan_noun((long long) n, "container", "containers"));
  }
  json_t *down = json_object_get(st, "not_running");
  if (json_array_size(down) > 0) {
    printf("NOT RUNNING:");
    size_t i;
    json_t *d;
    json_array_foreach(down, i, d)
      printf("%s %s (%s)", i ? "," : "", json_string_value(json_object_get(d, "name")),
             json_string_value(json_object_get(d, "status")));
    printf("; `edgecr plan apply %s` starts %s again, `edgecr plan stop` stops the plan\n",
           json_string_value(json_object_get(cur, "name")), json_array_size(down) == 1 ? "it" : "them");
  }
  if (!json_is_null(journal)) {
    json_t *to = json_object_get(journal, "to");
    size_t steps = json_array_size(json_object_get(journal, "actions"));
    cleanup_free char *target = json_is_null(to) ? xstrdup("no plan (plan stop)")
                                                 : xasprintf("plan %s", json_string_value(json_object_get(to, "name")));
    printf("INTERRUPTED %s to %s: %lld of %zu %s done; run `edgecr plan recover` (finish) or "
           "`edgecr plan recover --rollback`\n", json_string_value(json_object_get(journal, "phase")), target,
           (long long) json_integer_value(json_object_get(journal, "done")), steps,
           plan_noun((long long) steps, "step", "steps"));
  }
}

/* Exit status: 0 the node runs its plan (or none), 3 an interrupted switch
 * is pending, 4 some containers of the current plan do not run. */
int cmd_plan_status(struct edgecr_global *g, int argc, char **argv)
{
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, "plan status", argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  if (optind != argc)
    return cli_usage("plan status", "takes no plan");
  edgecr_error_t err = NULL;
  json_t *st = NULL;
  if (plan_switch_status(o.state, &st, &err) < 0)
    return cli_fail(&err);
  json_t *cur = json_object_get(st, "current"), *journal = json_object_get(st, "journal");
  json_t *down = json_array();
  if (!json_is_null(cur) && json_is_null(journal)) { /* during a switch, containers are in flux */
    struct plan_executor *ex = plan_make_executor(g, o.state);
    json_decref(down);
    down = not_running(cur, ex, &err);
    plan_executor_free(ex);
    if (down == NULL) {
      json_decref(st);
      return cli_fail(&err);
    }
  }
  json_object_set_new(st, "not_running", down);
  if (strcmp(o.format, "json") == 0) {
    char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s ? s : "null");
    free(s);
  } else {
    status_text(st);
  }
  int rc = !json_is_null(journal) ? 3 : json_array_size(down) > 0 ? 4 : 0;
  json_decref(st);
  return rc;
}

int cmd_plan_stop(struct edgecr_global *g, int argc, char **argv)
{
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, "plan stop", argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  if (optind != argc)
    return cli_usage("plan stop", "takes no plan (it stops the one the node runs)");
  edgecr_error_t err = NULL;
  json_t *st = NULL;
  if (plan_switch_status(o.state, &st, &err) < 0)
    return cli_fail(&err);
  json_t *cur = json_object_get(st, "current");
  cleanup_free char *name = xstrdup(json_is_null(cur) ? "" : json_string_value(json_object_get(cur, "name")));
  size_t n = json_array_size(json_object_get(cur, "containers"));
  json_decref(st);
  struct plan_executor *ex = plan_make_executor(g, o.state);
  bool had = false;
  r = plan_switch_stop(o.state, ex, &had, &err);
  plan_executor_free(ex);
  if (r < 0)
    return cli_fail(&err);
  if (had)
    printf("stopped plan `%s`: %zu %s deleted; the node runs no plan\n", name, n,
           plan_noun((long long) n, "container", "containers"));
  else
    printf("no plan runs on this node: nothing to stop\n");
  return 0;
}

int cmd_plan_recover(struct edgecr_global *g, int argc, char **argv)
{
  struct switch_opts o;
  cleanup_free char *state_default = NULL;
  int r = parse_switch_opts(g, "plan recover", argc, argv, &o, &state_default);
  if (r >= 0)
    return r;
  edgecr_error_t err = NULL;
  json_t *st = NULL;
  if (plan_switch_status(o.state, &st, &err) < 0)
    return cli_fail(&err);
  json_t *journal = json_object_get(st, "journal");
  bool stopping = json_is_object(journal) && json_is_null(json_object_get(journal, "to"));
  json_decref(st);
  struct plan_executor *ex = plan_make_executor(g, o.state);
  bool did = false;
  int r2 = plan_switch_recover(o.state, o.rollback, ex, &did, &err);
  plan_executor_free(ex);
  if (r2 < 0) {
    edgecr_error_wrap(&err, "plan recover%s (the journal is kept: run it again once the cause is fixed)",
                      o.rollback ? " --rollback" : "");
    return cli_fail(&err);
  }
  printf("%s\n", !did ? "nothing to recover"
                 : o.rollback ? "rolled back: the node runs the plan it ran before"
                 : stopping ? "stop completed: the node runs no plan"
                            : "switch completed");
  return 0;
}
