/* cgroup.c - discovery of the cgroup layout, creation/removal of a
 * container's cgroups, and the resource files (v1 and v2 spellings). */
#include "cgroup.h"

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
#include "log.h"
#include "util.h"

/* ---- layout ---------------------------------------------------------- */

static struct cgroup_layout *cached_layout;

static bool file_exists(const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* Control files are small: read at most a page (a bounded read also keeps
 * a wrong path, say to a device, from reading forever). */
static char *read_trimmed(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char *s = xmalloc0(4097);
  ssize_t n = read_full(fd, s, 4096);
  if (n < 0) {
    free(s);
    return NULL;
  }
  s[n] = '\0';
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
  return s;
}

int cgroup_layout_get(struct cgroup_layout **out, edgecr_error_t *err)
{
  if (cached_layout != NULL) {
    *out = cached_layout;
    return 0;
  }
  const char *root = getenv("EDGECR_CGROUP_ROOT");
  if (root == NULL || *root == '\0')
    root = "/sys/fs/cgroup";
  struct cgroup_layout *l = xmalloc0(sizeof *l);
  l->root = xstrdup(root);
  if (file_exists(root, "cgroup.controllers")) {
    l->v2_only = true;
    l->unified = xstrdup(root);
  } else {
    DIR *d = opendir(root);
    if (d == NULL) {
      free(l->root);
      free(l);
      return edgecr_error_make(err, errno, "cgroups: open `%s`", root);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && l->n_v1 < CGROUP_MAX_HIERARCHIES) {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *dir = xasprintf("%s/%s", root, de->d_name);
      struct stat st;
      if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        continue; /* symlinks such as cpu -> cpu,cpuacct name a hierarchy twice */
      if (strcmp(de->d_name, "unified") == 0 && file_exists(dir, "cgroup.controllers")) {
        l->unified = xstrdup(dir);
        continue;
      }
      if (!file_exists(dir, "cgroup.procs"))
        continue;
      l->v1_names[l->n_v1] = xstrdup(strcmp(de->d_name, "systemd") == 0 ? "name=systemd" : de->d_name);
      l->v1_mounts[l->n_v1] = xstrdup(dir);
      l->n_v1++;
    }
    closedir(d);
    if (l->n_v1 == 0 && l->unified == NULL) {
      free(l->root);
      free(l);
      return edgecr_error_make(err, ENOENT, "cgroups: no cgroup hierarchy found under `%s`", root);
    }
  }
  if (l->unified != NULL) {
    cleanup_free char *p = xasprintf("%s/cgroup.controllers", l->unified);
    l->v2_controllers = read_trimmed(p);
    if (l->v2_controllers == NULL)
      l->v2_controllers = xstrdup("");
  }
  cached_layout = l;
  *out = l;
  return 0;
}

const char *cgroup_mode_name(const struct cgroup_layout *l)
{
  if (l->v2_only)
    return "v2";
  return l->unified ? "hybrid" : "v1";
}

/* Is `ctrl` in a list of names separated by commas (v1 mount names) or
 * spaces (cgroup.controllers)? */
static bool name_has(const char *names, const char *ctrl)
{
  size_t n = strlen(ctrl);
  for (const char *p = names; *p;) {
    const char *e = strpbrk(p, ", ");
    size_t len = e ? (size_t) (e - p) : strlen(p);
    if (len == n && strncmp(p, ctrl, n) == 0)
      return true;
    if (!e)
      break;
    p = e + 1;
  }
  return false;
}

static const char *v1_mount_of(const struct cgroup_layout *l, const char *ctrl)
{
  for (size_t i = 0; i < l->n_v1; i++)
    if (name_has(l->v1_names[i], ctrl))
      return l->v1_mounts[i];
  return NULL;
}

static bool v2_has(const struct cgroup_layout *l, const char *ctrl)
{
  if (l->unified == NULL)
    return false;
  if (l->v2_only && (strcmp(ctrl, "freezer") == 0 || strcmp(ctrl, "devices") == 0))
    return true; /* built into cgroup2 core (cgroup.freeze) and BPF */
  return name_has(l->v2_controllers, ctrl);
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
                        edgecr_error_t *err)
{
  if (systemd || (cgroups_path && strchr(cgroups_path, ':') && cgroups_path[0] != '/')) {
    if (access("/run/systemd/system", F_OK) < 0)
      return edgecr_error_make(err, ENOTSUP,
                               "systemd cgroup driver requested (--systemd-cgroup or a `slice:prefix:name` "
                               "cgroupsPath) but systemd is not running on this host; use a path like `/edgecr/%s`",
                               id);
    return edgecr_error_make(err, ENOTSUP, "the systemd cgroup driver is not supported by edgecr yet");
  }
  if (cgroups_path == NULL || *cgroups_path == '\0')
    *out = xasprintf("/edgecr/%s", id);
  else if (cgroups_path[0] == '/')
    *out = xstrdup(cgroups_path);
  else
    *out = xasprintf("/edgecr/%s", cgroups_path);
  if (strstr(*out, "/../") || str_has_suffix(*out, "/..")) {
    free(*out);
    *out = NULL;
    return edgecr_error_make(err, EINVAL, "linux.cgroupsPath `%s` must not contain `..`", cgroups_path);
  }
  return 0;
}

/* Directory of `path` in the hierarchy holding `ctrl`; NULL if none. */
static char *ctrl_dir(const struct cgroup_layout *l, const char *ctrl, const char *path, bool *is_v2)
{
  const char *m = l->v2_only ? NULL : v1_mount_of(l, ctrl);
  if (m != NULL) {
    *is_v2 = false;
    return xasprintf("%s%s", m, path);
  }
  /* cgroup v2 calls the block I/O controller "io". */
  if (v2_has(l, strcmp(ctrl, "blkio") == 0 ? "io" : ctrl)) {
    *is_v2 = true;
    return xasprintf("%s%s", l->unified, path);
  }
  return NULL;
}

/* ---- resources ------------------------------------------------------- */

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
  cleanup_free char *dir = ctrl_dir(w->l, ctrl, w->path, &is_v2);
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
  char buf[64];
  bool v2 = false;
  cleanup_free char *dir = ctrl_dir(w->l, "memory", w->path, &v2);
  if (has_limit) {
    snprintf(buf, sizeof buf, "%lld", limit);
    if (v2 && limit < 0)
      strcpy(buf, "max");
    if (put(w, "memory", "memory.limit", "memory.limit_in_bytes", "memory.max", buf) < 0)
      return -1;
  }
  if (has_swap) {
    /* v1 memsw is memory+swap; v2 swap.max is swap alone. */
    long long v = swap;
    if (v2 && swap > 0 && has_limit && limit > 0)
      v = swap - limit;
    snprintf(buf, sizeof buf, "%lld", v);
    if (v2 && swap < 0)
      strcpy(buf, "max");
    bool has_memsw = dir && (v2 || file_exists(dir, "memory.memsw.limit_in_bytes") || w->dry);
    if (!has_memsw && !v2) {
      log_warning("linux.resources.memory.swap ignored: swap accounting is off on this host");
    } else if (put(w, "memory", "memory.swap", "memory.memsw.limit_in_bytes", "memory.swap.max", buf) < 0) {
      return -1;
    }
  }
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
  free(ctrl_dir(w->l, "cpu", w->path, &v2)); /* which spelling: v1 or v2 */
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
  cleanup_free char *dir = ctrl_dir(w->l, "blkio", w->path, &v2);
  if (h) {
    if (weight < 10 || weight > 1000)
      return field_error(w, "blockIO.weight", "must be 10..1000");
    char buf[32];
    /* v2's io.weight runs 1..10000 where blkio.weight ran 10..1000. */
    snprintf(buf, sizeof buf, "%lld", v2 ? 1 + (weight - 10) * 9999 / 990 : weight);
    /* Kernels with BFQ expose blkio.bfq.weight instead of blkio.weight. */
    const char *f = "blkio.weight";
    if (dir && !v2 && !w->dry && !file_exists(dir, "blkio.weight") && file_exists(dir, "blkio.bfq.weight"))
      f = "blkio.bfq.weight";
    if (dir && !w->dry && !file_exists(dir, v2 ? "io.weight" : f)) {
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
      cleanup_free char *dir = ctrl_dir(w->l, "hugetlb", w->path, &is_v2);
      if (dir && !file_exists(dir, is_v2 ? v2 : v1))
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
  if (v1_mount_of(w->l, "devices") == NULL)
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

enum { RES_DEVICES = 1, RES_LIMITS = 2, RES_ALL = 3 };

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

/* ---- hierarchy directories ------------------------------------------- */

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks, so
 * copy the parent's values down each level we create. */
static int cpuset_inherit(const char *mount, const char *path, edgecr_error_t *err)
{
  cleanup_free char *cur = xstrdup(mount);
  cleanup_free char *rest = xstrdup(path);
  char *save = NULL;
  for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    char *child = xasprintf("%s/%s", cur, tok);
    for (int i = 0; i < 2; i++) {
      const char *f = i == 0 ? "cpuset.cpus" : "cpuset.mems";
      cleanup_free char *cp = xasprintf("%s/%s", child, f);
      cleanup_free char *mine = read_trimmed(cp);
      if (mine != NULL && *mine != '\0')
        continue;
      cleanup_free char *pp = xasprintf("%s/%s", cur, f);
      cleanup_free char *parent = read_trimmed(pp);
      if (parent != NULL && write_file(cp, parent, strlen(parent), err) < 0) {
        free(child);
        return -1;
      }
    }
    free(cur);
    cur = child;
  }
  return 0;
}

/* Enable controllers down a v2 path so the leaf can use them. */
static void v2_enable_controllers(const struct cgroup_layout *l, const char *path)
{
  if (l->v2_controllers == NULL || *l->v2_controllers == '\0')
    return;
  cleanup_free char *ctrls = xstrdup(l->v2_controllers);
  cleanup_free char *enable = xstrdup("");
  char *save = NULL;
  for (char *t = strtok_r(ctrls, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    /* On hybrid hosts a controller also bound to v1 cannot be enabled. */
    if (!l->v2_only && v1_mount_of(l, t) != NULL)
      continue;
    char *n = xasprintf("%s%s+%s", enable, *enable ? " " : "", t);
    free(enable);
    enable = n;
  }
  if (*enable == '\0')
    return;
  cleanup_free char *cur = xstrdup(l->unified);
  cleanup_free char *rest = xstrdup(path);
  char *save2 = NULL;
  char *tok = strtok_r(rest, "/", &save2);
  while (tok != NULL) {
    char *next = strtok_r(NULL, "/", &save2);
    cleanup_free char *sc = xasprintf("%s/cgroup.subtree_control", cur);
    /* Each controller separately: one refused must not block the others. */
    cleanup_free char *list = xstrdup(enable);
    char *s3 = NULL;
    for (char *c = strtok_r(list, " ", &s3); c; c = strtok_r(NULL, " ", &s3))
      (void) write_file(sc, c, strlen(c), NULL);
    char *child = xasprintf("%s/%s", cur, tok);
    free(cur);
    cur = child;
    tok = next;
  }
}

static int for_each_dir(const struct cgroup_layout *l, const char *path,
                        int (*fn)(const char *mount, const char *dir, bool v2, void *ud), void *ud)
{
  int ret = 0;
  for (size_t i = 0; i < l->n_v1; i++) {
    cleanup_free char *d = xasprintf("%s%s", l->v1_mounts[i], path);
    if (fn(l->v1_mounts[i], d, false, ud) < 0)
      ret = -1;
  }
  if (l->unified != NULL) {
    cleanup_free char *d = xasprintf("%s%s", l->unified, path);
    if (fn(l->unified, d, true, ud) < 0)
      ret = -1;
  }
  return ret;
}

struct mk_ctx {
  const char *path;
  pid_t pid;
  edgecr_error_t *err;
  bool unified_optional; /* hybrid: the v2 tree is best effort */
};

static int mk_one(const char *mount, const char *dir, bool v2, void *ud)
{
  struct mk_ctx *c = ud;
  if (v2 && c->unified_optional) {
    edgecr_error_t ignore = NULL;
    if (mkdir_p(dir, 0755, &ignore) < 0) {
      edgecr_error_release(&ignore);
      return 0;
    }
    return 0;
  }
  if (mkdir_p(dir, 0755, c->err) < 0)
    return edgecr_error_wrap(c->err, "cgroup");
  if (!v2 && str_has_suffix(mount, "/cpuset"))
    return cpuset_inherit(mount, c->path, c->err);
  (void) mount;
  return 0;
}

static int enter_one(const char *mount, const char *dir, bool v2, void *ud)
{
  struct mk_ctx *c = ud;
  (void) mount;
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int) c->pid);
  cleanup_free char *p = xasprintf("%s/cgroup.procs", dir);
  if (v2 && c->unified_optional) {
    (void) write_file(p, buf, strlen(buf), NULL);
    return 0;
  }
  if (write_file(p, buf, strlen(buf), c->err) < 0)
    return edgecr_error_wrap(c->err, "cgroup: add process %d", (int) c->pid);
  return 0;
}

int cgroup_enter(const struct cgroup_layout *l, const char *path, pid_t pid, edgecr_error_t *err)
{
  struct mk_ctx c = {.path = path, .pid = pid, .err = err, .unified_optional = !l->v2_only};
  return for_each_dir(l, path, enter_one, &c);
}

/* ---- real-time budgets (CONFIG_RT_GROUP_SCHED, v1 cpu controller) ----- */

static long long read_ll(const char *dir, const char *f)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, f);
  cleanup_free char *s = read_trimmed(p);
  long long v;
  if (s == NULL || parse_int64(s, &v) < 0)
    return -2;
  return v;
}

