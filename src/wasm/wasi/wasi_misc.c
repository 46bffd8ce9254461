/* wasi_misc.c - everything that is not a file: arguments and environment,
 * clocks, randomness, poll_oneoff (sleeping, and readiness of stdio/files),
 * sched_yield, proc_exit/proc_raise, and the socket calls (not offered:
 * they answer ENOTSUP so a module importing them still links). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi_internal.h"

/* ---- args / environ ---- */

/* Shared by args_get/environ_get: write the pointer array at `ptrs` and the
 * NUL-terminated strings at `buf`, after checking both ranges. */
static uint16_t strv_get(const struct wasi_call *c, char *const *v, size_t n, uint32_t ptrs, uint32_t buf)
{
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += strlen(v[i]) + 1;
  uint8_t *pp = wasi_mem(c, ptrs, (uint64_t) n * 4);
  uint8_t *bp = wasi_mem(c, buf, total);
  if ((n > 0 && pp == NULL) || (total > 0 && bp == NULL))
    return WASI_EFAULT;
  uint32_t off = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    wasi_st32(pp + 4 * i, buf + off);
    memcpy(bp + off, v[i], len);
    off += (uint32_t) len;
  }
  return WASI_ESUCCESS;
}

static uint16_t strv_sizes(const struct wasi_call *c, char *const *v, size_t n, uint32_t count_ptr,
                           uint32_t size_ptr)
{
  uint8_t *cp = wasi_mem(c, count_ptr, 4), *sp = wasi_mem(c, size_ptr, 4);
  if (cp == NULL || sp == NULL)
    return WASI_EFAULT;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += strlen(v[i]) + 1;
  if (total > UINT32_MAX)
    return WASI_EOVERFLOW;
  wasi_st32(cp, (uint32_t) n);
  wasi_st32(sp, (uint32_t) total);
  return WASI_ESUCCESS;
}

static uint16_t args_get(const struct wasi_call *c, const ew_value *a)
{
  return strv_get(c, c->ctx->argv, c->ctx->argc, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1));
}

static uint16_t args_sizes_get(const struct wasi_call *c, const ew_value *a)
{
  return strv_sizes(c, c->ctx->argv, c->ctx->argc, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1));
}

static uint16_t environ_get(const struct wasi_call *c, const ew_value *a)
{
  return strv_get(c, c->ctx->env, c->ctx->envc, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1));
}

static uint16_t environ_sizes_get(const struct wasi_call *c, const ew_value *a)
{
  return strv_sizes(c, c->ctx->env, c->ctx->envc, WASI_ARG_U32(a, 0), WASI_ARG_U32(a, 1));
}

/* ---- clocks ---- */

static int host_clock(uint32_t id, clockid_t *out)
{
  switch (id) {
  case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return 0;
  case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return 0;
  case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
  case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
  default: return -1;
  }
}

static uint64_t ts_ns(const struct timespec *ts)
{
  return (uint64_t) ts->tv_sec * 1000000000ull + (uint64_t) ts->tv_nsec;
}

static uint64_t clock_now(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts_ns(&ts);
}

static uint16_t clock_res_get(const struct wasi_call *c, const ew_value *a)
{
  clockid_t id;
  if (host_clock(WASI_ARG_U32(a, 0), &id) < 0)
    return WASI_EINVAL;
  uint8_t *out = wasi_mem(c, WASI_ARG_U32(a, 1), 8);
  if (out == NULL)
    return WASI_EFAULT;
  struct timespec ts;
  if (clock_getres(id, &ts) < 0)
    return wasi_errno_from_host(errno);
  wasi_st64(out, ts_ns(&ts));
  return WASI_ESUCCESS;
}

static uint16_t clock_time_get(const struct wasi_call *c, const ew_value *a)
{
  clockid_t id;
  if (host_clock(WASI_ARG_U32(a, 0), &id) < 0)
    return WASI_EINVAL;
  uint8_t *out = wasi_mem(c, WASI_ARG_U32(a, 2), 8);
  if (out == NULL)
    return WASI_EFAULT;
  wasi_st64(out, clock_now(id));
  return WASI_ESUCCESS;
}

/* ---- random ---- */

static uint16_t random_get(const struct wasi_call *c, const ew_value *a)
{
  uint32_t len = WASI_ARG_U32(a, 1);
  uint8_t *p = wasi_mem(c, WASI_ARG_U32(a, 0), len);
  if (p == NULL)
    return WASI_EFAULT;
  for (uint32_t got = 0; got < len;) {
    ssize_t n = getrandom(p + got, len - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return wasi_errno_from_host(errno);
    }
    got += (uint32_t) n;
  }
  return WASI_ESUCCESS;
}

/* ---- poll_oneoff ---- */

#define MAX_SUBSCRIPTIONS 4096

enum { SUB_CLOCK, SUB_FD_READY, SUB_FD_POLL, SUB_FD_BAD };

struct sub_state {
  uint8_t kind;
  uint16_t error;
  uint64_t deadline;   /* SUB_CLOCK: CLOCK_MONOTONIC ns */
  uint64_t nbytes;     /* SUB_FD_READY */
  int poll_index;      /* SUB_FD_POLL */
};

