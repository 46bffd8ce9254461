/* rproc_bundle.c - what a firmware bundle asks the remoteproc backend for:
 * whether the backend takes the bundle at all (claims), and the processor,
 * board, remoteproc root, log tty and firmware file it names, with the
 * config fields a remote core cannot honour refused by name.
 *
 * Sources, in order: the bundle's annotations, then the rootfs's
 * /edgecr-remoteproc.json (fwimage writes the image labels there because
 * containerd copies image labels into container labels, not into the
 * bundle).  The root and the tty path are host settings: they come from
 * annotations or the environment, never from the image. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rproc_backend.h"
#include "util.h"

void rp_target_clear(struct rp_target *t)
{
  free(t->root);
  free(t->processor);
  free(t->board);
  free(t->firmware);
  free(t->tty);
  memset(t, 0, sizeof *t);
}

static char *labels_path(const struct oci_config *cfg)
{
  return cfg->root_path ? xasprintf("%s/" RP_LABELS_FILE, cfg->root_path) : NULL;
}

bool rp_bundle_claims(const struct oci_config *cfg)
{
  const char *key;
  json_t *v;
  json_object_foreach(cfg->annotations, key, v) {
    if (strcmp(key, RP_ANN_NAME) == 0 || str_has_prefix(key, RP_ANN_PREFIX))
      return true;
  }
  cleanup_free char *labels = labels_path(cfg);
  struct stat st;
  return labels != NULL && lstat(labels, &st) == 0 && S_ISREG(st.st_mode);
}

/* The rootfs labels file as an object of strings, or NULL when absent. */
static int load_labels(const struct oci_config *cfg, json_t **out, edgecr_error_t *err)
{
  *out = NULL;
  cleanup_free char *path = labels_path(cfg);
  if (path == NULL)
    return 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "open `%s`", path);
  cleanup_free char *text = NULL;
  ssize_t n = read_all_fd(fd, path, &text, err);
  close(fd);
  if (n < 0)
    return -1;
  json_error_t je;
  json_t *doc = json_loads(text, 0, &je);
  if (doc == NULL || !json_is_object(doc)) {
    json_decref(doc);
    return edgecr_error_make(err, EINVAL, "%s: not a JSON object of labels%s%s", path,
                             doc == NULL ? ": " : "", doc == NULL ? je.text : "");
  }
  const char *key;
  json_t *v;
  json_object_foreach(doc, key, v) {
    if (!json_is_string(v)) {
      json_decref(doc);
      return edgecr_error_make(err, EINVAL, "%s: `%s`: must be a string", path, key);
    }
  }
  *out = doc;
  return 0;
}