static int write_ll(const char *dir, const char *f, long long v, edgecr_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  cleanup_free char *p = xasprintf("%s/%s", dir, f);
  return write_file(p, buf, strlen(buf), err);
}

/* The kernel releases a removed group's real-time bandwidth asynchronously
 * (after an RCU grace period and a work item), so for a moment after a
 * delete, raising or lowering a budget can be refused (EINVAL/EBUSY) though
 * the numbers add up.  Retry such writes for up to a second. */
static int write_rt(const char *dir, const char *f, long long v, edgecr_error_t *err)
{
  for (int i = 0;; i++) {
    edgecr_error_t e = NULL;
    if (write_ll(dir, f, v, &e) == 0)
      return 0;
    int code = edgecr_error_errno(&e);
    if ((code != EINVAL && code != EBUSY) || i == 50) {
      if (err)
        *err = e;
      else
        edgecr_error_release(&e);
      return -1;
    }
    edgecr_error_release(&e);
    usleep(20000);
  }
}

/* Sum of the children's real-time runtimes of a cpu cgroup directory,
 * each scaled to the parent's period (rounded up, as the kernel checks
 * ratios). */
static long long rt_children_sum(const char *dir, long long period)
{
  long long sum = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)
      continue;
    cleanup_free char *child = xasprintf("%s/%s", dir, de->d_name);
    long long r = read_ll(child, "cpu.rt_runtime_us"), p = read_ll(child, "cpu.rt_period_us");
    if (r > 0 && p > 0)
      sum += (r * period + p - 1) / p;
  }
  closedir(d);
  return sum;
}

