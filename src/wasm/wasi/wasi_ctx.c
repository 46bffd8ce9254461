/* wasi_ctx.c - the WASI context: copies of argv/env, the descriptor table
 * (stdio, preopens, files the guest opens), guest-memory access through the
 * engine's bounds-checked API, and host errno -> WASI errno. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wasi_internal.h"

uint8_t *wasi_mem(const struct wasi_call *c, uint32_t off, uint64_t len)
{
  return ew_memory_ptr(c->inst, off, len);
}

uint16_t wasi_errno_from_host(int err)
{
  switch (err) {
  case 0: return WASI_ESUCCESS;
  case E2BIG: return WASI_E2BIG;
  case EACCES: return WASI_EACCES;
  case EAGAIN: return WASI_EAGAIN;
  case EBADF: return WASI_EBADF;
  case EBUSY: return WASI_EBUSY;
  case EDQUOT: return WASI_EDQUOT;
  case EEXIST: return WASI_EEXIST;
  case EFAULT: return WASI_EFAULT;
  case EFBIG: return WASI_EFBIG;
  case EINTR: return WASI_EINTR;
  case EINVAL: return WASI_EINVAL;
  case EIO: return WASI_EIO;
  case EISDIR: return WASI_EISDIR;
  case ELOOP: return WASI_ELOOP;
  case EMFILE: return WASI_EMFILE;
  case EMLINK: return WASI_EMLINK;
  case ENAMETOOLONG: return WASI_ENAMETOOLONG;
  case ENFILE: return WASI_ENFILE;
  case ENODEV: return WASI_ENODEV;
  case ENOENT: return WASI_ENOENT;
  case ENOMEM: return WASI_ENOMEM;
  case ENOSPC: return WASI_ENOSPC;
  case ENOSYS: return WASI_ENOSYS;
  case ENOTDIR: return WASI_ENOTDIR;
  case ENOTEMPTY: return WASI_ENOTEMPTY;
  case ENOTSUP: return WASI_ENOTSUP;
  case ENOTTY: return WASI_ENOTTY;
  case ENXIO: return WASI_ENXIO;
  case EOVERFLOW: return WASI_EOVERFLOW;
  case EPERM: return WASI_EPERM;
  case EPIPE: return WASI_EPIPE;
  case ERANGE: return WASI_ERANGE;
  case EROFS: return WASI_EROFS;
  case ESPIPE: return WASI_ESPIPE;
  case ETXTBSY: return WASI_ETXTBSY;
  case EXDEV: return WASI_EXDEV;
  default: return WASI_EIO;
  }
}

uint8_t wasi_filetype_from_mode(unsigned mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
  case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
  case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
  case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
  case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
  case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
  default: return WASI_FILETYPE_UNKNOWN;
  }
}

static uint64_t timespec_ns(const struct timespec *ts)
{
  return (uint64_t) ts->tv_sec * 1000000000ull + (uint64_t) ts->tv_nsec;
}

void wasi_store_filestat(uint8_t *p, const void *host_stat)
{
  const struct stat *st = host_stat;
  memset(p, 0, WASI_FILESTAT_SIZE);
  wasi_st64(p + 0, (uint64_t) st->st_dev);
  wasi_st64(p + 8, (uint64_t) st->st_ino);
  wasi_st8(p + 16, wasi_filetype_from_mode(st->st_mode));
  wasi_st64(p + 24, (uint64_t) st->st_nlink);
  wasi_st64(p + 32, (uint64_t) st->st_size);
  wasi_st64(p + 40, timespec_ns(&st->st_atim));
  wasi_st64(p + 48, timespec_ns(&st->st_mtim));
  wasi_st64(p + 56, timespec_ns(&st->st_ctim));
}

/* ---- descriptor table ---- */

struct wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd)
{
  if (fd >= ctx->nfds || !ctx->fds[fd].used)
    return NULL;
  return &ctx->fds[fd];
}

/* Guest descriptors are bounded so a guest cannot grow the table (and the
 * host's fds) without limit; the host's RLIMIT_NOFILE applies as well. */
#define WASI_MAX_FDS 4096

