/* linux_container.c - the Linux backend: containers as processes in their
 * own namespaces and cgroups.  This file is the runtime (parent) side:
 * create (clone + synchronisation with the init), start (exec fifo),
 * status, kill, destroy, exec, pause, update, stats. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "cgroup.h"
#include "console.h"
#include "hooks.h"
#include "linux_backend.h"
#include "idmap.h"
#include "linux_internal.h"
#include "log.h"
#include "mounts.h"
#include "partition.h"
#include "process.h"
#include "sync.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The create/start handshake: `start` writes a byte on exec.fifo; the
 * init answers on exec.status ("0" once the startContainer hooks ran, "!"
 * and a message on failure, EOF when execve closed it).  The runtime opens
 * both read+write before cloning the init, so the init never needs to
 * reopen anything by path: no dependency on /proc inside the container. */
static char *fifo_path(struct container *c)
{
  return xasprintf("%s/exec.fifo", c->dir);
}

static char *status_fifo_path(struct container *c)
{
  return xasprintf("%s/exec.status", c->dir);
}

static json_t *rt_grants(struct container *c)
{
  return json_object_get(c->state->backend_data, "rtGrants");
}

/* What edgecr did in the cgroup hierarchies (cgroup.h); NULL in a state
 * written before records existed. */
static json_t *cgroup_record(struct container *c)
{
  return json_object_get(c->state->backend_data, "cgroup");
}

/* ---- create: validation --------------------------------------------- */

/* memory.kernel and memory.kernelTCP: the kernel deprecated separate
 * kernel-memory limits (v1 kmem.limit_in_bytes is refused since 5.16,
 * kmem.tcp is gone from v2): accepted, as runc does, but never silently. */
static void warn_kernel_memory(const struct oci_config *cfg)
{
  json_t *mem = json_object_get(cfg->resources, "memory");
  static const char *const keys[] = {"kernel", "kernelTCP"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    json_t *v = json_object_get(mem, keys[i]);
    if (v != NULL && !json_is_null(v))
      log_warning("%s: `linux.resources.memory.%s` ignored: separate kernel memory limits are deprecated by the "
                  "kernel (that memory counts against memory.limit)", cfg->path, keys[i]);
  }
}

/* Capability names this host does not know are ignored, as runc and crun
 * do, but said once, at create. */
static void warn_unknown_caps(const struct oci_config *cfg)
{
  const struct oci_process *p = cfg->process;
  if (p == NULL)
    return;
  const struct { const char *name; const struct oci_capset *set; } sets[] = {
    {"bounding", &p->bounding}, {"effective", &p->effective}, {"inheritable", &p->inheritable},
    {"permitted", &p->permitted}, {"ambient", &p->ambient}};
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    if (sets[i].set->unknown != NULL)
      log_warning("%s: `process.capabilities.%s`: unknown capabilities ignored: %s", cfg->path, sets[i].name,
                  sets[i].set->unknown);
}

static int validate(struct container *c, const struct cgroup_layout *l, edgecr_error_t *err)
{
  struct oci_config *cfg = c->config;
  const char *f = cfg->path;
  warn_unknown_caps(cfg);
  const struct oci_namespace *mnt = oci_config_namespace(cfg, CLONE_NEWNS);
  if (mnt == NULL)
    return edgecr_error_make(err, EINVAL, "%s: `linux.namespaces`: edgecr needs a mount namespace "
                                          "(without one the container would change the host's mounts)", f);
  const struct oci_namespace *user = oci_config_namespace(cfg, CLONE_NEWUSER);
  const struct oci_namespace *pid = oci_config_namespace(cfg, CLONE_NEWPID);
  if (user && user->path && pid && !pid->path)
    return edgecr_error_make(err, ENOTSUP, "%s: `linux.namespaces`: a new pid namespace inside a joined user "
                                           "namespace is not supported", f);
  if (cgroup_resources_validate(l, cfg->resources, f, err) < 0)
    return -1;
  warn_kernel_memory(cfg);
  for (size_t i = 0; i < cfg->n_namespaces; i++) {
    const struct oci_namespace *ns = &cfg->namespaces[i];
    if (ns->path && access(ns->path, F_OK) < 0)
      return edgecr_error_make(err, errno, "%s: `linux.namespaces[%zu].path`: `%s`", f, i, ns->path);
  }
  /* In a mount namespace joined by path, root.path is looked up there
   * (by the init, which reports it if missing). */
  struct stat st;
  if (mnt->path == NULL && stat(cfg->root_path, &st) < 0)
    return edgecr_error_make(err, errno, "%s: `root.path`: `%s`", f, cfg->root_path);
  return 0;
}

