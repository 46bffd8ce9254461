/* switch.c - plan diff, switch actions, the journal and recovery of
 * switch.h. */
#include "switch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity.h"
#include "util.h"

const char *plan_change_name(enum plan_change c)
{
  static const char *const names[] = {"unchanged", "changed", "added", "removed"};
  return names[c];
}

static const json_t *find_container(const json_t *plan, const char *name)
{
  size_t i;
  json_t *ct;
  json_array_foreach(json_object_get(plan, "containers"), i, ct) {
    const char *n = json_string_value(json_object_get(ct, "name"));
    if (n && strcmp(n, name) == 0)
      return ct;
  }
  return NULL;
}

/* Same identity (identity.h): start order, dependencies and analysis
 * results do not count, so a change elsewhere restarts nothing. */
static bool same_content(const json_t *a, const json_t *b)
{
  return plan_same_identity(a, b);
}

int plan_diff(const json_t *from, const json_t *to, struct plan_diff_entry **out, size_t *n, edgecr_error_t *err)
{
  json_t *tc = json_object_get(to, "containers"), *fc = from ? json_object_get(from, "containers") : NULL;
  if (!json_is_array(tc) || (from && !json_is_array(fc)))
    return edgecr_error_make(err, 0, "plan diff: a plan has no `containers` list");
  struct plan_diff_entry *d = xmalloc0((json_array_size(tc) + json_array_size(fc) + 1) * sizeof *d);
  size_t k = 0, i;
  json_t *ct;
  json_array_foreach(tc, i, ct) {
    const char *name = json_string_value(json_object_get(ct, "name"));
    if (name == NULL) {
      free(d);
      return edgecr_error_make(err, 0, "plan diff: containers[%zu] has no name", i);
    }
    const json_t *old = from ? find_container(from, name) : NULL;
    d[k++] = (struct plan_diff_entry){name, !old ? PLAN_ADDED : same_content(old, ct) ? PLAN_UNCHANGED : PLAN_CHANGED,
                                      old, ct};
  }
  json_array_foreach(fc, i, ct) {
    const char *name = json_string_value(json_object_get(ct, "name"));
    if (name && !find_container(to, name))
      d[k++] = (struct plan_diff_entry){name, PLAN_REMOVED, ct, NULL};
  }
  *out = d;
  *n = k;
  return 0;
}

static json_t *action(const char *op, const struct plan_located *where, const json_t *ct)
{
  const char *bundle = json_string_value(json_object_get(ct, "bundle"));
  json_t *a = json_pack("{s:s,s:O,s:O}", "op", op, "name", json_object_get(ct, "name"), "container", ct);
  json_object_set_new(a, "bundle", bundle && where->checkout ? json_sprintf("%s/%s", where->checkout, bundle)
                                                             : json_null());
  return a;
}

json_t *plan_switch_actions(const struct plan_located *from, const struct plan_located *to, size_t *kept,
                            edgecr_error_t *err)
{
  cleanup_free struct plan_diff_entry *d = NULL;
  size_t n;
  if (plan_diff(from ? from->plan : NULL, to->plan, &d, &n, err) < 0)
    return NULL;
  json_t *actions = json_array();
  /* Stops in reverse start order of the running plan: dependants first. */
  json_t *fc = from ? json_object_get(from->plan, "containers") : NULL;
  for (size_t i = json_array_size(fc); i-- > 0;) {
    const json_t *ct = json_array_get(fc, i);
    const char *name = json_string_value(json_object_get(ct, "name"));
    const json_t *target = find_container(to->plan, name);
    if (target == NULL || !same_content(ct, target))
      json_array_append_new(actions, action("stop", from, ct));
  }
  /* Starts in the target's start order (its containers array is sorted). */
  *kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (d[i].change == PLAN_ADDED || d[i].change == PLAN_CHANGED)
      json_array_append_new(actions, action("start", to, d[i].to));
    else if (d[i].change == PLAN_UNCHANGED)
      (*kept)++;
  }
  return actions;
}

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
  return json_pack("{s:s,s:s,s:s,s:O}", "name", p->name, "commit", p->commit, "checkout", p->checkout,
                   "containers", json_object_get(p->plan, "containers"));
}

static void located_from_json(const json_t *j, struct plan_located *p)
{
  p->name = json_string_value(json_object_get(j, "name"));
  p->commit = json_string_value(json_object_get(j, "commit"));
  p->checkout = json_string_value(json_object_get(j, "checkout"));
  p->plan = j; /* carries "containers" */
}

/* ---- executing ---- */

static int run_action(const struct plan_executor *ex, const json_t *a, edgecr_error_t *err)
{
  const char *op = json_string_value(json_object_get(a, "op"));
  const char *name = json_string_value(json_object_get(a, "name"));
  int running = ex->is_running(ex->ctx, name, err);
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
    if (run_action(ex, a, err) < 0)
      return edgecr_error_wrap(err, "plan switch step %zu of %zu (journal kept: `edgecr plan recover`)", i + 1,
                               json_array_size(actions));
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

int plan_switch_run(const char *state_dir, const struct plan_located *to, const struct plan_executor *ex,
                    edgecr_error_t *err)
{
  if (mkdir_p(state_dir, 0755, err) < 0)
    return -1;
  json_t *pending = NULL, *current = NULL;
  if (load_json(state_dir, "journal.json", &pending, err) < 0)
    return -1;
  if (pending) {
    json_decref(pending);
    return edgecr_error_make(err, EBUSY, "an interrupted plan switch is pending in `%s`: run `edgecr plan recover` "
                                         "(or `edgecr plan recover --rollback`) first", state_dir);
  }
  if (load_json(state_dir, "current.json", &current, err) < 0)
    return -1;
  struct plan_located from;
  if (current)
    located_from_json(current, &from);
  size_t kept;
  json_t *actions = plan_switch_actions(current ? &from : NULL, to, &kept, err);
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
