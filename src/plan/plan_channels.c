/* plan_channels.c - a plan's channels in the compiled entries and in the
 * generated configs (plan_channels.h). */
#include "plan_channels.h"

#include <string.h>

#include "util.h"

static json_t *names_json(char **v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* Index of name in the NULL-terminated v, or -1. */
static int index_of(char **v, const char *name)
{
  for (int i = 0; v && v[i]; i++)
    if (strcmp(v[i], name) == 0)
      return i;
  return -1;
}

json_t *plan_compile_channels(const struct plan_config *c, const char *name)
{
  json_t *out = NULL;
  for (size_t i = 0; i < c->n_channels; i++) {
    const struct plan_channel *ch = &c->channels[i];
    int w = index_of(ch->writers, name), r = index_of(ch->readers, name);
    if (w < 0 && r < 0)
      continue;
    json_t *o = edgecr_channel_decl_json(&ch->decl);
    json_object_set_new(o, "writers", names_json(ch->writers));
    json_object_set_new(o, "readers", names_json(ch->readers));
    if (w >= 0)
      json_object_set_new(o, "writer", json_true());
    if (r >= 0)
      json_object_set_new(o, "reader", json_integer(r));
    if (out == NULL)
      out = json_object();
    json_object_set_new(out, ch->decl.name, o);
  }
  return out;
}

void plan_channel_annotations(json_t *cfg, const json_t *entry)
{
  json_t *chans = json_object_get(entry, "channels");
  if (!json_is_object(chans) || json_object_size(chans) == 0)
    return;
  json_t *ann = json_object_get(cfg, "annotations");
  if (!json_is_object(ann)) {
    ann = json_object();
    json_object_set_new(cfg, "annotations", ann);
  }
  const char *name;
  json_t *v;
  json_object_foreach(chans, name, v) {
    cleanup_free char *key = xasprintf("%s%s", EDGECR_CHANNEL_ANNOTATION, name);
    cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(ann, key, json_string(text));
  }
}
