/* events.c - the emulator's event log, <root>/run/remoteproc-emu/events.log:
 * one line per boot, crash, recovery and stop, with a monotonic time in
 * milliseconds.  For people debugging and for tests that count reboots. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu.h"
#include "util.h"

void emu_event(struct emu *e, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL)
    return;
  cleanup_free char *line = xasprintf("%llu %s\n", now_ns() / 1000000ULL, msg);
  cleanup_free char *path = xasprintf("%s/events.log", e->run_dir);
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0)
    write_all(fd, line, strlen(line));
}
