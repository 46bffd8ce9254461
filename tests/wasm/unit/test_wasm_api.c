/* test_wasm_api.c - the engine's embedding API: per-instance import
 * linking, fuel suspend/resume, limits, host exit/suspend/traps, memory
 * access, and hostile modules (truncated, oversized LEBs, bad indices, deep
 * nesting, huge memories/tables, unsupported proposals).
 *
 * Modules are assembled here byte by byte with a tiny builder so every test
 * states exactly what it feeds the decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wasm.h"

/* ---- allocator that counts live blocks (leak check) ---------------------- */

static long live_blocks;
static void *t_alloc(void *ctx, size_t n) { (void)ctx; live_blocks++; return malloc(n); }
static void *t_realloc(void *ctx, void *p, size_t n)
{
  (void)ctx;
  if (!p) live_blocks++;
  return realloc(p, n);
}
static void t_free(void *ctx, void *p) { (void)ctx; if (p) live_blocks--; free(p); }
static const ew_allocator A = { t_alloc, t_realloc, t_free, NULL };

/* Every test runs twice: with checked memories, then (where the engine has
 * them) with guarded ones (ew_guard_enable; instances ask for them here). */
static int guard;
/* cmocka installs its own SIGSEGV handler around each test: put the
 * engine's back in front of it (it passes other faults on to cmocka's). */
static void rearm(void)
{
  if (guard)
    assert_true(ew_guard_enable());
}
static const ew_instance_config *plain_cfg(void)
{
  static ew_instance_config cfg;
  cfg.guard_memory = guard;
  return &cfg;
}

/* ---- module builder ----------------------------------------------------- */

typedef struct buf { uint8_t b[1 << 20]; size_t n; } buf;

static void put(buf *b, uint8_t x) { b->b[b->n++] = x; }
static void raw(buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void leb(buf *b, uint32_t v)
{
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    put(b, byte | (v ? 0x80 : 0));
  } while (v);
}
static void name(buf *b, const char *s) { leb(b, (uint32_t)strlen(s)); raw(b, s, strlen(s)); }
static void section(buf *m, uint8_t id, const buf *c) { put(m, id); leb(m, (uint32_t)c->n); raw(m, c->b, c->n); }
static buf *newbuf(void) { buf *b = calloc(1, sizeof *b); assert_non_null(b); return b; }
static void header(buf *m) { raw(m, "\0asm\1\0\0\0", 8); }

/* A module from pieces: types "p:r" strings like "i:i" (params:results with
 * i=i32 I=i64), imports "mod.field:typeidx" of functions, one body per
 * defined function (type index first byte), optional memory, exports of
 * function index by name. */
typedef struct spec {
  const char *types[4];
  const char *imports[4];
  int import_type[4];
  int func_type[4];
  const uint8_t *bodies[4];
  size_t body_len[4];
  int memory_min, memory_max;   /* -1: none */
  const char *exports[4];
  int export_func[4];
} spec;

static uint8_t vt(char c) { return c == 'i' ? 0x7f : c == 'I' ? 0x7e : c == 'f' ? 0x7d : 0x7c; }

static void build(buf *m, const spec *s)
{
  buf *c = newbuf();
  header(m);
  int nt = 0;
  while (nt < 4 && s->types[nt]) nt++;
  leb(c, (uint32_t)nt);
  for (int i = 0; i < nt; i++) {
    const char *t = s->types[i], *colon = strchr(t, ':');
    put(c, 0x60);
    leb(c, (uint32_t)(colon - t));
    for (const char *p = t; p < colon; p++) put(c, vt(*p));
    leb(c, (uint32_t)strlen(colon + 1));
    for (const char *p = colon + 1; *p; p++) put(c, vt(*p));
  }
  section(m, 1, c);
  int ni = 0;
  while (ni < 4 && s->imports[ni]) ni++;
  if (ni) {
    c->n = 0;
    leb(c, (uint32_t)ni);
    for (int i = 0; i < ni; i++) {
      char mod[64];
      const char *dot = strchr(s->imports[i], '.');
      memcpy(mod, s->imports[i], (size_t)(dot - s->imports[i]));
      mod[dot - s->imports[i]] = 0;
      name(c, mod);
      name(c, dot + 1);
      put(c, 0);
      leb(c, (uint32_t)s->import_type[i]);
    }
    section(m, 2, c);
  }
  int nf = 0;
  while (nf < 4 && s->bodies[nf]) nf++;
  c->n = 0;
  leb(c, (uint32_t)nf);
  for (int i = 0; i < nf; i++) leb(c, (uint32_t)s->func_type[i]);
  section(m, 3, c);
  if (s->memory_min >= 0) {
    c->n = 0;
    leb(c, 1);
    put(c, s->memory_max >= 0 ? 1 : 0);
    leb(c, (uint32_t)s->memory_min);
    if (s->memory_max >= 0) leb(c, (uint32_t)s->memory_max);
    section(m, 5, c);
  }
  int ne = 0;
  while (ne < 4 && s->exports[ne]) ne++;
  c->n = 0;
  leb(c, (uint32_t)ne);
  for (int i = 0; i < ne; i++) {
    name(c, s->exports[i]);
    put(c, 0);
    leb(c, (uint32_t)s->export_func[i]);
  }
  section(m, 7, c);
  c->n = 0;
  leb(c, (uint32_t)nf);
  for (int i = 0; i < nf; i++) {
    leb(c, (uint32_t)s->body_len[i]);
    raw(c, s->bodies[i], s->body_len[i]);
  }
  section(m, 10, c);
  free(c);
}

#define SET_BODY(s, i, ...) do { static const uint8_t body_[] = { __VA_ARGS__ }; \
    (s).bodies[i] = body_; (s).body_len[i] = sizeof body_; } while (0)

static ew_module *load(const buf *m, ew_error *err)
{
  return ew_module_new(&A, m->b, m->n, err);
}

