/* repo.c - the plan repository of repo.h on libostree.
 *
 * Why libostree: it is a content-addressed object store made for exactly
 * this (atomic commits of file trees, deduplication of identical files,
 * hard-linked checkouts, static deltas between commits), packaged by
 * Debian, and used in production for OS updates.  See docs/dependencies.md. */
#include "repo.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ostree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "identity.h"
#include "util.h"

#define DELTA_MAGIC "edgecr-plan-delta 1\n"

struct plan_repo {
  char *dir;
  OstreeRepo *repo;
};

/* GError -> edgecr_error_t (and free the GError). */
static int from_gerror(edgecr_error_t *err, GError *e, const char *what)
{
  int r = edgecr_error_make(err, 0, "%s: %s", what, e ? e->message : "unknown libostree error");
  g_clear_error(&e);
  return r;
}

const char *plan_repo_default_dir(void)
{
  const char *env = getenv("EDGECR_PLAN_REPO");
  return env && *env ? env : "/var/lib/edgecr/plans";
}

int plan_repo_open(const char *dir, bool create, struct plan_repo **out, edgecr_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/repo", dir);
  GError *e = NULL;
  OstreeRepo *repo = NULL;
  struct stat st;
  if (stat(path, &st) == 0) {
    repo = ostree_repo_open_at(AT_FDCWD, path, NULL, &e);
  } else if (create) {
    if (mkdir_p(dir, 0755, err) < 0)
      return edgecr_error_wrap(err, "plan repository");
    /* bare-user-only: plain files owned by whoever runs edgecr, which is
     * what hard-linked checkouts need (archive mode compresses objects). */
    repo = ostree_repo_create_at(AT_FDCWD, path, OSTREE_REPO_MODE_BARE_USER_ONLY, NULL, NULL, &e);
  } else {
    return edgecr_error_make(err, ENOENT, "plan repository `%s` does not exist (build a plan first)", dir);
  }
  if (repo == NULL)
    return from_gerror(err, e, dir);
  struct plan_repo *r = xmalloc0(sizeof *r);
  r->dir = xstrdup(dir);
  r->repo = repo;
  *out = r;
  return 0;
}

void plan_repo_close(struct plan_repo *r)
{
  if (r == NULL)
    return;
  g_clear_object(&r->repo);
  free(r->dir);
  free(r);
}

const char *plan_repo_dir(const struct plan_repo *r) { return r->dir; }

static int dir_metadata(struct plan_repo *r, char **checksum, edgecr_error_t *err)
{
  g_autoptr(GFileInfo) info = g_file_info_new();
  g_file_info_set_attribute_uint32(info, "unix::uid", 0);
  g_file_info_set_attribute_uint32(info, "unix::gid", 0);
  g_file_info_set_attribute_uint32(info, "unix::mode", S_IFDIR | 0755);
  g_autoptr(GVariant) meta = ostree_create_directory_metadata(info, NULL); /* transfer full */
  g_autofree guchar *csum = NULL;
  GError *e = NULL;
  if (!ostree_repo_write_metadata(r->repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, meta, &csum, NULL, &e))
    return from_gerror(err, e, "write directory metadata");
  *checksum = ostree_checksum_from_bytes(csum);
  return 0;
}

static OstreeMutableTree *new_dir(struct plan_repo *r, OstreeMutableTree *parent, const char *name,
                                  edgecr_error_t *err)
{
  g_autofree char *meta = NULL;
  OstreeMutableTree *sub = NULL;
  GError *e = NULL;
  if (dir_metadata(r, &meta, err) < 0)
    return NULL;
  if (parent == NULL)
    sub = ostree_mutable_tree_new();
  else if (!ostree_mutable_tree_ensure_dir(parent, name, &sub, &e)) {
    from_gerror(err, e, name);
    return NULL;
  }
  ostree_mutable_tree_set_metadata_checksum(sub, meta);
  return sub;
}

