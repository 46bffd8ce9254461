/* console.h - process.terminal: a pty created inside the container whose
 * master is handed to the caller over a unix socket (--console-socket), as
 * runc does; plus the fd-passing helpers it needs. */
#ifndef EDGECR_CONSOLE_H
#define EDGECR_CONSOLE_H

#include "config.h"
#include "error.h"

int console_socket_connect(const char *path, edgecr_error_t *err);
/* In the container (after pivot_root): new pty, send master over sock,
 * make the slave the controlling terminal and stdio. */
int console_setup(int sock, const struct oci_process *p, edgecr_error_t *err);
int send_fd(int sock, int fd, const char *payload, edgecr_error_t *err);
int recv_fd(int sock, int *fd, edgecr_error_t *err);

#endif
