/* cmd_plan_admit.c - `edgecr plan admit-schedule ID FILE`: may running
 * container ID take the schedule of tenant metadata FILE without making
 * the node's admitted real-time load unschedulable (plan_admit_schedule,
 * src/plan/admit.h)?  Exit status 0, or 1 with the reason on stderr.
 *
 * `edgecr update --metadata` asks it (the runtime binary is static and
 * does not link the plan analysis, which lives in edgecr-plan) after it
 * verified FILE, so FILE is only decoded here, not verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "cmd_plan.h"
#include "tenant_linux.h"
#include "tenant_platform.h"
#include "util.h"

int cmd_plan_admit_schedule(struct edgecr_global *g, int argc, char **argv)
{
  if (argc != 3) {
    fputs("usage: edgecr plan admit-schedule ID METADATA-FILE\n", argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 1;
  }
  edgecr_error_t err = NULL;
  struct tenant_meta m;
  if (tenant_linux_load_unverified(argv[2], &m, &err) < 0)
    return cli_fail(&err);
  struct tenant_schedule none = {0};
  char *why = NULL;
  if (plan_admit_schedule(g->root, argv[1], m.has_schedule ? &m.schedule : &none, &why) < 0) {
    fprintf(stderr, "%s\n", why ? why : "not admissible");
    free(why);
    return 1;
  }
  return 0;
}
