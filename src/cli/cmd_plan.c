/* cmd_plan.c - `edgecr plan ...` (placeholder until the planner lands). */
#include "cli.h"
#include "log.h"

int cmd_plan(struct edgecr_global *g, int argc, char **argv)
{
  (void) g; (void) argc; (void) argv;
  log_error("plan: not built yet");
  return 1;
}
