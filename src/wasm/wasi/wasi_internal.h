/* wasi_internal.h - what the WASI files share: the context (arguments,
 * environment, descriptor table), guest-memory helpers, the sandboxed path
 * resolver, errno translation, and the host-function signature every call
 * implementation uses. */
#ifndef EDGECR_WASI_INTERNAL_H
#define EDGECR_WASI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasi.h"
#include "wasi_abi.h"

/* One guest descriptor.  Guest numbers are indexes in the table; the host
 * fd behind each is private to this layer. */
struct wasi_fd {
  bool used;
  int host_fd;
  uint8_t filetype;        /* WASI_FILETYPE_* */
  uint16_t fdflags;        /* WASI_FDFLAG_* as last set */
  uint64_t rights_base, rights_inheriting;
  char *preopen_name;      /* guest name when this is a preopen, else NULL */
  /* A directory capability: a preopen, or a directory opened beneath one.
   * Only these serve as the base of path_* calls and fd_readdir; what the
   * host fd happens to be (fstat) never makes one, so a standard stream
   * that is a directory grants nothing. */
  bool dir_cap;
  bool owned;              /* close host_fd when the guest closes it */
};

struct wasi_binding;

struct wasi_ctx {
  struct wasi_binding *bindings; /* host_ctx of each granted import (wasi_link.c) */
  char link_error[256];    /* why the last import was refused */
  uint64_t max_sleep_ns;   /* see struct wasi_config */
  bool suspend_sleep;      /* see struct wasi_config */
  bool suspend_requested;  /* the current call must end with ew_host_suspend */
  uint64_t sleep_deadline; /* CLOCK_MONOTONIC ns, while suspended in a sleep */
  bool exited;             /* proc_exit was called, with exit_code */
  int exit_code;
  char **argv;             /* copies; NULL-terminated */
  size_t argc;
  char **env;
  size_t envc;
  struct wasi_fd *fds;
  uint32_t nfds;           /* allocated entries */
};

/* Every call implementation: returns a WASI errno (0 = success). */
struct wasi_call {
  ew_instance *inst;
  wasi_ctx *ctx;
};

/* Guest memory: NULL when [off, off+len) is outside memory 0.  A
 * zero-length range at a valid offset yields a non-NULL pointer. */
uint8_t *wasi_mem(const struct wasi_call *c, uint32_t off, uint64_t len);

/* Host errno -> WASI errno. */
uint16_t wasi_errno_from_host(int err);

/* Descriptor table. */
struct wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd);
/* Install host_fd (taking ownership) in the lowest free slot >= 3. */
int wasi_fd_install(wasi_ctx *ctx, int host_fd, uint8_t filetype, uint64_t rights_base,
                    uint64_t rights_inheriting, uint16_t fdflags, uint32_t *out);
void wasi_fd_release(struct wasi_fd *f);
uint8_t wasi_filetype_from_mode(unsigned mode);
void wasi_store_filestat(uint8_t *p, const void *host_stat);

/* WASI timestamps + fstflags -> the timespec pair utimensat() takes. */
struct timespec;
uint16_t wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t flags, struct timespec ts[2]);

/* Sandboxed resolution (wasi_sandbox.c).  `dir` is a directory descriptor
 * of the guest (a preopen or a directory opened from one); the path is
 * guest bytes (not NUL-terminated).  Errors are WASI errnos. */
#define WASI_PATH_MAX 4096
uint16_t wasi_path_copy(const struct wasi_call *c, uint32_t ptr, uint32_t len, char *out);
/* Open path beneath dirfd: host open flags, follow the final symlink or
 * not.  Returns a host fd or -WASI errno. */
int wasi_sandbox_open(int dirfd, const char *path, int flags, unsigned mode, bool follow);
/* Split path into its parent (opened beneath dirfd, O_PATH|O_DIRECTORY) and
 * final component (copied into name, never "", "." or ".."). */
int wasi_sandbox_parent(int dirfd, const char *path, char name[256]);
/* Which resolver is in use: "openat2" or "walk" (tests force "walk" with
 * EDGECR_WASI_RESOLVE=walk to check the fallback too). */
const char *wasi_sandbox_resolver(void);

/* Per-area call tables (wasi_link.c glues them to the engine). */
typedef uint16_t (*wasi_impl_fn)(const struct wasi_call *c, const ew_value *a);
struct wasi_func_def {
  const char *name;
  const char *params;      /* one char per param: 'i' i32, 'I' i64 */
  bool returns_errno;      /* result: i32 errno; false only for proc_exit */
  wasi_impl_fn impl;
};
extern const struct wasi_func_def wasi_defs_misc[];
extern const struct wasi_func_def wasi_defs_fd[];
extern const struct wasi_func_def wasi_defs_path[];

/* proc_exit is not a normal call: it ends the run (wasi_misc.c).  Its
 * host_ctx is a binding (wasi_link.c): the context is its first member. */
int wasi_proc_exit(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results);

#define WASI_ARG_U32(a, i) ((a)[i].u32)
#define WASI_ARG_U64(a, i) ((a)[i].u64)

#endif
