/* interp_loop.h - the interpreter loop, included twice by interp.c.
 *
 * One C function, no recursion: a wasm call saves the return linkage in
 * the thread's frame array and moves the frame pointer up the value stack
 * (arguments already sit in the callee's first slots).  Dispatch is
 * threaded (computed goto) under GCC/clang and a switch elsewhere.  All
 * state lives in the instance, so a run can stop at a loop header or call
 * when fuel is out, or after a host call that asks to suspend, and a later
 * run continues from the saved pc/fp/frames.
 *
 * interp.c includes this file once per way of checking memory accesses:
 *   EW_LOOP_GUARDED 0  every load and store compares its effective address
 *                      with the memory size (any memory, any host);
 *   EW_LOOP_GUARDED 1  no comparison: the memory is a guarded reservation
 *                      (guard.c) where every address a wasm32 access can
 *                      form past the memory's end faults, and the fault
 *                      becomes the out-of-bounds trap.  Only for memories
 *                      made guarded; entering an instance whose memory is
 *                      not guarded hands the run back to the checked loop
 *                      (EW_SWITCH_).
 * EW_LOOP_FN names the function.  Macros defined here are redefined
 * identically by the second inclusion, which C allows. */

ew_status EW_LOOP_FN(ew_instance *th)
{
  const uint32_t *pc = th->saved_pc;
  ew_value *fp = th->saved_fp;
  ew_func *func = th->saved_func;
  ew_frame *fsp = th->frame_sp;
  const bool unmetered = th->fuel == EW_FUEL_UNLIMITED;
  int64_t fuel = th->fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)th->fuel;
  ew_instance *ci;
  uint8_t *mem;
  uint64_t memsz;
  int trap = 0;
  ew_func *cf;
  ew_value *nfp;
  const uint32_t *ret;
#if EW_ACC
  uint32_t acc = 0;   /* the last i32 result (see EW_ACC in internal.h) */
#endif

/* Entering an instance (the first one, or across a call or return): its
 * memory 0 becomes the memory of the loads and stores.  The guarded loop
 * gives the run back (state saved) when that memory is not guarded, and
 * tells the fault handler which reservation is current. */
#define LOAD_INST() do { \
    ci = func->inst; \
    ew_memory *m0_ = ci->module->nmems ? ci->mems[0] : NULL; \
    mem = m0_ ? m0_->data : NULL; \
    memsz = m0_ ? m0_->size : 0; \
    if (EW_LOOP_GUARDED && m0_) { \
      if (!m0_->guarded) { SAVE(); return EW_SWITCH_; } \
      ew_guard_set_base(th, mem); \
    } \
  } while (0)
/* Bounds check of an access of n bytes at ea (ea < 2^33, n <= 8); none in
 * the guarded loop, where the reservation traps instead. */
#define BOUNDS(ea, n) do { \
    if (!EW_LOOP_GUARDED && EW_UNLIKELY((ea) + (n) > memsz)) TRAP(MEMORY_OOB); \
  } while (0)
#define RELOAD_MEM() do { \
    ew_memory *m0_ = ci->mems[0]; mem = m0_->data; memsz = m0_->size; \
  } while (0)
#define SAVE() do { th->saved_pc = pc; th->saved_fp = fp; th->saved_func = func; \
    th->frame_sp = fsp; th->fuel = unmetered ? EW_FUEL_UNLIMITED : (uint64_t)fuel; } while (0)
#define TRAP(k) do { trap = EW_TRAP_##k; goto trapped; } while (0)
#define S(i) fp[pc[i]]
#define REL(i) ((int32_t)pc[i])

  LOAD_INST();

#if defined(__GNUC__) && !defined(EW_NO_THREADED)
#define LBL(name) &&L_##name,
#define LBL_A(name, pos, swap) &&L_##name##_A,
  static const void *const labels[OP_COUNT_] = {
    EW_NUM_OPS(LBL) EW_MEM_OPS(LBL) EW_LOADADD_OPS(LBL) EW_SAT_OPS(LBL) EW_CTL_OPS(LBL)
    EW_ACC_READERS(LBL_A)
  };
#undef LBL
#undef LBL_A
#define CASE(name) L_##name:
#ifdef EW_PROFILE
#define DISPATCH() do { ew_profile_count(*pc); goto *labels[*pc]; } while (0)
#else
#define DISPATCH() goto *labels[*pc]
#endif
#define NEXT(n) do { pc += (n); DISPATCH(); } while (0)
  DISPATCH();
