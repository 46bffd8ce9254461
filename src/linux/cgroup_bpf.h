/* cgroup_bpf.h - device access rules on cgroup v2: cgroup v2 has no
 * devices.allow/deny files; the kernel asks an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup instead.  edgecr
 * compiles the OCI rules (with cgroup v1's semantics) into such a program. */
#ifndef EDGECR_CGROUP_BPF_H
#define EDGECR_CGROUP_BPF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct dev_rule {
  bool allow;
  char type;          /* 'a', 'c', 'b' */
  long long major;    /* -1 = any */
  long long minor;    /* -1 = any */
  unsigned access;    /* DEV_ACC_* bits */
};

#define DEV_ACC_MKNOD 1u
#define DEV_ACC_READ 2u
#define DEV_ACC_WRITE 4u

/* Compile rules (applied in order, later rules win, as with v1 files) into
 * a program; returns the number of instructions written to out (at most
 * max), or -1 if it does not fit. Exposed for unit tests. */
int devices_bpf_compile(const struct dev_rule *rules, size_t n, void *out, size_t max);
/* Load the program and attach it to the cgroup directory, replacing the
 * programs edgecr attached before. */
int devices_bpf_apply(const char *cgroup_dir, const struct dev_rule *rules, size_t n, edgecr_error_t *err);

#endif