/* Give the leaf `runtime` us every `period` us.  Each ancestor we pass needs
 * at least as much bandwidth as it hands down, so it is raised first (top
 * down); what was added is recorded in `grants` for cgroup_destroy. */
static int rt_budget_apply(const struct cgroup_layout *l, const char *path, long long runtime, long long period,
                           json_t *grants, edgecr_error_t *err)
{
  const char *mount = l->v2_only ? NULL : v1_mount_of(l, "cpu");
  if (mount == NULL)
    return 0; /* no v1 cpu controller (pure v2): there are no group budgets to give */
  if (read_ll(mount, "cpu.rt_runtime_us") == -2)
    return 0; /* kernel without CONFIG_RT_GROUP_SCHED: SCHED_FIFO needs no group budget */
  long long root_period = read_ll(mount, "cpu.rt_period_us");
  cleanup_free char *rest = xstrdup(path);
  cleanup_free char *cur = xstrdup(mount);
  char *save = NULL;
  char *tok = strtok_r(rest, "/", &save);
  while (tok != NULL) {
    char *next = strtok_r(NULL, "/", &save);
    char *child = xasprintf("%s/%s", cur, tok);
    free(cur);
    cur = child;
    if (next == NULL)
      break;
    /* ancestor: it must hold what its children already have plus the
     * leaf's bandwidth, scaled to its own period (computed from the tree,
     * so bandwidth leaked by an earlier crash does not accumulate) */
    long long ap = read_ll(cur, "cpu.rt_period_us");
    long long ar = read_ll(cur, "cpu.rt_runtime_us");
    if (ap <= 0)
      ap = root_period;
    long long add = (runtime * ap + period - 1) / period;
    long long need = rt_children_sum(cur, ap) + add;
    if (need > ar && write_rt(cur, "cpu.rt_runtime_us", need, err) < 0)
      return edgecr_error_wrap(err, "real-time budget: cannot raise `%s` from %lld to %lld us per %lld us "
                                    "(not enough real-time bandwidth left in its parent; see cpu.rt_runtime_us)",
                               cur + strlen(mount), ar, need, ap);
    json_t *g = json_object();
    json_object_set_new(g, "dir", json_string(cur));
    json_object_set_new(g, "add", json_integer(add));
    json_array_append_new(grants, g);
    tok = next;
  }
  if (write_ll(cur, "cpu.rt_period_us", period, err) < 0)
    return edgecr_error_wrap(err, "real-time budget: set period %lld us", period);
  if (write_rt(cur, "cpu.rt_runtime_us", runtime, err) < 0)
    return edgecr_error_wrap(err, "real-time budget: cannot give %lld us per %lld us to the container "
                                  "(the host's real-time bandwidth is exhausted: every group's runtime/period "
                                  "counts against kernel.sched_rt_runtime_us/sched_rt_period_us)", runtime, period);
  return 0;
}

