/* instance.c - instantiation (per-instance import resolution and type
 * checks, memories/tables/globals, segment initialisation, start), host
 * objects, export lookup, and the call/resume entry points. */
#include "internal.h"

/* ---- names -------------------------------------------------------------- */

const char *ew_trap_name(int trap)
{
  static const char *const names[EW_TRAP_COUNT_] = {
    "no trap", "unreachable", "out of bounds memory access", "integer overflow",
    "integer divide by zero", "invalid conversion to integer",
    "indirect call type mismatch", "undefined element", "uninitialized element",
    "out of bounds table access", "call stack exhausted", "out of fuel",
    "host error", "instance busy", "bad call arguments",
  };
  return trap >= 0 && trap < EW_TRAP_COUNT_ ? names[trap] : "unknown trap";
}

const char *ew_valtype_name(uint8_t type)
{
  switch (type) {
  case EW_I32: return "i32";
  case EW_I64: return "i64";
  case EW_F32: return "f32";
  case EW_F64: return "f64";
  case EW_FUNCREF: return "funcref";
  case EW_EXTERNREF: return "externref";
  }
  return "?";
}

const char *ew_extern_kind_name(ew_extern_kind kind)
{
  static const char *const names[4] = { "func", "table", "memory", "global" };
  return (unsigned)kind < 4 ? names[kind] : "?";
}

void ew_limits_default(ew_limits *l)
{
  l->max_memory_pages = EW_MAX_PAGES;
  l->max_table_size = 10000000;
  l->value_stack_bytes = 1u << 20;
  l->max_call_depth = 10000;
  l->max_instance_bytes = EW_DEFAULT_INSTANCE_BYTES;
}

/* ---- host objects ------------------------------------------------------- */

ew_global *ew_global_new(const ew_allocator *a, ew_globaltype type, ew_value v)
{
  ew_global *g = a->alloc(a->ctx, sizeof *g);
  if (!g)
    return NULL;
  g->val = v;
  g->type = type;
  g->alloc = a;
  return g;
}

void ew_global_free(ew_global *g)
{
  if (g && g->alloc)
    g->alloc->free(g->alloc->ctx, g);
}

ew_value ew_global_get(const ew_global *g) { return g->val; }
void ew_global_set(ew_global *g, ew_value v) { g->val = v; }
ew_globaltype ew_global_type(const ew_global *g) { return g->type; }

/* A memory of `type`, at most `cap` pages, charged to `budget` (NULL:
 * none); guarded (see guard.c) when asked and available, else from the
 * allocator. */
static int memory_init(ew_memory *m, const ew_allocator *a, ew_memtype type, uint32_t cap,
                       ew_budget *budget, bool guarded)
{
  memset(m, 0, sizeof *m);
  m->alloc = *a;
  m->budget = budget;
  m->type = type;
  m->max = type.limits.max < cap ? type.limits.max : cap;
  if (type.limits.min > m->max)
    return -1;
#ifdef EW_GUARD_PAGES
  if (guarded && ew_guard_ready() && (m->data = ew_guard_reserve()) != NULL)
    m->guarded = true;
#else
  (void)guarded;
#endif
  return ew_memory_grow(m, type.limits.min) < 0 ? -1 : 0;
}

#ifndef EW_GUARD_PAGES
int ew_guard_enable(void) { return 0; }
#endif

ew_memory *ew_memory_new(const ew_allocator *a, ew_memtype type)
{
  ew_memory *m = a->alloc(a->ctx, sizeof *m);
  if (!m)
    return NULL;
  if (memory_init(m, a, type, EW_MAX_PAGES, NULL, false) < 0) {
    a->free(a->ctx, m);
    return NULL;
  }
  m->standalone = true;
  return m;
}

void ew_memory_free(ew_memory *m)
{
  if (!m)
    return;
#ifdef EW_GUARD_PAGES
  if (m->guarded)
    ew_guard_release(m->data);
  else
#endif
    m->alloc.free(m->alloc.ctx, m->data);
  if (m->standalone)
    m->alloc.free(m->alloc.ctx, m);
}

uint8_t *ew_memory_data(ew_memory *m, uint64_t *size_bytes)
{
  *size_bytes = m->size;
  return m->data;
}

