/* meta.h - a tenant's metadata: the model, its CBOR form, and COSE_Sign1.
 *
 * Portable core (no OS calls, no allocation): the Linux runtime and the
 * microcontroller tenant host link the same code.  The model has fixed
 * capacities so that a decoded metadata fits in one static struct and an
 * oversized list is an error, not an allocation.  The CBOR form is a map
 * with text keys, documented field by field (CDDL) in docs/tenants.md.
 * Every decoding error names the field path ("permissions.kv[1].quota")
 * and the reason. */
#ifndef EDGECR_TENANT_META_H
#define EDGECR_TENANT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TENANT_META_FORMAT 1
#define TENANT_NAME_MAX 64      /* bytes with the NUL: names are 1..63 characters */
#define TENANT_DIGEST_LEN 32    /* SHA-256 */
#define TENANT_MAX_KV 16
#define TENANT_MAX_SENSORS 16
#define TENANT_MAX_GPIO 32
#define TENANT_MAX_CHANNELS 16
#define TENANT_MAX_ENDPOINTS 16
#define TENANT_MAX_DEPTH 6      /* deepest nesting the schema has, plus margin */
#define TENANT_META_MAX_BYTES 65536

enum tenant_service {
  TENANT_SVC_LOG,
  TENANT_SVC_CLOCK,
  TENANT_SVC_KV,
  TENANT_SVC_SENSOR,
  TENANT_SVC_GPIO,
  TENANT_SVC_INFER,
  TENANT_SVC_CHANNEL,
  TENANT_SVC_COUNT,
};

enum tenant_kv_access { TENANT_KV_READ = 1, TENANT_KV_READ_WRITE = 2 };
enum tenant_gpio_dir { TENANT_GPIO_IN = 1, TENANT_GPIO_OUT = 2 };
enum tenant_chan_access { TENANT_CHAN_SEND = 1, TENANT_CHAN_RECEIVE = 2 };  /* bit set */
enum tenant_endpoint_kind { TENANT_EP_PEER = 1, TENANT_EP_DEVICE = 2 };
enum tenant_type { TENANT_TYPE_WASM = 1 };

struct tenant_kv_grant {
  char ns[TENANT_NAME_MAX];
  enum tenant_kv_access access;
  uint64_t quota;                  /* bytes (keys + values) the namespace may hold */
};

struct tenant_gpio_grant {
  char line[TENANT_NAME_MAX];      /* a line name of the node's device map */
  enum tenant_gpio_dir dir;
};

struct tenant_chan_grant {
  char name[TENANT_NAME_MAX];
  unsigned access;                 /* TENANT_CHAN_* bits */
};

struct tenant_endpoint {
  char name[TENANT_NAME_MAX];      /* how the tenant refers to it */
  enum tenant_endpoint_kind kind;
  char target[TENANT_NAME_MAX];    /* peer container id, or local device name */
};

struct tenant_permissions {
  unsigned granted;                /* bit (1 << enum tenant_service) per granted service */
  uint32_t log_rate;               /* log: messages per second, 0 = no limit */
  size_t n_kv;
  struct tenant_kv_grant kv[TENANT_MAX_KV];
  size_t n_sensors;
  char sensors[TENANT_MAX_SENSORS][TENANT_NAME_MAX];
  size_t n_gpio;
  struct tenant_gpio_grant gpio[TENANT_MAX_GPIO];
  uint64_t infer_model_size;       /* infer: largest model in bytes */
  uint64_t infer_compute_ns;       /* infer: longest inference, ns */
  uint64_t infer_arena_size;       /* infer: bytes of one parsed model (plan + activations); 0 = the node's limit */
  size_t n_channels;
  struct tenant_chan_grant channels[TENANT_MAX_CHANNELS];
};

/* All durations in nanoseconds; 0 = not set. */
struct tenant_schedule {
  uint32_t priority;               /* 1..99 (SCHED_FIFO), 0 = not real-time */
  uint64_t period_ns;
  uint64_t budget_ns;              /* per activation */
  uint64_t deadline_ns;            /* relative to the activation */
  uint64_t start_limit_ns;         /* start to the first activation (reactors) */
  uint64_t stop_limit_ns;          /* grace time after SIGTERM */
};

