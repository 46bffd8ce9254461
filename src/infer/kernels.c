/* kernels.c - the int8 operators with TensorFlow Lite's quantization rules.
 *
 * prepare (at plan time) checks every tensor an op touches against what the
 * op needs (type, rank, shapes that agree, quantization) and precomputes
 * the fixed-point multipliers; run (per inference) then only loops over
 * sizes the checks proved to be inside the tensors.  Accumulators are
 * unsigned 32-bit so that a huge dot product wraps as TFLite's int32 does
 * in practice, without C's signed-overflow undefined behaviour. */
#include "internal.h"

#define NOVAL (-0x7fffffffffffffffll - 1)

/* ---- fixed point (the semantics of TFLite's reference kernels) ------- */
int32_t ei_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * b;
  int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / (1ll << 31));
}

int32_t ei_rdivpot(int32_t x, int e) {
  int32_t mask = (int32_t)((1ll << e) - 1);
  int32_t rem = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

int32_t ei_mul_qm(int32_t x, int32_t mult, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int32_t shifted = (int32_t)((uint32_t)x << left); /* wraps like TFLite's int32 multiply */
  return ei_rdivpot(ei_srdhm(shifted, mult), right);
}

/* real = q * 2^shift with q in [0.5, 1) as a Q31 number, rounded half away
 * from zero; real must be >= 0 (scales are positive). */
int ei_quantize_multiplier(double real, int32_t *mult, int32_t *shift) {
  *mult = 0;
  *shift = 0;
  /* beyond 2^31 the left shift of MultiplyByQuantizedMultiplier is undefined:
   * such scale ratios come only from broken or hostile models */
  if (!(real > 0) || !(real < 2147483648.0)) return -1;
  int e = 0;
  while (real >= 1.0) { real *= 0.5; e++; }
  while (real < 0.5) { real *= 2.0; e--; }
  int64_t q = (int64_t)(real * 2147483648.0 + 0.5);
  if (q == (1ll << 31)) { q /= 2; e++; }
  if (e < -31) { q = 0; e = 0; }
  *mult = (int32_t)q;
  *shift = e;
  return 0;
}

int32_t ei_roundf(float x) {
  if (!(x > -2147483520.0f)) return INT32_MIN; /* also NaN: the clamp decides */
  if (x > 2147483520.0f) return INT32_MAX;
  int32_t t = (int32_t)x;
  float frac = x - (float)t;
  if (frac >= 0.5f) t++;
  else if (frac <= -0.5f) t--;
  return t;
}

/* ---- gemmlowp-style fixed point for LOGISTIC ---------------------------
 * A raw int32 with its integer bits implied (Qm.n); products are SRDHM. */
static int32_t sat_shl(int32_t x, int e) {
  int64_t v = (int64_t)x * ((int64_t)1 << e);
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* exp(a) for a in [-1/4, 0), Q0.31: Taylor series around -1/8. */
static int32_t exp_quarter(int32_t a) {
  const int32_t c = 1895147668, third = 715827883; /* exp(-1/8), 1/3 */
  int32_t x = a + (1 << 28);
  int32_t x2 = ei_srdhm(x, x), x3 = ei_srdhm(x2, x), x4 = ei_srdhm(x2, x2);
  int32_t t = ei_rdivpot(ei_srdhm(ei_rdivpot(x4, 2) + x3, third) + x2, 1);
  return c + ei_srdhm(c, x + t);
}

/* exp(a) for a <= 0 given with `ib` integer bits (4 or 5), result Q0.31:
 * the fraction modulo 1/4 by the series, then one constant factor
 * exp(-2^k) per set bit of the rest, for k = -2 .. ib-1. */
static int32_t exp_negative(int32_t a, int ib) {
  static const int32_t mult[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  int fb = 31 - ib;
  int32_t quarter = 1 << (fb - 2);
  int32_t amq = (a & (quarter - 1)) - quarter;
  int32_t r = exp_quarter(sat_shl(amq, ib));
  int32_t rem = amq - a;
  for (int k = 0; k < 7 && k - 2 < ib; k++)
    if (rem & (1 << (fb - 2 + k))) r = ei_srdhm(r, mult[k]);
  return a == 0 ? INT32_MAX : r;
}

/* 1 / (1 + x) for x in [0, 1] (Q0.31): Newton-Raphson on half the
 * denominator in Q2.29, three steps from 48/17 - 32/17 d. */
static int32_t one_over_one_plus(int32_t a) {
  int64_t sum = (int64_t)a + INT32_MAX;
  int32_t half = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + ei_srdhm(half, -1010580540);
  for (int i = 0; i < 3; i++) {
    int32_t one_minus = (1 << 29) - ei_srdhm(half, x);
    x = x + sat_shl(ei_srdhm(x, one_minus), 2);
  }
  return sat_shl(x, 1);
}

/* logistic(a), a in Q4.27, result Q0.31 */
static int32_t logistic_q4(int32_t a) {
  if (a == 0) return 1 << 30;
  int32_t pos = one_over_one_plus(exp_negative(a > 0 ? -a : a, 4));
  return a > 0 ? pos : INT32_MAX - pos;
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- prepare helpers ------------------------------------------------- */
typedef struct {
  ei_plan *p;
  ei_op *o;
  int idx;
  fb_table opts;
  int has_opts;
  void **cur;
  uint8_t *end;
  ei_error *err;
} prep_t;

static int fail(prep_t *c, int code, int tensor, const char *reason, long long v) {
  return ei_err_named(c->err, code, c->idx, ei_op_name(c->o->kind), tensor, reason, v);
}

static int64_t opt(prep_t *c, int id, int size, int64_t def) {
  int64_t v = def;
  if (c->has_opts && fb_scalar(&c->p->fb, &c->opts, id, size, 1, def, &v) < 0) return INT32_MIN;
  return v;
}

static void *alloc(prep_t *c, size_t n) {
  uintptr_t a = ((uintptr_t)*c->cur + 7) & ~(uintptr_t)7;
  if (a > (uintptr_t)c->end || n > (size_t)((uintptr_t)c->end - a)) return 0;
  *c->cur = (void *)(a + n);
  return (void *)a;
}

static ei_tensor *tin(prep_t *c, int k) { return c->o->in[k] < 0 ? 0 : &c->p->t[c->o->in[k]]; }

static int want(prep_t *c, int k, int type, int ndim) {
  int ti = k < 0 ? c->o->out : c->o->in[k];
  if (ti < 0) return fail(c, EI_E_SHAPE, -1, "missing input", k);
  ei_tensor *t = &c->p->t[ti];
  if (t->type != type) return fail(c, EI_E_UNSUPPORTED, ti, "tensor type not supported by this op", t->type);
  if (ndim && t->ndim != ndim) return fail(c, EI_E_SHAPE, ti, "wrong rank for this op", t->ndim);
  if (type == EI_T_INT8 && t->nscales == 0) return fail(c, EI_E_QUANT, ti, "int8 tensor without quantization", NOVAL);
  return 0;
}

/* zp + round(f / scale) in int64: a tiny scale saturates the rounding and
 * the sum must not overflow (the result is clamped to int8 anyway). */
static int32_t quantized(const ei_tensor *o, float f) {
  int64_t v = (int64_t)o->zp + ei_roundf(f / o->scale);
  return v < -128 ? -128 : v > 127 ? 127 : (int32_t)v;
}

static int activation(prep_t *c, int64_t act) {
  ei_tensor *o = &c->p->t[c->o->out];
  int32_t lo = -128, hi = 127;
  if (act == EI_ACT_RELU || act == EI_ACT_RELU6) lo = o->zp;
  if (act == EI_ACT_RELU6) hi = quantized(o, 6.0f);
  if (act == EI_ACT_RELU_N1_TO_1) { lo = quantized(o, -1.0f); hi = quantized(o, 1.0f); }
  if (act < 0 || act > EI_ACT_RELU6) return fail(c, EI_E_UNSUPPORTED, -1, "unsupported fused activation", act);
  c->o->act = (uint8_t)act;
  c->o->act_min = clamp(lo, -128, 127);
  c->o->act_max = clamp(hi, -128, 127);
  return 0;
}

/* Per-channel (or per-tensor) multipliers in_scale * w_scale[c] / out_scale. */
static int multipliers(prep_t *c, ei_tensor *w, int nch, int qdim) {
  ei_tensor *in = tin(c, 0), *out = &c->p->t[c->o->out];
  if (w->nscales != 1 && (w->nscales != (uint32_t)nch || w->qdim != qdim))
    return fail(c, EI_E_QUANT, c->o->in[1], "per-channel scales do not match the output channels", w->nscales);
  if (w->zp != 0) return fail(c, EI_E_QUANT, c->o->in[1], "int8 weights must have zero_point 0", w->zp);
  if (!(c->o->mult = alloc(c, (size_t)nch * 4)) || !(c->o->shift = alloc(c, (size_t)nch * 4)))
    return fail(c, EI_E_ARENA, -1, "arena too small for multipliers", nch);
  c->o->nmult = nch;
  for (int i = 0; i < nch; i++) {
    float ws = w->nscales == 1 ? w->scale : fb_vec_f32(&c->p->fb, &w->scales, (uint32_t)i);
    double real = (double)in->scale * (double)ws / (double)out->scale;
    if (ei_quantize_multiplier(real, &c->o->mult[i], &c->o->shift[i]) < 0)
      return fail(c, EI_E_QUANT, c->o->out, "requantization scale ratio out of range", i);
  }
  return 0;
}

static int bias(prep_t *c, int nch) {
  ei_tensor *b = tin(c, 2);
  if (!b) return 0;
  if (b->type != EI_T_INT32 || b->count != (uint32_t)nch)
    return fail(c, EI_E_SHAPE, c->o->in[2], "bias must be int32 with one value per output channel", b->count);
  if (!b->is_const) return fail(c, EI_E_UNSUPPORTED, c->o->in[2], "bias is not a constant", NOVAL);
  if (!(c->o->bias = alloc(c, (size_t)nch * 4))) return fail(c, EI_E_ARENA, -1, "arena too small for bias", nch);
  for (int i = 0; i < nch; i++) {
    const uint8_t *s = b->data + 4 * i;
    c->o->bias[i] = (int32_t)((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24);
  }
  return 0;
}

/* TFLite's output size and leading padding for one spatial dimension. */
static int window(prep_t *c, int32_t in, int64_t k, int64_t stride, int64_t dil, int32_t expect_out,
                  int32_t *pad, const char *what) {
  if (k < 1 || k > 65536 || stride < 1 || stride > 65536 || dil < 1 || dil > 65536)
    return fail(c, EI_E_SHAPE, -1, what, k < 1 || k > 65536 ? k : stride < 1 || stride > 65536 ? stride : dil);
  int64_t eff = (k - 1) * dil + 1;
  int64_t out = c->o->same_pad ? (in + stride - 1) / stride : (in - eff + stride) / stride;
  if (out < 1) return fail(c, EI_E_SHAPE, -1, "filter larger than the input", eff);
  if (out != expect_out) return fail(c, EI_E_SHAPE, c->o->out, "output size disagrees with the window", expect_out);
  int64_t total = (out - 1) * stride + eff - in;
  *pad = (int32_t)(total > 0 ? total / 2 : 0);
  return 0;
}

static int padding_opt(prep_t *c, int64_t pad) {
  if (pad != 0 && pad != 1) return fail(c, EI_E_UNSUPPORTED, -1, "unknown padding", pad);
  c->o->same_pad = pad == 0;
  return 0;
}

/* ---- per-op prepare ------------------------------------------------- */
static int prep_fc(prep_t *c) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 0)) || (r = want(c, 1, EI_T_INT8, 2)) || (r = want(c, -1, EI_T_INT8, 0))) return r;
  ei_tensor *in = tin(c, 0), *w = tin(c, 1), *out = &c->p->t[c->o->out];
  int32_t nout = w->dims[0], depth = w->dims[1];
  if (in->count % (uint32_t)depth)
    return fail(c, EI_E_SHAPE, c->o->in[0], "input size not a multiple of the weights' depth", depth);
  if (out->count != in->count / (uint32_t)depth * (uint32_t)nout)
    return fail(c, EI_E_SHAPE, c->o->out, "output size disagrees with batches x units", out->count);
  if (opt(c, 1, 1, 0) != 0) return fail(c, EI_E_UNSUPPORTED, -1, "shuffled weights format", NOVAL);
  if ((r = activation(c, opt(c, 0, 1, 0))) || (r = multipliers(c, w, nout, 0)) || (r = bias(c, nout))) return r;
  return 0;
}

static int prep_conv(prep_t *c, int depthwise) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 4)) || (r = want(c, 1, EI_T_INT8, 4)) || (r = want(c, -1, EI_T_INT8, 4))) return r;
  ei_tensor *in = tin(c, 0), *w = tin(c, 1), *out = &c->p->t[c->o->out];
  int32_t oc = depthwise ? w->dims[3] : w->dims[0];
  if (out->dims[0] != in->dims[0] || out->dims[3] != oc)
    return fail(c, EI_E_SHAPE, c->o->out, "output batch/channels disagree with input/filter", out->dims[3]);
  if (depthwise) {
    if (w->dims[0] != 1 || oc % in->dims[3])
      return fail(c, EI_E_SHAPE, c->o->in[1], "depthwise filter must be [1,h,w,in_ch*multiplier]", oc);
    c->o->depth_mult = oc / in->dims[3];
    int64_t dm = opt(c, 3, 4, c->o->depth_mult);
    if (dm != c->o->depth_mult) return fail(c, EI_E_SHAPE, -1, "depth_multiplier disagrees with the filter", dm);
  } else if (w->dims[3] != in->dims[3]) {
    return fail(c, EI_E_SHAPE, c->o->in[1], "filter depth differs from input channels", w->dims[3]);
  }
  int a = depthwise ? 4 : 3, dw = depthwise ? 5 : 4; /* option field ids differ */
  if ((r = padding_opt(c, opt(c, 0, 1, 0)))) return r;
  c->o->stride_w = (int32_t)opt(c, 1, 4, 0); /* schema default 0: refused */
  c->o->stride_h = (int32_t)opt(c, 2, 4, 0);
  c->o->dil_w = (int32_t)opt(c, dw, 4, 1);
  c->o->dil_h = (int32_t)opt(c, dw + 1, 4, 1);
  c->o->fh = w->dims[1];
  c->o->fw = w->dims[2];
  if ((r = window(c, in->dims[1], c->o->fh, c->o->stride_h, c->o->dil_h, out->dims[1], &c->o->pad_h, "bad filter height/stride/dilation")) ||
      (r = window(c, in->dims[2], c->o->fw, c->o->stride_w, c->o->dil_w, out->dims[2], &c->o->pad_w, "bad filter width/stride/dilation")))
    return r;
  if ((r = activation(c, opt(c, a, 1, 0))) || (r = multipliers(c, w, oc, depthwise ? 3 : 0)) || (r = bias(c, oc)))
    return r;
  return 0;
}

