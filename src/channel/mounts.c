/* mounts.c - the OCI bind mounts that give one container its end of a
 * channel, and nothing more: a reader gets `data` read-only and its own
 * reader page read-write (no other reader's page); the writer gets `data`
 * read-write and every reader page read-only.  The runtime appends them to
 * a container's mounts at create (edgecr_channel_ends_mounts in setup.c,
 * called by src/oci/lifecycle.c), so plan containers get them too. */
#include <stdio.h>

#include "chanlib.h"
#include "util.h"

static json_t *bind_mount(const char *dir, const char *name, const char *file, bool writable)
{
  cleanup_free char *src = xasprintf("%s/%s/%s", dir, name, file);
  cleanup_free char *dst = xasprintf("%s/%s/%s", EDGECR_CHANNEL_DIR, name, file);
  return json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", dst, "type", "bind", "source", src,
                   "options", "bind", writable ? "rw" : "ro", "nosuid", "nodev", "noexec");
}

json_t *edgecr_channel_oci_mounts(const char *dir, const struct edgecr_channel_decl *d, bool writer,
                                  uint32_t reader_index, edgecr_error_t *err)
{
  dir = dir ? dir : EDGECR_CHANNEL_DIR;
  if (!writer && reader_index >= d->readers) {
    edgecr_error_invalid(err, "channel `%s`: reader %u: the channel has %u readers", d->name, reader_index,
                         d->readers);
    return NULL;
  }
  json_t *a = json_array();
  json_array_append_new(a, bind_mount(dir, d->name, "data", writer));
  for (uint32_t i = 0; i < d->readers; i++) {
    if (!writer && i != reader_index)
      continue;
    char file[32];
    snprintf(file, sizeof file, "reader.%u", i);
    json_array_append_new(a, bind_mount(dir, d->name, file, !writer));
  }
  return a;
}
