/* qemu.c - booting a firmware under qemu-system-arm and supervising it: the
 * UART relay between QEMU's serial (stdio pipes) and the processor's pty, the
 * crash detection and the recovery reboot.
 *
 * Crash detection (docs/remoteproc.md): the processor is `crashed` when QEMU
 * exits without a `stop` (the example firmware's HardFault handler ends the
 * emulation with a semihosting SYS_EXIT, so QEMU exits 1), or when the UART
 * prints a line that starts with "rproc-crash:" (a firmware that faults
 * without semihosting: QEMU is then killed after a short grace period). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu.h"
#include "util.h"

#define CRASH_MARKER "rproc-crash:"
/* After the crash marker, how long QEMU may take to exit on its own. */
#define MARKER_GRACE_MS 200

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static char *qemu_pid_file(struct emu_proc *p)
{
  return xasprintf("%s/remoteproc%u.qemu.pid", p->emu->run_dir, p->index);
}

/* argv for QEMU: the board's UART0 on stdio (our pipes), no display, no
 * monitor, semihosting for the firmware's exit/crash report. */
static char **qemu_argv(struct emu_proc *p)
{
  struct emu *e = p->emu;
  char **argv = xmalloc0(24 * sizeof *argv);
  size_t n = 0;
  argv[n++] = xstrdup(e->qemu);
  argv[n++] = xstrdup("-M");
  argv[n++] = xstrdup(p->machine);
  if (p->cpu != NULL) {
    argv[n++] = xstrdup("-cpu");
    argv[n++] = xstrdup(p->cpu);
  }
  argv[n++] = xstrdup("-nodefaults");
  argv[n++] = xstrdup("-display");
  argv[n++] = xstrdup("none");
  argv[n++] = xstrdup("-chardev");
  argv[n++] = xstrdup("stdio,id=uart0,signal=off");
  argv[n++] = xstrdup("-serial");
  argv[n++] = xstrdup("chardev:uart0");
  argv[n++] = xstrdup("-semihosting-config");
  argv[n++] = xstrdup("enable=on,target=native");
  if (e->icount != NULL) {
    argv[n++] = xstrdup("-icount");
    argv[n++] = xasprintf("shift=%s", e->icount);
  }
  argv[n++] = xstrdup("-kernel");
  argv[n++] = xstrdup(p->booted_path);
  return argv;
}

/* In the forked child: only async-signal-safe calls until exec. */
static void __attribute__((noreturn))
exec_qemu(char **argv, int in_fd, int out_fd, int log_fd, int report_fd, pid_t parent)
{
  /* QEMU must not outlive the emulator, even one killed with SIGKILL. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  setpgid(0, 0);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(log_fd, 2) < 0)
    goto fail;
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  execvp(argv[0], argv);
fail:;
  int e = errno;
  if (write(report_fd, &e, sizeof e) < 0) { /* parent sees EOF, reports EIO */ }
  _exit(127);
}

static int open_qemu_log(struct emu_proc *p)
{
  cleanup_free char *path = xasprintf("%s/remoteproc%u.qemu.log", p->emu->run_dir, p->index);
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

int qemu_spawn(struct emu_proc *p)
{
  cleanup_strv char **argv = qemu_argv(p);
  int in[2], out[2], report[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return -errno;
  if (pipe2(out, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]), close(in[1]);
    return -e;
  }
  if (pipe2(report, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return -e;
  }
  cleanup_close int log_fd = open_qemu_log(p);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0)
    exec_qemu(argv, in[0], out[1], log_fd >= 0 ? log_fd : out[1], report[1], parent);
  int fork_errno = errno;
  close(in[0]);
  close(out[1]);
  close(report[1]);
  if (pid < 0) {
    close(in[1]), close(out[0]), close(report[0]);
    return -fork_errno;
  }
  /* EOF: exec succeeded (the pipe is close-on-exec); data: its errno. */
  int exec_errno = 0;
  ssize_t got = read_full(report[0], &exec_errno, sizeof exec_errno);
  close(report[0]);
  if (got > 0) {
    waitpid(pid, NULL, 0);
    close(in[1]), close(out[0]);
    emu_event(p->emu, "remoteproc%u boot-failed exec %s: %s", p->index, argv[0],
              strerror(exec_errno));
    return -EIO;
  }
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  p->qemu_pid = pid;
  p->qemu_stdin = in[1];
  p->qemu_stdout = out[0];
  cleanup_free char *pidfile = qemu_pid_file(p);
  cleanup_free char *text = xasprintf("%d\n", (int) pid);
  write_file_atomic(pidfile, text, strlen(text), 0644, NULL);
  return 0;
}

void qemu_signal(struct emu_proc *p, int sig)
{
  if (p->qemu_pid > 0)
    kill(p->qemu_pid, sig);
}

/* Scans relayed output for the crash marker at the start of a line. */
struct line_scan {
  char line[sizeof CRASH_MARKER];
  size_t len;
  bool at_start;
  bool marker_seen;
};

static void scan_output(struct line_scan *s, const char *buf, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char c = buf[i];
    if (c == '\n' || c == '\r') {
      s->len = 0;
      s->at_start = true;
      continue;
    }
    if (!s->at_start)
      continue;
    s->line[s->len++] = c;
    if (s->len == sizeof CRASH_MARKER - 1) {
      if (memcmp(s->line, CRASH_MARKER, s->len) == 0)
        s->marker_seen = true;
      s->at_start = false;
    } else if (c != CRASH_MARKER[s->len - 1]) {
      s->at_start = false;
    }
  }
}