static int same_quant(prep_t *c, ei_tensor *a, ei_tensor *b) {
  if (a->scale != b->scale || a->zp != b->zp)
    return fail(c, EI_E_QUANT, c->o->out, "output quantization must equal the input's", NOVAL);
  return 0;
}

static int prep_pool(prep_t *c) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 4)) || (r = want(c, -1, EI_T_INT8, 4))) return r;
  ei_tensor *in = tin(c, 0), *out = &c->p->t[c->o->out];
  if (out->dims[0] != in->dims[0] || out->dims[3] != in->dims[3])
    return fail(c, EI_E_SHAPE, c->o->out, "pool output batch/channels differ from input", out->dims[3]);
  if ((r = same_quant(c, in, out)) || (r = padding_opt(c, opt(c, 0, 1, 0)))) return r;
  c->o->stride_w = (int32_t)opt(c, 1, 4, 0);
  c->o->stride_h = (int32_t)opt(c, 2, 4, 0);
  c->o->fw = (int32_t)opt(c, 3, 4, 0);
  c->o->fh = (int32_t)opt(c, 4, 4, 0);
  c->o->dil_w = c->o->dil_h = 1;
  if ((r = window(c, in->dims[1], c->o->fh, c->o->stride_h, 1, out->dims[1], &c->o->pad_h, "bad pool height/stride")) ||
      (r = window(c, in->dims[2], c->o->fw, c->o->stride_w, 1, out->dims[2], &c->o->pad_w, "bad pool width/stride")))
    return r;
  return activation(c, opt(c, 5, 1, 0));
}

