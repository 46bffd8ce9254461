/* plan.c - a TFLite model (schema.fbs field numbers) into a checked plan.
 *
 * Model: 1 operator_codes, 2 subgraphs, 4 buffers.  SubGraph: 0 tensors,
 * 1 inputs, 2 outputs, 3 operators.  Tensor: 0 shape, 1 type, 2 buffer,
 * 4 quantization.  QuantizationParameters: 2 scale, 3 zero_point,
 * 6 quantized_dimension.  Buffer: 0 data (1 offset / 2 size: data outside
 * the flatbuffer, refused).  OperatorCode: 0 deprecated_builtin_code,
 * 3 builtin_code.  Operator: 0 opcode_index, 1 inputs, 2 outputs.
 * Everything the plan holds is in the arena; constant tensors point into
 * the model after their buffer length has been checked against the shape. */
#include "internal.h"

/* ---- error messages without a C library ------------------------------ */
static char *put_str(char *p, char *end, const char *s) {
  while (*s && p < end) *p++ = *s++;
  return p;
}

static char *put_num(char *p, char *end, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  if (v < 0 && p < end) *p++ = '-';
  while (n && p < end) *p++ = tmp[--n];
  return p;
}

/* "op 3: tensor 7: reason (value)"; the op and tensor parts only when >= 0,
 * the value only when it is not the NOVAL sentinel (LLONG_MIN). */
int ei_err_named(ei_error *err, int code, int op, const char *opname, int tensor, const char *reason,
                 long long val) {
  if (!err) return code;
  char *p = err->msg, *end = err->msg + sizeof err->msg - 1;
  err->code = code;
  err->op = op;
  err->tensor = tensor;
  if (op >= 0) { p = put_str(p, end, "op "); p = put_num(p, end, op); p = put_str(p, end, ": "); }
  if (opname) { p = put_str(p, end, opname); p = put_str(p, end, ": "); }
  if (tensor >= 0) { p = put_str(p, end, "tensor "); p = put_num(p, end, tensor); p = put_str(p, end, ": "); }
  p = put_str(p, end, reason);
  if (val != (-0x7fffffffffffffffll - 1)) { p = put_str(p, end, " ("); p = put_num(p, end, val); p = put_str(p, end, ")"); }
  *p = 0;
  return code;
}

int ei_err(ei_error *err, int code, int op, int tensor, const char *reason, long long val) {
  return ei_err_named(err, code, op, 0, tensor, reason, val);
}
#define NOVAL (-0x7fffffffffffffffll - 1)

const char *ei_op_name(int kind) {
  switch (kind) {
  case OP_ADD: return "ADD";
  case OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
  case OP_CONV_2D: return "CONV_2D";
  case OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
  case OP_DEQUANTIZE: return "DEQUANTIZE";
  case OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
  case OP_MAX_POOL_2D: return "MAX_POOL_2D";
  case OP_MUL: return "MUL";
  case OP_RESHAPE: return "RESHAPE";
  case OP_LOGISTIC: return "LOGISTIC";
  case OP_SOFTMAX: return "SOFTMAX";
  case OP_QUANTIZE: return "QUANTIZE";
  default: return 0;
  }
}

/* ---- arena ----------------------------------------------------------- */
typedef struct {
  uint8_t *cur, *end;
} arena_t;

static void *arena_alloc(arena_t *a, size_t n) {
  uintptr_t c = ((uintptr_t)a->cur + 7) & ~(uintptr_t)7;
  if (c < (uintptr_t)a->cur || c > (uintptr_t)a->end || n > (size_t)((uintptr_t)a->end - c)) return 0;
  a->cur = (uint8_t *)(c + n);
  uint8_t *p = (uint8_t *)c;
  for (size_t i = 0; i < n; i++) p[i] = 0; /* no stale data leaks into a plan */
  return p;
}

/* ---- tensors --------------------------------------------------------- */
static int elem_size(int type) {
  switch (type) {
  case EI_T_INT8: return 1;
  case EI_T_INT32: case EI_T_FLOAT32: return 4;
  default: return 0;
  }
}

