/* linux_backend.h - what the Linux backend offers backends built on it.
 *
 * A backend whose containers are Linux containers running something else
 * than an executable (WebAssembly: src/wasm-backend/) does not copy the
 * Linux backend: it asks it to create the container with a *payload
 * runner*, which the container's init (and an `exec`'d process) runs in
 * place of execve, after every namespace, mount, cgroup, capability,
 * seccomp, rlimit and scheduler setting is in force.  Everything else
 * (start, status, kill, pause, update, stats, pids, destroy) is the Linux
 * backend's own operation. */
#ifndef EDGECR_LINUX_BACKEND_H
#define EDGECR_LINUX_BACKEND_H

#include <stdbool.h>

#include "backend.h"

struct linux_payload_ops {
  /* In the process that is about to run the payload, with the process's
   * settings applied (user, capabilities, seccomp, cwd), before it reports
   * ready: look at `exe` (the resolved process.args[0], a path inside the
   * container).  Returns 1 and fills *state when the runner takes it, 0
   * when it does not (execve runs it; only when !required), -1 with *err
   * naming the file and the reason (create or exec then fails). */
  int (*prepare)(const struct oci_config *cfg, const struct oci_process *proc, const char *exe, bool required,
                 void **state, edgecr_error_t *err);
  /* Optional.  In the container's init, before it enters the container's
   * root (the host's files are still reachable) and before it drops
   * privileges: open what the payload will need from the host (a tenant's
   * kv store, the node's devices).  -1 with *err fails create. */
  int (*early)(const struct oci_config *cfg, edgecr_error_t *err);
  /* Optional: the descriptors `early` opened, which the init keeps when it
   * closes the inherited ones before running the payload.  Fills at most
   * cap, returns how many there are. */
  size_t (*early_fds)(int *out, size_t cap);
  /* In place of execve: runs the payload and exits with its status. */
  void (*run)(void *state, const struct oci_process *proc); /* does not return */
};

/* The Linux backend's operations (for a backend that delegates to them). */
const struct backend_ops *linux_backend(void);
/* create and exec with a payload runner (NULL: plain execve). */
int linux_backend_create(struct container *c, const struct lc_create_opts *o, const struct linux_payload_ops *p,
                         edgecr_error_t *err);
int linux_backend_exec(struct container *c, const struct lc_exec_opts *o, const struct linux_payload_ops *p,
                       pid_t *pid, edgecr_error_t *err);

#endif
