/* edgecr/channel.h - static shared-memory channels between containers:
 * the client side (header only, C11 + Linux, no dependency beyond libc).
 *
 * A channel is a directory (by default /run/edgecr/channels/NAME) that the
 * runtime creates at its exact size before any user starts:
 *
 *   data        the writer's header page followed by the message slots.
 *               The writer maps it read-write; readers open it O_RDONLY and
 *               map it PROT_READ, so a reader cannot change a message.
 *   reader.<i>  one page per declared reader i: its position, its loss count
 *               and its "I am sleeping" flag.  Reader i maps its own page
 *               read-write; the writer maps every reader page read-only.
 *
 * Two kinds:
 *   ECHAN_FIFO    a queue of `depth` fixed-size messages, one writer, any
 *                 declared number of readers (each reads every message).
 *                 When full: ECHAN_FULL_FAIL makes echan_send() fail with
 *                 -EAGAIN (nothing lost); ECHAN_FULL_OVERWRITE overwrites the
 *                 oldest message and the reader is told how many it lost.
 *   ECHAN_LATEST  a latest-value slot: echan_recv() always returns the newest
 *                 complete value (`depth` >= 2 buffers, written in turn).
 *
 * Several writers on one channel are refused (echan_attach_writer() refuses
 * a header declaring more than one): a writer killed between reserving a
 * slot and publishing it would stall every reader, and the robust schemes
 * for that need a recovery agent this library does not have.  The library
 * cannot stop two processes from both attaching as the writer: only the
 * declared writer is given `data` read-write (the runtime's mapping rights).
 *
 * Memory layout of `data` (native byte order, all offsets in bytes):
 *   0    4  magic        "ECHN" (0x4e484345)
 *   4    2  version      1
 *   6    2  kind         1 fifo, 2 latest
 *   8    4  msg_size     payload bytes of one message (1..ECHAN_MAX_MSG)
 *  12    4  depth        slots (fifo) or buffers (latest)
 *  16    4  slot_stride  8 + msg_size rounded up to 8
 *  20    4  readers      declared readers (files reader.0 .. reader.N-1)
 *  24    4  writers      1
 *  28    2  full_policy  1 fail, 2 overwrite (fifo; 0 for latest)
 *  30    2  wait_mode    1 polling, 2 blocking (futex)
 *  32    8  data_offset  4096: the first slot
 *  40    8  file_size    data_offset + depth * slot_stride
 *  48   64  name         NUL-terminated
 * 112   16  reserved     0
 * 128    8  head         messages published so far (written last, release)
 * 136    4  futex        bumped after every publish; blocked readers sleep on it
 * 144    8  full_fails   sends refused because the queue was full
 * 152    8  max_fill     highest fill the writer saw (fail policy)
 * 4096 ...  slots: slot n % depth holds message n: u64 seq, then the payload.
 *           seq = 2n+1 while message n is being copied, 2n+2 once complete.
 *
 * reader.<i> (4096 bytes):
 *   0    4  magic        "ECHR" (0x52484345)
 *   4    2  version      1
 *   6    2  index        i
 *   8    8  pos          next message this reader reads (fifo) / the version
 *                        it last read (latest); kept across reader restarts
 *  16    8  lost         messages this reader lost to overwrites (total)
 *  24    8  received     messages (fifo) / new values (latest) it received
 *  32    8  max_fill     the most messages it found waiting for it (fifo)
 *                        (both kept by echan_recv with plain stores to the
 *                        reader's own page: counters for `edgecr monitor`)
 *  64    4  waiting      1 while the reader is (about to be) asleep in futex
 *
 * Guarantees:
 *  - The polling path (echan_send, echan_recv, echan_try_*) makes no system
 *    call and allocates nothing; echan_wait sleeps in futex(2) only when
 *    there is nothing to read, and echan_send calls futex wake only when a
 *    reader says it is asleep.
 *  - Publication: the writer marks the slot odd, copies, marks it even
 *    (release), then advances head (release).  A reader takes a message
 *    only when the slot's seq is exactly the even value of the message it
 *    wants, before and after its copy (acquire fences): a writer killed in
 *    the middle of a copy leaves head unchanged and the slot odd, so no torn
 *    message is ever returned; a restarted writer rewrites that slot.
 *  - A restarted reader re-attaches to its page and goes on from its pos.
 *  - Copying the payload while a writer may be overwriting it (overwrite and
 *    latest) is the seqlock pattern: the copy may be torn, but it is then
 *    discarded because the seq changed.
 */
