/* compile.c - validate one function body and translate it to the IR.
 *
 * One pass does both, following the spec's validation algorithm (operand
 * stack of types with an "unknown" type for the polymorphic stack after
 * br/return/unreachable, and a control stack of blocks).  Translation turns
 * the operand stack into frame slots: the value at stack height h lives in
 * slot nlocals+h, so every IR op names its inputs and output slots and
 * nothing is pushed or popped at run time.  Two cheap tricks remove most
 * copies:
 *   - local.get does not copy: the stack entry just refers to the local's
 *     slot until something could change that local (local.set/tee of it,
 *     block boundaries), at which point it is "materialized";
 *   - local.set right after an op that wrote the top of the stack rewrites
 *     that op's destination to the local instead of emitting a move.
 * Compare + br_if / if are fused into one compare-and-branch op. */
#include "internal.h"

#define NONE UINT32_MAX
#define MAX_LOCALS 50000u
#define MAX_NESTING 100000u
#define MAX_CONSTS 256u

typedef struct sval {
  uint8_t type;      /* 0: unknown (polymorphic stack) */
  uint32_t slot;
} sval;

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct ctrl {
  uint8_t kind;
  bool unreachable, dead_at_entry;
  uint32_t height;               /* operand height below the params */
  uint32_t np, nr;
  const uint8_t *params, *results;
  uint32_t patch;                /* chain of forward branch rel words */
  uint32_t loop_pc;
  uint32_t else_patch;
} ctrl;

typedef struct comp {
  ew_module *m;
  ew_reader *r;
  const ew_allocator *a;
  uint32_t *code;
  size_t len, cap;
  sval *stack;
  uint32_t height, stack_cap, max_height;
  ctrl *ctrls;
  uint32_t nctrl, ctrl_cap;
  uint8_t *local_types;
  uint32_t nlocals, nparams;
  uint32_t stack_base;           /* first operand-stack slot */
  uint32_t nconst, const_room;   /* constant slots sit between locals and stack */
  uint64_t consts[MAX_CONSTS];
  bool dead;
  bool oom;
  size_t last_op, last_dst;      /* NONE-able positions of the last simple op */
  size_t prev_op;                /* the simple op right before last_op */
  size_t prev2_op;               /* and the one before that */
  size_t last_mov;               /* a MOV/MOV32 just emitted (for pairing) */
  size_t last_run;               /* a MOV32_X2/X3/X4 just emitted (for a jump) */
  const uint8_t *op_start;       /* current instruction, for error offsets */
  uint8_t one_type[1];
#if EW_ACC
  /* The accumulator (internal.h, EW_ACC): the last setter ops emitted
   * since the last jump target, and (reader, setter) position pairs to
   * turn into _A variants when the function is finished. */
  struct acc_span { size_t start, end; } acc_recent[4];
  uint32_t acc_nrecent, acc_head;
  size_t *acc_pairs;
  uint32_t acc_npairs, acc_cap;
#endif
} comp;

/* ---- failure helpers ---------------------------------------------------- */

/* Validation errors point at the start of the offending instruction. */
static void invalid(comp *c, const char *why)
{
  if (!c->r->failed && c->op_start)
    c->r->p = c->op_start;
  ew_fail(c->r, EW_ERR_INVALID, why);
}

static bool failed(comp *c) { return c->r->failed; }

/* ---- code emission ------------------------------------------------------ */

static void *grow(comp *c, void *p, uint32_t *cap, size_t elem, uint32_t need)
{
  if (need <= *cap)
    return p;
  uint32_t ncap = *cap ? *cap * 2 : 64;
  while (ncap < need)
    ncap *= 2;
  void *np = c->a->realloc(c->a->ctx, p, (size_t)ncap * elem);
  if (!np) {
    ew_fail(c->r, EW_ERR_NOMEM, "out of memory");
    return p;
  }
  *cap = ncap;
  return np;
}

static bool reserve(comp *c, size_t n)
{
  if (c->len + n <= c->cap)
    return true;
  /* branch offsets are signed 32-bit words: a longer function would wrap */
  if (c->len + n > INT32_MAX) {
    ew_fail(c->r, EW_ERR_LIMIT, "function too large");
    return false;
  }
  size_t ncap = c->cap ? c->cap * 2 : 256;
  while (ncap < c->len + n)
    ncap *= 2;
  uint32_t *p = c->a->realloc(c->a->ctx, c->code, ncap * sizeof *p);
  if (!p) {
    ew_fail(c->r, EW_ERR_NOMEM, "out of memory");
    return false;
  }
  c->code = p;
  c->cap = ncap;
  return true;
}

/* Forget what was emitted last: nothing before this point may be fused
 * with what comes next (a label, a fused op that must not be extended). */
static void forget_ops(comp *c)
{
  c->last_op = c->last_dst = c->prev_op = c->prev2_op = c->last_mov = c->last_run = NONE;
}

/* ---- the accumulator (see EW_ACC in internal.h) -------------------------
 * While emitting, every op that follows a setter op directly (nothing
 * between, no jump target at it) is noted with that setter; acc_finish
 * then checks each pair against the finished code -- fusions may have
 * rewritten either op since -- and turns the reader into its _A variant
 * where the operand it would take from acc is the setter's destination.
 * Jump targets only ever appear at the end of the code, and acc_target()
 * is called for each, so a noted pair never has a target between.
 * A fusion that cuts ops off the end (cut()) or rewrites an op in place
 * drops what was noted from there on (acc_drop): the check in acc_finish
 * reads the words at the noted positions, and a position that is now in
 * the middle of another op holds an operand -- a slot number such as 4,
 * which reads as I32_LT_U, a setter of 4 words -- that can pass it. */
#if EW_ACC
/* Words of a setter op (its _A variant too), or 0. */
static uint32_t acc_setter_len(uint32_t op)
{
  switch (op) {
#define A_BASE(o, pos, swap) case OP_##o##_A: op = OP_##o; break;
    EW_ACC_READERS(A_BASE)
#undef A_BASE
    default: break;
  }
  switch (op) {
#define SETTER(o, n) case OP_##o: return n;
    EW_ACC_SETTERS(SETTER)
#undef SETTER
    default: return 0;
  }
}

/* The _A variant of a reader op, with the operand position it takes from
 * acc and whether its other operand may be swapped there; 0 if none. */
static uint32_t acc_variant(uint32_t op, uint32_t *pos, bool *swap)
{
  switch (op) {
#define READER(o, p, sw) case OP_##o: *pos = p; *swap = sw; return OP_##o##_A;
    EW_ACC_READERS(READER)
#undef READER
    default: return 0;
  }
}

static void acc_target(comp *c) { c->acc_nrecent = c->acc_head = 0; }

/* Forget every setter and pair noted at or after code position `at`
 * (the code from there is being cut off or rewritten).  Pairs are noted
 * at the end of the code, so they are sorted by reader position and the
 * ones to drop are at the tail; the setters are the last four. */
static void acc_drop(comp *c, size_t at)
{
  while (c->acc_npairs >= 2 && c->acc_pairs[c->acc_npairs - 2] >= at)
    c->acc_npairs -= 2;
  uint32_t n = c->acc_nrecent, first = n < 4 ? 0 : c->acc_head, kept = 0;
  struct acc_span keep[4];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = (first + i) % 4;
    if (c->acc_recent[k].end <= at)
      keep[kept++] = c->acc_recent[k];
  }
  memcpy(c->acc_recent, keep, kept * sizeof *keep);
  c->acc_nrecent = kept;
  c->acc_head = kept % 4;
}

static void acc_note(comp *c, size_t at, uint32_t n, uint32_t op)
{
  uint32_t pos;
  bool swap;
  if (acc_variant(op, &pos, &swap)) {
    for (uint32_t i = 0; i < c->acc_nrecent; i++) {
      if (c->acc_recent[i].end != at || c->acc_recent[i].start >= at)
        continue;
      if (c->acc_npairs + 2 > c->acc_cap) {
        c->acc_pairs = grow(c, c->acc_pairs, &c->acc_cap, sizeof *c->acc_pairs, c->acc_npairs + 2);
        if (c->acc_npairs + 2 > c->acc_cap)
          return;
      }
      c->acc_pairs[c->acc_npairs++] = at;
      c->acc_pairs[c->acc_npairs++] = c->acc_recent[i].start;
      break;
    }
  }
  if (acc_setter_len(op) == n) {
    uint32_t k = c->acc_head;
    c->acc_head = (k + 1) % 4;
    if (c->acc_nrecent < 4)
      c->acc_nrecent++;
    c->acc_recent[k].start = at;
    c->acc_recent[k].end = at + n;
  }
}

static void acc_finish(comp *c)
{
  for (uint32_t i = 0; i + 1 < c->acc_npairs; i += 2) {
    size_t x = c->acc_pairs[i], p = c->acc_pairs[i + 1];
    uint32_t plen, pos, aop;
    bool swap;
    if (x >= c->len || p >= x || (plen = acc_setter_len(c->code[p])) == 0 || p + plen != x)
      continue;
    if ((aop = acc_variant(c->code[x], &pos, &swap)) == 0 || x + pos + 1 >= c->len)
      continue;
    uint32_t d = c->code[p + 1];
    if (c->code[x + pos] != d) {
      if (!swap || c->code[x + pos + 1] != d)
        continue;
      c->code[x + pos + 1] = c->code[x + pos];
      c->code[x + pos] = d;
    }
    c->code[x] = aop;
  }
  c->acc_npairs = 0;
  acc_target(c);
}
#else
static void acc_target(comp *c) { (void)c; }
static void acc_drop(comp *c, size_t at) { (void)c; (void)at; }
#endif

/* Cut the code back to position `at` (a fusion replaces the ops from
 * there); what the accumulator noted about them goes too. */
static void cut(comp *c, size_t at)
{
  acc_drop(c, at);
  c->len = at;
}

/* Emit an instruction of n words; returns its position or NONE when dead. */
static size_t emit(comp *c, uint32_t n, const uint32_t *w)
{
  forget_ops(c);
  if (c->dead || failed(c) || !reserve(c, n))
    return NONE;
  size_t at = c->len;
  memcpy(c->code + at, w, n * sizeof *w);
  c->len += n;
#if EW_ACC
  acc_note(c, at, n, w[0]);
#endif
  return at;
}

