/* calls.c - the per-call cost of the tenant ABI, measured inside a module
 * (bench/tenant-calls/run.sh runs it with `edgecr wasm run
 * --tenant-metadata`, the clock granted and the log not):
 *   empty   edgecr.abi_version: a host call that needs no permission and
 *           does nothing (the baseline the others are compared to);
 *   clock   edgecr.clock_now, permitted (poll, count, bit test, clock_gettime);
 *   denied  edgecr.log without the log grant (poll, count, bit test,
 *           count denied; the report is rate-limited to one per second);
 *   wasi    WASI clock_time_get, the engine's plain host call reading the
 *           same clock (no tenant check);
 *   loop    the loop alone (no call), for reference.
 * Each op runs N times between two readings of the monotonic clock; one
 * line per op: "op ns_per_call". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "edgecr/guest.h"

static volatile int64_t sink;

static uint64_t now(void)
{
  __wasi_timestamp_t t = 0;
  return __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) == 0 ? t : 0;
}

static void report(const char *op, uint64_t t0, uint64_t t1, long n)
{
  printf("%s %.2f\n", op, (double) (t1 - t0) / (double) n);
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  int64_t acc = 0;
  if (edgecr_clock_now() <= 0 || edgecr_log(EDGECR_LOG_INFO, "x", 1) != EDGECR_EDENIED) {
    fprintf(stderr, "calls: needs the clock granted and the log not\n");
    return 2;
  }
  uint64_t t0 = now();
  for (long i = 0; i < n; i++)
    sink = i; /* a store the compiler must keep: the loop is not folded away */
  report("loop", t0, now(), n);
  t0 = now();
  for (long i = 0; i < n; i++)
    acc += edgecr_abi_version();
  report("empty", t0, now(), n);
  t0 = now();
  for (long i = 0; i < n; i++)
    acc += edgecr_clock_now();
  report("clock", t0, now(), n);
  t0 = now();
  for (long i = 0; i < n; i++)
    acc += edgecr_log(EDGECR_LOG_INFO, "x", 1);
  report("denied", t0, now(), n);
  t0 = now();
  for (long i = 0; i < n; i++) {
    __wasi_timestamp_t t = 0;
    acc += __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) + (int64_t) t;
  }
  report("wasi", t0, now(), n);
  sink = acc;
  return 0;
}
