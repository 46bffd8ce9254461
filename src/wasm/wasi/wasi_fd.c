/* wasi_fd.c - the fd_* calls: read/write (scatter/gather through guest
 * iovecs, each buffer bounds-checked), seek/tell, close/renumber, fdstat,
 * filestat, prestat (how wasi-libc discovers preopens) and readdir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_internal.h"

#define MAX_IOVS 1024

#define GET_FD(f, c, n)                       \
  struct wasi_fd *f = wasi_fd_get((c)->ctx, (n)); \
  if (f == NULL)                              \
    return WASI_EBADF

/* Translate guest iovecs into host ones.  Zero-length buffers are dropped
 * (their address need not be valid). */
static uint16_t load_iovs(const struct wasi_call *c, uint32_t iovs, uint32_t n,
                          struct iovec *out, int *nout)
{
  if (n > MAX_IOVS)
    return WASI_EINVAL;
  const uint8_t *p = wasi_mem(c, iovs, (uint64_t) n * WASI_IOVEC_SIZE);
  if (p == NULL)
    return WASI_EFAULT;
  int k = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t buf = wasi_ld32(p + i * WASI_IOVEC_SIZE);
    uint32_t len = wasi_ld32(p + i * WASI_IOVEC_SIZE + 4);
    if (len == 0)
      continue;
    uint8_t *b = wasi_mem(c, buf, len);
    if (b == NULL)
      return WASI_EFAULT;
    out[k].iov_base = b;
    out[k].iov_len = len;
    k++;
  }
  *nout = k;
  return WASI_ESUCCESS;
}

/* Shared by fd_read/fd_write/fd_pread/fd_pwrite. */
static uint16_t do_io(const struct wasi_call *c, const ew_value *a, bool write, bool positioned)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint32_t iovs = WASI_ARG_U32(a, 1), niovs = WASI_ARG_U32(a, 2);
  uint64_t offset = positioned ? WASI_ARG_U64(a, 3) : 0;
  uint32_t result_ptr = WASI_ARG_U32(a, positioned ? 4 : 3);
  if (f->filetype == WASI_FILETYPE_DIRECTORY)
    return WASI_EISDIR;
  uint8_t *out = wasi_mem(c, result_ptr, 4);
  if (out == NULL)
    return WASI_EFAULT;
  if (niovs > MAX_IOVS)  /* before the allocation sized by it */
    return WASI_EINVAL;
  struct iovec *v = malloc(sizeof *v * (niovs ? niovs : 1));
  if (v == NULL)
    return WASI_ENOMEM;
  int nv = 0;
  uint16_t e = load_iovs(c, iovs, niovs, v, &nv);
  if (e != 0) {
    free(v);
    return e;
  }
  if (positioned && offset > INT64_MAX) {
    free(v);
    return WASI_EINVAL;
  }
  ssize_t n = 0;
  if (nv > 0) {
    do {
      if (positioned)
        n = write ? pwritev(f->host_fd, v, nv, (off_t) offset) : preadv(f->host_fd, v, nv, (off_t) offset);
      else
        n = write ? writev(f->host_fd, v, nv) : readv(f->host_fd, v, nv);
    } while (n < 0 && errno == EINTR);
  }
  int saved = errno;
  free(v);
  if (n < 0)
    return wasi_errno_from_host(saved);
  /* `out` stays valid: nothing ran in the guest since it was checked. */
  wasi_st32(out, (uint32_t) n);
  return WASI_ESUCCESS;
}

static uint16_t fd_read(const struct wasi_call *c, const ew_value *a) { return do_io(c, a, false, false); }
static uint16_t fd_write(const struct wasi_call *c, const ew_value *a) { return do_io(c, a, true, false); }
static uint16_t fd_pread(const struct wasi_call *c, const ew_value *a) { return do_io(c, a, false, true); }
static uint16_t fd_pwrite(const struct wasi_call *c, const ew_value *a) { return do_io(c, a, true, true); }

