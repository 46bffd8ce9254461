/* placeholder */
#include "cli.h"
#define STUB(n) int cmd_##n(struct edgecr_global *g, int argc, char **argv) { (void) g; (void) argc; (void) argv; return 1; }
STUB(create) STUB(start) STUB(run) STUB(state) STUB(kill) STUB(delete) STUB(list) STUB(ps)
STUB(exec) STUB(pause) STUB(resume) STUB(update) STUB(events) STUB(spec) STUB(features)
