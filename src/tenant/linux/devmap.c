/* devmap.c - the node's device map: which sensor id is which IIO channel,
 * which GPIO line name is which chip and offset.  Node configuration, not
 * tenant metadata: a tenant's grants name sensor ids and line names, and
 * only the node knows what they are (docs/tenants.md, "The device map").
 * The file is JSON (/etc/edgecr/devices.json, or $EDGECR_DEVICE_MAP); every
 * error names the file, the field and the reason. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "meta.h"
#include "tenant_platform.h"
#include "tenant_services.h"
#include "util.h"

static struct tenant_devmap current;

struct tenant_devmap *tenant_devmap_current(void) { return &current; }

void tenant_services_report(void *p, const char *fmt, ...)
{
  struct tenant_linux *t = p;
  static unsigned long long last_ns;   /* at most one a second: a tenant may retry in a loop */
  unsigned long long now = now_ns();
  if (t == NULL || t->pf.report == NULL || (last_ns != 0 && now - last_ns < 1000000000ull))
    return;
  last_ns = now;
  char msg[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  t->pf.report(p, msg);
}

const char *tenant_device_map_path(const char *option)
{
  if (option != NULL && option[0] != '\0')
    return option;
  const char *env = getenv("EDGECR_DEVICE_MAP");
  return env != NULL && env[0] != '\0' ? env : TENANT_DEVICE_MAP_DEFAULT;
}

__attribute__((format(printf, 4, 5))) static int field_err(edgecr_error_t *err, const char *file, const char *field,
                                                           const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_fieldv(err, file, "", field, fmt, ap);
  va_end(ap);
  return -1;
}

/* A string member into out (bounded); absent is fine unless required. */
static int get_str(const char *file, const char *path, json_t *obj, const char *key, bool required, char *out,
                   size_t cap, edgecr_error_t *err)
{
  char field[256];
  snprintf(field, sizeof field, "%s.%s", path, key);
  json_t *v = json_object_get(obj, key);
  if (v == NULL)
    return required ? field_err(err, file, field, "missing") : 0;
  if (!json_is_string(v))
    return field_err(err, file, field, "expected a string");
  const char *s = json_string_value(v);
  if (s[0] == '\0' || strlen(s) >= cap)
    return field_err(err, file, field, "must be 1..%zu characters", cap - 1);
  memcpy(out, s, strlen(s) + 1);
  return 1;
}

/* Every member of obj must be one of the allowed keys. */
static int only_keys(const char *file, const char *path, json_t *obj, const char *const *allowed, edgecr_error_t *err)
{
  const char *k;
  json_t *v;
  json_object_foreach (obj, k, v) {
    bool ok = false;
    for (size_t i = 0; allowed[i] != NULL; i++)
      ok = ok || strcmp(k, allowed[i]) == 0;
    if (!ok) {
      char field[256];
      snprintf(field, sizeof field, "%s%s%s", path, path[0] ? "." : "", k);
      return field_err(err, file, field, "unknown field");
    }
  }
  return 0;
}

static int check_id(const char *file, const char *field, const char *id, edgecr_error_t *err)
{
  if (!tenant_name_valid(id, strlen(id)))
    return field_err(err, file, field, "not a valid name (1..63 of A-Z a-z 0-9 . _ - :, not starting with '.')");
  return 0;
}

/* "iio:deviceN" whose `name` file is NAME, under root. */
static int find_iio_by_name(const char *root, const char *name, char *out, size_t cap)
{
  for (int i = 0; i < 1024; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/iio:device%d/name", root, i);
    cleanup_free char *text = NULL;
    edgecr_error_t e = NULL;
    if (read_all_file(path, &text, &e) < 0) {
      bool gone = edgecr_error_errno(&e) == ENOENT;
      edgecr_error_release(&e);
      if (gone && i > 64)
        break;
      continue;
    }
    text[strcspn(text, "\n")] = '\0';
    if (strcmp(text, name) == 0) {
      snprintf(out, cap, "iio:device%d", i);
      return 0;
    }
  }
  return -1;
}

