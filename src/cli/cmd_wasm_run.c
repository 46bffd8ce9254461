/* cmd_wasm_run.c - `edgecr wasm run`: run a WebAssembly module with WASI.
 *
 *   edgecr wasm run [--dir H[:G]]... [--env K=V]... [--fuel N] [--bounds-checks]
 *                   [--max-pages N] [--memory-budget SIZE] [--invoke FUNC]
 *                   [--tenant-metadata FILE] module.wasm [args...]
 *
 * Without --invoke the module is a WASI command: its `_start` runs with
 * argv = [module.wasm, args...] and the process exits with the module's
 * proc_exit code.  With --invoke, `_initialize` runs first when exported
 * (a WASI reactor), then FUNC is called with `args` parsed by its parameter
 * types, and its results are printed one per line.
 *
 * Exit status (docs/wasi.md): the module's exit code (0-255; larger codes
 * become 255); 124 when the fuel budget ran out; 134 when the module
 * trapped (the trap kind is printed); 125 when edgecr could not run the
 * module at all (bad option, unreadable/invalid module, unresolved import).
 *
 * --tenant-metadata gives the module edgecr's tenant ABI (import module
 * `edgecr`, include/edgecr/guest.h) with the permissions of a metadata
 * file, signed or not, WITHOUT checking the signature: a development
 * harness (containers verify it at create, docs/tenants.md).  Without it,
 * `edgecr` imports link and every call is denied. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "tenant_platform.h"
#include "tenant_services.h"
#include "util.h"
#include "wasi.h"
#include "wasm.h"

#define EXIT_WASM_OUT_OF_FUEL 124
#define EXIT_WASM_RUN_ERROR 125
#define EXIT_WASM_TRAP 134

int wasm_cmd_run(struct edgecr_global *g, int argc, char **argv);

struct run_options {
  struct wasi_preopen *dirs;
  size_t ndirs;
  char **env;             /* "K=V", owned strings */
  size_t nenv;
  uint64_t fuel;          /* EW_FUEL_UNLIMITED when not given */
  uint32_t max_pages;     /* 0: engine default */
  uint64_t budget;        /* --memory-budget: bytes, 0 none; default EW_DEFAULT_INSTANCE_BYTES */
  bool bounds_checks;     /* --bounds-checks: no guarded memory */
  const char *invoke;
  const char *tenant_metadata;  /* --tenant-metadata FILE */
  const char *module_path;
  char **args;            /* after the module path */
  size_t nargs;
};

static void run_options_release(struct run_options *o)
{
  free(o->dirs);
  for (size_t i = 0; i < o->nenv; i++)
    free(o->env[i]);
  free(o->env);
}

static void usage(FILE *out)
{
  fprintf(out,
          "usage: edgecr wasm run [options] module.wasm [args...]\n\n"
          "  --dir H[:G]      preopen host directory H as guest directory G (default G = H)\n"
          "  --env K=V        set guest environment variable K (--env K copies the host's)\n"
          "  --fuel N         stop with exit status 124 after N units of fuel\n"
          "  --max-pages N    cap linear memory at N 64 KiB pages\n"
          "  --memory-budget SIZE  bytes the instance may hold in all: memory, tables,\n"
          "                   globals, code, stacks (suffix k, m, g; 0: no budget; default 1g)\n"
          "  --bounds-checks  compare every memory access with the memory size instead of\n"
          "                   using a guarded memory (the default on 64-bit Linux)\n"
          "  --invoke FUNC    call export FUNC with args (parsed by its types), print results\n"
          "  --tenant-metadata FILE  tenant ABI permissions from FILE (signature NOT checked)\n\n"
          "exit status: the module's exit code; 124 out of fuel; 134 trap; 125 cannot run\n");
}

/* ---- option parsing ---- */

