/* setup.c - the channels a container declares in its annotations
 * (`org.edgecr.channel.<name>`, docs/channels.md): its ends parsed and
 * checked, the mounts that give it exactly those ends, and the channel's
 * files made at its first user and removed after its last.
 *
 * The users of a channel are not counted in a file of their own: they are
 * the containers whose state (<root>/<id>/state.json, written before the
 * runtime creates anything for them) declares the channel.  So whatever a
 * killed runtime leaves behind, the next create or delete under the same
 * root finds the truth, and a channel with no container left is removed.
 * Only channels that edgecr made are ever removed: each has a marker
 * <root>/channels/.owned/<name>, made before the channel and removed after
 * it.  Every change happens under an exclusive flock of
 * <root>/channels/.lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chanlib.h"
#include "util.h"

char *edgecr_channel_host_dir(const char *state_root) { return xasprintf("%s/channels", state_root); }

static int end_err(edgecr_error_t *err, const char *file, const char *name, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
static int end_err(edgecr_error_t *err, const char *file, const char *name, const char *field, const char *fmt,
                   ...)
{
  char why[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return edgecr_error_invalid(err, "%s: annotation `%s%s`: `%s`: %s", file, EDGECR_CHANNEL_ANNOTATION, name, field,
                              why);
}

int edgecr_channel_end_parse(const char *name, const char *value, const char *file, struct edgecr_channel_end *e,
                             edgecr_error_t *err)
{
  memset(e, 0, sizeof *e);
  json_error_t je;
  json_t *o = value ? json_loads(value, JSON_REJECT_DUPLICATES, &je) : NULL;
  if (!json_is_object(o)) {
    json_decref(o);
    return edgecr_error_invalid(err, "%s: annotation `%s%s`: must be a JSON object such as "
                                "{\"writer\": true, \"kind\": \"fifo\", \"message_size\": 64, \"depth\": 16, "
                                "\"readers\": 1}", file, EDGECR_CHANNEL_ANNOTATION, name);
  }
  json_t *w = json_object_get(o, "writer"), *r = json_object_get(o, "reader");
  int rc = 0;
  if (w && !json_is_boolean(w))
    rc = end_err(err, file, name, "writer", "must be true or false");
  else if (r && (!json_is_integer(r) || json_integer_value(r) < 0 || json_integer_value(r) >= ECHAN_MAX_READERS))
    rc = end_err(err, file, name, "reader", "must be the reader's index, 0..%u", ECHAN_MAX_READERS - 1);
  else if (!json_is_true(w) && !r)
    rc = end_err(err, file, name, "writer", "the container is neither the writer nor a reader "
                 "(give \"writer\": true or \"reader\": INDEX)");
  if (rc < 0) {
    json_decref(o);
    return rc;
  }
  e->writer = json_is_true(w);
  e->reader = r != NULL;
  e->reader_index = r ? (uint32_t)json_integer_value(r) : 0;
  json_object_del(o, "writer");
  json_object_del(o, "reader");
  json_object_set_new(o, "name", json_string(name));
  if (!json_object_get(o, "writers"))
    json_object_set_new(o, "writers", json_integer(1));
  cleanup_free char *where = xasprintf("%s: annotation `%s%s`", file, EDGECR_CHANNEL_ANNOTATION, name);
  rc = edgecr_channel_decl_from_json(o, where, &e->decl, err);
  json_decref(o);
  if (rc == 0 && e->reader && e->reader_index >= e->decl.readers)
    rc = end_err(err, file, name, "reader", "%u: the channel has %u %s (0..%u)", e->reader_index, e->decl.readers,
                 e->decl.readers == 1 ? "reader" : "readers", e->decl.readers - 1);
  return rc;
}

static int cmp_end(const void *a, const void *b)
{
  return strcmp(((const struct edgecr_channel_end *)a)->decl.name, ((const struct edgecr_channel_end *)b)->decl.name);
}

int edgecr_channel_ends_parse(const json_t *annotations, const char *file, struct edgecr_channel_end **out, size_t *n,
                              edgecr_error_t *err)
{
  *out = NULL;
  *n = 0;
  const char *key;
  json_t *v;
  size_t k = 0;
  json_object_foreach((json_t *)annotations, key, v)
    k += str_has_prefix(key, EDGECR_CHANNEL_ANNOTATION);
  if (k == 0)
    return 0;
  struct edgecr_channel_end *e = xmalloc0(k * sizeof *e);
  k = 0;
  json_object_foreach((json_t *)annotations, key, v) {
    if (!str_has_prefix(key, EDGECR_CHANNEL_ANNOTATION))
      continue;
    if (edgecr_channel_end_parse(key + strlen(EDGECR_CHANNEL_ANNOTATION), json_string_value(v), file, &e[k], err) < 0) {
      free(e);
      return -1;
    }
    k++;
  }
  qsort(e, k, sizeof *e, cmp_end); /* annotations are a hash: a stable order for mounts and messages */
  *out = e;
  *n = k;
  return 0;
}

