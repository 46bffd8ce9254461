/* identity.c - container identity of identity.h. */
#include "identity.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Top-level fields that do not change what runs. */
static const char *const ignored[] = {"checksum", "start_order", "depends_on", "source_line", "source_index", NULL};
/* Inside "realtime": the analysis and the declared requirements. */
static const char *const ignored_rt[] = {"analysis", "requirements", NULL};

static void drop(json_t *o, const char *const *keys)
{
  for (size_t i = 0; keys[i]; i++)
    json_object_del(o, keys[i]);
}

json_t *plan_container_identity(const json_t *container)
{
  json_t *id = json_deep_copy(container);
  if (!json_is_object(id))
    return id ? id : json_null();
  drop(id, ignored);
  json_t *rt = json_object_get(id, "realtime");
  if (json_is_object(rt))
    drop(rt, ignored_rt);
  return id;
}

bool plan_same_identity(const json_t *a, const json_t *b)
{
  json_t *x = plan_container_identity(a), *y = plan_container_identity(b);
  bool same = json_equal(x, y);
  json_decref(x);
  json_decref(y);
  return same;
}

static char *show(const json_t *v)
{
  if (v == NULL)
    return xstrdup("(none)");
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  return s ? s : xstrdup("?");
}

/* The bundle's tree checksums say only "the contents differ". */
static void add_change(json_t *out, const char *path, const json_t *a, const json_t *b)
{
  if (strcmp(path, "bundle_tree") == 0) {
    json_array_append_new(out, json_string("bundle contents"));
    return;
  }
  if (strcmp(path, "bundle_meta") == 0) {
    json_array_append_new(out, json_string("bundle directory metadata"));
    return;
  }
  cleanup_free char *x = show(a), *y = show(b);
  json_array_append_new(out, json_sprintf("%s: %s -> %s", path, x, y));
}

static void walk(json_t *out, const char *prefix, const json_t *a, const json_t *b)
{
  if (json_is_object(a) && json_is_object(b)) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) a, key, v) {
      cleanup_free char *path = *prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
      json_t *w = json_object_get(b, key);
      if (w == NULL)
        add_change(out, path, v, NULL);
      else if (!json_equal(v, w))
        walk(out, path, v, w);
    }
    json_object_foreach((json_t *) b, key, v) {
      if (json_object_get(a, key) != NULL)
        continue;
      cleanup_free char *path = *prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
      add_change(out, path, NULL, v);
    }
    return;
  }
  if (!json_equal(a, b))
    add_change(out, prefix, a, b);
}

json_t *plan_identity_changes(const json_t *from, const json_t *to)
{
  json_t *x = plan_container_identity(from), *y = plan_container_identity(to), *out = json_array();
  walk(out, "", x, y);
  json_decref(x);
  json_decref(y);
  return out;
}
