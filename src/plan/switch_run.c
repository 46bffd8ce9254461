/* switch_run.c - running a switch under its journal, stopping the node's
 * plan, recovery and status (switch.h). */
#include "switch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "partition.h"
#include "util.h"

/* ---- state files ---- */

static char *state_path(const char *dir, const char *file) { return xasprintf("%s/%s", dir, file); }

/* The rename (or unlink) of a state file is only durable once the
 * directory entry is on disk: fsync the directory. */
static int sync_dir(const char *dir, edgecr_error_t *err)
{
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
    return edgecr_error_make(err, errno, "sync plan state directory `%s`", dir);
  return 0;
}

/* The journal and current.json must survive power loss, not only a killed
 * process: data fsync'd before the rename, directory fsync'd after it. */
static int save_json(const char *dir, const char *file, const json_t *j, edgecr_error_t *err)
{
  cleanup_free char *path = state_path(dir, file);
  cleanup_free char *text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return edgecr_error_make(err, ENOMEM, "serialise %s", file);
  if (write_file_durable(path, text, strlen(text), 0644, err) < 0)
    return -1;
  return sync_dir(dir, err);
}

/* Missing file: *out = NULL and 0. */
static int load_json(const char *dir, const char *file, json_t **out, edgecr_error_t *err)
{
  cleanup_free char *path = state_path(dir, file);
  *out = NULL;
  struct stat st;
  if (stat(path, &st) < 0 && errno == ENOENT)
    return 0;
  json_error_t jerr;
  *out = json_load_file(path, 0, &jerr);
  if (*out == NULL)
    return edgecr_error_make(err, 0, "%s:%d: %s", path, jerr.line, jerr.text);
  return 0;
}

static json_t *located_json(const struct plan_located *p)
{
  return json_pack("{s:s,s:s,s:s,s:O,s:s}", "name", p->name, "commit", p->commit, "checkout", p->checkout,
                   "containers", json_object_get(p->plan, "containers"), "partitions", plan_partitions_of(p->plan));
}

static void located_from_json(const json_t *j, struct plan_located *p)
{
  p->name = json_string_value(json_object_get(j, "name"));
  p->commit = json_string_value(json_object_get(j, "commit"));
  p->checkout = json_string_value(json_object_get(j, "checkout"));
  p->plan = j; /* carries "containers" */
}

/* ---- executing ---- */

int plan_executor_is_running(const struct plan_executor *ex, const char *name, edgecr_error_t *err)
{
  cleanup_free char *status = NULL;
  if (ex->query(ex->ctx, name, &status, err) < 0)
    return -1;
  if (status == NULL) /* no such container */
    return 0;
  bool running = strcmp(status, "running") == 0 || strcmp(status, "paused") == 0;
  if (!running && ex->stop_container(ex->ctx, name, err) < 0)
    return -1;
  return running;
}

static int run_action(const char *dir, const struct plan_executor *ex, const json_t *a, edgecr_error_t *err)
{
  const char *op = json_string_value(json_object_get(a, "op"));
  const char *name = json_string_value(json_object_get(a, "name"));
  if (strcmp(op, "partitions") == 0) /* idempotent, and recorded in cpusets.json as it goes */
    return plan_partitions_set(dir, json_string_value(json_object_get(a, "cpus")), err);
  int running = plan_executor_is_running(ex, name, err);
  if (running < 0)
    return edgecr_error_wrap(err, "%s `%s`", op, name);
  if (strcmp(op, "stop") == 0)
    return running ? ex->stop_container(ex->ctx, name, err) : 0;
  if (running)
    return 0; /* started before a crash: the journal had not caught up */
  return ex->start_container(ex->ctx, name, json_string_value(json_object_get(a, "bundle")),
                             json_object_get(a, "container"), err);
}

