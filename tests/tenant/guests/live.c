/* live.c - a test tenant for live metadata updates: it calls edgecr.log
 * and edgecr.clock_now every few milliseconds, forever, and prints a line
 * on stdout whenever the outcome of either changes ("log=ok clock=denied"),
 * so a test sees a grant or a revocation take effect without a restart.
 * Its pauses are WASI sleeps, which need no tenant permission. */
#include <stdio.h>
#include <time.h>

#include "edgecr/guest.h"

int main(void)
{
  int last_log = 1, last_clock = 1; /* neither 0 (ok) nor EDGECR_EDENIED: the first line always prints */
  for (unsigned long i = 0;; i++) {
    int log_rc = (int) edgecr_log(EDGECR_LOG_INFO, "tick", 4);
    int64_t t = edgecr_clock_now();
    int clock_rc = t > 0 ? 0 : (int) t;
    if (log_rc != last_log || clock_rc != last_clock) {
      printf("call %lu: log=%s clock=%s\n", i, log_rc == 0 ? "ok" : log_rc == EDGECR_EDENIED ? "denied" : "error",
             clock_rc == 0 ? "ok" : clock_rc == EDGECR_EDENIED ? "denied" : "error");
      fflush(stdout);
      last_log = log_rc;
      last_clock = clock_rc;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
