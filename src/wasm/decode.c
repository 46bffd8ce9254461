/* decode.c - binary module decoder: sections, imports/exports, segments,
 * constant expressions, plus the module arena and error helpers.
 *
 * Every read is bounds-checked against the current section or function
 * body; the first failure is recorded in the reader and later reads return
 * zero, so decoding code stays linear and checks `r->failed` at loop
 * boundaries.  Function bodies are handed to compile.c. */
#include "internal.h"

/* ---- arena -------------------------------------------------------------- */

void *ew_arena_alloc(ew_arena *ar, size_t size)
{
  size = (size + 7) & ~(size_t)7;
  ew_arena_chunk *c = ar->head;
  if (!c || c->cap - c->used < size) {
    size_t cap = size > 4000 ? size : 4000;
    c = ar->a->alloc(ar->a->ctx, sizeof(ew_arena_chunk) + cap);
    if (!c)
      return NULL;
    c->cap = cap;
    c->used = 0;
    ar->bytes += sizeof(ew_arena_chunk) + cap;
    c->next = ar->head;
    ar->head = c;
  }
  void *p = (uint8_t *)(c + 1) + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

void ew_arena_free(ew_arena *ar)
{
  ew_arena_chunk *c = ar->head;
  while (c) {
    ew_arena_chunk *next = c->next;
    ar->a->free(ar->a->ctx, c);
    c = next;
  }
  ar->head = NULL;
}

/* ---- errors ------------------------------------------------------------- */

static size_t append(char *dst, size_t at, size_t cap, const char *s)
{
  while (s && *s && at + 1 < cap)
    dst[at++] = *s++;
  dst[at] = 0;
  return at;
}

void ew_set_error(ew_error *err, ew_error_kind kind, uint32_t offset,
                  uint32_t func, const char *reason, const char *detail)
{
  if (!err)
    return;
  err->kind = kind;
  err->offset = offset;
  err->func_index = func;
  err->trap = 0;
  err->instance = NULL;
  size_t n = append(err->message, 0, sizeof err->message, reason);
  if (detail) {
    n = append(err->message, n, sizeof err->message, ": ");
    append(err->message, n, sizeof err->message, detail);
  }
}

void ew_fail(ew_reader *r, ew_error_kind kind, const char *reason)
{
  if (r->failed)
    return;
  r->failed = true;
  ew_set_error(r->err, kind, (uint32_t)(r->p - r->base), r->func, reason, NULL);
  r->p = r->end;
}

/* ---- primitive reads ---------------------------------------------------- */

uint8_t ew_read_byte(ew_reader *r)
{
  if (r->p >= r->end) {
    ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    return 0;
  }
  return *r->p++;
}

static uint64_t read_leb(ew_reader *r, unsigned bits, bool is_signed)
{
  uint64_t result = 0;
  unsigned shift = 0, maxbytes = (bits + 6) / 7;
  uint8_t b = 0;
  for (unsigned i = 0;; i++) {
    if (r->p >= r->end) {
      ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
      return 0;
    }
    b = *r->p++;
    result |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (i == maxbytes - 1) {
      if (b & 0x80) {
        ew_fail(r, EW_ERR_MALFORMED, "integer representation too long");
        return 0;
      }
      unsigned used = bits - 7 * i;
      uint8_t unused = (uint8_t)(0x7f & ~((1u << used) - 1));
      uint8_t want = 0;
      if (is_signed && (b & (1u << (used - 1))))
        want = unused;
      if ((b & unused) != want) {
        ew_fail(r, EW_ERR_MALFORMED, "integer too large");
        return 0;
      }
      break;
    }
    if (!(b & 0x80))
      break;
  }
  if (is_signed && shift < 64 && (b & 0x40))
    result |= ~(uint64_t)0 << shift;
  return result;
}

uint32_t ew_read_u32(ew_reader *r) { return (uint32_t)read_leb(r, 32, false); }
int32_t ew_read_s32(ew_reader *r) { return (int32_t)(uint32_t)read_leb(r, 32, true); }
int64_t ew_read_s64(ew_reader *r) { return (int64_t)read_leb(r, 64, true); }
int64_t ew_read_s33(ew_reader *r) { return (int64_t)read_leb(r, 33, true); }

/* A vector count, bounded by the bytes left (each item takes >= 1 byte) so
 * hostile counts cannot make us allocate. */
static uint32_t read_count(ew_reader *r)
{
  uint32_t n = ew_read_u32(r);
  if (!r->failed && n > (size_t)(r->end - r->p)) {
    ew_fail(r, EW_ERR_MALFORMED, "length out of bounds");
    return 0;
  }
  return n;
}

static bool utf8_valid(const uint8_t *s, uint32_t n)
{
  uint32_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    uint32_t len, cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return false;
    if (n - i < len)
      return false;
    for (uint32_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += len;
  }
  return true;
}

typedef struct decoder {
  ew_reader r;
  ew_module *m;
  uint32_t nfunc_decl;        /* function section count */
  bool have_funcs, have_code;
  uint32_t ndata_section;
  bool have_data;
} decoder;

static const char *read_name(decoder *d, uint32_t *len_out)
{
  ew_reader *r = &d->r;
  uint32_t n = ew_read_u32(r);
  if (r->failed)
    return "";
  if (n > (size_t)(r->end - r->p)) {
    ew_fail(r, EW_ERR_MALFORMED, "length out of bounds");
    return "";
  }
  if (!utf8_valid(r->p, n)) {
    ew_fail(r, EW_ERR_MALFORMED, "malformed UTF-8 encoding");
    return "";
  }
  char *s = ew_arena_alloc(&d->m->arena, (size_t)n + 1);
  if (!s) {
    ew_fail(r, EW_ERR_NOMEM, "out of memory");
    return "";
  }
  memcpy(s, r->p, n);
  r->p += n;
  *len_out = n;
  return s;
}

static void *alloc_array(decoder *d, size_t n, size_t size)
{
  void *p = ew_arena_alloc(&d->m->arena, n * size + 1);
  if (!p)
    ew_fail(&d->r, EW_ERR_NOMEM, "out of memory");
  return p;
}

static uint8_t read_valtype(decoder *d)
{
  uint8_t t = ew_read_byte(&d->r);
  switch (t) {
  case EW_I32: case EW_I64: case EW_F32: case EW_F64:
  case EW_FUNCREF: case EW_EXTERNREF:
    return t;
  case 0x7b:
    ew_fail(&d->r, EW_ERR_UNSUPPORTED, "SIMD (v128) is not supported");
    return 0;
  default:
    if (!d->r.failed) {
      d->r.p--;
      ew_fail(&d->r, EW_ERR_MALFORMED, "malformed value type");
    }
    return 0;
  }
}

static uint8_t read_reftype(decoder *d)
{
  uint8_t t = ew_read_byte(&d->r);
  if (t != EW_FUNCREF && t != EW_EXTERNREF && !d->r.failed) {
    d->r.p--;
    ew_fail(&d->r, EW_ERR_MALFORMED, "malformed reference type");
  }
  return t;
}

static void read_limits(decoder *d, ew_limits_type *l, bool memory)
{
  ew_reader *r = &d->r;
  uint8_t flags = ew_read_byte(r);
  if (flags > 1) {
    if (memory && (flags == 2 || flags == 3))
      ew_fail(r, EW_ERR_UNSUPPORTED, "threads (shared memory) are not supported");
    else if (memory && flags >= 4 && flags <= 7)
      ew_fail(r, EW_ERR_UNSUPPORTED, "memory64 is not supported");
    else
      ew_fail(r, EW_ERR_MALFORMED, "integer too large");
    return;
  }
  l->min = ew_read_u32(r);
  l->max = (flags & 1) ? ew_read_u32(r) : EW_NO_MAX;
  if (r->failed)
    return;
  if (memory && (l->min > EW_MAX_PAGES || ((flags & 1) && l->max > EW_MAX_PAGES))) {
    ew_fail(r, EW_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)");
    return;
  }
  if ((flags & 1) && l->min > l->max)
    ew_fail(r, EW_ERR_INVALID, "size minimum must not be greater than maximum");
}

static void read_globaltype(decoder *d, ew_globaltype *g)
{
  g->type = read_valtype(d);
  g->mut = ew_read_byte(&d->r);
  if (g->mut > 1 && !d->r.failed) {
    d->r.p--;
    ew_fail(&d->r, EW_ERR_MALFORMED, "malformed mutability");
  }
}

static void declare_func(ew_module *m, uint32_t f)
{
  if (f < m->nfuncs)
    m->declared[f >> 3] |= (uint8_t)(1u << (f & 7));
}

/* After a constant instruction that is not followed by `end`: does an
 * extended-const arithmetic op (i32/i64 add, sub, mul) follow among more
 * constant instructions?  Only to name the proposal in the error. */
static bool extended_const(const ew_reader *r0)
{
  ew_reader r = *r0;
  r.p--;                                   /* back to the opcode after the first */
  r.err = NULL;                            /* a probe: report nothing */
  for (int n = 0; n < 64 && !r.failed && r.p < r.end; n++) {
    uint8_t op = ew_read_byte(&r);
    switch (op) {
    case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: return true;
    case 0x41: ew_read_s32(&r); break;
    case 0x42: ew_read_s64(&r); break;
    case 0x23: ew_read_u32(&r); break;
    default: return false;
    }
  }
  return false;
}

/* A byte that starts some instruction (of 2.0 or of a known proposal): in
 * a constant expression anything else does not decode (malformed) rather
 * than being a non-constant instruction (invalid), as the spec tells them
 * apart. */
static bool known_opcode(uint8_t op)
{
  return op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c) ||
         (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4) ||
         (op >= 0xd0 && op <= 0xd2) || op >= 0xfc;
}