#define EMIT(c, ...) emit((c), sizeof((uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t), \
                          (uint32_t[]){ __VA_ARGS__ })

/* A simple op whose word 1 is its destination slot (may be retargeted). */
static void emit_simple(comp *c, uint32_t n, const uint32_t *w)
{
  size_t prev = c->last_op, prev2 = c->prev_op;
  size_t at = emit(c, n, w);
  if (at != NONE) {
    /* a last op that was just cut off (fused into this one) is not before it */
    if (prev != NONE && prev >= at)
      prev = prev2 = NONE;
    if (prev2 != NONE && (prev == NONE || prev2 >= prev))
      prev2 = NONE;
    c->prev2_op = prev2;
    c->prev_op = prev;
    c->last_op = at;
    c->last_dst = at + 1;
  }
}

#define EMIT_SIMPLE(c, ...) emit_simple((c), sizeof((uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t), \
                                        (uint32_t[]){ __VA_ARGS__ })

/* ---- operand stack ------------------------------------------------------ */

static uint32_t canon(comp *c, uint32_t h) { return c->stack_base + h; }

static sval push(comp *c, uint8_t type)
{
  c->stack = grow(c, c->stack, &c->stack_cap, sizeof *c->stack, c->height + 1);
  if (failed(c))
    return (sval){ 0, 0 };
  sval v = { type, canon(c, c->height) };
  c->stack[c->height++] = v;
  if (c->height > c->max_height)
    c->max_height = c->height;
  return v;
}

static ctrl *top_ctrl(comp *c) { return &c->ctrls[c->nctrl - 1]; }

/* Point the entry just pushed at another slot (a local or a constant). */
static void set_top_slot(comp *c, uint32_t slot)
{
  if (!c->dead && !failed(c) && c->height)
    c->stack[c->height - 1].slot = slot;
}

static sval pop_any(comp *c)
{
  ctrl *f = top_ctrl(c);
  if (c->height == f->height) {
    if (!f->unreachable)
      invalid(c, "type mismatch");
    return (sval){ 0, canon(c, c->height) };
  }
  return c->stack[--c->height];
}

static bool is_ref(uint8_t t) { return t == EW_FUNCREF || t == EW_EXTERNREF; }

static sval pop(comp *c, uint8_t want)
{
  sval v = pop_any(c);
  if (v.type && want && v.type != want)
    invalid(c, "type mismatch");
  return v;
}

/* A copy sized to the type: 32-bit values are written 32 bits wide, and a
 * 64-bit reload of them would defeat store forwarding. */
static void emit_mov(comp *c, uint32_t dst, uint32_t src, uint8_t type)
{
  uint32_t op = type == EW_I32 || type == EW_F32 ? OP_MOV32 : OP_MOV;
  size_t prev = c->last_mov;
  if (prev != NONE && prev + 3 == c->len && c->code[prev] == op && reserve(c, 2)) {
    /* pair with the copy just emitted: one dispatch for both */
    acc_drop(c, prev);
    c->code[prev] = op == OP_MOV32 ? OP_MOV32_X2 : OP_MOV_X2;
    c->code[c->len++] = dst;
    c->code[c->len++] = src;
    forget_ops(c);
    if (op == OP_MOV32)
      c->last_mov = c->last_run = prev;
    return;
  }
  if (op == OP_MOV32 && prev != NONE && reserve(c, 2) &&
      ((prev + 5 == c->len && c->code[prev] == OP_MOV32_X2) ||
       (prev + 7 == c->len && c->code[prev] == OP_MOV32_X3))) {
    /* runs of copies (rotating variables at the end of a loop body): up to
     * four in one dispatch, done in order */
    acc_drop(c, prev);
    c->code[prev] = c->code[prev] == OP_MOV32_X2 ? OP_MOV32_X3 : OP_MOV32_X4;
    c->code[c->len++] = dst;
    c->code[c->len++] = src;
    c->last_op = c->last_dst = c->prev_op = c->prev2_op = NONE;
    c->last_mov = c->code[prev] == OP_MOV32_X3 ? prev : NONE;
    c->last_run = prev;
    return;
  }
  c->last_mov = EMIT(c, op, dst, src);
}

static void materialize(comp *c, uint32_t i)
{
  uint32_t slot = canon(c, i);
  if (c->stack[i].slot != slot) {
    emit_mov(c, slot, c->stack[i].slot, c->stack[i].type);
    c->stack[i].slot = slot;
  }
}

static void materialize_all(comp *c)
{
  for (uint32_t i = 0; i < c->height; i++)
    materialize(c, i);
}

/* Materialize every pending reference to local x; true if any. */
static bool materialize_refs(comp *c, uint32_t x)
{
  bool any = false;
  for (uint32_t i = 0; i < c->height; i++)
    if (c->stack[i].slot == x) {
      materialize(c, i);
      any = true;
    }
  return any;
}

/* ---- control ------------------------------------------------------------ */

static void push_ctrl(comp *c, uint8_t kind, uint32_t np, const uint8_t *params,
                      uint32_t nr, const uint8_t *results)
{
  if (c->nctrl >= MAX_NESTING) {
    ew_fail(c->r, EW_ERR_LIMIT, "blocks nested too deeply");
    return;
  }
  c->ctrls = grow(c, c->ctrls, &c->ctrl_cap, sizeof *c->ctrls, c->nctrl + 1);
  if (failed(c))
    return;
  ctrl *f = &c->ctrls[c->nctrl++];
  *f = (ctrl){ kind, false, c->dead, c->height, np, nr, params, results,
               NONE, NONE, NONE };
}

static uint32_t label_arity(const ctrl *f) { return f->kind == K_LOOP ? f->np : f->nr; }
static const uint8_t *label_types(const ctrl *f)
{
  return f->kind == K_LOOP ? f->params : f->results;
}

static void set_unreachable(comp *c)
{
  ctrl *f = top_ctrl(c);
  c->height = f->height;
  f->unreachable = true;
  c->dead = true;
}

/* Bind all forward branches in chain `head` to the current position. */
static void bind(comp *c, uint32_t head)
{
  forget_ops(c);
  acc_target(c);
  while (head != NONE) {
    uint32_t next = c->code[head];
    c->code[head] = (uint32_t)((int32_t)c->len - (int32_t)head);
    head = next;
  }
}

/* Make the rel word at `site` jump to label `f`.  Branch ops charge fuel
 * themselves on backward jumps, so they skip the loop header's FUEL op;
 * br_table does not and lands on it. */
static void link_label(comp *c, ctrl *f, size_t site, bool charges_fuel)
{
  if (site == NONE)
    return;
  if (f->kind == K_LOOP) {
    uint32_t target = f->loop_pc + (charges_fuel ? 1 : 0);
    c->code[site] = (uint32_t)((int32_t)target - (int32_t)site);
  } else {
    c->code[site] = f->patch;
    f->patch = (uint32_t)site;
  }
}

/* Check that the top of the stack matches label types (without popping). */
static void check_label_values(comp *c, const ctrl *f)
{
  uint32_t n = label_arity(f);
  const uint8_t *t = label_types(f);
  const ctrl *cur = top_ctrl(c);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t depth = n - 1 - i;                 /* from the top */
    if (c->height - cur->height <= depth) {
      if (!cur->unreachable)
        invalid(c, "type mismatch");
      continue;
    }
    uint8_t have = c->stack[c->height - 1 - depth].type;
    if (have && have != t[i])
      invalid(c, "type mismatch");
  }
}

/* Emit moves placing the label's values where the label expects them. */
static void emit_label_moves(comp *c, const ctrl *f)
{
  uint32_t n = label_arity(f);
  if (c->dead || c->height < n)
    return;
  uint32_t first = c->height - n;
  if (f->kind == K_FUNC) {
    /* Results go to slots 0..n-1, which may be locals still referenced by
     * other results: with several results, route references through their
     * own stack slots first.  The compile-time stack is left untouched as
     * this may be a conditional path (br_if, br_table trampoline). */
    for (uint32_t i = 0; i < n; i++) {
      const sval *v = &c->stack[first + i];
      if (n > 1 && v->slot < c->stack_base)
        emit_mov(c, canon(c, first + i), v->slot, v->type);
    }
    for (uint32_t i = 0; i < n; i++) {
      const sval *v = &c->stack[first + i];
      uint32_t from = n > 1 && v->slot < c->stack_base ? canon(c, first + i) : v->slot;
      if (from != i)
        emit_mov(c, i, from, v->type);
    }
    return;
  }
  uint32_t base = canon(c, f->height);
  for (uint32_t i = 0; i < n; i++)
    if (c->stack[first + i].slot != base + i)
      emit_mov(c, base + i, c->stack[first + i].slot, c->stack[first + i].type);
}

static bool needs_moves(comp *c, const ctrl *f)
{
  uint32_t n = label_arity(f);
  if (c->height < n)
    return false;
  uint32_t first = c->height - n;
  uint32_t base = f->kind == K_FUNC ? 0 : canon(c, f->height);
  for (uint32_t i = 0; i < n; i++)
    if (c->stack[first + i].slot != base + i)
      return true;
  return false;
}

/* Unconditional branch to label f (moves already emitted). */
static void emit_jump(comp *c, ctrl *f)
{
  if (f->kind == K_FUNC) {
    EMIT(c, OP_RETURN);
    return;
  }
  size_t mov = c->last_mov;
  if (!c->dead && mov != NONE && mov + 3 == c->len && c->code[mov] == OP_MOV32 && reserve(c, 1)) {
    /* the copy that places a block result, and the jump, in one op */
    acc_drop(c, mov);
    c->code[mov] = OP_MOV32_BR;
    c->code[c->len++] = NONE;
    forget_ops(c);
    link_label(c, f, mov + 3, true);
    return;
  }
  size_t run = c->last_run;
  if (!c->dead && run != NONE && reserve(c, 1) &&
      ((run + 5 == c->len && c->code[run] == OP_MOV32_X2) ||
       (run + 7 == c->len && c->code[run] == OP_MOV32_X3) ||
       (run + 9 == c->len && c->code[run] == OP_MOV32_X4))) {
    /* a run of copies (loop-carried variables rotated at the end of the
     * body) and the back edge, in one op */
    acc_drop(c, run);
    c->code[run] = c->code[run] == OP_MOV32_X2 ? OP_MOV32_X2_BR :
                   c->code[run] == OP_MOV32_X3 ? OP_MOV32_X3_BR : OP_MOV32_X4_BR;
    size_t site = c->len;
    c->code[c->len++] = NONE;
    forget_ops(c);
    link_label(c, f, site, true);
    return;
  }
  size_t at = EMIT(c, OP_BR, NONE);
  link_label(c, f, at == NONE ? NONE : at + 1, true);
}

