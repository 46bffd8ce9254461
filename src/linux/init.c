/* init.c - the container init: the child of `create`, running inside the
 * new namespaces.  It builds the filesystem view, sets the process up,
 * reports READY, then blocks on the exec fifo until `start`, and execs the
 * container's process.  Errors travel back to the runtime over the sync
 * socket, so they are printed once, by the runtime. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "console.h"
#include "hooks.h"
#include "linux_internal.h"
#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "util.h"

void sync_report(int sync_fd, edgecr_error_t *err)
{
  (void) sync_send(sync_fd, SYNC_ERROR, edgecr_error_errno(err), (err && *err) ? (*err)->msg : "container init failed");
}

_Noreturn void init_fail(int sync_fd, edgecr_error_t *err)
{
  sync_report(sync_fd, err);
  _exit(1);
}

static int join_namespaces(const struct oci_config *c, bool users_only, edgecr_error_t *err)
{
  for (size_t i = 0; i < c->n_namespaces; i++) {
    const struct oci_namespace *ns = &c->namespaces[i];
    if (ns->path == NULL || ns->type == CLONE_NEWPID || ns->type == 0x80 /* time */)
      continue;
    if (users_only != (ns->type == CLONE_NEWUSER))
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return edgecr_error_make(err, errno, "linux.namespaces: open %s namespace `%s`", oci_namespace_name(ns->type), ns->path);
    int r = setns(fd, ns->type);
    int e = errno;
    close(fd);
    if (r < 0)
      return edgecr_error_make(err, e, "linux.namespaces: join %s namespace `%s`", oci_namespace_name(ns->type), ns->path);
  }
  return 0;
}

/* A new network namespace starts with its loopback down; runc and crun
 * bring it up (programs expect 127.0.0.1 to work), so do we.  Any socket
 * of the namespace serves the interface ioctls, AF_UNIX always exists. */
static int loopback_up(edgecr_error_t *err)
{
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return edgecr_error_make(err, errno, "network namespace: socket to bring `lo` up");
  struct ifreq r = {0};
  strncpy(r.ifr_name, "lo", sizeof r.ifr_name - 1);
  if (ioctl(s, SIOCGIFFLAGS, &r) < 0)
    return edgecr_error_make(err, errno, "network namespace: read the flags of `lo`");
  r.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &r) < 0)
    return edgecr_error_make(err, errno, "network namespace: bring `lo` up");
  return 0;
}

static int apply_sysctl(const struct oci_config *c, edgecr_error_t *err)
{
  const char *key;
  json_t *val;
  json_object_foreach(c->sysctl, key, val) {
    cleanup_free char *path = xasprintf("/proc/sys/%s", key);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    const char *v = json_string_value(val);
    if (write_file(path, v, strlen(v), err) < 0)
      return edgecr_error_wrap(err, "linux.sysctl.%s", key);
  }
  return 0;
}

static int set_names(const struct oci_config *c, edgecr_error_t *err)
{
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
    return edgecr_error_make(err, errno, "hostname `%s`", c->hostname);
  if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
    return edgecr_error_make(err, errno, "domainname `%s`", c->domainname);
  return 0;
}

static void reset_signals(const struct oci_process *p)
{
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal(s, SIG_DFL);
  /* With SCHED_FLAG_DL_OVERRUN the kernel sends SIGXCPU when a deadline
   * reservation overruns.  Its default action would kill a program that
   * does not expect it, so it starts ignored (the disposition survives
   * execve); include/edgecr/rt.h installs a handler that counts them. */
  if (p->scheduler.present && (p->scheduler.flags & 0x04))
    signal(SIGXCPU, SIG_IGN);
}

/* The environment linux_process_exec hands to execve when prepare had to
 * add HOME.  File-static because prepare and exec run in the same one-shot
 * child (the init, or the child of `exec`), and the lookup must happen
 * before the user switch and seccomp, the execve after them. */
static char **exec_env;