static void not_constant(ew_reader *r, uint8_t op)
{
  if (known_opcode(op))
    ew_fail(r, EW_ERR_INVALID, "constant expression required");
  else
    ew_fail(r, EW_ERR_MALFORMED, "illegal opcode");
}

/* Constant expression of type `want` (0 = any reference type, result in
 * ce->type).  `nglobals` is how many globals it may read. */
static void read_constexpr(decoder *d, ew_constexpr *ce, uint8_t want)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  uint8_t op = ew_read_byte(r);
  switch (op) {
  case 0x41: ce->kind = CE_CONST; ce->type = EW_I32; ce->value.u64 = 0;
    ce->value.i32 = ew_read_s32(r); break;
  case 0x42: ce->kind = CE_CONST; ce->type = EW_I64; ce->value.i64 = ew_read_s64(r); break;
  case 0x43:
    ce->kind = CE_CONST; ce->type = EW_F32; ce->value.u64 = 0;
    if (r->end - r->p < 4) { ew_fail(r, EW_ERR_MALFORMED, "unexpected end"); return; }
    memcpy(&ce->value.u32, r->p, 4); r->p += 4; break;
  case 0x44:
    ce->kind = CE_CONST; ce->type = EW_F64;
    if (r->end - r->p < 8) { ew_fail(r, EW_ERR_MALFORMED, "unexpected end"); return; }
    memcpy(&ce->value.u64, r->p, 8); r->p += 8; break;
  case 0xd0: ce->kind = CE_NULL; ce->type = read_reftype(d); break;
  case 0xd2:
    ce->kind = CE_FUNC; ce->type = EW_FUNCREF; ce->index = ew_read_u32(r);
    if (!r->failed && ce->index >= m->nfuncs) { ew_fail(r, EW_ERR_INVALID, "unknown function"); return; }
    declare_func(m, ce->index);
    break;
  case 0x23:
    ce->kind = CE_GLOBAL; ce->index = ew_read_u32(r);
    if (r->failed) return;
    if (ce->index >= m->nglobal_imports) { ew_fail(r, EW_ERR_INVALID, "unknown global"); return; }
    if (m->globals[ce->index].mut) { ew_fail(r, EW_ERR_INVALID, "constant expression required"); return; }
    ce->type = m->globals[ce->index].type;
    break;
  case 0x0b:
    ew_fail(r, EW_ERR_INVALID, "type mismatch");
    return;
  default:
    not_constant(r, op);
    return;
  }
  if (r->failed)
    return;
  uint8_t end = ew_read_byte(r);
  if (r->failed)
    return;
  if (end != 0x0b) {
    bool constish = end == 0x41 || end == 0x42 || end == 0x43 || end == 0x44 ||
                    end == 0xd0 || end == 0xd2 || end == 0x23;
    if (constish && extended_const(r))
      ew_fail(r, EW_ERR_UNSUPPORTED, "extended constant expressions are not supported");
    else if (constish)
      ew_fail(r, EW_ERR_INVALID, "type mismatch");
    else
      not_constant(r, end);
    return;
  }
  if (want && ce->type != want)
    ew_fail(r, EW_ERR_INVALID, "type mismatch");
}