static ctrl *label(comp *c, uint32_t depth)
{
  if (depth >= c->nctrl) {
    invalid(c, "unknown label");
    return NULL;
  }
  return &c->ctrls[c->nctrl - 1 - depth];
}

/* The inverse of a fused i32 compare, for branching when false. */
static uint32_t fused_for(uint32_t cmp_op, bool when_true)
{
  static const uint8_t inv[10] = { 1, 0, 8, 9, 6, 7, 4, 5, 2, 3 };
  uint32_t k = cmp_op - OP_I32_EQ;
  if (!when_true)
    k = inv[k];
  return OP_BR_EQ32 + k;
}

/* The same compare with its operands swapped (a < b is b > a). */
static uint32_t mirrored(uint32_t br_op)
{
  static const uint8_t mir[10] = { 0, 1, 4, 5, 2, 3, 8, 9, 6, 7 };
  return OP_BR_EQ32 + mir[br_op - OP_BR_EQ32];
}

/* `d = x + y` that adds a constant slot to d itself (`i += 4`): the
 * constant's bits in *k. */
static bool inplace_add_const(const comp *c, uint32_t d, uint32_t x, uint32_t y, uint32_t *k)
{
  uint32_t other = d == x ? y : d == y ? x : NONE;
  if (other == NONE || other < c->nlocals || other >= c->nlocals + c->nconst)
    return false;
  *k = (uint32_t)c->consts[other - c->nlocals];
  return true;
}

/* Loop tails whose adds are all `v += constant` and whose compare reads the
 * last one: the constants become immediates and the adds are done in place
 * (ADDI_BR_* / ADDI3_BR_*), half the operand fetches of ADD(3)_BR_*.
 * `w` holds the two earlier adds (d x y each) when `three`.  Returns the
 * rel word, or NONE with nothing emitted when the shape does not fit. */
static size_t emit_addi_branch(comp *c, uint32_t fused, bool three, const uint32_t *w,
                               uint32_t d, uint32_t x, uint32_t y, uint32_t a, uint32_t b)
{
  uint32_t k, k1 = 0, k2 = 0;
  if (!inplace_add_const(c, d, x, y, &k))
    return NONE;
  if (three && (!inplace_add_const(c, w[0], w[1], w[2], &k1) ||
                !inplace_add_const(c, w[3], w[4], w[5], &k2)))
    return NONE;
  if (b == d && a != d) {
    fused = mirrored(fused);
    b = a;
  } else if (a != d) {
    return NONE;
  }
  size_t at;
  if (three) {
    at = EMIT(c, fused - OP_BR_EQ32 + OP_ADDI3_BR_EQ32, w[0], k1, w[3], k2, d, k, b, NONE);
    return at == NONE ? NONE : at + 8;
  }
  at = EMIT(c, fused - OP_BR_EQ32 + OP_ADDI_BR_EQ32, d, k, b, NONE);
  return at == NONE ? NONE : at + 4;
}

/* Conditional branch on `cond` (already popped) to the rel word returned.
 * Fuses with an immediately preceding i32 compare / eqz producing cond. */
static size_t emit_cond_branch(comp *c, sval cond, bool when_true)
{
  if (c->dead)
    return NONE;
  if (c->last_op != NONE && c->last_dst != NONE && c->code[c->last_dst] == cond.slot &&
      cond.slot >= c->stack_base) {
    uint32_t op = c->code[c->last_op];
    if (op >= OP_I32_EQ && op <= OP_I32_GE_U) {
      uint32_t a = c->code[c->last_op + 2], b = c->code[c->last_op + 3];
      uint32_t fused = fused_for(op, when_true);
      size_t add = c->prev_op;
      cut(c, c->last_op);
      if (add != NONE && add + 4 == c->len && c->code[add] == OP_I32_ADD) {
        /* loop counters: `i = i + k; if (i != n) continue` in one op */
        uint32_t d = c->code[add + 1], x = c->code[add + 2], y = c->code[add + 3];
        size_t x2 = c->prev2_op;
        cut(c, add);
        if (x2 != NONE && x2 + 7 == add && c->code[x2] == OP_ADD32_X2) {
          /* and the two pointer increments before it: a whole loop tail
           * `p += 8; q += 8; i += 4; if (i != n) continue` in one op */
          uint32_t w[6];
          memcpy(w, c->code + x2 + 1, sizeof w);
          cut(c, x2);
          size_t at = emit_addi_branch(c, fused, true, w, d, x, y, a, b);
          if (at != NONE || c->dead || failed(c))
            return at;
          at = EMIT(c, fused - OP_BR_EQ32 + OP_ADD3_BR_EQ32, w[0], w[1], w[2], w[3], w[4],
                    w[5], d, x, y, a, b, NONE);
          return at == NONE ? NONE : at + 12;
        }
        size_t at = emit_addi_branch(c, fused, false, NULL, d, x, y, a, b);
        if (at != NONE || c->dead || failed(c))
          return at;
        at = EMIT(c, fused - OP_BR_EQ32 + OP_ADD_BR_EQ32, d, x, y, a, b, NONE);
        return at == NONE ? NONE : at + 6;
      }
      size_t at = EMIT(c, fused, a, b, NONE);
      return at == NONE ? NONE : at + 3;
    }
    if (op == OP_I32_EQZ) {
      uint32_t a = c->code[c->last_op + 2];
      cut(c, c->last_op);
      size_t at = EMIT(c, when_true ? OP_BR_IFZ : OP_BR_IF, a, NONE);
      return at == NONE ? NONE : at + 2;
    }
  }
  if (c->last_op != NONE && c->last_dst != NONE && c->code[c->last_dst] == cond.slot &&
      c->code[c->last_op] == OP_I32_ADD && c->last_op + 4 == c->len && reserve(c, 1)) {
    /* `br_if (local.tee n (i32.add ...))` count-down loops: keep the add,
     * branch on its result */
    size_t at = c->last_op;
    acc_drop(c, at);
    c->code[at] = when_true ? OP_ADD_BR_IF : OP_ADD_BR_IFZ;
    c->code[c->len++] = NONE;
    forget_ops(c);
    return at + 4;
  }
  size_t at = EMIT(c, when_true ? OP_BR_IF : OP_BR_IFZ, cond.slot, NONE);
  return at == NONE ? NONE : at + 2;
}

/* ---- block types -------------------------------------------------------- */

static void read_blocktype(comp *c, uint32_t *np, const uint8_t **params,
                           uint32_t *nr, const uint8_t **results)
{
  ew_reader *r = c->r;
  *np = *nr = 0;
  *params = *results = NULL;
  if (r->p >= r->end) {
    ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    return;
  }
  uint8_t b = *r->p;
  if (b == 0x40) {
    r->p++;
    return;
  }
  static const uint8_t single[6] = { EW_I32, EW_I64, EW_F32, EW_F64, EW_FUNCREF, EW_EXTERNREF };
  for (int i = 0; i < 6; i++)
    if (b == single[i]) {
      r->p++;
      *nr = 1;
      *results = &single[i];
      return;
    }
  if (b == 0x7b) {
    ew_fail(r, EW_ERR_UNSUPPORTED, "SIMD (v128) is not supported");
    return;
  }
  int64_t idx = ew_read_s33(r);
  if (failed(c))
    return;
  if (idx < 0) {
    ew_fail(r, EW_ERR_MALFORMED, "malformed value type");
    return;
  }
  if ((uint64_t)idx >= c->m->ntypes) {
    invalid(c, "unknown type");
    return;
  }
  const ew_functype *t = &c->m->types[idx];
  *np = t->nparams;
  *params = t->params;
  *nr = t->nresults;
  *results = t->results;
}

/* Check the top n values against types[] and retype them (the polymorphic
 * stack may have produced unknowns), keeping their slots. */
static void retype(comp *c, uint32_t n, const uint8_t *types)
{
  for (uint32_t i = n; i-- > 0;)
    pop(c, types[i]);
  if (failed(c))
    return;
  uint32_t h0 = c->height;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t slot = c->dead ? 0 : c->stack[h0 + i].slot;
    push(c, types[i]);
    set_top_slot(c, slot);
  }
}

/* Enter a block: params are checked and the whole stack materialized (so
 * no pending local reference crosses a block boundary). */
static void enter_block(comp *c, uint8_t kind, uint32_t np, const uint8_t *params,
                        uint32_t nr, const uint8_t *results)
{
  retype(c, np, params);
  if (failed(c))
    return;
  materialize_all(c);
  push_ctrl(c, kind, np, params, nr, results);
  if (!failed(c))
    top_ctrl(c)->height -= np;
}

/* Pop the results of the current block, checking arity exactly. */
static void check_block_end(comp *c)
{
  ctrl *f = top_ctrl(c);
  for (uint32_t i = f->nr; i-- > 0;)
    pop(c, f->results[i]);
  if (!failed(c) && c->height != f->height)
    invalid(c, "type mismatch");
}

/* ---- memory and misc immediates ---------------------------------------- */

static void need_memory(comp *c)
{
  if (c->m->nmems == 0)
    invalid(c, "unknown memory 0");
}

/* The alignment exponent of a memarg: 32 and up (2^a overflows; 64 is the
 * flag bit of multi-memory, out of scope) do not decode at all. */
static bool memop_flags_ok(ew_reader *r, uint32_t align)
{
  if (align < 32)
    return true;
  ew_fail(r, EW_ERR_MALFORMED, "malformed memop flags");
  return false;
}

static uint32_t read_memarg(comp *c, uint32_t natural_log2)
{
  uint32_t align = ew_read_u32(c->r);
  uint32_t offset = ew_read_u32(c->r);
  if (failed(c) || !memop_flags_ok(c->r, align))
    return 0;
  need_memory(c);
  if (align > natural_log2)
    invalid(c, "alignment must not be larger than natural");
  return offset;
}

