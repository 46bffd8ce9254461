/* wasi_abi.h - the WASI preview 1 ABI as this layer needs it: errno, file
 * types, flags, rights, clock ids, the byte layout of the structures the
 * guest passes (all little-endian, at offsets fixed by the witx spec), and
 * unaligned little-endian loads/stores into guest memory. */
#ifndef EDGECR_WASI_ABI_H
#define EDGECR_WASI_ABI_H

#include <stdint.h>

/* errno (u16) */
enum {
  WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
  WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7,
  WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10, WASI_ECANCELED = 11,
  WASI_ECHILD = 12, WASI_ECONNABORTED = 13, WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15,
  WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19,
  WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23,
  WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27,
  WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31,
  WASI_ELOOP = 32, WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35,
  WASI_EMULTIHOP = 36, WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39,
  WASI_ENETUNREACH = 40, WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43,
  WASI_ENOENT = 44, WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47,
  WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51,
  WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
  WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
  WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63,
  WASI_EPIPE = 64, WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67,
  WASI_ERANGE = 68, WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71,
  WASI_ESTALE = 72, WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74, WASI_EXDEV = 75,
  WASI_ENOTCAPABLE = 76,
};

/* filetype (u8) */
enum {
  WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1,
  WASI_FILETYPE_CHARACTER_DEVICE = 2, WASI_FILETYPE_DIRECTORY = 3,
  WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
  WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* fdflags (u16), oflags (u16), lookupflags (u32), fstflags (u16) */
enum { WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
       WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16 };
enum { WASI_O_CREAT = 1, WASI_O_DIRECTORY = 2, WASI_O_EXCL = 4, WASI_O_TRUNC = 8 };
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
enum { WASI_FST_ATIM = 1, WASI_FST_ATIM_NOW = 2, WASI_FST_MTIM = 4, WASI_FST_MTIM_NOW = 8 };
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };
enum { WASI_CLOCK_REALTIME = 0, WASI_CLOCK_MONOTONIC = 1,
       WASI_CLOCK_PROCESS_CPUTIME = 2, WASI_CLOCK_THREAD_CPUTIME = 3 };
enum { WASI_PREOPENTYPE_DIR = 0 };

/* rights (u64) */
#define WASI_RIGHT_FD_DATASYNC            (1ull << 0)
#define WASI_RIGHT_FD_READ                (1ull << 1)
#define WASI_RIGHT_FD_SEEK                (1ull << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS    (1ull << 3)
#define WASI_RIGHT_FD_SYNC                (1ull << 4)
#define WASI_RIGHT_FD_TELL                (1ull << 5)
#define WASI_RIGHT_FD_WRITE               (1ull << 6)
#define WASI_RIGHT_FD_ADVISE              (1ull << 7)
#define WASI_RIGHT_FD_ALLOCATE            (1ull << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY  (1ull << 9)
#define WASI_RIGHT_PATH_CREATE_FILE       (1ull << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE       (1ull << 11)
#define WASI_RIGHT_PATH_LINK_TARGET       (1ull << 12)
#define WASI_RIGHT_PATH_OPEN              (1ull << 13)
#define WASI_RIGHT_FD_READDIR             (1ull << 14)
#define WASI_RIGHT_PATH_READLINK          (1ull << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE     (1ull << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET     (1ull << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET      (1ull << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WASI_RIGHT_FD_FILESTAT_GET        (1ull << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE   (1ull << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES  (1ull << 23)
#define WASI_RIGHT_PATH_SYMLINK           (1ull << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY  (1ull << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE       (1ull << 26)
#define WASI_RIGHT_POLL_FD_READWRITE      (1ull << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN          (1ull << 28)
#define WASI_RIGHTS_ALL                   ((1ull << 30) - 1)

/* Rights that make sense on a regular file / a directory / a tty. */
#define WASI_RIGHTS_FILE                                                                \
  (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                   \
   WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |           \
   WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                       \
   WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR                                                                 \
  (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |         \
   WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                     \
   WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |   \
   WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |   \
   WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                       \
   WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |             \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES |                      \
   WASI_RIGHT_PATH_SYMLINK | WASI_RIGHT_PATH_REMOVE_DIRECTORY |                         \
   WASI_RIGHT_PATH_UNLINK_FILE | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_TTY                                                                 \
  (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_WRITE |          \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE)

/* Structure sizes and field offsets (witx, wasm32). */
#define WASI_IOVEC_SIZE 8          /* buf u32 @0, buf_len u32 @4 */
#define WASI_FDSTAT_SIZE 24        /* filetype u8 @0, flags u16 @2, rights u64 @8, inh u64 @16 */
#define WASI_FILESTAT_SIZE 64      /* dev @0 ino @8 filetype u8 @16 nlink @24 size @32 atim @40 mtim @48 ctim @56 */
#define WASI_PRESTAT_SIZE 8        /* tag u8 @0, name_len u32 @4 */
#define WASI_DIRENT_SIZE 24        /* next u64 @0, ino u64 @8, namlen u32 @16, type u8 @20 */
#define WASI_SUBSCRIPTION_SIZE 48  /* userdata u64 @0, tag u8 @8, union @16 */
#define WASI_EVENT_SIZE 32         /* userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24 */
enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
enum { WASI_SUBCLOCK_ABSTIME = 1 };
enum { WASI_EVENT_FD_READWRITE_HANGUP = 1 };

/* Little-endian, alignment-free access to guest bytes. */
static inline void wasi_st8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void wasi_st16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v; p[1] = (uint8_t) (v >> 8);
}
static inline void wasi_st32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++) p[i] = (uint8_t) (v >> (8 * i));
}
static inline void wasi_st64(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++) p[i] = (uint8_t) (v >> (8 * i));
}
static inline uint16_t wasi_ld16(const uint8_t *p) { return (uint16_t) (p[0] | p[1] << 8); }
static inline uint32_t wasi_ld32(const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}
static inline uint64_t wasi_ld64(const uint8_t *p)
{
  return (uint64_t) wasi_ld32(p) | (uint64_t) wasi_ld32(p + 4) << 32;
}

#endif