static int tensor_quant(const fb_buf *b, const fb_table *tt, ei_tensor *t, int idx, ei_error *err) {
  fb_table q;
  int r = fb_table_field(b, tt, 4, &q);
  if (r < 0) return ei_err(err, r, -1, idx, "malformed quantization table", NOVAL);
  t->scale = 0;
  if (r == 0) return 0;
  fb_vec sc = {0, 0}, zp = {0, 0};
  int64_t qd;
  if ((r = fb_vec_field(b, &q, 2, 4, &sc)) < 0 || (r = fb_vec_field(b, &q, 3, 8, &zp)) < 0 ||
      (r = fb_scalar(b, &q, 6, 4, 1, 0, &qd)) < 0)
    return ei_err(err, r, -1, idx, "malformed quantization parameters", NOVAL);
  if (sc.n == 0) return 0;
  if (zp.n != sc.n && zp.n != 1)
    return ei_err(err, EI_E_QUANT, -1, idx, "zero_point count differs from scale count", zp.n);
  for (uint32_t i = 0; i < sc.n; i++) {
    float s = fb_vec_f32(b, &sc, i);
    if (!(s > 0 && s < 1e30f)) return ei_err(err, EI_E_QUANT, -1, idx, "scale not positive and finite", i);
    int64_t z = fb_vec_i64(b, &zp, zp.n == 1 ? 0 : i);
    if (z < -128 || z > 127) return ei_err(err, EI_E_QUANT, -1, idx, "zero_point outside int8", z);
    if (sc.n > 1 && z != 0) return ei_err(err, EI_E_QUANT, -1, idx, "per-channel zero_point not 0", z);
  }
  t->scale = fb_vec_f32(b, &sc, 0);
  t->zp = (int32_t)fb_vec_i64(b, &zp, 0);
  t->nscales = sc.n;
  t->scales = sc;
  if (qd < 0 || qd >= EI_MAX_DIMS) return ei_err(err, EI_E_QUANT, -1, idx, "bad quantized_dimension", qd);
  t->qdim = (int32_t)qd;
  return 0;
}

static int tensor_shape(const fb_buf *b, const fb_table *tt, ei_tensor *t, int idx, ei_error *err) {
  fb_vec sh = {0, 0};
  int r = fb_vec_field(b, tt, 0, 4, &sh);
  if (r < 0) return ei_err(err, r, -1, idx, "malformed shape", NOVAL);
  if (sh.n > EI_MAX_DIMS) return ei_err(err, EI_E_SHAPE, -1, idx, "too many dimensions", sh.n);
  uint64_t count = 1;
  t->ndim = (uint8_t)sh.n;
  for (uint32_t i = 0; i < sh.n; i++) {
    int32_t d = fb_vec_i32(b, &sh, i);
    if (d < 1) return ei_err(err, EI_E_SHAPE, -1, idx, "dimension not positive", d);
    t->dims[i] = d;
    count *= (uint32_t)d; /* both <= 2^26 after the check below: no overflow */
    if (count > EI_MAX_ELEMS) return ei_err(err, EI_E_SHAPE, -1, idx, "too many elements", NOVAL);
  }
  t->count = (uint32_t)count;
  return 0;
}

static int tensor_buffer(const fb_buf *b, const fb_vec *buffers, const fb_table *tt, ei_tensor *t,
                         int idx, ei_error *err) {
  int64_t bi;
  int r = fb_scalar(b, tt, 2, 4, 0, 0, &bi);
  if (r < 0) return ei_err(err, r, -1, idx, "malformed buffer index", NOVAL);
  if (bi >= buffers->n) return ei_err(err, EI_E_FORMAT, -1, idx, "buffer index out of range", bi);
  fb_table bt;
  if ((r = fb_vec_table(b, buffers, (uint32_t)bi, &bt)) < 0)
    return ei_err(err, r, -1, idx, "malformed buffer table", bi);
  fb_vec data = {0, 0};
  int64_t ext_off, ext_size;
  if ((r = fb_vec_field(b, &bt, 0, 1, &data)) < 0 || fb_scalar(b, &bt, 1, 8, 0, 0, &ext_off) < 0 ||
      fb_scalar(b, &bt, 2, 8, 0, 0, &ext_size) < 0)
    return ei_err(err, r < 0 ? r : EI_E_FORMAT, -1, idx, "malformed buffer", bi);
  if (ext_off || ext_size)
    return ei_err(err, EI_E_UNSUPPORTED, -1, idx, "buffer stored outside the flatbuffer", bi);
  if (data.n == 0) return 0;
  if (data.n != t->bytes)
    return ei_err(err, EI_E_SHAPE, -1, idx, "buffer length differs from shape x element size", data.n);
  t->is_const = 1;
  t->written = 1;
  t->data = (uint8_t *)b->buf + data.data;
  return 0;
}

