/* tcbor_common.c - the parts of the CBOR shim (tcbor.h) that do not depend
 * on how items are decoded or heads encoded: type names for error messages
 * and the bounded output buffer.  Linked with either shim (tcbor_libcbor.c
 * or tcbor_native.c).  Portable: no OS, no allocation. */
#include <string.h>

#include "tcbor.h"

const char *tcbor_type_name(enum tcbor_type t)
{
  switch (t) {
  case TCBOR_UINT: return "an unsigned integer";
  case TCBOR_NEGINT: return "a negative integer";
  case TCBOR_BYTES: return "a byte string";
  case TCBOR_TEXT: return "a text string";
  case TCBOR_ARRAY: return "an array";
  case TCBOR_MAP: return "a map";
  case TCBOR_TAG: return "a tag";
  case TCBOR_BOOL: return "a boolean";
  case TCBOR_NULL: return "null";
  case TCBOR_OTHER: break;
  }
  return "a float, undefined or indefinite-length item";
}

void tcbor_writer_init(struct tcbor_writer *w, uint8_t *buf, size_t cap)
{
  *w = (struct tcbor_writer){.buf = buf, .cap = cap};
}

void tcbor_append(struct tcbor_writer *w, const void *p, size_t n)
{
  if (n == 0)
    return;
  if (!w->overflow && w->buf != NULL && w->cap - w->len >= n)
    memcpy(w->buf + w->len, p, n);
  else
    w->overflow = true;
  w->len += n;
}
