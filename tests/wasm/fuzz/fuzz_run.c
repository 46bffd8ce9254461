/* fuzz_run.c - libFuzzer target: decode, instantiate with a resolver that
 * grants every import (stub host functions returning zeros; fresh tables,
 * memories and globals of the requested types, kept small), then run the
 * first exported function with zero arguments under a small fuel budget,
 * memory cap and stack limits.  Traps, fuel exhaustion and link failures
 * are all fine; crashes, hangs, leaks and sanitizer reports are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm.h"

#define FUEL 20000
#define MAX_PAGES 16          /* 1 MiB of linear memory */
#define MAX_TABLE 10000
#define MAX_OBJECTS 64

static void *a_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *a_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void a_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {a_alloc, a_realloc, a_free, NULL};

/* What the resolver created for one instantiation, freed afterwards. */
struct granted {
  ew_memory *memories[MAX_OBJECTS];
  ew_table *tables[MAX_OBJECTS];
  ew_global *globals[MAX_OBJECTS];
  int nmem, ntab, nglob;
};

/* host_ctx carries the number of results to zero. */
static int stub(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst; (void) args;
  uintptr_t n = (uintptr_t) host_ctx;
  for (uintptr_t i = 0; i < n; i++)
    memset(&results[i], 0, sizeof results[i]);
  return 0;
}

static int grant_all(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  struct granted *g = ctx;
  memset(out, 0, sizeof *out);
  out->kind = imp->kind;
  switch (imp->kind) {
  case EW_EXTERN_FUNC:
    out->u.func.host = stub;
    out->u.func.host_ctx = (void *) (uintptr_t) imp->func.nresults;
    return 0;
  case EW_EXTERN_MEMORY: {
    if (imp->memory.limits.min > MAX_PAGES || g->nmem >= MAX_OBJECTS)
      return 1;
    ew_memory *m = ew_memory_new(&heap, imp->memory);
    if (m == NULL)
      return 1;
    g->memories[g->nmem++] = m;
    out->u.memory = m;
    return 0;
  }
  case EW_EXTERN_TABLE: {
    if (imp->table.limits.min > MAX_TABLE || g->ntab >= MAX_OBJECTS)
      return 1;
    ew_table *t = ew_table_new(&heap, imp->table);
    if (t == NULL)
      return 1;
    g->tables[g->ntab++] = t;
    out->u.table = t;
    return 0;
  }
  case EW_EXTERN_GLOBAL: {
    if (g->nglob >= MAX_OBJECTS)
      return 1;
    ew_value zero;
    memset(&zero, 0, sizeof zero);
    ew_global *gl = ew_global_new(&heap, imp->global, zero);
    if (gl == NULL)
      return 1;
    g->globals[g->nglob++] = gl;
    out->u.global = gl;
    return 0;
  }
  }
  return 1;
}

static void release(struct granted *g)
{
  for (int i = 0; i < g->nmem; i++) ew_memory_free(g->memories[i]);
  for (int i = 0; i < g->ntab; i++) ew_table_free(g->tables[i]);
  for (int i = 0; i < g->nglob; i++) ew_global_free(g->globals[i]);
}

static void run_first_export(ew_instance *inst, const ew_module *m)
{
  for (uint32_t i = 0; i < ew_module_export_count(m); i++) {
    ew_export_info e;
    if (ew_module_export(m, i, &e) != 0 || e.kind != EW_EXTERN_FUNC)
      continue;
    /* By name and length: export names may contain NUL bytes. */
    ew_extern ext;
    if (ew_instance_export_len(inst, e.name, e.name_len, &ext) != 0 ||
        ext.kind != EW_EXTERN_FUNC)
      abort(); /* an export the module lists must be found by name */
    ew_func *f = ext.u.func.func;
    ew_functype ft = ew_func_type(f);
    ew_value args[64], results[64];
    if (ft.nparams > 64 || ft.nresults > 64)
      return;
    memset(args, 0, sizeof args);
    ew_set_fuel(inst, FUEL);
    ew_status st = ew_call(inst, f, args, ft.nparams, results, ft.nresults);
    if (st == EW_OUT_OF_FUEL || st == EW_SUSPENDED) {
      /* Resume once with a little more fuel, then give up. */
      ew_set_fuel(inst, FUEL / 4);
      st = ew_resume(inst);
      if (st == EW_OUT_OF_FUEL || st == EW_SUSPENDED)
        ew_abort(inst);
    }
    if (st == EW_TRAP && ew_trap_name(ew_trap_kind(inst)) == NULL)
      abort();
    return;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ew_error err = {0};
  ew_module *m = ew_module_new(&heap, data, size, &err);
  if (m == NULL)
    return 0;
  ew_limits limits;
  ew_limits_default(&limits);
  limits.max_memory_pages = MAX_PAGES;
  limits.max_table_size = MAX_TABLE;
  limits.value_stack_bytes = 64 * 1024;
  limits.max_call_depth = 300;
  struct granted g = {0};
  /* inputs of odd length run with a guarded memory (the MMU traps) */
  ew_instance_config cfg = {
    .limits = &limits, .resolve = grant_all, .resolve_ctx = &g, .start_fuel = FUEL,
    .guard_memory = (size & 1) && ew_guard_enable(),
  };
  ew_instance *inst = ew_instance_new(m, &heap, &cfg, &err);
  if (inst != NULL) {
    run_first_export(inst, m);
    ew_instance_free(inst);
  } else {
    ew_instance_free(err.instance);
  }
  release(&g);
  ew_module_free(m);
  return 0;
}