static void zero_byte(comp *c)
{
  if (ew_read_byte(c->r) != 0 && !failed(c))
    ew_fail(c->r, EW_ERR_MALFORMED, "zero byte expected");
}

static uint32_t table_index(comp *c)
{
  uint32_t t = ew_read_u32(c->r);
  if (!failed(c) && t >= c->m->ntables)
    invalid(c, "unknown table");
  return t;
}

static uint8_t table_type(comp *c, uint32_t t)
{
  return t < c->m->ntables ? c->m->tables[t].elem : 0;
}

static uint32_t elem_index(comp *c)
{
  uint32_t e = ew_read_u32(c->r);
  if (!failed(c) && e >= c->m->nelems)
    invalid(c, "unknown elem segment");
  return e;
}

static uint32_t data_index(comp *c)
{
  uint32_t d = ew_read_u32(c->r);
  if (failed(c))
    return 0;
  if (!c->m->has_datacount)
    ew_fail(c->r, EW_ERR_MALFORMED, "data count section required");
  else if (d >= c->m->datacount)
    invalid(c, "unknown data segment");
  return d;
}

/* ---- numeric signatures ------------------------------------------------- */

/* For wasm opcodes 0x45..0xC4: input type, arity, output type. */
static void numeric_sig(uint8_t op, uint8_t *in, int *nin, uint8_t *out)
{
  *nin = 2;
  if (op == 0x45) { *in = EW_I32; *nin = 1; *out = EW_I32; }
  else if (op <= 0x4f) { *in = EW_I32; *out = EW_I32; }
  else if (op == 0x50) { *in = EW_I64; *nin = 1; *out = EW_I32; }
  else if (op <= 0x5a) { *in = EW_I64; *out = EW_I32; }
  else if (op <= 0x60) { *in = EW_F32; *out = EW_I32; }
  else if (op <= 0x66) { *in = EW_F64; *out = EW_I32; }
  else if (op <= 0x69) { *in = EW_I32; *nin = 1; *out = EW_I32; }
  else if (op <= 0x78) { *in = EW_I32; *out = EW_I32; }
  else if (op <= 0x7b) { *in = EW_I64; *nin = 1; *out = EW_I64; }
  else if (op <= 0x8a) { *in = EW_I64; *out = EW_I64; }
  else if (op <= 0x91) { *in = EW_F32; *nin = 1; *out = EW_F32; }
  else if (op <= 0x98) { *in = EW_F32; *out = EW_F32; }
  else if (op <= 0x9f) { *in = EW_F64; *nin = 1; *out = EW_F64; }
  else if (op <= 0xa6) { *in = EW_F64; *out = EW_F64; }
  else {
    /* conversions: table of (in, out) */
    static const uint8_t conv[][2] = {
      { EW_I64, EW_I32 }, { EW_F32, EW_I32 }, { EW_F32, EW_I32 }, { EW_F64, EW_I32 },
      { EW_F64, EW_I32 }, { EW_I32, EW_I64 }, { EW_I32, EW_I64 }, { EW_F32, EW_I64 },
      { EW_F32, EW_I64 }, { EW_F64, EW_I64 }, { EW_F64, EW_I64 }, { EW_I32, EW_F32 },
      { EW_I32, EW_F32 }, { EW_I64, EW_F32 }, { EW_I64, EW_F32 }, { EW_F64, EW_F32 },
      { EW_I32, EW_F64 }, { EW_I32, EW_F64 }, { EW_I64, EW_F64 }, { EW_I64, EW_F64 },
      { EW_F32, EW_F64 }, { EW_F32, EW_I32 }, { EW_F64, EW_I64 }, { EW_I32, EW_F32 },
      { EW_I64, EW_F64 }, { EW_I32, EW_I32 }, { EW_I32, EW_I32 }, { EW_I64, EW_I64 },
      { EW_I64, EW_I64 }, { EW_I64, EW_I64 },
    };
    *nin = 1;
    *in = conv[op - 0xa7][0];
    *out = conv[op - 0xa7][1];
  }
}

/* Op pairs where the second (commutative) op consumes the first's result:
 * one fused op computes `z OPB (x OPA y)` (or `z OPB load(x + y)`). */
static const uint16_t fused_pairs[][3] = {
  { OP_I32_MUL, OP_I32_ADD, OP_MUL_ADD32 },   { OP_I32_ROTL, OP_I32_XOR, OP_ROTL_XOR32 },
  { OP_I32_SHL, OP_I32_ADD, OP_SHL_ADD32 },   { OP_I32_SHR_U, OP_I32_XOR, OP_SHRU_XOR32 },
  { OP_I64_XOR, OP_I64_MUL, OP_XOR_MUL64 },   /* FNV-style hashing */
  { OP_I32_XOR, OP_I32_ADD, OP_XOR_ADD32 },   { OP_I32_AND, OP_I32_ADD, OP_AND_ADD32 },
  { OP_I32_AND, OP_I32_XOR, OP_AND_XOR32 },   { OP_I32_XOR, OP_I32_AND, OP_XOR_AND32 },
  { OP_I32_ADD, OP_I32_ADD, OP_ADD_ADD32 },   { OP_I32_XOR, OP_I32_XOR, OP_XOR_XOR32 },
  /* a load (words: d addr offset) consumed by the next op */
  { OP_F64_LOAD, OP_F64_ADD, OP_F64_LD_ADD }, { OP_F64_LOAD, OP_F64_MUL, OP_F64_LD_MUL },
  { OP_I32_LOAD, OP_I32_ADD, OP_I32_LD_ADD },
};

static bool fuse_pair(comp *c, uint32_t irop, sval a, sval b, sval d)
{
  size_t at = c->last_op;
  if (c->dead || at == NONE || c->last_dst == NONE || at + 4 != c->len)
    return false;
  uint32_t first = c->code[at], t = c->code[at + 1];
  if (t < c->stack_base || (t != a.slot && t != b.slot))
    return false;
  for (size_t i = 0; i < sizeof fused_pairs / sizeof fused_pairs[0]; i++)
    if (fused_pairs[i][0] == first && fused_pairs[i][1] == irop) {
      uint32_t x = c->code[at + 2], y = c->code[at + 3];
      uint32_t z = t == a.slot ? b.slot : a.slot;
      size_t p = c->prev_op, p2 = c->prev2_op;
      uint32_t fop = fused_pairs[i][2];
      cut(c, at);
      if ((fop == OP_ROTL_XOR32 || fop == OP_SHRU_XOR32) && p != NONE && p + 6 == at &&
          c->code[p] == OP_ROTL2_XOR32 && c->code[p + 1] == z && z >= c->stack_base &&
          x != z && y != z) {
        /* SHA-2's sigma functions: three rotations (or two and a shift)
         * xor-ed together, one op */
        uint32_t w[4];
        memcpy(w, c->code + p + 2, sizeof w);
        cut(c, p);
        EMIT_SIMPLE(c, fop == OP_ROTL_XOR32 ? OP_ROTL3_XOR32 : OP_ROTL2_SHRU_XOR32, d.slot,
                    w[0], w[1], w[2], w[3], x, y);
        c->prev_op = p2;
        c->prev2_op = NONE;
        return true;
      }
      if (fop == OP_MUL_ADD32 && p != NONE && p + 9 == at && x != y && x >= c->stack_base &&
          y >= c->stack_base && z != x && z != y &&
          (c->code[p] == OP_I32_LOAD_ADD_X2 || c->code[p] == OP_I32_LOAD8_S_ADD_X2 ||
           c->code[p] == OP_I32_LOAD8_U_ADD_X2) &&
          ((c->code[p + 1] == x && c->code[p + 5] == y) ||
           (c->code[p + 1] == y && c->code[p + 5] == x)) &&
          c->code[p + 6] != c->code[p + 1] && c->code[p + 7] != c->code[p + 1]) {
        /* `z + load(..) * load(..)` from the two loads just made (both
         * temporaries, the second not addressed through the first): a dot
         * product step in one op */
        uint32_t w[7];
        memcpy(w, c->code + p + 2, 3 * sizeof *w);
        memcpy(w + 3, c->code + p + 6, 3 * sizeof *w);
        uint32_t kind = c->code[p] == OP_I32_LOAD_ADD_X2 ? OP_DOT32 :
                        c->code[p] == OP_I32_LOAD8_S_ADD_X2 ? OP_DOT8S : OP_DOT8U;
        cut(c, p);
        EMIT_SIMPLE(c, kind, d.slot, z, w[0], w[1], w[2], w[3], w[4], w[5]);
        c->prev_op = p2;
        c->prev2_op = NONE;
        return true;
      }
      if (fop == OP_SHL_ADD32 && p != NONE && p + 4 == at && c->code[p] == OP_I32_XOR &&
          c->code[p + 1] == x && x >= c->stack_base && x != y && x != z) {
        /* `z + ((a ^ b) << k)`: the index of a table lookup (CRC, hashing) */
        uint32_t xa = c->code[p + 2], xb = c->code[p + 3];
        cut(c, p);
        EMIT_SIMPLE(c, OP_XOR_SHL_ADD32, d.slot, xa, xb, y, z);
        c->prev_op = p2;
        c->prev2_op = NONE;
        return true;
      }
      if (fused_pairs[i][2] == OP_ROTL_XOR32 && p != NONE && p + 4 == at &&
          c->code[p] == OP_I32_ROTL && c->code[p + 1] == z && z >= c->stack_base &&
          x != z && y != z) {
        /* `rotl(a, k) ^ rotl(b, j)`, the core of ARX hashes: one op */
        uint32_t x0 = c->code[p + 2], y0 = c->code[p + 3];
        cut(c, p);
        EMIT_SIMPLE(c, OP_ROTL2_XOR32, d.slot, x0, y0, x, y);
        return true;
      }
      EMIT_SIMPLE(c, fused_pairs[i][2], d.slot, x, y, z);
      c->prev_op = p;
      c->prev2_op = p2;
      return true;
    }
  return false;
}