json_t *edgecr_channel_ends_mounts(const char *host_dir, const struct edgecr_channel_end *e, size_t n,
                                   edgecr_error_t *err)
{
  /* A small tmpfs holds the mount points, so nothing is created in the
   * container's rootfs beyond /run/edgecr/channels itself. */
  json_t *a = json_pack("[{s:s, s:s, s:s, s:[s,s,s,s,s]}]", "destination", EDGECR_CHANNEL_DIR, "type", "tmpfs",
                        "source", "tmpfs", "options", "nosuid", "nodev", "noexec", "mode=755", "size=64k");
  for (size_t i = 0; i < n; i++) {
    /* The writer's ends first: a container that also reads the channel
     * gets its own page read-write on top of the writer's read-only one
     * (and keeps `data` read-write). */
    for (int reader = 0; reader < 2; reader++) {
      if (!(reader ? e[i].reader : e[i].writer))
        continue;
      json_t *m = edgecr_channel_oci_mounts(host_dir, &e[i].decl, !reader, e[i].reader_index, err);
      if (m == NULL) {
        json_decref(a);
        return NULL;
      }
      if (reader && e[i].writer)
        json_array_remove(m, 0); /* the writer's `data`, read-write, stays: no read-only one on top */
      json_array_extend(a, m);
      json_decref(m);
    }
  }
  return a;
}

/* ---- users, from the containers' state ---- */

struct user {
  char *id;
  struct edgecr_channel_end end;
  bool parsed;
};

static void users_free(struct user *u, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(u[i].id);
  free(u);
}

/* The containers under state_root other than `self` that declare channel
 * `name`.  A state file that cannot be read (a container being made, or
 * not a container at all) declares nothing. */
static struct user *find_users(const char *state_root, const char *self, const char *name, size_t *n)
{
  *n = 0;
  struct user *u = NULL;
  DIR *d = opendir(state_root);
  if (d == NULL)
    return NULL;
  cleanup_free char *key = xasprintf("%s%s", EDGECR_CHANNEL_ANNOTATION, name);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || (self && strcmp(de->d_name, self) == 0))
      continue;
    cleanup_free char *path = xasprintf("%s/%s/state.json", state_root, de->d_name);
    json_t *st = json_load_file(path, 0, NULL);
    const char *v = json_string_value(json_object_get(json_object_get(st, "annotations"), key));
    if (v != NULL) {
      u = xrealloc(u, (*n + 1) * sizeof *u);
      edgecr_error_t ignore = NULL;
      u[*n].id = xstrdup(de->d_name);
      u[*n].parsed = edgecr_channel_end_parse(name, v, path, &u[*n].end, &ignore) == 0;
      edgecr_error_release(&ignore);
      (*n)++;
    }
    json_decref(st);
  }
  closedir(d);
  return u;
}

/* The first field in which two declarations differ, or NULL. */
static const char *decl_diff(const struct edgecr_channel_decl *a, const struct edgecr_channel_decl *b)
{
  if (a->kind != b->kind)
    return "kind";
  if (a->msg_size != b->msg_size)
    return "message_size";
  if (a->depth != b->depth)
    return "depth";
  if (a->writers != b->writers)
    return "writers";
  if (a->readers != b->readers)
    return "readers";
  if (a->wait_mode != b->wait_mode)
    return "wait";
  if (a->full_policy != b->full_policy)
    return "full";
  return NULL;
}

