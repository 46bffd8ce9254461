/* tenant_platform.h - the Linux platform adapter of the tenant ABI
 * (src/tenant/abi.h): what a WebAssembly tenant's host calls reach on a
 * Linux node.  One per instance; the services' own Linux files fill their
 * fields of the platform table (tenant_linux_<service>_ops). */
#ifndef EDGECR_TENANT_PLATFORM_H
#define EDGECR_TENANT_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "abi.h"
#include "error.h"

struct tenant_linux {
  struct tenant_platform pf;
  struct tenant_ctx ctx;       /* host_ctx of every `edgecr` import */
  int log_fd;                  /* the tenant's log: the container's stdout */
  int report_fd;               /* reports (denied calls...): the container's stderr */
  bool sleeping;               /* sleep_until asked the engine to suspend */
  uint64_t sleep_deadline_ns;  /* ... until this CLOCK_MONOTONIC time */
};

/* A tenant for metadata m (copied); m == NULL: a tenant without metadata,
 * named `id`, granted nothing.  Never fails (aborts on no memory). */
struct tenant_linux *tenant_linux_new(const struct tenant_meta *m, const char *id, int log_fd, int report_fd);
void tenant_linux_free(struct tenant_linux *t);

/* After the engine suspended a call for sleep_until: the deadline to sleep
 * to (and clears it).  false when the suspension was not a tenant sleep. */
bool tenant_linux_take_sleep(struct tenant_linux *t, uint64_t *deadline_ns);

/* Development harness (`edgecr wasm run --tenant-metadata`): a metadata
 * file, a plain CBOR payload or a COSE_Sign1 whose payload is taken WITHOUT
 * any trust check, decoded into m.  Containers never use this: create
 * verifies (tenant_verify). */
int tenant_linux_load_unverified(const char *path, struct tenant_meta *m, edgecr_error_t *err);

/* An ew_resolve_fn: `edgecr` imports from the tenant (ctx = struct
 * tenant_linux *), everything else from `next` (WASI). */
struct tenant_resolver {
  struct tenant_linux *tenant;
  ew_resolve_fn next;
  void *next_ctx;
};
int tenant_linux_resolve(void *ctx, const ew_import_info *imp, ew_extern *out);

#endif
