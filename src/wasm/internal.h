/* internal.h - engine-private structures shared by the decoder, the
 * validator/compiler, the interpreter and the instance code.
 *
 * Nothing here is visible to embedders (they use wasm.h).  The compiled
 * form ("IR") is an array of 32-bit words per function: an opcode word
 * followed by operands, most of which are frame slot numbers (a register
 * machine: every wasm local and every operand-stack position has a fixed
 * 8-byte slot in the frame, known at compile time). */
#ifndef EDGECR_WASM_INTERNAL_H
#define EDGECR_WASM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wasm.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the edgecr wasm engine assumes a little-endian host"
#endif

#if defined(__GNUC__)
#define EW_LIKELY(x) __builtin_expect(!!(x), 1)
#define EW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define EW_LIKELY(x) (x)
#define EW_UNLIKELY(x) (x)
#endif

#define EW_PAGE 65536u
#define EW_MAX_PAGES 65536u

/* ---- arena: module-lifetime allocations --------------------------------- */

typedef struct ew_arena_chunk {
  struct ew_arena_chunk *next;
  size_t used, cap;
} ew_arena_chunk;

typedef struct ew_arena {
  const ew_allocator *a;
  ew_arena_chunk *head;
  size_t bytes;           /* all chunks: what the module holds */
} ew_arena;

void *ew_arena_alloc(ew_arena *ar, size_t size);   /* zeroed, 8-aligned */
void ew_arena_free(ew_arena *ar);

/* ---- module ------------------------------------------------------------- */

/* Constant expression (offsets, global initialisers, element items). */
enum { CE_CONST, CE_GLOBAL, CE_FUNC, CE_NULL };
typedef struct ew_constexpr {
  uint8_t kind;
  uint8_t type;
  uint32_t index;      /* CE_GLOBAL / CE_FUNC */
  ew_value value;      /* CE_CONST */
} ew_constexpr;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct ew_elem {
  uint8_t mode, type;
  uint32_t table;
  ew_constexpr offset;
  uint32_t count;
  ew_constexpr *items;
} ew_elem;

typedef struct ew_data {
  uint8_t mode;
  ew_constexpr offset;
  uint32_t len;
  const uint8_t *bytes;   /* arena copy */
} ew_data;

typedef struct ew_code {
  uint32_t *words;        /* the IR */
  uint32_t nwords;
  uint32_t nparams, nlocals, nresults;
  uint32_t max_slots;     /* locals + consts + deepest stack + call scratch */
  uint32_t nconsts;       /* constant slots after the locals */
  uint64_t *consts;
} ew_code;

/* Set up a new frame whose arguments are already in place. */
static inline void ew_frame_init(ew_value *fp, const ew_code *code)
{
  if (code->nlocals > code->nparams)
    memset(fp + code->nparams, 0, (code->nlocals - code->nparams) * sizeof *fp);
  if (code->nconsts)
    memcpy(fp + code->nlocals, code->consts, code->nconsts * sizeof *fp);
}

typedef struct ew_import {
  ew_import_info info;
  uint32_t index;         /* index in its kind's space */
  uint32_t type_index;    /* functions */
} ew_import;

typedef struct ew_export {
  const char *name;
  uint32_t name_len;
  uint8_t kind;
  uint32_t index;
} ew_export;

struct ew_module {
  ew_allocator alloc;
  ew_arena arena;
  uint32_t ntypes;
  ew_functype *types;
  uint32_t nimports;
  ew_import *imports;
  uint32_t nfuncs, nfunc_imports;
  uint32_t *func_type;    /* type index per function */
  ew_code *code;          /* per defined function */
  uint32_t ntables, ntable_imports;
  ew_tabletype *tables;
  uint32_t nmems, nmem_imports;
  ew_memtype *mems;
  uint32_t nglobals, nglobal_imports;
  ew_globaltype *globals;
  ew_constexpr *global_init;   /* per global (imports unused) */
  uint32_t nexports;
  ew_export *exports;
  uint32_t start;              /* EW_NO_FUNC if none */
  uint32_t nelems;
  ew_elem *elems;
  uint32_t ndatas;
  ew_data *datas;
  bool has_datacount;
  uint32_t datacount;
  uint8_t *declared;           /* bitmap: functions usable by ref.func */
};

