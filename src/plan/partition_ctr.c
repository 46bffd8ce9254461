/* partition_ctr.c - a deadline partition for a container created on its
 * own (not from a plan) that asks for one (partition.h,
 * PLAN_PARTITION_ANNOTATION; docs/plan.md "Partitions for single
 * containers").
 *
 * The containers of a runtime root that hold partitions are listed in
 * <root>/.rt-partition/users.json ({"ID": CPU, ...}); the node's partitions
 * are always brought to the CPUs of that list by plan_partitions_set (its
 * record, cpusets.json, in the same directory), so a partition is made
 * with its first container, shared by the next ones on its CPU and removed
 * with the last.  The list is written, durably, before the partitions
 * change, and every join and leave first drops the containers whose state
 * directory is gone and then converges: a create or delete killed at any
 * point is repaired by the next join or leave (`edgecr delete --force` of
 * the killed container is one).  An flock on the directory serialises
 * concurrent creates and deletes. */
#include "partition.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define DIR_NAME ".rt-partition"

/* ---- the container's request ---- */

static int one_cpu(const char *s)
{
  char *end;
  if (s == NULL)
    return -1;
  while (*s == ' ')
    s++;
  long k = strtol(s, &end, 10);
  while (end != s && (*end == ' ' || *end == '\n'))
    end++;
  return end == s || *end != '\0' || k < 0 || k > 1023 ? -1 : (int) k;
}

int plan_partition_wanted(json_t *annotations, bool deadline, json_t *resources, int *cpu, edgecr_error_t *err)
{
  *cpu = -1;
  json_t *a = json_object_get(annotations, PLAN_PARTITION_ANNOTATION);
  if (a == NULL || (json_is_string(a) && strcmp(json_string_value(a), "false") == 0))
    return 0;
  if (!json_is_string(a) || strcmp(json_string_value(a), "true") != 0)
    return edgecr_error_invalid(err, "config.json: annotations.\"%s\": `true` or `false`, not %s",
                                PLAN_PARTITION_ANNOTATION, json_is_string(a) ? json_string_value(a) : "a non-string");
  if (!deadline)
    return edgecr_error_invalid(err, "config.json: annotations.\"%s\" asks for a deadline partition, but "
                                "process.scheduler.policy is not SCHED_DEADLINE", PLAN_PARTITION_ANNOTATION);
  json_t *cpus = json_object_get(json_object_get(resources, "cpu"), "cpus");
  int k = one_cpu(json_string_value(cpus));
  if (k < 0)
    return edgecr_error_invalid(err, "config.json: annotations.\"%s\" needs linux.resources.cpu.cpus to name "
                                "exactly one CPU (the partition's), not `%s`", PLAN_PARTITION_ANNOTATION,
                                json_is_string(cpus) ? json_string_value(cpus) : "(unset)");
  long n = sysconf(_SC_NPROCESSORS_CONF);
  if (n > 0 && k >= n)
    return edgecr_error_invalid(err, "config.json: linux.resources.cpu.cpus: CPU %d does not exist (this node has "
                                "%ld)", k, n);
  *cpu = k;
  return 0;
}

char *plan_partition_container_cgroup(int cpu, const char *cgpath)
{
  return xasprintf("%s/cpu%d%s", PLAN_PARTITION_PARENT, cpu, cgpath);
}

/* ---- the list of containers ---- */

struct users {
  char *dir, *path;
  int lock;
  json_t *ids; /* {"ID": CPU} */
};

static void users_close(struct users *u)
{
  if (u->lock >= 0)
    close(u->lock); /* releases the flock */
  json_decref(u->ids);
  free(u->dir);
  free(u->path);
}

static int users_open(struct users *u, const char *state_root, bool create, edgecr_error_t *err)
{
  u->dir = xasprintf("%s/%s", state_root, DIR_NAME);
  u->path = xasprintf("%s/users.json", u->dir);
  u->lock = -1;
  u->ids = NULL;
  if (create && mkdir(u->dir, 0700) < 0 && errno != EEXIST)
    return edgecr_error_make(err, errno, "create `%s`", u->dir);
  u->lock = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u->lock < 0)
    return create ? edgecr_error_make(err, errno, "open `%s`", u->dir) : 0;
  if (flock(u->lock, LOCK_EX) < 0)
    return edgecr_error_make(err, errno, "lock `%s`", u->dir);
  if (access(u->path, F_OK) == 0) {
    json_error_t je;
    u->ids = json_load_file(u->path, 0, &je);
    if (!json_is_object(u->ids))
      return edgecr_error_make(err, EINVAL, "%s:%d: %s", u->path, je.line, je.text);
  } else {
    u->ids = json_object();
  }
  return 0;
}

