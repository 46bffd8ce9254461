/* interp.c - the interpreter: runs the register-style IR made by compile.c.
 * This file has the helpers (IEEE-754 floats, integers, growing memories
 * and tables, the developer op profile), includes the loop itself from
 * interp_loop.h (once with bounds comparisons, once without them for
 * guarded memories) and picks the loop for each run (ew_interp_run). */
#include <math.h>

#include "internal.h"

/* ---- float helpers (IEEE-754 as the spec wants) -------------------------- */

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static float f32_from(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double f64_from(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

static float f32_min(float a, float b)
{
  if (a != a || b != b)
    return a + b;
  if (a == 0 && b == 0)
    return (f32_bits(a) >> 31) ? a : b;
  return a < b ? a : b;
}

static float f32_max(float a, float b)
{
  if (a != a || b != b)
    return a + b;
  if (a == 0 && b == 0)
    return (f32_bits(a) >> 31) ? b : a;
  return a > b ? a : b;
}

static double f64_min(double a, double b)
{
  if (a != a || b != b)
    return a + b;
  if (a == 0 && b == 0)
    return (f64_bits(a) >> 63) ? a : b;
  return a < b ? a : b;
}

static double f64_max(double a, double b)
{
  if (a != a || b != b)
    return a + b;
  if (a == 0 && b == 0)
    return (f64_bits(a) >> 63) ? b : a;
  return a > b ? a : b;
}

static float f32_nearest(float x)
{
  if (x != x)
    return x + x;
  float ax = f32_from(f32_bits(x) & 0x7fffffffu);
  if (!(ax < 8388608.0f))
    return x;
  volatile float t = ax + 8388608.0f;
  float r = t - 8388608.0f;
  return f32_from(f32_bits(r) | (f32_bits(x) & 0x80000000u));
}

static double f64_nearest(double x)
{
  if (x != x)
    return x + x;
  double ax = f64_from(f64_bits(x) & 0x7fffffffffffffffull);
  if (!(ax < 4503599627370496.0))
    return x;
  volatile double t = ax + 4503599627370496.0;
  double r = t - 4503599627370496.0;
  return f64_from(f64_bits(r) | (f64_bits(x) & 0x8000000000000000ull));
}

#define NANWRAP(f, x) ((x) != (x) ? (x) + (x) : f(x))

static int64_t sat_i64(double x, double lo, double hi, int64_t min, int64_t max)
{
  if (x != x) return 0;
  if (x <= lo) return min;
  if (x >= hi) return max;
  return (int64_t)x;
}

static uint64_t sat_u64(double x, double hi, uint64_t max)
{
  if (x != x || x <= -1.0) return 0;
  if (x >= hi) return max;
  return (uint64_t)x;
}

/* ---- integer helpers ---------------------------------------------------- */

#if defined(__GNUC__)
#define CLZ32(x) ((x) ? (uint32_t)__builtin_clz(x) : 32u)
#define CTZ32(x) ((x) ? (uint32_t)__builtin_ctz(x) : 32u)
#define POP32(x) ((uint32_t)__builtin_popcount(x))
#define CLZ64(x) ((x) ? (uint64_t)__builtin_clzll(x) : 64u)
#define CTZ64(x) ((x) ? (uint64_t)__builtin_ctzll(x) : 64u)
#define POP64(x) ((uint64_t)__builtin_popcountll(x))
#else
static uint32_t clz_n(uint64_t x, int bits) { uint32_t n = 0; for (int i = bits - 1; i >= 0 && !((x >> i) & 1); i--) n++; return n; }
static uint32_t ctz_n(uint64_t x, int bits) { uint32_t n = 0; for (int i = 0; i < bits && !((x >> i) & 1); i++) n++; return n; }
static uint32_t pop_n(uint64_t x) { uint32_t n = 0; while (x) { n += x & 1; x >>= 1; } return n; }
#define CLZ32(x) clz_n((x), 32)
#define CTZ32(x) ctz_n((x), 32)
#define POP32(x) pop_n(x)
#define CLZ64(x) ((uint64_t)clz_n((x), 64))
#define CTZ64(x) ((uint64_t)ctz_n((x), 64))
#define POP64(x) ((uint64_t)pop_n(x))
#endif

static uint32_t rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static uint32_t rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static uint64_t rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static uint64_t rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }

/* ---- growing ------------------------------------------------------------ */

int32_t ew_memory_grow(ew_memory *m, uint32_t delta)
{
  uint32_t old = m->pages;
  if (delta == 0)
    return (int32_t)old;
  if (delta > m->max || old > m->max - delta)
    return -1;
  uint64_t nbytes = (uint64_t)(old + delta) * EW_PAGE;
  if (nbytes > (uint64_t)SIZE_MAX || !ew_budget_grow(m->budget, nbytes - m->size, 0))
    return -1;
#ifdef EW_GUARD_PAGES
  if (m->guarded) {
    /* in place: fresh anonymous pages are already zero */
    if (ew_guard_commit(m->data, m->size, nbytes) < 0) {
      ew_budget_give(m->budget, nbytes - m->size);
      return -1;
    }
  } else
#endif
  {
    uint8_t *p = m->alloc.realloc(m->alloc.ctx, m->data, (size_t)nbytes);
    if (!p) {
      ew_budget_give(m->budget, nbytes - m->size);
      return -1;
    }
    memset(p + m->size, 0, (size_t)(nbytes - m->size));
    m->data = p;
  }
  m->size = nbytes;
  m->pages = old + delta;
  return (int32_t)old;
}

int ew_table_grow(ew_table *t, uint32_t delta, void *init, uint32_t cap)
{
  uint32_t old = t->size;
  uint32_t max = t->max < cap ? t->max : cap;
  if (delta > max || old > max - delta)
    return -1;
  if (delta == 0)
    return (int)old;
  uint64_t bytes = (uint64_t)(old + delta) * sizeof(void *);
  uint64_t added = (uint64_t)delta * sizeof(void *);
  if (bytes > (uint64_t)SIZE_MAX || !ew_budget_grow(t->budget, added, 1))
    return -1;
  void **p = t->alloc.realloc(t->alloc.ctx, t->elems, (size_t)bytes);
  if (!p) {
    ew_budget_give(t->budget, added);
    return -1;
  }
  for (uint32_t i = old; i < old + delta; i++)
    p[i] = init;
  t->elems = p;
  t->size = old + delta;
  return (int)old;
}

/* ---- op-pair profile (developer builds only) ----------------------------
 * Built with -DEW_PROFILE (hosted builds only: it uses stdio), every
 * dispatch counts the pair (previous op, this op); at exit the most frequent
 * ops and pairs are printed to stderr.  This is how superinstructions are
 * chosen: see docs/wasm.md. */
#ifdef EW_PROFILE
#include <stdio.h>
#include <stdlib.h>
#define PNAME(n) #n,
#define PNAME_A(n, pos, swap) #n "_A",
static const char *const ew_op_names[OP_COUNT_] = {
  EW_NUM_OPS(PNAME) EW_MEM_OPS(PNAME) EW_LOADADD_OPS(PNAME) EW_SAT_OPS(PNAME) EW_CTL_OPS(PNAME)
  EW_ACC_READERS(PNAME_A)
};
#undef PNAME
#undef PNAME_A
static uint64_t ew_pairs[OP_COUNT_][OP_COUNT_], ew_singles[OP_COUNT_];
static uint32_t ew_prev_op;

static void ew_profile_report(void)
{
  uint64_t total = 0;
  for (int i = 0; i < OP_COUNT_; i++) total += ew_singles[i];
  fprintf(stderr, "ew-profile: %llu dispatches\n", (unsigned long long)total);
  for (int round = 0; round < 2; round++) {
    for (int k = 0; k < (round ? 40 : 30); k++) {
      uint64_t best = 0; int bi = -1, bj = -1;
      for (int i = 0; i < OP_COUNT_; i++)
        for (int j = 0; j < (round ? OP_COUNT_ : 1); j++) {
          uint64_t v = round ? ew_pairs[i][j] : ew_singles[i];
          if (v > best) { best = v; bi = i; bj = j; }
        }
      if (bi < 0) break;
      if (round) {
        fprintf(stderr, "  pair %5.2f%% %s -> %s\n", 100.0 * best / total, ew_op_names[bi], ew_op_names[bj]);
        ew_pairs[bi][bj] = 0;
      } else {
        fprintf(stderr, "  op   %5.2f%% %s\n", 100.0 * best / total, ew_op_names[bi]);
        ew_singles[bi] = 0;
      }
    }
  }
}

static void ew_profile_count(uint32_t op)
{
  static int registered;
  if (!registered) { registered = 1; atexit(ew_profile_report); }
  ew_singles[op]++;
  ew_pairs[ew_prev_op][op]++;
  ew_prev_op = op;
}
#endif

/* ---- the loop ----------------------------------------------------------- */

/* Spend one unit of fuel; true (fuel left at 0) when there was none.  The
 * loop keeps fuel signed (unlimited is INT64_MAX there: 2^63 loop
 * iterations never end) so that this is a decrement and a sign test. */
static inline bool ew_take_fuel(int64_t *fuel)
{
  if (EW_UNLIKELY(--*fuel < 0)) {
    *fuel = 0;
    return true;
  }
  return false;
}


/* The loop, once with bounds comparisons and, where guard.c is built, once
 * without them for guarded memories (see interp_loop.h). */
#define EW_LOOP_FN ew_interp_checked
#define EW_LOOP_GUARDED 0
#include "interp_loop.h"
#undef EW_LOOP_FN
#undef EW_LOOP_GUARDED
#ifdef EW_GUARD_PAGES
#define EW_LOOP_FN ew_interp_guarded
#define EW_LOOP_GUARDED 1
#include "interp_loop.h"
#undef EW_LOOP_FN
#undef EW_LOOP_GUARDED
#endif

/* Run th from its saved state.  The guarded loop serves runs whose current
 * instance has a guarded memory; it hands back (EW_SWITCH_) when a call or
 * return enters an instance with a checked memory, and the rest of the run
 * is checked: the checked loop is right for every memory. */
ew_status ew_interp_run(ew_instance *th)
{
#ifdef EW_GUARD_PAGES
  const ew_instance *ci = th->saved_func->inst;
  const ew_memory *m0 = ci->module->nmems ? ci->mems[0] : NULL;
  if (m0 && m0->guarded) {
    ew_status st = ew_guard_run(th, ew_interp_guarded);
    if (st != EW_SWITCH_)
      return st;
  }
#endif
  return ew_interp_checked(th);
}
