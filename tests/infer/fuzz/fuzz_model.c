/* fuzz_model.c - libFuzzer target of the inference library's model reader
 * and planner (src/infer): arbitrary bytes as a .tflite model.  Every input
 * is either refused with an error code and a message, or planned and run
 * once on a zero input; nothing may read or write outside the model copy
 * (malloc'd at its exact size, so ASan sees an overread) or the arena.
 * Built by run.sh with clang -fsanitize=fuzzer,address,undefined. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* malloc aligns to 16, as the library requires of a model (4) */
  uint8_t *model = malloc(size ? size : 1);
  memcpy(model, data, size);
  /* a small arena: the planner's own limits (arena exhaustion) get exercised */
  size_t arena_size = 64u << 10;
  uint8_t *arena = malloc(arena_size);
  ei_plan *plan;
  ei_error err = {0, 0, 0, {0}};
  int r = ei_plan_build(model, size, arena, arena_size, &plan, &err);
  if (r != EI_OK) {
    if (r != err.code || err.msg[0] == 0) abort(); /* a refusal says why */
  } else {
    size_t in = ei_input_bytes(plan), out = ei_output_bytes(plan);
    if (in <= arena_size && out <= arena_size) {
      uint8_t *ib = calloc(1, in ? in : 1), *ob = malloc(out ? out : 1);
      if (ei_run(plan, ib, in, ob, out, &err) != EI_OK) abort();
      free(ib);
      free(ob);
    }
  }
  free(arena);
  free(model);
  return 0;
}
