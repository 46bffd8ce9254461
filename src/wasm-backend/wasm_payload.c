/* wasm_payload.c - the payload runner of WebAssembly containers: what the
 * container's init (or an exec'd process) runs in place of execve, with
 * every Linux setting of the container already in force.
 *
 * prepare (before the init reports ready, so `create` fails on it): reads
 *   the module, decodes and validates it, and checks that it imports
 *   nothing but WASI preview 1 functions; errors name the file and why.
 * run (once `start` released the init): WASI from the process (args, env,
 *   the container's root preopened as "/", stdio = fds 0-2, a terminal
 *   included), instantiate, call _start, exit with the module's status.
 *
 * Stopping: SIGTERM and SIGINT set a flag.  The module runs on fuel slices
 * (WB_SLICE units: one per call and per loop iteration, the interpreter's
 * safe points), and at the end of each slice, or when a sleep is
 * interrupted, the flag is looked at: the run stops there and the process
 * ends as one killed by that signal would (128 + N when, as a pid
 * namespace's init, it cannot die of its own signal).  The slices cost
 * nothing in the interpreter's loop, which spends fuel either way.  A
 * module blocked in a host call (a read of stdin: WASI retries it when a
 * signal interrupts it) reaches no safe point: after WB_STOP_GRACE_MS (or
 * the tenant's schedule.stop-limit) a timer ends the process there.
 *
 * A tenant (verified metadata) may be a reactor instead of a command, and
 * has time limits: wasm_activate.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tenant_control.h"
#include "tenant_platform.h"
#include "tenant_services.h"
#include "util.h"
#include "wasi.h"
#include "wasm.h"
#include "wasm_backend.h"

/* Fuel per slice: a few milliseconds of the tightest loop, so a stop
 * signal is seen within that; a resume costs well under a microsecond. */
#define WB_SLICE (1u << 22)
#define WASM_PAGE 65536u
/* How long a stop signal waits for a safe point before the process ends
 * anyway (a module blocked in a host call reaches none). */
#define WB_STOP_GRACE_MS 200

struct wb_run {
  ew_module *module;
  char *path;
  uint64_t fuel;       /* EW_FUEL_UNLIMITED, or the budget of WB_ANN_FUEL */
  uint32_t max_pages;  /* from linux.resources.memory.limit; 0: engine default */
  uint64_t max_bytes;  /* the instance's whole budget: the same limit; 0: engine default */
  char **mounts;       /* destinations of bind mounts: preopened besides "/" */
  size_t n_mounts;
  bool reactor;        /* exports edgecr_activate: wasm_activate.c runs it */
};

static volatile sig_atomic_t stop_signal;
static long stop_grace_us = WB_STOP_GRACE_MS * 1000;
static const char *volatile stop_message; /* a stop that ends with WB_EXIT_LIFETIME */

static void *heap_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *heap_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void heap_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {heap_alloc, heap_realloc, heap_free, NULL};

/* ---- prepare --------------------------------------------------------- */

static const char *error_kind_name(ew_error_kind k)
{
  switch (k) {
  case EW_ERR_MALFORMED: return "malformed module";
  case EW_ERR_INVALID: return "invalid module";
  case EW_ERR_UNSUPPORTED: return "unsupported feature";
  case EW_ERR_LIMIT: return "limit exceeded";
  case EW_ERR_NOMEM: return "out of memory";
  default: return "cannot load module";
  }
}

/* A bare name is looked up in PATH like execve's callers do, but the
 * module needs only to be readable, not executable. */
static char *find_module(const struct oci_process *proc, const char *exe)
{
  if (strchr(exe, '/') != NULL)
    return xstrdup(exe);
  const char *path = NULL;
  for (size_t i = 0; proc->env != NULL && proc->env[i] != NULL; i++)
    if (strncmp(proc->env[i], "PATH=", 5) == 0)
      path = proc->env[i] + 5;
  cleanup_free char *dirs = xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  char *rest = dirs;
  for (char *d = strsep(&rest, ":"); d != NULL; d = strsep(&rest, ":")) {
    char *cand = xasprintf("%s/%s", *d ? d : ".", exe);
    if (access(cand, R_OK) == 0)
      return cand;
    free(cand);
  }
  return xstrdup(exe);
}

/* Everything the module imports must be a WASI preview 1 function or a
 * function of edgecr's tenant ABI (with its type): say which one is not,
 * at create, rather than when the module starts. */
