/* sign.c - keys, COSE_Sign1 signatures and the trust checks, with
 * libsodium (Ed25519, SHA-256).  Linux only: the core (../cose.c) parses
 * and builds the envelope, this file holds everything secret or trusted. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tenant_linux.h"
#include "util.h"

const char *tenant_trust_dir(const char *option)
{
  if (option != NULL && option[0] != '\0')
    return option;
  const char *env = getenv("EDGECR_TRUST_DIR");
  return env != NULL && env[0] != '\0' ? env : TENANT_TRUST_DIR_DEFAULT;
}

static int sodium_ready(edgecr_error_t *err)
{
  if (sodium_init() < 0)
    return edgecr_error_make(err, 0, "cannot initialise libsodium");
  return 0;
}

ssize_t tenant_read_file(const char *path, uint8_t **out, edgecr_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", path);
  return tenant_read_fd(fd, path, out, err);
}

ssize_t tenant_read_fd(int fd, const char *path, uint8_t **out, edgecr_error_t *err)
{
  cleanup_free uint8_t *buf = xmalloc0(TENANT_FILE_MAX_BYTES + 1);
  ssize_t n = read_full(fd, buf, TENANT_FILE_MAX_BYTES + 1);
  if (n < 0)
    return edgecr_error_make(err, errno, "read `%s`", path);
  if (n > TENANT_FILE_MAX_BYTES)
    return edgecr_error_make(err, 0, "%s: larger than %d bytes: not metadata", path, TENANT_FILE_MAX_BYTES);
  *out = steal_pointer(&buf);
  return n;
}

int tenant_sha256_fd(int fd, const char *what, uint8_t out[TENANT_DIGEST_LEN], edgecr_error_t *err)
{
  if (sodium_ready(err) < 0)
    return -1;
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  uint8_t buf[65536];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off); /* pread: the caller's offset stays put */
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return edgecr_error_make(err, errno, "read module `%s`", what);
    if (n == 0)
      break;
    crypto_hash_sha256_update(&st, buf, (unsigned long long) n);
    off += n;
  }
  crypto_hash_sha256_final(&st, out);
  return 0;
}

int tenant_sha256_file(const char *path, uint8_t out[TENANT_DIGEST_LEN], edgecr_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open module `%s`", path);
  return tenant_sha256_fd(fd, path, out, err);
}

void tenant_sha256(const void *data, size_t len, uint8_t out[TENANT_DIGEST_LEN])
{
  crypto_hash_sha256(out, data, len);
}

const char *tenant_digest_str(const uint8_t d[TENANT_DIGEST_LEN], char *buf, size_t len)
{
  char hex[2 * TENANT_DIGEST_LEN + 1];
  sodium_bin2hex(hex, sizeof hex, d, TENANT_DIGEST_LEN);
  snprintf(buf, len, "sha256:%s", hex);
  return buf;
}

int tenant_meta_decode_file(const uint8_t *buf, size_t len, const char *what, struct tenant_meta *m,
                            edgecr_error_t *err)
{
  struct tenant_err e;
  if (tenant_meta_decode(buf, len, m, &e) < 0)
    return edgecr_error_invalid(err, "%s: `%s`: %s", what, e.path, e.reason);
  return 0;
}

/* ---- key files: one line of hex ---- */

static int write_key_file(const char *path, const uint8_t *key, size_t n, mode_t mode, edgecr_error_t *err)
{
  char hex[2 * 64 + 2];
  sodium_bin2hex(hex, sizeof hex - 1, key, n);
  strcat(hex, "\n");
  /* O_EXCL: a key is never silently replaced. */
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return edgecr_error_make(err, errno, "create key file `%s`", path);
  if (fchmod(fd, mode) < 0 || write_all(fd, hex, strlen(hex)) < 0 || fsync(fd) < 0) {
    int saved = errno;
    unlink(path);
    return edgecr_error_make(err, saved, "write key file `%s`", path);
  }
  sodium_memzero(hex, sizeof hex);
  return 0;
}

