/*
** compile.c -- translates validated function bodies into the register-
** style threaded code of interp.h, once per module (shared by all its
** instances).
**
** The Wasm operand stack is mapped onto frame slots: a value at stack
** height h lives in slot nl + h (nl = params + locals), so every
** instruction's operands are known slot indices.  The translator keeps a
** compile-time stack whose entries are lazy where that saves a copy:
**   STK    the value is in its canonical slot nl + h;
**   LOC n  the value is local n (local.get emits nothing);
**   CONST  an immediate (i32.const etc. emit nothing; consumers with an
**          immediate form use it, others materialize it into its slot);
**   ADDI n, k  local n + k (i32.add of a local and a constant): a load or
**          store takes it as its a + imm address even when the value to
**          store was computed in between; anything else materializes it
**          first (an i32_add_si), which gives the code the eager add gave.
**   ADDS n, m, k  local n + local m + k: an i32.add of two locals whose
**          sum goes straight to a local.set/tee or a load (other sums stay
**          eager: fusions with the instructions around them look at the
**          last one emitted), extended by later adds of constants; loads
**          and stores take it as an a + b (+ k) address, an f64 store of
**          x * mem[a2 + b2 + k2] + mem[its own address] as one axpy
**          (matmul); anything else materializes it (i32_add_ss or an
**          add-add chain).
** Lazy entries are materialized (copied to their slot) before anything
** that could change them (local.set/tee of that local) and at every block
** entry, so that all paths into a label agree on where values are.
**
** Peepholes: a local.set/tee right after an instruction that computed the
** value retargets that instruction's destination to the local; a br_if/if
** right after a compare/eqz rewrites the compare into a fused compare-and-
** branch.  Superinstructions are made the same way: when an instruction
** consumes a stack temporary that the instruction just before computed
** (and no label was bound in between), the two are rewritten in place into
** one (loads/stores with a+b, a+imm, (x<<k)+imm, a+(b<<k) or constant
** addresses, arithmetic with a memory operand or stored to memory, mul-add
** pairs, add + backward compare-branch loop tails, copies + jumps, ...).
** The temporary is then never written, which is safe because only the
** consumer could read it.  A few merge independent neighbours instead,
** keeping their order (an add into a local, then a load at (x << k) +
** imm: an interpreter's "ins = code[pc]; pc + 1").
**
** Liveness: before translating a body, a backward liveness analysis over
** its locals (lv_analyze: basic blocks over the structured control flow,
** bitsets iterated to a fixpoint) says which locals a call must zero (only
** those read before written; wfunc.zero_from/nzero), which local.set/tee
** values nobody reads (not written at all), and which values are read
** only as load addresses (or plus a constant) before their basic block
** ends.  A local.set/tee of such a local + imm (or local + local + imm)
** value binds the local instead of writing it: its reads become ADDI
** (ADDS) entries too, so the loads and the store take the address as
** a + imm (with read-modify-write and axpy forms at a + imm) or a + b + k,
** and nothing remains of the add.  Writing a base local first writes the
** bound local's value (flush_slot); bindings end with the block.
**
** Narrow locals: a local.set/tee that takes the result of a zero-extending
** 8/16-bit load marks the local narrow until it is written again or a
** label is bound; an i32/i64.and of it with a mask keeping all those bits
** is then the local itself and emits nothing.
**
** Constants used inside loops that need a slot get one of their own
** (between the locals and the stack), set by a prologue at function entry:
** a first translation pass collects them, a second uses them.
**
** Fuel: backward branches (to a loop label) use handlers that charge one
** unit; br_table reaches loops through trampolines that do.
**
** Calls: the arguments are the top slots of the caller's frame, and the
** callee's frame starts at the first argument, so params need no copying
** and results land where the caller expects them.  The callee's locals
** that may be read before being written (by liveness, plus those whose
** zero stores were elided) are zeroed by the call; direct calls
** of a callee zeroing none or one get their own handlers (call0, call1),
** picked once the whole module is translated.
*/
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "interp.h"
#include "rt.h"

enum { CE_STK, CE_LOC, CE_CONST, CE_ADDI, CE_ADDS };
typedef struct centry {
  uint8_t kind;
  uint32_t idx;              /* LOC, ADDI, ADDS: local index */
  uint32_t idx2;             /* ADDS: the second local */
  uint64_t imm;              /* CONST: value bits (i32/f32 zero-extended);
                                ADDI, ADDS: the i32 added to the local(s) */
} centry;

enum { CT_FUNC, CT_BLOCK, CT_LOOP, CT_IF, CT_ELSE };
typedef struct cctl {
  uint8_t kind;
  bool dead;                 /* rest of this block is unreachable */
  bool skip;                 /* the whole block is inside dead code */
  uint32_t height;           /* stack height below the block's params */
  uint32_t nparams, nresults;
  uint32_t label;            /* loop: code index of its head */
  uint32_t fix;              /* forward branches to patch at end (list) */
  uint32_t else_fix;         /* if: cell of the branch to else/end */
} cctl;

#define NONE UINT32_MAX

typedef struct cc {
  const wasm_module *m;
  wcompiled *comp;
  const void *const *H;
  const uint8_t *p, *end, *body;
  uint32_t body_off;         /* module offset of body */
  uint32_t op_off;           /* module offset of the current instruction */
  bool bad;                  /* truncated body or out of memory */
  wcell *code;
  uint32_t ncode, capcode;
  centry *st;
  uint32_t nst, capst, max_h;
  cctl *ctl;
  uint32_t nctl, capctl;
  uint32_t *fix;             /* pairs: cell index, next */
  uint32_t nfix, capfix;
  uint32_t *tg;              /* cells holding a code index to turn into a pointer */
  uint32_t ntg, captg;
  /* Loops where a tier-up may enter native code (on-stack replacement,
  ** tier.c): pairs of the loop's module offset and its label's code
  ** index, for loops entered with an empty operand stack. */
  uint32_t *loops;
  uint32_t nloops, caploops;
  uint32_t *offmap;          /* pairs: code index, module offset */
  uint32_t noff, capoff;
  uint32_t nl;
  uint32_t nparams, nresults;
  /* Locals still holding their initial zero: true for a local not yet
  ** written in code order, as long as no loop was entered (before the
  ** first loop every path runs forward through the code in order). */
  uint8_t *zero;
  uint32_t capzero;
  bool seen_loop;
  /* Constants used inside loops get a slot of their own, between the
  ** locals and the operand stack, set once by a prologue: a first pass
  ** collects them (kcollect), the second uses them (kuse). */
  uint64_t *kvals;
  uint32_t nk, capk;
  uint32_t kbase;            /* params + locals: the first constant slot */
  uint32_t loop_depth;
  bool kcollect, kuse;
  uint32_t last_label;       /* ncode when the last label was bound */
  /* The last instruction with a retargetable destination operand. */
  uint32_t dst_at, dst_opnd, dst_end;
  /* The last compare, for fusing with br_if/if: kind 0..9 in the order
  ** eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u, 10 = eqz. */
  uint32_t cmp_at;
  int cmp_kind;
  bool cmp64, cmp_si;
  /* The last conditional branch emitted (for turning it backward). */
  uint32_t br_at;
  int br_op;
  uint32_t last_ins, prev_ins;  /* starts of the last four instructions */
  uint32_t prev2_ins, prev3_ins;
  /* The last instruction retargeted by a local.tee (to tee_local), with
  ** ncode then: a local.set of that local right after gives it a second
  ** destination. */
  uint32_t tee_at, tee_local, tee_end;
  /* Direct calls, whose form depends on the callee's zeroing, known once
  ** every body is translated: cells of this body, then (function, cell)
  ** pairs of the module. */
  uint32_t *calls;
  uint32_t ncalls, capcalls;
  uint32_t *msites;
  uint32_t nmsites, capmsites;
  /* Liveness of the body being translated (lv_analyze): flags by body
  ** offset, valid when lv_on; need_zero[l]: local l must be zero on entry
  ** (it is read before written, or a zero store to it was elided). */
  uint8_t *lv;
  uint32_t caplv;
  bool lv_on;
  uint8_t *need_zero;
  uint32_t capnz;
  struct lvstate *ls;        /* the analysis' scratch space */
  /* Bound locals: a local.set/tee of local + imm (or local + local + imm)
  ** whose value is dead by the end of its basic block (LV_LOCAL) writes
  ** nothing; the local's value is slot bbase[n] (+ slot bbase2[n] unless
  ** NONE) + bimm[n] until the block ends or it is written (bbase NONE:
  ** not bound).  blist: the locals bound since the block began (some
  ** since unbound). */
  uint32_t *bbase, *bbase2, *bimm, *blist;
  uint32_t capbb, capbb2, capbi, capbl, nblist;
  /* narrow[n]: local n holds a zero-extended 8- or 16-bit load (8, 16; 0:
  ** unknown), set by the local.set/tee that took the load's result, until
  ** the local is written again or a label is bound (another path may come
  ** in).  An i32.and keeping all those bits is then the local itself. */
  uint8_t *narrow;
  uint32_t capnarrow;
} cc;

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return true;
  uint32_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  void *np = realloc(*p, (size_t)nc * elem);
  if (!np) return false;
  *p = np;
  *cap = nc;
  return true;
}
#define GROW(c, arr, n, cap, need) \
  (grow((void **)&(c)->arr, &(c)->cap, (need), sizeof *(c)->arr) || ((c)->bad = true, false))

/* ------------------------------------------------------------ reading */

static uint8_t rd_u8(cc *c) { return wasm_body_u8(&c->p, c->end, &c->bad); }
static uint64_t rd_uleb(cc *c) { return wasm_body_uleb(&c->p, c->end, &c->bad); }
static int64_t rd_sleb(cc *c) { return wasm_body_sleb(&c->p, c->end, &c->bad); }
static uint32_t rd_u32(cc *c) { return (uint32_t)rd_uleb(c); }

/* ------------------------------------------------------------ emitting */

static uint32_t emit(cc *c, int op, uint32_t ncells) {
  if (!GROW(c, code, ncode, capcode, c->ncode + ncells)) return 0;
  if (!c->noff || c->offmap[2 * (c->noff - 1) + 1] != c->op_off) {
    if (GROW(c, offmap, noff, capoff, 2 * (c->noff + 1))) {
      c->offmap[2 * c->noff] = c->ncode;
      c->offmap[2 * c->noff + 1] = c->op_off;
      c->noff++;
    }
  }
  uint32_t at = c->ncode;
  c->prev3_ins = c->prev2_ins;
  c->prev2_ins = c->prev_ins;
  c->prev_ins = c->last_ins;
  c->last_ins = at;
  memset(&c->code[at], 0, ncells * sizeof(wcell));
  c->code[at].h = c->H[op];
  c->ncode += ncells;
  return at;
}
/* The instruction at `at` (the last one) was merged with the Wasm
** instruction being translated, which is the one that can trap: make trap
** locations in it point there. */
static void retag(cc *c, uint32_t at) {
  if (c->bad || !c->noff) return;
  uint32_t *last = &c->offmap[2 * (c->noff - 1)];
  if (last[0] == at) {
    last[1] = c->op_off;
  } else if (last[0] < at && GROW(c, offmap, noff, capoff, 2 * (c->noff + 1))) {
    c->offmap[2 * c->noff] = at;
    c->offmap[2 * c->noff + 1] = c->op_off;
    c->noff++;
  }
}
/* The instructions from `at` on were merged into one starting at `at`,
** which traps as the Wasm instruction being translated. */
static void retag_back(cc *c, uint32_t at) {
  if (c->bad) return;
  while (c->noff && c->offmap[2 * (c->noff - 1)] >= at) c->noff--;
  if (GROW(c, offmap, noff, capoff, 2 * (c->noff + 1))) {
    c->offmap[2 * c->noff] = at;
    c->offmap[2 * c->noff + 1] = c->op_off;
    c->noff++;
  }
}
static void opnd(cc *c, uint32_t at, int i, uint32_t v) {
  if (c->bad) return;
  c->code[at + 1 + i / 2].u32[i % 2] = v;
}
static uint32_t get_opnd(cc *c, uint32_t at, int i) { return c->code[at + 1 + i / 2].u32[i % 2]; }
/* Marks operand i of the instruction at `at` as its destination. */
static void set_dst(cc *c, uint32_t at, int i) {
  c->dst_at = at;
  c->dst_opnd = (uint32_t)i;
  c->dst_end = c->ncode;
}
/* A cell that will hold a pointer to code index `target`. */
static void target_cell(cc *c, uint32_t cell, uint32_t target) {
  if (c->bad) return;
  c->code[cell].u64 = target;
  if (GROW(c, tg, ntg, captg, c->ntg + 1)) c->tg[c->ntg++] = cell;
}
static void bind_label(cc *c) {
  c->last_label = c->ncode;
  memset(c->narrow, 0, c->nl);
}

/* ------------------------------------------------------------ the stack */

static void push(cc *c, uint8_t kind, uint32_t idx, uint64_t imm) {
  if (!GROW(c, st, nst, capst, c->nst + 1)) return;
  c->st[c->nst++] = (centry){kind, idx, NONE, imm};
  if (c->nst > c->max_h) c->max_h = c->nst;
}
static void push_stk(cc *c) { push(c, CE_STK, 0, 0); }
/* A lazy sum of locals a + b + k. */
static void push_adds(cc *c, uint32_t a, uint32_t b, uint32_t k) {
  push(c, CE_ADDS, a, k);
  if (!c->bad) c->st[c->nst - 1].idx2 = b;
}
/* Whether entry e reads local n. */
static bool reads_local(const centry *e, uint32_t n) {
  if (e->kind == CE_LOC || e->kind == CE_ADDI) return e->idx == n;
  return e->kind == CE_ADDS && (e->idx == n || e->idx2 == n);
}
static bool is_sum(const centry *e) { return e->kind == CE_ADDI || e->kind == CE_ADDS; }
static uint32_t slot_at(cc *c, uint32_t h) { return c->nl + h; }

static void emit_const(cc *c, uint32_t dst, uint64_t imm) {
  uint32_t m = c->last_ins;
  if (imm <= UINT32_MAX && !c->bad && m != NONE && m + 2 == c->ncode && c->last_label <= m &&
      c->code[m].h == c->H[WOP_const32] && GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* Two constants in a row (clang zeroing locals): one const2. */
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[m].h = c->H[WOP_const2];
    opnd(c, m, 2, dst);
    opnd(c, m, 3, (uint32_t)imm);
    return;
  }
  if (imm <= UINT32_MAX) {
    uint32_t at = emit(c, WOP_const32, 2);
    opnd(c, at, 0, dst);
    opnd(c, at, 1, (uint32_t)imm);
  } else {
    uint32_t at = emit(c, WOP_const, 3);
    opnd(c, at, 0, dst);
    if (!c->bad) c->code[at + 2].u64 = imm;
  }
}
static void emit_mov(cc *c, uint32_t src, uint32_t dst) {
  if (src == dst) return;
  uint32_t m = c->last_ins;
  if (!c->bad && m != NONE && m + 2 == c->ncode && c->last_label <= m && c->code[m].h == c->H[WOP_mov] &&
      GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* Two copies in a row: one mov2 (executed in the same order). */
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[m].h = c->H[WOP_mov2];
    opnd(c, m, 2, src);
    opnd(c, m, 3, dst);
    return;
  }
  uint32_t at = emit(c, WOP_mov, 2);
  opnd(c, at, 0, src);
  opnd(c, at, 1, dst);
}
/* Copies entry h into slot dst (nothing if it is already there). */
/* dst = a + b + k (an add of two slots, or a chain add-add). */
static void emit_sum(cc *c, uint32_t a, uint32_t b, uint32_t k, uint32_t dst) {
  uint32_t at = emit(c, k ? WOP_ch_add_add_ss_i : WOP_i32_add_ss, 3);
  opnd(c, at, 0, a);
  opnd(c, at, 1, b);
  opnd(c, at, 2, dst);
  opnd(c, at, 3, k);
  set_dst(c, at, 2);
}
static void move_entry(cc *c, uint32_t h, uint32_t dst) {
  centry *e = &c->st[h];
  if (e->kind == CE_ADDS) {
    emit_sum(c, e->idx, e->idx2, (uint32_t)e->imm, dst);
    return;
  }
  if (e->kind == CE_ADDI) {
    uint32_t at = emit(c, WOP_i32_add_si, 3);
    opnd(c, at, 0, e->idx);
    opnd(c, at, 1, (uint32_t)e->imm);
    opnd(c, at, 2, dst);
    set_dst(c, at, 2);
    return;
  }
  if (e->kind == CE_CONST) emit_const(c, dst, e->imm);
  else emit_mov(c, e->kind == CE_LOC ? e->idx : slot_at(c, h), dst);
}
static void materialize(cc *c, uint32_t h) {
  if (c->st[h].kind == CE_STK) return;
  move_entry(c, h, slot_at(c, h));
  c->st[h].kind = CE_STK;
}
static void materialize_all(cc *c) {
  for (uint32_t h = 0; h < c->nst; h++) materialize(c, h);
}
#define MAX_HOISTED 48

/* The slot of a hoisted constant, or NONE. */
static uint32_t const_slot(cc *c, uint64_t v) {
  if (!c->loop_depth || !(c->kcollect || c->kuse)) return NONE;
  for (uint32_t i = 0; i < c->nk; i++)
    if (c->kvals[i] == v) return c->kuse ? c->kbase + i : NONE;
  if (c->kcollect && c->nk < MAX_HOISTED && GROW(c, kvals, nk, capk, c->nk + 1)) c->kvals[c->nk++] = v;
  return NONE;
}

