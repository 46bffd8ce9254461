/* wasm.h - public API of edgecr's WebAssembly engine (prefix ew_).
 *
 * The engine is OS-free portable C11: it allocates only through the
 * allocator the embedder passes in, keeps no global mutable state, and
 * never recurses on the C stack for wasm calls (frames live in the
 * instance's own stacks), so a run can stop when its fuel budget is spent
 * and be resumed later.
 *
 * Life cycle:
 *   ew_module_new()    decode + fully validate + compile a binary module
 *   ew_instance_new()  link imports through a per-instance resolver, run
 *                      data/elem initialisation and the start function
 *   ew_call()          call an exported function; returns EW_OK, EW_TRAP,
 *                      EW_OUT_OF_FUEL, EW_SUSPENDED or EW_EXIT
 *   ew_resume()        continue after EW_OUT_OF_FUEL / EW_SUSPENDED
 *
 * Ownership: a module must outlive its instances; an instance (or host
 * object made with ew_global_new/ew_memory_new/ew_table_new) whose exports
 * another instance imported must outlive that importer.
 *
 * Threads: one instance is used by one thread at a time; distinct instances
 * are independent.  Nothing here is re-entrant for the same instance: a host
 * function must not call ew_call() on the instance that is calling it
 * (ew_call returns EW_TRAP with EW_TRAP_BUSY). */
#ifndef EDGECR_WASM_H
#define EDGECR_WASM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- allocator ---------------------------------------------------------- */

/* malloc/realloc/free-like callbacks.  alloc and realloc return NULL on
 * failure; free(NULL) must be accepted.  `ctx` is passed back unchanged. */
typedef struct ew_allocator {
  void *(*alloc)(void *ctx, size_t size);
  void *(*realloc)(void *ctx, void *ptr, size_t size);
  void (*free)(void *ctx, void *ptr);
  void *ctx;
} ew_allocator;

/* ---- values and types --------------------------------------------------- */

typedef enum ew_valtype {
  EW_I32 = 0x7f,
  EW_I64 = 0x7e,
  EW_F32 = 0x7d,
  EW_F64 = 0x7c,
  EW_FUNCREF = 0x70,
  EW_EXTERNREF = 0x6f,
} ew_valtype;

/* One value.  Floats are also reachable as raw bits (u32/u64) so NaN
 * payloads survive untouched.  A reference is a pointer: NULL is the null
 * reference; a funcref points to an ew_func; an externref is whatever
 * non-NULL pointer the embedder passed in. */
typedef union ew_value {
  int32_t i32;
  int64_t i64;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  void *ref;
} ew_value;

/* A function type (multi-value: any number of results). */
typedef struct ew_functype {
  uint32_t nparams, nresults;
  const uint8_t *params;   /* ew_valtype values */
  const uint8_t *results;
} ew_functype;

#define EW_NO_MAX UINT32_MAX   /* limits without a maximum */

typedef struct ew_limits_type {
  uint32_t min, max;           /* max == EW_NO_MAX when absent */
} ew_limits_type;

typedef struct ew_tabletype {
  uint8_t elem;                /* EW_FUNCREF or EW_EXTERNREF */
  ew_limits_type limits;
} ew_tabletype;

typedef struct ew_memtype {
  ew_limits_type limits;       /* in 64 KiB pages */
} ew_memtype;

typedef struct ew_globaltype {
  uint8_t type;                /* ew_valtype */
  uint8_t mut;                 /* 1 = mutable */
} ew_globaltype;

typedef enum ew_extern_kind {
  EW_EXTERN_FUNC = 0,
  EW_EXTERN_TABLE = 1,
  EW_EXTERN_MEMORY = 2,
  EW_EXTERN_GLOBAL = 3,
} ew_extern_kind;

const char *ew_valtype_name(uint8_t type);      /* "i32", ..., "externref" */
const char *ew_extern_kind_name(ew_extern_kind kind); /* "func", ... */

/* ---- opaque objects ----------------------------------------------------- */

typedef struct ew_module ew_module;
typedef struct ew_instance ew_instance;
typedef struct ew_func ew_func;
typedef struct ew_global ew_global;
typedef struct ew_memory ew_memory;
typedef struct ew_table ew_table;

/* ---- errors and traps --------------------------------------------------- */

typedef enum ew_error_kind {
  EW_ERR_NONE = 0,
  EW_ERR_MALFORMED,      /* the binary does not decode */
  EW_ERR_INVALID,        /* decodes but fails validation */
  EW_ERR_UNSUPPORTED,    /* uses a proposal not implemented (SIMD, ...) */
  EW_ERR_LINK,           /* an import was not granted or has the wrong type */
  EW_ERR_TRAP,           /* instantiation trapped (data/elem/start) */
  EW_ERR_LIMIT,          /* a configured limit was exceeded */
  EW_ERR_NOMEM,          /* the allocator returned NULL */
} ew_error_kind;

