/* bench_infer.c - time the int8 inference library (src/infer) on one model.
 *
 * The same source is built twice by bench/infer/run.sh: natively (the code
 * the host service runs) and for wasm32-wasi with clang, together with
 * src/infer itself, to run inside `edgecr wasm run` (the same kernels, in
 * the tenant).  Usage:
 *   bench_infer MODEL.tflite INPUT.bin [MIN_MS [OUTPUT.bin]]
 * Builds the plan once (timed), runs it once to warm up, then in 5 batches
 * of runs each lasting at least MIN_MS (default 200) and prints the best
 * batch's time per run:
 *   plan_ns P run_ns R runs N work W out <FNV-1a of the output bytes>
 * The checksum lets run.sh check that every way computes the same output;
 * OUTPUT.bin, when given, receives the output bytes (for Arm NN's side). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "infer.h"

static uint8_t *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(n > 0 ? (size_t) n : 1);   /* malloc: 8-aligned, the model needs 4 */
  if (b == NULL || (n > 0 && fread(b, 1, (size_t) n, f) != (size_t) n)) { perror(path); exit(1); }
  fclose(f);
  *len = (size_t) n;
  return b;
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

int main(int argc, char **argv)
{
  if (argc < 3) { fprintf(stderr, "usage: bench_infer MODEL INPUT [MIN_MS]\n"); return 1; }
  uint64_t min_ns = (argc > 3 ? strtoull(argv[3], NULL, 10) : 200) * 1000000u;
  size_t mlen, ilen;
  uint8_t *model = slurp(argv[1], &mlen), *input = slurp(argv[2], &ilen);
  size_t arena_size = 1u << 20;
  void *arena = malloc(arena_size);
  ei_plan *plan;
  ei_error err;
  uint64_t t0 = now_ns();
  if (ei_plan_build(model, mlen, arena, arena_size, &plan, &err) != EI_OK) {
    printf("error %d op %d: %s\n", err.code, err.op, err.msg);
    return 2;
  }
  uint64_t plan_ns = now_ns() - t0;
  size_t olen = ei_output_bytes(plan);
  uint8_t *out = malloc(olen ? olen : 1);
  if (ei_run(plan, input, ilen, out, olen, &err) != EI_OK) {
    printf("error %d op %d: %s\n", err.code, err.op, err.msg);
    return 2;
  }
  uint64_t best = UINT64_MAX, runs = 0;
  for (int batch = 0; batch < 5; batch++) {
    uint64_t n = 0, start = now_ns(), el;
    do {
      ei_run(plan, input, ilen, out, olen, &err);
      n++;
      el = now_ns() - start;
    } while (el < min_ns);
    if (el / n < best) best = el / n;
    runs += n;
  }
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < olen; i++) h = (h ^ out[i]) * 16777619u;
  if (argc > 4) {
    FILE *f = fopen(argv[4], "wb");
    if (f == NULL || fwrite(out, 1, olen, f) != olen || fclose(f) != 0) { perror(argv[4]); return 1; }
  }
  printf("plan_ns %llu run_ns %llu runs %llu work %llu out %08x\n", (unsigned long long) plan_ns,
         (unsigned long long) best, (unsigned long long) runs, (unsigned long long) ei_plan_work(plan), h);
  return 0;
}
