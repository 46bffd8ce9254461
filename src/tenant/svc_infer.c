/* svc_infer.c - the `infer` service: run an int8 TensorFlow Lite model that
 * lives in the tenant's linear memory on an input there, writing an output
 * there, with the host's native kernels (src/infer, docs/tinyml.md).
 *
 * Nothing the tenant hands in is trusted.  The three ranges are checked
 * against linear memory (EDGECR_EINVAL), the model's size against
 * perms.infer_model_size (EDGECR_ELIMIT), and the model itself by the
 * library's checked reader (EDGECR_EMODEL, the op index and the reason
 * reported on the container's stderr).
 *
 * Plans are cached per tenant (INFER_PLANS slots, least recently used one
 * replaced), so a periodic tenant pays the parse once.  A slot is keyed by
 * where the model is (guest offset, length and the host address of that
 * offset: a memory that moved on grow is a miss, so a plan never points into
 * freed memory) and by a digest of the model's bytes, recomputed on every
 * call.  The digest leaves out the weights of FC/CONV/DEPTHWISE, which the
 * run reads in place anyway (ei_plan_weights), so revalidating costs a
 * pass over the model's structure and biases, not over its weights; a
 * tenant that rewrites its model in place gets a new plan when anything
 * else changed, and the new weights otherwise, as a new plan would.  The
 * digest is a 64-bit hash of our own, not a cryptographic one: a tenant
 * that forges a collision only confuses its own results, since a plan is
 * memory-safe on any bytes (infer.h).  The cache is freed by
 * tenant_ctx_close.
 *
 * Compute: perms.infer_compute_ns bounds one call, measured with the
 * platform's monotonic clock around ei_run.  A native kernel cannot be
 * stopped half way, so the limit acts twice: a run that took longer returns
 * EDGECR_ELIMIT (its output is written, but the call failed), and a cached
 * model whose fastest run so far is over the limit is refused with
 * EDGECR_ELIMIT before running.  The limit is read at each call, so a
 * metadata update that raises it applies at once. */
#include <string.h>

#include "abi.h"
#include "infer.h"

#define INFER_PLANS 4                    /* cached plans per tenant */
#define INFER_ARENA_MAX (1u << 20)       /* arena of one plan: plan + activations */
#define INFER_RANGES_MAX 64              /* weight ranges left out of the digest; beyond: hashed */
#define REPORT_INTERVAL_NS 1000000000ull /* at most one report per second */

struct range {
  uint32_t off, len;
};

struct slot {
  ei_plan *plan;                         /* NULL: free slot */
  void *arena;
  const uint8_t *host;                   /* host address of the model when parsed */
  uint32_t ptr, len;                     /* the model's range in linear memory */
  uint64_t digest;
  uint64_t fastest_ns;                   /* 0: never ran */
  uint64_t used;                         /* LRU stamp */
  uint32_t nranges;
  struct range ranges[INFER_RANGES_MAX]; /* sorted, disjoint */
};

struct infer_cache {
  struct slot slot[INFER_PLANS];
  uint64_t stamp;
};

/* ---- digest ----------------------------------------------------------- */
static uint64_t mix(uint64_t h, uint64_t v)
{
  h ^= v;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 31);
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *b, uint32_t n)
{
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);                /* alignment-free; byte order is the host's, fine for a cache */
    h = mix(h, w);
  }
  uint64_t tail = 0;
  for (uint32_t k = 0; i < n; i++, k++)
    tail |= (uint64_t) b[i] << (8 * k);
  return mix(h, tail ^ ((uint64_t) n << 56));
}

static uint64_t digest(const uint8_t *m, uint32_t len, const struct range *r, uint32_t nr)
{
  uint64_t h = mix(0x243f6a8885a308d3ull, len);
  uint32_t pos = 0;
  for (uint32_t i = 0; i <= nr; i++) {
    uint32_t end = i < nr ? r[i].off : len;
    h = hash_bytes(mix(h, pos), m + pos, end - pos);
    if (i < nr)
      pos = r[i].off + r[i].len;
  }
  return h;
}

