/* wasi.h - WASI preview 1 (wasi_snapshot_preview1) for edgecr's engine.
 *
 * The engine (src/wasm/) is OS-free; this layer is where a WebAssembly
 * instance meets the host: arguments, environment, clocks, randomness,
 * stdio and files inside preopened directories.  It plugs into the engine
 * through the per-instance import resolver: wasi_resolve() grants the
 * `wasi_snapshot_preview1` functions this layer implements (after checking
 * each import's type) and refuses everything else, so instantiation fails
 * naming an unknown import.
 *
 * Sandbox: a preopen maps a host directory H to a guest name G.  Guest
 * paths are always resolved beneath the preopen's directory: `..` above it,
 * absolute paths and symlinks that lead out are refused (ENOTCAPABLE), see
 * wasi_sandbox.c.  Nothing outside the preopens is reachable. */
#ifndef EDGECR_WASI_H
#define EDGECR_WASI_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "wasm.h"

typedef struct wasi_ctx wasi_ctx;

struct wasi_preopen {
  const char *host_path;   /* directory on the host */
  const char *guest_path;  /* name the guest sees, e.g. "/data" or "." */
};

struct wasi_config {
  size_t argc;
  char *const *argv;       /* guest argv; argv[0] is the program name */
  size_t envc;
  char *const *env;        /* "KEY=VALUE" strings */
  size_t npreopens;
  const struct wasi_preopen *preopens;
  int stdio[3];            /* host fds for guest fds 0, 1, 2 (not owned) */
  uint64_t max_sleep_ns;   /* cap on one poll_oneoff wait; 0 = none (a
                            * fuzzer, or a host that must stay responsive) */
  int suspend_sleep;       /* 1: a sleep (poll_oneoff on clocks only) does
                            * not block the thread: the call ends with
                            * EW_SUSPENDED and the embedder resumes it after
                            * wasi_sleep_deadline() (running others meanwhile).
                            * Leave it 0 until ew_instance_new() returned: the
                            * engine cannot suspend a start function. */
};

/* Turn suspend_sleep on or off, e.g. once instantiation is done. */
void wasi_set_suspend_sleep(wasi_ctx *ctx, int on);

/* Copy the configuration and open the preopened directories.  Fails (with
 * *err naming the directory) when a preopen is not a readable directory. */
int wasi_ctx_new(const struct wasi_config *cfg, wasi_ctx **out, edgecr_error_t *err);
void wasi_ctx_free(wasi_ctx *ctx);

/* The module name WASI preview 1 imports live in. */
#define WASI_MODULE_NAME "wasi_snapshot_preview1"

/* An ew_resolve_fn: ctx is a wasi_ctx.  Grants an import of module
 * `wasi_snapshot_preview1` whose name and type match a function of this
 * layer; returns non-zero for anything else. */
int wasi_resolve(void *ctx, const ew_import_info *imp, ew_extern *out);

/* 1 when `name` is a WASI function this layer implements. */
int wasi_has_function(const char *name);

/* Why wasi_resolve() last refused an import ("" if it did not): unknown
 * name, or a type that does not match the WASI signature. */
const char *wasi_link_error(const wasi_ctx *ctx);

/* 1 and *code set when the guest called proc_exit.  The engine reports a
 * proc_exit inside a start function as a host trap during instantiation;
 * this is how the embedder still gets the exit code. */
int wasi_exit_status(const wasi_ctx *ctx, int *code);

/* After ew_call/ew_resume returned EW_SUSPENDED with suspend_sleep set: 1
 * and *deadline_ns (CLOCK_MONOTONIC) when the guest is sleeping; resume it
 * with ew_resume() once that time has passed.  0 for other suspensions. */
int wasi_sleep_deadline(const wasi_ctx *ctx, uint64_t *deadline_ns);

#endif