/* Shared by fd_seek and fd_tell (a seek by 0 from the current place). */
static uint16_t seek(const struct wasi_call *c, uint32_t fd, int64_t off, uint32_t whence, uint32_t out_ptr)
{
  GET_FD(f, c, fd);
  uint8_t *out = wasi_mem(c, out_ptr, 8);
  if (out == NULL)
    return WASI_EFAULT;
  int w;
  switch (whence) {
  case WASI_WHENCE_SET: w = SEEK_SET; break;
  case WASI_WHENCE_CUR: w = SEEK_CUR; break;
  case WASI_WHENCE_END: w = SEEK_END; break;
  default: return WASI_EINVAL;
  }
  if (f->filetype == WASI_FILETYPE_DIRECTORY)
    return WASI_EBADF;
  off_t pos = lseek(f->host_fd, (off_t) off, w);
  if (pos < 0)
    return wasi_errno_from_host(errno);
  wasi_st64(out, (uint64_t) pos);
  return WASI_ESUCCESS;
}

static uint16_t fd_seek(const struct wasi_call *c, const ew_value *a)
{
  return seek(c, WASI_ARG_U32(a, 0), (int64_t) WASI_ARG_U64(a, 1), WASI_ARG_U32(a, 2), WASI_ARG_U32(a, 3));
}

static uint16_t fd_tell(const struct wasi_call *c, const ew_value *a)
{
  return seek(c, WASI_ARG_U32(a, 0), 0, WASI_WHENCE_CUR, WASI_ARG_U32(a, 1));
}

static uint16_t fd_close(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  wasi_fd_release(f);
  return WASI_ESUCCESS;
}

static uint16_t fd_renumber(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(from, c, WASI_ARG_U32(a, 0));
  GET_FD(to, c, WASI_ARG_U32(a, 1));
  if (from == to)
    return WASI_ESUCCESS;
  wasi_fd_release(to);
  *to = *from;
  memset(from, 0, sizeof *from);
  from->host_fd = -1;
  return WASI_ESUCCESS;
}

static uint16_t fd_fdstat_get(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint8_t *p = wasi_mem(c, WASI_ARG_U32(a, 1), WASI_FDSTAT_SIZE);
  if (p == NULL)
    return WASI_EFAULT;
  memset(p, 0, WASI_FDSTAT_SIZE);
  wasi_st8(p, f->filetype);
  wasi_st16(p + 2, f->fdflags);
  wasi_st64(p + 8, f->rights_base);
  wasi_st64(p + 16, f->rights_inheriting);
  return WASI_ESUCCESS;
}

static uint16_t fd_fdstat_set_flags(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint32_t flags = WASI_ARG_U32(a, 1);
  if (flags & ~(uint32_t) (WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK))
    return WASI_ENOTSUP; /* the sync flags can only be given at open */
  int fl = fcntl(f->host_fd, F_GETFL);
  if (fl < 0)
    return wasi_errno_from_host(errno);
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & WASI_FDFLAG_APPEND) fl |= O_APPEND;
  if (flags & WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
  if (fcntl(f->host_fd, F_SETFL, fl) < 0)
    return wasi_errno_from_host(errno);
  f->fdflags = (uint16_t) ((f->fdflags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK)) | flags);
  return WASI_ESUCCESS;
}

static uint16_t fd_fdstat_set_rights(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint64_t base = WASI_ARG_U64(a, 1), inh = WASI_ARG_U64(a, 2);
  /* Rights can only shrink. */
  if ((base & ~f->rights_base) || (inh & ~f->rights_inheriting))
    return WASI_ENOTCAPABLE;
  f->rights_base = base;
  f->rights_inheriting = inh;
  return WASI_ESUCCESS;
}

static uint16_t fd_filestat_get(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint8_t *p = wasi_mem(c, WASI_ARG_U32(a, 1), WASI_FILESTAT_SIZE);
  if (p == NULL)
    return WASI_EFAULT;
  struct stat st;
  if (fstat(f->host_fd, &st) < 0)
    return wasi_errno_from_host(errno);
  wasi_store_filestat(p, &st);
  return WASI_ESUCCESS;
}