int wasi_fd_install(wasi_ctx *ctx, int host_fd, uint8_t filetype, uint64_t rights_base,
                    uint64_t rights_inheriting, uint16_t fdflags, uint32_t *out)
{
  uint32_t slot = 3;
  while (slot < ctx->nfds && ctx->fds[slot].used)
    slot++;
  if (slot >= WASI_MAX_FDS) {
    close(host_fd);
    return WASI_EMFILE;
  }
  if (slot >= ctx->nfds) {
    uint32_t n = ctx->nfds * 2 > slot + 1 ? ctx->nfds * 2 : slot + 1;
    struct wasi_fd *grown = realloc(ctx->fds, n * sizeof *grown);
    if (grown == NULL) {
      close(host_fd);
      return WASI_ENOMEM;
    }
    memset(grown + ctx->nfds, 0, (n - ctx->nfds) * sizeof *grown);
    ctx->fds = grown;
    ctx->nfds = n;
  }
  ctx->fds[slot] = (struct wasi_fd){
    .used = true, .host_fd = host_fd, .filetype = filetype, .fdflags = fdflags,
    .rights_base = rights_base, .rights_inheriting = rights_inheriting, .owned = true,
  };
  *out = slot;
  return WASI_ESUCCESS;
}

void wasi_fd_release(struct wasi_fd *f)
{
  if (f->owned && f->host_fd >= 0)
    close(f->host_fd);
  free(f->preopen_name);
  memset(f, 0, sizeof *f);
  f->host_fd = -1;
}

/* ---- context ---- */

static char **copy_strv(char *const *v, size_t n)
{
  char **out = xmalloc0((n + 1) * sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup(v[i]);
  return out;
}

/* Guest fds 0-2.  A standard stream is never a directory capability: when
 * the host's stream is a directory (`edgecr wasm run x.wasm < /etc`) the
 * guest gets no such descriptor at all (EBADF), so neither the path calls
 * nor fd_readdir nor fd_filestat_set_times can reach that directory. */
static void stdio_entry(struct wasi_fd *f, int host_fd)
{
  struct stat st;
  bool known = host_fd >= 0 && fstat(host_fd, &st) == 0;
  if (host_fd < 0 || (known && S_ISDIR(st.st_mode)))
    return;
  f->used = true;
  f->host_fd = host_fd;
  f->owned = false;
  f->filetype = WASI_FILETYPE_CHARACTER_DEVICE;
  f->rights_base = WASI_RIGHTS_TTY;
  if (known) {
    f->filetype = wasi_filetype_from_mode(st.st_mode);
    if (S_ISREG(st.st_mode))
      f->rights_base = WASI_RIGHTS_FILE;
  }
  int fl = fcntl(host_fd, F_GETFL);
  if (fl >= 0 && (fl & O_APPEND))
    f->fdflags |= WASI_FDFLAG_APPEND;
}

/* Guest names of preopens are what wasi-libc matches absolute paths
 * against: keep them as given but without trailing slashes ("/" stays). */
static char *normalise_guest_name(const char *g)
{
  char *s = xstrdup(g);
  size_t n = strlen(s);
  while (n > 1 && s[n - 1] == '/')
    s[--n] = 0;
  return s;
}

int wasi_ctx_new(const struct wasi_config *cfg, wasi_ctx **out, edgecr_error_t *err)
{
  wasi_ctx *ctx = xmalloc0(sizeof *ctx);
  ctx->argc = cfg->argc;
  ctx->argv = copy_strv(cfg->argv, cfg->argc);
  ctx->envc = cfg->envc;
  ctx->max_sleep_ns = cfg->max_sleep_ns;
  ctx->suspend_sleep = cfg->suspend_sleep != 0;
  ctx->env = copy_strv(cfg->env, cfg->envc);
  ctx->nfds = (uint32_t) (3 + cfg->npreopens + 8);
  ctx->fds = xmalloc0(ctx->nfds * sizeof *ctx->fds);
  for (uint32_t i = 0; i < ctx->nfds; i++)
    ctx->fds[i].host_fd = -1;
  for (int i = 0; i < 3; i++)
    stdio_entry(&ctx->fds[i], cfg->stdio[i]);

  for (size_t i = 0; i < cfg->npreopens; i++) {
    const struct wasi_preopen *p = &cfg->preopens[i];
    int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      edgecr_error_make(err, errno, "preopen `%s` (as `%s`)", p->host_path, p->guest_path);
      wasi_ctx_free(ctx);
      return -1;
    }
    struct wasi_fd *f = &ctx->fds[3 + i];
    *f = (struct wasi_fd){
      .used = true, .host_fd = fd, .owned = true, .filetype = WASI_FILETYPE_DIRECTORY, .dir_cap = true,
      .rights_base = WASI_RIGHTS_DIR, .rights_inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE,
      .preopen_name = normalise_guest_name(p->guest_path),
    };
  }
  *out = ctx;
  return 0;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
  if (ctx == NULL)
    return;
  for (uint32_t i = 0; i < ctx->nfds; i++)
    if (ctx->fds[i].used)
      wasi_fd_release(&ctx->fds[i]);
  free(ctx->fds);
  free(ctx->bindings);
  edgecr_cleanup_strvp(&ctx->argv);
  edgecr_cleanup_strvp(&ctx->env);
  free(ctx);
}