#else
#define CASE(name) case OP_##name:
#define DISPATCH() goto dispatch
#define NEXT(n) do { pc += (n); goto dispatch; } while (0)
dispatch:
  switch (*pc) {
#endif

/* The accumulator (EW_ACC, internal.h): ACC(v) is v, also kept in acc by
 * the ops that compile.c counts as setters; IF_ACC(...) is code only in
 * builds with the _A variants, which take one operand from acc. */
#if EW_ACC
#define ACC(v) (acc = (v))
#define IF_ACC(...) __VA_ARGS__
#else
#define ACC(v) (v)
#define IF_ACC(...)
#endif
#define UN32(name, expr) CASE(name) { uint32_t a = S(2).u32; (void)a; S(1).u32 = ACC(expr); NEXT(3); }
#define UN64(name, expr) CASE(name) { uint64_t a = S(2).u64; (void)a; S(1).u64 = (expr); NEXT(3); }
#define BIN32_(a_, expr) { uint32_t a = (a_), b = S(3).u32; S(1).u32 = ACC(expr); NEXT(4); }
#define BIN32(name, expr) CASE(name) BIN32_(S(2).u32, expr) IF_ACC(CASE(name##_A) BIN32_(acc, expr))
#define BIN64(name, expr) CASE(name) { uint64_t a = S(2).u64, b = S(3).u64; S(1).u64 = (expr); NEXT(4); }
#define CMP64(name, expr) CASE(name) { uint64_t a = S(2).u64, b = S(3).u64; S(1).u32 = (expr); NEXT(4); }
#define FUN32(name, expr) CASE(name) { float a = S(2).f32; S(1).f32 = (expr); NEXT(3); }
#define FUN64(name, expr) CASE(name) { double a = S(2).f64; S(1).f64 = (expr); NEXT(3); }
#define FBIN32(name, expr) CASE(name) { float a = S(2).f32, b = S(3).f32; S(1).f32 = (expr); NEXT(4); }
#define FBIN64(name, expr) CASE(name) { double a = S(2).f64, b = S(3).f64; S(1).f64 = (expr); NEXT(4); }
#define FCMP32(name, op) CASE(name) { float a = S(2).f32, b = S(3).f32; S(1).u32 = a op b; NEXT(4); }
#define FCMP64(name, op) CASE(name) { double a = S(2).f64, b = S(3).f64; S(1).u32 = a op b; NEXT(4); }
#define S32(x) ((int32_t)(x))
#define S64(x) ((int64_t)(x))

  UN32(I32_EQZ, a == 0)
  IF_ACC(CASE(I32_EQZ_A) { S(1).u32 = ACC(acc == 0); NEXT(3); })
  BIN32(I32_EQ, a == b) BIN32(I32_NE, a != b)
  BIN32(I32_LT_S, S32(a) < S32(b)) BIN32(I32_LT_U, a < b)
  BIN32(I32_GT_S, S32(a) > S32(b)) BIN32(I32_GT_U, a > b)
  BIN32(I32_LE_S, S32(a) <= S32(b)) BIN32(I32_LE_U, a <= b)
  BIN32(I32_GE_S, S32(a) >= S32(b)) BIN32(I32_GE_U, a >= b)
  CASE(I64_EQZ) { S(1).u32 = S(2).u64 == 0; NEXT(3); }
  CMP64(I64_EQ, a == b) CMP64(I64_NE, a != b)
  CMP64(I64_LT_S, S64(a) < S64(b)) CMP64(I64_LT_U, a < b)
  CMP64(I64_GT_S, S64(a) > S64(b)) CMP64(I64_GT_U, a > b)
  CMP64(I64_LE_S, S64(a) <= S64(b)) CMP64(I64_LE_U, a <= b)
  CMP64(I64_GE_S, S64(a) >= S64(b)) CMP64(I64_GE_U, a >= b)
  FCMP32(F32_EQ, ==) FCMP32(F32_NE, !=) FCMP32(F32_LT, <) FCMP32(F32_GT, >)
  FCMP32(F32_LE, <=) FCMP32(F32_GE, >=)
  FCMP64(F64_EQ, ==) FCMP64(F64_NE, !=) FCMP64(F64_LT, <) FCMP64(F64_GT, >)
  FCMP64(F64_LE, <=) FCMP64(F64_GE, >=)

  UN32(I32_CLZ, CLZ32(a)) UN32(I32_CTZ, CTZ32(a)) UN32(I32_POPCNT, POP32(a))
  BIN32(I32_ADD, a + b) BIN32(I32_SUB, a - b) BIN32(I32_MUL, a * b)
/* The four trapping divisions of one width: P the op prefix, ST/sf and
 * UT/uf the signed and unsigned C types and slot fields, MIN the signed
 * minimum (MIN / -1 overflows; MIN % -1 is 0). */
#define DIVREM(P, ST, sf, UT, uf, MIN) \
  CASE(P##_DIV_S) { ST a = S(2).sf, b = S(3).sf; \
    if (EW_UNLIKELY(b == 0)) TRAP(DIV_ZERO); \
    if (EW_UNLIKELY(a == MIN && b == -1)) TRAP(INT_OVERFLOW); \
    S(1).sf = a / b; NEXT(4); } \
  CASE(P##_DIV_U) { UT a = S(2).uf, b = S(3).uf; \
    if (EW_UNLIKELY(b == 0)) TRAP(DIV_ZERO); \
    S(1).uf = a / b; NEXT(4); } \
  CASE(P##_REM_S) { ST a = S(2).sf, b = S(3).sf; \
    if (EW_UNLIKELY(b == 0)) TRAP(DIV_ZERO); \
    S(1).sf = b == -1 ? 0 : a % b; NEXT(4); } \
  CASE(P##_REM_U) { UT a = S(2).uf, b = S(3).uf; \
    if (EW_UNLIKELY(b == 0)) TRAP(DIV_ZERO); \
    S(1).uf = a % b; NEXT(4); }
  DIVREM(I32, int32_t, i32, uint32_t, u32, INT32_MIN)
  BIN32(I32_AND, a & b) BIN32(I32_OR, a | b) BIN32(I32_XOR, a ^ b)
  BIN32(I32_SHL, a << (b & 31)) BIN32(I32_SHR_S, (uint32_t)(S32(a) >> (b & 31)))
  BIN32(I32_SHR_U, a >> (b & 31)) BIN32(I32_ROTL, rotl32(a, b)) BIN32(I32_ROTR, rotr32(a, b))

  UN64(I64_CLZ, CLZ64(a)) UN64(I64_CTZ, CTZ64(a)) UN64(I64_POPCNT, POP64(a))
  BIN64(I64_ADD, a + b) BIN64(I64_SUB, a - b) BIN64(I64_MUL, a * b)
  DIVREM(I64, int64_t, i64, uint64_t, u64, INT64_MIN)
  BIN64(I64_AND, a & b) BIN64(I64_OR, a | b) BIN64(I64_XOR, a ^ b)
  BIN64(I64_SHL, a << (b & 63)) BIN64(I64_SHR_S, (uint64_t)(S64(a) >> (b & 63)))
  BIN64(I64_SHR_U, a >> (b & 63)) BIN64(I64_ROTL, rotl64(a, b)) BIN64(I64_ROTR, rotr64(a, b))

  CASE(F32_ABS) { S(1).u32 = S(2).u32 & 0x7fffffffu; NEXT(3); }
  CASE(F32_NEG) { S(1).u32 = S(2).u32 ^ 0x80000000u; NEXT(3); }
  FUN32(F32_CEIL, NANWRAP(ceilf, a)) FUN32(F32_FLOOR, NANWRAP(floorf, a))
  FUN32(F32_TRUNC, NANWRAP(truncf, a)) FUN32(F32_NEAREST, f32_nearest(a))
  FUN32(F32_SQRT, sqrtf(a))
  FBIN32(F32_ADD, a + b) FBIN32(F32_SUB, a - b) FBIN32(F32_MUL, a * b)
  FBIN32(F32_DIV, a / b) FBIN32(F32_MIN, f32_min(a, b)) FBIN32(F32_MAX, f32_max(a, b))
  CASE(F32_COPYSIGN) { S(1).u32 = (S(2).u32 & 0x7fffffffu) | (S(3).u32 & 0x80000000u); NEXT(4); }
  CASE(F64_ABS) { S(1).u64 = S(2).u64 & 0x7fffffffffffffffull; NEXT(3); }
  CASE(F64_NEG) { S(1).u64 = S(2).u64 ^ 0x8000000000000000ull; NEXT(3); }
  FUN64(F64_CEIL, NANWRAP(ceil, a)) FUN64(F64_FLOOR, NANWRAP(floor, a))
  FUN64(F64_TRUNC, NANWRAP(trunc, a)) FUN64(F64_NEAREST, f64_nearest(a))
  FUN64(F64_SQRT, sqrt(a))
  FBIN64(F64_ADD, a + b) FBIN64(F64_SUB, a - b) FBIN64(F64_MUL, a * b)
  FBIN64(F64_DIV, a / b) FBIN64(F64_MIN, f64_min(a, b)) FBIN64(F64_MAX, f64_max(a, b))
  CASE(F64_COPYSIGN) {
    S(1).u64 = (S(2).u64 & 0x7fffffffffffffffull) | (S(3).u64 & 0x8000000000000000ull);
    NEXT(4);
  }

  CASE(I32_WRAP_I64) { S(1).u32 = (uint32_t)S(2).u64; NEXT(3); }
#define TRUNC(name, T, in, out, cast, lo, hi) CASE(name) { T a = S(2).in; \
    if (a != a) TRAP(INVALID_CONVERSION); \
    if (!((double)a > (lo) && (double)a < (hi))) TRAP(INT_OVERFLOW); \
    S(1).out = (cast)a; NEXT(3); }
  TRUNC(I32_TRUNC_F32_S, float, f32, i32, int32_t, -2147483649.0, 2147483648.0)
  TRUNC(I32_TRUNC_F32_U, float, f32, u32, uint32_t, -1.0, 4294967296.0)
  TRUNC(I32_TRUNC_F64_S, double, f64, i32, int32_t, -2147483649.0, 2147483648.0)
  TRUNC(I32_TRUNC_F64_U, double, f64, u32, uint32_t, -1.0, 4294967296.0)
  TRUNC(I64_TRUNC_F32_S, float, f32, i64, int64_t, -9223372036854777856.0, 9223372036854775808.0)
  TRUNC(I64_TRUNC_F32_U, float, f32, u64, uint64_t, -1.0, 18446744073709551616.0)
  TRUNC(I64_TRUNC_F64_S, double, f64, i64, int64_t, -9223372036854777856.0, 9223372036854775808.0)
  TRUNC(I64_TRUNC_F64_U, double, f64, u64, uint64_t, -1.0, 18446744073709551616.0)
  CASE(I64_EXTEND_I32_S) { S(1).i64 = S(2).i32; NEXT(3); }
  CASE(I64_EXTEND_I32_U) { S(1).u64 = S(2).u32; NEXT(3); }
  CASE(F32_CONVERT_I32_S) { S(1).f32 = (float)S(2).i32; NEXT(3); }
  CASE(F32_CONVERT_I32_U) { S(1).f32 = (float)S(2).u32; NEXT(3); }
  CASE(F32_CONVERT_I64_S) { S(1).f32 = (float)S(2).i64; NEXT(3); }
  CASE(F32_CONVERT_I64_U) { S(1).f32 = (float)S(2).u64; NEXT(3); }
  CASE(F32_DEMOTE_F64) { S(1).f32 = (float)S(2).f64; NEXT(3); }
  CASE(F64_CONVERT_I32_S) { S(1).f64 = (double)S(2).i32; NEXT(3); }
  CASE(F64_CONVERT_I32_U) { S(1).f64 = (double)S(2).u32; NEXT(3); }
  CASE(F64_CONVERT_I64_S) { S(1).f64 = (double)S(2).i64; NEXT(3); }
  CASE(F64_CONVERT_I64_U) { S(1).f64 = (double)S(2).u64; NEXT(3); }
  CASE(F64_PROMOTE_F32) { S(1).f64 = (double)S(2).f32; NEXT(3); }
  CASE(I32_REINTERPRET_F32) CASE(F32_REINTERPRET_I32) { S(1).u32 = S(2).u32; NEXT(3); }
  CASE(I64_REINTERPRET_F64) CASE(F64_REINTERPRET_I64) { S(1).u64 = S(2).u64; NEXT(3); }
  CASE(I32_EXTEND8_S) { S(1).i32 = (int8_t)S(2).u32; NEXT(3); }
  CASE(I32_EXTEND16_S) { S(1).i32 = (int16_t)S(2).u32; NEXT(3); }
  CASE(I64_EXTEND8_S) { S(1).i64 = (int8_t)S(2).u64; NEXT(3); }
  CASE(I64_EXTEND16_S) { S(1).i64 = (int16_t)S(2).u64; NEXT(3); }
  CASE(I64_EXTEND32_S) { S(1).i64 = (int32_t)S(2).u64; NEXT(3); }

  CASE(I32_TRUNC_SAT_F32_S) { S(1).i32 = (int32_t)sat_i64(S(2).f32, -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX); NEXT(3); }
  CASE(I32_TRUNC_SAT_F32_U) { S(1).u32 = (uint32_t)sat_u64(S(2).f32, 4294967296.0, UINT32_MAX); NEXT(3); }
  CASE(I32_TRUNC_SAT_F64_S) { S(1).i32 = (int32_t)sat_i64(S(2).f64, -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX); NEXT(3); }
  CASE(I32_TRUNC_SAT_F64_U) { S(1).u32 = (uint32_t)sat_u64(S(2).f64, 4294967296.0, UINT32_MAX); NEXT(3); }
  CASE(I64_TRUNC_SAT_F32_S) { S(1).i64 = sat_i64(S(2).f32, -9223372036854777856.0, 9223372036854775808.0, INT64_MIN, INT64_MAX); NEXT(3); }
  CASE(I64_TRUNC_SAT_F32_U) { S(1).u64 = sat_u64(S(2).f32, 18446744073709551616.0, UINT64_MAX); NEXT(3); }
  CASE(I64_TRUNC_SAT_F64_S) { S(1).i64 = sat_i64(S(2).f64, -9223372036854777856.0, 9223372036854775808.0, INT64_MIN, INT64_MAX); NEXT(3); }
  CASE(I64_TRUNC_SAT_F64_U) { S(1).u64 = sat_u64(S(2).f64, 18446744073709551616.0, UINT64_MAX); NEXT(3); }

