/* rproc.c - remoteproc sysfs access against a configurable root (rproc.h). */
#include "rproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define STAGE_DIR "lib/firmware/edgecr"

static const char *const state_names[] = {
  [RPROC_STATE_OFFLINE] = "offline",     [RPROC_STATE_SUSPENDED] = "suspended",
  [RPROC_STATE_RUNNING] = "running",     [RPROC_STATE_CRASHED] = "crashed",
  [RPROC_STATE_DELETED] = "deleted",     [RPROC_STATE_ATTACHED] = "attached",
  [RPROC_STATE_DETACHED] = "detached",   [RPROC_STATE_INVALID] = "invalid",
  [RPROC_STATE_UNKNOWN] = "unknown",
};

const char *rproc_state_name(enum rproc_state s)
{
  return s <= RPROC_STATE_UNKNOWN ? state_names[s] : "unknown";
}

enum rproc_state rproc_state_parse(const char *text)
{
  size_t n = strcspn(text, "\n");
  for (int s = RPROC_STATE_OFFLINE; s < RPROC_STATE_UNKNOWN; s++)
    if (strlen(state_names[s]) == n && strncmp(text, state_names[s], n) == 0)
      return (enum rproc_state) s;
  return RPROC_STATE_UNKNOWN;
}

/* "/" and "" both mean the real root; no trailing slash otherwise. */
static char *normalise_root(const char *root)
{
  char *r = xstrdup(root != NULL ? root : "");
  size_t n = strlen(r);
  while (n > 0 && r[n - 1] == '/')
    r[--n] = '\0';
  return r;
}

char *rproc_class_dir(const char *root)
{
  cleanup_free char *r = normalise_root(root);
  return xasprintf("%s/sys/class/remoteproc", r);
}

/* One attribute's text with the trailing newline stripped. */
static int read_attr(const char *dir, const char *attr, char **out, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, attr);
  char *text = NULL;
  if (read_all_file(path, &text, err) < 0)
    return -1;
  text[strcspn(text, "\n")] = '\0';
  *out = text;
  return 0;
}

void rproc_free(struct rproc *r)
{
  if (r == NULL)
    return;
  free(r->root);
  free(r->dir);
  free(r->name);
  free(r);
}

void rproc_list_free(struct rproc **list)
{
  if (list == NULL)
    return;
  for (struct rproc **it = list; *it; it++)
    rproc_free(*it);
  free(list);
}

static int by_index(const void *a, const void *b)
{
  const struct rproc *x = *(struct rproc *const *) a, *y = *(struct rproc *const *) b;
  return (x->index > y->index) - (x->index < y->index);
}

static bool parse_entry(const char *d_name, unsigned *index)
{
  unsigned long long v;
  if (!str_has_prefix(d_name, "remoteproc") || parse_uint64(d_name + 10, &v) < 0 ||
      v > 0xffffffffULL)
    return false;
  *index = (unsigned) v;
  return true;
}

int rproc_list(const char *root, struct rproc ***out, size_t *count, edgecr_error_t *err)
{
  cleanup_free char *norm = normalise_root(root);
  cleanup_free char *class_dir = rproc_class_dir(norm);
  DIR *d = opendir(class_dir);
  if (d == NULL)
    return edgecr_error_make(err, errno, "open remoteproc class `%s`", class_dir);
  size_t n = 0;
  struct rproc **list = xmalloc0(sizeof *list);
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d)) != NULL) {
    unsigned index;
    if (!parse_entry(de->d_name, &index))
      continue;
    struct rproc *r = xmalloc0(sizeof *r);
    r->root = xstrdup(norm);
    r->dir = xasprintf("%s/%s", class_dir, de->d_name);
    r->index = index;
    list = xrealloc(list, (n + 2) * sizeof *list);
    list[n++] = r;
    list[n] = NULL;
    if (read_attr(r->dir, "name", &r->name, err) < 0) {
      rc = edgecr_error_wrap(err, "remote processor `%s`", de->d_name);
      break;
    }
  }
  closedir(d);
  if (rc < 0) {
    rproc_list_free(list);
    return rc;
  }
  qsort(list, n, sizeof *list, by_index);
  *out = list;
  if (count != NULL)
    *count = n;
  return 0;
}

