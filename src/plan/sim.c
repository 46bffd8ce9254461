/* sim.c - the discrete-event simulator of sim.h.  Time jumps from event to
 * event (a release or the completion of the running job); every task keeps
 * its jobs in order, so job k is released at k*T and due at k*T + D. */
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

/* Which pending job runs: a reservation (earliest absolute deadline) before
 * any fixed priority; then highest priority, earliest release. */
static struct task_state *pick(struct task_state *s, size_t n)
{
  struct task_state *best = NULL;
  for (size_t i = 0; i < n; i++) {
    struct task_state *c = &s[i];
    if (c->done >= c->released)
      continue;
    if (best == NULL) {
      best = c;
      continue;
    }
    bool c_dl = c->t->policy == PLAN_POLICY_DEADLINE, b_dl = best->t->policy == PLAN_POLICY_DEADLINE;
    if (c_dl != b_dl) {
      if (c_dl)
        best = c;
      continue;
    }
    int64_t c_rel = c->done * c->t->T, b_rel = best->done * best->t->T;
    if (c_dl) {
      if (c_rel + c->t->D < b_rel + best->t->D)
        best = c;
    } else if (c->t->prio > best->t->prio || (c->t->prio == best->t->prio && c_rel < b_rel)) {
      best = c;
    }
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

static void simulate_core(struct task_state *s, size_t n, int core, int64_t horizon, bool record,
                          struct plan_sim *out)
{
  int64_t now = 0;
  while (now < horizon) {
    int64_t next_release = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
      while (s[i].released * s[i].t->T <= now) {
        if (s[i].released == s[i].done)
          s[i].remaining = s[i].t->C;
        s[i].released++;
      }
      int64_t nr = s[i].released * s[i].t->T;
      next_release = nr < next_release ? nr : next_release;
    }
    struct task_state *r = pick(s, n);
    int64_t until = next_release < horizon ? next_release : horizon;
    if (r == NULL) {
      now = until;
      continue;
    }
    int64_t end = now + r->remaining < until ? now + r->remaining : until;
    if (record)
      record_segment(out, core, r, now, end);
    r->remaining -= end - now;
    now = end;
    if (r->remaining > 0)
      continue;
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
  for (int core = 0; core < n_cores; core++) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (tasks[i].core == core)
        s[k++] = (struct task_state){.t = &tasks[i], .idx = i};
    if (k)
      simulate_core(s, k, core, horizon, record, out);
  }
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
