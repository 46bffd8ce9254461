/* gpiochip_emu.c - an emulated GPIO chip for hosts without one (no
 * CONFIG_GPIOLIB, no gpio-sim), answering the GPIO character device's v1
 * ioctls with the kernel's semantics, for an unmodified program (even a
 * static one) such as `edgecr wasm run`.
 *
 *   gpiochip_emu --node DIR --lines N [--names a,b,..] --state FILE
 *                --inputs FILE -- PROGRAM ARGS...
 *
 * Why not CUSE: this kernel has no CUSE (CONFIG_CUSE), and even with it a
 * CUSE server cannot answer GPIO_GET_LINEHANDLE_IOCTL, which returns a NEW
 * file descriptor in the caller (the line handle): a character device in
 * user space has no way to install a descriptor in its client.  A seccomp
 * user-notification supervisor can (SECCOMP_IOCTL_NOTIF_ADDFD), so that is
 * what this is:
 *   - the child gets a private mount namespace with a tmpfs over /sys/bus
 *     holding gpio/devices/gpiochipN/dev (libgpiod 1.6 checks that the
 *     device's major:minor match it), and DIR/gpiochipN, a character
 *     device node with those numbers (1:3, the null device: reads and
 *     writes on it do nothing);
 *   - a seccomp filter sends every ioctl with the GPIO magic (0xB4) to the
 *     supervisor (this process), which answers it when the descriptor is
 *     the chip node or one of its line handles, and lets the kernel answer
 *     any other (SECCOMP_USER_NOTIF_FLAG_CONTINUE);
 *   - a line handle is a memfd added to the caller; it is released when
 *     no process of the child's tree holds it any more (looked up in
 *     /proc/PID/fd when it matters: a request of its lines, line info).
 * Semantics, as drivers/gpio/gpiolib-cdev.c: CHIPINFO; LINEINFO (EINVAL
 * past the last line; KERNEL, IS_OUT, ACTIVE_LOW flags; name, consumer);
 * LINEHANDLE (EINVAL for no lines, more than 64, an offset past the last
 * line, both or neither... directions; EBUSY for a requested line; output
 * lines take their default values); GET_LINE_VALUES (outputs: what was
 * set, inputs: the --inputs file, one '0'/'1' per line; active-low
 * inverts); SET_LINE_VALUES (EPERM on an input handle).  Every change of
 * a line is written to --state: "OFFSET NAME DIR VALUE CONSUMER" lines
 * (DIR in/out/-, VALUE the physical level).  Other GPIO ioctls (v2,
 * events, watches; libgpiod 1.6 does not issue them for what edgecr
 * does) get ENOTTY, as a kernel without them would answer.  The
 * supervisor exits with the program's status. */

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/gpio.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define MAX_LINES 64
#define MAX_HANDLES 256
#define CHIP_MAJOR 1
#define CHIP_MINOR 3
#if defined(__x86_64__)
#define EMU_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define EMU_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define EMU_AUDIT_ARCH AUDIT_ARCH_ARM
#endif

struct line {
  char name[32], consumer[32];
  int handle;          /* index of the holding handle, -1 free */
  bool out, active_low;
  int value;           /* physical level when output */
};

struct handle {
  bool used;
  ino_t ino;
  char memname[48];
  pid_t pid;           /* the process it was added to */
  unsigned n, offsets[GPIOHANDLES_MAX];
  bool out;
};

static struct line lines[MAX_LINES];
static unsigned n_lines = 8;
static struct handle handles[MAX_HANDLES];
static const char *state_path, *inputs_path, *node_dir;
static char chip_name[32] = "gpiochip9";
static int next_handle_id;

static void die(const char *what)
{
  fprintf(stderr, "gpiochip_emu: %s: %s\n", what, strerror(errno));
  exit(125);
}

static void write_state(void)
{
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    die("state file");
  for (unsigned i = 0; i < n_lines; i++)
    fprintf(f, "%u %s %s %d %s\n", i, lines[i].name, lines[i].handle < 0 ? "-" : lines[i].out ? "out" : "in",
            lines[i].value, lines[i].consumer[0] ? lines[i].consumer : "-");
  fclose(f);
  rename(tmp, state_path);
}

static int input_level(unsigned off)
{
  FILE *f = fopen(inputs_path, "r");
  char buf[MAX_LINES + 2] = "";
  if (f != NULL) {
    if (fgets(buf, sizeof buf, f) == NULL)
      buf[0] = '\0';
    fclose(f);
  }
  return off < strlen(buf) && buf[off] == '1';
}

