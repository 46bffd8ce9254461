/* tenant_linux.h - the Linux side of tenant metadata: files, keys and
 * signatures (libsodium), the YAML form (the plan's libyaml loader) and the
 * JSON view (jansson).  The portable core is ../meta.h. */
#ifndef EDGECR_TENANT_LINUX_H
#define EDGECR_TENANT_LINUX_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "meta.h"

#define TENANT_TRUST_DIR_DEFAULT "/etc/edgecr/trust.d"
/* The largest metadata file read: a payload of the largest size plus the envelope. */
#define TENANT_FILE_MAX_BYTES (TENANT_META_MAX_BYTES + 1024)

/* --trust-dir when given, else $EDGECR_TRUST_DIR, else the default. */
const char *tenant_trust_dir(const char *option);

/* Read a metadata file (at most TENANT_FILE_MAX_BYTES). Returns its length. */
ssize_t tenant_read_file(const char *path, uint8_t **out, edgecr_error_t *err);
ssize_t tenant_read_fd(int fd, const char *path, uint8_t **out, edgecr_error_t *err);
/* SHA-256 of a whole file (the module the metadata binds), by path or fd
 * (`what` names it in errors), and of bytes in memory. */
int tenant_sha256_file(const char *path, uint8_t out[TENANT_DIGEST_LEN], edgecr_error_t *err);
int tenant_sha256_fd(int fd, const char *what, uint8_t out[TENANT_DIGEST_LEN], edgecr_error_t *err);
void tenant_sha256(const void *data, size_t len, uint8_t out[TENANT_DIGEST_LEN]);
/* "sha256:<64 hex>" into buf (at least 72 bytes). */
const char *tenant_digest_str(const uint8_t d[TENANT_DIGEST_LEN], char *buf, size_t len);

/* Decode a CBOR payload; the error names `what` (a file), the field and the reason. */
int tenant_meta_decode_file(const uint8_t *buf, size_t len, const char *what, struct tenant_meta *m,
                            edgecr_error_t *err);

/* Ed25519 key pair: DIR/NAME.key (the 32-byte seed, hex, mode 0600) and
 * DIR/NAME.pub (the public key, hex; goes into the trust directory).
 * Refuses to overwrite either. */
int tenant_keygen(const char *dir, const char *name, edgecr_error_t *err);

/* Sign a payload with the key file KEY (NAME.key: the key id is NAME);
 * the payload must be valid metadata whose `kid` is that NAME.  *out is a
 * tagged COSE_Sign1 (malloc'd). */
ssize_t tenant_sign(const uint8_t *payload, size_t len, const char *key_path, uint8_t **out,
                    edgecr_error_t *err);

struct tenant_verify_opts {
  const char *trust_dir;
  bool check_module;                      /* compare module_sha256 */
  uint8_t module_sha256[TENANT_DIGEST_LEN];
  const char *module_name;                /* for the message */
  bool check_version;                     /* refuse versions below running_version */
  uint64_t running_version;
  uint64_t now;                           /* seconds since the epoch */
  bool allow_unsigned;                    /* node policy allow-unsigned: a bare payload passes
                                           * the other checks (tenant_form_of() tells it apart) */
};

/* Every check, in order: a COSE_Sign1 at all ("no signature" / "not
 * COSE_Sign1"), a trusted key ("unknown key"), the signature ("bad
 * signature"), a valid payload, the key id inside it, "expired", "module
 * digest mismatch", "older version".  On success m holds the payload. */
int tenant_verify(const uint8_t *buf, size_t len, const char *what, const struct tenant_verify_opts *o,
                  struct tenant_meta *m, edgecr_error_t *err);

/* The YAML (or JSON) form -> model.  Errors: "file:line: `field`: reason".
 * The module digest is left zero unless the document gives `module`. */
int tenant_meta_from_yaml(const char *file, const char *text, size_t len, struct tenant_meta *m,
                          bool *has_module, edgecr_error_t *err);

/* The model as JSON, with the same keys as the CBOR form (digest as
 * "sha256:<hex>", expiry also as an RFC 3339 string). */
json_t *tenant_meta_to_json(const struct tenant_meta *m);

/* ---- node policy and the record of accepted versions (policy.c) ---- */

#define TENANT_STATE_DIR_DEFAULT "/var/lib/edgecr/tenants"

enum tenant_policy {
  TENANT_POLICY_SIGNED,          /* default: unsigned metadata is refused */
  TENANT_POLICY_ALLOW_UNSIGNED,  /* development: accepted with a warning, marked unsigned */
};
/* --tenant-policy when given, else $EDGECR_TENANT_POLICY, else signed; an
 * unknown word is an error. */
int tenant_policy_get(const char *option, enum tenant_policy *out, edgecr_error_t *err);
/* --tenant-dir when given, else $EDGECR_TENANT_DIR, else the default. */
const char *tenant_state_dir(const char *option);

/* The highest version accepted for a tenant id; known = false: never seen. */
struct tenant_version {
  bool known;
  uint64_t version;
};
/* An exclusive lock over one tenant id's record (close the fd to drop it). */
int tenant_version_lock(const char *dir, const char *id, int *fd_out, edgecr_error_t *err);
/* Read DIR/ID.version; a damaged record is an error (fails closed). */
int tenant_version_load(const char *dir, const char *id, struct tenant_version *v, edgecr_error_t *err);
/* Replace it atomically and durably (!known: remove it). */
int tenant_version_store(const char *dir, const char *id, const struct tenant_version *v, edgecr_error_t *err);
/* Under the lock: the record becomes max(record, version). */
int tenant_version_raise(const char *dir, const char *id, uint64_t version, edgecr_error_t *err);

#endif