/* ---- per-instance linking ------------------------------------------------ */

static int host_get(ew_instance *inst, void *ctx, const ew_value *args, ew_value *res)
{
  (void)inst; (void)args;
  res[0].i32 = *(int *)ctx;
  return 0;
}

typedef struct grant { int allow; int value; } grant;

static int resolver(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  grant *g = ctx;
  if (!g->allow || strcmp(imp->module, "env") != 0 || strcmp(imp->name, "get") != 0)
    return -1;
  out->kind = EW_EXTERN_FUNC;
  out->u.func.func = NULL;
  out->u.func.host = host_get;
  out->u.func.host_ctx = &g->value;
  return 0;
}

static void build_import_module(buf *m)
{
  /* (import "env" "get" (func (result i32)))
   * (func (export "run") (result i32) (i32.add (call 0) (i32.const 1))) */
  spec s = { .types = { ":i" }, .imports = { "env.get" }, .import_type = { 0 },
             .func_type = { 0 }, .memory_min = -1, .exports = { "run" }, .export_func = { 1 } };
  SET_BODY(s, 0, 0x00, 0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b);
  build(m, &s);
}

static void test_linking_per_instance(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  build_import_module(m);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);
  ew_import_info info;
  assert_int_equal(ew_module_import_count(mod), 1);
  assert_int_equal(ew_module_import(mod, 0, &info), 0);
  assert_string_equal(info.module, "env");
  assert_string_equal(info.name, "get");
  assert_int_equal(info.func.nresults, 1);

  grant denied = { 0, 0 }, g1 = { 1, 41 }, g2 = { 1, 99 };
  ew_instance_config cfg = { NULL, resolver, &denied, NULL, 0, guard };
  ew_instance *bad = ew_instance_new(mod, &A, &cfg, &err);
  assert_null(bad);
  assert_int_equal(err.kind, EW_ERR_LINK);
  assert_non_null(strstr(err.message, "env.get"));

  cfg.resolve_ctx = &g1;
  ew_instance *i1 = ew_instance_new(mod, &A, &cfg, &err);
  cfg.resolve_ctx = &g2;
  ew_instance *i2 = ew_instance_new(mod, &A, &cfg, &err);
  assert_non_null(i1);
  assert_non_null(i2);
  ew_value r;
  assert_int_equal(ew_call(i1, ew_instance_func(i1, "run"), NULL, 0, &r, 1), EW_OK);
  assert_int_equal(r.i32, 42);
  assert_int_equal(ew_call(i2, ew_instance_func(i2, "run"), NULL, 0, &r, 1), EW_OK);
  assert_int_equal(r.i32, 100);
  /* wrong arity is refused, not crashed */
  assert_int_equal(ew_call(i1, ew_instance_func(i1, "run"), NULL, 0, &r, 0), EW_TRAP);
  assert_int_equal(ew_trap_kind(i1), EW_TRAP_BAD_ARGS);
  ew_instance_free(i1);
  ew_instance_free(i2);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* Blocks, if/else, br_table, memory, multi-value: a richer mutation seed.
 * (func (export "run") (param i32) (result i32) (local i64)
 *   (block (block (br_table 0 1 (local.get 0))))
 *   (if (result i32) (local.get 0) (then (i32.load (i32.const 4))) (else (i32.const 7)))
 *   (i64.store (i32.const 8) (local.tee 1 (i64.extend_i32_u (memory.grow (i32.const 1)))))
 *   (local.get 0) i32.add) */
static void build_control_module(buf *m)
{
  spec s = { .types = { "i:i" }, .func_type = { 0 }, .memory_min = 1, .memory_max = 2,
             .exports = { "run" }, .export_func = { 0 } };
  SET_BODY(s, 0, 0x01, 0x01, 0x7e,
           0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b, 0x0b,
           0x20, 0x00, 0x04, 0x7f, 0x41, 0x04, 0x28, 0x02, 0x00, 0x05, 0x41, 0x07, 0x0b,
           0x41, 0x08, 0x41, 0x01, 0x40, 0x00, 0xad, 0x22, 0x01, 0x37, 0x03, 0x00,
           0x20, 0x00, 0x6a, 0x0b);
  build(m, &s);
}

/* ---- fuel ---------------------------------------------------------------- */

static void build_sum_module(buf *m)
{
  /* ...and (func (export "count") (param i32) (result i32) (local i32 i32)
   *   (loop (local.set 2 (i32.add (local.get 2) (local.get 1)))
   *         (br_if 0 (i32.ne (local.tee 1 (i32.add (local.get 1) (i32.const 1)))
   *                          (local.get 0))))
   *   (local.get 2))   - compiled to fused add+compare+branch ops */
  /* (func (export "sum") (param i32) (result i32) (local i32)
   *   (loop (local.set 1 (i32.add (local.get 1) (local.get 0)))
   *         (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
   *   (local.get 1)) */
  spec s = { .types = { "i:i" }, .func_type = { 0, 0 }, .memory_min = -1,
             .exports = { "sum", "count" }, .export_func = { 0, 1 } };
  SET_BODY(s, 1, 0x01, 0x02, 0x7f, 0x03, 0x40, 0x20, 0x02, 0x20, 0x01, 0x6a, 0x21, 0x02,
           0x20, 0x01, 0x41, 0x01, 0x6a, 0x22, 0x01, 0x20, 0x00, 0x47, 0x0d, 0x00, 0x0b,
           0x20, 0x02, 0x0b);
  SET_BODY(s, 0, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x6a, 0x21, 0x01,
                     0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b);
  build(m, &s);
}