static int add_bundles(struct plan_repo *r, const struct plan_config *c, OstreeMutableTree *root,
                       edgecr_error_t *err)
{
  g_autoptr(OstreeMutableTree) bundles = new_dir(r, root, "bundles", err);
  if (bundles == NULL)
    return -1;
  g_autoptr(OstreeRepoCommitModifier) mod =
      ostree_repo_commit_modifier_new(OSTREE_REPO_COMMIT_MODIFIER_FLAGS_CANONICAL_PERMISSIONS, NULL, NULL, NULL);
  for (size_t i = 0; i < c->n; i++) {
    const struct plan_container *k = &c->containers[i];
    struct stat st;
    if (k->bundle == NULL)
      continue;
    if (stat(k->bundle, &st) < 0 || !S_ISDIR(st.st_mode))
      return edgecr_error_make(err, errno ? errno : ENOTDIR, "%s:%d: containers[%zu].bundle: `%s` is not a directory",
                               c->file, k->line, i, k->bundle);
    g_autoptr(OstreeMutableTree) sub = NULL;
    GError *e = NULL;
    if (!ostree_mutable_tree_ensure_dir(bundles, k->name, &sub, &e) ||
        !ostree_repo_write_dfd_to_mtree(r->repo, AT_FDCWD, k->bundle, sub, mod, NULL, &e))
      return from_gerror(err, e, k->bundle);
  }
  return 0;
}

/* A container's identity for diff and switch (identity.h): the bundle
 * tree's contents and metadata checksums go into the entry, and the
 * stored checksum covers the identity only, so two builds that differ in
 * start order or analysis results give the same checksum. */
static void set_container_checksums(OstreeMutableTree *root, json_t *plan)
{
  OstreeMutableTree *bundles = NULL;
  g_autofree char *unused = NULL;
  ostree_mutable_tree_lookup(root, "bundles", &unused, &bundles, NULL);
  size_t i;
  json_t *ct;
  json_array_foreach(json_object_get(plan, "containers"), i, ct) {
    g_autoptr(OstreeMutableTree) sub = NULL;
    g_autofree char *file = NULL;
    const char *name = json_string_value(json_object_get(ct, "name"));
    if (bundles && json_object_get(ct, "bundle") && ostree_mutable_tree_lookup(bundles, name, &file, &sub, NULL) && sub) {
      json_object_set_new(ct, "bundle_tree", json_string(ostree_mutable_tree_get_contents_checksum(sub)));
      json_object_set_new(ct, "bundle_meta", json_string(ostree_mutable_tree_get_metadata_checksum(sub)));
    }
    json_t *id = plan_container_identity(ct);
    char *settings = json_dumps(id, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(id);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *) settings, (gssize) strlen(settings));
    free(settings);
    json_object_set_new(ct, "checksum", json_string(g_checksum_get_string(sum)));
  }
  g_clear_object(&bundles);
}

static int commit_tree(struct plan_repo *r, const struct plan_config *c, bool schedulable,
                       OstreeMutableTree *root, char **commit, edgecr_error_t *err)
{
  GError *e = NULL;
  g_autoptr(GFile) root_file = NULL;
  g_autofree char *parent = NULL;
  if (!ostree_repo_write_mtree(r->repo, root, &root_file, NULL, &e) ||
      !ostree_repo_resolve_rev(r->repo, c->name, TRUE, &parent, &e))
    return from_gerror(err, e, "write plan tree");
  GVariantDict md;
  g_variant_dict_init(&md, NULL);
  g_variant_dict_insert(&md, "edgecr.plan.name", "s", c->name);
  g_variant_dict_insert(&md, "edgecr.plan.schedulable", "b", (gboolean) schedulable);
  g_autoptr(GVariant) meta = g_variant_ref_sink(g_variant_dict_end(&md));
  g_autofree char *subject = g_strdup_printf("plan %s: %zu %s (%s)", c->name, c->n,
                                              plan_noun((long long) c->n, "container", "containers"), c->file);
  g_autofree char *out = NULL;
  if (!ostree_repo_write_commit(r->repo, parent, subject, NULL, meta, OSTREE_REPO_FILE(root_file), &out, NULL, &e))
    return from_gerror(err, e, "write plan commit");
  ostree_repo_transaction_set_ref(r->repo, NULL, c->name, out);
  *commit = xstrdup(out);
  return 0;
}