static int add_dir(struct run_options *o, char *spec)
{
  char *colon = strchr(spec, ':');
  const char *host = spec, *guest = spec;
  if (spec[0] == 0 || spec[0] == ':' || (colon != NULL && colon[1] == 0))
    return cli_usage("wasm run", "--dir needs HOST[:GUEST], got `%s`", spec);
  if (colon != NULL) {
    *colon = 0; /* split in place: argv outlives the run */
    guest = colon + 1;
  }
  o->dirs = xrealloc(o->dirs, (o->ndirs + 1) * sizeof *o->dirs);
  o->dirs[o->ndirs++] = (struct wasi_preopen){host, guest};
  return 0;
}

static int add_env(struct run_options *o, const char *spec)
{
  char *entry;
  if (strchr(spec, '=') != NULL) {
    if (spec[0] == '=')
      return cli_usage("wasm run", "--env needs KEY=VALUE, got `%s`", spec);
    entry = xstrdup(spec);
  } else {
    const char *v = getenv(spec);
    if (v == NULL)
      return 0; /* --env K with K unset on the host: nothing to pass */
    entry = xasprintf("%s=%s", spec, v);
  }
  o->env = xrealloc(o->env, (o->nenv + 1) * sizeof *o->env);
  o->env[o->nenv++] = entry;
  return 0;
}

static int parse_count(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
  if (parse_uint64(s, out) < 0 || *out > max)
    return cli_usage("wasm run", "%s needs a number up to %llu, got `%s`", opt, max, s);
  return 0;
}

/* "64m", "1g", "4096" -> bytes (k, m, g: powers of 1024). */
static int parse_bytes(const char *opt, const char *s, uint64_t *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  switch (*end) {
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: break;
  }
  if (errno || end == s || *end || !isdigit((unsigned char) s[0]) || v > (UINT64_MAX >> shift))
    return cli_usage("wasm run", "%s needs a size like 64m or 1g, got `%s`", opt, s);
  *out = (uint64_t) v << shift;
  return 0;
}

/* Options end at the module path (or `--`): the rest belongs to the guest. */
static int parse_options(int argc, char **argv, struct run_options *o, bool *help)
{
  o->fuel = EW_FUEL_UNLIMITED;
  o->budget = EW_DEFAULT_INSTANCE_BYTES;
  int i = 1;
  for (; i < argc; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == 0)
      break;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      *help = true;
      return 0;
    }
    if (strcmp(a, "--bounds-checks") == 0) {
      o->bounds_checks = true;
      continue;
    }
    char *value = strchr(a, '=');
    const char *name = a;
    char namebuf[32];
    if (value != NULL && str_has_prefix(a, "--")) {
      snprintf(namebuf, sizeof namebuf, "%.*s", (int) (value - a), a);
      name = namebuf;
      value++;
    } else {
      value = NULL;
    }
    bool takes_value = strcmp(name, "--dir") == 0 || strcmp(name, "--env") == 0 ||
                       strcmp(name, "--fuel") == 0 || strcmp(name, "--max-pages") == 0 ||
                       strcmp(name, "--memory-budget") == 0 || strcmp(name, "--invoke") == 0 ||
                       strcmp(name, "--tenant-metadata") == 0;
    if (!takes_value)
      return cli_usage("wasm run", "unknown option `%s`", a);
    if (value == NULL) {
      if (i + 1 >= argc)
        return cli_usage("wasm run", "%s needs a value", name);
      value = argv[++i];
    }
    unsigned long long n;
    int r = 0;
    if (strcmp(name, "--dir") == 0)
      r = add_dir(o, value);
    else if (strcmp(name, "--env") == 0)
      r = add_env(o, value);
    else if (strcmp(name, "--fuel") == 0) {
      r = parse_count(name, value, UINT64_MAX - 1, &n);
      o->fuel = n;
    } else if (strcmp(name, "--max-pages") == 0) {
      r = parse_count(name, value, 65536, &n);
      o->max_pages = (uint32_t) n;
    } else if (strcmp(name, "--memory-budget") == 0) {
      r = parse_bytes(name, value, &o->budget);
    } else if (strcmp(name, "--tenant-metadata") == 0) {
      o->tenant_metadata = value;
    } else {
      o->invoke = value;
    }
    if (r != 0)
      return r;
  }
  if (i >= argc)
    return cli_usage("wasm run", "missing module.wasm");
  o->module_path = argv[i];
  o->args = argv + i + 1;
  o->nargs = (size_t) (argc - i - 1);
  return 0;
}