static int read_key_file(const char *path, uint8_t *key, size_t n, const char *what, edgecr_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open %s `%s`", what, path);
  char text[2 * 64 + 8];
  ssize_t got = read_full(fd, text, sizeof text - 1);
  if (got < 0)
    return edgecr_error_make(err, errno, "read %s `%s`", what, path);
  text[got] = '\0';
  size_t bin_len = 0;
  const char *end = NULL;
  int rc = sodium_hex2bin(key, n, text, (size_t) got, NULL, &bin_len, &end);
  bool rest_blank = end != NULL && strspn(end, "\n\r\t ") == strlen(end);
  sodium_memzero(text, sizeof text);
  if (rc != 0 || bin_len != n || !rest_blank)
    return edgecr_error_invalid(err, "%s `%s`: expected %zu hex digits on one line", what, path, 2 * n);
  return 0;
}

int tenant_keygen(const char *dir, const char *name, edgecr_error_t *err)
{
  if (!tenant_name_valid(name, strlen(name)))
    return edgecr_error_invalid(err, "key name `%s`: not a valid name (1 to %d of A-Z a-z 0-9 . _ - :)",
                                name, TENANT_NAME_MAX - 1);
  if (sodium_ready(err) < 0 || mkdir_p(dir, 0700, err) < 0)
    return -1;
  uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  randombytes_buf(seed, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
  cleanup_free char *key_path = xasprintf("%s/%s.key", dir, name);
  cleanup_free char *pub_path = xasprintf("%s/%s.pub", dir, name);
  int rc = write_key_file(key_path, seed, sizeof seed, 0600, err);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(sk, sizeof sk);
  if (rc < 0)
    return -1;
  if (write_key_file(pub_path, pk, sizeof pk, 0644, err) < 0) {
    unlink(key_path);
    return -1;
  }
  return 0;
}

/* The key id of a key file: its name without the directory and ".key". */
static char *key_id_of(const char *key_path)
{
  const char *base = strrchr(key_path, '/');
  base = base ? base + 1 : key_path;
  char *id = xstrdup(base);
  if (str_has_suffix(id, ".key"))
    id[strlen(id) - 4] = '\0';
  return id;
}

ssize_t tenant_sign(const uint8_t *payload, size_t len, const char *key_path, uint8_t **out,
                    edgecr_error_t *err)
{
  if (sodium_ready(err) < 0)
    return -1;
  cleanup_free char *kid = key_id_of(key_path);
  if (!tenant_name_valid(kid, strlen(kid)))
    return edgecr_error_invalid(err, "key `%s`: the file name (the key id) is not a valid name", key_path);
  struct tenant_meta m;
  if (tenant_meta_decode_file(payload, len, "payload", &m, err) < 0)
    return -1;
  if (strcmp(m.kid, kid) != 0)
    return edgecr_error_invalid(err, "payload: `kid`: names key `%s`, but the signing key is `%s`", m.kid, kid);
  uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  if (read_key_file(key_path, seed, sizeof seed, "private key", err) < 0)
    return -1;
  crypto_sign_seed_keypair(pk, sk, seed);
  sodium_memzero(seed, sizeof seed);

  uint8_t prot[16];
  size_t prot_len = tenant_cose_protected(prot, sizeof prot);
  size_t tbs_len = tenant_cose_tbs(prot, prot_len, payload, len, NULL, 0);
  cleanup_free uint8_t *tbs = xmalloc0(tbs_len);
  tenant_cose_tbs(prot, prot_len, payload, len, tbs, tbs_len);
  uint8_t sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, NULL, tbs, tbs_len, sk);
  sodium_memzero(sk, sizeof sk);

  struct tenant_cose c = {.protected_hdr = prot, .protected_len = prot_len, .payload = payload,
                          .payload_len = len, .sig = sig, .sig_len = sizeof sig};
  snprintf(c.kid, sizeof c.kid, "%s", kid);
  size_t n = tenant_cose_encode(&c, NULL, 0);
  *out = xmalloc0(n);
  tenant_cose_encode(&c, *out, n);
  return (ssize_t) n;
}

/* ---- verification ---- */

static void iso_time(uint64_t t, char *buf, size_t len)
{
  time_t tt = t > (uint64_t) INT64_MAX ? (time_t) INT64_MAX : (time_t) t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(buf, len, "%llu", (unsigned long long) t);
}

