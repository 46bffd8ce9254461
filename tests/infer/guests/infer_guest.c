/* infer_guest.c - a test and benchmark tenant for the `infer` service: it
 * reads a model and an input from files (WASI, `--dir`), calls
 * edgecr_infer on them as told by its command line and prints what each
 * call returned, so tests/infer/test_svc_infer.py sees results, limits and
 * refusals as the guest does, and bench/infer/run.sh times the service
 * from inside a tenant.
 *
 *   infer_guest MODEL INPUT OUT_BYTES OP...
 *   run            one call: "run RC HEX-OF-OUTPUT"
 *   bench MIN_MS   calls in 5 batches of >= MIN_MS (edgecr_clock_now):
 *                  "bench RC run_ns N out FNV" (the best batch)
 *   poke OFF VAL   model byte OFF = VAL (the tenant rewrites its model in place)
 *   misalign       the model copied 1 byte off its 4-byte alignment, one call
 *   oob            the model's range past the end of memory, one call
 *   shortout       an output buffer one byte short, one call
 *   sleep MS       edgecr_sleep_until now + MS (reports are one per second)
 *   copies K       K copies of the model, each at its own place (so each is
 *                  its own entry of the plan cache)
 *   runcopy I      one call on copy I: "runcopy I RC"
 *   sweep VALUE    for every 4-byte word of the model in turn, a copy with
 *                  that word = VALUE, one call each (at the same place, so
 *                  the plan cache sees a changed model every time):
 *                  "sweep ok=N model=N inval=N other=N" */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgecr/guest.h"

static uint8_t *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = aligned_alloc(16, (size_t) n + 16);
  if (b == NULL || fread(b, 1, (size_t) n, f) != (size_t) n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  *len = (size_t) n;
  return b;
}

static void hex(const uint8_t *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: infer_guest MODEL INPUT OUT_BYTES OP...\n");
    return 1;
  }
  size_t ml, il;
  uint8_t *model = slurp(argv[1], &ml), *in = slurp(argv[2], &il);
  size_t ol = (size_t) atoi(argv[3]);
  uint8_t *out = calloc(1, ol + 1);
  uint8_t *copy[16];
  int ncopies = 0;
  for (int i = 4; i < argc; i++) {
    const char *op = argv[i];
    if (strcmp(op, "run") == 0) {
      int32_t rc = edgecr_infer(model, ml, in, il, out, ol);
      printf("run %d ", (int) rc);
      hex(out, ol);
      printf("\n");
    } else if (strcmp(op, "bench") == 0 && i + 1 < argc) {
      int64_t min_ns = (int64_t) atoi(argv[++i]) * 1000000, best = INT64_MAX;
      int32_t rc = edgecr_infer(model, ml, in, il, out, ol);
      long runs = 0;
      for (int b = 0; b < 5 && rc == EDGECR_OK; b++) {
        int64_t t0 = edgecr_clock_now(), el;
        long n = 0;
        do {
          rc = edgecr_infer(model, ml, in, il, out, ol);
          n++;
          el = edgecr_clock_now() - t0;
        } while (el < min_ns && rc == EDGECR_OK);
        if (el / n < best)
          best = el / n;
        runs += n;
      }
      uint32_t h = 2166136261u;
      for (size_t k = 0; k < ol; k++)
        h = (h ^ out[k]) * 16777619u;
      printf("bench %d run_ns %lld runs %ld out %08x\n", (int) rc, (long long) best, runs, (unsigned) h);
    } else if (strcmp(op, "poke") == 0 && i + 2 < argc) {
      size_t off = (size_t) atoi(argv[++i]);
      int val = atoi(argv[++i]);
      if (off < ml)
        model[off] = (uint8_t) val;
    } else if (strcmp(op, "misalign") == 0) {
      uint8_t *b = malloc(ml + 8);
      uint8_t *m = b + (((uintptr_t) b & 3) == 1 ? 0 : (5 - ((uintptr_t) b & 3)) % 4);
      memcpy(m, model, ml);
      printf("misalign %d\n", (int) edgecr_infer(m, ml, in, il, out, ol));
      free(b);
    } else if (strcmp(op, "oob") == 0) {
      printf("oob %d\n", (int) edgecr_infer((const void *) 0xfffff000u, 0x2000, in, il, out, ol));
    } else if (strcmp(op, "copies") == 0 && i + 1 < argc) {
      for (ncopies = 0; ncopies < atoi(argv[i + 1]) && ncopies < 16; ncopies++) {
        copy[ncopies] = aligned_alloc(16, ml + 16);
        memcpy(copy[ncopies], model, ml);
      }
      i++;
    } else if (strcmp(op, "runcopy") == 0 && i + 1 < argc) {
      int k = atoi(argv[++i]);
      if (k < 0 || k >= ncopies)
        return 1;
      printf("runcopy %d %d\n", k, (int) edgecr_infer(copy[k], ml, in, il, out, ol));
    } else if (strcmp(op, "sleep") == 0 && i + 1 < argc) {
      int64_t ms = atoi(argv[++i]);
      printf("sleep %d\n", (int) edgecr_sleep_until(edgecr_clock_now() + ms * 1000000));
    } else if (strcmp(op, "sweep") == 0 && i + 1 < argc) {
      uint32_t v = (uint32_t) strtoul(argv[++i], NULL, 0);
      uint8_t *m = aligned_alloc(16, ml + 16);
      int ok = 0, bad_model = 0, inval = 0, other = 0;
      for (size_t w = 0; w + 4 <= ml; w += 4) {
        memcpy(m, model, ml);
        memcpy(m + w, &v, 4);
        int32_t rc = edgecr_infer(m, ml, in, il, out, ol);
        ok += rc == EDGECR_OK;
        bad_model += rc == EDGECR_EMODEL;
        inval += rc == EDGECR_EINVAL;
        other += rc != EDGECR_OK && rc != EDGECR_EMODEL && rc != EDGECR_EINVAL;
      }
      printf("sweep ok=%d model=%d inval=%d other=%d\n", ok, bad_model, inval, other);
      free(m);
    } else if (strcmp(op, "shortout") == 0) {
      printf("shortout %d\n", (int) edgecr_infer(model, ml, in, il, out, ol - 1));
    } else {
      fprintf(stderr, "infer_guest: bad op %s\n", op);
      return 1;
    }
  }
  return 0;
}
