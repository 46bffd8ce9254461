/* fuzz_channel.c - libFuzzer target of src/channel: the declaration parser
 * and the header validation, with two properties besides "no crash, no
 * leak, no undefined behaviour":
 *  - a declaration the parser accepts gives a header (header_init) that
 *    both the runtime's check and the client's echan_header_ok accept;
 *  - on any bytes as a header, the runtime's check and the client's agree
 *    (the client trusts only what the runtime would have accepted).
 * Input: byte 0 selects: even = JSON declaration text, odd = header bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chanlib.h"

static void fuzz_decl(const uint8_t *data, size_t size)
{
  json_error_t je;
  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
  if (!j)
    return;
  struct edgecr_channel_decl d;
  edgecr_error_t err = NULL;
  int rc = edgecr_channel_decl_from_json(j, "fuzz.yaml", &d, &err);
  json_decref(j);
  if (rc < 0) {
    if (!err || !strstr(err->msg, "fuzz.yaml: `channels."))
      abort(); /* every error names the file and the field */
    edgecr_error_release(&err);
    return;
  }
  struct echan_hdr h;
  edgecr_channel_header_init(&h, &d);
  if (edgecr_channel_header_check(&h, sizeof h, h.file_size, d.name, &err) < 0)
    abort();
  if (!echan_header_ok(&h, h.file_size))
    abort();
}

static void fuzz_header(const uint8_t *data, size_t size)
{
  struct echan_hdr h;
  memset(&h, 0, sizeof h);
  memcpy(&h, data, size < sizeof h ? size : sizeof h);
  char name[sizeof h.name + 1];
  memcpy(name, h.name, sizeof h.name);
  name[sizeof h.name] = 0;
  edgecr_error_t err = NULL;
  int runtime_ok = edgecr_channel_header_check(&h, sizeof h, h.file_size, name, &err) == 0;
  if (!runtime_ok && (!err || !strstr(err->msg, "header field `")))
    abort(); /* the error names the field */
  edgecr_error_release(&err);
  /* The client's check, minus the name (it cannot know it). */
  int client_ok = h.file_size < ((uint64_t)1 << 40) && echan_header_ok(&h, (size_t)h.file_size);
  if (runtime_ok && !client_ok)
    abort();
  if (client_ok && !runtime_ok && memchr(h.name, 0, sizeof h.name) != NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    fuzz_header(data + 1, size - 1);
  else
    fuzz_decl(data + 1, size - 1);
  return 0;
}
