/* util.h - small helpers shared by every part of edgecr: scoped cleanup
 * attributes, whole-file I/O, crash-safe (atomic) writes, directories,
 * string building.  Cleanup style: `__attribute__((cleanup))` helpers, used
 * everywhere in edgecr (see docs/architecture.md). */
#ifndef EDGECR_UTIL_H
#define EDGECR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

void edgecr_cleanup_freep(void *p);
void edgecr_cleanup_closep(int *fd);
void edgecr_cleanup_fclosep(FILE **f);
void edgecr_cleanup_strvp(char ***v);

#define cleanup_free __attribute__((cleanup(edgecr_cleanup_freep)))
#define cleanup_close __attribute__((cleanup(edgecr_cleanup_closep)))
#define cleanup_file __attribute__((cleanup(edgecr_cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(edgecr_cleanup_strvp)))

/* Hand ownership out of a cleanup variable: returns *p and sets it to NULL/-1. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _v = *(pp); *(pp) = NULL; _v; })
#define steal_fd(pfd) ({ int _f = *(pfd); *(pfd) = -1; _f; })

/* Allocation that cannot fail (aborts on OOM: a runtime that cannot
 * allocate a few bytes cannot report anything useful either). */
void *xmalloc0(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (NUL-terminated). Returns length or -1 with err set. */
ssize_t read_all_file(const char *path, char **out, edgecr_error_t *err);
ssize_t read_all_fd(int fd, const char *what, char **out, edgecr_error_t *err);

/* Write data to path through a temporary file and rename: readers see the
 * old or the new content, never a mix, even if the writer is killed.  Used
 * for runtime state, which lives on tmpfs (/run) and does not outlive a
 * reboot, so an fsync would only cost time. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      edgecr_error_t *err);
/* The same, plus fsync before the rename: survives power loss too. */
int write_file_durable(const char *path, const void *data, size_t len, mode_t mode,
                       edgecr_error_t *err);

/* Plain write (open O_WRONLY|O_TRUNC, no create unless mode != 0); used for
 * cgroup and /proc files where atomic rename is meaningless. */
int write_file(const char *path, const char *data, size_t len, edgecr_error_t *err);
int write_file_at(int dirfd, const char *name, const char *data, size_t len,
                  edgecr_error_t *err);

int write_all(int fd, const void *buf, size_t len);
ssize_t read_full(int fd, void *buf, size_t len);

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, edgecr_error_t *err);
/* rm -rf of a directory tree on one filesystem (does not cross mounts). */
int remove_tree(const char *path, edgecr_error_t *err);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* Number parsing with full validation; return -1 when s is not a number. */
int parse_int64(const char *s, long long *out);
int parse_uint64(const char *s, unsigned long long *out);

/* Monotonic clock in nanoseconds. */
unsigned long long now_ns(void);

/* Close every fd >= from except those in keep[] (n entries). */
void close_fds_from(int from, const int *keep, size_t n);

#endif
