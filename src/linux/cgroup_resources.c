/* cgroup_resources.c - linux.resources: validation and the control files
 * each field is written to (v1 and v2 spellings), at create and update. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_bpf.h"
#include "cgroup_internal.h"
#include "log.h"
#include "util.h"

/* ---- resources ------------------------------------------------------- */

enum { RES_DEVICES = 1, RES_LIMITS = 2, RES_ALL = 3 };

struct rw {
  const struct cgroup_layout *l;
  const char *path;
  bool dry;
  int parts; /* RES_DEVICES, RES_LIMITS */
  bool is_update; /* `update`: device rules only when it names them */
  const char *file;
  edgecr_error_t *err;
};

static int field_error(struct rw *w, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int field_error(struct rw *w, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_fieldv(w->err, w->file, "linux.resources.", field, fmt, ap);
  va_end(ap);
  return -1;
}

/* Write value to <ctrl hierarchy>/<path>/<file>, choosing the v1 or v2 file
 * name.  In dry mode only the controller's presence is checked. */
static int put(struct rw *w, const char *ctrl, const char *field, const char *v1file, const char *v2file,
               const char *value)
{
  bool is_v2 = false;
  cleanup_free char *dir = cg_ctrl_dir(w->l, ctrl, w->path, &is_v2);
  if (dir == NULL)
    return field_error(w, field, "the `%s` cgroup controller is not available on this host (%s cgroups)", ctrl,
                       cgroup_mode_name(w->l));
  const char *fname = is_v2 ? v2file : v1file;
  if (fname == NULL)
    return field_error(w, field, "not supported on cgroup %s", is_v2 ? "v2" : "v1");
  if (w->dry)
    return 0;
  cleanup_free char *p = xasprintf("%s/%s", dir, fname);
  if (write_file(p, value, strlen(value), w->err) < 0)
    return edgecr_error_wrap(w->err, "linux.resources.%s", field);
  return 0;
}

static int get_num(struct rw *w, json_t *o, const char *key, const char *field, bool allow_negative,
                   long long *out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (json_is_real(v) && !allow_negative && json_real_value(v) >= 9.2e18) {
    *out = -1; /* "unlimited" written as 2^64-1 by some clients */
    return 1;
  }
  if (!json_is_integer(v))
    return field_error(w, field, "must be an integer");
  *out = json_integer_value(v);
  if (!allow_negative && *out < 0)
    return field_error(w, field, "must not be negative");
  return 1;
}

static json_t *sub(struct rw *w, json_t *o, const char *key, int *rc)
{
  json_t *v = json_object_get(o, key);
  *rc = 0;
  if (v == NULL || json_is_null(v))
    return NULL;
  if (!json_is_object(v)) {
    *rc = field_error(w, key, "must be an object");
    return NULL;
  }
  return v;
}

static int put_limit(struct rw *w, bool v2, long long limit)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%lld", limit);
  if (v2 && limit < 0)
    strcpy(buf, "max");
  return put(w, "memory", "memory.limit", "memory.limit_in_bytes", "memory.max", buf);
}

static int put_swap(struct rw *w, const char *dir, bool v2, bool has_limit, long long limit, long long swap)
{
  /* v1 memsw is memory+swap; v2 swap.max is swap alone. */
  char buf[64];
  long long v = swap;
  if (v2 && swap > 0 && !has_limit && dir != NULL && !w->dry)
    limit = cg_read_ll(dir, "memory.max"); /* an update of the swap alone: against the current limit */
  if (v2 && swap > 0 && limit > 0 && swap >= limit)
    v = swap - limit;
  snprintf(buf, sizeof buf, "%lld", v);
  if (v2 && swap < 0)
    strcpy(buf, "max");
  bool has_memsw = dir && (v2 || cg_file_exists(dir, "memory.memsw.limit_in_bytes") || w->dry);
  if (!has_memsw && !v2) {
    log_warning("linux.resources.memory.swap ignored: swap accounting is off on this host");
    return 0;
  }
  return put(w, "memory", "memory.swap", "memory.memsw.limit_in_bytes", "memory.swap.max", buf);
}

