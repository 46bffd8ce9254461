/* wasm_activate.c - reactor tenants and a tenant's time limits
 * (docs/tenants.md, "Schedule and activations").
 *
 * A module that exports `edgecr_activate` (type () -> ()) and no `_start`
 * is a reactor: the runtime runs `_initialize` if exported (as WASI
 * reactors expect), then calls edgecr_activate once per schedule.period
 * at absolute release times (CLOCK_MONOTONIC, clock_nanosleep with
 * TIMER_ABSTIME: no drift), the first at once.  Each release reads the
 * schedule from the tenant context, so a live update takes effect from
 * the next activation.  The rules (releases, cuts, counters) are the
 * portable core's (src/tenant/activate.c), shared with the
 * microcontroller host; this file gives them Linux times and runs the
 * calls.
 *
 * Budget: an activation runs on small fuel slices (adapted to last about
 * 50 us of CPU each) and between two slices the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: what the budget, the worst-case execution
 * time of the analysis, counts; being preempted does not) and the
 * activation's deadline (monotonic) are checked.  An activation that used
 * more than schedule.budget (or, under SCHED_DEADLINE, was throttled by
 * the kernel for using up its reservation: SIGXCPU) is cut off (ew_abort drops the call; the
 * instance, its memory included, stays as the guest left it) and counted
 * as an overrun; one still running at its deadline (release + deadline,
 * the period when no deadline) is cut off and counted as a miss; a
 * release that cannot start before its deadline (the tenant was paused,
 * or starved) is skipped and counted as a miss.  The next release runs in
 * every case.  A trap or proc_exit inside an activation ends the tenant
 * as for a command.  A host call that blocks (a read of stdin) is cut
 * only when it returns.
 *
 * Limits (POSIX timers, so a tenant blocked anywhere is still bounded):
 *   - start limit: a reactor that has not begun its first activation
 *     schedule.start-limit after `start` (instantiation and _initialize
 *     included) exits with WB_EXIT_START_LIMIT;
 *   - lifetime: security.lifetime seconds after `start` the tenant is
 *     stopped as by SIGTERM, with a message, status WB_EXIT_LIFETIME;
 *   - stop limit: schedule.stop-limit replaces the default grace after a
 *     stop signal; a reactor finishes the activation in progress within
 *     it (no new one starts), a command stops at its next safe point.
 * The counters are the tenant's (struct tenant_stats: activations,
 * overruns, misses); a summary line goes to stderr when the tenant ends. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "activate.h"
#include "tenant_platform.h"
#include "wasi.h"
#include "wasm_backend.h"

/* Fuel between two checks inside an activation, adapted so that a slice
 * lasts about WB_ACT_CHECK_NS of CPU whatever the code does (a loop of
 * host calls spends far more time per unit of fuel than a tight loop): an
 * overrun is cut that soon after the budget.  A check (two clock reads)
 * and a resume cost well under a microsecond. */
#define WB_ACT_SLICE (1u << 15)
#define WB_ACT_SLICE_MIN (1u << 6)
#define WB_ACT_SLICE_MAX (1u << 22)
#define WB_ACT_CHECK_NS 50000u
static uint64_t act_slice = WB_ACT_SLICE;

enum { LIMIT_START = 1, LIMIT_LIFETIME = 2 };

static volatile sig_atomic_t first_activation; /* the start limit is met */
static volatile sig_atomic_t dl_overrun;       /* SIGXCPU: the deadline reservation ran out */
static char start_msg[192];
static char lifetime_msg[192];

static uint64_t clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- limits ------------------------------------------------------------ */

/* The timers' signal.  Only a timer of ours counts (si_code SI_TIMER): the
 * same signal sent with kill does nothing. */
static void on_limit(int sig, siginfo_t *si, void *uc)
{
  (void) sig, (void) uc;
  if (si->si_code != SI_TIMER)
    return;
  if (si->si_value.sival_int == LIMIT_START && !first_activation) {
    ssize_t n = write(STDERR_FILENO, start_msg, strlen(start_msg));
    (void) n;
    _exit(WB_EXIT_START_LIMIT);
  }
  if (si->si_value.sival_int == LIMIT_LIFETIME)
    wb_stop_for_lifetime(lifetime_msg);
}

