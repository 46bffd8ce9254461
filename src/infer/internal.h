/* internal.h - shared internals of the inference library: the checked
 * flatbuffer reader (fb.c), the plan layout (plan.c) and the int8 kernels
 * with TFLite's fixed-point arithmetic (kernels.c). */
#ifndef EDGECR_INFER_INTERNAL_H
#define EDGECR_INFER_INTERNAL_H

#include "infer.h"

/* ---- flatbuffer reader: every accessor checks against fb.len ---------- */
typedef struct {
  const uint8_t *buf;
  uint32_t len;
} fb_buf;

typedef struct {    /* a checked table */
  uint32_t pos;     /* table start */
  uint32_t vt;      /* its vtable */
  uint16_t vt_size; /* bytes of the vtable */
  uint16_t obj_size;
} fb_table;

typedef struct { /* a checked vector */
  uint32_t data; /* first element */
  uint32_t n;
} fb_vec;

uint32_t fb_u32(const fb_buf *b, uint32_t off); /* caller checked the range */
int fb_root(const fb_buf *b, fb_table *t);
/* Scalar field `id` of `size` bytes into *out (little endian, sign-extended
 * when `sign`); absent fields give `def`.  Returns <0 on a malformed field. */
int fb_scalar(const fb_buf *b, const fb_table *t, int id, int size, int sign, int64_t def,
              int64_t *out);
/* Offset fields: 0 = absent (out untouched), 1 = present, <0 = malformed. */
int fb_table_field(const fb_buf *b, const fb_table *t, int id, fb_table *out);
int fb_vec_field(const fb_buf *b, const fb_table *t, int id, uint32_t elem_size, fb_vec *out);
int fb_vec_table(const fb_buf *b, const fb_vec *v, uint32_t i, fb_table *out);
int32_t fb_vec_i32(const fb_buf *b, const fb_vec *v, uint32_t i);
int64_t fb_vec_i64(const fb_buf *b, const fb_vec *v, uint32_t i);
float fb_vec_f32(const fb_buf *b, const fb_vec *v, uint32_t i);

/* ---- plan ------------------------------------------------------------- */
enum { EI_T_FLOAT32 = 0, EI_T_INT32 = 2, EI_T_INT8 = 9 };
enum { EI_ACT_NONE = 0, EI_ACT_RELU = 1, EI_ACT_RELU_N1_TO_1 = 2, EI_ACT_RELU6 = 3 };

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

/* BuiltinOperator codes of the TFLite schema */
enum {
  OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONV_2D = 3, OP_DEPTHWISE_CONV_2D = 4,
  OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17,
  OP_MUL = 18, OP_RESHAPE = 22, OP_SOFTMAX = 25, OP_QUANTIZE = 114,
};

int ei_err(ei_error *err, int code, int op, int tensor, const char *reason, long long val);
/* the same, naming the op's type after its index: "op 3: CONV_2D: ..." */
int ei_err_named(ei_error *err, int code, int op, const char *opname, int tensor, const char *reason,
                 long long val);
const char *ei_op_name(int kind); /* NULL for an op this library does not run */

/* ---- fixed-point requantization (TFLite's integer semantics) ---------- */
int32_t ei_srdhm(int32_t a, int32_t b);              /* SaturatingRoundingDoublingHighMul */
int32_t ei_rdivpot(int32_t x, int exponent);         /* RoundingDivideByPOT */
int32_t ei_mul_qm(int32_t x, int32_t mult, int shift); /* MultiplyByQuantizedMultiplier */
int ei_quantize_multiplier(double real, int32_t *mult, int32_t *shift); /* <0: out of range */
int32_t ei_roundf(float x);                          /* half away from zero, saturating */

/* kernels.c: prepare computes derived params, run executes one op. */
int ei_op_prepare(ei_plan *p, uint32_t idx, const fb_table *ot, void **arena_cur, uint8_t *arena_end,
                  ei_error *err);
void ei_op_run(ei_plan *p, const ei_op *o);

#endif
