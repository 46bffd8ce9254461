/* lifecycle.h - the OCI operations (create, start, state, kill, delete,
 * ...) over any backend.  This is the library API the CLI is a thin layer
 * over, and what `plan apply` drives. */
#ifndef EDGECR_OCI_LIFECYCLE_H
#define EDGECR_OCI_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "backend.h"
#include "error.h"

struct lc_context {
  const char *state_root;
  bool systemd_cgroup;
};

int lc_create(const struct lc_context *ctx, const char *id, const struct lc_create_opts *o, edgecr_error_t *err);
int lc_start(const struct lc_context *ctx, const char *id, edgecr_error_t *err);
int lc_state(const struct lc_context *ctx, const char *id, json_t **out, edgecr_error_t *err);
int lc_kill(const struct lc_context *ctx, const char *id, int sig, bool all, edgecr_error_t *err);
int lc_delete(const struct lc_context *ctx, const char *id, bool force, edgecr_error_t *err);
int lc_list(const struct lc_context *ctx, json_t **out, edgecr_error_t *err);
int lc_pids(const struct lc_context *ctx, const char *id, pid_t **pids, size_t *n, edgecr_error_t *err);
int lc_exec(const struct lc_context *ctx, const char *id, const struct lc_exec_opts *o, pid_t *pid,
            edgecr_error_t *err);
int lc_pause(const struct lc_context *ctx, const char *id, bool pause, edgecr_error_t *err);
int lc_update(const struct lc_context *ctx, const char *id, json_t *resources, edgecr_error_t *err);
int lc_stats(const struct lc_context *ctx, const char *id, json_t **out, edgecr_error_t *err);
/* The process that represents the container (for run/wait): the backend's
 * main_pid, by default the recorded init pid. */
int lc_init_pid(const struct lc_context *ctx, const char *id, pid_t *pid, edgecr_error_t *err);
/* Copy the log the container's backend keeps to out_fd (ENOTSUP when it
 * keeps none); with follow, until the container stops. */
int lc_logs(const struct lc_context *ctx, const char *id, int out_fd, bool follow, edgecr_error_t *err);

/* fn on container id, opened and locked (its state loaded): operations a
 * backend adds beyond the OCI ones, e.g. a tenant's metadata update. */
typedef int (*lc_container_fn)(struct container *c, void *data, edgecr_error_t *err);
int lc_with_container(const struct lc_context *ctx, const char *id, lc_container_fn fn, void *data,
                      edgecr_error_t *err);

/* Signal by name ("TERM", "SIGKILL") or number; -1 if unknown. */
int signal_parse(const char *s);

#endif
