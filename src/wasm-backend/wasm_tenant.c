/* wasm_tenant.c - tenant metadata checked at create (docs/tenants.md).
 *
 * Where the metadata is: the file the annotation org.edgecr.tenant.metadata
 * names, else `<module>.meta` next to the module in the rootfs (where
 * tools/wasmimage puts it: containerd does not turn image annotations into
 * container annotations), else there is none and the container runs with
 * no tenant permissions.  Both are resolved beneath the rootfs.
 *
 * create verifies the file with the trust directory ($EDGECR_TRUST_DIR, set
 * by the global option --trust-dir, else /etc/edgecr/trust.d) under the
 * node policy (--tenant-policy / $EDGECR_TENANT_POLICY: a bare payload is
 * refused unless allow-unsigned), binds it to the module that will run
 * (process.args[0]) and refuses a version older than the highest one this
 * node accepted for the tenant id (the version record of policy.c; an equal
 * version is a restart).  Any failed check fails create with the check's
 * reason before anything is created.  What was verified goes into the
 * state's annotations, so `edgecr state` shows it, and the version record
 * is raised once the container exists (undone if create fails after the
 * check: wb_tenant_created).  The schedule becomes the container's
 * real-time settings (wasm_sched.c), and the verified metadata stays in
 * this process for the container's init (a clone of it) to run the tenant
 * with (wb_tenant_meta), with the container's control page (live updates,
 * counters: wb_tenant_control). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tenant_control.h"
#include "tenant_linux.h"
#include "util.h"
#include "wasm_backend.h"

struct tenant_meta *wb_tenant_meta;
const char *wb_tenant_id;
struct tenant_control *wb_tenant_control;

/* The version to record once the container exists: one create per
 * process, so a static is enough. */
static struct {
  bool active;
  char dir[PATH_MAX];
  char id[TENANT_NAME_MAX];
  uint64_t version;
} pending;

void wb_tenant_annotate(struct container *c, const struct tenant_meta *m, bool is_signed, const uint8_t *file,
                        size_t len)
{
  uint8_t d[TENANT_DIGEST_LEN];
  char digest[80], version[24];
  tenant_sha256(file, len, d);
  snprintf(version, sizeof version, "%llu", (unsigned long long) m->version);
  json_t *a = c->state->annotations;
  json_object_set_new(a, "org.edgecr.tenant.version", json_string(version));
  json_object_set_new(a, "org.edgecr.tenant.signed", json_string(is_signed ? "true" : "false"));
  if (is_signed)
    json_object_set_new(a, "org.edgecr.tenant.key", json_string(m->kid));
  else
    json_object_del(a, "org.edgecr.tenant.key");
  json_object_set_new(a, "org.edgecr.tenant.metadata-digest",
                      json_string(tenant_digest_str(d, digest, sizeof digest)));
}

/* At create: where the metadata came from, the tenant and its module, and
 * what changes with each update. */
static void record(struct container *c, const char *path, const struct tenant_meta *m, bool is_signed,
                   const uint8_t *file, size_t len)
{
  char module[80];
  json_t *a = c->state->annotations;
  json_object_set_new(a, WB_ANN_TENANT_META, json_string(path));
  json_object_set_new(a, "org.edgecr.tenant.id", json_string(m->id));
  json_object_set_new(a, "org.edgecr.tenant.module",
                      json_string(tenant_digest_str(m->module_sha256, module, sizeof module)));
  wb_tenant_annotate(c, m, is_signed, file, len);
}

/* The module's path inside the container, from the fd opened beneath the
 * rootfs: the host path the kernel reports, less the rootfs prefix. */
