/* rproc_backend.c - the remoteproc backend: containers whose payload is
 * firmware on a remote core (Cortex-M/R beside Linux), driven through the
 * kernel's remoteproc class under a configurable root (rproc.h).
 *
 * create: resolves the bundle (rproc_bundle.c), checks board and that no
 *   other container holds the core, records everything in backend_data,
 *   stages the firmware under a unique name, forks the log process
 *   (rproc_logger.c), which waits on start.fifo.
 * start: sets `firmware`, writes `start`, waits for `running`, releases
 *   the log process.
 * status: the core's state, as long as it runs our staged firmware.
 * kill: a stop signal stops the core; the log process then exits.
 * destroy: stops the core if it is ours, ends the log process, removes the
 *   staged file; every step tolerates what is already gone.
 * See docs/remoteproc.md for the user-facing rules. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "rproc_backend.h"
#include "util.h"

#define BOOT_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 5000
#define RELEASE_TIMEOUT_MS 5000

static void rproc_cleanup(struct rproc **r)
{
  rproc_free(*r);
  *r = NULL;
}
#define cleanup_rproc __attribute__((cleanup(rproc_cleanup)))

static const char *bd_str(struct container *c, const char *key)
{
  return json_string_value(json_object_get(c->state->backend_data, key));
}

static char *state_file(struct container *c, const char *name)
{
  return xasprintf("%s/%s", c->dir, name);
}

/* The processor recorded at create, without listing the class again. */
static struct rproc *recorded_rproc(struct container *c)
{
  json_t *bd = c->state->backend_data;
  const char *root = bd_str(c, "root"), *name = bd_str(c, "processor");
  json_t *index = json_object_get(bd, "index");
  if (root == NULL || name == NULL || !json_is_integer(index))
    return NULL;
  struct rproc *r = xmalloc0(sizeof *r);
  r->root = xstrdup(strcmp(root, "/") == 0 ? "" : root);
  cleanup_free char *class_dir = rproc_class_dir(root);
  r->index = (unsigned) json_integer_value(index);
  r->dir = xasprintf("%s/remoteproc%u", class_dir, r->index);
  r->name = xstrdup(name);
  return r;
}

static bool log_process_alive(struct container *c)
{
  return c->state->pid > 0 && proc_alive(c->state->pid, c->state->pid_start_time);
}

/* ---- status ---------------------------------------------------------- */

static enum container_status rp_status(struct container *c)
{
  bool alive = log_process_alive(c);
  if (c->state->phase && strcmp(c->state->phase, "creating") == 0)
    return alive ? STATUS_CREATING : STATUS_STOPPED;
  cleanup_free char *fifo = state_file(c, RP_START_FIFO);
  if (access(fifo, F_OK) == 0)
    return alive ? STATUS_CREATED : STATUS_STOPPED;
  cleanup_rproc struct rproc *r = recorded_rproc(c);
  enum rproc_state st;
  if (r == NULL || rproc_read_state(r, &st, NULL) < 0 || !rp_core_is_ours(r, bd_str(c, "firmware")))
    return STATUS_STOPPED;
  if (st == RPROC_STATE_RUNNING || st == RPROC_STATE_ATTACHED)
    return STATUS_RUNNING;
  /* crashed: still running while the log process waits for a recovery */
  if (st == RPROC_STATE_CRASHED && alive)
    return STATUS_RUNNING;
  return STATUS_STOPPED;
}

/* ---- create ---------------------------------------------------------- */

static bool same_root(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (lb > 1 && b[lb - 1] == '/')
    lb--;
  return la == lb && strncmp(a, b, la) == 0;
}

/* Looking for another container of this backend that holds the
 * processor: one not stopped, or one whose create never finished (its
 * edgecr was killed; it holds the core until `delete --force`). */
struct holder_search {
  const char *root;
  unsigned index;
  char *holder;
  char *status;
};

static int holds_processor(struct container *other, void *data)
{
  struct holder_search *h = data;
  const char *oroot = bd_str(other, "root");
  json_t *oindex = json_object_get(other->state->backend_data, "index");
  if (oroot == NULL || !same_root(oroot, h->root) || json_integer_value(oindex) != (json_int_t) h->index)
    return 0;
  enum container_status st = rp_status(other);
  bool half_created = other->state->phase && strcmp(other->state->phase, "creating") == 0;
  if (st == STATUS_STOPPED && !half_created)
    return 0;
  h->holder = xstrdup(other->id);
  h->status = xstrdup(st == STATUS_STOPPED ? "left half-created; `edgecr delete --force` it"
                                           : container_status_name(st));
  return 1;
}

