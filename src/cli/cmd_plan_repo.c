/* cmd_plan_repo.c - `edgecr plan build|list|diff|export|import`: the plan
 * repository (src/plan/repo.c, libostree). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "cli.h"
#include "cmd_plan.h"
#include "identity.h"
#include "log.h"
#include "model.h"
#include "repo.h"
#include "switch.h"
#include "util.h"

static void repo_closep(struct plan_repo **r) { plan_repo_close(*r); }
#define cleanup_repo __attribute__((cleanup(repo_closep)))

/* Options every repository command takes. */
struct repo_opts {
  const char *repo, *format, *from, *to;
  bool force;
};

static int parse_repo_opts(const char *cmd, int argc, char **argv, struct repo_opts *o, const char *usage)
{
  static const struct option opts[] = {
    {"repo", required_argument, NULL, 'r'}, {"format", required_argument, NULL, 'f'},
    {"from", required_argument, NULL, 'F'}, {"to", required_argument, NULL, 'T'},
    {"force", no_argument, NULL, 'x'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  *o = (struct repo_opts){.repo = plan_repo_default_dir(), .format = "text"};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'r': o->repo = optarg; break;
    case 'f': o->format = optarg; break;
    case 'F': o->from = optarg; break;
    case 'T': o->to = optarg; break;
    case 'x': o->force = true; break;
    case 'h': printf("usage: edgecr plan %s\n", usage); return 0;
    default: return cli_usage(cmd, "unknown option");
    }
  }
  if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0)
    return cli_usage(cmd, "--format must be text or json");
  return -1; /* go on */
}

static void print_json(json_t *j)
{
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  if (s)
    puts(s);
  free(s);
  json_decref(j);
}

int cmd_plan_build(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct repo_opts o;
  int r = parse_repo_opts("plan build", argc, argv, &o, "build FILE [--repo DIR] [--force]\n"
                                                           "exit status: 0 built, 1 error, 2 not schedulable (nothing built without --force)");
  if (r >= 0)
    return r;
  if (optind != argc - 1)
    return cli_usage("plan build", "expected one configuration file");
  edgecr_error_t err = NULL;
  struct plan_config *cfg = NULL;
  struct plan_analysis *a = NULL;
  struct plan_repo *repo = NULL;
  cleanup_free char *commit = NULL;
  int status = 0;
  if (plan_config_load(argv[optind], &cfg, &err) < 0 || plan_analyse(cfg, &a, &err) < 0) {
    status = cli_fail(&err);
  } else if (!a->schedulable && !o.force) {
    fprintf(stderr, "edgecr: plan `%s` is not schedulable; nothing built (see `edgecr plan check %s`, "
                    "or --force to build it anyway)\n", cfg->name, argv[optind]);
    status = 2;
  } else if (plan_repo_open(o.repo, true, &repo, &err) < 0 || plan_repo_build(repo, cfg, a, &commit, &err) < 0) {
    status = cli_fail(&err);
  } else {
    printf("built plan `%s` %s: %zu %s (core assignment: %s)%s\n", cfg->name, commit, cfg->n,
           plan_noun((long long) cfg->n, "container", "containers"), a->assignment,
           a->schedulable ? "" : " -- NOT SCHEDULABLE, built with --force");
  }
  plan_repo_close(repo);
  plan_analysis_free(a);
  plan_config_free(cfg);
  return status;
}

int cmd_plan_list(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct repo_opts o;
  int r = parse_repo_opts("plan list", argc, argv, &o, "list [--repo DIR] [--format text|json]");
  if (r >= 0)
    return r;
  edgecr_error_t err = NULL;
  cleanup_repo struct plan_repo *repo = NULL;
  json_t *list;
  if (plan_repo_open(o.repo, false, &repo, &err) < 0 || plan_repo_list(repo, &list, &err) < 0)
    return cli_fail(&err);
  if (strcmp(o.format, "json") == 0) {
    print_json(list);
    return 0;
  }
  printf("%-24s %-14s %-20s %8s  %s\n", "plan", "commit", "built", "versions", "subject");
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    time_t ts = (time_t) json_integer_value(json_object_get(e, "timestamp"));
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&ts));
    printf("%-24s %-14.12s %-20s %8lld  %s\n", json_string_value(json_object_get(e, "name")),
           json_string_value(json_object_get(e, "commit")), when,
           (long long) json_integer_value(json_object_get(e, "versions")),
           json_string_value(json_object_get(e, "subject")));
  }
  json_decref(list);
  return 0;
}

static int load_plan(struct plan_repo *repo, const char *ref, char **commit, json_t **plan, edgecr_error_t *err)
{
  if (plan_repo_resolve(repo, ref, commit, err) < 0)
    return -1;
  return plan_repo_read_plan(repo, *commit, plan, err);
}