static void arm(int which, uint64_t ns)
{
  struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 2};
  sev.sigev_value.sival_int = which;
  timer_t t;
  struct itimerspec its = {.it_value = {(time_t) (ns / 1000000000u), (long) (ns % 1000000000u)}};
  if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0)
    wb_fail(WB_EXIT_RUN_ERROR, "tenant: cannot arm the %s timer: %s",
            which == LIMIT_START ? "start-limit" : "lifetime", strerror(errno));
}

void wb_tenant_limits_arm(const struct tenant_meta *m, bool reactor)
{
  struct sigaction sa = {.sa_sigaction = on_limit, .sa_flags = SA_SIGINFO | SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGRTMIN + 2, &sa, NULL);
  const struct tenant_schedule *s = &m->schedule;
  if (m->has_schedule && s->stop_limit_ns > 0)
    wb_set_stop_grace(s->stop_limit_ns);
  if (reactor && m->has_schedule && s->start_limit_ns > 0) {
    snprintf(start_msg, sizeof start_msg, "edgecr: tenant %s: no activation within its start limit of %llu ns: "
             "killed\n", m->id, (unsigned long long) s->start_limit_ns);
    arm(LIMIT_START, s->start_limit_ns);
  }
  if (m->has_security && m->lifetime_s > 0) {
    snprintf(lifetime_msg, sizeof lifetime_msg, "edgecr: tenant %s: its lifetime of %llu s (security.lifetime) "
             "is over: stopped\n", m->id, (unsigned long long) m->lifetime_s);
    uint64_t ns = m->lifetime_s > UINT64_MAX / 1000000000u ? UINT64_MAX / 2 : m->lifetime_s * 1000000000u;
    arm(LIMIT_LIFETIME, ns);
  }
}

/* ---- create ------------------------------------------------------------ */

static bool exports_func(const ew_module *mod, const char *name, ew_export_info *out)
{
  for (uint32_t i = 0; i < ew_module_export_count(mod); i++)
    if (ew_module_export(mod, i, out) == 0 && out->kind == EW_EXTERN_FUNC && strcmp(out->name, name) == 0)
      return true;
  return false;
}

int wb_reactor_check(const ew_module *mod, const char *path, const struct tenant_meta *m, edgecr_error_t *err)
{
  ew_export_info ex;
  if (!exports_func(mod, WB_ACTIVATE, &ex))
    return 0;
  if (ex.func.nparams != 0 || ex.func.nresults != 0)
    return edgecr_error_make(err, 0, "WebAssembly module `%s`: `%s` must take no parameters and return nothing",
                             path, WB_ACTIVATE);
  ew_export_info start;
  if (exports_func(mod, "_start", &start))
    return edgecr_error_make(err, 0, "WebAssembly module `%s`: exports both `_start` and `%s`: a tenant is either "
                             "a command or a reactor (build a reactor with -mexec-model=reactor)", path,
                             WB_ACTIVATE);
  if (m == NULL || !m->has_schedule || m->schedule.period_ns == 0)
    return edgecr_error_make(err, 0, "WebAssembly module `%s`: exports `%s` but %s: a reactor tenant is "
                             "activated once per schedule.period of its signed metadata", path, WB_ACTIVATE,
                             m == NULL ? "the container has no tenant metadata (annotation " WB_ANN_TENANT_META ")"
                                       : "its metadata has no schedule.period");
  return 1;
}

/* ---- the activations ---------------------------------------------------- */

struct reactor {
  ew_instance *inst;
  wasi_ctx *wasi;
  ew_func *activate;
  struct tenant_linux *tenant;
  struct tenant_ctx *ctx;
  const char *path;
  uint64_t last_note_ns;
};

/* The deadline of the sleep the engine suspended for: the tenant's
 * sleep_until or a WASI poll_oneoff; false when none. */
