/* startup.c - in-process start-up cost of a WASI module: read the file
 * once, then N times decode+validate+compile, set up WASI, instantiate, run
 * `_start` (stdout to /dev/null) and free everything.  Prints the mean time
 * per run and the peak RSS of this small process (libc + engine + WASI, no
 * edgecr CLI), so the figure is the engine's, not the dynamic loader's.
 * Built and run by bench/wasm/run.sh:  startup module.wasm N */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "wasi.h"
#include "wasm.h"

static void *a_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *a_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void a_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {a_alloc, a_realloc, a_free, NULL};

static int run_once(const uint8_t *bytes, size_t len, int out_fd)
{
  ew_error e = {0};
  ew_module *m = ew_module_new(&heap, bytes, len, &e);
  if (m == NULL) {
    fprintf(stderr, "startup: module: %s\n", e.message);
    return -1;
  }
  char *argv[] = {"hello.wasm", NULL};
  struct wasi_config wc = {.argc = 1, .argv = argv, .stdio = {0, out_fd, 2}};
  wasi_ctx *w = NULL;
  edgecr_error_t err = NULL;
  if (wasi_ctx_new(&wc, &w, &err) < 0) {
    ew_module_free(m);
    return -1;
  }
  ew_instance_config cfg = {.resolve = wasi_resolve, .resolve_ctx = w};
  ew_instance *inst = ew_instance_new(m, &heap, &cfg, &e);
  int rc = -1;
  if (inst != NULL) {
    ew_func *start = ew_instance_func(inst, "_start");
    ew_status st = start ? ew_call(inst, start, NULL, 0, NULL, 0) : EW_TRAP;
    rc = st == EW_OK || (st == EW_EXIT && ew_exit_code(inst) == 0) ? 0 : -1;
    ew_instance_free(inst);
  } else {
    fprintf(stderr, "startup: instantiate: %s\n", e.message);
    ew_instance_free(e.instance);
  }
  wasi_ctx_free(w);
  ew_module_free(m);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: startup module.wasm N\n");
    return 2;
  }
  char *bytes = NULL;
  edgecr_error_t err = NULL;
  ssize_t len = read_all_file(argv[1], &bytes, &err);
  if (len < 0) {
    fprintf(stderr, "startup: %s\n", err->msg);
    return 1;
  }
  int n = atoi(argv[2]);
  int devnull = open("/dev/null", O_WRONLY);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++)
    if (run_once((const uint8_t *) bytes, (size_t) len, devnull) < 0)
      return 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double us = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
  printf("%.1f us per run, peak RSS %.2f MB\n", us, (double) ru.ru_maxrss / 1024.0);
  free(bytes);
  close(devnull);
  return 0;
}
