/* reactor.c - a reactor tenant for tests/integration/test_tenant_activations.py:
 * built with clang --target=wasm32-wasi -mexec-model=reactor, it exports
 * edgecr_activate, which the runtime calls once per schedule.period.
 *
 * TENANT_MODE (environment) selects what an activation does:
 *   count    print "act N T" (N from 1, T = CLOCK_MONOTONIC in ns)
 *   overrun  the same, and every third activation spins without end
 *   sleep    the same, and every activation sleeps TENANT_SLEEP_MS
 *   spin     the same, and every activation spins without end
 *   tsleep   the same, and every activation sleeps TENANT_SLEEP_MS with
 *            the tenant ABI's sleep_until (permission clock)
 *   measure  (bench/wasm-containers/activations.py) odd activations print
 *            "act N T"; even ones spin without end, noting the time as
 *            they go, and the next prints "ran D": how long the spinning
 *            one ran before it was cut
 * TENANT_MAX: after that many activations, exit(0) (0 = never).
 * TENANT_INIT_MS: the constructors (run by _initialize) spin that long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgecr/guest.h"

static int n, max, mode, sleep_ms;
static volatile long long spin_start, spin_last;

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int env_int(const char *k)
{
  const char *v = getenv(k);
  return v ? atoi(v) : 0;
}

__attribute__((constructor)) static void init(void)
{
  const char *m = getenv("TENANT_MODE");
  mode = m == NULL ? 0 : strcmp(m, "overrun") == 0 ? 1 : strcmp(m, "sleep") == 0 ? 2 : strcmp(m, "spin") == 0 ? 3 : strcmp(m, "tsleep") == 0 ? 4 : strcmp(m, "measure") == 0 ? 5 : 0;
  max = env_int("TENANT_MAX");
  sleep_ms = env_int("TENANT_SLEEP_MS");
  long long spin = env_int("TENANT_INIT_MS") * 1000000LL, t0 = now_ns();
  while (now_ns() - t0 < spin) {
  }
  printf("init\n");
  fflush(stdout);
}

static void measure(void)
{
  n++;
  long long t = now_ns();
  if (n % 2 == 0) {
    spin_start = spin_last = t;
    for (;;)
      spin_last = now_ns();
  }
  if (n > 1)
    printf("ran %lld\n", spin_last - spin_start);
  printf("act %d %lld\n", n, t);
  fflush(stdout);
  if (max > 0 && n >= max)
    exit(0);
}

__attribute__((export_name("edgecr_activate"))) void activate(void)
{
  if (mode == 5) {
    measure();
    return;
  }
  n++;
  printf("act %d %lld\n", n, now_ns());
  fflush(stdout);
  if (max > 0 && n >= max)
    exit(0);
  if ((mode == 1 && n % 3 == 0) || mode == 3) {
    volatile unsigned x = 0;
    for (;;)
      x++;
  }
  if (mode == 4)
    edgecr_sleep_until(edgecr_clock_now() + sleep_ms * 1000000LL);
  if (mode == 2) {
    struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}