static bool sleep_deadline(struct reactor *r, uint64_t *until)
{
  return tenant_linux_take_sleep(r->tenant, until) || wasi_sleep_deadline(r->wasi, until);
}

/* Until monotonic time t, or a stop. */
static void sleep_until_ns(uint64_t t)
{
  struct timespec ts = {(time_t) (t / 1000000000u), (long) (t % 1000000000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !wb_stopping()) {
  }
}

/* An overrun or a miss, for the operator: the tenant's report (the
 * container's stderr), at most one a second. */
__attribute__((format(printf, 2, 3))) static void note(struct reactor *r, const char *fmt, ...)
{
  uint64_t now = clock_ns(CLOCK_MONOTONIC);
  if (r->last_note_ns != 0 && now - r->last_note_ns < 1000000000u)
    return;
  r->last_note_ns = now;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fflush(stdout);
  r->ctx->pf->report(r->ctx->pf_ctx, msg);
}

static void summary(const struct reactor *r)
{
  const struct tenant_stats *s = r->ctx->stats;
  char msg[128];
  snprintf(msg, sizeof msg, "%llu activations, %llu overruns, %llu misses", (unsigned long long) s->activations,
           (unsigned long long) s->overruns, (unsigned long long) s->misses);
  fflush(stdout);
  r->ctx->pf->report(r->ctx->pf_ctx, msg);
}

_Noreturn static void stop_now(const struct reactor *r)
{
  summary(r);
  wb_die_of_stop();
}

static void on_dl_overrun(int sig)
{
  (void) sig;
  dl_overrun = 1;
}

/* The next slice from how long the last one took. */
static void adapt_slice(uint64_t spent_ns)
{
  uint64_t next = spent_ns == 0 ? act_slice * 4 : act_slice * WB_ACT_CHECK_NS / spent_ns;
  next = next > act_slice * 4 ? act_slice * 4 : next;
  act_slice = next < WB_ACT_SLICE_MIN ? WB_ACT_SLICE_MIN : next > WB_ACT_SLICE_MAX ? WB_ACT_SLICE_MAX : next;
}

/* One call of edgecr_activate, cut (the reason returned in *cut) as
 * tenant_act_check says; a sleep inside it ends at its deadline at most.
 * `reserved`: the tenant runs under SCHED_DEADLINE, whose reservation (=
 * the budget) also pays for the runtime's own work at each release: the
 * activation is cut from 90 % of its budget on, before the kernel
 * throttles it, which would hold it to the reservation's next period (not
 * aligned with the releases) and make the next activation late. */
static ew_status activate_once(struct reactor *r, const struct tenant_act *a, bool reserved, enum tenant_cut *cut)
{
  dl_overrun = 0;
  uint64_t margin = reserved ? a->budget / 10 : 0;
  uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), slice0 = cpu0;
  ew_set_fuel(r->inst, act_slice);
  ew_status st = ew_call(r->inst, r->activate, NULL, 0, NULL, 0);
  for (;;) {
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (st == EW_OUT_OF_FUEL) {
      adapt_slice(cpu - slice0);
    } else if (st == EW_SUSPENDED) {
      uint64_t until = 0;
      if (sleep_deadline(r, &until) && until > 0)
        sleep_until_ns(until < a->deadline_at ? until : a->deadline_at);
    } else {
      return st;
    }
    *cut = tenant_act_check(a, cpu - cpu0 + margin, clock_ns(CLOCK_MONOTONIC), dl_overrun != 0);
    if (*cut != TENANT_CUT_NONE) {
      ew_abort(r->inst);
      return EW_OK;
    }
    slice0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    ew_set_fuel(r->inst, act_slice);
    st = ew_resume(r->inst);
  }
}