/* ---- create: namespaces that only apply to children (pid, time) ------ */

struct child_ns {
  int orig_pid, orig_time;
};

static int enter_child_namespaces(const struct oci_config *cfg, struct child_ns *saved, edgecr_error_t *err)
{
  saved->orig_pid = saved->orig_time = -1;
  const struct oci_namespace *pid = oci_config_namespace(cfg, CLONE_NEWPID);
  if (pid && pid->path) {
    saved->orig_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    cleanup_close int fd = open(pid->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWPID) < 0)
      return edgecr_error_make(err, errno, "linux.namespaces: join pid namespace `%s`", pid->path);
  }
  const struct oci_namespace *tns = oci_config_namespace(cfg, CLONE_NEWTIME);
  if (tns) {
    saved->orig_time = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
    if (tns->path) {
      cleanup_close int fd = open(tns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
        return edgecr_error_make(err, errno, "linux.namespaces: join time namespace `%s`", tns->path);
    } else {
      if (unshare(CLONE_NEWTIME) < 0)
        return edgecr_error_make(err, errno, "linux.namespaces: create time namespace");
      const char *clk;
      json_t *off;
      json_object_foreach(cfg->time_offsets, clk, off) {
        long long secs = json_integer_value(json_object_get(off, "secs"));
        long long nanos = json_integer_value(json_object_get(off, "nanosecs"));
        cleanup_free char *line = xasprintf("%s %lld %lld\n", clk, secs, nanos);
        if (write_file("/proc/self/timens_offsets", line, strlen(line), err) < 0)
          return edgecr_error_wrap(err, "linux.timeOffsets.%s", clk);
      }
    }
  }
  return 0;
}

static void leave_child_namespaces(struct child_ns *saved)
{
  if (saved->orig_pid >= 0) {
    setns(saved->orig_pid, CLONE_NEWPID);
    close(saved->orig_pid);
  }
  if (saved->orig_time >= 0) {
    setns(saved->orig_time, CLONE_NEWTIME);
    close(saved->orig_time);
  }
}