/* Fill an ew_error (formats "%s"-free: reason is a static/literal text,
 * optional detail appended). */
void ew_set_error(ew_error *err, ew_error_kind kind, uint32_t offset,
                  uint32_t func, const char *reason, const char *detail);

/* Compile (validate + translate) the body of defined function `fi`.
 * Defined in compile.c; called by the decoder for each code entry. */
typedef struct ew_reader {
  const uint8_t *base, *p, *end;
  ew_error *err;
  uint32_t func;       /* function being decoded, for errors */
  bool failed;
} ew_reader;

int ew_compile_function(ew_module *m, uint32_t fi, ew_reader *r,
                        uint32_t **scratch, size_t *scratch_cap);

/* LEB128 & friends (decode.c), shared with compile.c. */
uint32_t ew_read_u32(ew_reader *r);
int32_t ew_read_s32(ew_reader *r);
int64_t ew_read_s64(ew_reader *r);
int64_t ew_read_s33(ew_reader *r);
uint8_t ew_read_byte(ew_reader *r);
void ew_fail(ew_reader *r, ew_error_kind kind, const char *reason);
bool ew_functype_equal(const ew_functype *a, const ew_functype *b);

/* ---- runtime objects ---------------------------------------------------- */

/* An instance's byte budget (ew_limits.max_instance_bytes; limit 0: none).
 * Its memory and tables point to it, so a grow through an importing
 * instance is charged to the owner; host objects have none (NULL). */
typedef struct ew_budget {
  uint64_t limit, used;
  uint64_t refused;        /* bytes of the last grow it refused (0: none) */
  int refused_table;       /* ... and whether that was a table.grow */
} ew_budget;

static inline bool ew_budget_fits(const ew_budget *b, uint64_t n)
{
  return !b || !b->limit || (n <= b->limit && b->used <= b->limit - n);
}

static inline bool ew_budget_take(ew_budget *b, uint64_t n)
{
  if (!ew_budget_fits(b, n))
    return false;
  if (b)
    b->used += n;
  return true;
}

/* A grow: taken, or refused and noted (see ew_instance_refused_grow). */
static inline bool ew_budget_grow(ew_budget *b, uint64_t n, int table)
{
  if (ew_budget_take(b, n))
    return true;
  b->refused = n;
  b->refused_table = table;
  return false;
}

static inline void ew_budget_give(ew_budget *b, uint64_t n)
{
  if (b)
    b->used -= n;
}

struct ew_func {
  ew_instance *inst;       /* owner (for wasm functions) */
  const ew_code *code;     /* NULL for host functions */
  const ew_functype *type;
  ew_host_fn host;
  void *host_ctx;
};

struct ew_global {
  ew_value val;            /* first: the interpreter reads it directly */
  ew_globaltype type;
  const ew_allocator *alloc; /* non-NULL when created by ew_global_new */
};

struct ew_memory {
  uint8_t *data;
  uint64_t size;           /* bytes */
  uint32_t pages, max;     /* max: effective cap (type max and limits) */
  ew_memtype type;
  ew_allocator alloc;
  ew_budget *budget;       /* the owning instance's, NULL for host objects */
  bool standalone;
  bool guarded;            /* data is a guard.c reservation (never moves) */
};

struct ew_table {
  void **elems;
  uint32_t size, max;
  ew_tabletype type;
  ew_allocator alloc;
  ew_budget *budget;       /* the owning instance's, NULL for host objects */
  bool standalone;
};

/* A saved wasm frame (return linkage). */
typedef struct ew_frame {
  const uint32_t *ret_pc;  /* NULL: return to the embedder */
  ew_value *fp;
  ew_func *func;
} ew_frame;

enum { ST_IDLE, ST_RUNNING, ST_SUSPENDED };