/* ---- engine glue ---- */

static void *heap_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *heap_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void heap_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {heap_alloc, heap_realloc, heap_free, NULL};

static void module_freep(ew_module **m) { if (*m) ew_module_free(*m); }
static void instance_freep(ew_instance **i) { if (*i) ew_instance_free(*i); }
static void wasi_freep(wasi_ctx **w) { wasi_ctx_free(*w); }

static const char *error_kind_name(ew_error_kind k)
{
  switch (k) {
  case EW_ERR_MALFORMED: return "malformed module";
  case EW_ERR_INVALID: return "invalid module";
  case EW_ERR_UNSUPPORTED: return "unsupported feature";
  case EW_ERR_LINK: return "link error";
  case EW_ERR_TRAP: return "trap";
  case EW_ERR_LIMIT: return "limit exceeded";
  case EW_ERR_NOMEM: return "out of memory";
  default: return "error";
  }
}

static ew_module *load_module(const char *path, edgecr_error_t *err)
{
  cleanup_free char *bytes = NULL;
  ssize_t len = read_all_file(path, &bytes, err);
  if (len < 0)
    return NULL;
  ew_error e = {0};
  ew_module *m = ew_module_new(&heap, (const uint8_t *) bytes, (size_t) len, &e);
  if (m == NULL) {
    if (e.func_index != EW_NO_FUNC)
      edgecr_error_make(err, 0, "`%s`: %s at byte offset 0x%x (function %u): %s", path,
                        error_kind_name(e.kind), e.offset, e.func_index, e.message);
    else
      edgecr_error_make(err, 0, "`%s`: %s at byte offset 0x%x: %s", path,
                        error_kind_name(e.kind), e.offset, e.message);
  }
  return m;
}

/* The module's imports of edgecr's tenant ABI: each a known function with
 * its type (the resolver would only say "not granted"). */
static int check_tenant_imports(const ew_module *m, const char *path, edgecr_error_t *err)
{
  for (uint32_t i = 0; i < ew_module_import_count(m); i++) {
    ew_import_info imp;
    struct tenant_err te;
    if (ew_module_import(m, i, &imp) == 0 && tenant_abi_is_ours(&imp) && tenant_abi_check_import(&imp, &te) < 0)
      return edgecr_error_make(err, 0, "`%s`: import `%s`: %s", path, te.path, te.reason);
  }
  return 0;
}

/* A guest exit code as a process exit status (codes above 255 saturate). */
static int exit_status_of(int code)
{
  return code >= 0 && code <= 255 ? code : 255;
}

/* Status of a run that did not return normally, printing what happened. */
static int report_stop(ew_instance *inst, ew_status st, const char *what, uint64_t fuel)
{
  switch (st) {
  case EW_EXIT:
    return exit_status_of(ew_exit_code(inst));
  case EW_OUT_OF_FUEL:
    log_error("wasm trap: out of fuel in %s (budget %llu)", what, (unsigned long long) fuel);
    return EXIT_WASM_OUT_OF_FUEL;
  case EW_TRAP: {
    int kind = ew_trap_kind(inst);
    const char *msg = ew_trap_message(inst);
    if (msg != NULL && *msg && strcmp(msg, ew_trap_name(kind)) != 0)
      log_error("wasm trap: %s in %s (%s)", ew_trap_name(kind), what, msg);
    else
      log_error("wasm trap: %s in %s", ew_trap_name(kind), what);
    return EXIT_WASM_TRAP;
  }
  default:
    log_error("wasm run: %s: unexpected status %d", what, (int) st);
    return EXIT_WASM_RUN_ERROR;
  }
}

