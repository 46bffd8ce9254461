/* control.c - the control page of a WebAssembly tenant (tenant_control.h):
 * creation by the runtime at create, posting by `edgecr update`, and the
 * tenant's side, the platform's fetch_update.
 *
 * Memory order: the writer fills the payload between two increments of
 * payload_seq (odd while writing), then stores update_gen with release
 * order; the reader loads update_gen (tenant_ctx_poll: one plain load on
 * every host call), then copies the payload and retries while the
 * sequence was odd or moved.  The payload was verified by `update`
 * (signature, trust, id, module, version); the tenant decodes it strictly
 * again and repeats the id/module/version checks of tenant_ctx_update, so
 * a page altered behind the runtime's back can at worst be refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tenant_control.h"
#include "util.h"

/* The tenant's page and context (one tenant per process: the init). */
static struct tenant_control *attached;
static struct tenant_ctx *attached_ctx;

static struct tenant_control *map_fd(int fd, bool writable, const char *path, edgecr_error_t *err)
{
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void *p = mmap(NULL, sizeof(struct tenant_control), prot, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    edgecr_error_make(err, errno, "map `%s`", path);
    return NULL;
  }
  return p;
}

struct tenant_control *tenant_control_create(const char *dir, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, TENANT_CONTROL_FILE);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    edgecr_error_make(err, errno, "create `%s`", path);
    return NULL;
  }
  if (ftruncate(fd, sizeof(struct tenant_control)) < 0) {
    edgecr_error_make(err, errno, "size `%s`", path);
    unlink(path);
    return NULL;
  }
  struct tenant_control *c = map_fd(fd, true, path, err);
  if (c == NULL) {
    unlink(path);
    return NULL;
  }
  c->layout = TENANT_CONTROL_LAYOUT;
  c->size = sizeof *c;
  __atomic_store_n(&c->magic, TENANT_CONTROL_MAGIC, __ATOMIC_RELEASE);
  return c;
}

struct tenant_control *tenant_control_open(const char *dir, bool writable, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, TENANT_CONTROL_FILE);
  cleanup_close int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    edgecr_error_make(err, errno, "open `%s`", path);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || (size_t) st.st_size != sizeof(struct tenant_control)) {
    edgecr_error_invalid(err, "`%s`: not a tenant control page of this edgecr (size %lld, expected %zu)", path,
                         (long long) st.st_size, sizeof(struct tenant_control));
    return NULL;
  }
  struct tenant_control *c = map_fd(fd, writable, path, err);
  if (c != NULL && (c->magic != TENANT_CONTROL_MAGIC || c->layout != TENANT_CONTROL_LAYOUT || c->size != sizeof *c)) {
    tenant_control_close(c);
    edgecr_error_invalid(err, "`%s`: not a tenant control page of this edgecr (magic or layout)", path);
    return NULL;
  }
  return c;
}

void tenant_control_close(struct tenant_control *c)
{
  if (c != NULL)
    munmap(c, sizeof *c);
}

void tenant_control_name(struct tenant_control *c, const char *tenant, uint64_t version)
{
  snprintf(c->tenant, sizeof c->tenant, "%s", tenant);
  c->version = version;
}