/* Refuses an end that another container's declaration contradicts: another
 * declaration of the channel, or the same end taken. */
static int check_against(const struct edgecr_channel_end *e, const struct user *u, size_t n, edgecr_error_t *err)
{
  const char *nm = e->decl.name;
  for (size_t i = 0; i < n; i++) {
    const char *f = u[i].parsed ? decl_diff(&e->decl, &u[i].end.decl) : "(unreadable declaration)";
    if (f)
      return edgecr_error_make(err, EBUSY, "channel `%s`: container `%s` uses it with another declaration (field "
                               "`%s`); every container must declare a channel alike", nm, u[i].id, f);
    if (e->writer && u[i].end.writer)
      return edgecr_error_make(err, EBUSY, "channel `%s`: container `%s` is its writer already", nm, u[i].id);
    if (e->reader && u[i].end.reader && e->reader_index == u[i].end.reader_index)
      return edgecr_error_make(err, EBUSY, "channel `%s`: container `%s` is its reader %u already", nm, u[i].id,
                               e->reader_index);
  }
  return 0;
}

/* ---- the files ---- */

static int lock_host_dir(const char *host_dir, bool make, int *fd, edgecr_error_t *err)
{
  *fd = -1;
  cleanup_free char *owned = xasprintf("%s/.owned", host_dir);
  if (make && mkdir_p(owned, 0700, err) < 0)
    return edgecr_error_wrap(err, "channels");
  cleanup_free char *lock = xasprintf("%s/.lock", host_dir);
  *fd = open(lock, O_RDWR | (make ? O_CREAT : 0) | O_CLOEXEC, 0600);
  if (*fd < 0)
    return errno == ENOENT && !make ? 0 : edgecr_error_make(err, errno, "channels: open `%s`", lock);
  if (flock(*fd, LOCK_EX) < 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    return edgecr_error_make(err, e, "channels: lock `%s`", lock);
  }
  return 0;
}

static bool owned(const char *host_dir, const char *name)
{
  cleanup_free char *m = xasprintf("%s/.owned/%s", host_dir, name);
  return access(m, F_OK) == 0;
}

/* Whether the existing channel's files are this declaration's, intact. */
static bool files_match(const char *host_dir, const struct edgecr_channel_decl *d)
{
  edgecr_error_t ignore = NULL;
  if (edgecr_channel_validate(host_dir, d->name, &ignore) < 0) {
    edgecr_error_release(&ignore);
    return false;
  }
  cleanup_free char *path = xasprintf("%s/%s/data", host_dir, d->name);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct echan_hdr have, want;
  edgecr_channel_header_init(&want, d);
  return fd >= 0 && pread(fd, &have, sizeof have, 0) == (ssize_t)sizeof have &&
         memcmp(&have, &want, offsetof(struct echan_hdr, head)) == 0;
}

static int remove_owned(const char *host_dir, const char *name, edgecr_error_t *err)
{
  if (edgecr_channel_remove(host_dir, name, err) < 0)
    return -1;
  cleanup_free char *m = xasprintf("%s/.owned/%s", host_dir, name);
  if (unlink(m) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "channel `%s`: remove `%s`", name, m);
  return 0;
}