/* The slot holding entry h (constants are materialized first, unless a
** loop-invariant constant slot holds them). */
static uint32_t slot_of(cc *c, uint32_t h) {
  centry *e = &c->st[h];
  if (e->kind == CE_CONST) {
    uint32_t k = const_slot(c, e->imm);
    if (k != NONE) return k;
  }
  if (e->kind == CE_CONST || is_sum(e)) materialize(c, h);
  return e->kind == CE_LOC ? e->idx : slot_at(c, h);
}
/* The slot of a non-constant entry merged into an earlier instruction. */
static uint32_t slot_of_v(cc *c, uint32_t h, uint32_t at) {
  (void)at;
  return slot_of(c, h);
}
static void pop_n(cc *c, uint32_t n) { c->nst = n > c->nst ? 0 : c->nst - n; }

/* ------------------------------------------------------------ control */

static cctl *push_ctl(cc *c, uint8_t kind, uint32_t np, uint32_t nr) {
  if (!GROW(c, ctl, nctl, capctl, c->nctl + 1)) return NULL;
  cctl *k = &c->ctl[c->nctl++];
  memset(k, 0, sizeof *k);
  k->kind = kind;
  k->height = c->nst >= np ? c->nst - np : 0;
  k->nparams = np;
  k->nresults = nr;
  k->fix = NONE;
  k->else_fix = NONE;
  return k;
}
static void add_fix(cc *c, cctl *k, uint32_t cell) {
  if (!GROW(c, fix, nfix, capfix, 2 * (c->nfix + 1))) return;
  c->fix[2 * c->nfix] = cell;
  c->fix[2 * c->nfix + 1] = k->fix;
  k->fix = c->nfix++;
}
static void resolve_fixes(cc *c, cctl *k) {
  for (uint32_t f = k->fix; f != NONE; f = c->fix[2 * f + 1]) target_cell(c, c->fix[2 * f], c->ncode);
  k->fix = NONE;
}
static uint32_t label_arity(cctl *k) { return k->kind == CT_LOOP ? k->nparams : k->nresults; }

/* Moves the top n entries into slots nl+h0 .. nl+h0+n-1.  Sources sit at
** or above their destinations (or are locals/constants), so copying in
** increasing order never overwrites a source before it is read. */
static void emit_moves(cc *c, uint32_t h0, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    if (c->st[h].kind == CE_STK && h == h0 + i) continue;
    move_entry(c, h, slot_at(c, h0 + i));
  }
}
static bool needs_moves(cc *c, uint32_t h0, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    if (!(c->st[h].kind == CE_STK && h == h0 + i)) return true;
  }
  return false;
}

static bool last_is(cc *c, int op, int dopnd, uint32_t slot);
static uint8_t load_width(cc *c, uint32_t at, uint32_t i);

/* Function return: results into slots 0..n-1, then return. */
static void emit_return(cc *c) {
  uint32_t n = c->nresults;
  if (n == 1 && c->st[c->nst - 1].kind == CE_STK &&
      last_is(c, WOP_i32_add_ss, 2, slot_at(c, c->nst - 1))) {
    /* return a + b: one instruction. */
    c->code[c->dst_at].h = c->H[WOP_i32_add_ret];
    c->dst_at = NONE;
    return;
  }
  if (n == 1) {
    uint32_t s = slot_of(c, c->nst - 1);
    uint32_t at = emit(c, WOP_return1, 2);
    opnd(c, at, 0, s);
    return;
  }
  /* A result that is a local about to be overwritten by an earlier
  ** result goes through its stack slot first. */
  for (uint32_t i = 0; i < n; i++) {
    centry *e = &c->st[c->nst - n + i];
    if ((e->kind == CE_LOC || is_sum(e)) && (e->idx < n || (e->kind == CE_ADDS && e->idx2 < n)))
      materialize(c, c->nst - n + i);
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    if (c->st[h].kind == CE_STK && slot_at(c, h) == i) continue;
    move_entry(c, h, i);
  }
  emit(c, WOP_return, 1);
}

/* An unconditional branch to the label `depth` levels out, values
** included. */
static void emit_branch(cc *c, uint32_t depth) {
  cctl *k = &c->ctl[c->nctl - 1 - depth];
  if (k->kind == CT_FUNC) {
    emit_return(c);
    return;
  }
  emit_moves(c, k->height, label_arity(k));
  uint32_t m = c->last_ins;
  if (!c->bad && m != NONE && m + 3 == c->ncode && c->last_label <= m && c->code[m].h == c->H[WOP_mov2] &&
      GROW(c, code, ncode, capcode, c->ncode + 1)) {
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[m].h = c->H[k->kind == CT_LOOP ? WOP_mov2_br_back : WOP_mov2_br];
    if (k->kind == CT_LOOP) target_cell(c, m + 3, k->label);
    else add_fix(c, k, m + 3);
  } else if (!c->bad && m != NONE && m + 2 == c->ncode && c->last_label <= m && c->code[m].h == c->H[WOP_mov] &&
      GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* A copy just before the jump: one mov_br [s d][target]. */
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[m].h = c->H[k->kind == CT_LOOP ? WOP_mov_br_back : WOP_mov_br];
    if (k->kind == CT_LOOP) target_cell(c, m + 2, k->label);
    else add_fix(c, k, m + 2);
  } else if (k->kind == CT_LOOP) {
    uint32_t at = emit(c, WOP_br_back, 2);
    target_cell(c, at + 1, k->label);
  } else {
    uint32_t at = emit(c, WOP_br, 2);
    add_fix(c, k, at + 1);
  }
}
/* Sets the target of the branch cell at `cell` to label depth (no moves). */
static void branch_cell(cc *c, uint32_t cell, uint32_t depth) {
  cctl *k = &c->ctl[c->nctl - 1 - depth];
  if (k->kind == CT_LOOP) target_cell(c, cell, k->label);
  else add_fix(c, k, cell);
}
static bool direct_branch_ok(cc *c, uint32_t depth) {
  cctl *k = &c->ctl[c->nctl - 1 - depth];
  if (k->kind == CT_FUNC) return false;
  return !needs_moves(c, k->height, label_arity(k));
}
static void set_dead(cc *c) { c->ctl[c->nctl - 1].dead = true; }

/* Whether the last instruction is a compare whose result is the top
** entry, with no label between it and here. */
static bool fusable_cmp(cc *c) {
  if (c->cmp_at == NONE || c->bad || !c->nst) return false;
  if (c->cmp_at + 3 != c->ncode || c->last_label > c->cmp_at) return false;
  uint32_t h = c->nst - 1;
  if (c->st[h].kind != CE_STK) return false;
  return get_opnd(c, c->cmp_at, c->cmp_kind == 10 ? 1 : 2) == slot_at(c, h);
}
/* Whether the last instruction (nothing emitted and no label bound since)
** is `op` with its destination operand `dopnd` equal to `slot`: then its
** result is only used by what is being translated, and it may be merged. */
static bool last_is(cc *c, int op, int dopnd, uint32_t slot) {
  if (c->bad || c->dst_at == NONE || c->dst_end != c->ncode || c->last_label > c->dst_at) return false;
  if (c->code[c->dst_at].h != c->H[op] || (int)c->dst_opnd != dopnd) return false;
  return get_opnd(c, c->dst_at, dopnd) == slot;
}

/* A branch to a loop label becomes its backward form, which charges the
** fuel of the iteration. */
static int back_op(int op) {
  switch (op) {
  case WOP_br: return WOP_br_back;
  case WOP_br_if_nz: return WOP_br_if_nz_back;
  case WOP_br_if_z: return WOP_br_if_z_back;
  case WOP_br_if_nz64: return WOP_br_if_nz64_back;
  case WOP_br_if_z64: return WOP_br_if_z64_back;
  case WOP_mov_br_if_nz: return WOP_mov_br_if_nz_back;
  case WOP_mov_br_if_z: return WOP_mov_br_if_z_back;
  default:
    if (op >= WOP_brc_i32_eq_ss && op <= WOP_brc_i64_ge_u_si) return WOP_brcb_i32_eq_ss + (op - WOP_brc_i32_eq_ss);
    if (op >= WOP_brcf_f32_eq && op <= WOP_brcf_f64_ge) return WOP_brcfb_f32_eq + (op - WOP_brcf_f32_eq);
    return op;
  }
}

static const int cmp_invert[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};

/* Emits a conditional branch on the top entry (popped) to cell-patching
** callback: returns the index of the target cell.  `when_true`: branch if
** the condition is non-zero. */
static uint32_t emit_cond_branch(cc *c, bool when_true) {
  if (fusable_cmp(c)) {
    uint32_t at = c->cmp_at;
    int kind = c->cmp_kind, op;
    if (kind == 10) {
      op = c->cmp64 ? (when_true ? WOP_br_if_z64 : WOP_br_if_nz64)
                    : (when_true ? WOP_br_if_z : WOP_br_if_nz);
      opnd(c, at, 1, 0);
    } else if (kind >= 11) {
      op = (when_true ? WOP_brcf_f32_eq : WOP_brcfn_f32_eq) + (c->cmp64 ? 6 : 0) + (kind - 11);
    } else {
      if (!when_true) kind = cmp_invert[kind];
      int base = c->cmp64 ? WOP_brc_i64_eq_ss : WOP_brc_i32_eq_ss;
      op = base + 2 * kind + (c->cmp_si ? 1 : 0);
    }
    if (!c->bad) c->code[at].h = c->H[op];
    c->cmp_at = NONE;
    c->dst_at = NONE;
    c->br_at = at;
    c->br_op = op;
    pop_n(c, 1);
    return at + 2;
  }
  uint32_t s = slot_of(c, c->nst - 1);
  pop_n(c, 1);
  int op = when_true ? WOP_br_if_nz : WOP_br_if_z;
  uint32_t m = c->last_ins;
  if (!c->bad && m != NONE && m + 2 == c->ncode && c->last_label <= m && c->code[m].h == c->H[WOP_mov] &&
      GROW(c, code, ncode, capcode, c->ncode + 2)) {
    /* A copy just before: one mov_br_if_* [s d][c -][target] (the copy
    ** first, as in the code). */
    c->code[c->ncode].u64 = 0;
    c->code[c->ncode + 1].u64 = 0;
    c->ncode += 2;
    op = when_true ? WOP_mov_br_if_nz : WOP_mov_br_if_z;
    c->code[m].h = c->H[op];
    opnd(c, m, 2, s);
    c->br_at = m;
    c->br_op = op;
    return m + 3;
  }
  uint32_t at = emit(c, op, 3);
  opnd(c, at, 0, s);
  c->br_at = at;
  c->br_op = op;
  return at + 2;
}

/* A loop tail "i32.add; backward compare-branch on its result" (or a
** backward br_if testing it): the add (3 cells) and the branch (3 cells)
** become one 6-cell instruction, the branch target staying in the last
** cell (where it is patched). */
/* A loop tail "f64 add/sub/mul; backward float compare-branch on its
** result" (escape tests, convergence loops): one 6-cell instruction like
** the integer ones below; the sum, a temporary only the compare read, is
** not written.  The temporary on the compare's right mirrors the compare
** (NaN keeps both forms false). */
static void fuse_float_tail(cc *c, int bop) {
  uint32_t b = c->br_at, p = c->prev_ins;
  if (c->bad || bop < WOP_brcfb_f64_eq || bop > WOP_brcfb_f64_ge) return;
  if (p == NONE || p + 3 != b || c->last_ins != b || b + 3 != c->ncode || c->last_label > p) return;
  int o;
  if (c->code[p].h == c->H[WOP_f64_add]) o = 0;
  else if (c->code[p].h == c->H[WOP_f64_sub]) o = 1;
  else if (c->code[p].h == c->H[WOP_f64_mul]) o = 2;
  else return;
  uint32_t t = get_opnd(c, p, 2), l = get_opnd(c, b, 0), r = get_opnd(c, b, 1);
  if (t < c->nl || (l == t) == (r == t)) return; /* a local, or not exactly one side */
  static const int mirror[6] = {0, 1, 3, 2, 5, 4};
  int k = bop - WOP_brcfb_f64_eq;
  if (r == t) k = mirror[k];
  c->code[p].h = c->H[WOP_f64_add_brcfb_eq + 6 * o + k];
  opnd(c, p, 2, l == t ? r : l);
  opnd(c, p, 3, 0);
  c->code[b].u64 = 0;
  c->dst_at = NONE;
  c->cmp_at = NONE;
}

static void fuse_loop_tail(cc *c, int bop) {
  uint32_t b = c->br_at, p = c->prev_ins;
  if (bop >= WOP_brcfb_f64_eq && bop <= WOP_brcfb_f64_ge) {
    fuse_float_tail(c, bop);
    return;
  }
  bool test = bop == WOP_br_if_nz_back || bop == WOP_br_if_z_back;
  if (c->bad || ((bop < WOP_brcb_i32_eq_ss || bop > WOP_brcb_i32_ge_u_si) && !test)) return;
  if (p == NONE || p + 3 != b || c->last_ins != b || b + 3 != c->ncode || c->last_label > p) return;
  int base;
  bool imm = c->code[p].h == c->H[WOP_i32_add_si];
  if (imm) base = WOP_addi_brcb_eq_ss;
  else if (c->code[p].h == c->H[WOP_i32_add_ss]) base = WOP_adds_brcb_eq_ss;
  else return;
  uint32_t d = get_opnd(c, p, 2);
  if (get_opnd(c, b, 0) != d) return;
  if (test) {
    /* "i32.add; br_if" on the sum (loops counting up to zero): the
    ** branch's condition operand is left unused. */
    bool nz = bop == WOP_br_if_nz_back;
    c->code[p].h = c->H[imm ? (nz ? WOP_addi_brnzb : WOP_addi_brzb) : (nz ? WOP_adds_brnzb : WOP_adds_brzb)];
    c->code[b].u64 = 0;
    c->dst_at = NONE;
    c->cmp_at = NONE;
    return;
  }
  uint32_t y = get_opnd(c, b, 1);
  c->code[p].h = c->H[base + (bop - WOP_brcb_i32_eq_ss)];
  opnd(c, p, 3, y);
  c->code[b].u64 = 0;
  c->dst_at = NONE;
  c->cmp_at = NONE;
}

static void block_type(cc *c, uint32_t *np, uint32_t *nr) {
  if (c->p < c->end && *c->p == 0x40) { c->p++; *np = 0; *nr = 0; return; }
  if (c->p < c->end && (*c->p == 0x7f || *c->p == 0x7e || *c->p == 0x7d || *c->p == 0x7c ||
                        *c->p == 0x70 || *c->p == 0x6f || *c->p == 0x7b)) {
    c->p++; *np = 0; *nr = 1; return;
  }
  int64_t t = rd_sleb(c);
  if (t < 0 || (uint64_t)t >= c->m->ntypes) { c->bad = true; *np = *nr = 0; return; }
  *np = c->m->types[t].nparams;
  *nr = c->m->types[t].nresults;
}

/* ------------------------------------------------------------ liveness */

/* A backward liveness analysis over the locals of one body, run before
** translating it.  The body is cut into basic blocks over its structured
** control flow (a loop starts one; br/br_if/br_table/return/unreachable,
** if/else and the end of a block or if end one), gen/kill sets are
** bitsets over the locals, and live-in/live-out are iterated to a
** fixpoint.  A last backward walk over each block flags every local.set/
** tee whose value no path reads (LV_DEAD) and every local.get after which
** no path reads the local before writing it (LV_LAST), and every write
** whose value is dead by the end of its basic block and read there only
** as the address of loads, or by "i32.const; i32.add" (LV_LOCAL: such
** reads of a bound local stay lazy sums), keyed by the byte offset of the
** instruction in the body.  The live-in set of the entry
** block says which locals a call must zero.  Functions too big for the
** bitsets (see LV_MAX_WORDS) keep everything live. */
enum { LV_DEAD = 1, LV_LAST = 2, LV_LOCAL = 4 };
enum { EV_GET, EV_SET, EV_TEE };
#define LV_MAX_LOCALS 4096
#define LV_MAX_WORDS (1u << 20)

typedef struct lvev {
  uint32_t off, local;
  uint8_t kind;
  bool addr;                 /* a local.get read as a load's address, or + a constant */
} lvev;
typedef struct lvbb { uint32_t lo, hi; } lvbb; /* its events [lo, hi) */
typedef struct lvctl { uint8_t kind; uint32_t end, head, els; } lvctl;

typedef struct lvstate {
  lvev *ev;
  uint32_t nev, capev;
  lvbb *bb;
  uint32_t nbb, capbb;
  uint32_t *edge;            /* pairs: from, to */
  uint32_t nedge, capedge;
  lvctl *ctl;
  uint32_t nctl, capctl;
  uint64_t *bits;
  uint32_t capbits;
  uint32_t cur;              /* the open basic block */
  bool bad;
} lvstate;

#define LGROW(s, arr, cap, need) \
  (grow((void **)&(s)->arr, &(s)->cap, (need), sizeof *(s)->arr) || ((s)->bad = true, false))

static uint32_t lv_new(lvstate *s) {
  if (!LGROW(s, bb, capbb, s->nbb + 1)) return 0;
  s->bb[s->nbb] = (lvbb){NONE, NONE};
  return s->nbb++;
}
static void lv_edge(lvstate *s, uint32_t from, uint32_t to) {
  if (to == NONE || !LGROW(s, edge, capedge, 2 * (s->nedge + 1))) return;
  s->edge[2 * s->nedge] = from;
  s->edge[2 * s->nedge + 1] = to;
  s->nedge++;
}
/* Closes the open block and opens b (its events start here). */
static void lv_start(lvstate *s, uint32_t b) {
  if (s->bad) return;
  s->bb[s->cur].hi = s->nev;
  s->cur = b;
  s->bb[b].lo = s->nev;
}
/* The block a branch to label depth d goes to (NONE: the function's). */
static uint32_t lv_target(lvstate *s, uint32_t d) {
  if (d >= s->nctl) return NONE;
  lvctl *k = &s->ctl[s->nctl - 1 - d];
  return k->kind == CT_LOOP ? k->head : k->end;
}
static void lv_push(lvstate *s, uint8_t kind, uint32_t end, uint32_t head, uint32_t els) {
  if (LGROW(s, ctl, capctl, s->nctl + 1)) s->ctl[s->nctl++] = (lvctl){kind, end, head, els};
}
static void lv_event(lvstate *s, uint32_t off, uint32_t local, uint8_t kind, bool addr) {
  if (LGROW(s, ev, capev, s->nev + 1)) s->ev[s->nev++] = (lvev){off, local, kind, addr};
}

