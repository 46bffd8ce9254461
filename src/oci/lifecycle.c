/* lifecycle.c - OCI operations over the backend interface: ids, state
 * directories, per-container locking, status checks, runtime-side hooks. */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chanlib.h"
#include "hooks.h"
#include "log.h"
#include "util.h"

const char *container_status_name(enum container_status s)
{
  static const char *names[] = {"creating", "created", "running", "paused", "stopped"};
  return names[s];
}

static void container_free(struct container *c)
{
  if (c == NULL)
    return;
  if (c->lock_fd >= 0)
    close(c->lock_fd);
  free(c->state_root);
  free(c->id);
  free(c->dir);
  state_free(c->state);
  oci_config_free(c->config);
  free(c);
}

static void container_cleanup(struct container **c)
{
  container_free(*c);
  *c = NULL;
}
#define cleanup_container __attribute__((cleanup(container_cleanup)))

/* Serialise operations on one container: an exclusive flock on its dir. */
static int lock_dir(const char *dir, int *fd_out, edgecr_error_t *err)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", dir);
  if (flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return edgecr_error_make(err, e, "lock `%s`", dir);
  }
  *fd_out = fd;
  return 0;
}

static int check_id(const char *id, edgecr_error_t *err)
{
  if (id == NULL || !container_id_valid(id))
    return edgecr_error_make(err, EINVAL, "invalid container id `%s`: use letters, digits, `_`, `+`, `-`, `.`",
                             id ? id : "");
  return 0;
}

static int container_open(const struct lc_context *ctx, const char *id, struct container **out, edgecr_error_t *err)
{
  if (check_id(id, err) < 0)
    return -1;
  struct container *c = xmalloc0(sizeof *c);
  c->lock_fd = -1;
  c->state_root = xstrdup(ctx->state_root);
  c->id = xstrdup(id);
  c->dir = xasprintf("%s/%s", ctx->state_root, id);
  c->systemd_cgroup = ctx->systemd_cgroup;
  if (access(c->dir, F_OK) < 0) {
    container_free(c);
    return edgecr_error_make(err, ENOENT, "container `%s` does not exist", id);
  }
  if (lock_dir(c->dir, &c->lock_fd, err) < 0 || state_load(c->dir, &c->state, err) < 0) {
    int e = edgecr_error_errno(err);
    container_free(c);
    if (e == ENOENT)
      return edgecr_error_make(err, ENOENT, "container `%s` does not exist", id);
    return -1;
  }
  c->ops = backend_named(c->state->backend);
  if (c->ops == NULL) {
    int r = edgecr_error_make(err, EINVAL, "container `%s`: its state names backend `%s`, which this edgecr "
                              "does not have", id, c->state->backend ? c->state->backend : "(none)");
    container_free(c);
    return r;
  }
  *out = c;
  return 0;
}

int container_save_state(struct container *c, edgecr_error_t *err)
{
  return state_save(c->dir, c->state, err);
}

int container_load_config(struct container *c, edgecr_error_t *err)
{
  if (c->config != NULL)
    return 0;
  cleanup_free char *path = xasprintf("%s/config.json", c->dir);
  cleanup_free char *text = NULL;
  if (read_all_file(path, &text, err) < 0)
    return -1;
  return oci_config_parse(c->state->bundle ? c->state->bundle : "", path, text, &c->config, err);
}

json_t *container_state_json(struct container *c, enum container_status st)
{
  json_t *o = json_object();
  json_object_set_new(o, "ociVersion", json_string("1.2.0"));
  json_object_set_new(o, "id", json_string(c->id));
  json_object_set_new(o, "pid", json_integer(st == STATUS_STOPPED ? 0 : c->state->pid));
  json_object_set_new(o, "status", json_string(container_status_name(st)));
  json_object_set_new(o, "bundle", json_string(c->state->bundle ? c->state->bundle : ""));
  json_object_set_new(o, "rootfs", json_string(c->state->rootfs ? c->state->rootfs : ""));
  json_object_set_new(o, "created", json_string(c->state->created ? c->state->created : ""));
  json_object_set_new(o, "owner", json_string(c->state->owner ? c->state->owner : ""));
  if (json_object_size(c->state->annotations) > 0)
    json_object_set(o, "annotations", c->state->annotations);
  return o;
}

