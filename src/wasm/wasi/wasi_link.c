/* wasi_link.c - granting WASI imports to an instance.
 *
 * The engine asks the embedder about each import; wasi_resolve() answers
 * for module `wasi_snapshot_preview1`: it finds the function by name in the
 * per-area tables, checks the import's type against the WASI signature
 * (the engine trusts host functions to have the import's type, so a wrong
 * type must be refused here, not discovered by reading absent arguments),
 * and hands out one trampoline whose host_ctx says which call to make for
 * which context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_internal.h"

struct wasi_binding {
  wasi_ctx *ctx;            /* first: wasi_proc_exit reads it through host_ctx */
  const struct wasi_func_def *def;
};

static const struct wasi_func_def *const tables[] = {wasi_defs_misc, wasi_defs_fd, wasi_defs_path};
#define NTABLES (sizeof tables / sizeof tables[0])

static const struct wasi_func_def *find_def(const char *name, size_t *index)
{
  size_t k = 0;
  for (size_t t = 0; t < NTABLES; t++)
    for (const struct wasi_func_def *d = tables[t]; d->name != NULL; d++, k++)
      if (strcmp(d->name, name) == 0) {
        if (index)
          *index = k;
        return d;
      }
  return NULL;
}

static size_t count_defs(void)
{
  size_t k = 0;
  for (size_t t = 0; t < NTABLES; t++)
    for (const struct wasi_func_def *d = tables[t]; d->name != NULL; d++)
      k++;
  return k;
}

int wasi_has_function(const char *name)
{
  return find_def(name, NULL) != NULL;
}

const char *wasi_link_error(const wasi_ctx *ctx)
{
  return ctx->link_error;
}

int wasi_exit_status(const wasi_ctx *ctx, int *code)
{
  if (ctx->exited)
    *code = ctx->exit_code;
  return ctx->exited;
}

void wasi_set_suspend_sleep(wasi_ctx *ctx, int on)
{
  ctx->suspend_sleep = on != 0;
}

int wasi_sleep_deadline(const wasi_ctx *ctx, uint64_t *deadline_ns)
{
  if (ctx->sleep_deadline == 0)
    return 0;
  *deadline_ns = ctx->sleep_deadline;
  return 1;
}

static int trampoline(ew_instance *inst, void *host_ctx, const ew_value *args, ew_value *results)
{
  const struct wasi_binding *b = host_ctx;
  struct wasi_call c = {inst, b->ctx};
  b->ctx->sleep_deadline = 0;
  results[0].i32 = b->def->impl(&c, args);
  if (b->ctx->suspend_requested) {
    b->ctx->suspend_requested = false;
    return ew_host_suspend(inst); /* the errno result is taken first */
  }
  return 0;
}

static void format_sig(char *out, size_t n, const char *params, bool result)
{
  size_t used = (size_t) snprintf(out, n, "(");
  for (const char *p = params; *p && used < n; p++)
    used += (size_t) snprintf(out + used, n - used, "%s%s", p == params ? "" : " ",
                              *p == 'I' ? "i64" : "i32");
  if (used < n)
    snprintf(out + used, n - used, ") -> (%s)", result ? "i32" : "");
}

static bool type_matches(const ew_functype *ft, const struct wasi_func_def *d)
{
  size_t np = strlen(d->params);
  if (ft->nparams != np || ft->nresults != (d->returns_errno ? 1u : 0u))
    return false;
  for (size_t i = 0; i < np; i++)
    if (ft->params[i] != (d->params[i] == 'I' ? EW_I64 : EW_I32))
      return false;
  return !d->returns_errno || ft->results[0] == EW_I32;
}

int wasi_resolve(void *vctx, const ew_import_info *imp, ew_extern *out)
{
  wasi_ctx *ctx = vctx;
  ctx->link_error[0] = 0;
  if (strcmp(imp->module, WASI_MODULE_NAME) != 0 || imp->module_len != strlen(WASI_MODULE_NAME)) {
    snprintf(ctx->link_error, sizeof ctx->link_error, "module `%s` is not provided", imp->module);
    return 1;
  }
  size_t index;
  const struct wasi_func_def *d = find_def(imp->name, &index);
  if (d == NULL || imp->name_len != strlen(imp->name)) {
    snprintf(ctx->link_error, sizeof ctx->link_error, "%s.%s: no such WASI function",
             WASI_MODULE_NAME, imp->name);
    return 1;
  }
  if (imp->kind != EW_EXTERN_FUNC || !type_matches(&imp->func, d)) {
    char want[128];
    format_sig(want, sizeof want, d->params, d->returns_errno);
    snprintf(ctx->link_error, sizeof ctx->link_error,
             "%s.%s: imported with a different type; WASI defines it as func %s",
             WASI_MODULE_NAME, imp->name, want);
    return 1;
  }
  if (ctx->bindings == NULL) {
    size_t n = count_defs();
    ctx->bindings = calloc(n, sizeof *ctx->bindings);
    if (ctx->bindings == NULL) {
      snprintf(ctx->link_error, sizeof ctx->link_error, "out of memory");
      return 1;
    }
    size_t k = 0;
    for (size_t t = 0; t < NTABLES; t++)
      for (const struct wasi_func_def *e = tables[t]; e->name != NULL; e++, k++)
        ctx->bindings[k] = (struct wasi_binding){ctx, e};
  }
  memset(out, 0, sizeof *out);
  out->kind = EW_EXTERN_FUNC;
  out->u.func.func = NULL;
  out->u.func.host = d->impl != NULL ? trampoline : wasi_proc_exit;
  out->u.func.host_ctx = &ctx->bindings[index];
  return 0;
}