int rproc_find(const char *root, const char *name, struct rproc **out, edgecr_error_t *err)
{
  struct rproc **list = NULL;
  size_t n = 0;
  if (rproc_list(root, &list, &n, err) < 0)
    return -1;
  cleanup_free char *names = xstrdup("");
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i]->name, name) == 0) {
      *out = steal_pointer(&list[i]);
      list[i] = list[n - 1]; /* keep the list NULL-terminated for freeing */
      list[n - 1] = NULL;
      rproc_list_free(list);
      return 0;
    }
    char *more = xasprintf("%s%s`%s`", names, i ? ", " : "", list[i]->name);
    free(names);
    names = more;
  }
  cleanup_free char *class_dir = rproc_class_dir(root);
  rproc_list_free(list);
  return edgecr_error_make(err, ENOENT, "no remote processor named `%s` in `%s` (present: %s)",
                           name, class_dir, n ? names : "none");
}

int rproc_read_state(const struct rproc *r, enum rproc_state *out, edgecr_error_t *err)
{
  cleanup_free char *text = NULL;
  if (read_attr(r->dir, "state", &text, err) < 0)
    return edgecr_error_wrap(err, "remoteproc%u (`%s`)", r->index, r->name);
  *out = rproc_state_parse(text);
  if (*out == RPROC_STATE_UNKNOWN)
    return edgecr_error_make(err, EPROTO, "remoteproc%u (`%s`): unknown state `%s` in `%s/state`",
                             r->index, r->name, text, r->dir);
  return 0;
}

int rproc_read_firmware(const struct rproc *r, char **out, edgecr_error_t *err)
{
  if (read_attr(r->dir, "firmware", out, err) < 0)
    return edgecr_error_wrap(err, "remoteproc%u (`%s`)", r->index, r->name);
  return 0;
}

const char *rproc_errno_reason(const char *attr, const char *value, int errnum)
{
  bool state = strcmp(attr, "state") == 0;
  switch (errnum) {
  case EBUSY:
    if (state && strcmp(value, "start") == 0)
      return "the processor is already running";
    if (strcmp(attr, "firmware") == 0)
      return "the processor is not offline, its firmware cannot change";
    if (strcmp(attr, "coredump") == 0)
      return "the processor has crashed, its coredump setting cannot change";
    return "the processor is busy";
  case EINVAL:
    if (state && strcmp(value, "stop") == 0)
      return "the processor is not running";
    if (state && strcmp(value, "start") == 0)
      return "the firmware image was rejected (not a valid image for this processor)";
    return "the value is not accepted";
  case ENOENT:
    if (state && strcmp(value, "start") == 0)
      return "the firmware file was not found in the firmware search path";
    return "no such attribute";
  case EACCES:
  case EPERM:
    return "permission denied (read-only attribute, or not privileged)";
  default:
    return strerror(errnum);
  }
}

/* One write(2) of value, as sysfs wants; failures explained. */
static int write_attr(const struct rproc *r, const char *attr, const char *value,
                      edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", r->dir, attr);
  /* O_TRUNC: meaningless to sysfs, but keeps plain-file stand-ins exact. */
  cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ssize_t n = -1;
  if (fd >= 0) {
    do
      n = write(fd, value, strlen(value));
    while (n < 0 && errno == EINTR);
  }
  if (n == (ssize_t) strlen(value))
    return 0;
  int e = n < 0 ? errno : EIO;
  return edgecr_error_make(err, e, "remoteproc%u (`%s`): write `%s` to `%s`: %s", r->index,
                           r->name, value, path, rproc_errno_reason(attr, value, e));
}

int rproc_set_firmware(const struct rproc *r, const char *fw_name, edgecr_error_t *err)
{
  if (fw_name[0] == '\0' || strchr(fw_name, '\n') != NULL)
    return edgecr_error_make(err, EINVAL, "firmware name `%s`: empty or has a newline", fw_name);
  return write_attr(r, "firmware", fw_name, err);
}

int rproc_start(const struct rproc *r, edgecr_error_t *err)
{
  return write_attr(r, "state", "start", err);
}

int rproc_stop(const struct rproc *r, edgecr_error_t *err)
{
  return write_attr(r, "state", "stop", err);
}

static void sleep_us(unsigned us)
{
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long) (us % 1000000) * 1000L};
  nanosleep(&ts, NULL);
}

int rproc_wait_state(const struct rproc *r, enum rproc_state want, unsigned timeout_ms,
                     enum rproc_state *last, edgecr_error_t *err)
{
  unsigned long long deadline = now_ns() + (unsigned long long) timeout_ms * 1000000ULL;
  unsigned delay_us = 200; /* short first: state usually changes within ms */
  enum rproc_state s = RPROC_STATE_UNKNOWN;
  for (;;) {
    if (rproc_read_state(r, &s, err) < 0)
      return -1;
    if (last != NULL)
      *last = s;
    if (s == want)
      return 0;
    if (now_ns() >= deadline)
      return edgecr_error_make(err, ETIMEDOUT,
                               "remoteproc%u (`%s`): still `%s` after %u ms waiting for `%s`",
                               r->index, r->name, rproc_state_name(s), timeout_ms,
                               rproc_state_name(want));
    sleep_us(delay_us);
    if (delay_us < 5000)
      delay_us *= 2;
  }
}

