/* log.c - text or JSON log lines to stderr or a --log file.
 *
 * Errors always reach stderr as well: containerd's shim reads the --log
 * file for some commands and the runtime's stderr for others (`update`),
 * so an error written only to the file reaches nobody there. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int log_fd = 2;
static bool log_json;
static bool log_debug_on;

int edgecr_log_init(const char *path, bool json, bool debug)
{
  log_json = json;
  log_debug_on = debug;
  if (path != NULL && *path != '\0') {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
      return -1;
    log_fd = fd;
  }
  return 0;
}

bool edgecr_log_debug_enabled(void)
{
  return log_debug_on;
}

static const char *level_name(enum edgecr_log_level l)
{
  switch (l) {
  case EDGECR_LOGLEVEL_DEBUG: return "debug";
  case EDGECR_LOGLEVEL_INFO: return "info";
  case EDGECR_LOGLEVEL_WARNING: return "warning";
  default: return "error";
  }
}

/* JSON string escaping for the message. */
static void append_json_string(char **buf, size_t *len, size_t *cap, const char *s)
{
  for (; *s; s++) {
    char tmp[8];
    const char *piece = tmp;
    unsigned char c = (unsigned char) *s;
    if (c == '"') piece = "\\\"";
    else if (c == '\\') piece = "\\\\";
    else if (c == '\n') piece = "\\n";
    else if (c == '\t') piece = "\\t";
    else if (c < 0x20) snprintf(tmp, sizeof tmp, "\\u%04x", c);
    else { tmp[0] = (char) c; tmp[1] = '\0'; }
    size_t n = strlen(piece);
    if (*len + n + 1 > *cap) {
      *cap = (*cap + n + 1) * 2;
      *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, piece, n);
    *len += n;
    (*buf)[*len] = '\0';
  }
}

void edgecr_log(enum edgecr_log_level level, const char *fmt, ...)
{
  if (level == EDGECR_LOGLEVEL_DEBUG && !log_debug_on)
    return;
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL)
    return;
  if (level == EDGECR_LOGLEVEL_ERROR && log_fd != 2) {
    cleanup_free char *line = xasprintf("edgecr: %s\n", msg);
    (void) write_all(2, line, strlen(line));
  }
  if (!log_json) {
    cleanup_free char *line = NULL;
    if (log_fd == 2 && level == EDGECR_LOGLEVEL_ERROR)
      line = xasprintf("edgecr: %s\n", msg);
    else if (log_fd == 2)
      line = xasprintf("edgecr: %s: %s\n", level_name(level), msg);
    else
      line = xasprintf("%s: %s\n", level_name(level), msg);
    (void) write_all(log_fd, line, strlen(line));
    return;
  }
  char stamp[64];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(stamp + n, sizeof stamp - n, ".%09ldZ", ts.tv_nsec);
  size_t cap = strlen(msg) * 2 + 128, len = 0;
  char *buf = xmalloc0(cap);
  len = (size_t) snprintf(buf, cap, "{\"level\":\"%s\",\"msg\":\"", level_name(level));
  append_json_string(&buf, &len, &cap, msg);
  cleanup_free char *tail = xasprintf("\",\"time\":\"%s\"}\n", stamp);
  cleanup_free char *line = xasprintf("%s%s", buf, tail);
  free(buf);
  (void) write_all(log_fd, line, strlen(line));
}
