/* model.h - the system configuration: one node, its containers, their
 * real-time requirements, devices and start order.  One data model for YAML
 * and JSON input (model.c decodes the doc.h tree into it).  Times are
 * nanoseconds (int64), sizes bytes. */
#ifndef EDGECR_PLAN_MODEL_H
#define EDGECR_PLAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chanlib.h"
#include "error.h"

#define PLAN_MAX_CORES 256

enum plan_backend { PLAN_BACKEND_LINUX, PLAN_BACKEND_WASM, PLAN_BACKEND_REMOTEPROC };
enum plan_policy { PLAN_POLICY_FP, PLAN_POLICY_DEADLINE };
enum plan_assign { PLAN_ASSIGN_AUTO, PLAN_ASSIGN_FIRST_FIT, PLAN_ASSIGN_WORST_FIT };
enum plan_fifo_budgets { PLAN_FIFO_BUDGETS_GROUPS, PLAN_FIFO_BUDGETS_NONE, PLAN_FIFO_BUDGETS_AUTO };

struct plan_rt {
  int64_t period, budget, deadline, jitter, blocking; /* ns; budget = WCET */
  enum plan_policy policy;
  int priority; /* SCHED_FIFO 1..99, 0 = assign deadline-monotonic */
  int core;     /* -1 = assign */
};

struct plan_device {
  char *path;   /* device node, e.g. /dev/gpiochip0 */
  char *access; /* "r", "rw", "rwm" (cgroup device access) */
};

struct plan_container {
  char *name;
  char *bundle;        /* bundle directory (resolved against the config's dir) */
  char *image;         /* or OCI image layout reference "dir:tag" */
  enum plan_backend backend;
  bool has_rt;
  struct plan_rt rt;
  uint64_t memory_limit;  /* 0 = none */
  int64_t memlock;        /* RLIMIT_MEMLOCK bytes; -1 unlimited; 0 = default */
  char **capabilities;    /* "CAP_IPC_LOCK", ... (NULL-terminated) */
  struct plan_device *devices;
  size_t n_devices;
  char **depends_on;      /* NULL-terminated */
  int line;               /* where the container starts in the file */
};

struct plan_node {
  int cores;
  bool rt_core[PLAN_MAX_CORES];    /* cores reserved for real-time */
  uint64_t memory;
  int64_t rt_runtime_us, rt_period_us; /* kernel sched_rt_* (default 950000/1000000) */
  enum plan_assign assign;
  /* node.deadline: partitioned = one root domain (cpuset partition) per
   * core that runs reservations, EDF analysed per core; global = one root
   * domain over every CPU (global EDF). */
  bool dl_partitioned;
  /* node.fifo_budgets: groups = CONFIG_RT_GROUP_SCHED cgroup budgets per
   * SCHED_FIFO container (their ratios share rt_runtime/rt_period once for
   * the node); none = no group budgets (stock kernels): global real-time
   * throttling per CPU is the only protection; auto = what the machine
   * running the check has (plan_node_rt_groups). */
  enum plan_fifo_budgets fifo_budgets;
  /* node.dl_server: runtime per second of the kernel's per-CPU fair server
   * (>= 6.12: a deadline entity that takes its share of each root domain's
   * admitted bandwidth; 0 for older kernels).  ns. */
  int64_t dl_server;
};

/* A shared-memory channel of the plan (`channels:`, docs/channels.md):
 * its declaration, checked, and the containers at its ends. */
struct plan_channel {
  struct edgecr_channel_decl decl;
  char **writers, **readers; /* NULL-terminated container names */
  int line;
};

struct plan_config {
  char *file;        /* path as given */
  char *name;        /* `name:` or the file's base name without extension */
  struct plan_node node;
  struct plan_container *containers;
  size_t n;
  struct plan_channel *channels;
  size_t n_channels;
};

/* Load and validate.  Every error reads "FILE:LINE: FIELD: reason". */
int plan_config_load(const char *path, struct plan_config **out, edgecr_error_t *err);
/* Same from memory; json selects JSON syntax. */
int plan_config_parse(const char *file, const char *text, size_t len, bool json,
                      struct plan_config **out, edgecr_error_t *err);
void plan_config_free(struct plan_config *c);

/* Index of a container by name or -1. */
int plan_config_find(const struct plan_config *c, const char *name);

/* Start order honouring depends_on (stable: file order among equals).
 * order[] receives n indices.  Fails on cycles (names the cycle). */
int plan_config_start_order(const struct plan_config *c, size_t *order, edgecr_error_t *err);

const char *plan_backend_name(enum plan_backend b);
const char *plan_policy_name(enum plan_policy p);

/* units.c: "10ms", "250us", "1.5s", "100ns" -> ns.  Returns -1 if invalid. */
int plan_parse_duration(const char *s, int64_t *ns);
/* "64MiB", "1G", "4096" -> bytes.  Returns -1 if invalid. */
int plan_parse_size(const char *s, uint64_t *bytes);
/* Human form ("12.4ms") into buf. */
const char *plan_format_duration(int64_t ns, char *buf, size_t len);
/* "1 core", "2 cores": `one` when n == 1, else `many` (messages count
 * things, and "1 cores" reads as a bug). */
const char *plan_noun(long long n, const char *one, const char *many);

#endif
