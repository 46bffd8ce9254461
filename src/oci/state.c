/* state.c - atomic load/save of state.json, id validation, pid liveness. */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

bool container_id_valid(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return false;
  for (const char *p = id; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '+' || c == '-' || c == '.';
    if (!ok)
      return false;
  }
  return true;
}

char *rfc3339_now(void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return xstrdup(buf);
}

int state_save(const char *dir, const struct container_state *s, edgecr_error_t *err)
{
  json_t *o = json_object();
  json_object_set_new(o, "ociVersion", json_string("1.2.0"));
  json_object_set_new(o, "id", json_string(s->id));
  json_object_set_new(o, "bundle", json_string(s->bundle ? s->bundle : ""));
  json_object_set_new(o, "rootfs", json_string(s->rootfs ? s->rootfs : ""));
  if (s->backend != NULL) /* always set by the lifecycle; no default that names one */
    json_object_set_new(o, "backend", json_string(s->backend));
  json_object_set_new(o, "phase", json_string(s->phase ? s->phase : "creating"));
  json_object_set_new(o, "pid", json_integer(s->pid));
  json_object_set_new(o, "pidStartTime", json_integer((json_int_t) s->pid_start_time));
  json_object_set_new(o, "created", json_string(s->created ? s->created : ""));
  json_object_set_new(o, "owner", json_string(s->owner ? s->owner : ""));
  json_object_set_new(o, "cgroupPath", json_string(s->cgroup_path ? s->cgroup_path : ""));
  json_object_set_new(o, "annotations", s->annotations ? json_incref(s->annotations) : json_object());
  json_object_set_new(o, "backendData", s->backend_data ? json_incref(s->backend_data) : json_object());
  cleanup_free char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  cleanup_free char *path = xasprintf("%s/state.json", dir);
  return write_file_atomic(path, text, strlen(text), 0600, err);
}

static char *dup_field(json_t *o, const char *k)
{
  const char *s = json_string_value(json_object_get(o, k));
  return s && *s ? xstrdup(s) : NULL;
}

int state_load(const char *dir, struct container_state **out, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/state.json", dir);
  json_error_t jerr;
  json_t *o = json_load_file(path, 0, &jerr);
  if (o == NULL) {
    if (access(path, F_OK) < 0)
      return edgecr_error_make(err, errno, "read `%s`", path);
    return edgecr_error_make(err, EINVAL, "`%s` is corrupt: %s", path, jerr.text);
  }
  struct container_state *s = xmalloc0(sizeof *s);
  s->id = dup_field(o, "id");
  s->bundle = dup_field(o, "bundle");
  s->rootfs = dup_field(o, "rootfs");
  s->backend = dup_field(o, "backend");
  s->phase = dup_field(o, "phase");
  s->pid = (pid_t) json_integer_value(json_object_get(o, "pid"));
  s->pid_start_time = (unsigned long long) json_integer_value(json_object_get(o, "pidStartTime"));
  s->created = dup_field(o, "created");
  s->owner = dup_field(o, "owner");
  s->cgroup_path = dup_field(o, "cgroupPath");
  json_t *a = json_object_get(o, "annotations");
  s->annotations = json_is_object(a) ? json_incref(a) : json_object();
  json_t *b = json_object_get(o, "backendData");
  s->backend_data = json_is_object(b) ? json_incref(b) : json_object();
  json_decref(o);
  if (s->id == NULL) {
    state_free(s);
    return edgecr_error_make(err, EINVAL, "`%s` is corrupt: no id", path);
  }
  *out = s;
  return 0;
}

void state_free(struct container_state *s)
{
  if (s == NULL)
    return;
  free(s->id);
  free(s->bundle);
  free(s->rootfs);
  free(s->backend);
  free(s->phase);
  free(s->created);
  free(s->owner);
  free(s->cgroup_path);
  json_decref(s->annotations);
  json_decref(s->backend_data);
  free(s);
}

void state_cleanup(struct container_state **s)
{
  state_free(*s);
  *s = NULL;
}

/* Field 22 of /proc/<pid>/stat (starttime) and field 3 (state).  The comm
 * field may contain spaces and parentheses, so parse after the last ')'. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_free char *buf = NULL;
  if (read_all_file(path, &buf, NULL) < 0)
    return -1;
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return -1;
  p += 2;
  *state = *p;
  /* after state come fields 4..: skip to field 22 (19 more fields). */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
  }
  *start = strtoull(p, NULL, 10);
  return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
  char st;
  unsigned long long start;
  if (pid <= 0 || proc_stat(pid, &st, &start) < 0)
    return 0;
  return start;
}

bool proc_alive(pid_t pid, unsigned long long start_time)
{
  char st;
  unsigned long long start;
  if (pid <= 0 || proc_stat(pid, &st, &start) < 0)
    return false;
  if (st == 'Z' || st == 'X')
    return false;
  return start_time == 0 || start == start_time;
}