/* Give bandwidth back: each ancestor edgecr raised is set to exactly what
 * its remaining children hold (bottom-up, the reverse of rt_budget_apply).
 * Recomputing instead of subtracting also heals what a crash leaked. */
static void rt_budget_release(json_t *grants)
{
  for (size_t i = json_array_size(grants); i-- > 0;) {
    json_t *g = json_array_get(grants, i);
    const char *dir = json_string_value(json_object_get(g, "dir"));
    if (dir == NULL || access(dir, F_OK) < 0)
      continue;
    long long ap = read_ll(dir, "cpu.rt_period_us");
    long long cur = read_ll(dir, "cpu.rt_runtime_us");
    long long need = rt_children_sum(dir, ap > 0 ? ap : 1000000);
    if (cur > need && write_rt(dir, "cpu.rt_runtime_us", need, NULL) < 0)
      log_warning("real-time budget: could not lower `%s` to %lld us", dir, need);
  }
}

static bool wants_rt_budget(json_t *resources, const struct oci_process *proc, long long *runtime,
                            long long *period)
{
  json_t *cpu = json_object_get(resources, "cpu");
  json_t *r = json_object_get(cpu, "realtimeRuntime");
  json_t *p = json_object_get(cpu, "realtimePeriod");
  *period = json_is_integer(p) ? json_integer_value(p) : EDGECR_RT_DEFAULT_PERIOD_US;
  if (json_is_integer(r)) {
    *runtime = json_integer_value(r);
    return *runtime > 0;
  }
  if (proc != NULL && proc->scheduler.present &&
      (proc->scheduler.policy == 1 /* SCHED_FIFO */ || proc->scheduler.policy == 2 /* SCHED_RR */)) {
    *runtime = EDGECR_RT_DEFAULT_RUNTIME_US * *period / EDGECR_RT_DEFAULT_PERIOD_US;
    return true;
  }
  return false;
}

