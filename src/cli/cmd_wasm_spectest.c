/* cmd_wasm_spectest.c - `edgecr wasm spectest` (placeholder until it lands). */
#include "cli.h"
#include "log.h"

int wasm_cmd_spectest(struct edgecr_global *g, int argc, char **argv);

int wasm_cmd_spectest(struct edgecr_global *g, int argc, char **argv)
{
  (void) g; (void) argc; (void) argv;
  log_error("wasm spectest: not built yet");
  return 1;
}
