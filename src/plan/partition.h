/* partition.h - deadline partitions on the node: one cpuset per real-time
 * core that runs SCHED_DEADLINE reservations of the plan, each its own
 * scheduler root domain, so the kernel admits and runs reservations per
 * core (docs/plan.md section 5, "Partitions").
 *
 * cgroup v1 (the cpuset controller mounted on its own):
 *   /                      sched_load_balance 0 (root domains come from
 *                          the balanced cpusets below it)
 *   /edgecr-rt             cpus = the partitioned cores, cpu_exclusive 1,
 *                          sched_load_balance 0
 *   /edgecr-rt/cpuK        cpus = K, cpu_exclusive 1, sched_load_balance 1:
 *                          the root domain {K}; the plan's real-time
 *                          containers of core K live below it
 * and every other cpuset of the node moved off the partitioned cores (an
 * exclusive cpuset may not overlap a sibling, and a balanced cpuset that
 * spans a partitioned core would merge it back into a larger domain).
 * cgroup v2 (the cpuset controller in the cgroup2 hierarchy): /edgecr-rt
 * and /edgecr-rt/cpuK with cpuset.cpus.partition = root (each read back:
 * the kernel marks a partition it cannot grant "root invalid (reason)");
 * the kernel itself takes the granted CPUs from the root's effective CPUs,
 * and edgecr moves only the root's children whose cpuset.cpus is set
 * explicitly (a partition may not overlap a sibling's cpuset.cpus).
 *
 * Every change to the node's cpusets is written ahead, durably, into
 * <state>/cpusets.json (what it was, what edgecr set), so a process killed
 * at any step is repaired by running the same call again (the plan's
 * journal holds the step), and `plan_partitions_set(dir, "")` puts back
 * exactly what edgecr changed.  A cpuset someone else changed since is
 * left as they set it. */
#ifndef EDGECR_PLAN_PARTITION_H
#define EDGECR_PLAN_PARTITION_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

#define PLAN_PARTITION_PARENT "/edgecr-rt"
#define PLAN_PARTITION_STATE "cpusets.json"

/* The cgroup path of core k's partition: "/edgecr-rt/cpuK" (allocated). */
char *plan_partition_cgroup(int core);

/* Bring the node's partitions to `cpus` (a CPU list "1,3", "" none),
 * recording in `state_dir`.  Idempotent; safe to re-run after a crash. */
int plan_partitions_set(const char *state_dir, const char *cpus, edgecr_error_t *err);

/* A container created on its own (not from a plan) gets CPU K as a
 * partition for its lifetime when its config has this annotation "true",
 * process.scheduler.policy SCHED_DEADLINE and linux.resources.cpu.cpus
 * naming exactly K (partition_ctr.c; docs/plan.md). */
#define PLAN_PARTITION_ANNOTATION "org.edgecr.rt.partition"

/* The CPU a container's config asks a partition for (*cpu = -1: none);
 * the annotation without the rest is an error naming the field. */
int plan_partition_wanted(json_t *annotations, bool deadline, json_t *resources, int *cpu, edgecr_error_t *err);

/* The container's cgroup path inside CPU `cpu`'s partition (allocated):
 * "/edgecr-rt/cpuK" + `cgpath`. */
char *plan_partition_container_cgroup(int cpu, const char *cgpath);

/* Container `id` of runtime root `state_root` takes / gives up its
 * partition (made with the first container of a CPU, removed with the
 * last; crash-safe: every call repairs what a killed one left).  leave is
 * a no-op for a container that holds none. */
int plan_partition_join(const char *state_root, const char *id, int cpu, edgecr_error_t *err);
int plan_partition_leave(const char *state_root, const char *id, edgecr_error_t *err);

/* Tests only: when set, every write of a control file goes through it
 * (the unit tests' model of the kernel's cgroup v2 rules over a tree of
 * plain files); returns 0, or -1 with errno. */
extern int (*plan_partition_write_hook)(const char *path, const char *value);

#endif