int cmd_plan_diff(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct repo_opts o;
  int r = parse_repo_opts("plan diff", argc, argv, &o, "diff A B [--repo DIR] [--format text|json]");
  if (r >= 0)
    return r;
  if (optind != argc - 2)
    return cli_usage("plan diff", "expected two plans (names, commits, or NAME^)");
  edgecr_error_t err = NULL;
  cleanup_repo struct plan_repo *repo = NULL;
  cleanup_free char *ca = NULL, *cb = NULL;
  json_t *pa = NULL, *pb = NULL;
  cleanup_free struct plan_diff_entry *d = NULL;
  size_t n = 0;
  if (plan_repo_open(o.repo, false, &repo, &err) < 0 || load_plan(repo, argv[optind], &ca, &pa, &err) < 0 ||
      load_plan(repo, argv[optind + 1], &cb, &pb, &err) < 0 || plan_diff(pa, pb, &d, &n, &err) < 0) {
    json_decref(pa);
    json_decref(pb);
    return cli_fail(&err);
  }
  size_t count[4] = {0};
  json_t *out = json_pack("{s:s,s:s,s:[]}", "from", ca, "to", cb, "containers");
  for (size_t i = 0; i < n; i++) {
    count[d[i].change]++;
    const json_t *side = d[i].to ? d[i].to : d[i].from;
    /* why: the fields of the identity that differ (identity.h) */
    json_t *why = d[i].change == PLAN_CHANGED ? plan_identity_changes(d[i].from, d[i].to) : json_array();
    json_array_append_new(json_object_get(out, "containers"),
                          json_pack("{s:s,s:s,s:O,s:o}", "name", d[i].name, "change", plan_change_name(d[i].change),
                                    "checksum", json_object_get(side, "checksum"), "why", why));
  }
  if (strcmp(o.format, "json") == 0) {
    print_json(out);
  } else {
    printf("plan diff %.12s -> %.12s\n", ca, cb);
    json_t *list = json_object_get(out, "containers");
    for (size_t i = 0; i < n; i++) {
      printf("  %-10s %s\n", plan_change_name(d[i].change), d[i].name);
      size_t k;
      json_t *w;
      json_array_foreach(json_object_get(json_array_get(list, i), "why"), k, w)
        printf("             %s\n", json_string_value(w));
    }
    printf("%zu added, %zu removed, %zu changed, %zu unchanged\n", count[PLAN_ADDED], count[PLAN_REMOVED],
           count[PLAN_CHANGED], count[PLAN_UNCHANGED]);
    json_decref(out);
  }
  json_decref(pa);
  json_decref(pb);
  return 0;
}

int cmd_plan_export(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct repo_opts o;
  int r = parse_repo_opts("plan export", argc, argv, &o, "export [--from A] --to B OUT [--repo DIR] [--format text|json]");
  if (r >= 0)
    return r;
  const char *target = o.to ? o.to : optind < argc ? argv[optind++] : NULL;
  if (target == NULL || optind != argc - 1)
    return cli_usage("plan export", "expected --to PLAN and an output file");
  edgecr_error_t err = NULL;
  cleanup_repo struct plan_repo *repo = NULL;
  cleanup_free char *from = NULL, *to = NULL;
  uint64_t size = 0;
  if (plan_repo_open(o.repo, false, &repo, &err) < 0 || (o.from && plan_repo_resolve(repo, o.from, &from, &err) < 0) ||
      plan_repo_resolve(repo, target, &to, &err) < 0 ||
      plan_repo_export(repo, from, to, argv[optind], &size, &err) < 0)
    return cli_fail(&err);
  if (strcmp(o.format, "json") == 0)
    print_json(json_pack("{s:s?,s:s,s:s,s:I}", "from", from, "to", to, "file", argv[optind], "bytes",
                         (json_int_t) size));
  else
    printf("wrote %s: %llu bytes (delta %.12s -> %.12s)\n", argv[optind], (unsigned long long) size,
           from ? from : "(nothing)", to);
  return 0;
}

int cmd_plan_import(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  struct repo_opts o;
  int r = parse_repo_opts("plan import", argc, argv, &o, "import FILE [--repo DIR]");
  if (r >= 0)
    return r;
  if (optind != argc - 1)
    return cli_usage("plan import", "expected one delta file");
  edgecr_error_t err = NULL;
  cleanup_repo struct plan_repo *repo = NULL;
  cleanup_free char *name = NULL, *commit = NULL;
  if (plan_repo_open(o.repo, true, &repo, &err) < 0 || plan_repo_import(repo, argv[optind], &name, &commit, &err) < 0)
    return cli_fail(&err);
  printf("imported plan `%s` %s\n", name, commit);
  return 0;
}
