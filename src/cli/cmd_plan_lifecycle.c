/* cmd_plan_lifecycle.c - the executor that `plan apply|switch|recover`
 * drive: a struct plan_executor over the OCI lifecycle library
 * (src/oci/lifecycle.h), in this process, no CLI round trip.
 *
 * Starting a container of a plan:
 *   1. its rt.h page <root>/rt/<name>.rt is created (realtime containers);
 *   2. the config it runs with is generated from the checked-out bundle and
 *      the plan entry (src/plan/runconfig.c) into <state>/bundles/<name>/,
 *      pointing root.path at the checkout's rootfs (the checkout is hard
 *      links into the plan repository and is never written);
 *   3. lc_create + lc_start, with the container's stdio on
 *      <state>/logs/<name>.log (the caller's stdout may be a pipe that must
 *      not stay open for the container's lifetime).
 * Stopping is lc_delete --force plus removal of the page and the generated
 * bundle. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_plan.h"
#include "lifecycle.h"
#include "runconfig.h"
#include "switch.h"
#include "util.h"

struct lc_exec {
  struct lc_context lc;
  const char *state_dir;
};

static char *rt_page_path(struct lc_exec *x, const char *name)
{
  return xasprintf("%s/rt/%s.rt", x->lc.state_root, name);
}

/* Run lc_create with fds 0,1,2 pointing at the container's log: the init
 * inherits them. */
static int create_with_log(struct lc_exec *x, const char *name, const char *bundle, edgecr_error_t *err)
{
  cleanup_free char *logdir = xasprintf("%s/logs", x->state_dir);
  if (mkdir_p(logdir, 0700, err) < 0)
    return edgecr_error_wrap(err, "container logs");
  cleanup_free char *log = xasprintf("%s/%s.log", logdir, name);
  cleanup_close int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  cleanup_close int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (logfd < 0 || nullfd < 0)
    return edgecr_error_make(err, errno, "open `%s`", logfd < 0 ? log : "/dev/null");
  fflush(stdout);
  fflush(stderr);
  int saved[3];
  for (int i = 0; i < 3; i++)
    saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
  dup2(nullfd, 0);
  dup2(logfd, 1);
  dup2(logfd, 2);
  struct lc_create_opts o = {.bundle = bundle, .console_sock_fd = -1};
  int r = lc_create(&x->lc, name, &o, err);
  for (int i = 0; i < 3; i++) {
    if (saved[i] >= 0) {
      dup2(saved[i], i);
      close(saved[i]);
    } else {
      close(i);
    }
  }
  return r;
}

/* A start that failed leaves nothing behind: no container (lc_delete), no
 * rt page, no generated bundle (the log stays: it says why). */
static void discard(struct lc_exec *x, const char *name, bool created)
{
  edgecr_error_t ignore = NULL;
  if (created)
    lc_delete(&x->lc, name, true, &ignore);
  edgecr_error_release(&ignore);
  cleanup_free char *page = rt_page_path(x, name);
  cleanup_free char *gen = xasprintf("%s/bundles/%s", x->state_dir, name);
  unlink(page);
  remove_tree(gen, &ignore);
  edgecr_error_release(&ignore);
}

static int lc_exec_start(void *ctx, const char *name, const char *bundle, const json_t *entry, edgecr_error_t *err)
{
  struct lc_exec *x = ctx;
  if (bundle == NULL)
    return edgecr_error_make(err, ENOTSUP, "start `%s`: image references are not supported yet (bundles are)", name);
  cleanup_free char *page = json_is_object(json_object_get(entry, "realtime")) ? rt_page_path(x, name) : NULL;
  json_t *cfg = NULL;
  cleanup_free char *gen = xasprintf("%s/bundles/%s", x->state_dir, name);
  int r = -1;
  if ((page && plan_rt_page_create(page, err) < 0) || plan_runtime_config(entry, bundle, page, &cfg, err) < 0 ||
      plan_runtime_bundle_write(gen, cfg, err) < 0) {
    discard(x, name, false);
  } else if (create_with_log(x, name, gen, err) < 0) {
    /* a half-made container may exist; one that existed before is not ours */
    discard(x, name, edgecr_error_errno(err) != EEXIST);
  } else if (lc_start(&x->lc, name, err) < 0) {
    discard(x, name, true);
  } else {
    r = 0;
  }
  json_decref(cfg);
  return r < 0 ? edgecr_error_wrap(err, "start `%s`", name) : 0;
}

static int lc_exec_stop(void *ctx, const char *name, edgecr_error_t *err)
{
  struct lc_exec *x = ctx;
  if (lc_delete(&x->lc, name, true, err) < 0)
    return edgecr_error_wrap(err, "stop `%s`", name);
  cleanup_free char *page = rt_page_path(x, name);
  cleanup_free char *gen = xasprintf("%s/bundles/%s", x->state_dir, name);
  if (unlink(page) < 0 && errno != ENOENT)
    return edgecr_error_make(err, errno, "stop `%s`: remove `%s`", name, page);
  return remove_tree(gen, err) < 0 ? edgecr_error_wrap(err, "stop `%s`", name) : 0;
}

static int lc_exec_query(void *ctx, const char *name, char **status, edgecr_error_t *err)
{
  struct lc_exec *x = ctx;
  json_t *st = NULL;
  *status = NULL;
  if (lc_state(&x->lc, name, &st, err) < 0) {
    if (edgecr_error_errno(err) != ENOENT)
      return -1;
    edgecr_error_release(err);
    return 0;
  }
  const char *s = json_string_value(json_object_get(st, "status"));
  *status = xstrdup(s ? s : "unknown");
  json_decref(st);
  return 0;
}

struct plan_executor *plan_lifecycle_executor(struct edgecr_global *g, const char *state_dir)
{
  struct lc_exec *x = xmalloc0(sizeof *x);
  x->lc = (struct lc_context){.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  x->state_dir = state_dir;
  struct plan_executor *ex = xmalloc0(sizeof *ex);
  *ex = (struct plan_executor){x, lc_exec_start, lc_exec_stop, lc_exec_query};
  return ex;
}

void plan_executor_free(struct plan_executor *ex)
{
  if (ex == NULL)
    return;
  free(ex->ctx);
  free(ex);
}