int cgroup_create(const struct cgroup_layout *l, const char *path, json_t *resources,
                  const struct oci_process *proc, pid_t pid, json_t **rt_grants, edgecr_error_t *err)
{
  struct mk_ctx c = {.path = path, .pid = pid, .err = err, .unified_optional = !l->v2_only};
  *rt_grants = json_array();
  if (for_each_dir(l, path, mk_one, &c) < 0)
    return -1;
  if (l->unified != NULL)
    v2_enable_controllers(l, path);
  /* Device rules come later (cgroup_apply_devices): the init must first
   * create the container's device nodes, which a deny-all rule forbids. */
  struct rw w = {.l = l, .path = path, .dry = false, .parts = RES_LIMITS, .file = "config.json", .err = err};
  if (apply_all(&w, resources) < 0)
    return -1;
  long long runtime, period;
  if (wants_rt_budget(resources, proc, &runtime, &period) &&
      rt_budget_apply(l, path, runtime, period, *rt_grants, err) < 0)
    return -1;
  if (pid > 0 && cgroup_enter(l, path, pid, err) < 0)
    return -1;
  return 0;
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
  const char *mount = v1_mount_of(l, "cpu");
  if ((json_is_integer(r) || json_is_integer(p)) && mount != NULL) {
    cleanup_free char *dir = xasprintf("%s%s", mount, path);
    if (json_is_integer(p) && write_ll(dir, "cpu.rt_period_us", json_integer_value(p), err) < 0)
      return edgecr_error_wrap(err, "update real-time period");
    if (json_is_integer(r) && write_ll(dir, "cpu.rt_runtime_us", json_integer_value(r), err) < 0)
      return edgecr_error_wrap(err, "update real-time runtime (the parent group may lack bandwidth)");
  }
  return 0;
}

