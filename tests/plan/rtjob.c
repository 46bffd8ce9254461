/* rtjob.c - the periodic container workload of test_realtime.py and
 * bench/plan/switch.sh, built statically at test time against
 * include/edgecr/rt.h so it runs in a busybox rootfs.
 * usage: rtjob NAME PERIOD_US DEADLINE_US BUDGET_US WORK_US
 * Every job spins WORK_US of the thread's own CPU time (so preemption makes
 * it later, not shorter).  Releases are aligned to multiples of the period
 * on CLOCK_MONOTONIC, so containers with equal periods are released
 * together (the synchronous release the analysis assumes). */
#include <stdio.h>
#include <stdlib.h>

#include "edgecr/rt.h"

static int64_t cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t) ts.tv_sec * ERTLOOP_S + ts.tv_nsec;
}

int main(int argc, char **argv)
{
  if (argc != 6) {
    fprintf(stderr, "usage: rtjob NAME PERIOD_US DEADLINE_US BUDGET_US WORK_US\n");
    return 2;
  }
  int64_t period = atoll(argv[2]) * ERTLOOP_US, deadline = atoll(argv[3]) * ERTLOOP_US;
  int64_t budget = atoll(argv[4]) * ERTLOOP_US, work = atoll(argv[5]) * ERTLOOP_US;
  struct ertloop loop;
  if (ertloop_init(&loop, period, deadline, budget, argv[1]) < 0) {
    perror("ertloop_init");
    return 1;
  }
  loop.release_ns = ertloop_now() / period * period; /* first release: the next multiple */
  for (;;) {
    if (ertloop_wait(&loop) < 0) {
      perror("ertloop_wait");
      return 1;
    }
    int64_t end = cpu_now() + work;
    while (cpu_now() < end)
      ;
  }
}