static char *state_text(struct container *c, enum container_status st)
{
  json_t *o = container_state_json(c, st);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

/* ---- create ---------------------------------------------------------- */

/* The channels the annotations declare (src/channel/setup.c) become bind
 * mounts of the config, so every backend mounts exactly the container's
 * ends; the stored config.json then shows them too. */
static int add_channel_mounts(struct oci_config **cfg, const char *state_root, edgecr_error_t *err)
{
  cleanup_free struct edgecr_channel_end *ends = NULL;
  size_t n = 0;
  if (edgecr_channel_ends_parse((*cfg)->annotations, (*cfg)->path, &ends, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  cleanup_free char *host_dir = edgecr_channel_host_dir(state_root);
  json_t *m = edgecr_channel_ends_mounts(host_dir, ends, n, err);
  if (m == NULL)
    return -1;
  json_t *doc = json_deep_copy((*cfg)->doc);
  if (!json_is_array(json_object_get(doc, "mounts")))
    json_object_set_new(doc, "mounts", json_array());
  json_array_extend(json_object_get(doc, "mounts"), m);
  json_decref(m);
  cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  struct oci_config *with = NULL;
  if (oci_config_parse((*cfg)->bundle, (*cfg)->path, text, &with, err) < 0)
    return -1;
  oci_config_free(*cfg);
  *cfg = with;
  return 0;
}

/* A container id as the host sees it (its user namespace's mappings);
 * (unsigned)-1 when unmapped. */
static unsigned host_id(unsigned id, const struct oci_id_mapping *m, size_t n)
{
  if (n == 0)
    return id;
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
      return m[i].host_id + (id - m[i].container_id);
  return (unsigned) -1;
}

static int acquire_channels(const struct container *c, edgecr_error_t *err)
{
  cleanup_free struct edgecr_channel_end *ends = NULL;
  size_t n = 0;
  if (edgecr_channel_ends_parse(c->config->annotations, c->config->path, &ends, &n, err) < 0)
    return -1;
  const struct oci_config *cfg = c->config;
  unsigned uid = host_id(cfg->process->user.uid, cfg->uid_mappings, cfg->n_uid_mappings);
  unsigned gid = host_id(cfg->process->user.gid, cfg->gid_mappings, cfg->n_gid_mappings);
  if (n > 0 && (uid == (unsigned) -1 || gid == (unsigned) -1))
    return edgecr_error_make(err, EINVAL, "%s: channels: process.user %u:%u has no host id in the user namespace's "
                             "mappings", cfg->path, (unsigned) cfg->process->user.uid, (unsigned) cfg->process->user.gid);
  return edgecr_channels_acquire(c->state_root, c->id, ends, n, (uid_t) uid, (gid_t) gid, err);
}

/* After the container is gone: the channels nobody else declares go. */
static void release_channels(const struct container *c)
{
  edgecr_error_t e = NULL;
  if (edgecr_channels_release(c->state_root, c->id, &e) < 0) {
    log_warning("container `%s`: %s", c->id, e->msg);
    edgecr_error_release(&e);
  }
}

int lc_create(const struct lc_context *ctx, const char *id, const struct lc_create_opts *o, edgecr_error_t *err)
{
  if (check_id(id, err) < 0)
    return -1;
  cleanup_config struct oci_config *cfg = NULL;
  if (oci_config_load(o->bundle, &cfg, err) < 0)
    return -1;
  if (cfg->process == NULL)
    return edgecr_error_make(err, EINVAL, "%s: `process`: missing (required to create a container)", cfg->path);
  if (add_channel_mounts(&cfg, ctx->state_root, err) < 0)
    return -1;
  if (mkdir_p(ctx->state_root, 0711, err) < 0)
    return edgecr_error_wrap(err, "state directory (--root)");
  cleanup_container struct container *c = xmalloc0(sizeof *c);
  c->lock_fd = -1;
  c->state_root = xstrdup(ctx->state_root);
  c->id = xstrdup(id);
  c->dir = xasprintf("%s/%s", ctx->state_root, id);
  c->systemd_cgroup = ctx->systemd_cgroup;
  if (backend_select(cfg, &c->ops, err) < 0)
    return -1;
  if (mkdir(c->dir, 0700) < 0) {
    if (errno == EEXIST)
      return edgecr_error_make(err, EEXIST, "container `%s` already exists", id);
    return edgecr_error_make(err, errno, "create state directory `%s`", c->dir);
  }
  if (lock_dir(c->dir, &c->lock_fd, err) < 0) {
    rmdir(c->dir);
    return -1;
  }
  /* Record the container before creating anything, so that whatever a
   * crash leaves behind, `delete --force` finds it. */
  struct container_state *s = xmalloc0(sizeof *s);
  s->id = xstrdup(id);
  s->bundle = xstrdup(cfg->bundle);
  s->rootfs = xstrdup(cfg->root_path);
  s->backend = xstrdup(c->ops->name);
  s->phase = xstrdup("creating");
  s->created = rfc3339_now();
  s->owner = xstrdup("");
  s->annotations = json_incref(cfg->annotations);
  s->backend_data = json_object();
  json_object_set_new(s->backend_data, "hooks",
                      json_pack("{s:b,s:b}", "poststart", cfg->n_hooks[OCI_HOOK_POSTSTART] > 0,
                                "poststop", cfg->n_hooks[OCI_HOOK_POSTSTOP] > 0));
  c->state = s;
  cleanup_free char *cfgtext = json_dumps(cfg->doc, JSON_COMPACT);
  cleanup_free char *cfgcopy = xasprintf("%s/config.json", c->dir);
  if (write_file_atomic(cfgcopy, cfgtext, strlen(cfgtext), 0600, err) < 0 || container_save_state(c, err) < 0) {
    edgecr_error_t ignore = NULL;
    remove_tree(c->dir, &ignore);
    edgecr_error_release(&ignore);
    return -1;
  }
  c->config = steal_pointer(&cfg);
  /* Channels after the state (which names them) is saved: a crash from
   * here on leaves a container that `delete` finds, and its channels go
   * with it (release_channels). */
  if (acquire_channels(c, err) < 0 || c->ops->create(c, o, err) < 0) {
    edgecr_error_t ignore = NULL;
    if (c->ops->destroy(c, &ignore) < 0) {
      log_warning("cleanup after failed create: %s", ignore->msg);
      edgecr_error_release(&ignore);
      /* keep the state so that `delete --force` can finish the job */
      return -1;
    }
    release_channels(c);
    remove_tree(c->dir, &ignore);
    edgecr_error_release(&ignore);
    return -1;
  }
  free(c->state->phase);
  c->state->phase = xstrdup("created");
  if (container_save_state(c, err) < 0)
    return -1;
  if (o->pid_file != NULL) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int) c->state->pid);
    cleanup_free char *abs = o->pid_file[0] == '/' ? xstrdup(o->pid_file) : NULL;
    if (abs == NULL) {
      char cwd[4096];
      abs = xasprintf("%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", o->pid_file);
    }
    if (write_file_atomic(abs, buf, (size_t) n, 0644, err) < 0)
      return edgecr_error_wrap(err, "--pid-file");
  }
  return 0;
}

