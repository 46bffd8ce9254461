/* monitor.c - read rt.h shared-memory pages without locks (see the
 * protocol in include/edgecr/rt.h) and print what they say. */
#include "monitor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

/* Copy the recent jobs: only slots whose seq is the job we expect, and only
 * jobs the writer had finished when we read `jobs` (acquire). */
static void copy_ring(const struct ertloop_shm *s, uint64_t jobs, struct plan_monitor *m)
{
  uint64_t first = jobs > ERTLOOP_RING ? jobs - ERTLOOP_RING : 0;
  m->n_recent = 0;
  for (uint64_t k = first; k < jobs; k++) {
    const struct ertloop_job *slot = &s->ring[k % ERTLOOP_RING];
    if (__atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE) != k + 1)
      continue;
    struct ertloop_job copy = *slot;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != k + 1)
      continue; /* rewritten while we copied */
    copy.seq = k + 1;
    m->recent[m->n_recent++] = copy;
  }
}

int plan_monitor_read(const char *path, struct plan_monitor *m, edgecr_error_t *err)
{
  memset(m, 0, sizeof *m);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open rt page `%s`", path);
  const struct ertloop_shm *s = mmap(NULL, ERTLOOP_PAGE, PROT_READ, MAP_SHARED, fd, 0);
  if (s == MAP_FAILED)
    return edgecr_error_make(err, errno, "map rt page `%s`", path);
  int r = 0;
  uint32_t magic = __atomic_load_n(&s->magic, __ATOMIC_ACQUIRE);
  if (magic == 0) {
    /* Created by the runtime, not yet claimed by the container's loop (or
     * being reset by ertloop_init): a container with no job yet, named
     * after its file. */
    const char *base = strrchr(path, '/');
    m->name = xstrdup(base ? base + 1 : path);
    if (str_has_suffix(m->name, ".rt"))
      m->name[strlen(m->name) - 3] = '\0';
    m->path = xstrdup(path);
  } else if (magic != ERTLOOP_MAGIC || s->version != ERTLOOP_VERSION ||
      s->size != ERTLOOP_PAGE) {
    r = edgecr_error_make(err, 0, "rt page `%s`: not an edgecr rt.h page (magic/version/size)", path);
  } else {
    uint64_t jobs = __atomic_load_n(&s->jobs, __ATOMIC_ACQUIRE);
    m->page = *s;
    m->page.jobs = jobs;
    copy_ring(s, jobs, m);
    m->name = xstrdup(s->name[0] ? m->page.name : path);
    m->name[strnlen(m->name, 63)] = '\0';
    m->path = xstrdup(path);
  }
  munmap((void *) s, ERTLOOP_PAGE);
  return r;
}

void plan_monitor_clear(struct plan_monitor *m)
{
  free(m->name);
  free(m->path);
  memset(m, 0, sizeof *m);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int plan_monitor_scan(const char *dir, const char *only, struct plan_monitor **out, size_t *n,
                      edgecr_error_t *err)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return edgecr_error_make(err, errno, "monitor: open directory `%s`", dir);
  cleanup_strv char **names = xmalloc0(sizeof *names);
  size_t count = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!str_has_suffix(e->d_name, ".rt"))
      continue;
    names = xrealloc(names, (count + 2) * sizeof *names);
    names[count++] = xstrdup(e->d_name);
    names[count] = NULL;
  }
  closedir(d);
  qsort(names, count, sizeof *names, cmp_str);
  struct plan_monitor *all = xmalloc0((count + 1) * sizeof *all);
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    cleanup_free char *path = xasprintf("%s/%s", dir, names[i]);
    if (plan_monitor_read(path, &all[k], err) < 0) {
      plan_monitor_free_all(all, k);
      return -1;
    }
    if (only && strcmp(only, all[k].name) != 0) {
      plan_monitor_clear(&all[k]);
      continue;
    }
    k++;
  }
  if (only && k == 0) {
    plan_monitor_free_all(all, 0);
    return edgecr_error_make(err, ENOENT, "monitor: no rt page for container `%s` under `%s`", only, dir);
  }
  plan_monitor_liveness(all, k);
  *out = all;
  *n = k;
  return 0;
}