/* Is handle h still held by some process of the tree?  (Its memfd in a
 * /proc/PID/fd of any process: the handle's process or one it forked.) */
static bool handle_alive(int h)
{
  DIR *proc = opendir("/proc");
  if (proc == NULL)
    return true;
  char want[64];
  snprintf(want, sizeof want, "/memfd:%s (deleted)", handles[h].memname);
  bool alive = false;
  struct dirent *p;
  while (!alive && (p = readdir(proc)) != NULL) {
    char dir[300];
    snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(dir);
    if (fds == NULL)
      continue;
    struct dirent *f;
    while (!alive && (f = readdir(fds)) != NULL) {
      char link[600], target[128];
      snprintf(link, sizeof link, "%s/%s", dir, f->d_name);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n > 0) {
        target[n] = '\0';
        alive = strcmp(target, want) == 0;
      }
    }
    closedir(fds);
  }
  closedir(proc);
  return alive;
}

/* Release the handles nobody holds any more (what the kernel does at the last close). */
static void reap_handles(void)
{
  bool changed = false;
  for (int h = 0; h < MAX_HANDLES; h++) {
    if (!handles[h].used || handle_alive(h))
      continue;
    for (unsigned i = 0; i < handles[h].n; i++) {
      struct line *l = &lines[handles[h].offsets[i]];
      l->handle = -1;
      l->consumer[0] = '\0';
      l->out = false;
      l->active_low = false;
    }
    handles[h].used = false;
    changed = true;
  }
  if (changed)
    write_state();
}

static int rw_mem(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
  struct iovec local = {buf, len}, remote = {(void *) (uintptr_t) addr, len};
  ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) : process_vm_readv(pid, &local, 1, &remote, 1, 0);
  return n == (ssize_t) len ? 0 : -EFAULT;
}

static int chipinfo(pid_t pid, uint64_t arg)
{
  struct gpiochip_info ci = {0};
  snprintf(ci.name, sizeof ci.name, "%s", chip_name);
  snprintf(ci.label, sizeof ci.label, "edgecr-emu");
  ci.lines = n_lines;
  return rw_mem(pid, arg, &ci, sizeof ci, true);
}

static int lineinfo(pid_t pid, uint64_t arg)
{
  struct gpioline_info li;
  if (rw_mem(pid, arg, &li, sizeof li, false) < 0)
    return -EFAULT;
  if (li.line_offset >= n_lines)
    return -EINVAL;
  reap_handles();
  const struct line *l = &lines[li.line_offset];
  li.flags = (l->handle >= 0 ? GPIOLINE_FLAG_KERNEL : 0) | (l->out ? GPIOLINE_FLAG_IS_OUT : 0) |
             (l->active_low ? GPIOLINE_FLAG_ACTIVE_LOW : 0);
  memcpy(li.name, l->name, sizeof li.name);
  memcpy(li.consumer, l->consumer, sizeof li.consumer);
  return rw_mem(pid, arg, &li, sizeof li, true);
}

/* The checks of the request; 0 when it may be granted. */
static int check_request(const struct gpiohandle_request *r)
{
  unsigned dirs = r->flags & (GPIOHANDLE_REQUEST_INPUT | GPIOHANDLE_REQUEST_OUTPUT);
  if (r->lines == 0 || r->lines > GPIOHANDLES_MAX || dirs == (GPIOHANDLE_REQUEST_INPUT | GPIOHANDLE_REQUEST_OUTPUT))
    return -EINVAL;
  if ((r->flags & (GPIOHANDLE_REQUEST_OPEN_DRAIN | GPIOHANDLE_REQUEST_OPEN_SOURCE)) && !(r->flags & GPIOHANDLE_REQUEST_OUTPUT))
    return -EINVAL;
  for (unsigned i = 0; i < r->lines; i++)
    if (r->lineoffsets[i] >= n_lines)
      return -EINVAL;
  reap_handles();
  for (unsigned i = 0; i < r->lines; i++)
    if (lines[r->lineoffsets[i]].handle >= 0)
      return -EBUSY;
  return 0;
}

