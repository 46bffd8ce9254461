/* repo.h - the plan repository: compiled plans stored with libostree in a
 * content-addressed repository (one commit per plan build on a branch named
 * after the configuration; identical files are stored once), hard-linked
 * checkouts for the device, static deltas for transfer.
 *
 * Layout of DIR (--repo, default $EDGECR_PLAN_REPO or /var/lib/edgecr/plans):
 *   DIR/repo/                  the ostree repository (bare-user-only mode)
 *   DIR/checkouts/<commit>/    hard-linked checkouts: plan.json, bundles/<name>/
 * A plan commit's tree is plan.json plus bundles/<name>/ for every container
 * given as a bundle directory. */
#ifndef EDGECR_PLAN_REPO_H
#define EDGECR_PLAN_REPO_H

#include <jansson.h>
#include <stdint.h>

#include "analysis.h"
#include "error.h"
#include "model.h"

struct plan_repo;

/* Default location when --repo is not given. */
const char *plan_repo_default_dir(void);

int plan_repo_open(const char *dir, bool create, struct plan_repo **out, edgecr_error_t *err);
void plan_repo_close(struct plan_repo *r);
const char *plan_repo_dir(const struct plan_repo *r);

/* Compile (compile.h), store the bundles and plan.json, commit on branch
 * `c->name`.  *commit receives the new commit checksum. */
int plan_repo_build(struct plan_repo *r, const struct plan_config *c, const struct plan_analysis *a,
                    char **commit, edgecr_error_t *err);

/* A branch name, a commit checksum (or unique prefix), or NAME^ for the
 * previous version. */
int plan_repo_resolve(struct plan_repo *r, const char *ref, char **commit, edgecr_error_t *err);
int plan_repo_read_plan(struct plan_repo *r, const char *commit, json_t **plan, edgecr_error_t *err);

/* [{"name", "commit", "timestamp", "subject", "versions"}...] */
int plan_repo_list(struct plan_repo *r, json_t **list, edgecr_error_t *err);

/* Write a delta from `from` (NULL: from nothing) to `to` into `out`;
 * *size receives its size in bytes. */
int plan_repo_export(struct plan_repo *r, const char *from, const char *to, const char *out,
                     uint64_t *size, edgecr_error_t *err);
/* Apply a delta file; sets the branch it carries.  *name and *commit
 * receive the plan name and commit. */
int plan_repo_import(struct plan_repo *r, const char *file, char **name, char **commit,
                     edgecr_error_t *err);

/* Hard-linked checkout of a commit; *path receives DIR/checkouts/<commit>. */
int plan_repo_checkout(struct plan_repo *r, const char *commit, char **path, edgecr_error_t *err);

/* Bytes used by the repository's objects (what storage costs). */
int plan_repo_object_bytes(struct plan_repo *r, uint64_t *bytes, edgecr_error_t *err);

#endif