static void op_numeric(comp *c, uint8_t op)
{
  uint8_t in, out;
  int nin;
  numeric_sig(op, &in, &nin, &out);
  uint32_t irop = OP_I32_EQZ + (uint32_t)(op - 0x45);
  if (nin == 1) {
    sval a = pop(c, in);
    sval d = push(c, out);
    /* reinterpret and wrap are bit-preserving on little-endian slots */
    if (op == 0xa7 || (op >= 0xbc && op <= 0xbf)) {
      set_top_slot(c, a.slot);
      return;
    }
    EMIT_SIMPLE(c, irop, d.slot, a.slot);
  } else {
    sval b = pop(c, in);
    sval a = pop(c, in);
    sval d = push(c, out);
    if (fuse_pair(c, irop, a, b, d))
      return;
    size_t at = c->last_op;
    if (irop == OP_I32_ADD && !c->dead && at != NONE && c->last_dst == at + 1 &&
        at + 4 == c->len && c->code[at] == OP_I32_ADD && reserve(c, 3)) {
      /* two independent adds in a row (pointer and counter increments):
       * one dispatch; the second's destination can still be retargeted */
      acc_drop(c, at);
      c->code[at] = OP_ADD32_X2;
      c->code[c->len++] = d.slot;
      c->code[c->len++] = a.slot;
      c->code[c->len++] = b.slot;
      c->prev_op = c->prev2_op = NONE;
      c->last_dst = at + 4;
      return;
    }
    EMIT_SIMPLE(c, irop, d.slot, a.slot, b.slot);
  }
}

static void op_sat(comp *c, uint32_t sub)
{
  static const uint8_t sig[8][2] = {
    { EW_F32, EW_I32 }, { EW_F32, EW_I32 }, { EW_F64, EW_I32 }, { EW_F64, EW_I32 },
    { EW_F32, EW_I64 }, { EW_F32, EW_I64 }, { EW_F64, EW_I64 }, { EW_F64, EW_I64 },
  };
  sval a = pop(c, sig[sub][0]);
  sval d = push(c, sig[sub][1]);
  EMIT_SIMPLE(c, OP_I32_TRUNC_SAT_F32_S + sub, d.slot, a.slot);
}

/* ---- calls -------------------------------------------------------------- */

static void call_args(comp *c, const ew_functype *t, uint32_t *base)
{
  for (uint32_t i = t->nparams; i-- > 0;)
    pop(c, t->params[i]);
  *base = canon(c, c->height);
  if (!c->dead && !failed(c))
    for (uint32_t i = 0; i < t->nparams; i++)
      if (c->stack[c->height + i].slot != *base + i)
        emit_mov(c, *base + i, c->stack[c->height + i].slot, c->stack[c->height + i].type);
  /* host calls use the slots above the args for their results */
  uint32_t need = c->height + t->nparams + t->nresults;
  if (need > c->max_height)
    c->max_height = need;
}

static void call_results(comp *c, const ew_functype *t)
{
  for (uint32_t i = 0; i < t->nresults; i++)
    push(c, t->results[i]);
}

/* ---- local.set / local.tee --------------------------------------------- */

static uint8_t local_type(comp *c, uint32_t x)
{
  if (x >= c->nlocals) {
    invalid(c, "unknown local");
    return 0;
  }
  return c->local_types[x];
}

static void op_local_set(comp *c, uint32_t x, bool tee)
{
  uint8_t t = local_type(c, x);
  if (failed(c))
    return;
  sval v = pop(c, t);
  if (c->dead) {
    if (tee)
      push(c, t);
    return;
  }
  size_t last_op = c->last_op, last_dst = c->last_dst;
  bool had_refs = materialize_refs(c, x);
  if (!had_refs && last_dst != NONE && v.slot == canon(c, c->height) &&
      c->code[last_dst] == v.slot) {
    c->code[last_dst] = x;
    if (tee) {
      push(c, t);
      set_top_slot(c, x);
    }
    (void)last_op;
    return;
  }
  if (v.slot != x)
    emit_mov(c, x, v.slot, t);
  if (tee) {
    push(c, t);
    set_top_slot(c, v.slot == canon(c, c->height - 1) ? x : v.slot);
  }
}

/* ---- the main loop ------------------------------------------------------ */

static const char *unsupported_op(uint8_t op)
{
  switch (op) {
  case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18: case 0x19:
  case 0x1f:
    return "exception handling is not supported";
  case 0x12: case 0x13: case 0x15:
    return "tail calls are not supported";
  case 0x14: case 0xd3: case 0xd4: case 0xd5: case 0xd6:
    return "typed function references are not supported";
  case 0xfb: return "GC is not supported";
  case 0xfd: return "SIMD is not supported";
  case 0xfe: return "threads (atomics) are not supported";
  }
  return NULL;
}

/* Constants live in read-only frame slots filled at function entry (up to
 * MAX_CONSTS distinct values per function), so `i32.const` costs nothing at
 * run time; beyond that they are materialized by CONST ops. */
static void op_const(comp *c, uint8_t type, uint64_t bits)
{
  if (failed(c))
    return;
  if (type == EW_I32 || type == EW_F32)
    bits &= 0xffffffffu;
  uint32_t k = 0;
  while (k < c->nconst && c->consts[k] != bits)
    k++;
  if (k < c->const_room) {
    if (k == c->nconst)
      c->consts[c->nconst++] = bits;
    push(c, type);
    set_top_slot(c, c->nlocals + k);
    return;
  }
  sval d = push(c, type);
  if (type == EW_I32 || type == EW_F32)
    EMIT_SIMPLE(c, OP_CONST32, d.slot, (uint32_t)bits);
  else
    EMIT_SIMPLE(c, OP_CONST64, d.slot, (uint32_t)bits, (uint32_t)(bits >> 32));
}

static void op_end(comp *c)
{
  ctrl *f = top_ctrl(c);
  if (f->kind == K_IF) {
    /* no else: params must equal results and pass through */
    if (f->np != f->nr || (f->np && memcmp(f->params, f->results, f->np) != 0)) {
      invalid(c, "type mismatch");
      return;
    }
  }
  if (f->kind == K_FUNC) {
    if (!c->dead && c->height == f->nr) {
      emit_label_moves(c, f);
      EMIT(c, OP_RETURN);
    }
    check_block_end(c);
    c->nctrl--;
    return;
  }
  if (!c->dead) {
    uint32_t first = c->height >= f->nr ? c->height - f->nr : 0;
    for (uint32_t i = first; i < c->height; i++)
      materialize(c, i);
  }
  check_block_end(c);
  if (failed(c))
    return;
  c->dead = f->dead_at_entry;
  if (!c->dead) {
    if (f->else_patch != NONE)
      bind(c, f->else_patch);
    bind(c, f->patch);
  }
  uint32_t nr = f->nr;
  const uint8_t *res = f->results;
  c->height = f->height;
  c->nctrl--;
  for (uint32_t i = 0; i < nr; i++)
    push(c, res[i]);
}

static void op_else(comp *c)
{
  ctrl *f = top_ctrl(c);
  if (f->kind != K_IF) {
    invalid(c, "else without if");
    return;
  }
  if (!c->dead) {
    uint32_t first = c->height >= f->nr ? c->height - f->nr : 0;
    for (uint32_t i = first; i < c->height; i++)
      materialize(c, i);
  }
  check_block_end(c);
  if (failed(c))
    return;
  emit_jump(c, f);          /* then-branch jumps to the end */
  c->dead = f->dead_at_entry;
  if (!c->dead)
    bind(c, f->else_patch);
  f->else_patch = NONE;
  f->kind = K_ELSE;
  f->unreachable = false;
  c->height = f->height;
  for (uint32_t i = 0; i < f->np; i++)
    push(c, f->params[i]);
}

static void op_br_table(comp *c)
{
  ew_reader *r = c->r;
  uint32_t n = ew_read_u32(r);
  if (failed(c))
    return;
  if (n > (size_t)(r->end - r->p)) {
    ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    return;
  }
  sval idx = pop(c, EW_I32);
  if (failed(c))
    return;
  /* the default label decides the arity; all must agree */
  const uint8_t *save = r->p;
  for (uint32_t i = 0; i < n; i++)
    ew_read_u32(r);
  uint32_t def = ew_read_u32(r);
  ctrl *fd = label(c, def);
  if (failed(c))
    return;
  uint32_t arity = label_arity(fd);
  size_t at = NONE;
  if (!c->dead && reserve(c, 3 + (size_t)n + 1)) {
    at = c->len;
    c->code[at] = OP_BR_TABLE;
    c->code[at + 1] = idx.slot;
    c->code[at + 2] = n;
    c->len += 3 + n + 1;
    c->last_op = c->last_dst = NONE;
    acc_target(c);
  }
  r->p = save;
  for (uint32_t i = 0; i <= n && !failed(c); i++) {
    uint32_t depth = ew_read_u32(r);
    ctrl *f = label(c, depth);
    if (failed(c))
      return;
    if (label_arity(f) != arity) {
      invalid(c, "type mismatch");
      return;
    }
    check_label_values(c, f);
    if (at == NONE)
      continue;
    size_t site = at + 3 + i;
    if (needs_moves(c, f)) {
      /* trampoline placed after the table: moves then jump */
      acc_target(c);
      c->code[site] = (uint32_t)((int32_t)c->len - (int32_t)site);
      emit_label_moves(c, f);
      emit_jump(c, f);
    } else if (f->kind == K_FUNC) {
      acc_target(c);
      c->code[site] = (uint32_t)((int32_t)c->len - (int32_t)site);
      emit_jump(c, f);
    } else {
      link_label(c, f, site, false);
    }
  }
  set_unreachable(c);
}

static void op_select(comp *c, bool typed)
{
  uint8_t t = 0;
  if (typed) {
    uint32_t n = ew_read_u32(c->r);
    if (failed(c))
      return;
    if (n != 1) {
      invalid(c, "invalid result arity");
      return;
    }
    uint8_t b = ew_read_byte(c->r);
    switch (b) {
    case EW_I32: case EW_I64: case EW_F32: case EW_F64: case EW_FUNCREF: case EW_EXTERNREF:
      t = b; break;
    default:
      if (!failed(c))
        ew_fail(c->r, b == 0x7b ? EW_ERR_UNSUPPORTED : EW_ERR_MALFORMED,
                b == 0x7b ? "SIMD (v128) is not supported" : "malformed value type");
      return;
    }
  }
  sval cond = pop(c, EW_I32);
  sval b = pop(c, t);
  sval a = pop(c, t);
  if (failed(c))
    return;
  if (!typed) {
    if ((a.type && is_ref(a.type)) || (b.type && is_ref(b.type))) {
      invalid(c, "type mismatch");
      return;
    }
    if (a.type && b.type && a.type != b.type) {
      invalid(c, "type mismatch");
      return;
    }
    t = a.type ? a.type : b.type;
  }
  sval d = push(c, t);
  EMIT_SIMPLE(c, OP_SELECT, d.slot, cond.slot, a.slot, b.slot);
}

