/* rproc_logger.c - the Linux process that stands for a firmware container.
 *
 * containerd's shim (and `edgecr run`) expect a container to be a process
 * whose stdio is the container's output and whose exit is the container's
 * end.  A remote core has neither, so create forks this small process (a
 * fork of edgecr, no exec).  It waits on the start fifo until `start` has
 * booted the core, then copies the core's log tty to its stdout and to the
 * log file in the state directory (for `edgecr logs`), and exits when the
 * core stops (RP_EXIT_STOPPED) or crashes without recovering
 * (RP_EXIT_CRASHED).  SIGTERM/SIGINT/SIGHUP/SIGQUIT to it stop the core,
 * so signals forwarded by `edgecr run` or a terminal's ^C end the firmware. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include "rproc_backend.h"
#include "util.h"

#define STATE_CHECK_MS 25       /* how often the core's state is read */
#define RECOVERY_GRACE_MS 3000  /* a core `crashed` this long with recovery enabled has not recovered */
#define DRAIN_IDLE_MS 10        /* output still in flight when the core stops */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
  (void) sig;
  stop_requested = 1;
}

bool rp_is_stop_signal(int sig)
{
  return sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

bool rp_core_is_ours(const struct rproc *r, const char *fw_name)
{
  cleanup_free char *fw = NULL;
  return fw_name != NULL && rproc_read_firmware(r, &fw, NULL) == 0 && strcmp(fw, fw_name) == 0;
}

/* Where the output goes: our stdout (while it accepts) and the log file,
 * which is rotated at RP_LOG_MAX bytes. */
struct sink {
  bool stdout_ok;
  int log_fd;
  off_t size;
  const struct rp_logger_args *a;
};

static void sink_rotate(struct sink *s)
{
  close(s->log_fd);
  rename(s->a->log_path, s->a->old_log_path);
  s->log_fd = open(s->a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  s->size = 0;
}

static void sink_write(struct sink *s, const char *buf, size_t n)
{
  /* The UART sends CR LF; the log is text with LF only. */
  char clean[4096];
  size_t m = 0;
  for (size_t i = 0; i < n && m < sizeof clean; i++)
    if (buf[i] != '\r')
      clean[m++] = buf[i];
  if (s->stdout_ok && write_all(STDOUT_FILENO, clean, m) < 0)
    s->stdout_ok = false; /* the reader went away (EPIPE): keep the log file going */
  if (s->log_fd >= 0 && write_all(s->log_fd, clean, m) == 0) {
    s->size += (off_t) m;
    if (s->size >= RP_LOG_MAX)
      sink_rotate(s);
  }
}

/* Reads what the tty has; false when the tty hung up or failed. */
static bool drain_tty(int fd, struct sink *s)
{
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      sink_write(s, buf, (size_t) n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return true;
    return false; /* EOF or EIO: hang-up */
  }
}

/* The log tty appears when the firmware announces its channel (on a board)
 * or exists all along (the emulator): try to open it, raw. */
static int open_tty(const char *path)
{
  int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

static bool recovery_enabled(const struct rproc *r)
{
  cleanup_free char *path = xasprintf("%s/recovery", r->dir);
  cleanup_free char *text = NULL;
  return read_all_file(path, &text, NULL) >= 0 && str_has_prefix(text, "enabled");
}

_Noreturn static void finish(const struct rp_logger_args *a, struct sink *s, int tty_fd, int code)
{
  /* Output still on its way from the core: read until the tty is idle. */
  if (tty_fd >= 0) {
    struct pollfd p = {.fd = tty_fd, .events = POLLIN};
    while (poll(&p, 1, DRAIN_IDLE_MS) > 0 && (p.revents & POLLIN) && drain_tty(tty_fd, s))
      ;
  }
  if (code == RP_EXIT_CRASHED)
    dprintf(STDERR_FILENO, "edgecr: remote processor `%s` crashed (firmware %s)\n", a->r->name, a->fw_name);
  else if (code == RP_EXIT_LOST)
    dprintf(STDERR_FILENO, "edgecr: lost remote processor `%s`: its state can no longer be read\n", a->r->name);
  char text[16];
  int n = snprintf(text, sizeof text, "%d\n", code);
  write_file_atomic(a->exit_path, text, (size_t) n, 0600, NULL);
  _exit(code);
}

/* Stop the core on a stop signal, if it still runs our firmware. */
static void stop_core(const struct rp_logger_args *a)
{
  enum rproc_state st;
  if (rproc_read_state(a->r, &st, NULL) == 0 && st != RPROC_STATE_OFFLINE && rp_core_is_ours(a->r, a->fw_name))
    rproc_stop(a->r, NULL); /* EINVAL: stopped meanwhile */
}

/* Blocks until `start` opens the fifo for reading (the core is booted). */
static void wait_for_start(const struct rp_logger_args *a)
{
  int fd;
  while ((fd = open(a->fifo_path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (fd < 0)
    _exit(RP_EXIT_LOST);
  (void) write(fd, "1", 1);
  close(fd);
}

_Noreturn void rp_logger_main(const struct rp_logger_args *a)
{
  prctl(PR_SET_NAME, "edgecr-rproc");
  close_fds_from(3, NULL, 0);
  signal(SIGPIPE, SIG_IGN);
  wait_for_start(a);

  struct sigaction sa = {.sa_handler = on_stop_signal};
  sigemptyset(&sa.sa_mask);
  int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
    sigaction(stops[i], &sa, NULL);

  struct sink s = {.stdout_ok = true, .a = a};
  s.log_fd = open(a->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int tty = open_tty(a->tty_path);
  unsigned long long next_check = 0, crashed_since = 0, tty_retry = 0;
  for (;;) {
    struct pollfd p = {.fd = tty, .events = POLLIN};
    int r = poll(&p, 1, STATE_CHECK_MS);
    unsigned long long now = now_ns() / 1000000ULL;
    if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) && !drain_tty(tty, &s)) {
      close(tty); /* hung up (a board's rpmsg tty goes with the core): reopen later */
      tty = -1;
      tty_retry = now + STATE_CHECK_MS;
    }
    if (tty < 0 && now >= tty_retry) {
      tty = open_tty(a->tty_path);
      tty_retry = now + STATE_CHECK_MS;
    }
    bool check_now = false;
    if (stop_requested) {
      stop_requested = 0;
      stop_core(a);
      check_now = true;
    }
    if (!check_now && now < next_check)
      continue;
    next_check = now + STATE_CHECK_MS;
    enum rproc_state st;
    if (rproc_read_state(a->r, &st, NULL) < 0)
      finish(a, &s, tty, RP_EXIT_LOST);
    switch (st) {
    case RPROC_STATE_RUNNING:
    case RPROC_STATE_ATTACHED:
      crashed_since = 0;
      break;
    case RPROC_STATE_CRASHED:
      if (crashed_since == 0)
        crashed_since = now;
      if (!recovery_enabled(a->r) || now - crashed_since >= RECOVERY_GRACE_MS)
        finish(a, &s, tty, RP_EXIT_CRASHED);
      break;
    case RPROC_STATE_OFFLINE:
    case RPROC_STATE_DETACHED:
    case RPROC_STATE_SUSPENDED:
      finish(a, &s, tty, RP_EXIT_STOPPED);
    default:
      finish(a, &s, tty, RP_EXIT_LOST);
    }
  }
}
