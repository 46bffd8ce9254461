/* periodic.c - a periodic real-time workload for the monitor tests, built
 * by tests/plan/test_monitor.py against include/edgecr/rt.h.
 * usage: periodic NAME PERIOD_US DURATION_MS BUSY_US [OVERRUN_EVERY OVERRUN_US]
 * Every job busy-loops BUSY_US; every OVERRUN_EVERY-th job busy-loops
 * OVERRUN_US instead (to force deadline misses). */
#include <stdio.h>
#include <stdlib.h>

#include "edgecr/rt.h"

static void busy(int64_t us)
{
  int64_t end = ertloop_now() + us * ERTLOOP_US;
  while (ertloop_now() < end)
    ;
}

int main(int argc, char **argv)
{
  if (argc < 5) {
    fprintf(stderr, "usage: periodic NAME PERIOD_US DURATION_MS BUSY_US [EVERY OVERRUN_US]\n");
    return 2;
  }
  int64_t period = atoll(argv[2]) * ERTLOOP_US, duration = atoll(argv[3]) * ERTLOOP_MS;
  int64_t work = atoll(argv[4]), every = argc > 6 ? atoll(argv[5]) : 0, overrun = argc > 6 ? atoll(argv[6]) : 0;
  struct ertloop loop;
  if (ertloop_init(&loop, period, 0, work * ERTLOOP_US * 2 + 200 * ERTLOOP_US, argv[1]) < 0)
    return 1;
  int64_t end = ertloop_now() + duration;
  for (int64_t k = 1; ertloop_now() < end; k++) {
    if (ertloop_wait(&loop) < 0)
      return 1;
    busy(every && k % every == 0 ? overrun : work);
  }
  ertloop_finish(&loop);
  return 0;
}