/* ---- start ----------------------------------------------------------- */

/* Whether the config has hooks of a kind, as recorded at create (saves
 * parsing config.json again on every start and delete).  Unknown -> yes. */
static bool has_hooks(struct container *c, const char *kind)
{
  json_t *h = json_object_get(json_object_get(c->state->backend_data, "hooks"), kind);
  return h == NULL || json_is_true(h);
}

/* Destroys an open (locked) container: the backend's resources, then the
 * poststop hooks, then its state directory (spec lifecycle steps 12-13). */
static int destroy_open(struct container *c, enum container_status st, edgecr_error_t *err)
{
  edgecr_error_t cfg_err = NULL;
  bool have_config = has_hooks(c, "poststop") && container_load_config(c, &cfg_err) == 0;
  edgecr_error_release(&cfg_err);
  if (c->ops->destroy(c, err) < 0)
    return -1;
  release_channels(c);
  /* poststop hooks: only for containers that got past create. */
  if (have_config && st != STATUS_CREATING) {
    cleanup_free char *stext = state_text(c, STATUS_STOPPED);
    /* A failing poststop hook is a warning and the others still run
     * (spec); hooks_run_all logs each failure. */
    (void) hooks_run_all(c->config, OCI_HOOK_POSTSTOP, stext, NULL);
  }
  return remove_tree(c->dir, err);
}

