/* process.h - settings applied to a container process just before exec:
 * identity, capabilities, rlimits, scheduling, I/O priority, CPU affinity,
 * personality, and the executable lookup in the container's PATH.  Used by
 * the container init and by `exec`. */
#ifndef EDGECR_PROCESS_H
#define EDGECR_PROCESS_H

#include <sched.h>
#include <stdbool.h>

#include "config.h"
#include "error.h"

int process_apply_rlimits(const struct oci_process *p, edgecr_error_t *err);
int process_apply_scheduler(const struct oci_process *p, edgecr_error_t *err);
int process_apply_io_priority(const struct oci_process *p, edgecr_error_t *err);
int process_apply_oom_score_adj(const struct oci_process *p, edgecr_error_t *err);
/* linux.memoryPolicy via set_mempolicy(2); no-op when absent. */
int process_apply_memory_policy(const struct oci_config *c, edgecr_error_t *err);
/* cpus like "0-2,5"; field names the config field for messages. */
int process_apply_affinity(const char *cpus, const char *field, edgecr_error_t *err);
int parse_cpu_list(const char *s, cpu_set_t *set);
/* Drop the bounding set (needs to run while still privileged). */
int process_drop_bounding(const struct oci_process *p, edgecr_error_t *err);
/* setgroups/setresgid/setresuid keeping capabilities across the switch. */
int process_switch_user(const struct oci_process *p, edgecr_error_t *err);
/* effective/permitted/inheritable then ambient. */
int process_apply_capabilities(const struct oci_process *p, edgecr_error_t *err);
/* When the process env has no HOME: a copy of it with HOME from the user's
 * entry in /etc/passwd (of the current root), or "/" (as runc does).
 * NULL when HOME is already set. */
char **process_env_with_home(const struct oci_process *p);
/* Resolve args[0] against PATH from the process env (inside the current
 * root). Returns a malloc'ed path or NULL with err set. */
char *process_find_executable(const struct oci_process *p, edgecr_error_t *err);

#endif
