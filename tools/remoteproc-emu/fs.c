/* fs.c - the FUSE filesystem mounted at <root>/sys: the kernel's sysfs
 * remoteproc class and the devicetree model.
 *
 *   class/remoteproc/remoteprocN/{name,firmware,state,recovery,coredump}
 *   firmware/devicetree/base/model        (only with --model)
 *
 * Like sysfs, every attribute reports size 4096, each read returns the
 * current value, each write(2) is one command, and a refused write fails with
 * the kernel's errno.  Files are opened direct_io so nothing is cached. */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "util.h"

#define SYSFS_PAGE 4096

enum attr { ATTR_NAME, ATTR_FIRMWARE, ATTR_STATE, ATTR_RECOVERY, ATTR_COREDUMP, ATTR_COUNT };
static const char *const attr_names[ATTR_COUNT] = {"name", "firmware", "state", "recovery",
                                                   "coredump"};
/* Modes as the kernel declares them (DEVICE_ATTR_RO / _RW). */
static const mode_t attr_modes[ATTR_COUNT] = {0444, 0644, 0644, 0644, 0644};

enum node_kind { NODE_NONE, NODE_DIR, NODE_ATTR, NODE_MODEL };

struct node {
  enum node_kind kind;
  struct emu_proc *proc; /* NODE_ATTR, and the remoteprocN directory */
  enum attr attr;
  const char *dir;       /* NODE_DIR: the path, to list it */
};

static struct emu *fs_emu(void)
{
  return fuse_get_context()->private_data;
}

static const char *const fixed_dirs[] = {"/", "/class", "/class/remoteproc"};
static const char *const model_dirs[] = {"/firmware", "/firmware/devicetree",
                                         "/firmware/devicetree/base"};

static struct emu_proc *proc_by_dirname(struct emu *e, const char *name, size_t len)
{
  for (size_t i = 0; i < e->nprocs; i++) {
    char want[32];
    int n = snprintf(want, sizeof want, "remoteproc%u", e->procs[i].index);
    if ((size_t) n == len && memcmp(want, name, len) == 0)
      return &e->procs[i];
  }
  return NULL;
}

static struct node resolve(struct emu *e, const char *path)
{
  struct node n = {.kind = NODE_NONE};
  for (size_t i = 0; i < sizeof fixed_dirs / sizeof fixed_dirs[0]; i++)
    if (strcmp(path, fixed_dirs[i]) == 0)
      return (struct node){.kind = NODE_DIR, .dir = fixed_dirs[i]};
  if (e->model != NULL) {
    for (size_t i = 0; i < sizeof model_dirs / sizeof model_dirs[0]; i++)
      if (strcmp(path, model_dirs[i]) == 0)
        return (struct node){.kind = NODE_DIR, .dir = model_dirs[i]};
    if (strcmp(path, "/firmware/devicetree/base/model") == 0)
      return (struct node){.kind = NODE_MODEL};
  }
  const char *prefix = "/class/remoteproc/";
  if (!str_has_prefix(path, prefix))
    return n;
  const char *rest = path + strlen(prefix);
  const char *slash = strchr(rest, '/');
  size_t len = slash ? (size_t) (slash - rest) : strlen(rest);
  struct emu_proc *p = proc_by_dirname(e, rest, len);
  if (p == NULL)
    return n;
  if (slash == NULL)
    return (struct node){.kind = NODE_DIR, .proc = p, .dir = path};
  for (int a = 0; a < ATTR_COUNT; a++)
    if (strcmp(slash + 1, attr_names[a]) == 0)
      return (struct node){.kind = NODE_ATTR, .proc = p, .attr = (enum attr) a};
  return n;
}

static time_t mount_time;

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
  (void) fi;
  struct node n = resolve(fs_emu(), path);
  memset(st, 0, sizeof *st);
  st->st_atime = st->st_mtime = st->st_ctime = mount_time;
  switch (n.kind) {
  case NODE_DIR:
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  case NODE_ATTR:
    st->st_mode = S_IFREG | attr_modes[n.attr];
    st->st_nlink = 1;
    st->st_size = SYSFS_PAGE;
    return 0;
  case NODE_MODEL:
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = (off_t) strlen(fs_emu()->model) + 1;
    return 0;
  case NODE_NONE:
    break;
  }
  return -ENOENT;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
  (void) off, (void) fi, (void) flags;
  struct emu *e = fs_emu();
  struct node n = resolve(e, path);
  if (n.kind != NODE_DIR)
    return n.kind == NODE_NONE ? -ENOENT : -ENOTDIR;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  if (n.proc != NULL) {
    for (int a = 0; a < ATTR_COUNT; a++)
      fill(buf, attr_names[a], NULL, 0, 0);
  } else if (strcmp(path, "/") == 0) {
    fill(buf, "class", NULL, 0, 0);
    if (e->model != NULL)
      fill(buf, "firmware", NULL, 0, 0);
  } else if (strcmp(path, "/class") == 0) {
    fill(buf, "remoteproc", NULL, 0, 0);
  } else if (strcmp(path, "/class/remoteproc") == 0) {
    for (size_t i = 0; i < e->nprocs; i++) {
      char name[32];
      snprintf(name, sizeof name, "remoteproc%u", e->procs[i].index);
      fill(buf, name, NULL, 0, 0);
    }
  } else if (strcmp(path, "/firmware") == 0) {
    fill(buf, "devicetree", NULL, 0, 0);
  } else if (strcmp(path, "/firmware/devicetree") == 0) {
    fill(buf, "base", NULL, 0, 0);
  } else if (strcmp(path, "/firmware/devicetree/base") == 0) {
    fill(buf, "model", NULL, 0, 0);
  }
  return 0;
}