/* SIGKILL the container and wait (bounded) until it is stopped. */
static void stop_after_failed_start(struct container *c)
{
  edgecr_error_t e = NULL;
  if (c->ops->status(c) == STATUS_STOPPED)
    return;
  if (c->ops->kill(c, SIGKILL, false, &e) < 0) {
    log_warning("stop container `%s`: %s", c->id, e->msg);
    edgecr_error_release(&e);
    return;
  }
  for (int i = 0; i < 500 && c->ops->status(c) != STATUS_STOPPED; i++)
    usleep(10000);
}

int lc_start(const struct lc_context *ctx, const char *id, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  enum container_status st = c->ops->status(c);
  if (st != STATUS_CREATED)
    return edgecr_error_invalid(err, "cannot start container `%s`: it is %s, not created", id,
                             container_status_name(st));
  if (c->ops->start(c, err) < 0)
    return -1;
  free(c->state->phase);
  c->state->phase = xstrdup("started");
  if (container_save_state(c, err) < 0)
    return -1;
  if (!has_hooks(c, "poststart"))
    return 0;
  if (container_load_config(c, err) < 0)
    return -1;
  /* Spec 1.1+: a failing poststart hook is an error, the container is
   * stopped and the lifecycle goes on at its destruction (poststop hooks
   * included), as runc and crun do: afterwards it no longer exists. */
  cleanup_free char *stext = state_text(c, STATUS_RUNNING);
  if (hooks_run(c->config, OCI_HOOK_POSTSTART, stext, err) < 0) {
    stop_after_failed_start(c);
    edgecr_error_t e = NULL;
    if (destroy_open(c, STATUS_STOPPED, &e) < 0) {
      log_warning("delete container `%s` after its poststart hook failed: %s", id, e->msg);
      edgecr_error_release(&e);
    }
    return edgecr_error_wrap(err, "container `%s` stopped and deleted: a poststart hook failed", id);
  }
  return 0;
}

/* ---- state, list ----------------------------------------------------- */

int lc_state(const struct lc_context *ctx, const char *id, json_t **out, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  *out = container_state_json(c, c->ops->status(c));
  return 0;
}

int lc_init_pid(const struct lc_context *ctx, const char *id, pid_t *pid, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  *pid = c->ops->main_pid != NULL ? c->ops->main_pid(c) : c->state->pid;
  return 0;
}

int lc_logs(const struct lc_context *ctx, const char *id, int out_fd, bool follow, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  if (c->ops->logs == NULL)
    return edgecr_error_make(err, ENOTSUP, "container `%s` is a %s container: edgecr keeps no log of it; its "
                             "output goes to the stdio it was started with (containerd's shim keeps it: `ctr "
                             "task attach`, `kubectl logs`; `edgecr run` prints it)", id, c->ops->name);
  /* The log can be followed for as long as the container lives: the
   * container's lock must not be held meanwhile. */
  close(c->lock_fd);
  c->lock_fd = -1;
  return c->ops->logs(c, out_fd, follow, err);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int lc_list(const struct lc_context *ctx, json_t **out, edgecr_error_t *err)
{
  *out = json_array();
  DIR *d = opendir(ctx->state_root);
  if (d == NULL)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "open state directory `%s`", ctx->state_root);
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || !container_id_valid(de->d_name))
      continue;
    names = xrealloc(names, (n + 1) * sizeof *names);
    names[n++] = xstrdup(de->d_name);
  }
  closedir(d);
  if (n > 0)
    qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    json_t *st = NULL;
    edgecr_error_t e = NULL;
    if (lc_state(ctx, names[i], &st, &e) == 0)
      json_array_append_new(*out, st);
    edgecr_error_release(&e);
    free(names[i]);
  }
  free(names);
  return 0;
}

/* ---- kill, delete ---------------------------------------------------- */

int lc_kill(const struct lc_context *ctx, const char *id, int sig, bool all, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  enum container_status st = c->ops->status(c);
  if (st == STATUS_STOPPED && !all)
    return edgecr_error_make(err, ESRCH, "container `%s` is not running", id);
  if (st == STATUS_CREATING)
    return edgecr_error_make(err, EINVAL, "container `%s` is still being created", id);
  return c->ops->kill(c, sig, all, err);
}