static int parse_tensors(ei_plan *p, const fb_table *sg, const fb_vec *buffers, arena_t *a,
                         ei_error *err) {
  const fb_buf *b = &p->fb;
  fb_vec tv;
  int r = fb_vec_field(b, sg, 0, 4, &tv);
  if (r <= 0) return ei_err(err, r ? r : EI_E_FORMAT, -1, -1, "subgraph has no tensors vector", NOVAL);
  p->ntensors = tv.n;
  if (!(p->t = arena_alloc(a, (size_t)tv.n * sizeof(ei_tensor))))
    return ei_err(err, EI_E_ARENA, -1, -1, "arena too small for the tensor table", tv.n);
  for (uint32_t i = 0; i < tv.n; i++) {
    ei_tensor *t = &p->t[i];
    fb_table tt;
    int64_t type;
    if ((r = fb_vec_table(b, &tv, i, &tt)) < 0) return ei_err(err, r, -1, (int)i, "malformed tensor", NOVAL);
    if ((r = fb_scalar(b, &tt, 1, 1, 1, 0, &type)) < 0) return ei_err(err, r, -1, (int)i, "malformed type", NOVAL);
    if (!elem_size((int)type)) return ei_err(err, EI_E_UNSUPPORTED, -1, (int)i, "unsupported tensor type", type);
    t->type = (uint8_t)type;
    if ((r = tensor_shape(b, &tt, t, (int)i, err)) < 0) return r;
    t->bytes = t->count * (uint32_t)elem_size(t->type);
    if ((r = tensor_quant(b, &tt, t, (int)i, err)) < 0) return r;
    if ((r = tensor_buffer(b, buffers, &tt, t, (int)i, err)) < 0) return r;
  }
  return 0;
}

/* ---- operators ------------------------------------------------------- */
static int io_vec(const fb_buf *b, const fb_table *t, int id, uint32_t ntensors, int allow_opt,
                  fb_vec *v) {
  int r = fb_vec_field(b, t, id, 4, v);
  if (r <= 0) return r ? r : EI_E_FORMAT;
  for (uint32_t i = 0; i < v->n; i++) {
    int32_t x = fb_vec_i32(b, v, i);
    if (x == -1 ? !allow_opt : (x < 0 || (uint32_t)x >= ntensors)) return EI_E_FORMAT;
  }
  return 0;
}

static int op_code(const fb_buf *b, const fb_vec *codes, uint32_t idx, int *kind) {
  fb_table ct;
  int64_t dep, code;
  int r;
  if (idx >= codes->n) return EI_E_FORMAT;
  if ((r = fb_vec_table(b, codes, idx, &ct)) < 0) return r;
  if ((r = fb_scalar(b, &ct, 0, 1, 1, 0, &dep)) < 0 || (r = fb_scalar(b, &ct, 3, 4, 1, 0, &code)) < 0)
    return r;
  /* Newer converters write builtin_code; older ones only the deprecated byte. */
  *kind = (int)(code > dep ? code : dep);
  return 0;
}

static int parse_op(ei_plan *p, const fb_table *ot, const fb_vec *codes, uint32_t i, ei_error *err) {
  const fb_buf *b = &p->fb;
  ei_op *o = &p->ops[i];
  int64_t ci;
  int kind, r;
  if ((r = fb_scalar(b, ot, 0, 4, 0, 0, &ci)) < 0 || (r = op_code(b, codes, (uint32_t)ci, &kind)) < 0)
    return ei_err(err, r, (int)i, -1, "bad opcode_index", ci);
  o->kind = (uint8_t)(kind > 255 ? 255 : kind);
  fb_vec in, out;
  if ((r = io_vec(b, ot, 1, p->ntensors, 1, &in)) < 0)
    return ei_err(err, r, (int)i, -1, "bad inputs vector or tensor index", NOVAL);
  if ((r = io_vec(b, ot, 2, p->ntensors, 0, &out)) < 0)
    return ei_err(err, r, (int)i, -1, "bad outputs vector or tensor index", NOVAL);
  if (in.n < 1 || in.n > 3 || out.n != 1)
    return ei_err(err, EI_E_SHAPE, (int)i, -1, "unexpected number of inputs/outputs", in.n);
  for (int k = 0; k < 3; k++) o->in[k] = (int16_t)(k < (int)in.n ? fb_vec_i32(b, &in, (uint32_t)k) : -1);
  o->out = (int16_t)fb_vec_i32(b, &out, 0);
  if (p->ntensors > 32767) return ei_err(err, EI_E_SHAPE, (int)i, -1, "too many tensors", p->ntensors);
  return 0;
}