static bool node_writable(const struct node *n)
{
  return n->kind == NODE_ATTR && (attr_modes[n->attr] & 0200);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
  struct node n = resolve(fs_emu(), path);
  if (n.kind == NODE_NONE)
    return -ENOENT;
  if (n.kind == NODE_DIR)
    return -EISDIR;
  /* kernfs refuses write opens of attributes without a store(), even for
   * root. */
  if ((fi->flags & O_ACCMODE) != O_RDONLY && !node_writable(&n))
    return -EACCES;
  fi->direct_io = 1;
  fi->nonseekable = 0;
  return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
  (void) size, (void) fi;
  struct node n = resolve(fs_emu(), path);
  if (n.kind == NODE_NONE)
    return -ENOENT;
  /* `echo x > attr` opens with O_TRUNC; sysfs ignores it. */
  return node_writable(&n) ? 0 : -EACCES;
}

/* The attribute's current text, as the kernel's show() prints it. */
static char *attr_show(struct emu_proc *p, enum attr a)
{
  pthread_mutex_lock(&p->emu->lock);
  char *text = NULL;
  switch (a) {
  case ATTR_NAME: text = xasprintf("%s\n", p->name); break;
  case ATTR_FIRMWARE: text = xasprintf("%s\n", p->firmware); break;
  case ATTR_STATE: text = xasprintf("%s\n", proc_state_name(p->state)); break;
  case ATTR_RECOVERY:
    text = xstrdup(p->recovery_disabled ? "disabled\n" : "enabled\n");
    break;
  case ATTR_COREDUMP: text = xasprintf("%s\n", proc_coredump_name(p->coredump)); break;
  case ATTR_COUNT: text = xstrdup(""); break;
  }
  pthread_mutex_unlock(&p->emu->lock);
  return text;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
  (void) fi;
  struct emu *e = fs_emu();
  struct node n = resolve(e, path);
  cleanup_free char *text = NULL;
  size_t len;
  if (n.kind == NODE_ATTR) {
    text = attr_show(n.proc, n.attr);
    len = strlen(text);
  } else if (n.kind == NODE_MODEL) {
    /* A devicetree string property: NUL-terminated, no newline. */
    text = xstrdup(e->model);
    len = strlen(text) + 1;
  } else {
    return n.kind == NODE_NONE ? -ENOENT : -EISDIR;
  }
  if (off < 0 || (size_t) off >= len)
    return 0;
  size_t n_copy = len - (size_t) off < size ? len - (size_t) off : size;
  memcpy(buf, text + off, n_copy);
  return (int) n_copy;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
  (void) off, (void) fi;
  struct node n = resolve(fs_emu(), path);
  if (n.kind == NODE_NONE)
    return -ENOENT;
  if (!node_writable(&n))
    return -EACCES;
  /* sysfs hands store() at most one page, NUL-terminated. */
  if (size >= SYSFS_PAGE)
    size = SYSFS_PAGE - 1;
  cleanup_free char *cmd = strndup(buf, size);
  if (cmd == NULL)
    return -ENOMEM;
  int r = -EINVAL;
  switch (n.attr) {
  case ATTR_STATE: r = proc_cmd_state(n.proc, cmd); break;
  case ATTR_FIRMWARE: r = proc_set_firmware(n.proc, cmd, size); break;
  case ATTR_RECOVERY: r = proc_set_recovery(n.proc, cmd); break;
  case ATTR_COREDUMP: r = proc_set_coredump(n.proc, cmd); break;
  case ATTR_NAME:
  case ATTR_COUNT: r = -EACCES; break;
  }
  return r < 0 ? r : (int) size;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  (void) conn;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

static const struct fuse_operations fs_ops = {
  .init = fs_init,
  .getattr = fs_getattr,
  .readdir = fs_readdir,
  .open = fs_open,
  .read = fs_read,
  .write = fs_write,
  .truncate = fs_truncate,
};

struct fuse *fs_mount(struct emu *e, edgecr_error_t *err)
{
  mount_time = time(NULL);
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  fuse_opt_add_arg(&args, "remoteproc-emu");
  fuse_opt_add_arg(&args, "-o");
  /* allow_other: other users (the runtime may drop privileges) see it too;
   * only root may ask for it without /etc/fuse.conf's user_allow_other. */
  fuse_opt_add_arg(&args, geteuid() == 0 ? "fsname=remoteproc-emu,subtype=remoteproc,allow_other"
                                         : "fsname=remoteproc-emu,subtype=remoteproc");
  struct fuse *f = fuse_new(&args, &fs_ops, sizeof fs_ops, e);
  fuse_opt_free_args(&args);
  if (f == NULL) {
    edgecr_error_make(err, 0, "create FUSE filesystem");
    return NULL;
  }
  if (fuse_mount(f, e->mountpoint) != 0) {
    fuse_destroy(f);
    edgecr_error_make(err, 0, "mount FUSE filesystem on `%s` (is /dev/fuse usable?)",
                      e->mountpoint);
    return NULL;
  }
  if (fuse_set_signal_handlers(fuse_get_session(f)) != 0) {
    fuse_unmount(f);
    fuse_destroy(f);
    edgecr_error_make(err, 0, "install signal handlers");
    return NULL;
  }
  return f;
}

int fs_loop(struct fuse *f)
{
  return fuse_loop(f);
}

void fs_unmount(struct fuse *f)
{
  fuse_remove_signal_handlers(fuse_get_session(f));
  fuse_unmount(f);
  fuse_destroy(f);
}