/* The plan's weight ranges, sorted and merged, into s; more than fit are
 * simply hashed (nranges = 0: the whole model is digested). */
static void weight_ranges(struct slot *s)
{
  s->nranges = 0;
  uint32_t off, len;
  for (uint32_t i = 0; ei_plan_weights(s->plan, i, &off, &len); i++) {
    if (s->nranges == INFER_RANGES_MAX) {
      s->nranges = 0;
      return;
    }
    uint32_t k = s->nranges++;
    while (k > 0 && s->ranges[k - 1].off > off) {
      s->ranges[k] = s->ranges[k - 1];
      k--;
    }
    s->ranges[k] = (struct range){off, len};
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->nranges; i++) {
    struct range r = s->ranges[i];
    if (n > 0 && r.off <= s->ranges[n - 1].off + s->ranges[n - 1].len) {
      uint32_t end = r.off + r.len, prev = s->ranges[n - 1].off + s->ranges[n - 1].len;
      s->ranges[n - 1].len = (end > prev ? end : prev) - s->ranges[n - 1].off;
    } else {
      s->ranges[n++] = r;
    }
  }
  s->nranges = n;
}

/* ---- the cache -------------------------------------------------------- */
static void slot_free(struct tenant_ctx *ctx, struct slot *s)
{
  if (s->arena != NULL)
    ctx->pf->free(ctx->pf_ctx, s->arena);
  s->arena = NULL;
  s->plan = NULL;
}

void tenant_infer_close(struct tenant_ctx *ctx)
{
  struct infer_cache *c = ctx->infer_cache;
  if (c == NULL)
    return;
  for (int i = 0; i < INFER_PLANS; i++)
    slot_free(ctx, &c->slot[i]);
  ctx->pf->free(ctx->pf_ctx, c);
  ctx->infer_cache = NULL;
}

static struct slot *lookup(struct infer_cache *c, const uint8_t *host, uint32_t ptr, uint32_t len)
{
  for (int i = 0; i < INFER_PLANS; i++) {
    struct slot *s = &c->slot[i];
    if (s->plan != NULL && s->ptr == ptr && s->len == len && s->host == host &&
        digest(host, len, s->ranges, s->nranges) == s->digest)
      return s;
  }
  return NULL;
}

/* The slot to (re)build: the one of the same place (its model changed),
 * else a free one, else the least recently used. */
static struct slot *victim(struct infer_cache *c, uint32_t ptr, uint32_t len)
{
  struct slot *v = &c->slot[0];
  for (int i = 0; i < INFER_PLANS; i++)
    if (c->slot[i].plan != NULL && c->slot[i].ptr == ptr && c->slot[i].len == len)
      return &c->slot[i];
  for (int i = 0; i < INFER_PLANS; i++) {
    if (c->slot[i].plan == NULL)
      return &c->slot[i];
    if (c->slot[i].used < v->used)
      v = &c->slot[i];
  }
  return v;
}

/* The arena one model may use: the metadata's `infer.arena`, never more
 * than the node's INFER_ARENA_MAX. */
static size_t arena_limit(const struct tenant_ctx *ctx)
{
  uint64_t want = ctx->meta.perms.infer_arena_size;
  return want != 0 && want < INFER_ARENA_MAX ? (size_t) want : INFER_ARENA_MAX;
}

/* Parse into an arena of the tenant's limit, then again into one of the
 * size the plan used (plans point into their arena, so they cannot be
 * moved; 16 bytes more absorb a different alignment of the second arena).
 * EDGECR_EMODEL with *err filled, or EDGECR_ELIMIT for a plan larger than
 * the limit. */
