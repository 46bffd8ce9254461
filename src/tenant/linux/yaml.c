/* yaml.c - the human form of tenant metadata: YAML (or JSON) -> model.
 *
 * The document is read with the plan's line-numbered loader (src/plan/doc.c)
 * and translated into the CBOR form, each scalar by the kind its field has
 * (durations like "10ms", sizes like "64KiB", dates, the digest); then the
 * core's strict CBOR decoder judges it.  So YAML and CBOR are checked by
 * the one decoder, and a decoder error's field path is walked back through
 * the tree to the line it came from: "file:line: `field`: reason". */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doc.h"
#include "model.h"
#include "tcbor.h"
#include "tenant_linux.h"
#include "util.h"

enum kind { K_TEXT, K_UINT, K_DURATION, K_SIZE, K_TIME, K_LIFETIME, K_DIGEST, K_SERVICE };

/* Fields whose scalars are not text, by path pattern ("[]" for any index). */
static const struct { const char *pattern; enum kind kind; } kinds[] = {
  {"format", K_UINT}, {"version", K_UINT}, {"expires", K_TIME}, {"module", K_DIGEST},
  {"schedule.priority", K_UINT}, {"schedule.period", K_DURATION}, {"schedule.budget", K_DURATION},
  {"schedule.deadline", K_DURATION}, {"schedule.start-limit", K_DURATION},
  {"schedule.stop-limit", K_DURATION}, {"permissions.log", K_SERVICE}, {"permissions.clock", K_SERVICE},
  {"permissions.log.rate", K_UINT}, {"permissions.kv[].quota", K_SIZE},
  {"permissions.infer.model-size", K_SIZE}, {"permissions.infer.compute", K_DURATION},
  {"permissions.infer.arena", K_SIZE},
  {"security.lifetime", K_LIFETIME},
};

struct conv {
  const char *file;
  struct tcbor_writer w;
  char path[160];      /* concrete: permissions.kv[1].quota */
  char pattern[160];   /* for the kinds table: permissions.kv[].quota */
};

static enum kind kind_of(const char *pattern)
{
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp(kinds[i].pattern, pattern) == 0)
      return kinds[i].kind;
  return K_TEXT;
}

__attribute__((format(printf, 4, 5))) static int conv_fail(struct conv *cv, int line, edgecr_error_t *err,
                                                           const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  return edgecr_error_invalid(err, "%s:%d: `%s`: %s", cv->file, line, cv->path[0] ? cv->path : "(top level)",
                              msg ? msg : "invalid");
}

static int parse_time(const char *s, uint64_t *out)
{
  unsigned long long v;
  if (parse_uint64(s, &v) == 0) {
    *out = v;
    return 0;
  }
  struct tm tm = {0};
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == NULL) {
    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%d", &tm);
  }
  if (end == NULL || *end != '\0')
    return -1;
  time_t t = timegm(&tm);
  if (t < 0)
    return -1;
  *out = (uint64_t) t;
  return 0;
}

static int parse_digest(const char *s, uint8_t *out)
{
  size_t n = 0;
  const char *end = NULL;
  if (!str_has_prefix(s, "sha256:") || strlen(s) != 7 + 2 * TENANT_DIGEST_LEN)
    return -1;
  if (sodium_hex2bin(out, TENANT_DIGEST_LEN, s + 7, 2 * TENANT_DIGEST_LEN, NULL, &n, &end) != 0)
    return -1;
  return n == TENANT_DIGEST_LEN && *end == '\0' ? 0 : -1;
}

static int emit_scalar(struct conv *cv, const struct doc_node *n, edgecr_error_t *err)
{
  enum kind k = kind_of(cv->pattern);
  const char *s = n->scalar;
  unsigned long long u;
  int64_t ns;
  uint64_t v;
  uint8_t digest[TENANT_DIGEST_LEN];
  switch (k) {
  case K_TEXT:
    tcbor_put_text(&cv->w, s);
    return 0;
  case K_UINT:
    if (parse_uint64(s, &u) < 0)
      return conv_fail(cv, n->line, err, "expected a whole number, found `%s`", s);
    tcbor_put_uint(&cv->w, u);
    return 0;
  case K_DURATION:
    if (plan_parse_duration(s, &ns) < 0)
      return conv_fail(cv, n->line, err, "expected a duration such as 10ms, found `%s`", s);
    tcbor_put_uint(&cv->w, (uint64_t) ns);
    return 0;
  case K_SIZE:
    if (plan_parse_size(s, &v) < 0)
      return conv_fail(cv, n->line, err, "expected a size such as 64KiB, found `%s`", s);
    tcbor_put_uint(&cv->w, v);
    return 0;
  case K_TIME:
    if (parse_time(s, &v) < 0)
      return conv_fail(cv, n->line, err, "expected a UTC time such as 2027-01-31T12:00:00Z, found `%s`", s);
    tcbor_put_uint(&cv->w, v);
    return 0;
  case K_LIFETIME:
    if (parse_uint64(s, &u) == 0) {
      tcbor_put_uint(&cv->w, u);
      return 0;
    }
    if (plan_parse_duration(s, &ns) < 0 || ns % 1000000000 != 0)
      return conv_fail(cv, n->line, err, "expected whole seconds (3600 or 3600s), found `%s`", s);
    tcbor_put_uint(&cv->w, (uint64_t) (ns / 1000000000));
    return 0;
  case K_DIGEST:
    if (parse_digest(s, digest) < 0)
      return conv_fail(cv, n->line, err, "expected sha256:<64 hex digits>, found `%s`", s);
    tcbor_put_bytes(&cv->w, digest, sizeof digest);
    return 0;
  case K_SERVICE:
    /* `clock:` alone grants the service with no options. */
    if (!n->quoted && (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)) {
      tcbor_put_map(&cv->w, 0);
      return 0;
    }
    return conv_fail(cv, n->line, err, "expected a mapping of options (or nothing), found `%s`", s);
  }
  return 0;
}

