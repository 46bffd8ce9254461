/* abi.h - the tenant ABI, host side: the `edgecr` import module, the
 * per-instance permission table, and the platform adapter interface.
 *
 * Portable core (no OS calls; builds freestanding for Cortex-M like
 * src/wasm/): the microcontroller tenant host links the same code with its
 * own platform adapter.  The guest's view of the same ABI (function names,
 * signatures, error codes) is include/edgecr/guest.h.
 *
 * Layers:
 *   1. The function table (abi.c): every function of the `edgecr` module
 *      with its wasm signature and its service.  tenant_abi_resolve() links
 *      any known function (so that a later grant works without a restart)
 *      and refuses unknown names, which fails instantiation naming the
 *      import; tenant_abi_check_import() says the same at create.
 *   2. Service glue (svc_<service>.c, portable): decode the arguments,
 *      bounds-check guest pointers (ew_memory_ptr), check the permission,
 *      count, call the platform.
 *   3. The platform adapter (struct tenant_platform): what each node
 *      implements (Linux: src/tenant/linux/; later the microcontroller).
 *
 * The permission check on the hot path is constant time: a bit test of
 * `granted` for the service, and for a resource an index into the handle
 * table and a bit test of the handle's rights.  Names are compared only at
 * open and when metadata changes (tenant_ctx_update recomputes the rights
 * of every open handle from the new grants).  No allocation, no lock: an
 * instance's calls come from one thread, and a live update is applied by
 * that thread at the start of its next host call (tenant_ctx_poll). */
#ifndef EDGECR_TENANT_ABI_H
#define EDGECR_TENANT_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../include/edgecr/guest.h"
#include "meta.h"
#include "wasm.h"

#define TENANT_ABI_MODULE "edgecr"
#define TENANT_MAX_HANDLES 64
#define TENANT_LOG_MAX 1024        /* longest log message; longer is cut */
#define TENANT_KV_KEY_MAX 511
#define TENANT_KV_VALUE_MAX 65536

/* Rights bits of a handle (what the current metadata grants on it). */
#define TENANT_R_READ 1u
#define TENANT_R_WRITE 2u

#define TENANT_SLEEP_SUSPEND 1     /* see tenant_platform.sleep_until */

/* One open resource.  `obj` is the platform adapter's object. */
struct tenant_handle {
  uint8_t service;                 /* enum tenant_service; TENANT_SVC_COUNT = free slot */
  uint8_t rights;                  /* TENANT_R_* from the current grants; 0 = every call denied */
  char name[TENANT_NAME_MAX];      /* what was opened, to recompute rights on update */
  void *obj;
};

/* Counters per service (one writer: the instance's thread; readers such
 * as `edgecr monitor` may read them from a shared page without locks). */
struct tenant_svc_stats {
  uint64_t calls;                  /* every call, allowed or not */
  uint64_t denied;                 /* refused by the permission check */
  uint64_t errors;                 /* allowed but failed (any other EDGECR_E*) */
};

struct tenant_stats {
  struct tenant_svc_stats svc[TENANT_SVC_COUNT];
  uint64_t updates;                /* metadata updates applied */
  uint64_t activations, overruns, misses;   /* activations (reactor tenants) */
};

/* What a platform provides.  Every function returns EDGECR_OK or a
 * negative EDGECR_E* code unless said otherwise.  `p` is the adapter's
 * context (tenant_ctx.pf_ctx).  A NULL function means the node does not
 * provide that service: its calls return EDGECR_ENOSYS. */
struct tenant_platform {
  /* time and logging */
  uint64_t (*now_ns)(void *p);                          /* monotonic */
  uint64_t (*wall_ns)(void *p);                         /* UTC since the epoch */
  /* Wait until the monotonic deadline: EDGECR_OK once there, or
   * TENANT_SLEEP_SUSPEND to have the engine suspend the call (the runner
   * then sleeps outside the engine, where it can also stop), or EDGECR_E*. */
  int (*sleep_until)(void *p, ew_instance *inst, uint64_t deadline_ns);
  int (*log)(void *p, int level, const char *msg, size_t len);
  /* Something the operator should see (a denied call, an overrun...):
   * to the container's log and events.  Already rate-limited by the core. */
  void (*report)(void *p, const char *msg);