static int check_imports(const ew_module *m, const char *path, edgecr_error_t *err)
{
  for (uint32_t i = 0; i < ew_module_import_count(m); i++) {
    ew_import_info imp;
    if (ew_module_import(m, i, &imp) < 0)
      continue;
    struct tenant_err te;
    if (tenant_abi_is_ours(&imp) && tenant_abi_check_import(&imp, &te) < 0)
      return edgecr_error_make(err, 0, "WebAssembly module `%s`: import `%s`: %s", path, te.path, te.reason);
    if (tenant_abi_is_ours(&imp))
      continue;
    bool wasi = imp.module_len == strlen(WASI_MODULE_NAME) && memcmp(imp.module, WASI_MODULE_NAME, imp.module_len) == 0;
    cleanup_free char *name = xasprintf("%.*s", (int) imp.name_len, imp.name);
    if (!wasi || imp.kind != EW_EXTERN_FUNC || !wasi_has_function(name))
      return edgecr_error_make(err, 0, "WebAssembly module `%s`: imports %s `%.*s.%s`, which edgecr does not provide (a "
                               "WebAssembly container gets the functions of %s and of edgecr's tenant ABI, "
                               "module `%s`, only)", path, ew_extern_kind_name(imp.kind), (int) imp.module_len,
                               imp.module, name, WASI_MODULE_NAME, TENANT_ABI_MODULE);
  }
  return 0;
}

/* A WASI command: the container runs its `_start`. */
static int check_command(const ew_module *m, const char *path, edgecr_error_t *err)
{
  for (uint32_t i = 0; i < ew_module_export_count(m); i++) {
    ew_export_info ex;
    if (ew_module_export(m, i, &ex) == 0 && ex.kind == EW_EXTERN_FUNC && strcmp(ex.name, "_start") == 0)
      return 0;
  }
  return edgecr_error_make(err, 0, "WebAssembly module `%s`: exports no function `_start`: not a WASI command "
                           "(a reactor or a library cannot be a container's process)", path);
}

static int read_limits(const struct oci_config *cfg, struct wb_run *r, edgecr_error_t *err)
{
  r->fuel = EW_FUEL_UNLIMITED;
  const char *fuel = json_string_value(json_object_get(cfg->annotations, WB_ANN_FUEL));
  unsigned long long n;
  if (fuel != NULL && (parse_uint64(fuel, &n) < 0 || n == 0 || n >= EW_FUEL_UNLIMITED))
    return edgecr_error_make(err, EINVAL, "%s: `annotations.%s`: `%s` is not a positive number", cfg->path,
                             WB_ANN_FUEL, fuel);
  if (fuel != NULL)
    r->fuel = n;
  json_t *limit = json_object_get(json_object_get(cfg->resources, "memory"), "limit");
  if (json_is_integer(limit) && json_integer_value(limit) > 0) {
    unsigned long long pages = (unsigned long long) json_integer_value(limit) / WASM_PAGE;
    r->max_pages = pages == 0 ? 1 : pages > 65536 ? 65536 : (uint32_t) pages;
    r->max_bytes = (uint64_t) json_integer_value(limit);
  }
  return 0;
}

/* The bind mounts' destinations (the container's own data: volumes,
 * ConfigMaps...) get a preopen each, besides the root, so a module sees
 * them as the directories they are; what a mount hides below "/" is
 * reachable through "/" as well.  Kernel filesystems (/proc, /sys, /dev)
 * are not preopened. */
static void collect_bind_mounts(const struct oci_config *cfg, struct wb_run *r)
{
  r->mounts = xmalloc0((cfg->n_mounts + 1) * sizeof *r->mounts);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *mt = &cfg->mounts[i];
    if (mt->bind && mt->destination != NULL && strcmp(mt->destination, "/") != 0)
      r->mounts[r->n_mounts++] = xstrdup(mt->destination);
  }
}