static int emit(struct conv *cv, const struct doc_node *n, edgecr_error_t *err);

static int emit_child(struct conv *cv, const struct doc_node *n, const char *key, size_t index,
                      edgecr_error_t *err)
{
  size_t pl = strlen(cv->path), tl = strlen(cv->pattern);
  if (key != NULL) {
    snprintf(cv->path + pl, sizeof cv->path - pl, "%s%s", pl ? "." : "", key);
    snprintf(cv->pattern + tl, sizeof cv->pattern - tl, "%s%s", tl ? "." : "", key);
  } else {
    snprintf(cv->path + pl, sizeof cv->path - pl, "[%zu]", index);
    snprintf(cv->pattern + tl, sizeof cv->pattern - tl, "[]");
  }
  int rc = emit(cv, n, err);
  cv->path[pl] = '\0';
  cv->pattern[tl] = '\0';
  return rc;
}

static int emit(struct conv *cv, const struct doc_node *n, edgecr_error_t *err)
{
  if (n->kind == DOC_SCALAR)
    return emit_scalar(cv, n, err);
  bool top = cv->path[0] == '\0';
  bool add_format = top && doc_get(n, "format") == NULL;
  bool add_module = top && doc_get(n, "module") == NULL;
  if (n->kind == DOC_SEQ)
    tcbor_put_array(&cv->w, n->n);
  else
    tcbor_put_map(&cv->w, n->n + add_format + add_module);
  if (add_format) {
    tcbor_put_text(&cv->w, "format");
    tcbor_put_uint(&cv->w, TENANT_META_FORMAT);
  }
  if (add_module) { /* a placeholder: `meta build --module` fills it */
    static const uint8_t zero[TENANT_DIGEST_LEN];
    tcbor_put_text(&cv->w, "module");
    tcbor_put_bytes(&cv->w, zero, sizeof zero);
  }
  for (size_t i = 0; i < n->n; i++) {
    if (n->kind == DOC_MAP)
      tcbor_put_text(&cv->w, n->keys[i]);
    if (emit_child(cv, n->items[i], n->kind == DOC_MAP ? n->keys[i] : NULL, i, err) < 0)
      return -1;
  }
  return 0;
}

/* The line of the deepest node on a decoder path ("a.b[2].c"). */
static int line_of(const struct doc_node *root, const char *path)
{
  const struct doc_node *n = root;
  int line = root->line;
  char buf[160];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf; *p != '\0' && n != NULL;) {
    if (*p == '[') {
      size_t i = strtoul(p + 1, &p, 10);
      if (*p == ']')
        p++;
      if (n->kind != DOC_SEQ || i >= n->n)
        break;
      n = n->items[i];
      line = n->line;
      continue;
    }
    if (*p == '.')
      p++;
    size_t len = strcspn(p, ".[");
    char saved = p[len];
    p[len] = '\0';
    const struct doc_node *next = NULL;
    for (size_t i = 0; n->kind == DOC_MAP && i < n->n; i++) {
      if (strcmp(n->keys[i], p) == 0) {
        next = n->items[i];
        line = n->key_lines[i];
      }
    }
    p[len] = saved;
    p += len;
    n = next;
  }
  return line;
}

static void doc_freep(struct doc_node **n) { doc_free(*n); }

int tenant_meta_from_yaml(const char *file, const char *text, size_t len, struct tenant_meta *m,
                          bool *has_module, edgecr_error_t *err)
{
  bool json = str_has_suffix(file, ".json");
  __attribute__((cleanup(doc_freep))) struct doc_node *root = doc_parse(file, text, len, json, err);
  if (root == NULL)
    return -1;
  *has_module = doc_get(root, "module") != NULL;
  struct conv cv = {.file = file};
  tcbor_writer_init(&cv.w, NULL, 0);
  if (emit(&cv, root, err) < 0)
    return -1;
  cleanup_free uint8_t *cbor = xmalloc0(cv.w.len);
  tcbor_writer_init(&cv.w, cbor, cv.w.len);
  if (emit(&cv, root, err) < 0)
    return -1;
  struct tenant_err e;
  if (tenant_meta_decode(cbor, cv.w.len, m, &e) < 0)
    return edgecr_error_invalid(err, "%s:%d: `%s`: %s", file, line_of(root, e.path), e.path, e.reason);
  return 0;
}