int linux_process_prepare(const struct finalize_opts *o, edgecr_error_t *err)
{
  const struct oci_process *p = o->proc;
  /* Every container process leads its own session (and so its own process
   * group), as under runc: a signal sent to the caller's group does not
   * reach it, and `kill -- -PID` inside reaches exactly its children. */
  if (setsid() < 0 && errno != EPERM)
    return edgecr_error_make(err, errno, "setsid");
  if (o->console_fd >= 0 && p->terminal && console_setup(o->console_fd, p, err) < 0)
    return -1;
  if (o->console_fd >= 0)
    close(o->console_fd);
  if (process_apply_rlimits(p, err) < 0 || process_apply_io_priority(p, err) < 0 ||
      process_apply_scheduler(p, err) < 0 ||
      process_apply_affinity(p->exec_cpu_affinity_initial, "process.execCPUAffinity.initial", err) < 0)
    return -1;
  return process_drop_bounding(p, err);
}

bool linux_process_late_identity(const struct oci_process *p, const struct edgecr_seccomp *sc)
{
  return sc != NULL && !p->no_new_privileges;
}

int linux_process_identity(const struct oci_process *p, struct edgecr_seccomp *sc, const char *state_json,
                           edgecr_error_t *err)
{
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while
   * we still have it (as runc does); with it, linux_process_exec loads the
   * filter right before execve. */
  if (linux_process_late_identity(p, sc) && edgecr_seccomp_install(sc, state_json, err) < 0)
    return -1;
  exec_env = process_env_with_home(p);
  if (process_switch_user(p, err) < 0 || process_apply_capabilities(p, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return edgecr_error_make(err, errno, "process.noNewPrivileges");
  if (chdir(p->cwd) < 0)
    return edgecr_error_make(err, errno, "process.cwd `%s`", p->cwd);
  umask(p->user.has_umask ? p->user.umask : 022);
  return 0;
}

_Noreturn void linux_process_exec(const struct exec_final *f)
{
  const struct oci_process *proc = f->proc;
  /* ours, and a payload runner's own (opened early, in place of execve) */
  int keep[2 + 256] = {f->keep_fd, f->seccomp ? f->seccomp->listener_sock : -1};
  size_t n_keep = 2;
  if (f->payload != NULL && f->payload_state != NULL && f->payload->early_fds != NULL) {
    size_t n = f->payload->early_fds(keep + 2, 256);
    n_keep += n < 256 ? n : 256;
  }
  int keep_max = 3 + f->preserve_fds;
  close_fds_from(keep_max, keep, n_keep);
  /* preserved fds must survive exec (ours stay close-on-exec) */
  for (int fd = 3; fd < keep_max; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && fd != keep[0] && fd != keep[1])
      fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  if (proc->exec_cpu_affinity_final) {
    edgecr_error_t e = NULL;
    process_apply_affinity(proc->exec_cpu_affinity_final, "process.execCPUAffinity.final", &e);
    edgecr_error_release(&e);
  }
  /* The filter comes last: from here on the only syscall the runtime still
   * needs is execve itself (or the payload runner, which takes its place),
   * so a profile cannot block our own protocol. */
  edgecr_error_t err = NULL;
  if (f->seccomp != NULL && edgecr_seccomp_install(f->seccomp, f->state_json, &err) < 0) {
    f->fail(f->fail_fd, &err);
    _exit(127);
  }
  if (f->payload != NULL && f->payload_state != NULL) {
    if (f->keep_fd >= 0)
      close(f->keep_fd); /* what execve does to it: `start` sees the payload begin */
    f->payload->run(f->payload_state, proc);
    _exit(127); /* run does not return */
  }
  execve(f->path, proc->args, exec_env ? exec_env : proc->env);
  /* Best effort: a filter may forbid even this. */
  fprintf(stderr, "edgecr: exec `%s`: %s\n", f->path, strerror(errno));
  _exit(127);
}

/* After `create` returned, failures go to `start` over the status fifo:
 * "!" and the message (see linux_start). */
static void report_to_start(int status_fd, edgecr_error_t *err)
{
  const char *msg = (err && *err) ? (*err)->msg : "container init failed";
  cleanup_free char *text = xasprintf("!%s", msg);
  (void) write_all(status_fd, text, strlen(text));
  fprintf(stderr, "edgecr: %s\n", msg);
}

/* The container's root when its mount namespace was joined by path: the
 * mounts are made as for a new namespace, but the root is entered with
 * chroot, not pivot_root, which would move every process of the shared
 * namespace whose root is the old one. */
static int enter_root_in_joined_ns(const struct oci_config *c, edgecr_error_t *err)
{
  if (chdir(c->root_path) < 0 || chroot(".") < 0 || chdir("/") < 0)
    return edgecr_error_make(err, errno, "root.path `%s`: enter it in the joined mount namespace", c->root_path);
  return 0;
}

/* Blocks until `start` writes the go byte on exec.fifo (we hold it open
 * for reading and writing, so the read blocks instead of seeing EOF). */
static int wait_for_start(int go_fd)
{
  char b;
  ssize_t r;
  do
    r = read(go_fd, &b, 1);
  while (r < 0 && errno == EINTR);
  close(go_fd);
  return r == 1 ? 0 : -1;
}

_Noreturn void linux_container_init(struct init_args *a)
{
  struct oci_config *c = a->cfg;
  edgecr_error_t err = NULL;
  int code = 0;
  cleanup_free char *payload = NULL;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* the runtime dying mid-create kills us */
  if (sync_recv(a->sync_fd, &code, &payload) != SYNC_GO)
    _exit(1);
  free(payload);
  payload = NULL;

  if (join_namespaces(c, true, &err) < 0)
    init_fail(a->sync_fd, &err);
  const struct oci_namespace *userns = oci_config_namespace(c, CLONE_NEWUSER);
  if (userns != NULL && userns->path != NULL) {
    int flags = 0;
    for (size_t i = 0; i < c->n_namespaces; i++)
      if (c->namespaces[i].path == NULL && c->namespaces[i].type != CLONE_NEWUSER &&
          c->namespaces[i].type != CLONE_NEWPID && c->namespaces[i].type != CLONE_NEWCGROUP &&
          c->namespaces[i].type != 0x80)
        flags |= c->namespaces[i].type;
    if (flags && unshare(flags) < 0) {
      edgecr_error_make(&err, errno, "linux.namespaces: create namespaces in the joined user namespace");
      init_fail(a->sync_fd, &err);
    }
  }
  if (join_namespaces(c, false, &err) < 0)
    init_fail(a->sync_fd, &err);
  const struct oci_namespace *cgns = oci_config_namespace(c, CLONE_NEWCGROUP);
  if (cgns != NULL && cgns->path == NULL && unshare(CLONE_NEWCGROUP) < 0) {
    edgecr_error_make(&err, errno, "linux.namespaces: create cgroup namespace");
    init_fail(a->sync_fd, &err);
  }
  const struct oci_namespace *netns = oci_config_namespace(c, CLONE_NEWNET);
  if (netns != NULL && netns->path == NULL && loopback_up(&err) < 0)
    init_fail(a->sync_fd, &err);
  if (userns != NULL && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
    edgecr_error_make(&err, errno, "become root in the user namespace (is uid/gid 0 mapped?)");
    init_fail(a->sync_fd, &err);
  }
  /* Each container gets its own session keyring (unless --no-new-keyring),
   * so containers cannot read each other's or the host's session keys. */
  if (!a->no_new_keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->id) < 0 &&
      errno != ENOSYS) {
    edgecr_error_make(&err, errno, "create the container's session keyring (--no-new-keyring skips it)");
    init_fail(a->sync_fd, &err);
  }
  if (c->sysctl && apply_sysctl(c, &err) < 0)
    init_fail(a->sync_fd, &err);
  const struct oci_namespace *mntns = oci_config_namespace(c, CLONE_NEWNS);
  bool joined_mounts = mntns != NULL && mntns->path != NULL;
  if (mntns != NULL && mounts_setup_rootfs(c, a->layout, a->cgroup_path, userns != NULL, a->bind_fds, &err) < 0)
    init_fail(a->sync_fd, &err);
  /* Needs /proc, which the container may not mount: set it while the
   * host's is still reachable. */
  if (process_apply_oom_score_adj(c->process, &err) < 0)
    init_fail(a->sync_fd, &err);
  mounts_close_bind_sources(c, a->bind_fds);

  /* prestart + createRuntime run in the runtime's namespaces, now. */
  if (sync_send(a->sync_fd, SYNC_HOOKS, 0, NULL) < 0)
    _exit(1);
  int t = sync_recv(a->sync_fd, &code, &payload);
  if (t != SYNC_HOOKS_DONE)
    _exit(1);
  const char *state_json = payload;
  if (hooks_run(c, OCI_HOOK_CREATE_CONTAINER, state_json, &err) < 0)
    init_fail(a->sync_fd, &err);
  if (edgecr_seccomp_connect(a->seccomp, &err) < 0)
    init_fail(a->sync_fd, &err);
  if (a->payload != NULL && a->payload->early != NULL && a->payload->early(c, &err) < 0)
    init_fail(a->sync_fd, &err);
  if (mntns != NULL && (joined_mounts ? enter_root_in_joined_ns(c, &err) : mounts_enter_rootfs(c, a->no_pivot, &err)) < 0)
    init_fail(a->sync_fd, &err);
  if (set_names(c, &err) < 0)
    init_fail(a->sync_fd, &err);
  /* A missing working directory is created, as runc does: before the
   * root (or a read-only path) may become read-only. */
  if (access(c->process->cwd, F_OK) < 0 && mkdir_p(c->process->cwd, 0755, &err) < 0)
    init_fail(a->sync_fd, &err);
  if (mntns != NULL && mounts_finalize(c, &err) < 0)
    init_fail(a->sync_fd, &err);
  if (c->has_personality && personality(c->personality) < 0) {
    edgecr_error_make(&err, errno, "linux.personality");
    init_fail(a->sync_fd, &err);
  }
  if (process_apply_memory_policy(c, &err) < 0)
    init_fail(a->sync_fd, &err);
  cleanup_free char *exe = process_find_executable(c->process, &err);
  if (exe == NULL && a->payload != NULL) { /* a payload need not be executable: its runner finds it */
    edgecr_error_release(&err);
    exe = xstrdup(c->process->args[0]);
  }
  if (exe == NULL)
    init_fail(a->sync_fd, &err);
  struct finalize_opts fo = {.proc = c->process, .preserve_fds = a->preserve_fds, .console_fd = a->console_fd};
  if (linux_process_prepare(&fo, &err) < 0)
    init_fail(a->sync_fd, &err);
  /* The identity is set now, where its errors still reach `create`, unless
   * a filter that needs CAP_SYS_ADMIN must come first: then it all happens
   * after `start`, so that nothing of our protocol runs under the filter. */
  bool late = linux_process_late_identity(c->process, a->seccomp);
  if (!late && linux_process_identity(c->process, NULL, state_json, &err) < 0)
    init_fail(a->sync_fd, &err);
  void *payload_state = NULL; /* a payload runner checks its program now, so create fails on it */
  if (a->payload != NULL && a->payload->prepare(c, c->process, exe, true, &payload_state, &err) < 0)
    init_fail(a->sync_fd, &err);

  prctl(PR_SET_PDEATHSIG, 0); /* from here on we outlive `create` */
  if (sync_send(a->sync_fd, SYNC_READY, 0, NULL) < 0)
    _exit(1);
  close(a->sync_fd);
  if (wait_for_start(a->go_fd) < 0)
    _exit(126);
  if (c->n_hooks[OCI_HOOK_START_CONTAINER] > 0 &&
      hooks_run(c, OCI_HOOK_START_CONTAINER, state_json, &err) < 0) {
    report_to_start(a->status_fd, &err);
    _exit(127);
  }
  /* "0": the startContainer hooks are done.  The descriptor itself is
   * close-on-exec, so `start` sees EOF exactly when execve succeeds, and
   * only then runs the poststart hooks (spec: after the process runs). */
  if (write(a->status_fd, "0", 1) != 1)
    _exit(126);
  reset_signals(c->process);
  if (late && linux_process_identity(c->process, a->seccomp, state_json, &err) < 0) {
    report_to_start(a->status_fd, &err);
    _exit(127);
  }
  struct exec_final f = {.proc = c->process, .path = exe, .preserve_fds = a->preserve_fds,
                         .keep_fd = a->status_fd, .seccomp = late ? NULL : a->seccomp,
                         .state_json = state_json, .fail = report_to_start, .fail_fd = a->status_fd,
                         .payload = a->payload, .payload_state = payload_state};
  linux_process_exec(&f);
}