static int wb_prepare(const struct oci_config *cfg, const struct oci_process *proc, const char *exe, bool required,
                      void **state, edgecr_error_t *err)
{
  cleanup_free char *path = find_module(proc, exe);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return required ? edgecr_error_make(err, errno, "WebAssembly module `%s` (process.args[0])", path) : 0;
  if (!wb_has_wasm_magic(fd)) {
    if (!required)
      return 0; /* a Linux binary of the rootfs: execve runs it */
    return edgecr_error_make(err, ENOEXEC, "`%s` (process.args[0]): not a WebAssembly module (it does not "
                             "start with \\0asm), but the bundle asks for the wasm backend", path);
  }
  cleanup_free char *bytes = NULL;
  ssize_t len = read_all_file(path, &bytes, err);
  if (len < 0)
    return -1;
  ew_error e = {0};
  ew_module *m = ew_module_new(&heap, (const uint8_t *) bytes, (size_t) len, &e);
  if (m == NULL)
    return edgecr_error_make(err, 0, "WebAssembly module `%s` (process.args[0]): %s at byte offset 0x%x: %s", path, error_kind_name(e.kind),
                             e.offset, e.message);
  struct wb_run *r = xmalloc0(sizeof *r);
  r->module = m;
  r->path = steal_pointer(&path);
  collect_bind_mounts(cfg, r);
  int reactor = check_imports(m, r->path, err) < 0 ? -1 : wb_reactor_check(m, r->path, wb_tenant_meta, err);
  r->reactor = reactor > 0;
  if (reactor < 0 || (!r->reactor && check_command(m, r->path, err) < 0) || read_limits(cfg, r, err) < 0) {
    ew_module_free(m);
    edgecr_cleanup_strvp(&r->mounts);
    free(r->path);
    free(r);
    return -1;
  }
  *state = r;
  return 1;
}

/* ---- run ------------------------------------------------------------- */

/* Dies of sig with its default action (128 + sig where, as a pid
 * namespace's init, the process cannot).  Async-signal-safe. */
_Noreturn static void end_by_signal(int sig)
{
  const char *msg = stop_message;
  if (msg != NULL) {
    ssize_t n = write(STDERR_FILENO, msg, strlen(msg));
    (void) n;
    _exit(WB_EXIT_LIFETIME);
  }
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  raise(sig);
  _exit(128 + sig);
}

/* The module is blocked in a host call (WASI retries a read or a poll
 * that the signal interrupted), so it reaches no safe point: end the
 * process from here, as the signal would have.  Only async-signal-safe
 * calls. */
static void on_stop_grace_over(int unused)
{
  (void) unused;
  end_by_signal(stop_signal);
}

/* Asks the run to stop at its next safe point, and arms the grace timer
 * for a module that is blocked in a host call. */
static void on_stop_signal(int sig)
{
  if (stop_signal != 0)
    return;
  stop_signal = sig;
  struct itimerval grace = {.it_value = {.tv_sec = stop_grace_us / 1000000, .tv_usec = stop_grace_us % 1000000}};
  setitimer(ITIMER_REAL, &grace, NULL);
}

int wb_stopping(void)
{
  return stop_signal;
}

void wb_set_stop_grace(uint64_t ns)
{
  uint64_t us = (ns + 999) / 1000;
  stop_grace_us = us > 3600u * 1000000u ? 3600L * 1000000L : (long) us;
}

void wb_stop_for_lifetime(const char *msg)
{
  if (stop_signal == 0)
    stop_message = msg;
  on_stop_signal(SIGTERM);
}

/* Ends the process as the signal would have (see the header comment). */
_Noreturn static void die_of(int sig)
{
  fflush(NULL);
  end_by_signal(sig);
}

_Noreturn void wb_die_of_stop(void)
{
  die_of(stop_signal);
}

