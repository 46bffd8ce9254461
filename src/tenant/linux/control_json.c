/* control_json.c - a tenant control page's counters as JSON, for `edgecr
 * events --stats` (the runtime) and `edgecr monitor --tenants`.  The page
 * has one writer per field and readers take no lock: a counter read here
 * may be a call behind, never torn (aligned 64-bit loads). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant_control.h"
#include "util.h"

static json_t *u64(uint64_t v)
{
  return json_integer((json_int_t) v);
}

json_t *tenant_control_json(const struct tenant_control *c)
{
  struct tenant_stats st;
  memcpy(&st, (const void *) &c->stats, sizeof st);
  json_t *svc = json_object();
  for (int s = 0; s < TENANT_SVC_COUNT; s++)
    json_object_set_new(svc, tenant_service_name((enum tenant_service) s),
                        json_pack("{s:o,s:o,s:o}", "calls", u64(st.svc[s].calls), "denied", u64(st.svc[s].denied),
                                  "errors", u64(st.svc[s].errors)));
  return json_pack("{s:s,s:o,s:b,s:o,s:o,s:o,s:o,s:o}", "id", c->tenant, "version", u64(c->version),
                   "running", c->running != 0, "updates", u64(st.updates), "activations", u64(st.activations),
                   "overruns", u64(st.overruns), "misses", u64(st.misses), "services", svc);
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

json_t *tenant_control_scan(const char *state_root, const char *only_id, edgecr_error_t *err)
{
  DIR *d = opendir(state_root);
  if (d == NULL) {
    if (errno == ENOENT)
      return json_array();
    edgecr_error_make(err, errno, "open the state directory `%s`", state_root);
    return NULL;
  }
  char **names = NULL;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.' || (only_id != NULL && strcmp(e->d_name, only_id) != 0))
      continue;
    names = xrealloc(names, (n + 1) * sizeof *names);
    names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  json_t *out = json_array();
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *dir = xasprintf("%s/%s", state_root, names[i]);
    edgecr_error_t ignore = NULL; /* not a tenant, or gone meanwhile */
    struct tenant_control *c = tenant_control_open(dir, false, &ignore);
    edgecr_error_release(&ignore);
    if (c != NULL) {
      json_t *j = tenant_control_json(c);
      json_object_set_new(j, "container", json_string(names[i]));
      json_array_append_new(out, j);
      tenant_control_close(c);
    }
    free(names[i]);
  }
  free(names);
  return out;
}