static int build(struct tenant_ctx *ctx, struct slot *s, const uint8_t *m, uint32_t len, ei_error *err)
{
  const struct tenant_platform *pf = ctx->pf;
  size_t limit = arena_limit(ctx);
  void *big = pf->alloc(ctx->pf_ctx, limit);
  if (big == NULL)
    return EDGECR_EIO;
  ei_plan *plan;
  if (ei_plan_build(m, len, big, limit, &plan, err) != EI_OK) {
    pf->free(ctx->pf_ctx, big);
    return err->code == EI_E_ARENA ? EDGECR_ELIMIT : EDGECR_EMODEL;
  }
  size_t size = ei_arena_used(plan) + 16;
  void *arena = pf->alloc(ctx->pf_ctx, size);
  if (arena != NULL && ei_plan_build(m, len, arena, size, &plan, err) == EI_OK) {
    pf->free(ctx->pf_ctx, big);
  } else {                               /* keep the big one rather than fail */
    if (arena != NULL)
      pf->free(ctx->pf_ctx, arena);
    arena = big;
    if (ei_plan_build(m, len, arena, limit, &plan, err) != EI_OK) {
      pf->free(ctx->pf_ctx, big);
      return EDGECR_EMODEL;
    }
  }
  s->plan = plan;
  s->arena = arena;
  weight_ranges(s);
  return EDGECR_OK;
}

/* ---- the call --------------------------------------------------------- */
static void put(char *buf, size_t cap, size_t *n, const char *s)
{
  while (*s != '\0' && *n + 1 < cap)
    buf[(*n)++] = *s++;
  buf[*n] = '\0';
}