void plan_monitor_free_all(struct plan_monitor *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    plan_monitor_clear(&m[i]);
  free(m);
}

static json_t *histogram_json(const uint64_t *h)
{
  json_t *a = json_array();
  for (unsigned k = 0; k < ERTLOOP_HIST; k++)
    if (h[k])
      json_array_append_new(a, json_pack("{s:I,s:I,s:I}", "from_us", (json_int_t) (k ? 1LL << k : 0),
                                         "to_us", (json_int_t) (1LL << (k + 1)), "count", (json_int_t) h[k]));
  return a;
}

json_t *plan_monitor_json(const struct plan_monitor *m)
{
  const struct ertloop_shm *p = &m->page;
  json_t *recent = json_array();
  for (size_t i = 0; i < m->n_recent; i++) {
    const struct ertloop_job *j = &m->recent[i];
    json_array_append_new(recent, json_pack("{s:I,s:I,s:I,s:I,s:I}", "job", (json_int_t) j->seq - 1,
                                            "release_ns", (json_int_t) j->release_ns, "start_ns",
                                            (json_int_t) j->start_ns, "finish_ns", (json_int_t) j->finish_ns,
                                            "lateness_ns", (json_int_t) j->lateness_ns));
  }
  return json_pack("{s:s,s:I,s:s,s:i,s:i,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "name", m->name,
                   "kernel_overruns", (json_int_t) p->dl_overruns, "path",
                   m->path, "pid", p->pid, "host_pid", m->writer_host_pid, "running", m->writer_alive, "period_ns", (json_int_t) p->period_ns,
                   "deadline_ns", (json_int_t) p->deadline_ns, "budget_ns", (json_int_t) p->budget_ns,
                   "jobs", (json_int_t) p->jobs, "deadline_misses", (json_int_t) p->misses,
                   "budget_overruns", (json_int_t) p->overruns, "max_response_ns", (json_int_t) p->max_response_ns,
                   "max_lateness_ns", (json_int_t) p->max_lateness_ns, "max_jitter_ns",
                   (json_int_t) p->max_jitter_ns, "response_histogram", histogram_json(p->response_hist),
                   "jitter_histogram", histogram_json(p->jitter_hist), "recent", recent);
}

static void histogram_text(FILE *out, const char *what, const uint64_t *h, uint64_t total)
{
  fprintf(out, "  %s:\n", what);
  for (unsigned k = 0; k < ERTLOOP_HIST; k++) {
    if (!h[k])
      continue;
    int bar = total ? (int) (40.0 * (double) h[k] / (double) total + 0.5) : 0;
    char from[32], to[32];
    fprintf(out, "    %8s .. %-8s %8llu %.*s\n", plan_format_duration(k ? (1LL << k) * 1000 : 0, from, sizeof from),
            plan_format_duration((1LL << (k + 1)) * 1000, to, sizeof to), (unsigned long long) h[k], bar,
            "########################################");
  }
}

void plan_monitor_text(FILE *out, const struct plan_monitor *m, size_t n)
{
  fprintf(out, "%-16s %7s %8s %8s %9s %9s %9s %12s %12s %10s\n", "container", "running", "jobs", "misses",
          "overruns", "dl-signal", "period", "max response", "max lateness", "max jitter");
  for (size_t i = 0; i < n; i++) {
    const struct ertloop_shm *p = &m[i].page;
    char a[32], b[32], c[32], d[32];
    fprintf(out, "%-16s %7s %8llu %8llu %9llu %9llu %9s %12s %12s %10s\n", m[i].name,
            m[i].writer_alive ? "yes" : "no", (unsigned long long) p->jobs, (unsigned long long) p->misses,
            (unsigned long long) p->overruns, (unsigned long long) p->dl_overruns,
            plan_format_duration(p->period_ns, a, sizeof a), plan_format_duration(p->max_response_ns, b, sizeof b),
            plan_format_duration(p->max_lateness_ns, c, sizeof c), plan_format_duration(p->max_jitter_ns, d, sizeof d));
  }
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "\n%s\n", m[i].name);
    histogram_text(out, "response time (finish - release)", m[i].page.response_hist, m[i].page.jobs);
    histogram_text(out, "release jitter (start - release)", m[i].page.jitter_hist, m[i].page.jobs);
  }
}
