/* wasm_backend.h - what the WebAssembly backend's files share.
 *
 * A WebAssembly container is a Linux container (src/linux/) whose init runs
 * edgecr's engine (src/wasm/ + WASI) in place of execve: wasm_backend.c is
 * the backend (selection, create/exec through the Linux backend with the
 * payload runner, everything else delegated), wasm_payload.c the runner.
 * User-facing rules: docs/wasm-containers.md. */
#ifndef EDGECR_WASM_BACKEND_H
#define EDGECR_WASM_BACKEND_H

#include "linux_backend.h"
#include "meta.h"
#include "wasm.h"

struct tenant_meta;
struct tenant_control;

/* Annotations (the ecosystem's: crun reads the same two). */
#define WB_ANN_HANDLER "run.oci.handler"          /* "wasm" */
#define WB_ANN_VARIANT "module.wasm.image/variant" /* "compat" | "compat-smart" */
#define WB_ANN_FUEL "org.edgecr.wasm.fuel"        /* fuel budget of the run (decimal) */
/* Tenant metadata (docs/tenants.md): a signed COSE_Sign1 file in the rootfs,
 * verified at create; what was verified is recorded in the state's
 * annotations under org.edgecr.tenant.* for `edgecr state`. */
#define WB_ANN_TENANT_META "org.edgecr.tenant.metadata"

/* Exit statuses of a WebAssembly container (besides the module's own
 * proc_exit code, and 128+N when stopped by signal N). */
#define WB_EXIT_OUT_OF_FUEL 124 /* the fuel budget (WB_ANN_FUEL) ran out */
#define WB_EXIT_RUN_ERROR 125   /* the module could not be instantiated */
#define WB_EXIT_TRAP 134        /* the module trapped (message on stderr) */
#define WB_EXIT_LIFETIME 122    /* the tenant's security.lifetime is over (message on stderr) */
#define WB_EXIT_START_LIMIT 123 /* a reactor tenant did not reach its first activation within schedule.start-limit */

/* The export that makes a module a reactor tenant (docs/tenants.md). */
#define WB_ACTIVATE "edgecr_activate"

/* The payload runner that runs a WebAssembly module in the container. */
extern const struct linux_payload_ops wasm_payload_ops;

/* Does the file start with the WebAssembly magic "\0asm"? */
bool wb_has_wasm_magic(int fd);

/* Open `path` (inside the container) beneath the rootfs directory rootfd. */
int wb_open_in_root(int rootfd, const char *path);
/* process.args[0] as the container will resolve it, opened from the host; -1 if none. */
int wb_open_entrypoint(const struct oci_config *cfg);

/* When the annotation WB_ANN_TENANT_META names a metadata file: verify it
 * (trust directory, signature, expiry, the module's digest) or fail create
 * with the reason; on success record the tenant in c->state->annotations.
 * wasm_tenant.c. */
int wb_tenant_check(struct container *c, const struct oci_config *cfg, edgecr_error_t *err);
/* After the Linux backend's create: raise the tenant's version record when
 * ok (an error then fails create), leave it when create failed. */
int wb_tenant_created(bool ok, edgecr_error_t *err);
/* The annotations that follow the metadata in force (version, signed, key,
 * metadata-digest of the file), at create and at each update. */
void wb_tenant_annotate(struct container *c, const struct tenant_meta *m, bool is_signed, const uint8_t *file,
                        size_t len);

/* `edgecr update --metadata FILE ID` (wasm_tenant_live.c), an
 * lc_container_fn: verify FILE against the running tenant and deliver it
 * to the tenant through its control page; wait up to wait_ms for its
 * answer.  A refused update changes nothing. */
struct wb_tenant_update {
  const char *file;
  int wait_ms;
  /* May container id take the schedule of (verified) metadata file?  0, or
   * -1 with *why (malloc'd).  Asked only when the schedule changes; NULL:
   * no admission check (every schedule passes). */
  int (*admit_schedule)(void *ctx, const char *id, const char *file, char **why);
  void *admit_ctx;
  bool answered;           /* out: the tenant took it within wait_ms */
  char reason[256];
  uint64_t version;        /* out: the version now in force */
  char id[64];             /* out: the tenant id */
};
int wb_tenant_update(struct container *c, void *data, edgecr_error_t *err);

/* Metadata next to the module when no annotation names one: <module>.meta. */
#define WB_TENANT_META_SUFFIX ".meta"

/* wasm_sched.c: the scheduler a signed schedule asks for (false: none). */
bool wb_schedule_policy(const struct tenant_schedule *s, struct oci_scheduler *out);
/* Make the schedule of m (from `file`) the container's real-time settings:
 * process.scheduler and the cgroup real-time budget; a bundle whose
 * process.scheduler says otherwise is refused with the reason. */
int wb_tenant_schedule(struct oci_config *cfg, const struct tenant_meta *m, const char *file, edgecr_error_t *err);

/* wasm_payload.c: the stop machinery the reactor loop shares. */
int wb_stopping(void);                          /* the stop signal, 0 while none */
_Noreturn void wb_die_of_stop(void);            /* end as the stop asks (signal, or lifetime) */
void wb_set_stop_grace(uint64_t ns);            /* schedule.stop-limit in place of the default */
/* Async-signal-safe: stop as for SIGTERM, but end with WB_EXIT_LIFETIME
 * after writing msg (static) to stderr. */
void wb_stop_for_lifetime(const char *msg);
__attribute__((format(printf, 2, 3))) _Noreturn void wb_fail(int status, const char *fmt, ...);

/* wasm_activate.c: the tenant's time limits and, for a reactor, its
 * activations (docs/tenants.md, "Schedule and activations"). */
struct tenant_linux;
struct wasi_ctx;
/* Once the run begins: security.lifetime and schedule.start-limit timers,
 * schedule.stop-limit as the stop grace.  `reactor`: the start limit
 * applies (a command has no first activation). */
void wb_tenant_limits_arm(const struct tenant_meta *m, bool reactor);
/* Is the module a reactor tenant (exports edgecr_activate)?  -1 with the
 * reason when it cannot be one (wrong type, `_start` as well, no period). */
int wb_reactor_check(const ew_module *mod, const char *path, const struct tenant_meta *m, edgecr_error_t *err);
/* _initialize (if exported), then edgecr_activate once per period until
 * the tenant ends; returns how it ended (trap, proc_exit) for exit_as, or
 * does not return (stopped). */
ew_status wb_reactor_run(ew_instance *inst, struct wasi_ctx *wasi, struct tenant_linux *tenant, const char *path);

/* What create verified, for the container's init (which the runtime
 * process forks, so it inherits these): the tenant's metadata (NULL: none,
 * the tenant is granted nothing) and the container id.  wasm_tenant.c. */
extern struct tenant_meta *wb_tenant_meta;
extern const char *wb_tenant_id;
/* The container's tenant control page (live updates, counters), mapped by
 * create for the init; NULL in other processes (exec).  wasm_tenant.c. */
extern struct tenant_control *wb_tenant_control;

#endif