/* Ops run in model order, so: every tensor an op reads was written before
 * (or is a constant or a model input), each activation tensor is written
 * exactly once, and no op writes a constant or one of its own inputs (the
 * kernels assume their output does not alias an input). */
static int check_dataflow(ei_plan *p, uint32_t i, ei_error *err) {
  ei_op *o = &p->ops[i];
  for (int k = 0; k < 3; k++) {
    if (o->in[k] < 0) continue;
    if (!p->t[o->in[k]].written) return ei_err(err, EI_E_GRAPH, (int)i, o->in[k], "input read before any op writes it", NOVAL);
    if (o->in[k] == o->out) return ei_err(err, EI_E_GRAPH, (int)i, o->out, "output aliases an input", NOVAL);
  }
  ei_tensor *t = &p->t[o->out];
  if (t->is_const) return ei_err(err, EI_E_GRAPH, (int)i, o->out, "op writes a constant tensor", NOVAL);
  if (t->written) return ei_err(err, EI_E_GRAPH, (int)i, o->out, "tensor written twice", NOVAL);
  t->written = 1;
  return 0;
}

static int parse_io(ei_plan *p, const fb_table *sg, int id, int32_t **list, uint32_t *n,
                    size_t *bytes, arena_t *a, ei_error *err) {
  fb_vec v;
  int r = io_vec(&p->fb, sg, id, p->ntensors, 0, &v);
  if (r < 0) return ei_err(err, r, -1, -1, id == 1 ? "bad subgraph inputs" : "bad subgraph outputs", NOVAL);
  if (!(*list = arena_alloc(a, (size_t)v.n * 4 + 4))) return ei_err(err, EI_E_ARENA, -1, -1, "arena too small", NOVAL);
  *n = v.n;
  *bytes = 0;
  for (uint32_t i = 0; i < v.n; i++) {
    int32_t ti = fb_vec_i32(&p->fb, &v, i);
    if (p->t[ti].is_const) return ei_err(err, EI_E_GRAPH, -1, ti, "model input/output is a constant", NOVAL);
    (*list)[i] = ti;
    *bytes += p->t[ti].bytes;
  }
  return 0;
}

static int parse_ops(ei_plan *p, const fb_table *sg, const fb_vec *codes, arena_t *a, ei_error *err) {
  const fb_buf *b = &p->fb;
  fb_vec ov;
  int r = fb_vec_field(b, sg, 3, 4, &ov);
  if (r <= 0) return ei_err(err, r ? r : EI_E_FORMAT, -1, -1, "subgraph has no operators vector", NOVAL);
  p->nops = ov.n;
  if (!(p->ops = arena_alloc(a, (size_t)ov.n * sizeof(ei_op))))
    return ei_err(err, EI_E_ARENA, -1, -1, "arena too small for the op table", ov.n);
  for (uint32_t i = 0; i < p->ninputs; i++) p->t[p->inputs[i]].written = 1;
  for (uint32_t i = 0; i < ov.n; i++) {
    fb_table ot;
    if ((r = fb_vec_table(b, &ov, i, &ot)) < 0) return ei_err(err, r, (int)i, -1, "malformed operator", NOVAL);
    if ((r = parse_op(p, &ot, codes, i, err)) < 0) return r;
    if ((r = check_dataflow(p, i, err)) < 0) return r;
    void *cur = a->cur;
    if ((r = ei_op_prepare(p, i, &ot, &cur, a->end, err)) < 0) return r;
    a->cur = cur;
  }
  for (uint32_t i = 0; i < p->noutputs; i++)
    if (!p->t[p->outputs[i]].written)
      return ei_err(err, EI_E_GRAPH, -1, p->outputs[i], "model output never written", NOVAL);
  return 0;
}

/* ---- activation placement --------------------------------------------
 * Tensors whose lifetimes (first write .. last read, op indices, inclusive)
 * overlap get disjoint regions of one pool; others may share.  An op's
 * output and inputs are both live at that op, so they never share.  The
 * placement is first-fit, largest tensor first: O(n^3) in the worst case,
 * so models with more than EI_REUSE_MAX activations get one region each. */
