/* state.h - a container's state on disk: <root>/<id>/state.json.
 *
 * The file is rewritten atomically (write to a temporary, fsync, rename) at
 * every transition, so a runtime killed at any point leaves either the old or
 * the new record.  It is written *before* any resource is created (status
 * "creating") and updated as resources appear (pid, cgroup), so that
 * `delete --force` always knows what to clean up.  The live status
 * (created/running/paused/stopped) is derived from the process, not stored. */
#ifndef EDGECR_OCI_STATE_H
#define EDGECR_OCI_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct container_state {
  char *id;
  char *bundle;
  char *rootfs;
  char *backend;          /* "linux", "remoteproc", ... */
  char *phase;            /* "creating" until create finished, then "created"; "started" after start */
  pid_t pid;
  unsigned long long pid_start_time; /* /proc/<pid>/stat field 22, guards against pid reuse */
  char *created;          /* RFC 3339 */
  char *owner;
  char *cgroup_path;      /* resolved cgroups path, relative to each hierarchy root */
  json_t *annotations;    /* object */
  json_t *backend_data;   /* object the backend may fill */
};

/* Valid container ids: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
bool container_id_valid(const char *id);

int state_save(const char *dir, const struct container_state *s, edgecr_error_t *err);
int state_load(const char *dir, struct container_state **out, edgecr_error_t *err);
void state_free(struct container_state *s);
void state_cleanup(struct container_state **s);
#define cleanup_state __attribute__((cleanup(state_cleanup)))

/* Process liveness checks shared by backends. */
unsigned long long proc_start_time(pid_t pid);   /* 0 if gone */
bool proc_alive(pid_t pid, unsigned long long start_time); /* false for zombies */

char *rfc3339_now(void);

#endif
