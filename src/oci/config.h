/* config.h - the OCI runtime configuration (config.json, spec 1.2) as typed
 * C structures.
 *
 * oci_config_load() parses and validates the whole file up front, so that a
 * bad field is reported before anything is created.  Every error names the
 * file, the field path (e.g. `process.user.uid`) and the reason.  Sections
 * whose interpretation belongs to one module (linux.resources,
 * linux.seccomp, linux.sysctl) are kept as JSON and validated by that module
 * through the *_validate() calls oci_config_load() makes. */
#ifndef EDGECR_OCI_CONFIG_H
#define EDGECR_OCI_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct oci_user {
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
};

struct oci_rlimit {
  int resource;
  unsigned long long soft, hard;
};

/* Capability sets as arrays of capability numbers; has_* false = absent. */
struct oci_capset {
  bool present;
  int *caps;
  size_t n;
  /* Names neither libcap nor the kernel knows, ignored as runc and crun
   * do (a config written for a newer kernel still runs); create warns
   * about them.  NULL when none. */
  char *unknown;
};

struct oci_scheduler {
  bool present;
  int policy;            /* SCHED_* */
  int nice;
  int priority;
  unsigned long long runtime, deadline, period; /* ns, SCHED_DEADLINE */
  unsigned long long flags;                     /* SCHED_FLAG_* */
};

struct oci_process {
  bool terminal;
  unsigned int console_height, console_width;
  char **args;   /* NULL-terminated */
  char **env;    /* NULL-terminated */
  char *cwd;
  struct oci_user user;
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  struct oci_capset bounding, effective, inheritable, permitted, ambient;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  struct oci_scheduler scheduler;
  bool has_io_priority;
  int io_class, io_priority;
  char *exec_cpu_affinity_initial, *exec_cpu_affinity_final;
  char *apparmor_profile, *selinux_label;
};

struct oci_id_mapping {
  unsigned int container_id, host_id, size;
};

struct oci_mount {
  char *destination;
  char *source;
  char *type;
  unsigned long flags;        /* MS_* set */
  unsigned long clear_flags;  /* MS_* explicitly cleared (rw, suid, ...) */
  unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC) */
  bool bind, recursive;
  char *data;                 /* filesystem-specific options */
  uint64_t rec_attr_set;      /* MOUNT_ATTR_* applied recursively (rro, rnosuid, ...) */
  uint64_t rec_attr_clr;      /* MOUNT_ATTR_* cleared recursively (rrw, rsuid, ...) */
  bool copyup;                /* tmpcopyup: the tmpfs starts with the covered directory's contents */
  /* Id-mapped bind mount (idmap/ridmap, or mappings given): without
   * mappings of its own it takes the container's (linux.uidMappings). */
  bool idmap, idmap_recursive;
  struct oci_id_mapping *uid_map, *gid_map;
  size_t n_uid_map, n_gid_map;
  int idmap_fd;               /* runtime -> init: the prepared detached mount (only when idmap) */
};

struct oci_hook {
  char *path;
  char **args;
  char **env;
  int timeout; /* seconds, 0 = none */
};

enum oci_hook_kind {
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  OCI_HOOK_KINDS
};

struct oci_namespace {
  int type;    /* CLONE_NEW* */
  char *path;  /* join an existing namespace, or NULL for a new one */
};


struct oci_device {
  char *path;
  char type;  /* 'c', 'b', 'u', 'p' */
  long long major, minor;
  bool has_mode, has_uid, has_gid;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

#define OCI_MAX_NAMESPACES 8

struct oci_config {
  char *path;          /* the config.json this came from (for messages) */
  char *bundle;        /* absolute bundle directory */
  char *oci_version;
  char *root_path;     /* absolute */
  bool root_readonly;
  char *hostname, *domainname;
  struct oci_process *process;
  struct oci_mount *mounts;
  size_t n_mounts;
  struct oci_hook *hooks[OCI_HOOK_KINDS];
  size_t n_hooks[OCI_HOOK_KINDS];
  json_t *annotations; /* object, never NULL */

  bool has_linux;
  struct oci_namespace namespaces[OCI_MAX_NAMESPACES];
  size_t n_namespaces;
  struct oci_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  struct oci_device *devices;
  size_t n_devices;
  char *cgroups_path;
  json_t *resources;    /* linux.resources, validated by the cgroup code */
  json_t *sysctl;       /* object of strings */
  json_t *seccomp;      /* linux.seccomp, validated by the seccomp code */
  char **masked_paths, **readonly_paths;
  unsigned long rootfs_propagation; /* 0 = default */
  bool has_personality;
  unsigned long personality;
  json_t *time_offsets; /* linux.timeOffsets */
  /* linux.memoryPolicy: set_mempolicy(2) mode | flags over nodes */
  bool has_memory_policy;
  int mempolicy_mode;
  unsigned mempolicy_flags;
  char *mempolicy_nodes; /* "0-3,5", or NULL */
  json_t *doc;          /* the whole document */
};

/* Load <bundle>/config.json.  bundle may be relative (made absolute). */
int oci_config_load(const char *bundle, struct oci_config **out, edgecr_error_t *err);
/* Parse an in-memory document; `name` is used in messages. */
int oci_config_parse(const char *bundle, const char *name, const char *text,
                     struct oci_config **out, edgecr_error_t *err);
/* Parse a lone `process` object (exec --process FILE). */
int oci_process_parse(json_t *obj, const char *name, const char *field,
                      struct oci_process **out, edgecr_error_t *err);
void oci_config_free(struct oci_config *c);
void oci_process_free(struct oci_process *p);
void oci_config_cleanup(struct oci_config **c);
#define cleanup_config __attribute__((cleanup(oci_config_cleanup)))

const struct oci_namespace *oci_config_namespace(const struct oci_config *c, int type);
const char *oci_namespace_name(int type);
int oci_namespace_type(const char *name);
const char *oci_hook_kind_name(enum oci_hook_kind k);

/* Mount option string -> flags; returns false when `opt` is not a flag. */
bool oci_mount_option(const char *opt, struct oci_mount *m);
/* Capability name (CAP_xxx) -> number, or -1. */
int oci_capability_number(const char *name);
const char *oci_rlimit_name(int resource);

/* strv helpers (NULL-terminated arrays of malloc'ed strings). */
char **strv_dup(char *const *v);
size_t strv_len(char *const *v);
void strv_free(char **v);

#endif
