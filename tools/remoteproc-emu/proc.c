/* proc.c - the remoteproc state machine of one emulated processor: the
 * kernel's sysfs semantics (drivers/remoteproc/remoteproc_sysfs.c and
 * Documentation/ABI/testing/sysfs-class-remoteproc) for `state`, `firmware`,
 * `recovery` and `coredump`, the firmware lookup of the kernel's firmware
 * loader inside the emulated root, and the pty standing in for the RPMsg tty.
 *
 * Command functions return 0 or the negative errno a write(2) on the kernel's
 * attribute would fail with. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "util.h"

/* How long `stop` waits for QEMU after SIGTERM before it sends SIGKILL. */
#define STOP_GRACE_MS 2000

const char *proc_state_name(enum rproc_state s)
{
  switch (s) {
  case RPROC_OFFLINE: return "offline";
  case RPROC_RUNNING: return "running";
  case RPROC_CRASHED: return "crashed";
  }
  return "invalid";
}

const char *proc_coredump_name(enum rproc_coredump c)
{
  switch (c) {
  case COREDUMP_DISABLED: return "disabled";
  case COREDUMP_ENABLED: return "enabled";
  case COREDUMP_INLINE: return "inline";
  }
  return "disabled";
}

bool attr_streq(const char *buf, const char *want)
{
  size_t n = strlen(want);
  if (strncmp(buf, want, n) != 0)
    return false;
  return buf[n] == '\0' || (buf[n] == '\n' && buf[n + 1] == '\0');
}

/* The RPMsg tty stand-in.  The emulator keeps the slave open too, in raw
 * mode: no echo (which would feed the firmware's own output back into its
 * UART), no newline translation, and no hang-up when readers come and go. */
static int open_pty(struct emu_proc *p, edgecr_error_t *err)
{
  p->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (p->pty_master < 0)
    return edgecr_error_make(err, errno, "remoteproc%u: open pty master", p->index);
  if (grantpt(p->pty_master) < 0 || unlockpt(p->pty_master) < 0)
    return edgecr_error_make(err, errno, "remoteproc%u: unlock pty", p->index);
  char slave[64];
  if (ptsname_r(p->pty_master, slave, sizeof slave) != 0)
    return edgecr_error_make(err, errno, "remoteproc%u: pty name", p->index);
  p->pty_slave = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p->pty_slave < 0)
    return edgecr_error_make(err, errno, "open pty `%s`", slave);
  struct termios t;
  if (tcgetattr(p->pty_slave, &t) < 0)
    return edgecr_error_make(err, errno, "tcgetattr `%s`", slave);
  cfmakeraw(&t);
  if (tcsetattr(p->pty_slave, TCSANOW, &t) < 0)
    return edgecr_error_make(err, errno, "tcsetattr `%s`", slave);
  p->tty_link = xasprintf("%s/dev/ttyRPMSG%u", p->emu->root, p->index);
  if (unlink(p->tty_link) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "remove stale `%s`", p->tty_link);
  if (symlink(slave, p->tty_link) < 0)
    return edgecr_error_make(err, errno, "symlink `%s` -> `%s`", p->tty_link, slave);
  return 0;
}

void proc_new(struct emu_proc *p, struct emu *e, unsigned index)
{
  memset(p, 0, sizeof *p);
  p->emu = e;
  p->index = index;
  p->state = RPROC_OFFLINE;
  p->coredump = COREDUMP_ENABLED;
  p->pty_master = p->pty_slave = -1;
  p->qemu_stdin = p->qemu_stdout = -1;
}

int proc_init(struct emu_proc *p, edgecr_error_t *err)
{
  /* Here, not in proc_new: the array of processors may still move while
   * the options are parsed, and a condition variable must not. */
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&p->supervisor_exited, &attr);
  pthread_condattr_destroy(&attr);
  p->initialised = true;
  /* The kernel's default firmware name (rproc_alloc_firmware). */
  if (p->firmware == NULL)
    p->firmware = xasprintf("rproc-%s-fw", p->name);
  return open_pty(p, err);
}

void proc_release(struct emu_proc *p)
{
  if (p->tty_link != NULL)
    unlink(p->tty_link);
  edgecr_cleanup_closep(&p->pty_master);
  edgecr_cleanup_closep(&p->pty_slave);
  if (p->initialised)
    pthread_cond_destroy(&p->supervisor_exited);
  free(p->tty_link);
  free(p->name);
  free(p->machine);
  free(p->cpu);
  free(p->firmware);
  free(p->booted_path);
}