static int build_in_transaction(struct plan_repo *r, const struct plan_config *c, const struct plan_analysis *a,
                                char **commit, edgecr_error_t *err)
{
  json_t *plan = plan_compile(c, a, err);
  if (plan == NULL)
    return -1;
  g_autoptr(OstreeMutableTree) root = new_dir(r, NULL, NULL, err);
  GError *e = NULL;
  g_autoptr(GFile) tmp = NULL;
  if (root == NULL || add_bundles(r, c, root, err) < 0) {
    json_decref(plan);
    return -1;
  }
  /* First write computes every subtree's checksum for the plan's content
   * fields; the second adds plan.json itself. */
  if (!ostree_repo_write_mtree(r->repo, root, &tmp, NULL, &e)) {
    json_decref(plan);
    return from_gerror(err, e, "write bundles");
  }
  set_container_checksums(root, plan);
  char *text = json_dumps(plan, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(plan);
  g_autofree char *csum = ostree_repo_write_regfile_inline(r->repo, NULL, 0, 0, S_IFREG | 0644, NULL,
                                                           (const guint8 *) text, strlen(text), NULL, &e);
  free(text);
  if (csum == NULL || !ostree_mutable_tree_replace_file(root, "plan.json", csum, &e))
    return from_gerror(err, e, "write plan.json");
  return commit_tree(r, c, a->schedulable, root, commit, err);
}

int plan_repo_build(struct plan_repo *r, const struct plan_config *c, const struct plan_analysis *a,
                    char **commit, edgecr_error_t *err)
{
  GError *e = NULL;
  if (!ostree_repo_prepare_transaction(r->repo, NULL, NULL, &e))
    return from_gerror(err, e, "plan repository transaction");
  if (build_in_transaction(r, c, a, commit, err) < 0) {
    ostree_repo_abort_transaction(r->repo, NULL, NULL);
    return edgecr_error_wrap(err, "build plan `%s`", c->name);
  }
  if (!ostree_repo_commit_transaction(r->repo, NULL, NULL, &e))
    return from_gerror(err, e, "commit plan");
  return 0;
}

int plan_repo_resolve(struct plan_repo *r, const char *ref, char **commit, edgecr_error_t *err)
{
  GError *e = NULL;
  g_autofree char *out = NULL;
  if (!ostree_repo_resolve_rev(r->repo, ref, FALSE, &out, &e)) {
    g_clear_error(&e);
    return edgecr_error_make(err, ENOENT, "no plan `%s` in `%s` (see `edgecr plan list`)", ref, r->dir);
  }
  *commit = xstrdup(out);
  return 0;
}

int plan_repo_read_plan(struct plan_repo *r, const char *commit, json_t **plan, edgecr_error_t *err)
{
  GError *e = NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!ostree_repo_read_commit(r->repo, commit, &root, NULL, NULL, &e))
    return from_gerror(err, e, commit);
  g_autoptr(GFile) f = g_file_get_child(root, "plan.json");
  if (!g_file_load_contents(f, NULL, &contents, &len, NULL, &e))
    return from_gerror(err, e, "read plan.json");
  json_error_t jerr;
  *plan = json_loadb(contents, len, 0, &jerr);
  if (*plan == NULL)
    return edgecr_error_make(err, 0, "plan %s: plan.json:%d: %s", commit, jerr.line, jerr.text);
  return 0;
}