static int parse_sensor(const char *file, const char *id, json_t *v, const char *iio_root, struct tenant_sensor_dev *s,
                        edgecr_error_t *err)
{
  static const char *const keys[] = {"device", "name", "channel", "root", "factor", NULL};
  char path[128], field[192];
  snprintf(path, sizeof path, "sensors.%s", id);
  if (check_id(file, path, id, err) < 0)
    return -1;
  if (!json_is_object(v))
    return field_err(err, file, path, "expected an object");
  if (only_keys(file, path, v, keys, err) < 0)
    return -1;
  snprintf(s->id, sizeof s->id, "%s", id);
  s->dirfd = -1;
  s->factor = 1.0;
  snprintf(s->root, sizeof s->root, "%s", iio_root);
  if (get_str(file, path, v, "root", false, s->root, sizeof s->root, err) < 0 ||
      get_str(file, path, v, "channel", true, s->channel, sizeof s->channel, err) < 0)
    return -1;
  if (strchr(s->channel, '/') != NULL) {
    snprintf(field, sizeof field, "%s.channel", path);
    return field_err(err, file, field, "a channel name has no '/'");
  }
  char name[64] = "";
  int has_dev = get_str(file, path, v, "device", false, s->device, sizeof s->device, err);
  int has_name = has_dev < 0 ? -1 : get_str(file, path, v, "name", false, name, sizeof name, err);
  if (has_name < 0)
    return -1;
  if (has_dev + has_name != 1)
    return field_err(err, file, path, "give exactly one of `device` (iio:deviceN) and `name` (the device's name)");
  snprintf(field, sizeof field, "%s.device", path);
  if (has_dev && (!str_has_prefix(s->device, "iio:device") || strchr(s->device, '/') != NULL))
    return field_err(err, file, field, "expected iio:deviceN");
  if (has_name && find_iio_by_name(s->root, name, s->device, sizeof s->device) < 0)
    snprintf(s->why, sizeof s->why, "no IIO device named `%s` under %s", name, s->root);
  json_t *f = json_object_get(v, "factor");
  if (f != NULL) {
    snprintf(field, sizeof field, "%s.factor", path);
    if (!json_is_number(f) || json_number_value(f) == 0.0)
      return field_err(err, file, field, "expected a non-zero number");
    s->factor = json_number_value(f);
  }
  return 0;
}

static int parse_gpio(const char *file, const char *line, json_t *v, struct tenant_gpio_dev *g, edgecr_error_t *err)
{
  static const char *const keys[] = {"chip", "offset", "active-low", NULL};
  char path[128], field[192];
  snprintf(path, sizeof path, "gpio.%s", line);
  if (check_id(file, path, line, err) < 0)
    return -1;
  if (!json_is_object(v))
    return field_err(err, file, path, "expected an object");
  if (only_keys(file, path, v, keys, err) < 0)
    return -1;
  snprintf(g->line, sizeof g->line, "%s", line);
  if (get_str(file, path, v, "chip", true, g->chip, sizeof g->chip, err) < 0)
    return -1;
  json_t *o = json_object_get(v, "offset");
  snprintf(field, sizeof field, "%s.offset", path);
  if (o == NULL)
    return field_err(err, file, field, "missing");
  if (!json_is_integer(o) || json_integer_value(o) < 0 || json_integer_value(o) > 65535)
    return field_err(err, file, field, "expected an integer 0..65535");
  g->offset = (unsigned) json_integer_value(o);
  json_t *al = json_object_get(v, "active-low");
  snprintf(field, sizeof field, "%s.active-low", path);
  if (al != NULL && !json_is_boolean(al))
    return field_err(err, file, field, "expected true or false");
  g->active_low = al != NULL && json_is_true(al);
  return 0;
}

static int parse_root(const char *file, json_t *root, struct tenant_devmap *m, edgecr_error_t *err)
{
  static const char *const keys[] = {"iio-root", "sensors", "gpio", NULL};
  if (!json_is_object(root))
    return field_err(err, file, "(top)", "expected an object");
  if (only_keys(file, "", root, keys, err) < 0)
    return -1;
  char iio_root[4096] = TENANT_IIO_ROOT_DEFAULT;
  if (get_str(file, "", root, "iio-root", false, iio_root, sizeof iio_root, err) < 0)
    return -1;
  json_t *sens = json_object_get(root, "sensors"), *gpio = json_object_get(root, "gpio");
  if (sens != NULL && !json_is_object(sens))
    return field_err(err, file, "sensors", "expected an object (sensor id: device)");
  if (gpio != NULL && !json_is_object(gpio))
    return field_err(err, file, "gpio", "expected an object (line name: chip and offset)");
  m->sensors = xmalloc0((json_object_size(sens) + 1) * sizeof *m->sensors);
  m->gpio = xmalloc0((json_object_size(gpio) + 1) * sizeof *m->gpio);
  const char *k;
  json_t *v;
  json_object_foreach (sens, k, v) {
    if (parse_sensor(file, k, v, iio_root, &m->sensors[m->n_sensors], err) < 0)
      return -1;
    m->n_sensors++;
  }
  json_object_foreach (gpio, k, v) {
    if (parse_gpio(file, k, v, &m->gpio[m->n_gpio], err) < 0)
      return -1;
    m->n_gpio++;
  }
  return 0;
}

