/* switch.c - plan diff and the actions of a switch (switch.h); running
 * them under the journal is switch_run.c. */
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

const char *plan_partitions_of(const json_t *plan)
{
  const char *p = json_string_value(json_object_get(plan, "partitions"));
  if (p == NULL)
    p = json_string_value(json_object_get(json_object_get(plan, "node"), "partitions"));
  return p ? p : "";
}

/* The actions; with `ex`, an unchanged container that is not running (it
 * exited, or was deleted behind the plan's back) is started again. */
json_t *plan_switch_actions_on(const struct plan_located *from, const struct plan_located *to,
                               const struct plan_executor *ex, size_t *kept, edgecr_error_t *err)
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
  /* Between the stops and the starts, the node's deadline partitions
   * (partition.h): a partition goes once its containers stopped and comes
   * before the containers that run in it start. */
  const char *pf = from ? plan_partitions_of(from->plan) : "", *pt = plan_partitions_of(to->plan);
  if (strcmp(pf, pt) != 0)
    json_array_append_new(actions, json_pack("{s:s,s:s,s:s,s:s}", "op", "partitions", "name", "cpusets", "cpus", pt,
                                             "undo", pf));
  /* Starts in the target's start order (its containers array is sorted). */
  *kept = 0;
  for (size_t i = 0; i < n; i++) {
    bool start = d[i].change == PLAN_ADDED || d[i].change == PLAN_CHANGED;
    if (d[i].change == PLAN_UNCHANGED && ex != NULL) {
      int running = plan_executor_is_running(ex, d[i].name, err);
      if (running < 0) {
        json_decref(actions);
        return NULL;
      }
      start = running == 0;
    }
    if (start)
      json_array_append_new(actions, action("start", to, d[i].to));
    else if (d[i].change == PLAN_UNCHANGED)
      (*kept)++;
  }
  return actions;
}

json_t *plan_switch_actions(const struct plan_located *from, const struct plan_located *to, size_t *kept,
                            edgecr_error_t *err)
{
  return plan_switch_actions_on(from, to, NULL, kept, err);
}