/* cgroup v1 keeps memory.limit <= memory.memsw.limit at every instant, so
 * when both change the order matters: raising, memsw must go first (else
 * the new memory limit exceeds the old memsw: EINVAL); lowering, memory
 * first.  memsw first works exactly when the new memsw is not below the
 * current memory limit (and when it does not, memory first does, since
 * the new pair is valid). -1 is unlimited. */
static bool v1_swap_goes_first(const char *dir, long long swap)
{
  if (swap < 0)
    return true;
  long long cur_mem = cg_read_ll(dir, "memory.limit_in_bytes");
  return cur_mem >= 0 && swap >= cur_mem;
}

static int apply_memory(struct rw *w, json_t *res)
{
  int rc;
  json_t *m = sub(w, res, "memory", &rc);
  if (rc < 0 || m == NULL)
    return rc;
  long long limit = 0, swap = 0, resv = 0, swappiness = 0;
  int has_limit, has_swap, has_resv, has_swappiness;
  if ((has_limit = get_num(w, m, "limit", "memory.limit", true, &limit)) < 0 ||
      (has_swap = get_num(w, m, "swap", "memory.swap", true, &swap)) < 0 ||
      (has_resv = get_num(w, m, "reservation", "memory.reservation", true, &resv)) < 0 ||
      (has_swappiness = get_num(w, m, "swappiness", "memory.swappiness", false, &swappiness)) < 0)
    return -1;
  bool dis_oom = false;
  json_t *d = json_object_get(m, "disableOOMKiller");
  if (d != NULL && !json_is_null(d)) {
    if (!json_is_boolean(d))
      return field_error(w, "memory.disableOOMKiller", "must be true or false");
    dis_oom = json_is_true(d);
  }
  if (has_swap && has_limit && swap > 0 && limit > 0 && swap < limit)
    return field_error(w, "memory.swap", "memory+swap limit %lld is below the memory limit %lld", swap, limit);
  if (has_swappiness && swappiness > 100)
    return field_error(w, "memory.swappiness", "must be 0..100");
  bool v2 = false;
  cleanup_free char *dir = cg_ctrl_dir(w->l, "memory", w->path, &v2);
  bool swap_first = has_limit && has_swap && !v2 && dir != NULL && !w->dry && v1_swap_goes_first(dir, swap);
  if (swap_first && put_swap(w, dir, v2, has_limit, limit, swap) < 0)
    return -1;
  if (has_limit && put_limit(w, v2, limit) < 0) {
    long long memsw = dir && !v2 && !has_swap ? cg_read_ll(dir, "memory.memsw.limit_in_bytes") : -2;
    if (edgecr_error_errno(w->err) == EINVAL && memsw >= 0 && limit > memsw)
      return edgecr_error_wrap(w->err, "the memory+swap limit (memory.memsw.limit_in_bytes) is %lld, below the "
                                       "new memory limit: change `memory.swap` with it", memsw);
    return -1;
  }
  if (has_swap && !swap_first && put_swap(w, dir, v2, has_limit, limit, swap) < 0)
    return -1;
  char buf[64];
  if (has_resv) {
    snprintf(buf, sizeof buf, "%lld", resv);
    if (v2 && resv < 0)
      strcpy(buf, "max");
    if (put(w, "memory", "memory.reservation", "memory.soft_limit_in_bytes", "memory.low", buf) < 0)
      return -1;
  }
  if (has_swappiness) {
    snprintf(buf, sizeof buf, "%lld", swappiness);
    if (put(w, "memory", "memory.swappiness", "memory.swappiness", NULL, buf) < 0)
      return -1;
  }
  if (dis_oom && put(w, "memory", "memory.disableOOMKiller", "memory.oom_control", NULL, "1") < 0)
    return -1;
  return 0;
}

