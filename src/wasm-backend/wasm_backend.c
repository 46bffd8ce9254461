/* wasm_backend.c - the WebAssembly backend: containers whose process is a
 * WebAssembly module (WASI preview 1), run by edgecr's engine inside the
 * same Linux container a process would get.
 *
 * Selection (claims), with the conventions crun uses:
 *   - annotation run.oci.handler=wasm, or module.wasm.image/variant=compat:
 *     the bundle is WebAssembly (create fails if args[0] is not a module);
 *   - otherwise (module.wasm.image/variant=compat-smart, and by default):
 *     when process.args[0], resolved inside the rootfs, is a file starting
 *     with the magic "\0asm".
 * create and exec are the Linux backend's with the payload runner
 * (wasm_payload.c); every other operation is the Linux backend's own: a
 * WebAssembly container has an init process, a cgroup and namespaces like
 * any Linux container, so kill, pause, stats, update and ps need nothing
 * else. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tenant_control.h"
#include "util.h"
#include "wasm_backend.h"

bool wb_has_wasm_magic(int fd)
{
  unsigned char b[4];
  return pread(fd, b, 4, 0) == 4 && memcmp(b, "\0asm", 4) == 0;
}

static const char *annotation(const struct oci_config *cfg, const char *key)
{
  return json_string_value(json_object_get(cfg->annotations, key));
}

static const char *env_value(char **env, const char *key)
{
  size_t n = strlen(key);
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

/* Opens `path` (inside the container) beneath the rootfs: absolute
 * symlinks and `..` stay inside it, as they will for the container. */
int wb_open_in_root(int rootfd, const char *path)
{
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  return (int) syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
}

/* process.args[0] as the container will resolve it (PATH for a bare name,
 * cwd for a relative path), opened from the host; -1 if there is none. */
int wb_open_entrypoint(const struct oci_config *cfg)
{
  const struct oci_process *p = cfg->process;
  if (p == NULL || p->args == NULL || p->args[0] == NULL || cfg->root_path == NULL)
    return -1;
  cleanup_close int rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return -1;
  const char *name = p->args[0];
  if (name[0] == '/')
    return wb_open_in_root(rootfd, name);
  if (strchr(name, '/') != NULL) {
    cleanup_free char *rel = xasprintf("%s/%s", p->cwd ? p->cwd : "/", name);
    return wb_open_in_root(rootfd, rel);
  }
  const char *path = env_value(p->env, "PATH");
  cleanup_free char *dirs = xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  char *rest = dirs;
  for (char *d = strsep(&rest, ":"); d != NULL; d = strsep(&rest, ":")) {
    cleanup_free char *cand = xasprintf("%s/%s", *d ? d : ".", name);
    int fd = wb_open_in_root(rootfd, cand);
    if (fd >= 0)
      return fd;
  }
  return -1;
}

static bool wasm_claims(const struct oci_config *cfg)
{
  const char *handler = annotation(cfg, WB_ANN_HANDLER);
  const char *variant = annotation(cfg, WB_ANN_VARIANT);
  if ((handler != NULL && strcmp(handler, "wasm") == 0) || (variant != NULL && strcmp(variant, "compat") == 0))
    return true;
  cleanup_close int fd = wb_open_entrypoint(cfg);
  return fd >= 0 && wb_has_wasm_magic(fd);
}

static int wasm_create(struct container *c, const struct lc_create_opts *o, edgecr_error_t *err)
{
  if (wb_tenant_check(c, c->config, err) < 0)
    return -1;
  int rc = linux_backend_create(c, o, &wasm_payload_ops, err);
  return wb_tenant_created(rc == 0, err) < 0 ? -1 : rc;
}

/* Another module, or a Linux binary of the rootfs (the runner leaves
 * anything without the magic to execve). */
static int wasm_exec(struct container *c, const struct lc_exec_opts *o, pid_t *pid, edgecr_error_t *err)
{
  return linux_backend_exec(c, o, &wasm_payload_ops, pid, err);
}

/* The Linux backend's statistics, and the tenant's counters from its
 * control page when it has one (`edgecr events --stats`: data.tenant). */
static int wasm_stats(struct container *c, json_t **out, edgecr_error_t *err)
{
  if (linux_backend()->stats(c, out, err) < 0)
    return -1;
  edgecr_error_t none = NULL; /* a container created before control pages existed */
  struct tenant_control *page = tenant_control_open(c->dir, false, &none);
  edgecr_error_release(&none);
  if (page != NULL) {
    json_object_set_new(*out, "tenant", tenant_control_json(page));
    tenant_control_close(page);
  }
  return 0;
}

/* The Linux backend's operations with ours in place of create, exec and
 * claims; filled at registration (linux_backend() returns a statically
 * initialised table, so the order of the constructors does not matter). */
static struct backend_ops wasm_backend_ops;

__attribute__((constructor)) static void wasm_register(void)
{
  wasm_backend_ops = *linux_backend();
  wasm_backend_ops.name = "wasm";
  wasm_backend_ops.order = BACKEND_ORDER_PAYLOAD;
  wasm_backend_ops.claims = wasm_claims;
  wasm_backend_ops.create = wasm_create;
  wasm_backend_ops.exec = wasm_exec;
  wasm_backend_ops.stats = wasm_stats;
  backend_register(&wasm_backend_ops);
}
