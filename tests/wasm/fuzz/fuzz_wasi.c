/* fuzz_wasi.c - libFuzzer target for the WASI layer: instantiate the input
 * with the real WASI resolver (a scratch directory preopened as /data,
 * stdio on /dev/null, sleeps capped at 1 ms) and run `_start` under a fuel
 * budget.  Mutated modules call WASI functions with hostile pointers,
 * lengths, descriptors, flags and paths; the layer must answer each with
 * an errno, never touch memory outside the instance, and never leave the
 * preopen (the scratch directory is emptied after every input, and a
 * canary file beside it must stay untouched). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wasi.h"
#include "wasm.h"

#define FUEL 200000

static void *a_alloc(void *ctx, size_t n) { (void) ctx; return malloc(n); }
static void *a_realloc(void *ctx, void *p, size_t n) { (void) ctx; return realloc(p, n); }
static void a_free(void *ctx, void *p) { (void) ctx; free(p); }
static const ew_allocator heap = {a_alloc, a_realloc, a_free, NULL};

static char root[64];       /* scratch dir: box/ (the preopen) and canary */
static char box[128], canary[128];
static int devnull = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_scratch(void)
{
  remove_tree(root, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc; (void) argv;
  snprintf(root, sizeof root, "/tmp/edgecr-fuzz-wasi.XXXXXX");
  if (mkdtemp(root) == NULL)
    abort();
  snprintf(box, sizeof box, "%s/box", root);
  snprintf(canary, sizeof canary, "%s/canary", root);
  if (mkdir(box, 0755) < 0 || write_file_atomic(canary, "canary\n", 7, 0644, NULL) < 0)
    abort();
  devnull = open("/dev/null", O_RDWR);
  atexit(remove_scratch);
  return 0;
}

/* Nothing outside the preopen may change: the canary stays, and the root
 * holds exactly box/ and canary. */
static void check_containment(void)
{
  char *text = NULL;
  if (read_all_file(canary, &text, NULL) < 0 || strcmp(text, "canary\n") != 0)
    abort();
  free(text);
  DIR *d = opendir(root);
  if (d == NULL)
    abort();
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "box") &&
        strcmp(e->d_name, "canary"))
      abort(); /* something was created beside the preopen */
  closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ew_error err = {0};
  ew_module *m = ew_module_new(&heap, data, size, &err);
  if (m == NULL)
    return 0;
  char *argv[] = {"fuzz.wasm", "arg", NULL};
  char *env[] = {"A=B", NULL};
  struct wasi_preopen pre = {box, "/data"};
  struct wasi_config wc = {
    .argc = 2, .argv = argv, .envc = 1, .env = env, .npreopens = 1, .preopens = &pre,
    .stdio = {devnull, devnull, devnull}, .max_sleep_ns = 1000000,
  };
  wasi_ctx *w = NULL;
  if (wasi_ctx_new(&wc, &w, NULL) < 0)
    abort();
  ew_limits limits;
  ew_limits_default(&limits);
  limits.max_memory_pages = 32;
  limits.value_stack_bytes = 64 * 1024;
  limits.max_call_depth = 300;
  ew_instance_config cfg = {.limits = &limits, .resolve = wasi_resolve, .resolve_ctx = w,
                            .start_fuel = FUEL};
  ew_instance *inst = ew_instance_new(m, &heap, &cfg, &err);
  if (inst != NULL) {
    ew_func *start = ew_instance_func(inst, "_start");
    if (start != NULL && ew_func_type(start).nparams == 0 && ew_func_type(start).nresults == 0) {
      ew_set_fuel(inst, FUEL);
      ew_status st = ew_call(inst, start, NULL, 0, NULL, 0);
      if (st == EW_OUT_OF_FUEL || st == EW_SUSPENDED)
        ew_abort(inst);
    }
    ew_instance_free(inst);
  } else {
    ew_instance_free(err.instance);
  }
  wasi_ctx_free(w);
  ew_module_free(m);
  check_containment();
  /* Start the next input from an empty preopen. */
  if (remove_tree(box, NULL) < 0 || mkdir(box, 0755) < 0)
    abort();
  return 0;
}