static void op_prefixed(comp *c)
{
  uint32_t sub = ew_read_u32(c->r);
  if (failed(c))
    return;
  ew_module *m = c->m;
  if (sub <= 7) {
    op_sat(c, sub);
    return;
  }
  switch (sub) {
  case 8: { /* memory.init */
    uint32_t seg = data_index(c);
    zero_byte(c);
    need_memory(c);
    sval n = pop(c, EW_I32), s = pop(c, EW_I32), d = pop(c, EW_I32);
    EMIT(c, OP_MEMORY_INIT, seg, d.slot, s.slot, n.slot);
    break;
  }
  case 9: { uint32_t seg = data_index(c); EMIT(c, OP_DATA_DROP, seg); break; }
  case 10: { /* memory.copy */
    zero_byte(c); zero_byte(c);
    need_memory(c);
    sval n = pop(c, EW_I32), s = pop(c, EW_I32), d = pop(c, EW_I32);
    EMIT(c, OP_MEMORY_COPY, d.slot, s.slot, n.slot);
    break;
  }
  case 11: { /* memory.fill */
    zero_byte(c);
    need_memory(c);
    sval n = pop(c, EW_I32), v = pop(c, EW_I32), d = pop(c, EW_I32);
    EMIT(c, OP_MEMORY_FILL, d.slot, v.slot, n.slot);
    break;
  }
  case 12: { /* table.init elem table */
    uint32_t seg = elem_index(c);
    uint32_t t = table_index(c);
    if (failed(c)) return;
    if (m->elems[seg].type != table_type(c, t)) { invalid(c, "type mismatch"); return; }
    sval n = pop(c, EW_I32), s = pop(c, EW_I32), d = pop(c, EW_I32);
    EMIT(c, OP_TABLE_INIT, t, seg, d.slot, s.slot, n.slot);
    break;
  }
  case 13: { uint32_t seg = elem_index(c); EMIT(c, OP_ELEM_DROP, seg); break; }
  case 14: { /* table.copy dst src */
    uint32_t td = table_index(c), ts = table_index(c);
    if (failed(c)) return;
    if (table_type(c, td) != table_type(c, ts)) { invalid(c, "type mismatch"); return; }
    sval n = pop(c, EW_I32), s = pop(c, EW_I32), d = pop(c, EW_I32);
    EMIT(c, OP_TABLE_COPY, td, ts, d.slot, s.slot, n.slot);
    break;
  }
  case 15: { /* table.grow */
    uint32_t t = table_index(c);
    if (failed(c)) return;
    sval n = pop(c, EW_I32), v = pop(c, table_type(c, t));
    sval d = push(c, EW_I32);
    EMIT(c, OP_TABLE_GROW, d.slot, t, v.slot, n.slot);
    break;
  }
  case 16: { /* table.size */
    uint32_t t = table_index(c);
    sval d = push(c, EW_I32);
    EMIT(c, OP_TABLE_SIZE, d.slot, t);
    break;
  }
  case 17: { /* table.fill */
    uint32_t t = table_index(c);
    if (failed(c)) return;
    sval n = pop(c, EW_I32), v = pop(c, table_type(c, t)), i = pop(c, EW_I32);
    EMIT(c, OP_TABLE_FILL, t, i.slot, v.slot, n.slot);
    break;
  }
  default:
    ew_fail(c->r, EW_ERR_MALFORMED, "illegal opcode");
  }
}

static void op_load(comp *c, uint8_t op)
{
  static const uint8_t nat[14] = { 2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2 };
  static const uint8_t type[14] = { EW_I32, EW_I64, EW_F32, EW_F64, EW_I32, EW_I32, EW_I32,
                                    EW_I32, EW_I64, EW_I64, EW_I64, EW_I64, EW_I64, EW_I64 };
  uint32_t k = op - 0x28;
  uint32_t off = read_memarg(c, nat[k]);
  sval a = pop(c, EW_I32);
  sval d = push(c, type[k]);
  if (!c->dead && c->last_dst != NONE && c->code[c->last_op] == OP_I32_ADD &&
      c->code[c->last_dst] == a.slot && a.slot >= c->stack_base) {
    uint32_t x = c->code[c->last_op + 2], y = c->code[c->last_op + 3];
    size_t p = c->prev_op;
    cut(c, c->last_op);
    uint32_t x2 = k == 0 ? OP_I32_LOAD_ADD_X2 : k == 4 ? OP_I32_LOAD8_S_ADD_X2 :
                  k == 5 ? OP_I32_LOAD8_U_ADD_X2 : 0;
    if (x2 && p != NONE && p + 5 == c->len && c->code[p] == OP_I32_LOAD_ADD + k &&
        reserve(c, 4)) {
      /* two indexed loads of the same kind in a row (both operands of a
       * product, unrolled loops): one dispatch, done in order */
      acc_drop(c, p);
      c->code[p] = x2;
      size_t at = c->len;
      c->code[c->len++] = d.slot;
      c->code[c->len++] = x;
      c->code[c->len++] = y;
      c->code[c->len++] = off;
      c->last_op = p;
      c->last_dst = at;
      c->prev_op = c->prev2_op = NONE;
      return;
    }
    EMIT_SIMPLE(c, OP_I32_LOAD_ADD + k, d.slot, x, y, off);
    c->prev_op = p;
    c->prev2_op = NONE;
    return;
  }
  if (!c->dead && (k == 0 || k == 3) && c->last_op != NONE && c->last_dst == c->last_op + 1 &&
      c->last_op + 5 == c->len && c->code[c->last_op] == OP_SHL_ADD32 &&
      c->code[c->last_dst] == a.slot && a.slot >= c->stack_base) {
    /* `load(base + (i << k))`, a scaled array index: one op */
    uint32_t x = c->code[c->last_op + 2], y = c->code[c->last_op + 3], z = c->code[c->last_op + 4];
    cut(c, c->last_op);
    EMIT_SIMPLE(c, k == 0 ? OP_I32_LOAD_SHL : OP_F64_LOAD_SHL, d.slot, x, y, z, off);
    return;
  }
  if (!c->dead && k == 0 && c->last_op != NONE && c->last_dst == c->last_op + 1 &&
      c->last_op + 5 == c->len && c->code[c->last_op] == OP_SHL_ADD32 &&
      c->code[c->last_dst] == a.slot && a.slot < c->stack_base) {
    /* `p = base + (i << k); load(p)` with p a local kept for a later store
     * through it (swaps in sorting): the address, the local and the load in
     * one op */
    uint32_t x = c->code[c->last_op + 2], y = c->code[c->last_op + 3], z = c->code[c->last_op + 4];
    size_t p = c->prev_op;
    cut(c, c->last_op);
    EMIT_SIMPLE(c, OP_I32_LOAD_SHLT, d.slot, x, y, z, off, a.slot);
    c->prev_op = p;
    c->prev2_op = NONE;
    return;
  }
  if (!c->dead && k == 0 && c->last_op != NONE && c->last_dst == c->last_op + 1 &&
      c->last_op + 6 == c->len && c->code[c->last_op] == OP_XOR_SHL_ADD32 &&
      c->code[c->last_dst] == a.slot && a.slot >= c->stack_base) {
    /* `load(base + ((a ^ b) << k))`: a table lookup (CRC) in one op */
    uint32_t w[4];
    memcpy(w, c->code + c->last_op + 2, sizeof w);
    cut(c, c->last_op);
    EMIT_SIMPLE(c, OP_XOR_LOAD_SHL, d.slot, w[0], w[1], w[2], w[3], off);
    return;
  }
  if (!c->dead && (k == 0 || k == 3) && c->last_op != NONE && c->last_dst == c->last_op + 1 &&
      c->last_op + 4 == c->len && c->code[c->last_op] == OP_I32_ADD &&
      c->code[c->last_dst] == a.slot && a.slot < c->stack_base && reserve(c, 2)) {
    /* `p = x + y; load(p)` with p a local kept for later (a store back
     * through the same pointer): the add and the load in one op */
    uint32_t x = c->code[c->last_op + 2], y = c->code[c->last_op + 3];
    size_t p = c->prev_op;
    cut(c, c->last_op);
    EMIT_SIMPLE(c, k == 0 ? OP_I32_LOAD_ADDT : OP_F64_LOAD_ADDT, d.slot, x, y, off, a.slot);
    c->prev_op = p;
    c->prev2_op = NONE;
    return;
  }
  EMIT_SIMPLE(c, OP_I32_LOAD + k, d.slot, a.slot, off);
}