/* A firmware name may name a file in a subdirectory ("edgecr/x.elf") but
 * must stay inside the firmware directories. */
static bool firmware_name_ok(const char *name)
{
  if (name[0] == '\0' || name[0] == '/')
    return false;
  for (const char *c = name; (c = strstr(c, "..")) != NULL; c += 2) {
    bool starts = c == name || c[-1] == '/';
    bool ends = c[2] == '\0' || c[2] == '/';
    if (starts && ends)
      return false;
  }
  return true;
}

/* The kernel's firmware loader tries, in order: the firmware_class.path
 * parameter, /lib/firmware/updates/<release>, /lib/firmware/updates,
 * /lib/firmware/<release>, /lib/firmware.  Here all inside the root. */
static int find_firmware(struct emu_proc *p, char **out)
{
  struct emu *e = p->emu;
  if (!firmware_name_ok(p->firmware))
    return -ENOENT;
  cleanup_free char *updates_rel = xasprintf("lib/firmware/updates/%s", e->kernel_release);
  cleanup_free char *plain_rel = xasprintf("lib/firmware/%s", e->kernel_release);
  const char *dirs[] = {e->fw_path_param, updates_rel, "lib/firmware/updates", plain_rel,
                        "lib/firmware"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    if (dirs[i] == NULL || dirs[i][0] == '\0')
      continue;
    const char *dir = dirs[i][0] == '/' ? dirs[i] + 1 : dirs[i];
    char *path = xasprintf("%s/%s/%s", e->root, dir, p->firmware);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      *out = path;
      return 0;
    }
    free(path);
  }
  return -ENOENT;
}

/* rproc_elf_sanity_check: a 32-bit little-endian ARM ELF executable. */
static int check_elf(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  Elf32_Ehdr h;
  if (read_full(fd, &h, sizeof h) != (ssize_t) sizeof h)
    return -EINVAL;
  if (memcmp(h.e_ident, ELFMAG, SELFMAG) != 0 || h.e_ident[EI_CLASS] != ELFCLASS32 ||
      h.e_ident[EI_DATA] != ELFDATA2LSB || h.e_machine != EM_ARM || h.e_phnum == 0)
    return -EINVAL;
  return 0;
}

/* Finds, checks and boots the firmware; emu.lock held.  Used by `start`,
 * by recovery from the supervisor thread and by a manual `recover`. */
int proc_load_and_spawn(struct emu_proc *p)
{
  char *path = NULL;
  int r = find_firmware(p, &path);
  if (r < 0) {
    emu_event(p->emu, "remoteproc%u boot-failed firmware=%s error=ENOENT", p->index, p->firmware);
    return r;
  }
  free(p->booted_path);
  p->booted_path = path;
  r = check_elf(path);
  if (r < 0) {
    emu_event(p->emu, "remoteproc%u boot-failed firmware=%s error=bad-elf", p->index, path);
    return r;
  }
  r = qemu_spawn(p);
  if (r < 0)
    return r;
  p->state = RPROC_RUNNING;
  p->boots++;
  emu_event(p->emu, "remoteproc%u running firmware=%s pid=%d boot=%u", p->index, path,
            (int) p->qemu_pid, p->boots);
  return 0;
}

