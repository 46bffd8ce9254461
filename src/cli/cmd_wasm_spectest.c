/* cmd_wasm_spectest.c - `edgecr wasm spectest [--bounds-checks]
 * [--fuel-slice N] FILE.json`: run a spec test script converted by wabt's
 * wast2json (JSON commands + .wasm files) against the engine, with the
 * standard `spectest` host module.
 *
 * Prints one line per failed command ("FILE:LINE: FAIL what"), one per
 * skipped command with the reason, one NOTE per expected message the
 * engine words differently (the kind matched), and last `N passed, N
 * failed, N skipped`.  Exit status 1 when anything failed.  assert_trap
 * passes only on a trap of the kind the script names, assert_invalid /
 * assert_malformed only on a rejection of that kind (validation or
 * decoding).  Modules get guarded memories where the engine has them (the
 * spectest host's own memory is always checked), or checked ones with
 * --bounds-checks.  --fuel-slice N runs every invocation with N units of
 * fuel at a time, resuming each time it runs out: the results must be
 * those of an unmetered run. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"
#include "wasm.h"

int wasm_cmd_spectest(struct edgecr_global *g, int argc, char **argv);

/* ---- allocator ---------------------------------------------------------- */

static void *sys_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *sys_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void sys_free(void *ctx, void *p) { (void)ctx; free(p); }
static const ew_allocator sys_allocator = { sys_alloc, sys_realloc, sys_free, NULL };

/* ---- runner state ------------------------------------------------------- */

typedef struct loaded {
  ew_module *module;
  ew_instance *inst;
  char *name;          /* $name from the script, or NULL */
  char *registered;    /* `register` name, or NULL */
  char *skipped;       /* why the module was skipped (out-of-scope feature), or NULL */
} loaded;

typedef struct spectest_host {
  ew_global *g_i32, *g_i64, *g_f32, *g_f64;
  ew_table *table;
  ew_memory *memory;
} spectest_host;

typedef struct runner {
  const char *source;   /* the .wast (source_filename), for messages */
  char *dir;
  loaded *mods;
  size_t nmods, cap;
  ew_instance *current;
  const char *current_skipped;   /* the current module was skipped: why */
  spectest_host host;
  int passed, failed, skipped, notes;
  int guard_memory;     /* instances get guarded memories (not with --bounds-checks) */
  uint64_t fuel_slice;  /* --fuel-slice: fuel per slice of a call; 0 = unmetered */
  int last_trap;        /* ew_trap of the last action that trapped */
} runner;

