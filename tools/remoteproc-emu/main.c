/* main.c - the remoteproc-emu command: option parsing, setting up the
 * emulated root, daemonising once the mount is ready, and `stop`, which ends
 * the daemon and then makes sure no QEMU, mount or tty link is left behind.
 *
 *   remoteproc-emu start --root DIR [options]   (background; returns when ready)
 *   remoteproc-emu run   --root DIR [options]   (foreground, until SIGTERM/^C)
 *   remoteproc-emu stop  --root DIR
 *
 * See docs/remoteproc.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "util.h"

#define STOP_WAIT_MS 10000

static void usage(FILE *out)
{
  fputs("usage: remoteproc-emu start|run|stop --root DIR [options]\n"
        "  --root DIR             emulated system root (sys/, dev/, lib/firmware/ ...)\n"
        "  --proc NAME[:MACHINE[:CPU]]  add a processor (repeatable; default machine\n"
        "                         mps2-an385, CPU the machine's own)\n"
        "  --procs N              add N processors named cm3-0 .. cm3-(N-1)\n"
        "  --model STR            devicetree model (sys/firmware/devicetree/base/model,\n"
        "                         proc/device-tree -> it)\n"
        "  --firmware-path DIR    searched first, like firmware_class.path (inside root)\n"
        "  --kernel-release VER   for lib/firmware[/updates]/VER (default: uname -r)\n"
        "  --icount SHIFT         QEMU -icount shift=SHIFT (deterministic timing)\n"
        "  --qemu PATH            QEMU binary (default qemu-system-arm)\n"
        "  --recovery-delay-ms N  pause before a recovery reboot (default 20)\n"
        "  --no-recovery          processors start with recovery disabled\n",
        out);
}

static void add_proc(struct emu *e, const char *spec)
{
  e->procs = xrealloc(e->procs, (e->nprocs + 1) * sizeof *e->procs);
  struct emu_proc *p = &e->procs[e->nprocs];
  proc_new(p, e, (unsigned) e->nprocs);
  cleanup_free char *copy = xstrdup(spec);
  char *machine = strchr(copy, ':');
  char *cpu = NULL;
  if (machine != NULL) {
    *machine++ = '\0';
    cpu = strchr(machine, ':');
    if (cpu != NULL)
      *cpu++ = '\0';
  }
  p->name = xstrdup(copy);
  p->machine = xstrdup(machine != NULL && *machine ? machine : "mps2-an385");
  p->cpu = cpu != NULL && *cpu ? xstrdup(cpu) : NULL;
  e->nprocs++;
}

static int parse_args(struct emu *e, int argc, char **argv, bool *no_recovery,
                      edgecr_error_t *err)
{
  enum { O_ROOT = 1, O_PROC, O_PROCS, O_MODEL, O_FWPATH, O_KREL, O_ICOUNT, O_QEMU,
         O_RDELAY, O_NORECOVERY, O_HELP };
  static const struct option opts[] = {
    {"root", required_argument, NULL, O_ROOT},
    {"proc", required_argument, NULL, O_PROC},
    {"procs", required_argument, NULL, O_PROCS},
    {"model", required_argument, NULL, O_MODEL},
    {"firmware-path", required_argument, NULL, O_FWPATH},
    {"kernel-release", required_argument, NULL, O_KREL},
    {"icount", required_argument, NULL, O_ICOUNT},
    {"qemu", required_argument, NULL, O_QEMU},
    {"recovery-delay-ms", required_argument, NULL, O_RDELAY},
    {"no-recovery", no_argument, NULL, O_NORECOVERY},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
  };
  int c;
  long long n;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_ROOT: free(e->root); e->root = xstrdup(optarg); break;
    case O_PROC:
      if (optarg[0] == '\0' || optarg[0] == ':' || strchr(optarg, '/') != NULL)
        return edgecr_error_make(err, 0, "--proc `%s`: expected NAME[:MACHINE[:CPU]]", optarg);
      add_proc(e, optarg);
      break;
    case O_PROCS:
      if (parse_int64(optarg, &n) < 0 || n < 1 || n > 64)
        return edgecr_error_make(err, 0, "--procs `%s`: expected 1..64", optarg);
      for (long long i = 0; i < n; i++) {
        cleanup_free char *name = xasprintf("cm3-%zu", e->nprocs);
        add_proc(e, name);
      }
      break;
    case O_MODEL: free(e->model); e->model = xstrdup(optarg); break;
    case O_FWPATH: free(e->fw_path_param); e->fw_path_param = xstrdup(optarg); break;
    case O_KREL: free(e->kernel_release); e->kernel_release = xstrdup(optarg); break;
    case O_ICOUNT:
      if (parse_int64(optarg, &n) < 0 || n < 0 || n > 10)
        return edgecr_error_make(err, 0, "--icount `%s`: expected a shift 0..10", optarg);
      free(e->icount);
      e->icount = xstrdup(optarg);
      break;
    case O_QEMU: free(e->qemu); e->qemu = xstrdup(optarg); break;
    case O_RDELAY:
      if (parse_int64(optarg, &n) < 0 || n < 0 || n > 60000)
        return edgecr_error_make(err, 0, "--recovery-delay-ms `%s`: expected 0..60000", optarg);
      e->recovery_delay_ms = (unsigned) n;
      break;
    case O_NORECOVERY: *no_recovery = true; break;
    case O_HELP: usage(stdout); exit(0);
    default: return edgecr_error_make(err, 0, "bad option (see --help)");
    }
  }
  if (optind != argc)
    return edgecr_error_make(err, 0, "unexpected argument `%s`", argv[optind]);
  if (e->root == NULL)
    return edgecr_error_make(err, 0, "--root DIR is required");
  return 0;
}

static void set_paths(struct emu *e)
{
  free(e->mountpoint);
  free(e->run_dir);
  e->mountpoint = xasprintf("%s/sys", e->root);
  e->run_dir = xasprintf("%s/run/remoteproc-emu", e->root);
}

static bool is_mounted(const char *mountpoint)
{
  cleanup_file FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return false;
  char line[4096];
  while (fgets(line, sizeof line, f) != NULL) {
    char mnt[4096];
    /* id parent major:minor root mountpoint ... */
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strcmp(mnt, mountpoint) == 0)
      return true;
  }
  return false;
}