/* Broadcast: shapes right-aligned to 4 dims, each dim equal or 1. */
static int broadcast_ok(prep_t *c) {
  ei_tensor *a = tin(c, 0), *b = tin(c, 1), *o = &c->p->t[c->o->out];
  if (a->ndim > 4 || b->ndim > 4 || o->ndim > 4) return fail(c, EI_E_SHAPE, c->o->out, "more than 4 dimensions", NOVAL);
  for (int i = 0; i < 4; i++) {
    int32_t da = i < 4 - a->ndim ? 1 : a->dims[i - (4 - a->ndim)];
    int32_t db = i < 4 - b->ndim ? 1 : b->dims[i - (4 - b->ndim)];
    int32_t dout = i < 4 - o->ndim ? 1 : o->dims[i - (4 - o->ndim)];
    if ((da != dout && da != 1) || (db != dout && db != 1) || (da != dout && db != dout))
      return fail(c, EI_E_SHAPE, c->o->out, "input shapes do not broadcast to the output", i);
  }
  return 0;
}

static int prep_binary(prep_t *c) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 0)) || (r = want(c, 1, EI_T_INT8, 0)) || (r = want(c, -1, EI_T_INT8, 0))) return r;
  if ((r = broadcast_ok(c))) return r;
  ei_tensor *a = tin(c, 0), *b = tin(c, 1), *o = &c->p->t[c->o->out];
  if (a->nscales != 1 || b->nscales != 1 || o->nscales != 1)
    return fail(c, EI_E_QUANT, c->o->out, "per-channel quantization on an elementwise op", NOVAL);
  if (!(c->o->mult = alloc(c, 12)) || !(c->o->shift = alloc(c, 12))) return fail(c, EI_E_ARENA, -1, "arena too small", NOVAL);
  int bad;
  if (c->o->kind == OP_MUL) {
    bad = ei_quantize_multiplier((double)a->scale * (double)b->scale / (double)o->scale, &c->o->mult[0], &c->o->shift[0]);
  } else {
    /* TFLite's int8 ADD: both inputs rescaled to twice the larger scale, in
     * 20 extra bits of headroom, summed, then rescaled to the output. */
    double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    c->o->left_shift = 20;
    bad = ei_quantize_multiplier((double)a->scale / twice_max, &c->o->mult[0], &c->o->shift[0]) |
          ei_quantize_multiplier((double)b->scale / twice_max, &c->o->mult[1], &c->o->shift[1]) |
          ei_quantize_multiplier(twice_max / ((double)(1 << 20) * (double)o->scale), &c->o->mult[2], &c->o->shift[2]);
  }
  if (bad) return fail(c, EI_E_QUANT, c->o->out, "requantization scale ratio out of range", NOVAL);
  return activation(c, opt(c, 0, 1, 0));
}