static int linehandle(int listener, const struct seccomp_notif *req, uint64_t arg)
{
  struct gpiohandle_request r;
  if (rw_mem(req->pid, arg, &r, sizeof r, false) < 0)
    return -EFAULT;
  int rc = check_request(&r);
  if (rc < 0)
    return rc;
  int h = 0;
  while (h < MAX_HANDLES && handles[h].used)
    h++;
  if (h == MAX_HANDLES)
    return -ENOMEM;
  struct handle *hd = &handles[h];
  char memname[48];
  snprintf(memname, sizeof memname, "gpio-emu-handle-%d-%d", (int) getpid(), next_handle_id++);
  int mfd = memfd_create(memname, MFD_CLOEXEC);
  struct stat st;
  if (mfd < 0 || fstat(mfd, &st) < 0)
    return -ENOMEM;
  struct seccomp_notif_addfd add = {.id = req->id, .srcfd = (uint32_t) mfd, .newfd_flags = O_CLOEXEC};
  int newfd = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
  close(mfd);
  if (newfd < 0)
    return -errno;
  r.fd = newfd;
  if (rw_mem(req->pid, arg, &r, sizeof r, true) < 0)
    return -EFAULT;   /* (the added descriptor stays with the caller, as the kernel's would on this error) */
  *hd = (struct handle){.used = true, .ino = st.st_ino, .pid = req->pid, .n = r.lines,
                        .out = (r.flags & GPIOHANDLE_REQUEST_OUTPUT) != 0};
  memcpy(hd->memname, memname, sizeof memname);
  for (unsigned i = 0; i < r.lines; i++) {
    struct line *l = &lines[r.lineoffsets[i]];
    hd->offsets[i] = r.lineoffsets[i];
    l->handle = h;
    l->out = hd->out;
    l->active_low = (r.flags & GPIOHANDLE_REQUEST_ACTIVE_LOW) != 0;
    snprintf(l->consumer, sizeof l->consumer, "%.31s", r.consumer_label[0] ? r.consumer_label : "?");
    if (l->out)
      l->value = (r.default_values[i] != 0) ^ l->active_low;
  }
  write_state();
  return 0;
}

static int handle_values(int h, pid_t pid, uint64_t arg, bool set)
{
  struct handle *hd = &handles[h];
  struct gpiohandle_data d;
  if (set) {
    if (!hd->out)
      return -EPERM;
    if (rw_mem(pid, arg, &d, sizeof d, false) < 0)
      return -EFAULT;
    for (unsigned i = 0; i < hd->n; i++) {
      struct line *l = &lines[hd->offsets[i]];
      l->value = (d.values[i] != 0) ^ l->active_low;
    }
    write_state();
    return 0;
  }
  memset(&d, 0, sizeof d);
  for (unsigned i = 0; i < hd->n; i++) {
    const struct line *l = &lines[hd->offsets[i]];
    int level = l->out ? l->value : input_level(hd->offsets[i]);
    d.values[i] = (uint8_t) (level ^ l->active_low);
  }
  return rw_mem(pid, arg, &d, sizeof d, true);
}

/* What the caller's descriptor is: -2 the chip, a handle index, or -1 neither. */
static int classify(pid_t pid, int fd)
{
  int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    return -1;
  int local = (int) syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  close(pidfd);
  if (local < 0)
    return -1;
  struct stat st;
  int rc = fstat(local, &st);
  close(local);
  if (rc < 0)
    return -1;
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(CHIP_MAJOR, CHIP_MINOR))
    return -2;
  for (int h = 0; h < MAX_HANDLES; h++)
    if (handles[h].used && handles[h].ino == st.st_ino && !S_ISCHR(st.st_mode))
      return h;
  return -1;
}

static void serve(int listener, const struct seccomp_notif *req)
{
  struct seccomp_notif_resp resp = {.id = req->id};
  int fd = (int) req->data.args[0];
  unsigned long cmd = (unsigned long) (uint32_t) req->data.args[1];
  uint64_t arg = req->data.args[2];
  int what = classify(req->pid, fd);
  int rc;
  if (what == -1) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;   /* not ours: the kernel answers */
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    return;
  }
  if (what == -2)
    rc = cmd == GPIO_GET_CHIPINFO_IOCTL ? chipinfo(req->pid, arg)
         : cmd == GPIO_GET_LINEINFO_IOCTL ? lineinfo(req->pid, arg)
         : cmd == GPIO_GET_LINEHANDLE_IOCTL ? linehandle(listener, req, arg)
                                            : -ENOTTY;
  else
    rc = cmd == GPIOHANDLE_GET_LINE_VALUES_IOCTL ? handle_values(what, req->pid, arg, false)
         : cmd == GPIOHANDLE_SET_LINE_VALUES_IOCTL ? handle_values(what, req->pid, arg, true)
                                                   : -ENOTTY;
  resp.error = rc < 0 ? rc : 0;
  resp.val = 0;
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static int install_filter(void)
{
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EMU_AUDIT_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xb400, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die("no_new_privs");
  int fd = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0)
    die("seccomp");
  return fd;
}