struct ew_instance {
  const ew_module *module;
  ew_allocator alloc;
  ew_limits limits;
  ew_budget budget;        /* limits.max_instance_bytes and what is in use */
  void *user_data;
  ew_func **funcs;
  ew_func *own_funcs;      /* backing store for defined + host funcs */
  ew_table **tables;
  ew_memory **mems;
  ew_global **globals;
  ew_global *own_globals;
  ew_memory *own_mem;
  ew_table *own_tables;
  uint8_t *dropped_elem, *dropped_data;
  void ***elem_refs;       /* evaluated element segment items */
  /* execution state (this instance as a "thread") */
  ew_value *stack, *stack_end;
  ew_frame *frames, *frames_end, *frame_sp;
  uint64_t fuel;
  int state;
  const uint32_t *saved_pc;
  ew_value *saved_fp;
  ew_func *saved_func;
  ew_value *results;
  uint32_t nresults;
  ew_func *entry;
  int trap;
  const char *trap_msg;
  int exit_code;
  int host_request;        /* set by ew_host_exit / ew_host_suspend */
  bool guard_memory;       /* ew_instance_config.guard_memory */
  /* Guarded runs: the reservation of the memory the loop is using (read by
   * guard.c's fault handler on this thread). */
  uint8_t *volatile guard_base;
};

#define ew_elem_item(inst, seg, i) ((inst)->elem_refs[seg][i])

/* Host function return values meaning "exit" / "suspend" (not traps). */
#define EW_HOST_EXIT_RC 0x10000
#define EW_HOST_SUSPEND_RC 0x10001

/* interp.c: run from saved state until return/trap/fuel/suspend/exit. */
ew_status ew_interp_run(ew_instance *th);
/* Internal status of the guarded loop: "continue in the checked loop". */
#define EW_SWITCH_ ((ew_status)0x100)

/* ---- guarded memories (guard.c; hosted 64-bit POSIX builds) -------------
 * EW_GUARD_PAGES is defined by the build where guard.c is compiled in.  A
 * guarded memory's data is a reservation of EW_GUARD_SPAN bytes (every
 * address a wasm32 access can form: 32-bit base + 32-bit offset + 8 bytes)
 * of which only [0, size) is accessible; the interpreter's guarded loop
 * accesses it without comparisons and guard.c turns the fault of an access
 * past the end into the out-of-bounds trap. */
#ifdef EW_GUARD_PAGES
#define EW_GUARD_SPAN ((uint64_t)1 << 33 | (uint64_t)EW_PAGE)
bool ew_guard_ready(void);                     /* ew_guard_enable() succeeded */
uint8_t *ew_guard_reserve(void);               /* NULL when refused */
int ew_guard_commit(uint8_t *base, uint64_t from, uint64_t to);
void ew_guard_release(uint8_t *base);
/* Run `loop` with faults in th's current reservation turned into a trap. */
ew_status ew_guard_run(ew_instance *th, ew_status (*loop)(ew_instance *));
static inline void ew_guard_set_base(ew_instance *th, uint8_t *base) { th->guard_base = base; }
#else
static inline void ew_guard_set_base(ew_instance *th, uint8_t *base) { (void)th; (void)base; }
#endif
/* Helpers shared by instance.c (instantiation) and interp.c. */
int ew_table_grow(ew_table *t, uint32_t delta, void *init, uint32_t cap);
int32_t ew_memory_grow(ew_memory *m, uint32_t delta);

/* ---- IR opcodes ---------------------------------------------------------
 * Numeric ops keep the wasm order 0x45..0xC4 so the compiler maps them by
 * offset: IR = OP_NUM0 + (wasm - 0x45).  Same for loads/stores. */