/* The run cannot go on: the reason on the container's stderr, then exit. */
_Noreturn static void vfail(int status, const char *fmt, va_list ap)
{
  fflush(stdout);
  fputs("edgecr: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  _exit(status);
}

__attribute__((format(printf, 2, 3))) _Noreturn static void fail(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail(status, fmt, ap);
}

_Noreturn void wb_fail(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail(status, fmt, ap);
}

static int exit_status_of(int code)
{
  return code >= 0 && code <= 255 ? code : 255;
}

/* Sleeps until the guest's deadline (a WASI poll_oneoff or the tenant
 * ABI's sleep_until suspended the call), or until a stop signal. */
static void sleep_until(wasi_ctx *wasi, struct tenant_linux *tenant)
{
  uint64_t deadline;
  if (!tenant_linux_take_sleep(tenant, &deadline) && !wasi_sleep_deadline(wasi, &deadline))
    return;
  struct timespec ts = {(time_t) (deadline / 1000000000u), (long) (deadline % 1000000000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && stop_signal == 0) {
  }
}

/* _start to its end, slice by slice; returns the final status. */
static ew_status run_start(ew_instance *inst, ew_func *start, wasi_ctx *wasi, struct tenant_linux *tenant,
                           uint64_t budget)
{
  uint64_t left = budget;
  uint64_t slice = budget < WB_SLICE ? budget : WB_SLICE;
  ew_set_fuel(inst, slice);
  ew_status st = ew_call(inst, start, NULL, 0, NULL, 0);
  for (;;) {
    if (stop_signal != 0)
      die_of(stop_signal);
    if (st == EW_SUSPENDED) {
      sleep_until(wasi, tenant);
      if (stop_signal != 0)
        die_of(stop_signal);
    } else if (st == EW_OUT_OF_FUEL) {
      if (budget != EW_FUEL_UNLIMITED) {
        left -= slice;
        if (left == 0)
          return EW_OUT_OF_FUEL;
        slice = left < WB_SLICE ? left : WB_SLICE;
      }
      ew_set_fuel(inst, slice);
    } else {
      return st;
    }
    st = ew_resume(inst);
  }
}

static void install_stop_handlers(void)
{
  struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: a blocked call returns */
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGALRM);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct sigaction grace = {.sa_handler = on_stop_grace_over};
  sigemptyset(&grace.sa_mask);
  sigaction(SIGALRM, &grace, NULL);
}

/* WASI for the process: its args and env, the container's root as "/",
 * fds 0-2.  process.cwd cannot be given as well: wasi-libc treats "/" and
 * "." as the same prefix, so a second preopen "." would take absolute
 * paths too (docs/wasm-containers.md); relative paths resolve from "/". */
static wasi_ctx *new_wasi(const struct wb_run *r, const struct oci_process *proc)
{
  size_t argc = 0, envc = 0;
  while (proc->args[argc] != NULL)
    argc++;
  while (proc->env != NULL && proc->env[envc] != NULL)
    envc++;
  struct wasi_preopen *pre = xmalloc0((r->n_mounts + 1) * sizeof *pre);
  size_t npre = 0;
  pre[npre++] = (struct wasi_preopen){"/", "/"};
  for (size_t i = 0; i < r->n_mounts; i++) {
    struct stat st; /* a bind mount of a file is reachable through "/" only */
    if (stat(r->mounts[i], &st) == 0 && S_ISDIR(st.st_mode))
      pre[npre++] = (struct wasi_preopen){r->mounts[i], r->mounts[i]};
  }
  struct wasi_config wc = {.argc = argc, .argv = proc->args, .envc = envc, .env = proc->env, .npreopens = npre,
                           .preopens = pre, .stdio = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}};
  wasi_ctx *wasi = NULL;
  edgecr_error_t err = NULL;
  int rc = wasi_ctx_new(&wc, &wasi, &err);
  free(pre); /* the context keeps its own copies of the names */
  if (rc < 0)
    fail(WB_EXIT_RUN_ERROR, "%s: %s", r->path, err->msg);
  return wasi;
}

/* Imports: the tenant ABI from the tenant, the rest from WASI. */
static ew_instance *instantiate(const struct wb_run *r, wasi_ctx *wasi, struct tenant_linux *tenant)
{
  static struct tenant_resolver resolver;
  resolver = (struct tenant_resolver){.tenant = tenant, .next = wasi_resolve, .next_ctx = wasi};
  ew_limits limits;
  ew_limits_default(&limits);
  if (r->max_pages > 0)
    limits.max_memory_pages = r->max_pages;
  /* The cgroup's limit bounds the whole process; the instance budget (memory,
   * tables, code, stacks) follows it instead of the engine's default, so a
   * container given more than that default can use it. */
  if (r->max_bytes > 0)
    limits.max_instance_bytes = r->max_bytes;
  ew_instance_config ic = {.limits = &limits, .resolve = tenant_linux_resolve, .resolve_ctx = &resolver, .user_data = wasi,
                           .start_fuel = r->fuel == EW_FUEL_UNLIMITED ? 0 : r->fuel,
                           .guard_memory = ew_guard_enable()};
  ew_error e = {0};
  ew_instance *inst = ew_instance_new(r->module, &heap, &ic, &e);
  int code;
  if (inst == NULL && e.kind == EW_ERR_TRAP && e.trap == EW_TRAP_HOST && wasi_exit_status(wasi, &code))
    _exit(exit_status_of(code)); /* proc_exit in a start function */
  if (inst == NULL)
    fail(e.kind == EW_ERR_TRAP ? WB_EXIT_TRAP : WB_EXIT_RUN_ERROR, "wasm: instantiate `%s`: %s", r->path,
         e.message);
  return inst;
}

