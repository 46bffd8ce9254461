/* chanlib.h - the runtime's side of edgecr's shared-memory channels: the
 * declaration of a channel (checked, with errors naming the field), the
 * creation, validation and removal of its files, the set-up of the
 * channels a container declares (annotations: mounts, first and last
 * user) and the counters `edgecr monitor` shows.  The layout itself and the
 * client are in include/edgecr/channel.h; docs/channels.md describes both. */
#ifndef EDGECR_CHANLIB_H
#define EDGECR_CHANLIB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "edgecr/channel.h"
#include "error.h"

#define EDGECR_CHANNEL_DIR "/run/edgecr/channels"

/* A channel as declared (plan `channels:` entry or annotations). */
struct edgecr_channel_decl {
  char name[ECHAN_NAME_MAX + 1];
  uint32_t kind;        /* ECHAN_FIFO / ECHAN_LATEST */
  uint32_t msg_size;    /* bytes */
  uint32_t depth;       /* slots (fifo) or buffers (latest, default 2) */
  uint32_t writers;     /* declared writer count: must be 1 */
  uint32_t readers;     /* declared reader count */
  uint32_t wait_mode;   /* ECHAN_WAIT_POLL / ECHAN_WAIT_FUTEX */
  uint32_t full_policy; /* ECHAN_FULL_FAIL / ECHAN_FULL_OVERWRITE (fifo), 0 latest */
};

/* Fills *d from a JSON object:
 *   {"name": "imu", "kind": "fifo"|"latest", "message_size": 64, "depth": 16,
 *    "writers": ["ctl"] or 1, "readers": ["log","ui"] or 2,
 *    "wait": "poll"|"futex", "full": "fail"|"overwrite"}
 * and checks it (edgecr_channel_decl_check).  Errors read
 * "<file>: `channels.<name>.<field>`: <reason>". */
int edgecr_channel_decl_from_json(const json_t *obj, const char *file, struct edgecr_channel_decl *d,
                                  edgecr_error_t *err);

/* The limits: name [A-Za-z0-9_.-]{1,63} not starting with '.', sizes and
 * depths within the ECHAN_MAX_* limits, exactly one writer, 1..64 readers,
 * the total size within ECHAN_MAX_FILE. */
int edgecr_channel_decl_check(const struct edgecr_channel_decl *d, const char *file, edgecr_error_t *err);

/* The declaration as JSON (the fields of edgecr_channel_decl_from_json
 * but `name`; writers and readers as counts). */
json_t *edgecr_channel_decl_json(const struct edgecr_channel_decl *d);

/* Bytes of the `data` file of a (checked) declaration. */
uint64_t edgecr_channel_data_size(const struct edgecr_channel_decl *d);

/* Checks a header as read from `data` (len bytes of it; file_size is the
 * file's real size).  Errors name the channel and the field:
 * "channel `imu`: header field `depth`: 0 (must be 1..65536)". */
int edgecr_channel_header_check(const void *buf, size_t len, uint64_t file_size, const char *name,
                                edgecr_error_t *err);

/* The header of a new channel of (checked) declaration d. */
void edgecr_channel_header_init(struct echan_hdr *h, const struct edgecr_channel_decl *d);

/* Creates DIR/NAME/{data,reader.0..} at their exact sizes, initialised
 * (dir NULL: EDGECR_CHANNEL_DIR).  Fails with EEXIST if it exists; leaves
 * nothing behind on failure.  Files are mode 0600, owned by the caller. */
int edgecr_channel_create(const char *dir, const struct edgecr_channel_decl *d, edgecr_error_t *err);

/* Opens DIR/NAME and checks every file (header, sizes, reader pages). */
int edgecr_channel_validate(const char *dir, const char *name, edgecr_error_t *err);

/* Removes DIR/NAME (only the files a channel has); ENOENT is not an error. */
int edgecr_channel_remove(const char *dir, const char *name, edgecr_error_t *err);

/* The OCI mounts (a JSON array of {destination, type, source, options})
 * giving a container its end of channel d, made under DIR (NULL: the
 * default) and seen at EDGECR_CHANNEL_DIR/NAME/ inside: the writer gets
 * `data` rw and every `reader.<i>` ro; reader i gets `data` ro and only its
 * own `reader.<i>`, rw.  NULL with err for an undeclared reader index. */
