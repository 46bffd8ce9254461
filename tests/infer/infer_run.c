/* infer_run.c - test driver of the inference library (tests/infer).
 *
 * infer_run [-a ARENA_BYTES] MODEL.tflite INPUT.bin
 * Builds the plan in a heap arena of exactly ARENA_BYTES (default 4 MiB,
 * so that ASan sees any access past it), runs it on INPUT.bin and prints
 * "ok <hex of the output bytes>", then "arena <bytes used>" and "work
 * <ei_plan_work>"; on error prints "error <code> op <i>
 * tensor <j>: <message>" and exits 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* exactly n bytes (at least 1 so malloc is real): ASan flags any overread */
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  if (!b || (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n)) { perror(path); exit(1); }
  fclose(f);
  *len = (size_t)n;
  return b;
}

int main(int argc, char **argv) {
  size_t arena_size = 4u << 20;
  int a = 1;
  if (argc > 2 && strcmp(argv[1], "-a") == 0) { arena_size = strtoul(argv[2], 0, 0); a = 3; }
  if (argc - a != 2) { fprintf(stderr, "usage: infer_run [-a BYTES] MODEL INPUT\n"); return 1; }
  size_t mlen, ilen;
  unsigned char *model = slurp(argv[a], &mlen), *input = slurp(argv[a + 1], &ilen);
  void *arena = malloc(arena_size ? arena_size : 1);
  ei_plan *plan;
  ei_error err;
  int r = ei_plan_build(model, mlen, arena, arena_size, &plan, &err);
  if (r == EI_OK) {
    size_t olen = ei_output_bytes(plan);
    unsigned char *out = malloc(olen ? olen : 1);
    r = ei_run(plan, input, ilen, out, olen, &err);
    if (r == EI_OK) {
      printf("ok ");
      for (size_t i = 0; i < olen; i++) printf("%02x", out[i]);
      printf("\narena %zu\nwork %llu\n", ei_arena_used(plan), (unsigned long long)ei_plan_work(plan));
    }
    free(out);
  }
  if (r != EI_OK) printf("error %d op %d tensor %d: %s\n", err.code, err.op, err.tensor, err.msg);
  free(arena);
  free(model);
  free(input);
  return r == EI_OK ? 0 : 2;
}