static void op_store(comp *c, uint8_t op)
{
  static const uint8_t nat[9] = { 2, 3, 2, 3, 0, 1, 0, 1, 2 };
  static const uint8_t type[9] = { EW_I32, EW_I64, EW_F32, EW_F64, EW_I32, EW_I32,
                                   EW_I64, EW_I64, EW_I64 };
  uint32_t k = op - 0x36;
  uint32_t off = read_memarg(c, nat[k]);
  sval v = pop(c, type[k]);
  sval a = pop(c, EW_I32);
  size_t at = c->last_op;
  if (!c->dead && at != NONE && c->last_dst != NONE && at + 5 == c->len &&
      v.slot >= c->stack_base && a.slot != v.slot && c->code[at + 1] == v.slot &&
      c->code[at + 2] == a.slot && c->code[at + 3] == off &&
      ((k == 3 && c->code[at] == OP_F64_LD_ADD) || (k == 0 && c->code[at] == OP_I32_LD_ADD))) {
    /* `mem[a] = mem[a] + z` (the load-add just emitted reads the same
     * address): one read-modify-write op, one bounds check */
    uint32_t z = c->code[at + 4];
    size_t p = c->prev_op;
    cut(c, at);
    if (k == 3 && p != NONE && p + 5 == at && c->code[p] == OP_F64_LD_MUL &&
        c->code[p + 1] == z && z >= c->stack_base && z != a.slot) {
      /* `mem[a] += y * mem[b]` (axpy): the load-multiply folds in too */
      uint32_t b = c->code[p + 2], boff = c->code[p + 3], y = c->code[p + 4];
      cut(c, p);
      EMIT(c, OP_F64_MULADD_MEM, a.slot, off, b, boff, y);
      forget_ops(c);
      return;
    }
    EMIT(c, k == 3 ? OP_F64_ADD_MEM : OP_I32_ADD_MEM, a.slot, off, z);
    forget_ops(c);
    return;
  }
  if (!c->dead && k == 0 && at != NONE && c->last_dst == at + 1 && at + 5 == c->len &&
      c->code[at] == OP_MUL_ADD32 && c->code[at + 1] == v.slot && v.slot >= c->stack_base &&
      a.slot != v.slot) {
    /* `mem[a] = z + x * y` (multiply-accumulate stored to memory): one op */
    uint32_t x = c->code[at + 2], y = c->code[at + 3], z = c->code[at + 4];
    size_t p = c->prev_op, p2 = c->prev2_op;
    cut(c, at);
    if (p != NONE && p + 5 == at && c->code[p] == OP_I32_LOAD_ADD && p2 != NONE &&
        p2 + 6 == p && c->code[p2] == OP_I32_LOAD_ADDT && c->code[p2 + 1] == z &&
        c->code[p2 + 5] == a.slot && c->code[p2 + 4] == off && z >= c->stack_base &&
        c->code[p + 1] >= c->stack_base && c->code[p + 1] != z &&
        (c->code[p + 1] == x || c->code[p + 1] == y) && x != y && x != z && y != z &&
        c->code[p + 2] != z && c->code[p + 3] != z) {
      /* `s = u + i; mem[s] += mem[v + i] * k` (an integer axpy through
       * indexed pointers): the two loads and the store in one op */
      uint32_t k = c->code[p + 1] == x ? y : x;
      uint32_t su = c->code[p2 + 2], sv = c->code[p2 + 3];
      uint32_t x2 = c->code[p + 2], y2 = c->code[p + 3], off2 = c->code[p + 4];
      cut(c, p2);
      EMIT(c, OP_I32_MULADD_MEM, a.slot, su, sv, off, x2, y2, off2, k);
      forget_ops(c);
      return;
    }
    EMIT(c, OP_MUL_ADD_STORE32, a.slot, off, x, y, z);
    forget_ops(c);
    return;
  }
  EMIT(c, OP_I32_STORE + k, a.slot, v.slot, off);
}

static void op_call(comp *c, bool indirect)
{
  ew_module *m = c->m;
  if (!indirect) {
    uint32_t f = ew_read_u32(c->r);
    if (failed(c)) return;
    if (f >= m->nfuncs) { invalid(c, "unknown function"); return; }
    const ew_functype *t = &m->types[m->func_type[f]];
    uint32_t base;
    call_args(c, t, &base);
    EMIT(c, OP_CALL, f, base);
    call_results(c, t);
    return;
  }
  uint32_t ti = ew_read_u32(c->r);
  uint32_t tab = ew_read_u32(c->r);
  if (failed(c)) return;
  if (ti >= m->ntypes) { invalid(c, "unknown type"); return; }
  if (tab >= m->ntables) { invalid(c, "unknown table"); return; }
  if (m->tables[tab].elem != EW_FUNCREF) { invalid(c, "type mismatch"); return; }
  sval idx = pop(c, EW_I32);
  const ew_functype *t = &m->types[ti];
  uint32_t base;
  /* the index may sit where arg moves would write: copy it above first */
  uint32_t idx_slot = idx.slot;
  call_args(c, t, &base);
  if (!c->dead && idx_slot >= base && idx_slot < base + t->nparams) {
    /* cannot happen: idx is above the args */
  }
  EMIT(c, OP_CALL_INDIRECT, ti, tab, base, idx_slot);
  call_results(c, t);
}

static void op_global(comp *c, bool set)
{
  ew_module *m = c->m;
  uint32_t g = ew_read_u32(c->r);
  if (failed(c)) return;
  if (g >= m->nglobals) { invalid(c, "unknown global"); return; }
  uint8_t t = m->globals[g].type;
  if (set) {
    if (!m->globals[g].mut) { invalid(c, "global is immutable"); return; }
    sval v = pop(c, t);
    EMIT(c, OP_GLOBAL_SET, g, v.slot);
  } else {
    sval d = push(c, t);
    EMIT_SIMPLE(c, OP_GLOBAL_GET, d.slot, g);
  }
}

static void op_br(comp *c, bool conditional)
{
  uint32_t depth = ew_read_u32(c->r);
  if (failed(c)) return;
  ctrl *f = label(c, depth);
  if (!f) return;
  if (!conditional) {
    check_label_values(c, f);
    if (failed(c)) return;
    emit_label_moves(c, f);
    emit_jump(c, f);
    set_unreachable(c);
    return;
  }
  sval cond = pop(c, EW_I32);
  if (failed(c)) return;
  /* the values stay on the stack (same slots), retyped as the label's */
  retype(c, label_arity(f), label_types(f));
  if (c->dead)
    return;
  if (f->kind == K_FUNC || needs_moves(c, f)) {
    size_t skip = emit_cond_branch(c, cond, false);
    emit_label_moves(c, f);
    emit_jump(c, f);
    if (skip != NONE)
      c->code[skip] = (uint32_t)((int32_t)c->len - (int32_t)skip);
    c->last_op = c->last_dst = NONE;
    acc_target(c);
  } else {
    link_label(c, f, emit_cond_branch(c, cond, true), true);
  }
}

static void body(comp *c)
{
  ew_reader *r = c->r;
  ew_module *m = c->m;
  while (!failed(c)) {
    if (c->nctrl == 0) {
      if (r->p != r->end)
        ew_fail(r, EW_ERR_MALFORMED, "section size mismatch");
      return;
    }
    if (r->p >= r->end) {
      ew_fail(r, EW_ERR_MALFORMED, "unexpected end of section or function");
      return;
    }
    c->op_start = r->p;
    uint8_t op = *r->p++;
    switch (op) {
    case 0x00: EMIT(c, OP_UNREACHABLE); set_unreachable(c); break;
    case 0x01: break;
    case 0x02: case 0x03: {
      uint32_t np, nr;
      const uint8_t *pt, *rt;
      read_blocktype(c, &np, &pt, &nr, &rt);
      if (failed(c)) return;
      enter_block(c, op == 0x02 ? K_BLOCK : K_LOOP, np, pt, nr, rt);
      if (op == 0x03 && !failed(c)) {
        acc_target(c);
        top_ctrl(c)->loop_pc = (uint32_t)c->len;
        EMIT(c, OP_FUEL);
      }
      break;
    }
    case 0x04: {
      uint32_t np, nr;
      const uint8_t *pt, *rt;
      read_blocktype(c, &np, &pt, &nr, &rt);
      sval cond = pop(c, EW_I32);
      retype(c, np, pt);
      if (failed(c)) return;
      materialize_all(c);
      size_t site = emit_cond_branch(c, cond, false);
      push_ctrl(c, K_IF, np, pt, nr, rt);
      if (failed(c)) return;
      top_ctrl(c)->height -= np;
      top_ctrl(c)->else_patch = site == NONE ? NONE : (uint32_t)site;
      if (site != NONE)
        c->code[site] = NONE;
      break;
    }
    case 0x05: op_else(c); break;
    case 0x0b: op_end(c); break;
    case 0x0c: op_br(c, false); break;
    case 0x0d: op_br(c, true); break;
    case 0x0e: op_br_table(c); break;
    case 0x0f: {
      ctrl *f = &c->ctrls[0];
      check_label_values(c, f);
      if (failed(c)) return;
      emit_label_moves(c, f);
      EMIT(c, OP_RETURN);
      set_unreachable(c);
      break;
    }
    case 0x10: op_call(c, false); break;
    case 0x11: op_call(c, true); break;
    case 0x1a: pop_any(c); break;
    case 0x1b: op_select(c, false); break;
    case 0x1c: op_select(c, true); break;
    case 0x20: {
      uint32_t x = ew_read_u32(r);
      uint8_t t = local_type(c, x);
      if (failed(c)) return;
      push(c, t);
      set_top_slot(c, x);
      break;
    }
    case 0x21: case 0x22: {
      uint32_t x = ew_read_u32(r);
      if (failed(c)) return;
      op_local_set(c, x, op == 0x22);
      break;
    }
    case 0x23: op_global(c, false); break;
    case 0x24: op_global(c, true); break;
    case 0x25: { /* table.get */
      uint32_t t = table_index(c);
      sval i = pop(c, EW_I32);
      sval d = push(c, table_type(c, t));
      EMIT(c, OP_TABLE_GET, d.slot, t, i.slot);
      break;
    }
    case 0x26: { /* table.set */
      uint32_t t = table_index(c);
      if (failed(c)) return;
      sval v = pop(c, table_type(c, t));
      sval i = pop(c, EW_I32);
      EMIT(c, OP_TABLE_SET, t, i.slot, v.slot);
      break;
    }
    case 0x3f: {
      zero_byte(c);
      need_memory(c);
      sval d = push(c, EW_I32);
      EMIT(c, OP_MEMORY_SIZE, d.slot);
      break;
    }
    case 0x40: {
      zero_byte(c);
      need_memory(c);
      sval a = pop(c, EW_I32);
      sval d = push(c, EW_I32);
      EMIT(c, OP_MEMORY_GROW, d.slot, a.slot);
      break;
    }
    case 0x41: { int32_t v = ew_read_s32(r); op_const(c, EW_I32, (uint32_t)v); break; }
    case 0x42: { int64_t v = ew_read_s64(r); op_const(c, EW_I64, (uint64_t)v); break; }
    case 0x43: {
      if (r->end - r->p < 4) { ew_fail(r, EW_ERR_MALFORMED, "unexpected end"); return; }
      uint32_t v; memcpy(&v, r->p, 4); r->p += 4;
      op_const(c, EW_F32, v);
      break;
    }
    case 0x44: {
      if (r->end - r->p < 8) { ew_fail(r, EW_ERR_MALFORMED, "unexpected end"); return; }
      uint64_t v; memcpy(&v, r->p, 8); r->p += 8;
      op_const(c, EW_F64, v);
      break;
    }
    case 0xd0: {
      uint8_t t = ew_read_byte(r);
      if (failed(c)) return;
      if (t != EW_FUNCREF && t != EW_EXTERNREF) {
        r->p--;
        ew_fail(r, EW_ERR_MALFORMED, "malformed reference type");
        return;
      }
      op_const(c, t, 0);
      break;
    }
    case 0xd1: {
      sval a = pop_any(c);
      if (a.type && !is_ref(a.type)) { invalid(c, "type mismatch"); return; }
      sval d = push(c, EW_I32);
      EMIT_SIMPLE(c, OP_REF_IS_NULL, d.slot, a.slot);
      break;
    }
    case 0xd2: {
      uint32_t f = ew_read_u32(r);
      if (failed(c)) return;
      if (f >= m->nfuncs) { invalid(c, "unknown function"); return; }
      if (!(m->declared[f >> 3] & (1u << (f & 7)))) {
        invalid(c, "undeclared function reference");
        return;
      }
      sval d = push(c, EW_FUNCREF);
      EMIT(c, OP_REF_FUNC, d.slot, f);
      break;
    }
    case 0xfc: op_prefixed(c); break;
    default:
      if (op >= 0x28 && op <= 0x35) { op_load(c, op); break; }
      if (op >= 0x36 && op <= 0x3e) { op_store(c, op); break; }
      if (op >= 0x45 && op <= 0xc4) { op_numeric(c, op); break; }
      r->p--;
      {
        const char *why = unsupported_op(op);
        ew_fail(r, why ? EW_ERR_UNSUPPORTED : EW_ERR_MALFORMED, why ? why : "illegal opcode");
      }
      return;
    }
  }
}

