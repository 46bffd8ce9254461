/* channel.c - the Linux side of the tenant ABI's `channel` service: a
 * WebAssembly tenant's ends of a shared-memory channel through the same
 * client as Linux containers (include/edgecr/channel.h).
 *
 * The channel is the directory the runtime mounted into the container,
 * /run/edgecr/channels/NAME ($EDGECR_CHANNEL_DIR/NAME instead, for
 * `edgecr wasm run` on a host).  Sending attaches the writer end, which
 * only the declared writer can (the runtime mounts `data` read-only for
 * everyone else).  Receiving attaches the reader page the container may
 * write: a reader has exactly one (its own; the others are not mounted or
 * mounted read-only), so the tenant never needs to know its index.
 *
 * echan_send copies the message from the tenant's linear memory into the
 * slot and echan_recv from the slot into linear memory: one copy each.
 * A blocking receive sleeps in futex (blocking channels) or polls with
 * short sleeps (polling channels) until the timeout. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "edgecr/channel.h"
#include "tenant_platform.h"
#include "util.h"

struct linux_chan {
  struct echan w, r;
  bool writer, reader;
};

static int abi_error(int e)
{
  switch (e) {
  case ENOENT: return EDGECR_ENOENT;
  case EACCES: case EPERM: case EROFS: return EDGECR_EDENIED; /* not mounted for this end */
  case EMFILE: case ENFILE: return EDGECR_EMFILE;
  default: return EDGECR_EIO; /* EPROTO: not a valid channel */
  }
}

static void chan_close(void *p, void *obj)
{
  (void) p;
  struct linux_chan *c = obj;
  if (c == NULL)
    return;
  if (c->writer)
    echan_detach(&c->w);
  if (c->reader)
    echan_detach(&c->r);
  free(c);
}

static int chan_open(void *p, const char *name, unsigned access, void **obj)
{
  (void) p;
  const char *dir = getenv("EDGECR_CHANNEL_DIR");
  cleanup_free char *path = xasprintf("%s/%s", dir && *dir ? dir : "/run/edgecr/channels", name);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return abi_error(errno);
  struct linux_chan *c = xmalloc0(sizeof *c);
  int rc = 0;
  if (access & TENANT_CHAN_SEND) {
    rc = echan_attach_writer(&c->w, dfd);
    c->writer = rc == 0;
  }
  if (rc == 0 && (access & TENANT_CHAN_RECEIVE)) {
    rc = echan_attach_own_reader(&c->r, dfd);
    c->reader = rc == 0;
  }
  if (rc < 0) {
    chan_close(p, c);
    return abi_error(-rc);
  }
  *obj = c;
  return EDGECR_OK;
}

static int chan_send(void *p, void *obj, const void *msg, size_t len)
{
  (void) p;
  struct linux_chan *c = obj;
  if (!c->writer || len != c->w.msg_size)
    return EDGECR_EINVAL; /* not opened for sending, or not the channel's message size */
  return echan_send(&c->w, msg) == -EAGAIN ? EDGECR_EAGAIN : EDGECR_OK;
}

static uint64_t mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* One message (fifo) or a value newer than the last (latest) into buf. */
static bool take(struct linux_chan *c, void *buf)
{
  uint64_t extra;
  return echan_recv(&c->r, buf, &extra) == 1;
}

static int chan_recv(void *p, void *obj, void *buf, size_t cap, int64_t timeout_ns, size_t *len)
{
  (void) p;
  struct linux_chan *c = obj;
  if (!c->reader)
    return EDGECR_EINVAL;
  if (cap < c->r.msg_size)
    return EDGECR_E2BIG;
  *len = c->r.msg_size;
  uint64_t end = timeout_ns > 0 ? mono_ns() + (uint64_t) timeout_ns : 0;
  for (;;) {
    if (take(c, buf))
      return EDGECR_OK;
    if (timeout_ns == 0)
      return EDGECR_EAGAIN;
    int64_t left = timeout_ns < 0 ? -1 : (int64_t) (end - mono_ns());
    if (timeout_ns > 0 && left <= 0)
      return EDGECR_ETIMEDOUT;
    if (c->r.wait_mode == ECHAN_WAIT_FUTEX) {
      if (echan_wait(&c->r, left) == -EINTR)
        return EDGECR_EAGAIN; /* a signal (a stop): back to the engine's safe point */
    } else {
      struct timespec ts = {0, 20000}; /* a polling channel: nobody wakes us */
      if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
        return EDGECR_EAGAIN;
    }
  }
}

void tenant_linux_channel_ops(struct tenant_platform *pf)
{
  pf->chan_open = chan_open;
  pf->chan_send = chan_send;
  pf->chan_recv = chan_recv;
  pf->chan_close = chan_close;
}