static char *pid_file(struct emu *e)
{
  return xasprintf("%s/pid", e->run_dir);
}

static pid_t read_pid(const char *path)
{
  cleanup_free char *text = NULL;
  if (read_all_file(path, &text, NULL) < 0)
    return 0;
  text[strcspn(text, "\n")] = '\0';
  long long v;
  return parse_int64(text, &v) == 0 && v > 0 ? (pid_t) v : 0;
}

/* Is pid alive (not a zombie) and running the program named comm? */
static bool pid_is(pid_t pid, const char *comm_prefix)
{
  cleanup_free char *path = xasprintf("/proc/%d/stat", (int) pid);
  cleanup_free char *stat = NULL;
  if (read_all_file(path, &stat, NULL) < 0)
    return false;
  char *open = strchr(stat, '('), *close = strrchr(stat, ')');
  if (open == NULL || close == NULL || close[1] == '\0' || close[2] == 'Z')
    return false;
  *close = '\0';
  return str_has_prefix(open + 1, comm_prefix);
}

static int setup_root(struct emu *e, edgecr_error_t *err)
{
  const char *dirs[] = {"sys", "dev", "proc", "run/remoteproc-emu", "lib/firmware"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    cleanup_free char *d = xasprintf("%s/%s", e->root, dirs[i]);
    if (mkdir_p(d, 0755, err) < 0)
      return -1;
  }
  char *real = realpath(e->root, NULL);
  if (real == NULL)
    return edgecr_error_make(err, errno, "resolve root `%s`", e->root);
  free(e->root);
  e->root = real;
  set_paths(e);
  if (is_mounted(e->mountpoint))
    return edgecr_error_make(err, EBUSY, "`%s` is mounted already (run `remoteproc-emu stop`)",
                             e->mountpoint);
  cleanup_free char *pidf = pid_file(e);
  pid_t old = read_pid(pidf);
  if (old > 0 && pid_is(old, "remoteproc-emu"))
    return edgecr_error_make(err, EBUSY, "an emulator runs on `%s` already (pid %d)", e->root,
                             (int) old);
  /* On a real system /proc/device-tree is a link to the sysfs copy. */
  cleanup_free char *dt = xasprintf("%s/proc/device-tree", e->root);
  unlink(dt);
  if (e->model != NULL && symlink("../sys/firmware/devicetree/base", dt) < 0)
    return edgecr_error_make(err, errno, "symlink `%s`", dt);
  return 0;
}

