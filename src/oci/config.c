/* config.c - config.json -> struct oci_config, with field-path errors.
 *
 * Parsing is strict about types (a string where a number belongs is an
 * error, as in runc, whose Go decoder refuses it) and tolerant of unknown
 * fields (the spec requires runtimes to ignore them). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef IOPRIO_CLASS_RT
#define IOPRIO_CLASS_NONE 0
#define IOPRIO_CLASS_RT 1
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_IDLE 3
#endif

struct pctx {
  const char *file;
  edgecr_error_t *err;
};

static int bad(struct pctx *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct pctx *p, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  edgecr_error_fieldv(p->err, p->file, "", field, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- typed getters: absent is fine unless `required` ---------------- */

static int get_str(struct pctx *p, json_t *o, const char *key, const char *field, bool required,
                   char **out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v)) {
    if (required)
      return bad(p, field, "missing (required)");
    return 0;
  }
  if (!json_is_string(v))
    return bad(p, field, "must be a string");
  *out = xstrdup(json_string_value(v));
  return 1;
}

static int get_bool(struct pctx *p, json_t *o, const char *key, const char *field, bool *out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_boolean(v))
    return bad(p, field, "must be true or false");
  *out = json_is_true(v);
  return 1;
}

static int get_int(struct pctx *p, json_t *o, const char *key, const char *field,
                   long long min, long long max, long long *out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_integer(v))
    return bad(p, field, "must be an integer");
  long long x = json_integer_value(v);
  if (x < min || x > max)
    return bad(p, field, "%lld is out of range [%lld, %lld]", x, min, max);
  *out = x;
  return 1;
}

/* Unsigned 64-bit values beyond INT64_MAX arrive as reals in jansson. */
static int get_u64(struct pctx *p, json_t *o, const char *key, const char *field,
                   unsigned long long *out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (json_is_integer(v)) {
    if (json_integer_value(v) < 0)
      return bad(p, field, "must not be negative");
    *out = (unsigned long long) json_integer_value(v);
    return 1;
  }
  if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) <= 18446744073709551615.0) {
    double d = json_real_value(v);
    *out = d >= 18446744073709551615.0 ? ~0ull : (unsigned long long) d;
    return 1;
  }
  return bad(p, field, "must be an unsigned integer");
}

static int get_strv(struct pctx *p, json_t *o, const char *key, const char *field, bool required,
                    char ***out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v)) {
    if (required)
      return bad(p, field, "missing (required)");
    return 0;
  }
  if (!json_is_array(v))
    return bad(p, field, "must be an array of strings");
  size_t n = json_array_size(v);
  char **r = xmalloc0((n + 1) * sizeof *r);
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(v, i);
    if (!json_is_string(s)) {
      strv_free(r);
      cleanup_free char *f = xasprintf("%s[%zu]", field, i);
      return bad(p, f, "must be a string");
    }
    r[i] = xstrdup(json_string_value(s));
  }
  *out = r;
  return 1;
}

static json_t *get_obj(struct pctx *p, json_t *o, const char *key, const char *field, int *rc)
{
  json_t *v = json_object_get(o, key);
  *rc = 0;
  if (v == NULL || json_is_null(v))
    return NULL;
  if (!json_is_object(v)) {
    *rc = bad(p, field, "must be an object");
    return NULL;
  }
  return v;
}

static json_t *get_arr(struct pctx *p, json_t *o, const char *key, const char *field, int *rc)
{
  json_t *v = json_object_get(o, key);
  *rc = 0;
  if (v == NULL || json_is_null(v))
    return NULL;
  if (!json_is_array(v)) {
    *rc = bad(p, field, "must be an array");
    return NULL;
  }
  return v;
}

/* ---- strv ------------------------------------------------------------ */

size_t strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **strv_dup(char *const *v)
{
  size_t n = strv_len(v);
  char **r = xmalloc0((n + 1) * sizeof *r);
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup(v[i]);
  return r;
}

void strv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **it = v; *it; it++)
    free(*it);
  free(v);
}

/* ---- names ----------------------------------------------------------- */

