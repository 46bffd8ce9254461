/* svg.c - draw the simulated schedule (sim.h) as an SVG timeline.
 *
 * Layout, top to bottom: a title with the verdict, then per core a lane:
 * one "CPU" row where the jobs of every container on the core appear as
 * boxes in the container's colour (so idle time and preemption are seen at
 * a glance), and under it one thin row per container with its releases
 * (up arrows), deadlines (down ticks) and its own jobs; late execution and
 * missed deadlines in red.  Deadline reservations run under global EDF:
 * their boxes appear in the CPU row of whichever core ran them, and their
 * own rows in a last "global EDF" lane.  A time axis and a legend with each container's
 * parameters and verdict close the picture. */
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define WIDTH 1280
#define LEFT 150
#define RIGHT 30
#define CPU_ROW 30
#define TASK_ROW 22
#define LANE_GAP 26
#define MAX_MARKERS_PER_ROW 400

static const char *const palette[] = {
  "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
  "#9c755f", "#ff9da7", "#bab0ac", "#86bcb6", "#8cd17d", "#d4a6c8",
};
#define MISS_RED "#d62728"

struct canvas {
  FILE *out;
  int64_t window;
  double scale; /* px per ns */
};

static double px(const struct canvas *cv, int64_t t) { return LEFT + (double) t * cv->scale; }

static const char *colour(size_t i) { return palette[i % (sizeof palette / sizeof palette[0])]; }

static void xml_text(FILE *out, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '&': fputs("&amp;", out); break;
    case '"': fputs("&quot;", out); break;
    default: fputc(*s, out);
    }
  }
}

int64_t plan_svg_default_window(const struct plan_analysis *a)
{
  int64_t cap = 1000000000, tmax = 1, tmin = INT64_MAX;
  for (size_t i = 0; i < a->n; i++) {
    tmax = a->tasks[i].T > tmax ? a->tasks[i].T : tmax;
    tmin = a->tasks[i].T < tmin ? a->tasks[i].T : tmin;
  }
  /* At most ~40 periods of the fastest container (so its jobs stay wide
   * enough to see), but at least one period of the slowest. */
  if (tmin != INT64_MAX && tmin * 40 < cap)
    cap = tmin * 40 > tmax ? tmin * 40 : tmax;
  return plan_hyperperiod(a->tasks, a->n, cap);
}

/* Tick step of 1, 2 or 5 times a power of ten giving about 10 ticks. */
static int64_t tick_step(int64_t window)
{
  double raw = (double) window / 10.0, p = pow(10.0, floor(log10(raw)));
  double m = raw / p < 1.5 ? 1 : raw / p < 3.5 ? 2 : raw / p < 7.5 ? 5 : 10;
  int64_t s = (int64_t) (m * p);
  return s > 0 ? s : 1;
}

static void axis(const struct canvas *cv, int y_top, int y_bottom)
{
  FILE *o = cv->out;
  int64_t step = tick_step(cv->window);
  for (int64_t t = 0; t <= cv->window; t += step) {
    char b[32];
    fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#e4e4e4'/>\n", px(cv, t), y_top, px(cv, t),
            y_bottom);
    fprintf(o, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>\n", px(cv, t), y_bottom + 16,
            plan_format_duration(t, b, sizeof b));
  }
  fprintf(o, "<line x1='%d' y1='%d' x2='%.1f' y2='%d' stroke='#555'/>\n", LEFT, y_bottom, px(cv, cv->window),
          y_bottom);
}

static void cpu_row(const struct canvas *cv, const struct plan_analysis *a, const struct plan_sim *s,
                    int core, int y)
{
  FILE *o = cv->out;
  fprintf(o, "<rect x='%d' y='%d' width='%.1f' height='%d' fill='#f7f7f7' stroke='#ccc'/>\n", LEFT, y,
          px(cv, cv->window) - LEFT, CPU_ROW);
  for (size_t k = 0; k < s->n_seg; k++) {
    const struct plan_sim_segment *g = &s->seg[k];
    if (g->core != core)
      continue;
    double x0 = px(cv, g->start), w = px(cv, g->end) - x0;
    fprintf(o, "<rect x='%.2f' y='%d' width='%.2f' height='%d' fill='%s'%s><title>%s: %.3f-%.3f ms</title></rect>\n",
            x0, y + 2, w < 0.6 ? 0.6 : w, CPU_ROW - 4, colour(g->task),
            g->late ? " stroke='" MISS_RED "' stroke-width='2'" : "", a->tasks[g->task].name, g->start / 1e6,
            g->end / 1e6);
    if (w > 7.5 * (double) strlen(a->tasks[g->task].name) + 6) {
      fprintf(o, "<text x='%.1f' y='%d' class='inbox'>", x0 + 3, y + CPU_ROW / 2 + 4);
      xml_text(o, a->tasks[g->task].name);
      fputs("</text>\n", o);
    }
  }
}

