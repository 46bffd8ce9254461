/* wasm_tenant.c - tenant metadata checked at create (docs/tenants.md).
 *
 * The annotation org.edgecr.tenant.metadata names a COSE_Sign1 file inside
 * the rootfs (resolved beneath it, like the module).  create verifies it
 * with the trust directory ($EDGECR_TRUST_DIR, set by the global option
 * --trust-dir, else /etc/edgecr/trust.d) and binds it to the module that
 * will run (process.args[0]); any failed check fails create with the
 * check's reason, before anything is created.  What was verified goes into
 * the state's annotations, so `edgecr state` shows it.  The schedule
 * becomes the container's real-time settings (wasm_sched.c), and the
 * verified metadata stays in this process for the container's init (a
 * clone of it) to run the tenant with (wb_tenant_meta). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tenant_linux.h"
#include "util.h"
#include "wasm_backend.h"

struct tenant_meta *wb_tenant_meta;
const char *wb_tenant_id;

static void record(struct container *c, const struct tenant_meta *m, const uint8_t *file, size_t len)
{
  uint8_t d[TENANT_DIGEST_LEN];
  char digest[80], version[24];
  tenant_sha256(file, len, d);
  snprintf(version, sizeof version, "%llu", (unsigned long long) m->version);
  json_t *a = c->state->annotations;
  json_object_set_new(a, "org.edgecr.tenant.id", json_string(m->id));
  json_object_set_new(a, "org.edgecr.tenant.version", json_string(version));
  json_object_set_new(a, "org.edgecr.tenant.key", json_string(m->kid));
  json_object_set_new(a, "org.edgecr.tenant.metadata-digest",
                      json_string(tenant_digest_str(d, digest, sizeof digest)));
}

int wb_tenant_check(struct container *c, const struct oci_config *cfg, edgecr_error_t *err)
{
  const char *path = json_string_value(json_object_get(cfg->annotations, WB_ANN_TENANT_META));
  wb_tenant_id = c->id;
  if (path == NULL)
    return 0;
  const char *what = "annotations." WB_ANN_TENANT_META;
  cleanup_close int rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return edgecr_error_make(err, errno, "%s: open the rootfs `%s`", what, cfg->root_path);
  cleanup_close int fd = wb_open_in_root(rootfd, path);
  if (fd < 0)
    return edgecr_error_make(err, errno, "%s: open `%s` in the rootfs", what, path);
  cleanup_close int module = wb_open_entrypoint(cfg);
  if (module < 0)
    return edgecr_error_invalid(err, "%s: no module to bind the metadata to (process.args[0])", what);
  const char *module_name = cfg->process->args[0];
  struct tenant_verify_opts o = {.trust_dir = tenant_trust_dir(NULL), .check_module = true,
                                 .module_name = module_name, .now = (uint64_t) time(NULL)};
  if (tenant_sha256_fd(module, module_name, o.module_sha256, err) < 0)
    return -1;
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_fd(fd, path, &buf, err);
  struct tenant_meta m;
  if (len < 0 || tenant_verify(buf, (size_t) len, path, &o, &m, err) < 0)
    return edgecr_error_wrap(err, "%s: tenant metadata refused", what);
  if (wb_tenant_schedule(c->config, &m, path, err) < 0)
    return -1;
  record(c, &m, buf, (size_t) len);
  wb_tenant_meta = xmalloc0(sizeof *wb_tenant_meta);
  *wb_tenant_meta = m;
  return 0;
}