static int check_board(const struct rp_target *t, edgecr_error_t *err)
{
  if (t->board == NULL)
    return 0;
  cleanup_free char *model = NULL;
  if (rproc_read_model(t->root, &model, err) < 0)
    return edgecr_error_wrap(err, "firmware built for board `%s`, but the board's model cannot be read", t->board);
  if (strcmp(model, t->board) != 0)
    return edgecr_error_make(err, EINVAL, "wrong board: the firmware is built for `%s` (" RP_ANN_BOARD
                             "), this board is `%s` (devicetree model)", t->board, model);
  return 0;
}

/* Claim the processor: under a lock over the state root, check that no
 * other container holds it and that it is offline, then record it. */
static int claim_processor(struct container *c, const struct rp_target *t, const struct rproc *r,
                           edgecr_error_t *err)
{
  cleanup_close int lock = -1;
  if (backend_lock(c, &lock, err) < 0)
    return -1;
  struct holder_search h = {.root = t->root, .index = r->index};
  if (backend_for_each_container(c, holds_processor, &h) != 0) {
    edgecr_error_make(err, EBUSY, "remote processor `%s` (remoteproc%u) is busy: held by container `%s` (%s)",
                      r->name, r->index, h.holder, h.status);
    free(h.holder);
    free(h.status);
    return -1;
  }
  enum rproc_state st;
  if (rproc_read_state(r, &st, err) < 0)
    return -1;
  if (st != RPROC_STATE_OFFLINE) {
    cleanup_free char *fw = NULL;
    rproc_read_firmware(r, &fw, NULL);
    return edgecr_error_make(err, EBUSY, "remote processor `%s` (remoteproc%u) is busy: it is %s with firmware "
                             "`%s`, started outside edgecr (stop it first)", r->name, r->index,
                             rproc_state_name(st), fw ? fw : "?");
  }
  /* A tag from the id: staged names stay readable and unique per run. */
  char tag[41];
  size_t n = 0;
  for (const char *p = c->id; *p && n < sizeof tag - 1; p++, n++)
    tag[n] = (*p == '+' || (n == 0 && *p == '.')) ? '_' : *p;
  tag[n] = '\0';
  cleanup_free char *fw_name = NULL;
  if (rproc_staged_name(tag, &fw_name, err) < 0)
    return -1;
  cleanup_free char *tty = t->tty ? xasprintf("%s/%s", t->root, t->tty)
                                  : xasprintf("%s/dev/ttyRPMSG%u", strcmp(t->root, "/") == 0 ? "" : t->root,
                                              r->index);
  json_t *bd = c->state->backend_data;
  json_object_set_new(bd, "root", json_string(t->root));
  json_object_set_new(bd, "processor", json_string(r->name));
  json_object_set_new(bd, "index", json_integer(r->index));
  json_object_set_new(bd, "firmware", json_string(fw_name));
  json_object_set_new(bd, "source", json_string(t->firmware));
  json_object_set_new(bd, "tty", json_string(tty));
  return container_save_state(c, err);
}

static int rp_create(struct container *c, const struct lc_create_opts *o, edgecr_error_t *err)
{
  (void) o; /* no terminal (refused), no namespaces to pivot, nothing to preserve */
  struct rp_target t = {0};
  int rc = rp_bundle_resolve(c->config, &t, err);
  cleanup_rproc struct rproc *r = NULL;
  if (rc == 0)
    rc = rproc_find(t.root, t.processor, &r, err);
  if (rc == 0)
    rc = check_board(&t, err);
  if (rc == 0)
    rc = claim_processor(c, &t, r, err);
  if (rc == 0 && rproc_stage_firmware_as(t.root, t.firmware, bd_str(c, "firmware"), err) < 0)
    rc = -1;
  rp_target_clear(&t);
  if (rc < 0)
    return -1;

  cleanup_free char *fifo = state_file(c, RP_START_FIFO);
  if (mkfifo(fifo, 0600) < 0)
    return edgecr_error_make(err, errno, "create `%s`", fifo);
  cleanup_free char *log = state_file(c, RP_LOG_FILE);
  cleanup_free char *old_log = state_file(c, RP_LOG_OLD);
  cleanup_free char *exit_file = state_file(c, RP_EXIT_FILE);
  struct rp_logger_args a = {.r = r, .fw_name = bd_str(c, "firmware"), .tty_path = bd_str(c, "tty"),
                             .fifo_path = fifo, .log_path = log, .old_log_path = old_log,
                             .exit_path = exit_file};
  /* The log process waits for a byte that is sent only once its pid is in
   * state.json: if the runtime dies between the fork and that write, the
   * child reads end-of-file and exits, instead of living on where no
   * `delete --force` can find it. */
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0)
    return edgecr_error_make(err, errno, "create a pipe for the container's log process");
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(go[0]);
    close(go[1]);
    return edgecr_error_make(err, e, "fork the container's log process");
  }
  if (pid == 0) {
    close(go[1]);
    char b;
    ssize_t n;
    do
      n = read(go[0], &b, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
      _exit(0);
    close(go[0]);
    rp_logger_main(&a);
  }
  close(go[0]);
  c->state->pid = pid;
  c->state->pid_start_time = proc_start_time(pid);
  int rc_save = container_save_state(c, err);
  if (rc_save == 0 && write(go[1], "g", 1) != 1)
    rc_save = edgecr_error_make(err, errno, "release the container's log process");
  close(go[1]);
  return rc_save;
}

