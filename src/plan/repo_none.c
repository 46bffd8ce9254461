/* repo_none.c - the plan repository when edgecr is built without libostree
 * (meson -Dostree=disabled): every operation reports that clearly. */
#include <errno.h>
#include <stdlib.h>

#include "repo.h"

#define NO_OSTREE(err) edgecr_error_make(err, ENOTSUP, "plan repository: edgecr was built without libostree")

const char *plan_repo_default_dir(void)
{
  const char *env = getenv("EDGECR_PLAN_REPO");
  return env && *env ? env : "/var/lib/edgecr/plans";
}

int plan_repo_open(const char *dir, bool create, struct plan_repo **out, edgecr_error_t *err)
{
  (void) dir, (void) create, (void) out;
  return NO_OSTREE(err);
}

void plan_repo_close(struct plan_repo *r) { (void) r; }
const char *plan_repo_dir(const struct plan_repo *r) { (void) r; return ""; }

int plan_repo_build(struct plan_repo *r, const struct plan_config *c, const struct plan_analysis *a, char **commit,
                    edgecr_error_t *err)
{
  (void) r, (void) c, (void) a, (void) commit;
  return NO_OSTREE(err);
}

int plan_repo_resolve(struct plan_repo *r, const char *ref, char **commit, edgecr_error_t *err)
{
  (void) r, (void) ref, (void) commit;
  return NO_OSTREE(err);
}

int plan_repo_read_plan(struct plan_repo *r, const char *commit, json_t **plan, edgecr_error_t *err)
{
  (void) r, (void) commit, (void) plan;
  return NO_OSTREE(err);
}

int plan_repo_list(struct plan_repo *r, json_t **list, edgecr_error_t *err)
{
  (void) r, (void) list;
  return NO_OSTREE(err);
}

int plan_repo_export(struct plan_repo *r, const char *from, const char *to, const char *out, uint64_t *size,
                     edgecr_error_t *err)
{
  (void) r, (void) from, (void) to, (void) out, (void) size;
  return NO_OSTREE(err);
}

int plan_repo_import(struct plan_repo *r, const char *file, char **name, char **commit, edgecr_error_t *err)
{
  (void) r, (void) file, (void) name, (void) commit;
  return NO_OSTREE(err);
}

int plan_repo_checkout(struct plan_repo *r, const char *commit, char **path, edgecr_error_t *err)
{
  (void) r, (void) commit, (void) path;
  return NO_OSTREE(err);
}

int plan_repo_object_bytes(struct plan_repo *r, uint64_t *bytes, edgecr_error_t *err)
{
  (void) r, (void) bytes;
  return NO_OSTREE(err);
}