static int table_init(ew_table *t, const ew_allocator *a, ew_tabletype type, uint32_t cap,
                      ew_budget *budget)
{
  memset(t, 0, sizeof *t);
  t->alloc = *a;
  t->budget = budget;
  t->type = type;
  t->max = type.limits.max < cap ? type.limits.max : cap;
  if (type.limits.min > t->max)
    return -1;
  return ew_table_grow(t, type.limits.min, NULL, t->max) < 0 ? -1 : 0;
}

ew_table *ew_table_new(const ew_allocator *a, ew_tabletype type)
{
  ew_table *t = a->alloc(a->ctx, sizeof *t);
  if (!t)
    return NULL;
  if (table_init(t, a, type, UINT32_MAX, NULL) < 0) {
    a->free(a->ctx, t);
    return NULL;
  }
  t->standalone = true;
  return t;
}

void ew_table_free(ew_table *t)
{
  if (!t || !t->alloc.free)   /* never initialised (instantiation failed early) */
    return;
  t->alloc.free(t->alloc.ctx, t->elems);
  if (t->standalone)
    t->alloc.free(t->alloc.ctx, t);
}

/* ---- instantiation ------------------------------------------------------ */

static void *zalloc(ew_instance *inst, size_t n)
{
  void *p = inst->alloc.alloc(inst->alloc.ctx, n ? n : 1);
  if (p)
    memset(p, 0, n ? n : 1);
  return p;
}

static void link_error(ew_error *err, const ew_import_info *imp, const char *why)
{
  char what[160];
  size_t n = 0;
  const char *parts[3] = { imp->module, ".", imp->name };
  for (int i = 0; i < 3; i++)
    for (const char *s = parts[i]; *s && n + 1 < sizeof what; s++)
      what[n++] = *s;
  what[n] = 0;
  ew_set_error(err, EW_ERR_LINK, 0, EW_NO_FUNC, why, what);
}

static bool limits_match(uint32_t have_min, uint32_t have_max, ew_limits_type want)
{
  if (have_min < want.min)
    return false;
  if (want.max != EW_NO_MAX && (have_max == EW_NO_MAX || have_max > want.max))
    return false;
  return true;
}

static int resolve_imports(ew_instance *inst, const ew_instance_config *cfg, ew_error *err)
{
  const ew_module *m = inst->module;
  for (uint32_t i = 0; i < m->nimports; i++) {
    const ew_import *im = &m->imports[i];
    const ew_import_info *info = &im->info;
    ew_extern ext;
    memset(&ext, 0, sizeof ext);
    if (!cfg || !cfg->resolve || cfg->resolve(cfg->resolve_ctx, info, &ext) != 0) {
      link_error(err, info, "unknown import (not granted)");
      return -1;
    }
    if (ext.kind != info->kind) {
      link_error(err, info, "incompatible import type");
      return -1;
    }
    switch (info->kind) {
    case EW_EXTERN_FUNC:
      if (ext.u.func.func) {
        if (!ew_functype_equal(ext.u.func.func->type, &m->types[im->type_index])) {
          link_error(err, info, "incompatible import type");
          return -1;
        }
        inst->funcs[im->index] = ext.u.func.func;
      } else if (ext.u.func.host) {
        ew_func *f = &inst->own_funcs[im->index];
        f->inst = inst;
        f->type = &m->types[im->type_index];
        f->host = ext.u.func.host;
        f->host_ctx = ext.u.func.host_ctx;
        inst->funcs[im->index] = f;
      } else {
        link_error(err, info, "unknown import (no function)");
        return -1;
      }
      break;
    case EW_EXTERN_TABLE: {
      ew_table *t = ext.u.table;
      if (!t || t->type.elem != info->table.elem ||
          !limits_match(t->size, t->type.limits.max, info->table.limits)) {
        link_error(err, info, "incompatible import type");
        return -1;
      }
      inst->tables[im->index] = t;
      break;
    }
    case EW_EXTERN_MEMORY: {
      ew_memory *mem = ext.u.memory;
      if (!mem || !limits_match(mem->pages, mem->type.limits.max, info->memory.limits)) {
        link_error(err, info, "incompatible import type");
        return -1;
      }
      inst->mems[im->index] = mem;
      break;
    }
    case EW_EXTERN_GLOBAL: {
      ew_global *g = ext.u.global;
      if (!g || g->type.type != info->global.type || g->type.mut != info->global.mut) {
        link_error(err, info, "incompatible import type");
        return -1;
      }
      inst->globals[im->index] = g;
      break;
    }
    }
  }
  return 0;
}