static int apply_cpu(struct rw *w, json_t *res)
{
  int rc;
  json_t *c = sub(w, res, "cpu", &rc);
  if (rc < 0 || c == NULL)
    return rc;
  long long shares = 0, quota = 0, period = 0, rt_runtime = 0, rt_period = 0, burst = 0;
  int hs, hq, hp, hrr, hrp, hb;
  if ((hs = get_num(w, c, "shares", "cpu.shares", false, &shares)) < 0 ||
      (hq = get_num(w, c, "quota", "cpu.quota", true, &quota)) < 0 ||
      (hp = get_num(w, c, "period", "cpu.period", false, &period)) < 0 ||
      (hrr = get_num(w, c, "realtimeRuntime", "cpu.realtimeRuntime", true, &rt_runtime)) < 0 ||
      (hrp = get_num(w, c, "realtimePeriod", "cpu.realtimePeriod", false, &rt_period)) < 0 ||
      (hb = get_num(w, c, "burst", "cpu.burst", false, &burst)) < 0)
    return -1;
  const char *cpus = NULL, *mems = NULL;
  json_t *v;
  if ((v = json_object_get(c, "cpus")) && !json_is_null(v)) {
    if (!json_is_string(v))
      return field_error(w, "cpu.cpus", "must be a string like \"0-1\"");
    cpus = json_string_value(v);
  }
  if ((v = json_object_get(c, "mems")) && !json_is_null(v)) {
    if (!json_is_string(v))
      return field_error(w, "cpu.mems", "must be a string like \"0\"");
    mems = json_string_value(v);
  }
  if (hp && (period < 1000 || period > 1000000))
    return field_error(w, "cpu.period", "%lld us is outside the kernel's range 1000..1000000", period);
  if (hq && quota > 0 && quota < 1000)
    return field_error(w, "cpu.quota", "%lld us is below the kernel's minimum of 1000", quota);
  if (hrr && hrp && rt_runtime > rt_period)
    return field_error(w, "cpu.realtimeRuntime", "%lld us exceeds realtimePeriod %lld us", rt_runtime, rt_period);
  char buf[64];
  bool v2 = false;
  free(cg_ctrl_dir(w->l, "cpu", w->path, &v2)); /* which spelling: v1 or v2 */
  if (hs && shares > 0) {
    if (v2)
      snprintf(buf, sizeof buf, "%llu", 1 + ((unsigned long long) (shares < 2 ? 2 : shares) - 2) * 9999 / 262142);
    else
      snprintf(buf, sizeof buf, "%lld", shares);
    if (put(w, "cpu", "cpu.shares", "cpu.shares", "cpu.weight", buf) < 0)
      return -1;
  }
  if (v2 && (hq || hp)) {
    if (hq && quota > 0)
      snprintf(buf, sizeof buf, "%lld %lld", quota, hp ? period : 100000);
    else
      snprintf(buf, sizeof buf, "max %lld", hp ? period : 100000);
    if (put(w, "cpu", "cpu.quota", NULL, "cpu.max", buf) < 0)
      return -1;
  } else {
    if (hp) {
      snprintf(buf, sizeof buf, "%lld", period);
      if (put(w, "cpu", "cpu.period", "cpu.cfs_period_us", NULL, buf) < 0)
        return -1;
    }
    if (hq) {
      snprintf(buf, sizeof buf, "%lld", quota <= 0 ? -1 : quota);
      if (put(w, "cpu", "cpu.quota", "cpu.cfs_quota_us", NULL, buf) < 0)
        return -1;
    }
  }
  if (hb) {
    snprintf(buf, sizeof buf, "%lld", burst);
    if (put(w, "cpu", "cpu.burst", "cpu.cfs_burst_us", "cpu.max.burst", buf) < 0)
      return -1;
  }
  /* realtimeRuntime/Period are applied by the real-time budget code. */
  if ((hrr || hrp) && v2)
    return field_error(w, "cpu.realtimeRuntime", "real-time group budgets need the cgroup v1 cpu controller "
                                                 "(CONFIG_RT_GROUP_SCHED has no cgroup v2 interface)");
  if (cpus && put(w, "cpuset", "cpu.cpus", "cpuset.cpus", "cpuset.cpus", cpus) < 0)
    return -1;
  if (mems && put(w, "cpuset", "cpu.mems", "cpuset.mems", "cpuset.mems", mems) < 0)
    return -1;
  return 0;
}

