/* cmd_wasm_run.c - `edgecr wasm run` (placeholder until it lands). */
#include "cli.h"
#include "log.h"

int wasm_cmd_run(struct edgecr_global *g, int argc, char **argv);

int wasm_cmd_run(struct edgecr_global *g, int argc, char **argv)
{
  (void) g; (void) argc; (void) argv;
  log_error("wasm run: not built yet");
  return 1;
}
