/* policy.c - the node's tenant policy and the record of accepted versions.
 *
 * Policy (docs/tenants.md, "Node policy"): whether a bare, unsigned
 * metadata payload may run.  `signed` (the default) refuses it;
 * `allow-unsigned` (development nodes) accepts it with a warning.  Set by
 * the global option --tenant-policy, else $EDGECR_TENANT_POLICY; the CLI
 * puts the option into the environment, as it does --trust-dir, because
 * the backends see no CLI options.
 *
 * Versions (replay protection): the highest version accepted per tenant id
 * lives in <tenant dir>/<id>.version (one decimal line), replaced
 * atomically and durably (fsync of the file and of the directory), so that
 * an older signed metadata cannot come back, not after a restart of the
 * container and not after a reboot of the node.  The directory is
 * --tenant-dir, else $EDGECR_TENANT_DIR, else /var/lib/edgecr/tenants.
 * Operations on one tenant id are serialised by an flock on <id>.lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tenant_linux.h"
#include "util.h"

int tenant_policy_get(const char *option, enum tenant_policy *out, edgecr_error_t *err)
{
  const char *v = option;
  const char *what = "--tenant-policy";
  if (v == NULL || v[0] == '\0') {
    v = getenv("EDGECR_TENANT_POLICY");
    what = "$EDGECR_TENANT_POLICY";
  }
  if (v == NULL || v[0] == '\0' || strcmp(v, "signed") == 0) {
    *out = TENANT_POLICY_SIGNED;
    return 0;
  }
  if (strcmp(v, "allow-unsigned") == 0) {
    *out = TENANT_POLICY_ALLOW_UNSIGNED;
    return 0;
  }
  /* An unknown word must not silently become either policy. */
  return edgecr_error_invalid(err, "%s: unknown tenant policy `%s` (signed or allow-unsigned)", what, v);
}

const char *tenant_state_dir(const char *option)
{
  if (option != NULL && option[0] != '\0')
    return option;
  const char *env = getenv("EDGECR_TENANT_DIR");
  return env != NULL && env[0] != '\0' ? env : TENANT_STATE_DIR_DEFAULT;
}

/* The tenant id is a valid name (checked by the decoder): no '/', and it
 * does not start with '.', so it is a safe file name. */
static char *record_path(const char *dir, const char *id, const char *suffix)
{
  return xasprintf("%s/%s.%s", dir, id, suffix);
}

int tenant_version_lock(const char *dir, const char *id, int *fd_out, edgecr_error_t *err)
{
  if (mkdir_p(dir, 0700, err) < 0)
    return edgecr_error_wrap(err, "tenant state directory");
  cleanup_free char *path = record_path(dir, id, "lock");
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return edgecr_error_make(err, errno, "open `%s`", path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return edgecr_error_make(err, errno, "lock `%s`", path);
  *fd_out = steal_fd(&fd);
  return 0;
}

int tenant_version_load(const char *dir, const char *id, struct tenant_version *v, edgecr_error_t *err)
{
  v->known = false;
  v->version = 0;
  cleanup_free char *path = record_path(dir, id, "version");
  cleanup_free char *text = NULL;
  if (read_all_file(path, &text, err) < 0) {
    if (edgecr_error_errno(err) == ENOENT) {
      edgecr_error_release(err);
      return 0;
    }
    return -1;
  }
  /* A damaged record fails closed: no version is accepted until an
   * operator looks at it. */
  size_t n = strlen(text);
  if (n > 0 && text[n - 1] == '\n')
    text[--n] = '\0';
  unsigned long long x;
  if (parse_uint64(text, &x) < 0)
    return edgecr_error_invalid(err, "version record `%s`: expected one decimal number, found `%.40s`", path, text);
  v->known = true;
  v->version = x;
  return 0;
}

static int sync_dir(const char *dir, edgecr_error_t *err)
{
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0)
    return edgecr_error_make(err, errno, "sync `%s`", dir);
  return 0;
}

int tenant_version_store(const char *dir, const char *id, const struct tenant_version *v, edgecr_error_t *err)
{
  cleanup_free char *path = record_path(dir, id, "version");
  if (!v->known) { /* back to "never seen" (undoing a first create) */
    if (unlink(path) < 0 && errno != ENOENT)
      return edgecr_error_make(err, errno, "remove `%s`", path);
    return sync_dir(dir, err);
  }
  char line[32];
  int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long) v->version);
  if (mkdir_p(dir, 0700, err) < 0 || write_file_durable(path, line, (size_t) n, 0600, err) < 0)
    return edgecr_error_wrap(err, "record version %llu of tenant `%s`", (unsigned long long) v->version, id);
  return sync_dir(dir, err);
}

int tenant_version_raise(const char *dir, const char *id, uint64_t version, edgecr_error_t *err)
{
  cleanup_close int lock = -1;
  struct tenant_version v;
  if (tenant_version_lock(dir, id, &lock, err) < 0 || tenant_version_load(dir, id, &v, err) < 0)
    return -1;
  if (v.known && v.version >= version)
    return 0;
  v = (struct tenant_version){.known = true, .version = version};
  return tenant_version_store(dir, id, &v, err);
}
