/* cmd_logs.c - `edgecr logs [-f] ID` (placeholder until the remoteproc
 * backend lands). */
#include "cli.h"
#include "log.h"

int cmd_logs(struct edgecr_global *g, int argc, char **argv)
{
  (void) g; (void) argc; (void) argv;
  log_error("logs: not built yet");
  return 1;
}
