/* hooks.h - running OCI hooks (prestart ... poststop) with the container
 * state on stdin and an optional timeout. */
#ifndef EDGECR_OCI_HOOKS_H
#define EDGECR_OCI_HOOKS_H

#include "config.h"
#include "error.h"

/* Run every hook of `kind` in order; stops at the first failure.
 * state_json is written to each hook's stdin. */
int hooks_run(const struct oci_config *c, enum oci_hook_kind kind, const char *state_json,
              edgecr_error_t *err);
int hooks_run_list(const struct oci_hook *hooks, size_t n, const char *kind_name,
                   const char *state_json, edgecr_error_t *err);

/* Runs every hook of a kind even when some fail (poststop: the spec says
 * to warn and go on); each failure is logged as a warning, the first one
 * is returned in err.  Returns -1 if any failed. */
int hooks_run_all(const struct oci_config *c, enum oci_hook_kind kind, const char *state_json, edgecr_error_t *err);

#endif