static int apply_pids(struct rw *w, json_t *res)
{
  int rc;
  json_t *p = sub(w, res, "pids", &rc);
  if (rc < 0 || p == NULL)
    return rc;
  long long limit;
  int h = get_num(w, p, "limit", "pids.limit", true, &limit);
  if (h <= 0)
    return h;
  char buf[32];
  if (limit <= 0)
    strcpy(buf, "max");
  else
    snprintf(buf, sizeof buf, "%lld", limit);
  return put(w, "pids", "pids.limit", "pids.max", "pids.max", buf);
}

static int apply_device_list(struct rw *w, json_t *arr, const char *field, const char *v1file,
                             const char *v2file, bool weight)
{
  if (!json_is_array(arr))
    return field_error(w, field, "must be an array");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *e = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("%s[%zu]", field, i);
    long long maj, min, val;
    if (!json_is_object(e))
      return field_error(w, f, "must be an object");
    if (get_num(w, e, "major", f, false, &maj) <= 0 || get_num(w, e, "minor", f, false, &min) <= 0)
      return edgecr_error_errno(w->err) ? -1 : field_error(w, f, "needs major and minor");
    if (get_num(w, e, weight ? "weight" : "rate", f, false, &val) <= 0)
      return edgecr_error_errno(w->err) ? -1 : field_error(w, f, "needs %s", weight ? "weight" : "rate");
    char buf[96];
    snprintf(buf, sizeof buf, "%lld:%lld %lld", maj, min, val);
    if (put(w, "blkio", f, v1file, v2file, buf) < 0)
      return -1;
  }
  return 0;
}

