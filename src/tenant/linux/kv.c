/* kv.c - the kv service on Linux: LMDB, one environment per tenant, one
 * named database per namespace.
 *
 * Layout: ROOT/<tenant-id>/{data.mdb,lock.mdb} (ROOT: /var/lib/edgecr/kv,
 * $EDGECR_KV_ROOT).  A tenant's namespaces are looked up only inside its
 * own environment, so no name a tenant can give reaches another tenant's
 * data (names are 1..63 of [A-Za-z0-9._:-] and cannot start with '.', so
 * the tenant id cannot leave ROOT either).  Inside the environment:
 *   "ns:<namespace>"  the namespace's keys and values;
 *   "edgecr.usage"    namespace -> bytes it holds (keys + values), 8 bytes LE.
 * A put or delete updates the data and the usage in ONE write transaction,
 * so the quota is enforced exactly and atomically with the write, and a
 * crash (SIGKILL, power loss: commits are synced, LMDB's default) leaves
 * either the whole write or none of it.  The writer lock lives in lock.mdb
 * as a robust mutex: a writer killed while holding it does not block the
 * next one.
 *
 * The environment is opened early (tenant_services.h) and kept open: the
 * payload then uses it from inside the container's root. */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "abi.h"
#include "tenant_services.h"
#include "util.h"

#define KV_MAX_DBS 256   /* named databases open at once: namespaces ever opened by this process, + usage */
#define KV_USAGE_DB "edgecr.usage"

struct kv_store {
  MDB_env *env;
  MDB_dbi usage;
  MDB_txn *rtxn;         /* the read transaction of gets (see read_snapshot) */
  bool rtxn_live;        /* rtxn holds a snapshot (else it is reset) */
};

struct kv_ns {
  MDB_dbi dbi;
  bool writable;
  uint64_t quota;
  char name[TENANT_NAME_MAX];
};

static struct kv_store store;

const char *tenant_kv_root(const char *option)
{
  if (option != NULL && option[0] != '\0')
    return option;
  const char *env = getenv("EDGECR_KV_ROOT");
  return env != NULL && env[0] != '\0' ? env : TENANT_KV_ROOT_DEFAULT;
}

static int mdb_fail(edgecr_error_t *err, int rc, const char *what, const char *dir)
{
  return edgecr_error_make(err, 0, "kv store `%s`: %s: %s", dir, what, mdb_strerror(rc));
}

static int open_env(const char *dir, uint64_t map_size, edgecr_error_t *err)
{
  int rc = mdb_env_create(&store.env);
  if (rc != 0)
    return mdb_fail(err, rc, "create environment", dir);
  if ((rc = mdb_env_set_maxdbs(store.env, KV_MAX_DBS)) != 0 ||
      (rc = mdb_env_set_mapsize(store.env, (size_t) (map_size ? map_size : TENANT_KV_MAP_SIZE_DEFAULT))) != 0)
    return mdb_fail(err, rc, "configure environment", dir);
  /* MDB_NOTLS: the read transaction belongs to its object, not the thread. */
  if ((rc = mdb_env_open(store.env, dir, MDB_NOTLS, 0600)) != 0)
    return mdb_fail(err, rc, "open environment", dir);
  MDB_txn *txn;
  if ((rc = mdb_txn_begin(store.env, NULL, 0, &txn)) != 0)
    return mdb_fail(err, rc, "begin", dir);
  if ((rc = mdb_dbi_open(txn, KV_USAGE_DB, MDB_CREATE, &store.usage)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
    if (rc != 0)
      mdb_txn_abort(txn);
    return mdb_fail(err, rc, "open " KV_USAGE_DB, dir);
  }
  if ((rc = mdb_txn_begin(store.env, NULL, MDB_RDONLY, &store.rtxn)) != 0)
    return mdb_fail(err, rc, "begin read", dir);
  mdb_txn_reset(store.rtxn);
  return 0;
}

int tenant_linux_kv_configure(const char *root, const char *tenant_id, uint64_t map_size, edgecr_error_t *err)
{
  tenant_linux_kv_shutdown();
  if (!tenant_name_valid(tenant_id, strlen(tenant_id)))
    return edgecr_error_invalid(err, "kv store: tenant id `%s` is not a valid name", tenant_id);
  if (mkdir_p(root, 0700, err) < 0)
    return edgecr_error_wrap(err, "kv store root");
  cleanup_free char *dir = xasprintf("%s/%s", root, tenant_id);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return edgecr_error_make(err, errno, "kv store: mkdir `%s`", dir);
  if (open_env(dir, map_size, err) < 0) {
    tenant_linux_kv_shutdown();
    return -1;
  }
  return 0;
}

void tenant_linux_kv_shutdown(void)
{
  if (store.rtxn != NULL)
    mdb_txn_abort(store.rtxn);
  if (store.env != NULL)
    mdb_env_close(store.env);
  memset(&store, 0, sizeof store);
}

/* An LMDB result as an EDGECR_E* code. */
static int kv_code(int rc)
{
  switch (rc) {
  case 0: return EDGECR_OK;
  case MDB_NOTFOUND: return EDGECR_ENOENT;
  case MDB_BAD_VALSIZE: return EDGECR_E2BIG;
  default: return EDGECR_EIO;   /* MDB_MAP_FULL (the node's store is full), I/O errors, corruption */
  }
}

static int usage_get(MDB_txn *txn, const char *ns, uint64_t *out)
{
  MDB_val k = {strlen(ns), (void *) ns}, v;
  int rc = mdb_get(txn, store.usage, &k, &v);
  *out = 0;
  if (rc == 0 && v.mv_size == 8)
    for (int i = 7; i >= 0; i--)
      *out = *out << 8 | ((const uint8_t *) v.mv_data)[i];
  return rc == MDB_NOTFOUND ? 0 : rc;
}

static int usage_put(MDB_txn *txn, const char *ns, uint64_t u)
{
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t) (u >> (8 * i));
  MDB_val k = {strlen(ns), (void *) ns}, v = {8, b};
  return mdb_put(txn, store.usage, &k, &v, 0);
}

