/* runconfig.c - the config.json a plan container runs with: the bundle's
 * own config plus the plan's per-container decisions (see runconfig.h and
 * docs/plan.md section 5, "What a plan entry becomes"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "plan_channels.h"
#include "runconfig.h"
#include "dl_limits.h"
#include "partition.h"
#include "util.h"

/* obj[key] as an object, created (and attached) when missing. */
static json_t *child_object(json_t *obj, const char *key)
{
  json_t *o = json_object_get(obj, key);
  if (!json_is_object(o)) {
    o = json_object();
    json_object_set_new(obj, key, o);
  }
  return o;
}

static json_t *child_array(json_t *obj, const char *key)
{
  json_t *a = json_object_get(obj, key);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(obj, key, a);
  }
  return a;
}

static json_int_t int_of(const json_t *obj, const char *key) { return json_integer_value(json_object_get(obj, key)); }

/* root.path made absolute against the bundle: the generated bundle lives
 * elsewhere and must run the checked-out rootfs. */
static int resolve_root(json_t *cfg, const char *bundle, const char *cfg_path, edgecr_error_t *err)
{
  json_t *root = child_object(cfg, "root");
  const char *path = json_string_value(json_object_get(root, "path"));
  if (path == NULL)
    path = "rootfs";
  cleanup_free char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", bundle, path);
  char abs[PATH_MAX];
  if (realpath(joined, abs) == NULL)
    return edgecr_error_make(err, errno, "%s: root.path `%s`", cfg_path, joined);
  json_object_set_new(root, "path", json_string(abs));
  return 0;
}

/* process.scheduler from the plan's sched entry. */
static void set_scheduler(json_t *process, const json_t *sched)
{
  const char *policy = json_string_value(json_object_get(sched, "policy"));
  if (policy && strcmp(policy, "SCHED_DEADLINE") == 0) {
    json_object_set_new(process, "scheduler",
                        json_pack("{s:s,s:I,s:I,s:I,s:[s]}", "policy", "SCHED_DEADLINE", "runtime",
                                  int_of(sched, "runtime_ns"), "deadline", int_of(sched, "deadline_ns"), "period",
                                  int_of(sched, "period_ns"),
                                  /* the kernel signals overruns (SIGXCPU); the runtime starts
                                   * the process with it ignored and rt.h counts them */
                                  "flags", "SCHED_FLAG_DL_OVERRUN"));
  } else if (policy) {
    json_object_set_new(process, "scheduler",
                        json_pack("{s:s,s:I}", "policy", policy, "priority", int_of(sched, "priority")));
  }
}

static void set_rlimit(json_t *process, const char *type, json_t *value)
{
  json_t *rl = child_array(process, "rlimits");
  size_t i;
  json_t *r;
  json_array_foreach(rl, i, r) {
    const char *t = json_string_value(json_object_get(r, "type"));
    if (t && strcmp(t, type) == 0) {
      json_array_remove(rl, i);
      break;
    }
  }
  json_array_append_new(rl, json_pack("{s:s,s:O,s:O}", "type", type, "soft", value, "hard", value));
  json_decref(value);
}

/* Every capability of the plan in all five sets (ambient too: the process
 * may run as a non-root user). */
static void add_capabilities(json_t *process, const json_t *caps)
{
  if (json_array_size(caps) == 0)
    return;
  json_t *sets = child_object(process, "capabilities");
  static const char *const names[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};
  for (size_t s = 0; s < 5; s++) {
    json_t *set = child_array(sets, names[s]);
    size_t i, j;
    json_t *c, *have;
    json_array_foreach(caps, i, c) {
      bool present = false;
      json_array_foreach(set, j, have)
        present = present || json_equal(have, c);
      if (!present)
        json_array_append(set, c);
    }
  }
}

static void set_env(json_t *process, const char *name, const char *value)
{
  json_t *env = child_array(process, "env");
  size_t len = strlen(name), i;
  json_t *e;
  json_array_foreach(env, i, e) {
    const char *s = json_string_value(e);
    if (s && strncmp(s, name, len) == 0 && s[len] == '=') {
      json_array_remove(env, i);
      break;
    }
  }
  json_array_append_new(env, json_sprintf("%s=%s", name, value));
}

/* linux.devices (the node, as on the host) and an allow rule in
 * linux.resources.devices for each device of the plan. */
