/* error.h - the one error type of edgecr, carried up with context.
 *
 * Convention (after crun): a function that can fail takes a trailing
 * `edgecr_error_t *err`, returns a negative value on failure and fills *err
 * with what failed, on which file/field, and the errno.  Callers that add
 * context use edgecr_error_wrap(); the error is printed once, at the top
 * (the CLI), then released.  Success returns >= 0 and leaves *err NULL. */
#ifndef EDGECR_ERROR_H
#define EDGECR_ERROR_H

#include <stdarg.h>

struct edgecr_error {
  int status; /* errno of the failure, 0 when none applies */
  char *msg;  /* full message, context first */
};
typedef struct edgecr_error *edgecr_error_t;

/* Fill *err with a formatted message; when errnum != 0 append strerror.
 * Always returns -1 so that `return edgecr_error_make(...)` reads well. */
int edgecr_error_make(edgecr_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int edgecr_error_makev(edgecr_error_t *err, int errnum, const char *fmt, va_list ap);

/* An invalid-input error: status EINVAL, but no strerror suffix (the
 * message already says what is wrong with which field). */
int edgecr_error_invalid(edgecr_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The invalid-input error of a configuration field, in the one format all
 * of edgecr uses: "<file>: `<prefix><field>`: <reason>". */
int edgecr_error_fieldv(edgecr_error_t *err, const char *file, const char *prefix, const char *field,
                        const char *fmt, va_list ap);

/* Prefix the existing error with more context ("create `x`: <old msg>").
 * Returns -1.  If *err is NULL (caller forgot to set one) a generic error is
 * created so nothing is lost. */
int edgecr_error_wrap(edgecr_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* errno carried by the error, or 0. */
int edgecr_error_errno(const edgecr_error_t *err);

void edgecr_error_release(edgecr_error_t *err);

#endif