static ew_value eval_const(ew_instance *inst, const ew_constexpr *ce)
{
  ew_value v;
  v.u64 = 0;
  switch (ce->kind) {
  case CE_CONST: v = ce->value; break;
  case CE_GLOBAL: v = inst->globals[ce->index]->val; break;
  case CE_FUNC: v.ref = inst->funcs[ce->index]; break;
  case CE_NULL: v.ref = NULL; break;
  }
  return v;
}

/* ---- the instance's budget ---------------------------------------------- */

static size_t put_text(char *buf, size_t n, const char *s)
{
  while (*s && n + 1 < sizeof ((ew_error *)0)->message)
    buf[n++] = *s++;
  buf[n] = 0;
  return n;
}

static size_t put_u64(char *buf, size_t n, uint64_t v)
{
  char digits[21];
  int i = 20;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return put_text(buf, n, digits + i);
}

/* Fail unless `bytes` more fit in the budget, naming what asked for them
 * (`what`, with its index when index != EW_NO_FUNC). */
static int check_budget(ew_instance *inst, uint64_t bytes, const char *what, uint32_t index,
                        ew_error *err)
{
  if (ew_budget_fits(&inst->budget, bytes))
    return 0;
  ew_set_error(err, EW_ERR_LIMIT, 0, EW_NO_FUNC, "instance memory budget exceeded by ", NULL);
  char *msg = err->message;
  size_t n = put_text(msg, strlen(msg), what);
  if (index != EW_NO_FUNC) {
    n = put_text(msg, n, " ");
    n = put_u64(msg, n, index);
  }
  n = put_text(msg, n, " (");
  n = put_u64(msg, n, bytes);
  n = put_text(msg, n, " bytes; ");
  n = put_u64(msg, n, inst->budget.used);
  n = put_text(msg, n, " of ");
  n = put_u64(msg, n, inst->budget.limit);
  put_text(msg, n, " in use)");
  return -1;
}

/* `what index` asks for `n` (pages, entries) where the instance allows
 * `cap` per object. */
static int cap_error(ew_error *err, const char *what, uint32_t index, uint64_t n,
                     const char *unit, uint64_t cap)
{
  ew_set_error(err, EW_ERR_LIMIT, 0, EW_NO_FUNC, what, NULL);
  char *msg = err->message;
  size_t n_ = put_text(msg, strlen(msg), " ");
  n_ = put_u64(msg, n_, index);
  n_ = put_text(msg, n_, " needs ");
  n_ = put_u64(msg, n_, n);
  n_ = put_text(msg, n_, unit);
  n_ = put_text(msg, n_, ", over the instance's cap of ");
  put_u64(msg, n_, cap);
  return -1;
}

static int charge(ew_instance *inst, uint64_t bytes, const char *what, ew_error *err)
{
  if (check_budget(inst, bytes, what, EW_NO_FUNC, err) < 0)
    return -1;
  ew_budget_take(&inst->budget, bytes);
  return 0;
}

/* What the instance holds besides its memory and tables, charged before
 * anything is allocated: the module's compiled code and data (shared by
 * its instances, counted in each), the arrays of functions, tables,
 * globals and segments, and the stacks. */
static int charge_fixed(ew_instance *inst, ew_error *err)
{
  const ew_module *m = inst->module;
  uint64_t arrays = (uint64_t)m->nfuncs * (sizeof(ew_func *) + sizeof(ew_func)) +
                    (uint64_t)m->ntables * (sizeof(ew_table *) + sizeof(ew_table)) +
                    (uint64_t)m->nglobals * (sizeof(ew_global *) + sizeof(ew_global)) +
                    (uint64_t)m->nelems * (1 + sizeof(void **)) + m->ndatas +
                    sizeof(ew_memory) + sizeof(ew_memory *) + sizeof *inst;
  for (uint32_t i = 0; i < m->nelems; i++)
    arrays += (uint64_t)m->elems[i].count * sizeof(void *);
  uint64_t frames = ((uint64_t)inst->limits.max_call_depth + 1) * sizeof(ew_frame);
  return charge(inst, sizeof *m + m->arena.bytes, "the module's code and data", err) < 0 ||
         charge(inst, arrays, "the functions, tables, globals and segments", err) < 0 ||
         charge(inst, inst->limits.value_stack_bytes, "the value stack", err) < 0 ||
         charge(inst, frames, "the call frames", err) < 0 ? -1 : 0;
}