#define EW_NUM_OPS(X) \
  X(I32_EQZ) X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) \
  X(I32_GT_U) X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
  X(I64_EQZ) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) \
  X(I64_GT_U) X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) \
  X(F32_EQ) X(F32_NE) X(F32_LT) X(F32_GT) X(F32_LE) X(F32_GE) \
  X(F64_EQ) X(F64_NE) X(F64_LT) X(F64_GT) X(F64_LE) X(F64_GE) \
  X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I32_ADD) X(I32_SUB) X(I32_MUL) \
  X(I32_DIV_S) X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U) X(I32_AND) X(I32_OR) \
  X(I32_XOR) X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) \
  X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT) X(I64_ADD) X(I64_SUB) X(I64_MUL) \
  X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U) X(I64_AND) X(I64_OR) \
  X(I64_XOR) X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) \
  X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) \
  X(F32_SQRT) X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F32_MIN) \
  X(F32_MAX) X(F32_COPYSIGN) \
  X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) \
  X(F64_SQRT) X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV) X(F64_MIN) \
  X(F64_MAX) X(F64_COPYSIGN) \
  X(I32_WRAP_I64) X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) \
  X(I32_TRUNC_F64_U) X(I64_EXTEND_I32_S) X(I64_EXTEND_I32_U) \
  X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) X(I64_TRUNC_F64_S) X(I64_TRUNC_F64_U) \
  X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) X(F32_CONVERT_I64_S) \
  X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S) \
  X(F64_CONVERT_I32_U) X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) \
  X(F64_PROMOTE_F32) X(I32_REINTERPRET_F32) X(I64_REINTERPRET_F64) \
  X(F32_REINTERPRET_I32) X(F64_REINTERPRET_I64) \
  X(I32_EXTEND8_S) X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) \
  X(I64_EXTEND32_S)

#define EW_MEM_OPS(X) \
  X(I32_LOAD) X(I64_LOAD) X(F32_LOAD) X(F64_LOAD) X(I32_LOAD8_S) \
  X(I32_LOAD8_U) X(I32_LOAD16_S) X(I32_LOAD16_U) X(I64_LOAD8_S) \
  X(I64_LOAD8_U) X(I64_LOAD16_S) X(I64_LOAD16_U) X(I64_LOAD32_S) \
  X(I64_LOAD32_U) X(I32_STORE) X(I64_STORE) X(F32_STORE) X(F64_STORE) \
  X(I32_STORE8) X(I32_STORE16) X(I64_STORE8) X(I64_STORE16) X(I64_STORE32)

/* Loads whose address is an i32.add of two slots (fused: one dispatch). */
#define EW_LOADADD_OPS(X) \
  X(I32_LOAD_ADD) X(I64_LOAD_ADD) X(F32_LOAD_ADD) X(F64_LOAD_ADD) \
  X(I32_LOAD8_S_ADD) X(I32_LOAD8_U_ADD) X(I32_LOAD16_S_ADD) X(I32_LOAD16_U_ADD) \
  X(I64_LOAD8_S_ADD) X(I64_LOAD8_U_ADD) X(I64_LOAD16_S_ADD) X(I64_LOAD16_U_ADD) \
  X(I64_LOAD32_S_ADD) X(I64_LOAD32_U_ADD)

#define EW_SAT_OPS(X) \
  X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) \
  X(I32_TRUNC_SAT_F64_U) X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) \
  X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)

/* Control and other ops.  Operands (after the op word) in comments; "d",
 * "a", "b", "c" are slots, "rel" a signed word offset from the op word. */