/* ---- sections ----------------------------------------------------------- */

static void sec_type(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->ntypes = read_count(r);
  m->types = alloc_array(d, m->ntypes, sizeof *m->types);
  for (uint32_t i = 0; i < m->ntypes && !r->failed; i++) {
    uint8_t form = ew_read_byte(r);
    if (form != 0x60) {
      if (!r->failed)
        ew_fail(r, form == 0x5e || form == 0x5f || form == 0x4e || form == 0x50 ||
                   form == 0x4f ? EW_ERR_UNSUPPORTED : EW_ERR_MALFORMED,
                form == 0x5e || form == 0x5f || form == 0x4e || form == 0x50 || form == 0x4f
                    ? "GC types are not supported" : "integer representation too long");
      return;
    }
    uint32_t np = read_count(r);
    uint8_t *params = alloc_array(d, np, 1);
    for (uint32_t k = 0; k < np && !r->failed; k++)
      params[k] = read_valtype(d);
    uint32_t nr = read_count(r);
    uint8_t *results = alloc_array(d, nr, 1);
    for (uint32_t k = 0; k < nr && !r->failed; k++)
      results[k] = read_valtype(d);
    m->types[i] = (ew_functype){ np, nr, params, results };
  }
}

static void sec_import(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->nimports = read_count(r);
  m->imports = alloc_array(d, m->nimports, sizeof *m->imports);
  /* first pass sizes the per-kind arrays: imports come before their
   * definitions, so allocate generously after counting. */
  for (uint32_t i = 0; i < m->nimports && !r->failed; i++) {
    ew_import *im = &m->imports[i];
    im->info.module = read_name(d, &im->info.module_len);
    im->info.name = read_name(d, &im->info.name_len);
    uint8_t kind = ew_read_byte(r);
    if (r->failed)
      return;
    im->info.kind = kind;
    switch (kind) {
    case 0:
      im->type_index = ew_read_u32(r);
      if (!r->failed && im->type_index >= m->ntypes) {
        ew_fail(r, EW_ERR_INVALID, "unknown type");
        return;
      }
      if (!r->failed)
        im->info.func = m->types[im->type_index];
      im->index = m->nfunc_imports++;
      break;
    case 1:
      im->info.table.elem = read_reftype(d);
      read_limits(d, &im->info.table.limits, false);
      im->index = m->ntable_imports++;
      break;
    case 2:
      read_limits(d, &im->info.memory.limits, true);
      im->index = m->nmem_imports++;
      break;
    case 3:
      read_globaltype(d, &im->info.global);
      im->index = m->nglobal_imports++;
      break;
    case 4:
      ew_fail(r, EW_ERR_UNSUPPORTED, "exception handling (tag imports) is not supported");
      return;
    default:
      r->p--;
      ew_fail(r, EW_ERR_MALFORMED, "malformed import kind");
      return;
    }
  }
  if (r->failed)
    return;
  if (m->nmem_imports > 1) {
    ew_fail(r, EW_ERR_INVALID, "multiple memories (the multi-memory proposal is not supported)");
    return;
  }
  /* The kind arrays get their final size in later sections; fill imports. */
  m->nfuncs = m->nfunc_imports;
  m->ntables = m->ntable_imports;
  m->nmems = m->nmem_imports;
  m->nglobals = m->nglobal_imports;
}