/* Skips the immediates of opcode op (validated code). */
static void lv_skip(cc *c, uint8_t op) {
  if (op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x23 && op <= 0x26) || op == 0xd2) rd_u32(c);
  else if (op == 0x11 || (op >= 0x28 && op <= 0x3e)) { rd_u32(c); rd_u32(c); }
  else if (op == 0x3f || op == 0x40 || op == 0xd0) rd_u8(c);
  else if (op == 0x41 || op == 0x42) rd_sleb(c);
  else if (op == 0x43) c->p += c->end - c->p >= 4 ? 4 : c->end - c->p;
  else if (op == 0x44) c->p += c->end - c->p >= 8 ? 8 : c->end - c->p;
  else if (op == 0x1c) { uint32_t n = rd_u32(c); for (uint32_t i = 0; i < n && !c->bad; i++) rd_u8(c); }
  else if (op == 0xfc) {
    uint32_t sub = rd_u32(c);
    if (sub == 8 || sub == 10) { rd_u32(c); rd_u8(c); }
    else if (sub == 12 || sub == 14) { rd_u32(c); rd_u32(c); }
    else if (sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17)) rd_u32(c);
  }
}

/* Builds the blocks and events of the body at c->p (which it consumes). */
static void lv_scan(cc *c, lvstate *s) {
  s->nev = s->nbb = s->nedge = s->nctl = 0;
  s->cur = lv_new(s);
  if (!s->bad) s->bb[0].lo = 0;
  lv_push(s, CT_FUNC, NONE, NONE, NONE);
  while (!c->bad && !s->bad && s->nctl > 0) {
    uint32_t off = (uint32_t)(c->p - c->body);
    uint8_t op = rd_u8(c);
    switch (op) {
    case 0x02: case 0x03: case 0x04: {
      uint32_t np, nr;
      block_type(c, &np, &nr);
      if (op == 0x02) {
        lv_push(s, CT_BLOCK, lv_new(s), NONE, NONE);
      } else if (op == 0x03) {
        uint32_t h = lv_new(s);
        lv_edge(s, s->cur, h);
        lv_start(s, h);
        lv_push(s, CT_LOOP, NONE, h, NONE);
      } else {
        uint32_t then = lv_new(s), els = lv_new(s), end = lv_new(s);
        lv_edge(s, s->cur, then);
        lv_edge(s, s->cur, els);
        lv_start(s, then);
        lv_push(s, CT_IF, end, NONE, els);
      }
      break;
    }
    case 0x05: { /* else */
      lvctl *k = &s->ctl[s->nctl - 1];
      lv_edge(s, s->cur, k->end);
      lv_start(s, k->els);
      k->els = NONE;
      break;
    }
    case 0x0b: { /* end */
      lvctl k = s->ctl[--s->nctl];
      if (k.kind == CT_FUNC || k.kind == CT_LOOP) break;
      lv_edge(s, s->cur, k.end);
      if (k.els != NONE) {
        /* An if without else: the false path goes straight to the end. */
        lv_start(s, k.els);
        lv_edge(s, k.els, k.end);
      }
      lv_start(s, k.end);
      break;
    }
    case 0x0c: case 0x0d: { /* br, br_if */
      lv_edge(s, s->cur, lv_target(s, rd_u32(c)));
      uint32_t next = lv_new(s);
      if (op == 0x0d) lv_edge(s, s->cur, next);
      lv_start(s, next);
      break;
    }
    case 0x0e: { /* br_table */
      uint32_t n = rd_u32(c);
      for (uint32_t i = 0; i <= n && !c->bad; i++) lv_edge(s, s->cur, lv_target(s, rd_u32(c)));
      lv_start(s, lv_new(s));
      break;
    }
    case 0x00: case 0x0f: /* unreachable, return */
      lv_start(s, lv_new(s));
      break;
    case 0x20: case 0x21: case 0x22: {
      uint32_t l = rd_u32(c);
      /* A read followed by a load, or by "i32.const k; i32.add" (which
      ** keeps a bound local's sum lazy too), counts as an address. */
      const uint8_t *q = c->p;
      if (q < c->end && *q == 0x41) {
        for (q++; q < c->end && (*q & 0x80); q++) {}
        q = q + 1 < c->end && q[1] == 0x6a ? q + 2 : c->p;
      }
      bool addr = op == 0x20 && (q != c->p || (q < c->end && *q >= 0x28 && *q <= 0x35));
      lv_event(s, off, l, op == 0x20 ? EV_GET : op == 0x21 ? EV_SET : EV_TEE, addr);
      break;
    }
    default:
      lv_skip(c, op);
    }
  }
  if (!s->bad) s->bb[s->cur].hi = s->nev;
}

/* Fills c->lv (flags by body offset) and c->need_zero (locals live at
** entry) for the function being translated; false if it gave up (then
** every local counts as live everywhere). */
static bool lv_analyze(cc *c, lvstate *s, const wasm_func *f) {
  uint32_t nloc = c->nparams + f->nlocals;
  if (nloc > LV_MAX_LOCALS) return false;
  const uint8_t *p0 = c->p;
  lv_scan(c, s);
  c->p = p0;
  if (c->bad || s->bad) { c->bad = false; s->bad = false; return false; }
  uint32_t w = nloc / 64 + 1, nb = s->nbb; /* at least one word */
  /* Four sets per block, and one more row for the last walk. */
  if (((uint64_t)nb * 4 + 1) * w > LV_MAX_WORDS) return false;
  if (!LGROW(s, bits, capbits, (nb * 4 + 1) * w)) { s->bad = false; return false; }
  memset(s->bits, 0, (size_t)(nb * 4 + 1) * w * sizeof *s->bits);
  uint64_t *gen = s->bits, *kill = gen + nb * w, *in = kill + nb * w, *out = in + nb * w;
#define BIT(set, i) (((set)[(i) / 64] >> ((i) % 64)) & 1)
  for (uint32_t b = 0; b < nb; b++) {
    if (s->bb[b].lo == NONE) continue; /* never opened (no code) */
    for (uint32_t e = s->bb[b].lo; e < s->bb[b].hi; e++) {
      uint32_t l = s->ev[e].local;
      if (s->ev[e].kind == EV_GET) {
        if (!BIT(kill + b * w, l)) gen[b * w + l / 64] |= 1ull << (l % 64);
      } else {
        kill[b * w + l / 64] |= 1ull << (l % 64);
      }
    }
    memcpy(in + b * w, gen + b * w, w * sizeof *in);
  }
  /* Edges were recorded in code order; sweeping them backward propagates
  ** most of the way in one pass, loops need a few more. */
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t i = s->nedge; i-- > 0;) {
      uint32_t from = s->edge[2 * i], to = s->edge[2 * i + 1];
      uint64_t *o = out + from * w, *ii = in + to * w;
      for (uint32_t j = 0; j < w; j++) {
        uint64_t add = ii[j] & ~o[j];
        if (!add) continue;
        o[j] |= add;
        uint64_t nin = in[from * w + j] | (add & ~kill[from * w + j]);
        in[from * w + j] = nin;
        changed = true;
      }
    }
  }
  /* Flags per instruction, walking each block backward from its live-out. */
  if (!GROW(c, lv, lv, caplv, (uint32_t)(c->end - c->p) + 1)) return false;
  memset(c->lv, 0, (size_t)(c->end - c->p) + 1);
  /* gen and kill are no longer needed: their first rows become the live
  ** set, the locals written later in the block and those read later by
  ** something else than a load's address. */
  uint64_t *live = gen, *later = kill, *other = out + nb * w;
  for (uint32_t b = 0; b < nb; b++) {
    if (s->bb[b].lo == NONE) continue;
    memcpy(live, out + b * w, w * sizeof *live);
    memset(later, 0, w * sizeof *later);
    memset(other, 0, w * sizeof *other);
    for (uint32_t e = s->bb[b].hi; e-- > s->bb[b].lo;) {
      lvev *v = &s->ev[e];
      uint32_t l = v->local;
      if (!BIT(live, l)) c->lv[v->off] = v->kind == EV_GET ? LV_LAST : LV_DEAD;
      if (v->kind == EV_GET) {
        live[l / 64] |= 1ull << (l % 64);
        if (!v->addr) other[l / 64] |= 1ull << (l % 64);
      } else {
        if ((BIT(later, l) || !BIT(out + b * w, l)) && !BIT(other, l)) c->lv[v->off] |= LV_LOCAL;
        live[l / 64] &= ~(1ull << (l % 64));
        later[l / 64] |= 1ull << (l % 64);
        other[l / 64] &= ~(1ull << (l % 64));
      }
    }
  }
  for (uint32_t l = c->nparams; l < nloc; l++) c->need_zero[l] = (uint8_t)BIT(in, l);
#undef BIT
  return true;
}

/* The liveness flags (LV_*) of the instruction being translated. */
static uint8_t lv_at(cc *c) { return c->lv_on ? c->lv[c->op_off - c->body_off] : 0; }

static bool is_bound(cc *c, uint32_t n) { return c->nblist && n < c->kbase && c->bbase[n] != NONE; }
/* At the end of a basic block the values of bound locals are dead. */
static void unbind_all(cc *c) {
  for (uint32_t i = 0; i < c->nblist; i++) c->bbase[c->blist[i]] = NONE;
  c->nblist = 0;
}
/* Whether writing slot n would change what a bound local other than n
** stands for. */
static bool bound_on(cc *c, uint32_t n) {
  for (uint32_t i = 0; i < c->nblist; i++) {
    uint32_t l = c->blist[i];
    if (l != n && c->bbase[l] != NONE && (c->bbase[l] == n || c->bbase2[l] == n)) return true;
  }
  return false;
}
/* Before local n's slot is written: stack entries reading it are
** materialized, and locals bound to it get their values written. */
static void flush_slot(cc *c, uint32_t n) {
  for (uint32_t i = 0; i < c->nst; i++)
    if (reads_local(&c->st[i], n)) materialize(c, i);
  for (uint32_t i = 0; i < c->nblist; i++) {
    uint32_t l = c->blist[i], b = c->bbase[l], b2 = c->bbase2[l];
    if (b == NONE || (b != n && b2 != n) || l == n) continue;
    c->bbase[l] = NONE;
    flush_slot(c, l);
    if (b2 != NONE) {
      emit_sum(c, b, b2, c->bimm[l], l);
      c->dst_at = NONE;
      continue;
    }
    uint32_t at = emit(c, WOP_i32_add_si, 3);
    opnd(c, at, 0, n);
    opnd(c, at, 1, c->bimm[l]);
    opnd(c, at, 2, l);
  }
}


/* ------------------------------------------------------------ operators */

static bool fits_imm(uint64_t v, bool is64) {
  if (!is64) return true;
  return (int64_t)v == (int64_t)(int32_t)v;
}

/* Integer binop: op_ss is the slot/slot form, op_ss + 1 the slot/imm form.
** mirror: the op equal to this one with operands swapped (-1 if none). */
/* i32 x op (load): the load (ld32/ld8u, plain or at a + imm, the last
** instruction) becomes the memory operand of one instruction. */
static bool int_load_op(cc *c, int op_ss) {
  static const int ops[6] = {WOP_i32_add_ss, WOP_i32_sub_ss, WOP_i32_xor_ss, WOP_i32_and_ss,
                             WOP_i32_or_ss, WOP_i32_mul_ss};
  int k = -1;
  for (int i = 0; i < 6; i++)
    if (ops[i] == op_ss) k = i;
  if (k < 0) return false;
  uint32_t ha = c->nst - 2;
  centry a = c->st[ha], b = c->st[ha + 1];
  static const int lds[4] = {WOP_ld32, WOP_ld8u, WOP_ld32_si, WOP_ld8u_si};
  static const int fused[4] = {WOP_i32_add_ld32, WOP_i32_add_ld8u, WOP_i32_add_ld32si, WOP_i32_add_ld8usi};
  for (int which = 1; which >= 0; which--) {
    centry ld = which ? b : a, other = which ? a : b;
    if (ld.kind != CE_STK || other.kind == CE_CONST) continue;
    if (which == 0 && op_ss == WOP_i32_sub_ss) continue;
    for (int l = 0; l < 4; l++) {
      bool si = l >= 2;
      if (!last_is(c, lds[l], si ? 2 : 1, slot_at(c, ha + which))) continue;
      if (si && !GROW(c, code, ncode, capcode, c->ncode + 1)) return false;
      uint32_t at = c->dst_at;
      uint32_t x = slot_of(c, which ? ha : ha + 1);
      uint32_t addr = get_opnd(c, at, 0);
      uint32_t imm = si ? get_opnd(c, at, 1) : 0;
      uint32_t off = get_opnd(c, at, si ? 3 : 2);
      if (si) {
        c->code[c->ncode].u64 = 0;
        c->ncode++;
      }
      c->code[at].h = c->H[fused[l] + k];
      opnd(c, at, 0, x);
      opnd(c, at, 1, addr);
      opnd(c, at, 2, slot_at(c, ha));
      opnd(c, at, 3, si ? imm : off);
      if (si) opnd(c, at, 4, off);
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return true;
    }
  }
  return false;
}

/* Whether the i32.add about to be translated is local + constant (or a
** constant added to such a sum): it becomes a lazy ADDI entry. */
static bool addi_ok(cc *c) {
  if (c->nst < 2) return false;
  centry a = c->st[c->nst - 2], b = c->st[c->nst - 1];
  if (a.kind == CE_CONST) { centry t = a; a = b; b = t; }
  return b.kind == CE_CONST && (a.kind == CE_LOC || is_sum(&a)) && a.idx < c->kbase;
}
static void push_addi(cc *c) {
  centry a = c->st[c->nst - 2], b = c->st[c->nst - 1];
  if (a.kind == CE_CONST) { centry t = a; a = b; b = t; }
  uint32_t imm = (uint32_t)b.imm + (is_sum(&a) ? (uint32_t)a.imm : 0);
  pop_n(c, 2);
  if (a.kind == CE_ADDS) push_adds(c, a.idx, a.idx2, imm);
  else push(c, CE_ADDI, a.idx, imm);
}
/* Whether the i32.add about to be translated adds two locals whose sum
** goes straight to a local.set/tee (which may bind it) or to a load (which
** takes it as its a + b address): it becomes a lazy ADDS entry.  Other
** consumers keep the eager add, whose fusions look at the last
** instruction emitted. */
static bool adds_ok(cc *c) {
  if (c->nst < 2 || c->p >= c->end) return false;
  centry a = c->st[c->nst - 2], b = c->st[c->nst - 1];
  uint8_t next = *c->p;
  return a.kind == CE_LOC && b.kind == CE_LOC && a.idx < c->kbase && b.idx < c->kbase &&
         (next == 0x21 || next == 0x22 || (next >= 0x28 && next <= 0x35));
}

/* Chains (interp.h WOP_CHAIN_P): the positions of op1 and op2 in its
** lists, as i32 slot/slot forms (the i64 forms are the same distance
** from i64.add as these from i32.add); op2 also has rsub (z - t). */
static const int chain_op1[] = {WOP_i32_add_ss, WOP_i32_sub_ss, WOP_i32_mul_ss, WOP_i32_and_ss,
                                WOP_i32_or_ss,  WOP_i32_xor_ss, WOP_i32_shl_ss, WOP_i32_shr_u_ss};
enum { CH_ADD, CH_SUB, CH_RSUB, CH_MUL, CH_AND, CH_OR, CH_XOR, CH_SHL, CH_SHR_U };

/* The chain position of op2 (i32 slot/slot form) with the temporary on
** the left (right = false) or on the right; -1 if no chain computes it. */
static int chain_op2(int op32, bool right) {
  switch (op32) {
  case WOP_i32_add_ss: return CH_ADD;
  case WOP_i32_sub_ss: return right ? CH_RSUB : CH_SUB;
  case WOP_i32_mul_ss: return CH_MUL;
  case WOP_i32_and_ss: return CH_AND;
  case WOP_i32_or_ss: return CH_OR;
  case WOP_i32_xor_ss: return CH_XOR;
  case WOP_i32_shl_ss: return right ? -1 : CH_SHL;
  case WOP_i32_shr_u_ss: return right ? -1 : CH_SHR_U;
  default: return -1;
  }
}