/* Execute journal actions from `done` on, saving progress after each. */
static int run_journal(const char *dir, json_t *journal, const struct plan_executor *ex, edgecr_error_t *err)
{
  json_t *actions = json_object_get(journal, "actions");
  size_t done = (size_t) json_integer_value(json_object_get(journal, "done"));
  for (size_t i = done; i < json_array_size(actions); i++) {
    const json_t *a = json_array_get(actions, i);
    if (run_action(dir, ex, a, err) < 0)
      return edgecr_error_wrap(err, "plan switch step %zu of %zu", i + 1, json_array_size(actions));
    json_object_set_new(journal, "done", json_integer((json_int_t) i + 1));
    if (save_json(dir, "journal.json", journal, err) < 0)
      return -1;
  }
  /* The end state becomes current, then the journal goes: a crash in
   * between re-runs no action (all done) and lands here again. */
  const char *target = strcmp(json_string_value(json_object_get(journal, "phase")), "rollback") == 0 ? "from" : "to";
  json_t *end = json_object_get(journal, target);
  cleanup_free char *cur = state_path(dir, "current.json");
  if (json_is_null(end) || end == NULL) {
    if (unlink(cur) < 0 && errno != ENOENT)
      return edgecr_error_make(err, errno, "remove `%s`", cur);
    if (sync_dir(dir, err) < 0)
      return -1;
  } else if (save_json(dir, "current.json", end, err) < 0) {
    return -1;
  }
  cleanup_free char *jp = state_path(dir, "journal.json");
  if (unlink(jp) < 0)
    return edgecr_error_make(err, errno, "remove `%s`", jp);
  return sync_dir(dir, err);
}

/* A new switch (or stop) must not start over a pending one. */
static int refuse_pending(const char *state_dir, edgecr_error_t *err)
{
  json_t *pending = NULL;
  if (load_json(state_dir, "journal.json", &pending, err) < 0)
    return -1;
  if (pending == NULL)
    return 0;
  json_decref(pending);
  return edgecr_error_make(err, EBUSY, "an interrupted plan switch is pending in `%s`: run `edgecr plan recover` "
                                       "(or `edgecr plan recover --rollback`) first", state_dir);
}

int plan_switch_run(const char *state_dir, const struct plan_located *to, const struct plan_executor *ex,
                    edgecr_error_t *err)
{
  if (mkdir_p(state_dir, 0755, err) < 0 || refuse_pending(state_dir, err) < 0)
    return -1;
  json_t *current = NULL;
  if (load_json(state_dir, "current.json", &current, err) < 0)
    return -1;
  struct plan_located from;
  if (current)
    located_from_json(current, &from);
  size_t kept;
  json_t *actions = plan_switch_actions_on(current ? &from : NULL, to, ex, &kept, err);
  if (actions == NULL) {
    json_decref(current);
    return -1;
  }
  json_t *journal = json_pack("{s:o,s:o,s:s,s:i,s:o}", "from", current ? json_incref(current) : json_null(), "to",
                              located_json(to), "phase", "forward", "done", 0, "actions", actions);
  json_decref(current);
  int r = save_json(state_dir, "journal.json", journal, err);
  if (r == 0)
    r = run_journal(state_dir, journal, ex, err);
  json_decref(journal);
  return r;
}

int plan_switch_stop(const char *state_dir, const struct plan_executor *ex, bool *had_plan, edgecr_error_t *err)
{
  *had_plan = false;
  if (mkdir_p(state_dir, 0755, err) < 0 || refuse_pending(state_dir, err) < 0)
    return -1;
  json_t *current = NULL;
  if (load_json(state_dir, "current.json", &current, err) < 0)
    return -1;
  if (current == NULL)
    return 0;
  *had_plan = true;
  struct plan_located from;
  located_from_json(current, &from);
  /* A switch to a plan without containers: every one stops. */
  json_t *none = json_pack("{s:[]}", "containers");
  struct plan_located to = {.plan = none};
  size_t kept;
  json_t *actions = plan_switch_actions(&from, &to, &kept, err);
  json_decref(none);
  if (actions == NULL) {
    json_decref(current);
    return -1;
  }
  json_t *journal = json_pack("{s:o,s:n,s:s,s:i,s:o}", "from", current, "to", "phase", "forward", "done", 0,
                              "actions", actions);
  int r = save_json(state_dir, "journal.json", journal, err);
  if (r == 0)
    r = run_journal(state_dir, journal, ex, err);
  json_decref(journal);
  return r;
}

/* Say what happened after the failure itself. */
__attribute__((format(printf, 2, 3))) static void append_msg(edgecr_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return;
  char *more = NULL, *full = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&more, fmt, ap);
  va_end(ap);
  if (r < 0 || asprintf(&full, "%s%s", (*err)->msg, more) < 0) {
    free(more);
    return;
  }
  free(more);
  free((*err)->msg);
  (*err)->msg = full;
}

