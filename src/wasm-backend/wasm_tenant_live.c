/* wasm_tenant_live.c - `edgecr update --metadata FILE ID`: new signed
 * metadata for a running WebAssembly tenant, applied without a restart
 * (docs/tenants.md, "Changing a running tenant").
 *
 * Under the container's lock: the file is verified like at create (trust
 * directory, node policy, expiry, the running module's digest, recorded at
 * create as org.edgecr.tenant.module), must name the same tenant id and a
 * version above the running one (and not below this node's record), and
 * the schedule it sets must be admissible.  Only then, in this order: the
 * version record is raised, the state's annotations are saved, and the
 * payload is posted on the container's control page (tenant_control.h),
 * where the tenant takes it at its next host call.  `update` waits a
 * little for the tenant's answer; if the tenant refuses it (it repeats the
 * id/module/version checks), the record and the annotations are put back.
 * A refused update changes nothing.
 *
 * A tenant running under SCHED_DEADLINE whose schedule changes gets its
 * kernel reservation changed here, before the payload is posted (so before
 * the tenant's next release reads the new period): sched_setattr on every
 * thread of the container's init.  `update` does it rather than the tenant
 * because a SCHED_DEADLINE task may change its own parameters only with
 * CAP_SYS_NICE, which a container does not have by default.  The kernel's
 * admission (EBUSY) refuses the update and leaves the old reservation. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tenant_control.h"
#include "tenant_linux.h"
#include "util.h"
#include "wasm_backend.h"

#define ANN_ID "org.edgecr.tenant.id"
#define ANN_VERSION "org.edgecr.tenant.version"
#define ANN_MODULE "org.edgecr.tenant.module"

static const char *ann(struct container *c, const char *key)
{
  return json_string_value(json_object_get(c->state->annotations, key));
}

static int hexval(char ch)
{
  return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "sha256:<64 hex>" -> 32 bytes. */
static int parse_digest(const char *s, uint8_t out[TENANT_DIGEST_LEN])
{
  if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 2 * TENANT_DIGEST_LEN)
    return -1;
  for (size_t i = 0; i < TENANT_DIGEST_LEN; i++) {
    int hi = hexval(s[7 + 2 * i]), lo = hexval(s[8 + 2 * i]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t) (hi << 4 | lo);
  }
  return 0;
}

/* What the running tenant is, from the state create recorded. */
static int running_tenant(struct container *c, uint64_t *version, uint8_t module[TENANT_DIGEST_LEN],
                          edgecr_error_t *err)
{
  if (strcmp(c->ops->name, "wasm") != 0)
    return edgecr_error_invalid(err, "container `%s` is not a WebAssembly container (backend %s): it has no "
                                "tenant metadata", c->id, c->ops->name);
  if (c->ops->status(c) == STATUS_STOPPED)
    return edgecr_error_invalid(err, "container `%s` is stopped", c->id);
  unsigned long long v;
  if (ann(c, ANN_ID) == NULL)
    return edgecr_error_invalid(err, "container `%s` was created without tenant metadata: there is no tenant "
                                "to update", c->id);
  if (parse_uint64(ann(c, ANN_VERSION), &v) < 0 || parse_digest(ann(c, ANN_MODULE), module) < 0)
    return edgecr_error_invalid(err, "container `%s`: its state has no valid %s / %s", c->id, ANN_VERSION,
                                ANN_MODULE);
  *version = v;
  return 0;
}

static bool same_schedule(const struct tenant_meta *a, const struct tenant_meta *b)
{
  const struct tenant_schedule *x = &a->schedule, *y = &b->schedule;
  if (!a->has_schedule || !b->has_schedule)
    return a->has_schedule == b->has_schedule;
  return x->priority == y->priority && x->period_ns == y->period_ns && x->budget_ns == y->budget_ns &&
         x->deadline_ns == y->deadline_ns && x->start_limit_ns == y->start_limit_ns &&
         x->stop_limit_ns == y->stop_limit_ns;
}

/* An update that changes the schedule must not make the node's admitted
 * real-time load unschedulable: the caller's admission check (the plan
 * analysis, plan_admit_schedule, which lives in edgecr-plan) judges it.
 * The running schedule is the one of the payload in force on the control
 * page; unchanged, nothing is asked (an update of permissions alone never
 * depends on the node's load). */
static int wb_tenant_schedule_check(struct container *c, const struct wb_tenant_update *u,
                                    const struct tenant_meta *next, edgecr_error_t *err)
{
  static uint8_t buf[TENANT_META_MAX_BYTES];
  struct tenant_control *page = tenant_control_open(c->dir, false, err);
  if (page == NULL)
    return edgecr_error_wrap(err, "container `%s`: no tenant control page", c->id);
  size_t len = tenant_control_payload(page, buf);
  tenant_control_close(page);
  struct tenant_meta cur;
  struct tenant_err e;
  if (len > 0 && tenant_meta_decode(buf, len, &cur, &e) == 0 && same_schedule(&cur, next))
    return 0;
  if (u->admit_schedule == NULL)
    return 0;
  char *why = NULL;
  if (u->admit_schedule(u->admit_ctx, c->id, u->file, &why) < 0) {
    edgecr_error_invalid(err, "%s: schedule not admissible: %s", u->file, why ? why : "(no reason given)");
    free(why);
    return -1;
  }
  return 0;
}

