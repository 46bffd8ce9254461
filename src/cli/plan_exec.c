/* plan_exec.c - `edgecr plan ...`, `edgecr monitor ...` and `edgecr meta
 * ...` in the runtime binary: hand over to the `edgecr-plan` executable
 * beside it (meta: libcbor has no static archive in Debian).
 *
 * Why two executables: the plan repository uses libostree, which pulls in
 * glib, gio, curl, gnutls and some fifty shared libraries.  containerd runs
 * `edgecr` for every container operation, so the runtime binary stays
 * small and static (about 1.3 MB peak RSS); the plan tools, run rarely and
 * off the hot path, live in `edgecr-plan`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"

static int exec_plan_binary(struct edgecr_global *g, int argc, char **argv)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  cleanup_free char *path = NULL;
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
      *slash = '\0';
      path = xasprintf("%s/edgecr-plan", self);
      if (access(path, X_OK) < 0) {
        free(path);
        path = NULL;
      }
    }
  }
  char **args = xmalloc0((size_t) (argc + 12) * sizeof *args);
  int k = 0;
  args[k++] = path ? path : "edgecr-plan";
  args[k++] = "--root";
  args[k++] = (char *) g->root;
  if (g->log_path) {
    args[k++] = "--log";
    args[k++] = (char *) g->log_path;
  }
  if (g->log_json) {
    args[k++] = "--log-format";
    args[k++] = "json";
  }
  if (g->debug)
    args[k++] = "--debug";
  if (g->trust_dir) {
    args[k++] = "--trust-dir";
    args[k++] = (char *) g->trust_dir;
  }
  for (int i = 0; i < argc; i++)
    args[k++] = argv[i];
  args[k] = NULL;
  if (path != NULL)
    execv(path, args);
  else
    execvp("edgecr-plan", args);
  log_error("%s: cannot run `edgecr-plan` (installed beside edgecr): %s", argv[0], strerror(errno));
  free(args);
  return 127;
}

int cmd_plan(struct edgecr_global *g, int argc, char **argv)
{
  return exec_plan_binary(g, argc, argv);
}

int cmd_monitor(struct edgecr_global *g, int argc, char **argv)
{
  return exec_plan_binary(g, argc, argv);
}

int cmd_meta(struct edgecr_global *g, int argc, char **argv)
{
  return exec_plan_binary(g, argc, argv);
}