uint64_t ew_instance_bytes(const ew_instance *inst) { return inst->budget.used; }

uint64_t ew_instance_refused_grow(const ew_instance *inst, int *table)
{
  if (table)
    *table = inst->budget.refused_table;
  return inst->budget.refused;
}

static int alloc_instance_arrays(ew_instance *inst, ew_error *err)
{
  const ew_module *m = inst->module;
  uint32_t ndef = m->nfuncs - m->nfunc_imports;
  if (charge_fixed(inst, err) < 0)
    return -1;
  inst->funcs = zalloc(inst, m->nfuncs * sizeof(ew_func *));
  inst->own_funcs = zalloc(inst, m->nfuncs * sizeof(ew_func));
  inst->tables = zalloc(inst, m->ntables * sizeof(ew_table *));
  inst->own_tables = zalloc(inst, (m->ntables - m->ntable_imports) * sizeof(ew_table));
  inst->mems = zalloc(inst, (m->nmems ? m->nmems : 1) * sizeof(ew_memory *));
  inst->globals = zalloc(inst, m->nglobals * sizeof(ew_global *));
  inst->own_globals = zalloc(inst, m->nglobals * sizeof(ew_global));
  inst->dropped_elem = zalloc(inst, m->nelems);
  inst->dropped_data = zalloc(inst, m->ndatas);
  inst->elem_refs = zalloc(inst, m->nelems * sizeof(void **));
  /* The stacks are not zeroed: frames initialise what they use, and pages
   * never touched by a shallow program stay out of the resident set. */
  size_t slots = inst->limits.value_stack_bytes / sizeof(ew_value);
  inst->stack = inst->alloc.alloc(inst->alloc.ctx, slots * sizeof(ew_value));
  inst->stack_end = inst->stack + slots;
  inst->frames = inst->alloc.alloc(inst->alloc.ctx,
                                   ((size_t)inst->limits.max_call_depth + 1) * sizeof(ew_frame));
  inst->frames_end = inst->frames + inst->limits.max_call_depth + 1;
  if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->own_tables || !inst->mems ||
      !inst->globals || !inst->own_globals || !inst->dropped_elem || !inst->dropped_data ||
      !inst->elem_refs || !inst->stack || !inst->frames) {
    ew_set_error(err, EW_ERR_NOMEM, 0, EW_NO_FUNC, "out of memory", NULL);
    return -1;
  }
  for (uint32_t i = 0; i < ndef; i++) {
    uint32_t fi = m->nfunc_imports + i;
    ew_func *f = &inst->own_funcs[fi];
    f->inst = inst;
    f->code = &m->code[i];
    f->type = &m->types[m->func_type[fi]];
    inst->funcs[fi] = f;
  }
  return 0;
}

