/* calls_kv.c - the cost of a permitted 16-byte kv get (bench/tenant-calls/
 * run.sh), in a module of its own: a build without the kv service refuses
 * to link its imports, and run.sh then says kv is not available.  Opens
 * the granted namespace "bench", puts a 16-byte value, then gets it N
 * times between two readings of the monotonic clock: "kv ns_per_call". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

#include "edgecr/guest.h"

static volatile int64_t sink;

static uint64_t now(void)
{
  __wasi_timestamp_t t = 0;
  return __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) == 0 ? t : 0;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  int32_t h = edgecr_kv_open("bench", 5);
  uint8_t value[16] = "sixteen bytes!!", out[16];
  if (h < 0 || edgecr_kv_put(h, "key", 3, value, sizeof value) != EDGECR_OK ||
      edgecr_kv_get(h, "key", 3, out, sizeof out) != (int32_t) sizeof value) {
    fprintf(stderr, "calls_kv: kv_open/put/get failed (handle %d)\n", (int) h);
    return 2;
  }
  int64_t acc = 0;
  uint64_t t0 = now();
  for (long i = 0; i < n; i++)
    acc += edgecr_kv_get(h, "key", 3, out, sizeof out);
  uint64_t t1 = now();
  sink = acc + out[0];
  printf("kv %.2f\n", (double) (t1 - t0) / (double) n);
  return 0;
}