#ifndef EDGECR_CHANNEL_H
#define EDGECR_CHANNEL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ECHAN_MAGIC 0x4e484345u
#define ECHAN_READER_MAGIC 0x52484345u
#define ECHAN_VERSION 1u
#define ECHAN_PAGE 4096u
#define ECHAN_FIFO 1u
#define ECHAN_LATEST 2u
#define ECHAN_FULL_FAIL 1u
#define ECHAN_FULL_OVERWRITE 2u
#define ECHAN_WAIT_POLL 1u
#define ECHAN_WAIT_FUTEX 2u
#define ECHAN_NAME_MAX 63u
#define ECHAN_MAX_MSG (1u << 20)    /* 1 MiB per message */
#define ECHAN_MAX_DEPTH (1u << 16)  /* 65536 slots */
#define ECHAN_MAX_READERS 64u
#define ECHAN_MAX_FILE (64ull << 20) /* 64 MiB of slots at most */
#define ECHAN_HDR_OFF_HEAD 128u

struct echan_hdr {
  uint32_t magic;
  uint16_t version, kind;
  uint32_t msg_size, depth, slot_stride, readers, writers;
  uint16_t full_policy, wait_mode;
  uint64_t data_offset, file_size;
  char name[64];
  uint64_t reserved[2]; /* 0 */
  /* offset 128: the writer's line */
  _Atomic uint64_t head;
  _Atomic uint32_t futex;
  uint32_t pad0;
  _Atomic uint64_t full_fails;
  _Atomic uint64_t max_fill;
};
_Static_assert(offsetof(struct echan_hdr, name) == 48, "layout");
_Static_assert(offsetof(struct echan_hdr, head) == ECHAN_HDR_OFF_HEAD, "layout");
_Static_assert(offsetof(struct echan_hdr, futex) == 136, "layout");
_Static_assert(offsetof(struct echan_hdr, max_fill) == 152, "layout");

struct echan_reader {
  uint32_t magic;
  uint16_t version, index;
  _Atomic uint64_t pos;
  _Atomic uint64_t lost;
  _Atomic uint64_t received;
  _Atomic uint64_t max_fill;
  char pad[24];
  _Atomic uint32_t waiting; /* offset 64: its own cache line */
};
_Static_assert(offsetof(struct echan_reader, received) == 24, "layout");
_Static_assert(offsetof(struct echan_reader, max_fill) == 32, "layout");
_Static_assert(offsetof(struct echan_reader, waiting) == 64, "layout");

struct echan_slot {
  _Atomic uint64_t seq;
  unsigned char payload[];
};

/* One end of a channel, as attached by this process.  Nothing in it is
 * allocated: it only points into the mappings. */
struct echan {
  struct echan_hdr *hdr;
  /* The geometry, copied from the header when it was checked at attach:
   * the message path never trusts the shared header again, so a writer
   * that rewrites its header cannot send a reader outside its mapping. */
  uint64_t map_len, stride;
  uint32_t depth, msg_size, kind, full_policy, wait_mode, readers;
  unsigned char *slots;
  struct echan_reader *me;                         /* reader end: own page */
  const struct echan_reader *rd[ECHAN_MAX_READERS]; /* writer end: every page */
  uint32_t nreaders;
  int writer;
};

static inline uint64_t echan_stride(uint32_t msg_size) { return 8u + (((uint64_t)msg_size + 7u) & ~7ull); }

/* The checks a client makes on a mapped header before trusting it (the
 * runtime makes the same, with messages naming the field, in src/channel). */
static inline int echan_header_ok(const struct echan_hdr *h, size_t mapped) {
  if (mapped < ECHAN_PAGE || h->magic != ECHAN_MAGIC || h->version != ECHAN_VERSION) return 0;
  if (h->kind != ECHAN_FIFO && h->kind != ECHAN_LATEST) return 0;
  if (h->msg_size == 0 || h->msg_size > ECHAN_MAX_MSG || h->depth == 0 || h->depth > ECHAN_MAX_DEPTH) return 0;
  if (h->kind == ECHAN_LATEST && h->depth < 2) return 0;
  if (h->slot_stride != echan_stride(h->msg_size) || h->data_offset != ECHAN_PAGE) return 0;
  if ((uint64_t)h->depth * h->slot_stride > ECHAN_MAX_FILE) return 0;
  if (h->readers == 0 || h->readers > ECHAN_MAX_READERS || h->writers != 1) return 0;
  if (h->kind == ECHAN_FIFO ? (h->full_policy != ECHAN_FULL_FAIL && h->full_policy != ECHAN_FULL_OVERWRITE)
                            : h->full_policy != 0)
    return 0;
  if (h->wait_mode != ECHAN_WAIT_POLL && h->wait_mode != ECHAN_WAIT_FUTEX) return 0;
  if (h->file_size != h->data_offset + (uint64_t)h->depth * h->slot_stride || h->file_size != mapped) return 0;
  return 1;
}