#define EW_NO_FUNC UINT32_MAX

typedef struct ew_error {
  ew_error_kind kind;
  uint32_t offset;       /* byte offset in the module binary */
  uint32_t func_index;   /* function being validated, or EW_NO_FUNC */
  int trap;              /* ew_trap when kind == EW_ERR_TRAP */
  char message[192];     /* human-readable reason */
  /* ew_instance_new() only, kind == EW_ERR_TRAP: the instance that trapped
   * (see ew_instance_new), else NULL. */
  struct ew_instance *instance;
} ew_error;

typedef enum ew_trap {
  EW_TRAP_NONE = 0,
  EW_TRAP_UNREACHABLE,
  EW_TRAP_MEMORY_OOB,
  EW_TRAP_INT_OVERFLOW,
  EW_TRAP_DIV_ZERO,
  EW_TRAP_INVALID_CONVERSION,
  EW_TRAP_INDIRECT_TYPE_MISMATCH,
  EW_TRAP_UNDEFINED_ELEMENT,     /* call_indirect index outside the table */
  EW_TRAP_UNINITIALIZED_ELEMENT, /* call_indirect of a null entry */
  EW_TRAP_TABLE_OOB,             /* table.get/set/fill/copy/init, elem init */
  EW_TRAP_CALL_STACK_EXHAUSTED,  /* call depth or value stack limit */
  EW_TRAP_OUT_OF_FUEL,           /* only as ew_error.trap during start */
  EW_TRAP_HOST,                  /* a host function failed */
  EW_TRAP_BUSY,                  /* re-entrant ew_call on a running instance */
  EW_TRAP_BAD_ARGS,              /* ew_call arity/type mismatch */
  EW_TRAP_COUNT_
} ew_trap;

/* Spec-style message: "unreachable", "out of bounds memory access",
 * "integer overflow", "integer divide by zero", "invalid conversion to
 * integer", "indirect call type mismatch", "undefined element",
 * "uninitialized element", "out of bounds table access", "call stack
 * exhausted", "out of fuel", "host error", ... */
const char *ew_trap_name(int trap);

/* ---- modules ------------------------------------------------------------ */

/* Decode, validate and compile `len` bytes.  The bytes are not referenced
 * after return.  On failure returns NULL and fills *err (if non-NULL) with
 * kind, byte offset, function index and reason. */
ew_module *ew_module_new(const ew_allocator *alloc, const uint8_t *bytes,
                         size_t len, ew_error *err);
void ew_module_free(ew_module *m);

typedef struct ew_import_info {
  const char *module;    /* NUL-terminated copy; module_len excludes NUL */
  const char *name;
  uint32_t module_len, name_len;
  ew_extern_kind kind;
  ew_functype func;      /* kind == EW_EXTERN_FUNC */
  ew_tabletype table;    /* kind == EW_EXTERN_TABLE */
  ew_memtype memory;     /* kind == EW_EXTERN_MEMORY */
  ew_globaltype global;  /* kind == EW_EXTERN_GLOBAL */
} ew_import_info;

typedef struct ew_export_info {
  const char *name;      /* NUL-terminated copy; name_len excludes NUL */
  uint32_t name_len;
  ew_extern_kind kind;
  uint32_t index;        /* in the kind's index space */
  ew_functype func;      /* same type fields as ew_import_info */
  ew_tabletype table;
  ew_memtype memory;
  ew_globaltype global;
} ew_export_info;

uint32_t ew_module_import_count(const ew_module *m);
int ew_module_import(const ew_module *m, uint32_t i, ew_import_info *out);
uint32_t ew_module_export_count(const ew_module *m);
int ew_module_export(const ew_module *m, uint32_t i, ew_export_info *out);

/* ---- linking ------------------------------------------------------------ */

/* A host function.  `args` holds the parameters, `results` receives the
 * results (they never alias).  Return 0 on success, or an ew_trap code
 * (e.g. EW_TRAP_HOST) to trap, or the value of ew_host_exit() /
 * ew_host_suspend().  `inst` is the instance whose code made the call; use
 * ew_memory_ptr(inst, ...) to reach its memory safely. */
typedef int (*ew_host_fn)(ew_instance *inst, void *host_ctx,
                          const ew_value *args, ew_value *results);

/* What an import resolves to. */
typedef struct ew_extern {
  ew_extern_kind kind;
  union {
    struct {
      ew_func *func;       /* a function exported by another instance, or */
      ew_host_fn host;     /* a host function (used when func == NULL)   */
      void *host_ctx;
    } func;
    ew_table *table;
    ew_memory *memory;
    ew_global *global;
  } u;
} ew_extern;