/* ---- freezer, pids, signals ----------------------------------------- */

static char *freezer_dir(const struct cgroup_layout *l, const char *path, bool *v2)
{
  if (!l->v2_only) {
    const char *m = v1_mount_of(l, "freezer");
    if (m != NULL) {
      *v2 = false;
      return xasprintf("%s%s", m, path);
    }
  }
  if (l->unified != NULL) {
    *v2 = true;
    return xasprintf("%s%s", l->unified, path);
  }
  return NULL;
}

int cgroup_freeze(const struct cgroup_layout *l, const char *path, bool freeze, edgecr_error_t *err)
{
  bool v2;
  cleanup_free char *dir = freezer_dir(l, path, &v2);
  if (dir == NULL)
    return edgecr_error_make(err, ENOTSUP, "no freezer cgroup on this host");
  cleanup_free char *f = xasprintf("%s/%s", dir, v2 ? "cgroup.freeze" : "freezer.state");
  const char *val = v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
  if (write_file(f, val, strlen(val), err) < 0)
    return -1;
  /* v1 freezing is asynchronous: wait until the state settles. */
  for (int i = 0; i < 2000; i++) {
    if (cgroup_is_frozen(l, path) == freeze)
      return 0;
    if (!v2 && freeze && i % 50 == 49)
      (void) write_file(f, val, strlen(val), NULL);
    usleep(1000);
  }
  return edgecr_error_make(err, ETIMEDOUT, "cgroup `%s` did not %s in time", path, freeze ? "freeze" : "thaw");
}

