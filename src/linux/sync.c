/* sync.c - framed messages over a SOCK_SEQPACKET socketpair.
 *
 * A message is a 12-byte header (type, code, payload length) followed by
 * its payload, cut into packets of at most SYNC_CHUNK bytes: one packet
 * larger than the socket's send buffer (about 208 KB by default) would
 * fail with EMSGSIZE, and the state JSON handed to the init has no upper
 * bound (20,000 annotations make ~600 KB).  Every short or failed
 * transfer is an error the caller sees: a lost message would leave both
 * sides waiting for each other. */
#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

#define SYNC_HDR 12
#define SYNC_CHUNK (32 * 1024)
/* Larger than any state the runtime builds; a bound on what a confused
 * peer can make us allocate. */
#define SYNC_MAX_PAYLOAD (64u * 1024 * 1024)

static int send_packet(int fd, const void *buf, size_t len)
{
  ssize_t r;
  do
    r = send(fd, buf, len, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -1;
  if ((size_t) r != len) {
    errno = EMSGSIZE;
    return -1;
  }
  return 0;
}

static ssize_t recv_packet(int fd, void *buf, size_t len)
{
  ssize_t r;
  do
    r = recv(fd, buf, len, MSG_TRUNC);
  while (r < 0 && errno == EINTR);
  if (r > (ssize_t) len) {
    errno = EMSGSIZE; /* the peer does not speak this framing */
    return -1;
  }
  return r;
}

int sync_send(int fd, int type, int code, const char *payload)
{
  size_t len = payload ? strlen(payload) : 0;
  if (len > SYNC_MAX_PAYLOAD) {
    errno = EMSGSIZE;
    return -1;
  }
  size_t first = len < SYNC_CHUNK ? len : SYNC_CHUNK;
  cleanup_free char *buf = xmalloc0(SYNC_HDR + first);
  int32_t hdr[3] = {type, code, (int32_t) len};
  memcpy(buf, hdr, SYNC_HDR);
  if (first)
    memcpy(buf + SYNC_HDR, payload, first);
  if (send_packet(fd, buf, SYNC_HDR + first) < 0)
    return -1;
  for (size_t off = first; off < len; off += SYNC_CHUNK) {
    size_t n = len - off < SYNC_CHUNK ? len - off : SYNC_CHUNK;
    if (send_packet(fd, payload + off, n) < 0)
      return -1;
  }
  return 0;
}

int sync_recv(int fd, int *code, char **payload)
{
  if (payload)
    *payload = NULL;
  char first[SYNC_HDR + SYNC_CHUNK];
  ssize_t r = recv_packet(fd, first, sizeof first);
  if (r <= 0)
    return r == 0 ? 0 : -1;
  int32_t hdr[3] = {0, 0, 0};
  if (r >= SYNC_HDR)
    memcpy(hdr, first, SYNC_HDR);
  size_t len = (uint32_t) hdr[2], got = (size_t) r - SYNC_HDR;
  if (r < SYNC_HDR || hdr[0] <= 0 || len > SYNC_MAX_PAYLOAD || got > len) {
    errno = EBADMSG;
    return -1;
  }
  cleanup_free char *buf = xmalloc0(len + 1);
  memcpy(buf, first + SYNC_HDR, got);
  while (got < len) {
    size_t want = len - got < SYNC_CHUNK ? len - got : SYNC_CHUNK;
    r = recv_packet(fd, buf + got, want);
    if (r <= 0) {
      if (r == 0)
        errno = EPIPE; /* the peer went away in the middle of a message */
      return -1;
    }
    got += (size_t) r;
  }
  if (code)
    *code = hdr[1];
  if (payload)
    *payload = steal_pointer(&buf);
  return hdr[0];
}
