/* cli.h - what every `edgecr` subcommand receives, and their entry points.
 *
 * The CLI is thin: each cmd_*.c parses its flags and calls the library.
 * Subcommands return the process exit status; errors are printed once by
 * cli_fail() (which logs through log.h so `--log-format json` callers such
 * as containerd's shim see them). */
#ifndef EDGECR_CLI_H
#define EDGECR_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct edgecr_global {
  const char *argv0;
  const char *root;       /* --root, default /run/edgecr */
  const char *log_path;   /* --log */
  bool log_json;          /* --log-format json */
  bool debug;             /* --debug */
  bool systemd_cgroup;    /* --systemd-cgroup */
  const char *rootless;   /* --rootless value as given, or NULL */
  const char *trust_dir;  /* --trust-dir (tenant metadata keys), or NULL */
};

typedef int (*cli_command_fn)(struct edgecr_global *g, int argc, char **argv);

/* Print the error once (stderr, and the --log file when given) and return exit status 1. */
int cli_fail(edgecr_error_t *err);
/* Usage error for a subcommand: message + hint, returns 1 (runc's code). */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Receive a pty master on sock and relay it to our stdio until pid exits
 * (run/exec with a terminal and no --console-socket). */
int cli_relay_terminal(int sock, pid_t pid);

/* Lifecycle (runc-compatible), src/cli/cmd_lifecycle.c and friends. */
int cmd_create(struct edgecr_global *g, int argc, char **argv);
int cmd_start(struct edgecr_global *g, int argc, char **argv);
int cmd_run(struct edgecr_global *g, int argc, char **argv);
int cmd_state(struct edgecr_global *g, int argc, char **argv);
int cmd_kill(struct edgecr_global *g, int argc, char **argv);
int cmd_delete(struct edgecr_global *g, int argc, char **argv);
int cmd_list(struct edgecr_global *g, int argc, char **argv);
int cmd_ps(struct edgecr_global *g, int argc, char **argv);
int cmd_exec(struct edgecr_global *g, int argc, char **argv);
int cmd_pause(struct edgecr_global *g, int argc, char **argv);
int cmd_resume(struct edgecr_global *g, int argc, char **argv);
int cmd_update(struct edgecr_global *g, int argc, char **argv);
int cmd_events(struct edgecr_global *g, int argc, char **argv);
int cmd_spec(struct edgecr_global *g, int argc, char **argv);
int cmd_features(struct edgecr_global *g, int argc, char **argv);

/* edgecr's own. Each lives in its own file, owned by its area. */
int cmd_logs(struct edgecr_global *g, int argc, char **argv);   /* cmd_logs.c */
int cmd_wasm(struct edgecr_global *g, int argc, char **argv);   /* cmd_wasm.c */
int cmd_plan(struct edgecr_global *g, int argc, char **argv);   /* cmd_plan.c (edgecr-plan) */
int cmd_monitor(struct edgecr_global *g, int argc, char **argv); /* cmd_monitor.c (edgecr-plan) */
int cmd_meta(struct edgecr_global *g, int argc, char **argv);   /* cmd_meta.c (edgecr-plan) */

#endif