  /* kv: obj is the open namespace; quota in bytes (keys + values) */
  int (*kv_open)(void *p, const char *ns, bool writable, uint64_t quota, void **obj);
  int (*kv_set_limits)(void *p, void *obj, bool writable, uint64_t quota);  /* on update */
  /* *vlen = the value's full length; copies min(*vlen, cap) bytes */
  int (*kv_get)(void *p, void *obj, const uint8_t *key, size_t klen, uint8_t *val, size_t cap, size_t *vlen);
  int (*kv_put)(void *p, void *obj, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
  int (*kv_delete)(void *p, void *obj, const uint8_t *key, size_t klen);
  void (*kv_close)(void *p, void *obj);

  /* sensors, by the id of the node's device map */
  int (*sensor_open)(void *p, const char *id, void **obj);
  int (*sensor_read)(void *p, void *obj, double *value);
  void (*sensor_close)(void *p, void *obj);

  /* GPIO, by the line name of the node's device map; dir: TENANT_GPIO_* */
  int (*gpio_open)(void *p, const char *line, int dir, void **obj);
  int (*gpio_get)(void *p, void *obj);                  /* 0 / 1, or EDGECR_E* */
  int (*gpio_set)(void *p, void *obj, int value);
  void (*gpio_close)(void *p, void *obj);

  /* channels, by name; access: TENANT_CHAN_* bits */
  int (*chan_open)(void *p, const char *name, unsigned access, void **obj);
  int (*chan_send)(void *p, void *obj, const void *msg, size_t len);
  /* timeout_ns: 0 = poll, < 0 = forever; *len = the message's length */
  int (*chan_recv)(void *p, void *obj, void *buf, size_t cap, int64_t timeout_ns, size_t *len);
  void (*chan_close)(void *p, void *obj);

  /* live update: the new (already verified) metadata; see tenant_ctx */
  int (*fetch_update)(void *p, struct tenant_meta *out);
  /* memory for the core's own caches (the inference plans); NULL: none */
  void *(*alloc)(void *p, size_t n);
  void (*free)(void *p, void *ptr);
};

/* The tenant state of one instance.  Lives as long as the instance; set
 * as the host context of every `edgecr` import (tenant_abi_resolve). */
struct tenant_ctx {
  const struct tenant_platform *pf;
  void *pf_ctx;
  struct tenant_meta meta;         /* the effective metadata */
  unsigned granted;                /* meta.perms.granted: bit per service */
  struct tenant_handle handles[TENANT_MAX_HANDLES];
  struct tenant_stats *stats;      /* never NULL (tenant_ctx_init points it at own_stats) */
  struct tenant_stats own_stats;
  /* live updates: the platform bumps *update_gen (any thread, a signal
   * handler, another process through shared memory) once a verified new
   * metadata is ready; the instance's thread sees the change at its next
   * host call and takes the metadata with fetch_update. */
  const volatile uint32_t *update_gen;   /* NULL: no live updates */
  uint32_t seen_gen;
  /* log rate limit: a token bucket refilled at meta.perms.log_rate per second */
  uint64_t log_tokens_at_ns;
  uint32_t log_tokens;
  /* reports are rate-limited too: at most one per service per second */
  uint64_t last_report_ns[TENANT_SVC_COUNT];
  void *infer_cache;               /* svc_infer.c: parsed plans per model digest */
};

/* A function of the `edgecr` module. */
struct tenant_fn {
  const char *name;
  const char *params;              /* wasm value types, one letter each: "iii", "I" = i64, "F" = f64 */
  const char *results;             /* "" or one letter */
  enum tenant_service service;     /* TENANT_SVC_COUNT: needs no permission (abi_version, close) */
  ew_host_fn fn;                   /* host_ctx = struct tenant_ctx * */
};

/* The table: a NULL-name-terminated list per service file, joined in abi.c. */
extern const struct tenant_fn tenant_fns_core[];   /* abi_version, close: abi.c */
extern const struct tenant_fn tenant_fns_log[];    /* svc_log.c */
extern const struct tenant_fn tenant_fns_clock[];  /* svc_clock.c */
extern const struct tenant_fn tenant_fns_kv[];     /* svc_kv.c */
extern const struct tenant_fn tenant_fns_sensor[]; /* svc_sensor.c */
extern const struct tenant_fn tenant_fns_gpio[];   /* svc_gpio.c */
extern const struct tenant_fn tenant_fns_infer[];  /* svc_infer.c */
extern const struct tenant_fn tenant_fns_channel[]; /* svc_channel.c */

/* Free the tenant's cached inference plans (svc_infer.c; tenant_ctx_close). */
void tenant_infer_close(struct tenant_ctx *ctx);

/* Initialise ctx for metadata m (copied) on a platform. */
void tenant_ctx_init(struct tenant_ctx *ctx, const struct tenant_platform *pf, void *pf_ctx,
                     const struct tenant_meta *m);
/* Close every open handle (the instance is going away). */
void tenant_ctx_close(struct tenant_ctx *ctx);

/* Is `imp` an import of the `edgecr` module? */
bool tenant_abi_is_ours(const ew_import_info *imp);
/* At create: 0 when imp is a known `edgecr` function with the right type,
 * else -1 with the reason in e ("edgecr.foo: no such function in ABI
 * version 1", "edgecr.log: type (i32) -> i32 does not match (i32 i32 i32) -> i32"). */
int tenant_abi_check_import(const ew_import_info *imp, struct tenant_err *e);
/* An ew_resolve_fn for the `edgecr` module (ctx = struct tenant_ctx *):
 * links every known function, refuses the rest. */
int tenant_abi_resolve(void *ctx, const ew_import_info *imp, ew_extern *out);

/* Apply new metadata to a running instance (the same tenant id and module
 * digest, a higher version: the caller verified the signature).  Grants,
 * the log rate and the kv limits change at once; handles whose grant is
 * gone keep existing with no rights (their calls are denied) and get
 * their rights back if a later update grants them again.  0, or -1 with
 * e filled and nothing changed. */
int tenant_ctx_update(struct tenant_ctx *ctx, const struct tenant_meta *m, struct tenant_err *e);

/* Start of every host call: apply a pending update.  One load when none. */
void tenant_ctx_apply_pending(struct tenant_ctx *ctx);
static inline void tenant_ctx_poll(struct tenant_ctx *ctx)
{
  if (ctx->update_gen != NULL && *ctx->update_gen != ctx->seen_gen)
    tenant_ctx_apply_pending(ctx);
}

/* A denied call: counted, reported (rate-limited), EDGECR_EDENIED. */
int tenant_deny(struct tenant_ctx *ctx, enum tenant_service s, const char *fn);
/* An allowed call that failed with rc < 0: counted; returns rc. */
int tenant_failed(struct tenant_ctx *ctx, enum tenant_service s, int rc);

/* The handle h if it is open for service s (EDGECR_EBADH otherwise, as a
 * negative number in *rc). */
static inline struct tenant_handle *tenant_handle_get(struct tenant_ctx *ctx, int32_t h, enum tenant_service s)
{
  if (h < 0 || h >= TENANT_MAX_HANDLES || ctx->handles[h].service != (uint8_t) s)
    return NULL;
  return &ctx->handles[h];
}
/* The handle h open for service s with `right`, or NULL with the call's
 * (counted) result in *rc: EDGECR_EBADH, or EDGECR_EDENIED (never
 * granted, or revoked by an update). */
struct tenant_handle *tenant_handle_for(struct tenant_ctx *ctx, enum tenant_service s, int32_t h, uint8_t right,
                                        const char *fn, int *rc);
/* A free slot, filled; its index or EDGECR_EMFILE. */
int tenant_handle_new(struct tenant_ctx *ctx, enum tenant_service s, const char *name, uint8_t rights, void *obj);
/* Close a handle (the platform's close for its service); EDGECR_EBADH if not open. */
int tenant_handle_close(struct tenant_ctx *ctx, int32_t h);
/* The rights the permissions give on resource `name` of service s (0: none;
 * also 0 when the service itself is not granted). */
uint8_t tenant_rights(const struct tenant_permissions *p, enum tenant_service s, const char *name);

/* The start of every service call: a pending update applied, the call
 * counted.  Returns the tenant. */
static inline struct tenant_ctx *tenant_enter(void *host_ctx, enum tenant_service s)
{
  struct tenant_ctx *ctx = host_ctx;
  tenant_ctx_poll(ctx);
  ctx->stats->svc[s].calls++;
  return ctx;
}
/* A call's result: a negative code is counted as an error. */
static inline int32_t tenant_result(struct tenant_ctx *ctx, enum tenant_service s, int rc)
{
  return rc < 0 ? tenant_failed(ctx, s, rc) : rc;
}
/* The first part of every *_open: the service granted, the guest's name
 * (ptr, len) valid, and the grant of that name giving at least `need`.
 * 0 with name and *rights filled, or the call's (already counted) negative
 * result: EDGECR_EDENIED or EDGECR_EINVAL. */
int tenant_open_check(struct tenant_ctx *ctx, ew_instance *inst, enum tenant_service s, const char *fn,
                      uint32_t ptr, uint32_t len, uint8_t need, char name[TENANT_NAME_MAX], uint8_t *rights);
/* The quota of kv namespace `ns` in the permissions (0 if not granted). */
uint64_t tenant_kv_quota(const struct tenant_permissions *p, const char *ns);

/* A guest string (ptr, len) as a NUL-terminated name (1..63 valid name
 * characters) into out; EDGECR_EINVAL if out of memory bounds or invalid. */
int tenant_guest_name(ew_instance *inst, uint32_t ptr, uint32_t len, char out[TENANT_NAME_MAX]);

#endif
