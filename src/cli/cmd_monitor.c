/* cmd_monitor.c - `edgecr monitor [--dir DIR] [--format json] [NAME]`:
 * deadline misses, budget overruns and response-time / jitter histograms of
 * the real-time containers, read from their rt.h shared-memory pages
 * (src/plan/monitor.c).  Pages live in DIR (default: $EDGECR_RT_DIR, else
 * <root>/rt), one `<container>.rt` file each.
 *
 * Channels (docs/channels.md): the text output ends with each channel's
 * counters (src/channel/stats.c), read from <root>/channels (or
 * --channel-dir); `--channels [NAME]` shows only those, in text or JSON.
 * With --tenants: the WebAssembly tenants' host calls (calls, denied,
 * errors per service, updates applied) from their control pages. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chanlib.h"
#include "cli.h"
#include "cmd_plan.h"
#include "monitor.h"
#include "tenant_control.h"
#include "util.h"

/* `--channels`: the channels' counters alone. */
static int monitor_channels(const char *dir, const char *only, bool json)
{
  edgecr_error_t err = NULL;
  struct edgecr_channel_stats *s = NULL;
  size_t n = 0;
  if (edgecr_channel_stats_scan(dir, only, &s, &n, &err) < 0)
    return cli_fail(&err);
  if (json) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(a, edgecr_channel_stats_json(&s[i]));
    char *text = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (text)
      puts(text);
    free(text);
  } else if (n == 0) {
    printf("no channel%s%s in %s\n", only ? " " : "", only ? only : "", dir);
  } else {
    edgecr_channel_stats_text(stdout, s, n);
  }
  free(s);
  return only && n == 0 ? 1 : 0;
}

/* --tenants: every WebAssembly tenant's counters, from the control pages
 * in the state root (src/tenant/linux/tenant_control.h). */
static int monitor_tenants(struct edgecr_global *g, bool json, const char *id)
{
  edgecr_error_t err = NULL;
  json_t *all = tenant_control_scan(g->root, id, &err);
  if (all == NULL)
    return cli_fail(&err);
  if (json) {
    char *s = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
      puts(s);
    free(s);
  } else {
    printf("%-20s %-16s %7s %7s %-8s %12s %12s %12s\n", "CONTAINER", "TENANT", "VERSION", "UPDATES", "SERVICE",
           "CALLS", "DENIED", "ERRORS");
    size_t i;
    json_t *t;
    json_array_foreach(all, i, t) {
      const char *svc;
      json_t *v;
      json_object_foreach(json_object_get(t, "services"), svc, v) {
        if (json_integer_value(json_object_get(v, "calls")) == 0)
          continue; /* services the tenant never called */
        printf("%-20s %-16s %7lld %7lld %-8s %12lld %12lld %12lld\n", json_string_value(json_object_get(t, "container")),
               json_string_value(json_object_get(t, "id"))[0] ? json_string_value(json_object_get(t, "id")) : "-",
               json_integer_value(json_object_get(t, "version")), json_integer_value(json_object_get(t, "updates")),
               svc, json_integer_value(json_object_get(v, "calls")), json_integer_value(json_object_get(v, "denied")),
               json_integer_value(json_object_get(v, "errors")));
      }
    }
  }
  json_decref(all);
  return 0;
}

int cmd_monitor(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"format", required_argument, NULL, 'f'}, {"dir", required_argument, NULL, 'd'},
    {"channels", no_argument, NULL, 'c'}, {"channel-dir", required_argument, NULL, 'C'},
    {"tenants", no_argument, NULL, 'T'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *format = "text", *dir = getenv("EDGECR_RT_DIR");
  bool tenants = false;
  cleanup_free char *default_dir = xasprintf("%s/rt", g->root);
  cleanup_free char *chan_dir = edgecr_channel_host_dir(g->root);
  const char *channel_dir = chan_dir;
  bool channels = false;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'd': dir = optarg; break;
    case 'c': channels = true; break;
    case 'C': channel_dir = optarg; break;
    case 'T': tenants = true; break;
    case 'h':
      puts("usage: edgecr monitor [--dir DIR] [--format text|json] [NAME]   (also `edgecr plan monitor`)\n"
           "       edgecr monitor --channels [--channel-dir DIR] [--format text|json] [CHANNEL]\n"
           "       edgecr monitor --tenants [--format text|json] [ID]   (tenants' host calls)");
      return 0;
    default: return cli_usage("monitor", "unknown option");
    }
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
    return cli_usage("monitor", "--format must be text or json");
  if (argc - optind > 1)
    return cli_usage("monitor", "at most one container name");
  if (channels)
    return monitor_channels(channel_dir, optind < argc ? argv[optind] : NULL, strcmp(format, "json") == 0);
  if (tenants)
    return monitor_tenants(g, strcmp(format, "json") == 0, optind < argc ? argv[optind] : NULL);
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
    struct edgecr_channel_stats *s = NULL;
    size_t k = 0;
    edgecr_error_t e = NULL; /* the channels are an extra here: no error of theirs fails the rt report */
    if (optind == argc && edgecr_channel_stats_scan(channel_dir, NULL, &s, &k, &e) == 0 && k > 0) {
      putchar('\n');
      edgecr_channel_stats_text(stdout, s, k);
    }
    edgecr_error_release(&e);
    free(s);
  }
  plan_monitor_free_all(m, n);
  return 0;
}
