/* chantest.c - drives include/edgecr/channel.h for tests/channel/test_channel.py:
 * every subcommand is one end of a channel (or a runtime step), checks what
 * it receives and prints one line "key=value ..." for the test to assert on.
 *
 * Messages of the fifo tests: u64 seq, u64 checksum, then bytes
 * (seq + 7*i) & 0xff: a torn or mixed message fails the pattern or the
 * checksum.  Latest values: every u64 word holds the version. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chanlib.h"

static void die(const char *what, int rc)
{
  fprintf(stderr, "chantest: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
  exit(2);
}

static void pin(const char *cpu)
{
  if (!cpu || atoi(cpu) < 0)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(atoi(cpu), &set);
  sched_setaffinity(0, sizeof set, &set); /* best effort: one core still works */
}

static int open_dir(const char *dir, const char *name)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    die(path, errno);
  return fd;
}

static uint64_t sum_of(const unsigned char *p, size_t n)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void fill(unsigned char *m, size_t size, uint64_t seq)
{
  for (size_t i = 16; i < size; i++)
    m[i] = (unsigned char)(seq + 7 * i);
  uint64_t sum = sum_of(m + 16, size - 16);
  memcpy(m, &seq, 8);
  memcpy(m + 8, &sum, 8);
}

/* 1 when m is an intact message, its seq in *seq. */
static int intact(const unsigned char *m, size_t size, uint64_t *seq)
{
  uint64_t sum;
  memcpy(seq, m, 8);
  memcpy(&sum, m + 8, 8);
  for (size_t i = 16; i < size; i++)
    if (m[i] != (unsigned char)(*seq + 7 * i))
      return 0;
  return sum == sum_of(m + 16, size - 16);
}

static uint64_t now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* create DIR NAME fifo|latest MSG DEPTH READERS poll|futex fail|overwrite|- */
static int cmd_create(char **a)
{
  json_error_t je;
  char js[512];
  snprintf(js, sizeof js,
           "{\"name\":\"%s\",\"kind\":\"%s\",\"message_size\":%s,\"depth\":%s,\"writers\":1,"
           "\"readers\":%s,\"wait\":\"%s\"%s%s%s}",
           a[1], a[2], a[3], a[4], a[5], a[6], strcmp(a[7], "-") ? ",\"full\":\"" : "",
           strcmp(a[7], "-") ? a[7] : "", strcmp(a[7], "-") ? "\"" : "");
  json_t *j = json_loads(js, 0, &je);
  struct edgecr_channel_decl d;
  edgecr_error_t err = NULL;
  if (!j || edgecr_channel_decl_from_json(j, "cmdline", &d, &err) < 0 || edgecr_channel_create(a[0], &d, &err) < 0) {
    fprintf(stderr, "%s\n", err ? err->msg : "bad json");
    return 1;
  }
  json_decref(j);
  return 0;
}

