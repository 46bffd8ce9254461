/* clock.c - clocks and sleeping: the realtime clock is near the host's
 * (argv[1] = host time in seconds), the monotonic clock advances, and
 * nanosleep/usleep (poll_oneoff) sleep at least as long as asked. */
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c)
{
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
  long long host = argc > 1 ? atoll(argv[1]) : 0;
  long long now = ns(CLOCK_REALTIME) / 1000000000LL;
  printf("realtime-near-host=%d\n", host == 0 || llabs(now - host) < 60);
  struct timespec res;
  printf("res-ok=%d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0);

  long long t0 = ns(CLOCK_MONOTONIC);
  struct timespec req = {0, 50 * 1000000};
  nanosleep(&req, NULL);
  long long t1 = ns(CLOCK_MONOTONIC);
  usleep(20000);
  long long t2 = ns(CLOCK_MONOTONIC);
  printf("slept-ms=%lld\n", (t1 - t0) / 1000000);
  printf("nanosleep-ok=%d usleep-ok=%d\n", t1 - t0 >= 50000000LL, t2 - t1 >= 20000000LL);
  long long c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
  volatile unsigned x = 0;
  for (unsigned i = 0; i < 1000000; i++) x += i;
  printf("cputime-ok=%d\n", ns(CLOCK_PROCESS_CPUTIME_ID) >= c0);
  printf("time-ok=%d\n", time(NULL) > 1600000000);
  sched_yield();
  printf("yield-ok=1\n");
  return 0;
}
