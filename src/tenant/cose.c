/* cose.c - the COSE_Sign1 envelope (RFC 9052 §4.2) around the metadata:
 * parsing it, building the bytes that are signed (Sig_structure, §4.4) and
 * writing it.  No cryptography here: the signature itself is checked by the
 * platform (libsodium on Linux, src/tenant/linux/sign.c).
 *
 * Accepted: tagged (18) or untagged; a protected header that is exactly
 * {1: -8} (EdDSA, the only algorithm edgecr trusts: no algorithm choice is
 * left to the signer); an unprotected header that is exactly {4: kid}; an
 * attached payload; a 64-byte signature.  Anything else is refused with
 * the part named, rather than ignored. */
#include <string.h>

#include "meta.h"
#include "tcbor.h"

static int next(struct tcbor_reader *r, struct tcbor_item *it, const char *path, struct tenant_err *e)
{
  switch (tcbor_next(r, it)) {
  case TCBOR_OK: return 0;
  case TCBOR_TRUNCATED: return tenant_fail(e, path, "truncated: the input ends inside this item");
  case TCBOR_MALFORMED: break;
  }
  return tenant_fail(e, path, "malformed CBOR at byte %zu", r->pos);
}

static int expect(struct tcbor_reader *r, struct tcbor_item *it, enum tcbor_type t, const char *path,
                  struct tenant_err *e)
{
  if (next(r, it, path, e) < 0)
    return -1;
  if (it->type != t)
    return tenant_fail(e, path, "expected %s, found %s", tcbor_type_name(t), tcbor_type_name(it->type));
  return 0;
}

enum tenant_form tenant_form_of(const uint8_t *buf, size_t len)
{
  struct tcbor_reader r;
  struct tcbor_item it;
  tcbor_reader_init(&r, buf, len);
  if (tcbor_next(&r, &it) != TCBOR_OK)
    return TENANT_FORM_OTHER;
  if (it.type == TCBOR_MAP)
    return TENANT_FORM_PLAIN;
  if ((it.type == TCBOR_TAG && it.u == TENANT_COSE_TAG_SIGN1) || (it.type == TCBOR_ARRAY && it.u == 4))
    return TENANT_FORM_SIGN1;
  return TENANT_FORM_OTHER;
}

/* The protected header, itself CBOR inside a byte string: exactly {1: -8}. */
static int check_protected(const uint8_t *p, size_t len, struct tenant_err *e)
{
  static const char path[] = "COSE_Sign1.protected";
  struct tcbor_reader r;
  struct tcbor_item it, label, alg;
  tcbor_reader_init(&r, p, len);
  if (expect(&r, &it, TCBOR_MAP, path, e) < 0)
    return -1;
  if (it.u != 1)
    return tenant_fail(e, path, "must hold exactly the algorithm (label 1), found %llu entries",
                (unsigned long long) it.u);
  if (next(&r, &label, path, e) < 0)
    return -1;
  if (label.type != TCBOR_UINT || label.u != 1)
    return tenant_fail(e, path, "unsupported header label (only 1, the algorithm)");
  if (next(&r, &alg, path, e) < 0)
    return -1;
  if (alg.type != TCBOR_NEGINT || alg.u != (uint64_t) (-1 - TENANT_COSE_ALG_EDDSA))
    return tenant_fail(e, path, "the algorithm is not EdDSA (-8)");
  if (r.pos != len)
    return tenant_fail(e, path, "trailing bytes after the header map");
  return 0;
}

static int read_unprotected(struct tcbor_reader *r, struct tenant_cose *c, struct tenant_err *e)
{
  static const char path[] = "COSE_Sign1.unprotected";
  struct tcbor_item it, label, kid;
  if (expect(r, &it, TCBOR_MAP, path, e) < 0)
    return -1;
  if (it.u != 1)
    return tenant_fail(e, path, "must hold exactly the key id (label 4), found %llu entries",
                (unsigned long long) it.u);
  if (next(r, &label, path, e) < 0)
    return -1;
  if (label.type != TCBOR_UINT || label.u != 4)
    return tenant_fail(e, path, "unsupported header label (only 4, the key id)");
  if (expect(r, &kid, TCBOR_BYTES, "COSE_Sign1.unprotected.kid", e) < 0)
    return -1;
  if (!tenant_name_valid((const char *) kid.ptr, kid.len))
    return tenant_fail(e, "COSE_Sign1.unprotected.kid", "not a valid key id");
  memcpy(c->kid, kid.ptr, kid.len);
  c->kid[kid.len] = '\0';
  return 0;
}

