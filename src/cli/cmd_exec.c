/* cmd_exec.c - `edgecr exec` (a new process in a running container) and
 * `edgecr ps` (its processes). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "lifecycle.h"
#include "log.h"
#include "util.h"

enum { X_CONSOLE = 256, X_CWD, X_PIDFILE, X_PRESERVE, X_NNP, X_LABEL, X_APPARMOR, X_CGROUP, X_IGNORE_PAUSED };

static char **env_set(char **env, const char *kv)
{
  size_t klen = strcspn(kv, "=");
  size_t n = strv_len(env);
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
      free(env[i]);
      env[i] = xstrdup(kv);
      return env;
    }
  env = xrealloc(env, (n + 2) * sizeof *env);
  env[n] = xstrdup(kv);
  env[n + 1] = NULL;
  return env;
}

/* Process for `exec` without --process: the container's own process as the
 * base (env, user, capabilities, rlimits), with the command line on top. */
static int base_process(const struct lc_context *ctx, const char *id, struct oci_process **out, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s/config.json", ctx->state_root, id);
  cleanup_free char *text = NULL;
  if (read_all_file(path, &text, err) < 0)
    return edgecr_error_make(err, ENOENT, "container `%s` does not exist", id);
  json_error_t je;
  json_t *doc = json_loads(text, 0, &je);
  json_t *proc = doc ? json_object_get(doc, "process") : NULL;
  int r = proc ? oci_process_parse(proc, path, "process", out, err)
               : edgecr_error_make(err, EINVAL, "container `%s` has no process", id);
  json_decref(doc);
  return r;
}

