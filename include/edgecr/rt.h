/* edgecr/rt.h - the periodic loop of real-time container code, and the
 * record of every job it runs, for `edgecr monitor`.
 *
 * Header only, no dependency beyond libc: C11 with POSIX.1-2008 (build with
 * -std=gnu11, or -std=c11 -D_POSIX_C_SOURCE=200809L).
 *
 *     #include <edgecr/rt.h>
 *
 *     struct ertloop loop;
 *     ertloop_init(&loop, 10 * ERTLOOP_MS, 0, 2 * ERTLOOP_MS, "ctl");
 *     for (;;) {
 *       ertloop_wait(&loop);   // sleeps until the next release (absolute time)
 *       control_step();        // the job
 *     }
 *
 * Releases are strictly periodic on CLOCK_MONOTONIC: release k is
 * first + k * period, slept to with clock_nanosleep(TIMER_ABSTIME), so
 * lateness never accumulates as drift.  A job that overruns makes the next
 * one start late (recorded as release jitter); no release is skipped.
 *
 * Every finished job is recorded in a shared-memory page: a file whose path
 * the runtime passes in the environment variable EDGECR_RT_SHM (the runtime
 * creates it, maps it into the container and reads it).  Without the
 * variable the loop still runs, it just records nothing.
 *
 * The page (struct ertloop_shm, 4096 bytes, native byte order):
 *   offset  size  field
 *        0     4  magic            "ERTL" (0x4c545245)
 *        4     4  version          1
 *        8     4  size             4096
 *       12     4  ring_len         ERTLOOP_RING (83)
 *       16     8  period_ns, 24: deadline_ns, 32: budget_ns (0 = unknown)
 *       40     4  pid of the writer, 44: flags (reserved, 0)
 *       48     8  jobs             finished jobs; written last (release order)
 *       56     8  misses           jobs that finished after release + deadline
 *       64     8  overruns         jobs that ran longer than budget (start->finish)
 *       72     8  max_response_ns, 80: max_lateness_ns, 88: max_jitter_ns
 *       96   256  response_hist[32] response = finish - release; bucket k counts
 *                                  [2^k, 2^(k+1)) microseconds (k = 0 also < 1us)
 *      352   256  jitter_hist[32]  start - release, same buckets
 *      608    64  name             NUL-terminated
 *      672     8  dl_overruns      SCHED_DEADLINE overruns the kernel signalled
 *                                  (SIGXCPU; the plan sets SCHED_FLAG_DL_OVERRUN)
 *      768  3320  ring[83]         struct ertloop_job, job `seq` at ring[seq % 83]
 * struct ertloop_job (40 bytes): seq+1 (written last; 0 = empty), release_ns,
 * start_ns, finish_ns (CLOCK_MONOTONIC), lateness_ns = finish - (release + deadline).
 *
 * One writer (the loop), any number of readers, no locks: the writer fills
 * a ring slot, then stores its seq, then the `jobs` counter, with release
 * ordering; a reader loads `jobs` with acquire ordering and keeps a slot
 * only when its seq matches the job it expects (a slot being rewritten is
 * skipped).  The counters and histograms cover every job, the ring only
 * the most recent ones. */
#ifndef EDGECR_RT_H
#define EDGECR_RT_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ERTLOOP_US 1000LL
#define ERTLOOP_MS 1000000LL
#define ERTLOOP_S 1000000000LL
#define ERTLOOP_MAGIC 0x4c545245u
#define ERTLOOP_VERSION 1u
#define ERTLOOP_PAGE 4096u
#define ERTLOOP_RING 83u
#define ERTLOOP_HIST 32u
#define ERTLOOP_ENV "EDGECR_RT_SHM"

struct ertloop_job {
  uint64_t seq; /* job number + 1; 0 = never written */
  int64_t release_ns, start_ns, finish_ns, lateness_ns;
};

struct ertloop_shm {
  uint32_t magic, version, size, ring_len;
  int64_t period_ns, deadline_ns, budget_ns;
  int32_t pid;
  uint32_t flags;
  uint64_t jobs, misses, overruns;
  int64_t max_response_ns, max_lateness_ns, max_jitter_ns;
  uint64_t response_hist[ERTLOOP_HIST];
  uint64_t jitter_hist[ERTLOOP_HIST];
  char name[64];
  uint64_t dl_overruns;
  uint8_t reserved[88];
  struct ertloop_job ring[ERTLOOP_RING];
  uint8_t tail[8];
};

_Static_assert(sizeof(struct ertloop_shm) == ERTLOOP_PAGE, "ertloop_shm is one 4 KiB page");
_Static_assert(offsetof(struct ertloop_shm, jobs) == 48, "layout");
_Static_assert(offsetof(struct ertloop_shm, response_hist) == 96, "layout");
_Static_assert(offsetof(struct ertloop_shm, name) == 608, "layout");
_Static_assert(offsetof(struct ertloop_shm, ring) == 768, "layout");
_Static_assert(offsetof(struct ertloop_shm, dl_overruns) == 672, "layout");

/* The page the SIGXCPU handler counts into (one loop per process). */
static struct ertloop_shm *ertloop_signal_page;

static inline void ertloop_on_overrun(int sig)
{
  (void) sig;
  struct ertloop_shm *s = ertloop_signal_page;
  if (s != NULL)
    __atomic_fetch_add(&s->dl_overruns, 1, __ATOMIC_RELAXED);
}

/* edgecr starts a process whose deadline reservation has
 * SCHED_FLAG_DL_OVERRUN with SIGXCPU ignored; the loop then counts the
 * kernel's overrun signals.  A disposition the program chose is left alone. */