int tenant_cose_decode(const uint8_t *buf, size_t len, struct tenant_cose *c, struct tenant_err *e)
{
  memset(c, 0, sizeof *c);
  struct tcbor_reader r;
  struct tcbor_item it;
  tcbor_reader_init(&r, buf, len);
  if (next(&r, &it, "COSE_Sign1", e) < 0)
    return -1;
  if (it.type == TCBOR_TAG) {
    if (it.u != TENANT_COSE_TAG_SIGN1)
      return tenant_fail(e, "COSE_Sign1", "tag %llu is not COSE_Sign1 (18)", (unsigned long long) it.u);
    if (next(&r, &it, "COSE_Sign1", e) < 0)
      return -1;
  }
  if (it.type != TCBOR_ARRAY || it.u != 4)
    return tenant_fail(e, "COSE_Sign1", "not a COSE_Sign1 (an array of 4), found %s", tcbor_type_name(it.type));
  if (expect(&r, &it, TCBOR_BYTES, "COSE_Sign1.protected", e) < 0)
    return -1;
  if (check_protected(it.ptr, it.len, e) < 0)
    return -1;
  c->protected_hdr = it.ptr;
  c->protected_len = it.len;
  if (read_unprotected(&r, c, e) < 0)
    return -1;
  if (next(&r, &it, "COSE_Sign1.payload", e) < 0)
    return -1;
  if (it.type != TCBOR_BYTES)
    return tenant_fail(e, "COSE_Sign1.payload", "expected the attached payload (a byte string), found %s",
                tcbor_type_name(it.type));
  c->payload = it.ptr;
  c->payload_len = it.len;
  if (expect(&r, &it, TCBOR_BYTES, "COSE_Sign1.signature", e) < 0)
    return -1;
  if (it.len != TENANT_SIG_LEN)
    return tenant_fail(e, "COSE_Sign1.signature", "an Ed25519 signature is %d bytes, found %zu", TENANT_SIG_LEN,
                it.len);
  c->sig = it.ptr;
  c->sig_len = it.len;
  if (r.pos != len)
    return tenant_fail(e, "COSE_Sign1", "%zu trailing bytes after the structure", len - r.pos);
  return 0;
}

size_t tenant_cose_tbs(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                       size_t payload_len, uint8_t *out, size_t cap)
{
  struct tcbor_writer w;
  tcbor_writer_init(&w, out, cap);
  tcbor_put_array(&w, 4);
  tcbor_put_text(&w, "Signature1");
  tcbor_put_bytes(&w, protected_hdr, protected_len);
  tcbor_put_bytes(&w, NULL, 0); /* external_aad: none */
  tcbor_put_bytes(&w, payload, payload_len);
  return w.len;
}

size_t tenant_cose_protected(uint8_t *out, size_t cap)
{
  struct tcbor_writer w;
  tcbor_writer_init(&w, out, cap);
  tcbor_put_map(&w, 1);
  tcbor_put_uint(&w, 1);
  tcbor_put_negint(&w, (uint64_t) (-1 - TENANT_COSE_ALG_EDDSA));
  return w.len;
}

size_t tenant_cose_encode(const struct tenant_cose *c, uint8_t *out, size_t cap)
{
  struct tcbor_writer w;
  tcbor_writer_init(&w, out, cap);
  tcbor_put_tag(&w, TENANT_COSE_TAG_SIGN1);
  tcbor_put_array(&w, 4);
  tcbor_put_bytes(&w, c->protected_hdr, c->protected_len);
  tcbor_put_map(&w, 1);
  tcbor_put_uint(&w, 4);
  tcbor_put_bytes(&w, c->kid, strlen(c->kid));
  tcbor_put_bytes(&w, c->payload, c->payload_len);
  tcbor_put_bytes(&w, c->sig, c->sig_len);
  return w.len;
}
