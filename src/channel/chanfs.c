/* chanfs.c - a channel's files: created at their exact size and
 * initialised, validated field by field, removed.  Layout: see
 * include/edgecr/channel.h and docs/channels.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chanlib.h"
#include "util.h"

static int hdr_err(edgecr_error_t *err, const char *name, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int hdr_err(edgecr_error_t *err, const char *name, const char *field, const char *fmt, ...)
{
  char why[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return edgecr_error_invalid(err, "channel `%s`: header field `%s`: %s", name, field, why);
}

int edgecr_channel_header_check(const void *buf, size_t len, uint64_t file_size, const char *name,
                                edgecr_error_t *err)
{
  struct echan_hdr h;
  if (len < sizeof h)
    return hdr_err(err, name, "magic", "file too short (%zu bytes) for a header", len);
  memcpy(&h, buf, sizeof h); /* the fields before `head` are plain, written once */
  if (h.magic != ECHAN_MAGIC)
    return hdr_err(err, name, "magic", "0x%08x, expected 0x%08x (\"ECHN\")", h.magic, ECHAN_MAGIC);
  if (h.version != ECHAN_VERSION)
    return hdr_err(err, name, "version", "%u, this runtime knows version %u", h.version, ECHAN_VERSION);
  if (h.kind != ECHAN_FIFO && h.kind != ECHAN_LATEST)
    return hdr_err(err, name, "kind", "%u (1 fifo, 2 latest)", h.kind);
  if (h.msg_size == 0 || h.msg_size > ECHAN_MAX_MSG)
    return hdr_err(err, name, "msg_size", "%u (must be 1..%u)", h.msg_size, ECHAN_MAX_MSG);
  uint32_t min_depth = h.kind == ECHAN_LATEST ? 2 : 1;
  if (h.depth < min_depth || h.depth > ECHAN_MAX_DEPTH)
    return hdr_err(err, name, "depth", "%u (must be %u..%u)", h.depth, min_depth, ECHAN_MAX_DEPTH);
  if (h.slot_stride != echan_stride(h.msg_size))
    return hdr_err(err, name, "slot_stride", "%u, expected %llu for msg_size %u", h.slot_stride,
                   (unsigned long long)echan_stride(h.msg_size), h.msg_size);
  if ((uint64_t)h.depth * h.slot_stride > ECHAN_MAX_FILE)
    return hdr_err(err, name, "depth", "%u x %u bytes: more than %llu MiB of messages", h.depth, h.slot_stride,
                   ECHAN_MAX_FILE >> 20);
  if (h.readers == 0 || h.readers > ECHAN_MAX_READERS)
    return hdr_err(err, name, "readers", "%u (must be 1..%u)", h.readers, ECHAN_MAX_READERS);
  if (h.writers != 1)
    return hdr_err(err, name, "writers", "%u (must be 1)", h.writers);
  if (h.kind == ECHAN_FIFO ? (h.full_policy != ECHAN_FULL_FAIL && h.full_policy != ECHAN_FULL_OVERWRITE)
                           : h.full_policy != 0)
    return hdr_err(err, name, "full_policy", "%u (fifo: 1 fail, 2 overwrite; latest: 0)", h.full_policy);
  if (h.wait_mode != ECHAN_WAIT_POLL && h.wait_mode != ECHAN_WAIT_FUTEX)
    return hdr_err(err, name, "wait_mode", "%u (1 polling, 2 futex)", h.wait_mode);
  if (h.data_offset != ECHAN_PAGE)
    return hdr_err(err, name, "data_offset", "%llu (must be %u)", (unsigned long long)h.data_offset, ECHAN_PAGE);
  uint64_t want = h.data_offset + (uint64_t)h.depth * h.slot_stride;
  if (h.file_size != want)
    return hdr_err(err, name, "file_size", "%llu, expected %llu for depth %u x stride %u",
                   (unsigned long long)h.file_size, (unsigned long long)want, h.depth, h.slot_stride);
  if (h.file_size != file_size)
    return hdr_err(err, name, "file_size", "%llu, but the file has %llu bytes", (unsigned long long)h.file_size,
                   (unsigned long long)file_size);
  if (memchr(h.name, 0, sizeof h.name) == NULL || strcmp(h.name, name) != 0)
    return hdr_err(err, name, "name", "does not name this channel");
  return 0;
}

/* Creates one file of exactly `size` bytes (zero-filled), returns its fd. */
static int create_sized(int dirfd, const char *dirpath, const char *file, uint64_t size, edgecr_error_t *err)
{
  int fd = openat(dirfd, file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return edgecr_error_make(err, errno, "create %s/%s", dirpath, file);
  /* posix_fallocate: the pages exist now, so a full tmpfs fails here and
   * not with SIGBUS in a container later. */
  int rc = ftruncate(fd, (off_t)size);
  if (rc == 0)
    rc = posix_fallocate(fd, 0, (off_t)size) ? -1 : 0;
  if (rc < 0) {
    int e = errno ? errno : ENOSPC;
    close(fd);
    return edgecr_error_make(err, e, "size %s/%s to %llu bytes", dirpath, file, (unsigned long long)size);
  }
  return fd;
}

void edgecr_channel_header_init(struct echan_hdr *h, const struct edgecr_channel_decl *d)
{
  memset(h, 0, sizeof *h);
  h->version = ECHAN_VERSION;
  h->kind = (uint16_t)d->kind;
  h->msg_size = d->msg_size;
  h->depth = d->depth;
  h->slot_stride = (uint32_t)echan_stride(d->msg_size);
  h->readers = d->readers;
  h->writers = d->writers;
  h->full_policy = (uint16_t)d->full_policy;
  h->wait_mode = (uint16_t)d->wait_mode;
  h->data_offset = ECHAN_PAGE;
  h->file_size = edgecr_channel_data_size(d);
  snprintf(h->name, sizeof h->name, "%s", d->name);
  h->magic = ECHAN_MAGIC;
}

static int init_data(int fd, const struct edgecr_channel_decl *d, const char *path, edgecr_error_t *err)
{
  uint64_t size = edgecr_channel_data_size(d);
  struct echan_hdr *h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED)
    return edgecr_error_make(err, errno, "map %s/data", path);
  struct echan_hdr init;
  edgecr_channel_header_init(&init, d);
  /* The magic last: a crash while initialising leaves an invalid header. */
  init.magic = 0;
  memcpy(h, &init, sizeof init);
  atomic_thread_fence(memory_order_release);
  h->magic = ECHAN_MAGIC;
  munmap(h, size);
  return 0;
}