#define LOAD_AT(ea_expr, next, T, field) { uint64_t ea = (ea_expr); \
    BOUNDS(ea, sizeof(T)); \
    T v; memcpy(&v, mem + ea, sizeof v); S(1).field = v; IF_ACC(acc = (uint32_t)v;) \
    NEXT(next); }
#define LOAD(name, T, field) \
  CASE(name) LOAD_AT((uint64_t)S(2).u32 + pc[3], 4, T, field) \
  CASE(name##_ADD) LOAD_AT((uint64_t)(uint32_t)(S(2).u32 + S(3).u32) + pc[4], 5, T, field)
  LOAD(I32_LOAD, uint32_t, u32) LOAD(I64_LOAD, uint64_t, u64)
  LOAD(F32_LOAD, uint32_t, u32) LOAD(F64_LOAD, uint64_t, u64)
  LOAD(I32_LOAD8_S, int8_t, i32) LOAD(I32_LOAD8_U, uint8_t, u32)
  LOAD(I32_LOAD16_S, int16_t, i32) LOAD(I32_LOAD16_U, uint16_t, u32)
  LOAD(I64_LOAD8_S, int8_t, i64) LOAD(I64_LOAD8_U, uint8_t, u64)
  LOAD(I64_LOAD16_S, int16_t, i64) LOAD(I64_LOAD16_U, uint16_t, u64)
  LOAD(I64_LOAD32_S, int32_t, i64) LOAD(I64_LOAD32_U, uint32_t, u64)
#define LOAD_A(name, T, field) IF_ACC(CASE(name##_A) LOAD_AT((uint64_t)acc + pc[3], 4, T, field))
  LOAD_A(I32_LOAD, uint32_t, u32) LOAD_A(I32_LOAD8_S, int8_t, i32) LOAD_A(I32_LOAD8_U, uint8_t, u32)
  LOAD_A(I32_LOAD16_S, int16_t, i32) LOAD_A(I32_LOAD16_U, uint16_t, u32)
#define STORE_(val, T) { uint64_t ea = (uint64_t)S(1).u32 + pc[3]; \
    BOUNDS(ea, sizeof(T)); \
    T v = (T)(val); memcpy(mem + ea, &v, sizeof v); NEXT(4); }