/* The bytes a namespace holds, counted (for a database without a usage record). */
static int usage_count(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
  MDB_cursor *c;
  int rc = mdb_cursor_open(txn, dbi, &c);
  if (rc != 0)
    return rc;
  MDB_val k, v;
  *out = 0;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    *out += k.mv_size + v.mv_size;
  mdb_cursor_close(c);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

static int open_ns(const char *ns, MDB_dbi *dbi)
{
  char dbname[TENANT_NAME_MAX + 3];
  snprintf(dbname, sizeof dbname, "ns:%s", ns);
  MDB_txn *txn;
  int rc = mdb_txn_begin(store.env, NULL, 0, &txn);
  if (rc != 0)
    return rc;
  MDB_val k = {strlen(ns), (void *) ns}, v;
  uint64_t used;
  /* A database created before its usage record (not by this code) is counted once. */
  if ((rc = mdb_dbi_open(txn, dbname, MDB_CREATE, dbi)) == 0 &&
      (rc = mdb_get(txn, store.usage, &k, &v)) == MDB_NOTFOUND && (rc = usage_count(txn, *dbi, &used)) == 0)
    rc = usage_put(txn, ns, used);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return rc;
  }
  return mdb_txn_commit(txn);
}

static int kv_open(void *p, const char *ns, bool writable, uint64_t quota, void **obj)
{
  (void) p;
  if (store.env == NULL)
    return EDGECR_ENOSYS;
  if (!tenant_name_valid(ns, strlen(ns)))
    return EDGECR_EINVAL;
  MDB_dbi dbi;
  int rc = open_ns(ns, &dbi);
  if (rc != 0)
    return kv_code(rc);
  if (store.rtxn_live) {   /* a kept snapshot predates the new handle (an open may commit nothing) */
    mdb_txn_reset(store.rtxn);
    store.rtxn_live = false;
  }
  struct kv_ns *n = calloc(1, sizeof *n);
  if (n == NULL)
    return EDGECR_EIO;
  n->dbi = dbi;
  n->writable = writable;
  n->quota = quota;
  snprintf(n->name, sizeof n->name, "%s", ns);
  *obj = n;
  return EDGECR_OK;
}

static int kv_set_limits(void *p, void *obj, bool writable, uint64_t quota)
{
  (void) p;
  struct kv_ns *n = obj;
  n->writable = writable;
  n->quota = quota;
  return EDGECR_OK;
}

