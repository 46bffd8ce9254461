/* cmd_plan_stubs.c - TEMPORARY */
#include "cmd_plan.h"
#include "log.h"
#define STUB(n) int n(struct edgecr_global *g, int argc, char **argv) { (void) g; (void) argc; (void) argv; log_error("not yet"); return 1; }
STUB(cmd_plan_build) STUB(cmd_plan_list) STUB(cmd_plan_diff) STUB(cmd_plan_export) STUB(cmd_plan_import)
STUB(cmd_plan_apply) STUB(cmd_plan_switch) STUB(cmd_plan_status) STUB(cmd_plan_recover)