static inline struct echan_slot *echan_slot_at(const struct echan *c, uint64_t n) {
  return (struct echan_slot *)(c->slots + (n % c->depth) * c->stride);
}

static inline long echan_futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

/* ---- attaching (system calls here, never on the message path) ---- */

static inline void *echan_map_file(int dirfd, const char *file, int writable, size_t *len) {
  int fd = openat(dirfd, file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  void *p = MAP_FAILED;
  if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= ECHAN_MAX_FILE + ECHAN_PAGE)
    p = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  errno = e;
  if (p == MAP_FAILED) return NULL;
  *len = (size_t)st.st_size;
  return p;
}

static inline int echan_attach_data(struct echan *c, int dirfd, int writable) {
  size_t len = 0;
  memset(c, 0, sizeof *c);
  c->hdr = (struct echan_hdr *)echan_map_file(dirfd, "data", writable, &len);
  if (!c->hdr) return -errno;
  /* Check a snapshot and keep it: the writer may change the shared header
   * at any time, the geometry used from now on is the one checked. */
  struct echan_hdr snap;
  memcpy(&snap, (const void *)c->hdr, sizeof snap);
  if (!echan_header_ok(&snap, len)) {
    munmap(c->hdr, len);
    c->hdr = NULL;
    return -EPROTO;
  }
  c->slots = (unsigned char *)c->hdr + ECHAN_PAGE;
  c->map_len = len;
  c->stride = snap.slot_stride;
  c->depth = snap.depth;
  c->msg_size = snap.msg_size;
  c->kind = snap.kind;
  c->full_policy = snap.full_policy;
  c->wait_mode = snap.wait_mode;
  c->readers = snap.readers;
  return 0;
}

static inline int echan_reader_ok(const struct echan_reader *r, size_t len, uint32_t index) {
  return len == ECHAN_PAGE && r->magic == ECHAN_READER_MAGIC && r->version == ECHAN_VERSION && r->index == index;
}

/* Unmaps what attach mapped. */
static inline void echan_detach(struct echan *c) {
  if (c->hdr) munmap(c->hdr, c->map_len);
  if (c->me) munmap(c->me, ECHAN_PAGE);
  for (uint32_t i = 0; i < c->nreaders; i++) munmap((void *)c->rd[i], ECHAN_PAGE);
  memset(c, 0, sizeof *c);
}

/* The writer end: `data` read-write, every reader page read-only.  Returns
 * 0 or a negative errno (-EPROTO: not a valid channel; -EINVAL: declared
 * with several writers). */
static inline int echan_attach_writer(struct echan *c, int dirfd) {
  int rc = echan_attach_data(c, dirfd, 1);
  if (rc < 0) return rc;
  c->writer = 1;
  for (uint32_t i = 0; i < c->readers; i++) {
    char name[32] = "reader.";
    size_t len = 0, k = 7;
    char digits[12];
    int nd = 0;
    uint32_t v = i;
    do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (nd) name[k++] = digits[--nd];
    name[k] = 0;
    const struct echan_reader *r = (const struct echan_reader *)echan_map_file(dirfd, name, 0, &len);
    if (!r || !echan_reader_ok(r, len, i)) {
      int e = r ? -EPROTO : -errno;
      if (r) munmap((void *)r, len);
      echan_detach(c);
      return e;
    }
    c->rd[c->nreaders++] = r;
  }
  return 0;
}

/* Reader `index`: `data` read-only, its own page read-write. */
static inline int echan_attach_reader(struct echan *c, int dirfd, uint32_t index) {
  int rc = echan_attach_data(c, dirfd, 0);
  if (rc < 0) return rc;
  if (index >= c->readers) {
    echan_detach(c);
    return -ERANGE;
  }
  char name[32];
  size_t len = 0, k = 7;
  memcpy(name, "reader.", 7);
  char digits[12];
  int nd = 0;
  uint32_t v = index;
  do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (nd) name[k++] = digits[--nd];
  name[k] = 0;
  c->me = (struct echan_reader *)echan_map_file(dirfd, name, 1, &len);
  if (!c->me || !echan_reader_ok(c->me, len, index)) {
    int e = c->me ? -EPROTO : -errno;
    if (c->me) munmap(c->me, len);
    c->me = NULL;
    echan_detach(c);
    return e;
  }
  return 0;
}