struct tenant_meta {
  uint32_t format;                 /* TENANT_META_FORMAT */
  char id[TENANT_NAME_MAX];        /* container (tenant) id */
  enum tenant_type type;
  uint8_t module_sha256[TENANT_DIGEST_LEN];
  uint64_t version;                /* higher replaces lower, never the reverse */
  uint64_t expires;                /* seconds since the Unix epoch (UTC) */
  char kid[TENANT_NAME_MAX];       /* key id of the signer */
  bool has_schedule;
  struct tenant_schedule schedule;
  struct tenant_permissions perms;
  size_t n_endpoints;
  struct tenant_endpoint endpoints[TENANT_MAX_ENDPOINTS];
  bool has_security;
  uint64_t lifetime_s;             /* security.lifetime: seconds from start, then stopped */
};

/* A decoding error: the field path and the reason, both NUL-terminated. */
struct tenant_err {
  char path[128];
  char reason[160];
};
/* Fills e with the field path and the reason; returns -1 (tenant_err.c). */
__attribute__((format(printf, 3, 4))) int tenant_fail(struct tenant_err *e, const char *path, const char *fmt,
                                                      ...);

/* Decode the CBOR payload into m (zeroed first).  0, or -1 with e filled. */
int tenant_meta_decode(const uint8_t *buf, size_t len, struct tenant_meta *m, struct tenant_err *e);
/* Check a model the way the decoder does (for models built from YAML). */
int tenant_meta_check(const struct tenant_meta *m, struct tenant_err *e);
/* Encode m (deterministically: fixed key order, shortest heads) into out.
 * Returns the encoded length; if it exceeds cap, nothing usable is in out
 * and the caller retries with the returned size. */
size_t tenant_meta_encode(const struct tenant_meta *m, uint8_t *out, size_t cap);

/* Names of services, access modes... as they appear in the CBOR form. */
const char *tenant_service_name(enum tenant_service s);
const char *tenant_kv_access_name(enum tenant_kv_access a);
const char *tenant_gpio_dir_name(enum tenant_gpio_dir d);
const char *tenant_chan_access_name(unsigned access);
const char *tenant_endpoint_kind_name(enum tenant_endpoint_kind k);
const char *tenant_type_name(enum tenant_type t);
/* The reverse: 0 and the value, or -1 for an unknown word. */
int tenant_kv_access_parse(const char *s, size_t n, enum tenant_kv_access *out);
int tenant_gpio_dir_parse(const char *s, size_t n, enum tenant_gpio_dir *out);
int tenant_chan_access_parse(const char *s, size_t n, unsigned *out);
int tenant_endpoint_kind_parse(const char *s, size_t n, enum tenant_endpoint_kind *out);
int tenant_type_parse(const char *s, size_t n, enum tenant_type *out);
/* Is s[0..n) a valid name (1..63 of [A-Za-z0-9._:-], not starting with '.')? */
bool tenant_name_valid(const char *s, size_t n);

/* ---- COSE_Sign1 (RFC 9052), EdDSA only ---- */
#define TENANT_COSE_ALG_EDDSA (-8)
#define TENANT_COSE_TAG_SIGN1 18
#define TENANT_SIG_LEN 64

struct tenant_cose {
  const uint8_t *protected_hdr;    /* the serialized protected header (bstr content) */
  size_t protected_len;
  char kid[TENANT_NAME_MAX];       /* unprotected label 4 */
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *sig;
  size_t sig_len;
};

/* What a metadata file holds, judged from its first item. */
enum tenant_form { TENANT_FORM_PLAIN, TENANT_FORM_SIGN1, TENANT_FORM_OTHER };
enum tenant_form tenant_form_of(const uint8_t *buf, size_t len);

/* Parse a COSE_Sign1 (tagged 18 or untagged) whose protected header says
 * EdDSA; pointers in c point into buf.  0, or -1 with e filled. */
int tenant_cose_decode(const uint8_t *buf, size_t len, struct tenant_cose *c, struct tenant_err *e);
/* The bytes that are signed (RFC 9052 §4.4): the Sig_structure
 * ["Signature1", protected, h'' (external_aad), payload].  Returns its
 * length; as tenant_meta_encode when it exceeds cap. */
size_t tenant_cose_tbs(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                       size_t payload_len, uint8_t *out, size_t cap);
/* The protected header edgecr writes: the map {1: -8}. */
size_t tenant_cose_protected(uint8_t *out, size_t cap);
/* A tagged COSE_Sign1 [protected, {4: kid}, payload, signature]. */
size_t tenant_cose_encode(const struct tenant_cose *c, uint8_t *out, size_t cap);

#endif
