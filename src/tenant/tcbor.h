/* tcbor.h - the tenant core's whole view of CBOR: a pull reader of one data
 * item head at a time and an encoder of heads into a caller's buffer.
 *
 * Why a shim: the Linux build implements it with libcbor (tcbor_libcbor.c);
 * the microcontroller build can swap that one file for its own without
 * touching the metadata decoder.  The reader never allocates and never
 * recurses: a map or array yields only its entry count and the caller reads
 * the entries, so nesting depth and collection sizes are the caller's to
 * bound.  Strings are returned as pointers into the input buffer. */
#ifndef EDGECR_TENANT_TCBOR_H
#define EDGECR_TENANT_TCBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tcbor_type {
  TCBOR_UINT,    /* u = value */
  TCBOR_NEGINT,  /* u = n for the value -1-n */
  TCBOR_BYTES,   /* ptr, len (definite length only) */
  TCBOR_TEXT,    /* ptr, len (definite length only, not NUL-terminated) */
  TCBOR_ARRAY,   /* u = number of items (definite length only) */
  TCBOR_MAP,     /* u = number of pairs (definite length only) */
  TCBOR_TAG,     /* u = tag number; the tagged item follows */
  TCBOR_BOOL,    /* b */
  TCBOR_NULL,
  TCBOR_OTHER,   /* floats, undefined, indefinite-length starts, break */
};

struct tcbor_item {
  enum tcbor_type type;
  uint64_t u;
  const uint8_t *ptr;
  size_t len;
  bool b;
};

struct tcbor_reader {
  const uint8_t *buf;
  size_t len;
  size_t pos;
};

enum tcbor_status { TCBOR_OK = 0, TCBOR_TRUNCATED = -1, TCBOR_MALFORMED = -2 };

void tcbor_reader_init(struct tcbor_reader *r, const uint8_t *buf, size_t len);
/* Read the next item head.  TCBOR_TRUNCATED: the input ends inside it
 * (including a string longer than what is left); TCBOR_MALFORMED: not CBOR. */
enum tcbor_status tcbor_next(struct tcbor_reader *r, struct tcbor_item *it);
/* A word for an item type, for error messages ("a map", "text"...). */
const char *tcbor_type_name(enum tcbor_type t);

/* The encoder: appends to buf; on overflow sets `overflow` and keeps
 * counting `len` so the caller can retry with a buffer of that size. */
struct tcbor_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  bool overflow;
};

void tcbor_writer_init(struct tcbor_writer *w, uint8_t *buf, size_t cap);
/* Appends n raw bytes (or only counts them once the buffer is full): what
 * the shims write heads and string contents with. */
void tcbor_append(struct tcbor_writer *w, const void *p, size_t n);
void tcbor_put_uint(struct tcbor_writer *w, uint64_t v);
void tcbor_put_negint(struct tcbor_writer *w, uint64_t n); /* the value -1-n */
void tcbor_put_bytes(struct tcbor_writer *w, const void *p, size_t n);
void tcbor_put_text(struct tcbor_writer *w, const char *s);
void tcbor_put_text_n(struct tcbor_writer *w, const char *s, size_t n);
void tcbor_put_array(struct tcbor_writer *w, size_t n);
void tcbor_put_map(struct tcbor_writer *w, size_t n);
void tcbor_put_tag(struct tcbor_writer *w, uint64_t tag);
void tcbor_put_bool(struct tcbor_writer *w, bool b);

#endif