#define STORE(name, T, field) CASE(name) STORE_(S(2).field, T)
  STORE(I32_STORE, uint32_t, u32) STORE(I64_STORE, uint64_t, u64)
  STORE(F32_STORE, uint32_t, u32) STORE(F64_STORE, uint64_t, u64)
  STORE(I32_STORE8, uint8_t, u32) STORE(I32_STORE16, uint16_t, u32)
  STORE(I64_STORE8, uint8_t, u64) STORE(I64_STORE16, uint16_t, u64)
  STORE(I64_STORE32, uint32_t, u64)
  IF_ACC(CASE(I32_STORE_A) STORE_(acc, uint32_t) CASE(I32_STORE8_A) STORE_(acc, uint8_t)
         CASE(I32_STORE16_A) STORE_(acc, uint16_t))

  CASE(UNREACHABLE) TRAP(UNREACHABLE);
  CASE(NOP) NEXT(1);
  CASE(END_) TRAP(UNREACHABLE);
/* Taken branch through the rel word at pc[site]; a backward jump is a loop
 * iteration and pays one unit of fuel (it lands after the loop's FUEL op, so
 * when fuel is out we stop on that op and resuming charges it there).  pc
 * moves to the rel word first and then by rel: the compiler folds both into
 * one address computation (adding site to rel in 32 bits cost two more
 * instructions per taken branch).  Each op has its own copy of the tail so
 * that its indirect jump is predicted on its own, except in the build for
 * size (-Os, the microcontroller build), which shares one. */