/* The UART of a booted processor: QEMU's output to the pty (dropped when
 * no one reads and the tty is full, as a real tty would), pty input to QEMU.
 * Returns when QEMU's output closes (it exited). */
static void relay(struct emu_proc *p, int from_qemu, int to_qemu, pid_t pid)
{
  struct line_scan scan = {.at_start = true};
  unsigned long long kill_at = 0;
  char buf[4096];
  for (;;) {
    struct pollfd fds[2] = {{.fd = from_qemu, .events = POLLIN},
                            {.fd = p->pty_master, .events = POLLIN}};
    int timeout = kill_at ? MARKER_GRACE_MS : -1;
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (kill_at && now_ns() >= kill_at) {
      kill(pid, SIGKILL);
      kill_at = 0;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(from_qemu, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return;
      if (write(p->pty_master, buf, (size_t) r) < 0) { /* tty full: dropped */ }
      bool before = scan.marker_seen;
      scan_output(&scan, buf, (size_t) r);
      if (scan.marker_seen && !before) {
        emu_event(p->emu, "remoteproc%u crash-marker", p->index);
        kill_at = now_ns() + MARKER_GRACE_MS * 1000000ULL;
      }
    }
    if (fds[1].revents & POLLIN) {
      ssize_t r = read(p->pty_master, buf, sizeof buf);
      if (r > 0 && write(to_qemu, buf, (size_t) r) < 0) { /* UART RX full: dropped */ }
    }
  }
}

static char *describe_exit(int status)
{
  if (WIFEXITED(status))
    return xasprintf("exit=%d", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return xasprintf("signal=%d", WTERMSIG(status));
  return xasprintf("status=0x%x", (unsigned) status);
}

/* After QEMU ended: close its pipes and pid file; emu.lock held. */
static void forget_qemu(struct emu_proc *p)
{
  edgecr_cleanup_closep(&p->qemu_stdin);
  edgecr_cleanup_closep(&p->qemu_stdout);
  p->qemu_pid = 0;
  cleanup_free char *pidfile = qemu_pid_file(p);
  unlink(pidfile);
}

static void sleep_ms(unsigned ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

void *qemu_supervise(void *arg)
{
  struct emu_proc *p = arg;
  struct emu *e = p->emu;
  pthread_mutex_lock(&e->lock);
  for (;;) {
    pid_t pid = p->qemu_pid;
    int from_qemu = p->qemu_stdout, to_qemu = p->qemu_stdin;
    pthread_mutex_unlock(&e->lock);
    relay(p, from_qemu, to_qemu, pid);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    pthread_mutex_lock(&e->lock);
    forget_qemu(p);
    if (p->stopping)
      break;
    cleanup_free char *how = describe_exit(status);
    p->state = RPROC_CRASHED;
    p->crashes++;
    emu_event(e, "remoteproc%u crashed %s crashes=%u", p->index, how, p->crashes);
    if (p->recovery_disabled)
      break;
    pthread_mutex_unlock(&e->lock);
    sleep_ms(e->recovery_delay_ms);
    pthread_mutex_lock(&e->lock);
    if (p->stopping || p->recovery_disabled || p->state != RPROC_CRASHED)
      break;
    emu_event(e, "remoteproc%u recovering", p->index);
    if (proc_load_and_spawn(p) < 0)
      break;
  }
  p->supervisor_done = true;
  pthread_cond_broadcast(&p->supervisor_exited);
  pthread_mutex_unlock(&e->lock);
  return NULL;
}