json_t *edgecr_channel_oci_mounts(const char *dir, const struct edgecr_channel_decl *d, bool writer,
                                  uint32_t reader_index, edgecr_error_t *err);

/* ---- channels declared in a container's annotations (setup.c) ---- */

/* Annotation key prefix: `org.edgecr.channel.<name>`; the value is a JSON
 * object: the declaration's fields (as in edgecr_channel_decl_from_json,
 * without `name`; `writers` defaults to 1) plus the container's end(s):
 * "writer": true and/or "reader": INDEX. */
#define EDGECR_CHANNEL_ANNOTATION "org.edgecr.channel."

/* One container's end(s) of one channel. */
struct edgecr_channel_end {
  struct edgecr_channel_decl decl;
  bool writer, reader;
  uint32_t reader_index;
};

/* Parses the annotation of channel `name` (errors name `file`, the
 * annotation and the field). */
int edgecr_channel_end_parse(const char *name, const char *value, const char *file, struct edgecr_channel_end *e,
                             edgecr_error_t *err);

/* Every channel annotation of an OCI annotations object, sorted by name
 * (*out NULL and *n 0 when there is none; free(*out)). */
int edgecr_channel_ends_parse(const json_t *annotations, const char *file, struct edgecr_channel_end **out, size_t *n,
                              edgecr_error_t *err);

/* The OCI mounts giving a container these ends: a small tmpfs at
 * EDGECR_CHANNEL_DIR, then the bind mounts of edgecr_channel_oci_mounts. */
json_t *edgecr_channel_ends_mounts(const char *host_dir, const struct edgecr_channel_end *e, size_t n,
                                   edgecr_error_t *err);

/* Where the runtime keeps the channels of the containers under a state
 * root: <state_root>/channels (default /run/edgecr/channels). */
char *edgecr_channel_host_dir(const char *state_root);

/* Makes (or keeps, when it exists with the same declaration) each channel
 * of container `self`, whose state must already be saved under
 * state_root.  Refuses a declaration that contradicts another container's
 * (another geometry, the same end taken) and a channel directory edgecr
 * did not make.  uid/gid: the container's process as the host sees it;
 * other than root, it is given its ends' files (and all files become
 * readable: each end reads the others').  On failure, what it made is
 * removed again. */
int edgecr_channels_acquire(const char *state_root, const char *self, const struct edgecr_channel_end *e, size_t n,
                            uid_t uid, gid_t gid, edgecr_error_t *err);

/* Removes every channel edgecr made under state_root that no container
 * but `self` (NULL: none) declares: called when `self` is deleted. */
int edgecr_channels_release(const char *state_root, const char *self, edgecr_error_t *err);

/* ---- counters (stats.c), for `edgecr monitor` ---- */

struct edgecr_channel_reader_stats {
  uint64_t pos, received, lost;
  uint64_t pending;  /* fifo: messages sent but not yet taken (at most depth) */
  uint64_t max_fill; /* fifo: the most it found waiting */
};

struct edgecr_channel_stats {
  char name[ECHAN_NAME_MAX + 1];
  uint32_t kind, msg_size, depth, readers, full_policy;
  uint64_t sent;       /* head */
  uint64_t full_fails; /* sends refused: full (fail policy) */
  uint64_t max_fill;   /* fifo: the highest fill the writer or a reader saw */
  struct edgecr_channel_reader_stats reader[ECHAN_MAX_READERS];
};

/* Reads (never maps) channel DIR/NAME's counters. */
int edgecr_channel_stats_read(const char *dir, const char *name, struct edgecr_channel_stats *s, edgecr_error_t *err);
/* Every valid channel under dir (`only`: that one), sorted by name. */
int edgecr_channel_stats_scan(const char *dir, const char *only, struct edgecr_channel_stats **out, size_t *n,
                              edgecr_error_t *err);
json_t *edgecr_channel_stats_json(const struct edgecr_channel_stats *s);
void edgecr_channel_stats_text(FILE *out, const struct edgecr_channel_stats *s, size_t n);

#endif