#define JUMP_TAIL() do { int32_t rel_ = REL(0); pc += rel_; \
    if (rel_ < 0) { \
      if (EW_UNLIKELY(ew_take_fuel(&fuel))) { pc--; goto out_of_fuel; } \
      DISPATCH(); \
    } \
    DISPATCH(); } while (0)
#if defined(__OPTIMIZE_SIZE__)
/* built for size (-Os, the microcontroller build): one shared copy */
#define JUMP(site) do { pc += (site); goto take_jump; } while (0)
#else
#define JUMP(site) do { pc += (site); JUMP_TAIL(); } while (0)
#endif
  CASE(BR) JUMP(1);
  CASE(BR_IF) { if (S(1).u32) { JUMP(2); } NEXT(3); }
  CASE(BR_IFZ) { if (!S(1).u32) { JUMP(2); } NEXT(3); }
  IF_ACC(CASE(BR_IF_A) { if (acc) { JUMP(2); } NEXT(3); }
         CASE(BR_IFZ_A) { if (!acc) { JUMP(2); } NEXT(3); })
/* The ten i32 comparisons of the fused compare-and-branch ops; P is the
 * op family's prefix.  The compared slots come last, then the rel word. */
#define I32_BRANCH_CMPS(M, P) \
  M(P##EQ32, a == b) M(P##NE32, a != b) \
  M(P##LT_S32, S32(a) < S32(b)) M(P##LT_U32, a < b) \
  M(P##GT_S32, S32(a) > S32(b)) M(P##GT_U32, a > b) \
  M(P##LE_S32, S32(a) <= S32(b)) M(P##LE_U32, a <= b) \
  M(P##GE_S32, S32(a) >= S32(b)) M(P##GE_U32, a >= b)
#define CMP_JUMP(i, expr) uint32_t a = S(i).u32, b = S((i) + 1).u32; \
    if (expr) { JUMP((i) + 2); } NEXT((i) + 3);
#define BRCMP(name, expr) CASE(name) { CMP_JUMP(1, expr) } \
  IF_ACC(CASE(name##_A) { uint32_t a = acc, b = S(2).u32; if (expr) { JUMP(3); } NEXT(4); })
#define ADDBRCMP(name, expr) CASE(name) { S(1).u32 = S(2).u32 + S(3).u32; CMP_JUMP(4, expr) }
#define ADD3BRCMP(name, expr) CASE(name) { S(1).u32 = S(2).u32 + S(3).u32; \
    S(4).u32 = S(5).u32 + S(6).u32; S(7).u32 = S(8).u32 + S(9).u32; CMP_JUMP(10, expr) }
#define ADDIBRCMP(name, expr) CASE(name) { uint32_t a = S(1).u32 += pc[2], b = S(3).u32; \
    if (expr) { JUMP(4); } NEXT(5); }
#define ADDI3BRCMP(name, expr) CASE(name) { S(1).u32 += pc[2]; S(3).u32 += pc[4]; \
    uint32_t a = S(5).u32 += pc[6], b = S(7).u32; if (expr) { JUMP(8); } NEXT(9); }
  I32_BRANCH_CMPS(BRCMP, BR_)
  I32_BRANCH_CMPS(ADDBRCMP, ADD_BR_)
  I32_BRANCH_CMPS(ADD3BRCMP, ADD3_BR_)
  I32_BRANCH_CMPS(ADDIBRCMP, ADDI_BR_)
  I32_BRANCH_CMPS(ADDI3BRCMP, ADDI3_BR_)
  /* Entry i's rel word is relative to itself.  pc moves to it first and
   * then by the signed rel: adding rel to the unsigned index in one
   * expression would wrap a backward rel (a loop target) to ~4 G words. */
  CASE(BR_TABLE) {
    uint32_t i = S(1).u32, n = pc[2];
    if (i > n) i = n;
    pc += 3 + (size_t)i;
    pc += REL(0);
    DISPATCH();
  }
  CASE(FUEL) {
    if (EW_UNLIKELY(ew_take_fuel(&fuel))) goto out_of_fuel;
    NEXT(1);
  }
  CASE(MOV) { S(1) = S(2); NEXT(3); }
  CASE(MOV32) { S(1).u32 = ACC(S(2).u32); NEXT(3); }
#define PAIR32_(z_, expr) { uint32_t x = S(2).u32, y = S(3).u32, z = (z_); \
    S(1).u32 = ACC(expr); NEXT(5); }
#define PAIR32(name, expr) CASE(name) PAIR32_(S(4).u32, expr) IF_ACC(CASE(name##_A) PAIR32_(acc, expr))
  PAIR32(MUL_ADD32, z + x * y) PAIR32(ROTL_XOR32, z ^ rotl32(x, y))
  PAIR32(SHL_ADD32, z + (x << (y & 31))) PAIR32(SHRU_XOR32, z ^ (x >> (y & 31)))
  PAIR32(XOR_ADD32, z + (x ^ y)) PAIR32(AND_ADD32, z + (x & y)) PAIR32(AND_XOR32, z ^ (x & y))
  PAIR32(XOR_AND32, z & (x ^ y)) PAIR32(ADD_ADD32, z + (x + y)) PAIR32(XOR_XOR32, z ^ (x ^ y))
#define LOAD_OP(name, T, field, op) CASE(name) { uint64_t ea = (uint64_t)S(2).u32 + pc[3]; \
    BOUNDS(ea, sizeof(T)); \
    T v; memcpy(&v, mem + ea, sizeof v); S(1).field = S(4).field op v; NEXT(5); }
  LOAD_OP(F64_LD_ADD, double, f64, +) LOAD_OP(F64_LD_MUL, double, f64, *)
  CASE(I32_LD_ADD) { uint64_t ea = (uint64_t)S(2).u32 + pc[3];
    BOUNDS(ea, 4);
    uint32_t v; memcpy(&v, mem + ea, 4); S(1).u32 = ACC(S(4).u32 + v); NEXT(5); }
  IF_ACC(CASE(I32_LD_ADD_A) { uint64_t ea = (uint64_t)S(2).u32 + pc[3];
    BOUNDS(ea, 4);
    uint32_t v; memcpy(&v, mem + ea, 4); S(1).u32 = ACC(acc + v); NEXT(5); })
#define RMW(name, T, field, op) CASE(name) { uint64_t ea = (uint64_t)S(1).u32 + pc[2]; \
    BOUNDS(ea, sizeof(T)); \
    ew_value v; memcpy(&v.field, mem + ea, sizeof(T)); v.field = S(3).field op v.field; \
    memcpy(mem + ea, &v.field, sizeof(T)); NEXT(4); }
  RMW(F64_ADD_MEM, double, f64, +) RMW(I32_ADD_MEM, uint32_t, u32, +)
#define LOAD_ADDT(name, T, field) CASE(name) { uint32_t s_ = S(5).u32 = S(2).u32 + S(3).u32; \
    LOAD_AT((uint64_t)s_ + pc[4], 6, T, field) }
  LOAD_ADDT(I32_LOAD_ADDT, uint32_t, u32) LOAD_ADDT(F64_LOAD_ADDT, uint64_t, u64)
  CASE(F64_MULADD_MEM) { uint64_t eb = (uint64_t)S(3).u32 + pc[4];
    BOUNDS(eb, 8);
    uint64_t ea = (uint64_t)S(1).u32 + pc[2];
    BOUNDS(ea, 8);
    double b, a; memcpy(&b, mem + eb, 8); memcpy(&a, mem + ea, 8);
    double t = S(5).f64 * b; a = t + a; memcpy(mem + ea, &a, 8); NEXT(6); }
  CASE(I32_LOAD_SHL) LOAD_AT((uint64_t)(uint32_t)(S(4).u32 + (S(2).u32 << (S(3).u32 & 31))) + pc[5], 6, uint32_t, u32)
  CASE(I32_LOAD_SHLT) { uint32_t s_ = S(6).u32 = S(4).u32 + (S(2).u32 << (S(3).u32 & 31));
    LOAD_AT((uint64_t)s_ + pc[5], 7, uint32_t, u32) }
  CASE(XOR_LOAD_SHL) LOAD_AT((uint64_t)(uint32_t)(S(5).u32 + ((S(2).u32 ^ S(3).u32) << (S(4).u32 & 31))) + pc[6], 7, uint32_t, u32)
  CASE(XOR_SHL_ADD32) { S(1).u32 = ACC(S(5).u32 + ((S(2).u32 ^ S(3).u32) << (S(4).u32 & 31))); NEXT(6); }
  CASE(F64_LOAD_SHL) LOAD_AT((uint64_t)(uint32_t)(S(4).u32 + (S(2).u32 << (S(3).u32 & 31))) + pc[5], 6, uint64_t, u64)
  CASE(ADD32_X2) { S(1).u32 = S(2).u32 + S(3).u32; S(4).u32 = S(5).u32 + S(6).u32; NEXT(7); }
  CASE(MOV_X2) { S(1) = S(2); S(3) = S(4); NEXT(5); }
  CASE(MOV32_X2) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; NEXT(5); }
  CASE(MUL_ADD_STORE32) { uint64_t ea = (uint64_t)S(1).u32 + pc[2];
    BOUNDS(ea, 4);
    uint32_t v = S(5).u32 + S(3).u32 * S(4).u32; memcpy(mem + ea, &v, 4); NEXT(6); }
