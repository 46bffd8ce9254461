/* process.c - identity, capabilities, limits and scheduling of a container
 * process, applied in the order the kernel's permission rules require:
 * privileged things first (rlimits, scheduler, bounding set), then the
 * user switch, then the final capability sets. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int process_apply_rlimits(const struct oci_process *p, edgecr_error_t *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit r = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &r) < 0) {
      int e = errno;
      struct rlimit cur;
      bool raise = e == EPERM && getrlimit(p->rlimits[i].resource, &cur) == 0 && r.rlim_max > cur.rlim_max;
      return edgecr_error_make(err, e, "process.rlimits[%zu]: set %s to %llu/%llu%s", i,
                               oci_rlimit_name(p->rlimits[i].resource), p->rlimits[i].soft, p->rlimits[i].hard,
                               raise ? " (raising a hard limit above the runtime's own needs CAP_SYS_RESOURCE)" : "");
    }
  }
  return 0;
}

struct sched_attr_ {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

static const char *policy_name(int p)
{
  switch (p) {
  case 0: return "SCHED_OTHER";
  case 1: return "SCHED_FIFO";
  case 2: return "SCHED_RR";
  case 3: return "SCHED_BATCH";
  case 5: return "SCHED_IDLE";
  case 6: return "SCHED_DEADLINE";
  default: return "?";
  }
}

int process_apply_scheduler(const struct oci_process *p, edgecr_error_t *err)
{
  const struct oci_scheduler *s = &p->scheduler;
  if (!s->present)
    return 0;
  struct sched_attr_ a = {
    .size = sizeof a, .sched_policy = (uint32_t) s->policy, .sched_flags = s->flags,
    .sched_nice = s->nice, .sched_priority = (uint32_t) s->priority,
    .sched_runtime = s->runtime, .sched_deadline = s->deadline, .sched_period = s->period,
  };
  if (syscall(SYS_sched_setattr, 0, &a, 0) == 0)
    return 0;
  int e = errno;
  const char *name = policy_name(s->policy);
  if (s->policy == 6 && e == EBUSY)
    return edgecr_error_make(err, e, "process.scheduler: the kernel refused the SCHED_DEADLINE reservation "
                                     "(runtime %llu ns / period %llu ns): admission control found not enough "
                                     "deadline bandwidth left (see /proc/sys/kernel/sched_rt_runtime_us)",
                             s->runtime, s->period);
  if (s->policy == 6 && e == EPERM)
    return edgecr_error_make(err, e, "process.scheduler: SCHED_DEADLINE refused: a deadline task must be allowed "
                                     "on every CPU of its root domain (remove the cpuset/affinity restriction or "
                                     "isolate the CPUs into their own root domain)");
  if ((s->policy == 1 || s->policy == 2) && e == EPERM)
    return edgecr_error_make(err, e, "process.scheduler: %s priority %d refused: the container's cgroup has no "
                                     "real-time budget (set linux.resources.cpu.realtimeRuntime)", name, s->priority);
  return edgecr_error_make(err, e, "process.scheduler: set %s", name);
}

int process_apply_io_priority(const struct oci_process *p, edgecr_error_t *err)
{
  if (!p->has_io_priority)
    return 0;
  int value = (p->io_class << 13) | p->io_priority;
  if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0)
    return edgecr_error_make(err, errno, "process.ioPriority: set class %d priority %d", p->io_class, p->io_priority);
  return 0;
}

int process_apply_oom_score_adj(const struct oci_process *p, edgecr_error_t *err)
{
  if (!p->has_oom_score_adj)
    return 0;
  char buf[16];
  snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
  if (write_file("/proc/self/oom_score_adj", buf, strlen(buf), err) < 0)
    return edgecr_error_wrap(err, "process.oomScoreAdj");
  return 0;
}

int parse_cpu_list(const char *s, cpu_set_t *set)
{
  CPU_ZERO(set);
  const char *p = s;
  while (*p) {
    char *e;
    long a = strtol(p, &e, 10);
    if (e == p || a < 0 || a >= CPU_SETSIZE)
      return -1;
    long b = a;
    if (*e == '-') {
      p = e + 1;
      b = strtol(p, &e, 10);
      if (e == p || b < a || b >= CPU_SETSIZE)
        return -1;
    }
    for (long i = a; i <= b; i++)
      CPU_SET(i, set);
    if (*e == ',')
      e++;
    else if (*e != '\0')
      return -1;
    p = e;
  }
  return 0;
}

int process_apply_affinity(const char *cpus, const char *field, edgecr_error_t *err)
{
  if (cpus == NULL || *cpus == '\0')
    return 0;
  cpu_set_t set;
  if (parse_cpu_list(cpus, &set) < 0)
    return edgecr_error_make(err, EINVAL, "%s: `%s` is not a CPU list like \"0-2,4\"", field, cpus);
  if (sched_setaffinity(0, sizeof set, &set) < 0)
    return edgecr_error_make(err, errno, "%s: set CPU affinity `%s`", field, cpus);
  return 0;
}

/* linux.memoryPolicy: the NUMA policy the process and its children
 * inherit (set_mempolicy(2) survives fork and execve). */
