/* tcbor_native.c - the tcbor.h shim without libcbor: CBOR heads (RFC 8949
 * §3) read and written directly.  For the builds that cannot link libcbor:
 * the static `edgecr` runtime binary (Debian ships no libcbor.a) and,
 * later, the microcontroller tenant host.  It must judge every input as
 * tcbor_libcbor.c does: the decoder unit tests run against both shims. */
#include <string.h>

#include "tcbor.h"

void tcbor_reader_init(struct tcbor_reader *r, const uint8_t *buf, size_t len)
{
  r->buf = buf;
  r->len = len;
  r->pos = 0;
}

/* The head's argument: info < 24 is the value; 24..27 say 1, 2, 4, 8
 * bytes follow; 28..30 are reserved; 31 (indefinite) is handled by the
 * caller. */
static enum tcbor_status read_argument(struct tcbor_reader *r, uint8_t info, uint64_t *v, size_t *head)
{
  size_t extra = info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 99;
  if (extra == 99)
    return TCBOR_MALFORMED;
  if (r->len - r->pos < 1 + extra)
    return TCBOR_TRUNCATED;
  *v = info < 24 ? info : 0;
  for (size_t i = 0; i < extra; i++)
    *v = (*v << 8) | r->buf[r->pos + 1 + i];
  *head = 1 + extra;
  return TCBOR_OK;
}

static enum tcbor_status read_simple(uint8_t info, uint64_t v, struct tcbor_item *it)
{
  if (info == 24 && v < 32)
    return TCBOR_MALFORMED; /* two-byte form of a one-byte simple value */
  if (info >= 25 && info <= 27) {
    it->type = TCBOR_OTHER; /* floats */
    return TCBOR_OK;
  }
  switch (v) {
  case 20: case 21: it->type = TCBOR_BOOL; it->b = v == 21; break;
  case 22: it->type = TCBOR_NULL; break;
  default: it->type = TCBOR_OTHER; break; /* undefined, unassigned simple values */
  }
  return TCBOR_OK;
}

enum tcbor_status tcbor_next(struct tcbor_reader *r, struct tcbor_item *it)
{
  if (r->pos >= r->len)
    return TCBOR_TRUNCATED;
  *it = (struct tcbor_item){.type = TCBOR_OTHER};
  uint8_t major = r->buf[r->pos] >> 5, info = r->buf[r->pos] & 0x1f;
  if (info == 31) { /* indefinite length, or break: not in the metadata's form */
    if (major == 0 || major == 1 || major == 6)
      return TCBOR_MALFORMED;
    r->pos += 1;
    return TCBOR_OK;
  }
  uint64_t v;
  size_t head;
  enum tcbor_status st = read_argument(r, info, &v, &head);
  if (st != TCBOR_OK)
    return st;
  switch (major) {
  case 0: it->type = TCBOR_UINT; it->u = v; break;
  case 1: it->type = TCBOR_NEGINT; it->u = v; break;
  case 2: case 3:
    if (v > r->len - r->pos - head)
      return TCBOR_TRUNCATED;
    it->type = major == 2 ? TCBOR_BYTES : TCBOR_TEXT;
    it->ptr = r->buf + r->pos + head;
    it->len = (size_t) v;
    head += (size_t) v;
    break;
  case 4: it->type = TCBOR_ARRAY; it->u = v; break;
  case 5: it->type = TCBOR_MAP; it->u = v; break;
  case 6: it->type = TCBOR_TAG; it->u = v; break;
  default:
    if (read_simple(info, v, it) != TCBOR_OK)
      return TCBOR_MALFORMED;
    break;
  }
  r->pos += head;
  return TCBOR_OK;
}

/* The shortest head for (major, value), as RFC 8949 §4.2.1 prescribes. */
static void put_head(struct tcbor_writer *w, uint8_t major, uint64_t v)
{
  uint8_t h[9];
  size_t n;
  if (v < 24) {
    h[0] = (uint8_t) (major << 5 | v);
    n = 1;
  } else {
    size_t bytes = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    h[0] = (uint8_t) (major << 5 | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
    for (size_t i = 0; i < bytes; i++)
      h[1 + i] = (uint8_t) (v >> (8 * (bytes - 1 - i)));
    n = 1 + bytes;
  }
  tcbor_append(w, h, n);
}

void tcbor_put_uint(struct tcbor_writer *w, uint64_t v) { put_head(w, 0, v); }
void tcbor_put_negint(struct tcbor_writer *w, uint64_t n) { put_head(w, 1, n); }
void tcbor_put_array(struct tcbor_writer *w, size_t n) { put_head(w, 4, n); }
void tcbor_put_map(struct tcbor_writer *w, size_t n) { put_head(w, 5, n); }
void tcbor_put_tag(struct tcbor_writer *w, uint64_t tag) { put_head(w, 6, tag); }
void tcbor_put_bool(struct tcbor_writer *w, bool b) { put_head(w, 7, b ? 21 : 20); }

void tcbor_put_bytes(struct tcbor_writer *w, const void *p, size_t n)
{
  put_head(w, 2, n);
  tcbor_append(w, p, n);
}

void tcbor_put_text_n(struct tcbor_writer *w, const char *s, size_t n)
{
  put_head(w, 3, n);
  tcbor_append(w, s, n);
}

void tcbor_put_text(struct tcbor_writer *w, const char *s) { tcbor_put_text_n(w, s, strlen(s)); }