static int add_devices(json_t *linux_, const json_t *devices, const char *name, edgecr_error_t *err)
{
  size_t i;
  json_t *d;
  json_array_foreach(devices, i, d) {
    const char *path = json_string_value(json_object_get(d, "path"));
    const char *access = json_string_value(json_object_get(d, "access"));
    struct stat st;
    if (path == NULL || stat(path, &st) < 0)
      return edgecr_error_make(err, errno, "container `%s`: device `%s`", name, path ? path : "?");
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
      return edgecr_error_make(err, 0, "container `%s`: device `%s` is not a device node", name, path);
    const char *type = S_ISCHR(st.st_mode) ? "c" : "b";
    json_int_t maj = major(st.st_rdev), min = minor(st.st_rdev);
    json_array_append_new(child_array(linux_, "devices"),
                          json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", path, "type", type, "major", maj,
                                    "minor", min, "fileMode", (json_int_t) (st.st_mode & 07777), "uid",
                                    (json_int_t) st.st_uid, "gid", (json_int_t) st.st_gid));
    json_array_append_new(child_array(child_object(linux_, "resources"), "devices"),
                          json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type", type, "major", maj, "minor", min,
                                    "access", access ? access : "rw"));
  }
  return 0;
}

/* linux.resources.cpu and memory from the plan.  A deadline reservation
 * gets no cpuset: the kernel refuses SCHED_DEADLINE for a task whose
 * affinity is narrower than its root domain (docs/plan.md). */
static void set_resources(json_t *linux_, const json_t *entry)
{
  json_t *res = child_object(linux_, "resources");
  const json_t *rt = json_object_get(entry, "realtime");
  json_t *cpu = child_object(res, "cpu");
  if (json_is_object(rt)) {
    const json_t *cg = json_object_get(rt, "cgroup");
    const char *policy = json_string_value(json_object_get(json_object_get(rt, "sched"), "policy"));
    if (policy && strcmp(policy, "SCHED_DEADLINE") == 0 && json_object_get(cg, "cpuset.cpus") == NULL) {
      json_object_del(cpu, "cpus"); /* global: the whole root domain */
    } else if (policy && strcmp(policy, "SCHED_DEADLINE") == 0) {
      json_object_set(cpu, "cpus", json_object_get(cg, "cpuset.cpus")); /* its partition's core */
    } else {
      json_object_set(cpu, "cpus", json_object_get(cg, "cpuset.cpus"));
      /* node.fifo_budgets: none leaves the budget out (no group budgets) */
      if (json_object_get(cg, "cpu.rt_runtime_us")) {
        json_object_set_new(cpu, "realtimeRuntime", json_integer(int_of(cg, "cpu.rt_runtime_us")));
        json_object_set_new(cpu, "realtimePeriod", json_integer(int_of(cg, "cpu.rt_period_us")));
      }
    }
  } else {
    const char *cpus = json_string_value(json_object_get(json_object_get(entry, "cgroup"), "cpuset.cpus"));
    if (cpus && *cpus)
      json_object_set_new(cpu, "cpus", json_string(cpus));
  }
  if (json_object_size(cpu) == 0)
    json_object_del(res, "cpu");
  const json_t *mem = json_object_get(json_object_get(entry, "limits"), "memory.max");
  if (json_is_integer(mem))
    json_object_set(child_object(res, "memory"), "limit", (json_t *) mem);
}

/* A small tmpfs at PLAN_RT_DIR_IN_CONTAINER with the host page bound on
 * PLAN_RT_PAGE_IN_CONTAINER, and EDGECR_RT_SHM naming it. */
static void add_rt_page(json_t *cfg, json_t *process, const char *rt_page)
{
  json_t *mounts = child_array(cfg, "mounts");
  json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s,s,s,s]}", "destination", PLAN_RT_DIR_IN_CONTAINER,
                                          "type", "tmpfs", "source", "tmpfs", "options", "nosuid", "nodev",
                                          "noexec", "size=64k", "mode=755"));
  json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", PLAN_RT_PAGE_IN_CONTAINER, "type",
                                          "bind", "source", rt_page, "options", "bind", "rw"));
  set_env(process, "EDGECR_RT_SHM", PLAN_RT_PAGE_IN_CONTAINER);
}

/* A SCHED_FIFO entry compiled without a group budget (node.fifo_budgets:
 * none, for kernels without CONFIG_RT_GROUP_SCHED) cannot run on a kernel
 * that has them: SCHED_FIFO there needs a budget, and the runtime's
 * default one would take bandwidth the plan never analysed. */
static int check_fifo_budget_mode(const json_t *entry, const char *name, edgecr_error_t *err)
{
  const json_t *rt = json_object_get(entry, "realtime");
  const char *policy = json_string_value(json_object_get(json_object_get(rt, "sched"), "policy"));
  if (policy == NULL || strcmp(policy, "SCHED_FIFO") != 0 ||
      json_object_get(json_object_get(rt, "cgroup"), "cpu.rt_runtime_us") != NULL || !plan_node_rt_groups())
    return 0;
  return edgecr_error_make(err, EINVAL, "container `%s`: the plan gives SCHED_FIFO containers no cgroup real-time "
                                        "budget (node.fifo_budgets: none, for kernels without "
                                        "CONFIG_RT_GROUP_SCHED) but this node's kernel has group budgets: build "
                                        "the plan with node.fifo_budgets: groups (or auto on this node)", name);
}