static void task_row(const struct canvas *cv, const struct plan_analysis *a, const struct plan_sim *s,
                     size_t i, int y)
{
  FILE *o = cv->out;
  const struct plan_task *t = &a->tasks[i];
  fprintf(o, "<text x='%d' y='%d' class='task' text-anchor='end'>", LEFT - 8, y + TASK_ROW - 6);
  xml_text(o, t->name);
  fputs("</text>\n", o);
  fprintf(o, "<line x1='%d' y1='%d' x2='%.1f' y2='%d' stroke='#eee'/>\n", LEFT, y + TASK_ROW - 2,
          px(cv, cv->window), y + TASK_ROW - 2);
  for (size_t k = 0; k < s->n_seg; k++) {
    const struct plan_sim_segment *g = &s->seg[k];
    if (g->task != i)
      continue;
    double x0 = px(cv, g->start), w = px(cv, g->end) - x0;
    fprintf(o, "<rect x='%.2f' y='%d' width='%.2f' height='%d' fill='%s' opacity='0.85'/>\n", x0, y + 6,
            w < 0.6 ? 0.6 : w, TASK_ROW - 9, g->late ? MISS_RED : colour(i));
  }
  if (t->T * MAX_MARKERS_PER_ROW >= cv->window) {
    for (int64_t r = 0; r <= cv->window; r += t->T) {
      double x = px(cv, r);
      fprintf(o, "<path d='M%.1f %d v-9 m-3 3 l3 -3 l3 3' stroke='#333' fill='none'/>\n", x, y + TASK_ROW - 2);
      if (r + t->D <= cv->window) {
        double xd = px(cv, r + t->D);
        fprintf(o, "<path d='M%.1f %d v8 m-3 -3 l3 3 l3 -3' stroke='#888' fill='none'/>\n", xd, y);
      }
    }
  }
}

static void misses(const struct canvas *cv, const struct plan_analysis *a, const struct plan_sim *s,
                   const int *row_y)
{
  FILE *o = cv->out;
  for (size_t k = 0; k < s->n_miss; k++) {
    const struct plan_sim_miss *m = &s->miss[k];
    if (m->deadline > cv->window)
      continue;
    double x = px(cv, m->deadline);
    int y = row_y[m->task];
    fprintf(o, "<g stroke='" MISS_RED "' stroke-width='2.5'><path d='M%.1f %d l8 8 m0 -8 l-8 8'/></g>\n", x - 4,
            y + 5);
    char rel[32];
    fprintf(o, "<title>%s missed the deadline of the job released at %s</title>\n", a->tasks[m->task].name,
            plan_format_duration(m->release, rel, sizeof rel));
  }
}

static void legend(const struct canvas *cv, const struct plan_analysis *a, const struct plan_sim *s, int y)
{
  FILE *o = cv->out;
  int col_w = 620, cols = 2;
  fprintf(o, "<text x='20' y='%d' class='head'>containers</text>\n", y);
  for (size_t i = 0; i < a->n; i++) {
    const struct plan_task *t = &a->tasks[i];
    int x = 20 + (int) (i % (size_t) cols) * col_w, yy = y + 12 + (int) (i / (size_t) cols) * 20;
    char c[32], p[32], d[32], r[32] = "unbounded", pr[24] = "SCHED_DEADLINE";
    if (t->response != INT64_MAX)
      plan_format_duration(t->response, r, sizeof r);
    if (t->policy == PLAN_POLICY_FP)
      snprintf(pr, sizeof pr, "SCHED_FIFO %d", t->prio);
    fprintf(o, "<rect x='%d' y='%d' width='14' height='14' fill='%s'/>\n", x, yy, colour(i));
    fprintf(o, "<text x='%d' y='%d' class='legend'%s>", x + 20, yy + 12, t->ok && !s->misses[i] ? "" : " fill='" MISS_RED "'");
    xml_text(o, t->name);
    char where[24] = "global EDF";
    if (t->core >= 0)
      snprintf(where, sizeof where, "core %d", t->core);
    fprintf(o, " — %s, %s, C %s / T %s / D %s, R %s%s%s</text>\n", where, pr,
            plan_format_duration(t->C, c, sizeof c), plan_format_duration(t->T, p, sizeof p),
            plan_format_duration(t->D, d, sizeof d), r, t->ok ? "" : " MISS",
            s->misses[i] ? " (simulated miss)" : "");
  }
}

