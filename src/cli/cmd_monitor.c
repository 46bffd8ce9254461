/* cmd_monitor.c - `edgecr monitor [--dir DIR] [--format json] [NAME]`:
 * deadline misses, budget overruns and response-time / jitter histograms of
 * the real-time containers, read from their rt.h shared-memory pages
 * (src/plan/monitor.c).  Pages live in DIR (default: $EDGECR_RT_DIR, else
 * <root>/rt), one `<container>.rt` file each. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_plan.h"
#include "monitor.h"
#include "util.h"

int cmd_monitor(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"format", required_argument, NULL, 'f'}, {"dir", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *format = "text", *dir = getenv("EDGECR_RT_DIR");
  cleanup_free char *default_dir = xasprintf("%s/rt", g->root);
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'd': dir = optarg; break;
    case 'h':
      puts("usage: edgecr monitor [--dir DIR] [--format text|json] [NAME]   (also `edgecr plan monitor`)");
      return 0;
    default: return cli_usage("monitor", "unknown option");
    }
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
    return cli_usage("monitor", "--format must be text or json");
  if (argc - optind > 1)
    return cli_usage("monitor", "at most one container name");
  edgecr_error_t err = NULL;
  struct plan_monitor *m = NULL;
  size_t n = 0;
  if (plan_monitor_scan(dir ? dir : default_dir, optind < argc ? argv[optind] : NULL, &m, &n, &err) < 0)
    return cli_fail(&err);
  if (strcmp(format, "json") == 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(a, plan_monitor_json(&m[i]));
    char *s = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (s)
      puts(s);
    free(s);
  } else {
    plan_monitor_text(stdout, m, n);
  }
  plan_monitor_free_all(m, n);
  return 0;
}