/* _initialize to its end (no budget: the start limit bounds it). */
static ew_status initialize(struct reactor *r, ew_func *init)
{
  ew_set_fuel(r->inst, WB_ACT_SLICE << 7);
  ew_status st = ew_call(r->inst, init, NULL, 0, NULL, 0);
  for (;;) {
    if (wb_stopping())
      wb_die_of_stop();
    if (st == EW_SUSPENDED) {
      uint64_t until = 0;
      if (sleep_deadline(r, &until))
        sleep_until_ns(until);
    } else if (st == EW_OUT_OF_FUEL) {
      ew_set_fuel(r->inst, WB_ACT_SLICE << 7);
    } else {
      return st;
    }
    st = ew_resume(r->inst);
  }
}

/* A cut activation, for the operator (tenant_act_end counted it);
 * `deadline` relative to its release. */
static void report_cut(struct reactor *r, enum tenant_cut cut, uint64_t budget, uint64_t deadline)
{
  const struct tenant_stats *s = r->ctx->stats;
  if (cut == TENANT_CUT_BUDGET)
    note(r, "activation %llu overran its budget of %llu ns: cut off (%llu overruns so far)",
         (unsigned long long) s->activations, (unsigned long long) budget, (unsigned long long) s->overruns);
  else if (cut == TENANT_CUT_DEADLINE)
    note(r, "activation %llu still ran at its deadline of %llu ns: cut off (%llu misses so far)",
         (unsigned long long) s->activations, (unsigned long long) deadline, (unsigned long long) s->misses);
}

ew_status wb_reactor_run(ew_instance *inst, wasi_ctx *wasi, struct tenant_linux *tenant, const char *path)
{
  struct tenant_ctx *ctx = &tenant->ctx;
  struct reactor r = {.inst = inst, .wasi = wasi, .tenant = tenant, .ctx = ctx, .path = path,
                      .activate = ew_instance_func(inst, WB_ACTIVATE)};
  if (r.activate == NULL) /* checked at create */
    wb_fail(WB_EXIT_RUN_ERROR, "wasm: `%s` exports no `%s`", path, WB_ACTIVATE);
  wasi_set_suspend_sleep(wasi, 1);
  struct sigaction sa = {.sa_handler = on_dl_overrun, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGXCPU, &sa, NULL);
  ew_func *init = ew_instance_func(inst, "_initialize");
  if (init != NULL) {
    ew_status st = initialize(&r, init);
    if (st != EW_OK)
      return st;
  }
  /* Under SCHED_DEADLINE the kernel has its own periods, from whenever the
   * reservation began, and a constrained-deadline task (deadline < period)
   * waking between its deadline and its next period is held until that
   * period: releases not aligned with the kernel's periods start late, by
   * as much as the misalignment, every time.  So the releases follow the
   * kernel's periods: yielding ends the current one (the reservation's
   * remaining runtime is given up until its next period), the first
   * release is the start of the next, and after each activation the
   * tenant yields again before it sleeps to its release. */
  bool reserved = sched_getscheduler(0) == SCHED_DEADLINE;
  if (reserved)
    sched_yield();
  struct tenant_act a;
  tenant_act_start(&a, ctx, clock_ns(CLOCK_MONOTONIC));
  first_activation = 1;
  for (;;) {
    sleep_until_ns(a.release);
    if (wb_stopping())
      stop_now(&r);
    if (!tenant_act_release(&a, ctx, clock_ns(CLOCK_MONOTONIC))) {
      note(&r, "%llu release(s) could not start before their deadline: skipped (%llu misses so far)",
           (unsigned long long) a.skipped, (unsigned long long) ctx->stats->misses);
      continue;
    }
    enum tenant_cut cut = TENANT_CUT_NONE;
    ew_status st = activate_once(&r, &a, reserved, &cut);
    if (st != EW_OK) {
      summary(&r);
      return st;
    }
    uint64_t deadline = a.deadline_at - a.release, deadline_at = a.deadline_at;
    tenant_act_end(&a, ctx, cut);
    report_cut(&r, cut, a.budget, deadline);
    /* (past the deadline the kernel has already moved to its next period,
     * having throttled the tenant there: yielding would skip a period) */
    if (reserved && clock_ns(CLOCK_MONOTONIC) < deadline_at)
      sched_yield();
    if (wb_stopping())
      stop_now(&r);
  }
}