static int load_trusted_key(const char *dir, const char *kid, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                            edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s.pub", dir, kid);
  if (access(path, F_OK) < 0 && errno == ENOENT)
    return edgecr_error_invalid(err, "unknown key `%s`: no %s.pub in the trust directory %s", kid, kid, dir);
  return read_key_file(path, pk, crypto_sign_PUBLICKEYBYTES, "trusted public key", err);
}

static int parse_envelope(const uint8_t *buf, size_t len, struct tenant_cose *c, edgecr_error_t *err)
{
  if (tenant_form_of(buf, len) == TENANT_FORM_PLAIN)
    return edgecr_error_invalid(err, "no signature: the metadata is a bare CBOR map, not a COSE_Sign1");
  struct tenant_err e;
  if (tenant_cose_decode(buf, len, c, &e) < 0)
    return edgecr_error_invalid(err, "not COSE_Sign1: `%s`: %s", e.path, e.reason);
  return 0;
}

static int check_signature(const struct tenant_cose *c, const uint8_t *pk, edgecr_error_t *err)
{
  size_t tbs_len = tenant_cose_tbs(c->protected_hdr, c->protected_len, c->payload, c->payload_len, NULL, 0);
  cleanup_free uint8_t *tbs = xmalloc0(tbs_len);
  tenant_cose_tbs(c->protected_hdr, c->protected_len, c->payload, c->payload_len, tbs, tbs_len);
  if (crypto_sign_verify_detached(c->sig, tbs, tbs_len, pk) != 0)
    return edgecr_error_invalid(err, "bad signature: the signature does not match key `%s` "
                                     "(the metadata was altered or signed by another key)", c->kid);
  return 0;
}

static int check_payload(const struct tenant_meta *m, const char *kid, const struct tenant_verify_opts *o,
                         edgecr_error_t *err)
{
  char when[40], now[40], want[80], have[80];
  if (kid != NULL && strcmp(m->kid, kid) != 0)
    return edgecr_error_invalid(err, "key id mismatch: signed with key `%s`, the payload names `%s`", kid, m->kid);
  if (o->now >= m->expires) {
    iso_time(m->expires, when, sizeof when);
    iso_time(o->now, now, sizeof now);
    return edgecr_error_invalid(err, "expired: valid until %s, now %s", when, now);
  }
  if (o->check_module && sodium_memcmp(m->module_sha256, o->module_sha256, TENANT_DIGEST_LEN) != 0)
    return edgecr_error_invalid(err, "module digest mismatch: the metadata binds %s, module `%s` is %s",
                                tenant_digest_str(m->module_sha256, want, sizeof want),
                                o->module_name ? o->module_name : "(given)",
                                tenant_digest_str(o->module_sha256, have, sizeof have));
  if (o->check_version && m->version < o->running_version)
    return edgecr_error_invalid(err, "older version: version %llu is older than the running version %llu",
                                (unsigned long long) m->version, (unsigned long long) o->running_version);
  return 0;
}

/* Under the node policy allow-unsigned: a bare payload has no signer to
 * check, but every other check (the payload, expiry, module, version). */
static int verify_unsigned(const uint8_t *buf, size_t len, const char *what, const struct tenant_verify_opts *o,
                           struct tenant_meta *m, edgecr_error_t *err)
{
  if (tenant_meta_decode_file(buf, len, "payload", m, err) < 0 || check_payload(m, NULL, o, err) < 0)
    return edgecr_error_wrap(err, "%s", what);
  return 0;
}

int tenant_verify(const uint8_t *buf, size_t len, const char *what, const struct tenant_verify_opts *o,
                  struct tenant_meta *m, edgecr_error_t *err)
{
  if (o->allow_unsigned && tenant_form_of(buf, len) == TENANT_FORM_PLAIN)
    return verify_unsigned(buf, len, what, o, m, err);
  struct tenant_cose c;
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  if (sodium_ready(err) < 0 || parse_envelope(buf, len, &c, err) < 0 ||
      load_trusted_key(o->trust_dir, c.kid, pk, err) < 0 || check_signature(&c, pk, err) < 0 ||
      tenant_meta_decode_file(c.payload, c.payload_len, "payload", m, err) < 0 ||
      check_payload(m, c.kid, o, err) < 0)
    return edgecr_error_wrap(err, "%s", what);
  return 0;
}
