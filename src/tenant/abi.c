/* abi.c - the `edgecr` import module: its function table, the check of a
 * module's imports at create, and the resolver used at instantiation.
 *
 * Every function of every service links, granted or not: permissions are
 * checked per call (svc_*.c), so a grant made while the tenant runs works
 * from its next call without re-instantiating.  What is refused here is an
 * import that is not part of the ABI at all, or one declared with another
 * type: that is a build error of the tenant, better said at create than
 * found at the first call. */
#include <string.h>

#include "abi.h"

static int fn_abi_version(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst, (void) host_ctx, (void) args;
  results[0].i32 = EDGECR_ABI_VERSION;
  return 0;
}

static int fn_close(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  (void) inst;
  struct tenant_ctx *ctx = host_ctx;
  tenant_ctx_poll(ctx);
  results[0].i32 = tenant_handle_close(ctx, args[0].i32);
  return 0;
}

const struct tenant_fn tenant_fns_core[] = {
  {"abi_version", "", "i", TENANT_SVC_COUNT, fn_abi_version},
  {"close", "i", "i", TENANT_SVC_COUNT, fn_close},
  {NULL, NULL, NULL, TENANT_SVC_COUNT, NULL},
};

/* Every service file's list; a service added later adds its line. */
static const struct tenant_fn *const tables[] = {
  tenant_fns_core,
  tenant_fns_log,
  tenant_fns_clock,
  tenant_fns_kv,
  tenant_fns_sensor,
  tenant_fns_gpio,
  tenant_fns_infer,
};

static bool equal(const char *s, uint32_t n, const char *lit)
{
  return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static const struct tenant_fn *lookup(const char *name, uint32_t len)
{
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const struct tenant_fn *f = tables[t]; f->name != NULL; f++)
      if (equal(name, len, f->name))
        return f;
  return NULL;
}

static uint8_t valtype_of(char c)
{
  switch (c) {
  case 'i': return EW_I32;
  case 'I': return EW_I64;
  case 'f': return EW_F32;
  default: return EW_F64; /* 'F' */
  }
}

static bool types_match(const char *want, const uint8_t *have, uint32_t n)
{
  if (strlen(want) != n)
    return false;
  for (uint32_t i = 0; i < n; i++)
    if (valtype_of(want[i]) != have[i])
      return false;
  return true;
}

/* "(i32 i32) -> i32" into buf. */
static const char *sig_str(const char *params, const char *results, char *buf, size_t cap)
{
  size_t n = 0;
  const char *parts[2] = {params, results};
  for (int k = 0; k < 2; k++) {
    if (k == 1 && n + 4 < cap)
      memcpy(buf + n, " -> ", 4), n += 4;
    if (n + 1 < cap)
      buf[n++] = '(';
    for (const char *c = parts[k]; *c != '\0'; c++) {
      const char *t = ew_valtype_name(valtype_of(*c));
      size_t tl = strlen(t);
      if (c != parts[k] && n + 1 < cap)
        buf[n++] = ' ';
      if (n + tl < cap)
        memcpy(buf + n, t, tl), n += tl;
    }
    if (n + 1 < cap)
      buf[n++] = ')';
  }
  buf[n < cap ? n : cap - 1] = '\0';
  return buf;
}

/* The same for a type the module declares. */
static const char *imp_sig_str(const ew_functype *ft, char *buf, size_t cap)
{
  char p[24], r[8];
  size_t np = 0, nr = 0;
  for (uint32_t i = 0; i < ft->nparams && np + 1 < sizeof p; i++)
    p[np++] = ft->params[i] == EW_I32 ? 'i' : ft->params[i] == EW_I64 ? 'I' : ft->params[i] == EW_F32 ? 'f' : 'F';
  for (uint32_t i = 0; i < ft->nresults && nr + 1 < sizeof r; i++)
    r[nr++] = ft->results[i] == EW_I32 ? 'i' : ft->results[i] == EW_I64 ? 'I' : ft->results[i] == EW_F32 ? 'f' : 'F';
  p[np] = r[nr] = '\0';
  return sig_str(p, r, buf, cap);
}

bool tenant_abi_is_ours(const ew_import_info *imp)
{
  return equal(imp->module, imp->module_len, TENANT_ABI_MODULE);
}

int tenant_abi_check_import(const ew_import_info *imp, struct tenant_err *e)
{
  char path[96];
  size_t n = imp->name_len < 80 ? imp->name_len : 80;
  memcpy(path, TENANT_ABI_MODULE ".", 7);
  memcpy(path + 7, imp->name, n);
  path[7 + n] = '\0';
  const struct tenant_fn *f = lookup(imp->name, imp->name_len);
  if (f == NULL)
    return tenant_fail(e, path, "no such function in the edgecr ABI version %d (include/edgecr/guest.h)",
                       EDGECR_ABI_VERSION);
  if (imp->kind != EW_EXTERN_FUNC)
    return tenant_fail(e, path, "imported as a %s, but it is a function", ew_extern_kind_name(imp->kind));
  if (!types_match(f->params, imp->func.params, imp->func.nparams) ||
      !types_match(f->results, imp->func.results, imp->func.nresults)) {
    char want[64], have[64];
    return tenant_fail(e, path, "imported with type %s, but it has type %s",
                       imp_sig_str(&imp->func, have, sizeof have), sig_str(f->params, f->results, want, sizeof want));
  }
  return 0;
}

int tenant_abi_resolve(void *ctx, const ew_import_info *imp, ew_extern *out)
{
  struct tenant_err e;
  if (!tenant_abi_is_ours(imp) || tenant_abi_check_import(imp, &e) < 0)
    return -1;
  const struct tenant_fn *f = lookup(imp->name, imp->name_len);
  out->kind = EW_EXTERN_FUNC;
  out->u.func.func = NULL;
  out->u.func.host = f->fn;
  out->u.func.host_ctx = ctx;
  return 0;
}