static char *module_path_in_root(const struct oci_config *cfg, int module_fd)
{
  char link[64], host[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", module_fd);
  ssize_t n = readlink(link, host, sizeof host - 1);
  cleanup_free char *root = realpath(cfg->root_path, NULL);
  if (n <= 0 || root == NULL)
    return NULL;
  host[n] = '\0';
  size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
  if (strncmp(host, root, rl) != 0 || host[rl] != '/')
    return NULL;
  return xstrdup(host + rl);
}

/* The metadata file: *fd_out = -1 and 0 when there is none. */
static int find_metadata(const struct oci_config *cfg, int rootfd, int module_fd, char **path_out, int *fd_out,
                         edgecr_error_t *err)
{
  const char *what = "annotations." WB_ANN_TENANT_META;
  const char *path = json_string_value(json_object_get(cfg->annotations, WB_ANN_TENANT_META));
  *fd_out = -1;
  if (path != NULL) {
    *fd_out = wb_open_in_root(rootfd, path);
    if (*fd_out < 0)
      return edgecr_error_make(err, errno, "%s: open `%s` in the rootfs", what, path);
    *path_out = xstrdup(path);
    return 0;
  }
  if (module_fd < 0)
    return 0;
  cleanup_free char *module = module_path_in_root(cfg, module_fd);
  if (module == NULL)
    return 0;
  cleanup_free char *conv = xasprintf("%s" WB_TENANT_META_SUFFIX, module);
  *fd_out = wb_open_in_root(rootfd, conv);
  if (*fd_out < 0) {
    if (errno == ENOENT)
      return 0;
    return edgecr_error_make(err, errno, "tenant metadata: open `%s` in the rootfs", conv);
  }
  *path_out = steal_pointer(&conv);
  return 0;
}

/* The highest version this node accepted for the tenant id (under the
 * record's lock, which is not held across the clone of the init: the init
 * would inherit it). */
static int load_version(const char *dir, const char *id, struct tenant_version *v, edgecr_error_t *err)
{
  cleanup_close int lock = -1;
  return tenant_version_lock(dir, id, &lock, err) < 0 ? -1 : tenant_version_load(dir, id, v, err);
}

/* Verify buf under the node's policy and version record. */
static int admit(const char *path, const uint8_t *buf, size_t len, struct tenant_verify_opts *o,
                 struct tenant_meta *m, edgecr_error_t *err)
{
  enum tenant_policy policy;
  if (tenant_policy_get(NULL, &policy, err) < 0)
    return -1;
  o->allow_unsigned = policy == TENANT_POLICY_ALLOW_UNSIGNED;
  /* The id is known only after the signature and the payload are checked:
   * then the version (equal is a restart: allowed). */
  if (tenant_verify(buf, len, path, o, m, err) < 0)
    return -1;
  const char *dir = tenant_state_dir(NULL);
  struct tenant_version prev;
  if (load_version(dir, m->id, &prev, err) < 0)
    return -1;
  if (prev.known && m->version < prev.version)
    return edgecr_error_invalid(err, "%s: older version: version %llu is older than the running version %llu "
                                "(the highest this node accepted for tenant `%s`)", path,
                                (unsigned long long) m->version, (unsigned long long) prev.version, m->id);
  snprintf(pending.dir, sizeof pending.dir, "%s", dir);
  snprintf(pending.id, sizeof pending.id, "%s", m->id);
  pending.version = m->version;
  pending.active = true;
  return 0;
}

/* The container's control page (live updates in, counters out), mapped
 * here so that the init, cloned from this process, inherits the mapping. */
static int control_page(struct container *c, const uint8_t *file, size_t len, edgecr_error_t *err)
{
  wb_tenant_control = tenant_control_create(c->dir, err);
  if (wb_tenant_control == NULL)
    return -1;
  if (wb_tenant_meta == NULL)
    return 0;
  tenant_control_name(wb_tenant_control, wb_tenant_meta->id, wb_tenant_meta->version);
  /* the payload in force, for `update` to compare schedules with */
  struct tenant_cose cose;
  struct tenant_err e;
  if (tenant_form_of(file, len) == TENANT_FORM_SIGN1 && tenant_cose_decode(file, len, &cose, &e) == 0)
    tenant_control_set_payload(wb_tenant_control, cose.payload, cose.payload_len);
  else if (tenant_form_of(file, len) == TENANT_FORM_PLAIN)
    tenant_control_set_payload(wb_tenant_control, file, len);
  return 0;
}

int wb_tenant_check(struct container *c, const struct oci_config *cfg, edgecr_error_t *err)
{
  wb_tenant_id = c->id;
  cleanup_close int rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return edgecr_error_make(err, errno, "open the rootfs `%s`", cfg->root_path);
  cleanup_close int module = wb_open_entrypoint(cfg);
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  if (find_metadata(cfg, rootfd, module, &path, &fd, err) < 0)
    return -1;
  if (fd < 0) /* no metadata: granted nothing, but its calls are counted all the same */
    return control_page(c, NULL, 0, err);
  const char *what = json_object_get(cfg->annotations, WB_ANN_TENANT_META) != NULL
                         ? "annotations." WB_ANN_TENANT_META
                         : "tenant metadata next to the module";
  if (module < 0)
    return edgecr_error_invalid(err, "%s: no module to bind the metadata `%s` to (process.args[0])", what, path);
  const char *module_name = cfg->process->args[0];
  struct tenant_verify_opts o = {.trust_dir = tenant_trust_dir(NULL), .check_module = true,
                                 .module_name = module_name, .now = (uint64_t) time(NULL)};
  if (tenant_sha256_fd(module, module_name, o.module_sha256, err) < 0)
    return -1;
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_fd(fd, path, &buf, err);
  struct tenant_meta m;
  if (len < 0 || admit(path, buf, (size_t) len, &o, &m, err) < 0)
    return edgecr_error_wrap(err, "%s: tenant metadata refused", what);
  if (wb_tenant_schedule(c->config, &m, path, err) < 0)
    return -1;
  bool is_signed = tenant_form_of(buf, (size_t) len) != TENANT_FORM_PLAIN;
  if (!is_signed)
    log_warning("container `%s`: tenant `%s`: unsigned metadata `%s` accepted by the node policy "
                "allow-unsigned (for development only)", c->id, m.id, path);
  record(c, path, &m, is_signed, buf, (size_t) len);
  wb_tenant_meta = xmalloc0(sizeof *wb_tenant_meta);
  *wb_tenant_meta = m;
  return control_page(c, buf, (size_t) len, err);
}

int wb_tenant_created(bool ok, edgecr_error_t *err)
{
  if (!pending.active)
    return 0;
  pending.active = false;
  if (!ok) /* the record is raised only once the container exists */
    return 0;
  return tenant_version_raise(pending.dir, pending.id, pending.version, err);
}
