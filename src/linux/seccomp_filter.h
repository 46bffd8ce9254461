/* seccomp_filter.h - linux.seccomp (actions, architectures, argument filters,
 * flags, listenerPath) compiled with libseccomp.  The filter is built and
 * validated in the runtime before anything is created; the container init
 * inherits it and loads it after the runtime's own protocol: right before
 * execve, or (without no_new_privs, which then needs CAP_SYS_ADMIN) right
 * before the switch to the container's user. */
#ifndef EDGECR_SECCOMP_FILTER_H
#define EDGECR_SECCOMP_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct edgecr_seccomp {
  void *ctx; /* scmp_filter_ctx */
  char *listener_path;
  char *listener_metadata;
  int listener_sock; /* connected before pivot_root, -1 if none */
  bool has_notify;   /* some rule is SCMP_ACT_NOTIFY */
  unsigned flags;    /* SECCOMP_FILTER_FLAG_* asked for (TSYNC, LOG, SPEC_ALLOW) */
};

/* Returns 0 with *out NULL when there is no seccomp section. */
int edgecr_seccomp_build(json_t *seccomp, const char *file, struct edgecr_seccomp **out, edgecr_error_t *err);
/* Connect to listenerPath (host path) before entering the rootfs. */
int edgecr_seccomp_connect(struct edgecr_seccomp *s, edgecr_error_t *err);
/* Load the filter; with a listener, send the notify fd and state_json. */
int edgecr_seccomp_install(struct edgecr_seccomp *s, const char *state_json, edgecr_error_t *err);
void edgecr_seccomp_free(struct edgecr_seccomp *s);

#endif
