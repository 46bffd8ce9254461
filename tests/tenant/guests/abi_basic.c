/* abi_basic.c - a test tenant for the core of the tenant ABI: it calls the
 * `edgecr` functions named on its command line and prints each result, so
 * the test sees allowed, denied and failed calls as the guest does.
 *
 *   version | log MSG | lograte N | now | wall | sleep N PERIOD_MS | close H */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgecr/guest.h"

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *op = argv[i];
    if (strcmp(op, "version") == 0) {
      printf("version %d\n", (int) edgecr_abi_version());
    } else if (strcmp(op, "log") == 0 && i + 1 < argc) {
      const char *m = argv[++i];
      printf("log %d\n", (int) edgecr_log(EDGECR_LOG_INFO, m, (uint32_t) strlen(m)));
    } else if (strcmp(op, "lograte") == 0 && i + 1 < argc) {
      int n = atoi(argv[++i]), ok = 0, rate = 0;
      for (int k = 0; k < n; k++) {
        int32_t rc = edgecr_log(EDGECR_LOG_DEBUG, "burst", 5);
        ok += rc == EDGECR_OK;
        rate += rc == EDGECR_ERATE;
      }
      printf("lograte ok=%d rate=%d\n", ok, rate);
    } else if (strcmp(op, "badlog") == 0) {
      printf("badlog %d %d\n", (int) edgecr_log(7, "x", 1), (int) edgecr_log(0, (const char *) 0xfffffff0u, 64));
    } else if (strcmp(op, "now") == 0) {
      int64_t t = edgecr_clock_now();
      printf("now %s\n", t > 0 ? "positive" : t == EDGECR_EDENIED ? "denied" : "error");
    } else if (strcmp(op, "wall") == 0) {
      int64_t t = edgecr_clock_wall();
      printf("wall %lld\n", (long long) (t > 0 ? t / 1000000000 : t));
    } else if (strcmp(op, "sleep") == 0 && i + 2 < argc) {
      int n = atoi(argv[++i]);
      int64_t period = (int64_t) atoi(argv[++i]) * 1000000;
      int64_t t0 = edgecr_clock_now(), next = t0;
      int32_t rc = 0;
      for (int k = 0; k < n && rc == 0; k++) {
        next += period;
        rc = edgecr_sleep_until(next);
      }
      int64_t t1 = edgecr_clock_now();
      printf("sleep rc=%d elapsed_ms=%lld\n", (int) rc, (long long) ((t1 - t0) / 1000000));
    } else if (strcmp(op, "close") == 0 && i + 1 < argc) {
      printf("close %d\n", (int) edgecr_close(atoi(argv[++i])));
    } else {
      printf("unknown %s\n", op);
      return 2;
    }
    fflush(stdout);
  }
  return 0;
}