/* The tenant of the run: its permission table and platform (one per process). */
static struct tenant_linux *the_tenant;

/* ew_call, carrying on over suspensions.  WASI suspends the call when the
 * guest sleeps (suspend_sleep): this thread sleeps until the deadline and
 * resumes it, which is what a scheduler of many instances would do while
 * running others in between. */
static ew_status call_to_end(ew_instance *inst, ew_func *f, const ew_value *args, uint32_t nargs,
                             ew_value *results, uint32_t nresults)
{
  wasi_ctx *wasi = ew_instance_user_data(inst);
  ew_status st = ew_call(inst, f, args, nargs, results, nresults);
  while (st == EW_SUSPENDED) {
    uint64_t deadline;
    if (tenant_linux_take_sleep(the_tenant, &deadline) || (wasi != NULL && wasi_sleep_deadline(wasi, &deadline))) {
      struct timespec ts = {(time_t) (deadline / 1000000000u), (long) (deadline % 1000000000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
      }
    }
    st = ew_resume(inst);
  }
  if (st == EW_OUT_OF_FUEL)
    ew_abort(inst);
  return st;
}

/* ---- --invoke: typed arguments and results ---- */

static int parse_value(uint8_t type, const char *s, ew_value *v)
{
  char *end = NULL;
  errno = 0;
  switch (type) {
  case EW_I32: {
    long long x = strtoll(s, &end, 0);
    if (x < INT32_MIN || x > (long long) UINT32_MAX)
      return -1;
    v->u32 = (uint32_t) x;
    break;
  }
  case EW_I64:
    if (s[0] == '-')
      v->i64 = strtoll(s, &end, 0);
    else
      v->u64 = strtoull(s, &end, 0);
    break;
  case EW_F32: v->f32 = strtof(s, &end); break;
  case EW_F64: v->f64 = strtod(s, &end); break;
  default:
    if (strcmp(s, "null") != 0)
      return -1;
    v->ref = NULL;
    return 0;
  }
  return errno == 0 && end != s && *end == 0 ? 0 : -1;
}

/* Shortest decimal that reads back as the same value. */
static void print_float(double x, int max_digits, bool single)
{
  char buf[64];
  if (isnan(x)) {
    printf("nan\n");
    return;
  }
  for (int p = 1; p <= max_digits; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, x);
    if (single ? strtof(buf, NULL) == (float) x : strtod(buf, NULL) == x)
      break;
  }
  printf("%s\n", buf);
}

static void print_value(uint8_t type, ew_value v)
{
  switch (type) {
  case EW_I32: printf("%d\n", v.i32); break;
  case EW_I64: printf("%lld\n", (long long) v.i64); break;
  case EW_F32: print_float(v.f32, 9, true); break;
  case EW_F64: print_float(v.f64, 17, false); break;
  default: printf(v.ref ? "ref\n" : "null\n"); break;
  }
}