static int cmd_validate(char **a)
{
  edgecr_error_t err = NULL;
  if (edgecr_channel_validate(a[0], a[1], &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
  }
  return 0;
}

static int cmd_remove(char **a)
{
  edgecr_error_t err = NULL;
  if (edgecr_channel_remove(a[0], a[1], &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
  }
  return 0;
}

/* write DIR NAME COUNT CPU [PAUSE_EVERY PAUSE_US]: COUNT 0 = forever.
 * The seq of a message is its index in the channel (head), so a restarted
 * writer goes on numbering where the last one stopped. */
static int cmd_write(char **a, int n)
{
  struct echan c;
  int rc = echan_attach_writer(&c, open_dir(a[0], a[1]));
  if (rc < 0)
    die("attach writer", rc);
  pin(a[3]);
  uint64_t count = strtoull(a[2], NULL, 0), every = n > 4 ? strtoull(a[4], NULL, 0) : 0;
  unsigned pause_us = n > 5 ? (unsigned)atoi(a[5]) : 0;
  unsigned char m[ECHAN_MAX_MSG > 65536 ? 65536 : ECHAN_MAX_MSG];
  uint64_t sent = 0, full = 0;
  while (count == 0 || sent < count) {
    fill(m, c.hdr->msg_size, atomic_load(&c.hdr->head));
    if (echan_send(&c, m) < 0) {
      full++;
      continue;
    }
    sent++;
    if (every && sent % every == 0)
      usleep(pause_us);
  }
  printf("sent=%" PRIu64 " full=%" PRIu64 " head=%" PRIu64 "\n", sent, full, atomic_load(&c.hdr->head));
  return 0;
}

/* read DIR NAME INDEX COUNT CPU wait|poll [PAUSE_EVERY PAUSE_US] [IDLE_MS]:
 * reads until it has seen message COUNT-1 (or, with IDLE_MS, until nothing
 * came for that long), checking every message and the seq order. */
static int cmd_read(char **a, int n)
{
  struct echan c;
  int rc = echan_attach_reader(&c, open_dir(a[0], a[1]), (uint32_t)atoi(a[2]));
  if (rc < 0)
    die("attach reader", rc);
  pin(a[4]);
  uint64_t count = strtoull(a[3], NULL, 0), every = n > 6 ? strtoull(a[6], NULL, 0) : 0;
  unsigned pause_us = n > 7 ? (unsigned)atoi(a[7]) : 0;
  uint64_t idle_ns = n > 8 ? strtoull(a[8], NULL, 0) * 1000000ull : 0;
  int block = strcmp(a[5], "wait") == 0;
  unsigned char m[65536];
  uint64_t expect = atomic_load(&c.me->pos), got = 0, lost = 0, bad = 0, disorder = 0, timeouts = 0;
  uint64_t last = now();
  while (expect < count || count == 0) {
    uint64_t l = 0;
    int r = echan_recv(&c, m, &l);
    if (r == 0) {
      if (block) {
        int w = echan_wait(&c, idle_ns ? (int64_t)idle_ns : 2000000000);
        if (w == -ETIMEDOUT) {
          timeouts++;
          if (idle_ns || timeouts > 3)
            break;
        }
      } else if (idle_ns && now() - last > idle_ns) {
        break;
      }
      continue;
    }
    last = now();
    lost += l;
    expect += l;
    uint64_t seq;
    if (!intact(m, c.hdr->msg_size, &seq))
      bad++;
    else if (seq != expect)
      disorder++;
    expect = seq + 1;
    got++;
    if (every && got % every == 0)
      usleep(pause_us);
  }
  printf("got=%" PRIu64 " lost=%" PRIu64 " bad=%" PRIu64 " disorder=%" PRIu64 " pos=%" PRIu64
         " page_lost=%" PRIu64 " timeouts=%" PRIu64 " head=%" PRIu64 " full_fails=%" PRIu64
         " max_fill=%" PRIu64 "\n",
         got, lost, bad, disorder, atomic_load(&c.me->pos), atomic_load(&c.me->lost), timeouts,
         atomic_load(&c.hdr->head), atomic_load(&c.hdr->full_fails), atomic_load(&c.hdr->max_fill));
  return 0;
}

/* latest-write DIR NAME COUNT CPU: versions 1..COUNT, every word = version. */
static int cmd_latest_write(char **a)
{
  struct echan c;
  int rc = echan_attach_writer(&c, open_dir(a[0], a[1]));
  if (rc < 0)
    die("attach writer", rc);
  pin(a[3]);
  uint64_t count = strtoull(a[2], NULL, 0), m[8192];
  size_t words = c.hdr->msg_size / 8;
  for (uint64_t v = atomic_load(&c.hdr->head) + 1; count == 0 || v <= count; v++) {
    for (size_t i = 0; i < words; i++)
      m[i] = v;
    echan_send(&c, m);
  }
  printf("head=%" PRIu64 "\n", atomic_load(&c.hdr->head));
  return 0;
}

/* latest-read DIR NAME INDEX LAST CPU [MS]: reads until it gets version LAST
 * (or for MS milliseconds, default 15000);
 * counts mixed values and versions going backwards. */
static int cmd_latest_read(char **a)
{
  struct echan c;
  int rc = echan_attach_reader(&c, open_dir(a[0], a[1]), (uint32_t)atoi(a[2]));
  if (rc < 0)
    die("attach reader", rc);
  pin(a[4]);
  uint64_t lastv = strtoull(a[3], NULL, 0), m[8192], prev = 0, reads = 0, mixed = 0, back = 0, fresh = 0;
  size_t words = c.hdr->msg_size / 8;
  uint64_t deadline = now() + 1000000ull * (a[5] ? strtoull(a[5], NULL, 0) : 15000);
  while (prev < lastv && now() < deadline) {
    uint64_t v = 0;
    int r = echan_recv(&c, m, &v);
    if (r == 0)
      continue;
    reads++;
    fresh += r == 1;
    for (size_t i = 0; i < words; i++)
      if (m[i] != v) {
        mixed++;
        break;
      }
    if (v < prev)
      back++;
    prev = v;
  }
  printf("reads=%" PRIu64 " fresh=%" PRIu64 " mixed=%" PRIu64 " backwards=%" PRIu64 " last=%" PRIu64 "\n", reads,
         fresh, mixed, back, prev);
  return 0;
}

/* ro-write DIR NAME INDEX: a reader writes into the data it maps: the
 * process must die of SIGSEGV (exit 0 would mean the write went through). */
static int cmd_ro_write(char **a)
{
  struct echan c;
  int rc = echan_attach_reader(&c, open_dir(a[0], a[1]), (uint32_t)atoi(a[2]));
  if (rc < 0)
    die("attach reader", rc);
  c.me->lost = 0; /* its own page: allowed */
  printf("own page written\n");
  fflush(stdout);
  c.slots[0] = 1; /* the data: read-only */
  printf("data written\n");
  return 0;
}

/* blast DIR NAME CPU: writes forever from 256 prepared messages (pattern
 * by seq & 0xff), so that nearly all its time is spent copying into the
 * slot: a SIGKILL then most often lands in the middle of a copy. */
static unsigned char templates[256][32768];
static int cmd_blast(char **a)
{
  struct echan c;
  int rc = echan_attach_writer(&c, open_dir(a[0], a[1]));
  if (rc < 0)
    die("attach writer", rc);
  size_t size = c.hdr->msg_size;
  if (size > sizeof templates[0])
    die("blast: message too large", EINVAL);
  pin(a[2]);
  for (unsigned t = 0; t < 256; t++)
    fill(templates[t], size, t);
  printf("ready\n");
  for (volatile int forever = 1; forever;) {
    uint64_t seq = atomic_load_explicit(&c.hdr->head, memory_order_relaxed);
    unsigned char *m = templates[seq & 0xff];
    memcpy(m, &seq, 8); /* the checksum covers bytes 16.. only */
    echan_send(&c, m);
  }
  return 0;
}

/* state DIR NAME: head, and whether the slot of the next message is
 * marked as being written (a writer died in the middle of a copy). */
static int cmd_state(char **a)
{
  struct echan c;
  int rc = echan_attach_reader(&c, open_dir(a[0], a[1]), 0);
  if (rc < 0)
    die("attach reader", rc);
  uint64_t head = atomic_load(&c.hdr->head);
  uint64_t seq = atomic_load(&echan_slot_at(&c, head)->seq);
  printf("head=%" PRIu64 " torn_slot=%d\n", head, seq == 2 * head + 1);
  return 0;
}

/* hostile DIR NAME: a writer that breaks the protocol after the readers
 * attached: a huge depth and message size in the header, head far ahead
 * of slots that were never written. */
static int cmd_hostile(char **a)
{
  struct echan c;
  int rc = echan_attach_writer(&c, open_dir(a[0], a[1]));
  if (rc < 0)
    die("attach writer", rc);
  for (uint32_t i = 0; i < c.hdr->depth; i++)
    atomic_store(&echan_slot_at(&c, i)->seq, 0);
  c.hdr->depth = 0xffffffffu;
  c.hdr->msg_size = 0xffffffffu;
  c.hdr->slot_stride = 0xfffffff8u;
  atomic_store(&c.hdr->head, 1000);
  printf("head=1000\n");
  return 0;
}

/* attach DIR NAME writer|INDEX: prints the attach result (0 or -errno). */
static int cmd_attach(char **a)
{
  struct echan c;
  int rc = strcmp(a[2], "writer") == 0 ? echan_attach_writer(&c, open_dir(a[0], a[1]))
                                       : echan_attach_reader(&c, open_dir(a[0], a[1]), (uint32_t)atoi(a[2]));
  printf("rc=%d\n", rc);
  if (rc == 0)
    echan_detach(&c);
  return 0;
}

/* pingpong DIR A B CPU_A CPU_B COUNT: round trips over channel A (there)
 * and B (back), blocking; a lost wake-up shows as a 2 s timeout. */
static int cmd_pingpong(char **a)
{
  int da = open_dir(a[0], a[1]), db = open_dir(a[0], a[2]);
  uint64_t count = strtoull(a[5], NULL, 0), m[8] = {0}, timeouts = 0, wrong = 0;
  pid_t pid = fork();
  struct echan tx, rx;
  int rc;
  if (pid == 0) {
    pin(a[4]);
    if ((rc = echan_attach_reader(&rx, da, 0)) < 0 || (rc = echan_attach_writer(&tx, db)) < 0)
      die("attach (echo)", rc);
    for (uint64_t i = 0; i < count; i++) {
      while (echan_recv(&rx, m, NULL) == 0)
        if (echan_wait(&rx, 2000000000) == -ETIMEDOUT)
          _exit(3);
      echan_send(&tx, m);
    }
    _exit(0);
  }
  pin(a[3]);
  if ((rc = echan_attach_writer(&tx, da)) < 0 || (rc = echan_attach_reader(&rx, db, 0)) < 0)
    die("attach", rc);
  for (uint64_t i = 0; i < count; i++) {
    m[0] = i;
    echan_send(&tx, m);
    while (echan_recv(&rx, m, NULL) == 0)
      if (echan_wait(&rx, 2000000000) == -ETIMEDOUT) {
        timeouts++;
        kill(pid, SIGKILL);
        goto out;
      }
    wrong += m[0] != i;
  }
out:;
  int st = 0;
  waitpid(pid, &st, 0);
  printf("timeouts=%" PRIu64 " wrong=%" PRIu64 " echo_status=%d\n", timeouts, wrong, st);
  return 0;
}

int main(int argc, char **argv)
{
  static const struct {
    const char *name;
    int args;
    int (*fn)(char **, int);
  } cmds[] = {
      {"create", 8, NULL}, {"validate", 2, NULL},     {"remove", 2, NULL},      {"write", 4, cmd_write},
      {"read", 6, cmd_read}, {"latest-write", 4, NULL}, {"latest-read", 5, NULL}, {"ro-write", 3, NULL},
      {"pingpong", 6, NULL}, {"blast", 3, NULL}, {"state", 2, NULL},
      {"attach", 3, NULL}, {"hostile", 2, NULL},
  };
  static int (*const simple[])(char **) = {cmd_create, cmd_validate, cmd_remove, NULL, NULL,
                                            cmd_latest_write, cmd_latest_read, cmd_ro_write, cmd_pingpong,
                                            cmd_blast, cmd_state, cmd_attach, cmd_hostile};
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (size_t i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++) {
    if (strcmp(argv[1], cmds[i].name) != 0)
      continue;
    if (argc - 2 < cmds[i].args)
      break;
    return cmds[i].fn ? cmds[i].fn(argv + 2, argc - 2) : simple[i](argv + 2);
  }
  fprintf(stderr, "usage: chantest create|validate|remove|write|read|latest-write|latest-read|ro-write|pingpong|blast|state|attach|hostile ...\n");
  return 2;
}