static int users_save(struct users *u, edgecr_error_t *err)
{
  cleanup_free char *text = json_dumps(u->ids, JSON_SORT_KEYS);
  return write_file_durable(u->path, text, strlen(text), 0600, err);
}

/* Containers whose state directory is gone (a create killed before it
 * was kept, or a removal killed after) hold nothing any more. */
static void users_prune(struct users *u, const char *state_root)
{
  const char *id;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(u->ids, tmp, id, v) {
    cleanup_free char *d = xasprintf("%s/%s", state_root, id);
    if (access(d, F_OK) < 0)
      json_object_del(u->ids, id);
  }
}

static char *users_cpus(struct users *u)
{
  bool seen[1024] = {false};
  const char *id;
  json_t *v;
  json_object_foreach(u->ids, id, v) {
    json_int_t k = json_integer_value(v);
    if (k >= 0 && k < 1024)
      seen[k] = true;
  }
  size_t cap = 16, len = 0;
  char *s = xmalloc0(cap);
  for (int k = 0; k < 1024; k++)
    if (seen[k]) {
      if (len + 16 > cap)
        s = xrealloc(s, cap *= 2);
      len += (size_t) snprintf(s + len, cap - len, "%s%d", len ? "," : "", k);
    }
  return s;
}

/* The node's partitions to the list's CPUs; with none left, the
 * directory goes too. */
static int converge(struct users *u, edgecr_error_t *err)
{
  cleanup_free char *cpus = users_cpus(u);
  if (plan_partitions_set(u->dir, cpus, err) < 0)
    return -1;
  if (*cpus == '\0') {
    if (unlink(u->path) < 0 && errno != ENOENT)
      return edgecr_error_make(err, errno, "remove `%s`", u->path);
    (void) rmdir(u->dir); /* still locked by us: removal is fine on Linux */
  }
  return 0;
}

/* Partitions of a plan are the plan's (its own record): a container does
 * not take them over or drop them. */
static int check_no_plan_partitions(struct users *u, edgecr_error_t *err)
{
  cleanup_free char *rec = xasprintf("%s/%s", u->dir, PLAN_PARTITION_STATE);
  const char *env = getenv("EDGECR_PLAN_CPUSET");
  cleanup_free char *v1 = xasprintf("%s%s", env && *env ? env : "/sys/fs/cgroup/cpuset", PLAN_PARTITION_PARENT);
  cleanup_free char *v2 = xasprintf("/sys/fs/cgroup%s", PLAN_PARTITION_PARENT);
  if (access(rec, F_OK) < 0 && (access(v1, F_OK) == 0 || (!(env && *env) && access(v2, F_OK) == 0)))
    return edgecr_error_make(err, EBUSY, "deadline partition: `%s` exists but is not this runtime root's "
                             "(a plan with node.deadline: partitioned, or another root, holds the node's "
                             "partitions)", PLAN_PARTITION_PARENT);
  return 0;
}

int plan_partition_join(const char *state_root, const char *id, int cpu, edgecr_error_t *err)
{
  struct users u;
  int r = users_open(&u, state_root, true, err);
  if (r == 0)
    users_prune(&u, state_root);
  if (r == 0 && json_object_size(u.ids) == 0)
    r = check_no_plan_partitions(&u, err);
  if (r == 0) {
    json_object_set_new(u.ids, id, json_integer(cpu));
    r = users_save(&u, err);
  }
  if (r == 0 && converge(&u, err) < 0) {
    /* not made: this container holds nothing; the others' partitions stay */
    edgecr_error_t e2 = NULL;
    json_object_del(u.ids, id);
    if (users_save(&u, &e2) == 0)
      (void) converge(&u, &e2);
    edgecr_error_release(&e2);
    r = edgecr_error_wrap(err, "deadline partition on CPU %d for container `%s`", cpu, id);
  }
  users_close(&u);
  return r;
}

int plan_partition_leave(const char *state_root, const char *id, edgecr_error_t *err)
{
  struct users u;
  int r = users_open(&u, state_root, false, err);
  if (r == 0 && u.ids != NULL) {
    users_prune(&u, state_root);
    json_object_del(u.ids, id);
    r = users_save(&u, err);
    if (r == 0)
      r = converge(&u, err);
  }
  users_close(&u);
  return r;
}
