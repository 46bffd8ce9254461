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
#include "util.h"

/* The payload of a metadata file: a bare payload or a COSE_Sign1's. */
static int decode_any(const char *file, struct tenant_meta *m, edgecr_error_t *err)
{
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_file(file, &buf, err);
  if (len < 0)
    return -1;
  const uint8_t *p = buf;
  size_t n = (size_t) len;
  if (tenant_form_of(buf, n) == TENANT_FORM_SIGN1) {
    struct tenant_cose c;
    struct tenant_err e;
    if (tenant_cose_decode(buf, n, &c, &e) < 0)
      return edgecr_error_invalid(err, "%s: not COSE_Sign1: `%s`: %s", file, e.path, e.reason);
    p = c.payload;
    n = c.payload_len;
  }
  return tenant_meta_decode_file(p, n, file, m, err);
}

int cmd_plan_admit_schedule(struct edgecr_global *g, int argc, char **argv)
{
  if (argc != 3) {
    fputs("usage: edgecr plan admit-schedule ID METADATA-FILE\n", argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 1;
  }
  edgecr_error_t err = NULL;
  struct tenant_meta m;
  if (decode_any(argv[2], &m, &err) < 0)
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