/* A read snapshot that is the latest commit: the one kept from the last
 * get while no transaction committed since (the common case of a tenant
 * reading more than it writes: no renew, and the named database's record
 * stays loaded), else a renewed one.  Committed writes of any process are
 * seen from the next get.  Keeping it pins at most one old snapshot's pages
 * until the next get, which LMDB handles like any long reader. */
static int read_snapshot(void)
{
  if (store.rtxn_live) {
    MDB_envinfo info;
    if (mdb_env_info(store.env, &info) == 0 && info.me_last_txnid == mdb_txn_id(store.rtxn))
      return 0;
    mdb_txn_reset(store.rtxn);
    store.rtxn_live = false;
  }
  int rc = mdb_txn_renew(store.rtxn);
  store.rtxn_live = rc == 0;
  return rc;
}

static int kv_get(void *p, void *obj, const uint8_t *key, size_t klen, uint8_t *val, size_t cap, size_t *vlen)
{
  (void) p;
  struct kv_ns *n = obj;
  if (klen == 0 || klen > TENANT_KV_KEY_MAX)
    return EDGECR_EINVAL;
  int rc = read_snapshot();
  if (rc != 0)
    return kv_code(rc);
  MDB_val k = {klen, (void *) key}, v;
  rc = mdb_get(store.rtxn, n->dbi, &k, &v);
  if (rc == 0) {
    *vlen = v.mv_size;
    memcpy(val, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
  }
  return kv_code(rc);
}

/* One write: old -> new size of the entry, quota checked, data and usage in one transaction. */
static int kv_write(struct kv_ns *n, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, bool del)
{
  if (!n->writable)
    return EDGECR_EDENIED;
  if (klen == 0 || klen > TENANT_KV_KEY_MAX)
    return EDGECR_EINVAL;
  if (vlen > TENANT_KV_VALUE_MAX)
    return EDGECR_E2BIG;
  MDB_txn *txn;
  int rc = mdb_txn_begin(store.env, NULL, 0, &txn);
  if (rc != 0)
    return kv_code(rc);
  MDB_val k = {klen, (void *) key}, old, v = {vlen, (void *) val};
  uint64_t used;
  rc = mdb_get(txn, n->dbi, &k, &old);
  uint64_t before = rc == 0 ? klen + old.mv_size : 0, after = del ? 0 : klen + vlen;
  if ((rc != 0 && rc != MDB_NOTFOUND) || (rc == MDB_NOTFOUND && del) || (rc = usage_get(txn, n->name, &used)) != 0)
    goto out;
  uint64_t now = used - (before < used ? before : used) + after;
  /* A write that does not grow the namespace is always allowed (a lowered
   * quota must not prevent shrinking); one that grows it must fit. */
  if (after > before && now > n->quota) {
    mdb_txn_abort(txn);
    return EDGECR_EQUOTA;
  }
  rc = del ? mdb_del(txn, n->dbi, &k, NULL) : mdb_put(txn, n->dbi, &k, &v, 0);
  if (rc == 0)
    rc = usage_put(txn, n->name, now);
  if (rc == 0)
    return kv_code(mdb_txn_commit(txn));
out:
  mdb_txn_abort(txn);
  return kv_code(rc);
}

static int kv_put(void *p, void *obj, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
  (void) p;
  return kv_write(obj, key, klen, val, vlen, false);
}

static int kv_delete(void *p, void *obj, const uint8_t *key, size_t klen)
{
  (void) p;
  return kv_write(obj, key, klen, NULL, 0, true);
}

static void kv_close(void *p, void *obj)
{
  (void) p;
  free(obj);   /* the dbi stays open in the environment: another handle may use it */
}

int64_t tenant_linux_kv_usage(void *obj)
{
  struct kv_ns *n = obj;
  if (store.env == NULL || read_snapshot() != 0)
    return -1;
  uint64_t used;
  int rc = usage_get(store.rtxn, n->name, &used);
  return rc == 0 ? (int64_t) used : -1;
}

void tenant_linux_kv_ops(struct tenant_platform *pf)
{
  pf->kv_open = kv_open;
  pf->kv_set_limits = kv_set_limits;
  pf->kv_get = kv_get;
  pf->kv_put = kv_put;
  pf->kv_delete = kv_delete;
  pf->kv_close = kv_close;
}