static void test_fuel_suspend_resume(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  build_sum_module(m);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);
  ew_instance *inst = ew_instance_new(mod, &A, plain_cfg(), &err);
  assert_non_null(inst);
  ew_func *f = ew_instance_func(inst, "sum");
  ew_value arg = { .i32 = 10000 }, unmetered, metered;
  assert_int_equal(ew_call(inst, f, &arg, 1, &unmetered, 1), EW_OK);
  assert_int_equal(unmetered.i32, 50005000);
  assert_true(ew_fuel(inst) == EW_FUEL_UNLIMITED);

  ew_set_fuel(inst, 100);
  int suspensions = 0;
  ew_status st = ew_call(inst, f, &arg, 1, &metered, 1);
  while (st == EW_OUT_OF_FUEL) {
    assert_true(ew_is_suspended(inst));
    assert_int_equal(ew_fuel(inst), 0);
    suspensions++;
    /* a suspended instance refuses a new call */
    ew_value tmp;
    assert_int_equal(ew_call(inst, f, &arg, 1, &tmp, 1), EW_TRAP);
    ew_set_fuel(inst, 100);
    st = ew_resume(inst);
  }
  assert_int_equal(st, EW_OK);
  assert_int_equal(metered.i32, unmetered.i32);
  assert_true(suspensions >= 99 && suspensions <= 101);

  /* the same through fused add+compare+branch ops */
  ew_func *count = ew_instance_func(inst, "count");
  assert_non_null(count);
  ew_value plain, sliced;
  ew_set_fuel(inst, EW_FUEL_UNLIMITED);
  assert_int_equal(ew_call(inst, count, &arg, 1, &plain, 1), EW_OK);
  assert_int_equal(plain.i32, 49995000);
  ew_set_fuel(inst, 7);
  suspensions = 0;
  for (st = ew_call(inst, count, &arg, 1, &sliced, 1); st == EW_OUT_OF_FUEL; st = ew_resume(inst)) {
    suspensions++;
    ew_set_fuel(inst, 7);
  }
  assert_int_equal(st, EW_OK);
  assert_int_equal(sliced.i32, plain.i32);
  assert_true(suspensions >= 1400 && suspensions <= 1450);

  /* abort drops the suspended call */
  ew_set_fuel(inst, 5);
  assert_int_equal(ew_call(inst, f, &arg, 1, &metered, 1), EW_OUT_OF_FUEL);
  ew_abort(inst);
  assert_false(ew_is_suspended(inst));
  ew_set_fuel(inst, EW_FUEL_UNLIMITED);
  assert_int_equal(ew_call(inst, f, &arg, 1, &metered, 1), EW_OK);
  assert_int_equal(metered.i32, unmetered.i32);
  ew_instance_free(inst);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* A br_table entry that targets an enclosing loop jumps backward: its
 * offset once wrapped through an unsigned index (~16 GiB past the code,
 * SIGSEGV even with fuel).  `(loop $l (br_table $l (i32.const 0)))` must
 * spin, one unit of fuel per iteration, and stop when the fuel runs out;
 * `(block $b (loop $l (br_table $l $b (local.get 0) ...` counts down. */
static void test_br_table_to_loop(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  spec s = { .types = { ":", "i:i" }, .func_type = { 0, 1 }, .memory_min = -1,
             .exports = { "spin", "count" }, .export_func = { 0, 1 } };
  SET_BODY(s, 0, 0x00, 0x03, 0x40, 0x41, 0x00, 0x0e, 0x00, 0x00, 0x0b, 0x0b);
  /* (local $r i32) (block $b (loop $l
   *   local.get 0 i32.eqz  -> 0 while n != 0: back to $l, else out to $b
   *   local.get 0 i32.const 1 i32.sub local.set 0
   *   local.get $r i32.const 3 i32.add local.set $r
   *   br_table $l $b)) local.get $r */
  SET_BODY(s, 1, 0x01, 0x01, 0x7f, 0x02, 0x40, 0x03, 0x40,
           0x20, 0x00, 0x45,
           0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00,
           0x20, 0x01, 0x41, 0x03, 0x6a, 0x21, 0x01,
           0x0e, 0x01, 0x00, 0x01, 0x0b, 0x0b, 0x20, 0x01, 0x0b);
  build(m, &s);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);
  ew_instance *inst = ew_instance_new(mod, &A, plain_cfg(), &err);
  assert_non_null(inst);
  ew_set_fuel(inst, 1000);
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "spin"), NULL, 0, NULL, 0), EW_OUT_OF_FUEL);
  for (int i = 0; i < 3; i++) {
    ew_set_fuel(inst, 50);
    assert_int_equal(ew_resume(inst), EW_OUT_OF_FUEL);
  }
  ew_abort(inst);
  ew_value n = { .i32 = 100 }, r;
  ew_set_fuel(inst, EW_FUEL_UNLIMITED);
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "count"), &n, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 303);
  ew_set_fuel(inst, 2);
  ew_status st = ew_call(inst, ew_instance_func(inst, "count"), &n, 1, &r, 1);
  int slices = 0;
  for (; st == EW_OUT_OF_FUEL; st = ew_resume(inst), slices++)
    ew_set_fuel(inst, 2);
  assert_int_equal(st, EW_OK);
  assert_int_equal(r.i32, 303);
  assert_true(slices >= 45 && slices <= 55);
  ew_instance_free(inst);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* ---- limits -------------------------------------------------------------- */