#define EI_REUSE_MAX 256

typedef struct {
  int32_t first, last;
  uint32_t off; /* in the pool; UINT32_MAX: not placed (yet) */
} life_t;

static void lifetimes(const ei_plan *p, life_t *l) {
  for (uint32_t i = 0; i < p->ntensors; i++) l[i] = (life_t){INT32_MAX, -1, UINT32_MAX};
  for (uint32_t i = 0; i < p->ninputs; i++) l[p->inputs[i]].first = -1;
  for (uint32_t i = 0; i < p->nops; i++) {
    const ei_op *o = &p->ops[i];
    if (l[o->out].first > (int32_t)i) l[o->out].first = (int32_t)i;
    if (l[o->out].last < (int32_t)i) l[o->out].last = (int32_t)i;
    for (int k = 0; k < 3; k++)
      if (o->in[k] >= 0 && l[o->in[k]].last < (int32_t)i) l[o->in[k]].last = (int32_t)i;
  }
  for (uint32_t i = 0; i < p->noutputs; i++) l[p->outputs[i]].last = (int32_t)p->nops;
  for (uint32_t i = 0; i < p->ntensors; i++)
    if (l[i].first == INT32_MAX) l[i].last = -2; /* never live: no storage */
}

static uint32_t align8(uint32_t v) { return (v + 7u) & ~7u; }

/* Lowest offset where tensor i fits between the placed tensors live with it. */
static uint32_t first_fit(const ei_plan *p, const life_t *l, uint32_t i) {
  uint32_t off = 0;
  for (int moved = 1; moved;) {
    moved = 0;
    for (uint32_t j = 0; j < p->ntensors; j++) {
      if (l[j].off == UINT32_MAX || l[j].last < l[i].first || l[i].last < l[j].first) continue;
      uint32_t je = l[j].off + align8(p->t[j].bytes);
      if (off < je && l[j].off < off + align8(p->t[i].bytes)) { off = je; moved = 1; }
    }
  }
  return off;
}

/* Offsets of every live activation; returns the pool size (<= 2^31). */
static uint64_t place_shared(const ei_plan *p, life_t *l) {
  uint64_t pool = 0;
  for (;;) {
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < p->ntensors; i++)
      if (!p->t[i].is_const && l[i].last >= -1 && l[i].off == UINT32_MAX &&
          (best == UINT32_MAX || p->t[i].bytes > p->t[best].bytes))
        best = i;
    if (best == UINT32_MAX) return pool;
    l[best].off = first_fit(p, l, best);
    uint64_t end = (uint64_t)l[best].off + align8(p->t[best].bytes);
    if (end > pool) pool = end;
    if (pool > 0x7fffffffu) return pool;
  }
}

static int place_activations(ei_plan *p, arena_t *a, ei_error *err) {
  uint32_t nact = 0;
  for (uint32_t i = 0; i < p->ntensors; i++) nact += !p->t[i].is_const;
  uint8_t *mark = a->cur;
  life_t *l = nact <= EI_REUSE_MAX ? arena_alloc(a, (size_t)p->ntensors * sizeof *l) : 0;
  if (!l) { /* too many to place, or no room for the bookkeeping: one region each */
    for (uint32_t i = 0; i < p->ntensors; i++) {
      ei_tensor *t = &p->t[i];
      if (!t->is_const && !(t->data = arena_alloc(a, t->bytes)))
        return ei_err(err, EI_E_ARENA, -1, (int)i, "arena too small for activations", t->bytes);
    }
    return 0;
  }
  lifetimes(p, l);
  uint64_t pool_size = place_shared(p, l);
  /* The pool takes the place of the bookkeeping: point the tensors into it
   * while l is still intact, then claim (and zero) it. */
  a->cur = mark;
  uintptr_t base = ((uintptr_t)mark + 7) & ~(uintptr_t)7;
  if (pool_size > 0x7fffffffu || base > (uintptr_t)a->end || pool_size > (uintptr_t)a->end - base)
    return ei_err(err, EI_E_ARENA, -1, -1, "arena too small for activations", (long long)pool_size);
  for (uint32_t i = 0; i < p->ntensors; i++)
    if (!p->t[i].is_const) p->t[i].data = l[i].off == UINT32_MAX ? 0 : (uint8_t *)base + l[i].off;
  arena_alloc(a, (size_t)pool_size);
  return 0;
}

