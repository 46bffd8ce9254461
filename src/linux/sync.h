/* sync.h - the small message protocol between the runtime and the
 * container init during create (a SOCK_SEQPACKET socketpair). */
#ifndef EDGECR_SYNC_H
#define EDGECR_SYNC_H

#include <stddef.h>

enum sync_type {
  SYNC_GO = 1,      /* runtime -> init: maps and cgroup are in place */
  SYNC_HOOKS,       /* init -> runtime: namespaces ready, run prestart/createRuntime */
  SYNC_HOOKS_DONE,  /* runtime -> init: payload is the state JSON for later hooks */
  SYNC_ERROR,       /* init -> runtime: payload is the message, code is errno */
  SYNC_READY,       /* init -> runtime: set up, waiting on the exec fifo */
};

int sync_send(int fd, int type, int code, const char *payload);
/* Returns type, or 0 on EOF, -1 on error. *payload is malloc'ed (may be ""). */
int sync_recv(int fd, int *code, char **payload);

#endif
