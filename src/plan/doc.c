/* doc.c - read YAML (libyaml events) or JSON (jansson check, then libyaml)
 * into the line-numbered tree of doc.h. */
#include "doc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

static void doc_freep(struct doc_node **n) { doc_free(*n); }
#define cleanup_doc __attribute__((cleanup(doc_freep)))

static void yaml_event_release(yaml_event_t *ev) { yaml_event_delete(ev); }
#define cleanup_event __attribute__((cleanup(yaml_event_release)))

/* A configuration is a few levels deep; the reader recurses once per level,
 * so a document nested tens of thousands deep would overflow the stack.
 * Deeper than this is refused (jansson's own JSON limit is 2048). */
#define DOC_MAX_DEPTH 64

struct reader {
  yaml_parser_t parser;
  const char *file;
  int depth; /* collections open around the current event */
};

static int next_event(struct reader *r, yaml_event_t *ev, edgecr_error_t *err)
{
  if (yaml_parser_parse(&r->parser, ev))
    return 0;
  return edgecr_error_make(err, 0, "%s:%zu:%zu: %s%s%s", r->file,
                           r->parser.problem_mark.line + 1, r->parser.problem_mark.column + 1,
                           r->parser.problem ? r->parser.problem : "syntax error",
                           r->parser.context ? " " : "", r->parser.context ? r->parser.context : "");
}

static struct doc_node *new_node(enum doc_kind kind, int line)
{
  struct doc_node *n = xmalloc0(sizeof *n);
  n->kind = kind;
  n->line = line;
  return n;
}

/* The arrays double when full: growing them by one entry at a time copied
 * a 10,000-container list quadratically. */
static void append(struct doc_node *n, char *key, int key_line, struct doc_node *item)
{
  if (n->n == n->cap) {
    n->cap = n->cap ? 2 * n->cap : 4;
    n->items = xrealloc(n->items, n->cap * sizeof *n->items);
    if (n->kind == DOC_MAP) {
      n->keys = xrealloc(n->keys, n->cap * sizeof *n->keys);
      n->key_lines = xrealloc(n->key_lines, n->cap * sizeof *n->key_lines);
    }
  }
  n->items[n->n] = item;
  if (n->kind == DOC_MAP) {
    n->keys[n->n] = key;
    n->key_lines[n->n] = key_line;
  }
  n->n++;
}

static struct doc_node *read_node(struct reader *r, yaml_event_t *first, edgecr_error_t *err);

/* Read entries until the end event of the collection just started. */
static struct doc_node *read_entries(struct reader *r, enum doc_kind kind, int line, edgecr_error_t *err)
{
  cleanup_doc struct doc_node *n = new_node(kind, line);
  for (;;) {
    cleanup_event yaml_event_t ev = {0};
    if (next_event(r, &ev, err) < 0)
      return NULL;
    if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
      return steal_pointer(&n);
    if (kind == DOC_SEQ) {
      struct doc_node *item = read_node(r, &ev, err);
      if (item == NULL)
        return NULL;
      append(n, NULL, 0, item);
      continue;
    }
    int key_line = (int) ev.start_mark.line + 1;
    if (ev.type != YAML_SCALAR_EVENT) {
      edgecr_error_make(err, 0, "%s:%d: mapping keys must be plain words", r->file, key_line);
      return NULL;
    }
    char *key = xstrdup((const char *) ev.data.scalar.value);
    if (doc_get(n, key) != NULL) {
      edgecr_error_make(err, 0, "%s:%d: duplicate key `%s`", r->file, key_line, key);
      free(key);
      return NULL;
    }
    cleanup_event yaml_event_t vev = {0};
    struct doc_node *value = next_event(r, &vev, err) < 0 ? NULL : read_node(r, &vev, err);
    if (value == NULL) {
      free(key);
      return NULL;
    }
    append(n, key, key_line, value);
  }
}

static struct doc_node *read_collection(struct reader *r, enum doc_kind kind, int line, edgecr_error_t *err)
{
  if (r->depth >= DOC_MAX_DEPTH) {
    edgecr_error_make(err, 0, "%s:%d: nested more than %d levels deep (a configuration needs a few)", r->file,
                      line, DOC_MAX_DEPTH);
    return NULL;
  }
  r->depth++;
  struct doc_node *n = read_entries(r, kind, line, err);
  r->depth--;
  return n;
}

static struct doc_node *read_node(struct reader *r, yaml_event_t *ev, edgecr_error_t *err)
{
  int line = (int) ev->start_mark.line + 1;
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    struct doc_node *n = new_node(DOC_SCALAR, line);
    n->scalar = xstrdup((const char *) ev->data.scalar.value);
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return n;
  }
  case YAML_MAPPING_START_EVENT:
    return read_collection(r, DOC_MAP, line, err);
  case YAML_SEQUENCE_START_EVENT:
    return read_collection(r, DOC_SEQ, line, err);
  case YAML_ALIAS_EVENT:
    edgecr_error_make(err, 0, "%s:%d: YAML aliases (*name) are not supported; write the value out",
                      r->file, line);
    return NULL;
  default:
    edgecr_error_make(err, 0, "%s:%d: unexpected YAML structure", r->file, line);
    return NULL;
  }
}

/* jansson is the strict judge of JSON syntax (libyaml would accept YAML). */
static int check_json(const char *file, const char *text, size_t len, edgecr_error_t *err)
{
  json_error_t jerr;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return edgecr_error_make(err, 0, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
  bool is_object = json_is_object(root);
  json_decref(root);
  if (!is_object)
    return edgecr_error_make(err, 0, "%s:1: the configuration must be a JSON object", file);
  return 0;
}

static void parser_release(yaml_parser_t **p) { yaml_parser_delete(*p); }

struct doc_node *doc_parse(const char *file, const char *text, size_t len, bool json,
                           edgecr_error_t *err)
{
  if (json && check_json(file, text, len, err) < 0)
    return NULL;
  struct reader r = {.file = file};
  __attribute__((cleanup(parser_release))) yaml_parser_t *pp = &r.parser;
  if (!yaml_parser_initialize(pp)) {
    edgecr_error_make(err, 0, "%s: cannot initialise the YAML parser", file);
    return NULL;
  }
  yaml_parser_set_input_string(pp, (const unsigned char *) text, len);
  cleanup_doc struct doc_node *root = NULL;
  for (;;) {
    cleanup_event yaml_event_t ev = {0};
    if (next_event(&r, &ev, err) < 0)
      return NULL;
    if (ev.type == YAML_STREAM_END_EVENT)
      break;
    if (ev.type == YAML_DOCUMENT_START_EVENT && root != NULL) {
      edgecr_error_make(err, 0, "%s:%zu: only one YAML document is allowed", file,
                        ev.start_mark.line + 1);
      return NULL;
    }
    if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
        ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT) {
      root = read_node(&r, &ev, err);
      if (root == NULL)
        return NULL;
    }
  }
  if (root == NULL || root->kind != DOC_MAP) {
    edgecr_error_make(err, 0, "%s:1: the configuration must be a mapping with `node` and `containers`",
                      file);
    return NULL;
  }
  return steal_pointer(&root);
}

void doc_free(struct doc_node *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n; i++) {
    doc_free(n->items[i]);
    if (n->keys)
      free(n->keys[i]);
  }
  free(n->items);
  free(n->keys);
  free(n->key_lines);
  free(n->scalar);
  free(n);
}

struct doc_node *doc_get(const struct doc_node *map, const char *key)
{
  if (map == NULL || map->kind != DOC_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->keys[i], key) == 0)
      return map->items[i];
  return NULL;
}