/* Per-instance import resolver.  Fill *out and return 0 to grant the
 * import; return non-zero for "not granted" (instantiation then fails with
 * EW_ERR_LINK naming module.field).  The engine checks the granted object's
 * type against `imp` (host functions are assumed to have imp->func's
 * type). */
typedef int (*ew_resolve_fn)(void *ctx, const ew_import_info *imp,
                             ew_extern *out);

/* ---- limits and instances ----------------------------------------------- */

typedef struct ew_limits {
  uint32_t max_memory_pages;   /* cap for any memory min/grow (<= 65536) */
  uint32_t max_table_size;     /* cap for each table's min/grow */
  uint32_t value_stack_bytes;  /* operand+locals stack of one instance */
  uint32_t max_call_depth;     /* nested wasm calls */
  /* One budget, in bytes, for everything an instance holds: its memory and
   * all its tables (checked at instantiation and on every memory.grow /
   * table.grow, which return -1 past it, by whichever instance grows
   * them), its globals and function/segment tables, the module's compiled
   * code and data, the value stack and the call frames.  Instantiation
   * over it fails with EW_ERR_LIMIT naming what did not fit.  0: no
   * budget (only the caps above). */
  uint64_t max_instance_bytes;
} ew_limits;

#define EW_DEFAULT_INSTANCE_BYTES ((uint64_t)1 << 30)   /* 1 GiB */

/* Defaults: 65536 pages, 10000000 entries per table, 1 MiB value stack,
 * 10000 frames, EW_DEFAULT_INSTANCE_BYTES in all. */
void ew_limits_default(ew_limits *l);

typedef struct ew_instance_config {
  const ew_limits *limits;     /* NULL: ew_limits_default() */
  ew_resolve_fn resolve;       /* NULL: every import fails */
  void *resolve_ctx;
  void *user_data;             /* see ew_instance_user_data() */
  uint64_t start_fuel;         /* fuel for the start function; 0 = unlimited */
  /* Ask for a guarded memory (see ew_guard_enable): the instance's own
   * memory is then mapped from the OS instead of the allocator.  Ignored
   * (a checked memory, same behaviour) when guards are not enabled. */
  int guard_memory;
} ew_instance_config;

/* Guarded memories, hosted 64-bit Linux builds only.  A guarded memory is a
 * reservation of 8 GiB + 64 KiB of address space (no RAM: PROT_NONE, then
 * made accessible page by page as it grows) covering every address a
 * wasm32 load or store can form, so the interpreter runs its loads and
 * stores without bounds comparisons; an access past the end faults and the
 * engine's SIGSEGV/SIGBUS handler turns that fault into the
 * EW_TRAP_MEMORY_OOB trap of the running call (a fault that is not such an
 * access goes to the handler that was there before, or kills the process as
 * it would have).  Call before instantiating; installs the handler, and
 * again if something installed its own SIGSEGV handler since (the engine's
 * goes back in front and passes other faults to that one).  Returns 1 when
 * guarded memories are available, 0 when this build or host has none
 * (instances then get checked memories).  After a trap of a guarded
 * access the instance's fuel is what it was when the call (or resume)
 * started. */
int ew_guard_enable(void);

/* Instantiate: resolve and type-check imports, allocate memories, tables
 * and globals, apply element and data segments, run the start function.
 * On failure returns NULL with *err filled (EW_ERR_LINK, EW_ERR_TRAP with
 * err->trap, EW_ERR_LIMIT, EW_ERR_NOMEM).  Per the spec, writes done to
 * imported memories/tables/globals before the trap stay visible, and they
 * may hold references to the failed instance's functions (an element
 * segment applied to an imported table, a start function that stored a
 * funcref): so on EW_ERR_TRAP the instance is not freed but handed over in
 * err->instance.  The caller owns it: keep it (and its module) while the
 * objects it imported are in use, then ew_instance_free() it.  Calling into
 * it is allowed.  With err == NULL it is freed at once. */
ew_instance *ew_instance_new(const ew_module *m, const ew_allocator *alloc,
                             const ew_instance_config *cfg, ew_error *err);
void ew_instance_free(ew_instance *inst);

/* Bytes the instance's budget counts now (see ew_limits). */
uint64_t ew_instance_bytes(const ew_instance *inst);
/* The last memory.grow / table.grow of an object of this instance that the
 * budget refused: its size in bytes (0: none so far), and in *table
 * (optional) 1 for a table, 0 for the memory.  For the embedder to say why
 * a guest's allocation failed. */
