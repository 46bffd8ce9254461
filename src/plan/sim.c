/* sim.c - the discrete-event simulator of sim.h.  Time jumps from event to
 * event (a release or the completion of a running job); every task keeps
 * its jobs in order, so job k is released at k*T and due at k*T + D.  All
 * cores are simulated together: the reservations are scheduled by global
 * EDF over every CPU, above the fixed-priority tasks pinned to each CPU. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_SEGMENTS 400000
#define MAX_MISSES 10000

struct task_state {
  const struct plan_task *t;
  size_t idx;
  int64_t released, done; /* jobs released, jobs finished */
  int64_t remaining;      /* execution left for job `done` */
  int cpu;                /* reservations: the CPU it last ran on, -1 none */
  bool chosen;            /* scratch of pick_dl */
};

static int64_t gcd64(int64_t a, int64_t b)
{
  while (b) {
    int64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

int64_t plan_hyperperiod(const struct plan_task *tasks, size_t n, int64_t cap)
{
  int64_t h = 1;
  for (size_t i = 0; i < n; i++) {
    int64_t g = gcd64(h, tasks[i].T);
    if (h / g > cap / tasks[i].T)
      return cap;
    h = h / g * tasks[i].T;
  }
  return h > cap ? cap : h;
}

/* Which pending fixed-priority job of `cpu` runs: highest priority, then
 * earliest release (FIFO among equals). */
static struct task_state *pick_fp(struct task_state *s, size_t n, int cpu)
{
  struct task_state *best = NULL;
  for (size_t i = 0; i < n; i++) {
    struct task_state *c = &s[i];
    if (c->done >= c->released || c->t->policy != PLAN_POLICY_FP || c->t->core != cpu)
      continue;
    int64_t c_rel = c->done * c->t->T;
    if (best == NULL || c->t->prio > best->t->prio ||
        (c->t->prio == best->t->prio && c_rel < best->done * best->t->T))
      best = c;
  }
  return best;
}

/* EDF order of two pending reservations: absolute deadline (the kernel's
 * D - J), then index. */
static bool earlier(const struct task_state *a, const struct task_state *b)
{
  int64_t da = a->done * a->t->T + a->t->D - a->t->J, db = b->done * b->t->T + b->t->D - b->t->J;
  return da != db ? da < db : a->idx < b->idx;
}

/* Global EDF: the m earliest-deadline pending reservations run, one per
 * CPU.  A reservation stays on the CPU it last ran on when that CPU is
 * not taken by an earlier one, else it takes the lowest free CPU (the
 * kernel pushes to a CPU without deadline work; which one it picks does
 * not matter to a sound analysis).  run[cpu] receives the reservation or
 * NULL; `chosen` is scratch for m entries. */
static void pick_dl(struct task_state *s, size_t n, int m, struct task_state **run, struct task_state **chosen)
{
  int n_chosen = 0;
  for (int c = 0; c < m; c++)
    run[c] = NULL;
  for (int k = 0; k < m; k++) {
    struct task_state *best = NULL;
    for (size_t i = 0; i < n; i++) {
      struct task_state *c = &s[i];
      if (c->done >= c->released || c->t->policy != PLAN_POLICY_DEADLINE || c->t->partitioned || c->chosen)
        continue;
      if (best == NULL || earlier(c, best))
        best = c;
    }
    if (best == NULL)
      break;
    best->chosen = true;
    chosen[n_chosen++] = best;
  }
  for (int k = 0; k < n_chosen; k++)
    if (chosen[k]->cpu >= 0 && chosen[k]->cpu < m && run[chosen[k]->cpu] == NULL)
      run[chosen[k]->cpu] = chosen[k];
  for (int k = 0; k < n_chosen; k++) {
    struct task_state *t = chosen[k];
    t->chosen = false;
    if (t->cpu >= 0 && t->cpu < m && run[t->cpu] == t)
      continue;
    int c = 0;
    while (run[c])
      c++;
    run[c] = t;
    t->cpu = c;
  }
}

/* Partitioned EDF: the earliest-deadline pending reservation confined to
 * `cpu` (its own root domain), or NULL. */
static struct task_state *pick_partitioned(struct task_state *s, size_t n, int cpu)
{
  struct task_state *best = NULL;
  for (size_t i = 0; i < n; i++) {
    struct task_state *c = &s[i];
    if (c->done >= c->released || c->t->policy != PLAN_POLICY_DEADLINE || !c->t->partitioned ||
        c->t->core != cpu)
      continue;
    if (best == NULL || earlier(c, best))
      best = c;
  }
  return best;
}

/* Arrays grow by doubling from `first`: full exactly at 0, first, 2*first... */
static bool needs_growth(size_t n, size_t first)
{
  return n == 0 || (n >= first && (n & (n - 1)) == 0);
}

static void record_segment(struct plan_sim *out, int core, struct task_state *r, int64_t a, int64_t b)
{
  int64_t rel = r->done * r->t->T;
  bool late = b > rel + r->t->D;
  struct plan_sim_segment *last = out->n_seg ? &out->seg[out->n_seg - 1] : NULL;
  if (last && last->core == core && last->task == r->idx && last->end == a &&
      last->job_release == rel && last->late == late) {
    last->end = b;
    return;
  }
  if (out->n_seg == MAX_SEGMENTS) {
    out->truncated = true;
    return;
  }
  if (needs_growth(out->n_seg, 64))
    out->seg = xrealloc(out->seg, (out->n_seg ? 2 * out->n_seg : 64) * sizeof *out->seg);
  out->seg[out->n_seg++] = (struct plan_sim_segment){core, r->idx, a, b, rel, late};
}

static void record_miss(struct plan_sim *out, const struct task_state *r, int64_t finish)
{
  out->misses[r->idx]++;
  if (out->n_miss == MAX_MISSES)
    return;
  if (needs_growth(out->n_miss, 16))
    out->miss = xrealloc(out->miss, (out->n_miss ? 2 * out->n_miss : 16) * sizeof *out->miss);
  int64_t rel = r->done * r->t->T;
  out->miss[out->n_miss++] = (struct plan_sim_miss){r->idx, rel, rel + r->t->D, finish};
}

static void finish_job(struct task_state *r, int64_t now, struct plan_sim *out)
{
  int64_t rel = r->done * r->t->T, resp = now - rel;
  if (resp > out->worst_response[r->idx])
    out->worst_response[r->idx] = resp;
  out->jobs[r->idx]++;
  if (resp > r->t->D)
    record_miss(out, r, now);
  r->done++;
  if (r->done < r->released)
    r->remaining = r->t->C;
}

/* All cores at once: each step releases the due jobs, lets global EDF
 * place the reservations, gives every other CPU to its highest-priority
 * fixed-priority job, and runs until the next release or completion. */
static void simulate_all(struct task_state *s, size_t n, int m, int64_t horizon, bool record, struct plan_sim *out)
{
  cleanup_free struct task_state **run = xmalloc0((size_t) (m + 1) * sizeof *run);
  cleanup_free struct task_state **chosen = xmalloc0((size_t) (m + 1) * sizeof *chosen);
  int64_t now = 0;
  while (now < horizon) {
    int64_t next = horizon;
    for (size_t i = 0; i < n; i++) {
      while (s[i].released * s[i].t->T <= now) {
        if (s[i].released == s[i].done)
          s[i].remaining = s[i].t->C;
        s[i].released++;
      }
      int64_t nr = s[i].released * s[i].t->T;
      next = nr < next ? nr : next;
    }
    pick_dl(s, n, m, run, chosen);
    for (int c = 0; c < m; c++) {
      if (run[c] == NULL)
        run[c] = pick_partitioned(s, n, c);
      if (run[c] == NULL)
        run[c] = pick_fp(s, n, c);
      if (run[c] && now + run[c]->remaining < next)
        next = now + run[c]->remaining;
    }
    for (int c = 0; c < m; c++) {
      struct task_state *r = run[c];
      if (r == NULL)
        continue;
      if (record)
        record_segment(out, c, r, now, next);
      r->remaining -= next - now;
      if (r->remaining == 0)
        finish_job(r, next, out);
    }
    now = next;
  }
  /* Jobs due inside the horizon that did not finish are misses too. */
  for (size_t i = 0; i < n; i++)
    for (struct task_state *r = &s[i]; r->done < r->released && r->done * r->t->T + r->t->D <= horizon;
         r->done++)
      record_miss(out, r, -1);
}

void plan_simulate(const struct plan_task *tasks, size_t n, int n_cores, int64_t horizon,
                   bool record, struct plan_sim *out)
{
  memset(out, 0, sizeof *out);
  out->horizon = horizon;
  out->n_tasks = n;
  out->worst_response = xmalloc0((n + 1) * sizeof *out->worst_response);
  out->jobs = xmalloc0((n + 1) * sizeof *out->jobs);
  out->misses = xmalloc0((n + 1) * sizeof *out->misses);
  cleanup_free struct task_state *s = xmalloc0((n + 1) * sizeof *s);
  for (size_t i = 0; i < n; i++)
    s[i] = (struct task_state){.t = &tasks[i], .idx = i, .cpu = -1};
  simulate_all(s, n, n_cores, horizon, record, out);
}

void plan_sim_free(struct plan_sim *s)
{
  free(s->worst_response);
  free(s->jobs);
  free(s->misses);
  free(s->seg);
  free(s->miss);
  memset(s, 0, sizeof *s);
}