int ei_plan_build(const uint8_t *model, size_t len, void *arena, size_t arena_size, ei_plan **out,
                  ei_error *err) {
  arena_t a = {(uint8_t *)arena, (uint8_t *)arena + arena_size};
  ei_plan *p = arena_alloc(&a, sizeof *p);
  if (!p) return ei_err(err, EI_E_ARENA, -1, -1, "arena too small for the plan", NOVAL);
  if (len > 0x7fffffffu || ((uintptr_t)model & 3))
    return ei_err(err, EI_E_ARG, -1, -1, "model larger than 2 GiB or not 4-byte aligned", NOVAL);
  p->fb.buf = model;
  p->fb.len = (uint32_t)len;
  fb_table root, sg;
  fb_vec codes, subgraphs, buffers;
  int r = fb_root(&p->fb, &root);
  if (r < 0) return ei_err(err, r, -1, -1, "bad root table", NOVAL);
  if ((r = fb_vec_field(&p->fb, &root, 1, 4, &codes)) <= 0 ||
      (r = fb_vec_field(&p->fb, &root, 2, 4, &subgraphs)) <= 0 ||
      (r = fb_vec_field(&p->fb, &root, 4, 4, &buffers)) <= 0)
    return ei_err(err, r ? r : EI_E_FORMAT, -1, -1, "model lacks operator_codes, subgraphs or buffers", NOVAL);
  if (subgraphs.n != 1) return ei_err(err, EI_E_UNSUPPORTED, -1, -1, "model must have one subgraph", subgraphs.n);
  if ((r = fb_vec_table(&p->fb, &subgraphs, 0, &sg)) < 0) return ei_err(err, r, -1, -1, "malformed subgraph", NOVAL);
  if ((r = parse_tensors(p, &sg, &buffers, &a, err)) < 0) return r;
  if ((r = parse_io(p, &sg, 1, &p->inputs, &p->ninputs, &p->in_bytes, &a, err)) < 0) return r;
  if ((r = parse_io(p, &sg, 2, &p->outputs, &p->noutputs, &p->out_bytes, &a, err)) < 0) return r;
  if ((r = parse_ops(p, &sg, &codes, &a, err)) < 0) return r;
  if ((r = place_activations(p, &a, err)) < 0) return r;
  p->used = (size_t)(a.cur - (uint8_t *)arena);
  *out = p;
  return EI_OK;
}

size_t ei_input_bytes(const ei_plan *p) { return p->in_bytes; }
size_t ei_output_bytes(const ei_plan *p) { return p->out_bytes; }
size_t ei_arena_used(const ei_plan *p) { return p->used; }
uint64_t ei_plan_work(const ei_plan *p) { return p->work; }

int ei_plan_weights(const ei_plan *p, uint32_t i, uint32_t *off, uint32_t *len) {
  for (uint32_t k = 0; k < p->nops; k++) {
    const ei_op *o = &p->ops[k];
    if (o->kind != OP_FULLY_CONNECTED && o->kind != OP_CONV_2D && o->kind != OP_DEPTHWISE_CONV_2D) continue;
    const ei_tensor *w = &p->t[o->in[1]];
    if (!w->is_const || w->bytes == 0) continue;
    if (i-- > 0) continue;
    *off = (uint32_t)(w->data - p->fb.buf);
    *len = w->bytes;
    return 1;
  }
  return 0;
}

static void copy_bytes(uint8_t *d, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) d[i] = s[i];
}

int ei_run(ei_plan *p, const void *input, size_t in_len, void *output, size_t out_len, ei_error *err) {
  if (in_len != p->in_bytes) return ei_err(err, EI_E_ARG, -1, -1, "input size differs from the model's", (long long)in_len);
  if (out_len != p->out_bytes) return ei_err(err, EI_E_ARG, -1, -1, "output size differs from the model's", (long long)out_len);
  const uint8_t *src = input;
  for (uint32_t i = 0; i < p->ninputs; i++) {
    ei_tensor *t = &p->t[p->inputs[i]];
    copy_bytes(t->data, src, t->bytes);
    src += t->bytes;
  }
  for (uint32_t i = 0; i < p->nops; i++) ei_op_run(p, &p->ops[i]);
  uint8_t *dst = output;
  for (uint32_t i = 0; i < p->noutputs; i++) {
    ei_tensor *t = &p->t[p->outputs[i]];
    copy_bytes(dst, t->data, t->bytes);
    dst += t->bytes;
  }
  return EI_OK;
}
