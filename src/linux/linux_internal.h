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
  int fifo_fd;           /* O_PATH descriptor of <state>/exec.fifo */
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

/* Applies process settings in the right order, then execs; on failure
 * reports over sync_fd and exits.  Used by init (after the exec fifo) and
 * by exec. `before_exec` runs after user switch, just before seccomp. */
struct finalize_opts {
  const struct oci_process *proc;
  struct edgecr_seccomp *seccomp;
  int preserve_fds;
  int console_fd;
  const char *state_json;
};
int linux_process_prepare(const struct finalize_opts *o, edgecr_error_t *err);
/* keep_fd (close-on-exec, or -1) stays open until execve itself.  With a
 * payload runner that took the program (state != NULL), keep_fd is closed
 * where execve would have closed it and the runner runs instead. */
_Noreturn void linux_process_exec(const struct oci_process *proc, const char *path, int preserve_fds, int keep_fd,
                                  const struct linux_payload_ops *payload, void *payload_state);

_Noreturn void init_fail(int sync_fd, edgecr_error_t *err);

#endif
