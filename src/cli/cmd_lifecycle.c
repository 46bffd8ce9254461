/* cmd_lifecycle.c - runc-compatible lifecycle commands: create, start,
 * run, state, kill, delete, list, pause, resume.  Each parses its flags
 * (long options with one or two dashes, as runc accepts) and calls
 * src/oci/lifecycle.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "lifecycle.h"
#include "log.h"
#include "util.h"

static struct lc_context ctx_of(struct edgecr_global *g)
{
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  return ctx;
}

static int print_json(json_t *o)
{
  char *s = json_dumps(o, JSON_INDENT(2));
  json_decref(o);
  if (s == NULL)
    return 1;
  puts(s);
  free(s);
  return fflush(stdout) == 0 ? 0 : 1;
}

static bool want_help(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return true;
  return false;
}

/* ---- create / run ---------------------------------------------------- */

enum { O_BUNDLE = 256, O_PIDFILE, O_CONSOLE, O_NOPIVOT, O_NOKEYRING, O_PRESERVE, O_DETACH, O_NOSUBREAPER, O_KEEP };

static const struct option create_opts[] = {
  {"bundle", required_argument, NULL, 'b'},
  {"pid-file", required_argument, NULL, O_PIDFILE},
  {"console-socket", required_argument, NULL, O_CONSOLE},
  {"no-pivot", no_argument, NULL, O_NOPIVOT},
  {"no-new-keyring", no_argument, NULL, O_NOKEYRING},
  {"preserve-fds", required_argument, NULL, O_PRESERVE},
  {"detach", no_argument, NULL, 'd'},
  {"no-subreaper", no_argument, NULL, O_NOSUBREAPER},
  {"keep", no_argument, NULL, O_KEEP},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

static int parse_create(const char *cmd, int argc, char **argv, struct lc_create_opts *o, bool *detach,
                        bool *keep, const char **id)
{
  int c;
  while ((c = getopt_long_only(argc, argv, "b:dh", create_opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bundle = optarg; break;
    case O_PIDFILE: o->pid_file = optarg; break;
    case O_CONSOLE: o->console_socket = optarg; break;
    case O_NOPIVOT: o->no_pivot = true; break;
    case O_NOKEYRING: o->no_new_keyring = true; break;
    case O_PRESERVE: {
      long long n;
      if (parse_int64(optarg, &n) < 0 || n < 0 || n > 4096)
        return cli_usage(cmd, "--preserve-fds: `%s` is not a count of descriptors", optarg), -1;
      o->preserve_fds = (int) n;
      break;
    }
    case 'd': if (detach) *detach = true; break;
    case O_KEEP: if (keep) *keep = true; break;
    case O_NOSUBREAPER: break;
    case 'h':
      printf("usage: edgecr %s [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot]\n"
             "       [--no-new-keyring] [--preserve-fds N]%s ID\n", cmd,
             detach ? " [--detach] [--keep]" : "");
      exit(0);
    default:
      return cli_usage(cmd, "unknown option"), -1;
    }
  }
  if (optind != argc - 1)
    return cli_usage(cmd, "expects exactly one container id"), -1;
  *id = argv[optind];
  return 0;
}

int cmd_create(struct edgecr_global *g, int argc, char **argv)
{
  struct lc_create_opts o = {.bundle = ".", .console_sock_fd = -1};
  const char *id;
  if (parse_create("create", argc, argv, &o, NULL, NULL, &id) < 0)
    return 1;
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  if (lc_create(&ctx, id, &o, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int cmd_start(struct edgecr_global *g, int argc, char **argv)
{
  if (want_help(argc, argv)) {
    puts("usage: edgecr start ID");
    return 0;
  }
  if (argc != 2)
    return cli_usage("start", "expects exactly one container id");
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  if (lc_start(&ctx, argv[1], &err) < 0)
    return cli_fail(&err);
  return 0;
}

/* Forward terminal I/O between our stdio and the container's pty master
 * until the container's process exits (run with process.terminal). */
static void proxy_terminal(int master, pid_t pid)
{
  struct termios saved, raw;
  bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty) {
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
  }
  bool in_open = true;
  for (;;) {
    struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
    int r = poll(p, 2, 200);
    if (r < 0 && errno != EINTR)
      break;
    char buf[4096];
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0)
        break;
      (void) write_all(1, buf, (size_t) n);
    }
    if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0)
        in_open = false;
      else
        (void) write_all(master, buf, (size_t) n);
    }
    if (r == 0 && waitpid(pid, NULL, WNOHANG | __WALL) != 0 && kill(pid, 0) < 0)
      break;
  }
  if (tty)
    tcsetattr(0, TCSANOW, &saved);
}

int cli_relay_terminal(int sock, pid_t pid)
{
  int master = -1;
  struct pollfd p = {.fd = sock, .events = POLLIN};
  if (poll(&p, 1, 0) <= 0 || recv_fd(sock, &master, NULL) < 0)
    return -1;
  proxy_terminal(master, pid);
  close(master);
  return 0;
}

static int exit_code_of(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 255;
}

static volatile sig_atomic_t forward_pid;

static void forward_signal(int sig)
{
  if (forward_pid > 0)
    kill(forward_pid, sig);
}

static void install_forwarders(pid_t pid)
{
  forward_pid = pid;
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
}