bool cgroup_is_frozen(const struct cgroup_layout *l, const char *path)
{
  bool v2;
  cleanup_free char *dir = freezer_dir(l, path, &v2);
  if (dir == NULL)
    return false;
  if (v2) {
    cleanup_free char *f = xasprintf("%s/cgroup.events", dir);
    cleanup_free char *s = read_trimmed(f);
    return s != NULL && strstr(s, "frozen 1") != NULL;
  }
  cleanup_free char *f = xasprintf("%s/freezer.state", dir);
  cleanup_free char *s = read_trimmed(f);
  return s != NULL && strcmp(s, "FROZEN") == 0;
}

static char *procs_dir(const struct cgroup_layout *l, const char *path)
{
  if (!l->v2_only) {
    static const char *prefer[] = {"pids", "memory", "freezer", "cpu", "devices"};
    for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
      const char *m = v1_mount_of(l, prefer[i]);
      if (m != NULL)
        return xasprintf("%s%s", m, path);
    }
    if (l->n_v1 > 0)
      return xasprintf("%s%s", l->v1_mounts[0], path);
  }
  return l->unified ? xasprintf("%s%s", l->unified, path) : NULL;
}

static int read_pids_file(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
  cleanup_free char *f = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *s = NULL;
  if (read_all_file(f, &s, NULL) < 0)
    return errno == ENOENT ? 0 : -1;
  for (char *p = s; *p;) {
    char *e;
    long v = strtol(p, &e, 10);
    if (e == p)
      break;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 16;
      *pids = xrealloc(*pids, *cap * sizeof **pids);
    }
    (*pids)[(*n)++] = (pid_t) v;
    p = e;
    while (*p == '\n')
      p++;
  }
  return 0;
}

int cgroup_pids(const struct cgroup_layout *l, const char *path, pid_t **pids, size_t *n, edgecr_error_t *err)
{
  cleanup_free char *dir = procs_dir(l, path);
  *pids = NULL;
  *n = 0;
  size_t cap = 0;
  if (dir == NULL)
    return edgecr_error_make(err, ENOENT, "no cgroup hierarchy to list processes from");
  /* Include nested cgroups (containers may create sub-groups). */
  if (read_pids_file(dir, pids, n, &cap) < 0)
    return edgecr_error_make(err, errno, "read processes of cgroup `%s`", path);
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      cleanup_free char *subpath = xasprintf("%s/%s", path, de->d_name);
      pid_t *more = NULL;
      size_t m = 0;
      if (cgroup_pids(l, subpath, &more, &m, NULL) == 0) {
        for (size_t i = 0; i < m; i++) {
          if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *pids = xrealloc(*pids, cap * sizeof **pids);
          }
          (*pids)[(*n)++] = more[i];
        }
      }
      free(more);
    }
    closedir(d);
  }
  return 0;
}