static void test_limits(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  /* memory 2 (no max); (func (export "grow") (param i32) (result i32) memory.grow)
   * (func (export "rec") (call 1)) */
  spec s = { .types = { "i:i", ":" }, .func_type = { 0, 1 }, .memory_min = 2, .memory_max = -1,
             .exports = { "grow", "rec" }, .export_func = { 0, 1 } };
  SET_BODY(s, 0, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b);
  SET_BODY(s, 1, 0x00, 0x10, 0x01, 0x0b);
  build(m, &s);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);

  ew_limits lim;
  ew_limits_default(&lim);
  lim.max_memory_pages = 1;
  ew_instance_config cfg = { &lim, NULL, NULL, NULL, 0, guard };
  assert_null(ew_instance_new(mod, &A, &cfg, &err));
  assert_int_equal(err.kind, EW_ERR_LIMIT);

  lim.max_memory_pages = 3;
  lim.max_call_depth = 50;
  ew_instance *inst = ew_instance_new(mod, &A, &cfg, &err);
  assert_non_null(inst);
  ew_value a = { .i32 = 1 }, r;
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "grow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 2);
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "grow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, -1);
  assert_int_equal(ew_memory_size(inst), 3 * 65536);
  assert_non_null(ew_memory_ptr(inst, 3 * 65536 - 4, 4));
  assert_null(ew_memory_ptr(inst, 3 * 65536 - 3, 4));
  assert_null(ew_memory_ptr(inst, UINT64_MAX, 2));

  assert_int_equal(ew_call(inst, ew_instance_func(inst, "rec"), NULL, 0, NULL, 0), EW_TRAP);
  assert_int_equal(ew_trap_kind(inst), EW_TRAP_CALL_STACK_EXHAUSTED);
  assert_string_equal(ew_trap_name(EW_TRAP_CALL_STACK_EXHAUSTED), "call stack exhausted");
  /* still usable after the trap */
  a.i32 = 0;
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "grow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 3);
  ew_instance_free(inst);

  /* a tiny value stack also traps cleanly */
  lim.max_call_depth = 100000;
  lim.value_stack_bytes = 4096;
  inst = ew_instance_new(mod, &A, &cfg, &err);
  assert_non_null(inst);
  assert_int_equal(ew_call(inst, ew_instance_func(inst, "rec"), NULL, 0, NULL, 0), EW_TRAP);
  assert_int_equal(ew_trap_kind(inst), EW_TRAP_CALL_STACK_EXHAUSTED);
  ew_instance_free(inst);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* ---- the instance's byte budget ----------------------------------------- */

/* ntables tables of `min` entries each (no max), optionally a memory of
 * `pages`, and (func (export "tgrow") (param i32) (result i32) table.grow 0
 * by the argument), (func (export "mgrow") (param i32) (result i32)
 * memory.grow) when there is a memory; exports its first table as "t".
 * Imports table 0 from "env"."t" when `import_table`. */
static void build_tables_module(buf *m, uint32_t ntables, uint32_t min, int pages,
                                int import_table)
{
  buf *c = newbuf();
  header(m);
  static const uint8_t type[] = { 1, 0x60, 1, 0x7f, 1, 0x7f };
  raw(c, type, sizeof type);
  section(m, 1, c);
  if (import_table) {
    c->n = 0;
    leb(c, 1);
    name(c, "env");
    name(c, "t");
    put(c, 1); put(c, 0x70); put(c, 0); leb(c, 0);
    section(m, 2, c);
  }
  c->n = 0;
  leb(c, pages >= 0 ? 2 : 1);
  put(c, 0);
  if (pages >= 0) put(c, 0);
  section(m, 3, c);
  c->n = 0;
  leb(c, ntables);
  for (uint32_t i = 0; i < ntables; i++) { put(c, 0x70); put(c, 0); leb(c, min); }
  section(m, 4, c);
  if (pages >= 0) {
    c->n = 0;
    leb(c, 1); put(c, 0); leb(c, (uint32_t)pages);
    section(m, 5, c);
  }
  c->n = 0;
  leb(c, (pages >= 0 ? 2 : 1) + (ntables ? 1 : 0));
  name(c, "tgrow"); put(c, 0); leb(c, 0);
  if (pages >= 0) { name(c, "mgrow"); put(c, 0); leb(c, 1); }
  if (ntables) { name(c, "t"); put(c, 1); leb(c, import_table ? 1 : 0); }
  section(m, 7, c);
  c->n = 0;
  static const uint8_t tgrow[] = { 9, 0, 0xd0, 0x70, 0x20, 0, 0xfc, 0x0f, 0, 0x0b };
  static const uint8_t mgrow[] = { 6, 0, 0x20, 0, 0x40, 0, 0x0b };
  leb(c, pages >= 0 ? 2 : 1);
  raw(c, tgrow, sizeof tgrow);
  if (pages >= 0) raw(c, mgrow, sizeof mgrow);
  section(m, 10, c);
  free(c);
}

static int grant_table(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  (void)imp;
  out->kind = EW_EXTERN_TABLE;
  out->u.table = ctx;
  return 0;
}

/* One budget per instance covers all its tables, its memory, and what else
 * it holds: many tables each under the per-table cap no longer add up to
 * gigabytes (a 1.2 KB module reached 15.6 GB), and table.grow /
 * memory.grow return -1 past the budget, whoever grows the object. */