#define EW_CTL_OPS(X) \
  X(UNREACHABLE)  /* */ \
  X(NOP)          /* */ \
  X(BR)           /* rel */ \
  X(BR_IF)        /* c rel */ \
  X(BR_IFZ)       /* c rel */ \
  X(BR_TABLE)     /* a n rel*(n+1) */ \
  X(FUEL)         /* (loop header) */ \
  X(RETURN)       /* */ \
  X(CALL)         /* funcidx base */ \
  X(CALL_INDIRECT) /* typeidx table base a */ \
  X(MOV)          /* d a */ \
  X(MOV32)        /* d a : i32/f32 values (32-bit copy) */ \
  X(MOV_X2)       /* d a d2 a2 : two copies in one dispatch */ \
  X(MOV32_X2)     /* d a d2 a2 */ \
  X(MUL_ADD_STORE32) /* a off x y z : store(a + off, z + x * y) */ \
  X(I32_LOAD_ADD_X2) X(I32_LOAD8_S_ADD_X2) X(I32_LOAD8_U_ADD_X2) \
              /* (d x y off) x2 : two indexed loads, in order */ \
  X(ROTL2_XOR32)  /* d x y x2 y2 : d = rotl(x, y) ^ rotl(x2, y2) */ \
  X(MOV32_X3) X(MOV32_X4) /* (d a) x3, x4: runs of copies, in order */ \
  X(MOV32_BR)     /* d a rel : copy then jump (block results) */ \
  X(ADD_BR_IF)    /* d x y rel : d = x + y, jump if d != 0 */ \
  X(MUL_ADD32) X(ROTL_XOR32) X(SHL_ADD32) X(SHRU_XOR32) X(XOR_ADD32) \
  X(AND_ADD32) X(AND_XOR32) X(XOR_AND32) X(ADD_ADD32) X(XOR_XOR32) \
              /* d x y z : d = z OPB (x OPA y), an i32 op feeding the next */ \
  X(F64_LD_ADD) X(F64_LD_MUL) X(I32_LD_ADD) \
              /* d a off z : d = z OP load(a + off), a load feeding the next */ \
  X(ADD_BR_IFZ)   /* d x y rel : d = x + y, jump if d == 0 */ \
  X(F64_ADD_MEM) X(I32_ADD_MEM) \
              /* a off z : store(a + off, load(a + off) + z), read-modify-write */ \
  X(F64_MULADD_MEM) /* a off b boff y : store(a + off, load(a + off) + y * load(b + boff)) */ \
  X(I32_LOAD_SHL) X(F64_LOAD_SHL) /* d x y z off : d = load(z + (x << y) + off) */ \
  X(ADD32_X2)     /* d x y d2 x2 y2 : two independent i32 adds, in order */ \
  X(I32_LOAD_ADDT) X(F64_LOAD_ADDT) \
              /* d x y off s : s = x + y (a local), then d = load(s + off) */ \
  X(CONST32)      /* d lo */ \
  X(CONST64)      /* d lo hi */ \
  X(SELECT)       /* d c a b */ \
  X(GLOBAL_GET)   /* d idx */ \
  X(GLOBAL_SET)   /* idx a */ \
  X(MEMORY_SIZE)  /* d */ \
  X(MEMORY_GROW)  /* d a */ \
  X(MEMORY_FILL)  /* a b c */ \
  X(MEMORY_COPY)  /* a b c */ \
  X(MEMORY_INIT)  /* seg a b c */ \
  X(DATA_DROP)    /* seg */ \
  X(TABLE_GET)    /* d tab a */ \
  X(TABLE_SET)    /* tab a b */ \
  X(TABLE_SIZE)   /* d tab */ \
  X(TABLE_GROW)   /* d tab a b */ \
  X(TABLE_FILL)   /* tab a b c */ \
  X(TABLE_COPY)   /* dst src a b c */ \
  X(TABLE_INIT)   /* tab seg a b c */ \
  X(ELEM_DROP)    /* seg */ \
  X(REF_IS_NULL)  /* d a */ \
  X(REF_FUNC)     /* d funcidx */ \
  X(BR_EQ32)  X(BR_NE32)  X(BR_LT_S32) X(BR_LT_U32) X(BR_GT_S32) \
  X(BR_GT_U32) X(BR_LE_S32) X(BR_LE_U32) X(BR_GE_S32) X(BR_GE_U32) \
              /* a b rel : fused compare + branch (taken when true) */ \
  X(ADD_BR_EQ32) X(ADD_BR_NE32) X(ADD_BR_LT_S32) X(ADD_BR_LT_U32) X(ADD_BR_GT_S32) \
  X(ADD_BR_GT_U32) X(ADD_BR_LE_S32) X(ADD_BR_LE_U32) X(ADD_BR_GE_S32) X(ADD_BR_GE_U32) \
              /* d x y a b rel : d = x + y, then the fused compare + branch */ \
  X(ADD3_BR_EQ32) X(ADD3_BR_NE32) X(ADD3_BR_LT_S32) X(ADD3_BR_LT_U32) X(ADD3_BR_GT_S32) \
  X(ADD3_BR_GT_U32) X(ADD3_BR_LE_S32) X(ADD3_BR_LE_U32) X(ADD3_BR_GE_S32) X(ADD3_BR_GE_U32) \
              /* d1 x1 y1 d2 x2 y2 d x y a b rel : two more adds (pointer \
               * increments) folded in front of an ADD_BR_* loop test */ \
  X(ADDI_BR_EQ32) X(ADDI_BR_NE32) X(ADDI_BR_LT_S32) X(ADDI_BR_LT_U32) X(ADDI_BR_GT_S32) \
  X(ADDI_BR_GT_U32) X(ADDI_BR_LE_S32) X(ADDI_BR_LE_U32) X(ADDI_BR_GE_S32) X(ADDI_BR_GE_U32) \
              /* x k b rel : x += k (k an immediate), then branch on x CMP b */ \
  X(ADDI3_BR_EQ32) X(ADDI3_BR_NE32) X(ADDI3_BR_LT_S32) X(ADDI3_BR_LT_U32) X(ADDI3_BR_GT_S32) \
  X(ADDI3_BR_GT_U32) X(ADDI3_BR_LE_S32) X(ADDI3_BR_LE_U32) X(ADDI3_BR_GE_S32) X(ADDI3_BR_GE_U32) \
              /* x1 k1 x2 k2 x k b rel : x1 += k1; x2 += k2; x += k; branch on x CMP b */ \
  X(DOT32) X(DOT8S) X(DOT8U) \
              /* d z x y off x2 y2 off2 : d = z + load(x + y + off) * \
               * load(x2 + y2 + off2), i32 / int8 / uint8 loads (dot products) */ \
  X(I32_MULADD_MEM) /* s x y off x2 y2 off2 k : s = x + y; \
               * store(s + off, load(s + off) + load(x2 + y2 + off2) * k) */ \
  X(ROTL3_XOR32)  /* d x y x2 y2 x3 y3 : d = rotl(x, y) ^ rotl(x2, y2) ^ rotl(x3, y3) */ \
  X(ROTL2_SHRU_XOR32) /* d x y x2 y2 x3 y3 : d = rotl(x, y) ^ rotl(x2, y2) ^ (x3 >> y3) */ \
  X(XOR_MUL64)    /* d x y z : d = z * (x ^ y), 64-bit */ \
  X(MOV32_X2_BR) X(MOV32_X3_BR) X(MOV32_X4_BR) \
              /* (d a) x2, x3, x4, rel : a run of copies, then a jump */ \
  X(XOR_SHL_ADD32) /* d a b y z : d = z + ((a ^ b) << y) */ \
  X(XOR_LOAD_SHL) /* d a b y z off : d = load(z + ((a ^ b) << y) + off), i32 */ \
  X(I32_LOAD_SHLT) /* d x y z off s : s = z + (x << y) (a local), then d = load(s + off) */ \
  X(END_)