static void header(const struct canvas *cv, const struct plan_config *c, const struct plan_analysis *a,
                   int height, const struct plan_sim *s)
{
  FILE *o = cv->out;
  char w[32];
  fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' "
             "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'>\n", WIDTH, height, WIDTH, height);
  fputs("<style>.title{font-size:18px;font-weight:bold}.sub{font-size:12px;fill:#555}"
        ".core{font-size:13px;font-weight:bold}.task{font-size:11px;fill:#333}.tick{font-size:10px;fill:#666}"
        ".inbox{font-size:10px;fill:#fff}.legend{font-size:11px}.head{font-size:12px;font-weight:bold}</style>\n", o);
  fprintf(o, "<rect width='100%%' height='100%%' fill='white'/>\n<text x='20' y='28' class='title'>");
  xml_text(o, c->name);
  size_t nmiss = 0;
  for (size_t i = 0; i < a->n; i++)
    nmiss += s->misses[i];
  fprintf(o, ": <tspan fill='%s'>%s</tspan></text>\n", a->schedulable ? "#2a7a2a" : MISS_RED,
          a->schedulable ? "schedulable" : "NOT SCHEDULABLE");
  fprintf(o, "<text x='20' y='46' class='sub'>simulated schedule from a synchronous release, 0 to %s; "
             "%zu deadline misses in this window; assignment: %s. ↑ release  ↓ deadline  ✕ missed deadline</text>\n",
          plan_format_duration(cv->window, w, sizeof w), nmiss, a->assignment);
}

void plan_svg_write(FILE *out, const struct plan_config *c, const struct plan_analysis *a, int64_t window)
{
  struct plan_sim s;
  plan_simulate(a->tasks, a->n, a->n_cores, window, true, &s);
  struct canvas cv = {.out = out, .window = window,
                      .scale = (double) (WIDTH - LEFT - RIGHT) / (double) (window > 0 ? window : 1)};
  /* A core gets a lane when it has fixed-priority tasks, or when there are
   * reservations at all (they may run on any core); the reservations'
   * own rows come last, in one lane of their own. */
  size_t n_dl = 0;
  cleanup_free size_t *rows = xmalloc0((size_t) (a->n_cores + 1) * sizeof *rows); /* tasks of each core */
  for (size_t i = 0; i < a->n; i++) {
    n_dl += a->tasks[i].core < 0;
    if (a->tasks[i].core >= 0) /* partitioned reservations included: they run on their core */
      rows[a->tasks[i].core]++;
  }
  int height = 70;
  for (int k = 0; k < a->n_cores; k++)
    if (rows[k] || n_dl)
      height += CPU_ROW + 8 + (int) rows[k] * TASK_ROW + LANE_GAP;
  if (n_dl)
    height += 14 + (int) n_dl * TASK_ROW + LANE_GAP;
  int axis_y = height - LANE_GAP + 6, legend_y = height + 40;
  height = legend_y + 30 + (int) ((a->n + 1) / 2) * 20;
  header(&cv, c, a, height, &s);
  axis(&cv, 60, axis_y); /* first, so the grid lies under the boxes */
  cleanup_free int *row_y = xmalloc0((a->n + 1) * sizeof *row_y);
  int y = 70;
  for (int k = 0; k < a->n_cores; k++) {
    const struct plan_core_result *r = &a->cores[k];
    if (rows[k] == 0 && n_dl == 0)
      continue;
    fprintf(out, "<text x='%d' y='%d' class='core' text-anchor='end'%s>core %d</text>\n", LEFT - 8,
            y + CPU_ROW / 2 + 5, r->ok ? "" : " fill='" MISS_RED "'", k);
    fprintf(out, "<text x='%d' y='%d' class='sub' text-anchor='end'>U %.2f</text>\n", LEFT - 58, y + CPU_ROW / 2 + 5, r->u);
    cpu_row(&cv, a, &s, k, y);
    y += CPU_ROW + 8;
    for (size_t i = 0; i < a->n; i++)
      if (a->tasks[i].core == k) {
        row_y[i] = y;
        task_row(&cv, a, &s, i, y);
        y += TASK_ROW;
      }
    y += LANE_GAP;
  }
  if (n_dl) {
    fprintf(out, "<text x='%d' y='%d' class='core' text-anchor='end'%s>global EDF</text>\n", LEFT - 8, y + 10,
            a->dl.ok ? "" : " fill='" MISS_RED "'");
    y += 14;
    for (size_t i = 0; i < a->n; i++)
      if (a->tasks[i].core < 0) {
        row_y[i] = y;
        task_row(&cv, a, &s, i, y);
        y += TASK_ROW;
      }
  }
  misses(&cv, a, &s, row_y);
  legend(&cv, a, &s, legend_y);
  fputs("</svg>\n", out);
  plan_sim_free(&s);
}