static void test_instance_budget(void **state)
{
  (void)state;
  rearm();
  ew_error err;
  buf *m = newbuf();
  /* 300 tables of 1 000 000 entries: 2.4 GB on a 64-bit host */
  build_tables_module(m, 300, 1000000, -1, 0);
  ew_module *mod = load(m, &err);
  if (!mod) fail_msg("module rejected: %s at %u", err.message, err.offset);
  ew_limits lim;
  ew_limits_default(&lim);
  assert_true(lim.max_instance_bytes == EW_DEFAULT_INSTANCE_BYTES);
  /* a budget of 64 MiB: the 9th table (8 MB each) does not fit */
  lim.max_instance_bytes = 64u << 20;
  ew_instance_config cfg = { &lim, NULL, NULL, NULL, 0, guard };
  assert_null(ew_instance_new(mod, &A, &cfg, &err));
  assert_int_equal(err.kind, EW_ERR_LIMIT);
  if (!strstr(err.message, "budget exceeded by table 8 (8000000 bytes;"))
    fail_msg("message \"%s\" names neither the budget nor the table", err.message);
  ew_module_free(mod);

  /* a budget of 8 MiB: the fixed part (stacks, code) and 1 table of
   * 100 000 entries (800 KB) fit; grows stop at the budget with -1 */
  lim.max_instance_bytes = 8u << 20;
  m->n = 0;
  build_tables_module(m, 1, 100000, 1, 0);
  mod = load(m, &err);
  assert_non_null(mod);
  ew_instance *inst = ew_instance_new(mod, &A, &cfg, &err);
  if (!inst)
    fail_msg("instantiation failed: %s", err.message);
  uint64_t base = ew_instance_bytes(inst);
  assert_true(base > 100000 * sizeof(void *) + 65536 && base < (4u << 20));
  ew_func *tgrow = ew_instance_func(inst, "tgrow"), *mgrow = ew_instance_func(inst, "mgrow");
  ew_value a = { .i32 = 200000 }, r;
  assert_int_equal(ew_call(inst, tgrow, &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 100000);
  assert_int_equal(ew_instance_bytes(inst), base + 200000 * sizeof(void *));
  assert_true(ew_instance_refused_grow(inst, NULL) == 0);
  a.i32 = 900000;                   /* under the per-table cap, over the budget */
  assert_int_equal(ew_call(inst, tgrow, &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, -1);
  int is_table = 0;
  assert_true(ew_instance_refused_grow(inst, &is_table) == 900000u * sizeof(void *));
  assert_int_equal(is_table, 1);
  a.i32 = 200;                      /* 13 MB of memory: over */
  assert_int_equal(ew_call(inst, mgrow, &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, -1);
  assert_true(ew_instance_refused_grow(inst, &is_table) == 200u * 65536);
  assert_int_equal(is_table, 0);
  a.i32 = 4;                        /* 256 KiB: fits */
  assert_int_equal(ew_call(inst, mgrow, &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 1);
  assert_int_equal(ew_memory_size(inst), 5 * 65536);

  /* another instance importing that table grows it on the owner's budget */
  buf *m2 = newbuf();
  build_tables_module(m2, 0, 0, -1, 1);
  ew_module *mod2 = load(m2, &err);
  assert_non_null(mod2);
  ew_extern t;
  assert_int_equal(ew_instance_export(inst, "t", &t), 0);
  ew_instance_config icfg = { &lim, grant_table, t.u.table, NULL, 0, guard };
  ew_instance *imp = ew_instance_new(mod2, &A, &icfg, &err);
  if (!imp)
    fail_msg("instantiation failed: %s", err.message);
  uint64_t owner_before = ew_instance_bytes(inst), imp_before = ew_instance_bytes(imp);
  a.i32 = 100000;
  assert_int_equal(ew_call(imp, ew_instance_func(imp, "tgrow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 300000);
  assert_int_equal(ew_instance_bytes(inst), owner_before + 100000 * sizeof(void *));
  assert_int_equal(ew_instance_bytes(imp), imp_before);
  a.i32 = 1000000;
  assert_int_equal(ew_call(imp, ew_instance_func(imp, "tgrow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, -1);
  ew_instance_free(imp);
  ew_instance_free(inst);
  ew_module_free(mod);

  /* a table made by the embedder has no budget, only its own max */
  ew_table *host = ew_table_new(&A, (ew_tabletype){ EW_FUNCREF, { 0, 1000 } });
  assert_non_null(host);
  icfg.resolve_ctx = host;
  imp = ew_instance_new(mod2, &A, &icfg, &err);
  if (!imp)
    fail_msg("instantiation failed: %s", err.message);
  a.i32 = 1000;
  assert_int_equal(ew_call(imp, ew_instance_func(imp, "tgrow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, 0);
  a.i32 = 1;
  assert_int_equal(ew_call(imp, ew_instance_func(imp, "tgrow"), &a, 1, &r, 1), EW_OK);
  assert_int_equal(r.i32, -1);
  ew_instance_free(imp);
  ew_table_free(host);
  ew_module_free(mod2);

  /* a budget smaller than the stacks: refused, naming them */
  lim.max_instance_bytes = 64 * 1024;
  m->n = 0;
  build_tables_module(m, 1, 0, -1, 0);
  mod = load(m, &err);
  assert_non_null(mod);
  assert_null(ew_instance_new(mod, &A, &cfg, &err));
  assert_int_equal(err.kind, EW_ERR_LIMIT);
  if (!strstr(err.message, "value stack"))
    fail_msg("message \"%s\" does not name the value stack", err.message);
  ew_module_free(mod);
  free(m);
  free(m2);
  assert_int_equal(live_blocks, 0);
}

/* ---- host exit / suspend / trap ----------------------------------------- */

static int host_ctl(ew_instance *inst, void *ctx, const ew_value *args, ew_value *res)
{
  (void)res;
  int *calls = ctx;
  (*calls)++;
  switch (args[0].i32) {
  case 0: return ew_host_exit(inst, 7);
  case 1: return ew_host_suspend(inst);
  default: return ew_host_trap(inst, "denied by host");
  }
}

static int ctl_resolver(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  (void)imp;
  out->kind = EW_EXTERN_FUNC;
  out->u.func.func = NULL;
  out->u.func.host = host_ctl;
  out->u.func.host_ctx = ctx;
  return 0;
}

static void test_host_control(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  /* (import "env" "ctl" (func (param i32)))
   * (func (export "go") (param i32) (result i32) (call 0 (local.get 0)) (i32.const 5)) */
  spec s = { .types = { "i:", "i:i" }, .imports = { "env.ctl" }, .import_type = { 0 },
             .func_type = { 1 }, .memory_min = -1, .exports = { "go" }, .export_func = { 1 } };
  SET_BODY(s, 0, 0x00, 0x20, 0x00, 0x10, 0x00, 0x41, 0x05, 0x0b);
  build(m, &s);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);
  int calls = 0;
  ew_instance_config cfg = { NULL, ctl_resolver, &calls, &calls, 0, guard };
  ew_instance *inst = ew_instance_new(mod, &A, &cfg, &err);
  assert_non_null(inst);
  assert_ptr_equal(ew_instance_user_data(inst), &calls);
  ew_func *go = ew_instance_func(inst, "go");
  ew_value a = { .i32 = 0 }, r = { .i32 = 0 };
  assert_int_equal(ew_call(inst, go, &a, 1, &r, 1), EW_EXIT);
  assert_int_equal(ew_exit_code(inst), 7);
  a.i32 = 1;
  assert_int_equal(ew_call(inst, go, &a, 1, &r, 1), EW_SUSPENDED);
  assert_int_equal(ew_resume(inst), EW_OK);
  assert_int_equal(r.i32, 5);
  a.i32 = 2;
  assert_int_equal(ew_call(inst, go, &a, 1, &r, 1), EW_TRAP);
  assert_int_equal(ew_trap_kind(inst), EW_TRAP_HOST);
  assert_string_equal(ew_trap_message(inst), "denied by host");
  assert_int_equal(calls, 3);
  ew_instance_free(inst);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* ---- hostile modules ----------------------------------------------------- */

static void expect_reject(const uint8_t *bytes, size_t n, ew_error_kind kind, const char *needle)
{
  ew_error err;
  ew_module *mod = ew_module_new(&A, bytes, n, &err);
  assert_null(mod);
  assert_int_equal(err.kind, kind);
  assert_true(err.offset <= n);
  if (needle && !strstr(err.message, needle))
    fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_truncated_everywhere(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  build_sum_module(m);
  /* every strict prefix is malformed, never a crash; offsets stay in range */
  for (size_t n = 0; n < m->n; n++) {
    ew_error err;
    ew_module *mod = ew_module_new(&A, m->b, n, &err);
    size_t func_section = 8 + 2 + m->b[9];
    if (mod) {
      /* only the header alone or header + type section are whole modules */
      if (n != 8 && n != func_section)
        fail_msg("prefix of %zu bytes accepted", n);
      ew_module_free(mod);
      continue;
    }
    assert_true(err.offset <= n);
    assert_int_equal(err.kind, EW_ERR_MALFORMED);
  }
  free(m);
  assert_int_equal(live_blocks, 0);
}

static void test_hostile(void **state)
{
  (void)state;
  rearm();
  /* oversized LEB for the type count */
  static const uint8_t leb6[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 7, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x60 };
  expect_reject(leb6, sizeof leb6, EW_ERR_MALFORMED, "integer representation too long");
  /* function with an unknown type index */
  static const uint8_t badtype[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 3, 2, 1, 5, 10, 4, 1, 2, 0, 0x0b };
  expect_reject(badtype, sizeof badtype, EW_ERR_INVALID, "unknown type");
  /* body calling function 9 of 1: invalid, names the function index */
  static const uint8_t badcall[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                     10, 6, 1, 4, 0, 0x10, 9, 0x0b };
  ew_error err;
  assert_null(ew_module_new(&A, badcall, sizeof badcall, &err));
  assert_int_equal(err.kind, EW_ERR_INVALID);
  assert_int_equal(err.func_index, 0);
  assert_non_null(strstr(err.message, "unknown function"));
  assert_int_equal(err.offset, 23);   /* the call instruction */
  /* SIMD value type: rejected naming the feature */
  static const uint8_t simd[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 1, 0x7b, 0 };
  expect_reject(simd, sizeof simd, EW_ERR_UNSUPPORTED, "SIMD");
  /* shared memory: threads */
  static const uint8_t shared[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 3, 1, 1 };
  expect_reject(shared, sizeof shared, EW_ERR_UNSUPPORTED, "threads");
  /* atomic opcode prefix in a body */
  static const uint8_t atomic[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                    10, 6, 1, 4, 0, 0xfe, 0x03, 0x0b };
  expect_reject(atomic, sizeof atomic, EW_ERR_UNSUPPORTED, "threads");
  /* exception handling: try */
  static const uint8_t eh[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                10, 7, 1, 5, 0, 0x06, 0x40, 0x0b, 0x0b };
  expect_reject(eh, sizeof eh, EW_ERR_UNSUPPORTED, "exception");

  /* deep nesting: 300000 blocks - rejected by the nesting limit, no crash */
  buf *m = newbuf();
  header(m);
  static const uint8_t types[] = { 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0 };
  raw(m, types, sizeof types);
  buf *body = newbuf();
  put(body, 0);
  for (int i = 0; i < 300000; i++) { put(body, 0x02); put(body, 0x40); }
  for (int i = 0; i < 300000; i++) put(body, 0x0b);
  put(body, 0x0b);
  buf *code = newbuf();
  leb(code, 1);
  leb(code, (uint32_t)body->n);
  raw(code, body->b, body->n);
  section(m, 10, code);
  expect_reject(m->b, m->n, EW_ERR_LIMIT, "nested");
  free(body);
  free(code);

  /* huge memory: valid module, refused by the instance limit */
  m->n = 0;
  header(m);
  static const uint8_t bigmem[] = { 5, 5, 1, 0, 0x80, 0x80, 0x04 };   /* min 65536 pages */
  raw(m, bigmem, sizeof bigmem);
  ew_module *mod = ew_module_new(&A, m->b, m->n, &err);
  assert_non_null(mod);
  ew_limits lim;
  ew_limits_default(&lim);
  lim.max_memory_pages = 16;
  ew_instance_config cfg = { &lim, NULL, NULL, NULL, 0, guard };
  assert_null(ew_instance_new(mod, &A, &cfg, &err));
  assert_int_equal(err.kind, EW_ERR_LIMIT);
  ew_module_free(mod);

  /* huge table: min 0xffffffff */
  m->n = 0;
  header(m);
  static const uint8_t bigtab[] = { 4, 8, 1, 0x70, 0, 0xff, 0xff, 0xff, 0xff, 0x0f };
  raw(m, bigtab, sizeof bigtab);
  mod = ew_module_new(&A, m->b, m->n, &err);
  assert_non_null(mod);
  assert_null(ew_instance_new(mod, &A, plain_cfg(), &err));
  assert_int_equal(err.kind, EW_ERR_LIMIT);
  ew_module_free(mod);

  /* memory over 4 GiB: invalid */
  m->n = 0;
  header(m);
  static const uint8_t toobig[] = { 5, 5, 1, 0, 0x81, 0x80, 0x04 };
  raw(m, toobig, sizeof toobig);
  expect_reject(m->b, m->n, EW_ERR_INVALID, "65536");
  free(m);
  assert_int_equal(live_blocks, 0);
}

/* Random byte flips of a valid module: must never crash or leak. */
static void test_mutations(void **state)
{
  (void)state;
  rearm();
  for (int base = 0; base < 3; base++) {
  buf *m = newbuf();
  if (base == 0)
    build_import_module(m);
  else if (base == 1)
    build_sum_module(m);
  else
    build_control_module(m);
  ew_error berr;
  ew_module *valid = load(m, &berr);
  if (!valid)
    fail_msg("seed module %d rejected: %s at %u", base, berr.message, berr.offset);
  ew_module_free(valid);
  uint32_t seed = 12345u + (uint32_t)base;
  uint8_t copy[256];
  assert_true(m->n <= sizeof copy);
  for (int round = 0; round < 20000; round++) {
    memcpy(copy, m->b, m->n);
    for (int k = 0; k < 3; k++) {
      seed = seed * 1103515245u + 12345u;
      copy[(seed >> 8) % m->n] = (uint8_t)(seed >> 20);
    }
    ew_error err;
    ew_module *mod = ew_module_new(&A, copy, m->n, &err);
    if (mod) {
      grant g = { 1, 1 };
      ew_instance_config cfg = { NULL, resolver, &g, NULL, 0, guard };
      ew_instance *inst = ew_instance_new(mod, &A, &cfg, &err);
      ew_func *f = inst ? ew_instance_func(inst, "run") : NULL;
      if (f) {
        ew_functype t = ew_func_type(f);
        ew_value args[8] = { { 0 } }, res[8];
        ew_set_fuel(inst, 1000);
        if (t.nparams <= 8 && t.nresults <= 8)
          ew_call(inst, f, args, t.nparams, res, t.nresults);
      }
      ew_instance_free(inst ? inst : err.instance);
      ew_module_free(mod);
    } else {
      assert_true(err.offset <= m->n);
      assert_true(err.message[0] != 0);
    }
    if (live_blocks != 0) {
      for (size_t i = 0; i < m->n; i++)
        print_error("%02x ", copy[i]);
      fail_msg("leak after round %d", round);
    }
  }
  free(m);
  }
  assert_int_equal(live_blocks, 0);
}

/* An instance that traps during instantiation stays in the store: here its
 * element segment already put one of its functions into a table owned by
 * another instance, then its start function traps.  ew_instance_new hands
 * it over in err.instance; calling the function through the table works
 * and freeing everything afterwards leaks nothing. */
static int resolve_tab(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  (void)imp;
  return ew_instance_export((ew_instance *)ctx, "tab", out);
}

static void test_trapped_instance_kept(void **state)
{
  (void)state;
  rearm();
  /* (table (export "tab") 2 funcref)
   * (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))) */
  static const uint8_t owner[] = {
    0,97,115,109,1,0,0,0,1,10,2,96,0,1,127,96,1,127,1,127,3,2,1,1,4,4,1,112,0,2,7,14,2,3,116,
    97,98,1,0,4,99,97,108,108,0,0,10,9,1,7,0,32,0,17,0,0,11 };
  /* (import "a" "tab" (table 2 funcref)) (elem (i32.const 0) $f)
   * (func $f (result i32) (i32.const 42)) (func $s unreachable) (start $s) */
  static const uint8_t user[] = {
    0,97,115,109,1,0,0,0,1,8,2,96,0,1,127,96,0,0,2,11,1,1,97,3,116,97,98,1,112,0,2,3,3,2,0,1,
    8,1,1,9,7,1,0,65,0,11,1,0,10,10,2,4,0,65,42,11,3,0,0,11 };
  ew_error err;
  ew_module *ma = ew_module_new(&A, owner, sizeof owner, &err);
  ew_module *mb = ew_module_new(&A, user, sizeof user, &err);
  assert_non_null(ma);
  assert_non_null(mb);
  ew_instance *ia = ew_instance_new(ma, &A, plain_cfg(), &err);
  assert_non_null(ia);
  ew_instance_config cfg = { NULL, resolve_tab, ia, NULL, 0, guard };
  assert_null(ew_instance_new(mb, &A, &cfg, &err));
  assert_int_equal(err.kind, EW_ERR_TRAP);
  assert_int_equal(err.trap, EW_TRAP_UNREACHABLE);
  assert_non_null(err.instance);
  ew_value arg = { .u64 = 0 }, res;
  assert_int_equal(ew_call(ia, ew_instance_func(ia, "call"), &arg, 1, &res, 1), EW_OK);
  assert_int_equal(res.i32, 42);
  /* a link error frees the failed instance itself */
  ew_error err2;
  ew_instance_config deny = { NULL, NULL, NULL, NULL, 0, guard };
  assert_null(ew_instance_new(mb, &A, &deny, &err2));
  assert_int_equal(err2.kind, EW_ERR_LINK);
  assert_null(err2.instance);
  ew_instance_free(err.instance);
  ew_instance_free(ia);
  ew_module_free(mb);
  ew_module_free(ma);
  assert_int_equal(live_blocks, 0);
}

/* Constant expressions: extended-const arithmetic is outside the engine's
 * scope and says so; two constants without an operator stay invalid. */
static void test_extended_const_named(void **state)
{
  (void)state;
  rearm();
  /* global section: (global i32 (i32.add (i32.const 1) (i32.const 2))) */
  static const uint8_t ext[] = { 0,97,115,109,1,0,0,0, 6,9,1, 0x7f,0, 0x41,1, 0x41,2, 0x6a, 0x0b };
  /* (global i32 (i32.const 1) (i32.const 2)) */
  static const uint8_t two[] = { 0,97,115,109,1,0,0,0, 6,8,1, 0x7f,0, 0x41,1, 0x41,2, 0x0b };
  ew_error err;
  assert_null(ew_module_new(&A, ext, sizeof ext, &err));
  assert_int_equal(err.kind, EW_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "extended constant expressions"));
  assert_null(ew_module_new(&A, two, sizeof two, &err));
  assert_int_equal(err.kind, EW_ERR_INVALID);
  assert_string_equal(err.message, "type mismatch");
  assert_int_equal(live_blocks, 0);
}

/* ---- memory bounds (checked and guarded) --------------------------------- */

/* Loads and stores at and past the end of a 1-page memory (max 2), with the
 * largest static offset, after growing, and a store that straddles the end
 * (it writes nothing).  With guards the traps come from the MMU; the
 * instance stays usable after each. */
static void test_memory_bounds(void **state)
{
  (void)state;
  rearm();
  buf *m = newbuf();
  /* (func "load" (param i32) (result i32) (i32.load (local.get 0)))
   * (func "far" (param i32) (result i32) (i32.load offset=0xffffffff (local.get 0)))
   * (func "store" (param i32) (result i32) (i64.store (local.get 0) (i64.const -1)) (i32.const 0))
   * (func "grow" (param i32) (result i32) (memory.grow (local.get 0))) */
  spec s = { .types = { "i:i" }, .func_type = { 0, 0, 0, 0 }, .memory_min = 1, .memory_max = 2,
             .exports = { "load", "far", "store", "grow" }, .export_func = { 0, 1, 2, 3 } };
  SET_BODY(s, 0, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b);
  SET_BODY(s, 1, 0x00, 0x20, 0x00, 0x28, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b);
  SET_BODY(s, 2, 0x00, 0x20, 0x00, 0x42, 0x7f, 0x37, 0x03, 0x00, 0x41, 0x00, 0x0b);
  SET_BODY(s, 3, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b);
  build(m, &s);
  ew_error err;
  ew_module *mod = load(m, &err);
  assert_non_null(mod);
  ew_instance *inst = ew_instance_new(mod, &A, plain_cfg(), &err);
  assert_non_null(inst);
  ew_func *ld = ew_instance_func(inst, "load"), *far = ew_instance_func(inst, "far");
  ew_func *st = ew_instance_func(inst, "store"), *grow = ew_instance_func(inst, "grow");
  ew_value a, r;
#define CALL1(f, x) (a.u64 = 0, a.u32 = (uint32_t)(x), ew_call(inst, f, &a, 1, &r, 1))
  assert_int_equal(CALL1(ld, 65532), EW_OK);
  for (uint32_t bad = 65533; bad < 65537; bad++) {
    assert_int_equal(CALL1(ld, bad), EW_TRAP);
    assert_int_equal(ew_trap_kind(inst), EW_TRAP_MEMORY_OOB);
  }
  assert_int_equal(CALL1(ld, UINT32_MAX), EW_TRAP);
  assert_int_equal(CALL1(far, 0), EW_TRAP);           /* 0 + 0xffffffff */
  assert_int_equal(CALL1(far, UINT32_MAX), EW_TRAP);  /* the highest address: 2^33 - 2 */
  assert_int_equal(ew_trap_kind(inst), EW_TRAP_MEMORY_OOB);
  /* an 8-byte store over the end writes none of its bytes */
  assert_int_equal(CALL1(st, 65532), EW_TRAP);
  uint8_t *tail = ew_memory_ptr(inst, 65532, 4);
  assert_non_null(tail);
  assert_memory_equal(tail, "\0\0\0\0", 4);
  assert_int_equal(CALL1(st, 65528), EW_OK);
  assert_int_equal(CALL1(ld, 65532), EW_OK);
  assert_int_equal(r.i32, -1);
  /* growing moves the end */
  assert_int_equal(CALL1(grow, 1), EW_OK);
  assert_int_equal(r.i32, 1);
  assert_int_equal(CALL1(ld, 65536), EW_OK);
  assert_int_equal(r.i32, 0);
  assert_int_equal(CALL1(ld, 131068), EW_OK);
  assert_int_equal(CALL1(ld, 131069), EW_TRAP);
  assert_int_equal(CALL1(grow, 1), EW_OK);
  assert_int_equal(r.i32, -1);                        /* max 2 */
  assert_int_equal(CALL1(ld, 131072), EW_TRAP);
  /* metered: a trap ends the call, fuel can be set again, calls go on */
  ew_set_fuel(inst, 1000);
  assert_int_equal(CALL1(ld, 131072), EW_TRAP);
  assert_int_equal(ew_trap_kind(inst), EW_TRAP_MEMORY_OOB);
  ew_set_fuel(inst, 1000);
  assert_int_equal(CALL1(ld, 0), EW_OK);
#undef CALL1
  ew_instance_free(inst);
  ew_module_free(mod);
  free(m);
  assert_int_equal(live_blocks, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_linking_per_instance),
    cmocka_unit_test(test_fuel_suspend_resume),
    cmocka_unit_test(test_br_table_to_loop),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_instance_budget),
    cmocka_unit_test(test_host_control),
    cmocka_unit_test(test_truncated_everywhere),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_mutations),
    cmocka_unit_test(test_trapped_instance_kept),
    cmocka_unit_test(test_extended_const_named),
    cmocka_unit_test(test_memory_bounds),
  };
  int failed = cmocka_run_group_tests_name("checked memories", tests, NULL, NULL);
  /* The second round only means something where the engine has guards
   * (64-bit Linux hosts); the -Os build of this test has none. */
  if (ew_guard_enable()) {
    guard = 1;
    failed += cmocka_run_group_tests_name("guarded memories", tests, NULL, NULL);
  }
  return failed;
}