static uint16_t fd_filestat_set_size(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint64_t size = WASI_ARG_U64(a, 1);
  if (size > INT64_MAX)
    return WASI_EINVAL;
  if (ftruncate(f->host_fd, (off_t) size) < 0)
    return wasi_errno_from_host(errno);
  return WASI_ESUCCESS;
}

uint16_t wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t flags, struct timespec ts[2])
{
  if ((flags & WASI_FST_ATIM && flags & WASI_FST_ATIM_NOW) ||
      (flags & WASI_FST_MTIM && flags & WASI_FST_MTIM_NOW) || flags > 15)
    return WASI_EINVAL;
  ts[0].tv_nsec = UTIME_OMIT;
  ts[1].tv_nsec = UTIME_OMIT;
  ts[0].tv_sec = ts[1].tv_sec = 0;
  if (flags & WASI_FST_ATIM) { ts[0].tv_sec = (time_t) (atim / 1000000000u); ts[0].tv_nsec = (long) (atim % 1000000000u); }
  if (flags & WASI_FST_ATIM_NOW) ts[0].tv_nsec = UTIME_NOW;
  if (flags & WASI_FST_MTIM) { ts[1].tv_sec = (time_t) (mtim / 1000000000u); ts[1].tv_nsec = (long) (mtim % 1000000000u); }
  if (flags & WASI_FST_MTIM_NOW) ts[1].tv_nsec = UTIME_NOW;
  return WASI_ESUCCESS;
}

static uint16_t fd_filestat_set_times(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  struct timespec ts[2];
  uint16_t e = wasi_times_from_flags(WASI_ARG_U64(a, 1), WASI_ARG_U64(a, 2), WASI_ARG_U32(a, 3), ts);
  if (e != 0)
    return e;
  if (futimens(f->host_fd, ts) < 0)
    return wasi_errno_from_host(errno);
  return WASI_ESUCCESS;
}

static uint16_t fd_sync(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  return fsync(f->host_fd) < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
}

static uint16_t fd_datasync(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  return fdatasync(f->host_fd) < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
}

static uint16_t fd_advise(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint32_t advice = WASI_ARG_U32(a, 3);
  if (advice > 5)
    return WASI_EINVAL;
  (void) f; /* advice is only a hint: accepted and ignored */
  return WASI_ESUCCESS;
}

static uint16_t fd_allocate(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint64_t off = WASI_ARG_U64(a, 1), len = WASI_ARG_U64(a, 2);
  if (off > INT64_MAX || len > INT64_MAX)
    return WASI_EINVAL;
  int r = posix_fallocate(f->host_fd, (off_t) off, (off_t) len);
  return r != 0 ? wasi_errno_from_host(r) : WASI_ESUCCESS;
}

static uint16_t fd_prestat_get(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  if (f->preopen_name == NULL)
    return WASI_EBADF;
  uint8_t *p = wasi_mem(c, WASI_ARG_U32(a, 1), WASI_PRESTAT_SIZE);
  if (p == NULL)
    return WASI_EFAULT;
  memset(p, 0, WASI_PRESTAT_SIZE);
  wasi_st8(p, WASI_PREOPENTYPE_DIR);
  wasi_st32(p + 4, (uint32_t) strlen(f->preopen_name));
  return WASI_ESUCCESS;
}

static uint16_t fd_prestat_dir_name(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  if (f->preopen_name == NULL)
    return WASI_EBADF;
  uint32_t len = WASI_ARG_U32(a, 2);
  size_t n = strlen(f->preopen_name);
  if (len < n)
    return WASI_ENAMETOOLONG;
  uint8_t *p = wasi_mem(c, WASI_ARG_U32(a, 1), n);
  if (p == NULL)
    return WASI_EFAULT;
  memcpy(p, f->preopen_name, n);
  return WASI_ESUCCESS;
}