static json_t *ref_entry(struct plan_repo *r, const char *name, const char *commit)
{
  g_autoptr(GVariant) v = NULL;
  const char *subject = "";
  guint64 ts = 0;
  int versions = 0;
  if (ostree_repo_load_commit(r->repo, commit, &v, NULL, NULL)) {
    g_variant_get_child(v, 3, "&s", &subject);
    ts = ostree_commit_get_timestamp(v);
    g_autofree char *parent = ostree_commit_get_parent(v);
    versions = 1;
    while (parent) {
      g_autoptr(GVariant) pv = NULL;
      if (!ostree_repo_load_commit(r->repo, parent, &pv, NULL, NULL))
        break;
      versions++;
      g_free(parent);
      parent = ostree_commit_get_parent(pv);
    }
  }
  return json_pack("{s:s,s:s,s:I,s:s,s:i}", "name", name, "commit", commit, "timestamp", (json_int_t) ts,
                   "subject", subject, "versions", versions);
}

int plan_repo_list(struct plan_repo *r, json_t **list, edgecr_error_t *err)
{
  GError *e = NULL;
  g_autoptr(GHashTable) refs = NULL;
  if (!ostree_repo_list_refs(r->repo, NULL, &refs, NULL, &e))
    return from_gerror(err, e, "list plans");
  g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(refs), (GCompareFunc) strcmp);
  *list = json_array();
  for (GList *l = names; l; l = l->next)
    json_array_append_new(*list, ref_entry(r, l->data, g_hash_table_lookup(refs, l->data)));
  return 0;
}

/* The export file: a one-line header naming the plan and both commits,
 * then the ostree static delta (superblock with inline parts). */
int plan_repo_export(struct plan_repo *r, const char *from, const char *to, const char *out, uint64_t *size,
                     edgecr_error_t *err)
{
  g_autoptr(GVariant) commit = NULL;
  GError *e = NULL;
  const char *name = NULL;
  if (!ostree_repo_load_commit(r->repo, to, &commit, NULL, &e))
    return from_gerror(err, e, to);
  g_autoptr(GVariant) md = g_variant_get_child_value(commit, 0);
  if (!g_variant_lookup(md, "edgecr.plan.name", "&s", &name))
    return edgecr_error_make(err, 0, "commit %s is not an edgecr plan", to);
  cleanup_free char *delta = xasprintf("%s.delta-tmp", out);
  GVariantBuilder params;
  g_variant_builder_init(&params, G_VARIANT_TYPE("a{sv}"));
  g_variant_builder_add(&params, "{sv}", "filename", g_variant_new_bytestring(delta));
  g_variant_builder_add(&params, "{sv}", "inline-parts", g_variant_new_boolean(TRUE));
  g_autoptr(GVariant) pv = g_variant_ref_sink(g_variant_builder_end(&params));
  if (!ostree_repo_static_delta_generate(r->repo, OSTREE_STATIC_DELTA_GENERATE_OPT_MAJOR, from, to, NULL, pv,
                                         NULL, &e))
    return from_gerror(err, e, "generate delta");
  cleanup_free char *body = NULL;
  ssize_t len = read_all_file(delta, &body, err);
  unlink(delta);
  if (len < 0)
    return -1;
  cleanup_free char *header = xasprintf(DELTA_MAGIC "%s %s %s\n", name, from ? from : "-", to);
  size_t hl = strlen(header);
  cleanup_free char *all = xmalloc0(hl + (size_t) len + 1);
  memcpy(all, header, hl);
  memcpy(all + hl, body, (size_t) len);
  if (write_file_atomic(out, all, hl + (size_t) len, 0644, err) < 0)
    return -1;
  *size = hl + (uint64_t) len;
  return 0;
}

static int parse_delta_header(const char *file, const char *data, size_t len, char **name, char **from,
                              char **to, size_t *body_at, edgecr_error_t *err)
{
  size_t ml = strlen(DELTA_MAGIC);
  const char *nl = len > ml ? memchr(data + ml, '\n', len - ml) : NULL;
  if (len <= ml || memcmp(data, DELTA_MAGIC, ml) != 0 || nl == NULL)
    return edgecr_error_make(err, 0, "`%s` is not an edgecr plan delta (see `edgecr plan export`)", file);
  cleanup_free char *line = strndup(data + ml, (size_t) (nl - data - (ptrdiff_t) ml));
  char n[128], f[80], t[80];
  if (sscanf(line, "%127s %79s %79s", n, f, t) != 3 || !ostree_validate_checksum_string(t, NULL))
    return edgecr_error_make(err, 0, "`%s`: malformed delta header", file);
  *name = xstrdup(n);
  *from = strcmp(f, "-") == 0 ? NULL : xstrdup(f);
  *to = xstrdup(t);
  *body_at = (size_t) (nl - data) + 1;
  return 0;
}