/* Called once the kind counts are known (lazily by each section). */
static void place_imports(decoder *d, int kind)
{
  ew_module *m = d->m;
  for (uint32_t i = 0; i < m->nimports; i++) {
    ew_import *im = &m->imports[i];
    if ((int)im->info.kind != kind)
      continue;
    switch (kind) {
    case 0: m->func_type[im->index] = im->type_index; break;
    case 1: m->tables[im->index] = im->info.table; break;
    case 2: m->mems[im->index] = im->info.memory; break;
    case 3: m->globals[im->index] = im->info.global; break;
    }
  }
}

static void ensure_funcs(decoder *d)
{
  ew_module *m = d->m;
  if (m->func_type)
    return;
  m->nfuncs = m->nfunc_imports + d->nfunc_decl;
  m->func_type = alloc_array(d, m->nfuncs, sizeof *m->func_type);
  m->declared = alloc_array(d, m->nfuncs / 8 + 1, 1);
  if (!d->r.failed)
    place_imports(d, 0);
}

static void sec_function(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  d->nfunc_decl = read_count(r);
  d->have_funcs = true;
  ensure_funcs(d);
  for (uint32_t i = 0; i < d->nfunc_decl && !r->failed; i++) {
    uint32_t t = ew_read_u32(r);
    if (!r->failed && t >= m->ntypes) {
      ew_fail(r, EW_ERR_INVALID, "unknown type");
      return;
    }
    m->func_type[m->nfunc_imports + i] = t;
  }
}