static const struct { const char *name; int type; } namespace_names[] = {
  {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
  {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},
  {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int oci_namespace_type(const char *name)
{
  for (size_t i = 0; i < sizeof namespace_names / sizeof namespace_names[0]; i++)
    if (strcmp(namespace_names[i].name, name) == 0)
      return namespace_names[i].type;
  return -1;
}

const char *oci_namespace_name(int type)
{
  for (size_t i = 0; i < sizeof namespace_names / sizeof namespace_names[0]; i++)
    if (namespace_names[i].type == type)
      return namespace_names[i].name;
  return "?";
}

const struct oci_namespace *oci_config_namespace(const struct oci_config *c, int type)
{
  for (size_t i = 0; i < c->n_namespaces; i++)
    if (c->namespaces[i].type == type)
      return &c->namespaces[i];
  return NULL;
}

static const char *hook_kind_names[OCI_HOOK_KINDS] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
  return hook_kind_names[k];
}

static const struct { const char *name; int res; } rlimit_names[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
  {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
  {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

const char *oci_rlimit_name(int resource)
{
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (rlimit_names[i].res == resource)
      return rlimit_names[i].name;
  return "?";
}

int oci_capability_number(const char *name)
{
  if (strncasecmp(name, "CAP_", 4) != 0)
    return -1;
  char lower[64];
  size_t n = strlen(name);
  if (n >= sizeof lower)
    return -1;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
  cap_value_t v;
  if (cap_from_name(lower, &v) < 0)
    return -1;
  /* libcap also accepts plain numbers; the spec only allows names. */
  if (lower[4] >= '0' && lower[4] <= '9')
    return -1;
  return (int) v;
}

/* ---- mount options --------------------------------------------------- */

static const struct { const char *name; bool clear; unsigned long flag; } mount_flags[] = {
  {"ro", false, MS_RDONLY}, {"rw", true, MS_RDONLY},
  {"nosuid", false, MS_NOSUID}, {"suid", true, MS_NOSUID},
  {"nodev", false, MS_NODEV}, {"dev", true, MS_NODEV},
  {"noexec", false, MS_NOEXEC}, {"exec", true, MS_NOEXEC},
  {"sync", false, MS_SYNCHRONOUS}, {"async", true, MS_SYNCHRONOUS},
  {"dirsync", false, MS_DIRSYNC}, {"remount", false, MS_REMOUNT},
  {"mand", false, MS_MANDLOCK}, {"nomand", true, MS_MANDLOCK},
  {"noatime", false, MS_NOATIME}, {"atime", true, MS_NOATIME},
  {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
  {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME},
  {"strictatime", false, MS_STRICTATIME}, {"nostrictatime", true, MS_STRICTATIME},
  {"silent", false, MS_SILENT}, {"loud", true, MS_SILENT},
};

static const struct { const char *name; unsigned long flag; } propagation_flags[] = {
  {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
  {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
  {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
  {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

bool oci_mount_option(const char *opt, struct oci_mount *m)
{
  for (size_t i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++) {
    if (strcmp(opt, mount_flags[i].name) != 0)
      continue;
    if (mount_flags[i].clear) {
      m->flags &= ~mount_flags[i].flag;
      m->clear_flags |= mount_flags[i].flag;
    } else {
      m->flags |= mount_flags[i].flag;
      m->clear_flags &= ~mount_flags[i].flag;
    }
    return true;
  }
  for (size_t i = 0; i < sizeof propagation_flags / sizeof propagation_flags[0]; i++) {
    if (strcmp(opt, propagation_flags[i].name) == 0) {
      m->propagation = propagation_flags[i].flag;
      return true;
    }
  }
  if (strcmp(opt, "bind") == 0) {
    m->bind = true;
    return true;
  }
  if (strcmp(opt, "rbind") == 0) {
    m->bind = m->recursive = true;
    return true;
  }
  if (strcmp(opt, "defaults") == 0)
    return true;
  return false;
}

/* The spec's recursive options (rro, rnosuid, ...): mount_setattr(2)
 * attributes applied with AT_RECURSIVE after the mount. */
static const struct { const char *name; bool clear; uint64_t attr; } recursive_attrs[] = {
  {"rro", false, 0x1}, {"rrw", true, 0x1},               /* MOUNT_ATTR_RDONLY */
  {"rnosuid", false, 0x2}, {"rsuid", true, 0x2},         /* MOUNT_ATTR_NOSUID */
  {"rnodev", false, 0x4}, {"rdev", true, 0x4},           /* MOUNT_ATTR_NODEV */
  {"rnoexec", false, 0x8}, {"rexec", true, 0x8},         /* MOUNT_ATTR_NOEXEC */
  {"rnodiratime", false, 0x80}, {"rdiratime", true, 0x80}, /* MOUNT_ATTR_NODIRATIME */
  {"rnosymfollow", false, 0x200000}, {"rsymfollow", true, 0x200000}, /* MOUNT_ATTR_NOSYMFOLLOW */
};

static bool recursive_mount_option(const char *opt, struct oci_mount *m)
{
  for (size_t i = 0; i < sizeof recursive_attrs / sizeof recursive_attrs[0]; i++) {
    if (strcmp(opt, recursive_attrs[i].name) != 0)
      continue;
    uint64_t a = recursive_attrs[i].attr;
    if (recursive_attrs[i].clear) {
      m->rec_attr_clr |= a;
      m->rec_attr_set &= ~a;
    } else {
      m->rec_attr_set |= a;
      m->rec_attr_clr &= ~a;
    }
    return true;
  }
  return false;
}

static unsigned long propagation_by_name(const char *s)
{
  for (size_t i = 0; i < sizeof propagation_flags / sizeof propagation_flags[0]; i++)
    if (strcmp(s, propagation_flags[i].name) == 0)
      return propagation_flags[i].flag;
  return 0;
}

/* ---- sections -------------------------------------------------------- */

static int parse_capset(struct pctx *p, json_t *caps, const char *key, struct oci_capset *set)
{
  cleanup_free char *field = xasprintf("process.capabilities.%s", key);
  json_t *v = json_object_get(caps, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return bad(p, field, "must be an array of capability names");
  set->present = true;
  set->caps = xmalloc0((json_array_size(v) + 1) * sizeof(int));
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *s = json_array_get(v, i);
    cleanup_free char *f = xasprintf("%s[%zu]", field, i);
    if (!json_is_string(s))
      return bad(p, f, "must be a string");
    int c = oci_capability_number(json_string_value(s));
    if (c < 0) {
      char *u = xasprintf("%s%s%s", set->unknown ? set->unknown : "", set->unknown ? ", " : "",
                          json_string_value(s));
      free(set->unknown);
      set->unknown = u;
      continue;
    }
    if (c > CAP_LAST_CAP)
      continue; /* known to libcap, not to this kernel: nothing to grant */
    set->caps[set->n++] = c;
  }
  return 0;
}

static int parse_user(struct pctx *p, json_t *proc, struct oci_user *u)
{
  int rc;
  json_t *user = get_obj(p, proc, "user", "process.user", &rc);
  if (rc < 0)
    return rc;
  if (user == NULL)
    return 0;
  long long v;
  if ((rc = get_int(p, user, "uid", "process.user.uid", 0, UINT32_MAX - 1, &v)) < 0)
    return rc;
  if (rc > 0)
    u->uid = (uid_t) v;
  if ((rc = get_int(p, user, "gid", "process.user.gid", 0, UINT32_MAX - 1, &v)) < 0)
    return rc;
  if (rc > 0)
    u->gid = (gid_t) v;
  if ((rc = get_int(p, user, "umask", "process.user.umask", 0, 0777, &v)) < 0)
    return rc;
  if (rc > 0) {
    u->has_umask = true;
    u->umask = (mode_t) v;
  }
  json_t *gids = get_arr(p, user, "additionalGids", "process.user.additionalGids", &rc);
  if (rc < 0)
    return rc;
  if (gids != NULL) {
    u->additional_gids = xmalloc0((json_array_size(gids) + 1) * sizeof(gid_t));
    for (size_t i = 0; i < json_array_size(gids); i++) {
      json_t *g = json_array_get(gids, i);
      if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) >= UINT32_MAX) {
        cleanup_free char *f = xasprintf("process.user.additionalGids[%zu]", i);
        return bad(p, f, "must be an unsigned integer");
      }
      u->additional_gids[u->n_additional_gids++] = (gid_t) json_integer_value(g);
    }
  }
  return 0;
}

static int parse_rlimits(struct pctx *p, json_t *proc, struct oci_process *pr)
{
  int rc;
  json_t *arr = get_arr(p, proc, "rlimits", "process.rlimits", &rc);
  if (rc < 0 || arr == NULL)
    return rc;
  pr->rlimits = xmalloc0((json_array_size(arr) + 1) * sizeof *pr->rlimits);
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *r = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("process.rlimits[%zu]", i);
    if (!json_is_object(r))
      return bad(p, f, "must be an object");
    cleanup_free char *type = NULL;
    cleanup_free char *ft = xasprintf("%s.type", f);
    if ((rc = get_str(p, r, "type", ft, true, &type)) < 0)
      return rc;
    int res = -1;
    for (size_t k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
      if (strcmp(rlimit_names[k].name, type) == 0)
        res = rlimit_names[k].res;
    if (res < 0)
      return bad(p, ft, "unknown rlimit `%s`", type);
    for (size_t k = 0; k < pr->n_rlimits; k++)
      if (pr->rlimits[k].resource == res)
        return bad(p, ft, "`%s` is given twice", type);
    struct oci_rlimit *rl = &pr->rlimits[pr->n_rlimits++];
    rl->resource = res;
    cleanup_free char *fs = xasprintf("%s.soft", f);
    cleanup_free char *fh = xasprintf("%s.hard", f);
    if ((rc = get_u64(p, r, "soft", fs, &rl->soft)) <= 0)
      return rc < 0 ? rc : bad(p, fs, "missing (required)");
    if ((rc = get_u64(p, r, "hard", fh, &rl->hard)) <= 0)
      return rc < 0 ? rc : bad(p, fh, "missing (required)");
    if (rl->soft > rl->hard)
      return bad(p, fs, "soft limit %llu exceeds hard limit %llu", rl->soft, rl->hard);
  }
  return 0;
}

static const struct { const char *name; int policy; } sched_policies[] = {
  {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
  {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", 4}, {"SCHED_IDLE", SCHED_IDLE},
  {"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct { const char *name; unsigned long long flag; } sched_flag_names[] = {
  {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
  {"SCHED_FLAG_DL_OVERRUN", 0x04}, {"SCHED_FLAG_KEEP_POLICY", 0x08},
  {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
  {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int parse_scheduler(struct pctx *p, json_t *proc, struct oci_scheduler *s)
{
  int rc;
  json_t *o = get_obj(p, proc, "scheduler", "process.scheduler", &rc);
  if (rc < 0 || o == NULL)
    return rc;
  s->present = true;
  cleanup_free char *policy = NULL;
  if ((rc = get_str(p, o, "policy", "process.scheduler.policy", true, &policy)) < 0)
    return rc;
  s->policy = -1;
  for (size_t i = 0; i < sizeof sched_policies / sizeof sched_policies[0]; i++)
    if (strcmp(policy, sched_policies[i].name) == 0)
      s->policy = sched_policies[i].policy;
  if (s->policy < 0)
    return bad(p, "process.scheduler.policy", "unknown policy `%s`", policy);
  if (s->policy == 4)
    return bad(p, "process.scheduler.policy", "SCHED_ISO is not supported by Linux");
  long long v;
  if ((rc = get_int(p, o, "nice", "process.scheduler.nice", -20, 19, &v)) < 0)
    return rc;
  if (rc > 0)
    s->nice = (int) v;
  if ((rc = get_int(p, o, "priority", "process.scheduler.priority", 0, 99, &v)) < 0)
    return rc;
  if (rc > 0)
    s->priority = (int) v;
  if (get_u64(p, o, "runtime", "process.scheduler.runtime", &s->runtime) < 0 ||
      get_u64(p, o, "deadline", "process.scheduler.deadline", &s->deadline) < 0 ||
      get_u64(p, o, "period", "process.scheduler.period", &s->period) < 0)
    return -1;
  json_t *flags = get_arr(p, o, "flags", "process.scheduler.flags", &rc);
  if (rc < 0)
    return rc;
  for (size_t i = 0; flags && i < json_array_size(flags); i++) {
    json_t *f = json_array_get(flags, i);
    cleanup_free char *field = xasprintf("process.scheduler.flags[%zu]", i);
    bool found = false;
    for (size_t k = 0; json_is_string(f) && k < sizeof sched_flag_names / sizeof sched_flag_names[0]; k++)
      if (strcmp(json_string_value(f), sched_flag_names[k].name) == 0) {
        s->flags |= sched_flag_names[k].flag;
        found = true;
      }
    if (!found)
      return bad(p, field, "unknown scheduler flag");
  }
  bool rt = s->policy == SCHED_FIFO || s->policy == SCHED_RR;
  if (rt && s->priority < 1)
    return bad(p, "process.scheduler.priority", "%s needs a priority from 1 to 99", policy);
  if (!rt && s->priority != 0)
    return bad(p, "process.scheduler.priority", "must be 0 for %s", policy);
  if (s->policy == SCHED_DEADLINE) {
    if (s->runtime == 0)
      return bad(p, "process.scheduler.runtime", "SCHED_DEADLINE needs a runtime (ns)");
    if (s->deadline == 0)
      s->deadline = s->period;
    if (s->deadline == 0)
      return bad(p, "process.scheduler.deadline", "SCHED_DEADLINE needs a deadline or a period (ns)");
    if (s->period == 0)
      s->period = s->deadline;
    if (s->runtime < 1024)
      return bad(p, "process.scheduler.runtime", "%llu ns is below the kernel's minimum of 1024 ns", s->runtime);
    /* A deadline task may not fork unless its children drop the
     * reservation; containers start through shells and helpers that fork,
     * so children revert to SCHED_OTHER (documented in docs/realtime.md). */
    s->flags |= 0x01; /* SCHED_FLAG_RESET_ON_FORK */
    if (!(s->runtime <= s->deadline && s->deadline <= s->period))
      return bad(p, "process.scheduler", "SCHED_DEADLINE needs runtime <= deadline <= period (got %llu, %llu, %llu ns)",
                 s->runtime, s->deadline, s->period);
  } else if (s->runtime || s->deadline || s->period) {
    return bad(p, "process.scheduler", "runtime/deadline/period apply to SCHED_DEADLINE only");
  }
  return 0;
}

static int parse_io_priority(struct pctx *p, json_t *proc, struct oci_process *pr)
{
  int rc;
  json_t *o = get_obj(p, proc, "ioPriority", "process.ioPriority", &rc);
  if (rc < 0 || o == NULL)
    return rc;
  cleanup_free char *cls = NULL;
  if ((rc = get_str(p, o, "class", "process.ioPriority.class", true, &cls)) < 0)
    return rc;
  if (strcmp(cls, "IOPRIO_CLASS_RT") == 0) pr->io_class = IOPRIO_CLASS_RT;
  else if (strcmp(cls, "IOPRIO_CLASS_BE") == 0) pr->io_class = IOPRIO_CLASS_BE;
  else if (strcmp(cls, "IOPRIO_CLASS_IDLE") == 0) pr->io_class = IOPRIO_CLASS_IDLE;
  else return bad(p, "process.ioPriority.class", "unknown class `%s`", cls);
  long long v = 0;
  if ((rc = get_int(p, o, "priority", "process.ioPriority.priority", 0, 7, &v)) < 0)
    return rc;
  pr->io_priority = (int) v;
  pr->has_io_priority = true;
  return 0;
}

static int parse_process(struct pctx *p, json_t *proc, const char *field, struct oci_process **out)
{
  (void) field;
  struct oci_process *pr = xmalloc0(sizeof *pr);
  *out = pr;
  int rc;
  if ((rc = get_bool(p, proc, "terminal", "process.terminal", &pr->terminal)) < 0)
    return rc;
  json_t *cs = get_obj(p, proc, "consoleSize", "process.consoleSize", &rc);
  if (rc < 0)
    return rc;
  if (cs != NULL) {
    long long v;
    if (get_int(p, cs, "height", "process.consoleSize.height", 0, 65535, &v) < 0)
      return -1;
    pr->console_height = (unsigned) v;
    v = 0;
    if (get_int(p, cs, "width", "process.consoleSize.width", 0, 65535, &v) < 0)
      return -1;
    pr->console_width = (unsigned) v;
  }
  if ((rc = get_strv(p, proc, "args", "process.args", true, &pr->args)) < 0)
    return rc;
  if (pr->args[0] == NULL)
    return bad(p, "process.args", "must not be empty: it names the program to run");
  if ((rc = get_strv(p, proc, "env", "process.env", false, &pr->env)) < 0)
    return rc;
  if (pr->env == NULL)
    pr->env = xmalloc0(sizeof(char *));
  for (size_t i = 0; pr->env[i]; i++)
    if (strchr(pr->env[i], '=') == NULL) {
      cleanup_free char *f = xasprintf("process.env[%zu]", i);
      return bad(p, f, "`%s` is not of the form KEY=VALUE", pr->env[i]);
    }
  if ((rc = get_str(p, proc, "cwd", "process.cwd", true, &pr->cwd)) < 0)
    return rc;
  if (pr->cwd[0] != '/')
    return bad(p, "process.cwd", "must be an absolute path (got `%s`)", pr->cwd);
  if ((rc = parse_user(p, proc, &pr->user)) < 0)
    return rc;
  if ((rc = parse_rlimits(p, proc, pr)) < 0)
    return rc;
  json_t *caps = get_obj(p, proc, "capabilities", "process.capabilities", &rc);
  if (rc < 0)
    return rc;
  if (caps != NULL) {
    if (parse_capset(p, caps, "bounding", &pr->bounding) < 0 ||
        parse_capset(p, caps, "effective", &pr->effective) < 0 ||
        parse_capset(p, caps, "inheritable", &pr->inheritable) < 0 ||
        parse_capset(p, caps, "permitted", &pr->permitted) < 0 ||
        parse_capset(p, caps, "ambient", &pr->ambient) < 0)
      return -1;
    /* Given the object, a set it leaves out is empty (as runc and crun
     * read it): `"capabilities": {}` is a process without capabilities,
     * not one that keeps the runtime's. */
    pr->bounding.present = pr->effective.present = pr->inheritable.present = pr->permitted.present =
        pr->ambient.present = true;
  }
  if ((rc = get_bool(p, proc, "noNewPrivileges", "process.noNewPrivileges", &pr->no_new_privileges)) < 0)
    return rc;
  long long v;
  if ((rc = get_int(p, proc, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &v)) < 0)
    return rc;
  if (rc > 0) {
    pr->has_oom_score_adj = true;
    pr->oom_score_adj = (int) v;
  }
  if ((rc = parse_scheduler(p, proc, &pr->scheduler)) < 0)
    return rc;
  if ((rc = parse_io_priority(p, proc, pr)) < 0)
    return rc;
  json_t *aff = get_obj(p, proc, "execCPUAffinity", "process.execCPUAffinity", &rc);
  if (rc < 0)
    return rc;
  if (aff != NULL) {
    if (get_str(p, aff, "initial", "process.execCPUAffinity.initial", false, &pr->exec_cpu_affinity_initial) < 0 ||
        get_str(p, aff, "final", "process.execCPUAffinity.final", false, &pr->exec_cpu_affinity_final) < 0)
      return -1;
  }
  if (get_str(p, proc, "apparmorProfile", "process.apparmorProfile", false, &pr->apparmor_profile) < 0 ||
      get_str(p, proc, "selinuxLabel", "process.selinuxLabel", false, &pr->selinux_label) < 0)
    return -1;
  return 0;
}

static int parse_id_mappings(struct pctx *p, json_t *lnx, const char *prefix, const char *key,
                             struct oci_id_mapping **out, size_t *n);

static int parse_mounts(struct pctx *p, json_t *doc, struct oci_config *c)
{
  int rc;
  json_t *arr = get_arr(p, doc, "mounts", "mounts", &rc);
  if (rc < 0 || arr == NULL)
    return rc;
  c->mounts = xmalloc0((json_array_size(arr) + 1) * sizeof *c->mounts);
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *m = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("mounts[%zu]", i);
    if (!json_is_object(m))
      return bad(p, f, "must be an object");
    struct oci_mount *mnt = &c->mounts[c->n_mounts++];
    cleanup_free char *fd = xasprintf("%s.destination", f);
    cleanup_free char *fs = xasprintf("%s.source", f);
    cleanup_free char *ft = xasprintf("%s.type", f);
    cleanup_free char *fo = xasprintf("%s.options", f);
    if (get_str(p, m, "destination", fd, true, &mnt->destination) < 0 ||
        get_str(p, m, "source", fs, false, &mnt->source) < 0 ||
        get_str(p, m, "type", ft, false, &mnt->type) < 0)
      return -1;
    if (mnt->destination[0] == '\0')
      return bad(p, fd, "must not be empty");
    cleanup_strv char **opts = NULL;
    if (get_strv(p, m, "options", fo, false, &opts) < 0)
      return -1;
    if (parse_id_mappings(p, m, f, "uidMappings", &mnt->uid_map, &mnt->n_uid_map) < 0 ||
        parse_id_mappings(p, m, f, "gidMappings", &mnt->gid_map, &mnt->n_gid_map) < 0)
      return -1;
    if ((mnt->n_uid_map > 0) != (mnt->n_gid_map > 0))
      return bad(p, f, "an id-mapped mount needs both uidMappings and gidMappings");
    mnt->idmap = mnt->n_uid_map > 0; /* mappings imply `idmap` */
    size_t dlen = 0;
    const char *prop_opt = NULL;
    for (size_t k = 0; opts && opts[k]; k++) {
      if (strcmp(opts[k], "idmap") == 0 || strcmp(opts[k], "ridmap") == 0) {
        mnt->idmap = true;
        mnt->idmap_recursive = opts[k][0] == 'r';
        continue;
      }
      if (strcmp(opts[k], "tmpcopyup") == 0) {
        mnt->copyup = true;
        continue;
      }
      if (recursive_mount_option(opts[k], mnt))
        continue;
      unsigned long before_set = mnt->flags, before_clear = mnt->clear_flags, before_prop = mnt->propagation;
      if (oci_mount_option(opts[k], mnt)) {
        /* ro with rw, nosuid with suid, ...: the later one would silently win. */
        unsigned long flipped = (before_set & mnt->clear_flags) | (before_clear & mnt->flags);
        if (flipped)
          return bad(p, fo, "conflicting options: `%s` contradicts an earlier option", opts[k]);
        if (before_prop && mnt->propagation != before_prop)
          return bad(p, fo, "conflicting propagation options `%s` and `%s`", prop_opt, opts[k]);
        if (mnt->propagation != before_prop)
          prop_opt = opts[k];
        continue;
      }
      /* Anything else is filesystem data (size=, mode=, uid=, ...), passed
       * to mount(2) as the spec says; for a bind mount the kernel ignores
       * it (runc and crun accept e.g. `mode=` there too). */
      size_t l = strlen(opts[k]);
      mnt->data = xrealloc(mnt->data, dlen + l + 2);
      if (dlen)
        mnt->data[dlen++] = ',';
      memcpy(mnt->data + dlen, opts[k], l + 1);
      dlen += l;
    }
    if (mnt->type != NULL && (strcmp(mnt->type, "bind") == 0 || strcmp(mnt->type, "rbind") == 0)) {
      mnt->bind = true;
      if (strcmp(mnt->type, "rbind") == 0)
        mnt->recursive = true;
    }
    if (!mnt->bind && mnt->type == NULL)
      return bad(p, ft, "missing: a mount needs a type unless it is a bind mount");
    if (mnt->idmap && !mnt->bind)
      return bad(p, fo, "id mapping (idmap, ridmap, uidMappings) only applies to bind mounts");
    if (mnt->copyup && (mnt->bind || mnt->type == NULL || strcmp(mnt->type, "tmpfs") != 0))
      return bad(p, fo, "`tmpcopyup` only applies to a tmpfs mount");
    if (mnt->bind && mnt->source == NULL)
      return bad(p, fs, "a bind mount needs a source");
  }
  return 0;
}

static int parse_hooks(struct pctx *p, json_t *doc, struct oci_config *c)
{
  int rc;
  json_t *hooks = get_obj(p, doc, "hooks", "hooks", &rc);
  if (rc < 0 || hooks == NULL)
    return rc;
  for (int k = 0; k < OCI_HOOK_KINDS; k++) {
    cleanup_free char *fk = xasprintf("hooks.%s", hook_kind_names[k]);
    json_t *arr = get_arr(p, hooks, hook_kind_names[k], fk, &rc);
    if (rc < 0)
      return rc;
    if (arr == NULL)
      continue;
    c->hooks[k] = xmalloc0((json_array_size(arr) + 1) * sizeof(struct oci_hook));
    for (size_t i = 0; i < json_array_size(arr); i++) {
      json_t *h = json_array_get(arr, i);
      cleanup_free char *f = xasprintf("%s[%zu]", fk, i);
      if (!json_is_object(h))
        return bad(p, f, "must be an object");
      struct oci_hook *hk = &c->hooks[k][c->n_hooks[k]++];
      cleanup_free char *fp = xasprintf("%s.path", f);
      cleanup_free char *fa = xasprintf("%s.args", f);
      cleanup_free char *fe = xasprintf("%s.env", f);
      cleanup_free char *ftm = xasprintf("%s.timeout", f);
      long long t = 0;
      if (get_str(p, h, "path", fp, true, &hk->path) < 0 || get_strv(p, h, "args", fa, false, &hk->args) < 0 ||
          get_strv(p, h, "env", fe, false, &hk->env) < 0 || get_int(p, h, "timeout", ftm, 1, INT_MAX, &t) < 0)
        return -1;
      if (hk->path[0] != '/')
        return bad(p, fp, "must be an absolute path (got `%s`)", hk->path);
      hk->timeout = (int) t;
    }
  }
  return 0;
}

static int parse_id_mappings(struct pctx *p, json_t *lnx, const char *prefix, const char *key,
                             struct oci_id_mapping **out, size_t *n)
{
  int rc;
  cleanup_free char *fk = xasprintf("%s.%s", prefix, key);
  json_t *arr = get_arr(p, lnx, key, fk, &rc);
  if (rc < 0 || arr == NULL)
    return rc;
  *out = xmalloc0((json_array_size(arr) + 1) * sizeof **out);
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *m = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("%s[%zu]", fk, i);
    if (!json_is_object(m))
      return bad(p, f, "must be an object");
    long long a = -1, b = -1, s = -1;
    cleanup_free char *f1 = xasprintf("%s.containerID", f);
    cleanup_free char *f2 = xasprintf("%s.hostID", f);
    cleanup_free char *f3 = xasprintf("%s.size", f);
    if (get_int(p, m, "containerID", f1, 0, UINT32_MAX, &a) < 0 || get_int(p, m, "hostID", f2, 0, UINT32_MAX, &b) < 0 ||
        get_int(p, m, "size", f3, 1, UINT32_MAX, &s) < 0)
      return -1;
    if (a < 0 || b < 0 || s < 0)
      return bad(p, f, "needs containerID, hostID and size");
    (*out)[*n].container_id = (unsigned) a;
    (*out)[*n].host_id = (unsigned) b;
    (*out)[*n].size = (unsigned) s;
    (*n)++;
  }
  return 0;
}

static int parse_namespaces(struct pctx *p, json_t *lnx, struct oci_config *c)
{
  int rc;
  json_t *arr = get_arr(p, lnx, "namespaces", "linux.namespaces", &rc);
  if (rc < 0 || arr == NULL)
    return rc;
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *ns = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("linux.namespaces[%zu]", i);
    if (!json_is_object(ns))
      return bad(p, f, "must be an object");
    cleanup_free char *ft = xasprintf("%s.type", f);
    cleanup_free char *fp = xasprintf("%s.path", f);
    cleanup_free char *type = NULL;
    char *path = NULL;
    if (get_str(p, ns, "type", ft, true, &type) < 0 || get_str(p, ns, "path", fp, false, &path) < 0)
      return -1;
    int t = oci_namespace_type(type);
    if (t < 0) {
      free(path);
      return bad(p, ft, "unknown namespace type `%s` (pid, network, mount, ipc, uts, user, cgroup, time)", type);
    }
    if (oci_config_namespace(c, t) != NULL) {
      free(path);
      return bad(p, ft, "duplicate namespace `%s`", type);
    }
    if (path != NULL && path[0] == '\0') {
      free(path);
      path = NULL;
    }
    if (path != NULL && path[0] != '/') {
      free(path);
      return bad(p, fp, "must be an absolute path");
    }
    c->namespaces[c->n_namespaces].type = t;
    c->namespaces[c->n_namespaces].path = path;
    c->n_namespaces++;
  }
  return 0;
}

static int parse_devices(struct pctx *p, json_t *lnx, struct oci_config *c)
{
  int rc;
  json_t *arr = get_arr(p, lnx, "devices", "linux.devices", &rc);
  if (rc < 0 || arr == NULL)
    return rc;
  c->devices = xmalloc0((json_array_size(arr) + 1) * sizeof *c->devices);
  for (size_t i = 0; i < json_array_size(arr); i++) {
    json_t *d = json_array_get(arr, i);
    cleanup_free char *f = xasprintf("linux.devices[%zu]", i);
    if (!json_is_object(d))
      return bad(p, f, "must be an object");
    struct oci_device *dev = &c->devices[c->n_devices++];
    cleanup_free char *fp = xasprintf("%s.path", f);
    cleanup_free char *ft = xasprintf("%s.type", f);
    cleanup_free char *type = NULL;
    if (get_str(p, d, "path", fp, true, &dev->path) < 0 || get_str(p, d, "type", ft, true, &type) < 0)
      return -1;
    if (dev->path[0] != '/')
      return bad(p, fp, "must be an absolute path");
    if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
      return bad(p, ft, "unknown device type `%s` (c, b, u or p)", type);
    dev->type = type[0];
    long long v;
    cleanup_free char *fma = xasprintf("%s.major", f);
    cleanup_free char *fmi = xasprintf("%s.minor", f);
    cleanup_free char *fm = xasprintf("%s.fileMode", f);
    cleanup_free char *fu = xasprintf("%s.uid", f);
    cleanup_free char *fg = xasprintf("%s.gid", f);
    int r1 = get_int(p, d, "major", fma, 0, UINT32_MAX, &dev->major);
    int r2 = get_int(p, d, "minor", fmi, 0, UINT32_MAX, &dev->minor);
    if (r1 < 0 || r2 < 0)
      return -1;
    if (dev->type != 'p' && (r1 == 0 || r2 == 0))
      return bad(p, f, "a `%c` device needs major and minor numbers", dev->type);
    if ((rc = get_int(p, d, "fileMode", fm, 0, 07777, &v)) < 0)
      return rc;
    if (rc > 0) {
      dev->has_mode = true;
      dev->mode = (mode_t) v;
    }
    if ((rc = get_int(p, d, "uid", fu, 0, UINT32_MAX - 1, &v)) < 0)
      return rc;
    if (rc > 0) {
      dev->has_uid = true;
      dev->uid = (uid_t) v;
    }
    if ((rc = get_int(p, d, "gid", fg, 0, UINT32_MAX - 1, &v)) < 0)
      return rc;
    if (rc > 0) {
      dev->has_gid = true;
      dev->gid = (gid_t) v;
    }
  }
  return 0;
}

/* linux.memoryPolicy: names as in <linux/mempolicy.h>. */
static const struct { const char *name; int mode; bool needs_nodes, no_nodes; } mempolicy_modes[] = {
  {"MPOL_DEFAULT", 0, false, true}, {"MPOL_PREFERRED", 1, false, false}, {"MPOL_BIND", 2, true, false},
  {"MPOL_INTERLEAVE", 3, true, false}, {"MPOL_LOCAL", 4, false, true}, {"MPOL_PREFERRED_MANY", 5, true, false},
  {"MPOL_WEIGHTED_INTERLEAVE", 6, true, false},
};
static const struct { const char *name; unsigned flag; } mempolicy_flags[] = {
  {"MPOL_F_NUMA_BALANCING", 1u << 13}, {"MPOL_F_RELATIVE_NODES", 1u << 14}, {"MPOL_F_STATIC_NODES", 1u << 15},
};

static int parse_memory_policy(struct pctx *p, json_t *lnx, struct oci_config *c)
{
  int rc;
  json_t *mp = get_obj(p, lnx, "memoryPolicy", "linux.memoryPolicy", &rc);
  if (rc < 0 || mp == NULL)
    return rc;
  cleanup_free char *mode = NULL;
  if (get_str(p, mp, "mode", "linux.memoryPolicy.mode", true, &mode) < 0 ||
      get_str(p, mp, "nodes", "linux.memoryPolicy.nodes", false, &c->mempolicy_nodes) < 0)
    return -1;
  size_t i = 0, n = sizeof mempolicy_modes / sizeof mempolicy_modes[0];
  while (i < n && strcmp(mode, mempolicy_modes[i].name) != 0)
    i++;
  if (i == n)
    return bad(p, "linux.memoryPolicy.mode", "unknown mode `%s`", mode);
  bool has_nodes = c->mempolicy_nodes != NULL && *c->mempolicy_nodes != '\0';
  if (mempolicy_modes[i].needs_nodes && !has_nodes)
    return bad(p, "linux.memoryPolicy.nodes", "%s needs at least one node", mode);
  if (mempolicy_modes[i].no_nodes && has_nodes)
    return bad(p, "linux.memoryPolicy.nodes", "%s takes no nodes", mode);
  c->mempolicy_mode = mempolicy_modes[i].mode;
  cleanup_strv char **flags = NULL;
  if (get_strv(p, mp, "flags", "linux.memoryPolicy.flags", false, &flags) < 0)
    return -1;
  for (size_t k = 0; flags && flags[k]; k++) {
    size_t j = 0, nf = sizeof mempolicy_flags / sizeof mempolicy_flags[0];
    while (j < nf && strcmp(flags[k], mempolicy_flags[j].name) != 0)
      j++;
    if (j == nf)
      return bad(p, "linux.memoryPolicy.flags", "unknown flag `%s`", flags[k]);
    c->mempolicy_flags |= mempolicy_flags[j].flag;
  }
  c->has_memory_policy = true;
  return 0;
}

static const struct { const char *name; unsigned long value; } personality_domains[] = {
  {"LINUX", PER_LINUX}, {"LINUX32", PER_LINUX32},
};

static int parse_linux(struct pctx *p, json_t *doc, struct oci_config *c)
{
  int rc;
  json_t *lnx = get_obj(p, doc, "linux", "linux", &rc);
  if (rc < 0 || lnx == NULL)
    return rc;
  c->has_linux = true;
  if (parse_namespaces(p, lnx, c) < 0 || parse_id_mappings(p, lnx, "linux", "uidMappings", &c->uid_mappings, &c->n_uid_mappings) < 0 ||
      parse_id_mappings(p, lnx, "linux", "gidMappings", &c->gid_mappings, &c->n_gid_mappings) < 0 || parse_devices(p, lnx, c) < 0)
    return -1;
  if (get_str(p, lnx, "cgroupsPath", "linux.cgroupsPath", false, &c->cgroups_path) < 0)
    return -1;
  c->resources = get_obj(p, lnx, "resources", "linux.resources", &rc);
  if (rc < 0)
    return rc;
  c->sysctl = get_obj(p, lnx, "sysctl", "linux.sysctl", &rc);
  if (rc < 0)
    return rc;
  const char *key;
  json_t *val;
  json_object_foreach(c->sysctl, key, val) {
    if (!json_is_string(val)) {
      cleanup_free char *f = xasprintf("linux.sysctl.%s", key);
      return bad(p, f, "must be a string");
    }
  }
  c->seccomp = get_obj(p, lnx, "seccomp", "linux.seccomp", &rc);
  if (rc < 0)
    return rc;
  if (get_strv(p, lnx, "maskedPaths", "linux.maskedPaths", false, &c->masked_paths) < 0 ||
      get_strv(p, lnx, "readonlyPaths", "linux.readonlyPaths", false, &c->readonly_paths) < 0)
    return -1;
  cleanup_free char *prop = NULL;
  if (get_str(p, lnx, "rootfsPropagation", "linux.rootfsPropagation", false, &prop) < 0)
    return -1;
  if (prop != NULL && *prop) {
    c->rootfs_propagation = propagation_by_name(prop);
    if (c->rootfs_propagation == 0)
      return bad(p, "linux.rootfsPropagation", "unknown propagation `%s`", prop);
  }
  json_t *pers = get_obj(p, lnx, "personality", "linux.personality", &rc);
  if (rc < 0)
    return rc;
  if (pers != NULL) {
    cleanup_free char *dom = NULL;
    if (get_str(p, pers, "domain", "linux.personality.domain", true, &dom) < 0)
      return -1;
    bool found = false;
    for (size_t i = 0; i < sizeof personality_domains / sizeof personality_domains[0]; i++)
      if (strcmp(dom, personality_domains[i].name) == 0) {
        c->has_personality = found = true;
        c->personality = personality_domains[i].value;
      }
    if (!found)
      return bad(p, "linux.personality.domain", "unknown domain `%s` (LINUX, LINUX32)", dom);
  }
  c->time_offsets = get_obj(p, lnx, "timeOffsets", "linux.timeOffsets", &rc);
  if (rc < 0)
    return rc;
  if (parse_memory_policy(p, lnx, c) < 0)
    return -1;
  json_t *rdt = json_object_get(lnx, "intelRdt");
  if (rdt != NULL && !json_is_null(rdt))
    return bad(p, "linux.intelRdt", "Intel RDT is not supported by edgecr (no resctrl support)");
  /* Cross-field checks. */
  const struct oci_namespace *user = oci_config_namespace(c, CLONE_NEWUSER);
  if ((c->n_uid_mappings || c->n_gid_mappings) && user == NULL)
    return bad(p, "linux.uidMappings", "id mappings need a user namespace in linux.namespaces");
  if (user != NULL && user->path == NULL && (c->n_uid_mappings == 0 || c->n_gid_mappings == 0))
    return bad(p, "linux.namespaces", "a new user namespace needs linux.uidMappings and linux.gidMappings");
  if (c->time_offsets != NULL && oci_config_namespace(c, CLONE_NEWTIME) == NULL)
    return bad(p, "linux.timeOffsets", "time offsets need a time namespace in linux.namespaces");
  if (c->sysctl != NULL && json_object_size(c->sysctl) > 0) {
    json_object_foreach(c->sysctl, key, val) {
      bool net = str_has_prefix(key, "net.");
      bool ipc = str_has_prefix(key, "kernel.shm") || str_has_prefix(key, "kernel.msg") ||
                 strcmp(key, "kernel.sem") == 0 || str_has_prefix(key, "fs.mqueue.");
      bool uts = strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0;
      cleanup_free char *f = xasprintf("linux.sysctl.%s", key);
      if (net && (oci_config_namespace(c, CLONE_NEWNET) == NULL))
        return bad(p, f, "a net.* sysctl needs a network namespace (it would change the host)");
      if (ipc && oci_config_namespace(c, CLONE_NEWIPC) == NULL)
        return bad(p, f, "an IPC sysctl needs an ipc namespace (it would change the host)");
      /* The host name is `hostname`'s alone (runc and crun refuse the
       * sysctl too); kernel.domainname is allowed in the container's own
       * UTS namespace, as crun does, unless it contradicts `domainname`. */
      if (uts && strcmp(key, "kernel.hostname") == 0)
        return bad(p, f, "set the host name with `hostname`, not sysctl");
      if (uts) {
        if (oci_config_namespace(c, CLONE_NEWUTS) == NULL)
          return bad(p, f, "needs a uts namespace (it would change the host's domain name)");
        if (!json_is_string(val))
          return bad(p, f, "must be a string");
        if (c->domainname != NULL && strcmp(c->domainname, json_string_value(val)) != 0)
          return bad(p, f, "`%s` contradicts `domainname` (`%s`)", json_string_value(val), c->domainname);
        continue;
      }
      if (!net && !ipc)
        return bad(p, f, "not a namespaced sysctl: it would change the host");
    }
  }
  return 0;
}

static int parse_document(struct pctx *p, json_t *doc, struct oci_config *c)
{
  int rc;
  if (!json_is_object(doc))
    return bad(p, "(top level)", "must be a JSON object");
  if (get_str(p, doc, "ociVersion", "ociVersion", true, &c->oci_version) < 0)
    return -1;
  if (strncmp(c->oci_version, "1.", 2) != 0)
    return bad(p, "ociVersion", "unsupported version `%s` (edgecr implements 1.x)", c->oci_version);
  json_t *root = get_obj(p, doc, "root", "root", &rc);
  if (rc < 0)
    return rc;
  if (root == NULL)
    return bad(p, "root", "missing (required)");
  cleanup_free char *rpath = NULL;
  if (get_str(p, root, "path", "root.path", true, &rpath) < 0 || get_bool(p, root, "readonly", "root.readonly", &c->root_readonly) < 0)
    return -1;
  c->root_path = rpath[0] == '/' ? xstrdup(rpath) : xasprintf("%s/%s", c->bundle, rpath);
  if (get_str(p, doc, "hostname", "hostname", false, &c->hostname) < 0 ||
      get_str(p, doc, "domainname", "domainname", false, &c->domainname) < 0)
    return -1;
  json_t *proc = get_obj(p, doc, "process", "process", &rc);
  if (rc < 0)
    return rc;
  if (proc != NULL && parse_process(p, proc, "process", &c->process) < 0)
    return -1;
  if (parse_mounts(p, doc, c) < 0 || parse_hooks(p, doc, c) < 0 || parse_linux(p, doc, c) < 0)
    return -1;
  json_t *ann = get_obj(p, doc, "annotations", "annotations", &rc);
  if (rc < 0)
    return rc;
  const char *k;
  json_t *v;
  json_object_foreach(ann, k, v) {
    if (!json_is_string(v)) {
      cleanup_free char *f = xasprintf("annotations.%s", k);
      return bad(p, f, "must be a string");
    }
  }
  c->annotations = ann ? json_incref(ann) : json_object();
  if ((c->hostname || c->domainname) && oci_config_namespace(c, CLONE_NEWUTS) == NULL)
    return bad(p, c->hostname ? "hostname" : "domainname", "setting it needs a uts namespace in linux.namespaces");
  return 0;
}

/* jansson keeps integers as int64 and refuses larger ones, but the OCI spec
 * has uint64 fields whose "unlimited" is 2^64-1 (docker writes it for
 * rlimits).  Integer literals above INT64_MAX get a ".0" so they parse as
 * reals; get_u64() maps those back (anything that large means unlimited). */
static char *widen_big_integers(const char *text)
{
  size_t n = strlen(text);
  char *out = xmalloc0(n + n / 8 + 16);
  size_t o = 0;
  bool in_str = false;
  for (size_t i = 0; i < n;) {
    char ch = text[i];
    if (in_str) {
      out[o++] = ch;
      if (ch == '\\' && i + 1 < n)
        out[o++] = text[++i];
      else if (ch == '"')
        in_str = false;
      i++;
      continue;
    }
    if (ch == '"') {
      in_str = true;
      out[o++] = text[i++];
      continue;
    }
    bool starts_number = (ch >= '0' && ch <= '9') && (i == 0 || !strchr("0123456789.eE+-", text[i - 1]));
    if (!starts_number) {
      out[o++] = text[i++];
      continue;
    }
    size_t j = i;
    while (j < n && text[j] >= '0' && text[j] <= '9')
      j++;
    bool is_integer = j >= n || !strchr(".eE", text[j]);
    bool big = (j - i > 19) || (j - i == 19 && strncmp(text + i, "9223372036854775807", 19) > 0);
    memcpy(out + o, text + i, j - i);
    o += j - i;
    if (is_integer && big && o + 3 < n + n / 8 + 16) {
      out[o++] = '.';
      out[o++] = '0';
    }
    i = j;
  }
  out[o] = '\0';
  return out;
}

int oci_config_parse(const char *bundle, const char *name, const char *text, struct oci_config **out,
                     edgecr_error_t *err)
{
  json_error_t jerr;
  struct pctx p = {.file = name, .err = err};
  cleanup_free char *widened = widen_big_integers(text);
  json_t *doc = json_loads(widened, JSON_REJECT_DUPLICATES, &jerr);
  if (doc == NULL)
    return edgecr_error_invalid(err, "%s:%d:%d: invalid JSON: %s", name, jerr.line, jerr.column, jerr.text);
  struct oci_config *c = xmalloc0(sizeof *c);
  c->path = xstrdup(name);
  c->bundle = xstrdup(bundle);
  c->doc = doc;
  if (parse_document(&p, doc, c) < 0) {
    oci_config_free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int oci_config_load(const char *bundle, struct oci_config **out, edgecr_error_t *err)
{
  cleanup_free char *abs = NULL;
  if (bundle == NULL || *bundle == '\0')
    bundle = ".";
  abs = realpath(bundle, NULL);
  if (abs == NULL)
    return edgecr_error_make(err, errno, "bundle `%s`", bundle);
  cleanup_free char *path = xasprintf("%s/config.json", abs);
  cleanup_free char *text = NULL;
  if (read_all_file(path, &text, err) < 0)
    return edgecr_error_wrap(err, "load bundle");
  return oci_config_parse(abs, path, text, out, err);
}

int oci_process_parse(json_t *obj, const char *name, const char *field, struct oci_process **out,
                      edgecr_error_t *err)
{
  struct pctx p = {.file = name, .err = err};
  if (!json_is_object(obj))
    return bad(&p, field, "must be an object");
  struct oci_process *pr = NULL;
  if (parse_process(&p, obj, field, &pr) < 0) {
    oci_process_free(pr);
    return -1;
  }
  *out = pr;
  return 0;
}

static void capset_free(struct oci_capset *s)
{
  free(s->caps);
  free(s->unknown);
}

void oci_process_free(struct oci_process *p)
{
  if (p == NULL)
    return;
  strv_free(p->args);
  strv_free(p->env);
  free(p->cwd);
  free(p->user.additional_gids);
  free(p->rlimits);
  capset_free(&p->bounding);
  capset_free(&p->effective);
  capset_free(&p->inheritable);
  capset_free(&p->permitted);
  capset_free(&p->ambient);
  free(p->exec_cpu_affinity_initial);
  free(p->exec_cpu_affinity_final);
  free(p->apparmor_profile);
  free(p->selinux_label);
  free(p);
}

void oci_config_free(struct oci_config *c)
{
  if (c == NULL)
    return;
  free(c->path);
  free(c->bundle);
  free(c->oci_version);
  free(c->root_path);
  free(c->hostname);
  free(c->domainname);
  oci_process_free(c->process);
  for (size_t i = 0; i < c->n_mounts; i++) {
    free(c->mounts[i].destination);
    free(c->mounts[i].source);
    free(c->mounts[i].type);
    free(c->mounts[i].data);
    free(c->mounts[i].uid_map);
    free(c->mounts[i].gid_map);
  }
  free(c->mounts);
  for (int k = 0; k < OCI_HOOK_KINDS; k++) {
    for (size_t i = 0; i < c->n_hooks[k]; i++) {
      free(c->hooks[k][i].path);
      strv_free(c->hooks[k][i].args);
      strv_free(c->hooks[k][i].env);
    }
    free(c->hooks[k]);
  }
  json_decref(c->annotations);
  for (size_t i = 0; i < c->n_namespaces; i++)
    free(c->namespaces[i].path);
  free(c->uid_mappings);
  free(c->gid_mappings);
  for (size_t i = 0; i < c->n_devices; i++)
    free(c->devices[i].path);
  free(c->devices);
  free(c->cgroups_path);
  strv_free(c->masked_paths);
  strv_free(c->readonly_paths);
  free(c->mempolicy_nodes);
  json_decref(c->doc);
  free(c);
}

void oci_config_cleanup(struct oci_config **c)
{
  oci_config_free(*c);
  *c = NULL;
}