int plan_repo_import(struct plan_repo *r, const char *file, char **name, char **commit, edgecr_error_t *err)
{
  cleanup_free char *data = NULL;
  ssize_t len = read_all_file(file, &data, err);
  if (len < 0)
    return -1;
  cleanup_free char *n = NULL, *from = NULL, *to = NULL;
  size_t at = 0;
  if (parse_delta_header(file, data, (size_t) len, &n, &from, &to, &at, err) < 0)
    return -1;
  GError *e = NULL;
  if (from && !ostree_repo_load_commit(r->repo, from, NULL, NULL, &e)) {
    g_clear_error(&e);
    return edgecr_error_make(err, ENOENT, "delta `%s` applies on plan commit %.12s, which this repository lacks",
                             file, from);
  }
  cleanup_free char *tmp = xasprintf("%s/repo/tmp/edgecr-import-%d", r->dir, (int) getpid());
  if (write_file_atomic(tmp, data + at, (size_t) len - at, 0600, err) < 0)
    return -1;
  g_autoptr(GFile) gf = g_file_new_for_path(tmp);
  gboolean ok = ostree_repo_static_delta_execute_offline(r->repo, gf, FALSE, NULL, &e);
  unlink(tmp);
  if (!ok)
    return from_gerror(err, e, "apply delta");
  if (!ostree_repo_set_ref_immediate(r->repo, NULL, n, to, NULL, &e))
    return from_gerror(err, e, "set plan branch");
  *name = steal_pointer(&n);
  *commit = steal_pointer(&to);
  return 0;
}

int plan_repo_checkout(struct plan_repo *r, const char *commit, char **path, edgecr_error_t *err)
{
  cleanup_free char *base = xasprintf("%s/checkouts", r->dir);
  cleanup_free char *dest = xasprintf("%s/%s", base, commit);
  struct stat st;
  if (stat(dest, &st) == 0) {
    *path = steal_pointer(&dest);
    return 0;
  }
  if (mkdir_p(base, 0755, err) < 0)
    return -1;
  cleanup_free char *tmp = xasprintf("%s/.tmp-%s-%d", base, commit, (int) getpid());
  OstreeRepoCheckoutAtOptions opts = {0};
  opts.mode = OSTREE_REPO_CHECKOUT_MODE_USER;
  opts.no_copy_fallback = TRUE; /* hard links only, like `ostree checkout -H` */
  GError *e = NULL;
  if (!ostree_repo_checkout_at(r->repo, &opts, AT_FDCWD, tmp, commit, NULL, &e)) {
    edgecr_error_t ignored = NULL;
    remove_tree(tmp, &ignored);
    edgecr_error_release(&ignored);
    return from_gerror(err, e, "checkout plan");
  }
  if (rename(tmp, dest) < 0)
    return edgecr_error_make(err, errno, "checkout: rename into `%s`", dest);
  *path = steal_pointer(&dest);
  return 0;
}

static uint64_t g_object_bytes;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (type == FTW_F)
    g_object_bytes += (uint64_t) st->st_size;
  return 0;
}

int plan_repo_object_bytes(struct plan_repo *r, uint64_t *bytes, edgecr_error_t *err)
{
  cleanup_free char *objects = xasprintf("%s/repo/objects", r->dir);
  g_object_bytes = 0;
  if (nftw(objects, add_size, 16, FTW_PHYS) < 0)
    return edgecr_error_make(err, errno, "measure `%s`", objects);
  *bytes = g_object_bytes;
  return 0;
}
