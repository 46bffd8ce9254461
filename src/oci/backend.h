/* backend.h - the one interface every kind of container implements.
 *
 * The lifecycle code (lifecycle.c) handles ids, state directories, locking
 * and the hooks that belong to the runtime; everything that depends on
 * *what* runs the container (Linux processes, WebAssembly, a remote core)
 * sits behind these operations.  The lifecycle never tests which backend it
 * drives. */
#ifndef EDGECR_OCI_BACKEND_H
#define EDGECR_OCI_BACKEND_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "state.h"

struct lc_create_opts {
  const char *bundle;
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  int console_sock_fd;   /* already-connected terminal socket (run), or -1 */
};

struct lc_exec_opts {
  /* The process to run; NULL: the container's own (config.json, read under
   * the container's lock), changed by `amend` when given. */
  struct oci_process *process;
  int (*amend)(struct oci_process *proc, void *ud, edgecr_error_t *err);
  void *amend_ud;
  const char *pid_file;
  const char *console_socket;
  int console_sock_fd;
  bool detach;
  int preserve_fds;
};

struct container {
  char *state_root;
  char *id;
  char *dir;               /* <state_root>/<id> */
  int lock_fd;
  bool systemd_cgroup;
  struct container_state *state;
  struct oci_config *config;   /* loaded lazily from <dir>/config.json */
  const struct backend_ops *ops;
};

enum container_status {
  STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_PAUSED, STATUS_STOPPED,
};

struct backend_ops {
  const char *name;
  /* Does this backend take the bundle? (annotations decide) */
  bool (*claims)(const struct oci_config *cfg);
  int (*create)(struct container *c, const struct lc_create_opts *o, edgecr_error_t *err);
  int (*start)(struct container *c, edgecr_error_t *err);
  enum container_status (*status)(struct container *c);
  int (*kill)(struct container *c, int sig, bool all, edgecr_error_t *err);
  /* Release every resource (processes, cgroups, staged files); idempotent. */
  int (*destroy)(struct container *c, edgecr_error_t *err);
  int (*exec)(struct container *c, const struct lc_exec_opts *o, pid_t *pid, edgecr_error_t *err);
  int (*pause)(struct container *c, bool pause, edgecr_error_t *err);
  int (*update)(struct container *c, json_t *resources, edgecr_error_t *err);
  int (*stats)(struct container *c, json_t **out, edgecr_error_t *err);
  int (*pids)(struct container *c, pid_t **pids, size_t *n, edgecr_error_t *err);
};

extern const struct backend_ops linux_backend_ops;
extern const struct backend_ops remoteproc_backend_ops;

const char *container_status_name(enum container_status s);
/* The container's state as the OCI `state` operation reports it. */
json_t *container_state_json(struct container *c, enum container_status st);
int container_save_state(struct container *c, edgecr_error_t *err);
int container_load_config(struct container *c, edgecr_error_t *err);

#endif
