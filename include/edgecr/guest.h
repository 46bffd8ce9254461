/* edgecr/guest.h - the tenant ABI, guest side: what a WebAssembly tenant
 * compiled with clang (wasm32, wasi-libc or freestanding) includes to call
 * edgecr's host services.
 *
 * Every function is an import of the module "edgecr" (ABI version
 * EDGECR_ABI_VERSION).  Each call is checked against the tenant's
 * permissions (its signed metadata, docs/tenants.md): a call the tenant may
 * not make returns EDGECR_EDENIED and changes nothing; permissions can be
 * granted or revoked while the tenant runs (`edgecr update --metadata`), so
 * a denied call may succeed later and the reverse.
 *
 * Conventions: pointers and lengths are in the tenant's linear memory; a
 * range outside it is EDGECR_EINVAL.  Results >= 0 are values (a handle, a
 * length), results < 0 are the EDGECR_E* codes below.  Resources (a kv
 * namespace, a sensor, a GPIO line, a channel) are opened by name once and
 * then used through a small integer handle: the names are the ones the
 * metadata grants (kv namespaces, channels) or the node's device map
 * defines (sensor ids, GPIO line names).  Function by function reference:
 * docs/tenants.md, "The host ABI".
 *
 * The error codes are also used by the host (src/tenant/abi.h includes this
 * file), so this header compiles for any target; the import declarations
 * exist only when compiling for WebAssembly. */
#ifndef EDGECR_GUEST_H
#define EDGECR_GUEST_H

#include <stdint.h>

#define EDGECR_ABI_VERSION 1

/* ---- results ----------------------------------------------------------- */
#define EDGECR_OK 0
#define EDGECR_EDENIED (-1)   /* the tenant's permissions do not allow this call */
#define EDGECR_EINVAL (-2)    /* a bad argument: pointer/length outside memory, bad name, bad mode */
#define EDGECR_ENOENT (-3)    /* no such resource on this node, or no such key */
#define EDGECR_EQUOTA (-4)    /* the kv namespace's byte quota would be exceeded */
#define EDGECR_ERATE (-5)     /* over the rate limit (log): the message was dropped */
#define EDGECR_EIO (-6)       /* the device or store failed */
#define EDGECR_EBADH (-7)     /* not an open handle of this kind */
#define EDGECR_E2BIG (-8)     /* too large: a key, a value, a message, a model */
#define EDGECR_EAGAIN (-9)    /* nothing to receive / queue full: try again */
#define EDGECR_ETIMEDOUT (-10) /* a wait ended at its deadline */
#define EDGECR_ELIMIT (-11)   /* over a limit of the metadata (model size, compute per call) */
#define EDGECR_EMODEL (-12)   /* the model is malformed or uses what is not supported (reason in the log) */
#define EDGECR_ENOSYS (-13)   /* this node does not provide the service */
#define EDGECR_EMFILE (-14)   /* too many open handles */
#define EDGECR_EBUSY (-15)    /* the resource is held by another user (a GPIO line) */

/* log levels */
#define EDGECR_LOG_ERROR 0
#define EDGECR_LOG_WARN 1
#define EDGECR_LOG_INFO 2
#define EDGECR_LOG_DEBUG 3

/* gpio_open directions */
#define EDGECR_GPIO_IN 1
#define EDGECR_GPIO_OUT 2

/* channel_open access */
#define EDGECR_CHAN_SEND 1
#define EDGECR_CHAN_RECEIVE 2

/* channel_recv timeouts (besides a positive number of nanoseconds) */
#define EDGECR_NO_WAIT 0
#define EDGECR_WAIT_FOREVER (-1)

#if defined(__wasm__)
#define EDGECR_IMPORT(name) __attribute__((import_module("edgecr"), import_name(#name)))

/* The ABI version the host implements (EDGECR_ABI_VERSION or later). */
EDGECR_IMPORT(abi_version) int32_t edgecr_abi_version(void);

/* log: one message (at most 1024 bytes, longer is cut) to the container's
 * log, prefixed with the tenant id and level.  EDGECR_ERATE past the
 * metadata's rate limit. */
EDGECR_IMPORT(log) int32_t edgecr_log(int32_t level, const char *msg, uint32_t len);

/* clock: CLOCK_MONOTONIC and the wall clock (UTC) in nanoseconds, or a
 * negative EDGECR_E* code; sleep_until waits until a monotonic time (for
 * periodic loops: no drift). */
EDGECR_IMPORT(clock_now) int64_t edgecr_clock_now(void);
EDGECR_IMPORT(clock_wall) int64_t edgecr_clock_wall(void);
EDGECR_IMPORT(sleep_until) int32_t edgecr_sleep_until(int64_t monotonic_ns);

/* Any open handle. */
EDGECR_IMPORT(close) int32_t edgecr_close(int32_t handle);

/* kv: a namespace the metadata grants (read or read-write, a byte quota
 * counting keys and values).  Keys 1..511 bytes, values up to 64 KiB.
 * kv_get returns the value's length and copies min(length, cap) bytes. */
EDGECR_IMPORT(kv_open) int32_t edgecr_kv_open(const char *ns, uint32_t ns_len);
EDGECR_IMPORT(kv_get) int32_t edgecr_kv_get(int32_t h, const void *key, uint32_t key_len, void *value,
                                            uint32_t cap);
EDGECR_IMPORT(kv_put) int32_t edgecr_kv_put(int32_t h, const void *key, uint32_t key_len, const void *value,
                                            uint32_t len);
EDGECR_IMPORT(kv_delete) int32_t edgecr_kv_delete(int32_t h, const void *key, uint32_t key_len);

/* sensors: a sensor id of the node's device map that the metadata grants;
 * the value in the sensor's SI unit ((raw + offset) * scale for IIO). */
EDGECR_IMPORT(sensor_open) int32_t edgecr_sensor_open(const char *id, uint32_t id_len);
EDGECR_IMPORT(sensor_read) int32_t edgecr_sensor_read(int32_t h, double *value);

/* GPIO: a line name of the node's device map, in the direction granted. */
EDGECR_IMPORT(gpio_open) int32_t edgecr_gpio_open(const char *line, uint32_t line_len, int32_t direction);
EDGECR_IMPORT(gpio_get) int32_t edgecr_gpio_get(int32_t h);
EDGECR_IMPORT(gpio_set) int32_t edgecr_gpio_set(int32_t h, int32_t value);

/* infer: run an int8 TensorFlow Lite model that lives in the tenant's
 * memory on `input`, writing `output` (docs/tinyml.md). */
EDGECR_IMPORT(infer) int32_t edgecr_infer(const void *model, uint32_t model_len, const void *input,
                                          uint32_t input_len, void *output, uint32_t output_len);

/* channels: a channel the node's plan declares and the metadata grants
 * (docs/channels.md).  channel_recv returns the message's length. */
EDGECR_IMPORT(channel_open) int32_t edgecr_channel_open(const char *name, uint32_t name_len, int32_t access);
EDGECR_IMPORT(channel_send) int32_t edgecr_channel_send(int32_t h, const void *msg, uint32_t len);
EDGECR_IMPORT(channel_recv) int32_t edgecr_channel_recv(int32_t h, void *buf, uint32_t cap, int64_t timeout_ns);

#undef EDGECR_IMPORT
#endif /* __wasm__ */

#endif