static int create_objects(ew_instance *inst, ew_error *err)
{
  const ew_module *m = inst->module;
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
    uint32_t min = m->mems[i].limits.min;
    if (min > inst->limits.max_memory_pages)
      return cap_error(err, "memory", i, min, " pages", inst->limits.max_memory_pages);
    if (check_budget(inst, (uint64_t)min * EW_PAGE, "memory", i, err) < 0)
      return -1;
    inst->own_mem = zalloc(inst, sizeof(ew_memory));
    if (!inst->own_mem || memory_init(inst->own_mem, &inst->alloc, m->mems[i],
                                      inst->limits.max_memory_pages, &inst->budget,
                                      inst->guard_memory) < 0) {
      ew_set_error(err, EW_ERR_LIMIT, 0, EW_NO_FUNC,
                   "memory too large for the instance's limits", NULL);
      return -1;
    }
    inst->mems[i] = inst->own_mem;
  }
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
    ew_table *t = &inst->own_tables[i - m->ntable_imports];
    uint32_t min = m->tables[i].limits.min;
    if (min > inst->limits.max_table_size)
      return cap_error(err, "table", i, min, " entries", inst->limits.max_table_size);
    if (check_budget(inst, (uint64_t)min * sizeof(void *), "table", i, err) < 0)
      return -1;
    if (table_init(t, &inst->alloc, m->tables[i], inst->limits.max_table_size,
                   &inst->budget) < 0) {
      ew_set_error(err, EW_ERR_LIMIT, 0, EW_NO_FUNC,
                   "table too large for the instance's limits", NULL);
      return -1;
    }
    inst->tables[i] = t;
  }
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    ew_global *g = &inst->own_globals[i];
    g->type = m->globals[i];
    g->val = eval_const(inst, &m->global_init[i]);
    inst->globals[i] = g;
  }
  for (uint32_t i = 0; i < m->nelems; i++) {
    const ew_elem *e = &m->elems[i];
    inst->elem_refs[i] = zalloc(inst, e->count * sizeof(void *));
    if (!inst->elem_refs[i]) {
      ew_set_error(err, EW_ERR_NOMEM, 0, EW_NO_FUNC, "out of memory", NULL);
      return -1;
    }
    for (uint32_t k = 0; k < e->count; k++)
      inst->elem_refs[i][k] = eval_const(inst, &e->items[k]).ref;
  }
  return 0;
}

static int trap_error(ew_error *err, int trap)
{
  ew_set_error(err, EW_ERR_TRAP, 0, EW_NO_FUNC, ew_trap_name(trap), NULL);
  if (err)
    err->trap = trap;
  return -1;
}

static int init_segments(ew_instance *inst, ew_error *err)
{
  const ew_module *m = inst->module;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const ew_elem *e = &m->elems[i];
    if (e->mode == SEG_ACTIVE) {
      ew_table *t = inst->tables[e->table];
      uint64_t off = eval_const(inst, &e->offset).u32;
      if (off + e->count > t->size)
        return trap_error(err, EW_TRAP_TABLE_OOB);
      for (uint32_t k = 0; k < e->count; k++)
        t->elems[off + k] = inst->elem_refs[i][k];
    }
    if (e->mode != SEG_PASSIVE)
      inst->dropped_elem[i] = 1;
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const ew_data *d = &m->datas[i];
    if (d->mode != SEG_ACTIVE)
      continue;
    ew_memory *mem = inst->mems[0];
    uint64_t off = eval_const(inst, &d->offset).u32;
    if (off + d->len > mem->size)
      return trap_error(err, EW_TRAP_MEMORY_OOB);
    if (d->len)
      memcpy(mem->data + off, d->bytes, d->len);
    inst->dropped_data[i] = 1;
  }
  return 0;
}

ew_instance *ew_instance_new(const ew_module *m, const ew_allocator *alloc,
                             const ew_instance_config *cfg, ew_error *err)
{
  ew_error dummy;
  if (!err)
    err = &dummy;
  memset(err, 0, sizeof *err);
  err->func_index = EW_NO_FUNC;
  ew_instance *inst = alloc->alloc(alloc->ctx, sizeof *inst);
  if (!inst) {
    ew_set_error(err, EW_ERR_NOMEM, 0, EW_NO_FUNC, "out of memory", NULL);
    return NULL;
  }
  memset(inst, 0, sizeof *inst);
  inst->module = m;
  inst->alloc = *alloc;
  if (cfg && cfg->limits)
    inst->limits = *cfg->limits;
  else
    ew_limits_default(&inst->limits);
  if (inst->limits.value_stack_bytes < 1024)
    inst->limits.value_stack_bytes = 1024;
  if (inst->limits.max_call_depth < 1)
    inst->limits.max_call_depth = 1;
  inst->budget.limit = inst->limits.max_instance_bytes;
  inst->user_data = cfg ? cfg->user_data : NULL;
  inst->guard_memory = cfg && cfg->guard_memory;
  inst->fuel = EW_FUEL_UNLIMITED;
  if (alloc_instance_arrays(inst, err) < 0 || resolve_imports(inst, cfg, err) < 0 ||
      create_objects(inst, err) < 0)
    goto fail;
  if (init_segments(inst, err) < 0)
    goto trapped;
  if (m->start != EW_NO_FUNC) {
    inst->fuel = cfg && cfg->start_fuel ? cfg->start_fuel : EW_FUEL_UNLIMITED;
    ew_status st = ew_call(inst, inst->funcs[m->start], NULL, 0, NULL, 0);
    inst->fuel = EW_FUEL_UNLIMITED;
    if (st != EW_OK) {
      int trap = st == EW_TRAP ? inst->trap : st == EW_OUT_OF_FUEL ? EW_TRAP_OUT_OF_FUEL
                                                                    : EW_TRAP_HOST;
      trap_error(err, trap);
      goto trapped;
    }
  }
  return inst;

trapped:
  /* The store keeps a trapped instance: imported tables/globals may already
   * refer to its functions.  The caller takes it over (see wasm.h). */
  if (err != &dummy) {
    err->instance = inst;
    return NULL;
  }
fail:
  ew_instance_free(inst);
  return NULL;
}

