/* main.c - the `edgecr` command: global options and subcommand dispatch.
 *
 * Global options follow runc's (--root, --log, --log-format, --debug,
 * --systemd-cgroup, --rootless); they come before the subcommand, as
 * containerd's go-runc passes them. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

struct command {
  const char *name;
  cli_command_fn fn;
  const char *help;
};

static const struct command commands[] = {
  {"create", cmd_create, "create a container from a bundle"},
  {"start", cmd_start, "start a created container"},
  {"run", cmd_run, "create and start a container, wait for it"},
  {"state", cmd_state, "print the OCI state of a container"},
  {"kill", cmd_kill, "send a signal to a container's init (or all) processes"},
  {"delete", cmd_delete, "delete a container and everything it holds"},
  {"list", cmd_list, "list containers"},
  {"ps", cmd_ps, "list the processes of a container"},
  {"exec", cmd_exec, "run a new process inside a container"},
  {"pause", cmd_pause, "freeze every process of a container"},
  {"resume", cmd_resume, "thaw a paused container"},
  {"update", cmd_update, "change a container's cgroup resources, or a tenant's metadata (live)"},
  {"events", cmd_events, "print container events and statistics"},
  {"spec", cmd_spec, "write a default config.json"},
  {"features", cmd_features, "print the OCI features this runtime implements"},
  {"logs", cmd_logs, "print (or follow) a container's log, e.g. a remote core's firmware output"},
  {"wasm", cmd_wasm, "run WebAssembly modules and spec scripts"},
  {"plan", cmd_plan, "check, build, apply and switch real-time system plans"},
  {"monitor", cmd_monitor, "deadline misses, overruns and latency of real-time containers; tenants' calls"},
  {"meta", cmd_meta, "build, sign, verify and show tenant metadata"},
};

static void usage(FILE *out)
{
  fprintf(out,
          "usage: edgecr [global options] COMMAND [options] [args]\n\n"
          "edgecr: one container runtime for every core of an edge device.\n\n"
          "global options:\n"
          "  --root DIR          state directory (default /run/edgecr)\n"
          "  --log FILE          write the log to FILE (default stderr)\n"
          "  --log-format FMT    text or json\n"
          "  --debug             log debug messages\n"
          "  --systemd-cgroup    use systemd cgroup paths (needs systemd)\n"
          "  --rootless VALUE    accepted for runc compatibility\n"
          "  --trust-dir DIR     trusted keys of tenant metadata (default $EDGECR_TRUST_DIR\n"
          "                      or /etc/edgecr/trust.d)\n"
          "  --tenant-policy P   signed (default) or allow-unsigned: whether unsigned tenant\n"
          "                      metadata may run (default $EDGECR_TENANT_POLICY)\n"
          "  --tenant-dir DIR    the tenants' version records (default $EDGECR_TENANT_DIR\n"
          "                      or /var/lib/edgecr/tenants)\n"
          "  --kv-root DIR       tenants' kv stores (default $EDGECR_KV_ROOT or /var/lib/edgecr/kv)\n"
          "  --device-map FILE   the node's device map (default $EDGECR_DEVICE_MAP or\n"
          "                      /etc/edgecr/devices.json)\n"
          "  -v, --version       print the version\n"
          "  -h, --help          this help\n\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

static int g_log_ready;

int cli_fail(edgecr_error_t *err)
{
  if (err != NULL && *err != NULL) {
    if (!g_log_ready)
      fprintf(stderr, "edgecr: %s\n", (*err)->msg);
    else
      log_error("%s", (*err)->msg);
    edgecr_error_release(err);
  }
  return 1;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  log_error("%s: %s (see `edgecr %s --help`)", cmd, msg ? msg : "usage error", cmd);
  free(msg);
  return 1;
}

int main(int argc, char **argv)
{
  struct edgecr_global g = {.argv0 = argv[0], .root = "/run/edgecr"};
  const char *log_format = "text";
  enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_ROOTLESS, OPT_CRIU, OPT_TRUST_DIR, OPT_KV_ROOT,
         OPT_DEVICE_MAP, OPT_TENANT_POLICY, OPT_TENANT_DIR };
  static const struct option opts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
    {"rootless", required_argument, NULL, OPT_ROOTLESS},
    {"criu", required_argument, NULL, OPT_CRIU},
    {"trust-dir", required_argument, NULL, OPT_TRUST_DIR},
    {"tenant-policy", required_argument, NULL, OPT_TENANT_POLICY},
    {"tenant-dir", required_argument, NULL, OPT_TENANT_DIR},
    {"kv-root", required_argument, NULL, OPT_KV_ROOT},
    {"device-map", required_argument, NULL, OPT_DEVICE_MAP},
    {"version", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int c;
  opterr = 0;
  while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT: g.root = optarg; break;
    case OPT_LOG: g.log_path = optarg; break;
    case OPT_LOG_FORMAT: log_format = optarg; break;
    case OPT_DEBUG: g.debug = true; break;
    case OPT_SYSTEMD: g.systemd_cgroup = true; break;
    case OPT_ROOTLESS: g.rootless = optarg; break;
    case OPT_CRIU: break;
    case OPT_TRUST_DIR:
      /* The WebAssembly backend verifies tenant metadata at create and
       * reads the trust directory from the environment (the lifecycle
       * options carry no CLI globals). */
      g.trust_dir = optarg;
      setenv("EDGECR_TRUST_DIR", optarg, 1);
      break;
    case OPT_TENANT_POLICY: /* the same way, for the same reason */
      if (strcmp(optarg, "signed") != 0 && strcmp(optarg, "allow-unsigned") != 0) {
        fprintf(stderr, "edgecr: --tenant-policy: unknown policy `%s` (signed or allow-unsigned)\n", optarg);
        return 1;
      }
      setenv("EDGECR_TENANT_POLICY", optarg, 1);
      break;
    case OPT_TENANT_DIR:
      setenv("EDGECR_TENANT_DIR", optarg, 1);
      break;
    /* Read where the tenant services open (the container's init,
     * src/tenant/linux/tenant_services.h): passed the same way. */
    case OPT_KV_ROOT: setenv("EDGECR_KV_ROOT", optarg, 1); break;
    case OPT_DEVICE_MAP: setenv("EDGECR_DEVICE_MAP", optarg, 1); break;
    case 'v':
      printf("edgecr version %s\nspec: 1.2.0\n", EDGECR_VERSION);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    default:
      fprintf(stderr, "edgecr: unknown or incomplete global option `%s`\n", argv[optind - 1]);
      usage(stderr);
      return 1;
    }
  }
  if (strcmp(log_format, "json") == 0)
    g.log_json = true;
  else if (strcmp(log_format, "text") != 0) {
    fprintf(stderr, "edgecr: --log-format: unknown format `%s` (text or json)\n", log_format);
    return 1;
  }
  if (edgecr_log_init(g.log_path, g.log_json, g.debug) < 0) {
    perror("edgecr: open --log file");
    return 1;
  }
  g_log_ready = 1;
  if (optind >= argc) {
    usage(stderr);
    return 1;
  }
  int idx = optind;
  const char *name = argv[idx];
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(commands[i].name, name) == 0) {
      optind = 0; /* full getopt re-initialisation for the subcommand (glibc) */
      opterr = 1;
      /* The subcommand sees argv[0] == its own name. */
      return commands[i].fn(&g, argc - idx, argv + idx);
    }
  }
  log_error("unknown command `%s` (see `edgecr --help`)", name);
  return 1;
}
