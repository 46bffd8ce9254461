/* doc.h - a configuration document as a tree that remembers line numbers.
 *
 * The system configuration may be YAML or JSON.  Both are read into this one
 * tree (scalars, mappings, sequences, each with the line it starts on) so
 * that the decoder in model.c is written once and every error can name the
 * file, the line and the field.  YAML is read with libyaml; JSON is first
 * validated strictly by jansson (which reports syntax errors by line and
 * column) and then read through libyaml as well, since JSON is YAML flow
 * syntax and jansson keeps no position for the values it decodes. */
#ifndef EDGECR_PLAN_DOC_H
#define EDGECR_PLAN_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum doc_kind { DOC_SCALAR, DOC_MAP, DOC_SEQ };

struct doc_node {
  enum doc_kind kind;
  int line;                 /* 1-based line where the node starts */
  char *scalar;             /* DOC_SCALAR: the text */
  bool quoted;              /* DOC_SCALAR: was quoted (so "null" is a string) */
  size_t n;                 /* DOC_MAP / DOC_SEQ: number of entries */
  size_t cap;               /* room in the arrays below (grown geometrically) */
  char **keys;              /* DOC_MAP: key of entry i */
  int *key_lines;           /* DOC_MAP: line of key i */
  struct doc_node **items;  /* DOC_MAP values / DOC_SEQ elements */
};

/* Parse text (YAML, or JSON when json is true).  `file` only names the
 * source in error messages.  Returns the root (a mapping) or NULL with err. */
struct doc_node *doc_parse(const char *file, const char *text, size_t len, bool json,
                           edgecr_error_t *err);
void doc_free(struct doc_node *n);

/* Value of key in a mapping, or NULL. */
struct doc_node *doc_get(const struct doc_node *map, const char *key);

#endif