void ew_instance_free(ew_instance *inst)
{
  if (!inst)
    return;
  const ew_module *m = inst->module;
  void *ctx = inst->alloc.ctx;
  void (*f)(void *, void *) = inst->alloc.free;
  if (inst->own_mem) {
    ew_memory_free(inst->own_mem);
    f(ctx, inst->own_mem);
  }
  if (inst->own_tables)
    for (uint32_t i = 0; i < m->ntables - m->ntable_imports; i++)
      ew_table_free(&inst->own_tables[i]);
  if (inst->elem_refs)
    for (uint32_t i = 0; i < m->nelems; i++)
      f(ctx, inst->elem_refs[i]);
  f(ctx, inst->elem_refs);
  f(ctx, inst->funcs);
  f(ctx, inst->own_funcs);
  f(ctx, inst->tables);
  f(ctx, inst->own_tables);
  f(ctx, inst->mems);
  f(ctx, inst->globals);
  f(ctx, inst->own_globals);
  f(ctx, inst->dropped_elem);
  f(ctx, inst->dropped_data);
  f(ctx, inst->stack);
  f(ctx, inst->frames);
  f(ctx, inst);
}

void *ew_instance_user_data(const ew_instance *inst) { return inst->user_data; }
void ew_instance_set_user_data(ew_instance *inst, void *data) { inst->user_data = data; }
const ew_module *ew_instance_module(const ew_instance *inst) { return inst->module; }

int ew_instance_export(ew_instance *inst, const char *name, ew_extern *out)
{
  return ew_instance_export_len(inst, name, strlen(name), out);
}

int ew_instance_export_len(ew_instance *inst, const char *name, size_t len,
                           ew_extern *out)
{
  const ew_module *m = inst->module;
  for (uint32_t i = 0; i < m->nexports; i++) {
    const ew_export *e = &m->exports[i];
    if (e->name_len != len || memcmp(e->name, name, len) != 0)
      continue;
    memset(out, 0, sizeof *out);
    out->kind = e->kind;
    switch (e->kind) {
    case EW_EXTERN_FUNC: out->u.func.func = inst->funcs[e->index]; break;
    case EW_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
    case EW_EXTERN_MEMORY: out->u.memory = inst->mems[e->index]; break;
    case EW_EXTERN_GLOBAL: out->u.global = inst->globals[e->index]; break;
    }
    return 0;
  }
  return -1;
}

ew_func *ew_instance_func(ew_instance *inst, const char *name)
{
  ew_extern ext;
  if (ew_instance_export(inst, name, &ext) < 0 || ext.kind != EW_EXTERN_FUNC)
    return NULL;
  return ext.u.func.func;
}

ew_functype ew_func_type(const ew_func *f) { return *f->type; }

/* ---- memory access ------------------------------------------------------ */

void *ew_memory_ptr(ew_instance *inst, uint64_t offset, uint64_t len)
{
  if (!inst->module->nmems)
    return NULL;
  ew_memory *m = inst->mems[0];
  if (offset > m->size || len > m->size - offset || !m->data)
    return NULL;
  return m->data + offset;
}

uint64_t ew_memory_size(const ew_instance *inst)
{
  return inst->module->nmems ? inst->mems[0]->size : 0;
}

/* ---- running ------------------------------------------------------------ */

static ew_status fail_call(ew_instance *inst, int trap)
{
  inst->trap = trap;
  inst->trap_msg = NULL;
  return EW_TRAP;
}