int cgroup_signal_all(const struct cgroup_layout *l, const char *path, int sig, edgecr_error_t *err)
{
  /* Freeze first so no process can fork away from the signal. */
  bool frozen = cgroup_freeze(l, path, true, NULL) == 0;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = cgroup_pids(l, path, &pids, &n, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      ret = edgecr_error_make(err, errno, "kill %d", (int) pids[i]);
  free(pids);
  if (frozen)
    (void) cgroup_freeze(l, path, false, NULL);
  return ret;
}

/* rmdir the leaf and then the empty parents we may have created (up to the
 * first directory that still has children or is the hierarchy root). */
static int rm_one(const char *mount, const char *dir, bool v2, void *ud)
{
  (void) v2;
  edgecr_error_t *err = ud;
  for (int i = 0; i < 200; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      break;
    if (errno != EBUSY)
      return edgecr_error_make(err, errno, "remove cgroup `%s`", dir);
    usleep(2000); /* processes still exiting */
    if (i == 199)
      return edgecr_error_make(err, EBUSY, "remove cgroup `%s`: still busy", dir);
  }
  /* Remove now-empty ancestors that edgecr owns (below `<mount>/edgecr`). */
  cleanup_free char *p = xstrdup(dir);
  cleanup_free char *own = xasprintf("%s/edgecr/", mount);
  for (char *slash = strrchr(p, '/'); slash && slash > p; slash = strrchr(p, '/')) {
    *slash = '\0';
    if (strlen(p) <= strlen(mount) || !str_has_prefix(p, own))
      break;
    if (rmdir(p) < 0)
      break;
  }
  return 0;
}

int cgroup_destroy(const struct cgroup_layout *l, const char *path, json_t *rt_grants, edgecr_error_t *err)
{
  if (path == NULL || *path == '\0' || strcmp(path, "/") == 0)
    return 0;
  cleanup_free char *dir = procs_dir(l, path);
  if (dir != NULL && access(dir, F_OK) == 0) {
    pid_t *pids = NULL;
    size_t n = 0;
    if (cgroup_pids(l, path, &pids, &n, NULL) == 0 && n > 0) {
      (void) cgroup_freeze(l, path, false, NULL);
      for (size_t i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
      for (int i = 0; i < 500; i++) {
        free(pids);
        pids = NULL;
        if (cgroup_pids(l, path, &pids, &n, NULL) < 0 || n == 0)
          break;
        usleep(2000);
      }
    }
    free(pids);
  }
  /* A removed group's real-time budget stays counted until the kernel
   * frees it, which waits for its last (zombie) task to be reaped; drop the
   * leaf's budget first so the dying group holds none. */
  const char *cpu = l->v2_only ? NULL : v1_mount_of(l, "cpu");
  if (cpu != NULL && json_array_size(rt_grants) > 0) {
    cleanup_free char *leaf = xasprintf("%s%s", cpu, path);
    if (access(leaf, F_OK) == 0 && read_ll(leaf, "cpu.rt_runtime_us") > 0)
      (void) write_rt(leaf, "cpu.rt_runtime_us", 0, NULL);
  }
  int ret = for_each_dir(l, path, rm_one, err);
  rt_budget_release(rt_grants);
  return ret;
}

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
  if ((v = read_ll(dir, usage)) >= 0) json_object_set_new(e, "usage", json_integer(v));
  v = read_ll(dir, limit);
  json_object_set_new(e, "limit", json_integer(v >= 0 ? v : (json_int_t) 0x7fffffffffffffffLL));
  if ((v = read_ll(dir, max)) >= 0) json_object_set_new(e, "max", json_integer(v));
  json_object_set_new(e, "failcnt", json_integer(fail && (v = read_ll(dir, fail)) >= 0 ? v : 0));
  return e;
}

int cgroup_stats(const struct cgroup_layout *l, const char *path, json_t **out, edgecr_error_t *err)
{
  (void) err;
  json_t *o = json_object();
  bool v2;
  cleanup_free char *mem = ctrl_dir(l, "memory", path, &v2);
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
  cleanup_free char *acct = ctrl_dir(l, "cpuacct", path, &v2);
  if (acct && !v2) {
    json_object_set_new(usage, "total", json_integer(read_ll(acct, "cpuacct.usage")));
    json_object_set_new(usage, "user", json_integer(read_ll(acct, "cpuacct.usage_user")));
    json_object_set_new(usage, "kernel", json_integer(read_ll(acct, "cpuacct.usage_sys")));
  }
  cleanup_free char *cpud = ctrl_dir(l, "cpu", path, &v2);
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
  json_object_set_new(cpu, "usage", usage);
  json_object_set_new(o, "cpu", cpu);
  cleanup_free char *pids = ctrl_dir(l, "pids", path, &v2);
  if (pids) {
    json_t *p = json_object();
    json_object_set_new(p, "current", json_integer(read_ll(pids, "pids.current")));
    long long lim = read_ll(pids, "pids.max");
    json_object_set_new(p, "limit", json_integer(lim > 0 ? lim : 0));
    json_object_set_new(o, "pids", p);
  }
  json_object_set_new(o, "blkio", json_object());
  json_object_set_new(o, "hugetlb", json_object());
  *out = o;
  return 0;
}