int process_apply_memory_policy(const struct oci_config *c, edgecr_error_t *err)
{
  if (!c->has_memory_policy)
    return 0;
  enum { MAX_NODES = 1024, BITS = 8 * sizeof(unsigned long) };
  unsigned long mask[MAX_NODES / BITS] = {0};
  const char *nodes = c->mempolicy_nodes ? c->mempolicy_nodes : "";
  if (*nodes) {
    cpu_set_t set; /* the same "0-3,5" list syntax as CPU lists */
    if (parse_cpu_list(nodes, &set) < 0)
      return edgecr_error_make(err, EINVAL, "linux.memoryPolicy.nodes: `%s` is not a node list like \"0-1,3\"", nodes);
    for (int n = 0; n < MAX_NODES && n < CPU_SETSIZE; n++)
      if (CPU_ISSET(n, &set))
        mask[n / BITS] |= 1UL << (n % BITS);
  }
  int mode = c->mempolicy_mode | (int) c->mempolicy_flags;
  if (syscall(SYS_set_mempolicy, mode, *nodes ? mask : NULL, *nodes ? (unsigned long) MAX_NODES + 1 : 0UL) < 0) {
    int e = errno;
    return edgecr_error_make(err, e, "linux.memoryPolicy: set_mempolicy(mode %d, nodes `%s`)%s", c->mempolicy_mode,
                             nodes, e == ENOSYS ? " (this kernel has no NUMA support)"
                                    : e == EINVAL ? " (a node that does not exist or is not allowed, or a mode or "
                                                    "flag this kernel does not know)" : "");
  }
  return 0;
}

static bool capset_has(const struct oci_capset *s, int cap)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->caps[i] == cap)
      return true;
  return false;
}

int process_drop_bounding(const struct oci_process *p, edgecr_error_t *err)
{
  if (!p->bounding.present)
    return 0;
  for (int c = 0; c <= CAP_LAST_CAP; c++) {
    if (capset_has(&p->bounding, c))
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return edgecr_error_make(err, errno, "process.capabilities.bounding: drop capability %d", c);
  }
  return 0;
}

int process_switch_user(const struct oci_process *p, edgecr_error_t *err)
{
  const struct oci_user *u = &p->user;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return edgecr_error_make(err, errno, "prctl(PR_SET_KEEPCAPS)");
  if (setgroups(u->n_additional_gids, u->additional_gids) < 0 && !(errno == EPERM && u->n_additional_gids == 0))
    return edgecr_error_make(err, errno, "process.user.additionalGids: setgroups");
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    return edgecr_error_make(err, errno, "process.user.gid: setresgid(%u)", (unsigned) u->gid);
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    return edgecr_error_make(err, errno, "process.user.uid: setresuid(%u)", (unsigned) u->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return edgecr_error_make(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
  return 0;
}

static int set_flag(cap_t caps, cap_flag_t flag, const struct oci_capset *s)
{
  if (s->n == 0)
    return 0;
  cap_value_t *v = xmalloc0(s->n * sizeof *v);
  for (size_t i = 0; i < s->n; i++)
    v[i] = (cap_value_t) s->caps[i];
  int r = cap_set_flag(caps, flag, (int) s->n, v, CAP_SET);
  free(v);
  return r;
}

/* "CAP_KILL" for 5 (libcap names them in lower case). */
static void cap_upper_name(int cap, char *buf, size_t size)
{
  char *name = cap_to_name((cap_value_t) cap);
  snprintf(buf, size, "%s", name ? name : "?");
  cap_free(name);
  for (char *c = buf; *c; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char) (*c - 32);
}

/* The kernel raises an ambient capability only if it is also permitted and
 * inheritable.  runc and crun raise what can be raised and run the rest
 * without (configs written by `runc spec`-era tools list ambient
 * capabilities and no inheritable set), so do we, with a warning. */
static int raise_ambient(const struct oci_capset *ambient, edgecr_error_t *err)
{
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (size_t i = 0; i < ambient->n; i++) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, ambient->caps[i], 0, 0) == 0)
      continue;
    char name[64];
    cap_upper_name(ambient->caps[i], name, sizeof name);
    if (errno != EPERM)
      return edgecr_error_make(err, errno, "process.capabilities.ambient: raise %s", name);
    log_warning("process.capabilities.ambient: %s not raised: an ambient capability must also be in the "
                "permitted and inheritable sets", name);
  }
  return 0;
}

