/* tenant_control.h - the control page of a WebAssembly tenant on Linux: one
 * small file per container (<state dir>/tenant.ctl), mapped MAP_SHARED by
 * the runtime process that creates the container before it clones the
 * init, so the init (the engine running the tenant) keeps the mapping
 * after pivot_root, when the state directory is out of its sight.
 *
 * It carries live metadata updates in (`edgecr update --metadata`) and the
 * tenant's counters out (`edgecr monitor --tenants`, `edgecr events`):
 *   - update_gen: bumped by `edgecr update` once a verified payload is in
 *     place; the tenant's tenant_ctx.update_gen points at it, so its next
 *     host call sees the change (tenant_ctx_poll) and takes the payload
 *     through the platform's fetch_update;
 *   - the payload (the verified CBOR, not the signature) under a sequence
 *     counter (odd while a writer is in it), so a reader never decodes a
 *     half-written payload;
 *   - applied_gen / applied_rc / reason: written back by the tenant, so
 *     `update` can wait briefly and say whether it was applied;
 *   - struct tenant_stats: tenant_ctx.stats points into the page.
 * One writer of each part: `edgecr update` (under the container's lock)
 * writes the update fields, the tenant's thread the rest. */
#ifndef EDGECR_TENANT_CONTROL_H
#define EDGECR_TENANT_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi.h"
#include "error.h"

#define TENANT_CONTROL_FILE "tenant.ctl"
#define TENANT_CONTROL_MAGIC 0x6c7463746e657465ull /* "etenctl" */
#define TENANT_CONTROL_LAYOUT 1

struct tenant_control {
  uint64_t magic;
  uint32_t layout;                 /* TENANT_CONTROL_LAYOUT */
  uint32_t size;                   /* sizeof (struct tenant_control) */
  uint32_t update_gen;             /* written by `update`; read by the tenant (tenant_ctx.update_gen) */
  uint32_t payload_seq;            /* odd while `update` writes the payload */
  uint32_t payload_len;
  uint32_t applied_gen;            /* written by the tenant: the last update_gen it took */
  int32_t applied_rc;              /* 0 applied, -1 refused (reason says why) */
  uint32_t running;                /* 1 once the tenant runs (attached by its process) */
  char tenant[TENANT_NAME_MAX];    /* the tenant id ("" without metadata), for the monitor */
  uint64_t version;                /* the version in force (create; then the tenant, as it applies updates) */
  char reason[256];
  struct tenant_stats stats;       /* tenant_ctx.stats */
  uint8_t payload[TENANT_META_MAX_BYTES];
};

/* Create <dir>/tenant.ctl (zeroed, initialised) and map it shared.  NULL
 * with err on failure. */
struct tenant_control *tenant_control_create(const char *dir, edgecr_error_t *err);
/* Map an existing page (for `update` and the monitor); checks magic,
 * layout and size.  ENOENT when the container has none. */
struct tenant_control *tenant_control_open(const char *dir, bool writable, edgecr_error_t *err);
void tenant_control_close(struct tenant_control *c);
/* The runtime at create: the tenant id and version the page reports. */
void tenant_control_name(struct tenant_control *c, const char *tenant, uint64_t version);

/* The counters as JSON (`edgecr events --stats`, `edgecr monitor
 * --tenants`): {"id", "version", "running", "updates", "activations",
 * "overruns", "misses", "services": {"log": {"calls", "denied", "errors"}...}}. */
json_t *tenant_control_json(const struct tenant_control *c);
/* Every container's page under a state root: a JSON array of the above
 * with "container" added (containers without a page are left out). */
json_t *tenant_control_scan(const char *state_root, const char *only_id, edgecr_error_t *err);

/* `update`: put a verified payload in and bump update_gen; returns the new
 * generation. */
uint32_t tenant_control_post(struct tenant_control *c, const uint8_t *payload, size_t len);
/* create: the payload in force, for a later `update` to compare with
 * (update_gen unchanged: the tenant does not take it again). */
void tenant_control_set_payload(struct tenant_control *c, const uint8_t *payload, size_t len);
/* `update`: the payload last put in (0 when none), copied into buf
 * (TENANT_META_MAX_BYTES). */
size_t tenant_control_payload(const struct tenant_control *c, uint8_t *buf);
/* `update`: wait up to timeout_ms for the tenant to take generation gen:
 * 1 taken (*rc, reason), 0 not yet. */
int tenant_control_wait(struct tenant_control *c, uint32_t gen, int timeout_ms, int *rc, char *reason,
                        size_t reason_len);

/* The tenant's side: point ctx at the page (stats, update_gen) and
 * install the platform's fetch_update on pf.  An update posted before the
 * tenant started (a created container) is taken at its first host call. */
void tenant_control_attach(struct tenant_control *c, struct tenant_platform *pf, struct tenant_ctx *ctx);

#endif
