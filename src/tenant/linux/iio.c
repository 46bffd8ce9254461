/* iio.c - the sensors service on Linux: the kernel's IIO sysfs interface.
 *
 * A sensor id of the device map is an IIO device directory
 * (ROOT/iio:deviceN, ROOT = /sys/bus/iio/devices unless the map says
 * otherwise) and a channel CHAN.  The value is (raw + offset) * scale
 * (Documentation/ABI/testing/sysfs-bus-iio), times the map's factor (IIO
 * gives temperatures in milli-degrees, voltages in millivolts):
 *   in_CHAN_raw      an integer;
 *   in_CHAN_scale    a decimal, or the type's shared in_TYPE_scale
 *                    (in_voltage_scale for voltage0); absent = 1;
 *   in_CHAN_offset   likewise; absent = 0.
 * The directory is opened early (tenant_services.h) and kept as a
 * descriptor: the payload reads the files with openat() from inside the
 * container's root, which need not mount /sys.  Tests point ROOT at a
 * directory with the kernel's file names and formats. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "tenant_services.h"
#include "util.h"

struct iio_sensor {
  const struct tenant_sensor_dev *dev;
};

void tenant_linux_iio_open_all(struct tenant_devmap *m)
{
  for (size_t i = 0; i < m->n_sensors; i++) {
    struct tenant_sensor_dev *s = &m->sensors[i];
    if (s->device[0] == '\0')
      continue; /* not found by name: s->why says so */
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", s->root, s->device);
    s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
      snprintf(s->why, sizeof s->why, "open `%s`: %s", path, strerror(errno));
  }
}

/* A sysfs attribute as text (one read: sysfs hands out the whole value). */
static int read_attr(int dirfd, const char *name, char *buf, size_t cap)
{
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = pread(fd, buf, cap - 1, 0);
  int e = errno;
  close(fd);
  if (n < 0)
    return -e;
  buf[n] = '\0';
  return 0;
}

/* "CHAN" -> "TYPE" for the shared attributes: the channel without its
 * index and modifier ("voltage0" -> "voltage", "accel_x" -> "accel"). */
static void channel_type(const char *chan, char *out, size_t cap)
{
  size_t n = 0;
  while (chan[n] != '\0' && !isdigit((unsigned char) chan[n]) && chan[n] != '_' && n + 1 < cap)
    n++;
  memcpy(out, chan, n);
  out[n] = '\0';
}

/* in_CHAN_<what>, else in_TYPE_<what>; *found = false when neither exists. */
static int read_number(int dirfd, const char *chan, const char *what, double *out, bool *found)
{
  char name[160], type[64], buf[64];
  snprintf(name, sizeof name, "in_%s_%s", chan, what);
  int rc = read_attr(dirfd, name, buf, sizeof buf);
  if (rc == -ENOENT) {
    channel_type(chan, type, sizeof type);
    snprintf(name, sizeof name, "in_%s_%s", type, what);
    rc = read_attr(dirfd, name, buf, sizeof buf);
  }
  *found = rc == 0;
  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return EDGECR_EIO;
  char *end;
  errno = 0;
  *out = strtod(buf, &end);
  while (*end == '\n' || *end == ' ')
    end++;
  return errno != 0 || end == buf || *end != '\0' ? EDGECR_EIO : 0;
}

int tenant_iio_read(int dirfd, const char *channel, double factor, double *value)
{
  double raw, scale = 1.0, offset = 0.0;
  bool found;
  if (read_number(dirfd, channel, "raw", &raw, &found) < 0 || !found)
    return EDGECR_EIO;
  if (read_number(dirfd, channel, "scale", &scale, &found) < 0)
    return EDGECR_EIO;
  if (!found)
    scale = 1.0;
  if (read_number(dirfd, channel, "offset", &offset, &found) < 0)
    return EDGECR_EIO;
  if (!found)
    offset = 0.0;
  *value = (raw + offset) * scale * factor;
  return EDGECR_OK;
}

static int sensor_open(void *p, const char *id, void **obj)
{
  struct tenant_devmap *m = tenant_devmap_current();
  for (size_t i = 0; i < m->n_sensors; i++) {
    if (strcmp(m->sensors[i].id, id) != 0)
      continue;
    if (m->sensors[i].dirfd < 0) {   /* mapped, but the device is not there */
      tenant_services_report(p, "sensor `%s`: %s", id, m->sensors[i].why);
      return EDGECR_EIO;
    }
    struct iio_sensor *s = calloc(1, sizeof *s);
    if (s == NULL)
      return EDGECR_EIO;
    s->dev = &m->sensors[i];
    *obj = s;
    return EDGECR_OK;
  }
  return EDGECR_ENOENT;
}

static int sensor_read(void *p, void *obj, double *value)
{
  (void) p;
  const struct tenant_sensor_dev *d = ((struct iio_sensor *) obj)->dev;
  return tenant_iio_read(d->dirfd, d->channel, d->factor, value);
}

static void sensor_close(void *p, void *obj)
{
  (void) p;
  free(obj);
}

void tenant_linux_iio_ops(struct tenant_platform *pf)
{
  pf->sensor_open = sensor_open;
  pf->sensor_read = sensor_read;
  pf->sensor_close = sensor_close;
}