#define LOAD_ADD_X2(name, T) CASE(name) { \
    uint64_t ea = (uint64_t)(uint32_t)(S(2).u32 + S(3).u32) + pc[4]; \
    BOUNDS(ea, sizeof(T)); \
    T v; memcpy(&v, mem + ea, sizeof v); S(1).u32 = (uint32_t)v; \
    ea = (uint64_t)(uint32_t)(S(6).u32 + S(7).u32) + pc[8]; \
    BOUNDS(ea, sizeof(T)); \
    memcpy(&v, mem + ea, sizeof v); S(5).u32 = (uint32_t)v; NEXT(9); }
  LOAD_ADD_X2(I32_LOAD_ADD_X2, uint32_t) LOAD_ADD_X2(I32_LOAD8_S_ADD_X2, int8_t)
  LOAD_ADD_X2(I32_LOAD8_U_ADD_X2, uint8_t)
#define DOT(name, T) CASE(name) { \
    uint64_t ea = (uint64_t)(uint32_t)(S(3).u32 + S(4).u32) + pc[5]; \
    BOUNDS(ea, sizeof(T)); \
    uint64_t eb = (uint64_t)(uint32_t)(S(6).u32 + S(7).u32) + pc[8]; \
    BOUNDS(eb, sizeof(T)); \
    T va, vb; memcpy(&va, mem + ea, sizeof va); memcpy(&vb, mem + eb, sizeof vb); \
    S(1).u32 = S(2).u32 + (uint32_t)va * (uint32_t)vb; NEXT(9); }
  DOT(DOT32, uint32_t) DOT(DOT8S, int8_t) DOT(DOT8U, uint8_t)
  CASE(I32_MULADD_MEM) {
    uint32_t s_ = S(1).u32 = S(2).u32 + S(3).u32;
    uint64_t ea = (uint64_t)s_ + pc[4];
    BOUNDS(ea, 4);
    uint64_t eb = (uint64_t)(uint32_t)(S(5).u32 + S(6).u32) + pc[7];
    BOUNDS(eb, 4);
    uint32_t va, vb; memcpy(&va, mem + ea, 4); memcpy(&vb, mem + eb, 4);
    va += vb * S(8).u32; memcpy(mem + ea, &va, 4); NEXT(9);
  }
  CASE(ROTL3_XOR32) { S(1).u32 = ACC(rotl32(S(2).u32, S(3).u32) ^ rotl32(S(4).u32, S(5).u32) ^
                                     rotl32(S(6).u32, S(7).u32)); NEXT(8); }
  CASE(ROTL2_SHRU_XOR32) { S(1).u32 = ACC(rotl32(S(2).u32, S(3).u32) ^ rotl32(S(4).u32, S(5).u32) ^
                                          (S(6).u32 >> (S(7).u32 & 31))); NEXT(8); }
  CASE(ROTL2_XOR32) { S(1).u32 = ACC(rotl32(S(2).u32, S(3).u32) ^ rotl32(S(4).u32, S(5).u32)); NEXT(6); }
  CASE(MOV32_X3) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; S(5).u32 = S(6).u32; NEXT(7); }
  CASE(MOV32_X4) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; S(5).u32 = S(6).u32;
    S(7).u32 = S(8).u32; NEXT(9); }
  CASE(MOV32_BR) { S(1).u32 = S(2).u32; JUMP(3); }
  CASE(MOV32_X2_BR) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; JUMP(5); }
  CASE(MOV32_X3_BR) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; S(5).u32 = S(6).u32; JUMP(7); }
  CASE(MOV32_X4_BR) { S(1).u32 = S(2).u32; S(3).u32 = S(4).u32; S(5).u32 = S(6).u32;
    S(7).u32 = S(8).u32; JUMP(9); }
  CASE(XOR_MUL64) { S(1).u64 = S(4).u64 * (S(2).u64 ^ S(3).u64); NEXT(5); }
  CASE(ADD_BR_IF) { uint32_t d = S(1).u32 = S(2).u32 + S(3).u32; if (d) { JUMP(4); } NEXT(5); }
  CASE(ADD_BR_IFZ) { uint32_t d = S(1).u32 = S(2).u32 + S(3).u32; if (!d) { JUMP(4); } NEXT(5); }
  CASE(CONST32) { S(1).u32 = pc[2]; NEXT(3); }
  CASE(CONST64) { S(1).u64 = (uint64_t)pc[2] | ((uint64_t)pc[3] << 32); NEXT(4); }
  CASE(SELECT) { S(1) = S(2).u32 ? S(3) : S(4); NEXT(5); }
  CASE(GLOBAL_GET) { S(1) = ci->globals[pc[2]]->val; NEXT(3); }
  CASE(GLOBAL_SET) { ci->globals[pc[1]]->val = S(2); NEXT(3); }
  CASE(MEMORY_SIZE) { S(1).u32 = (uint32_t)(memsz / EW_PAGE); NEXT(2); }
  CASE(MEMORY_GROW) {
    S(1).i32 = ew_memory_grow(ci->mems[0], S(2).u32);
    RELOAD_MEM();
    NEXT(3);
  }
  CASE(MEMORY_FILL) {
    uint64_t d = S(1).u32, n = S(3).u32;
    if (d + n > memsz) TRAP(MEMORY_OOB);
    if (n) memset(mem + d, (int)(S(2).u32 & 0xff), (size_t)n);
    NEXT(4);
  }
  CASE(MEMORY_COPY) {
    uint64_t d = S(1).u32, s = S(2).u32, n = S(3).u32;
    if (d + n > memsz || s + n > memsz) TRAP(MEMORY_OOB);
    if (n) memmove(mem + d, mem + s, (size_t)n);
    NEXT(4);
  }
  CASE(MEMORY_INIT) {
    const ew_data *seg = &ci->module->datas[pc[1]];
    uint64_t len = ci->dropped_data[pc[1]] ? 0 : seg->len;
    uint64_t d = S(2).u32, s = S(3).u32, n = S(4).u32;
    if (d + n > memsz || s + n > len) TRAP(MEMORY_OOB);
    if (n) memcpy(mem + d, seg->bytes + s, (size_t)n);
    NEXT(5);
  }
  CASE(DATA_DROP) { ci->dropped_data[pc[1]] = 1; NEXT(2); }
  CASE(TABLE_GET) {
    ew_table *t = ci->tables[pc[2]];
    uint32_t i = S(3).u32;
    if (i >= t->size) TRAP(TABLE_OOB);
    S(1).u64 = 0;
    S(1).ref = t->elems[i];
    NEXT(4);
  }
  CASE(TABLE_SET) {
    ew_table *t = ci->tables[pc[1]];
    uint32_t i = S(2).u32;
    if (i >= t->size) TRAP(TABLE_OOB);
    t->elems[i] = S(3).ref;
    NEXT(4);
  }
  CASE(TABLE_SIZE) { S(1).u32 = ci->tables[pc[2]]->size; NEXT(3); }
  CASE(TABLE_GROW) {
    S(1).i32 = ew_table_grow(ci->tables[pc[2]], S(4).u32, S(3).ref, th->limits.max_table_size);
    NEXT(5);
  }
  CASE(TABLE_FILL) {
    ew_table *t = ci->tables[pc[1]];
    uint64_t i = S(2).u32, n = S(4).u32;
    void *v = S(3).ref;
    if (i + n > t->size) TRAP(TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
      t->elems[i + k] = v;
    NEXT(5);
  }
  CASE(TABLE_COPY) {
    ew_table *td = ci->tables[pc[1]], *ts = ci->tables[pc[2]];
    uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
    if (d + n > td->size || s + n > ts->size) TRAP(TABLE_OOB);
    if (n) memmove(td->elems + d, ts->elems + s, (size_t)n * sizeof(void *));
    NEXT(6);
  }
  CASE(TABLE_INIT) {
    ew_table *t = ci->tables[pc[1]];
    uint32_t seg = pc[2];
    uint64_t len = ci->dropped_elem[seg] ? 0 : ci->module->elems[seg].count;
    uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
    if (d + n > t->size || s + n > len) TRAP(TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
      t->elems[d + k] = ew_elem_item(ci, seg, (uint32_t)(s + k));
    NEXT(6);
  }
  CASE(ELEM_DROP) { ci->dropped_elem[pc[1]] = 1; NEXT(2); }
  CASE(REF_IS_NULL) { S(1).u32 = S(2).ref == NULL; NEXT(3); }
  CASE(REF_FUNC) { S(1).u64 = 0; S(1).ref = ci->funcs[pc[2]]; NEXT(3); }

  CASE(CALL) {
    if (EW_UNLIKELY(ew_take_fuel(&fuel))) goto out_of_fuel;
    cf = ci->funcs[pc[1]];
    nfp = fp + pc[2];
    ret = pc + 3;
    goto do_call;
  }
  CASE(CALL_INDIRECT) {
    if (EW_UNLIKELY(fuel == 0)) goto out_of_fuel;
    ew_table *t = ci->tables[pc[2]];
    uint32_t i = S(4).u32;
    if (i >= t->size) TRAP(UNDEFINED_ELEMENT);
    cf = t->elems[i];
    if (!cf) TRAP(UNINITIALIZED_ELEMENT);
    if (!ew_functype_equal(cf->type, &ci->module->types[pc[1]]))
      TRAP(INDIRECT_TYPE_MISMATCH);
    fuel--;
    nfp = fp + pc[3];
    ret = pc + 5;
    goto do_call;
  }
  CASE(RETURN) {
    fsp--;
    if (!fsp->ret_pc) {
      for (uint32_t k = 0; k < th->nresults; k++)
        th->results[k] = fp[k];
      SAVE();
      return EW_OK;
    }
    pc = fsp->ret_pc;
    fp = fsp->fp;
    ew_instance *prev = func->inst;
    func = fsp->func;
    if (func->inst != prev) LOAD_INST();
    DISPATCH();
  }
#if !(defined(__GNUC__) && !defined(EW_NO_THREADED))
  default: TRAP(UNREACHABLE);
  }
#endif

do_call:
  if (cf->host) {
    const ew_functype *t = cf->type;
    ci->host_request = 0;
    int rc = cf->host(ci, cf->host_ctx, nfp, nfp + t->nparams);
    if (rc == EW_HOST_EXIT_RC) {
      th->exit_code = ci->exit_code;
      SAVE();
      return EW_EXIT;
    }
    if (rc && rc != EW_HOST_SUSPEND_RC) {
      th->trap_msg = ci->trap_msg;
      trap = rc > 0 && rc < EW_TRAP_COUNT_ ? rc : EW_TRAP_HOST;
      goto trapped;
    }
    memmove(nfp, nfp + t->nparams, t->nresults * sizeof *nfp);
    pc = ret;
    if (rc == EW_HOST_SUSPEND_RC) {
      SAVE();
      return EW_SUSPENDED;
    }
    DISPATCH();
  }
  {
    const ew_code *code = cf->code;
    if (EW_UNLIKELY(fsp == th->frames_end || nfp + code->max_slots > th->stack_end)) {
      fuel++;
      TRAP(CALL_STACK_EXHAUSTED);
    }
    fsp->ret_pc = ret;
    fsp->fp = fp;
    fsp->func = func;
    fsp++;
    ew_frame_init(nfp, code);
    fp = nfp;
    ew_instance *prev = func->inst;
    func = cf;
    pc = code->words;
    if (cf->inst != prev) LOAD_INST();
    DISPATCH();
  }

#if defined(__OPTIMIZE_SIZE__)
take_jump:
  JUMP_TAIL();
#endif

out_of_fuel:
  SAVE();
  return EW_OUT_OF_FUEL;

trapped:
  th->trap = trap;
  SAVE();
  return EW_TRAP;
}
