/* cmd_plan.c - `edgecr plan ...`: check a system configuration, build
 * plans into the plan repository, compare/export/import them, and apply or
 * switch them on this node.  Thin: the work is in src/plan/.
 *
 * Exit status of `plan check` (and `plan build`): 0 schedulable, 1 error
 * (bad file, bad usage), 2 valid but not schedulable. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cli.h"
#include "cmd_plan.h"
#include "log.h"
#include "model.h"
#include "report.h"
#include "svg.h"
#include "util.h"

static void analysis_freep(struct plan_analysis **a) { plan_analysis_free(*a); }
static void config_freep(struct plan_config **c) { plan_config_free(*c); }
#define cleanup_analysis __attribute__((cleanup(analysis_freep)))
#define cleanup_config __attribute__((cleanup(config_freep)))

static int write_svg(const char *path, const struct plan_config *c, const struct plan_analysis *a,
                     int64_t window, edgecr_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return edgecr_error_make(err, errno, "svg: open memory stream");
  plan_svg_write(f, c, a, window > 0 ? window : plan_svg_default_window(a));
  fclose(f);
  if (write_file_atomic(path, buf, len, 0644, err) < 0)
    return edgecr_error_wrap(err, "write svg `%s`", path);
  return 0;
}

static int print_json(json_t *j)
{
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  json_decref(j);
  if (s == NULL)
    return -1;
  puts(s);
  free(s);
  return 0;
}

static int plan_check(int argc, char **argv)
{
  static const struct option opts[] = {
    {"format", required_argument, NULL, 'f'}, {"svg", required_argument, NULL, 's'},
    {"window", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *format = "text", *svg = NULL;
  int64_t window = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 's': svg = optarg; break;
    case 'w':
      if (plan_parse_duration(optarg, &window) < 0 || window <= 0)
        return cli_usage("plan check", "--window: `%s` is not a duration like \"100ms\"", optarg);
      break;
    case 'h':
      puts("usage: edgecr plan check FILE [--format text|json] [--svg OUT.svg] [--window DUR]\n"
           "exit status: 0 schedulable, 1 error, 2 not schedulable");
      return 0;
    default: return cli_usage("plan check", "unknown option");
    }
  }
  if (optind != argc - 1)
    return cli_usage("plan check", "expected one configuration file");
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
    return cli_usage("plan check", "--format must be text or json");
  edgecr_error_t err = NULL;
  cleanup_config struct plan_config *cfg = NULL;
  cleanup_analysis struct plan_analysis *a = NULL;
  if (plan_config_load(argv[optind], &cfg, &err) < 0 || plan_analyse(cfg, &a, &err) < 0)
    return cli_fail(&err);
  if (svg && write_svg(svg, cfg, a, window, &err) < 0)
    return cli_fail(&err);
  if (strcmp(format, "json") == 0)
    print_json(plan_report_json(cfg, a));
  else
    plan_report_text(stdout, cfg, a);
  return a->schedulable ? 0 : 2;
}

struct subcommand {
  const char *name;
  int (*fn)(struct edgecr_global *g, int argc, char **argv);
  const char *help;
};

static int check_entry(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  return plan_check(argc, argv);
}

static const struct subcommand subcommands[] = {
  {"check", check_entry, "analyse a configuration (tables, reasons, --format json, --svg)"},
  {"build", cmd_plan_build, "check and compile a configuration into the plan repository"},
  {"list", cmd_plan_list, "list the plans in the repository"},
  {"diff", cmd_plan_diff, "compare two plans container by container"},
  {"export", cmd_plan_export, "write a static delta between two plans to a file"},
  {"import", cmd_plan_import, "apply a delta file to the repository"},
  {"apply", cmd_plan_apply, "bring this node to a plan"},
  {"switch", cmd_plan_switch, "switch this node from its current plan to another"},
  {"stop", cmd_plan_stop, "stop and delete the current plan's containers: the node runs no plan"},
  {"status", cmd_plan_status, "show the current plan, containers not running, any interrupted switch"},
  {"recover", cmd_plan_recover, "finish or roll back an interrupted switch"},
  {"monitor", cmd_monitor, "deadline misses and latency histograms (same as `edgecr monitor`)"},
  {"admit-schedule", cmd_plan_admit_schedule, "may a running tenant take a new schedule (for `edgecr update`)"},
};

static void plan_usage(FILE *out)
{
  fputs("usage: edgecr plan COMMAND [options]\n\ncommands:\n", out);
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
}

int cmd_plan(struct edgecr_global *g, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    plan_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp(subcommands[i].name, argv[1]) == 0) {
      optind = 0;
      return subcommands[i].fn(g, argc - 1, argv + 1);
    }
  return cli_usage("plan", "unknown plan command `%s`", argv[1]);
}