/* The container's exit status from how the run ended (docs/wasm-containers.md). */
_Noreturn static void exit_as(const struct wb_run *r, ew_instance *inst, ew_status st)
{
  fflush(NULL);
  switch (st) {
  case EW_OK:
    _exit(0);
  case EW_EXIT:
    _exit(exit_status_of(ew_exit_code(inst)));
  case EW_OUT_OF_FUEL:
    fail(WB_EXIT_OUT_OF_FUEL, "wasm: `%s` ran out of fuel (%s)", r->path, WB_ANN_FUEL);
  default: {
    const char *kind = ew_trap_name(ew_trap_kind(inst)), *msg = ew_trap_message(inst);
    if (msg == NULL || *msg == '\0' || strcmp(msg, kind) == 0)
      fail(WB_EXIT_TRAP, "wasm trap: %s", kind);
    fail(WB_EXIT_TRAP, "wasm trap: %s (%s)", kind, msg);
  }
  }
}

static void wb_run(void *state, const struct oci_process *proc)
{
  struct wb_run *r = state;
  install_stop_handlers();
  /* what ps/top show for the process: the module, not the runtime */
  const char *base = strrchr(r->path, '/');
  prctl(PR_SET_NAME, base ? base + 1 : r->path, 0, 0, 0);
  if (wb_tenant_meta != NULL)
    wb_tenant_limits_arm(wb_tenant_meta, r->reactor);
  wasi_ctx *wasi = new_wasi(r, proc);
  /* the tenant's permissions: its verified metadata, or none at all */
  struct tenant_linux *tenant = tenant_linux_new(wb_tenant_meta, wb_tenant_id ? wb_tenant_id : base ? base + 1 : r->path,
                                                 STDOUT_FILENO, STDERR_FILENO);
  if (wb_tenant_control != NULL) /* the init: live updates and counters through the control page */
    tenant_control_attach(wb_tenant_control, &tenant->pf, &tenant->ctx);
  ew_instance *inst = instantiate(r, wasi, tenant);
  if (r->reactor)
    exit_as(r, inst, wb_reactor_run(inst, wasi, tenant, r->path));
  ew_func *start = ew_instance_func(inst, "_start");
  if (start == NULL) /* checked at create; a start function cannot add one */
    fail(WB_EXIT_RUN_ERROR, "wasm: `%s` exports no `_start` (not a WASI command)", r->path);
  wasi_set_suspend_sleep(wasi, 1);
  exit_as(r, inst, run_start(inst, start, wasi, tenant, r->fuel));
}

/* In the init, before it enters the container's root: the tenant's kv
 * store and the node's devices, which the payload then uses from inside
 * (tenant_services.h).  A container without metadata is granted nothing,
 * now or by a later update, so it opens nothing. */
static int wb_early(const struct oci_config *cfg, edgecr_error_t *err)
{
  (void) cfg;
  if (wb_tenant_meta == NULL)
    return 0;
  struct tenant_services_cfg sc = {.tenant_id = wb_tenant_meta->id};
  if (tenant_linux_services_open(&sc, err) == 0)
    return 0;
  /* A tenant not granted kv now runs without a store if it cannot have one
   * here (a user namespace without rights on the kv root): kv calls after
   * a later grant then fail with EDGECR_ENOSYS, the rest works. */
  bool kv = (wb_tenant_meta->perms.granted & (1u << TENANT_SVC_KV)) != 0;
  sc.tenant_id = NULL;
  if (!kv && edgecr_error_errno(err) != EINVAL) {
    edgecr_error_release(err);
    if (tenant_linux_services_open(&sc, err) == 0)
      return 0;
  }
  return edgecr_error_wrap(err, "tenant `%s`", wb_tenant_meta->id);
}

const struct linux_payload_ops wasm_payload_ops = {
  .early = wb_early,
  .early_fds = tenant_linux_services_fds,
  .prepare = wb_prepare,
  .run = wb_run,
};