static void emu_free(struct emu *e)
{
  for (size_t i = 0; i < e->nprocs; i++)
    proc_release(&e->procs[i]);
  free(e->procs);
  free(e->root);
  free(e->mountpoint);
  free(e->run_dir);
  free(e->model);
  free(e->fw_path_param);
  free(e->kernel_release);
  free(e->qemu);
  free(e->icount);
  pthread_mutex_destroy(&e->lock);
}

/* Everything up to a ready mount; on failure nothing is left mounted. */
static struct fuse *bring_up(struct emu *e, bool no_recovery, edgecr_error_t *err)
{
  if (setup_root(e, err) < 0)
    return NULL;
  for (size_t i = 0; i < e->nprocs; i++) {
    e->procs[i].recovery_disabled = no_recovery;
    if (proc_init(&e->procs[i], err) < 0)
      return NULL;
  }
  struct fuse *f = fs_mount(e, err);
  if (f == NULL)
    return NULL;
  cleanup_free char *pidf = pid_file(e);
  cleanup_free char *text = xasprintf("%d\n", (int) getpid());
  if (write_file_atomic(pidf, text, strlen(text), 0644, err) < 0) {
    fs_unmount(f);
    return NULL;
  }
  emu_event(e, "emulator ready pid=%d processors=%zu", (int) getpid(), e->nprocs);
  return f;
}

static void tear_down(struct emu *e, struct fuse *f)
{
  for (size_t i = 0; i < e->nprocs; i++)
    proc_shutdown(&e->procs[i]);
  fs_unmount(f);
  cleanup_free char *dt = xasprintf("%s/proc/device-tree", e->root);
  if (e->model != NULL)
    unlink(dt);
  emu_event(e, "emulator stopped");
  cleanup_free char *pidf = pid_file(e);
  unlink(pidf);
}

/* Daemon: the parent returns once the child reports "ready" (mounted, ttys
 * linked, pid file written) or prints the child's error. */
static int cmd_start(struct emu *e, bool no_recovery, bool background)
{
  edgecr_error_t err = NULL;
  int ready[2] = {-1, -1};
  if (background) {
    if (pipe2(ready, O_CLOEXEC) < 0) {
      perror("remoteproc-emu: pipe");
      return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      perror("remoteproc-emu: fork");
      return 1;
    }
    if (pid > 0) {
      close(ready[1]);
      cleanup_free char *msg = NULL;
      read_all_fd(ready[0], "readiness pipe", &msg, NULL);
      close(ready[0]);
      emu_free(e);
      if (msg != NULL && strcmp(msg, "ready\n") == 0)
        return 0;
      fprintf(stderr, "remoteproc-emu: %s\n", msg && *msg ? msg : "daemon died during start-up");
      return 1;
    }
    close(ready[0]);
    setsid();
  }
  struct fuse *f = bring_up(e, no_recovery, &err);
  if (f == NULL) {
    if (background) {
      write_all(ready[1], err->msg, strlen(err->msg));
    } else {
      fprintf(stderr, "remoteproc-emu: %s\n", err->msg);
    }
    edgecr_error_release(&err);
    emu_free(e);
    return 1;
  }
  if (background) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    cleanup_free char *log = xasprintf("%s/emu.log", e->run_dir);
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    dup2(null, 0);
    dup2(null, 1);
    dup2(logfd >= 0 ? logfd : null, 2);
    if (null > 2)
      close(null);
    if (logfd > 2)
      close(logfd);
    write_all(ready[1], "ready\n", 6);
    close(ready[1]);
  }
  fs_loop(f);
  tear_down(e, f);
  emu_free(e);
  return 0;
}