static void sec_table(decoder *d, uint32_t n)
{
  ew_module *m = d->m;
  m->ntables = m->ntable_imports + n;
  m->tables = alloc_array(d, m->ntables, sizeof *m->tables);
  if (d->r.failed)
    return;
  place_imports(d, 1);
  for (uint32_t i = 0; i < n && !d->r.failed; i++) {
    ew_tabletype *t = &m->tables[m->ntable_imports + i];
    t->elem = read_reftype(d);
    read_limits(d, &t->limits, false);
  }
}

static void sec_memory(decoder *d, uint32_t n)
{
  ew_module *m = d->m;
  m->nmems = m->nmem_imports + n;
  if (m->nmems > 1) {
    ew_fail(&d->r, EW_ERR_INVALID, "multiple memories (the multi-memory proposal is not supported)");
    return;
  }
  m->mems = alloc_array(d, m->nmems, sizeof *m->mems);
  if (d->r.failed)
    return;
  place_imports(d, 2);
  for (uint32_t i = 0; i < n && !d->r.failed; i++)
    read_limits(d, &m->mems[m->nmem_imports + i].limits, true);
}

static void sec_global(decoder *d, uint32_t n)
{
  ew_module *m = d->m;
  m->nglobals = m->nglobal_imports + n;
  m->globals = alloc_array(d, m->nglobals, sizeof *m->globals);
  m->global_init = alloc_array(d, m->nglobals, sizeof *m->global_init);
  if (d->r.failed)
    return;
  place_imports(d, 3);
  for (uint32_t i = 0; i < n && !d->r.failed; i++) {
    ew_globaltype *g = &m->globals[m->nglobal_imports + i];
    read_globaltype(d, g);
    if (!d->r.failed)
      read_constexpr(d, &m->global_init[m->nglobal_imports + i], g->type);
  }
}

/* Kind arrays for sections that were absent. */
static void ensure_kinds(decoder *d)
{
  ew_module *m = d->m;
  ensure_funcs(d);
  if (!m->tables) sec_table(d, 0);
  if (!m->mems) sec_memory(d, 0);
  if (!m->globals) sec_global(d, 0);
}