static int apply_blkio(struct rw *w, json_t *res)
{
  int rc;
  json_t *b = sub(w, res, "blockIO", &rc);
  if (rc < 0 || b == NULL)
    return rc;
  long long weight;
  int h = get_num(w, b, "weight", "blockIO.weight", false, &weight);
  if (h < 0)
    return -1;
  bool v2 = false;
  cleanup_free char *dir = cg_ctrl_dir(w->l, "blkio", w->path, &v2);
  if (h) {
    if (weight < 10 || weight > 1000)
      return field_error(w, "blockIO.weight", "must be 10..1000");
    char buf[32];
    /* v2's io.weight runs 1..10000 where blkio.weight ran 10..1000. */
    snprintf(buf, sizeof buf, "%lld", v2 ? 1 + (weight - 10) * 9999 / 990 : weight);
    /* Kernels with BFQ expose blkio.bfq.weight instead of blkio.weight. */
    const char *f = "blkio.weight";
    if (dir && !v2 && !w->dry && !cg_file_exists(dir, "blkio.weight") && cg_file_exists(dir, "blkio.bfq.weight"))
      f = "blkio.bfq.weight";
    if (dir && !w->dry && !cg_file_exists(dir, v2 ? "io.weight" : f)) {
      log_warning("linux.resources.blockIO.weight ignored: no proportional I/O scheduler on this host");
    } else if (put(w, "blkio", "blockIO.weight", f, "io.weight", buf) < 0) {
      return -1;
    }
  }
  static const struct { const char *key, *v1, *v2; bool weight; } lists[] = {
    {"weightDevice", "blkio.weight_device", "io.weight", true},
    {"throttleReadBpsDevice", "blkio.throttle.read_bps_device", NULL, false},
    {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", NULL, false},
    {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", NULL, false},
    {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", NULL, false},
  };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    json_t *a = json_object_get(b, lists[i].key);
    if (a == NULL || json_is_null(a))
      continue;
    cleanup_free char *f = xasprintf("blockIO.%s", lists[i].key);
    if (apply_device_list(w, a, f, lists[i].v1, lists[i].v2, lists[i].weight) < 0)
      return -1;
  }
  return 0;
}

static int apply_hugetlb(struct rw *w, json_t *res)
{
  json_t *arr = json_object_get(res, "hugepageLimits");
  if (arr == NULL || json_is_null(arr))
    return 0;
  if (!json_is_array(arr))
    return field_error(w, "hugepageLimits", "must be an array");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *e = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("hugepageLimits[%zu]", i);
    const char *size = json_string_value(json_object_get(e, "pageSize"));
    long long limit;
    if (size == NULL)
      return field_error(w, f, "needs pageSize, a string like \"2MB\"");
    if (get_num(w, e, "limit", f, false, &limit) <= 0)
      return edgecr_error_errno(w->err) ? -1 : field_error(w, f, "needs limit");
    cleanup_free char *v1 = xasprintf("hugetlb.%s.limit_in_bytes", size);
    cleanup_free char *v2 = xasprintf("hugetlb.%s.max", size);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", limit);
    if (!w->dry) {
      bool is_v2;
      cleanup_free char *dir = cg_ctrl_dir(w->l, "hugetlb", w->path, &is_v2);
      if (dir && !cg_file_exists(dir, is_v2 ? v2 : v1))
        return field_error(w, f, "page size `%s` is not supported by this host", size);
    }
    if (put(w, "hugetlb", f, v1, v2, buf) < 0)
      return -1;
  }
  return 0;
}

/* Devices every container may use, whatever its rules (the spec's default
 * devices plus the pty multiplexer and its slaves). */
static const struct dev_rule default_device_rules[] = {
  {true, 'c', 1, 3, 7}, {true, 'c', 1, 5, 7}, {true, 'c', 1, 7, 7}, {true, 'c', 1, 8, 7}, {true, 'c', 1, 9, 7},
  {true, 'c', 5, 0, 7}, {true, 'c', 5, 1, 7}, {true, 'c', 5, 2, 7}, {true, 'c', 136, -1, 7},
};

static int parse_device_rule(struct rw *w, json_t *e, const char *f, struct dev_rule *r)
{
  if (!json_is_object(e))
    return field_error(w, f, "must be an object");
  json_t *allow = json_object_get(e, "allow");
  if (!json_is_boolean(allow))
    return field_error(w, f, "needs `allow`: true or false");
  const char *type = json_string_value(json_object_get(e, "type"));
  if (type == NULL)
    type = "a";
  if (strlen(type) != 1 || strchr("acb", type[0]) == NULL)
    return field_error(w, f, "type must be a, c or b");
  const char *access = json_string_value(json_object_get(e, "access"));
  if (access == NULL || *access == '\0')
    access = "rwm";
  if (strspn(access, "rwm") != strlen(access))
    return field_error(w, f, "access must be made of r, w, m");
  long long maj = -1, min = -1;
  if (get_num(w, e, "major", f, true, &maj) < 0 || get_num(w, e, "minor", f, true, &min) < 0)
    return -1;
  r->allow = json_is_true(allow);
  r->type = type[0];
  r->major = maj < 0 ? -1 : maj;
  r->minor = min < 0 ? -1 : min;
  r->access = (strchr(access, 'r') ? DEV_ACC_READ : 0) | (strchr(access, 'w') ? DEV_ACC_WRITE : 0) |
              (strchr(access, 'm') ? DEV_ACC_MKNOD : 0);
  return 0;
}

static void rule_text(const struct dev_rule *r, char *buf, size_t len)
{
  char ma[24], mi[24], acc[4];
  size_t k = 0;
  if (r->major < 0) strcpy(ma, "*"); else snprintf(ma, sizeof ma, "%lld", r->major);
  if (r->minor < 0) strcpy(mi, "*"); else snprintf(mi, sizeof mi, "%lld", r->minor);
  if (r->access & DEV_ACC_READ) acc[k++] = 'r';
  if (r->access & DEV_ACC_WRITE) acc[k++] = 'w';
  if (r->access & DEV_ACC_MKNOD) acc[k++] = 'm';
  acc[k] = '\0';
  if (r->type == 'a' && r->major < 0 && r->minor < 0)
    snprintf(buf, len, "a");
  else
    snprintf(buf, len, "%c %s:%s %s", r->type, ma, mi, acc);
}

/* Device rules: linux.resources.devices, then the default devices.  On v1
 * they are written to devices.allow/deny; on v2 compiled to eBPF. */
static int apply_devices(struct rw *w, json_t *res)
{
  json_t *arr = res ? json_object_get(res, "devices") : NULL;
  if (arr != NULL && json_is_null(arr))
    arr = NULL;
  if (w->is_update && arr == NULL)
    return 0;
  if (arr != NULL && !json_is_array(arr))
    return field_error(w, "devices", "must be an array");
  size_t n_user = json_array_size(arr);
  size_t n_def = sizeof default_device_rules / sizeof default_device_rules[0];
  cleanup_free struct dev_rule *rules = xmalloc0((n_user + n_def) * sizeof *rules);
  for (size_t i = 0; i < n_user; i++) {
    cleanup_free char *f = xasprintf("devices[%zu]", i);
    if (parse_device_rule(w, json_array_get(arr, i), f, &rules[i]) < 0)
      return -1;
  }
  memcpy(rules + n_user, default_device_rules, sizeof default_device_rules);
  size_t n = n_user + n_def;
  if (w->dry)
    return 0;
  if (w->l->v2_only) {
    cleanup_free char *dir = xasprintf("%s%s", w->l->unified, w->path);
    if (devices_bpf_apply(dir, rules, n, w->err) < 0)
      return -1;
    return 0;
  }
  if (cg_v1_mount(w->l, "devices") == NULL)
    return n_user ? field_error(w, "devices", "no devices cgroup controller on this host") : 0;
  for (size_t i = 0; i < n; i++) {
    char rule[96];
    rule_text(&rules[i], rule, sizeof rule);
    cleanup_free char *f = i < n_user ? xasprintf("devices[%zu]", i) : xstrdup("devices (defaults)");
    if (put(w, "devices", f, rules[i].allow ? "devices.allow" : "devices.deny", NULL, rule) < 0)
      return -1;
  }
  return 0;
}

static int apply_network(struct rw *w, json_t *res)
{
  int rc;
  json_t *n = sub(w, res, "network", &rc);
  if (rc < 0 || n == NULL)
    return rc;
  long long classid;
  int h = get_num(w, n, "classID", "network.classID", false, &classid);
  if (h < 0)
    return -1;
  if (h) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", classid);
    if (put(w, "net_cls", "network.classID", "net_cls.classid", NULL, buf) < 0)
      return -1;
  }
  json_t *prios = json_object_get(n, "priorities");
  for (size_t i = 0; json_is_array(prios) && i < json_array_size(prios); i++) {
    json_t *e = json_array_get(prios, i);
    const char *name = json_string_value(json_object_get(e, "name"));
    long long prio;
    cleanup_free char *f = xasprintf("network.priorities[%zu]", i);
    if (name == NULL || get_num(w, e, "priority", f, false, &prio) <= 0)
      return edgecr_error_errno(w->err) ? -1 : field_error(w, f, "needs name and priority");
    cleanup_free char *buf = xasprintf("%s %lld", name, prio);
    if (put(w, "net_prio", f, "net_prio.ifpriomap", NULL, buf) < 0)
      return -1;
  }
  return 0;
}