/* The one reader page this process may write: in a container, its own
 * (the runtime mounts no other reader page, or mounts it read-only), so a
 * reader need not know its index.  Outside a container every page is
 * writable and reader 0 is taken.  0, or a negative errno (-EACCES: no
 * reader page is writable here). */
static inline int echan_attach_own_reader(struct echan *c, int dirfd) {
  int rc = -EACCES;
  for (uint32_t i = 0; i < ECHAN_MAX_READERS; i++) {
    int r = echan_attach_reader(c, dirfd, i);
    if (r == 0) return 0;
    if (r == -ERANGE) return rc; /* past the declared readers */
    if (r == -EPROTO) return r;
    if (r != -ENOENT && r != -EROFS && r != -EACCES && r != -EPERM) rc = r;
  }
  return rc;
}

/* ---- writer ---- */

/* Wakes the readers that said they sleep.  The SC fence pairs with the one
 * in echan_wait(): either the reader sees the new head, or we see its flag. */
static inline void echan_wake(struct echan *c) {
  atomic_fetch_add_explicit(&c->hdr->futex, 1, memory_order_release);
  atomic_thread_fence(memory_order_seq_cst);
  for (uint32_t i = 0; i < c->nreaders; i++)
    if (atomic_load_explicit(&c->rd[i]->waiting, memory_order_relaxed)) {
      echan_futex(&c->hdr->futex, FUTEX_WAKE, INT_MAX, NULL);
      return;
    }
}

/* Sends one message of exactly msg_size bytes.  0, or -EAGAIN when the
 * queue is full under the fail policy (counted in full_fails). */
static inline int echan_send(struct echan *c, const void *msg) {
  struct echan_hdr *h = c->hdr;
  uint64_t n = atomic_load_explicit(&h->head, memory_order_relaxed);
  if (c->kind == ECHAN_FIFO && c->full_policy == ECHAN_FULL_FAIL) {
    uint64_t fill = 0;
    for (uint32_t i = 0; i < c->nreaders; i++) {
      uint64_t p = atomic_load_explicit(&c->rd[i]->pos, memory_order_acquire);
      uint64_t f = p <= n ? n - p : 0; /* a reader page claiming the future is ignored */
      if (f > fill) fill = f;
    }
    if (fill >= c->depth) {
      atomic_fetch_add_explicit(&h->full_fails, 1, memory_order_relaxed);
      return -EAGAIN;
    }
    if (fill + 1 > atomic_load_explicit(&h->max_fill, memory_order_relaxed))
      atomic_store_explicit(&h->max_fill, fill + 1, memory_order_relaxed);
  }
  struct echan_slot *s = echan_slot_at(c, n);
  atomic_store_explicit(&s->seq, 2 * n + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release); /* odd mark before the copy */
  memcpy(s->payload, msg, c->msg_size);
  atomic_store_explicit(&s->seq, 2 * n + 2, memory_order_release);
  atomic_store_explicit(&h->head, n + 1, memory_order_release);
  if (c->wait_mode == ECHAN_WAIT_FUTEX) echan_wake(c);
  return 0;
}

/* ---- reader ---- */

/* Copies slot n into out if it still holds complete message n: 1 on
 * success, 0 when the slot moved on (overwritten or being overwritten). */
static inline int echan_copy_slot(const struct echan *c, uint64_t n, void *out, uint64_t *seen) {
  struct echan_slot *s = echan_slot_at(c, n);
  uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
  *seen = s1;
  if (s1 != 2 * n + 2) return 0;
  memcpy(out, s->payload, c->msg_size);
  atomic_thread_fence(memory_order_acquire); /* the copy before the re-check */
  uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
  *seen = s2;
  return s2 == s1;
}

/* FIFO: takes the next message into out (msg_size bytes).  Returns 1 with a
 * message, 0 when there is none yet.  *lost (may be NULL) gets how many
 * messages were overwritten before this reader got to them since its last
 * call (also added to its page's total). */
/* The reader's own counters: only this reader writes its page, so a
 * relaxed load and store (no atomic read-modify-write) are enough. */