static uint32_t hash_name(const char *s, uint32_t n)
{
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static void sec_export(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->nexports = read_count(r);
  m->exports = alloc_array(d, m->nexports, sizeof *m->exports);
  uint32_t hcap = 16;
  while (hcap < m->nexports * 2)
    hcap *= 2;
  uint32_t *hash = alloc_array(d, hcap, sizeof *hash);   /* index+1 */
  for (uint32_t i = 0; i < m->nexports && !r->failed; i++) {
    ew_export *e = &m->exports[i];
    e->name = read_name(d, &e->name_len);
    e->kind = ew_read_byte(r);
    e->index = ew_read_u32(r);
    if (r->failed)
      return;
    static const char *const unknown[] = { "unknown function", "unknown table",
                                           "unknown memory", "unknown global" };
    uint32_t limit = e->kind == 0 ? m->nfuncs : e->kind == 1 ? m->ntables
                   : e->kind == 2 ? m->nmems : e->kind == 3 ? m->nglobals : 0;
    if (e->kind > 3) {
      ew_fail(r, e->kind == 4 ? EW_ERR_UNSUPPORTED : EW_ERR_MALFORMED,
              e->kind == 4 ? "exception handling (tag exports) is not supported"
                           : "malformed export kind");
      return;
    }
    if (e->index >= limit) {
      ew_fail(r, EW_ERR_INVALID, unknown[e->kind]);
      return;
    }
    if (e->kind == 0)
      declare_func(m, e->index);
    uint32_t h = hash_name(e->name, e->name_len) & (hcap - 1);
    while (hash[h]) {
      ew_export *o = &m->exports[hash[h] - 1];
      if (o->name_len == e->name_len && memcmp(o->name, e->name, e->name_len) == 0) {
        ew_fail(r, EW_ERR_INVALID, "duplicate export name");
        return;
      }
      h = (h + 1) & (hcap - 1);
    }
    hash[h] = i + 1;
  }
}

static void sec_start(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->start = ew_read_u32(r);
  if (r->failed)
    return;
  if (m->start >= m->nfuncs) {
    ew_fail(r, EW_ERR_INVALID, "unknown function");
    return;
  }
  const ew_functype *t = &m->types[m->func_type[m->start]];
  if (t->nparams || t->nresults)
    ew_fail(r, EW_ERR_INVALID, "start function");
}

static void sec_elem(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->nelems = read_count(r);
  m->elems = alloc_array(d, m->nelems, sizeof *m->elems);
  for (uint32_t i = 0; i < m->nelems && !r->failed; i++) {
    ew_elem *e = &m->elems[i];
    uint32_t flags = ew_read_u32(r);
    if (r->failed)
      return;
    if (flags > 7) {
      ew_fail(r, EW_ERR_MALFORMED, "malformed elements segment kind");
      return;
    }
    e->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
    e->type = EW_FUNCREF;
    if (e->mode == SEG_ACTIVE) {
      e->table = (flags & 2) ? ew_read_u32(r) : 0;
      if (!r->failed && e->table >= m->ntables) {
        ew_fail(r, EW_ERR_INVALID, "unknown table");
        return;
      }
      read_constexpr(d, &e->offset, EW_I32);
    }
    bool exprs = flags & 4;
    if (flags & 3) {
      if (exprs) {
        e->type = read_reftype(d);
      } else if (ew_read_byte(r) != 0x00 && !r->failed) {
        r->p--;
        ew_fail(r, EW_ERR_MALFORMED, "malformed element kind");
        return;
      }
    }
    e->count = read_count(r);
    e->items = alloc_array(d, e->count, sizeof *e->items);
    for (uint32_t k = 0; k < e->count && !r->failed; k++) {
      ew_constexpr *it = &e->items[k];
      if (exprs) {
        read_constexpr(d, it, e->type);
      } else {
        it->kind = CE_FUNC;
        it->type = EW_FUNCREF;
        it->index = ew_read_u32(r);
        if (!r->failed && it->index >= m->nfuncs) {
          ew_fail(r, EW_ERR_INVALID, "unknown function");
          return;
        }
        declare_func(m, it->index);
      }
    }
    if (!r->failed && e->mode == SEG_ACTIVE && m->tables[e->table].elem != e->type)
      ew_fail(r, EW_ERR_INVALID, "type mismatch");
  }
}

static void sec_code(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  uint32_t n = read_count(r);
  d->have_code = true;
  if (r->failed)
    return;
  if (n != d->nfunc_decl) {
    ew_fail(r, EW_ERR_MALFORMED, "function and code section have inconsistent lengths");
    return;
  }
  m->code = alloc_array(d, n, sizeof *m->code);
  uint32_t *scratch = NULL;
  size_t scratch_cap = 0;
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    uint32_t size = ew_read_u32(r);
    if (r->failed)
      break;
    if (size > (size_t)(r->end - r->p)) {
      ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
      break;
    }
    ew_reader body = { r->base, r->p, r->p + size, r->err, m->nfunc_imports + i, false };
    if (ew_compile_function(m, i, &body, &scratch, &scratch_cap) < 0) {
      r->failed = true;
      break;
    }
    r->p += size;
  }
  m->alloc.free(m->alloc.ctx, scratch);
}