static int invoke(ew_instance *inst, const struct run_options *o)
{
  ew_func *init = ew_instance_func(inst, "_initialize");
  if (init != NULL && ew_func_type(init).nparams == 0 && ew_func_type(init).nresults == 0) {
    ew_status st = call_to_end(inst, init, NULL, 0, NULL, 0);
    if (st != EW_OK)
      return report_stop(inst, st, "_initialize", o->fuel);
  }
  ew_func *f = ew_instance_func(inst, o->invoke);
  if (f == NULL) {
    log_error("wasm run: `%s` exports no function `%s`", o->module_path, o->invoke);
    return EXIT_WASM_RUN_ERROR;
  }
  ew_functype ft = ew_func_type(f);
  if (o->nargs != ft.nparams) {
    log_error("wasm run: `%s` takes %u argument(s), %zu given", o->invoke, ft.nparams, o->nargs);
    return EXIT_WASM_RUN_ERROR;
  }
  cleanup_free ew_value *args = xmalloc0((ft.nparams + 1) * sizeof *args);
  cleanup_free ew_value *results = xmalloc0((ft.nresults + 1) * sizeof *results);
  for (uint32_t i = 0; i < ft.nparams; i++)
    if (parse_value(ft.params[i], o->args[i], &args[i]) < 0) {
      log_error("wasm run: argument %u of `%s`: `%s` is not a valid %s", i + 1, o->invoke,
                o->args[i], ew_valtype_name(ft.params[i]));
      return EXIT_WASM_RUN_ERROR;
    }
  ew_status st = call_to_end(inst, f, args, ft.nparams, results, ft.nresults);
  if (st != EW_OK)
    return report_stop(inst, st, o->invoke, o->fuel);
  for (uint32_t i = 0; i < ft.nresults; i++)
    print_value(ft.results[i], results[i]);
  fflush(stdout);
  return 0;
}

static int run_command(ew_instance *inst, const struct run_options *o)
{
  ew_func *start = ew_instance_func(inst, "_start");
  if (start == NULL) {
    log_error("wasm run: `%s` exports no `_start` (a WASI command); use --invoke FUNC",
              o->module_path);
    return EXIT_WASM_RUN_ERROR;
  }
  ew_status st = call_to_end(inst, start, NULL, 0, NULL, 0);
  if (st == EW_OK)
    return 0;
  return report_stop(inst, st, "_start", o->fuel);
}

/* Instantiation failed: say why and pick the exit status. */
static int report_instantiate_error(const struct run_options *o, const ew_error *e, wasi_ctx *wasi)
{
  int code;
  if (e->kind == EW_ERR_TRAP && e->trap == EW_TRAP_HOST && wasi_exit_status(wasi, &code))
    return exit_status_of(code); /* proc_exit in the start function */
  if (e->kind == EW_ERR_TRAP) {
    if (e->trap == EW_TRAP_OUT_OF_FUEL) {
      log_error("wasm trap: out of fuel in the start function (budget %llu)",
                (unsigned long long) o->fuel);
      return EXIT_WASM_OUT_OF_FUEL;
    }
    log_error("wasm trap: %s during instantiation of `%s`: %s", ew_trap_name(e->trap),
              o->module_path, e->message);
    return EXIT_WASM_TRAP;
  }
  const char *why = e->kind == EW_ERR_LINK ? wasi_link_error(wasi) : "";
  log_error("wasm run: instantiate `%s`: %s: %s%s%s%s", o->module_path, error_kind_name(e->kind),
            e->message, *why ? " (" : "", why, *why ? ")" : "");
  return EXIT_WASM_RUN_ERROR;
}

/* A grow the budget refused fails inside the guest (-1, malloc returns
 * NULL), which the guest may report vaguely or not at all: say it here. */
static void report_refused_grow(ew_instance *inst, const struct run_options *o)
{
  int table;
  uint64_t bytes = ew_instance_refused_grow(inst, &table);
  if (bytes)
    log_warning("wasm run: a %s.grow of %llu bytes was refused: over the instance's memory "
                "budget of %llu bytes (--memory-budget)", table ? "table" : "memory",
                (unsigned long long) bytes, (unsigned long long) o->budget);
}

