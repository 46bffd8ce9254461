/* bench_assign.c - time the automatic core assignment of large plans:
 * N unpinned SCHED_FIFO containers (periods 1..100 ms, constrained
 * deadlines, total utilisation a given share of the cores) and, with a
 * non-zero share, some small deadline reservations.  Prints the time of
 * plan_analyse (assignment plus every exact test) apart from parsing, and
 * whether every core's final (from scratch) verdict agrees with the
 * assignment.  bench/plan/assign.sh drives it; no timed test uses it.
 * Usage: bench_plan_assign N CORES [LOAD [DL_SHARE [REPS [ASSIGNMENT]]]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "model.h"
#include "util.h"

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static double frand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double) (rng >> 11) / 9007199254740992.0;
}

static char *make_config(int n, int cores, double load, double dl_share, const char *assignment)
{
  static const int periods_ms[] = {1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50, 100};
  size_t cap = 256 + (size_t) n * 160, len = 0;
  char *s = xmalloc0(cap);
  len += (size_t) sprintf(s + len, "name: bench\nnode:\n  cores: %d\n  rt_runtime: 1s\n  assignment: %s\ncontainers:\n",
                          cores, assignment);
  double u_each = load * cores / n;
  for (int i = 0; i < n; i++) {
    int t = periods_ms[(int) (frand() * 12)];
    double u = u_each * (0.2 + 1.6 * frand());
    long long c_us = (long long) (u * t * 1000);
    if (c_us < 1)
      c_us = 1;
    long long d_us = c_us + (long long) ((t * 1000 - c_us) * (0.6 + 0.4 * frand()));
    bool dl = frand() < dl_share;
    if (dl) {
      t = 100;
      c_us = 20;
      d_us = 100000;
    }
    len += (size_t) sprintf(s + len, "  - {name: c%d, bundle: b, rt: {policy: %s, period: %dms, budget: %lldus, "
                            "deadline: %lldus}}\n", i, dl ? "deadline" : "fixed-priority", t, c_us, d_us);
  }
  return s;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s N CORES [LOAD [DL_SHARE [REPS [auto|first-fit|worst-fit]]]]\n", argv[0]);
    return 1;
  }
  int n = atoi(argv[1]), cores = atoi(argv[2]);
  double load = argc > 3 ? atof(argv[3]) : 0.7, dl_share = argc > 4 ? atof(argv[4]) : 0;
  int reps = argc > 5 ? atoi(argv[5]) : 3;
  cleanup_free char *text = make_config(n, cores, load, dl_share, argc > 6 ? argv[6] : "auto");
  double best = 1e30, parse = 0;
  const char *how = "";
  bool schedulable = false;
  for (int r = 0; r < reps; r++) {
    edgecr_error_t err = NULL;
    struct plan_config *c = NULL;
    struct plan_analysis *a = NULL;
    unsigned long long t0 = now_ns();
    if (plan_config_parse("bench.yaml", text, strlen(text), false, &c, &err) < 0) {
      fprintf(stderr, "%s\n", err->msg);
      return 1;
    }
    unsigned long long t1 = now_ns();
    plan_analyse(c, &a, &err);
    unsigned long long t2 = now_ns();
    parse = (double) (t1 - t0) / 1e6;
    if ((double) (t2 - t1) / 1e6 < best)
      best = (double) (t2 - t1) / 1e6;
    schedulable = a->schedulable;
    how = a->assignment;
    plan_analysis_free(a);
    plan_config_free(c);
  }
  printf("containers=%d cores=%d load=%.2f dl_share=%.2f parse_ms=%.1f assign_ms=%.1f schedulable=%s "
         "assignment=\"%s\"\n", n, cores, load, dl_share, parse, best, schedulable ? "yes" : "no", how);
  return 0;
}
