/* infer.h - public API of edgecr's int8 inference library (prefix ei_).
 *
 * Portable C11 with no OS dependency and no allocator: everything the
 * library keeps (the parsed plan of a model, its activations) lives in an
 * arena the caller provides.  Models are TensorFlow Lite flatbuffers read in
 * place by a bounds-checked reader (fb.c): the model's bytes are never
 * trusted, every offset, vtable, vector and buffer is checked before use.
 * The plan keeps pointers to the constant weights inside the model, so the
 * model's bytes must stay mapped while the plan is used; they may change
 * (a tenant owns them) without any access leaving them or the arena, since
 * all sizes and indices come from the checked plan, never re-read.
 *
 * Life cycle:
 *   ei_plan_build()  parse + check the model, lay out the plan in the arena
 *   ei_run()         run it: inputs and outputs are the model's input and
 *                    output tensors, concatenated in the subgraph's order
 * Errors: a negative EI_E_* code and ei_error naming the op (or tensor)
 * index and the reason. */
#ifndef EDGECR_INFER_H
#define EDGECR_INFER_H

#include <stddef.h>
#include <stdint.h>

enum {
  EI_OK = 0,
  EI_E_TRUNCATED = -1,   /* an offset, vector or string leaves the model's bytes */
  EI_E_FORMAT = -2,      /* malformed flatbuffer (vtable, alignment, missing field) */
  EI_E_UNSUPPORTED = -3, /* op, type, option or layout this library does not run */
  EI_E_SHAPE = -4,       /* shapes disagree with the op or overflow the limits */
  EI_E_QUANT = -5,       /* missing or invalid quantization parameters */
  EI_E_ARENA = -6,       /* the arena is too small */
  EI_E_GRAPH = -7,       /* tensor written twice, read before written, aliasing */
  EI_E_ARG = -8,         /* caller's input/output size does not match the model */
};

typedef struct ei_error {
  int code;    /* EI_E_* */
  int op;      /* index of the operator at fault, -1 when none */
  int tensor;  /* index of the tensor at fault, -1 when none */
  char msg[160];
} ei_error;

/* Limits of the plan: a model beyond them is refused with EI_E_SHAPE. */
#define EI_MAX_DIMS 6
#define EI_MAX_ELEMS (1u << 26) /* per tensor */

typedef struct ei_plan ei_plan;

/* Parse `model` (len bytes, 4-byte aligned) into a plan in `arena`
 * (arena_size bytes, any alignment).  Returns EI_OK and *out, or a negative
 * EI_E_* code with *err filled. */
int ei_plan_build(const uint8_t *model, size_t len, void *arena, size_t arena_size,
                  ei_plan **out, ei_error *err);

/* Total bytes of the model's inputs and outputs, in the subgraph's order. */
size_t ei_input_bytes(const ei_plan *p);
size_t ei_output_bytes(const ei_plan *p);
/* Arena bytes the plan and its activations use. */
size_t ei_arena_used(const ei_plan *p);

/* Work of one ei_run, counted at plan time so a caller can refuse a model
 * beyond its compute budget before running it: multiply-accumulates of
 * FULLY_CONNECTED/CONV_2D/DEPTHWISE_CONV_2D, window elements of the pools,
 * and one per output element of every other op. */
uint64_t ei_plan_work(const ei_plan *p);

/* The i-th byte range [*off, *off + *len) of the model that ei_run reads
 * in place: the constant weights of FULLY_CONNECTED, CONV_2D and
 * DEPTHWISE_CONV_2D (one range per such op, in op order; shared weights
 * repeat).  Returns 1, or 0 past the last.  The plan depends on those
 * bytes only through the run, which reads them afresh; it may depend on any
 * other byte.  So a caller that keeps a plan while the model's bytes may
 * change (svc_infer.c) knows the plan is still the model's if the bytes
 * outside these ranges are unchanged: a change inside them is seen by the
 * next run exactly as a new plan would see it. */
int ei_plan_weights(const ei_plan *p, uint32_t i, uint32_t *off, uint32_t *len);

/* Run the plan once.  in_len/out_len must equal ei_input_bytes/ei_output_bytes. */
int ei_run(ei_plan *p, const void *input, size_t in_len, void *output, size_t out_len,
           ei_error *err);

#endif