/* op2 whose operand is the result of the op1 of the same width just
** emitted (a plain slot/slot or slot/imm instruction with nothing after
** it): rewrites op1 in place into one chain instruction.  False if the
** pattern is not there. */
static bool chain(cc *c, int op_ss, bool is64) {
  if (c->bad || c->dst_at == NONE || c->dst_end != c->ncode || c->last_label > c->dst_at ||
      c->dst_opnd != 2 || c->dst_at + 3 != c->ncode)
    return false;
  int shift = is64 ? WOP_i64_add_ss - WOP_i32_add_ss : 0;
  uint32_t ha = c->nst - 2, at = c->dst_at;
  for (int which = 0; which < 2; which++) {
    centry t = c->st[ha + which], z = c->st[ha + 1 - which];
    if (t.kind != CE_STK || get_opnd(c, at, 2) != slot_at(c, ha + which)) continue;
    if (z.kind != CE_STK && z.kind != CE_LOC && z.kind != CE_CONST) return false;
    if (z.kind == CE_CONST && !fits_imm(z.imm, is64)) return false;
    int o2 = chain_op2(op_ss - shift, which == 1);
    if (o2 < 0) return false;
    int o1 = -1;
    bool si = false;
    for (int k = 0; k < (int)(sizeof chain_op1 / sizeof chain_op1[0]) && o1 < 0; k++) {
      if (c->code[at].h == c->H[chain_op1[k] + shift]) o1 = k;
      else if (c->code[at].h == c->H[chain_op1[k] + shift + 1]) o1 = k, si = true;
    }
    if (o1 < 0) return false;
    bool imm = z.kind == CE_CONST;
    uint32_t d = slot_at(c, ha);
    if (imm) {
      opnd(c, at, 2, d);
      opnd(c, at, 3, (uint32_t)z.imm);
    } else {
      opnd(c, at, 2, slot_of(c, ha + 1 - which)); /* a local or a temp: emits nothing */
      opnd(c, at, 3, d);
    }
    int form = (si ? 0 : 2) + (imm ? 1 : 0);
    int base = is64 ? WOP_ch64_add_add_si_s : WOP_ch_add_add_si_s;
    c->code[at].h = c->H[base + (o1 * WOP_CH_NOP2 + o2) * 4 + form];
    pop_n(c, 2);
    push_stk(c);
    set_dst(c, at, imm ? 2 : 3);
    return true;
  }
  return false;
}

static void int_binop(cc *c, int op_ss, bool is64, int mirror_ss, int cmp_kind) {
  uint32_t ha = c->nst - 2;
  centry a = c->st[ha], b = c->st[ha + 1];
  if (op_ss == (is64 ? WOP_i64_and_ss : WOP_i32_and_ss) && (a.kind == CE_CONST) != (b.kind == CE_CONST)) {
    /* x & m where x is a zero-extended 8/16-bit load and m keeps all its
    ** bits (clang masks bytes it loaded with load8_u again): x itself. */
    centry x = a.kind == CE_CONST ? b : a;
    uint64_t m = a.kind == CE_CONST ? a.imm : b.imm;
    uint8_t w = 0;
    if (x.kind == CE_LOC && x.idx < c->nl) w = c->narrow[x.idx];
    else if (x.kind == CE_STK && a.kind == CE_STK && c->dst_at != NONE && c->dst_end == c->ncode &&
             c->last_label <= c->dst_at && !c->bad && get_opnd(c, c->dst_at, (int)c->dst_opnd) == slot_at(c, ha))
      w = load_width(c, c->dst_at, c->dst_opnd);
    uint64_t keep = w == 8 ? 0xff : 0xffff;
    if (w && (m & keep) == keep) {
      pop_n(c, 2);
      push(c, x.kind, x.idx, x.imm); /* an STK x was a: the same slot */
      return;
    }
  }
  if (!is64 && int_load_op(c, op_ss)) return;
  bool is_or = !is64 && op_ss == WOP_i32_or_ss;
  if ((is_or || op_ss == (is64 ? WOP_i64_xor_ss : WOP_i32_xor_ss)) && a.kind != CE_CONST && b.kind != CE_CONST) {
    /* y ^ (x >> k), y ^ (x << k), y | (x << k), y | (x >> k) (either
    ** order): [y x][d k]. */
    int shr = is64 ? WOP_i64_shr_u_si : WOP_i32_shr_u_si, shl = is64 ? WOP_i64_shl_si : WOP_i32_shl_si;
    for (int which = 1; which >= 0; which--) {
      if (c->st[ha + which].kind != CE_STK) continue;
      bool r = last_is(c, shr, 2, slot_at(c, ha + which));
      bool l = !r && last_is(c, shl, 2, slot_at(c, ha + which));
      if (!r && !l) continue;
      uint32_t at = c->dst_at;
      uint32_t y = slot_of(c, which ? ha : ha + 1);
      uint32_t x = get_opnd(c, at, 0), k = get_opnd(c, at, 1);
      c->code[at].h = c->H[is_or ? (r ? WOP_i32_or_shr_u : WOP_i32_or_shl)
                           : is64 ? (r ? WOP_i64_xor_shr_u : WOP_i64_xor_shl)
                                  : (r ? WOP_i32_xor_shr_u : WOP_i32_xor_shl)];
      opnd(c, at, 0, y);
      opnd(c, at, 1, x);
      opnd(c, at, 2, slot_at(c, ha));
      opnd(c, at, 3, k);
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return;
    }
  }
  if (op_ss == WOP_i32_add_ss && a.kind != CE_CONST && b.kind != CE_CONST) {
    /* x + (y << k) or (y << k) + x: one i32_add_shl [x y][d k]. */
    int which = -1;
    if (b.kind == CE_STK && last_is(c, WOP_i32_shl_si, 2, slot_at(c, ha + 1))) which = 1;
    else if (a.kind == CE_STK && last_is(c, WOP_i32_shl_si, 2, slot_at(c, ha))) which = 0;
    if (which >= 0) {
      uint32_t at = c->dst_at;
      uint32_t x = which == 1 ? slot_of(c, ha) : slot_of(c, ha + 1);
      uint32_t y = get_opnd(c, at, 0), k = get_opnd(c, at, 1);
      c->code[at].h = c->H[WOP_i32_add_shl];
      opnd(c, at, 0, x);
      opnd(c, at, 1, y);
      opnd(c, at, 2, slot_at(c, ha));
      opnd(c, at, 3, k);
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return;
    }
  }
  uint32_t at, sa;
  bool si = false;
  if (op_ss == (is64 ? WOP_i64_add_ss : WOP_i32_add_ss) && b.kind == CE_CONST &&
      fits_imm(b.imm, is64) && a.kind == CE_STK &&
      last_is(c, is64 ? WOP_i64_mul_si : WOP_i32_mul_si, 2, slot_at(c, ha))) {
    /* x * k1 + k2: one instruction [x k1][d k2]. */
    at = c->dst_at;
    c->code[at].h = c->H[is64 ? WOP_i64_mul_add_si : WOP_i32_mul_add_si];
    opnd(c, at, 3, (uint32_t)b.imm);
    pop_n(c, 2);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  if (!is64 && op_ss == WOP_i32_and_ss && b.kind == CE_CONST && a.kind == CE_LOC &&
      a.idx == c->tee_local && c->tee_at != NONE && c->tee_end == c->ncode &&
      c->last_label <= c->tee_at && !c->bad && c->code[c->tee_at].h == c->H[WOP_i32_shr_u_si] &&
      GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* t = x >> k; local.tee t; t & m (a bit-field and what lies above it,
    ** as in instruction decoders): one i32_shr_u_and_t [x k][d m][t] that
    ** writes both. */
    at = c->tee_at;
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[at].h = c->H[WOP_i32_shr_u_and_t];
    opnd(c, at, 4, get_opnd(c, at, 2));
    opnd(c, at, 2, slot_at(c, ha));
    opnd(c, at, 3, (uint32_t)b.imm);
    c->tee_at = NONE;
    pop_n(c, 2);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  if (!is64 && b.kind == CE_CONST && a.kind == CE_STK &&
      ((op_ss == WOP_i32_and_ss && last_is(c, WOP_i32_shr_u_si, 2, slot_at(c, ha))) ||
       (op_ss == WOP_i32_add_ss && last_is(c, WOP_i32_shl_si, 2, slot_at(c, ha))))) {
    /* (x >> k) & m, (x << k) + imm: one instruction [x k][d imm]. */
    at = c->dst_at;
    c->code[at].h = c->H[op_ss == WOP_i32_and_ss ? WOP_i32_shr_u_and : WOP_i32_shl_add];
    opnd(c, at, 3, (uint32_t)b.imm);
    pop_n(c, 2);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  if (cmp_kind < 0 && chain(c, op_ss, is64)) return;
  if (b.kind == CE_CONST && fits_imm(b.imm, is64)) {
    sa = slot_of(c, ha);
    at = emit(c, op_ss + 1, 3);
    opnd(c, at, 0, sa);
    opnd(c, at, 1, (uint32_t)b.imm);
    si = true;
  } else if (a.kind == CE_CONST && mirror_ss >= 0 && fits_imm(a.imm, is64)) {
    uint32_t sb = slot_of(c, ha + 1);
    at = emit(c, mirror_ss + 1, 3);
    opnd(c, at, 0, sb);
    opnd(c, at, 1, (uint32_t)a.imm);
    si = true;
    if (cmp_kind >= 0) {
      static const int mirror_kind[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};
      cmp_kind = mirror_kind[cmp_kind];
    }
  } else {
    sa = slot_of(c, ha);
    uint32_t sb = slot_of(c, ha + 1);
    at = emit(c, op_ss, 3);
    opnd(c, at, 0, sa);
    opnd(c, at, 1, sb);
  }
  pop_n(c, 2);
  opnd(c, at, 2, slot_at(c, ha));
  push_stk(c);
  set_dst(c, at, 2);
  if (cmp_kind >= 0) {
    c->cmp_at = at;
    c->cmp_kind = cmp_kind;
    c->cmp64 = is64;
    c->cmp_si = si;
  }
}
static void plain_binop(cc *c, int op) {
  uint32_t ha = c->nst - 2;
  if (op == WOP_f64_mul) {
    /* x * sqrt(y), either order (nbody's d2 * sqrt(d2)): the sqrt just
    ** emitted becomes one f64_mul_sqrt [x y][d -] (one cell more). */
    for (int which = 1; which >= 0; which--) {
      if (c->st[ha + which].kind != CE_STK || c->st[ha + 1 - which].kind == CE_CONST ||
          !last_is(c, WOP_f64_sqrt, 1, slot_at(c, ha + which)) || !GROW(c, code, ncode, capcode, c->ncode + 1))
        continue;
      uint32_t at = c->dst_at;
      uint32_t y = get_opnd(c, at, 0);
      uint32_t x = slot_of(c, ha + 1 - which); /* a local or a temporary: emits nothing */
      c->code[c->ncode++].u64 = 0;
      c->code[at].h = c->H[WOP_f64_mul_sqrt];
      opnd(c, at, 0, x);
      opnd(c, at, 1, y);
      opnd(c, at, 2, slot_at(c, ha));
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return;
    }
  }
  if (op == WOP_f64_add || op == WOP_f64_sub || op == WOP_f64_mul) {
    /* x op ld64_si: f64_*_ldsi [x a][d imm][off] (one cell more). */
    centry a = c->st[ha], b = c->st[ha + 1];
    int which = -1;
    if (a.kind != CE_CONST && b.kind == CE_STK && last_is(c, WOP_ld64_si, 2, slot_at(c, ha + 1))) which = 1;
    else if (op != WOP_f64_sub && b.kind != CE_CONST && a.kind == CE_STK &&
             last_is(c, WOP_ld64_si, 2, slot_at(c, ha))) which = 0;
    if (which >= 0 && GROW(c, code, ncode, capcode, c->ncode + 1)) {
      uint32_t at = c->dst_at;
      uint32_t x = which == 1 ? slot_of(c, ha) : slot_of(c, ha + 1);
      uint32_t addr = get_opnd(c, at, 0), imm = get_opnd(c, at, 1), off = get_opnd(c, at, 3);
      c->code[c->ncode].u64 = 0;
      c->ncode++;
      c->code[at].h = c->H[op == WOP_f64_mul ? WOP_f64_mul_ldsi : op == WOP_f64_add ? WOP_f64_add_ldsi : WOP_f64_sub_ldsi];
      opnd(c, at, 0, x);
      opnd(c, at, 1, addr);
      opnd(c, at, 2, slot_at(c, ha));
      opnd(c, at, 3, imm);
      opnd(c, at, 4, off);
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return;
    }
  }
  if (op == WOP_f64_sub || op == WOP_f64_mul) {
    /* a*b - x, x - a*b, (a*b)*x: one instruction [a b][x d]. */
    centry a = c->st[ha], b = c->st[ha + 1];
    int fop = -1;
    uint32_t x = 0;
    if (a.kind == CE_STK && b.kind != CE_CONST && last_is(c, WOP_f64_mul, 2, slot_at(c, ha))) {
      fop = op == WOP_f64_sub ? WOP_f64_mulsub : WOP_f64_mulmul;
      x = slot_of(c, ha + 1);
    } else if (b.kind == CE_STK && a.kind != CE_CONST && last_is(c, WOP_f64_mul, 2, slot_at(c, ha + 1))) {
      fop = op == WOP_f64_sub ? WOP_f64_rmulsub : WOP_f64_mulmul;
      x = slot_of(c, ha);
    }
    if (fop >= 0) {
      uint32_t at = c->dst_at;
      c->code[at].h = c->H[fop];
      opnd(c, at, 2, x);
      opnd(c, at, 3, slot_at(c, ha));
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 3);
      return;
    }
  }
  if (op == WOP_f64_add || op == WOP_f64_sub || op == WOP_f64_mul || op == WOP_f32_add ||
      op == WOP_f32_sub || op == WOP_f32_mul) {
    /* x op (load), (load) op x: the plain load becomes the memory operand
    ** of one *_ld instruction [x a][d off]. */
    bool is64 = op >= WOP_f64_add;
    int ld = is64 ? WOP_ld64 : WOP_ld32;
    centry a = c->st[ha], b = c->st[ha + 1];
    int which = -1;
    if (a.kind != CE_CONST && b.kind == CE_STK && last_is(c, ld, 1, slot_at(c, ha + 1))) which = 1;
    else if (b.kind != CE_CONST && a.kind == CE_STK && last_is(c, ld, 1, slot_at(c, ha))) which = 0;
    if (which >= 0) {
      uint32_t at = c->dst_at;
      uint32_t x = which == 1 ? slot_of(c, ha) : slot_of(c, ha + 1);
      uint32_t addr = get_opnd(c, at, 0), off = get_opnd(c, at, 2);
      int base = is64 ? WOP_f64_add_ld : WOP_f32_add_ld;
      int sub = is64 ? WOP_f64_sub : WOP_f32_sub, mul = is64 ? WOP_f64_mul : WOP_f32_mul;
      int fop = op == mul ? base + 3 : op == sub ? base + (which == 1 ? 1 : 2) : base;
      c->code[at].h = c->H[fop];
      opnd(c, at, 0, x);
      opnd(c, at, 1, addr);
      opnd(c, at, 2, slot_at(c, ha));
      opnd(c, at, 3, off);
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 2);
      return;
    }
  }
  if (op == WOP_f64_add || op == WOP_f32_add) {
    /* a * b + x or x + a * b: one *_muladd [a b][x d]. */
    int mul = op == WOP_f64_add ? WOP_f64_mul : WOP_f32_mul;
    centry a = c->st[ha], b = c->st[ha + 1];
    int which = -1;
    if (a.kind != CE_CONST && b.kind == CE_STK && last_is(c, mul, 2, slot_at(c, ha + 1))) which = 1;
    else if (b.kind != CE_CONST && a.kind == CE_STK && last_is(c, mul, 2, slot_at(c, ha))) which = 0;
    if (which >= 0) {
      uint32_t at = c->dst_at;
      uint32_t x = which == 1 ? slot_of(c, ha) : slot_of(c, ha + 1);
      c->code[at].h = c->H[op == WOP_f64_add ? WOP_f64_muladd : WOP_f32_muladd];
      opnd(c, at, 2, x);
      opnd(c, at, 3, slot_at(c, ha));
      pop_n(c, 2);
      push_stk(c);
      set_dst(c, at, 3);
      return;
    }
  }
  uint32_t sa = slot_of(c, ha), sb = slot_of(c, ha + 1);
  uint32_t at = emit(c, op, 3);
  opnd(c, at, 0, sa);
  opnd(c, at, 1, sb);
  opnd(c, at, 2, slot_at(c, ha));
  pop_n(c, 2);
  push_stk(c);
  set_dst(c, at, 2);
}
/* The float compare just emitted by plain_binop may fuse with a branch
** (kinds 11..16: eq ne lt gt le ge). */
static void float_cmp(cc *c, int k, bool is64) {
  if (c->bad || c->dst_at == NONE) return;
  c->cmp_at = c->dst_at;
  c->cmp_kind = 11 + k;
  c->cmp64 = is64;
  c->cmp_si = false;
}
static void unop(cc *c, int op) {
  uint32_t h = c->nst - 1;
  uint32_t sa = slot_of(c, h);
  uint32_t at = emit(c, op, 2);
  opnd(c, at, 0, sa);
  opnd(c, at, 1, slot_at(c, h));
  pop_n(c, 1);
  push_stk(c);
  set_dst(c, at, 1);
}
static void eqz(cc *c, bool is64) {
  uint32_t h = c->nst - 1;
  uint32_t sa = slot_of(c, h);
  uint32_t at = emit(c, is64 ? WOP_i64_eqz : WOP_i32_eqz, 3);
  opnd(c, at, 0, sa);
  opnd(c, at, 1, slot_at(c, h));
  pop_n(c, 1);
  push_stk(c);
  set_dst(c, at, 1);
  c->cmp_at = at;
  c->cmp_kind = 10;
  c->cmp64 = is64;
  c->cmp_si = false;
}

/* The two-destination form of the instruction at `at`, or -1. */
static int dup_op(cc *c, uint32_t at) {
  static const int from[8] = {WOP_i32_add_ss, WOP_i32_add_si, WOP_i32_sub_ss, WOP_i64_add_ss,
                              WOP_i64_add_si, WOP_f64_add, WOP_f64_sub, WOP_f64_mul};
  static const int to[8] = {WOP_i32_add_ss_d2, WOP_i32_add_si_d2, WOP_i32_sub_ss_d2, WOP_i64_add_ss_d2,
                            WOP_i64_add_si_d2, WOP_f64_add_d2, WOP_f64_sub_d2, WOP_f64_mul_d2};
  for (int i = 0; i < 8; i++)
    if (c->code[at].h == c->H[from[i]]) return to[i];
  return -1;
}

/* 8 or 16 if operand `i` of the instruction at `at` is the result of a
** zero-extending 8- or 16-bit load, else 0. */
static uint8_t load_width(cc *c, uint32_t at, uint32_t i) {
  static const struct { int op; uint8_t i; } v[] = {
      {WOP_ld8u, 1}, {WOP_ld8u_ss, 2}, {WOP_ld8u_si, 2}, {WOP_ld8u_sh, 2}, {WOP_ld8u_ash, 2},
      {WOP_ld8u_abs, 0}, {WOP_ld8u_sit, 3}, {WOP_ld8u_sha, 2}};
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
    int d16 = WOP_ld16u - WOP_ld8u; /* the same forms exist for ld16u */
    if (v[k].i != i) continue;
    if (c->code[at].h == c->H[v[k].op]) return 8;
    if (c->code[at].h == c->H[v[k].op + d16]) return 16;
  }
  return 0;
}