static int run(const struct run_options *o)
{
  edgecr_error_t err = NULL;
  __attribute__((cleanup(module_freep))) ew_module *module = load_module(o->module_path, &err);
  if (module == NULL || check_tenant_imports(module, o->module_path, &err) < 0) {
    edgecr_error_wrap(&err, "wasm run");
    cli_fail(&err);
    return EXIT_WASM_RUN_ERROR;
  }

  cleanup_free char **guest_argv = xmalloc0((o->nargs + 2) * sizeof *guest_argv);
  guest_argv[0] = (char *) o->module_path;
  for (size_t i = 0; i < o->nargs; i++)
    guest_argv[i + 1] = o->args[i];
  struct wasi_config wc = {
    .argc = o->invoke ? 1 : o->nargs + 1, .argv = guest_argv,
    .envc = o->nenv, .env = o->env,
    .npreopens = o->ndirs, .preopens = o->dirs,
    .stdio = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO},
  };
  __attribute__((cleanup(wasi_freep))) wasi_ctx *wasi = NULL;
  if (wasi_ctx_new(&wc, &wasi, &err) < 0) {
    edgecr_error_wrap(&err, "wasm run");
    cli_fail(&err);
    return EXIT_WASM_RUN_ERROR;
  }

  struct tenant_meta *meta = NULL;
  if (o->tenant_metadata != NULL) {
    meta = xmalloc0(sizeof *meta);
    if (tenant_linux_load_unverified(o->tenant_metadata, meta, &err) < 0) {
      free(meta);
      edgecr_error_wrap(&err, "wasm run: --tenant-metadata");
      cli_fail(&err);
      return EXIT_WASM_RUN_ERROR;
    }
    /* kv, sensors, GPIO: the tenant's store (only when kv is granted: no
     * store is made for a run that cannot use it) and the device map */
    bool kv = (meta->perms.granted & (1u << TENANT_SVC_KV)) != 0;
    struct tenant_services_cfg sc = {.tenant_id = kv ? meta->id : NULL};
    if (tenant_linux_services_open(&sc, &err) < 0) {
      free(meta);
      edgecr_error_wrap(&err, "wasm run: tenant services");
      cli_fail(&err);
      return EXIT_WASM_RUN_ERROR;
    }
  }
  const char *base = strrchr(o->module_path, '/');
  the_tenant = tenant_linux_new(meta, base ? base + 1 : o->module_path, STDOUT_FILENO, STDERR_FILENO);
  free(meta);
  struct tenant_resolver resolver = {.tenant = the_tenant, .next = wasi_resolve, .next_ctx = wasi};

  ew_limits limits;
  ew_limits_default(&limits);
  if (o->max_pages > 0)
    limits.max_memory_pages = o->max_pages;
  limits.max_instance_bytes = o->budget;
  ew_instance_config cfg = {
    .limits = &limits, .resolve = tenant_linux_resolve, .resolve_ctx = &resolver, .user_data = wasi,
    .start_fuel = o->fuel == EW_FUEL_UNLIMITED ? 0 : o->fuel,
    .guard_memory = !o->bounds_checks && ew_guard_enable(),
  };
  ew_error e = {0};
  __attribute__((cleanup(instance_freep))) ew_instance *inst =
      ew_instance_new(module, &heap, &cfg, &e);
  if (inst == NULL) {
    int rc = report_instantiate_error(o, &e, wasi);
    ew_instance_free(e.instance);   /* trapped: only host functions refer to it */
    return rc;
  }
  /* Sleeps suspend the call from now on (a start function cannot be). */
  wasi_set_suspend_sleep(wasi, 1);
  ew_set_fuel(inst, o->fuel);
  int status = o->invoke ? invoke(inst, o) : run_command(inst, o);
  fflush(stdout);
  report_refused_grow(inst, o);
  tenant_linux_free(the_tenant);
  the_tenant = NULL;
  tenant_linux_services_close();
  return status;
}

int wasm_cmd_run(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct run_options o = {0};
  bool help = false;
  if (parse_options(argc, argv, &o, &help) != 0) {
    run_options_release(&o);
    return EXIT_WASM_RUN_ERROR;
  }
  if (help) {
    usage(stdout);
    run_options_release(&o);
    return 0;
  }
  int status = run(&o);
  run_options_release(&o);
  return status;
}