void tenant_control_set_payload(struct tenant_control *c, const uint8_t *payload, size_t len)
{
  /* odd while writing; `| 1` so that a writer killed half-way (the count
   * left odd) does not turn the parity round for the next one */
  uint32_t seq = __atomic_load_n(&c->payload_seq, __ATOMIC_RELAXED) | 1u;
  __atomic_store_n(&c->payload_seq, seq, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  memcpy(c->payload, payload, len);
  c->payload_len = (uint32_t) len;
  __atomic_store_n(&c->payload_seq, seq + 1, __ATOMIC_RELEASE); /* even: done */
}

size_t tenant_control_payload(const struct tenant_control *c, uint8_t *buf)
{
  /* the writers of the payload (create, update) hold the container's lock,
   * as the caller does: no writer can be in it */
  size_t len = c->payload_len <= TENANT_META_MAX_BYTES ? c->payload_len : 0;
  memcpy(buf, c->payload, len);
  return len;
}

uint32_t tenant_control_post(struct tenant_control *c, const uint8_t *payload, size_t len)
{
  tenant_control_set_payload(c, payload, len);
  uint32_t gen = __atomic_load_n(&c->update_gen, __ATOMIC_RELAXED) + 1;
  if (gen == 0)
    gen = 1; /* 0 is "no update yet" */
  __atomic_store_n(&c->update_gen, gen, __ATOMIC_RELEASE);
  return gen;
}

int tenant_control_wait(struct tenant_control *c, uint32_t gen, int timeout_ms, int *rc, char *reason,
                        size_t reason_len)
{
  for (int waited = 0;; waited++) {
    if (__atomic_load_n(&c->applied_gen, __ATOMIC_ACQUIRE) == gen) {
      *rc = c->applied_rc;
      snprintf(reason, reason_len, "%.*s", (int) sizeof c->reason, c->reason);
      return 1;
    }
    if (waited >= timeout_ms)
      return 0;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

/* ---- the tenant's side ---- */

static void answer(uint32_t gen, int rc, const char *reason)
{
  snprintf(attached->reason, sizeof attached->reason, "%.*s", (int) sizeof attached->reason - 1, reason);
  attached->applied_rc = rc;
  __atomic_store_n(&attached->applied_gen, gen, __ATOMIC_RELEASE);
}

/* The payload as it stands once no writer is in it (a writer holds the
 * container's lock and is done within microseconds); -1 if a writer stays
 * in it: then it bumps update_gen when done and the tenant comes back. */
static ssize_t copy_payload(uint8_t *buf)
{
  for (int tries = 0; tries < 10000; tries++) {
    uint32_t s1 = __atomic_load_n(&attached->payload_seq, __ATOMIC_ACQUIRE);
    size_t len = attached->payload_len;
    if ((s1 & 1) == 0 && len <= TENANT_META_MAX_BYTES) {
      memcpy(buf, attached->payload, len);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(&attached->payload_seq, __ATOMIC_RELAXED) == s1)
        return (ssize_t) len;
    }
    struct timespec us = {0, 1000};
    nanosleep(&us, NULL);
  }
  return -1;
}

/* The same checks as tenant_ctx_update, made here so that the answer
 * written back is the one the core's update will give. */
static int same_tenant_newer(const struct tenant_meta *m, char *why, size_t n)
{
  const struct tenant_meta *cur = &attached_ctx->meta;
  if (strcmp(m->id, cur->id) != 0)
    return snprintf(why, n, "id: `%s` is another tenant than the running `%s`", m->id, cur->id), -1;
  if (memcmp(m->module_sha256, cur->module_sha256, TENANT_DIGEST_LEN) != 0)
    return snprintf(why, n, "module: the digest is not the running module's"), -1;
  if (m->version <= cur->version)
    return snprintf(why, n, "version: %llu is not above the running version %llu", (unsigned long long) m->version,
                    (unsigned long long) cur->version), -1;
  return 0;
}

/* Is m the metadata in force?  Compared in the canonical encoding (the
 * structs may differ in padding). */
static bool in_force(const struct tenant_meta *m)
{
  static uint8_t a[TENANT_META_MAX_BYTES], b[TENANT_META_MAX_BYTES];
  const struct tenant_meta *cur = &attached_ctx->meta;
  if (m->version != cur->version)
    return false;
  size_t na = tenant_meta_encode(m, a, sizeof a), nb = tenant_meta_encode(cur, b, sizeof b);
  return na == nb && na <= sizeof a && memcmp(a, b, na) == 0;
}

static int fetch_update(void *p, struct tenant_meta *out)
{
  (void) p;
  static uint8_t buf[TENANT_META_MAX_BYTES]; /* one update at a time, on the tenant's thread */
  uint32_t gen = __atomic_load_n(&attached->update_gen, __ATOMIC_ACQUIRE);
  ssize_t len = copy_payload(buf);
  if (len < 0)
    return -1;
  struct tenant_err e;
  char why[sizeof attached->reason + sizeof e];
  if (tenant_meta_decode(buf, (size_t) len, out, &e) < 0) {
    snprintf(why, sizeof why, "payload: `%s`: %s", e.path, e.reason);
    answer(gen, -1, why);
    return -1;
  }
  /* Read again after a post that raced with the previous read (the
   * payload was newer than the generation seen then): already in force,
   * so applied, nothing to do.  `update` never posts an equal version. */
  if (in_force(out)) {
    answer(gen, 0, "");
    return -1;
  }
  if (same_tenant_newer(out, why, sizeof why) < 0) {
    answer(gen, -1, why);
    return -1;
  }
  attached->version = out->version; /* what the monitor shows: in force from now on */
  answer(gen, 0, "");
  return 0;
}

void tenant_control_attach(struct tenant_control *c, struct tenant_platform *pf, struct tenant_ctx *ctx)
{
  attached = c;
  attached_ctx = ctx;
  /* the counters so far (none, for a tenant that has not run) move along */
  c->stats = *ctx->stats;
  ctx->stats = &c->stats;
  ctx->seen_gen = __atomic_load_n(&c->applied_gen, __ATOMIC_ACQUIRE);
  pf->fetch_update = fetch_update;
  ctx->update_gen = &c->update_gen;
  __atomic_store_n(&c->running, 1, __ATOMIC_RELEASE);
}
