/* chanctr.c - one end of a channel, run inside a container by
 * tests/channel/test_channel_containers.py and tests/plan/test_plan_channels_run.py.
 * Uses only the client header include/edgecr/channel.h (no runtime code)
 * and is linked statically, so a rootfs of busybox and this file is
 * enough.  Channels are found where the runtime mounts them:
 * /run/edgecr/channels/NAME (or $CHANCTR_DIR/NAME).
 *
 *   chanctr send NAME FIRST COUNT     send messages FIRST..FIRST+COUNT-1
 *                                     (u64 seq, then seq-derived bytes), waiting
 *                                     while the queue is full
 *   chanctr recv NAME INDEX COUNT [TIMEOUT_S]
 *                                     as reader INDEX ("own": the page this
 *                                     container may write), receive COUNT messages and
 *                                     check each one; prints first=, last=, lost=
 *   chanctr open-rw NAME FILE         try to open FILE of the channel read-write
 *   chanctr poke NAME INDEX           as reader INDEX: use the own page (prints
 *                                     "index-ok"), then write into the message
 *                                     data (a correct mapping kills us: SIGSEGV)
 *
 * Prints one line "key=value ..." for the test; exit 2 on a failure. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgecr/channel.h"

static void die(const char *what, int rc)
{
  printf("error=%s errno=%d (%s)\n", what, rc < 0 ? -rc : rc, strerror(rc < 0 ? -rc : rc));
  fflush(stdout);
  exit(2);
}

static int open_channel(const char *name)
{
  const char *dir = getenv("CHANCTR_DIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "/run/edgecr/channels", name);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    die("open-channel", errno);
  return fd;
}

/* INDEX "own": the one reader page this container may write. */
static int attach_reader(struct echan *c, const char *name, const char *index)
{
  int dfd = open_channel(name);
  return strcmp(index, "own") == 0 ? echan_attach_own_reader(c, dfd) : echan_attach_reader(c, dfd, (uint32_t)atoi(index));
}

static void fill(unsigned char *m, uint32_t size, uint64_t seq)
{
  memcpy(m, &seq, size < 8 ? size : 8);
  for (uint32_t i = 8; i < size; i++)
    m[i] = (unsigned char)(seq * 31 + i);
}

static int check(const unsigned char *m, uint32_t size, uint64_t *seq)
{
  *seq = 0;
  memcpy(seq, m, size < 8 ? size : 8);
  for (uint32_t i = 8; i < size; i++)
    if (m[i] != (unsigned char)(*seq * 31 + i))
      return 0;
  return 1;
}

static int cmd_send(char **argv)
{
  struct echan c;
  int rc = echan_attach_writer(&c, open_channel(argv[0]));
  if (rc < 0)
    die("attach-writer", rc);
  uint64_t first = strtoull(argv[1], NULL, 0), count = strtoull(argv[2], NULL, 0);
  unsigned char m[1 << 16];
  if (c.msg_size > sizeof m)
    die("message-size", EINVAL);
  for (uint64_t s = first; s < first + count; s++) {
    fill(m, c.msg_size, s);
    while (echan_send(&c, m) == -EAGAIN)
      usleep(100);
  }
  printf("sent=%" PRIu64 " head=%" PRIu64 "\n", count, (uint64_t)atomic_load(&c.hdr->head));
  return 0;
}

static int cmd_recv(char **argv, int argc)
{
  struct echan c;
  int rc = attach_reader(&c, argv[0], argv[1]);
  if (rc < 0)
    die("attach-reader", rc);
  uint64_t count = strtoull(argv[2], NULL, 0), got = 0, lost = 0, first = 0, last = 0, seq, l;
  time_t end = time(NULL) + (argc > 3 ? atoi(argv[3]) : 30);
  unsigned char m[1 << 16];
  while (got < count) {
    int r = echan_recv(&c, m, &l);
    if (r == 0) {
      if (time(NULL) > end)
        break;
      if (c.wait_mode == ECHAN_WAIT_FUTEX)
        echan_wait(&c, 100000000);
      else
        usleep(50);
      continue;
    }
    lost += c.kind == ECHAN_FIFO ? l : 0;
    if (!check(m, c.msg_size, &seq))
      die("torn-message", EBADMSG);
    if (got > 0 && c.kind == ECHAN_FIFO && seq != last + 1 + l)
      die("out-of-order", EILSEQ);
    if (got == 0)
      first = seq;
    last = seq;
    got++;
  }
  printf("received=%" PRIu64 " first=%" PRIu64 " last=%" PRIu64 " lost=%" PRIu64 "\n", got, first, last, lost);
  return got == count ? 0 : 2;
}

static int cmd_open_rw(char **argv)
{
  int dfd = open_channel(argv[0]);
  int fd = openat(dfd, argv[1], O_RDWR | O_CLOEXEC);
  printf("open_rw=%s errno=%d\n", fd >= 0 ? "ok" : "refused", fd >= 0 ? 0 : errno);
  return 0;
}

static int cmd_poke(char **argv)
{
  struct echan c;
  int rc = echan_attach_reader(&c, open_channel(argv[0]), (uint32_t)atoi(argv[1]));
  if (rc < 0)
    die("attach-reader", rc);
  atomic_store(&c.me->pos, atomic_load(&c.me->pos)); /* a write into the own page */
  printf("index-ok\n");
  fflush(stdout);
  ((volatile unsigned char *)c.slots)[0] = 0xff; /* must fault */
  printf("data-written\n");
  return 0;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 5 && strcmp(argv[1], "send") == 0)
    return cmd_send(argv + 2);
  if (argc >= 5 && strcmp(argv[1], "recv") == 0)
    return cmd_recv(argv + 2, argc - 2);
  if (argc >= 4 && strcmp(argv[1], "open-rw") == 0)
    return cmd_open_rw(argv + 2);
  if (argc >= 4 && strcmp(argv[1], "poke") == 0)
    return cmd_poke(argv + 2);
  fprintf(stderr, "usage: chanctr send|recv|open-rw|poke ...\n");
  return 2;
}