int cmd_run(struct edgecr_global *g, int argc, char **argv)
{
  struct lc_create_opts o = {.bundle = ".", .console_sock_fd = -1};
  bool detach = false, keep = false;
  const char *id;
  if (parse_create("run", argc, argv, &o, &detach, &keep, &id) < 0)
    return 1;
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  int sv[2] = {-1, -1};
  /* Foreground run with a terminal and no console socket: we hold the
   * pty master ourselves and relay it to our stdio. */
  if (!detach && o.console_socket == NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
    o.console_sock_fd = sv[1];
  /* Reap the container's process even when it is reparented to us. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int rc = lc_create(&ctx, id, &o, &err);
  if (sv[1] >= 0)
    close(sv[1]);
  if (rc < 0) {
    if (sv[0] >= 0)
      close(sv[0]);
    return cli_fail(&err);
  }
  pid_t pid = 0;
  /* Without the init's pid, `run` would wait on pid 0 (any child). */
  if (lc_init_pid(&ctx, id, &pid, &err) < 0 || pid <= 0 || lc_start(&ctx, id, &err) < 0) {
    if (err == NULL)
      edgecr_error_make(&err, ESRCH, "container `%s`: its state has no init pid", id);
    edgecr_error_t e2 = NULL;
    lc_delete(&ctx, id, true, &e2);
    edgecr_error_release(&e2);
    return cli_fail(&err);
  }
  if (detach)
    return 0;
  install_forwarders(pid);
  if (sv[0] >= 0) {
    cli_relay_terminal(sv[0], pid);
    close(sv[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  int code = exit_code_of(status);
  if (!keep && lc_delete(&ctx, id, true, &err) < 0)
    log_warning("run: delete `%s`: %s", id, err->msg), edgecr_error_release(&err);
  return code;
}

/* ---- state, kill, delete, list -------------------------------------- */

int cmd_state(struct edgecr_global *g, int argc, char **argv)
{
  if (want_help(argc, argv)) {
    puts("usage: edgecr state ID");
    return 0;
  }
  if (argc != 2)
    return cli_usage("state", "expects exactly one container id");
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  json_t *st = NULL;
  if (lc_state(&ctx, argv[1], &st, &err) < 0)
    return cli_fail(&err);
  return print_json(st);
}

int cmd_kill(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool all = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "+ah", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'h') {
      puts("usage: edgecr kill [--all] ID [SIGNAL]");
      return 0;
    } else
      return cli_usage("kill", "unknown option");
  }
  if (optind >= argc || argc - optind > 2)
    return cli_usage("kill", "expects a container id and an optional signal");
  int sig = SIGTERM;
  if (argc - optind == 2 && (sig = signal_parse(argv[optind + 1])) < 0)
    return cli_usage("kill", "unknown signal `%s`", argv[optind + 1]);
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  if (lc_kill(&ctx, argv[optind], sig, all, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int cmd_delete(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "fh", opts, NULL)) != -1) {
    if (c == 'f')
      force = true;
    else if (c == 'h') {
      puts("usage: edgecr delete [--force] ID");
      return 0;
    } else
      return cli_usage("delete", "unknown option");
  }
  if (optind != argc - 1)
    return cli_usage("delete", "expects exactly one container id");
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  if (lc_delete(&ctx, argv[optind], force, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int cmd_list(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *format = "table";
  bool quiet = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "f:qh", opts, NULL)) != -1) {
    if (c == 'f')
      format = optarg;
    else if (c == 'q')
      quiet = true;
    else if (c == 'h') {
      puts("usage: edgecr list [--format table|json] [-q]");
      return 0;
    } else
      return cli_usage("list", "unknown option");
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return cli_usage("list", "unknown format `%s` (table, json)", format);
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  json_t *all = NULL;
  if (lc_list(&ctx, &all, &err) < 0)
    return cli_fail(&err);
  size_t i;
  json_t *st;
  if (quiet) {
    json_array_foreach(all, i, st) puts(json_string_value(json_object_get(st, "id")));
    json_decref(all);
    return 0;
  }
  if (strcmp(format, "json") == 0)
    return print_json(all);
  printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  json_array_foreach(all, i, st) {
    printf("%-20s %-8lld %-10s %-40s %-30s %s\n", json_string_value(json_object_get(st, "id")),
           (long long) json_integer_value(json_object_get(st, "pid")), json_string_value(json_object_get(st, "status")),
           json_string_value(json_object_get(st, "bundle")), json_string_value(json_object_get(st, "created")),
           json_string_value(json_object_get(st, "owner")));
  }
  json_decref(all);
  return 0;
}

static int pause_resume(struct edgecr_global *g, int argc, char **argv, bool pause)
{
  const char *cmd = pause ? "pause" : "resume";
  if (want_help(argc, argv)) {
    printf("usage: edgecr %s ID\n", cmd);
    return 0;
  }
  if (argc != 2)
    return cli_usage(cmd, "expects exactly one container id");
  struct lc_context ctx = ctx_of(g);
  edgecr_error_t err = NULL;
  if (lc_pause(&ctx, argv[1], pause, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int cmd_pause(struct edgecr_global *g, int argc, char **argv)
{
  return pause_resume(g, argc, argv, true);
}

int cmd_resume(struct edgecr_global *g, int argc, char **argv)
{
  return pause_resume(g, argc, argv, false);
}
