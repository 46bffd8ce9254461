/* cmd_exec.c - `edgecr exec` (a new process in a running container) and
 * `edgecr ps` (its processes). */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

extern char **environ;

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

/* What the command line changes in the process to run: applied to the
 * --process file, or to the container's own process (read by lc_exec
 * under the container's lock, so a concurrent delete or create cannot hand
 * it a half-written or foreign config). */
struct exec_overrides {
  char **args; /* the command; NULL with --process */
  bool tty;
  char **envs;
  const char *cwd;
  bool has_user;
  uid_t uid;
  gid_t gid;
  gid_t gids[64];
  size_t n_gids;
  int caps[64];
  size_t n_caps;
  bool nnp;
};

static int amend_process(struct oci_process *proc, void *ud, edgecr_error_t *err)
{
  const struct exec_overrides *x = ud;
  (void) err;
  if (x->args != NULL) {
    strv_free(proc->args);
    proc->args = strv_dup(x->args);
    proc->terminal = x->tty;
  }
  for (size_t i = 0; x->envs[i]; i++)
    proc->env = env_set(proc->env, x->envs[i]);
  if (x->cwd) {
    free(proc->cwd);
    proc->cwd = xstrdup(x->cwd);
  }
  if (x->has_user) {
    proc->user.uid = x->uid;
    proc->user.gid = x->gid;
  }
  for (size_t i = 0; i < x->n_gids; i++) {
    proc->user.additional_gids = xrealloc(proc->user.additional_gids, (proc->user.n_additional_gids + 1) * sizeof(gid_t));
    proc->user.additional_gids[proc->user.n_additional_gids++] = x->gids[i];
  }
  /* --cap: bounding, effective and permitted, as runc and crun do (not
   * inheritable: the exec'd program's children do not keep it). */
  for (size_t i = 0; i < x->n_caps; i++) {
    struct oci_capset *sets[] = {&proc->bounding, &proc->effective, &proc->permitted};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
      sets[k]->caps = xrealloc(sets[k]->caps, (sets[k]->n + 1) * sizeof(int));
      sets[k]->caps[sets[k]->n++] = x->caps[i];
      sets[k]->present = true;
    }
  }
  if (x->nnp)
    proc->no_new_privileges = true;
  return 0;
}

/* --user, --additional-gids and --cap, checked before the container is
 * touched. */
static int parse_overrides(struct exec_overrides *x, const char *user, char **gids, char **caps)
{
  if (user) {
    unsigned long long u, gr = 0;
    char *colon = strchr(user, ':');
    cleanup_free char *us = colon ? strndup(user, (size_t) (colon - user)) : xstrdup(user);
    if (parse_uint64(us, &u) < 0 || (colon && parse_uint64(colon + 1, &gr) < 0))
      return cli_usage("exec", "--user takes numeric UID[:GID], got `%s`", user);
    x->has_user = true;
    x->uid = (uid_t) u;
    x->gid = (gid_t) gr;
  }
  for (size_t i = 0; gids[i]; i++) {
    unsigned long long v;
    if (parse_uint64(gids[i], &v) < 0 || x->n_gids == sizeof x->gids / sizeof x->gids[0])
      return cli_usage("exec", "--additional-gids: `%s` is not a group id (at most 64)", gids[i]);
    x->gids[x->n_gids++] = (gid_t) v;
  }
  for (size_t i = 0; caps[i]; i++) {
    int cap = oci_capability_number(caps[i]);
    if (cap < 0) { /* as runc and crun: a name this host does not know is ignored */
      log_warning("exec --cap: unknown capability `%s` ignored", caps[i]);
      continue;
    }
    if (x->n_caps == sizeof x->caps / sizeof x->caps[0])
      return cli_usage("exec", "--cap: at most %zu capabilities", sizeof x->caps / sizeof x->caps[0]);
    x->caps[x->n_caps++] = cap;
  }
  return 0;
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
  struct exec_overrides x = {.tty = tty, .envs = envs, .cwd = cwd, .nnp = nnp};
  if (parse_overrides(&x, user, gids, caps) != 0)
    return 1;
  struct oci_process *proc = NULL;
  bool terminal = tty;
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
    amend_process(proc, &x, NULL);
    terminal = proc->terminal;
  } else {
    if (optind >= argc)
      return cli_usage("exec", "expects a command to run (or --process FILE)");
    x.args = argv + optind;
  }

  int sv[2] = {-1, -1};
  struct lc_exec_opts o = {.process = proc, .pid_file = pid_file, .console_socket = console, .console_sock_fd = -1,
                           .detach = detach, .preserve_fds = preserve, .amend = amend_process, .amend_ud = &x};
  if (terminal && console == NULL && !detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
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

/* Run argv[0] (found on PATH) with argv, its stdout readable from the
 * returned stream; *pid is the child to wait for. */
static FILE *spawn_reader(char *const argv[], pid_t *pid, edgecr_error_t *err)
{
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    edgecr_error_make(err, errno, "ps: pipe");
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  int r = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (r != 0) {
    close(fds[0]);
    edgecr_error_make(err, r, "ps: run `%s`", argv[0]);
    return NULL;
  }
  FILE *f = fdopen(fds[0], "r");
  if (f == NULL) {
    edgecr_error_make(err, errno, "ps: read the output of `%s`", argv[0]);
    close(fds[0]);
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
  }
  return f;
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
  /* Table: the host's ps output, filtered to the container's pids.  ps
   * gets the arguments as they are, with no shell in between. */
  char *const default_args[] = {"ps", "-ef", NULL};
  cleanup_free char **ps_argv = xmalloc0((size_t) (argc - optind + 2) * sizeof *ps_argv);
  ps_argv[0] = "ps";
  for (int i = optind; i < argc; i++)
    ps_argv[i - optind + 1] = argv[i];
  pid_t ps_pid = -1;
  FILE *p = spawn_reader(optind < argc ? ps_argv : default_args, &ps_pid, &err);
  if (p == NULL) {
    free(pids);
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
  fclose(p);
  free(pids);
  int status = 0;
  while (waitpid(ps_pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (pid_col < 0) {
    edgecr_error_make(&err, 0, "ps: the output of `ps` has no PID column to select the container's processes by");
    return cli_fail(&err);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    edgecr_error_make(&err, 0, "ps: `ps` failed (exit status %d)",
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return cli_fail(&err);
  }
  return 0;
}