static void sleep_ms(unsigned ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static bool wait_gone(pid_t pid, const char *comm, unsigned ms)
{
  for (unsigned waited = 0; waited < ms; waited += 5) {
    if (!pid_is(pid, comm))
      return true;
    sleep_ms(5);
  }
  return !pid_is(pid, comm);
}

/* After the daemon is gone (or if it died): QEMUs by their pid files, the
 * mount, the tty links.  Returns how many leftovers it had to clean. */
static int sweep_leftovers(struct emu *e)
{
  int swept = 0;
  for (unsigned i = 0; i < 64; i++) {
    cleanup_free char *qpid = xasprintf("%s/remoteproc%u.qemu.pid", e->run_dir, i);
    pid_t pid = read_pid(qpid);
    if (pid > 0 && pid_is(pid, "qemu-system")) {
      kill(pid, SIGKILL);
      wait_gone(pid, "qemu-system", 2000);
      swept++;
    }
    unlink(qpid);
    cleanup_free char *tty = xasprintf("%s/dev/ttyRPMSG%u", e->root, i);
    struct stat st;
    if (lstat(tty, &st) == 0 && S_ISLNK(st.st_mode)) {
      unlink(tty);
      swept++;
    }
  }
  if (is_mounted(e->mountpoint)) {
    if (umount2(e->mountpoint, MNT_DETACH) < 0)
      fprintf(stderr, "remoteproc-emu: unmount `%s`: %s\n", e->mountpoint, strerror(errno));
    swept++;
  }
  cleanup_free char *pidf = pid_file(e);
  unlink(pidf);
  return swept;
}

static int cmd_stop(struct emu *e)
{
  char *real = realpath(e->root, NULL);
  if (real == NULL) {
    fprintf(stderr, "remoteproc-emu: root `%s`: %s\n", e->root, strerror(errno));
    return 1;
  }
  free(e->root);
  e->root = real;
  set_paths(e);
  cleanup_free char *pidf = pid_file(e);
  pid_t pid = read_pid(pidf);
  int rc = 0;
  if (pid > 0 && pid_is(pid, "remoteproc-emu")) {
    kill(pid, SIGTERM);
    if (!wait_gone(pid, "remoteproc-emu", STOP_WAIT_MS)) {
      fprintf(stderr, "remoteproc-emu: pid %d did not stop; killing it\n", (int) pid);
      kill(pid, SIGKILL);
      wait_gone(pid, "remoteproc-emu", 2000);
      rc = 1;
    }
  }
  int swept = sweep_leftovers(e);
  if (swept > 0)
    fprintf(stderr, "remoteproc-emu: cleaned %d leftover(s) under `%s`\n", swept, e->root);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argv[1][0] == '-') {
    usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  const char *cmd = argv[1];
  struct emu e = {.recovery_delay_ms = 20};
  pthread_mutex_init(&e.lock, NULL);
  bool no_recovery = false;
  edgecr_error_t err = NULL;
  if (parse_args(&e, argc - 1, argv + 1, &no_recovery, &err) < 0) {
    fprintf(stderr, "remoteproc-emu %s: %s\n", cmd, err->msg);
    edgecr_error_release(&err);
    emu_free(&e);
    return 2;
  }
  if (e.qemu == NULL)
    e.qemu = xstrdup(getenv("REMOTEPROC_EMU_QEMU") ? getenv("REMOTEPROC_EMU_QEMU")
                                                    : "qemu-system-arm");
  if (e.kernel_release == NULL) {
    struct utsname u;
    e.kernel_release = xstrdup(uname(&u) == 0 ? u.release : "unknown");
  }
  if (e.nprocs == 0)
    add_proc(&e, "cm3-0");
  set_paths(&e);
  if (strcmp(cmd, "start") == 0 || strcmp(cmd, "run") == 0)
    return cmd_start(&e, no_recovery, strcmp(cmd, "start") == 0);
  if (strcmp(cmd, "stop") == 0) {
    int rc = cmd_stop(&e);
    emu_free(&e);
    return rc;
  }
  fprintf(stderr, "remoteproc-emu: unknown command `%s` (start, run, stop)\n", cmd);
  emu_free(&e);
  return 2;
}
