/* sync.c - framed messages over a SOCK_SEQPACKET socketpair. */
#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

#define SYNC_MAX (256 * 1024)

int sync_send(int fd, int type, int code, const char *payload)
{
  size_t len = payload ? strlen(payload) : 0;
  if (len > SYNC_MAX - 8)
    len = SYNC_MAX - 8;
  char *buf = xmalloc0(8 + len);
  int32_t hdr[2] = {type, code};
  memcpy(buf, hdr, 8);
  if (len)
    memcpy(buf + 8, payload, len);
  ssize_t r;
  do
    r = send(fd, buf, 8 + len, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  free(buf);
  return r < 0 ? -1 : 0;
}

int sync_recv(int fd, int *code, char **payload)
{
  char *buf = xmalloc0(SYNC_MAX + 1);
  ssize_t r;
  do
    r = recv(fd, buf, SYNC_MAX, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    free(buf);
    return r == 0 ? 0 : -1;
  }
  if (r < 8) {
    free(buf);
    errno = EBADMSG;
    return -1;
  }
  int32_t hdr[2];
  memcpy(hdr, buf, 8);
  memmove(buf, buf + 8, (size_t) r - 8);
  buf[r - 8] = '\0';
  if (code)
    *code = hdr[1];
  if (payload)
    *payload = buf;
  else
    free(buf);
  return hdr[0];
}
