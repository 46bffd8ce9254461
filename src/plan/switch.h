/* switch.h - moving a node from one plan to another, crash-safely.
 *
 * Pure logic: the containers are started and stopped through a small
 * executor interface (struct plan_executor) so that the real lifecycle
 * (or, in tests, a fake that records calls) plugs in.
 *
 * A switch is a list of actions: stop the removed and changed containers
 * in reverse start order of the current plan, then start the new and
 * changed ones in the start order of the target plan; unchanged containers
 * (same content checksum) are kept running.  Before the first action a
 * journal is written durably (temporary file, fsync, rename, fsync of the
 * directory) and it is rewritten after every action with the number of actions done.  Every
 * action is idempotent (a stop of a stopped container, a start of a running
 * one, do nothing), so after a crash at any point `recover` either finishes
 * the switch (forward) or undoes the actions done (rollback), and the node
 * ends with exactly the old or exactly the new plan running, never a mix.
 *
 * State directory files:
 *   current.json  the plan the node runs: {"name","commit","checkout","containers":[...]}
 *   journal.json  an unfinished switch: {"from","to","phase","done","actions":[...]}
 *                 ("to" is null for `plan stop`) */
#ifndef EDGECR_PLAN_SWITCH_H
#define EDGECR_PLAN_SWITCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum plan_change { PLAN_UNCHANGED, PLAN_CHANGED, PLAN_ADDED, PLAN_REMOVED };

struct plan_diff_entry {
  const char *name;            /* borrowed from the plans */
  enum plan_change change;
  const json_t *from, *to;     /* container entries (NULL when absent) */
};

/* Compare two plans container by container (by content checksum).
 * `from` may be NULL (everything added).  *out: array of *n entries, in
 * target start order, then the removed ones. */
int plan_diff(const json_t *from, const json_t *to, struct plan_diff_entry **out, size_t *n,
              edgecr_error_t *err);
const char *plan_change_name(enum plan_change c);

/* The lifecycle, as the switch sees it.  `container` is the plan entry
 * (name, realtime settings, limits, devices...); `bundle` the absolute
 * bundle directory in the plan's checkout. */
struct plan_executor {
  void *ctx;
  int (*start_container)(void *ctx, const char *name, const char *bundle, const json_t *container,
                         edgecr_error_t *err);
  int (*stop_container)(void *ctx, const char *name, edgecr_error_t *err);
  /* Read-only: *status = "running", "stopped", ... (allocated) or NULL
   * when no such container exists. */
  int (*query)(void *ctx, const char *name, char **status, edgecr_error_t *err);
};

/* 1 running (or paused), 0 not, < 0 error.  A container left `created` or
 * `stopped` (an interrupted start, or a process that exited) is a
 * leftover: it is stopped (deleted) and counts as not running, so that the
 * switch starts it again. */
int plan_executor_is_running(const struct plan_executor *ex, const char *name, edgecr_error_t *err);

/* A plan located on this node: its content and its checkout directory. */
struct plan_located {
  const char *name, *commit, *checkout;
  const json_t *plan;
};

/* The actions of a switch from `from` (NULL: nothing runs) to `to`, as a
 * JSON array of {"op": "stop"|"start", "name", "bundle", "container"}, and
 * between the stops and the starts, when the plans' deadline partitions
 * differ, {"op": "partitions", "name": "cpusets", "cpus": target, "undo":
 * the old ones} (partition.h).
 * *kept receives the number of unchanged containers. */
json_t *plan_switch_actions(const struct plan_located *from, const struct plan_located *to, size_t *kept,
                            edgecr_error_t *err);

/* Same, asking `ex` whether each unchanged container still runs: one that
 * is gone (exited, or deleted behind the plan's back) is started again. */
json_t *plan_switch_actions_on(const struct plan_located *from, const struct plan_located *to,
                               const struct plan_executor *ex, size_t *kept, edgecr_error_t *err);

/* The deadline partitions a plan (plan.json: node.partitions) or a
 * current.json ("partitions") asks for: a CPU list, "" none. */
const char *plan_partitions_of(const json_t *plan);

/* Run a switch to `to` from what current.json says runs (or nothing).
 * Refuses when an interrupted switch is pending (run recover first).  A
 * failed action leaves the journal, as a crash would (recover decides). */
int plan_switch_run(const char *state_dir, const struct plan_located *to, const struct plan_executor *ex,
                    edgecr_error_t *err);

/* plan_switch_run, and when an action fails, the automatic rollback of
 * what the switch did: the node is left with the old plan (or nothing, for
 * a first apply) and no pending journal.  Only if the rollback fails too
 * is the journal kept (err says so).  A killed process still leaves the
 * journal for `recover`. */
int plan_switch_apply(const char *state_dir, const struct plan_located *to, const struct plan_executor *ex,
                      edgecr_error_t *err);

/* Bring the node to no plan: stop every container of the current plan
 * (reverse start order) under a journal like a switch (to = null), then
 * remove current.json.  *had_plan tells whether a plan was current. */
int plan_switch_stop(const char *state_dir, const struct plan_executor *ex, bool *had_plan, edgecr_error_t *err);

/* Finish (rollback == false) or undo (true) an interrupted switch.
 * *did_work tells whether there was one. */
int plan_switch_recover(const char *state_dir, bool rollback, const struct plan_executor *ex, bool *did_work,
                        edgecr_error_t *err);

/* {"current": current.json or null, "journal": journal.json or null} */
int plan_switch_status(const char *state_dir, json_t **out, edgecr_error_t *err);

#endif