static void put_u64(char *buf, size_t cap, size_t *n, uint64_t v)
{
  char d[21];
  int k = 0;
  do {
    d[k++] = (char) ('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (k > 0 && *n + 1 < cap)
    buf[(*n)++] = d[--k];
  buf[*n] = '\0';
}

/* "infer: <a><v><b>" to the container's stderr, at most once per second. */
static void report(struct tenant_ctx *ctx, const char *a, uint64_t v, bool has_v, const char *b)
{
  const struct tenant_platform *pf = ctx->pf;
  if (pf->report == NULL)
    return;
  uint64_t now = pf->now_ns(ctx->pf_ctx);
  uint64_t *last = &ctx->last_report_ns[TENANT_SVC_INFER];
  if (*last != 0 && now - *last < REPORT_INTERVAL_NS)
    return;
  *last = now;
  char msg[256];
  size_t n = 0;
  put(msg, sizeof msg, &n, "infer: ");
  put(msg, sizeof msg, &n, a);
  if (has_v)
    put_u64(msg, sizeof msg, &n, v);
  put(msg, sizeof msg, &n, b);
  pf->report(ctx->pf_ctx, msg);
}

static int failed(struct tenant_ctx *ctx, int rc)
{
  return tenant_failed(ctx, TENANT_SVC_INFER, rc);
}

/* The cached plan of the model at m (guest ptr, len), built on a miss. */
static int plan_for(struct tenant_ctx *ctx, const uint8_t *m, uint32_t ptr, uint32_t len, struct slot **out)
{
  struct infer_cache *c = ctx->infer_cache;
  if (c == NULL) {
    if ((c = ctx->pf->alloc(ctx->pf_ctx, sizeof *c)) == NULL)
      return EDGECR_EIO;
    memset(c, 0, sizeof *c);
    ctx->infer_cache = c;
  }
  struct slot *s = lookup(c, m, ptr, len);
  if (s == NULL) {
    s = victim(c, ptr, len);
    slot_free(ctx, s);
    ei_error err;
    int rc = build(ctx, s, m, len, &err);
    if (rc == EDGECR_EMODEL)
      report(ctx, "model refused: ", 0, false, err.msg);
    else if (rc == EDGECR_ELIMIT)
      report(ctx, arena_limit(ctx) < INFER_ARENA_MAX ? "the model's plan needs more than the metadata's arena of "
                                                     : "the model's plan needs more than the node's arena of ",
             arena_limit(ctx), true, " bytes");
    if (rc != EDGECR_OK)
      return rc;
    s->host = m;
    s->ptr = ptr;
    s->len = len;
    s->digest = digest(m, len, s->ranges, s->nranges);
    s->fastest_ns = 0;
  }
  s->used = ++c->stamp;
  *out = s;
  return EDGECR_OK;
}

/* Run the plan under the compute limit (the head comment says how). */
static int run_limited(struct tenant_ctx *ctx, struct slot *s, const uint8_t *in, uint32_t il, uint8_t *out,
                       uint32_t ol)
{
  uint64_t limit = ctx->meta.perms.infer_compute_ns;
  if (s->fastest_ns > limit) {
    report(ctx, "the model's fastest run took ", s->fastest_ns, true, " ns, over the metadata's compute");
    return EDGECR_ELIMIT;
  }
  ei_error err;
  uint64_t t0 = ctx->pf->now_ns(ctx->pf_ctx);
  int rc = ei_run(s->plan, in, il, out, ol, &err);
  uint64_t ns = ctx->pf->now_ns(ctx->pf_ctx) - t0;
  if (rc != EI_OK)
    return EDGECR_EINVAL;                /* only EI_E_ARG is possible after the caller's checks */
  if (s->fastest_ns == 0 || ns < s->fastest_ns)
    s->fastest_ns = ns ? ns : 1;
  if (ns > limit) {
    report(ctx, "a run took ", ns, true, " ns, over the metadata's compute");
    return EDGECR_ELIMIT;
  }
  return EDGECR_OK;
}

static int infer(ew_instance *inst, struct tenant_ctx *ctx, const ew_value *args)
{
  const struct tenant_platform *pf = ctx->pf;
  if (pf->alloc == NULL || pf->free == NULL || pf->now_ns == NULL)
    return EDGECR_ENOSYS;
  uint32_t mp = (uint32_t) args[0].i32, ml = (uint32_t) args[1].i32;
  uint32_t ip = (uint32_t) args[2].i32, il = (uint32_t) args[3].i32;
  uint32_t op = (uint32_t) args[4].i32, ol = (uint32_t) args[5].i32;
  const uint8_t *m = ew_memory_ptr(inst, mp, ml), *in = ew_memory_ptr(inst, ip, il);
  uint8_t *out = ew_memory_ptr(inst, op, ol);
  if (m == NULL || in == NULL || out == NULL || ml == 0)
    return EDGECR_EINVAL;
  if (((uintptr_t) m & 3) != 0) {
    report(ctx, "the model must be 4-byte aligned in memory (offset ", mp, true, ")");
    return EDGECR_EINVAL;
  }
  if (ml > ctx->meta.perms.infer_model_size) {
    report(ctx, "model of ", ml, true, " bytes is over the metadata's model-size");
    return EDGECR_ELIMIT;
  }
  struct slot *s;
  int rc = plan_for(ctx, m, mp, ml, &s);
  if (rc != EDGECR_OK)
    return rc;
  if (ei_input_bytes(s->plan) != il || ei_output_bytes(s->plan) != ol)
    return EDGECR_EINVAL;
  return run_limited(ctx, s, in, il, out, ol);
}

static int fn_infer(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  struct tenant_ctx *ctx = host_ctx;
  tenant_ctx_poll(ctx);
  ctx->stats->svc[TENANT_SVC_INFER].calls++;
  if ((ctx->granted & (1u << TENANT_SVC_INFER)) == 0) {
    results[0].i32 = tenant_deny(ctx, TENANT_SVC_INFER, "infer");
    return 0;
  }
  int rc = infer(inst, ctx, args);
  results[0].i32 = rc < 0 ? failed(ctx, rc) : EDGECR_OK;
  return 0;
}

const struct tenant_fn tenant_fns_infer[] = {
  {"infer", "iiiiii", "i", TENANT_SVC_INFER, fn_infer},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};
