/* tenant_services.h - the Linux adapters of the tenant services kv (LMDB),
 * sensors (IIO sysfs) and GPIO (libgpiod), and the node's device map.
 *
 * Each adapter fills its fields of struct tenant_platform (../abi.h) with
 * tenant_linux_<svc>_ops().  Their state is per process (a payload process
 * runs one tenant), so the adapter context `p` of the platform calls is not
 * used by them.
 *
 * Open early: the payload runs inside the container's mount namespace after
 * pivot_root, where neither the host's kv store, nor the device map, nor
 * /sys and /dev of the host are reachable.  So the runtime calls
 * tenant_linux_services_open() in the payload process BEFORE it enters the
 * container's root (and before it drops privileges): it opens the tenant's
 * LMDB environment and a descriptor for every device the map names (an
 * IIO device directory, a GPIO chip).  Later opens by name only look into
 * what is already open. */
#ifndef EDGECR_TENANT_SERVICES_H
#define EDGECR_TENANT_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct tenant_platform;

#define TENANT_KV_ROOT_DEFAULT "/var/lib/edgecr/kv"
#define TENANT_DEVICE_MAP_DEFAULT "/etc/edgecr/devices.json"
#define TENANT_IIO_ROOT_DEFAULT "/sys/bus/iio/devices"
#define TENANT_GPIO_DEV_DEFAULT "/dev"

/* option when given, else $EDGECR_KV_ROOT / $EDGECR_DEVICE_MAP, else the default. */
const char *tenant_kv_root(const char *option);
const char *tenant_device_map_path(const char *option);

struct tenant_services_cfg {
  const char *kv_root;             /* NULL: tenant_kv_root(NULL) */
  const char *tenant_id;           /* NULL: no kv store (kv calls: EDGECR_ENOSYS) */
  const char *device_map;          /* NULL: tenant_device_map_path(NULL); a missing default file = empty map */
  uint64_t kv_map_size;            /* LMDB map size; 0: TENANT_KV_MAP_SIZE_DEFAULT */
};

/* Open early (see above): the kv environment of cfg->tenant_id and every
 * device of the device map.  A device of the map that is missing or fails
 * is not an error here (its open later returns EDGECR_EIO and the reason is
 * kept for the log); a bad map file or kv store is (file:field: reason). */
int tenant_linux_services_open(const struct tenant_services_cfg *cfg, edgecr_error_t *err);
void tenant_linux_services_close(void);
/* The descriptors tenant_linux_services_open opened (the kv store's files,
 * device directories, GPIO chips): a runtime that closes inherited
 * descriptors before it runs the payload must keep these.  Fills at most
 * cap, returns how many there are. */
size_t tenant_linux_services_fds(int *out, size_t cap);

/* Why a mapped device cannot be used, to the operator: through the
 * platform's report (p is the Linux platform context, struct tenant_linux;
 * NULL: nothing is reported). */
__attribute__((format(printf, 2, 3))) void tenant_services_report(void *p, const char *fmt, ...);

/* ---- kv (kv.c) ---- */
#define TENANT_KV_MAP_SIZE_DEFAULT (sizeof(void *) >= 8 ? (1ull << 30) : (64ull << 20))
/* Open (creating it, mode 0700) ROOT/<tenant-id>/, one LMDB environment per
 * tenant holding one named database per namespace. */
int tenant_linux_kv_configure(const char *root, const char *tenant_id, uint64_t map_size, edgecr_error_t *err);
void tenant_linux_kv_shutdown(void);
void tenant_linux_kv_ops(struct tenant_platform *pf);
/* Bytes (keys + values) the namespace holds now, or -1 (for tests and `edgecr state`). */
int64_t tenant_linux_kv_usage(void *obj);

/* ---- the device map (devmap.c) ---- */
struct tenant_sensor_dev {
  char id[64];
  char root[4096];                 /* the directory holding iio:deviceN */
  char device[64];                 /* "iio:device0" (resolved from `name` if given so) */
  char channel[64];                /* "temp", "voltage0", "accel_x" */
  double factor;                   /* extra factor to SI units (IIO temp is milli-degrees: 0.001) */
  int dirfd;                       /* root/device, opened early; -1 if it failed */
  char why[4400];                   /* why dirfd is -1 */
};

struct tenant_gpio_dev {
  char line[64];
  char chip[4096];                 /* a path, or a name under /dev ("gpiochip0") */
  unsigned offset;
  bool active_low;
  void *chip_obj;                  /* struct gpiod_chip *, opened early (gpio.c); NULL if it failed */
  char why[4400];
};

struct tenant_devmap {
  size_t n_sensors, n_gpio;
  struct tenant_sensor_dev *sensors;
  struct tenant_gpio_dev *gpio;
};

/* Parse a device map (JSON):
 *   {"iio-root": DIR?, "sensors": {ID: {"device": "iio:deviceN" | "name": NAME,
 *      "channel": CHAN, "root": DIR?, "factor": NUM?}},
 *    "gpio": {LINE: {"chip": "gpiochipN" | PATH, "offset": N, "active-low": BOOL?}}}
 * Errors: "<file>: `sensors.temp0.channel`: reason".  Opens nothing. */
int tenant_devmap_parse(const char *file, const char *text, size_t len, struct tenant_devmap *m,
                        edgecr_error_t *err);
/* Read and parse path; a missing file is an empty map when !required. */
int tenant_devmap_load(const char *path, bool required, struct tenant_devmap *m, edgecr_error_t *err);
void tenant_devmap_free(struct tenant_devmap *m);
/* The process's map (set by tenant_linux_services_open). */
struct tenant_devmap *tenant_devmap_current(void);

/* ---- sensors (iio.c) ---- */
/* Open the IIO device directory of every sensor of m (keeps dirfd). */
void tenant_linux_iio_open_all(struct tenant_devmap *m);
void tenant_linux_iio_ops(struct tenant_platform *pf);
/* The value of a sensor by its directory fd and channel (for tests):
 * (raw + offset) * scale * factor; a negative EDGECR_E* on failure. */
int tenant_iio_read(int dirfd, const char *channel, double factor, double *value);

/* ---- GPIO (gpio.c) ---- */
void tenant_linux_gpio_open_all(struct tenant_devmap *m);
void tenant_linux_gpio_close_all(struct tenant_devmap *m);
void tenant_linux_gpio_ops(struct tenant_platform *pf);

#endif