static void fail_line(runner *r, json_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_line(runner *r, json_t *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("%s:%lld: FAIL ", r->source, (long long)json_integer_value(json_object_get(cmd, "line")));
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  r->failed++;
}

/* The kind matched but the wording did not: worth a look, not a failure. */
static void note_line(runner *r, json_t *cmd, const char *what, const char *want, const char *got)
{
  printf("%s:%lld: NOTE %s: script says \"%s\", engine says \"%s\"\n", r->source,
         (long long)json_integer_value(json_object_get(cmd, "line")), what, want, got);
  r->notes++;
}

static void skip_line(runner *r, json_t *cmd, const char *why)
{
  printf("%s:%lld: SKIP %s\n", r->source,
         (long long)json_integer_value(json_object_get(cmd, "line")), why);
  r->skipped++;
}

/* ---- the spectest host module ------------------------------------------ */

static int host_print(ew_instance *inst, void *ctx, const ew_value *args, ew_value *results)
{
  (void)inst; (void)ctx; (void)args; (void)results;
  return 0;
}

static bool type_is(const ew_functype *t, const char *params)
{
  size_t n = strlen(params);
  if (t->nresults != 0 || t->nparams != n)
    return false;
  for (size_t i = 0; i < n; i++) {
    uint8_t want = params[i] == 'i' ? EW_I32 : params[i] == 'I' ? EW_I64
                 : params[i] == 'f' ? EW_F32 : EW_F64;
    if (t->params[i] != want)
      return false;
  }
  return true;
}

static int resolve_spectest(runner *r, const ew_import_info *imp, ew_extern *out)
{
  static const struct { const char *name; const char *params; } prints[] = {
    { "print", "" }, { "print_i32", "i" }, { "print_i64", "I" }, { "print_f32", "f" },
    { "print_f64", "d" }, { "print_i32_f32", "if" }, { "print_f64_f64", "dd" },
  };
  out->kind = imp->kind;
  if (imp->kind == EW_EXTERN_FUNC) {
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++)
      if (strcmp(imp->name, prints[i].name) == 0) {
        if (!type_is(&imp->func, prints[i].params))
          return -1;
        out->u.func.host = host_print;
        return 0;
      }
    return -1;
  }
  if (imp->kind == EW_EXTERN_GLOBAL) {
    ew_global *gl = strcmp(imp->name, "global_i32") == 0 ? r->host.g_i32
                  : strcmp(imp->name, "global_i64") == 0 ? r->host.g_i64
                  : strcmp(imp->name, "global_f32") == 0 ? r->host.g_f32
                  : strcmp(imp->name, "global_f64") == 0 ? r->host.g_f64 : NULL;
    out->u.global = gl;
    return gl ? 0 : -1;
  }
  if (imp->kind == EW_EXTERN_TABLE && strcmp(imp->name, "table") == 0) {
    out->u.table = r->host.table;
    return 0;
  }
  if (imp->kind == EW_EXTERN_MEMORY && strcmp(imp->name, "memory") == 0) {
    out->u.memory = r->host.memory;
    return 0;
  }
  return -1;
}

static int resolve(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  runner *r = ctx;
  if (strcmp(imp->module, "spectest") == 0)
    return resolve_spectest(r, imp, out);
  for (size_t i = r->nmods; i-- > 0;) {
    loaded *l = &r->mods[i];
    if (l->registered && l->inst && strcmp(l->registered, imp->module) == 0)
      return ew_instance_export_len(l->inst, imp->name, imp->name_len, out) == 0 ? 0 : -1;
  }
  return -1;
}

static int host_init(runner *r)
{
  ew_value v;
  v.u64 = 0; v.i32 = 666;
  r->host.g_i32 = ew_global_new(&sys_allocator, (ew_globaltype){ EW_I32, 0 }, v);
  v.u64 = 666;
  r->host.g_i64 = ew_global_new(&sys_allocator, (ew_globaltype){ EW_I64, 0 }, v);
  v.u64 = 0; v.f32 = 666.6f;
  r->host.g_f32 = ew_global_new(&sys_allocator, (ew_globaltype){ EW_F32, 0 }, v);
  v.f64 = 666.6;
  r->host.g_f64 = ew_global_new(&sys_allocator, (ew_globaltype){ EW_F64, 0 }, v);
  r->host.table = ew_table_new(&sys_allocator, (ew_tabletype){ EW_FUNCREF, { 10, 20 } });
  r->host.memory = ew_memory_new(&sys_allocator, (ew_memtype){ { 1, 2 } });
  return r->host.g_i32 && r->host.g_i64 && r->host.g_f32 && r->host.g_f64 &&
         r->host.table && r->host.memory ? 0 : -1;
}

static void runner_free(runner *r)
{
  for (size_t i = 0; i < r->nmods; i++) {
    if (r->mods[i].module) {   /* alias entries (register) own nothing */
      ew_instance_free(r->mods[i].inst);
      ew_module_free(r->mods[i].module);
    }
    free(r->mods[i].name);
    free(r->mods[i].registered);
    free(r->mods[i].skipped);
  }
  free(r->mods);
  ew_global_free(r->host.g_i32);
  ew_global_free(r->host.g_i64);
  ew_global_free(r->host.g_f32);
  ew_global_free(r->host.g_f64);
  ew_table_free(r->host.table);
  ew_memory_free(r->host.memory);
  free(r->dir);
}

/* ---- modules ------------------------------------------------------------ */

