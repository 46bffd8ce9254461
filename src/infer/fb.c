/* fb.c - a bounds-checked reader for the flatbuffers a TFLite model is.
 *
 * Nothing in the model is trusted: a table's vtable, every field offset
 * and every vector length is checked against the buffer's length before it
 * is read, uoffsets (4-byte aligned, as flatbuffers writes them) must point
 * strictly forward, which is what makes cycles impossible: following any
 * chain of them ends at the end of the buffer.  Vtables (reached through a
 * signed offset) are leaves: nothing is followed from them.  Reads are
 * byte-wise little endian, so no access depends on the host's alignment. */
#include "internal.h"

uint32_t fb_u32(const fb_buf *b, uint32_t off) {
  const uint8_t *p = b->buf + off;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t fb_u16(const fb_buf *b, uint32_t off) {
  return (uint16_t)(b->buf[off] | b->buf[off + 1] << 8);
}

/* A table at `pos`: its vtable must lie inside the buffer, be 2-aligned and
 * big enough for its own header, and the object must fit in the buffer. */
static int fb_table_at(const fb_buf *b, uint32_t pos, fb_table *t) {
  if (pos % 4 || pos > b->len - 4) return EI_E_TRUNCATED;
  int32_t so = (int32_t)fb_u32(b, pos);
  int64_t vt = (int64_t)pos - so;
  if (vt < 0 || vt > (int64_t)b->len - 4 || vt % 2) return EI_E_TRUNCATED;
  t->pos = pos;
  t->vt = (uint32_t)vt;
  t->vt_size = fb_u16(b, t->vt);
  t->obj_size = fb_u16(b, t->vt + 2);
  if (t->vt_size < 4 || t->vt_size % 2 || (uint64_t)t->vt + t->vt_size > b->len) return EI_E_FORMAT;
  if (t->obj_size < 4 || (uint64_t)pos + t->obj_size > b->len) return EI_E_FORMAT;
  return 0;
}

int fb_root(const fb_buf *b, fb_table *t) {
  if (b->len < 8 || b->len > 0x7fffffffu) return EI_E_TRUNCATED;
  uint32_t off = fb_u32(b, 0);
  if (off == 0 || off > b->len) return EI_E_TRUNCATED;
  return fb_table_at(b, off, t);
}

/* Position of field `id` of `size` bytes, 0 when absent, <0 when it does
 * not fit inside its object. */
static int64_t fb_field(const fb_table *t, const fb_buf *b, int id, uint32_t size) {
  uint32_t slot = 4u + 2u * (uint32_t)id;
  if (slot + 2 > t->vt_size) return 0;
  uint16_t fo = fb_u16(b, t->vt + slot);
  if (fo == 0) return 0;
  if (fo < 4 || (uint32_t)fo + size > t->obj_size) return EI_E_FORMAT;
  return (int64_t)t->pos + fo;
}

int fb_scalar(const fb_buf *b, const fb_table *t, int id, int size, int sign, int64_t def,
              int64_t *out) {
  int64_t at = fb_field(t, b, id, (uint32_t)size);
  if (at < 0) return (int)at;
  if (at == 0) { *out = def; return 0; }
  uint64_t v = 0;
  for (int i = size - 1; i >= 0; i--) v = v << 8 | b->buf[at + i];
  if (sign && size < 8 && (v >> (size * 8 - 1)) & 1) v |= ~0ull << (size * 8);
  *out = (int64_t)v;
  return 0;
}

/* Follow the uoffset at `at`: forward only, aligned, inside the buffer. */
static int fb_follow(const fb_buf *b, uint32_t at, uint32_t *target) {
  if (at % 4) return EI_E_FORMAT;
  uint32_t off = fb_u32(b, at);
  if (off == 0 || off >= b->len - at) return EI_E_TRUNCATED;
  *target = at + off;
  return 0;
}

int fb_table_field(const fb_buf *b, const fb_table *t, int id, fb_table *out) {
  int64_t at = fb_field(t, b, id, 4);
  if (at <= 0) return (int)at;
  uint32_t pos;
  int r = fb_follow(b, (uint32_t)at, &pos);
  if (r < 0) return r;
  r = fb_table_at(b, pos, out);
  return r < 0 ? r : 1;
}

int fb_vec_field(const fb_buf *b, const fb_table *t, int id, uint32_t elem_size, fb_vec *out) {
  int64_t at = fb_field(t, b, id, 4);
  if (at <= 0) return (int)at;
  uint32_t pos;
  int r = fb_follow(b, (uint32_t)at, &pos);
  if (r < 0) return r;
  if (pos % 4 || pos > b->len - 4) return EI_E_TRUNCATED;
  uint32_t n = fb_u32(b, pos);
  uint32_t room = b->len - pos - 4;
  if (n > room / elem_size) return EI_E_TRUNCATED;
  out->data = pos + 4;
  out->n = n;
  /* Elements are aligned to their size (flatbuffers aligns vectors so);
   * the reads do not depend on it, but a misaligned vector is malformed. */
  if (elem_size <= 8 && out->data % elem_size) return EI_E_FORMAT;
  return 1;
}

int fb_vec_table(const fb_buf *b, const fb_vec *v, uint32_t i, fb_table *out) {
  uint32_t pos;
  int r = fb_follow(b, v->data + 4 * i, &pos);
  return r < 0 ? r : fb_table_at(b, pos, out);
}

int32_t fb_vec_i32(const fb_buf *b, const fb_vec *v, uint32_t i) {
  return (int32_t)fb_u32(b, v->data + 4 * i);
}

int64_t fb_vec_i64(const fb_buf *b, const fb_vec *v, uint32_t i) {
  uint32_t at = v->data + 8 * i;
  return (int64_t)((uint64_t)fb_u32(b, at) | (uint64_t)fb_u32(b, at + 4) << 32);
}

float fb_vec_f32(const fb_buf *b, const fb_vec *v, uint32_t i) {
  union { uint32_t u; float f; } c = {fb_u32(b, v->data + 4 * i)};
  return c.f;
}