static int start_supervisor(struct emu_proc *p)
{
  /* Signals (SIGTERM to the daemon) must reach the FUSE thread, which is
   * blocked in read(2) on /dev/fuse, not a supervisor. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&p->supervisor, NULL, qemu_supervise, p);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0)
    return -r;
  p->supervisor_alive = true;
  p->supervisor_done = false;
  return 0;
}

/* Joins a supervisor that has finished; emu.lock held (a finished thread
 * no longer needs it). */
static void join_finished_supervisor(struct emu_proc *p)
{
  if (p->supervisor_alive && p->supervisor_done) {
    pthread_join(p->supervisor, NULL);
    p->supervisor_alive = false;
  }
}

static int boot_locked(struct emu_proc *p)
{
  join_finished_supervisor(p);
  int r = proc_load_and_spawn(p);
  if (r < 0)
    return r;
  r = start_supervisor(p);
  if (r < 0) {
    qemu_signal(p, SIGKILL);
    return r;
  }
  return 0;
}

static void deadline_after_ms(struct timespec *ts, unsigned ms)
{
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long) (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* rproc_shutdown: ends QEMU (SIGTERM, then SIGKILL after a grace period)
 * and waits for the supervisor; emu.lock held. */
static void shutdown_locked(struct emu_proc *p)
{
  if (p->supervisor_alive) {
    p->stopping = true;
    qemu_signal(p, SIGTERM);
    struct timespec deadline;
    deadline_after_ms(&deadline, STOP_GRACE_MS);
    bool killed = false;
    while (!p->supervisor_done) {
      int r = pthread_cond_timedwait(&p->supervisor_exited, &p->emu->lock, &deadline);
      if (r == ETIMEDOUT && !killed) {
        qemu_signal(p, SIGKILL);
        killed = true;
      }
    }
    join_finished_supervisor(p);
    p->stopping = false;
  }
  if (p->state != RPROC_OFFLINE)
    emu_event(p->emu, "remoteproc%u offline", p->index);
  p->state = RPROC_OFFLINE;
}

int proc_cmd_state(struct emu_proc *p, const char *cmd)
{
  pthread_mutex_t *lock = &p->emu->lock;
  int r = 0;
  pthread_mutex_lock(lock);
  if (attr_streq(cmd, "start")) {
    if (p->state == RPROC_RUNNING)
      r = -EBUSY;
    else if (p->state == RPROC_OFFLINE) {
      /* A fresh start begins with an empty tty, nothing of an earlier run
       * (a recovery keeps it: the crash report may not be read yet). */
      tcflush(p->pty_slave, TCIOFLUSH);
      r = boot_locked(p);
    }
    /* CRASHED: the kernel's rproc_boot finds the core still powered and
     * returns success without booting; recovery or stop get out of it. */
  } else if (attr_streq(cmd, "stop")) {
    if (p->state == RPROC_OFFLINE)
      r = -EINVAL;
    else
      shutdown_locked(p);
  } else {
    /* "detach" only applies to attached cores, which the emulation has not. */
    r = -EINVAL;
  }
  pthread_mutex_unlock(lock);
  return r;
}

void proc_shutdown(struct emu_proc *p)
{
  pthread_mutex_lock(&p->emu->lock);
  shutdown_locked(p);
  pthread_mutex_unlock(&p->emu->lock);
}

int proc_set_firmware(struct emu_proc *p, const char *buf, size_t len)
{
  int r = 0;
  pthread_mutex_lock(&p->emu->lock);
  size_t n = strcspn(buf, "\n");
  if (n > len)
    n = len;
  if (p->state != RPROC_OFFLINE) {
    r = -EBUSY;
  } else if (n == 0) {
    r = -EINVAL;
  } else {
    free(p->firmware);
    p->firmware = strndup(buf, n);
    if (p->firmware == NULL)
      r = -ENOMEM;
  }
  pthread_mutex_unlock(&p->emu->lock);
  return r;
}

/* rproc_trigger_recovery: reboot a crashed core; a no-op in other states.
 * emu.lock held. */
static int trigger_recovery_locked(struct emu_proc *p)
{
  if (p->state != RPROC_CRASHED)
    return 0;
  /* With recovery enabled a live supervisor is already rebooting it. */
  if (p->supervisor_alive && !p->supervisor_done)
    return 0;
  emu_event(p->emu, "remoteproc%u recovering (requested)", p->index);
  return boot_locked(p);
}

int proc_set_recovery(struct emu_proc *p, const char *cmd)
{
  int r = 0;
  pthread_mutex_lock(&p->emu->lock);
  if (attr_streq(cmd, "enabled")) {
    p->recovery_disabled = false;
    trigger_recovery_locked(p);
  } else if (attr_streq(cmd, "disabled")) {
    p->recovery_disabled = true;
  } else if (attr_streq(cmd, "recover")) {
    trigger_recovery_locked(p);
  } else {
    r = -EINVAL;
  }
  pthread_mutex_unlock(&p->emu->lock);
  return r;
}

int proc_set_coredump(struct emu_proc *p, const char *cmd)
{
  int r = 0;
  pthread_mutex_lock(&p->emu->lock);
  if (p->state == RPROC_CRASHED)
    r = -EBUSY;
  else if (attr_streq(cmd, "disabled"))
    p->coredump = COREDUMP_DISABLED;
  else if (attr_streq(cmd, "enabled"))
    p->coredump = COREDUMP_ENABLED;
  else if (attr_streq(cmd, "inline"))
    p->coredump = COREDUMP_INLINE;
  else
    r = -EINVAL;
  pthread_mutex_unlock(&p->emu->lock);
  return r;
}