/* The accumulator (hosted builds; not in the build for size).  Every i32
 * op in EW_ACC_SETTERS also leaves its result in a machine register of the
 * loop ("acc"), and an op whose operand is the result of the op right
 * before it -- with no jump target, call return or resume point between
 * the two -- runs as its _A variant, which takes that operand from the
 * register instead of reading the slot back from memory.  A chain of
 * dependent ops then no longer waits for each store to be forwarded to
 * the next load (about 5 cycles per op on x86-64).  The slot is still
 * written: only the read is saved.  compile.c picks the _A variants when a
 * function is finished (acc_finish), from candidates it notes while
 * emitting. */
#if !defined(__OPTIMIZE_SIZE__) && !defined(EW_NO_ACC)
#define EW_ACC 1
/* _A variants: X(base op, position of the operand taken from acc,
 * 1 if the other operand may be swapped into that position) */
#define EW_ACC_READERS(X) \
  X(I32_EQZ, 2, 0) X(I32_EQ, 2, 1) X(I32_NE, 2, 1) X(I32_LT_S, 2, 0) X(I32_LT_U, 2, 0) \
  X(I32_GT_S, 2, 0) X(I32_GT_U, 2, 0) X(I32_LE_S, 2, 0) X(I32_LE_U, 2, 0) \
  X(I32_GE_S, 2, 0) X(I32_GE_U, 2, 0) \
  X(I32_ADD, 2, 1) X(I32_SUB, 2, 0) X(I32_MUL, 2, 1) X(I32_AND, 2, 1) X(I32_OR, 2, 1) \
  X(I32_XOR, 2, 1) X(I32_SHL, 2, 0) X(I32_SHR_S, 2, 0) X(I32_SHR_U, 2, 0) \
  X(I32_ROTL, 2, 0) X(I32_ROTR, 2, 0) \
  X(MUL_ADD32, 4, 0) X(ROTL_XOR32, 4, 0) X(SHL_ADD32, 4, 0) X(SHRU_XOR32, 4, 0) \
  X(XOR_ADD32, 4, 0) X(AND_ADD32, 4, 0) X(AND_XOR32, 4, 0) X(XOR_AND32, 4, 0) \
  X(ADD_ADD32, 4, 0) X(XOR_XOR32, 4, 0) X(I32_LD_ADD, 4, 0) \
  X(I32_LOAD, 2, 0) X(I32_LOAD8_S, 2, 0) X(I32_LOAD8_U, 2, 0) X(I32_LOAD16_S, 2, 0) \
  X(I32_LOAD16_U, 2, 0) X(I32_STORE, 2, 0) X(I32_STORE8, 2, 0) X(I32_STORE16, 2, 0) \
  X(BR_IF, 1, 0) X(BR_IFZ, 1, 0) X(BR_EQ32, 1, 1) X(BR_NE32, 1, 1) X(BR_LT_S32, 1, 0) \
  X(BR_LT_U32, 1, 0) X(BR_GT_S32, 1, 0) X(BR_GT_U32, 1, 0) X(BR_LE_S32, 1, 0) \
  X(BR_LE_U32, 1, 0) X(BR_GE_S32, 1, 0) X(BR_GE_U32, 1, 0)