static int apply_unified(struct rw *w, json_t *res)
{
  json_t *u = json_object_get(res, "unified");
  if (u == NULL || json_is_null(u))
    return 0;
  if (!json_is_object(u))
    return field_error(w, "unified", "must be an object of file: value strings");
  if (w->l->unified == NULL)
    return field_error(w, "unified", "needs a cgroup v2 hierarchy, and this host has none");
  const char *k;
  json_t *v;
  json_object_foreach(u, k, v) {
    cleanup_free char *f = xasprintf("unified.%s", k);
    if (!json_is_string(v))
      return field_error(w, f, "must be a string");
    if (strchr(k, '/') || k[0] == '.')
      return field_error(w, f, "not a cgroup file name");
    if (w->dry)
      continue;
    cleanup_free char *p = xasprintf("%s%s/%s", w->l->unified, w->path, k);
    if (write_file(p, json_string_value(v), strlen(json_string_value(v)), w->err) < 0)
      return edgecr_error_wrap(w->err, "linux.resources.%s", f);
  }
  return 0;
}

static int apply_all(struct rw *w, json_t *res)
{
  if (res != NULL && !json_is_object(res))
    return edgecr_error_make(w->err, EINVAL, "%s: `linux.resources`: must be an object", w->file);
  if ((w->parts & RES_DEVICES) && apply_devices(w, res) < 0)
    return -1;
  if (res == NULL || !(w->parts & RES_LIMITS))
    return 0;
  if (apply_memory(w, res) < 0 || apply_cpu(w, res) < 0 || apply_pids(w, res) < 0 ||
      apply_blkio(w, res) < 0 || apply_hugetlb(w, res) < 0 || apply_network(w, res) < 0 ||
      apply_unified(w, res) < 0)
    return -1;
  return 0;
}

