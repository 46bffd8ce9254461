/* chan_rt.c - the channel round trip between two containers (bench/ipc/
 * run_containers.sh): `chan_rt echo N` echoes N messages from channel
 * `ping` to channel `pong`; `chan_rt ping N` sends N messages (after a
 * tenth more as warm-up) and times each round trip, then prints
 * p50/p99/p99.9/max in microseconds.  Uses only the client header and is
 * linked statically: the container's rootfs is this file.  Channels are
 * the ones the runtime mounted at /run/edgecr/channels; polling or blocking
 * is the channels' declared wait mode. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgecr/channel.h"

#define MSG 64

static int dir(const char *name)
{
  char p[128];
  snprintf(p, sizeof p, "/run/edgecr/channels/%s", name);
  return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void recv1(struct echan *c, unsigned char *m)
{
  while (!echan_recv_fifo(c, m, NULL))
    if (c->wait_mode == ECHAN_WAIT_FUTEX)
      echan_wait(c, -1);
}

static uint64_t ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  uint64_t n = strtoull(argv[2], NULL, 0), warm = n / 10 + 100;
  int ping = strcmp(argv[1], "ping") == 0;
  struct echan tx, rx;
  if ((ping ? echan_attach_writer(&tx, dir("ping")) : echan_attach_own_reader(&rx, dir("ping"))) < 0 ||
      (ping ? echan_attach_own_reader(&rx, dir("pong")) : echan_attach_writer(&tx, dir("pong"))) < 0) {
    fprintf(stderr, "chan_rt: attach failed\n");
    return 3;
  }
  unsigned char m[MSG] = {1};
  if (!ping) {
    for (uint64_t i = 0; i < warm + n; i++) {
      recv1(&rx, m);
      echan_send(&tx, m);
    }
    return 0;
  }
  uint64_t *lat = malloc(n * sizeof *lat);
  for (uint64_t i = 0; i < warm + n; i++) {
    uint64_t t0 = ns();
    echan_send(&tx, m);
    recv1(&rx, m);
    if (i >= warm)
      lat[i - warm] = ns() - t0;
  }
  qsort(lat, n, sizeof *lat, cmp);
  printf("%-12s %9.2f %9.2f %9.2f %10.2f   (%" PRIu64 " round trips, between containers)\n",
         tx.wait_mode == ECHAN_WAIT_FUTEX ? "ctr-futex" : "ctr-poll", lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3,
         lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3, n);
  return 0;
}