/* Ops that leave their i32 result (word 1's slot) in acc: X(op, words).
 * The _A variants of the value-producing readers are setters too. */
#define EW_ACC_SETTERS(X) \
  X(I32_EQZ, 3) X(I32_EQ, 4) X(I32_NE, 4) X(I32_LT_S, 4) X(I32_LT_U, 4) X(I32_GT_S, 4) \
  X(I32_GT_U, 4) X(I32_LE_S, 4) X(I32_LE_U, 4) X(I32_GE_S, 4) X(I32_GE_U, 4) \
  X(I32_ADD, 4) X(I32_SUB, 4) X(I32_MUL, 4) X(I32_AND, 4) X(I32_OR, 4) X(I32_XOR, 4) \
  X(I32_SHL, 4) X(I32_SHR_S, 4) X(I32_SHR_U, 4) X(I32_ROTL, 4) X(I32_ROTR, 4) \
  X(MUL_ADD32, 5) X(ROTL_XOR32, 5) X(SHL_ADD32, 5) X(SHRU_XOR32, 5) X(XOR_ADD32, 5) \
  X(AND_ADD32, 5) X(AND_XOR32, 5) X(XOR_AND32, 5) X(ADD_ADD32, 5) X(XOR_XOR32, 5) \
  X(I32_LD_ADD, 5) X(I32_LOAD, 4) X(I32_LOAD8_S, 4) X(I32_LOAD8_U, 4) \
  X(I32_LOAD16_S, 4) X(I32_LOAD16_U, 4) X(I32_LOAD_ADD, 5) X(I32_LOAD8_S_ADD, 5) \
  X(I32_LOAD8_U_ADD, 5) X(I32_LOAD16_S_ADD, 5) X(I32_LOAD16_U_ADD, 5) \
  X(I32_LOAD_SHL, 6) X(I32_LOAD_SHLT, 7) X(XOR_LOAD_SHL, 7) X(I32_LOAD_ADDT, 6) \
  X(ROTL3_XOR32, 8) X(ROTL2_SHRU_XOR32, 8) X(ROTL2_XOR32, 6) X(XOR_SHL_ADD32, 6) \
  X(MOV32, 3)
#else
#define EW_ACC 0
#define EW_ACC_READERS(X)
#endif

#define EW_ENUM_OP(name) OP_##name,
#define EW_ENUM_ACC(op, pos, swap) OP_##op##_A,
enum {
  EW_NUM_OPS(EW_ENUM_OP)
  EW_MEM_OPS(EW_ENUM_OP)
  EW_LOADADD_OPS(EW_ENUM_OP)
  EW_SAT_OPS(EW_ENUM_OP)
  EW_CTL_OPS(EW_ENUM_OP)
  EW_ACC_READERS(EW_ENUM_ACC)
  OP_COUNT_
};
#undef EW_ENUM_OP
#undef EW_ENUM_ACC

#endif
