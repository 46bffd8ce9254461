/* error.c - building, wrapping and releasing edgecr errors. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int edgecr_error_makev(edgecr_error_t *err, int errnum, const char *fmt, va_list ap)
{
  char *text = NULL;
  if (vasprintf(&text, fmt, ap) < 0)
    text = NULL;
  struct edgecr_error *e = calloc(1, sizeof *e);
  if (e == NULL) {
    free(text);
    return -1;
  }
  e->status = errnum;
  if (text != NULL && errnum != 0) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", text, strerror(errnum)) >= 0) {
      free(text);
      text = full;
    }
  }
  e->msg = text != NULL ? text : strdup("out of memory");
  if (err != NULL) {
    edgecr_error_release(err);
    *err = e;
  } else {
    free(e->msg);
    free(e);
  }
  return -1;
}

int edgecr_error_make(edgecr_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_makev(err, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int edgecr_error_invalid(edgecr_error_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_makev(err, 0, fmt, ap);
  va_end(ap);
  if (err != NULL && *err != NULL)
    (*err)->status = EINVAL;
  return -1;
}

int edgecr_error_fieldv(edgecr_error_t *err, const char *file, const char *prefix, const char *field,
                        const char *fmt, va_list ap)
{
  char *why = NULL;
  if (vasprintf(&why, fmt, ap) < 0)
    why = NULL;
  edgecr_error_invalid(err, "%s: `%s%s`: %s", file, prefix, field, why ? why : "invalid");
  free(why);
  return -1;
}

int edgecr_error_wrap(edgecr_error_t *err, const char *fmt, ...)
{
  char *ctx = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0)
    ctx = NULL;
  va_end(ap);
  if (err == NULL) {
    free(ctx);
    return -1;
  }
  if (*err == NULL) {
    edgecr_error_make(err, 0, "%s: unknown error", ctx ? ctx : "?");
    free(ctx);
    return -1;
  }
  if (ctx != NULL) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
      free((*err)->msg);
      (*err)->msg = full;
    }
    free(ctx);
  }
  return -1;
}

int edgecr_error_errno(const edgecr_error_t *err)
{
  return (err != NULL && *err != NULL) ? (*err)->status : 0;
}

void edgecr_error_release(edgecr_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}
