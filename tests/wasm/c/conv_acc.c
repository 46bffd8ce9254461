/* conv_acc.c - regression program for the engine's accumulator bookkeeping
 * (tests/wasm/test_engine_regress.py): src/infer's CONV_2D kernel reduced
 * (first found by the inference benchmark).  Under clang
 * --target=wasm32-wasi -O1, -O2 and -Os its inner dot product has two
 * indexed i8 loads in a row, the second one's value kept in local 4; the
 * compiler fused the loads into one op and, from a stale note about the
 * address add it absorbed, made the next i32.load read its address from the
 * accumulator register: `edgecr wasm run` trapped (out of bounds) where the
 * native build and V8 print the hash.  The program must print the same hash
 * as its native build.
 *
 * The original header follows. */
/* wasm_engine_repro.c - a program edgecr's WebAssembly engine runs wrongly:
 * built with `clang --target=wasm32-wasi -O2` (also -O1, -Os; not -O0, -O3),
 * `edgecr wasm run` traps (exit 134) while node (V8) and the native build
 * print the same hash.  Reduced from src/infer's CONV_2D kernel (kernels.c,
 * run_conv + conv_pixel inlined into it) for the owner of src/wasm; not a
 * benchmark and not built by anything.
 *   clang --target=wasm32-wasi -O2 wasm_engine_repro.c -o r.wasm
 *   edgecr wasm run r.wasm        # traps; node with WASI prints the hash */
#include <stddef.h>
#include <stdint.h>
#define EI_MAX_DIMS 6
typedef struct {
  const uint8_t *buf;
  uint32_t len;
} fb_buf;

typedef struct { /* a checked vector */
  uint32_t data; /* first element */
  uint32_t n;
} fb_vec;

typedef struct {
  uint8_t type, ndim, is_const, written;
  int32_t dims[EI_MAX_DIMS];
  uint32_t count, bytes;
  uint8_t *data;      /* activations in the arena, constants in the model */
  float scale;        /* per-tensor (or first channel) */
  int32_t zp;
  uint32_t nscales;   /* >1: per-channel along qdim */
  int32_t qdim;
  fb_vec scales;      /* the per-channel scale vector, in the model */
} ei_tensor;

typedef struct {
  uint8_t kind; /* BuiltinOperator code */
  uint8_t act;
  uint8_t same_pad;
  int16_t in[3];
  int16_t out;
  int32_t stride_w, stride_h, dil_w, dil_h, fw, fh, depth_mult;
  int32_t pad_w, pad_h;
  int32_t act_min, act_max;
  int32_t nmult;  /* entries of mult/shift */
  int32_t *mult, *shift;
  int32_t *bias;  /* copied from the model (alignment-free), or NULL */
  int32_t left_shift;
} ei_op;

typedef struct ei_plan ei_plan;
struct ei_plan {
  const fb_buf *model;
  fb_buf fb;
  ei_tensor *t;
  ei_op *ops;
  int32_t *inputs, *outputs;
  uint32_t ntensors, nops, ninputs, noutputs;
  size_t in_bytes, out_bytes, used;
  uint64_t work;
};

#include <stddef.h>
static uint32_t dot(const int8_t *x, const int8_t *w, uint32_t n, int32_t off) {
  uint32_t xw = 0, ws = 0;
  for (uint32_t i = 0; i < n; i++) {
    xw += (uint32_t)(x[i] * w[i]);
    ws += (uint32_t)w[i];
  }
  return xw + (uint32_t)off * ws;
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
  const ei_tensor *in = &p->t[o->in[0]], *w = &p->t[o->in[1]];
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
    y[oc] = (int8_t)(acc >> 4);
  }
}


__attribute__((noinline)) static void run_conv(ei_plan *p, const ei_op *o, int depthwise) {
  const ei_tensor *out = &p->t[o->out];
  int8_t *y = (int8_t *)out->data;
  int32_t N = out->dims[0], OH = out->dims[1], OW = out->dims[2], OC = out->dims[3];
  for (int32_t n = 0; n < N; n++)
    for (int32_t oy = 0; oy < OH; oy++)
      for (int32_t ox = 0; ox < OW; ox++, y += OC) {
        conv_pixel(p, o, n, oy, ox, y);
      }
}


#include <stdio.h>
#include <stdlib.h>
static ei_tensor T[4];
static ei_op O;
static ei_plan P;
static int32_t mult[32], shift[32], biasv[32];
int main(int argc, char **argv) {
  (void)argv;
  int H = 16, W = 16, C = 16, OC = 32;
  int8_t *x = malloc(H*W*C), *w = malloc(OC*9*C), *y = malloc(H*W*OC);
  for (int i = 0; i < H*W*C; i++) x[i] = (int8_t)(i*7+3);
  for (int i = 0; i < OC*9*C; i++) w[i] = (int8_t)(i*13+1);
  int32_t d0[4] = {1,H,W,C}, d1[4] = {OC,3,3,C}, d3[4] = {1,H,W,OC};
  for (int k = 0; k < 4; k++) { T[0].dims[k] = d0[k]; T[1].dims[k] = d1[k]; T[3].dims[k] = d3[k]; }
  T[0].data = (uint8_t*)x; T[1].data = (uint8_t*)w; T[3].data = (uint8_t*)y; T[0].zp = 1; T[3].zp = -128;
  for (int i = 0; i < OC; i++) { mult[i] = 1200000000 + i; shift[i] = -8; biasv[i] = i * 100 - 1000; }
  O.in[0] = 0; O.in[1] = 1; O.in[2] = 2; O.out = 3; O.stride_w = O.stride_h = 1; O.dil_w = O.dil_h = 1;
  O.fw = O.fh = 3; O.pad_w = O.pad_h = argc; O.act_min = -128; O.act_max = 127; O.nmult = OC;
  O.mult = mult; O.shift = shift; O.bias = biasv;
  P.t = T;
  run_conv(&P, &O, 0);
  uint32_t h = 2166136261u;
  for (int i = 0; i < H*W*OC; i++) h = (h ^ (uint8_t)y[i]) * 16777619u;
  printf("%08x\n", h);
  return 0;
}