int rproc_read_model(const char *root, char **out, edgecr_error_t *err)
{
  cleanup_free char *norm = normalise_root(root);
  const char *candidates[] = {"proc/device-tree/model", "sys/firmware/devicetree/base/model"};
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *path = xasprintf("%s/%s", norm, candidates[i]);
    char *text = NULL;
    ssize_t n = read_all_file(path, &text, NULL);
    if (n < 0)
      continue;
    /* A devicetree string: stop at the first NUL; drop trailing newlines. */
    size_t len = strnlen(text, (size_t) n);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
      len--;
    text[len] = '\0';
    *out = text;
    return 0;
  }
  return edgecr_error_make(err, ENOENT, "no devicetree model under `%s` (proc/device-tree/model)",
                           norm[0] ? norm : "/");
}

static bool tag_ok(const char *tag)
{
  size_t n = strlen(tag);
  if (n == 0 || n > 64 || tag[0] == '.')
    return false;
  for (const char *c = tag; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_' || *c == '.' || *c == '-'))
      return false;
  return true;
}

int rproc_staged_name(const char *tag, char **fw_name, edgecr_error_t *err)
{
  if (!tag_ok(tag))
    return edgecr_error_make(err, EINVAL, "stage firmware: bad tag `%s` (1-64 of A-Za-z0-9_.-)",
                             tag);
  unsigned char rnd[4];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
    return edgecr_error_make(err, errno, "stage firmware: getrandom");
  *fw_name = xasprintf("edgecr/%s-%02x%02x%02x%02x.elf", tag, rnd[0], rnd[1], rnd[2], rnd[3]);
  return 0;
}

static bool staged_name_ok(const char *fw_name)
{
  return str_has_prefix(fw_name, "edgecr/") && strchr(fw_name + 7, '/') == NULL &&
         tag_ok(fw_name + 7);
}

int rproc_stage_firmware_as(const char *root, const char *src, const char *fw_name,
                            edgecr_error_t *err)
{
  if (!staged_name_ok(fw_name))
    return edgecr_error_make(err, EINVAL, "stage firmware: `%s` is not a staged name", fw_name);
  cleanup_free char *data = NULL;
  ssize_t len = read_all_file(src, &data, err);
  if (len < 0)
    return edgecr_error_wrap(err, "stage firmware");
  cleanup_free char *norm = normalise_root(root);
  cleanup_free char *dir = xasprintf("%s/" STAGE_DIR, norm);
  if (mkdir_p(dir, 0755, err) < 0)
    return edgecr_error_wrap(err, "stage firmware");
  cleanup_free char *path = xasprintf("%s/lib/firmware/%s", norm, fw_name);
  if (access(path, F_OK) == 0)
    return edgecr_error_make(err, EEXIST, "stage firmware: `%s` exists", path);
  /* Our own temporary name (not write_file_atomic's per-pid one), so that
   * unstaging after a runtime killed mid-copy finds it too. */
  cleanup_free char *tmp = xasprintf("%s.tmp", path);
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, data, (size_t) len) < 0 || rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return edgecr_error_make(err, e, "stage firmware `%s` as `%s`", src, path);
  }
  return 0;
}

int rproc_stage_firmware(const char *root, const char *src, const char *tag, char **fw_name,
                         edgecr_error_t *err)
{
  cleanup_free char *name = NULL;
  if (rproc_staged_name(tag, &name, err) < 0 || rproc_stage_firmware_as(root, src, name, err) < 0)
    return -1;
  *fw_name = steal_pointer(&name);
  return 0;
}

int rproc_unstage_firmware(const char *root, const char *fw_name, edgecr_error_t *err)
{
  if (!staged_name_ok(fw_name))
    return edgecr_error_make(err, EINVAL, "unstage firmware: `%s` is not a staged name", fw_name);
  cleanup_free char *norm = normalise_root(root);
  cleanup_free char *path = xasprintf("%s/lib/firmware/%s", norm, fw_name);
  cleanup_free char *tmp = xasprintf("%s.tmp", path);
  unlink(tmp); /* left by a stage that was killed mid-copy */
  if (unlink(path) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "unstage firmware `%s`", path);
  return 0;
}