static const char *str_of(json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

/* The processor one source names; both keys must agree when both are set. */
static int processor_of(json_t *obj, const char *where, const char **out, edgecr_error_t *err)
{
  const char *a = str_of(obj, RP_ANN_NAME), *b = str_of(obj, RP_ANN_PROCESSOR);
  if (a != NULL && b != NULL && strcmp(a, b) != 0)
    return edgecr_error_make(err, EINVAL, "%s: `" RP_ANN_NAME "` (`%s`) and `" RP_ANN_PROCESSOR
                             "` (`%s`) name different processors", where, a, b);
  *out = a != NULL ? a : b;
  return 0;
}

/* Fields a remote core cannot honour and that would be wrong to drop
 * silently.  Everything else Linux-specific is ignored (docs/remoteproc.md). */
static int refuse_unsupported(const struct oci_config *cfg, edgecr_error_t *err)
{
  const char *f = cfg->path;
  if (cfg->process->terminal)
    return edgecr_error_make(err, ENOTSUP, "%s: `process.terminal`: a remote core has no terminal; "
                             "its log is the container's stdout (run without a tty)", f);
  static const enum oci_hook_kind in_create[] = {OCI_HOOK_PRESTART, OCI_HOOK_CREATE_RUNTIME,
                                                 OCI_HOOK_CREATE_CONTAINER, OCI_HOOK_START_CONTAINER};
  for (size_t i = 0; i < sizeof in_create / sizeof in_create[0]; i++)
    if (cfg->n_hooks[in_create[i]] > 0)
      return edgecr_error_make(err, ENOTSUP, "%s: `hooks.%s`: not supported for remote cores (there is "
                               "no container namespace to run it in); only poststart and poststop hooks are",
                               f, oci_hook_kind_name(in_create[i]));
  return 0;
}

/* process.args[0], resolved inside the rootfs; must stay inside it. */
static int firmware_path(const struct oci_config *cfg, char **out, edgecr_error_t *err)
{
  const char *f = cfg->path;
  char **args = cfg->process->args;
  if (args == NULL || args[0] == NULL || args[0][0] == '\0')
    return edgecr_error_make(err, EINVAL, "%s: `process.args`: empty; a firmware container names its "
                             "firmware file in process.args[0]", f);
  if (args[1] != NULL)
    return edgecr_error_make(err, EINVAL, "%s: `process.args`: a firmware takes no arguments "
                             "(process.args has %zu elements, expected 1)", f, strv_len(args));
  if (cfg->root_path == NULL)
    return edgecr_error_make(err, EINVAL, "%s: `root.path`: missing", f);
  const char *cwd = cfg->process->cwd ? cfg->process->cwd : "/";
  cleanup_free char *inside = args[0][0] == '/' ? xstrdup(args[0]) : xasprintf("%s/%s", cwd, args[0]);
  cleanup_free char *joined = xasprintf("%s/%s", cfg->root_path, inside);
  char rootfs[PATH_MAX], real[PATH_MAX];
  if (realpath(cfg->root_path, rootfs) == NULL)
    return edgecr_error_make(err, errno, "%s: `root.path`: `%s`", f, cfg->root_path);
  if (realpath(joined, real) == NULL)
    return edgecr_error_make(err, errno, "%s: `process.args[0]`: firmware `%s` in the rootfs `%s`", f,
                             args[0], cfg->root_path);
  size_t n = strlen(rootfs);
  if (strncmp(real, rootfs, n) != 0 || (real[n] != '/' && strcmp(rootfs, "/") != 0))
    return edgecr_error_make(err, EACCES, "%s: `process.args[0]`: firmware `%s` resolves outside the "
                             "rootfs (to `%s`)", f, args[0], real);
  struct stat st;
  if (stat(real, &st) < 0)
    return edgecr_error_make(err, errno, "%s: `process.args[0]`: `%s`", f, real);
  if (!S_ISREG(st.st_mode))
    return edgecr_error_make(err, EINVAL, "%s: `process.args[0]`: firmware `%s` is not a regular file", f,
                             args[0]);
  cleanup_close int fd = open(real, O_RDONLY | O_CLOEXEC);
  unsigned char magic[4] = {0};
  if (fd < 0 || read_full(fd, magic, 4) != 4 || memcmp(magic, "\x7f" "ELF", 4) != 0)
    return edgecr_error_make(err, ENOEXEC, "%s: `process.args[0]`: firmware `%s` is not an ELF file", f,
                             args[0]);
  *out = xstrdup(real);
  return 0;
}

static bool tty_path_ok(const char *p)
{
  if (p[0] == '/' || strstr(p, "..") != NULL)
    return false;
  return true;
}

int rp_bundle_resolve(const struct oci_config *cfg, struct rp_target *t, edgecr_error_t *err)
{
  if (refuse_unsupported(cfg, err) < 0)
    return -1;
  json_t *labels = NULL;
  if (load_labels(cfg, &labels, err) < 0)
    return -1;
  cleanup_free char *lpath = labels_path(cfg);
  cleanup_free char *awhere = xasprintf("%s: `annotations`", cfg->path);
  const char *from_ann = NULL, *from_labels = NULL;
  if (processor_of(cfg->annotations, awhere, &from_ann, err) < 0 ||
      (labels && processor_of(labels, lpath, &from_labels, err) < 0)) {
    json_decref(labels);
    return -1;
  }
  /* The deployer's annotation wins over the image's label: it may pick
   * another core of the same kind. */
  const char *proc = from_ann ? from_ann : from_labels;
  const char *board = str_of(cfg->annotations, RP_ANN_BOARD);
  if (board == NULL && labels != NULL)
    board = str_of(labels, RP_ANN_BOARD);
  if (proc == NULL) {
    json_decref(labels);
    return edgecr_error_make(err, EINVAL, "%s: no remote processor named: set the annotation `" RP_ANN_NAME
                             "` (or `" RP_ANN_PROCESSOR "`), or ship /" RP_LABELS_FILE " in the rootfs",
                             cfg->path);
  }
  t->processor = xstrdup(proc);
  t->board = board ? xstrdup(board) : NULL;
  json_decref(labels);

  const char *root = str_of(cfg->annotations, RP_ANN_ROOT);
  const char *where = "annotation `" RP_ANN_ROOT "`";
  if (root == NULL) {
    root = getenv(RP_ROOT_ENV);
    where = "environment variable " RP_ROOT_ENV;
    if (root == NULL || root[0] == '\0')
      root = "/";
  }
  if (root[0] != '/')
    return edgecr_error_make(err, EINVAL, "%s: remoteproc root `%s` (from the %s) must be an absolute path",
                             cfg->path, root, where);
  t->root = xstrdup(root);
  const char *tty = str_of(cfg->annotations, RP_ANN_TTY);
  if (tty != NULL && !tty_path_ok(tty))
    return edgecr_error_make(err, EINVAL, "%s: annotation `" RP_ANN_TTY "`: `%s` must be a path relative to "
                             "the remoteproc root, without `..`", cfg->path, tty);
  t->tty = tty ? xstrdup(tty) : NULL;
  return firmware_path(cfg, &t->firmware, err);
}