/* ---- start ----------------------------------------------------------- */

/* Let the log process go: it is blocked opening the fifo for writing. */
static int release_log_process(struct container *c, edgecr_error_t *err)
{
  cleanup_free char *fifo = state_file(c, RP_START_FIFO);
  cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", fifo);
  unsigned long long deadline = now_ns() + RELEASE_TIMEOUT_MS * 1000000ULL;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char b;
    if (poll(&p, 1, 20) > 0 && read(fd, &b, 1) == 1)
      break;
    if (!log_process_alive(c))
      return edgecr_error_make(err, ESRCH, "container `%s`: its log process has exited before start", c->id);
    if (now_ns() > deadline)
      return edgecr_error_make(err, ETIMEDOUT, "container `%s`: its log process did not answer", c->id);
  }
  unlink(fifo);
  return 0;
}

static int rp_start(struct container *c, edgecr_error_t *err)
{
  cleanup_rproc struct rproc *r = recorded_rproc(c);
  const char *fw = bd_str(c, "firmware");
  if (r == NULL || fw == NULL)
    return edgecr_error_make(err, EINVAL, "container `%s`: no remote processor recorded", c->id);
  if (!log_process_alive(c))
    return edgecr_error_make(err, ESRCH, "container `%s`: its log process has exited before start", c->id);
  enum rproc_state st;
  if (rproc_read_state(r, &st, err) < 0)
    return -1;
  /* Running our firmware already: an earlier start was killed after the
   * boot; only the release is left to do. */
  bool booted = st == RPROC_STATE_RUNNING && rp_core_is_ours(r, fw);
  if (!booted) {
    if (rproc_set_firmware(r, fw, err) < 0 || rproc_start(r, err) < 0)
      return edgecr_error_wrap(err, "start container `%s`", c->id);
    if (rproc_wait_state(r, RPROC_STATE_RUNNING, BOOT_TIMEOUT_MS, NULL, err) < 0) {
      rproc_stop(r, NULL);
      return edgecr_error_wrap(err, "start container `%s`", c->id);
    }
  }
  if (release_log_process(c, err) < 0) {
    rproc_stop(r, NULL);
    return -1;
  }
  return 0;
}

/* ---- kill, destroy --------------------------------------------------- */

/* Stops the core when it runs (or crashed with) our firmware. */
static int stop_if_ours(struct container *c, edgecr_error_t *err)
{
  cleanup_rproc struct rproc *r = recorded_rproc(c);
  enum rproc_state st;
  if (r == NULL || rproc_read_state(r, &st, NULL) < 0 || st == RPROC_STATE_OFFLINE ||
      !rp_core_is_ours(r, bd_str(c, "firmware")))
    return 0;
  edgecr_error_t e = NULL;
  if (rproc_stop(r, &e) < 0) {
    if (edgecr_error_errno(&e) != EINVAL) { /* EINVAL: it stopped meanwhile */
      *err = e;
      return edgecr_error_wrap(err, "container `%s`", c->id);
    }
    edgecr_error_release(&e);
  }
  if (rproc_wait_state(r, RPROC_STATE_OFFLINE, STOP_TIMEOUT_MS, NULL, err) < 0)
    return edgecr_error_wrap(err, "container `%s`", c->id);
  return 0;
}

