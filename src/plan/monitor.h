/* monitor.h - the runtime's side of include/edgecr/rt.h: read the job
 * records that real-time containers write into their shared-memory pages
 * and summarise them (deadline misses, budget overruns, response-time and
 * release-jitter histograms). */
#ifndef EDGECR_PLAN_MONITOR_H
#define EDGECR_PLAN_MONITOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edgecr/rt.h"
#include "error.h"

struct plan_monitor {
  char *name;       /* from the page, or the file name */
  char *path;
  struct ertloop_shm page; /* consistent copy (counters + ring) */
  size_t n_recent;         /* valid jobs copied from the ring */
  struct ertloop_job recent[ERTLOOP_RING];
  bool writer_alive;        /* a process maps the page writable (monitor_live.c) */
  int writer_host_pid;      /* that process, as the host sees it (0 none) */
};

/* Set writer_alive / writer_host_pid of each page (plan_monitor_scan does). */
void plan_monitor_liveness(struct plan_monitor *m, size_t n);

/* Read one page file. */
int plan_monitor_read(const char *path, struct plan_monitor *m, edgecr_error_t *err);
void plan_monitor_clear(struct plan_monitor *m);

/* Read every `*.rt` page under dir (sorted by name); `only` filters by
 * container name (NULL = all).  *out is an array of *n entries. */
int plan_monitor_scan(const char *dir, const char *only, struct plan_monitor **out, size_t *n,
                      edgecr_error_t *err);
void plan_monitor_free_all(struct plan_monitor *m, size_t n);

json_t *plan_monitor_json(const struct plan_monitor *m);
void plan_monitor_text(FILE *out, const struct plan_monitor *m, size_t n);

#endif