static int read_locals(comp *c, const ew_functype *t)
{
  ew_reader *r = c->r;
  uint32_t ngroups = ew_read_u32(r);
  if (failed(c))
    return -1;
  if (ngroups > (size_t)(r->end - r->p)) {
    ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    return -1;
  }
  /* first pass: total count */
  const uint8_t *save = r->p;
  uint64_t total = t->nparams;
  for (uint32_t i = 0; i < ngroups && !failed(c); i++) {
    total += ew_read_u32(r);
    ew_read_byte(r);
  }
  if (failed(c))
    return -1;
  if (total > UINT32_MAX) {
    ew_fail(r, EW_ERR_MALFORMED, "too many locals");
    return -1;
  }
  if (total > MAX_LOCALS) {
    ew_fail(r, EW_ERR_LIMIT, "too many locals (limit 50000)");
    return -1;
  }
  c->local_types = c->a->alloc(c->a->ctx, total + 1);
  if (!c->local_types) {
    ew_fail(r, EW_ERR_NOMEM, "out of memory");
    return -1;
  }
  memcpy(c->local_types, t->params, t->nparams);
  uint32_t at = t->nparams;
  r->p = save;
  for (uint32_t i = 0; i < ngroups && !failed(c); i++) {
    uint32_t n = ew_read_u32(r);
    uint8_t ty = ew_read_byte(r);
    switch (ty) {
    case EW_I32: case EW_I64: case EW_F32: case EW_F64: case EW_FUNCREF: case EW_EXTERNREF:
      break;
    default:
      r->p--;
      ew_fail(r, ty == 0x7b ? EW_ERR_UNSUPPORTED : EW_ERR_MALFORMED,
              ty == 0x7b ? "SIMD (v128) is not supported" : "malformed value type");
      return -1;
    }
    memset(c->local_types + at, ty, n);
    at += n;
  }
  c->nlocals = (uint32_t)total;
  c->nparams = t->nparams;
  return 0;
}

/* ---- malformed before invalid ------------------------------------------
 * The spec decodes a whole body before validating it, so a body that is
 * invalid somewhere and does not decode further on is malformed.  Validation
 * here is one pass with decoding: when it fails, the rest of the body is
 * decoded without validation (immediates and nesting only) from the
 * offending instruction, and a malformation found there is what gets
 * reported.  A byte of an out-of-scope proposal ends the scan (the invalid
 * error stands). */

/* Skip the immediates of one instruction (its opcode read), tracking the
 * nesting in *depth; false when the scan cannot tell (out of scope). */
static bool skip_immediates(ew_reader *r, uint8_t op, uint32_t *depth)
{
  switch (op) {
  case 0x02: case 0x03: case 0x04: ew_read_s33(r); ++*depth; return true;
  case 0x0b: --*depth; return true;
  case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23:
  case 0x24: case 0x25: case 0x26: case 0xd2:
    ew_read_u32(r); return true;
  case 0x11: ew_read_u32(r); ew_read_u32(r); return true;
  case 0x0e: case 0x1c: {
    uint32_t n = ew_read_u32(r);
    for (uint32_t i = 0; i < n + (op == 0x0e) && !r->failed; i++)
      op == 0x0e ? (void)ew_read_u32(r) : (void)ew_read_byte(r);
    return true;
  }
  case 0x41: ew_read_s32(r); return true;
  case 0x42: ew_read_s64(r); return true;
  case 0x43: case 0x44:
    if (r->end - r->p < (op == 0x43 ? 4 : 8))
      ew_fail(r, EW_ERR_MALFORMED, "unexpected end");
    else
      r->p += op == 0x43 ? 4 : 8;
    return true;
  case 0x3f: case 0x40: case 0xd0: ew_read_byte(r); return true;
  case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1: return true;
  case 0xfc: {
    uint32_t sub = ew_read_u32(r);
    if (sub <= 7)
      return true;
    if (sub > 17)
      return false;
    uint32_t n = sub == 9 || sub == 11 || sub == 13 || sub >= 15 ? 1 : 2;
    for (uint32_t i = 0; i < n; i++)
      ew_read_u32(r);
    return true;
  }
  }
  if (op >= 0x28 && op <= 0x3e) {   /* memarg */
    uint32_t align = ew_read_u32(r);
    ew_read_u32(r);
    return r->failed || memop_flags_ok(r, align);
  }
  if (op >= 0x45 && op <= 0xc4)
    return true;
  if (!unsupported_op(op))
    ew_fail(r, EW_ERR_MALFORMED, "illegal opcode");
  return false;
}

/* After an invalid error in the body at `at` with `depth` open blocks:
 * report a malformation further on instead. */
static void malformed_after(const ew_reader *r, const uint8_t *at, uint32_t depth)
{
  ew_error e;
  ew_reader s = { r->base, at, r->end, &e, r->func, false };
  bool known = true;
  while (depth && known && !s.failed) {
    if (s.p >= s.end) {
      ew_fail(&s, EW_ERR_MALFORMED, "unexpected end of section or function");
      break;
    }
    uint8_t op = *s.p++;
    known = skip_immediates(&s, op, &depth);
  }
  if (!s.failed && known && s.p != s.end)
    ew_fail(&s, EW_ERR_MALFORMED, "section size mismatch");
  if (s.failed && e.kind == EW_ERR_MALFORMED)
    *r->err = e;
}

int ew_compile_function(ew_module *m, uint32_t fi, ew_reader *r,
                        uint32_t **scratch, size_t *scratch_cap)
{
  comp c;
  memset(&c, 0, sizeof c);
  c.m = m;
  c.r = r;
  c.a = &m->alloc;
  c.code = *scratch;
  c.cap = *scratch_cap;
  forget_ops(&c);
  const ew_functype *t = &m->types[m->func_type[m->nfunc_imports + fi]];
  if (read_locals(&c, t) == 0) {
    /* upper bound of const instructions: bytes that could be their opcode */
    uint32_t candidates = 0;
    for (const uint8_t *p = r->p; p < r->end && candidates < MAX_CONSTS; p++)
      candidates += *p >= 0x41 && *p <= 0x44;
    const uint8_t *start = r->p;
    for (;;) {
      c.const_room = candidates;
      c.stack_base = c.nlocals + candidates;
      push_ctrl(&c, K_FUNC, 0, NULL, t->nresults, t->results);
      body(&c);
      /* Far fewer distinct constants than reserved slots: compile again
       * with the exact count so deep recursion does not pay for them. */
      if (failed(&c) || c.nconst + 8 >= candidates)
        break;
      candidates = c.nconst;
      r->p = start;
      c.len = 0;
      c.height = c.max_height = c.nctrl = c.nconst = 0;
      c.dead = false;
      c.op_start = NULL;
      forget_ops(&c);
#if EW_ACC
      c.acc_npairs = 0;
      acc_target(&c);
#endif
    }
  }
  if (failed(&c) && r->err->kind == EW_ERR_INVALID && c.op_start && c.nctrl)
    malformed_after(r, r->base + r->err->offset, c.nctrl);
  int rc = -1;
#if EW_ACC
  if (!failed(&c))
    acc_finish(&c);
  m->alloc.free(m->alloc.ctx, c.acc_pairs);
#endif
  if (!failed(&c)) {
    ew_code *code = &m->code[fi];
    code->words = ew_arena_alloc(&m->arena, c.len * sizeof(uint32_t));
    if (!code->words) {
      ew_fail(r, EW_ERR_NOMEM, "out of memory");
    } else {
      memcpy(code->words, c.code, c.len * sizeof(uint32_t));
      code->nwords = (uint32_t)c.len;
      code->nparams = t->nparams;
      code->nresults = t->nresults;
      code->nlocals = c.nlocals;
      code->max_slots = c.stack_base + c.max_height + 1;
      code->nconsts = c.nconst;
      code->consts = ew_arena_alloc(&m->arena, c.nconst * sizeof(uint64_t));
      if (code->consts)
        memcpy(code->consts, c.consts, c.nconst * sizeof(uint64_t));
      rc = 0;
    }
  }
  *scratch = c.code;
  *scratch_cap = c.cap;
  m->alloc.free(m->alloc.ctx, c.stack);
  m->alloc.free(m->alloc.ctx, c.ctrls);
  m->alloc.free(m->alloc.ctx, c.local_types);
  return rc;
}