int tenant_devmap_parse(const char *file, const char *text, size_t len, struct tenant_devmap *m, edgecr_error_t *err)
{
  memset(m, 0, sizeof *m);
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL)
    return edgecr_error_invalid(err, "%s:%d: %s", file, je.line, je.text);
  int rc = parse_root(file, root, m, err);
  json_decref(root);
  if (rc < 0)
    tenant_devmap_free(m);
  return rc;
}

int tenant_devmap_load(const char *path, bool required, struct tenant_devmap *m, edgecr_error_t *err)
{
  memset(m, 0, sizeof *m);
  cleanup_free char *text = NULL;
  ssize_t n = read_all_file(path, &text, err);
  if (n < 0) {
    if (!required && edgecr_error_errno(err) == ENOENT) {
      edgecr_error_release(err);
      return 0;
    }
    return edgecr_error_wrap(err, "device map");
  }
  return tenant_devmap_parse(path, text, (size_t) n, m, err);
}

void tenant_devmap_free(struct tenant_devmap *m)
{
  tenant_linux_gpio_close_all(m);
  for (size_t i = 0; i < m->n_sensors; i++)
    if (m->sensors[i].dirfd >= 0)
      close(m->sensors[i].dirfd);
  free(m->sensors);
  free(m->gpio);
  memset(m, 0, sizeof *m);
}

/* The descriptors the services opened: those open after and not before.
 * (LMDB has no call that lists its descriptors: the lock file's is internal.) */
#define SERVICES_MAX_FDS 256
static int services_fds[SERVICES_MAX_FDS];
static size_t n_services_fds;

/* Open descriptors, as a bitmap of the first 8192. */
static void open_fds(uint8_t map[1024])
{
  memset(map, 0, 1024);
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {   /* no /proc: ask each one */
    for (int fd = 0; fd < 8192; fd++)
      if (fcntl(fd, F_GETFD) >= 0)
        map[fd / 8] |= (uint8_t) (1u << (fd % 8));
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long long fd;
    if (parse_int64(e->d_name, &fd) == 0 && fd >= 0 && fd < 8192 && fd != dirfd(d))
      map[fd / 8] |= (uint8_t) (1u << (fd % 8));
  }
  closedir(d);
}

size_t tenant_linux_services_fds(int *out, size_t cap)
{
  for (size_t i = 0; i < n_services_fds && i < cap; i++)
    out[i] = services_fds[i];
  return n_services_fds;
}

static int services_open(const struct tenant_services_cfg *cfg, edgecr_error_t *err);

int tenant_linux_services_open(const struct tenant_services_cfg *cfg, edgecr_error_t *err)
{
  uint8_t before[1024], after[1024];
  open_fds(before);
  int rc = services_open(cfg, err);
  open_fds(after);
  n_services_fds = 0;
  for (int fd = 0; fd < 8192 && n_services_fds < SERVICES_MAX_FDS; fd++)
    if ((after[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8)))
      services_fds[n_services_fds++] = fd;
  return rc;
}

static int services_open(const struct tenant_services_cfg *cfg, edgecr_error_t *err)
{
  const char *map = tenant_device_map_path(cfg->device_map);
  /* The default path may be absent (a node with no devices); a named one must exist. */
  bool required = cfg->device_map != NULL || getenv("EDGECR_DEVICE_MAP") != NULL;
  tenant_devmap_free(&current);
  if (tenant_devmap_load(map, required, &current, err) < 0)
    return -1;
  tenant_linux_iio_open_all(&current);
  tenant_linux_gpio_open_all(&current);
  if (cfg->tenant_id != NULL &&
      tenant_linux_kv_configure(tenant_kv_root(cfg->kv_root), cfg->tenant_id, cfg->kv_map_size, err) < 0) {
    tenant_devmap_free(&current);
    return -1;
  }
  return 0;
}

void tenant_linux_services_close(void)
{
  n_services_fds = 0;
  tenant_linux_kv_shutdown();
  tenant_devmap_free(&current);
}
