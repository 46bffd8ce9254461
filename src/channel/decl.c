/* decl.c - a channel's declaration: read from JSON and checked against the
 * limits, with every error naming the file and the field. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chanlib.h"

static int field_err(edgecr_error_t *err, const char *file, const char *chan, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int field_err(edgecr_error_t *err, const char *file, const char *chan, const char *field,
                     const char *fmt, ...)
{
  char prefix[ECHAN_NAME_MAX + 16];
  snprintf(prefix, sizeof prefix, "channels.%s.", chan && *chan ? chan : "?");
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_fieldv(err, file ? file : "channel", prefix, field, fmt, ap);
  va_end(ap);
  return -1;
}

static bool name_ok(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > ECHAN_NAME_MAX || s[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  }
  return true;
}

uint64_t edgecr_channel_data_size(const struct edgecr_channel_decl *d)
{
  return ECHAN_PAGE + (uint64_t)d->depth * echan_stride(d->msg_size);
}

int edgecr_channel_decl_check(const struct edgecr_channel_decl *d, const char *file, edgecr_error_t *err)
{
  const char *n = d->name;
  if (!name_ok(n))
    return field_err(err, file, n, "name", "`%s`: must be 1..%u characters of [A-Za-z0-9_.-], not starting with '.'",
                     n, ECHAN_NAME_MAX);
  if (d->kind != ECHAN_FIFO && d->kind != ECHAN_LATEST)
    return field_err(err, file, n, "kind", "must be `fifo` or `latest`");
  if (d->msg_size == 0 || d->msg_size > ECHAN_MAX_MSG)
    return field_err(err, file, n, "message_size", "%u: must be 1..%u bytes", d->msg_size, ECHAN_MAX_MSG);
  uint32_t min_depth = d->kind == ECHAN_LATEST ? 2 : 1;
  if (d->depth < min_depth || d->depth > ECHAN_MAX_DEPTH)
    return field_err(err, file, n, "depth", "%u: must be %u..%u", d->depth, min_depth, ECHAN_MAX_DEPTH);
  if (d->writers != 1)
    return field_err(err, file, n, "writers", "%u writers: a channel has exactly one writer "
                     "(several writers are not supported)", d->writers);
  if (d->readers == 0 || d->readers > ECHAN_MAX_READERS)
    return field_err(err, file, n, "readers", "%u readers: must be 1..%u", d->readers, ECHAN_MAX_READERS);
  if (d->wait_mode != ECHAN_WAIT_POLL && d->wait_mode != ECHAN_WAIT_FUTEX)
    return field_err(err, file, n, "wait", "must be `poll` or `futex`");
  if (d->kind == ECHAN_FIFO && d->full_policy != ECHAN_FULL_FAIL && d->full_policy != ECHAN_FULL_OVERWRITE)
    return field_err(err, file, n, "full", "must be `fail` or `overwrite`");
  if (d->kind == ECHAN_LATEST && d->full_policy != 0)
    return field_err(err, file, n, "full", "a latest-value channel is never full: leave `full` out");
  if ((uint64_t)d->depth * echan_stride(d->msg_size) > ECHAN_MAX_FILE)
    return field_err(err, file, n, "depth", "%u x %u bytes: more than %llu MiB of messages", d->depth,
                     d->msg_size, ECHAN_MAX_FILE >> 20);
  return 0;
}

/* Reads a count given either as a number or as the list of container names
 * (which must be non-empty strings, each listed once). */
static int get_count(const json_t *v, const char *file, const char *chan, const char *field, uint32_t *out,
                     edgecr_error_t *err)
{
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0 || i > 1000000)
      return field_err(err, file, chan, field, "%lld: out of range", (long long)i);
    *out = (uint32_t)i;
    return 0;
  }
  if (!json_is_array(v))
    return field_err(err, file, chan, field, "must be a list of container names or a count");
  size_t i, j;
  json_t *e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e) || json_string_length(e) == 0)
      return field_err(err, file, chan, field, "entry %zu: must be a container name", i);
    for (j = 0; j < i; j++)
      if (json_equal(e, json_array_get(v, j)))
        return field_err(err, file, chan, field, "`%s` is listed twice", json_string_value(e));
  }
  *out = (uint32_t)json_array_size(v) > 1000000 ? 1000000 : (uint32_t)json_array_size(v);
  return 0;
}

static int get_u32(const json_t *obj, const char *file, const char *chan, const char *field, uint32_t *out,
                   edgecr_error_t *err)
{
  json_t *v = json_object_get(obj, field);
  if (!v)
    return 0; /* keep the default */
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
    return field_err(err, file, chan, field, "must be a non-negative integer below 2^32");
  *out = (uint32_t)json_integer_value(v);
  return 0;
}