static ew_module *load_module(runner *r, const char *file, ew_error *err)
{
  cleanup_free char *path = xasprintf("%s/%s", r->dir, file);
  cleanup_free char *data = NULL;
  edgecr_error_t e = NULL;
  ssize_t n = read_all_file(path, &data, &e);
  if (n < 0) {
    snprintf(err->message, sizeof err->message, "cannot read %s", path);
    err->kind = EW_ERR_MALFORMED;
    edgecr_error_release(&e);
    return NULL;
  }
  return ew_module_new(&sys_allocator, (const uint8_t *)data, (size_t)n, err);
}

static ew_instance *instantiate(runner *r, ew_module *m, ew_error *err)
{
  ew_instance_config cfg = { NULL, resolve, r, NULL, 0, r->guard_memory };
  return ew_instance_new(m, &sys_allocator, &cfg, err);
}

static loaded *add_loaded(runner *r, loaded l)
{
  if (r->nmods == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->mods = xrealloc(r->mods, r->cap * sizeof *r->mods);
  }
  r->mods[r->nmods] = l;
  return &r->mods[r->nmods++];
}

/* An instantiation that trapped leaves its instance in the store (imported
 * tables may already hold its functions): keep it, and its module, until
 * the end of the script.  Returns true when m is now owned by the list. */
static bool keep_trapped(runner *r, ew_module *m, const ew_error *err)
{
  if (!err->instance)
    return false;
  add_loaded(r, (loaded){ m, err->instance, NULL, NULL, NULL });
  return true;
}

/* A module the engine rejects for using a proposal outside its scope
 * (SIMD, extended-const, ...): skipped, with the engine's reason. */
static void skip_unsupported(runner *r, json_t *cmd, const ew_error *err)
{
  char why[256];
  snprintf(why, sizeof why, "out-of-scope feature: %s", err->message);
  skip_line(r, cmd, why);
}

/* The command's binary module file, or NULL (and a skip line) when the
 * module is in the text format, which is out of scope. */
static const char *binary_file(runner *r, json_t *cmd)
{
  const char *mt = json_string_value(json_object_get(cmd, "module_type"));
  const char *file = json_string_value(json_object_get(cmd, "filename"));
  bool binary = mt ? strcmp(mt, "binary") == 0 : file && str_has_suffix(file, ".wasm");
  if (!file || !binary) {
    skip_line(r, cmd, "text-format module (wast2json left it as .wat)");
    return NULL;
  }
  return file;
}

static void cmd_module(runner *r, json_t *cmd)
{
  const char *file = binary_file(r, cmd);
  if (!file)
    return;
  ew_error err;
  const char *name = json_string_value(json_object_get(cmd, "name"));
  r->current = NULL;
  r->current_skipped = NULL;
  ew_module *m = load_module(r, file, &err);
  if (!m && err.kind == EW_ERR_UNSUPPORTED) {
    skip_unsupported(r, cmd, &err);
    loaded *l = add_loaded(r, (loaded){ NULL, NULL, name ? xstrdup(name) : NULL, NULL,
                                        xstrdup(err.message) });
    r->current_skipped = l->skipped;
    return;
  }
  if (!m) {
    fail_line(r, cmd, "module %s rejected at offset %u: %s", file, err.offset, err.message);
    return;
  }
  ew_instance *inst = instantiate(r, m, &err);
  if (!inst) {
    fail_line(r, cmd, "module %s failed to instantiate: %s", file, err.message);
    if (!keep_trapped(r, m, &err))
      ew_module_free(m);
    return;
  }
  add_loaded(r, (loaded){ m, inst, name ? xstrdup(name) : NULL, NULL, NULL });
  r->current = inst;
  r->passed++;
}

static loaded *find_loaded(runner *r, const char *name)
{
  for (size_t i = r->nmods; i-- > 0;) {
    if (!name) {
      if (r->mods[i].inst == r->current)
        return &r->mods[i];
    } else if (r->mods[i].name && strcmp(r->mods[i].name, name) == 0) {
      return &r->mods[i];
    }
  }
  return NULL;
}

