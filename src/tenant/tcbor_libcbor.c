/* tcbor_libcbor.c - the tcbor.h shim implemented with libcbor: the reader
 * on libcbor's streaming decoder (cbor_stream_decode, one item head per
 * call, no allocation), the encoder on its cbor_encode_* head encoders.
 * This is the only file of the tenant core that knows libcbor. */
#include "tcbor.h"

#include <cbor.h>
#include <string.h>

void tcbor_reader_init(struct tcbor_reader *r, const uint8_t *buf, size_t len)
{
  r->buf = buf;
  r->len = len;
  r->pos = 0;
}

static struct tcbor_item *ctx_item(void *ctx) { return ctx; }

static void on_uint8(void *c, uint8_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_UINT, .u = v}; }
static void on_uint16(void *c, uint16_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_UINT, .u = v}; }
static void on_uint32(void *c, uint32_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_UINT, .u = v}; }
static void on_uint64(void *c, uint64_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_UINT, .u = v}; }
static void on_neg8(void *c, uint8_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_NEGINT, .u = v}; }
static void on_neg16(void *c, uint16_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_NEGINT, .u = v}; }
static void on_neg32(void *c, uint32_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_NEGINT, .u = v}; }
static void on_neg64(void *c, uint64_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_NEGINT, .u = v}; }
static void on_bytes(void *c, cbor_data p, size_t n)
{
  *ctx_item(c) = (struct tcbor_item){.type = TCBOR_BYTES, .ptr = p, .len = n};
}
static void on_text(void *c, cbor_data p, size_t n)
{
  *ctx_item(c) = (struct tcbor_item){.type = TCBOR_TEXT, .ptr = p, .len = n};
}
static void on_array(void *c, size_t n) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_ARRAY, .u = n}; }
static void on_map(void *c, size_t n) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_MAP, .u = n}; }
static void on_tag(void *c, uint64_t v) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_TAG, .u = v}; }
static void on_bool(void *c, bool b) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_BOOL, .b = b}; }
static void on_null(void *c) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_NULL}; }
static void on_other(void *c) { *ctx_item(c) = (struct tcbor_item){.type = TCBOR_OTHER}; }
static void on_float(void *c, float f) { (void) f; on_other(c); }
static void on_double(void *c, double f) { (void) f; on_other(c); }

static const struct cbor_callbacks callbacks = {
  .uint8 = on_uint8, .uint16 = on_uint16, .uint32 = on_uint32, .uint64 = on_uint64,
  .negint8 = on_neg8, .negint16 = on_neg16, .negint32 = on_neg32, .negint64 = on_neg64,
  .byte_string_start = on_other, .byte_string = on_bytes,
  .string = on_text, .string_start = on_other,
  .indef_array_start = on_other, .array_start = on_array,
  .indef_map_start = on_other, .map_start = on_map,
  .tag = on_tag,
  .float2 = on_float, .float4 = on_float, .float8 = on_double,
  .undefined = on_other, .null = on_null, .boolean = on_bool,
  .indef_break = on_other,
};

/* Tag heads (major type 6) are read here: libcbor 0.8's streaming decoder
 * refuses the one-byte tags 6..23 as "unassigned", and COSE_Sign1 is tag
 * 18 (0xd2).  The head's argument is the big-endian number after it. */
static enum tcbor_status read_tag(struct tcbor_reader *r, struct tcbor_item *it)
{
  uint8_t info = r->buf[r->pos] & 0x1f;
  size_t extra = info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 9;
  if (extra == 9)
    return TCBOR_MALFORMED; /* reserved, or an indefinite tag: not CBOR */
  if (r->len - r->pos < 1 + extra)
    return TCBOR_TRUNCATED;
  uint64_t v = info < 24 ? info : 0;
  for (size_t i = 0; i < extra; i++)
    v = (v << 8) | r->buf[r->pos + 1 + i];
  *it = (struct tcbor_item){.type = TCBOR_TAG, .u = v};
  r->pos += 1 + extra;
  return TCBOR_OK;
}

enum tcbor_status tcbor_next(struct tcbor_reader *r, struct tcbor_item *it)
{
  if (r->pos >= r->len)
    return TCBOR_TRUNCATED;
  if ((r->buf[r->pos] >> 5) == 6)
    return read_tag(r, it);
  *it = (struct tcbor_item){.type = TCBOR_OTHER};
  struct cbor_decoder_result res = cbor_stream_decode(r->buf + r->pos, r->len - r->pos, &callbacks, it);
  if (res.status == CBOR_DECODER_NEDATA)
    return TCBOR_TRUNCATED;
  if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
    return TCBOR_MALFORMED;
  r->pos += res.read;
  return TCBOR_OK;
}

/* Encode a head through libcbor into a scratch buffer, then append it. */
#define PUT_HEAD(w, call)                                                                          \
  do {                                                                                             \
    unsigned char head_[9];                                                                        \
    size_t n_ = call;                                                                              \
    tcbor_append((w), head_, n_);                                                                        \
  } while (0)

void tcbor_put_uint(struct tcbor_writer *w, uint64_t v) { PUT_HEAD(w, cbor_encode_uint(v, head_, sizeof head_)); }
void tcbor_put_negint(struct tcbor_writer *w, uint64_t n) { PUT_HEAD(w, cbor_encode_negint(n, head_, sizeof head_)); }
void tcbor_put_array(struct tcbor_writer *w, size_t n) { PUT_HEAD(w, cbor_encode_array_start(n, head_, sizeof head_)); }
void tcbor_put_map(struct tcbor_writer *w, size_t n) { PUT_HEAD(w, cbor_encode_map_start(n, head_, sizeof head_)); }
void tcbor_put_tag(struct tcbor_writer *w, uint64_t tag) { PUT_HEAD(w, cbor_encode_tag(tag, head_, sizeof head_)); }
void tcbor_put_bool(struct tcbor_writer *w, bool b) { PUT_HEAD(w, cbor_encode_bool(b, head_, sizeof head_)); }

void tcbor_put_bytes(struct tcbor_writer *w, const void *p, size_t n)
{
  PUT_HEAD(w, cbor_encode_bytestring_start(n, head_, sizeof head_));
  tcbor_append(w, p, n);
}

void tcbor_put_text_n(struct tcbor_writer *w, const char *s, size_t n)
{
  PUT_HEAD(w, cbor_encode_string_start(n, head_, sizeof head_));
  tcbor_append(w, s, n);
}

void tcbor_put_text(struct tcbor_writer *w, const char *s) { tcbor_put_text_n(w, s, strlen(s)); }