static int prep_reshape(prep_t *c) {
  ei_tensor *a = tin(c, 0), *o = &c->p->t[c->o->out];
  if (a->type != o->type || a->count != o->count)
    return fail(c, EI_E_SHAPE, c->o->out, "reshape changes the element count or type", o->count);
  if (a->type == EI_T_INT8 && (a->scale != o->scale || a->zp != o->zp))
    return fail(c, EI_E_QUANT, c->o->out, "reshape changes the quantization", NOVAL);
  return 0;
}

static int prep_quant(prep_t *c, int dequant) {
  int r;
  ei_tensor *a = tin(c, 0), *o = &c->p->t[c->o->out];
  if (a->count != o->count) return fail(c, EI_E_SHAPE, c->o->out, "element count differs from the input", o->count);
  if (dequant) return (r = want(c, 0, EI_T_INT8, 0)) ? r : want(c, -1, EI_T_FLOAT32, 0);
  if ((r = want(c, -1, EI_T_INT8, 0))) return r;
  if (a->type == EI_T_FLOAT32) return 0;
  if ((r = want(c, 0, EI_T_INT8, 0))) return r;
  if (!(c->o->mult = alloc(c, 4)) || !(c->o->shift = alloc(c, 4))) return fail(c, EI_E_ARENA, -1, "arena too small", NOVAL);
  if (ei_quantize_multiplier((double)a->scale / (double)o->scale, c->o->mult, c->o->shift) < 0)
    return fail(c, EI_E_QUANT, c->o->out, "requantization scale ratio out of range", NOVAL);
  return 0;
}

/* Each factor is < 2^26 (tensor sizes) or <= 2^16 (filters): no overflow
 * in 64 bits per op; the sum over at most 2^31 ops could, but saturates. */
static uint64_t op_work(const ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
  uint64_t n = out->count;
  switch (o->kind) {
  case OP_FULLY_CONNECTED: return n * (uint64_t)p->t[o->in[1]].dims[1];
  case OP_CONV_2D: return n * (uint64_t)o->fh * (uint64_t)o->fw * (uint64_t)in->dims[3];
  case OP_DEPTHWISE_CONV_2D: case OP_MAX_POOL_2D: case OP_AVERAGE_POOL_2D:
    return n * (uint64_t)o->fh * (uint64_t)o->fw;
  default: return n;
  }
}

/* TFLite's int8 LOGISTIC: the output is fixed at scale 1/256, zero point
 * -128; the input is rescaled to Q4.27, beyond +-15 it saturates. */