static int clone_flags(const struct oci_config *cfg)
{
  const struct oci_namespace *user = oci_config_namespace(cfg, CLONE_NEWUSER);
  if (user && user->path)
    return SIGCHLD; /* the child joins the user ns first, then unshares */
  int flags = SIGCHLD;
  for (size_t i = 0; i < cfg->n_namespaces; i++) {
    int t = cfg->namespaces[i].type;
    if (cfg->namespaces[i].path == NULL && t != CLONE_NEWCGROUP && t != CLONE_NEWTIME)
      flags |= t;
  }
  return flags;
}

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n, edgecr_error_t *err)
{
  if (idmap_write_proc_map(pid, file, m, n, err) < 0)
    return edgecr_error_wrap(err, "linux.%s", strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings");
  return 0;
}

/* ---- create ---------------------------------------------------------- */

static char *hook_state(struct container *c, const char *status)
{
  json_t *o = container_state_json(c, STATUS_CREATING);
  json_object_set_new(o, "status", json_string(status));
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

/* Why the init is gone (it closed the sync socket without a message). */
static int init_exit_error(pid_t pid, edgecr_error_t *err)
{
  int status = 0;
  pid_t r = 0;
  /* EOF comes with the init's exit; give the kernel a moment to make it
   * a zombie, but never wait on a process that is still alive. */
  for (int i = 0; i < 1000 && (r = waitpid(pid, &status, WNOHANG)) == 0; i++)
    usleep(1000);
  if (r != pid)
    return edgecr_error_make(err, EPROTO, "container init closed its sync socket during set-up without a report");
  if (WIFSIGNALED(status))
    return edgecr_error_make(err, 0, "container init was killed by signal %d during set-up", WTERMSIG(status));
  return edgecr_error_make(err, 0, "container init exited during set-up (status %d)", WEXITSTATUS(status));
}

/* Talk to the init until it is READY; runs the runtime-side hooks. */
static int await_init(struct container *c, int sync_fd, pid_t pid, edgecr_error_t *err)
{
  for (;;) {
    int code = 0;
    cleanup_free char *payload = NULL;
    int t = sync_recv(sync_fd, &code, &payload);
    if (t == SYNC_READY)
      return 0;
    if (t == SYNC_ERROR)
      return edgecr_error_make(err, 0, "%s", payload);
    if (t == SYNC_HOOKS) {
      struct cgroup_layout *l;
      if (cgroup_layout_get(&l, err) < 0 || cgroup_apply_devices(l, c->state->cgroup_path, c->config->resources, err) < 0)
        return -1;
      cleanup_free char *st = hook_state(c, "creating");
      if (hooks_run(c->config, OCI_HOOK_PRESTART, st, err) < 0 ||
          hooks_run(c->config, OCI_HOOK_CREATE_RUNTIME, st, err) < 0)
        return -1;
      /* The init's own hooks (createContainer, startContainer) run once
       * the runtime's part of create is done: they see "created". */
      cleanup_free char *created = hook_state(c, "created");
      if (sync_send(sync_fd, SYNC_HOOKS_DONE, 0, created) < 0)
        return edgecr_error_make(err, errno, "send the container state (%zu bytes) to the container init",
                                 strlen(created));
      continue;
    }
    if (t < 0)
      return edgecr_error_make(err, errno, "read from the container init's sync socket");
    if (t != 0)
      return edgecr_error_make(err, EPROTO, "unexpected message %d from the container init", t);
    return init_exit_error(pid, err);
  }
}

static int make_start_fifos(struct container *c, int *go_fd, int *status_fd, edgecr_error_t *err)
{
  cleanup_free char *go = fifo_path(c);
  cleanup_free char *st = status_fifo_path(c);
  if (mkfifo(go, 0600) < 0 || (*go_fd = open(go, O_RDWR | O_CLOEXEC)) < 0)
    return edgecr_error_make(err, errno, "create `%s`", go);
  if (mkfifo(st, 0600) < 0 || (*status_fd = open(st, O_RDWR | O_CLOEXEC)) < 0)
    return edgecr_error_make(err, errno, "create `%s`", st);
  return 0;
}

/* A container that asks for a deadline partition of its own CPU
 * (PLAN_PARTITION_ANNOTATION, docs/plan.md) lives below it: the partition
 * is made (or shared) now, its cgroup moves into it, and linux_destroy
 * gives it up. */
static int join_partition(struct container *c, char **cgpath, edgecr_error_t *err)
{
  const struct oci_process *p = c->config->process;
  bool deadline = p && p->scheduler.present && p->scheduler.policy == 6 /* SCHED_DEADLINE */;
  int cpu;
  if (plan_partition_wanted(c->config->annotations, deadline, c->config->resources, &cpu, err) < 0)
    return -1;
  if (cpu < 0)
    return 0;
  if (plan_partition_join(c->state_root, c->id, cpu, err) < 0)
    return -1;
  char *inside = plan_partition_container_cgroup(cpu, *cgpath);
  free(*cgpath);
  *cgpath = inside;
  return 0;
}

int linux_backend_create(struct container *c, const struct lc_create_opts *o, const struct linux_payload_ops *payload,
                         edgecr_error_t *err)
{
  struct oci_config *cfg = c->config;
  struct cgroup_layout *layout;
  if (cgroup_layout_get(&layout, err) < 0)
    return -1;
  cleanup_free char *cgpath = NULL;
  if (cgroup_resolve_path(cfg->cgroups_path, c->id, c->systemd_cgroup, &cgpath, err) < 0)
    return -1;
  if (validate(c, layout, err) < 0 || join_partition(c, &cgpath, err) < 0)
    return -1;
  struct edgecr_seccomp *sc = NULL;
  if (edgecr_seccomp_build(cfg->seccomp, cfg->path, &sc, err) < 0)
    return -1;
  /* Recorded with the pid below, before any cgroup exists. */
  c->state->cgroup_path = xstrdup(cgpath);
  json_object_set_new(c->state->backend_data, "cgroup", cgroup_record_new());

  cleanup_close int go_fd = -1, status_fd = -1;
  if (make_start_fifos(c, &go_fd, &status_fd, err) < 0) {
    edgecr_seccomp_free(sc);
    return -1;
  }
  cleanup_close int console_fd = -1;
  if (o->console_sock_fd >= 0)
    console_fd = dup(o->console_sock_fd);
  else if (o->console_socket && (console_fd = console_socket_connect(o->console_socket, err)) < 0) {
    edgecr_seccomp_free(sc);
    return -1;
  }
  if (cfg->process->terminal && console_fd < 0) {
    edgecr_seccomp_free(sc);
    return edgecr_error_make(err, EINVAL, "process.terminal is true: a --console-socket is required");
  }
  if (!cfg->process->terminal && console_fd >= 0) {
    close(console_fd);
    console_fd = -1;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    edgecr_seccomp_free(sc);
    return edgecr_error_make(err, errno, "socketpair");
  }
  /* Before the child namespaces: its helper reads the host's /proc. */
  if (idmap_prepare_mounts(cfg, err) < 0) {
    close(sv[0]);
    close(sv[1]);
    edgecr_seccomp_free(sc);
    return -1;
  }
  struct child_ns saved;
  if (enter_child_namespaces(cfg, &saved, err) < 0) {
    leave_child_namespaces(&saved);
    close(sv[0]);
    close(sv[1]);
    edgecr_seccomp_free(sc);
    idmap_close_mounts(cfg);
    return -1;
  }
  int *bind_fds = mounts_open_bind_sources(cfg); /* by the host's root */
  pid_t pid = (pid_t) syscall(SYS_clone, clone_flags(cfg), NULL, NULL, NULL, NULL);
  if (pid == 0) {
    close(sv[0]);
    close(c->lock_fd); /* the flock must not outlive the runtime's operation */
    struct init_args a = {
      .cfg = cfg, .layout = layout, .cgroup_path = cgpath, .sync_fd = sv[1], .console_fd = console_fd,
      .go_fd = go_fd, .status_fd = status_fd, .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring, .id = c->id,
      .preserve_fds = o->preserve_fds, .seccomp = sc,
      .new_userns = (clone_flags(cfg) & CLONE_NEWUSER) != 0, .bind_fds = bind_fds, .payload = payload,
    };
    linux_container_init(&a);
  }
  int clone_errno = errno;
  mounts_close_bind_sources(cfg, bind_fds);
  leave_child_namespaces(&saved);
  close(sv[1]);
  edgecr_seccomp_free(sc);
  idmap_close_mounts(cfg);
  cleanup_close int sync_fd = sv[0];
  if (pid < 0)
    return edgecr_error_make(err, clone_errno, "clone the container init (namespaces: %#x)", clone_flags(cfg));

  c->state->pid = pid;
  c->state->pid_start_time = proc_start_time(pid);
  cgroup_plan_dirs(layout, cgpath, cgroup_record(c)); /* saved with the pid */
  json_t *grants = NULL;
  int ret = container_save_state(c, err);
  if (ret == 0 && (clone_flags(cfg) & CLONE_NEWUSER)) {
    ret = write_id_map(pid, "uid_map", cfg->uid_mappings, cfg->n_uid_mappings, err);
    if (ret == 0)
      ret = write_id_map(pid, "gid_map", cfg->gid_mappings, cfg->n_gid_mappings, err);
  }
  /* The directories made are recorded before anything is put in them. */
  if (ret == 0 && (ret = cgroup_make(layout, cgpath, cgroup_record(c), err)) == 0)
    ret = container_save_state(c, err);
  if (ret == 0) {
    ret = cgroup_create(layout, cgpath, cfg->resources, cfg->process, pid, &grants, err);
    /* Bandwidth lent to ancestors must be given back even after a crash. */
    if (grants != NULL && json_array_size(grants) > 0) {
      json_object_set_new(c->state->backend_data, "rtGrants", grants);
      edgecr_error_t e2 = NULL;
      if (container_save_state(c, &e2) < 0 && ret == 0) {
        *err = e2;
        ret = -1;
      }
      edgecr_error_release(&e2);
    } else {
      json_decref(grants);
    }
  }
  if (ret == 0 && sync_send(sync_fd, SYNC_GO, 0, NULL) < 0)
    ret = edgecr_error_make(err, errno, "signal the container init");
  if (ret == 0)
    ret = await_init(c, sync_fd, pid, err);
  if (ret < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  return 0;
}

/* ---- start ----------------------------------------------------------- */

/* Reads the init's answer on exec.status until EOF (execve closed it, or
 * the init died): "0" alone is success. */
static int read_start_answer(struct container *c, int fd, edgecr_error_t *err)
{
  char buf[4096];
  size_t len = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 100);
    if (r < 0 && errno != EINTR)
      return edgecr_error_make(err, errno, "container `%s`: wait for its process to start", c->id);
    if (r > 0) {
      ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
      if (n > 0) {
        len += (size_t) n;
        if (len < sizeof buf - 1)
          continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return edgecr_error_make(err, errno, "container `%s`: read its start status", c->id);
      if (n == 0 || len == sizeof buf - 1)
        break;
    } else if (!proc_alive(c->state->pid, c->state->pid_start_time)) {
      break; /* died without closing?  (its fds close with it: drain once more) */
    }
  }
  buf[len] = '\0';
  char *bang = strchr(buf, '!');
  if (bang != NULL)
    return edgecr_error_make(err, 0, "container `%s`: %s", c->id, bang + 1);
  if (len == 1 && buf[0] == '0')
    return 0;
  return edgecr_error_make(err, ESRCH, "container `%s`: its process failed to start (it exited before exec; see "
                                       "its stderr)", c->id);
}

static int linux_start(struct container *c, edgecr_error_t *err)
{
  cleanup_free char *go = fifo_path(c);
  cleanup_free char *st = status_fifo_path(c);
  cleanup_close int status_fd = open(st, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (status_fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", st);
  /* Non-blocking: ENXIO when no reader is left, i.e. the init is gone. */
  cleanup_close int go_fd = open(go, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (go_fd < 0 && errno == ENXIO)
    return edgecr_error_make(err, ESRCH, "container `%s`: its init process is gone", c->id);
  if (go_fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", go);
  if (write(go_fd, "s", 1) != 1)
    return edgecr_error_make(err, errno, "container `%s`: signal its init", c->id);
  int r = read_start_answer(c, status_fd, err);
  unlink(go);
  unlink(st);
  return r;
}

/* ---- status, kill ---------------------------------------------------- */

static enum container_status linux_status(struct container *c)
{
  bool alive = proc_alive(c->state->pid, c->state->pid_start_time);
  if (c->state->phase && strcmp(c->state->phase, "creating") == 0)
    return alive ? STATUS_CREATING : STATUS_STOPPED;
  if (!alive)
    return STATUS_STOPPED;
  struct cgroup_layout *l;
  if (c->state->cgroup_path && cgroup_layout_get(&l, NULL) == 0 && cgroup_is_frozen(l, c->state->cgroup_path))
    return STATUS_PAUSED;
  cleanup_free char *fifo = fifo_path(c);
  if (access(fifo, F_OK) == 0)
    return STATUS_CREATED;
  return STATUS_RUNNING;
}

static int linux_kill(struct container *c, int sig, bool all, edgecr_error_t *err)
{
  if (all) {
    struct cgroup_layout *l;
    if (cgroup_layout_get(&l, err) < 0)
      return -1;
    return cgroup_signal_all(l, c->state->cgroup_path, cgroup_record(c), sig, err);
  }
  if (!proc_alive(c->state->pid, c->state->pid_start_time))
    return edgecr_error_make(err, ESRCH, "container `%s` is not running", c->id);
  if (kill(c->state->pid, sig) < 0)
    return edgecr_error_make(err, errno, "kill container `%s` (pid %d)", c->id, (int) c->state->pid);
  return 0;
}

/* ---- destroy --------------------------------------------------------- */

static int linux_destroy(struct container *c, edgecr_error_t *err)
{
  pid_t pid = c->state->pid;
  if (proc_alive(pid, c->state->pid_start_time)) {
    kill(pid, SIGKILL);
    for (int i = 0; i < 2500 && proc_alive(pid, c->state->pid_start_time); i++) {
      waitpid(pid, NULL, WNOHANG); /* reap if it is our child (run) */
      usleep(2000);
    }
  }
  cleanup_free char *fifo = fifo_path(c);
  cleanup_free char *status_fifo = status_fifo_path(c);
  unlink(fifo);
  unlink(status_fifo);
  if (c->state->cgroup_path != NULL) {
    struct cgroup_layout *l;
    if (cgroup_layout_get(&l, err) < 0)
      return -1;
    if (cgroup_destroy(l, c->state->cgroup_path, cgroup_record(c), rt_grants(c), err) < 0)
      return -1;
    json_object_set_new(c->state->backend_data, "rtGrants", json_array());
  }
  /* its deadline partition, if it holds one (after its cgroup left it) */
  return plan_partition_leave(c->state_root, c->id, err);
}

/* ---- exec ------------------------------------------------------------ */

static const struct { const char *name; int type; } exec_ns_order[] = {
  {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
  {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

static bool same_ns(pid_t pid, const char *name)
{
  struct stat a, b;
  cleanup_free char *p1 = xasprintf("/proc/%d/ns/%s", (int) pid, name);
  cleanup_free char *p2 = xasprintf("/proc/self/ns/%s", name);
  return stat(p1, &a) == 0 && stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int linux_create(struct container *c, const struct lc_create_opts *o, edgecr_error_t *err)
{
  return linux_backend_create(c, o, NULL, err);
}

_Noreturn static void exec_child(const struct oci_config *cfg, const struct lc_exec_opts *o, int ns_fds[],
                                 int sync_fd, int console_fd, struct edgecr_seccomp *sc,
                                 const struct linux_payload_ops *payload)
{
  edgecr_error_t err = NULL;
  /* Through the host's /proc, before joining the container's mount and
   * user namespaces (the container may have no /proc). */
  if (process_apply_oom_score_adj(o->process, &err) < 0)
    init_fail(sync_fd, &err);
  for (size_t i = 0; i < sizeof exec_ns_order / sizeof exec_ns_order[0]; i++) {
    if (ns_fds[i] < 0)
      continue;
    if (setns(ns_fds[i], exec_ns_order[i].type) < 0) {
      edgecr_error_make(&err, errno, "exec: join the container's %s namespace", exec_ns_order[i].name);
      init_fail(sync_fd, &err);
    }
    close(ns_fds[i]);
  }
  int code;
  if (sync_recv(sync_fd, &code, NULL) != SYNC_GO)
    _exit(1);
  cleanup_free char *exe = process_find_executable(o->process, &err);
  if (exe == NULL && payload != NULL) { /* a payload need not be executable: its runner finds it */
    edgecr_error_release(&err);
    exe = xstrdup(o->process->args[0]);
  }
  if (exe == NULL)
    init_fail(sync_fd, &err);
  struct finalize_opts fo = {.proc = o->process, .preserve_fds = o->preserve_fds, .console_fd = console_fd};
  if (linux_process_prepare(&fo, &err) < 0)
    init_fail(sync_fd, &err);
  /* With an early filter, the report itself may be refused: the runtime
   * then sees EOF and the process's exit status. */
  bool late = linux_process_late_identity(o->process, sc);
  if (linux_process_identity(o->process, late ? sc : NULL, NULL, &err) < 0)
    init_fail(sync_fd, &err);
  void *payload_state = NULL;
  if (payload != NULL && payload->prepare(cfg, o->process, exe, false, &payload_state, &err) < 0)
    init_fail(sync_fd, &err);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* sync_fd is close-on-exec: the runtime sees EOF when exec succeeded. */
  struct exec_final f = {.proc = o->process, .path = exe, .preserve_fds = o->preserve_fds, .keep_fd = sync_fd,
                         .seccomp = late ? NULL : sc, .state_json = NULL, .fail = sync_report, .fail_fd = sync_fd,
                         .payload = payload, .payload_state = payload_state};
  linux_process_exec(&f);
}

int linux_backend_exec(struct container *c, const struct lc_exec_opts *o, const struct linux_payload_ops *payload,
                       pid_t *pid_out, edgecr_error_t *err)
{
  pid_t init = c->state->pid;
  int ns_fds[sizeof exec_ns_order / sizeof exec_ns_order[0]];
  for (size_t i = 0; i < sizeof exec_ns_order / sizeof exec_ns_order[0]; i++) {
    ns_fds[i] = -1;
    if (same_ns(init, exec_ns_order[i].name))
      continue;
    cleanup_free char *p = xasprintf("/proc/%d/ns/%s", (int) init, exec_ns_order[i].name);
    ns_fds[i] = open(p, O_RDONLY | O_CLOEXEC);
  }
  struct child_ns saved = {-1, -1};
  for (int k = 0; k < 2; k++) {
    const char *name = k == 0 ? "pid" : "time";
    int type = k == 0 ? CLONE_NEWPID : CLONE_NEWTIME;
    if (same_ns(init, name))
      continue;
    cleanup_free char *self = xasprintf("/proc/self/ns/%s", name);
    cleanup_free char *p = xasprintf("/proc/%d/ns/%s", (int) init, name);
    int *slot = k == 0 ? &saved.orig_pid : &saved.orig_time;
    *slot = open(self, O_RDONLY | O_CLOEXEC);
    cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, type) < 0) {
      leave_child_namespaces(&saved);
      return edgecr_error_make(err, errno, "exec: join the container's %s namespace", name);
    }
  }
  struct edgecr_seccomp *sc = NULL;
  if (edgecr_seccomp_build(c->config->seccomp, c->config->path, &sc, err) < 0) {
    leave_child_namespaces(&saved);
    return -1;
  }
  cleanup_close int console_fd = -1;
  if (o->process->terminal) {
    if (o->console_sock_fd >= 0)
      console_fd = dup(o->console_sock_fd);
    else if (o->console_socket == NULL || (console_fd = console_socket_connect(o->console_socket, err)) < 0) {
      leave_child_namespaces(&saved);
      edgecr_seccomp_free(sc);
      return o->console_socket ? -1 : edgecr_error_make(err, EINVAL, "exec: a terminal needs --console-socket");
    }
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    leave_child_namespaces(&saved);
    edgecr_seccomp_free(sc);
    return edgecr_error_make(err, errno, "socketpair");
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    close(c->lock_fd);
    exec_child(c->config, o, ns_fds, sv[1], console_fd, sc, payload);
  }
  int fork_errno = errno;
  leave_child_namespaces(&saved);
  close(sv[1]);
  edgecr_seccomp_free(sc);
  for (size_t i = 0; i < sizeof exec_ns_order / sizeof exec_ns_order[0]; i++)
    if (ns_fds[i] >= 0)
      close(ns_fds[i]);
  cleanup_close int sync_fd = sv[0];
  if (pid < 0)
    return edgecr_error_make(err, fork_errno, "exec: fork");
  struct cgroup_layout *l;
  if (cgroup_layout_get(&l, err) < 0 || cgroup_enter(l, c->state->cgroup_path, pid, err) < 0 ||
      sync_send(sync_fd, SYNC_GO, 0, NULL) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  int code = 0;
  cleanup_free char *msg = NULL;
  int t = sync_recv(sync_fd, &code, &msg);
  if (t == SYNC_ERROR) {
    waitpid(pid, NULL, 0);
    return edgecr_error_make(err, 0, "exec: %s", msg);
  }
  if (t != 0) { /* EOF is the successful execve (or an exit the caller sees) */
    int e = t < 0 ? errno : EPROTO;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return edgecr_error_make(err, e, "exec: read from the process's sync socket");
  }
  *pid_out = pid;
  return 0;
}

static int linux_exec(struct container *c, const struct lc_exec_opts *o, pid_t *pid_out, edgecr_error_t *err)
{
  return linux_backend_exec(c, o, NULL, pid_out, err);
}

/* ---- pause, update, stats, pids -------------------------------------- */

static int linux_pause(struct container *c, bool pause, edgecr_error_t *err)
{
  struct cgroup_layout *l;
  if (cgroup_layout_get(&l, err) < 0)
    return -1;
  return cgroup_freeze(l, c->state->cgroup_path, pause, err);
}

static int linux_update(struct container *c, json_t *resources, edgecr_error_t *err)
{
  struct cgroup_layout *l;
  if (cgroup_layout_get(&l, err) < 0)
    return -1;
  return cgroup_update(l, c->state->cgroup_path, resources, err);
}

static int linux_stats(struct container *c, json_t **out, edgecr_error_t *err)
{
  struct cgroup_layout *l;
  if (cgroup_layout_get(&l, err) < 0)
    return -1;
  return cgroup_stats(l, c->state->cgroup_path, out, err);
}

static int linux_pids(struct container *c, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  struct cgroup_layout *l;
  if (c->state->cgroup_path == NULL || cgroup_layout_get(&l, err) < 0) {
    *pids = NULL;
    *n = 0;
    return c->state->cgroup_path == NULL ? 0 : -1;
  }
  return cgroup_pids(l, c->state->cgroup_path, pids, n, err);
}

/* Linux takes every bundle no other backend claimed. */
static bool linux_claims(const struct oci_config *cfg)
{
  (void) cfg;
  return true;
}

static const struct backend_ops linux_backend_ops = {
  .name = "linux",
  .order = BACKEND_ORDER_DEFAULT,
  .claims = linux_claims,
  .create = linux_create,
  .start = linux_start,
  .status = linux_status,
  .kill = linux_kill,
  .destroy = linux_destroy,
  .exec = linux_exec,
  .pause = linux_pause,
  .update = linux_update,
  .stats = linux_stats,
  .pids = linux_pids,
};

const struct backend_ops *linux_backend(void)
{
  return &linux_backend_ops;
}

__attribute__((constructor)) static void linux_register(void)
{
  backend_register(&linux_backend_ops);
}
