/* bench_analysis.c - time the analysis of a large configuration: N
 * unpinned containers (random periods 1..100ms, utilisation drawn so the
 * total is a given share of the real-time cores) assigned to C cores with
 * the exact test per core, plus 1% small deadline reservations (20us per
 * 100ms: every reservation interferes with every fixed-priority task on
 * every core, so a realistic node has few of them; docs/plan.md section 2).
 * Prints parse and analysis times; bench/plan/run.sh drives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "model.h"
#include "util.h"

static unsigned long long rng = 88172645463325252ULL;
static double frand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double) (rng >> 11) / 9007199254740992.0;
}

static char *make_config(int n, int cores, double load)
{
  static const int periods_ms[] = {1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50, 100};
  size_t cap = 256 + (size_t) n * 160, len = 0;
  char *s = xmalloc0(cap);
  len += (size_t) sprintf(s + len, "name: bench\nnode:\n  cores: %d\ncontainers:\n", cores);
  double u_each = load * cores / n;
  for (int i = 0; i < n; i++) {
    int t = periods_ms[(int) (frand() * 12)];
    double u = u_each * (0.4 + 1.2 * frand());
    long long c_us = (long long) (u * t * 1000);
    if (c_us < 1)
      c_us = 1;
    long long d_us = c_us + (long long) ((t * 1000 - c_us) * (0.7 + 0.3 * frand()));
    bool dl = frand() < 0.01;
    if (dl) {
      t = 100;
      c_us = 20;
      d_us = 100000;
    }
    len += (size_t) sprintf(s + len, "  - {name: c%d, bundle: b, rt: {policy: %s, period: %dms, budget: %lldus, deadline: %lldus}}\n",
                            i, dl ? "deadline" : "fixed-priority", t, c_us, d_us);
  }
  return s;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 1000, cores = argc > 2 ? atoi(argv[2]) : 16;
  double load = argc > 3 ? atof(argv[3]) : 0.7;
  int reps = argc > 4 ? atoi(argv[4]) : 5;
  cleanup_free char *text = make_config(n, cores, load);
  double best_parse = 1e30, best_analyse = 1e30;
  bool schedulable = false;
  const char *how = "";
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
    best_parse = (t1 - t0) / 1e6 < best_parse ? (t1 - t0) / 1e6 : best_parse;
    best_analyse = (t2 - t1) / 1e6 < best_analyse ? (t2 - t1) / 1e6 : best_analyse;
    schedulable = a->schedulable;
    how = a->assignment;
    plan_analysis_free(a);
    plan_config_free(c);
  }
  printf("containers=%d cores=%d load=%.2f parse_ms=%.2f analyse_ms=%.2f schedulable=%s assignment=\"%s\"\n", n,
         cores, load, best_parse, best_analyse, schedulable ? "yes" : "no", how);
  return 0;
}
