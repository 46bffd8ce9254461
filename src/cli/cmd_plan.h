/* cmd_plan.h - the `edgecr plan` subcommands, one file per concern:
 * cmd_plan.c (dispatch, check), cmd_plan_repo.c (build, list, diff, export,
 * import), cmd_plan_switch.c (apply, switch, stop, status, recover),
 * cmd_plan_lifecycle.c and cmd_plan_extlc.c (the executors). */
#ifndef EDGECR_CMD_PLAN_H
#define EDGECR_CMD_PLAN_H

#include "cli.h"

int cmd_plan_build(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_list(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_diff(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_export(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_import(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_apply(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_switch(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_status(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_recover(struct edgecr_global *g, int argc, char **argv);
int cmd_plan_stop(struct edgecr_global *g, int argc, char **argv);
/* cmd_plan_admit.c: the schedule admission `edgecr update --metadata` asks */
int cmd_plan_admit_schedule(struct edgecr_global *g, int argc, char **argv);

/* The executor of apply/switch/recover over the lifecycle library
 * (cmd_plan_lifecycle.c); state_dir is the plan state directory (generated
 * bundles and container logs live under it).  Free with
 * plan_executor_free (which frees ex->ctx). */
struct plan_executor;
struct plan_executor *plan_lifecycle_executor(struct edgecr_global *g, const char *state_dir);
void plan_executor_free(struct plan_executor *ex);
/* That one, or the external lifecycle program named by
 * $EDGECR_PLAN_LIFECYCLE (cmd_plan_extlc.c, for the crash tests). */
struct plan_executor *plan_make_executor(struct edgecr_global *g, const char *state_dir);

/* `edgecr monitor` (cmd_monitor.c); the command table in main.c and cli.h
 * belong to the CLI owner, who adds {"monitor", cmd_monitor, ...}. */
int cmd_monitor(struct edgecr_global *g, int argc, char **argv);

#endif