int cmd_exec(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"console-socket", required_argument, NULL, X_CONSOLE}, {"cwd", required_argument, NULL, X_CWD},
    {"env", required_argument, NULL, 'e'}, {"tty", no_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'}, {"additional-gids", required_argument, NULL, 'g'},
    {"process", required_argument, NULL, 'p'}, {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, X_PIDFILE}, {"process-label", required_argument, NULL, X_LABEL},
    {"apparmor", required_argument, NULL, X_APPARMOR}, {"no-new-privs", no_argument, NULL, X_NNP},
    {"cap", required_argument, NULL, 'c'}, {"preserve-fds", required_argument, NULL, X_PRESERVE},
    {"cgroup", required_argument, NULL, X_CGROUP}, {"ignore-paused", no_argument, NULL, X_IGNORE_PAUSED},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *console = NULL, *cwd = NULL, *user = NULL, *process_file = NULL, *pid_file = NULL;
  bool tty = false, detach = false, nnp = false;
  int preserve = 0;
  cleanup_strv char **envs = xmalloc0(sizeof(char *));
  cleanup_strv char **caps = xmalloc0(sizeof(char *));
  cleanup_strv char **gids = xmalloc0(sizeof(char *));
  int c;
  while ((c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:h", opts, NULL)) != -1) {
    switch (c) {
    case X_CONSOLE: console = optarg; break;
    case X_CWD: cwd = optarg; break;
    case 'e': envs = env_set(envs, optarg); break;
    case 't': tty = true; break;
    case 'u': user = optarg; break;
    case 'g': gids = env_set(gids, optarg); break;
    case 'p': process_file = optarg; break;
    case 'd': detach = true; break;
    case X_PIDFILE: pid_file = optarg; break;
    case X_NNP: nnp = true; break;
    case 'c': caps = env_set(caps, optarg); break;
    case X_PRESERVE: {
      long long n;
      if (parse_int64(optarg, &n) < 0 || n < 0)
        return cli_usage("exec", "--preserve-fds: `%s` is not a count", optarg);
      preserve = (int) n;
      break;
    }
    case X_LABEL: case X_APPARMOR: case X_CGROUP: case X_IGNORE_PAUSED: break;
    case 'h':
      puts("usage: edgecr exec [options] ID [COMMAND [ARG...]]\n"
           "  --process FILE  process.json   --tty  --detach  --pid-file F  --console-socket S\n"
           "  --env K=V  --cwd DIR  --user UID[:GID]  --additional-gids G  --cap CAP_X  --no-new-privs");
      return 0;
    default:
      return cli_usage("exec", "unknown option");
    }
  }
  if (optind >= argc)
    return cli_usage("exec", "expects a container id");
  const char *id = argv[optind++];
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  edgecr_error_t err = NULL;
  struct oci_process *proc = NULL;
  if (process_file != NULL) {
    json_error_t je;
    json_t *doc = json_load_file(process_file, 0, &je);
    if (doc == NULL) {
      edgecr_error_make(&err, EINVAL, "%s:%d: invalid JSON: %s", process_file, je.line, je.text);
      return cli_fail(&err);
    }
    int r = oci_process_parse(doc, process_file, "process", &proc, &err);
    json_decref(doc);
    if (r < 0)
      return cli_fail(&err);
  } else {
    if (optind >= argc)
      return cli_usage("exec", "expects a command to run (or --process FILE)");
    if (base_process(&ctx, id, &proc, &err) < 0)
      return cli_fail(&err);
    strv_free(proc->args);
    proc->args = strv_dup(argv + optind);
    proc->terminal = tty;
  }
  for (size_t i = 0; envs[i]; i++)
    proc->env = env_set(proc->env, envs[i]);
  if (cwd) {
    free(proc->cwd);
    proc->cwd = xstrdup(cwd);
  }
  if (user) {
    unsigned long long u, gr = 0;
    char *colon = strchr(user, ':');
    cleanup_free char *us = colon ? strndup(user, (size_t) (colon - user)) : xstrdup(user);
    if (parse_uint64(us, &u) < 0 || (colon && parse_uint64(colon + 1, &gr) < 0)) {
      oci_process_free(proc);
      return cli_usage("exec", "--user takes numeric UID[:GID], got `%s`", user);
    }
    proc->user.uid = (uid_t) u;
    proc->user.gid = (gid_t) gr;
  }
  for (size_t i = 0; gids[i]; i++) {
    unsigned long long v;
    if (parse_uint64(gids[i], &v) == 0) {
      proc->user.additional_gids = xrealloc(proc->user.additional_gids, (proc->user.n_additional_gids + 1) * sizeof(gid_t));
      proc->user.additional_gids[proc->user.n_additional_gids++] = (gid_t) v;
    }
  }
  for (size_t i = 0; caps[i]; i++) {
    int cap = oci_capability_number(caps[i]);
    if (cap < 0) {
      oci_process_free(proc);
      return cli_usage("exec", "--cap: unknown capability `%s`", caps[i]);
    }
    struct oci_capset *sets[] = {&proc->bounding, &proc->effective, &proc->permitted, &proc->inheritable};
    for (size_t k = 0; k < 4; k++) {
      sets[k]->caps = xrealloc(sets[k]->caps, (sets[k]->n + 1) * sizeof(int));
      sets[k]->caps[sets[k]->n++] = cap;
      sets[k]->present = true;
    }
  }
  if (nnp)
    proc->no_new_privileges = true;

  int sv[2] = {-1, -1};
  struct lc_exec_opts o = {.process = proc, .pid_file = pid_file, .console_socket = console, .console_sock_fd = -1,
                           .detach = detach, .preserve_fds = preserve};
  if (proc->terminal && console == NULL && !detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
    o.console_sock_fd = sv[1];
  pid_t pid = 0;
  int r = lc_exec(&ctx, id, &o, &pid, &err);
  if (sv[1] >= 0)
    close(sv[1]);
  oci_process_free(proc);
  if (r < 0) {
    if (sv[0] >= 0)
      close(sv[0]);
    return cli_fail(&err);
  }
  if (pid_file != NULL) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int) pid);
    if (write_file_atomic(pid_file, buf, (size_t) n, 0644, &err) < 0)
      return cli_fail(&err);
  }
  if (detach)
    return 0;
  int status = 0;
  if (sv[0] >= 0) {
    /* terminal relayed by us: same loop as run */
    cli_relay_terminal(sv[0], pid);
    close(sv[0]);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

int cmd_ps(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *format = "table";
  int c;
  while ((c = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
    if (c == 'f')
      format = optarg;
    else if (c == 'h') {
      puts("usage: edgecr ps [--format table|json] ID [ps options]");
      return 0;
    } else
      return cli_usage("ps", "unknown option");
  }
  if (optind >= argc)
    return cli_usage("ps", "expects a container id");
  const char *id = argv[optind++];
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  edgecr_error_t err = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  if (lc_pids(&ctx, id, &pids, &n, &err) < 0)
    return cli_fail(&err);
  if (strcmp(format, "json") == 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(a, json_integer(pids[i]));
    free(pids);
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    puts(s);
    free(s);
    return 0;
  }
  if (strcmp(format, "table") != 0) {
    free(pids);
    return cli_usage("ps", "unknown format `%s` (table, json)", format);
  }
  /* Table: the host's ps output, filtered to the container's pids. */
  cleanup_free char *cmd = xstrdup("ps");
  if (optind < argc)
    for (int i = optind; i < argc; i++) {
      char *n2 = xasprintf("%s '%s'", cmd, argv[i]);
      free(cmd);
      cmd = n2;
    }
  else {
    free(cmd);
    cmd = xstrdup("ps -ef");
  }
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    free(pids);
    edgecr_error_make(&err, errno, "run `%s`", cmd);
    return cli_fail(&err);
  }
  char line[4096];
  int pid_col = -1;
  while (fgets(line, sizeof line, p)) {
    if (pid_col < 0) {
      /* header: find the PID column */
      char *save = NULL, *copy = xstrdup(line);
      int col = 0;
      for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
        if (strcmp(t, "PID") == 0)
          pid_col = col;
      free(copy);
      fputs(line, stdout);
      if (pid_col < 0)
        break;
      continue;
    }
    char *save = NULL, *copy = xstrdup(line);
    int col = 0;
    long v = -1;
    for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
      if (col == pid_col) {
        v = strtol(t, NULL, 10);
        break;
      }
    free(copy);
    for (size_t i = 0; i < n; i++)
      if (pids[i] == v)
        fputs(line, stdout);
  }
  pclose(p);
  free(pids);
  return 0;
}