int process_apply_capabilities(const struct oci_process *p, edgecr_error_t *err)
{
  if (!(p->bounding.present || p->effective.present || p->permitted.present || p->inheritable.present ||
        p->ambient.present))
    return 0;
  cap_t caps = cap_init();
  if (caps == NULL)
    return edgecr_error_make(err, errno, "cap_init");
  if (set_flag(caps, CAP_EFFECTIVE, &p->effective) < 0 || set_flag(caps, CAP_PERMITTED, &p->permitted) < 0 ||
      set_flag(caps, CAP_INHERITABLE, &p->inheritable) < 0) {
    cap_free(caps);
    return edgecr_error_make(err, errno, "process.capabilities: build sets");
  }
  if (cap_set_proc(caps) < 0) {
    int e = errno;
    cap_free(caps);
    return edgecr_error_make(err, e, "process.capabilities: apply (effective must be within permitted)");
  }
  cap_free(caps);
  return raise_ambient(&p->ambient, err);
}

static const char *env_get(char *const *env, const char *key)
{
  size_t n = strlen(key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

/* The home directory of uid in the (container's) /etc/passwd, or NULL. */
static char *passwd_home(uid_t uid)
{
  cleanup_file FILE *f = fopen("/etc/passwd", "re");
  if (f == NULL)
    return NULL;
  char line[4096];
  while (fgets(line, sizeof line, f) != NULL) {
    /* name:password:uid:gid:gecos:home:shell */
    char *fields[7] = {0};
    char *rest = line;
    size_t n = 0;
    while (n < 7 && rest != NULL)
      fields[n++] = strsep(&rest, ":");
    if (n < 6 || fields[2][0] == '\0')
      continue;
    char *end;
    unsigned long id = strtoul(fields[2], &end, 10);
    if (*end == '\0' && id == uid && fields[5][0] != '\0')
      return xstrdup(fields[5]);
  }
  return NULL;
}

char **process_env_with_home(const struct oci_process *p)
{
  if (env_get(p->env, "HOME") != NULL)
    return NULL;
  cleanup_free char *home = passwd_home(p->user.uid);
  size_t n = 0;
  while (p->env && p->env[n])
    n++;
  char **env = xmalloc0((n + 2) * sizeof *env);
  for (size_t i = 0; i < n; i++)
    env[i] = xstrdup(p->env[i]);
  env[n] = xasprintf("HOME=%s", home ? home : "/");
  return env;
}

static bool is_executable(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *process_find_executable(const struct oci_process *p, edgecr_error_t *err)
{
  const char *name = p->args[0];
  if (strchr(name, '/') != NULL) {
    if (is_executable(name))
      return xstrdup(name);
    return edgecr_error_make(err, errno ? errno : EACCES, "exec: `%s`", name), NULL;
  }
  const char *path = env_get(p->env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  cleanup_free char *dirs = xstrdup(path);
  char *rest = dirs;
  for (char *d = strsep(&rest, ":"); d; d = strsep(&rest, ":")) {
    char *cand = xasprintf("%s/%s", *d ? d : ".", name);
    if (is_executable(cand))
      return cand;
    free(cand);
  }
  edgecr_error_make(err, ENOENT, "exec: `%s`: executable file not found in $PATH", name);
  return NULL;
}