static void cmd_register(runner *r, json_t *cmd)
{
  const char *as = json_string_value(json_object_get(cmd, "as"));
  loaded *l = find_loaded(r, json_string_value(json_object_get(cmd, "name")));
  const char *skipped = l ? l->skipped : !json_object_get(cmd, "name") ? r->current_skipped
                                                                      : NULL;
  if (skipped) {
    skip_line(r, cmd, "module was skipped (out-of-scope feature)");
    return;
  }
  if (!l || !as) {
    fail_line(r, cmd, "register: no such module");
    return;
  }
  /* An alias entry so one instance can be registered under several names. */
  ew_instance *inst = l->inst;
  add_loaded(r, (loaded){ NULL, inst, NULL, xstrdup(as), NULL });
  r->passed++;
}

/* ---- values ------------------------------------------------------------- */

static uint8_t parse_type(const char *t)
{
  if (!t) return 0;
  if (!strcmp(t, "i32")) return EW_I32;
  if (!strcmp(t, "i64")) return EW_I64;
  if (!strcmp(t, "f32")) return EW_F32;
  if (!strcmp(t, "f64")) return EW_F64;
  if (!strcmp(t, "funcref")) return EW_FUNCREF;
  if (!strcmp(t, "externref")) return EW_EXTERNREF;
  return 0;
}

/* Parse one argument value; returns -1 for unsupported types (v128 ...). */
static int parse_value(json_t *jv, ew_value *out)
{
  uint8_t t = parse_type(json_string_value(json_object_get(jv, "type")));
  const char *s = json_string_value(json_object_get(jv, "value"));
  out->u64 = 0;
  if (!t)
    return -1;
  if (t == EW_FUNCREF || t == EW_EXTERNREF) {
    if (!s || !strcmp(s, "null"))
      out->ref = NULL;
    else
      out->ref = (void *)(uintptr_t)(strtoull(s, NULL, 10) + 1);
    return 0;
  }
  if (!s)
    return -1;
  unsigned long long v = strtoull(s, NULL, 10);
  if (t == EW_I32 || t == EW_F32)
    out->u32 = (uint32_t)v;
  else
    out->u64 = v;
  return 0;
}

