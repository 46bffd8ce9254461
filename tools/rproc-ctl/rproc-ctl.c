/* rproc-ctl.c - a small command over src/remoteproc (rproc.h): list the
 * processors of a root, read the devicetree model, boot a firmware the way
 * the remoteproc backend does (stage under a unique name, set `firmware`,
 * `start`, wait for `running`), stop, unstage.  For people poking at a board
 * or the emulator, and for the tests that check rproc.c against the
 * emulated processor's real errno results.
 *
 *   rproc-ctl --root DIR list | model | state NAME
 *   rproc-ctl --root DIR boot NAME FILE.elf [TAG]   (prints the staged name)
 *   rproc-ctl --root DIR stop NAME [STAGED-NAME]    (unstages it too) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rproc.h"
#include "util.h"

#define START_TIMEOUT_MS 5000

static int cmd_list(const char *root, edgecr_error_t *err)
{
  struct rproc **list = NULL;
  if (rproc_list(root, &list, NULL, err) < 0)
    return -1;
  for (struct rproc **it = list; *it; it++) {
    enum rproc_state s;
    if (rproc_read_state(*it, &s, err) < 0) {
      rproc_list_free(list);
      return -1;
    }
    printf("remoteproc%u %s %s\n", (*it)->index, (*it)->name, rproc_state_name(s));
  }
  rproc_list_free(list);
  return 0;
}

static int cmd_model(const char *root, edgecr_error_t *err)
{
  cleanup_free char *model = NULL;
  if (rproc_read_model(root, &model, err) < 0)
    return -1;
  printf("%s\n", model);
  return 0;
}

static int cmd_state(const char *root, const char *name, edgecr_error_t *err)
{
  struct rproc *r = NULL;
  if (rproc_find(root, name, &r, err) < 0)
    return -1;
  enum rproc_state s;
  int rc = rproc_read_state(r, &s, err);
  if (rc == 0)
    printf("%s\n", rproc_state_name(s));
  rproc_free(r);
  return rc;
}

/* The backend's create+start, in order; a failure after staging unstages. */
static int cmd_boot(const char *root, const char *name, const char *file, const char *tag,
                    edgecr_error_t *err)
{
  struct rproc *r = NULL;
  if (rproc_find(root, name, &r, err) < 0)
    return -1;
  cleanup_free char *staged = NULL;
  int rc = rproc_stage_firmware(root, file, tag, &staged, err);
  if (rc == 0)
    rc = rproc_set_firmware(r, staged, err);
  if (rc == 0)
    rc = rproc_start(r, err);
  if (rc == 0)
    rc = rproc_wait_state(r, RPROC_STATE_RUNNING, START_TIMEOUT_MS, NULL, err);
  if (rc == 0)
    printf("%s\n", staged);
  else if (staged != NULL)
    rproc_unstage_firmware(root, staged, NULL);
  rproc_free(r);
  return rc;
}

static int cmd_stop(const char *root, const char *name, const char *staged, edgecr_error_t *err)
{
  struct rproc *r = NULL;
  if (rproc_find(root, name, &r, err) < 0)
    return -1;
  int rc = rproc_stop(r, err);
  if (rc == 0)
    rc = rproc_wait_state(r, RPROC_STATE_OFFLINE, START_TIMEOUT_MS, NULL, err);
  if (rc == 0 && staged != NULL)
    rc = rproc_unstage_firmware(root, staged, err);
  rproc_free(r);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 4 || strcmp(argv[1], "--root") != 0) {
    fprintf(stderr, "usage: rproc-ctl --root DIR list|model|state NAME|boot NAME FILE [TAG]|"
                    "stop NAME [STAGED]\n");
    return 2;
  }
  const char *root = argv[2], *cmd = argv[3];
  int nargs = argc - 4;
  char **args = argv + 4;
  edgecr_error_t err = NULL;
  int rc;
  if (strcmp(cmd, "list") == 0 && nargs == 0)
    rc = cmd_list(root, &err);
  else if (strcmp(cmd, "model") == 0 && nargs == 0)
    rc = cmd_model(root, &err);
  else if (strcmp(cmd, "state") == 0 && nargs == 1)
    rc = cmd_state(root, args[0], &err);
  else if (strcmp(cmd, "boot") == 0 && (nargs == 2 || nargs == 3))
    rc = cmd_boot(root, args[0], args[1], nargs == 3 ? args[2] : "rproc-ctl", &err);
  else if (strcmp(cmd, "stop") == 0 && (nargs == 1 || nargs == 2))
    rc = cmd_stop(root, args[0], nargs == 2 ? args[1] : NULL, &err);
  else {
    fprintf(stderr, "rproc-ctl: unknown command or wrong arguments: %s\n", cmd);
    return 2;
  }
  if (rc < 0) {
    fprintf(stderr, "rproc-ctl: %s\n", err ? err->msg : "failed");
    int e = edgecr_error_errno(&err);
    edgecr_error_release(&err);
    /* The errno as exit status lets tests check the mapping (1 if none). */
    return e > 0 && e < 126 ? e : 1;
  }
  return 0;
}
