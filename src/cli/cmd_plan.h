/* cmd_plan.h - the `edgecr plan` subcommands, one file per concern:
 * cmd_plan.c (dispatch, check), cmd_plan_repo.c (build, list, diff, export,
 * import), cmd_plan_switch.c (apply, switch, status, recover). */
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

/* `edgecr monitor` (cmd_monitor.c); the command table in main.c and cli.h
 * belong to the CLI owner, who adds {"monitor", cmd_monitor, ...}. */
int cmd_monitor(struct edgecr_global *g, int argc, char **argv);

#endif
