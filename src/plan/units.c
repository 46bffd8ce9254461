/* units.c - durations ("10ms") and sizes ("64MiB") as people write them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct unit {
  const char *suffix;
  double scale;
};

/* Parse "<number><suffix>" with a suffix from the table; the number may
 * have a fraction.  The result must be a whole, non-negative count. */
static int parse_with_units(const char *s, const struct unit *units, double *out)
{
  if (s == NULL || !isdigit((unsigned char) s[0]))
    return -1;
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s)
    return -1;
  while (*end == ' ')
    end++;
  for (const struct unit *u = units; u->suffix; u++) {
    if (strcmp(end, u->suffix) == 0) {
      *out = v * u->scale;
      return isfinite(*out) && *out >= 0 && *out < 9.2e18 ? 0 : -1;
    }
  }
  return -1;
}

int plan_parse_duration(const char *s, int64_t *ns)
{
  static const struct unit units[] = {
    {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {NULL, 0},
  };
  double v;
  if (parse_with_units(s, units, &v) < 0 || v != floor(v))
    return -1;
  *ns = (int64_t) v;
  return 0;
}

int plan_parse_size(const char *s, uint64_t *bytes)
{
  static const struct unit units[] = {
    {"", 1}, {"B", 1}, {"K", 1024.0}, {"KiB", 1024.0}, {"k", 1024.0},
    {"M", 1048576.0}, {"MiB", 1048576.0}, {"G", 1073741824.0}, {"GiB", 1073741824.0},
    {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {NULL, 0},
  };
  double v;
  if (parse_with_units(s, units, &v) < 0 || v != floor(v))
    return -1;
  *bytes = (uint64_t) v;
  return 0;
}

const char *plan_format_duration(int64_t ns, char *buf, size_t len)
{
  int64_t a = ns < 0 ? -ns : ns;
  if (a >= 1000000000 )
    snprintf(buf, len, "%.4gs", ns / 1e9);
  else if (a >= 1000000)
    snprintf(buf, len, "%.4gms", ns / 1e6);
  else if (a >= 1000)
    snprintf(buf, len, "%.4gus", ns / 1e3);
  else
    snprintf(buf, len, "%lldns", (long long) ns);
  return buf;
}

const char *plan_noun(long long n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}
