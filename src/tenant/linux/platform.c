/* platform.c - the Linux platform adapter of the tenant ABI: time, the
 * tenant's log, reports, memory; the services with their own Linux files
 * (kv, sensors, GPIO, channels) fill their fields through
 * tenant_linux_<service>_ops.
 *
 * The log goes to the container's stdout, one write(2) per message so that
 * lines from several writers never interleave: "[tenant-id] LEVEL: text".
 * Reports go to stderr as "edgecr: tenant ID: ...". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tenant_linux.h"
#include "tenant_platform.h"
#include "tenant_services.h"
#include "util.h"

static uint64_t clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t pf_now_ns(void *p)
{
  (void) p;
  return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t pf_wall_ns(void *p)
{
  (void) p;
  return clock_ns(CLOCK_REALTIME);
}

/* The engine suspends the call and the runner sleeps (where a stop signal
 * can end the sleep and the run); a deadline already past returns at once. */
static int sleep_until(void *p, ew_instance *inst, uint64_t deadline_ns)
{
  (void) inst;
  struct tenant_linux *t = p;
  if (deadline_ns <= clock_ns(CLOCK_MONOTONIC))
    return EDGECR_OK;
  t->sleeping = true;
  t->sleep_deadline_ns = deadline_ns;
  return TENANT_SLEEP_SUSPEND;
}

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static int write_line(int fd, const char *buf, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return EDGECR_EIO;
    buf += w;
    n -= (size_t) w;
  }
  return EDGECR_OK;
}

static int log_msg(void *p, int level, const char *msg, size_t len)
{
  struct tenant_linux *t = p;
  char line[TENANT_LOG_MAX + TENANT_NAME_MAX + 32];
  int head = snprintf(line, sizeof line, "[%s] %s: ", t->ctx.meta.id, level_names[level]);
  size_t n = (size_t) head;
  memcpy(line + n, msg, len);
  n += len;
  if (n == 0 || line[n - 1] != '\n')
    line[n++] = '\n';
  return write_line(t->log_fd, line, n);
}

static void report(void *p, const char *msg)
{
  struct tenant_linux *t = p;
  char line[512];
  int n = snprintf(line, sizeof line, "edgecr: tenant %s: %s\n", t->ctx.meta.id, msg);
  if (n > 0)
    write_line(t->report_fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

static void *alloc_mem(void *p, size_t n)
{
  (void) p;
  return malloc(n);
}

static void free_mem(void *p, void *ptr)
{
  (void) p;
  free(ptr);
}

struct tenant_linux *tenant_linux_new(const struct tenant_meta *m, const char *id, int log_fd, int report_fd)
{
  struct tenant_linux *t = xmalloc0(sizeof *t);
  t->log_fd = log_fd;
  t->report_fd = report_fd;
  t->pf = (struct tenant_platform){.now_ns = pf_now_ns, .wall_ns = pf_wall_ns, .sleep_until = sleep_until,
                                   .log = log_msg, .report = report, .alloc = alloc_mem, .free = free_mem};
  tenant_linux_kv_ops(&t->pf);
  tenant_linux_iio_ops(&t->pf);
  tenant_linux_gpio_ops(&t->pf);
  struct tenant_meta *none = NULL;
  if (m == NULL) {
    none = xmalloc0(sizeof *none);
    none->format = TENANT_META_FORMAT;
    none->type = TENANT_TYPE_WASM;
    snprintf(none->id, sizeof none->id, "%s", id);
  }
  tenant_ctx_init(&t->ctx, &t->pf, t, m ? m : none);
  free(none);
  return t;
}

void tenant_linux_free(struct tenant_linux *t)
{
  if (t == NULL)
    return;
  tenant_ctx_close(&t->ctx);
  free(t);
}

bool tenant_linux_take_sleep(struct tenant_linux *t, uint64_t *deadline_ns)
{
  if (t == NULL || !t->sleeping)
    return false;
  t->sleeping = false;
  *deadline_ns = t->sleep_deadline_ns;
  return true;
}

int tenant_linux_resolve(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  struct tenant_resolver *r = ctx;
  if (tenant_abi_is_ours(imp))
    return r->tenant != NULL ? tenant_abi_resolve(&r->tenant->ctx, imp, out) : -1;
  return r->next != NULL ? r->next(r->next_ctx, imp, out) : -1;
}

int tenant_linux_load_unverified(const char *path, struct tenant_meta *m, edgecr_error_t *err)
{
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_file(path, &buf, err);
  if (len < 0)
    return -1;
  const uint8_t *payload = buf;
  size_t payload_len = (size_t) len;
  if (tenant_form_of(buf, (size_t) len) == TENANT_FORM_SIGN1) {
    struct tenant_cose c;
    struct tenant_err e;
    if (tenant_cose_decode(buf, (size_t) len, &c, &e) < 0)
      return edgecr_error_make(err, EINVAL, "%s: %s: %s", path, e.path, e.reason);
    payload = c.payload;
    payload_len = c.payload_len;
  }
  return tenant_meta_decode_file(payload, payload_len, path, m, err);
}