int plan_runtime_config(const json_t *entry, const char *bundle, const char *rt_page, json_t **out,
                        edgecr_error_t *err)
{
  const char *name = json_string_value(json_object_get(entry, "name"));
  if (name == NULL)
    return edgecr_error_make(err, 0, "plan entry without a name");
  if (check_fifo_budget_mode(entry, name, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  json_error_t jerr;
  json_t *cfg = json_load_file(path, 0, &jerr);
  if (cfg == NULL)
    return edgecr_error_make(err, 0, "%s:%d: %s", path, jerr.line, jerr.text);
  json_t *process = json_object_get(cfg, "process");
  if (!json_is_object(process)) {
    json_decref(cfg);
    return edgecr_error_make(err, 0, "%s: `process`: missing (container `%s` has nothing to run)", path, name);
  }
  if (resolve_root(cfg, bundle, path, err) < 0) {
    json_decref(cfg);
    return -1;
  }
  json_t *linux_ = child_object(cfg, "linux");
  const json_t *rt = json_object_get(entry, "realtime");
  const json_t *sched = json_object_get(rt, "sched");
  set_scheduler(process, sched);
  /* No RLIMIT_RTPRIO: the runtime sets the policy itself (with its own
   * privileges) before it execs the container's process; raising the hard
   * limit would need CAP_SYS_RESOURCE, for nothing. */
  const json_t *memlock = json_object_get(json_object_get(entry, "limits"), "RLIMIT_MEMLOCK");
  if (json_is_integer(memlock))
    set_rlimit(process, "RLIMIT_MEMLOCK", json_integer(json_integer_value(memlock)));
  else if (json_is_string(memlock)) /* "unlimited" */
    set_rlimit(process, "RLIMIT_MEMLOCK", json_real(18446744073709551615.0)); /* 2^64-1: RLIM_INFINITY */
  add_capabilities(process, json_object_get(entry, "capabilities"));
  set_resources(linux_, entry);
  if (add_devices(linux_, json_object_get(entry, "devices"), name, err) < 0) {
    json_decref(cfg);
    return -1;
  }
  /* A real-time container of a partitioned core lives in the partition's
   * cpuset (partition.h), in every hierarchy (one cgroupsPath). */
  const json_t *part = json_object_get(json_object_get(json_object_get(entry, "realtime"), "cgroup"), "partition");
  if (json_is_integer(part)) {
    cleanup_free char *pc = plan_partition_cgroup((int) json_integer_value(part));
    json_object_set_new(linux_, "cgroupsPath", json_sprintf("%s/%s", pc, name));
  } else {
    json_object_set_new(linux_, "cgroupsPath", json_sprintf("%s/%s", PLAN_CGROUP_PARENT, name));
  }
  /* The plan's `backend:` reaches the runtime as the annotation that names
   * the backend (src/oci/backend.h); Linux, the default, is left to the
   * runtime's own selection. */
  const char *backend = json_string_value(json_object_get(entry, "backend"));
  if (backend != NULL && strcmp(backend, "linux") != 0)
    json_object_set_new(child_object(cfg, "annotations"), "org.edgecr.backend", json_string(backend));
  if (rt_page)
    add_rt_page(cfg, process, rt_page);
  plan_channel_annotations(cfg, entry);
  *out = cfg;
  return 0;
}

int plan_runtime_bundle_write(const char *dir, const json_t *config, edgecr_error_t *err)
{
  if (mkdir_p(dir, 0700, err) < 0)
    return edgecr_error_wrap(err, "generated bundle");
  cleanup_free char *text = json_dumps(config, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return edgecr_error_make(err, ENOMEM, "serialise config.json");
  cleanup_free char *path = xasprintf("%s/config.json", dir);
  /* A new file renamed over the old: never a write through a hard link. */
  return write_file_atomic(path, text, strlen(text), 0600, err);
}

int plan_rt_page_create(const char *path, edgecr_error_t *err)
{
  cleanup_free char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (mkdir_p(dir, 0755, err) < 0)
      return edgecr_error_wrap(err, "rt page directory");
  }
  /* A fresh inode: a writer still holding the old page cannot scribble on
   * the new container's record. */
  if (unlink(path) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "remove old rt page `%s`", path);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return edgecr_error_make(err, errno, "create rt page `%s`", path);
  if (ftruncate(fd, 4096) < 0)
    return edgecr_error_make(err, errno, "size rt page `%s`", path);
  return 0;
}