static int init_reader(int fd, uint32_t i, const char *path, edgecr_error_t *err)
{
  struct echan_reader r;
  memset(&r, 0, sizeof r);
  r.magic = ECHAN_READER_MAGIC;
  r.version = ECHAN_VERSION;
  r.index = (uint16_t)i;
  if (pwrite(fd, &r, sizeof r, 0) != (ssize_t)sizeof r)
    return edgecr_error_make(err, errno, "write %s/reader.%u", path, i);
  return 0;
}

int edgecr_channel_create(const char *dir, const struct edgecr_channel_decl *d, edgecr_error_t *err)
{
  if (edgecr_channel_decl_check(d, "channel", err) < 0)
    return -1;
  dir = dir ? dir : EDGECR_CHANNEL_DIR;
  if (mkdir_p(dir, 0755, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", dir, d->name);
  if (mkdir(path, 0700) < 0)
    return edgecr_error_make(err, errno, "create channel `%s` at %s", d->name, path);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = dfd < 0 ? edgecr_error_make(err, errno, "open %s", path) : 0;
  if (rc == 0) {
    cleanup_close int fd = create_sized(dfd, path, "data", edgecr_channel_data_size(d), err);
    rc = fd < 0 ? -1 : init_data(fd, d, path, err);
  }
  for (uint32_t i = 0; rc == 0 && i < d->readers; i++) {
    char file[32];
    snprintf(file, sizeof file, "reader.%u", i);
    cleanup_close int fd = create_sized(dfd, path, file, ECHAN_PAGE, err);
    rc = fd < 0 ? -1 : init_reader(fd, i, path, err);
  }
  if (rc < 0) {
    edgecr_error_t ignored = NULL;
    edgecr_channel_remove(dir, d->name, &ignored);
    edgecr_error_release(&ignored);
    return edgecr_error_wrap(err, "channel `%s`", d->name);
  }
  return 0;
}

static int check_reader_file(int dfd, const char *name, uint32_t i, edgecr_error_t *err)
{
  char file[32];
  snprintf(file, sizeof file, "reader.%u", i);
  cleanup_close int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return edgecr_error_make(err, errno, "channel `%s`: %s", name, file);
  if (st.st_size != ECHAN_PAGE)
    return edgecr_error_invalid(err, "channel `%s`: %s: %lld bytes, expected %u", name, file,
                                (long long)st.st_size, ECHAN_PAGE);
  struct echan_reader r;
  if (pread(fd, &r, sizeof r, 0) != (ssize_t)sizeof r)
    return edgecr_error_make(err, errno, "channel `%s`: read %s", name, file);
  if (r.magic != ECHAN_READER_MAGIC || r.version != ECHAN_VERSION || r.index != i)
    return edgecr_error_invalid(err, "channel `%s`: %s: field `%s` is wrong", name, file,
                                r.magic != ECHAN_READER_MAGIC ? "magic" : r.version != ECHAN_VERSION ? "version" : "index");
  return 0;
}

int edgecr_channel_validate(const char *dir, const char *name, edgecr_error_t *err)
{
  dir = dir ? dir : EDGECR_CHANNEL_DIR;
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return edgecr_error_make(err, errno, "channel `%s`: open %s", name, path);
  cleanup_close int fd = openat(dfd, "data", O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return edgecr_error_make(err, errno, "channel `%s`: open %s/data", name, path);
  struct echan_hdr h;
  ssize_t n = pread(fd, &h, sizeof h, 0);
  if (n < 0)
    return edgecr_error_make(err, errno, "channel `%s`: read %s/data", name, path);
  if (edgecr_channel_header_check(&h, (size_t)n, (uint64_t)st.st_size, name, err) < 0)
    return -1;
  for (uint32_t i = 0; i < h.readers; i++)
    if (check_reader_file(dfd, name, i, err) < 0)
      return -1;
  return 0;
}

int edgecr_channel_remove(const char *dir, const char *name, edgecr_error_t *err)
{
  dir = dir ? dir : EDGECR_CHANNEL_DIR;
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "channel `%s`: open %s", name, path);
  /* Only the names a channel has: anything else found there is kept, and
   * then rmdir fails and says so. */
  unlinkat(dfd, "data", 0);
  for (uint32_t i = 0; i < ECHAN_MAX_READERS; i++) {
    char file[32];
    snprintf(file, sizeof file, "reader.%u", i);
    unlinkat(dfd, file, 0);
  }
  if (rmdir(path) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "channel `%s`: remove %s", name, path);
  return 0;
}
