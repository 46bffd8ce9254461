/* fuzz_decode.c - libFuzzer target: decode + validate + compile arbitrary
 * bytes.  Every input must be either accepted or rejected with an error
 * kind and a message; nothing may crash, leak or read out of bounds (ASan
 * and UBSan watch).  Built by run.sh with clang -fsanitize=fuzzer,address. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wasm.h"

static void *a_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *a_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void a_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {a_alloc, a_realloc, a_free, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ew_error err = {0};
  ew_module *m = ew_module_new(&heap, data, size, &err);
  if (m == NULL) {
    /* A rejection must say what kind it is and why. */
    if (err.kind == EW_ERR_NONE || err.message[0] == 0)
      abort();
    return 0;
  }
  /* Walk the import/export metadata the embedder would read. */
  for (uint32_t i = 0; i < ew_module_import_count(m); i++) {
    ew_import_info imp;
    if (ew_module_import(m, i, &imp) != 0)
      abort();
  }
  for (uint32_t i = 0; i < ew_module_export_count(m); i++) {
    ew_export_info exp;
    if (ew_module_export(m, i, &exp) != 0)
      abort();
  }
  ew_module_free(m);
  return 0;
}