static uint8_t filetype_from_dtype(int dirfd, const char *name, unsigned char d_type)
{
  switch (d_type) {
  case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
  case DT_DIR: return WASI_FILETYPE_DIRECTORY;
  case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
  case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
  case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
  case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
  case DT_UNKNOWN: {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
      return wasi_filetype_from_mode(st.st_mode);
    return WASI_FILETYPE_UNKNOWN;
  }
  default: return WASI_FILETYPE_UNKNOWN;
  }
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* fd_readdir: entries from `cookie` on, each a 24-byte header and the
 * name, packed into the guest buffer; the last one may be cut short, which
 * tells the guest (bufused == buf_len) to call again from its cookie. */
static uint16_t fd_readdir(const struct wasi_call *c, const ew_value *a)
{
  GET_FD(f, c, WASI_ARG_U32(a, 0));
  uint32_t buf = WASI_ARG_U32(a, 1), buf_len = WASI_ARG_U32(a, 2);
  uint64_t cookie = WASI_ARG_U64(a, 3);
  uint8_t *used_out = wasi_mem(c, WASI_ARG_U32(a, 4), 4);
  uint8_t *dst = wasi_mem(c, buf, buf_len);
  if (used_out == NULL || dst == NULL)
    return WASI_EFAULT;
  if (!f->dir_cap)
    return WASI_ENOTDIR;
  if (cookie > INT64_MAX)
    return WASI_EINVAL;
  if (lseek(f->host_fd, (off_t) cookie, SEEK_SET) < 0)
    return wasi_errno_from_host(errno);

  uint32_t used = 0;
  char dbuf[4096] __attribute__((aligned(8)));
  while (used < buf_len) {
    long n = syscall(SYS_getdents64, f->host_fd, dbuf, sizeof dbuf);
    if (n < 0)
      return wasi_errno_from_host(errno);
    if (n == 0)
      break;
    for (long off = 0; off < n && used < buf_len;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *) (dbuf + off);
      off += d->d_reclen;
      size_t namelen = strlen(d->d_name);
      uint8_t hdr[WASI_DIRENT_SIZE] = {0};
      wasi_st64(hdr, (uint64_t) d->d_off);
      wasi_st64(hdr + 8, d->d_ino);
      wasi_st32(hdr + 16, (uint32_t) namelen);
      wasi_st8(hdr + 20, filetype_from_dtype(f->host_fd, d->d_name, d->d_type));
      uint32_t room = buf_len - used;
      uint32_t take = room < WASI_DIRENT_SIZE ? room : WASI_DIRENT_SIZE;
      memcpy(dst + used, hdr, take);
      used += take;
      room = buf_len - used;
      take = room < namelen ? room : (uint32_t) namelen;
      memcpy(dst + used, d->d_name, take);
      used += take;
    }
  }
  wasi_st32(used_out, used);
  return WASI_ESUCCESS;
}

const struct wasi_func_def wasi_defs_fd[] = {
  {"fd_advise", "iIIi", true, fd_advise},
  {"fd_allocate", "iII", true, fd_allocate},
  {"fd_close", "i", true, fd_close},
  {"fd_datasync", "i", true, fd_datasync},
  {"fd_fdstat_get", "ii", true, fd_fdstat_get},
  {"fd_fdstat_set_flags", "ii", true, fd_fdstat_set_flags},
  {"fd_fdstat_set_rights", "iII", true, fd_fdstat_set_rights},
  {"fd_filestat_get", "ii", true, fd_filestat_get},
  {"fd_filestat_set_size", "iI", true, fd_filestat_set_size},
  {"fd_filestat_set_times", "iIIi", true, fd_filestat_set_times},
  {"fd_pread", "iiiIi", true, fd_pread},
  {"fd_prestat_dir_name", "iii", true, fd_prestat_dir_name},
  {"fd_prestat_get", "ii", true, fd_prestat_get},
  {"fd_pwrite", "iiiIi", true, fd_pwrite},
  {"fd_read", "iiii", true, fd_read},
  {"fd_readdir", "iiiIi", true, fd_readdir},
  {"fd_renumber", "ii", true, fd_renumber},
  {"fd_seek", "iIii", true, fd_seek},
  {"fd_sync", "i", true, fd_sync},
  {"fd_tell", "ii", true, fd_tell},
  {"fd_write", "iiii", true, fd_write},
  {NULL, NULL, false, NULL},
};