static int rp_kill(struct container *c, int sig, bool all, edgecr_error_t *err)
{
  (void) all; /* the log process is the container's only process */
  if (!rp_is_stop_signal(sig))
    return 0; /* a firmware has no signal handlers: other signals are ignored */
  if (stop_if_ours(c, err) < 0)
    return -1;
  /* The log process drains the tty and exits 0 (or, before start, dies). */
  if (log_process_alive(c))
    kill(c->state->pid, SIGTERM);
  return 0;
}

static void end_log_process(struct container *c)
{
  pid_t pid = c->state->pid;
  if (pid <= 0 || !proc_alive(pid, c->state->pid_start_time))
    return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 2500 && proc_alive(pid, c->state->pid_start_time); i++) {
    if (i == 100)
      kill(pid, SIGKILL); /* 200 ms to drain its output is plenty */
    waitpid(pid, NULL, WNOHANG); /* reap if it is our child (run) */
    usleep(2000);
  }
}

static int rp_destroy(struct container *c, edgecr_error_t *err)
{
  if (stop_if_ours(c, err) < 0)
    return -1;
  end_log_process(c);
  const char *root = bd_str(c, "root"), *fw = bd_str(c, "firmware");
  if (root != NULL && fw != NULL && rproc_unstage_firmware(root, fw, err) < 0)
    return -1;
  cleanup_free char *fifo = state_file(c, RP_START_FIFO);
  unlink(fifo);
  return 0;
}

/* ---- what a remote core cannot do; stats, pids ------------------------ */

static int not_supported(struct container *c, const char *what, edgecr_error_t *err)
{
  const char *name = bd_str(c, "processor");
  return edgecr_error_make(err, ENOTSUP, "%s is not supported for remote cores: container `%s` is firmware "
                           "on remote processor `%s`", what, c->id, name ? name : "?");
}

static int rp_exec(struct container *c, const struct lc_exec_opts *o, pid_t *pid, edgecr_error_t *err)
{
  (void) o;
  (void) pid;
  return not_supported(c, "exec", err);
}

static int rp_pause(struct container *c, bool pause, edgecr_error_t *err)
{
  return not_supported(c, pause ? "pause" : "resume", err);
}

static int rp_update(struct container *c, json_t *resources, edgecr_error_t *err)
{
  (void) resources;
  return not_supported(c, "update (cgroup resources)", err);
}

static int rp_stats(struct container *c, json_t **out, edgecr_error_t *err)
{
  (void) err;
  json_t *o = json_object();
  json_object_set_new(o, "processor", json_string(bd_str(c, "processor") ? bd_str(c, "processor") : ""));
  json_object_set(o, "index", json_object_get(c->state->backend_data, "index"));
  json_object_set_new(o, "firmware", json_string(bd_str(c, "firmware") ? bd_str(c, "firmware") : ""));
  cleanup_rproc struct rproc *r = recorded_rproc(c);
  enum rproc_state st = RPROC_STATE_UNKNOWN;
  if (r != NULL)
    rproc_read_state(r, &st, NULL);
  json_object_set_new(o, "state", json_string(rproc_state_name(st)));
  json_object_set_new(o, "ours", json_boolean(r != NULL && rp_core_is_ours(r, bd_str(c, "firmware"))));
  cleanup_free char *exit_file = state_file(c, RP_EXIT_FILE);
  cleanup_free char *text = NULL;
  long long code;
  if (read_all_file(exit_file, &text, NULL) >= 0) {
    text[strcspn(text, "\n")] = '\0';
    if (parse_int64(text, &code) == 0)
      json_object_set_new(o, "exitStatus", json_integer(code));
  }
  *out = json_pack("{s:o}", "remoteproc", o);
  return 0;
}

static int rp_pids(struct container *c, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  (void) err;
  *pids = NULL;
  *n = 0;
  if (log_process_alive(c)) {
    *pids = xmalloc0(sizeof **pids);
    (*pids)[0] = c->state->pid;
    *n = 1;
  }
  return 0;
}

static const struct backend_ops remoteproc_backend_ops = {
  .name = "remoteproc",
  .order = BACKEND_ORDER_DEVICE,
  .claims = rp_bundle_claims,
  .create = rp_create,
  .start = rp_start,
  .status = rp_status,
  .kill = rp_kill,
  .destroy = rp_destroy,
  .exec = rp_exec,
  .pause = rp_pause,
  .update = rp_update,
  .stats = rp_stats,
  .pids = rp_pids,
  .logs = rp_logs,
};

__attribute__((constructor)) static void rp_register(void)
{
  backend_register(&remoteproc_backend_ops);
}