int cgroup_resources_validate(const struct cgroup_layout *l, json_t *resources, const char *file,
                              edgecr_error_t *err)
{
  struct rw w = {.l = l, .path = "/", .dry = true, .parts = RES_ALL, .file = file, .err = err};
  return apply_all(&w, resources);
}


int cg_apply_limits(const struct cgroup_layout *l, const char *path, json_t *resources, edgecr_error_t *err)
{
  struct rw w = {.l = l, .path = path, .dry = false, .parts = RES_LIMITS, .file = "config.json", .err = err};
  return apply_all(&w, resources);
}

int cgroup_apply_devices(const struct cgroup_layout *l, const char *path, json_t *resources, edgecr_error_t *err)
{
  struct rw w = {.l = l, .path = path, .dry = false, .parts = RES_DEVICES, .file = "config.json", .err = err};
  return apply_all(&w, resources);
}

int cgroup_update(const struct cgroup_layout *l, const char *path, json_t *resources, edgecr_error_t *err)
{
  struct rw w = {.l = l, .path = path, .dry = true, .parts = RES_ALL, .is_update = true, .file = "update",
                 .err = err};
  if (apply_all(&w, resources) < 0)
    return -1;
  w.dry = false;
  if (apply_all(&w, resources) < 0)
    return -1;
  json_t *cpu = json_object_get(resources, "cpu");
  json_t *r = json_object_get(cpu, "realtimeRuntime"), *p = json_object_get(cpu, "realtimePeriod");
  const char *mount = cg_v1_mount(l, "cpu");
  if ((json_is_integer(r) || json_is_integer(p)) && mount != NULL) {
    cleanup_free char *dir = xasprintf("%s%s", mount, path);
    if (json_is_integer(p) && cg_write_ll(dir, "cpu.rt_period_us", json_integer_value(p), err) < 0)
      return edgecr_error_wrap(err, "update real-time period");
    if (json_is_integer(r) && cg_write_ll(dir, "cpu.rt_runtime_us", json_integer_value(r), err) < 0)
      return edgecr_error_wrap(err, "update real-time runtime (the parent group may lack bandwidth)");
  }
  return 0;
}

