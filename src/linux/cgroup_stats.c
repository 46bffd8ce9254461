/* cgroup_stats.c - statistics in the shape of runc's `events --stats`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "util.h"

/* ---- statistics ------------------------------------------------------ */

static json_t *kv_file(const char *dir, const char *f)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, f);
  cleanup_free char *s = NULL;
  if (read_all_file(p, &s, NULL) < 0)
    return NULL;
  json_t *o = json_object();
  char *save = NULL;
  for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sp = strchr(line, ' ');
    if (sp == NULL)
      continue;
    *sp = '\0';
    json_object_set_new(o, line, json_integer(strtoll(sp + 1, NULL, 10)));
  }
  return o;
}

/* Statistics in the shape of runc's `events --stats` (types.Stats), so
 * tools written for runc read them unchanged. */
static json_t *mem_entry(const char *dir, bool v2, const char *kind)
{
  json_t *e = json_object();
  bool swap = strcmp(kind, "swap") == 0;
  const char *usage = v2 ? (swap ? "memory.swap.current" : "memory.current")
                         : (swap ? "memory.memsw.usage_in_bytes" : "memory.usage_in_bytes");
  const char *limit = v2 ? (swap ? "memory.swap.max" : "memory.max")
                         : (swap ? "memory.memsw.limit_in_bytes" : "memory.limit_in_bytes");
  const char *max = v2 ? (swap ? "memory.swap.peak" : "memory.peak")
                       : (swap ? "memory.memsw.max_usage_in_bytes" : "memory.max_usage_in_bytes");
  const char *fail = v2 ? NULL : (swap ? "memory.memsw.failcnt" : "memory.failcnt");
  long long v;
  if ((v = cg_read_ll(dir, usage)) >= 0) json_object_set_new(e, "usage", json_integer(v));
  v = cg_read_ll(dir, limit);
  json_object_set_new(e, "limit", json_integer(v >= 0 ? v : (json_int_t) 0x7fffffffffffffffLL));
  if ((v = cg_read_ll(dir, max)) >= 0) json_object_set_new(e, "max", json_integer(v));
  json_object_set_new(e, "failcnt", json_integer(fail && (v = cg_read_ll(dir, fail)) >= 0 ? v : 0));
  return e;
}

int cgroup_stats(const struct cgroup_layout *l, const char *path, json_t **out, edgecr_error_t *err)
{
  (void) err;
  json_t *o = json_object();
  bool v2;
  cleanup_free char *mem = cg_ctrl_dir(l, "memory", path, &v2);
  if (mem) {
    json_t *m = json_object();
    json_object_set_new(m, "usage", mem_entry(mem, v2, "usage"));
    json_object_set_new(m, "swap", mem_entry(mem, v2, "swap"));
    json_t *st = kv_file(mem, "memory.stat");
    if (st) {
      json_t *cache = json_object_get(st, v2 ? "file" : "cache");
      if (json_is_integer(cache))
        json_object_set_new(m, "cache", json_integer(json_integer_value(cache)));
      json_object_set_new(m, "raw", st);
    }
    json_object_set_new(o, "memory", m);
  }
  json_t *cpu = json_object(), *usage = json_object();
  cleanup_free char *acct = cg_ctrl_dir(l, "cpuacct", path, &v2);
  if (acct && !v2) {
    json_object_set_new(usage, "total", json_integer(cg_read_ll(acct, "cpuacct.usage")));
    json_object_set_new(usage, "user", json_integer(cg_read_ll(acct, "cpuacct.usage_user")));
    json_object_set_new(usage, "kernel", json_integer(cg_read_ll(acct, "cpuacct.usage_sys")));
  }
  cleanup_free char *cpud = cg_ctrl_dir(l, "cpu", path, &v2);
  if (cpud) {
    json_t *st = kv_file(cpud, "cpu.stat");
    json_t *thr = json_object();
    if (st && v2) {
      json_object_set_new(usage, "total", json_integer(json_integer_value(json_object_get(st, "usage_usec")) * 1000));
      json_object_set_new(usage, "user", json_integer(json_integer_value(json_object_get(st, "user_usec")) * 1000));
      json_object_set_new(usage, "kernel", json_integer(json_integer_value(json_object_get(st, "system_usec")) * 1000));
    }
    if (st) {
      json_object_set_new(thr, "periods", json_integer(json_integer_value(json_object_get(st, "nr_periods"))));
      json_object_set_new(thr, "throttled_periods", json_integer(json_integer_value(json_object_get(st, "nr_throttled"))));
      json_object_set_new(thr, "throttled_time",
                          json_integer(v2 ? json_integer_value(json_object_get(st, "throttled_usec")) * 1000
                                         : json_integer_value(json_object_get(st, "throttled_time"))));
      json_decref(st);
    }
    json_object_set_new(cpu, "throttling", thr);
  }
  /* Without a cpu or cpuacct controller, cgroup2's core cpu.stat (present
   * in every cgroup2 group) still has the usage. */
  if (json_object_size(usage) == 0 && l->unified != NULL) {
    cleanup_free char *dir = xasprintf("%s%s", l->unified, path);
    json_t *st = kv_file(dir, "cpu.stat");
    if (st != NULL && json_is_integer(json_object_get(st, "usage_usec"))) {
      json_object_set_new(usage, "total", json_integer(json_integer_value(json_object_get(st, "usage_usec")) * 1000));
      json_object_set_new(usage, "user", json_integer(json_integer_value(json_object_get(st, "user_usec")) * 1000));
      json_object_set_new(usage, "kernel", json_integer(json_integer_value(json_object_get(st, "system_usec")) * 1000));
    }
    json_decref(st);
  }
  json_object_set_new(cpu, "usage", usage);
  json_object_set_new(o, "cpu", cpu);
  cleanup_free char *pids = cg_ctrl_dir(l, "pids", path, &v2);
  if (pids) {
    json_t *p = json_object();
    json_object_set_new(p, "current", json_integer(cg_read_ll(pids, "pids.current")));
    long long lim = cg_read_ll(pids, "pids.max");
    json_object_set_new(p, "limit", json_integer(lim > 0 ? lim : 0));
    json_object_set_new(o, "pids", p);
  }
  json_object_set_new(o, "blkio", json_object());
  json_object_set_new(o, "hugetlb", json_object());
  *out = o;
  return 0;
}