static int prep_logistic(prep_t *c) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 0)) || (r = want(c, -1, EI_T_INT8, 0))) return r;
  ei_tensor *in = tin(c, 0), *out = &c->p->t[c->o->out];
  if (in->count != out->count) return fail(c, EI_E_SHAPE, c->o->out, "element count differs from the input", out->count);
  if (out->scale != 1.0f / 256 || out->zp != -128)
    return fail(c, EI_E_QUANT, c->o->out, "LOGISTIC output must have scale 1/256 and zero point -128", out->zp);
  if (!(c->o->mult = alloc(c, 4)) || !(c->o->shift = alloc(c, 4))) return fail(c, EI_E_ARENA, -1, "arena too small", NOVAL);
  if (ei_quantize_multiplier((double)in->scale * (double)(1 << 27), c->o->mult, c->o->shift) < 0)
    return fail(c, EI_E_QUANT, c->o->in[0], "input scale out of range for LOGISTIC", NOVAL);
  double radius = 15.0 * (double)(1 << 27);
  for (int i = 0; i < *c->o->shift; i++) radius *= 0.5;
  for (int i = 0; i > *c->o->shift; i--) radius *= 2.0;
  c->o->left_shift = radius >= 2147483647.0 ? INT32_MAX : (int32_t)radius; /* floor: radius > 0 */
  return 0;
}

/* TFLite's reference int8 SOFTMAX over the last dimension: differences to
 * the row maximum scaled by beta into Q5.26, exps summed in Q12.19, the
 * reciprocal of the sum by 1/(1+x); output at scale 1/256, zero point -128. */
static int prep_softmax(prep_t *c) {
  int r;
  if ((r = want(c, 0, EI_T_INT8, 0)) || (r = want(c, -1, EI_T_INT8, 0))) return r;
  ei_tensor *in = tin(c, 0), *out = &c->p->t[c->o->out];
  if (in->count != out->count || in->ndim == 0) return fail(c, EI_E_SHAPE, c->o->out, "output shape differs from the input", out->count);
  if (in->dims[in->ndim - 1] > 4096) /* the Q12 sum of exps would overflow */
    return fail(c, EI_E_SHAPE, c->o->in[0], "SOFTMAX depth above 4096", in->dims[in->ndim - 1]);
  if (out->scale != 1.0f / 256 || out->zp != -128)
    return fail(c, EI_E_QUANT, c->o->out, "SOFTMAX output must have scale 1/256 and zero point -128", out->zp);
  int64_t raw = 0;
  if (c->has_opts && fb_scalar(&c->p->fb, &c->opts, 0, 4, 0, 0, &raw) < 0) return fail(c, EI_E_FORMAT, -1, "malformed beta", NOVAL);
  union { uint32_t u; float f; } beta = {(uint32_t)raw};
  double real = (double)beta.f * (double)in->scale * (double)(1 << 26);
  if (real > 2147483647.0) real = 2147483647.0;
  if (!(c->o->mult = alloc(c, 4)) || !(c->o->shift = alloc(c, 4))) return fail(c, EI_E_ARENA, -1, "arena too small", NOVAL);
  if (!(real >= 1.0) || ei_quantize_multiplier(real, c->o->mult, c->o->shift) < 0)
    return fail(c, EI_E_QUANT, c->o->in[0], "beta x input scale out of range for SOFTMAX", NOVAL);
  double radius = 31.0 * (double)(1 << 26);
  for (int i = 0; i < *c->o->shift; i++) radius *= 0.5;
  c->o->left_shift = -(int32_t)radius; /* diff_min */
  return 0;
}

int ei_op_prepare(ei_plan *p, uint32_t idx, const fb_table *ot, void **cur, uint8_t *end, ei_error *err) {
  prep_t c = {p, &p->ops[idx], (int)idx, {0, 0, 0, 0}, 0, cur, end, err};
  int r = fb_table_field(&p->fb, ot, 4, &c.opts);
  if (r < 0) return fail(&c, r, -1, "malformed builtin_options", NOVAL);
  c.has_opts = r;
  /* -1 (an omitted optional input) is valid only where an op allows it: the bias */
  if (c.o->in[0] < 0) return fail(&c, EI_E_SHAPE, -1, "missing first input", NOVAL);
  for (int k = 0; k < 3; k++)
    if (c.o->in[k] >= 0 && p->t[c.o->in[k]].bytes == 0) return fail(&c, EI_E_SHAPE, c.o->in[k], "empty tensor", NOVAL);
  switch (c.o->kind) {
  case OP_FULLY_CONNECTED: r = prep_fc(&c); break;
  case OP_CONV_2D: r = prep_conv(&c, 0); break;
  case OP_DEPTHWISE_CONV_2D: r = prep_conv(&c, 1); break;
  case OP_MAX_POOL_2D: case OP_AVERAGE_POOL_2D: r = prep_pool(&c); break;
  case OP_ADD: case OP_MUL: r = prep_binary(&c); break;
  case OP_RESHAPE: r = prep_reshape(&c); break;
  case OP_QUANTIZE: r = prep_quant(&c, 0); break;
  case OP_DEQUANTIZE: r = prep_quant(&c, 1); break;
  case OP_LOGISTIC: r = prep_logistic(&c); break;
  case OP_SOFTMAX: r = prep_softmax(&c); break;
  default: return fail(&c, EI_E_UNSUPPORTED, -1, "unsupported operator (builtin code)", c.o->kind);
  }
  if (r == 0) {
    uint64_t w = op_work(p, c.o);
    p->work = p->work + w < p->work ? UINT64_MAX : p->work + w;
  }
  return r;
}

/* ---- run ------------------------------------------------------------- */
static int8_t requant(const ei_op *o, uint32_t acc, int ch, int32_t out_zp) {
  int32_t v = ei_mul_qm((int32_t)acc, o->mult[ch], o->shift[ch]) + out_zp;
  return (int8_t)clamp(v, o->act_min, o->act_max);
}

/* sum of (x[i] + off) * w[i], wrapping like TFLite's int32.  Written as
 * sum(x*w) + off*sum(w) (equal modulo 2^32) so that the loop is a plain
 * int8 dot product the compiler can vectorize on the host. */