/* A string field mapped onto a value: names[i] -> vals[i]. */
static int get_enum(const json_t *obj, const char *file, const char *chan, const char *field,
                    const char *const *names, const uint32_t *vals, size_t n, uint32_t *out,
                    edgecr_error_t *err)
{
  json_t *v = json_object_get(obj, field);
  if (!v)
    return 0;
  const char *s = json_string_value(v);
  for (size_t i = 0; s && i < n; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = vals[i];
      return 0;
    }
  return field_err(err, file, chan, field, "must be `%s` or `%s`", names[0], names[1]);
}

int edgecr_channel_decl_from_json(const json_t *obj, const char *file, struct edgecr_channel_decl *d,
                                  edgecr_error_t *err)
{
  memset(d, 0, sizeof *d);
  if (!json_is_object(obj))
    return field_err(err, file, "?", "", "a channel must be an object");
  json_t *name = json_object_get(obj, "name");
  if (!json_is_string(name))
    return field_err(err, file, "?", "name", "missing or not a string");
  const char *nm = json_string_value(name);
  if (strlen(nm) > ECHAN_NAME_MAX || !name_ok(nm))
    return field_err(err, file, "?", "name", "`%.80s`: must be 1..%u characters of [A-Za-z0-9_.-], "
                     "not starting with '.'", nm, ECHAN_NAME_MAX);
  strcpy(d->name, nm);
  static const char *const kinds[] = {"fifo", "latest"}, *const waits[] = {"poll", "futex"},
                           *const fulls[] = {"fail", "overwrite"};
  static const uint32_t kindv[] = {ECHAN_FIFO, ECHAN_LATEST}, waitv[] = {ECHAN_WAIT_POLL, ECHAN_WAIT_FUTEX},
                        fullv[] = {ECHAN_FULL_FAIL, ECHAN_FULL_OVERWRITE};
  static const char *const known[] = {"name", "kind", "message_size", "depth", "writers", "readers", "wait", "full"};
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    size_t k = 0;
    while (k < sizeof known / sizeof known[0] && strcmp(key, known[k]) != 0)
      k++;
    if (k == sizeof known / sizeof known[0])
      return field_err(err, file, nm, key, "unknown field");
  }
  if (!json_object_get(obj, "kind"))
    return field_err(err, file, nm, "kind", "missing (`fifo` or `latest`)");
  if (!json_object_get(obj, "message_size"))
    return field_err(err, file, nm, "message_size", "missing");
  if (get_enum(obj, file, nm, "kind", kinds, kindv, 2, &d->kind, err) < 0)
    return -1;
  d->depth = d->kind == ECHAN_LATEST ? 2 : 0;
  d->wait_mode = ECHAN_WAIT_POLL;
  d->full_policy = d->kind == ECHAN_FIFO ? ECHAN_FULL_FAIL : 0;
  if (d->kind == ECHAN_FIFO && !json_object_get(obj, "depth"))
    return field_err(err, file, nm, "depth", "missing");
  for (size_t i = 0; i < 2; i++) {
    const char *f = i ? "readers" : "writers";
    json_t *v = json_object_get(obj, f);
    if (!v)
      return field_err(err, file, nm, f, "missing");
    if (get_count(v, file, nm, f, i ? &d->readers : &d->writers, err) < 0)
      return -1;
  }
  if (d->kind == ECHAN_LATEST && json_object_get(obj, "full"))
    return field_err(err, file, nm, "full", "a latest-value channel is never full: leave `full` out");
  if (get_u32(obj, file, nm, "message_size", &d->msg_size, err) < 0 ||
      get_u32(obj, file, nm, "depth", &d->depth, err) < 0 ||
      get_enum(obj, file, nm, "wait", waits, waitv, 2, &d->wait_mode, err) < 0 ||
      get_enum(obj, file, nm, "full", fulls, fullv, 2, &d->full_policy, err) < 0)
    return -1;
  return edgecr_channel_decl_check(d, file, err);
}

json_t *edgecr_channel_decl_json(const struct edgecr_channel_decl *d)
{
  json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "kind", d->kind == ECHAN_LATEST ? "latest" : "fifo",
                        "message_size", (json_int_t)d->msg_size, "depth", (json_int_t)d->depth, "writers",
                        (json_int_t)d->writers, "readers", (json_int_t)d->readers, "wait",
                        d->wait_mode == ECHAN_WAIT_FUTEX ? "futex" : "poll");
  if (d->kind == ECHAN_FIFO)
    json_object_set_new(o, "full", json_string(d->full_policy == ECHAN_FULL_OVERWRITE ? "overwrite" : "fail"));
  return o;
}