/* ---- the SCHED_DEADLINE reservation ---- */

struct dl_attr {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

/* Every thread of process pid (its tasks), or pid alone without /proc. */
static size_t tasks_of(pid_t pid, pid_t *out, size_t cap)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
  DIR *d = opendir(path);
  size_t n = 0;
  for (struct dirent *e; d != NULL && n < cap && (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.')
      out[n++] = (pid_t) atoi(e->d_name);
  if (d != NULL)
    closedir(d);
  if (n == 0)
    out[n++] = pid;
  return n;
}

/* Set a on the tasks; on a refusal put back the ones already changed
 * (their old attributes in old[]) and return the errno. */
static int set_tasks(const pid_t *t, size_t n, const struct dl_attr *a, const struct dl_attr *old)
{
  for (size_t i = 0; i < n; i++) {
    if (syscall(SYS_sched_setattr, t[i], a, 0) == 0 || errno == ESRCH)
      continue;
    int e = errno;
    while (i-- > 0)
      syscall(SYS_sched_setattr, t[i], &old[i], 0);
    return e;
  }
  return 0;
}

/* The running tenant's reservation, *old per task, moved to m's schedule
 * when both are SCHED_DEADLINE and differ; *n = 0 when nothing changed. */
static int wb_tenant_reserve(struct container *c, const struct tenant_meta *m, pid_t *t, struct dl_attr *old,
                             size_t *n, edgecr_error_t *err)
{
  struct oci_scheduler s;
  size_t cnt = 0;
  *n = 0;
  if (c->state->pid <= 0 || !m->has_schedule || !wb_schedule_policy(&m->schedule, &s) || s.policy != 6)
    return 0;
  cnt = tasks_of(c->state->pid, t, 64);
  for (size_t i = 0; i < cnt; i++)
    if (syscall(SYS_sched_getattr, t[i], &old[i], sizeof old[i], 0) < 0 || old[i].policy != 6)
      return 0; /* not (or no longer) a deadline task: nothing of the kernel's to change */
  struct dl_attr a = {.size = sizeof a, .policy = 6, .flags = s.flags, .runtime = s.runtime,
                      .deadline = s.deadline, .period = s.period};
  if (old[0].runtime == a.runtime && old[0].deadline == a.deadline && old[0].period == a.period)
    return 0;
  int e = set_tasks(t, cnt, &a, old);
  if (e == EBUSY)
    return edgecr_error_make(err, e, "schedule not admissible: the kernel refused the new SCHED_DEADLINE "
                             "reservation (runtime %llu ns / deadline %llu ns / period %llu ns): admission control "
                             "found not enough deadline bandwidth; the old reservation stays", s.runtime,
                             s.deadline, s.period);
  if (e != 0)
    return edgecr_error_make(err, e, "schedule: cannot change the SCHED_DEADLINE reservation of the tenant's "
                             "process %d", (int) c->state->pid);
  *n = cnt;
  return 0;
}

/* The new metadata, verified against the running tenant. */
static int verify_update(struct container *c, const struct wb_tenant_update *u, const uint8_t *buf, size_t len,
                         struct tenant_meta *m, edgecr_error_t *err)
{
  uint64_t running = 0;
  enum tenant_policy policy;
  struct tenant_verify_opts o = {.trust_dir = tenant_trust_dir(NULL), .check_module = true,
                                 .module_name = "(the running module)", .now = (uint64_t) time(NULL)};
  if (running_tenant(c, &running, o.module_sha256, err) < 0 || tenant_policy_get(NULL, &policy, err) < 0)
    return -1;
  o.allow_unsigned = policy == TENANT_POLICY_ALLOW_UNSIGNED;
  if (tenant_verify(buf, len, u->file, &o, m, err) < 0)
    return -1;
  if (strcmp(m->id, ann(c, ANN_ID)) != 0)
    return edgecr_error_invalid(err, "%s: tenant id mismatch: the metadata is for tenant `%s`, container `%s` "
                                "runs tenant `%s`", u->file, m->id, c->id, ann(c, ANN_ID));
  if (m->version <= running)
    return edgecr_error_invalid(err, "%s: not newer: version %llu is not above the running version %llu (an "
                                "update needs a higher version)", u->file, (unsigned long long) m->version,
                                (unsigned long long) running);
  return wb_tenant_schedule_check(c, u, m, err);
}

/* The bytes the tenant decodes: the signed payload, or the bare payload. */
static int payload_of(const uint8_t *buf, size_t len, const uint8_t **p, size_t *n)
{
  *p = buf;
  *n = len;
  if (tenant_form_of(buf, len) != TENANT_FORM_SIGN1)
    return 0;
  struct tenant_cose cose;
  struct tenant_err e;
  if (tenant_cose_decode(buf, len, &cose, &e) < 0) /* verified already: cannot happen */
    return -1;
  *p = cose.payload;
  *n = cose.payload_len;
  return 0;
}

/* Put the record and the annotations back (the tenant refused, or the
 * state could not be saved). */
static void roll_back(struct container *c, json_t *saved_ann, const char *dir, const char *id,
                      const struct tenant_version *prev)
{
  edgecr_error_t e = NULL;
  json_object_clear(c->state->annotations);
  json_object_update(c->state->annotations, saved_ann);
  if (container_save_state(c, &e) < 0 || tenant_version_store(dir, id, prev, &e) < 0) {
    log_warning("tenant update of `%s`: undo: %s", c->id, e->msg);
    edgecr_error_release(&e);
  }
}

/* Record, annotate, post, wait: the update is in. */
static int deliver(struct container *c, struct wb_tenant_update *u, const struct tenant_meta *m, const uint8_t *buf,
                   size_t len, edgecr_error_t *err)
{
  const uint8_t *payload;
  size_t plen;
  if (payload_of(buf, len, &payload, &plen) < 0)
    return edgecr_error_invalid(err, "%s: not COSE_Sign1", u->file);
  struct tenant_control *page = tenant_control_open(c->dir, true, err);
  if (page == NULL)
    return edgecr_error_wrap(err, "container `%s`: no tenant control page", c->id);
  const char *dir = tenant_state_dir(NULL);
  cleanup_close int lock = -1;
  struct tenant_version prev, next = {.known = true, .version = m->version};
  json_t *saved_ann = json_deep_copy(c->state->annotations);
  int rc = -1;
  if (tenant_version_lock(dir, m->id, &lock, err) < 0 || tenant_version_load(dir, m->id, &prev, err) < 0)
    goto out;
  if (prev.known && m->version < prev.version) {
    edgecr_error_invalid(err, "%s: older version: version %llu is older than the running version %llu (the highest "
                         "this node accepted for tenant `%s`)", u->file, (unsigned long long) m->version,
                         (unsigned long long) prev.version, m->id);
    goto out;
  }
  if (tenant_version_store(dir, m->id, &next, err) < 0)
    goto out;
  wb_tenant_annotate(c, m, tenant_form_of(buf, len) != TENANT_FORM_PLAIN, buf, len);
  if (container_save_state(c, err) < 0) {
    roll_back(c, saved_ann, dir, m->id, &prev);
    goto out;
  }
  static uint8_t in_force[TENANT_META_MAX_BYTES]; /* put back if the tenant refuses */
  size_t in_force_len = tenant_control_payload(page, in_force);
  uint32_t gen = tenant_control_post(page, payload, plen);
  int trc = 0;
  u->answered = page->running &&
                tenant_control_wait(page, gen, u->wait_ms, &trc, u->reason, sizeof u->reason) == 1;
  if (u->answered && trc != 0) {
    tenant_control_set_payload(page, in_force, in_force_len);
    roll_back(c, saved_ann, dir, m->id, &prev);
    edgecr_error_invalid(err, "%s: the tenant refused the update: %s", u->file, u->reason);
    goto out;
  }
  u->version = m->version;
  snprintf(u->id, sizeof u->id, "%s", m->id);
  rc = 0;
out:
  json_decref(saved_ann);
  tenant_control_close(page);
  return rc;
}

int wb_tenant_update(struct container *c, void *data, edgecr_error_t *err)
{
  struct wb_tenant_update *u = data;
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_file(u->file, &buf, err);
  struct tenant_meta m;
  pid_t tasks[64];
  struct dl_attr old[64];
  size_t changed = 0;
  if (len < 0 || verify_update(c, u, buf, (size_t) len, &m, err) < 0 ||
      wb_tenant_reserve(c, &m, tasks, old, &changed, err) < 0)
    return edgecr_error_wrap(err, "update of container `%s` refused", c->id);
  if (deliver(c, u, &m, buf, (size_t) len, err) < 0) {
    for (size_t i = 0; i < changed; i++) /* the old reservation, as before */
      syscall(SYS_sched_setattr, tasks[i], &old[i], 0);
    return edgecr_error_wrap(err, "update of container `%s` refused", c->id);
  }
  if (tenant_form_of(buf, (size_t) len) == TENANT_FORM_PLAIN)
    log_warning("container `%s`: tenant `%s`: unsigned metadata `%s` accepted by the node policy allow-unsigned "
                "(for development only)", c->id, m.id, u->file);
  return 0;
}