static bool value_matches(json_t *jv, ew_value got, char *why, size_t whylen)
{
  uint8_t t = parse_type(json_string_value(json_object_get(jv, "type")));
  const char *s = json_string_value(json_object_get(jv, "value"));
  if (t == EW_F32 && s && str_has_prefix(s, "nan:")) {
    uint32_t b = got.u32;
    bool nan = (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu);
    bool ok = !strcmp(s, "nan:canonical") ? (b & 0x7fffffffu) == 0x7fc00000u
                                          : nan && (b & 0x400000u);
    snprintf(why, whylen, "f32 bits 0x%08" PRIx32 ", want %s", b, s);
    return ok;
  }
  if (t == EW_F64 && s && str_has_prefix(s, "nan:")) {
    uint64_t b = got.u64;
    bool nan = (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull);
    bool ok = !strcmp(s, "nan:canonical") ? (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull
                                          : nan && (b & 0x8000000000000ull);
    snprintf(why, whylen, "f64 bits 0x%016" PRIx64 ", want %s", b, s);
    return ok;
  }
  if (t == EW_FUNCREF && s && strcmp(s, "null") != 0) {
    snprintf(why, whylen, "funcref %p, want non-null", got.ref);
    return got.ref != NULL;
  }
  if (t == EW_FUNCREF && !s) {
    snprintf(why, whylen, "funcref %p, want any", got.ref);
    return true;
  }
  ew_value want;
  if (parse_value(jv, &want) < 0) {
    snprintf(why, whylen, "unsupported expected value type");
    return false;
  }
  if (t == EW_I32 || t == EW_F32) {
    snprintf(why, whylen, "got %" PRIu32 ", want %" PRIu32, got.u32, want.u32);
    return got.u32 == want.u32;
  }
  if (t == EW_FUNCREF || t == EW_EXTERNREF) {
    snprintf(why, whylen, "got ref %p, want %p", got.ref, want.ref);
    return got.ref == want.ref;
  }
  snprintf(why, whylen, "got %" PRIu64 ", want %" PRIu64, got.u64, want.u64);
  return got.u64 == want.u64;
}

/* ---- actions ------------------------------------------------------------ */

enum { ACT_OK, ACT_TRAP, ACT_ERROR, ACT_UNSUPPORTED };

/* ew_call, in slices of r->fuel_slice units of fuel when asked: each time
 * the fuel runs out the call is resumed with a new slice, so every loop
 * header, back edge and call of the script is also a place where the run
 * stops and continues. */
static ew_status call_sliced(runner *r, ew_instance *inst, ew_func *f, const ew_value *args,
                             uint32_t nargs, ew_value *res, uint32_t nres)
{
  if (!r->fuel_slice)
    return ew_call(inst, f, args, nargs, res, nres);
  ew_set_fuel(inst, r->fuel_slice);
  ew_status st = ew_call(inst, f, args, nargs, res, nres);
  while (st == EW_OUT_OF_FUEL) {
    ew_set_fuel(inst, r->fuel_slice);
    st = ew_resume(inst);
  }
  ew_set_fuel(inst, EW_FUEL_UNLIMITED);
  return st;
}

/* Run the command's action; results into res (up to 64). */
static int run_action(runner *r, json_t *cmd, ew_value *res, size_t *nres, char *why, size_t whylen)
{
  json_t *act = json_object_get(cmd, "action");
  const char *type = json_string_value(json_object_get(act, "type"));
  json_t *jfield = json_object_get(act, "field");
  const char *field = json_string_value(jfield);
  size_t field_len = json_string_length(jfield);
  const char *modname = json_string_value(json_object_get(act, "module"));
  loaded *l = find_loaded(r, modname);
  ew_instance *inst = modname ? (l ? l->inst : NULL) : r->current;
  const char *skipped = modname ? (l ? l->skipped : NULL) : r->current_skipped;
  if (skipped) {
    snprintf(why, whylen, "module was skipped (out-of-scope feature)");
    return ACT_UNSUPPORTED;
  }
  if (!inst || !field || !type) {
    snprintf(why, whylen, "no module instance for action");
    return ACT_ERROR;
  }
  ew_extern ext;
  if (ew_instance_export_len(inst, field, field_len, &ext) < 0) {
    snprintf(why, whylen, "no export \"%s\"", field);
    return ACT_ERROR;
  }
  if (!strcmp(type, "get")) {
    if (ext.kind != EW_EXTERN_GLOBAL) {
      snprintf(why, whylen, "export \"%s\" is not a global", field);
      return ACT_ERROR;
    }
    res[0] = ew_global_get(ext.u.global);
    *nres = 1;
    return ACT_OK;
  }
  if (ext.kind != EW_EXTERN_FUNC) {
    snprintf(why, whylen, "export \"%s\" is not a function", field);
    return ACT_ERROR;
  }
  json_t *jargs = json_object_get(act, "args");
  size_t nargs = json_array_size(jargs);
  ew_value args[64];
  snprintf(why, whylen, "value type out of scope (e.g. v128)");
  if (nargs > 64)
    return ACT_UNSUPPORTED;
  for (size_t i = 0; i < nargs; i++)
    if (parse_value(json_array_get(jargs, i), &args[i]) < 0)
      return ACT_UNSUPPORTED;
  ew_functype ft = ew_func_type(ext.u.func.func);
  if (ft.nresults > 64)
    return ACT_UNSUPPORTED;
  ew_status st = call_sliced(r, inst, ext.u.func.func, args, (uint32_t)nargs, res, ft.nresults);
  *nres = ft.nresults;
  if (st == EW_OK)
    return ACT_OK;
  if (st == EW_TRAP) {
    r->last_trap = ew_trap_kind(inst);
    snprintf(why, whylen, "%s", ew_trap_message(inst));
    return ACT_TRAP;
  }
  ew_abort(inst);
  snprintf(why, whylen, "unexpected status %d", (int)st);
  return ACT_ERROR;
}

static void cmd_assert_return(runner *r, json_t *cmd)
{
  ew_value res[64];
  size_t nres = 0;
  char why[256];
  int rc = run_action(r, cmd, res, &nres, why, sizeof why);
  if (rc == ACT_UNSUPPORTED) {
    skip_line(r, cmd, why);
    return;
  }
  if (rc != ACT_OK) {
    fail_line(r, cmd, "%s", why);
    return;
  }
  json_t *exp = json_object_get(cmd, "expected");
  if (json_array_size(exp) != nres) {
    fail_line(r, cmd, "got %zu results, want %zu", nres, json_array_size(exp));
    return;
  }
  for (size_t i = 0; i < nres; i++) {
    json_t *jv = json_array_get(exp, i);
    if (!parse_type(json_string_value(json_object_get(jv, "type")))) {
      skip_line(r, cmd, "expected value type out of scope");
      return;
    }
    if (!value_matches(jv, res[i], why, sizeof why)) {
      fail_line(r, cmd, "result %zu: %s", i, why);
      return;
    }
  }
  r->passed++;
}

/* ---- expected traps and rejections -------------------------------------- */

/* Older and other wordings of the spec's trap messages. */
static const struct { const char *text; int trap; } trap_aliases[] = {
  { "indirect call signature mismatch", EW_TRAP_INDIRECT_TYPE_MISMATCH },
  { "elements segment dropped", EW_TRAP_TABLE_OOB },
  { "element segment dropped", EW_TRAP_TABLE_OOB },
  { "data segment dropped", EW_TRAP_MEMORY_OOB },
  { "memory access out of bounds", EW_TRAP_MEMORY_OOB },
  { "stack overflow", EW_TRAP_CALL_STACK_EXHAUSTED },
};

/* The trap kinds a script's message can mean, as a bit set (0: a message
 * the engine does not know).  The spec's harness accepts an actual message
 * that starts with the expected one, so "out of bounds" means memory or
 * table, and "uninitialized element 2" starts with a kind's name. */
static uint32_t trap_kinds_of(const char *text)
{
  uint32_t set = 0;
  size_t n = text ? strlen(text) : 0;
  if (!n)
    return 0;
  for (int k = EW_TRAP_UNREACHABLE; k < EW_TRAP_COUNT_; k++) {
    const char *name = ew_trap_name(k);
    size_t len = strlen(name);
    if (strncmp(name, text, n < len ? n : len) == 0)
      set |= 1u << k;
  }
  for (size_t i = 0; i < sizeof trap_aliases / sizeof trap_aliases[0]; i++)
    if (str_has_prefix(trap_aliases[i].text, text) || str_has_prefix(text, trap_aliases[i].text))
      set |= 1u << trap_aliases[i].trap;
  return set;
}

/* A trap happened: it passes when its kind is the one the script names
 * (`must`, or the kinds its text means); a text the engine cannot map, or
 * words that differ although the kind matched, make a NOTE. */
static void check_trap(runner *r, json_t *cmd, int must, const char *text, int got,
                       const char *got_msg)
{
  uint32_t kinds = must ? 1u << must : trap_kinds_of(text);
  const char *want = text ? text : "";
  if (kinds && !(kinds & (1u << got))) {
    fail_line(r, cmd, "expected trap \"%s\", got trap \"%s\"", want, got_msg);
    return;
  }
  if (!kinds)
    note_line(r, cmd, "trap message not known to the engine", want, got_msg);
  else if (*want && !str_has_prefix(ew_trap_name(got), want) && !str_has_prefix(got_msg, want))
    note_line(r, cmd, "trap worded differently", want, got_msg);
  r->passed++;
}

static void cmd_assert_trap(runner *r, json_t *cmd, bool exhaustion)
{
  ew_value res[64];
  size_t nres = 0;
  char why[256];
  int rc = run_action(r, cmd, res, &nres, why, sizeof why);
  if (rc == ACT_UNSUPPORTED) {
    skip_line(r, cmd, why);
    return;
  }
  const char *text = json_string_value(json_object_get(cmd, "text"));
  if (rc == ACT_TRAP) {
    check_trap(r, cmd, exhaustion ? EW_TRAP_CALL_STACK_EXHAUSTED : EW_TRAP_NONE, text,
               r->last_trap, why);
    return;
  }
  fail_line(r, cmd, "expected %s \"%s\", got %s", exhaustion ? "exhaustion" : "trap",
            text ? text : "", rc == ACT_OK ? "a normal return" : why);
}

static void cmd_action(runner *r, json_t *cmd)
{
  ew_value res[64];
  size_t nres = 0;
  char why[256];
  int rc = run_action(r, cmd, res, &nres, why, sizeof why);
  if (rc == ACT_UNSUPPORTED)
    skip_line(r, cmd, why);
  else if (rc != ACT_OK)
    fail_line(r, cmd, "action failed: %s", why);
  else
    r->passed++;
}

/* assert_invalid wants a module that decodes but fails validation,
 * assert_malformed one that does not decode: the other kind of rejection
 * is a failure.  A rejection for an engine limit or an out-of-scope
 * feature cannot be told either way (a NOTE); so can a reason worded
 * unlike the script's. */
static void check_rejection(runner *r, json_t *cmd, const char *kind, const char *text,
                            const ew_error *err)
{
  bool want_invalid = !strcmp(kind, "invalid");
  const char *want = text ? text : "";
  /* wast2json encodes a text module that uses memory.init or data.drop
   * without the data count section they require, so what the script
   * calls invalid arrives malformed for that reason alone */
  if (want_invalid && err->kind == EW_ERR_MALFORMED &&
      !strcmp(err->message, "data count section required")) {
    note_line(r, cmd, "invalid module converted without its data count section", want,
              err->message);
    r->passed++;
    return;
  }
  if ((want_invalid && err->kind == EW_ERR_MALFORMED) ||
      (!want_invalid && err->kind == EW_ERR_INVALID)) {
    fail_line(r, cmd, "expected %s \"%s\", the engine found it %s at offset %u: %s", kind, want,
              want_invalid ? "malformed" : "invalid", err->offset, err->message);
    return;
  }
  if (err->kind != EW_ERR_MALFORMED && err->kind != EW_ERR_INVALID)
    note_line(r, cmd, "rejected for another reason (limit or out-of-scope feature)", want,
              err->message);
  else if (*want && !strstr(err->message, want))
    note_line(r, cmd, "rejection worded differently", want, err->message);
  r->passed++;
}

static void cmd_assert_module_fails(runner *r, json_t *cmd, const char *kind)
{
  const char *text = json_string_value(json_object_get(cmd, "text"));
  const char *file = binary_file(r, cmd);
  if (!file)
    return;
  ew_error err;
  ew_module *m = load_module(r, file, &err);
  bool decode_fail = !strcmp(kind, "invalid") || !strcmp(kind, "malformed");
  if (decode_fail) {
    if (m) {
      fail_line(r, cmd, "%s module %s was accepted (want \"%s\")", kind, file, text ? text : "");
      ew_module_free(m);
    } else {
      check_rejection(r, cmd, kind, text, &err);
    }
    return;
  }
  if (!m && err.kind == EW_ERR_UNSUPPORTED) {
    skip_unsupported(r, cmd, &err);
    return;
  }
  if (!m) {
    fail_line(r, cmd, "module %s rejected at decode (offset %u: %s), want %s", file,
              err.offset, err.message, kind);
    return;
  }
  ew_instance *inst = instantiate(r, m, &err);
  bool want_trap = !strcmp(kind, "uninstantiable");
  if (inst) {
    fail_line(r, cmd, "%s module %s instantiated", kind, file);
    ew_instance_free(inst);
  } else if (want_trap && err.kind != EW_ERR_TRAP) {
    fail_line(r, cmd, "module %s: want a trap, got: %s", file, err.message);
  } else if (want_trap) {
    check_trap(r, cmd, EW_TRAP_NONE, text, err.trap, err.message);
  } else if (!want_trap && err.kind != EW_ERR_LINK && err.kind != EW_ERR_LIMIT) {
    fail_line(r, cmd, "module %s: want a link error, got: %s", file, err.message);
  } else {
    r->passed++;
  }
  if (!keep_trapped(r, m, &err))
    ew_module_free(m);
}

static void run_command(runner *r, json_t *cmd)
{
  const char *type = json_string_value(json_object_get(cmd, "type"));
  if (!type) {
    fail_line(r, cmd, "command without type");
  } else if (!strcmp(type, "module")) {
    cmd_module(r, cmd);
  } else if (!strcmp(type, "register")) {
    cmd_register(r, cmd);
  } else if (!strcmp(type, "action")) {
    cmd_action(r, cmd);
  } else if (!strcmp(type, "assert_return")) {
    cmd_assert_return(r, cmd);
  } else if (!strcmp(type, "assert_trap")) {
    cmd_assert_trap(r, cmd, false);
  } else if (!strcmp(type, "assert_exhaustion")) {
    cmd_assert_trap(r, cmd, true);
  } else if (!strcmp(type, "assert_invalid")) {
    cmd_assert_module_fails(r, cmd, "invalid");
  } else if (!strcmp(type, "assert_malformed")) {
    cmd_assert_module_fails(r, cmd, "malformed");
  } else if (!strcmp(type, "assert_unlinkable")) {
    cmd_assert_module_fails(r, cmd, "unlinkable");
  } else if (!strcmp(type, "assert_uninstantiable")) {
    cmd_assert_module_fails(r, cmd, "uninstantiable");
  } else {
    skip_line(r, cmd, "command kind out of scope");
  }
}

int wasm_cmd_spectest(struct edgecr_global *g, int argc, char **argv)
{
  (void)g;
  bool bounds_checks = false;
  unsigned long long fuel_slice = 0;
  while (argc > 2 && argv[1][0] == '-') {
    if (strcmp(argv[1], "--bounds-checks") == 0) {
      bounds_checks = true;
    } else if (strcmp(argv[1], "--fuel-slice") == 0 && argc > 3) {
      if (parse_uint64(argv[2], &fuel_slice) < 0 || fuel_slice == 0 ||
          fuel_slice == EW_FUEL_UNLIMITED)
        return cli_usage("wasm spectest", "--fuel-slice needs a positive number, got `%s`",
                         argv[2]);
      argv++;
      argc--;
    } else {
      break;
    }
    argv++;
    argc--;
  }
  if (argc != 2 || argv[1][0] == '-')
    return cli_usage("wasm spectest",
                     "expected [--bounds-checks] [--fuel-slice N] FILE.json (from wast2json)");
  json_error_t jerr;
  json_t *root = json_load_file(argv[1], JSON_ALLOW_NUL, &jerr);
  if (!root) {
    log_error("wasm spectest: %s:%d: %s", argv[1], jerr.line, jerr.text);
    return 1;
  }
  runner r;
  memset(&r, 0, sizeof r);
  r.guard_memory = !bounds_checks && ew_guard_enable();
  r.fuel_slice = fuel_slice;
  r.source = json_string_value(json_object_get(root, "source_filename"));
  if (!r.source)
    r.source = argv[1];
  const char *slash = strrchr(argv[1], '/');
  r.dir = slash ? strndup(argv[1], (size_t)(slash - argv[1])) : xstrdup(".");
  if (host_init(&r) < 0) {
    log_error("wasm spectest: cannot create the spectest host module");
    runner_free(&r);
    json_decref(root);
    return 1;
  }
  json_t *cmds = json_object_get(root, "commands");
  size_t i;
  json_t *cmd;
  json_array_foreach(cmds, i, cmd)
    run_command(&r, cmd);
  if (r.notes)
    printf("%d NOTE(s): expected messages worded differently (the kinds matched)\n", r.notes);
  printf("%d passed, %d failed, %d skipped\n", r.passed, r.failed, r.skipped);
  fflush(stdout);
  int rc = r.failed ? 1 : 0;
  runner_free(&r);
  json_decref(root);
  return rc;
}