int plan_switch_apply(const char *state_dir, const struct plan_located *to, const struct plan_executor *ex,
                      edgecr_error_t *err)
{
  json_t *before = NULL;
  /* A journal pending from before is not ours to roll back. */
  if (mkdir_p(state_dir, 0755, err) < 0 || refuse_pending(state_dir, err) < 0)
    return -1;
  if (plan_switch_run(state_dir, to, ex, err) == 0)
    return 0;
  /* No journal: the switch failed before writing it (nothing done). */
  if (load_json(state_dir, "journal.json", &before, NULL) < 0 || before == NULL)
    return -1;
  json_t *from = json_object_get(before, "from");
  cleanup_free char *old = json_is_null(from) ? xstrdup("nothing runs (as before)")
                                              : xasprintf("the node runs plan `%s` again",
                                                          json_string_value(json_object_get(from, "name")));
  json_decref(before);
  edgecr_error_t rb = NULL;
  bool did;
  if (plan_switch_recover(state_dir, true, ex, &did, &rb) == 0) {
    append_msg(err, "; rolled back: %s", old);
  } else {
    append_msg(err, "; the rollback failed too (%s): the journal is kept, run `edgecr plan recover --rollback`",
               rb ? rb->msg : "?");
    edgecr_error_release(&rb);
  }
  return -1;
}

/* Undo actions [0, done] (the one at `done` may have happened before the
 * crash): reverse order, start <-> stop, old entries restarted from the old
 * checkout. */
static json_t *rollback_actions(const json_t *journal)
{
  json_t *actions = json_object_get(journal, "actions"), *undo = json_array();
  size_t done = (size_t) json_integer_value(json_object_get(journal, "done"));
  size_t last = done < json_array_size(actions) ? done : json_array_size(actions) - 1;
  for (size_t i = last + 1; i-- > 0;) {
    json_t *a = json_deep_copy(json_array_get(actions, i));
    if (strcmp(json_string_value(json_object_get(a, "op")), "partitions") == 0) {
      json_t *cpus = json_incref(json_object_get(a, "cpus"));
      json_object_set(a, "cpus", json_object_get(a, "undo"));
      json_object_set_new(a, "undo", cpus);
      json_array_append_new(undo, a);
      continue;
    }
    bool was_stop = strcmp(json_string_value(json_object_get(a, "op")), "stop") == 0;
    json_object_set_new(a, "op", json_string(was_stop ? "start" : "stop"));
    json_array_append_new(undo, a);
  }
  return undo;
}

int plan_switch_recover(const char *state_dir, bool rollback, const struct plan_executor *ex, bool *did_work,
                        edgecr_error_t *err)
{
  json_t *journal = NULL;
  *did_work = false;
  if (load_json(state_dir, "journal.json", &journal, err) < 0)
    return -1;
  if (journal == NULL)
    return 0;
  *did_work = true;
  bool in_rollback = strcmp(json_string_value(json_object_get(journal, "phase")), "rollback") == 0;
  if (rollback && !in_rollback && json_array_size(json_object_get(journal, "actions")) > 0) {
    /* Turn the journal into a rollback journal first (atomically), so a
     * crash during the rollback continues the rollback. */
    json_object_set_new(journal, "actions", rollback_actions(journal));
    json_object_set_new(journal, "phase", json_string("rollback"));
    json_object_set_new(journal, "done", json_integer(0));
    if (save_json(state_dir, "journal.json", journal, err) < 0) {
      json_decref(journal);
      return -1;
    }
  } else if (rollback && !in_rollback) {
    json_object_set_new(journal, "phase", json_string("rollback"));
  }
  int r = run_journal(state_dir, journal, ex, err);
  json_decref(journal);
  return r;
}

int plan_switch_status(const char *state_dir, json_t **out, edgecr_error_t *err)
{
  json_t *current = NULL, *journal = NULL;
  if (load_json(state_dir, "current.json", &current, err) < 0 || load_json(state_dir, "journal.json", &journal, err) < 0) {
    json_decref(current);
    return -1;
  }
  *out = json_pack("{s:o,s:o}", "current", current ? current : json_null(), "journal", journal ? journal : json_null());
  return 0;
}