/* local.set/tee n of the top entry. */
static void local_set(cc *c, uint32_t n, bool tee) {
  uint32_t h = c->nst - 1;
  centry v = c->st[h];
  bool refs = false;
  for (uint32_t i = 0; i < h; i++)
    if (reads_local(&c->st[i], n)) refs = true;
  bool still_zero = !c->seen_loop && n < c->nl && c->zero[n];
  if (n < c->nl) c->narrow[n] = 0;
  if (lv_at(c) & LV_DEAD) {
    /* No path reads this value: the local keeps its old contents (which
    ** nothing reads either), and a tee leaves the value where it is, so a
    ** consumer may still merge with the instruction that computed it. */
    if (!tee) pop_n(c, 1);
    return;
  }
  if (is_sum(&v) && (lv_at(c) & LV_LOCAL) && n < c->kbase &&
      GROW(c, blist, nblist, capbl, c->nblist + 1)) {
    /* All reads of this value come before the basic block ends: they take
    ** it as local + imm too, and nothing is written (the slot n keeps its
    ** contents, so whatever reads it, bound locals included, stays valid). */
    c->bbase[n] = v.idx;
    c->bbase2[n] = v.kind == CE_ADDS ? v.idx2 : NONE;
    c->bimm[n] = (uint32_t)v.imm;
    c->blist[c->nblist++] = n;
    if (n < c->nl) c->zero[n] = 0;
    if (!tee) pop_n(c, 1);
    return;
  }
  if (is_bound(c, n)) c->bbase[n] = NONE; /* overwritten */
  if (c->nblist && bound_on(c, n)) refs = true;
  if (is_sum(&v)) {
    /* The add into its slot first: the retargeting below then makes it
    ** write the local, as an eager add would have. */
    materialize(c, h);
    v = c->st[h];
  }
  if (n < c->nl && !(still_zero && v.kind == CE_CONST && v.imm == 0)) c->zero[n] = 0;
  if (v.kind == CE_LOC && v.idx == n) {
    /* local.set n (local.get n): nothing to do. */
  } else if (v.kind == CE_CONST && v.imm == 0 && still_zero) {
    /* Storing zero into a local that is still zero (clang's prologues):
    ** the entry's zeroing must then cover it. */
    c->need_zero[n] = 1;
  } else if (!refs && v.kind == CE_STK && c->dst_end == c->ncode && c->dst_at != NONE &&
             c->last_label <= c->dst_at && !c->bad &&
             get_opnd(c, c->dst_at, (int)c->dst_opnd) == slot_at(c, h)) {
    opnd(c, c->dst_at, (int)c->dst_opnd, n);
    if (n < c->nl) c->narrow[n] = load_width(c, c->dst_at, c->dst_opnd);
    c->tee_at = c->dst_opnd == 2 ? c->dst_at : NONE;
    c->tee_local = n;
    c->tee_end = c->ncode;
    c->dst_at = NONE;
    c->cmp_at = NONE;
  } else if (!refs && v.kind == CE_LOC && v.idx == c->tee_local && c->tee_at != NONE &&
             c->tee_end == c->ncode && c->last_label <= c->tee_at && !c->bad && dup_op(c, c->tee_at) >= 0) {
    /* x = op; local.tee A; local.set B: op writes both A and B. */
    c->code[c->tee_at].h = c->H[dup_op(c, c->tee_at)];
    opnd(c, c->tee_at, 3, n);
    c->tee_at = NONE;
  } else {
    for (uint32_t i = 0; i < h; i++)
      if (reads_local(&c->st[i], n)) materialize(c, i);
    if (c->nblist) flush_slot(c, n);
    move_entry(c, h, n);
  }
  pop_n(c, 1);
  if (tee) push(c, CE_LOC, n, 0);
}

static void emit_call(cc *c, uint32_t fidx) {
  const wasm_module *m = c->m;
  const wasm_functype *ft = &m->types[m->funcs[fidx].type];
  uint32_t np = ft->nparams;
  for (uint32_t i = c->nst - np; i < c->nst; i++) materialize(c, i);
  uint32_t base = slot_at(c, c->nst - np);
  if (fidx < m->num_imported_funcs) {
    uint32_t at = emit(c, WOP_call_import, 2);
    opnd(c, at, 0, base);
    opnd(c, at, 1, fidx);
  } else {
    uint32_t at = emit(c, WOP_call, 3);
    opnd(c, at, 0, base);
    if (!c->bad) c->code[at + 2].ptr = &c->comp->funcs[fidx];
    if (GROW(c, calls, ncalls, capcalls, c->ncalls + 1)) c->calls[c->ncalls++] = at;
  }
  pop_n(c, np);
  for (uint32_t i = 0; i < ft->nresults; i++) push_stk(c);
}

/* A load or store at local + local (+ k), lazy entry a: the _ss form
** [a b][x off], or with k the _ssi form [a b][x k][off -]; x is the
** load's destination or the stored value.  Returns where it was emitted. */
static uint32_t emit_adds_access(cc *c, int op_ss, int op_ssi, centry a, uint32_t x, uint32_t off) {
  uint32_t at;
  if (a.imm) {
    at = emit(c, op_ssi, 4);
    opnd(c, at, 3, (uint32_t)a.imm);
    opnd(c, at, 4, off);
  } else {
    at = emit(c, op_ss, 3);
    opnd(c, at, 3, off);
  }
  opnd(c, at, 0, a.idx);
  opnd(c, at, 1, a.idx2);
  opnd(c, at, 2, x);
  return at;
}