uint64_t ew_instance_refused_grow(const ew_instance *inst, int *table);

void *ew_instance_user_data(const ew_instance *inst);
void ew_instance_set_user_data(ew_instance *inst, void *data);
const ew_module *ew_instance_module(const ew_instance *inst);

/* Export lookup by name (NUL-terminated).  Returns 0 and fills *out, or -1
 * if there is no such export. */
int ew_instance_export(ew_instance *inst, const char *name, ew_extern *out);
/* Same with an explicit length (names may contain NUL bytes). */
int ew_instance_export_len(ew_instance *inst, const char *name, size_t len,
                           ew_extern *out);
/* Shortcut: the exported function `name`, or NULL. */
ew_func *ew_instance_func(ew_instance *inst, const char *name);
ew_functype ew_func_type(const ew_func *f);

/* ---- host-side objects (e.g. the spec tests' `spectest` module) --------- */

ew_global *ew_global_new(const ew_allocator *a, ew_globaltype type, ew_value v);
void ew_global_free(ew_global *g);
ew_value ew_global_get(const ew_global *g);
void ew_global_set(ew_global *g, ew_value v);
ew_globaltype ew_global_type(const ew_global *g);

ew_memory *ew_memory_new(const ew_allocator *a, ew_memtype type);
void ew_memory_free(ew_memory *m);
ew_table *ew_table_new(const ew_allocator *a, ew_tabletype type);
void ew_table_free(ew_table *t);

/* ---- memory access for host functions ----------------------------------- */

/* Pointer to [offset, offset+len) of the instance's memory 0, or NULL if
 * the range is out of bounds or there is no memory.  The pointer is valid
 * until the memory grows (i.e. until wasm code runs again). */
void *ew_memory_ptr(ew_instance *inst, uint64_t offset, uint64_t len);
/* Size of memory 0 in bytes (0 without memory). */
uint64_t ew_memory_size(const ew_instance *inst);
/* Same for a memory object. */
uint8_t *ew_memory_data(ew_memory *m, uint64_t *size_bytes);

/* ---- running ------------------------------------------------------------ */

typedef enum ew_status {
  EW_OK = 0,          /* returned normally; results are filled */
  EW_TRAP,            /* trapped: see ew_trap_kind() / ew_trap_message() */
  EW_OUT_OF_FUEL,     /* fuel ran out: add fuel and ew_resume() */
  EW_SUSPENDED,       /* a host function asked to suspend: ew_resume() */
  EW_EXIT,            /* a host function asked to exit: ew_exit_code() */
} ew_status;

/* Call `f` (from this instance's exports, or any instance) with `nargs`
 * arguments; on EW_OK writes `nresults` results.  Mismatched counts trap
 * with EW_TRAP_BAD_ARGS.  When the call suspends (EW_OUT_OF_FUEL /
 * EW_SUSPENDED) the instance keeps the whole call state; `results` must
 * stay valid until the final ew_resume() returns EW_OK. */
ew_status ew_call(ew_instance *inst, ew_func *f, const ew_value *args,
                  uint32_t nargs, ew_value *results, uint32_t nresults);
/* Continue a suspended call.  Anything else than a suspended instance
 * returns EW_TRAP with EW_TRAP_BAD_ARGS. */
ew_status ew_resume(ew_instance *inst);
/* Drop a suspended call (the instance becomes idle again). */
void ew_abort(ew_instance *inst);
/* 1 while a call is suspended. */
int ew_is_suspended(const ew_instance *inst);

/* Fuel: EW_FUEL_UNLIMITED (default) disables metering.  One unit is spent
 * per function call and per loop iteration (each time a `loop` is entered
 * or branched back to), which bounds every run. */
#define EW_FUEL_UNLIMITED UINT64_MAX
void ew_set_fuel(ew_instance *inst, uint64_t fuel);
uint64_t ew_fuel(const ew_instance *inst);

/* After EW_TRAP. */
int ew_trap_kind(const ew_instance *inst);
const char *ew_trap_message(const ew_instance *inst);
/* After EW_EXIT. */
int ew_exit_code(const ew_instance *inst);

/* For host functions: `return ew_host_exit(inst, code);` ends the whole
 * call with EW_EXIT; `return ew_host_suspend(inst);` ends it with
 * EW_SUSPENDED after the host function's results are taken, and
 * ew_resume() continues right after the call.  `ew_host_trap(inst, msg)`
 * traps with EW_TRAP_HOST and a message (msg must be a static string). */
int ew_host_exit(ew_instance *inst, int code);
int ew_host_suspend(ew_instance *inst);
int ew_host_trap(ew_instance *inst, const char *msg);

#ifdef __cplusplus
}
#endif
#endif /* EDGECR_WASM_H */
