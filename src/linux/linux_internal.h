/* linux_internal.h - what the Linux backend's files share: the arguments
 * handed to the container init (child side of create) and the process
 * preparation common to the init and to `exec`. */
#ifndef EDGECR_LINUX_INTERNAL_H
#define EDGECR_LINUX_INTERNAL_H

#include <stdbool.h>

#include "cgroup.h"
#include "config.h"
#include "linux_backend.h"
#include "seccomp_filter.h"

struct init_args {
  struct oci_config *cfg;
  const struct cgroup_layout *layout;
  const char *cgroup_path;
  int sync_fd;
  int console_fd;        /* connected console socket, or -1 */
  int go_fd;             /* <state>/exec.fifo, read+write: `start` writes the go byte */
  int status_fd;         /* <state>/exec.status, read+write: the init's answer to `start` */
  bool no_pivot;
  bool no_new_keyring;
  const char *id;
  int preserve_fds;
  struct edgecr_seccomp *seccomp;
  bool new_userns;
  int *bind_fds;         /* from mounts_open_bind_sources, or NULL */
  const struct linux_payload_ops *payload; /* NULL: execve process.args[0] */
};

/* Child side of create: never returns. */
_Noreturn void linux_container_init(struct init_args *a);

/* What the init and `exec` apply to the process, in this order:
 * linux_process_prepare (privileged settings: console, rlimits, scheduler,
 * affinity, bounding set), linux_process_identity (user, capabilities,
 * no_new_privs, cwd, umask), linux_process_exec (fds, then the seccomp
 * filter, then execve). */
struct finalize_opts {
  const struct oci_process *proc;
  int preserve_fds;
  int console_fd;
};
int linux_process_prepare(const struct finalize_opts *o, edgecr_error_t *err);
/* With a filter and without noNewPrivileges, the filter must be loaded
 * before the identity switch (it needs CAP_SYS_ADMIN): the caller then
 * passes it to linux_process_identity, otherwise to linux_process_exec. */
bool linux_process_late_identity(const struct oci_process *p, const struct edgecr_seccomp *sc);
int linux_process_identity(const struct oci_process *p, struct edgecr_seccomp *sc, const char *state_json,
                           edgecr_error_t *err);

struct exec_final {
  const struct oci_process *proc;
  const char *path;
  int preserve_fds;
  int keep_fd;                    /* close-on-exec, open until execve itself (or -1) */
  struct edgecr_seccomp *seccomp; /* loaded right before execve, or NULL */
  const char *state_json;         /* for the seccomp listener */
  void (*fail)(int fd, edgecr_error_t *err); /* reports a failure to load the filter */
  int fail_fd;
  /* A payload runner that took the program (payload_state != NULL) runs in
   * place of execve, after the filter; keep_fd is closed where execve would
   * have closed it. */
  const struct linux_payload_ops *payload;
  void *payload_state;
};
_Noreturn void linux_process_exec(const struct exec_final *f);

/* Sends err as SYNC_ERROR (best effort). */
void sync_report(int sync_fd, edgecr_error_t *err);
_Noreturn void init_fail(int sync_fd, edgecr_error_t *err);

#endif
