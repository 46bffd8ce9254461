/* tenant_err.c - how the tenant core reports a refusal: the field path and
 * the reason, into the caller's struct tenant_err (no allocation). */
#include <stdarg.h>
#include <stdio.h>

#include "meta.h"

int tenant_fail(struct tenant_err *e, const char *path, const char *fmt, ...)
{
  snprintf(e->path, sizeof e->path, "%s", path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->reason, sizeof e->reason, fmt, ap);
  va_end(ap);
  return -1;
}