static void sec_data(decoder *d)
{
  ew_reader *r = &d->r;
  ew_module *m = d->m;
  m->ndatas = read_count(r);
  d->have_data = true;
  if (r->failed)
    return;
  if (m->has_datacount && m->ndatas != m->datacount) {
    ew_fail(r, EW_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    return;
  }
  m->datas = alloc_array(d, m->ndatas, sizeof *m->datas);
  for (uint32_t i = 0; i < m->ndatas && !r->failed; i++) {
    ew_data *s = &m->datas[i];
    uint32_t flags = ew_read_u32(r);
    if (r->failed)
      return;
    if (flags > 2) {
      ew_fail(r, EW_ERR_MALFORMED, "malformed data segment kind");
      return;
    }
    s->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
    if (s->mode == SEG_ACTIVE) {
      uint32_t mem = flags == 2 ? ew_read_u32(r) : 0;
      if (!r->failed && mem >= m->nmems) {
        ew_fail(r, EW_ERR_INVALID, "unknown memory");
        return;
      }
      read_constexpr(d, &s->offset, EW_I32);
    }
    s->len = ew_read_u32(r);
    if (r->failed)
      return;
    if (s->len > (size_t)(r->end - r->p)) {
      ew_fail(r, EW_ERR_MALFORMED, "unexpected end of section or function");
      return;
    }
    uint8_t *copy = alloc_array(d, s->len, 1);
    if (copy)
      memcpy(copy, r->p, s->len);
    s->bytes = copy;
    r->p += s->len;
  }
}

static void sec_custom(decoder *d)
{
  uint32_t len;
  read_name(d, &len);
  d->r.p = d->r.end;   /* contents are not interpreted */
}

static void decode_section(decoder *d, uint8_t id)
{
  ew_reader *r = &d->r;
  switch (id) {
  case 0: sec_custom(d); break;
  case 1: sec_type(d); break;
  case 2: sec_import(d); break;
  case 3: sec_function(d); break;
  case 4: ensure_funcs(d); sec_table(d, read_count(r)); break;
  case 5: ensure_funcs(d); sec_memory(d, read_count(r)); break;
  case 6:
    ensure_funcs(d);
    if (!d->m->tables)
      sec_table(d, 0);
    if (!d->m->mems)
      sec_memory(d, 0);
    sec_global(d, read_count(r));
    break;
  case 7: ensure_kinds(d); sec_export(d); break;
  case 8: ensure_kinds(d); sec_start(d); break;
  case 9: ensure_kinds(d); sec_elem(d); break;
  case 12:
    d->m->datacount = ew_read_u32(r);
    d->m->has_datacount = true;
    break;
  case 10: ensure_kinds(d); sec_code(d); break;
  case 11: ensure_kinds(d); sec_data(d); break;
  }
}

static int section_rank(uint8_t id)
{
  static const uint8_t rank[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };
  return id <= 12 ? rank[id] : -1;
}

static void decode_module(decoder *d)
{
  ew_reader *r = &d->r;
  static const uint8_t magic[4] = { 0, 'a', 's', 'm' };
  size_t have = (size_t)(r->end - r->p);
  if (have < 4 || memcmp(r->p, magic, 4) != 0) {
    /* a truncated but so far correct magic is cut short, as the spec says */
    bool cut = have < 4 && memcmp(r->p, magic, have) == 0;
    ew_fail(r, EW_ERR_MALFORMED, cut ? "unexpected end" : "magic header not detected");
    return;
  }
  r->p += 4;
  if (r->end - r->p < 4) {
    ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    return;
  }
  static const uint8_t version[4] = { 1, 0, 0, 0 };
  if (memcmp(r->p, version, 4) != 0) {
    ew_fail(r, EW_ERR_MALFORMED, "unknown binary version");
    return;
  }
  r->p += 4;
  int last = 0;
  while (r->p < r->end && !r->failed) {
    uint8_t id = ew_read_byte(r);
    int rank = section_rank(id);
    if (rank < 0) {
      r->p--;
      /* 13 is the tag section of the exception-handling proposal: still
       * malformed in WebAssembly 2.0 (the spec tests say so), but named */
      ew_fail(r, EW_ERR_MALFORMED, id == 13 ? "malformed section id (13: tag section, "
              "exception handling is not supported)" : "malformed section id");
      return;
    }
    uint32_t size = ew_read_u32(r);
    if (r->failed)
      return;
    if (size > (size_t)(r->end - r->p)) {
      ew_fail(r, EW_ERR_MALFORMED, "length out of bounds");
      return;
    }
    if (rank != 0) {
      if (rank <= last) {
        r->p -= 1;
        ew_fail(r, EW_ERR_MALFORMED, "unexpected content after last section");
        return;
      }
      last = rank;
    }
    const uint8_t *outer_end = r->end;
    r->end = r->p + size;
    decode_section(d, id);
    if (!r->failed && r->p != r->end)
      ew_fail(r, EW_ERR_MALFORMED, "section size mismatch");
    if (r->failed)
      return;
    r->end = outer_end;
  }
  ensure_kinds(d);
  if (r->failed)
    return;
  if (d->nfunc_decl && !d->have_code)
    ew_fail(r, EW_ERR_MALFORMED, "function and code section have inconsistent lengths");
  else if (d->m->has_datacount && !d->have_data && d->m->datacount)
    ew_fail(r, EW_ERR_MALFORMED, "data count and data section have inconsistent lengths");
}

ew_module *ew_module_new(const ew_allocator *alloc, const uint8_t *bytes,
                         size_t len, ew_error *err)
{
  ew_error dummy;
  if (!err)
    err = &dummy;
  memset(err, 0, sizeof *err);
  err->func_index = EW_NO_FUNC;
  if (len > UINT32_MAX) {
    ew_set_error(err, EW_ERR_LIMIT, 0, EW_NO_FUNC, "module too large", NULL);
    return NULL;
  }
  ew_module *m = alloc->alloc(alloc->ctx, sizeof *m);
  if (!m) {
    ew_set_error(err, EW_ERR_NOMEM, 0, EW_NO_FUNC, "out of memory", NULL);
    return NULL;
  }
  memset(m, 0, sizeof *m);
  m->alloc = *alloc;
  m->arena.a = &m->alloc;
  m->start = EW_NO_FUNC;
  decoder d;
  memset(&d, 0, sizeof d);
  d.m = m;
  d.r = (ew_reader){ bytes, bytes, bytes + len, err, EW_NO_FUNC, false };
  decode_module(&d);
  if (d.r.failed) {
    ew_module_free(m);
    return NULL;
  }
  return m;
}

void ew_module_free(ew_module *m)
{
  if (!m)
    return;
  ew_arena_free(&m->arena);
  m->alloc.free(m->alloc.ctx, m);
}

bool ew_functype_equal(const ew_functype *a, const ew_functype *b)
{
  return a == b ||
         (a->nparams == b->nparams && a->nresults == b->nresults &&
          memcmp(a->params, b->params, a->nparams) == 0 &&
          memcmp(a->results, b->results, a->nresults) == 0);
}

/* ---- introspection ------------------------------------------------------ */

uint32_t ew_module_import_count(const ew_module *m) { return m->nimports; }
uint32_t ew_module_export_count(const ew_module *m) { return m->nexports; }

int ew_module_import(const ew_module *m, uint32_t i, ew_import_info *out)
{
  if (i >= m->nimports)
    return -1;
  *out = m->imports[i].info;
  return 0;
}

int ew_module_export(const ew_module *m, uint32_t i, ew_export_info *out)
{
  if (i >= m->nexports)
    return -1;
  const ew_export *e = &m->exports[i];
  memset(out, 0, sizeof *out);
  out->name = e->name;
  out->name_len = e->name_len;
  out->kind = e->kind;
  out->index = e->index;
  switch (e->kind) {
  case EW_EXTERN_FUNC: out->func = m->types[m->func_type[e->index]]; break;
  case EW_EXTERN_TABLE: out->table = m->tables[e->index]; break;
  case EW_EXTERN_MEMORY: out->memory = m->mems[e->index]; break;
  case EW_EXTERN_GLOBAL: out->global = m->globals[e->index]; break;
  }
  return 0;
}
