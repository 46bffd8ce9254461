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

#include "error.h"

#define PLAN_PARTITION_PARENT "/edgecr-rt"
#define PLAN_PARTITION_STATE "cpusets.json"

/* The cgroup path of core k's partition: "/edgecr-rt/cpuK" (allocated). */
char *plan_partition_cgroup(int core);

/* Bring the node's partitions to `cpus` (a CPU list "1,3", "" none),
 * recording in `state_dir`.  Idempotent; safe to re-run after a crash. */
int plan_partitions_set(const char *state_dir, const char *cpus, edgecr_error_t *err);

/* Tests only: when set, every write of a control file goes through it
 * (the unit tests' model of the kernel's cgroup v2 rules over a tree of
 * plain files); returns 0, or -1 with errno. */
extern int (*plan_partition_write_hook)(const char *path, const char *value);

#endif