/* The child's view: /sys/bus/gpio/devices/NAME/dev and the node DIR/NAME. */
static void make_node(void)
{
  char path[4200];
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die("mount namespace");
  if (mount("tmpfs", "/sys/bus", "tmpfs", 0, "mode=755") < 0)
    die("tmpfs on /sys/bus");
  snprintf(path, sizeof path, "/sys/bus/gpio");
  mkdir(path, 0755);
  snprintf(path, sizeof path, "/sys/bus/gpio/devices");
  mkdir(path, 0755);
  snprintf(path, sizeof path, "/sys/bus/gpio/devices/%s", chip_name);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "/sys/bus/gpio/devices/%s/dev", chip_name);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    die(path);
  fprintf(f, "%d:%d\n", CHIP_MAJOR, CHIP_MINOR);
  fclose(f);
  snprintf(path, sizeof path, "%s/%s", node_dir, chip_name);
  unlink(path);
  if (mknod(path, S_IFCHR | 0600, makedev(CHIP_MAJOR, CHIP_MINOR)) < 0)
    die(path);
}

static void send_fd(int sock, int fd)
{
  char c = 0, ctl[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec io = {&c, 1};
  struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  if (sendmsg(sock, &mh, 0) != 1)
    die("send listener");
}

static int recv_fd(int sock)
{
  char c, ctl[CMSG_SPACE(sizeof(int))];
  struct iovec io = {&c, 1};
  struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  if (recvmsg(sock, &mh, 0) != 1)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

static void parse_args(int argc, char **argv, int *prog)
{
  const char *names = NULL;
  int i = 1;
  for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
    if (strcmp(argv[i], "--node") == 0)
      node_dir = argv[i + 1];
    else if (strcmp(argv[i], "--lines") == 0)
      n_lines = (unsigned) atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--names") == 0)
      names = argv[i + 1];
    else if (strcmp(argv[i], "--state") == 0)
      state_path = argv[i + 1];
    else if (strcmp(argv[i], "--inputs") == 0)
      inputs_path = argv[i + 1];
    else if (strcmp(argv[i], "--chip") == 0)
      snprintf(chip_name, sizeof chip_name, "%s", argv[i + 1]);
  }
  if (i >= argc - 1 || !node_dir || !state_path || !inputs_path || n_lines == 0 || n_lines > MAX_LINES) {
    fprintf(stderr, "usage: gpiochip_emu --node DIR --lines N [--names a,b] [--chip NAME] --state FILE "
                    "--inputs FILE -- PROGRAM ARGS...\n");
    exit(125);
  }
  *prog = i + 1;
  for (unsigned k = 0; k < n_lines; k++) {
    lines[k].handle = -1;
    size_t len = names ? strcspn(names, ",") : 0;
    snprintf(lines[k].name, sizeof lines[k].name, "%.*s", (int) (len ? len : 0), names ? names : "");
    if (len == 0)
      snprintf(lines[k].name, sizeof lines[k].name, "line%u", k);
    names = names && names[len] == ',' ? names + len + 1 : NULL;
  }
}

int main(int argc, char **argv)
{
  int prog;
  parse_args(argc, argv, &prog);
  write_state();
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
    die("socketpair");
  pid_t child = fork();
  if (child < 0)
    die("fork");
  if (child == 0) {
    close(sp[0]);
    make_node();
    int listener = install_filter();
    send_fd(sp[1], listener);
    close(listener);
    close(sp[1]);
    execvp(argv[prog], argv + prog);
    die(argv[prog]);
  }
  close(sp[1]);
  int listener = recv_fd(sp[0]);
  if (listener < 0) {
    int st;
    waitpid(child, &st, 0);
    return 125;
  }
  for (;;) {
    struct pollfd p = {listener, POLLIN, 0};
    int n = poll(&p, 1, 100);
    int st;
    if (waitpid(child, &st, WNOHANG) == child)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (n <= 0 || !(p.revents & POLLIN))
      continue;
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
      continue;
    serve(listener, &req);
  }
}