static uint32_t dot(const int8_t *x, const int8_t *w, uint32_t n, int32_t off) {
  uint32_t xw = 0, ws = 0;
  for (uint32_t i = 0; i < n; i++) {
    xw += (uint32_t)(x[i] * w[i]);
    ws += (uint32_t)w[i];
  }
  return xw + (uint32_t)off * ws;
}

static void run_fc(ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *w = &p->t[o->in[1]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data, *wd = (const int8_t *)w->data;
  int8_t *y = (int8_t *)out->data;
  int32_t nout = w->dims[0], depth = w->dims[1], in_off = -in->zp;
  uint32_t batches = in->count / (uint32_t)depth;
  for (uint32_t b = 0; b < batches; b++)
    for (int32_t u = 0; u < nout; u++) {
      uint32_t acc = o->bias ? (uint32_t)o->bias[u] : 0;
      const int8_t *xr = x + b * (uint32_t)depth, *wr = wd + (uint32_t)u * (uint32_t)depth;
      acc += dot(xr, wr, (uint32_t)depth, in_off);
      y[b * (uint32_t)nout + (uint32_t)u] = requant(o, acc, o->nmult > 1 ? u : 0, out->zp);
    }
}

/* The filter taps [*k0, *k1) that land inside an input of n along one axis
 * for output position `pos` (the window's first input is pos*stride - pad). */
static void taps(int32_t pos, int32_t stride, int32_t pad, int32_t dil, int32_t k, int32_t n, int32_t *k0,
                 int32_t *k1) {
  int32_t base = pos * stride - pad;
  *k0 = 0;
  *k1 = k;
  while (*k0 < k && base + *k0 * dil < 0) (*k0)++;
  while (*k1 > *k0 && base + (*k1 - 1) * dil >= n) (*k1)--;
}

/* CONV_2D, one output pixel for every output channel.  Along x the taps of
 * an undilated filter are contiguous in the input and in the filter (NHWC,
 * [oc, h, w, in]), so each filter row is one dot product of taps x C. */
static void conv_pixel(const ei_plan *p, const ei_op *o, int32_t n, int32_t oy, int32_t ox, int8_t *y) {
  const ei_tensor *in = &p->t[o->in[0]], *w = &p->t[o->in[1]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data, *wd = (const int8_t *)w->data;
  int32_t H = in->dims[1], W = in->dims[2], C = in->dims[3], OC = w->dims[0], in_off = -in->zp;
  int32_t ky0, ky1, kx0, kx1;
  taps(oy, o->stride_h, o->pad_h, o->dil_h, o->fh, H, &ky0, &ky1);
  taps(ox, o->stride_w, o->pad_w, o->dil_w, o->fw, W, &kx0, &kx1);
  int32_t iy0 = oy * o->stride_h - o->pad_h, ix0 = ox * o->stride_w - o->pad_w;
  for (int32_t oc = 0; oc < OC; oc++) {
    uint32_t acc = o->bias ? (uint32_t)o->bias[oc] : 0;
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const int8_t *row = x + (((size_t)n * H + (size_t)(iy0 + ky * o->dil_h)) * W) * C;
      const int8_t *pw = wd + ((size_t)oc * o->fh + (size_t)ky) * o->fw * C;
      if (o->dil_w == 1) {
        acc += dot(row + (size_t)(ix0 + kx0) * C, pw + (size_t)kx0 * C, (uint32_t)((kx1 - kx0) * C), in_off);
      } else {
        for (int32_t kx = kx0; kx < kx1; kx++)
          acc += dot(row + (size_t)(ix0 + kx * o->dil_w) * C, pw + (size_t)kx * C, (uint32_t)C, in_off);
      }
    }
    y[oc] = requant(o, acc, o->nmult > 1 ? oc : 0, out->zp);
  }
}

/* CONV_2D, one output pixel, when the window (fh x fw x C bytes) fits in
 * CONV_PATCH: the window is gathered into one contiguous patch, taps outside
 * the input holding the input's zero point (so that x + in_off = 0: they add
 * nothing, as a skipped tap), and each output channel is then one dot product
 * with its whole filter ([oc, h, w, in] is contiguous per oc). */
#define CONV_PATCH 512
static void conv_pixel_patch(const ei_plan *p, const ei_op *o, int32_t n, int32_t oy, int32_t ox, int8_t *y) {
  const ei_tensor *in = &p->t[o->in[0]], *w = &p->t[o->in[1]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data, *wd = (const int8_t *)w->data;
  int32_t H = in->dims[1], W = in->dims[2], C = in->dims[3], OC = w->dims[0];
  int32_t iy0 = oy * o->stride_h - o->pad_h, ix0 = ox * o->stride_w - o->pad_w;
  int8_t patch[CONV_PATCH], *d = patch;
  for (int32_t ky = 0; ky < o->fh; ky++) {
    int32_t iy = iy0 + ky * o->dil_h;
    for (int32_t kx = 0; kx < o->fw; kx++, d += C) {
      int32_t ix = ix0 + kx * o->dil_w;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
        for (int32_t c = 0; c < C; c++) d[c] = (int8_t)in->zp;
      } else {
        const int8_t *px = x + (((size_t)n * H + (size_t)iy) * W + (size_t)ix) * C;
        for (int32_t c = 0; c < C; c++) d[c] = px[c];
      }
    }
  }
  uint32_t k = (uint32_t)(d - patch);
  for (int32_t oc = 0; oc < OC; oc++) {
    uint32_t acc = o->bias ? (uint32_t)o->bias[oc] : 0;
    acc += dot(patch, wd + (size_t)oc * k, k, -in->zp);
    y[oc] = requant(o, acc, o->nmult > 1 ? oc : 0, out->zp);
  }
}

/* DEPTHWISE_CONV_2D, one output pixel: channels in blocks of DW_BLOCK
 * accumulators, so that the innermost loop runs along the channels (the
 * contiguous axis of both the input pixel and the filter tap). */
#define DW_BLOCK 64
static void dw_pixel(const ei_plan *p, const ei_op *o, int32_t n, int32_t oy, int32_t ox, int8_t *y) {
  const ei_tensor *in = &p->t[o->in[0]], *w = &p->t[o->in[1]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data, *wd = (const int8_t *)w->data;
  int32_t H = in->dims[1], W = in->dims[2], C = in->dims[3], OC = w->dims[3], in_off = -in->zp;
  int32_t mult = o->depth_mult, ky0, ky1, kx0, kx1;
  taps(oy, o->stride_h, o->pad_h, o->dil_h, o->fh, H, &ky0, &ky1);
  taps(ox, o->stride_w, o->pad_w, o->dil_w, o->fw, W, &kx0, &kx1);
  int32_t iy0 = oy * o->stride_h - o->pad_h, ix0 = ox * o->stride_w - o->pad_w;
  uint32_t acc[DW_BLOCK];
  for (int32_t c0 = 0; c0 < OC; c0 += DW_BLOCK) {
    int32_t nc = OC - c0 < DW_BLOCK ? OC - c0 : DW_BLOCK;
    for (int32_t j = 0; j < nc; j++) acc[j] = o->bias ? (uint32_t)o->bias[c0 + j] : 0;
    for (int32_t ky = ky0; ky < ky1; ky++)
      for (int32_t kx = kx0; kx < kx1; kx++) {
        const int8_t *px = x + (((size_t)n * H + (size_t)(iy0 + ky * o->dil_h)) * W +
                                (size_t)(ix0 + kx * o->dil_w)) * C;
        const int8_t *pw = wd + ((size_t)ky * o->fw + (size_t)kx) * OC + (size_t)c0;
        if (mult == 1) {
          for (int32_t j = 0; j < nc; j++) acc[j] += (uint32_t)((px[c0 + j] + in_off) * pw[j]);
        } else {
          for (int32_t j = 0; j < nc; j++) acc[j] += (uint32_t)((px[(c0 + j) / mult] + in_off) * pw[j]);
        }
      }
    for (int32_t j = 0; j < nc; j++) y[c0 + j] = requant(o, acc[j], o->nmult > 1 ? c0 + j : 0, out->zp);
  }
}

static void run_conv(ei_plan *p, const ei_op *o, int depthwise) {
  const ei_tensor *out = &p->t[o->out];
  int8_t *y = (int8_t *)out->data;
  int32_t N = out->dims[0], OH = out->dims[1], OW = out->dims[2], OC = out->dims[3];
  const ei_tensor *w = &p->t[o->in[1]];
  int patch = !depthwise && (int64_t)w->dims[1] * w->dims[2] * w->dims[3] <= CONV_PATCH;
  for (int32_t n = 0; n < N; n++)
    for (int32_t oy = 0; oy < OH; oy++)
      for (int32_t ox = 0; ox < OW; ox++, y += OC) {
        if (depthwise)
          dw_pixel(p, o, n, oy, ox, y);
        else if (patch)
          conv_pixel_patch(p, o, n, oy, ox, y);
        else
          conv_pixel(p, o, n, oy, ox, y);
      }
}

static void run_pool(ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data;
  int8_t *y = (int8_t *)out->data;
  int32_t H = in->dims[1], W = in->dims[2], C = in->dims[3];
  size_t i = 0;
  for (int32_t n = 0; n < out->dims[0]; n++)
    for (int32_t oy = 0; oy < out->dims[1]; oy++)
      for (int32_t ox = 0; ox < out->dims[2]; ox++)
        for (int32_t ch = 0; ch < C; ch++, i++) {
          int32_t y0 = oy * o->stride_h - o->pad_h, x0 = ox * o->stride_w - o->pad_w;
          int32_t ys = y0 < 0 ? 0 : y0, ye = y0 + o->fh > H ? H : y0 + o->fh;
          int32_t xs = x0 < 0 ? 0 : x0, xe = x0 + o->fw > W ? W : x0 + o->fw;
          int32_t sum = 0, mx = -128, cnt = 0;
          for (int32_t iy = ys; iy < ye; iy++)
            for (int32_t ix = xs; ix < xe; ix++) {
              int32_t v = x[(((size_t)n * H + (size_t)iy) * W + (size_t)ix) * C + (size_t)ch];
              sum += v;
              mx = v > mx ? v : mx;
              cnt++;
            }
          int32_t r = mx;
          if (o->kind == OP_AVERAGE_POOL_2D)
            r = cnt == 0 ? 0 : sum > 0 ? (sum + cnt / 2) / cnt : (sum - cnt / 2) / cnt;
          y[i] = (int8_t)clamp(r, o->act_min, o->act_max);
        }
}

/* Index into a broadcast operand for output coordinate (d0..d3). */
static size_t bc_index(const ei_tensor *t, const int32_t idx[4]) {
  size_t off = 0;
  for (int i = 0; i < 4; i++) {
    int32_t d = i < 4 - t->ndim ? 1 : t->dims[i - (4 - t->ndim)];
    off = off * (size_t)d + (size_t)(d == 1 ? 0 : idx[i]);
  }
  return off;
}

static int8_t binary_one(const ei_plan *p, const ei_op *o, int32_t a, int32_t b) {
  const ei_tensor *ta = &p->t[o->in[0]], *tb = &p->t[o->in[1]], *to = &p->t[o->out];
  int32_t v;
  if (o->kind == OP_MUL) {
    v = ei_mul_qm((a - ta->zp) * (b - tb->zp), o->mult[0], o->shift[0]);
  } else {
    int32_t sa = ei_mul_qm((a - ta->zp) * (1 << o->left_shift), o->mult[0], o->shift[0]);
    int32_t sb = ei_mul_qm((b - tb->zp) * (1 << o->left_shift), o->mult[1], o->shift[1]);
    v = ei_mul_qm(sa + sb, o->mult[2], o->shift[2]);
  }
  return (int8_t)clamp(v + to->zp, o->act_min, o->act_max);
}

static void run_binary(ei_plan *p, const ei_op *o) {
  const ei_tensor *ta = &p->t[o->in[0]], *tb = &p->t[o->in[1]], *to = &p->t[o->out];
  const int8_t *a = (const int8_t *)ta->data, *b = (const int8_t *)tb->data;
  int8_t *y = (int8_t *)to->data;
  int32_t od[4], idx[4];
  for (int i = 0; i < 4; i++) od[i] = i < 4 - to->ndim ? 1 : to->dims[i - (4 - to->ndim)];
  size_t k = 0;
  for (idx[0] = 0; idx[0] < od[0]; idx[0]++)
    for (idx[1] = 0; idx[1] < od[1]; idx[1]++)
      for (idx[2] = 0; idx[2] < od[2]; idx[2]++)
        for (idx[3] = 0; idx[3] < od[3]; idx[3]++, k++)
          y[k] = binary_one(p, o, a[bc_index(ta, idx)], b[bc_index(tb, idx)]);
}

static float load_f32(const uint8_t *s) {
  union { uint32_t u; float f; } c = {(uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24};
  return c.f;
}

static void store_f32(uint8_t *d, float f) {
  union { float f; uint32_t u; } c = {f};
  for (int i = 0; i < 4; i++) d[i] = (uint8_t)(c.u >> (8 * i));
}

static void run_quant(ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
  for (uint32_t i = 0; i < out->count; i++) {
    if (o->kind == OP_DEQUANTIZE) {
      double v = (double)in->scale * (double)((int8_t)in->data[i] - in->zp);
      store_f32(out->data + 4 * i, (float)v);
    } else if (in->type == EI_T_FLOAT32) {
      int32_t q = ei_roundf(load_f32(in->data + 4 * i) / out->scale);
      q = q > 1000 ? 1000 : q < -1000 ? -1000 : q; /* keep + zp inside int32 */
      out->data[i] = (uint8_t)(int8_t)clamp(q + out->zp, -128, 127);
    } else {
      int32_t v = ei_mul_qm((int8_t)in->data[i] - in->zp, o->mult[0], o->shift[0]) + out->zp;
      out->data[i] = (uint8_t)(int8_t)clamp(v, -128, 127);
    }
  }
}

static void run_logistic(ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
  int32_t radius = o->left_shift; /* the input range radius, see prep_logistic */
  for (uint32_t i = 0; i < out->count; i++) {
    int32_t x = (int8_t)in->data[i] - in->zp, y;
    if (x <= -radius) y = -128;
    else if (x >= radius) y = 127;
    else y = clamp(ei_rdivpot(logistic_q4(ei_mul_qm(x, o->mult[0], o->shift[0])), 23) - 128, -128, 127);
    out->data[i] = (uint8_t)(int8_t)y;
  }
}

static void run_softmax(ei_plan *p, const ei_op *o) {
  const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
  const int8_t *x = (const int8_t *)in->data;
  int8_t *y = (int8_t *)out->data;
  uint32_t depth = (uint32_t)in->dims[in->ndim - 1], rows = in->count / depth;
  int32_t diff_min = o->left_shift;
  for (uint32_t r = 0; r < rows; r++, x += depth, y += depth) {
    int32_t mx = -128, sum = 0;
    for (uint32_t i = 0; i < depth; i++) mx = x[i] > mx ? x[i] : mx;
    for (uint32_t i = 0; i < depth; i++)
      if (x[i] - mx >= diff_min) sum += ei_rdivpot(exp_negative(ei_mul_qm(x[i] - mx, o->mult[0], o->shift[0]), 5), 12);
    int bits_over_unit = 12 - __builtin_clz((uint32_t)sum); /* sum >= exp(0) in Q12 > 0 */
    int32_t scale = one_over_one_plus((int32_t)(((uint32_t)sum << (12 - bits_over_unit)) - (1u << 31)));
    for (uint32_t i = 0; i < depth; i++) {
      int32_t v = -128;
      if (x[i] - mx >= diff_min) {
        int32_t e = exp_negative(ei_mul_qm(x[i] - mx, o->mult[0], o->shift[0]), 5);
        v = clamp(ei_rdivpot(ei_srdhm(scale, e), bits_over_unit + 23) - 128, -128, 127);
      }
      y[i] = (int8_t)v;
    }
  }
}

void ei_op_run(ei_plan *p, const ei_op *o) {
  switch (o->kind) {
  case OP_FULLY_CONNECTED: run_fc(p, o); break;
  case OP_CONV_2D: run_conv(p, o, 0); break;
  case OP_DEPTHWISE_CONV_2D: run_conv(p, o, 1); break;
  case OP_MAX_POOL_2D: case OP_AVERAGE_POOL_2D: run_pool(p, o); break;
  case OP_ADD: case OP_MUL: run_binary(p, o); break;
  case OP_QUANTIZE: case OP_DEQUANTIZE: run_quant(p, o); break;
  case OP_LOGISTIC: run_logistic(p, o); break;
  case OP_SOFTMAX: run_softmax(p, o); break;
  case OP_RESHAPE: {
    const ei_tensor *in = &p->t[o->in[0]], *out = &p->t[o->out];
    for (uint32_t i = 0; i < out->bytes; i++) out->data[i] = in->data[i];
    break;
  }
  default: break;
  }
}
