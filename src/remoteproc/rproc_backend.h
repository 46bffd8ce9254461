/* rproc_backend.h - internals shared by the remoteproc backend's files:
 * what a bundle asks for (rproc_bundle.c), the container's log process
 * (rproc_logger.c) and the files both keep in the container's state
 * directory.  The backend itself (the lifecycle operations) is
 * rproc_backend.c; the user-facing rules are in docs/remoteproc.md. */
#ifndef EDGECR_RPROC_BACKEND_H
#define EDGECR_RPROC_BACKEND_H

#include <stdbool.h>

#include "backend.h"
#include "config.h"
#include "error.h"
#include "rproc.h"

/* Annotations (and keys of the rootfs labels file) the backend reads. */
#define RP_ANN_NAME "remoteproc.name"               /* Arm's remoteproc-runtime key */
#define RP_ANN_PREFIX "org.edgecr.remoteproc."
#define RP_ANN_PROCESSOR RP_ANN_PREFIX "processor"
#define RP_ANN_BOARD RP_ANN_PREFIX "board"
#define RP_ANN_ROOT RP_ANN_PREFIX "root"            /* annotation only, never from the image */
#define RP_ANN_TTY RP_ANN_PREFIX "tty"              /* annotation only, never from the image */
#define RP_LABELS_FILE "edgecr-remoteproc.json"     /* fwimage's copy of the image labels */
#define RP_ROOT_ENV "EDGECR_REMOTEPROC_ROOT"

/* Files in the container's state directory. */
#define RP_START_FIFO "start.fifo"       /* the log process waits on it until `start` */
#define RP_LOG_FILE "firmware.log"       /* the core's output, for `edgecr logs` */
#define RP_LOG_OLD "firmware.log.1"      /* the previous RP_LOG_MAX bytes */
#define RP_EXIT_FILE "exit-status"       /* written by the log process as it exits */
#define RP_LOG_MAX (1024 * 1024)

/* Exit status of the log process (= of the container). */
enum {
  RP_EXIT_STOPPED = 0, /* the core was stopped (kill, delete, or by hand) */
  RP_EXIT_CRASHED = 1, /* the core crashed and was not recovered */
  RP_EXIT_LOST = 2,    /* the core could no longer be followed (state unreadable, taken over) */
};

/* What a bundle asks for, resolved and checked (rproc_bundle.c). */
struct rp_target {
  char *root;      /* remoteproc root: "/" on a board */
  char *processor; /* processor name */
  char *board;     /* expected devicetree model, or NULL */
  char *firmware;  /* host path of process.args[0] inside the rootfs */
  char *tty;       /* log tty relative to root, or NULL for dev/ttyRPMSG<N> */
};

bool rp_bundle_claims(const struct oci_config *cfg);
int rp_bundle_resolve(const struct oci_config *cfg, struct rp_target *t, edgecr_error_t *err);
void rp_target_clear(struct rp_target *t);

/* The container's process (rproc_logger.c): waits on the start fifo, then
 * streams the core's tty to stdout and the log file until the core stops
 * or crashes; exits with RP_EXIT_*. */
struct rp_logger_args {
  const struct rproc *r;
  const char *fw_name;   /* the staged firmware: identifies our run of the core */
  const char *tty_path;  /* absolute */
  const char *fifo_path;
  const char *log_path;
  const char *old_log_path;
  const char *exit_path;
};
_Noreturn void rp_logger_main(const struct rp_logger_args *a);

/* The `logs` operation (rproc_logs.c). */
int rp_logs(struct container *c, int out_fd, bool follow, edgecr_error_t *err);

/* Signals that end a container: the core is stopped. */
bool rp_is_stop_signal(int sig);
/* Is the core ours: its `firmware` names our staged file? */
bool rp_core_is_ours(const struct rproc *r, const char *fw_name);

#endif