static ew_status finish(ew_instance *inst, ew_status st, bool unlimited)
{
  if (unlimited && st != EW_OUT_OF_FUEL)
    inst->fuel = EW_FUEL_UNLIMITED;
  if (st == EW_OUT_OF_FUEL || st == EW_SUSPENDED) {
    inst->state = ST_SUSPENDED;
  } else {
    inst->state = ST_IDLE;
    inst->frame_sp = inst->frames;
  }
  return st;
}

ew_status ew_call(ew_instance *inst, ew_func *f, const ew_value *args,
                  uint32_t nargs, ew_value *results, uint32_t nresults)
{
  if (inst->state != ST_IDLE)
    return fail_call(inst, EW_TRAP_BUSY);
  if (!f || nargs != f->type->nparams || nresults != f->type->nresults)
    return fail_call(inst, EW_TRAP_BAD_ARGS);
  inst->trap = 0;
  inst->trap_msg = NULL;
  if (f->host) {
    ew_value tmp[16];
    ew_value *res = nresults <= 16 ? tmp : results;
    f->inst->host_request = 0;
    int rc = f->host(f->inst, f->host_ctx, args, res);
    if (rc == EW_HOST_EXIT_RC) {
      inst->exit_code = f->inst->exit_code;
      return EW_EXIT;
    }
    if (rc && rc != EW_HOST_SUSPEND_RC) {
      inst->trap_msg = f->inst->trap_msg;
      return fail_call(inst, rc > 0 && rc < EW_TRAP_COUNT_ ? rc : EW_TRAP_HOST);
    }
    if (res != results && nresults)
      memcpy(results, res, nresults * sizeof *results);
    return EW_OK;
  }
  const ew_code *code = f->code;
  ew_value *fp = inst->stack;
  if (fp + code->max_slots > inst->stack_end)
    return fail_call(inst, EW_TRAP_CALL_STACK_EXHAUSTED);
  if (nargs)
    memcpy(fp, args, nargs * sizeof *fp);
  ew_frame_init(fp, code);
  inst->frames[0] = (ew_frame){ NULL, NULL, NULL };
  inst->frame_sp = inst->frames + 1;
  inst->saved_pc = code->words;
  inst->saved_fp = fp;
  inst->saved_func = f;
  inst->results = results;
  inst->nresults = nresults;
  inst->state = ST_RUNNING;
  bool unlimited = inst->fuel == EW_FUEL_UNLIMITED;
  if (!unlimited) {
    if (inst->fuel == 0) {
      inst->state = ST_SUSPENDED;
      return EW_OUT_OF_FUEL;
    }
    inst->fuel--;
  }
  return finish(inst, ew_interp_run(inst), unlimited);
}

ew_status ew_resume(ew_instance *inst)
{
  if (inst->state != ST_SUSPENDED)
    return fail_call(inst, EW_TRAP_BAD_ARGS);
  inst->state = ST_RUNNING;
  bool unlimited = inst->fuel == EW_FUEL_UNLIMITED;
  return finish(inst, ew_interp_run(inst), unlimited);
}

void ew_abort(ew_instance *inst)
{
  if (inst->state == ST_SUSPENDED) {
    inst->state = ST_IDLE;
    inst->frame_sp = inst->frames;
  }
}

int ew_is_suspended(const ew_instance *inst) { return inst->state == ST_SUSPENDED; }

void ew_set_fuel(ew_instance *inst, uint64_t fuel) { inst->fuel = fuel; }
uint64_t ew_fuel(const ew_instance *inst) { return inst->fuel; }
int ew_trap_kind(const ew_instance *inst) { return inst->trap; }

const char *ew_trap_message(const ew_instance *inst)
{
  return inst->trap_msg ? inst->trap_msg : ew_trap_name(inst->trap);
}

int ew_exit_code(const ew_instance *inst) { return inst->exit_code; }

int ew_host_exit(ew_instance *inst, int code)
{
  inst->exit_code = code;
  return EW_HOST_EXIT_RC;
}

int ew_host_suspend(ew_instance *inst)
{
  (void)inst;
  return EW_HOST_SUSPEND_RC;
}

int ew_host_trap(ew_instance *inst, const char *msg)
{
  inst->trap_msg = msg;
  return EW_TRAP_HOST;
}
