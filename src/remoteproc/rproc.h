/* rproc.h - the kernel's remoteproc interface as plain file I/O against a
 * configurable root ("/" on a board, the emulator's directory in tests):
 * find a processor by name, read its state, set its firmware, start/stop it
 * with errno turned into clear errors, wait for a state, read the devicetree
 * model, and stage a container's firmware under a unique name in
 * <root>/lib/firmware/edgecr/ (never touching a global search path).
 *
 * Paths under the root:
 *   sys/class/remoteproc/remoteprocN/{name,firmware,state,recovery,coredump}
 *   proc/device-tree/model, else sys/firmware/devicetree/base/model
 *   lib/firmware/edgecr/<staged files>
 * See docs/remoteproc.md. */
#ifndef EDGECR_RPROC_H
#define EDGECR_RPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The kernel's states (rproc_state_string); UNKNOWN for any other text. */
enum rproc_state {
  RPROC_STATE_OFFLINE,
  RPROC_STATE_SUSPENDED,
  RPROC_STATE_RUNNING,
  RPROC_STATE_CRASHED,
  RPROC_STATE_DELETED,
  RPROC_STATE_ATTACHED,
  RPROC_STATE_DETACHED,
  RPROC_STATE_INVALID,
  RPROC_STATE_UNKNOWN,
};

struct rproc {
  char *root;     /* as given, without trailing '/' ("" for "/") */
  char *dir;      /* <root>/sys/class/remoteproc/remoteprocN */
  unsigned index; /* N */
  char *name;     /* contents of `name`, newline stripped */
};

/* The directory holding remoteprocN entries for a root (caller frees). */
char *rproc_class_dir(const char *root);

/* Finds the processor whose `name` is name.  ENOENT when none; the message
 * lists the names that exist. */
int rproc_find(const char *root, const char *name, struct rproc **out, edgecr_error_t *err);
/* All processors, sorted by index; *out is NULL-terminated. */
int rproc_list(const char *root, struct rproc ***out, size_t *count, edgecr_error_t *err);
void rproc_free(struct rproc *r);
void rproc_list_free(struct rproc **list);

const char *rproc_state_name(enum rproc_state s);
enum rproc_state rproc_state_parse(const char *text);

int rproc_read_state(const struct rproc *r, enum rproc_state *out, edgecr_error_t *err);
/* The firmware name currently set (newline stripped). */
int rproc_read_firmware(const struct rproc *r, char **out, edgecr_error_t *err);

/* Writes `firmware`; EBUSY ("not offline") when the core runs. */
int rproc_set_firmware(const struct rproc *r, const char *fw_name, edgecr_error_t *err);
/* Writes `start` / `stop` to `state`. */
int rproc_start(const struct rproc *r, edgecr_error_t *err);
int rproc_stop(const struct rproc *r, edgecr_error_t *err);

/* Polls `state` until it reads want or timeout_ms passes (ETIMEDOUT, the
 * message names the last state seen).  *last (may be NULL) gets it. */
int rproc_wait_state(const struct rproc *r, enum rproc_state want, unsigned timeout_ms,
                     enum rproc_state *last, edgecr_error_t *err);

/* Why a write of value to attr failed with errnum, in the kernel's terms
 * ("the processor is running", "firmware file not found"...). */
const char *rproc_errno_reason(const char *attr, const char *value, int errnum);

/* The devicetree model (trailing NULs and newlines stripped); ENOENT when
 * the root has no devicetree. */
int rproc_read_model(const char *root, char **out, edgecr_error_t *err);

/* Copies src into <root>/lib/firmware/edgecr/<tag>-<random>.elf (atomic:
 * temporary file, fsync, rename) and returns the firmware name to write to
 * `firmware`, "edgecr/<tag>-<random>.elf".  tag: [A-Za-z0-9_.-], 1..64. */
int rproc_stage_firmware(const char *root, const char *src, const char *tag, char **fw_name,
                         edgecr_error_t *err);
/* The same in two steps, so that a caller can record the name before the
 * file exists (a runtime killed in between leaves a name to clean up, never
 * an unknown file): a fresh "edgecr/<tag>-<random>.elf", then the copy. */
int rproc_staged_name(const char *tag, char **fw_name, edgecr_error_t *err);
int rproc_stage_firmware_as(const char *root, const char *src, const char *fw_name,
                            edgecr_error_t *err);
/* Removes a staged file; a missing one is fine.  Only names under edgecr/. */
int rproc_unstage_firmware(const char *root, const char *fw_name, edgecr_error_t *err);

#endif