static int acquire_one(const char *state_root, const char *host_dir, const char *self,
                       const struct edgecr_channel_end *e, edgecr_error_t *err)
{
  const char *nm = e->decl.name;
  size_t n = 0;
  struct user *u = find_users(state_root, self, nm, &n);
  int rc = check_against(e, u, n, err);
  users_free(u, n);
  if (rc < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", host_dir, nm);
  struct stat st;
  bool exists = lstat(path, &st) == 0, ours = owned(host_dir, nm);
  if (exists && !ours)
    return edgecr_error_make(err, EEXIST, "channel `%s`: `%s` exists and edgecr did not make it: it is left alone "
                             "(remove it, or name the channel differently)", nm, path);
  if (exists && files_match(host_dir, &e->decl))
    return 0; /* in use (or left by a crash): kept with its contents */
  if (exists && n > 0)
    return edgecr_error_make(err, EIO, "channel `%s`: its files in `%s` are damaged while %zu other %s use it", nm,
                             path, n, n == 1 ? "container" : "containers");
  if (exists && remove_owned(host_dir, nm, err) < 0) /* a left-over of another declaration */
    return -1;
  /* The marker first: whatever a crash leaves, it is known to be ours. */
  cleanup_free char *marker = xasprintf("%s/.owned/%s", host_dir, nm);
  cleanup_close int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return edgecr_error_make(err, errno, "channel `%s`: create `%s`", nm, marker);
  if (edgecr_channel_create(host_dir, &e->decl, err) < 0) {
    unlink(marker);
    return -1;
  }
  return 0;
}

/* Ends run by another user than root (process.user, as the host sees it)
 * get their files: the writer `data`, reader i `reader.<i>`; then every
 * file is made readable by all, since each end reads the other's (only
 * the mounted ends can reach them: the channel's directory is 0700). */
static int give_end(const char *host_dir, const struct edgecr_channel_end *e, uid_t uid, gid_t gid,
                    edgecr_error_t *err)
{
  if (uid == 0 && gid == 0)
    return 0;
  cleanup_free char *path = xasprintf("%s/%s", host_dir, e->decl.name);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return edgecr_error_make(err, errno, "channel `%s`: open `%s`", e->decl.name, path);
  char file[32];
  for (uint32_t i = 0; i <= e->decl.readers; i++) {
    if (i == e->decl.readers)
      snprintf(file, sizeof file, "data");
    else
      snprintf(file, sizeof file, "reader.%u", i);
    bool mine = i == e->decl.readers ? e->writer : e->reader && e->reader_index == i;
    if ((mine && fchownat(dfd, file, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) || fchmodat(dfd, file, 0644, 0) < 0)
      return edgecr_error_make(err, errno, "channel `%s`: give `%s/%s` to uid %u gid %u", e->decl.name, path, file,
                               (unsigned)uid, (unsigned)gid);
  }
  return 0;
}

int edgecr_channels_release(const char *state_root, const char *self, edgecr_error_t *err)
{
  cleanup_free char *host_dir = edgecr_channel_host_dir(state_root);
  cleanup_close int lock = -1;
  if (lock_host_dir(host_dir, false, &lock, err) < 0)
    return -1;
  if (lock < 0)
    return 0; /* no channel was ever made under this root */
  cleanup_free char *mdir = xasprintf("%s/.owned", host_dir);
  DIR *d = opendir(mdir);
  if (d == NULL)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "channels: open `%s`", mdir);
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    size_t n = 0;
    struct user *u = find_users(state_root, self, de->d_name, &n);
    users_free(u, n);
    if (n == 0)
      rc = remove_owned(host_dir, de->d_name, err);
  }
  closedir(d);
  return rc;
}

int edgecr_channels_acquire(const char *state_root, const char *self, const struct edgecr_channel_end *e, size_t n,
                            uid_t uid, gid_t gid, edgecr_error_t *err)
{
  if (n == 0)
    return 0;
  cleanup_free char *host_dir = edgecr_channel_host_dir(state_root);
  cleanup_free char *state = xasprintf("%s/state.json", host_dir);
  if (access(state, F_OK) == 0) /* a container named `channels` holds the name */
    return edgecr_error_make(err, EEXIST, "channels: `%s` is the state of a container named `channels`: delete it, "
                             "or use another --root, to use channels", host_dir);
  int rc = 0;
  {
    cleanup_close int lock = -1;
    if (lock_host_dir(host_dir, true, &lock, err) < 0)
      return -1;
    for (size_t i = 0; i < n && rc == 0; i++)
      if ((rc = acquire_one(state_root, host_dir, self, &e[i], err)) == 0)
        rc = give_end(host_dir, &e[i], uid, gid, err);
  }
  if (rc < 0) {
    /* What this call made and nobody else uses goes again. */
    edgecr_error_t ignore = NULL;
    edgecr_channels_release(state_root, self, &ignore);
    edgecr_error_release(&ignore);
  }
  return rc;
}