static void load(cc *c, int op) {
  rd_u32(c);
  uint32_t off = rd_u32(c);
  if (c->ctl[c->nctl - 1].dead) return;
  uint32_t h = c->nst - 1;
  if (c->st[h].kind == CE_ADDS) {
    /* At local + local (+ k): ld*_ss [a b][d off] or ld*_ssi
    ** [a b][d k][off -]. */
    uint32_t at = emit_adds_access(c, op - WOP_ld32 + WOP_ld32_ss, op - WOP_ld32 + WOP_ld32_ssi,
                                   c->st[h], slot_at(c, h), off);
    pop_n(c, 1);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  if (c->st[h].kind == CE_ADDI) {
    /* At local + imm: ld*_si [a imm][d off]. */
    uint32_t at = emit(c, op - WOP_ld32 + WOP_ld32_si, 3);
    opnd(c, at, 0, c->st[h].idx);
    opnd(c, at, 1, (uint32_t)c->st[h].imm);
    opnd(c, at, 2, slot_at(c, h));
    opnd(c, at, 3, off);
    pop_n(c, 1);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  if (c->st[h].kind == CE_CONST) {
    /* A constant address: ld*_abs [d][ea]. */
    uint32_t at = emit(c, op - WOP_ld32 + WOP_ld32_abs, 3);
    opnd(c, at, 0, slot_at(c, h));
    if (!c->bad) c->code[at + 2].u64 = (uint64_t)(uint32_t)c->st[h].imm + off;
    pop_n(c, 1);
    push_stk(c);
    set_dst(c, at, 0);
    return;
  }
  if (c->st[h].kind == CE_LOC && c->st[h].idx == c->tee_local && c->tee_at != NONE &&
      c->tee_end == c->ncode && c->last_label <= c->tee_at && !c->bad &&
      c->code[c->tee_at].h == c->H[WOP_i32_add_si] && GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* x = a + imm stored to local x, then a load at x: one ld*_sit
    ** [a imm][x d][off] that writes both. */
    uint32_t at = c->tee_at;
    c->code[c->ncode].u64 = 0;
    c->ncode++;
    c->code[at].h = c->H[op - WOP_ld32 + WOP_ld32_sit];
    retag(c, at);
    opnd(c, at, 3, slot_at(c, h));
    opnd(c, at, 4, off);
    c->tee_at = NONE;
    pop_n(c, 1);
    push_stk(c);
    set_dst(c, at, 3);
    return;
  }
  bool ss = false, si = false;
  if (c->st[h].kind == CE_STK) {
    ss = last_is(c, WOP_i32_add_ss, 2, slot_at(c, h));
    si = !ss && last_is(c, WOP_i32_add_si, 2, slot_at(c, h));
  }
  bool sh = c->st[h].kind == CE_STK && last_is(c, WOP_i32_shl_add, 2, slot_at(c, h));
  bool ash = !sh && c->st[h].kind == CE_STK && last_is(c, WOP_i32_add_shl, 2, slot_at(c, h));
  if (sh || ash) {
    /* (x << k) + imm or a + (b << k), then the load: ld*_sh [x k][d imm]
    ** [off] or ld*_ash [a b][d k][off], one cell more than the shift-add
    ** they replace. */
    uint32_t at = c->dst_at;
    if (GROW(c, code, ncode, capcode, c->ncode + 1)) {
      c->code[c->ncode].u64 = 0;
      c->ncode++;
      c->code[at].h = c->H[op - WOP_ld32 + (sh ? WOP_ld32_sh : WOP_ld32_ash)];
      retag(c, at);
      opnd(c, at, 4, off);
      pop_n(c, 1);
      push_stk(c);
      set_dst(c, at, 2);
      uint32_t p = c->prev_ins;
      if (sh && p != NONE && p + 3 == at && c->last_ins == at && c->last_label <= p &&
          c->code[p].h == c->H[WOP_i32_add_si] && get_opnd(c, p, 2) < c->nl) {
        /* Right after d2 = a + imm2 into a local (i = pc + 1; x = code[pc]):
        ** one ld*_sha [x k][d imm][off a][imm2 d2] doing the add first. */
        uint32_t a2 = get_opnd(c, p, 0), i2 = get_opnd(c, p, 1), d2 = get_opnd(c, p, 2);
        memmove(&c->code[p], &c->code[at], 4 * sizeof(wcell));
        c->code[p].h = c->H[op - WOP_ld32 + WOP_ld32_sha];
        c->ncode = p + 5;
        c->code[p + 4].u64 = 0;
        opnd(c, p, 5, a2);
        opnd(c, p, 6, i2);
        opnd(c, p, 7, d2);
        retag_back(c, p);
        c->last_ins = p;
        c->prev_ins = NONE;
        c->tee_at = NONE;
        set_dst(c, p, 2);
      }
    }
    return;
  }
  if (ss || si) {
    /* i32.add then the load: one ld*_ss [a b][d off] or ld*_si
    ** [a imm][d off], d = the add's. */
    uint32_t at = c->dst_at;
    c->code[at].h = c->H[op - WOP_ld32 + (ss ? WOP_ld32_ss : WOP_ld32_si)];
    retag(c, at);
    opnd(c, at, 3, off);
    pop_n(c, 1);
    push_stk(c);
    set_dst(c, at, 2);
    return;
  }
  uint32_t sa = slot_of(c, h);
  uint32_t at = emit(c, op, 3);
  opnd(c, at, 0, sa);
  opnd(c, at, 1, slot_at(c, h));
  opnd(c, at, 2, off);
  pop_n(c, 1);
  push_stk(c);
  set_dst(c, at, 1);
}
/* The instruction at `at`, the first of the last few, absorbed those after
** it and is now ncells long: the code ends there, trap locations of the
** absorbed instructions go (the first one's stays), and nothing refers to
** them as the last instructions emitted. */
static void drop_after(cc *c, uint32_t at, uint32_t ncells) {
  if (c->bad) return;
  c->ncode = at + ncells;
  while (c->noff && c->offmap[2 * (c->noff - 1)] > at) c->noff--;
  c->dst_at = NONE;
  if (c->cmp_at != NONE && c->cmp_at >= at) c->cmp_at = NONE;
  if (c->tee_at != NONE && c->tee_at >= at) c->tee_at = NONE;
  c->last_ins = at;
  c->prev_ins = c->prev2_ins = c->prev3_ins = NONE;
}
/* Whether the instruction at `at` is an f64 load at a + b (+ k), a
** ld64_ss or ld64_ssi: r gets a, b, k, off and d, *len its cells. */
static bool ld64_sum(cc *c, uint32_t at, uint32_t *len, uint32_t r[5]) {
  bool ssi = c->code[at].h == c->H[WOP_ld64_ssi];
  if (!ssi && c->code[at].h != c->H[WOP_ld64_ss]) return false;
  *len = ssi ? 4 : 3;
  r[0] = get_opnd(c, at, 0);
  r[1] = get_opnd(c, at, 1);
  r[2] = ssi ? get_opnd(c, at, 3) : 0;
  r[3] = get_opnd(c, at, ssi ? 4 : 3);
  r[4] = get_opnd(c, at, 2);
  return true;
}
/* An f64 store at the lazy sum a (of locals) of the value in slot v, just
** computed by the last four instructions as x * mem[eb] + mem[ea] with
** both loads at sums of locals and ea the store's address (matmul's inner
** loop): they become one f64_axpy_ss2 [x a2][b2 k2][off2 a1][b1 k1][off1 -]
** in place of the first.  The three temporaries in between are stack
** slots only these instructions read; the locals of both addresses are
** unchanged since the loads (lazy entries are materialized before a
** local is written).  False if the pattern is not there. */
static bool axpy_ss(cc *c, centry a, uint32_t off, uint32_t v) {
  uint32_t p1 = c->prev3_ins, p2 = c->prev2_ins, p3 = c->prev_ins, p4 = c->last_ins;
  if (c->bad || p1 == NONE || p2 == NONE || p3 == NONE || p4 == NONE || c->last_label > p1 ||
      c->dst_at != p4 || c->dst_end != c->ncode || p4 + 3 != c->ncode)
    return false;
  uint32_t r1[5], r3[5], len1, len3;
  if (c->code[p4].h != c->H[WOP_f64_add] || get_opnd(c, p4, 2) != v || c->code[p2].h != c->H[WOP_f64_mul] ||
      p2 + 3 != p3 || !ld64_sum(c, p1, &len1, r1) || !ld64_sum(c, p3, &len3, r3) || p1 + len1 != p2 ||
      p3 + len3 != p4)
    return false;
  if (r3[0] != a.idx || r3[1] != a.idx2 || r3[2] != (uint32_t)a.imm || r3[3] != off) return false;
  uint32_t t1 = r1[4], t2 = get_opnd(c, p2, 2), t3 = r3[4];
  if (t1 < c->nl || t2 < c->nl || t3 < c->nl || t2 == t3) return false;
  uint32_t m0 = get_opnd(c, p2, 0), m1 = get_opnd(c, p2, 1), x;
  if (m1 == t1 && m0 != t1) x = m0;
  else if (m0 == t1 && m1 != t1) x = m1;
  else return false;
  uint32_t s0 = get_opnd(c, p4, 0), s1 = get_opnd(c, p4, 1);
  if (!((s0 == t2 && s1 == t3) || (s0 == t3 && s1 == t2))) return false;
  c->code[p1].h = c->H[WOP_f64_axpy_ss2];
  uint32_t ops[10] = {x, r1[0], r1[1], r1[2], r1[3], a.idx, a.idx2, (uint32_t)a.imm, off, 0};
  for (int i = 0; i < 10; i++) opnd(c, p1, i, ops[i]);
  drop_after(c, p1, 6);
  return true;
}
/* A store at local + local (+ k): st*_ss [a b][v off] or st*_ssi
** [a b][v k][off -], or an axpy (above). */
static void store_adds(cc *c, int op, uint32_t off) {
  uint32_t h = c->nst - 2;
  centry a = c->st[h], v = c->st[h + 1];
  if (op == WOP_st64 && v.kind == CE_STK && axpy_ss(c, a, off, slot_at(c, h + 1))) {
    pop_n(c, 2);
    return;
  }
  uint32_t sv = slot_of(c, h + 1);
  emit_adds_access(c, op - WOP_st8 + WOP_st8_ss, op - WOP_st8 + WOP_st8_ssi, a, sv, off);
  pop_n(c, 2);
}
static void store(cc *c, int op) {
  rd_u32(c);
  uint32_t off = rd_u32(c);
  if (c->ctl[c->nctl - 1].dead) return;
  uint32_t h = c->nst - 2;
  bool ss = false, si = false;
  /* A value that is local + imm is computed first (it is read before the
  ** store, and the fusions below expect only their own operands to emit). */
  if (is_sum(&c->st[h + 1])) materialize(c, h + 1);
  centry v = c->st[h + 1];
  if (c->st[h].kind == CE_ADDS) {
    store_adds(c, op, off);
    return;
  }
  if (c->st[h].kind == CE_ADDI) {
    /* At local + imm, whatever computed the value in between: st*_si
    ** [a imm][v off] or st*_sivi [a imm][v off]. */
    centry a = c->st[h];
    uint32_t at = c->dst_at;
    const void *hh = at != NONE && !c->bad ? c->code[at].h : NULL;
    if (op == WOP_st64 && v.kind == CE_STK && at != NONE && c->dst_end == c->ncode && c->last_label <= at &&
        (hh == c->H[WOP_f64_add_ldsi] || hh == c->H[WOP_f64_sub_ldsi] || hh == c->H[WOP_f64_mul_ldsi]) &&
        get_opnd(c, at, 2) == slot_at(c, h + 1) && get_opnd(c, at, 1) == a.idx &&
        get_opnd(c, at, 3) == (uint32_t)a.imm && get_opnd(c, at, 4) == off) {
      /* x op mem[(a + imm) + off] stored back there: one read-modify-write
      ** (a is a local, unchanged in between since the entry is lazy). */
      c->code[at].h = c->H[hh == c->H[WOP_f64_add_ldsi] ? WOP_f64_add_ldsist
                           : hh == c->H[WOP_f64_sub_ldsi] ? WOP_f64_sub_ldsist : WOP_f64_mul_ldsist];
      c->dst_at = NONE;
      pop_n(c, 2);
      /* Right after x * mem[b (+ immb) + off2] giving the addend: one axpy. */
      uint32_t p = c->prev_ins;
      if (hh == c->H[WOP_f64_add_ldsi] && p != NONE && c->last_ins == at && c->last_label <= p) {
        bool si = c->code[p].h == c->H[WOP_f64_mul_ldsi] && p + 4 == at;
        bool ld = c->code[p].h == c->H[WOP_f64_mul_ld] && p + 3 == at;
        if ((si || ld) && get_opnd(c, p, 2) == get_opnd(c, at, 0) && get_opnd(c, p, 2) >= c->nl) {
          uint32_t x = get_opnd(c, p, 0), b = get_opnd(c, p, 1);
          uint32_t immb = si ? get_opnd(c, p, 3) : 0, off2 = get_opnd(c, p, si ? 4 : 3);
          c->code[at].u64 = 0; /* operands of the merged instruction go there */
          c->code[p].h = c->H[si ? WOP_f64_axpy_si2 : WOP_f64_axpy_ld_si];
          opnd(c, p, 0, x);
          opnd(c, p, 1, b);
          opnd(c, p, 2, a.idx);
          opnd(c, p, 3, immb);
          opnd(c, p, 4, (uint32_t)a.imm);
          opnd(c, p, 5, off2);
          opnd(c, p, 6, off);
          opnd(c, p, 7, 0);
          c->last_ins = p;
        } else if (c->code[p].h == c->H[WOP_f64_mulmul] && p + 3 == at && get_opnd(c, p, 3) == get_opnd(c, at, 0) &&
                   get_opnd(c, p, 3) >= c->nl) {
          /* Right after (x * y) * z giving the addend (nbody's q->v += d *
          ** m * mag): one f64_mulmul_addsist [x y][z a][imm off]. */
          opnd(c, p, 3, a.idx);
          opnd(c, p, 4, (uint32_t)a.imm);
          opnd(c, p, 5, off);
          c->code[p].h = c->H[WOP_f64_mulmul_addsist];
          drop_after(c, p, 4);
        }
      }
      return;
    }
    bool cv = v.kind == CE_CONST && v.imm <= UINT32_MAX;
    uint32_t sv = cv ? (uint32_t)v.imm : slot_of(c, h + 1);
    at = emit(c, (cv ? WOP_st8_sivi : WOP_st8_si) + (op - WOP_st8), 3);
    opnd(c, at, 0, a.idx);
    opnd(c, at, 1, (uint32_t)a.imm);
    opnd(c, at, 2, sv);
    opnd(c, at, 3, off);
    pop_n(c, 2);
    return;
  }
  if (c->st[h].kind == CE_CONST) {
    /* A constant address: st*_abs [v][ea]. */
    uint64_t ea = (uint64_t)(uint32_t)c->st[h].imm + off;
    uint32_t sv = slot_of(c, h + 1);
    uint32_t at = emit(c, op - WOP_st8 + WOP_st8_abs, 3);
    opnd(c, at, 0, sv);
    if (!c->bad) c->code[at + 2].u64 = ea;
    pop_n(c, 2);
    return;
  }
  bool vi = v.kind == CE_CONST && v.imm <= UINT32_MAX;
  if (c->st[h].kind == CE_STK && (v.kind != CE_CONST || vi)) {
    ss = last_is(c, WOP_i32_add_ss, 2, slot_at(c, h));
    si = !ss && last_is(c, WOP_i32_add_si, 2, slot_at(c, h));
  }
  bool sh = c->st[h].kind == CE_STK && v.kind != CE_CONST && last_is(c, WOP_i32_shl_add, 2, slot_at(c, h));
  bool ash = !sh && c->st[h].kind == CE_STK && v.kind != CE_CONST &&
             last_is(c, WOP_i32_add_shl, 2, slot_at(c, h));
  if (sh || ash) {
    uint32_t at = c->dst_at;
    if (GROW(c, code, ncode, capcode, c->ncode + 1)) {
      uint32_t sv = slot_of_v(c, h + 1, at);
      c->code[c->ncode].u64 = 0;
      c->ncode++;
      c->code[at].h = c->H[op - WOP_st8 + (sh ? WOP_st8_sh : WOP_st8_ash)];
      retag(c, at);
      opnd(c, at, 2, sv);
      opnd(c, at, 4, off);
      c->dst_at = NONE;
      pop_n(c, 2);
    }
    return;
  }
  if (c->st[h].kind != CE_CONST && v.kind == CE_STK && op == WOP_st64 &&
      c->dst_at != NONE && c->dst_end == c->ncode && c->last_label <= c->dst_at &&
      (c->code[c->dst_at].h == c->H[WOP_f64_add_ld] || c->code[c->dst_at].h == c->H[WOP_f64_sub_ld] ||
       c->code[c->dst_at].h == c->H[WOP_f64_mul_ld]) &&
      get_opnd(c, c->dst_at, 2) == slot_at(c, h + 1) && get_opnd(c, c->dst_at, 3) == off &&
      get_opnd(c, c->dst_at, 1) == slot_of(c, h)) {
    /* x op mem[a + off] stored back to mem[a + off]: one read-modify-write
    ** (the address is the same slot, unchanged in between). */
    uint32_t at = c->dst_at;
    const void *hh = c->code[at].h;
    c->code[at].h = c->H[hh == c->H[WOP_f64_add_ld] ? WOP_f64_add_ldst
                         : hh == c->H[WOP_f64_sub_ld] ? WOP_f64_sub_ldst : WOP_f64_mul_ldst];
    c->dst_at = NONE;
    pop_n(c, 2);
    /* Right after x * mem[b...] whose product is the addend: one axpy. */
    uint32_t p = c->prev_ins;
    if (hh == c->H[WOP_f64_add_ld] && p != NONE && c->last_ins == at && c->last_label <= p) {
      bool ld = c->code[p].h == c->H[WOP_f64_mul_ld] && p + 3 == at;
      bool ldsi = c->code[p].h == c->H[WOP_f64_mul_ldsi] && p + 4 == at;
      /* The product must be a stack temporary (consumed here), not a
      ** local that a tee wrote. */
      if ((ld || ldsi) && get_opnd(c, p, 2) == get_opnd(c, at, 0) && get_opnd(c, p, 2) >= c->nl) {
        uint32_t x = get_opnd(c, p, 0), b = get_opnd(c, p, 1);
        uint32_t aa = get_opnd(c, at, 1), off1 = get_opnd(c, at, 3);
        /* Clear the add's handler cell first: axpy_ld's operand 4 lives
        ** there. */
        c->code[at].u64 = 0;
        if (ld) {
          uint32_t off2 = get_opnd(c, p, 3);
          c->code[p].h = c->H[WOP_f64_axpy_ld];
          opnd(c, p, 0, x);
          opnd(c, p, 1, b);
          opnd(c, p, 2, aa);
          opnd(c, p, 3, off2);
          opnd(c, p, 4, off1);
        } else {
          uint32_t imm = get_opnd(c, p, 3), off2 = get_opnd(c, p, 4);
          c->code[p].h = c->H[WOP_f64_axpy_ldsi];
          opnd(c, p, 0, x);
          opnd(c, p, 1, b);
          opnd(c, p, 2, aa);
          opnd(c, p, 3, imm);
          opnd(c, p, 4, off2);
          opnd(c, p, 5, off1);
        }
        c->last_ins = p;
      }
    }
    return;
  }
  if (op == WOP_st32 && v.kind == CE_STK && c->st[h].kind != CE_CONST && c->dst_at != NONE &&
      c->dst_end == c->ncode && c->last_label <= c->dst_at && c->dst_opnd == 2 &&
      get_opnd(c, c->dst_at, 2) == slot_at(c, h + 1)) {
    /* i32 x op y (slot/slot), then stored: i32_*_st32 [x y][a off]. */
    static const int from[6] = {WOP_i32_add_ss, WOP_i32_sub_ss, WOP_i32_mul_ss,
                                WOP_i32_xor_ss, WOP_i32_and_ss, WOP_i32_or_ss};
    for (int i = 0; i < 6; i++) {
      if (c->code[c->dst_at].h != c->H[from[i]]) continue;
      uint32_t at = c->dst_at;
      uint32_t sa = slot_of(c, h);
      c->code[at].h = c->H[WOP_i32_add_st32 + i];
      retag(c, at);
      opnd(c, at, 2, sa);
      opnd(c, at, 3, off);
      c->dst_at = NONE;
      pop_n(c, 2);
      return;
    }
  }
  if (op == WOP_st64 && v.kind == CE_STK && c->st[h].kind != CE_CONST && c->dst_at != NONE &&
      c->dst_end == c->ncode && c->last_label <= c->dst_at && c->dst_opnd == 3 &&
      get_opnd(c, c->dst_at, 3) == slot_at(c, h + 1) &&
      (c->code[c->dst_at].h == c->H[WOP_f64_mulsub] || c->code[c->dst_at].h == c->H[WOP_f64_rmulsub]) &&
      GROW(c, code, ncode, capcode, c->ncode + 1)) {
    /* a*b - x or x - a*b, then stored (nbody's p->vx -= dx * m * mag):
    ** f64_(r)mulsub_st [a b][x addr][off -], the address read after the
    ** arithmetic as in the original order. */
    uint32_t at = c->dst_at;
    bool r = c->code[at].h == c->H[WOP_f64_rmulsub];
    uint32_t sa = slot_of(c, h); /* a local or a temporary: emits nothing */
    c->code[c->ncode++].u64 = 0;
    c->code[at].h = c->H[r ? WOP_f64_rmulsub_st : WOP_f64_mulsub_st];
    retag(c, at);
    opnd(c, at, 3, sa);
    opnd(c, at, 4, off);
    c->dst_at = NONE;
    pop_n(c, 2);
    return;
  }
  if (op == WOP_st64 && v.kind == CE_STK && c->st[h].kind != CE_CONST && c->dst_at != NONE &&
      c->dst_end == c->ncode && c->last_label <= c->dst_at && c->dst_opnd == 2 &&
      get_opnd(c, c->dst_at, 2) == slot_at(c, h + 1) &&
      (c->code[c->dst_at].h == c->H[WOP_f64_add] || c->code[c->dst_at].h == c->H[WOP_f64_sub] ||
       c->code[c->dst_at].h == c->H[WOP_f64_mul])) {
    /* x op y, then stored: f64_*_st [x y][a off].  The address is read
    ** after the arithmetic, as in the original order. */
    uint32_t at = c->dst_at;
    const void *hh = c->code[at].h;
    uint32_t sa = slot_of(c, h);
    c->code[at].h = c->H[hh == c->H[WOP_f64_add] ? WOP_f64_add_st
                         : hh == c->H[WOP_f64_sub] ? WOP_f64_sub_st : WOP_f64_mul_st];
    retag(c, at);
    opnd(c, at, 2, sa);
    opnd(c, at, 3, off);
    c->dst_at = NONE;
    pop_n(c, 2);
    uint32_t p = c->prev_ins, q = c->prev2_ins;
    if (hh == c->H[WOP_f64_sub] && c->last_ins == at && p != NONE && q != NONE && c->last_label <= q &&
        p + 3 == at && q + 3 == p && c->code[p].h == c->H[WOP_f64_mulmul] && c->code[q].h == c->H[WOP_ld64]) {
      /* mem[a + off] - (x * y) * z stored back there, the load just before
      ** the product (nbody's p->v -= d * m * mag): one read-modify-write
      ** f64_mulmul_subldst [x y][z a][off -].  The load's value and the
      ** product are stack temporaries only the subtraction reads; a is
      ** unchanged in between (the product writes a temporary). */
      uint32_t t = get_opnd(c, q, 1), u = get_opnd(c, p, 3);
      if (get_opnd(c, at, 0) == t && get_opnd(c, at, 1) == u && t >= c->nl && u >= c->nl && t != u &&
          get_opnd(c, q, 0) == sa && get_opnd(c, q, 2) == off && sa != u) {
        uint32_t x = get_opnd(c, p, 0), y = get_opnd(c, p, 1), z = get_opnd(c, p, 2);
        c->code[q].h = c->H[WOP_f64_mulmul_subldst];
        uint32_t ops[6] = {x, y, z, sa, off, 0};
        for (int i = 0; i < 6; i++) opnd(c, q, i, ops[i]);
        drop_after(c, q, 4);
      }
    }
    return;
  }
  if (vi) {
    /* A constant value goes in the instruction. */
    int k = op - WOP_st8;
    if (ss || si) {
      uint32_t at = c->dst_at;
      c->code[at].h = c->H[(ss ? WOP_st8_ssvi : WOP_st8_sivi) + k];
      retag(c, at);
      opnd(c, at, 2, (uint32_t)v.imm);
      opnd(c, at, 3, off);
      c->dst_at = NONE;
    } else {
      uint32_t sa = slot_of(c, h);
      uint32_t at = emit(c, WOP_st8_vi + k, 3);
      opnd(c, at, 0, sa);
      opnd(c, at, 1, (uint32_t)v.imm);
      opnd(c, at, 2, off);
    }
    pop_n(c, 2);
    return;
  }
  if (ss || si) {
    uint32_t at = c->dst_at;
    uint32_t sv = slot_of(c, h + 1);
    c->code[at].h = c->H[op - WOP_st8 + (ss ? WOP_st8_ss : WOP_st8_si)];
    retag(c, at);
    opnd(c, at, 2, sv);
    opnd(c, at, 3, off);
    c->dst_at = NONE;
    pop_n(c, 2);
    return;
  }
  uint32_t sa = slot_of(c, h), sv = slot_of(c, h + 1);
  uint32_t at = emit(c, op, 3);
  opnd(c, at, 0, sa);
  opnd(c, at, 1, sv);
  opnd(c, at, 2, off);
  pop_n(c, 2);
}
/* An instruction with three popped operands and no result:
** [h][x y][z extra] (+ more operands set by the caller). */
static uint32_t three_op(cc *c, int op, uint32_t ncells) {
  uint32_t h = c->nst - 3;
  uint32_t s0 = slot_of(c, h), s1 = slot_of(c, h + 1), s2 = slot_of(c, h + 2);
  uint32_t at = emit(c, op, ncells);
  opnd(c, at, 0, s0);
  opnd(c, at, 1, s1);
  opnd(c, at, 2, s2);
  pop_n(c, 3);
  return at;
}

/* ------------------------------------------------------------ a body */

static const int i32_bin_ops[] = {
    /* 0x6a.. */ WOP_i32_add_ss, WOP_i32_sub_ss, WOP_i32_mul_ss, WOP_i32_div_s_ss,
    WOP_i32_div_u_ss, WOP_i32_rem_s_ss, WOP_i32_rem_u_ss, WOP_i32_and_ss, WOP_i32_or_ss,
    WOP_i32_xor_ss, WOP_i32_shl_ss, WOP_i32_shr_s_ss, WOP_i32_shr_u_ss, WOP_i32_rotl_ss,
    WOP_i32_rotr_ss};
static const bool bin_commutes[] = {1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0};

static bool compile_body(cc *c, uint32_t fidx) {
  const wasm_module *m = c->m;
  const wasm_func *f = &m->funcs[fidx];
  const wasm_functype *ft = &m->types[f->type];
  c->p = f->code;
  c->end = f->code + f->code_len;
  c->body = f->code;
  c->body_off = f->code_offset;
  c->nparams = ft->nparams;
  c->nresults = ft->nresults;
  c->kbase = ft->nparams + f->nlocals;
  c->nl = c->kbase + (c->kuse ? c->nk : 0);
  c->loop_depth = 0;
  c->ncode = c->nst = c->max_h = c->nctl = c->nfix = c->ntg = c->noff = c->nloops = 0;
  c->last_label = 0;
  c->dst_at = c->cmp_at = c->tee_at = NONE;
  c->dst_end = NONE;
  c->last_ins = c->prev_ins = NONE;
  c->bad = false;
  c->op_off = f->code_offset;
  c->seen_loop = false;
  if (!GROW(c, zero, capzero, capzero, c->nl + 1)) return false;
  if (!GROW(c, narrow, capnarrow, capnarrow, c->nl + 1)) return false;
  memset(c->narrow, 0, c->nl);
  /* Every local starts "still zero"; an elided store of zero marks the
  ** local need_zero, so the call zeroes it (wfunc zero_from/nzero). */
  memset(c->zero, 0, c->nl);
  memset(c->zero + c->nparams, 1, f->nlocals);
  c->ncalls = 0;
  if (!GROW(c, need_zero, capnz, capnz, c->nl + 1)) return false;
  if (!GROW(c, bbase, capbb, capbb, c->nl + 1) || !GROW(c, bbase2, capbb2, capbb2, c->nl + 1) ||
      !GROW(c, bimm, capbi, capbi, c->nl + 1))
    return false;
  memset(c->bbase, 0xff, (size_t)c->nl * sizeof *c->bbase);
  c->nblist = 0;
  memset(c->need_zero, 0, c->nl);
  c->lv_on = lv_analyze(c, c->ls, f);
  if (!c->lv_on) memset(c->need_zero + c->nparams, 1, f->nlocals);
  push_ctl(c, CT_FUNC, 0, ft->nresults);
  if (c->kuse)
    for (uint32_t i = 0; i < c->nk; i++) emit_const(c, c->kbase + i, c->kvals[i]);
  bind_label(c);

  while (!c->bad && c->nctl > 0) {
    c->op_off = c->body_off + (uint32_t)(c->p - c->body);
    uint8_t op = rd_u8(c);
    cctl *k = &c->ctl[c->nctl - 1];
    bool dead = k->dead;
    if (c->bad) break;
    if (op <= 0x0f && op != 0x01 && op != 0x02) unbind_all(c); /* ends a basic block */
    if (!dead && !(op == 0x1a || (op >= 0x20 && op <= 0x22) || (op >= 0x28 && op <= 0x3e) ||
                   (op >= 0x41 && op <= 0x44) || (op == 0x6a && (addi_ok(c) || adds_ok(c))))) {
      /* Everything but loads, stores, local and constant pushes and the
      ** adds that extend an ADDI takes its operands as slots: lazy sums
      ** among them are computed now, before the translation of the
      ** instruction looks at the last one emitted.  (Numeric operators
      ** take one or two operands; others at most three, or get theirs
      ** through materialize, which needs nothing emitted last.) */
      uint32_t n = op >= 0x45 && op <= 0xc4 ? 2 : 3;
      if (op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) ||
          (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || op >= 0xa7)
        n = 1;
      for (uint32_t h = c->nst > n ? c->nst - n : 0; h < c->nst; h++)
        if (is_sum(&c->st[h])) materialize(c, h);
    }
    switch (op) {
    case 0x00: /* unreachable */
      if (dead) break;
      emit(c, WOP_unreachable, 1);
      set_dead(c);
      break;
    case 0x01: break;
    case 0x02: case 0x03: { /* block, loop */
      uint32_t np, nr;
      block_type(c, &np, &nr);
      if (dead) {
        cctl *n = push_ctl(c, CT_BLOCK, 0, 0);
        if (n) n->skip = n->dead = true;
        break;
      }
      materialize_all(c);
      cctl *n = push_ctl(c, op == 0x02 ? CT_BLOCK : CT_LOOP, np, nr);
      if (!n) break;
      bind_label(c);
      if (op == 0x03) {
        c->seen_loop = true;
        c->loop_depth++;
        n->label = c->ncode;
        /* Every local is in its slot here (materialize_all), so native
        ** code can take over at this label.  Only at outermost loops: each
        ** costs a compile of the function (an inner loop's call moves over
        ** when its outer loop comes round).  Nested loops that start
        ** together share a label: the outer one stands for both. */
        if (np == 0 && c->nst == 0 && c->loop_depth == 1 && c->nloops < WFUNC_MAX_OSR &&
            (!c->nloops || c->loops[2 * c->nloops - 1] != c->ncode) &&
            GROW(c, loops, nloops, caploops, 2 * (c->nloops + 1))) {
          c->loops[2 * c->nloops] = c->op_off;
          c->loops[2 * c->nloops + 1] = c->ncode;
          c->nloops++;
        }
        /* No instruction: every branch back here charges fuel itself. */
      }
      break;
    }
    case 0x04: { /* if */
      uint32_t np, nr;
      block_type(c, &np, &nr);
      if (dead) {
        cctl *n = push_ctl(c, CT_IF, 0, 0);
        if (n) n->skip = n->dead = true;
        break;
      }
      /* The condition is on top; params and the rest below it must be in
      ** their slots before the branch, so materialize them first (the
      ** condition keeps its place, so a fused compare still works only if
      ** nothing was emitted). */
      uint32_t cond_h = c->nst - 1;
      for (uint32_t h = 0; h < cond_h; h++) materialize(c, h);
      uint32_t cell = emit_cond_branch(c, false);
      cctl *n = push_ctl(c, CT_IF, np, nr);
      if (n) n->else_fix = cell;
      break;
    }
    case 0x05: { /* else */
      if (k->skip) break;
      if (!k->dead) {
        emit_moves(c, k->height, k->nresults);
        uint32_t at = emit(c, WOP_br, 2);
        add_fix(c, k, at + 1);
      }
      if (k->else_fix != NONE) target_cell(c, k->else_fix, c->ncode);
      k->else_fix = NONE;
      bind_label(c);
      c->nst = k->height;
      for (uint32_t i = 0; i < k->nparams; i++) push_stk(c);
      k->kind = CT_ELSE;
      k->dead = false;
      break;
    }
    case 0x0b: { /* end */
      if (k->skip) { c->nctl--; break; }
      if (k->kind == CT_FUNC) {
        if (!k->dead) emit_return(c);
        c->nctl--;
        break;
      }
      if (k->kind == CT_LOOP && c->loop_depth) c->loop_depth--;
      if (!k->dead) emit_moves(c, k->height, k->nresults);
      if (k->else_fix != NONE) target_cell(c, k->else_fix, c->ncode);
      resolve_fixes(c, k);
      bind_label(c);
      c->nst = k->height;
      for (uint32_t i = 0; i < k->nresults; i++) push_stk(c);
      c->nctl--;
      break;
    }
    case 0x0c: { /* br */
      uint32_t d = rd_u32(c);
      if (dead) break;
      emit_branch(c, d);
      set_dead(c);
      break;
    }
    case 0x0d: { /* br_if */
      uint32_t d = rd_u32(c);
      if (dead) break;
      /* The values stay on the stack if the branch is not taken. */
      c->nst--;
      bool direct = direct_branch_ok(c, d);
      c->nst++;
      if (direct) {
        uint32_t cell = emit_cond_branch(c, true);
        cctl *t = &c->ctl[c->nctl - 1 - d];
        if (t->kind == CT_LOOP && !c->bad) {
          int bop = back_op(c->br_op);
          c->code[c->br_at].h = c->H[bop];
          target_cell(c, cell, t->label);
          fuse_loop_tail(c, bop);
        } else {
          branch_cell(c, cell, d);
        }
      } else {
        /* Moves (and materializations) happen only on the taken path, so
        ** the fall-through continues from the stack as it was. */
        uint32_t cell = emit_cond_branch(c, false);
        centry *saved = malloc(((size_t)c->nst + 1) * sizeof *saved);
        if (!saved) { c->bad = true; break; }
        memcpy(saved, c->st, c->nst * sizeof *saved);
        emit_branch(c, d);
        memcpy(c->st, saved, c->nst * sizeof *saved);
        free(saved);
        target_cell(c, cell, c->ncode);
        bind_label(c);
      }
      break;
    }
    case 0x0e: { /* br_table */
      uint32_t n = rd_u32(c);
      if (n > (uint32_t)(c->end - c->p)) { c->bad = true; break; }
      uint32_t *ds = malloc(((size_t)n + 1) * sizeof *ds);
      if (!ds) { c->bad = true; break; }
      for (uint32_t i = 0; i <= n; i++) ds[i] = rd_u32(c);
      if (dead || c->bad) { free(ds); break; }
      uint32_t at, tbase;
      if (c->st[c->nst - 1].kind == CE_STK && last_is(c, WOP_i32_and_si, 2, slot_at(c, c->nst - 1)) &&
          GROW(c, code, ncode, capcode, c->ncode + n + 1)) {
        /* br_table on x & mask: the and becomes the table's header. */
        at = c->dst_at;
        uint32_t mask = get_opnd(c, at, 1);
        memset(&c->code[c->ncode], 0, (n + 1) * sizeof(wcell));
        c->ncode += n + 1;
        c->code[at].h = c->H[WOP_br_table_and];
        opnd(c, at, 1, n);
        opnd(c, at, 2, mask);
        opnd(c, at, 3, 0);
        c->dst_at = NONE;
        pop_n(c, 1);
        tbase = at + 3;
      } else {
        uint32_t s = slot_of(c, c->nst - 1);
        pop_n(c, 1);
        at = emit(c, WOP_br_table, 2 + n + 1);
        opnd(c, at, 0, s);
        opnd(c, at, 1, n);
        tbase = at + 2;
      }
      /* Targets that need their values moved (or a return) get a
      ** trampoline right after the table (which is dead code otherwise).
      ** Each trampoline starts from the same compile-time stack. */
      uint8_t *direct = malloc((size_t)n + 1);
      centry *saved = malloc(((size_t)c->nst + 1) * sizeof *saved);
      if (!direct || !saved) {
        free(direct);
        free(saved);
        free(ds);
        c->bad = true;
        break;
      }
      memcpy(saved, c->st, c->nst * sizeof *saved);
      for (uint32_t i = 0; i <= n && !c->bad; i++) {
        /* A loop target goes through a trampoline whose backward branch
        ** charges fuel. */
        direct[i] = direct_branch_ok(c, ds[i]) && c->ctl[c->nctl - 1 - ds[i]].kind != CT_LOOP;
        if (direct[i]) branch_cell(c, tbase + i, ds[i]);
      }
      for (uint32_t i = 0; i <= n && !c->bad; i++) {
        if (direct[i]) continue;
        target_cell(c, tbase + i, c->ncode);
        bind_label(c);
        emit_branch(c, ds[i]);
        memcpy(c->st, saved, c->nst * sizeof *saved);
      }
      free(direct);
      free(saved);
      free(ds);
      set_dead(c);
      break;
    }
    case 0x0f: /* return */
      if (dead) break;
      emit_return(c);
      set_dead(c);
      break;
    case 0x10: { /* call */
      uint32_t fi = rd_u32(c);
      if (dead) break;
      if (fi >= m->nfuncs) { c->bad = true; break; }
      emit_call(c, fi);
      break;
    }
    case 0x11: { /* call_indirect */
      uint32_t ti = rd_u32(c), tab = rd_u32(c);
      if (dead) break;
      if (ti >= m->ntypes) { c->bad = true; break; }
      uint32_t se = slot_of(c, c->nst - 1);
      pop_n(c, 1);
      const wasm_functype *ct = &m->types[ti];
      uint32_t np = ct->nparams;
      for (uint32_t i = c->nst - np; i < c->nst; i++) materialize(c, i);
      uint32_t base = slot_at(c, c->nst - np);
      uint32_t canon = c->comp->canon[ti];
      uint32_t at = emit(c, WOP_call_indirect, 4);
      opnd(c, at, 0, base);
      opnd(c, at, 1, tab);
      opnd(c, at, 2, se);
      opnd(c, at, 3, canon);
      if (!c->bad) c->code[at + 3].ptr = &m->types[canon];
      pop_n(c, np);
      for (uint32_t i = 0; i < ct->nresults; i++) push_stk(c);
      break;
    }
    case 0x1a: /* drop */
      if (dead) break;
      pop_n(c, 1);
      break;
    case 0x1c: { /* select t* */
      uint32_t n = rd_u32(c);
      for (uint32_t i = 0; i < n; i++) rd_u8(c);
    }
    /* fall through */
    case 0x1b: { /* select */
      if (dead) break;
      uint32_t h = c->nst - 3;
      if (c->st[h].kind != CE_CONST && c->st[h + 1].kind != CE_CONST && c->st[h + 2].kind == CE_STK &&
          (last_is(c, WOP_i32_eqz, 1, slot_at(c, h + 2)) || last_is(c, WOP_i64_eqz, 1, slot_at(c, h + 2)))) {
        /* select(a, b, eqz(x)) = select(b, a, x): the eqz becomes the
        ** select (64-bit test for i64.eqz). */
        uint32_t at = c->dst_at;
        bool is64 = c->code[at].h == c->H[WOP_i64_eqz];
        uint32_t x = get_opnd(c, at, 0);
        uint32_t sa = slot_of(c, h), sb = slot_of(c, h + 1);
        uint32_t p = c->prev_ins;
        if (p != NONE && p + 3 == at && c->last_ins == at && c->last_label <= p && x >= c->nl &&
            c->code[p].h == c->H[is64 ? WOP_i64_and_si : WOP_i32_and_si] && get_opnd(c, p, 2) == x) {
          /* ... and x is (y & m), a temporary: one select_and over both. */
          uint32_t y = get_opnd(c, p, 0), mask = get_opnd(c, p, 1);
          c->code[at].u64 = 0; /* the eqz's cell now holds operand 4 */
          c->code[p].h = c->H[is64 ? WOP_select_and64 : WOP_select_and];
          opnd(c, p, 0, sb);
          opnd(c, p, 1, sa);
          opnd(c, p, 2, y);
          opnd(c, p, 3, slot_at(c, h));
          opnd(c, p, 4, mask);
          c->last_ins = p;
          c->cmp_at = NONE;
          pop_n(c, 3);
          push_stk(c);
          set_dst(c, p, 3);
          break;
        }
        c->code[at].h = c->H[is64 ? WOP_select64 : WOP_select];
        opnd(c, at, 0, sb);
        opnd(c, at, 1, sa);
        opnd(c, at, 2, x);
        opnd(c, at, 3, slot_at(c, h));
        c->cmp_at = NONE;
        pop_n(c, 3);
        push_stk(c);
        set_dst(c, at, 3);
        break;
      }
      uint32_t sa = slot_of(c, h), sb = slot_of(c, h + 1), sc = slot_of(c, h + 2);
      uint32_t at = emit(c, WOP_select, 3);
      opnd(c, at, 0, sa);
      opnd(c, at, 1, sb);
      opnd(c, at, 2, sc);
      opnd(c, at, 3, slot_at(c, h));
      pop_n(c, 3);
      push_stk(c);
      set_dst(c, at, 3);
      break;
    }
    case 0x20: { /* local.get */
      uint32_t n = rd_u32(c);
      if (dead) break;
      if (is_bound(c, n)) {
        if (c->bbase2[n] != NONE) push_adds(c, c->bbase[n], c->bbase2[n], c->bimm[n]);
        else push(c, CE_ADDI, c->bbase[n], c->bimm[n]);
        if (lv_at(c) & LV_LAST) c->bbase[n] = NONE;
        break;
      }
      push(c, CE_LOC, n, 0);
      break;
    }
    case 0x21: case 0x22: { /* local.set, local.tee */
      uint32_t n = rd_u32(c);
      if (dead) break;
      local_set(c, n, op == 0x22);
      break;
    }
    case 0x23: { /* global.get */
      uint32_t g = rd_u32(c);
      if (dead) break;
      uint32_t at = emit(c, WOP_global_get, 2);
      opnd(c, at, 0, g);
      opnd(c, at, 1, slot_at(c, c->nst));
      push_stk(c);
      set_dst(c, at, 1);
      break;
    }
    case 0x24: { /* global.set */
      uint32_t g = rd_u32(c);
      if (dead) break;
      uint32_t s = slot_of(c, c->nst - 1);
      uint32_t at = emit(c, WOP_global_set, 2);
      opnd(c, at, 0, g);
      opnd(c, at, 1, s);
      pop_n(c, 1);
      break;
    }
    case 0x25: case 0x26: { /* table.get, table.set */
      uint32_t t = rd_u32(c);
      if (dead) break;
      if (op == 0x25) {
        uint32_t h = c->nst - 1;
        uint32_t si = slot_of(c, h);
        uint32_t at = emit(c, WOP_table_get, 3);
        opnd(c, at, 0, si);
        opnd(c, at, 1, slot_at(c, h));
        opnd(c, at, 2, t);
        pop_n(c, 1);
        push_stk(c);
      } else {
        uint32_t h = c->nst - 2;
        uint32_t si = slot_of(c, h), sv = slot_of(c, h + 1);
        uint32_t at = emit(c, WOP_table_set, 3);
        opnd(c, at, 0, si);
        opnd(c, at, 1, sv);
        opnd(c, at, 2, t);
        pop_n(c, 2);
      }
      break;
    }
    case 0x28: case 0x2a: case 0x35: load(c, WOP_ld32); break;
    case 0x29: case 0x2b: load(c, WOP_ld64); break;
    case 0x2c: load(c, WOP_ld8s32); break;
    case 0x2d: case 0x31: load(c, WOP_ld8u); break;
    case 0x2e: load(c, WOP_ld16s32); break;
    case 0x2f: case 0x33: load(c, WOP_ld16u); break;
    case 0x30: load(c, WOP_ld8s64); break;
    case 0x32: load(c, WOP_ld16s64); break;
    case 0x34: load(c, WOP_ld32s64); break;
    case 0x36: case 0x38: case 0x3e: store(c, WOP_st32); break;
    case 0x37: case 0x39: store(c, WOP_st64); break;
    case 0x3a: case 0x3c: store(c, WOP_st8); break;
    case 0x3b: case 0x3d: store(c, WOP_st16); break;
    case 0x3f: { /* memory.size */
      rd_u8(c);
      if (dead) break;
      uint32_t at = emit(c, WOP_memory_size, 2);
      opnd(c, at, 0, slot_at(c, c->nst));
      push_stk(c);
      break;
    }
    case 0x40: /* memory.grow */
      rd_u8(c);
      if (dead) break;
      unop(c, WOP_memory_grow);
      break;
    case 0x41: {
      int64_t v = rd_sleb(c);
      if (dead) break;
      push(c, CE_CONST, 0, (uint32_t)v);
      break;
    }
    case 0x42: {
      int64_t v = rd_sleb(c);
      if (dead) break;
      push(c, CE_CONST, 0, (uint64_t)v);
      break;
    }
    case 0x43: {
      uint64_t v = 0;
      for (int i = 0; i < 4; i++) v |= (uint64_t)rd_u8(c) << (8 * i);
      if (dead) break;
      push(c, CE_CONST, 0, v);
      break;
    }
    case 0x44: {
      uint64_t v = 0;
      for (int i = 0; i < 8; i++) v |= (uint64_t)rd_u8(c) << (8 * i);
      if (dead) break;
      push(c, CE_CONST, 0, v);
      break;
    }
    case 0x45: if (!dead) eqz(c, false); break;
    case 0x50: if (!dead) eqz(c, true); break;
    case 0xd1: if (!dead) { eqz(c, true); c->cmp_at = NONE; } break; /* ref.is_null */
    case 0xd0: /* ref.null t */
      rd_u8(c);
      if (dead) break;
      push(c, CE_CONST, 0, 0);
      break;
    case 0xd2: { /* ref.func */
      uint32_t fi = rd_u32(c);
      if (dead) break;
      uint32_t at = emit(c, WOP_ref_func, 2);
      opnd(c, at, 0, fi);
      opnd(c, at, 1, slot_at(c, c->nst));
      push_stk(c);
      break;
    }
    case 0xad: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      /* i64.extend_i32_u and the reinterpretations change no bits (i32
      ** and f32 slots are kept zero-extended). */
      break;
    case 0xfc: {
      uint32_t sub = rd_u32(c);
      if (sub <= 7) {
        if (!dead) unop(c, WOP_i32_trunc_sat_f32_s + (int)sub);
        break;
      }
      switch (sub) {
      case 8: { /* memory.init seg 0 */
        uint32_t seg = rd_u32(c);
        rd_u8(c);
        if (dead) break;
        uint32_t at = three_op(c, WOP_memory_init, 3);
        opnd(c, at, 3, seg);
        break;
      }
      case 9: { /* data.drop */
        uint32_t seg = rd_u32(c);
        if (dead) break;
        uint32_t at = emit(c, WOP_data_drop, 2);
        opnd(c, at, 0, seg);
        break;
      }
      case 10: /* memory.copy 0 0 */
        rd_u8(c);
        rd_u8(c);
        if (!dead) three_op(c, WOP_memory_copy, 3);
        break;
      case 11: /* memory.fill 0 */
        rd_u8(c);
        if (!dead) three_op(c, WOP_memory_fill, 3);
        break;
      case 12: { /* table.init seg t */
        uint32_t seg = rd_u32(c), t = rd_u32(c);
        if (dead) break;
        uint32_t at = three_op(c, WOP_table_init, 4);
        opnd(c, at, 3, t);
        opnd(c, at, 4, seg);
        break;
      }
      case 13: { /* elem.drop */
        uint32_t seg = rd_u32(c);
        if (dead) break;
        uint32_t at = emit(c, WOP_elem_drop, 2);
        opnd(c, at, 0, seg);
        break;
      }
      case 14: { /* table.copy dst src */
        uint32_t dt = rd_u32(c), stb = rd_u32(c);
        if (dead) break;
        uint32_t at = three_op(c, WOP_table_copy, 4);
        opnd(c, at, 3, dt);
        opnd(c, at, 4, stb);
        break;
      }
      case 15: { /* table.grow t: init n -> old */
        uint32_t t = rd_u32(c);
        if (dead) break;
        uint32_t h = c->nst - 2;
        uint32_t si = slot_of(c, h), sn = slot_of(c, h + 1);
        uint32_t at = emit(c, WOP_table_grow, 3);
        opnd(c, at, 0, si);
        opnd(c, at, 1, sn);
        opnd(c, at, 2, t);
        opnd(c, at, 3, slot_at(c, h));
        pop_n(c, 2);
        push_stk(c);
        break;
      }
      case 16: { /* table.size */
        uint32_t t = rd_u32(c);
        if (dead) break;
        uint32_t at = emit(c, WOP_table_size, 2);
        opnd(c, at, 0, t);
        opnd(c, at, 1, slot_at(c, c->nst));
        push_stk(c);
        break;
      }
      case 17: { /* table.fill t: i v n */
        uint32_t t = rd_u32(c);
        if (dead) break;
        uint32_t at = three_op(c, WOP_table_fill, 3);
        opnd(c, at, 3, t);
        break;
      }
      default:
        c->bad = true;
      }
      break;
    }
    default:
      if (dead) {
        /* Remaining opcodes have no immediates. */
        if (!((op >= 0x45 && op <= 0xc4))) c->bad = true;
        break;
      }
      if (op >= 0x46 && op <= 0x4f) { /* i32 compares */
        int kind = op - 0x46;
        static const int mirror_kind[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};
        int_binop(c, WOP_i32_eq_ss + 2 * kind, false, WOP_i32_eq_ss + 2 * mirror_kind[kind], kind);
      } else if (op >= 0x51 && op <= 0x5a) {
        int kind = op - 0x51;
        static const int mirror_kind[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};
        int_binop(c, WOP_i64_eq_ss + 2 * kind, true, WOP_i64_eq_ss + 2 * mirror_kind[kind], kind);
      } else if (op >= 0x5b && op <= 0x60) {
        plain_binop(c, WOP_f32_eq + (op - 0x5b));
        float_cmp(c, op - 0x5b, false);
      } else if (op >= 0x61 && op <= 0x66) {
        plain_binop(c, WOP_f64_eq + (op - 0x61));
        float_cmp(c, op - 0x61, true);
      } else if (op >= 0x67 && op <= 0x69) {
        unop(c, WOP_i32_clz + (op - 0x67));
      } else if (op == 0x6a && addi_ok(c)) {
        push_addi(c);
      } else if (op == 0x6a && adds_ok(c)) {
        push_adds(c, c->st[c->nst - 2].idx, c->st[c->nst - 1].idx, 0);
        c->st[c->nst - 3] = c->st[c->nst - 1];
        pop_n(c, 2);
      } else if (op >= 0x6a && op <= 0x78) {
        int i = op - 0x6a;
        int ss = i32_bin_ops[i];
        int_binop(c, ss, false, bin_commutes[i] ? ss : -1, -1);
      } else if (op >= 0x79 && op <= 0x7b) {
        unop(c, WOP_i64_clz + (op - 0x79));
      } else if (op >= 0x7c && op <= 0x8a) {
        int i = op - 0x7c;
        int ss = i32_bin_ops[i] - WOP_i32_add_ss + WOP_i64_add_ss;
        int_binop(c, ss, true, bin_commutes[i] ? ss : -1, -1);
      } else if (op >= 0x8b && op <= 0x91) {
        unop(c, WOP_f32_abs + (op - 0x8b));
      } else if (op >= 0x92 && op <= 0x98) {
        plain_binop(c, WOP_f32_add + (op - 0x92));
      } else if (op >= 0x99 && op <= 0x9f) {
        unop(c, WOP_f64_abs + (op - 0x99));
      } else if (op >= 0xa0 && op <= 0xa6) {
        plain_binop(c, WOP_f64_add + (op - 0xa0));
      } else if (op >= 0xa7 && op <= 0xc4) {
        static const int conv[] = {
            WOP_i32_wrap_i64, WOP_i32_trunc_f32_s, WOP_i32_trunc_f32_u, WOP_i32_trunc_f64_s,
            WOP_i32_trunc_f64_u, WOP_i64_extend32_s, -1, WOP_i64_trunc_f32_s,
            WOP_i64_trunc_f32_u, WOP_i64_trunc_f64_s, WOP_i64_trunc_f64_u, WOP_f32_convert_i32_s,
            WOP_f32_convert_i32_u, WOP_f32_convert_i64_s, WOP_f32_convert_i64_u, WOP_f32_demote_f64,
            WOP_f64_convert_i32_s, WOP_f64_convert_i32_u, WOP_f64_convert_i64_s,
            WOP_f64_convert_i64_u, WOP_f64_promote_f32, -1, -1, -1, -1,
            WOP_i32_extend8_s, WOP_i32_extend16_s, WOP_i64_extend8_s, WOP_i64_extend16_s,
            WOP_i64_extend32_s};
        int w = conv[op - 0xa7];
        if (w < 0) c->bad = true;
        else unop(c, w);
      } else {
        c->bad = true;
      }
    }
  }
  return !c->bad;
}

/* ------------------------------------------------------------ types */

bool wasm_functype_eq(const wasm_functype *a, const wasm_functype *b) {
  return a == b || (a->nparams == b->nparams && a->nresults == b->nresults &&
                    memcmp(a->types, b->types, a->nparams + a->nresults) == 0);
}

uint64_t wasm_functype_hash(const wasm_functype *t) {
  uint64_t h = 1469598103934665603ull;
  h = (h ^ t->nparams) * 1099511628211ull;
  h = (h ^ t->nresults) * 1099511628211ull;
  for (uint32_t i = 0; i < t->nparams + t->nresults; i++) h = (h ^ t->types[i]) * 1099511628211ull;
  return h;
}

/* Whether target cell `cell` belongs to a branch back to `label`: after
** it (a branch before it that lands there, as at the end of a block just
** before the loop, goes forward: the interpreter reads those targets
** without atomics, so they must never be redirected). */
static bool back_to(const wfunc *wf, uint32_t cell, uint32_t label) {
  return cell > label && wf->code[cell].u64 == label;
}

/* Keeps the loops native code may enter (cc.loops) and the branches that
** go back to them: the cells a tier-up redirects (tier.c).  Before the
** targets become pointers. */
static bool record_osr(wfunc *wf, const cc *c) {
  if (!c->nloops) return true;
  uint32_t nb = 0;
  for (uint32_t t = 0; t < c->ntg; t++)
    for (uint32_t k = 0; k < c->nloops; k++)
      if (back_to(wf, c->tg[t], c->loops[2 * k + 1])) nb++;
  wf->osr = malloc(2 * c->nloops * sizeof *wf->osr);
  wf->osr_backs = malloc((nb ? 2 * nb : 1) * sizeof *wf->osr_backs);
  if (!wf->osr || !wf->osr_backs) return false;
  memcpy(wf->osr, c->loops, 2 * c->nloops * sizeof *wf->osr);
  wf->nosr = c->nloops;
  for (uint32_t t = 0; t < c->ntg; t++)
    for (uint32_t k = 0; k < c->nloops; k++)
      if (back_to(wf, c->tg[t], c->loops[2 * k + 1])) {
        wf->osr_backs[2 * wf->nosr_backs] = c->tg[t];
        wf->osr_backs[2 * wf->nosr_backs + 1] = k;
        wf->nosr_backs++;
      }
  return true;
}

static void compiled_free(void *p) {
  wcompiled *comp = p;
  if (!comp) return;
  for (uint32_t i = 0; i < comp->nfuncs; i++) {
    free(comp->funcs[i].code);
    free(comp->funcs[i].offmap);
    free(comp->funcs[i].osr);
    free(comp->funcs[i].osr_backs);
  }
  free(comp->funcs);
  free(comp->canon);
  free(comp->type_hash);
  if (comp->pub)
    for (uint32_t i = 0; i < comp->ntypes; i++) free(comp->pub[i]);
  free(comp->pub);
  free(comp);
}

static wcompiled *compile_module(const wasm_module *m, rusm_wasm_error *err) {
  wcompiled *comp = calloc(1, sizeof *comp);
  if (!comp) goto oom;
  comp->nfuncs = m->nfuncs;
  comp->funcs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *comp->funcs);
  comp->canon = calloc(m->ntypes ? m->ntypes : 1, sizeof *comp->canon);
  comp->type_hash = calloc(m->ntypes ? m->ntypes : 1, sizeof *comp->type_hash);
  comp->pub = calloc(m->ntypes ? m->ntypes : 1, sizeof *comp->pub);
  if (!comp->funcs || !comp->canon || !comp->type_hash || !comp->pub) goto oom;
  comp->ntypes = m->ntypes;
  for (uint32_t t = 0; t < m->ntypes; t++) {
    uint32_t n = m->types[t].nparams + m->types[t].nresults;
    comp->pub[t] = malloc((n ? n : 1) * sizeof **comp->pub);
    if (!comp->pub[t]) goto oom;
    for (uint32_t k = 0; k < n; k++) comp->pub[t][k] = (rusm_wasm_valtype)m->types[t].types[k];
  }
  /* Canonical type indices through a small open-addressing table. */
  {
    uint32_t cap = 16;
    while (cap < 2 * m->ntypes) cap *= 2;
    uint32_t *ht = malloc(cap * sizeof *ht);
    if (!ht) goto oom;
    memset(ht, 0xff, cap * sizeof *ht);
    for (uint32_t t = 0; t < m->ntypes; t++) {
      uint64_t h = wasm_functype_hash(&m->types[t]);
      comp->type_hash[t] = h;
      uint32_t i = (uint32_t)h & (cap - 1);
      for (;; i = (i + 1) & (cap - 1)) {
        if (ht[i] == NONE) { ht[i] = t; comp->canon[t] = t; break; }
        if (comp->type_hash[ht[i]] == h && wasm_functype_eq(&m->types[ht[i]], &m->types[t])) {
          comp->canon[t] = ht[i];
          break;
        }
      }
    }
    free(ht);
  }
  cc c;
  memset(&c, 0, sizeof c);
  c.m = m;
  c.comp = comp;
  c.H = wasm_interp_handlers();
  lvstate ls;
  memset(&ls, 0, sizeof ls);
  c.ls = &ls;
  bool ok = true;
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    wfunc *wf = &comp->funcs[i];
    const wasm_func *f = &m->funcs[i];
    const wasm_functype *ft = &m->types[f->type];
    wf->index = i;
    wf->nparams = ft->nparams;
    wf->nresults = ft->nresults;
    wf->nlocals = f->nlocals;
    if (i < m->num_imported_funcs) continue;
    /* Pass 1 collects the constants used in loops; if there are any, a
    ** second pass gives them slots (the first pass's code is dropped). */
    c.kcollect = true;
    c.kuse = false;
    c.nk = 0;
    bool okb = compile_body(&c, i);
    if (okb && c.nk) {
      c.kcollect = false;
      c.kuse = true;
      okb = compile_body(&c, i);
    }
    c.kcollect = c.kuse = false;
    if (!okb) {
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "cannot translate function %u", i);
      ok = false;
      break;
    }
    /* On a cache line of its own: the first instructions, run on every
    ** call, then never straddle a line (a call-bound kernel like fib
    ** varied by 10% with where malloc happened to put them). */
    wf->code = aligned_alloc(64, (c.ncode * sizeof(wcell) + 63) / 64 * 64);
    wf->offmap = malloc((c.noff ? c.noff : 1) * 2 * sizeof(uint32_t));
    if (!wf->code || !wf->offmap) { ok = false; wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory"); break; }
    memcpy(wf->code, c.code, c.ncode * sizeof(wcell));
    wf->entry = wf->code;
    memcpy(wf->offmap, c.offmap, c.noff * 2 * sizeof(uint32_t));
    wf->noffmap = c.noff;
    wf->ncode = c.ncode;
    if (!record_osr(wf, &c)) { ok = false; wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory"); break; }
    for (uint32_t t = 0; t < c.ntg; t++) wf->code[c.tg[t]].tgt = wf->code + wf->code[c.tg[t]].u64;
    uint32_t fs = c.nl + c.max_h + 2;
    if (fs < wf->nresults) fs = wf->nresults;
    wf->frame_slots = fs;
    wf->frame_need = fs + WREC_SLOTS;
    /* The locals to zero on entry (read before written, or relied on
    ** being zero by an elided store), as one range. */
    uint32_t zlo = wf->nparams, zhi = wf->nparams;
    for (uint32_t l = wf->nparams; l < wf->nparams + wf->nlocals; l++) {
      if (!c.need_zero[l]) continue;
      if (zlo == zhi) zlo = l;
      zhi = l + 1;
    }
    wf->zero_from = zlo;
    wf->nzero = zhi - zlo;
    if (!GROW(&c, msites, nmsites, capmsites, 2 * (c.nmsites + c.ncalls))) { ok = false; break; }
    for (uint32_t k = 0; k < c.ncalls; k++) {
      c.msites[2 * c.nmsites] = i;
      c.msites[2 * c.nmsites + 1] = c.calls[k];
      c.nmsites++;
    }
  }
  /* Direct calls of callees that zero no local, or one, skip the loop. */
  for (uint32_t k = 0; ok && k < c.nmsites; k++) {
    wcell *ins = &comp->funcs[c.msites[2 * k]].code[c.msites[2 * k + 1]];
    const wfunc *callee = ins[2].ptr;
    if (callee->nzero <= 1) ins->h = c.H[callee->nzero ? WOP_call1 : WOP_call0];
  }
  free(c.calls);
  free(c.msites);
  free(c.code);
  free(c.st);
  free(c.ctl);
  free(c.fix);
  free(c.tg);
  free(c.loops);
  free(c.offmap);
  free(c.zero);
  free(c.narrow);
  free(c.kvals);
  free(c.lv);
  free(c.bbase);
  free(c.bbase2);
  free(c.bimm);
  free(c.blist);
  free(c.need_zero);
  free(ls.ev);
  free(ls.bb);
  free(ls.edge);
  free(ls.ctl);
  free(ls.bits);
  if (!ok) {
    compiled_free(comp);
    return NULL;
  }
  return comp;
oom:
  compiled_free(comp);
  wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
  return NULL;
}

/* The module's translation, made on first use.  The module is shared
** between threads, so the first translation to finish is published with a
** compare-and-swap and a loser frees its own. */
const wcompiled *wasm_compiled_get(const wasm_module *cm, rusm_wasm_error *err) {
  wasm_module *m = (wasm_module *)cm;
  void *cur = __atomic_load_n(&m->compiled, __ATOMIC_ACQUIRE);
  if (cur) return cur;
  wcompiled *comp = compile_module(m, err);
  if (!comp) return NULL;
  return wasm_module_hang(&m->compiled, &m->compiled_free, comp, compiled_free);
}