static inline void ertloop_count_overruns(struct ertloop_shm *s)
{
  struct sigaction old;
  if (s == NULL || sigaction(SIGXCPU, NULL, &old) < 0 || old.sa_handler != SIG_IGN)
    return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ertloop_on_overrun;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ertloop_signal_page = s;
  sigaction(SIGXCPU, &sa, NULL);
}

struct ertloop {
  int64_t period_ns, deadline_ns, budget_ns;
  int64_t release_ns;  /* release of the current job */
  int64_t start_ns;    /* its start, 0 before the first job */
  uint64_t jobs;
  struct ertloop_shm *shm;
};

static inline int64_t ertloop_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * ERTLOOP_S + ts.tv_nsec;
}

static inline unsigned ertloop_bucket(int64_t ns)
{
  uint64_t us = ns > 0 ? (uint64_t) ns / 1000u : 0;
  unsigned k = 0;
  while (us > 1 && k < ERTLOOP_HIST - 1) {
    us >>= 1;
    k++;
  }
  return k;
}

/* Map the page named by EDGECR_RT_SHM (created if missing).  Returns the
 * mapping or NULL (no variable, or the file cannot be used). */
static inline struct ertloop_shm *ertloop_map(void)
{
  const char *path = getenv(ERTLOOP_ENV);
  if (path == NULL || *path == '\0')
    return NULL;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return NULL;
  if (ftruncate(fd, ERTLOOP_PAGE) < 0) {
    close(fd);
    return NULL;
  }
  void *p = mmap(NULL, ERTLOOP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  return p == MAP_FAILED ? NULL : (struct ertloop_shm *) p;
}

/* period_ns > 0; deadline_ns 0 = period; budget_ns 0 = unknown (no overrun
 * accounting); name for the monitor (may be NULL).  The first release is
 * now.  Returns 0, or -1 with errno EINVAL. */
static inline int ertloop_init(struct ertloop *l, int64_t period_ns, int64_t deadline_ns,
                               int64_t budget_ns, const char *name)
{
  if (period_ns <= 0 || deadline_ns < 0 || budget_ns < 0) {
    errno = EINVAL;
    return -1;
  }
  memset(l, 0, sizeof *l);
  l->period_ns = period_ns;
  l->deadline_ns = deadline_ns ? deadline_ns : period_ns;
  l->budget_ns = budget_ns;
  l->release_ns = ertloop_now() - period_ns; /* so the first wait releases at once */
  l->shm = ertloop_map();
  struct ertloop_shm *s = l->shm;
  if (s) {
    memset(s, 0, sizeof *s);
    s->version = ERTLOOP_VERSION;
    s->size = ERTLOOP_PAGE;
    s->ring_len = ERTLOOP_RING;
    s->period_ns = l->period_ns;
    s->deadline_ns = l->deadline_ns;
    s->budget_ns = l->budget_ns;
    s->pid = (int32_t) getpid();
    if (name)
      strncpy(s->name, name, sizeof s->name - 1);
    __atomic_store_n(&s->magic, ERTLOOP_MAGIC, __ATOMIC_RELEASE);
    ertloop_count_overruns(s);
  }
  return 0;
}

/* Record the job that just finished (internal; ertloop_wait calls it). */
static inline void ertloop_record(struct ertloop *l, int64_t finish_ns)
{
  struct ertloop_shm *s = l->shm;
  int64_t response = finish_ns - l->release_ns, jitter = l->start_ns - l->release_ns;
  int64_t lateness = finish_ns - (l->release_ns + l->deadline_ns);
  if (s == NULL) {
    l->jobs++;
    return;
  }
  struct ertloop_job *j = &s->ring[l->jobs % ERTLOOP_RING];
  __atomic_store_n(&j->seq, 0, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  j->release_ns = l->release_ns;
  j->start_ns = l->start_ns;
  j->finish_ns = finish_ns;
  j->lateness_ns = lateness;
  __atomic_store_n(&j->seq, l->jobs + 1, __ATOMIC_RELEASE);
  if (lateness > 0)
    s->misses++;
  if (l->budget_ns && finish_ns - l->start_ns > l->budget_ns)
    s->overruns++;
  if (response > s->max_response_ns)
    s->max_response_ns = response;
  if (l->jobs == 0 || lateness > s->max_lateness_ns)
    s->max_lateness_ns = lateness;
  if (jitter > s->max_jitter_ns)
    s->max_jitter_ns = jitter;
  s->response_hist[ertloop_bucket(response)]++;
  s->jitter_hist[ertloop_bucket(jitter)]++;
  l->jobs++;
  __atomic_store_n(&s->jobs, l->jobs, __ATOMIC_RELEASE);
}

/* End the current job (if any) and sleep until the next release.
 * Returns 0, or -1 with errno from clock_nanosleep. */
static inline int ertloop_wait(struct ertloop *l)
{
  if (l->start_ns)
    ertloop_record(l, ertloop_now());
  l->release_ns += l->period_ns;
  struct timespec at = {.tv_sec = l->release_ns / ERTLOOP_S, .tv_nsec = l->release_ns % ERTLOOP_S};
  int r;
  while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL)) == EINTR)
    ;
  l->start_ns = ertloop_now();
  if (r != 0) {
    errno = r;
    return -1;
  }
  return 0;
}

/* Record the last job and unmap the page. */
static inline void ertloop_finish(struct ertloop *l)
{
  if (l->start_ns)
    ertloop_record(l, ertloop_now());
  l->start_ns = 0;
  if (l->shm)
    munmap(l->shm, ERTLOOP_PAGE);
  l->shm = NULL;
}

#endif
