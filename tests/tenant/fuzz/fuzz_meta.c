/* fuzz_meta.c - libFuzzer target for the tenant metadata decoders: the
 * COSE_Sign1 envelope and the CBOR payload (src/tenant/, the portable core
 * with its libcbor shim).  Every input must be accepted or refused with a
 * field path and a reason; nothing may crash, hang, leak or read out of
 * bounds (ASan and UBSan watch).  An accepted payload must encode back to
 * bytes that decode to the same model and encode identically (the encoder
 * is deterministic and the decoder accepts all it writes).
 * Built by run.sh with clang -fsanitize=fuzzer,address,undefined. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(const struct tenant_err *e)
{
  if (e->path[0] == '\0' || e->reason[0] == '\0')
    abort();
}

static void check_payload(const uint8_t *data, size_t size)
{
  static struct tenant_meta m, back;
  static uint8_t out[TENANT_META_MAX_BYTES], again[TENANT_META_MAX_BYTES];
  struct tenant_err e = {{0}, {0}};
  if (tenant_meta_decode(data, size, &m, &e) < 0) {
    check_refusal(&e);
    return;
  }
  size_t n = tenant_meta_encode(&m, out, sizeof out);
  if (n > sizeof out)
    abort();
  if (tenant_meta_decode(out, n, &back, &e) < 0)
    abort(); /* the decoder refused what the encoder wrote */
  if (tenant_meta_encode(&back, again, sizeof again) != n || memcmp(out, again, n) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (tenant_form_of(data, size) != TENANT_FORM_SIGN1) {
    check_payload(data, size);
    return 0;
  }
  struct tenant_cose c;
  struct tenant_err e = {{0}, {0}};
  if (tenant_cose_decode(data, size, &c, &e) < 0) {
    check_refusal(&e);
    return 0;
  }
  /* The bytes a verifier would hash, then the payload. */
  size_t n = tenant_cose_tbs(c.protected_hdr, c.protected_len, c.payload, c.payload_len, NULL, 0);
  uint8_t *tbs = malloc(n);
  if (tbs == NULL || tenant_cose_tbs(c.protected_hdr, c.protected_len, c.payload, c.payload_len, tbs, n) != n)
    abort();
  free(tbs);
  check_payload(c.payload, c.payload_len);
  return 0;
}
