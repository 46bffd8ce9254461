/* pollfd.c - poll() on stdin (poll_oneoff with an fd_read subscription and
 * a clock timeout): prints whether stdin became readable within argv[1] ms
 * and how long the call took. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
  int timeout_ms = argc > 1 ? atoi(argv[1]) : 1000;
  struct pollfd p = {.fd = 0, .events = POLLIN};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int n = poll(&p, 1, timeout_ms);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  printf("n=%d readable=%d waited_ms=%ld\n", n, (p.revents & POLLIN) ? 1 : 0, ms);
  if (n == 1) {
    char buf[64] = {0};
    fgets(buf, sizeof buf, stdin);
    printf("read=%s", buf);
  }
  return 0;
}