int lc_delete(const struct lc_context *ctx, const char *id, bool force, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0) {
    if (!force || check_id(id, NULL) < 0)
      return -1;
    /* A create killed before state.json was complete leaves a bare (or
     * unreadable) directory: --force removes it; a missing container is
     * fine (runc: delete --force of a missing container succeeds). */
    edgecr_error_release(err);
    cleanup_free char *dir = xasprintf("%s/%s", ctx->state_root, id);
    return remove_tree(dir, err);
  }
  enum container_status st = c->ops->status(c);
  if ((st == STATUS_RUNNING || st == STATUS_PAUSED) && !force)
    return edgecr_error_invalid(err, "cannot delete container `%s` that is not stopped: %s", id,
                             container_status_name(st));
  return destroy_open(c, st, err);
}

/* ---- the rest -------------------------------------------------------- */

static int open_running(const struct lc_context *ctx, const char *id, struct container **c, bool allow_created,
                        edgecr_error_t *err)
{
  if (container_open(ctx, id, c, err) < 0)
    return -1;
  enum container_status st = (*c)->ops->status(*c);
  if (st == STATUS_RUNNING || st == STATUS_PAUSED || (allow_created && st == STATUS_CREATED))
    return 0;
  edgecr_error_make(err, EINVAL, "container `%s` is %s", id, container_status_name(st));
  container_free(*c);
  *c = NULL;
  return -1;
}

int lc_pids(const struct lc_context *ctx, const char *id, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  return c->ops->pids(c, pids, n, err);
}

int lc_exec(const struct lc_context *ctx, const char *id, const struct lc_exec_opts *o, pid_t *pid,
            edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (open_running(ctx, id, &c, true, err) < 0)
    return -1;
  if (c->ops->status(c) == STATUS_PAUSED)
    return edgecr_error_invalid(err, "cannot exec in paused container `%s`", id);
  if (container_load_config(c, err) < 0)
    return -1;
  struct lc_exec_opts eo = *o;
  if (eo.process == NULL) {
    if (c->config->process == NULL)
      return edgecr_error_invalid(err, "container `%s` has no process to base the new one on", id);
    if (o->amend != NULL && o->amend(c->config->process, o->amend_ud, err) < 0)
      return -1;
    eo.process = c->config->process;
  }
  return c->ops->exec(c, &eo, pid, err);
}

int lc_pause(const struct lc_context *ctx, const char *id, bool pause, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (open_running(ctx, id, &c, false, err) < 0)
    return -1;
  enum container_status st = c->ops->status(c);
  if (pause && st != STATUS_RUNNING)
    return edgecr_error_make(err, EINVAL, "container `%s` is not running", id);
  if (!pause && st != STATUS_PAUSED)
    return edgecr_error_make(err, EINVAL, "container `%s` is not paused", id);
  return c->ops->pause(c, pause, err);
}

int lc_update(const struct lc_context *ctx, const char *id, json_t *resources, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  if (c->ops->status(c) == STATUS_STOPPED)
    return edgecr_error_make(err, EINVAL, "container `%s` is stopped", id);
  return c->ops->update(c, resources, err);
}

int lc_with_container(const struct lc_context *ctx, const char *id, lc_container_fn fn, void *data,
                      edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  return fn(c, data, err);
}

int lc_stats(const struct lc_context *ctx, const char *id, json_t **out, edgecr_error_t *err)
{
  cleanup_container struct container *c = NULL;
  if (container_open(ctx, id, &c, err) < 0)
    return -1;
  return c->ops->stats(c, out, err);
}

int signal_parse(const char *s)
{
  static const struct { const char *n; int sig; } sigs[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
  };
  long long n;
  if (parse_int64(s, &n) == 0)
    return (n > 0 && n < 65) ? (int) n : -1;
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (strcasecmp(name, sigs[i].n) == 0)
      return sigs[i].sig;
  if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
    long long off = 0;
    if (name[5] != '\0' && (parse_int64(name + 5, &off) < 0 || off < -64 || off > 64))
      return -1;
    int sig = (strncasecmp(name, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX) + (int) off;
    return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
  }
  return -1;
}
