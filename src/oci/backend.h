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

/* The order in which backends are asked whether they claim a bundle
 * (lower first).  A backend that recognises a bundle by a marker of its own
 * goes before one that takes what nobody else wants (Linux, last). */
enum backend_order {
  BACKEND_ORDER_DEVICE = 10,   /* a named remote processor (remoteproc.name) */
  BACKEND_ORDER_PAYLOAD = 20,  /* a payload format (WebAssembly magic, handler annotations) */
  BACKEND_ORDER_DEFAULT = 100, /* anything (Linux processes) */
};

struct backend_ops {
  const char *name;
  enum backend_order order;
  /* Does this backend take the bundle?  Asked in `order` unless the
   * bundle names its backend (BACKEND_ANNOTATION).  Must not fail: a bundle
   * it cannot run after all is refused by `create` with the reason. */
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
  /* The process whose exit is the container's exit (what `run` waits for
   * and `state` reports); NULL: the pid recorded in the state. */
  pid_t (*main_pid)(struct container *c);
  /* Copy the log the backend keeps to out_fd; with follow, until the
   * container stops.  NULL: the backend keeps none (its output is the
   * stdio the container was given). */
  int (*logs)(struct container *c, int out_fd, bool follow, edgecr_error_t *err);
};

/* Annotation that names the backend outright (a plan's `backend:` field
 * sets it); an unknown name is an error, not a fallback. */
#define BACKEND_ANNOTATION "org.edgecr.backend"

/* Registration: each backend calls this once (from a constructor in its own
 * library), so the lifecycle and the CLI never name a backend.  At most
 * BACKEND_MAX backends. */
#define BACKEND_MAX 8
void backend_register(const struct backend_ops *ops);
/* The registered backends in claim order (features lists them). */
size_t backend_count(void);
const struct backend_ops *backend_at(size_t i);
const struct backend_ops *backend_named(const char *name);
/* The backend for a bundle: BACKEND_ANNOTATION, else the first claim. */
int backend_select(const struct oci_config *cfg, const struct backend_ops **out, edgecr_error_t *err);

/* A lock over every container of one backend in c's state root (for
 * decisions that span containers, e.g. which remote core is free): an
 * exclusive flock on <state root>/.<backend>.lock; close the fd to drop it. */
int backend_lock(struct container *c, int *fd_out, edgecr_error_t *err);

/* Calls fn for every other container of c's backend in c's state root,
 * with a read-only view (state loaded, ops set, not locked: a snapshot, as
 * state.json is replaced atomically).  Stops when fn returns non-zero and
 * returns that value. */
typedef int (*backend_visit_fn)(struct container *other, void *data);
int backend_for_each_container(struct container *c, backend_visit_fn fn, void *data);

const char *container_status_name(enum container_status s);
/* The container's state as the OCI `state` operation reports it. */
json_t *container_state_json(struct container *c, enum container_status st);
int container_save_state(struct container *c, edgecr_error_t *err);
int container_load_config(struct container *c, edgecr_error_t *err);

#endif