static inline void echan_count(struct echan *c, uint64_t fill) {
  struct echan_reader *me = c->me;
  atomic_store_explicit(&me->received, atomic_load_explicit(&me->received, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  if (fill > atomic_load_explicit(&me->max_fill, memory_order_relaxed))
    atomic_store_explicit(&me->max_fill, fill, memory_order_relaxed);
}

static inline int echan_recv_fifo(struct echan *c, void *out, uint64_t *lost) {
  struct echan_hdr *h = c->hdr;
  uint64_t r = atomic_load_explicit(&c->me->pos, memory_order_relaxed), gone = 0, seen, head;
  for (;;) {
    head = atomic_load_explicit(&h->head, memory_order_acquire);
    if (r > head) r = head; /* a garbled page: resynchronise */
    if (r == head) break;
    if (head - r > c->depth) {
      gone += head - r - c->depth;
      r = head - c->depth;
    }
    if (echan_copy_slot(c, r, out, &seen)) {
      atomic_store_explicit(&c->me->pos, r + 1, memory_order_release);
      echan_count(c, head - r);
      if (gone) atomic_fetch_add_explicit(&c->me->lost, gone, memory_order_relaxed);
      if (lost) *lost = gone;
      return 1;
    }
    /* The slot now belongs to message m > r: messages up to m - depth are
     * gone.  A slot behind head that never got message r (a writer that
     * broke the protocol) reads as "nothing yet": never a hang. */
    uint64_t m = seen > 2 * r + 2 ? (seen - 1) / 2 : 0;
    if (m < r + c->depth) break;
    gone += m - c->depth + 1 - r;
    r = m - c->depth + 1;
  }
  atomic_store_explicit(&c->me->pos, r, memory_order_release);
  if (gone) atomic_fetch_add_explicit(&c->me->lost, gone, memory_order_relaxed);
  if (lost) *lost = gone;
  return 0;
}

/* LATEST: copies the newest complete value into out.  Returns 1 when it is
 * newer than the one this reader read last, 2 when it is the same one
 * again, 0 when nothing was ever written.  *version (may be NULL) gets its
 * version (1 = the first value written). */
static inline int echan_recv_latest(struct echan *c, void *out, uint64_t *version) {
  uint64_t seen;
  /* An honest writer overtakes a copy only a few times in a row; a writer
   * that breaks the protocol gets "nothing" rather than a hung reader. */
  for (int tries = 0; tries < 1000; tries++) {
    uint64_t head = atomic_load_explicit(&c->hdr->head, memory_order_acquire);
    if (head == 0) return 0;
    if (echan_copy_slot(c, head - 1, out, &seen)) {
      uint64_t last = atomic_load_explicit(&c->me->pos, memory_order_relaxed);
      atomic_store_explicit(&c->me->pos, head, memory_order_release);
      if (head != last) echan_count(c, 0);
      if (version) *version = head;
      return head == last ? 2 : 1;
    }
  }
  return 0;
}

static inline int echan_recv(struct echan *c, void *out, uint64_t *lost_or_version) {
  return c->kind == ECHAN_LATEST ? echan_recv_latest(c, out, lost_or_version)
                                      : echan_recv_fifo(c, out, lost_or_version);
}

/* Whether a message (fifo) or a value newer than the last read (latest)
 * is there. */
static inline int echan_ready(const struct echan *c) {
  return atomic_load_explicit(&c->hdr->head, memory_order_acquire) !=
         atomic_load_explicit(&c->me->pos, memory_order_relaxed);
}

/* Blocks until echan_ready() (futex; the channel must be declared
 * blocking, or the writer never wakes anybody) or timeout_ns passes
 * (< 0: no timeout).  0 when ready, -ETIMEDOUT, -EINTR. */
static inline int echan_wait(struct echan *c, int64_t timeout_ns) {
  struct timespec ts, *tp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tp = &ts;
  }
  for (;;) {
    if (echan_ready(c)) return 0;
    atomic_store_explicit(&c->me->waiting, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t f = atomic_load_explicit(&c->hdr->futex, memory_order_acquire);
    if (echan_ready(c)) {
      atomic_store_explicit(&c->me->waiting, 0, memory_order_relaxed);
      return 0;
    }
    long rc = echan_futex(&c->hdr->futex, FUTEX_WAIT, f, tp);
    int e = errno;
    atomic_store_explicit(&c->me->waiting, 0, memory_order_relaxed);
    if (rc < 0 && e == ETIMEDOUT) return echan_ready(c) ? 0 : -ETIMEDOUT;
    if (rc < 0 && e == EINTR) return -EINTR;
    /* woken, or the futex moved on (EAGAIN): look again.  A timeout is
     * relative per sleep: a spurious wake-up restarts it (documented). */
  }
}

#endif
