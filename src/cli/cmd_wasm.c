/* cmd_wasm.c - `edgecr wasm SUBCOMMAND`: dispatch to run / spectest. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

int wasm_cmd_run(struct edgecr_global *g, int argc, char **argv);      /* cmd_wasm_run.c */
int wasm_cmd_spectest(struct edgecr_global *g, int argc, char **argv); /* cmd_wasm_spectest.c */

int cmd_wasm(struct edgecr_global *g, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    printf("usage: edgecr wasm run [options] module.wasm [args...]\n"
           "       edgecr wasm spectest [--bounds-checks] [--fuel-slice N] FILE.json\n");
    return argc < 2 ? 1 : 0;
  }
  if (strcmp(argv[1], "run") == 0)
    return wasm_cmd_run(g, argc - 1, argv + 1);
  if (strcmp(argv[1], "spectest") == 0)
    return wasm_cmd_spectest(g, argc - 1, argv + 1);
  log_error("wasm: unknown subcommand `%s` (run, spectest)", argv[1]);
  return 1;
}
