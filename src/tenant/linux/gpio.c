/* gpio.c - the GPIO service on Linux: the GPIO character device through
 * libgpiod (Debian 12: libgpiod 1.6, the v1 line-handle uapi).
 *
 * A line name of the device map is a chip (/dev/gpiochipN or a path) and an
 * offset.  The chips are opened early (tenant_services.h) and kept open:
 * libgpiod needs the chip's path (and /sys/bus/gpio) only to open it, after
 * that it talks to the descriptor, so the payload uses the lines from
 * inside the container's root without /dev or /sys there.  A line is
 * requested at open in the direction asked (output starts low), with the
 * consumer label "edgecr:<tenant-id>" (cut at 31 bytes), and released at close; a line another process
 * (or handle) holds is EDGECR_EBUSY, as the kernel says. */
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "tenant_platform.h"
#include "tenant_services.h"
#include "util.h"

#define GPIO_CONSUMER "edgecr"

struct gpio_line {
  struct gpiod_line *line;
  int dir;
};

static void chip_path(const char *chip, char *out, size_t cap)
{
  if (chip[0] == '/')
    snprintf(out, cap, "%s", chip);
  else
    snprintf(out, cap, "%s/%s", TENANT_GPIO_DEV_DEFAULT, chip);
}

void tenant_linux_gpio_open_all(struct tenant_devmap *m)
{
  for (size_t i = 0; i < m->n_gpio; i++) {
    struct tenant_gpio_dev *g = &m->gpio[i];
    for (size_t j = 0; j < i && g->chip_obj == NULL; j++)   /* one open per chip */
      if (strcmp(m->gpio[j].chip, g->chip) == 0 && m->gpio[j].chip_obj != NULL)
        g->chip_obj = m->gpio[j].chip_obj;
    if (g->chip_obj != NULL)
      continue;
    char path[4200];
    chip_path(g->chip, path, sizeof path);
    g->chip_obj = gpiod_chip_open(path);
    if (g->chip_obj == NULL)
      snprintf(g->why, sizeof g->why, "open GPIO chip `%s`: %s", path, strerror(errno));
  }
}

void tenant_linux_gpio_close_all(struct tenant_devmap *m)
{
  for (size_t i = 0; i < m->n_gpio; i++) {
    void *c = m->gpio[i].chip_obj;
    if (c == NULL)
      continue;
    for (size_t j = i; j < m->n_gpio; j++)   /* shared: clear every user before closing once */
      if (m->gpio[j].chip_obj == c)
        m->gpio[j].chip_obj = NULL;
    gpiod_chip_close(c);
  }
}

static int gpio_code(int e)
{
  switch (e) {
  case EBUSY: return EDGECR_EBUSY;
  case EINVAL: case EPERM: return EDGECR_EINVAL;
  default: return EDGECR_EIO;
  }
}

static int gpio_open(void *p, const char *name, int dir, void **obj)
{
  if (dir != TENANT_GPIO_IN && dir != TENANT_GPIO_OUT)
    return EDGECR_EINVAL;
  struct tenant_devmap *m = tenant_devmap_current();
  const struct tenant_gpio_dev *g = NULL;
  for (size_t i = 0; i < m->n_gpio && g == NULL; i++)
    if (strcmp(m->gpio[i].line, name) == 0)
      g = &m->gpio[i];
  if (g == NULL)
    return EDGECR_ENOENT;
  if (g->chip_obj == NULL) {   /* mapped, but the chip is not there */
    tenant_services_report(p, "GPIO line `%s`: %s", name, g->why);
    return EDGECR_EIO;
  }
  struct gpiod_line *line = gpiod_chip_get_line(g->chip_obj, g->offset);
  if (line == NULL) {
    tenant_services_report(p, "GPIO line `%s`: offset %u of chip `%s`: %s", name, g->offset, g->chip, strerror(errno));
    return EDGECR_EIO;
  }
  /* the consumer the kernel shows (gpioinfo): which tenant holds the line */
  char consumer[32] = GPIO_CONSUMER;
  struct tenant_linux *t = p;
  if (t != NULL)
    snprintf(consumer, sizeof consumer, GPIO_CONSUMER ":%.24s", t->ctx.meta.id);
  struct gpiod_line_request_config rc = {
      .consumer = consumer,
      .request_type = dir == TENANT_GPIO_IN ? GPIOD_LINE_REQUEST_DIRECTION_INPUT : GPIOD_LINE_REQUEST_DIRECTION_OUTPUT,
      .flags = g->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0,
  };
  if (gpiod_line_request(line, &rc, 0) < 0)
    return gpio_code(errno);
  struct gpio_line *l = calloc(1, sizeof *l);
  if (l == NULL) {
    gpiod_line_release(line);
    return EDGECR_EIO;
  }
  l->line = line;
  l->dir = dir;
  *obj = l;
  return EDGECR_OK;
}

static int gpio_get(void *p, void *obj)
{
  (void) p;
  int v = gpiod_line_get_value(((struct gpio_line *) obj)->line);
  return v < 0 ? gpio_code(errno) : v;
}

static int gpio_set(void *p, void *obj, int value)
{
  (void) p;
  struct gpio_line *l = obj;
  if (value != 0 && value != 1)
    return EDGECR_EINVAL;
  if (l->dir != TENANT_GPIO_OUT)
    return EDGECR_EINVAL;   /* the kernel refuses it too (EPERM): an input is not driven */
  return gpiod_line_set_value(l->line, value) < 0 ? gpio_code(errno) : EDGECR_OK;
}

static void gpio_close(void *p, void *obj)
{
  (void) p;
  gpiod_line_release(((struct gpio_line *) obj)->line);
  free(obj);
}

void tenant_linux_gpio_ops(struct tenant_platform *pf)
{
  pf->gpio_open = gpio_open;
  pf->gpio_get = gpio_get;
  pf->gpio_set = gpio_set;
  pf->gpio_close = gpio_close;
}