static uint16_t prepare_clock(const uint8_t *s, uint64_t now_mono, struct sub_state *st)
{
  uint32_t id = wasi_ld32(s + 16);
  uint64_t timeout = wasi_ld64(s + 24);
  uint16_t flags = wasi_ld16(s + 40);
  clockid_t cid;
  if (host_clock(id, &cid) < 0)
    return WASI_EINVAL;
  st->kind = SUB_CLOCK;
  if (flags & WASI_SUBCLOCK_ABSTIME) {
    /* Convert an absolute time on `id` to the monotonic clock we sleep on. */
    uint64_t now_id = clock_now(cid);
    uint64_t rel = timeout > now_id ? timeout - now_id : 0;
    st->deadline = now_mono + rel;
  } else {
    st->deadline = timeout > UINT64_MAX - now_mono ? UINT64_MAX : now_mono + timeout;
  }
  return WASI_ESUCCESS;
}

static void prepare_fd(const struct wasi_call *c, const uint8_t *s, uint8_t tag, struct pollfd *pfds,
                       int *npfds, struct sub_state *st)
{
  struct wasi_fd *f = wasi_fd_get(c->ctx, wasi_ld32(s + 16));
  if (f == NULL) {
    st->kind = SUB_FD_BAD;
    st->error = WASI_EBADF;
    return;
  }
  struct stat sb;
  if (fstat(f->host_fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    /* Regular files are always ready; report what is left to read. */
    st->kind = SUB_FD_READY;
    off_t pos = lseek(f->host_fd, 0, SEEK_CUR);
    st->nbytes = tag == WASI_EVENTTYPE_FD_READ && pos >= 0 && sb.st_size > pos
                     ? (uint64_t) (sb.st_size - pos) : 0;
    return;
  }
  st->kind = SUB_FD_POLL;
  st->poll_index = *npfds;
  pfds[*npfds].fd = f->host_fd;
  pfds[*npfds].events = tag == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
  pfds[*npfds].revents = 0;
  (*npfds)++;
}

static void sleep_until(uint64_t deadline)
{
  struct timespec ts = {(time_t) (deadline / 1000000000u), (long) (deadline % 1000000000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

/* Block until a descriptor is ready or the earliest deadline passes, and
 * return the time at which clock subscriptions are judged.  A pure sleep
 * with suspend_sleep set does not block: it asks the engine to suspend the
 * call and leaves the deadline for the embedder (wasi_sleep_deadline());
 * the clock events are written as of that deadline, which is when the
 * embedder resumes the instance. */
static uint64_t wait_for(wasi_ctx *ctx, struct pollfd *pfds, int npfds, bool ready_now,
                         uint64_t earliest, uint64_t now)
{
  if (npfds > 0) {
    int timeout_ms = -1;
    if (ready_now)
      timeout_ms = 0;
    else if (earliest != UINT64_MAX)
      timeout_ms = earliest <= now ? 0
                                   : (int) MIN((earliest - now + 999999) / 1000000, (uint64_t) INT_MAX);
    while (poll(pfds, (nfds_t) npfds, timeout_ms) < 0 && errno == EINTR) {
    }
  } else if (!ready_now && earliest != UINT64_MAX) {
    if (ctx->suspend_sleep && earliest > now) {
      ctx->sleep_deadline = earliest;
      ctx->suspend_requested = true;
      return earliest;
    }
    sleep_until(earliest);
  }
  return clock_now(CLOCK_MONOTONIC);
}

static void put_event(uint8_t *ev, uint64_t userdata, uint16_t error, uint8_t type, uint64_t nbytes,
                      uint16_t flags)
{
  memset(ev, 0, WASI_EVENT_SIZE);
  wasi_st64(ev, userdata);
  wasi_st16(ev + 8, error);
  wasi_st8(ev + 10, type);
  wasi_st64(ev + 16, nbytes);
  wasi_st16(ev + 24, flags);
}

static uint16_t poll_oneoff(const struct wasi_call *c, const ew_value *a)
{
  uint32_t nsubs = WASI_ARG_U32(a, 2);
  if (nsubs == 0 || nsubs > MAX_SUBSCRIPTIONS)
    return WASI_EINVAL;
  const uint8_t *in = wasi_mem(c, WASI_ARG_U32(a, 0), (uint64_t) nsubs * WASI_SUBSCRIPTION_SIZE);
  uint8_t *out = wasi_mem(c, WASI_ARG_U32(a, 1), (uint64_t) nsubs * WASI_EVENT_SIZE);
  uint8_t *nout = wasi_mem(c, WASI_ARG_U32(a, 3), 4);
  if (in == NULL || out == NULL || nout == NULL)
    return WASI_EFAULT;
  struct sub_state *st = calloc(nsubs, sizeof *st);
  struct pollfd *pfds = calloc(nsubs, sizeof *pfds);
  if (st == NULL || pfds == NULL) {
    free(st);
    free(pfds);
    return WASI_ENOMEM;
  }
  uint64_t now = clock_now(CLOCK_MONOTONIC), earliest = UINT64_MAX;
  int npfds = 0;
  bool ready_now = false;
  uint16_t e = WASI_ESUCCESS;
  for (uint32_t i = 0; i < nsubs && e == 0; i++) {
    const uint8_t *s = in + (size_t) i * WASI_SUBSCRIPTION_SIZE;
    uint8_t tag = s[8];
    if (tag == WASI_EVENTTYPE_CLOCK) {
      e = prepare_clock(s, now, &st[i]);
      if (e == 0 && st[i].deadline < earliest)
        earliest = st[i].deadline;
    } else if (tag == WASI_EVENTTYPE_FD_READ || tag == WASI_EVENTTYPE_FD_WRITE) {
      prepare_fd(c, s, tag, pfds, &npfds, &st[i]);
      ready_now |= st[i].kind != SUB_FD_POLL;
    } else {
      e = WASI_EINVAL;
    }
  }
  if (e == 0 && c->ctx->max_sleep_ns != 0 && earliest > now &&
      earliest - now > c->ctx->max_sleep_ns)
    earliest = now + c->ctx->max_sleep_ns;
  if (e == 0) {
    now = wait_for(c->ctx, pfds, npfds, ready_now, earliest, now);
    uint32_t n = 0;
    bool any_fd = false;
    for (uint32_t i = 0; i < nsubs; i++) {
      const uint8_t *s = in + (size_t) i * WASI_SUBSCRIPTION_SIZE;
      uint64_t ud = wasi_ld64(s);
      uint8_t tag = s[8];
      if (st[i].kind == SUB_FD_READY || st[i].kind == SUB_FD_BAD) {
        put_event(out + (size_t) n++ * WASI_EVENT_SIZE, ud, st[i].error, tag, st[i].nbytes, 0);
        any_fd = true;
      } else if (st[i].kind == SUB_FD_POLL && pfds[st[i].poll_index].revents) {
        short rev = pfds[st[i].poll_index].revents;
        uint16_t err = rev & POLLNVAL ? WASI_EBADF : 0;
        put_event(out + (size_t) n++ * WASI_EVENT_SIZE, ud, err, tag, 0,
                  rev & POLLHUP ? WASI_EVENT_FD_READWRITE_HANGUP : 0);
        any_fd = true;
      }
    }
    /* Clock events when they expired (and, like other runtimes, only when
     * no descriptor became ready first). */
    for (uint32_t i = 0; i < nsubs && !any_fd; i++) {
      if (st[i].kind == SUB_CLOCK && st[i].deadline <= now) {
        const uint8_t *s = in + (size_t) i * WASI_SUBSCRIPTION_SIZE;
        put_event(out + (size_t) n++ * WASI_EVENT_SIZE, wasi_ld64(s), 0, WASI_EVENTTYPE_CLOCK, 0, 0);
      }
    }
    wasi_st32(nout, n);
  }
  free(st);
  free(pfds);
  return e;
}

/* ---- processes, scheduling, sockets ---- */

static uint16_t sched_yield_call(const struct wasi_call *c, const ew_value *a)
{
  (void) c; (void) a;
  sched_yield();
  return WASI_ESUCCESS;
}

static uint16_t proc_raise(const struct wasi_call *c, const ew_value *a)
{
  (void) c; (void) a;
  return WASI_ENOSYS; /* signals do not exist inside the sandbox */
}

static uint16_t sock_unsupported(const struct wasi_call *c, const ew_value *a)
{
  return wasi_fd_get(c->ctx, WASI_ARG_U32(a, 0)) == NULL ? WASI_EBADF : WASI_ENOTSUP;
}

int wasi_proc_exit(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) results;
  /* Remembered here too: the engine has no way to report an exit from a
   * start function (it becomes a host trap), see wasi_exit_status(). */
  wasi_ctx *ctx = *(wasi_ctx **) host_ctx;
  ctx->exited = true;
  ctx->exit_code = (int) args[0].u32;
  return ew_host_exit(inst, ctx->exit_code);
}

const struct wasi_func_def wasi_defs_misc[] = {
  {"args_get", "ii", true, args_get},
  {"args_sizes_get", "ii", true, args_sizes_get},
  {"clock_res_get", "ii", true, clock_res_get},
  {"clock_time_get", "iIi", true, clock_time_get},
  {"environ_get", "ii", true, environ_get},
  {"environ_sizes_get", "ii", true, environ_sizes_get},
  {"poll_oneoff", "iiii", true, poll_oneoff},
  {"proc_exit", "i", false, NULL},
  {"proc_raise", "i", true, proc_raise},
  {"random_get", "ii", true, random_get},
  {"sched_yield", "", true, sched_yield_call},
  {"sock_accept", "iii", true, sock_unsupported},
  {"sock_recv", "iiiiii", true, sock_unsupported},
  {"sock_send", "iiiii", true, sock_unsupported},
  {"sock_shutdown", "ii", true, sock_unsupported},
  {NULL, NULL, false, NULL},
};
