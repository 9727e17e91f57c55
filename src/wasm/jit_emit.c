/*
** jit_emit.c -- Wasm function bodies to LLVM IR for the compiled tier (the
** ABI, fuel, stack check and trap contract are in jit.h).
**
** One pass over each body, in the style of a baseline compiler whose
** output LLVM then optimizes:
**   - locals are allocas in the entry block (mem2reg makes them SSA);
**   - the operand stack is a compile-time stack of LLVM values, so no
**     instruction touches memory for its operands;
**   - labels are basic blocks: a block or if merges its results in phis
**     at its end block, a loop receives its params in phis at its header;
**   - code after br/br_table/return/unreachable is skipped up to the end
**     of its block (only the nesting is tracked there);
**   - the fuel counter and memory 0's base and size live in allocas too,
**     so they are registers between the calls that reload them;
**   - every trap is a cold block calling wasm_jit_trap with the location
**     of the Wasm instruction, so the hot paths are straight-line code.
** Accesses to linear memory and to the runtime's structures carry two
** disjoint TBAA tags: a store to linear memory then does not force
** reloading globals, table sizes or the fuel slot.
**
** Each function's body is an internal function rusm_i<i> that takes and
** returns the fuel counter in registers (see internal_type); direct calls
** inside the module use it, and LLVM may inline it or drop its unused
** params.  rusm_f<i> and rusm_w<i> are its faces of jit.h's ABI, which
** keeps the counter in root->fuel_left across calls.
**
** Where LLVM's semantics and Wasm's part:
**   - recursion must exhaust the stack, so no function may turn a tail
**     call into a jump ("disable-tail-calls");
**   - LLVM may return a signaling NaN operand unquieted from min/max and
**     from the identities it folds (x * 1, fptrunc(fpext x)); Wasm wants
**     a quiet one (float_minmax, opaque_if_identity);
**   - division and remainder check their operands first (sdiv overflow
**     is undefined behaviour in LLVM, a trap or 0 in Wasm).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "jit.h"
#include "jit_emit.h"

/* ------------------------------------------------------------ state */

/* The runtime helpers compiled code calls, by address (jit.h). */
enum {
  H_TRAP, H_OUT_OF_FUEL, H_CALL_SLOW, H_TYPE_EQ, H_MEMORY_GROW, H_MEMORY_INIT, H_MEMORY_COPY,
  H_MEMORY_FILL, H_DATA_DROP, H_TABLE_GROW, H_TABLE_FILL, H_TABLE_COPY, H_TABLE_INIT,
  H_ELEM_DROP, H_COUNT
};

typedef struct jhelper {
  LLVMTypeRef ty;
  LLVMValueRef fn;           /* the address as a constant pointer */
} jhelper;

/* Per module. */
typedef struct jmod {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  const wasm_module *m;
  const wcompiled *c;
  LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr, voidt;
  LLVMValueRef *ifn;         /* rusm_i<i>: the body, internal calling convention */
  LLVMTypeRef *fnty;         /* native type by type index (lazily) */
  LLVMTypeRef *ifnty;        /* internal type by type index (lazily) */
  jhelper h[H_COUNT];
  unsigned md_prof, md_inv, md_tbaa;
  LLVMValueRef cold_weights, empty_md, tbaa_mem, tbaa_rt;
  LLVMAttributeRef a_nounwind, a_noreturn, a_cold;
  /* Wasm recursion must exhaust the stack: no tail recursion turned into
  ** a loop, no sibling calls turned into jumps. */
  LLVMAttributeRef a_no_tail;
  uint32_t max_slots;        /* most slots any call of the module needs */
} jmod;

enum { CK_FUNC, CK_BLOCK, CK_LOOP, CK_IF };

/* A control frame: a label and what its branches carry. */
typedef struct jctl {
  uint8_t kind;
  bool dead;                 /* the rest of this frame is unreachable */
  bool skip;                 /* the whole frame is inside unreachable code */
  bool has_else;
  uint32_t height;           /* operand stack height below the params */
  uint32_t nparams, nresults;
  const uint8_t *ptypes, *rtypes;
  LLVMBasicBlockRef head;    /* loop: where branches go */
  LLVMBasicBlockRef end;     /* block, if: where branches go */
  LLVMBasicBlockRef els;     /* if: the false arm */
  LLVMValueRef *phis;        /* loop: params at head; block, if: results at end */
  LLVMValueRef *ifparams;    /* if: the params, for the else arm */
  uint32_t npreds;           /* block, if: edges into end so far */
} jctl;

/* Per function. */
typedef struct jfn {
  jmod *j;
  LLVMBuilderRef b;
  LLVMValueRef fn, root, inst;
  LLVMValueRef mem;          /* the wasm_memory *, or NULL without memory */
  LLVMValueRef fuel, membase, memsize, slots; /* allocas */
  LLVMBasicBlockRef entry;
  uint32_t fidx, op_off;
  const wasm_functype *ft;
  const uint8_t *p, *end, *body;
  uint32_t body_off;
  LLVMValueRef *locals;
  LLVMTypeRef *ltypes;
  uint32_t nlocals;          /* params included */
  LLVMValueRef *st;
  uint32_t nst, capst;
  jctl *ctl;
  uint32_t nctl, capctl;
  /* The shared trap block of each kind and the phi of its offset. */
  LLVMBasicBlockRef trapbb[RUSM_WASM_TRAP_HOST + 1];
  LLVMValueRef trapoff[RUSM_WASM_TRAP_HOST + 1];
  /* The entry for on-stack replacement (rusm_o<i>, see emit_osr): the
  ** frame's slots, the switch on the loop number that jumps to each
  ** loop's head once it exists, and which loops it reaches (bit k: loop
  ** k of wfunc.osr). */
  bool osr;
  uint32_t osr_linked;
  LLVMValueRef osr_slots, osr_switch;
  bool bad;
} jfn;

static LLVMMetadataRef md_str(jmod *j, const char *s);

/* ------------------------------------------------------------ reading */

static uint8_t rd8(jfn *f) { return wasm_body_u8(&f->p, f->end, &f->bad); }
static uint64_t ruleb(jfn *f) { return wasm_body_uleb(&f->p, f->end, &f->bad); }
static int64_t rsleb(jfn *f) { return wasm_body_sleb(&f->p, f->end, &f->bad); }
static uint32_t ru32(jfn *f) { return (uint32_t)ruleb(f); }

static bool is_valtype(uint8_t b) {
  return b == WASM_I32 || b == WASM_I64 || b == WASM_F32 || b == WASM_F64 || b == WASM_FUNCREF ||
         b == WASM_EXTERNREF;
}

/* A block type: none, one value type (pointing at its byte in the body),
** or a type index (params and results, multi-value). */
static void rd_blocktype(jfn *f, jctl *k) {
  k->nparams = k->nresults = 0;
  k->ptypes = k->rtypes = NULL;
  if (f->p < f->end && *f->p == 0x40) {
    f->p++;
    return;
  }
  if (f->p < f->end && is_valtype(*f->p)) {
    k->rtypes = f->p++;
    k->nresults = 1;
    return;
  }
  int64_t t = rsleb(f);
  if (t < 0 || (uint64_t)t >= f->j->m->ntypes) {
    f->bad = true;
    return;
  }
  const wasm_functype *ft = &f->j->m->types[t];
  k->nparams = ft->nparams;
  k->nresults = ft->nresults;
  k->ptypes = ft->types;
  k->rtypes = ft->types + ft->nparams;
}

/* Skips the immediates of op in unreachable code (blocks, else and end
** are handled by the caller). */
static void skip_imm(jfn *f, uint8_t op) {
  if (op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x20 && op <= 0x26) || op == 0xd2) {
    ru32(f);
  } else if (op == 0x11 || (op >= 0x28 && op <= 0x3e)) {
    ru32(f);
    ru32(f);
  } else if (op == 0x0e) {
    uint32_t n = ru32(f);
    for (uint64_t i = 0; i <= n && !f->bad; i++) ru32(f);
  } else if (op == 0x1c) {
    uint32_t n = ru32(f);
    for (uint32_t i = 0; i < n && !f->bad; i++) rd8(f);
  } else if (op == 0x3f || op == 0x40 || op == 0xd0) {
    rd8(f);
  } else if (op == 0x41 || op == 0x42) {
    rsleb(f);
  } else if (op == 0x43 || op == 0x44) {
    for (int i = 0; i < (op == 0x43 ? 4 : 8); i++) rd8(f);
  } else if (op == 0xfc) {
    uint32_t sub = ru32(f);
    if (sub == 8) { ru32(f); rd8(f); }
    else if (sub == 10) { rd8(f); rd8(f); }
    else if (sub == 11) rd8(f);
    else if (sub == 12 || sub == 14) { ru32(f); ru32(f); }
    else if (sub == 9 || sub == 13 || (sub >= 15 && sub <= 17)) ru32(f);
  }
}

/* ------------------------------------------------------------ types */

static LLVMTypeRef vtype(const jmod *j, uint8_t t) {
  switch (t) {
  case WASM_I32: return j->i32;
  case WASM_I64: return j->i64;
  case WASM_F32: return j->f32;
  case WASM_F64: return j->f64;
  default: return j->ptr;
  }
}

static LLVMTypeRef ret_type(jmod *j, uint32_t n, const uint8_t *types) {
  if (n == 0) return j->voidt;
  if (n == 1) return vtype(j, types[0]);
  LLVMTypeRef *el = malloc(n * sizeof *el);
  if (!el) return NULL;
  for (uint32_t i = 0; i < n; i++) el[i] = vtype(j, types[i]);
  LLVMTypeRef t = LLVMStructTypeInContext(j->ctx, el, n, 0);
  free(el);
  return t;
}

/* The native type of functions of Wasm type index t (jit.h's ABI). */
static LLVMTypeRef native_type(jmod *j, uint32_t t) {
  if (j->fnty[t]) return j->fnty[t];
  const wasm_functype *ft = &j->m->types[t];
  LLVMTypeRef *ps = malloc((ft->nparams + 2) * sizeof *ps);
  LLVMTypeRef rt = ret_type(j, ft->nresults, ft->types + ft->nparams);
  if (!ps || !rt) {
    free(ps);
    return NULL;
  }
  ps[0] = ps[1] = j->ptr;
  for (uint32_t i = 0; i < ft->nparams; i++) ps[2 + i] = vtype(j, ft->types[i]);
  j->fnty[t] = LLVMFunctionType(rt, ps, ft->nparams + 2, 0);
  free(ps);
  return j->fnty[t];
}

/* The internal type of functions of type index t: the fuel counter is
** passed in and returned with the results, in registers, instead of
** through root->fuel_left around every call:
**     {i64 fuel, R0, ..., Rm} f(root, inst, i64 fuel, P0, ..., Pn)
** (just i64 without results).  Only direct calls inside the module use
** it; rusm_f<i> and rusm_w<i> are its jit.h faces. */
static LLVMTypeRef internal_type(jmod *j, uint32_t t) {
  if (j->ifnty[t]) return j->ifnty[t];
  const wasm_functype *ft = &j->m->types[t];
  uint32_t np = ft->nparams, nr = ft->nresults;
  LLVMTypeRef *ps = malloc((np + 3) * sizeof *ps), *rs = malloc((nr + 1) * sizeof *rs);
  if (!ps || !rs) {
    free(ps);
    free(rs);
    return NULL;
  }
  ps[0] = ps[1] = j->ptr;
  ps[2] = rs[0] = j->i64;
  for (uint32_t i = 0; i < np; i++) ps[3 + i] = vtype(j, ft->types[i]);
  for (uint32_t i = 0; i < nr; i++) rs[1 + i] = vtype(j, ft->types[np + i]);
  LLVMTypeRef rt = nr ? LLVMStructTypeInContext(j->ctx, rs, nr + 1, 0) : j->i64;
  j->ifnty[t] = LLVMFunctionType(rt, ps, np + 3, 0);
  free(ps);
  free(rs);
  return j->ifnty[t];
}

/* ------------------------------------------------------------ building */

static LLVMValueRef k32(jfn *f, uint32_t v) { return LLVMConstInt(f->j->i32, v, 0); }
static LLVMValueRef k64(jfn *f, uint64_t v) { return LLVMConstInt(f->j->i64, v, 0); }

static LLVMBasicBlockRef new_bb(jfn *f) { return LLVMAppendBasicBlockInContext(f->j->ctx, f->fn, ""); }

static void at_end(jfn *f, LLVMBasicBlockRef bb) { LLVMPositionBuilderAtEnd(f->b, bb); }

static LLVMValueRef field(jfn *f, LLVMValueRef base, uint64_t off) {
  if (!off) return base;
  LLVMValueRef idx = k64(f, off);
  return LLVMBuildInBoundsGEP2(f->b, f->j->i8, base, &idx, 1, "");
}

static void set_md(LLVMValueRef ins, unsigned kind, LLVMValueRef md) { LLVMSetMetadata(ins, kind, md); }

/* A field of a runtime structure. */
static LLVMValueRef ld_rt(jfn *f, LLVMTypeRef t, LLVMValueRef base, uint64_t off) {
  LLVMValueRef v = LLVMBuildLoad2(f->b, t, field(f, base, off), "");
  set_md(v, f->j->md_tbaa, f->j->tbaa_rt);
  return v;
}
/* A pointer fixed for the instance's life (inst->funcs, ->tables[t], ...). */
static LLVMValueRef ld_fixed(jfn *f, LLVMValueRef base, uint64_t off) {
  LLVMValueRef v = ld_rt(f, f->j->ptr, base, off);
  set_md(v, f->j->md_inv, f->j->empty_md);
  return v;
}
static void st_rt(jfn *f, LLVMValueRef v, LLVMValueRef base, uint64_t off) {
  LLVMValueRef s = LLVMBuildStore(f->b, v, field(f, base, off));
  set_md(s, f->j->md_tbaa, f->j->tbaa_rt);
}

static LLVMValueRef ld_var(jfn *f, LLVMTypeRef t, LLVMValueRef var) {
  return LLVMBuildLoad2(f->b, t, var, "");
}

static LLVMValueRef call_h(jfn *f, int h, LLVMValueRef *args, unsigned n) {
  LLVMValueRef r = LLVMBuildCall2(f->b, f->j->h[h].ty, f->j->h[h].fn, args, n, "");
  LLVMAddCallSiteAttribute(r, LLVMAttributeFunctionIndex, f->j->a_nounwind);
  return r;
}

static LLVMValueRef intrinsic(jfn *f, const char *name, LLVMTypeRef *ovl, unsigned novl,
                              LLVMValueRef *args, unsigned nargs) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(f->j->mod, id, ovl, novl);
  LLVMTypeRef ty = LLVMIntrinsicGetType(f->j->ctx, id, ovl, novl);
  return LLVMBuildCall2(f->b, ty, fn, args, nargs, "");
}
static LLVMValueRef intrinsic1(jfn *f, const char *name, LLVMValueRef x) {
  LLVMTypeRef t = LLVMTypeOf(x);
  return intrinsic(f, name, &t, 1, &x, 1);
}
static LLVMValueRef intrinsic2(jfn *f, const char *name, LLVMValueRef x, LLVMValueRef y) {
  LLVMTypeRef t = LLVMTypeOf(x);
  LLVMValueRef a[2] = {x, y};
  return intrinsic(f, name, &t, 1, a, 2);
}

/* ------------------------------------------------------------ operand stack */

static void push(jfn *f, LLVMValueRef v) {
  if (f->nst == f->capst) {
    uint32_t nc = f->capst ? 2 * f->capst : 16;
    LLVMValueRef *ns = realloc(f->st, nc * sizeof *ns);
    if (!ns) {
      f->bad = true;
      return;
    }
    f->st = ns;
    f->capst = nc;
  }
  f->st[f->nst++] = v;
}
static LLVMValueRef pop(jfn *f) {
  if (f->nst == 0 || f->nst <= f->ctl[f->nctl - 1].height) {
    /* Validated code never gets here; keep going without crashing. */
    f->bad = true;
    return LLVMGetUndef(f->j->i32);
  }
  return f->st[--f->nst];
}
/* The top n values (still on the stack). */
static LLVMValueRef *top(jfn *f, uint32_t n) {
  if (f->nst < n) {
    f->bad = true;
    return NULL;
  }
  return f->st + f->nst - n;
}

/* ------------------------------------------------------------ fuel, memory, traps */

static void fuel_spill(jfn *f) {
  st_rt(f, ld_var(f, f->j->i64, f->fuel), f->root, offsetof(rusm_wasm_exec, fuel_left));
}
static void fuel_reload(jfn *f) {
  LLVMBuildStore(f->b, ld_rt(f, f->j->i64, f->root, offsetof(rusm_wasm_exec, fuel_left)), f->fuel);
}
/* Memory 0 may have moved or grown: its base and size again. */
static void mem_reload(jfn *f) {
  if (!f->mem) return;
  LLVMBuildStore(f->b, ld_rt(f, f->j->ptr, f->mem, offsetof(wasm_memory, base)), f->membase);
  LLVMBuildStore(f->b, ld_rt(f, f->j->i64, f->mem, offsetof(wasm_memory, size)), f->memsize);
}
static void after_call(jfn *f) {
  fuel_reload(f);
  mem_reload(f);
}

/* A branch whose true side is the cold one (traps, out of fuel). */
static void br_cold(jfn *f, LLVMValueRef cond, LLVMBasicBlockRef cold, LLVMBasicBlockRef hot) {
  LLVMValueRef br = LLVMBuildCondBr(f->b, cond, cold, hot);
  LLVMSetMetadata(br, f->j->md_prof, f->j->cold_weights);
}

/* Ends the current block with a trap (kind, offset: i32 values). */
static void emit_trap_at(jfn *f, LLVMValueRef kind, LLVMValueRef off) {
  fuel_spill(f);
  LLVMValueRef a[4] = {f->root, kind, k32(f, f->fidx), off};
  LLVMValueRef c = call_h(f, H_TRAP, a, 4);
  LLVMAddCallSiteAttribute(c, LLVMAttributeFunctionIndex, f->j->a_noreturn);
  LLVMAddCallSiteAttribute(c, LLVMAttributeFunctionIndex, f->j->a_cold);
  LLVMBuildUnreachable(f->b);
}
/* ... at the current instruction. */
static void emit_trap_kind(jfn *f, LLVMValueRef kind) { emit_trap_at(f, kind, k32(f, f->op_off)); }
static void emit_trap(jfn *f, uint32_t kind) { emit_trap_kind(f, k32(f, kind)); }

/* Traps with kind at the current instruction if cond holds.  All the
** checks of one kind in a function share one trap block, the offset
** coming in through a phi: each check then costs the machine code one
** constant and a jump instead of a whole call sequence. */
static void trap_if(jfn *f, LLVMValueRef cond, uint32_t kind) {
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(f->b), ok = new_bb(f);
  if (!f->trapbb[kind]) {
    f->trapbb[kind] = new_bb(f);
    at_end(f, f->trapbb[kind]);
    f->trapoff[kind] = LLVMBuildPhi(f->b, f->j->i32, "");
    emit_trap_at(f, k32(f, kind), f->trapoff[kind]);
    at_end(f, cur);
  }
  LLVMValueRef off = k32(f, f->op_off);
  LLVMAddIncoming(f->trapoff[kind], &off, &cur, 1);
  br_cold(f, cond, f->trapbb[kind], ok);
  at_end(f, ok);
}
/* A helper's result: a trap kind, 0 for none. */
static void trap_unless_zero(jfn *f, LLVMValueRef kind) {
  LLVMBasicBlockRef t = new_bb(f), ok = new_bb(f);
  br_cold(f, LLVMBuildICmp(f->b, LLVMIntNE, kind, k32(f, 0), ""), t, ok);
  at_end(f, t);
  emit_trap_kind(f, kind);
  at_end(f, ok);
}

/* One unit of fuel (function entry, backward branches).  An engine built
** with -DRUSM_WASM_NO_FUEL (only to measure what fuel costs) charges none. */
static void fuel_charge(jfn *f) {
#ifdef RUSM_WASM_NO_FUEL
  (void)f;
#else
  LLVMValueRef v = LLVMBuildSub(f->b, ld_var(f, f->j->i64, f->fuel), k64(f, 1), "");
  LLVMBuildStore(f->b, v, f->fuel);
  LLVMBasicBlockRef out = new_bb(f), ok = new_bb(f);
  br_cold(f, LLVMBuildICmp(f->b, LLVMIntSLT, v, k64(f, 0), ""), out, ok);
  at_end(f, out);
  fuel_spill(f);
  LLVMValueRef r = call_h(f, H_OUT_OF_FUEL, &f->root, 1);
  LLVMAddCallSiteAttribute(r, LLVMAttributeFunctionIndex, f->j->a_cold);
  LLVMBuildStore(f->b, r, f->fuel);
  mem_reload(f);
  LLVMBuildBr(f->b, ok);
  at_end(f, ok);
#endif
}

/* ------------------------------------------------------------ control frames */

static void free_ctl(jctl *k) {
  free(k->phis);
  free(k->ifparams);
  k->phis = k->ifparams = NULL;
}

static jctl *push_ctl(jfn *f, uint8_t kind) {
  if (f->nctl == f->capctl) {
    uint32_t nc = f->capctl ? 2 * f->capctl : 8;
    jctl *nk = realloc(f->ctl, nc * sizeof *nk);
    if (!nk) {
      f->bad = true;
      return NULL;
    }
    f->ctl = nk;
    f->capctl = nc;
  }
  jctl *k = &f->ctl[f->nctl++];
  memset(k, 0, sizeof *k);
  k->kind = kind;
  return k;
}

static void pop_ctl(jfn *f) {
  free_ctl(&f->ctl[f->nctl - 1]);
  f->nctl--;
}

/* Phis of the given types at the start of bb (empty so far). */
static LLVMValueRef *make_phis(jfn *f, LLVMBasicBlockRef bb, uint32_t n, const uint8_t *types) {
  LLVMValueRef *ph = calloc(n ? n : 1, sizeof *ph);
  if (!ph) {
    f->bad = true;
    return NULL;
  }
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(f->b);
  at_end(f, bb);
  for (uint32_t i = 0; i < n; i++) ph[i] = LLVMBuildPhi(f->b, vtype(f->j, types[i]), "");
  at_end(f, cur);
  return ph;
}

static void add_incoming(jfn *f, LLVMValueRef *phis, uint32_t n, LLVMValueRef *vals) {
  LLVMBasicBlockRef from = LLVMGetInsertBlock(f->b);
  for (uint32_t i = 0; i < n && vals; i++) LLVMAddIncoming(phis[i], &vals[i], &from, 1);
}

static void slot_store(jfn *f, LLVMValueRef buf, uint32_t i, LLVMValueRef v);

static void emit_return(jfn *f) {
  uint32_t n = f->ft->nresults;
  LLVMValueRef *v = top(f, n);
  if (!v) return;
  LLVMValueRef fuel = ld_var(f, f->j->i64, f->fuel);
  if (f->osr) {
    /* As a slot wrapper: results to the frame, fuel to the root. */
    for (uint32_t i = 0; i < n; i++) slot_store(f, f->osr_slots, i, v[i]);
    st_rt(f, fuel, f->root, offsetof(rusm_wasm_exec, fuel_left));
    LLVMBuildRetVoid(f->b);
    return;
  }
  if (n == 0) {
    LLVMBuildRet(f->b, fuel);
    return;
  }
  LLVMValueRef agg = LLVMGetUndef(LLVMGetReturnType(LLVMGlobalGetValueType(f->fn)));
  agg = LLVMBuildInsertValue(f->b, agg, fuel, 0, "");
  for (uint32_t i = 0; i < n; i++) agg = LLVMBuildInsertValue(f->b, agg, v[i], 1 + i, "");
  LLVMBuildRet(f->b, agg);
}

/* Branches to label d from the current block (which this terminates),
** carrying the top values.  The stack is left as it was. */
static void emit_br(jfn *f, uint32_t d) {
  if (d >= f->nctl) {
    f->bad = true;
    return;
  }
  jctl *t = &f->ctl[f->nctl - 1 - d];
  if (t->kind == CK_FUNC) {
    emit_return(f);
  } else if (t->kind == CK_LOOP) {
    fuel_charge(f);
    add_incoming(f, t->phis, t->nparams, top(f, t->nparams));
    LLVMBuildBr(f->b, t->head);
  } else {
    add_incoming(f, t->phis, t->nresults, top(f, t->nresults));
    t->npreds++;
    LLVMBuildBr(f->b, t->end);
  }
}

static void set_dead(jfn *f) { f->ctl[f->nctl - 1].dead = true; }

static void op_block(jfn *f, uint8_t op) {
  jctl tmp;
  rd_blocktype(f, &tmp);
  bool dead = f->ctl[f->nctl - 1].dead;
  LLVMValueRef cond = op == 0x04 && !dead ? pop(f) : NULL;
  jctl *k = push_ctl(f, op == 0x02 ? CK_BLOCK : op == 0x03 ? CK_LOOP : CK_IF);
  if (!k) return;
  if (dead) {
    k->skip = k->dead = true;
    return;
  }
  k->nparams = tmp.nparams;
  k->nresults = tmp.nresults;
  k->ptypes = tmp.ptypes;
  k->rtypes = tmp.rtypes;
  if (f->nst < k->nparams) {
    f->bad = true;
    return;
  }
  k->height = f->nst - k->nparams;
  if (op == 0x03) {
    k->head = new_bb(f);
    k->phis = make_phis(f, k->head, k->nparams, k->ptypes);
    if (!k->phis) return;
    add_incoming(f, k->phis, k->nparams, top(f, k->nparams));
    LLVMBuildBr(f->b, k->head);
    if (f->osr && k->nparams == 0 && k->height == 0) {
      /* A loop the interpreter may hand over at: the entry's switch
      ** jumps here for its number.  Outermost loops only (the translator
      ** lists no others): an edge into an inner loop would give its outer
      ** loop a second entry, which LLVM's loop passes do not handle. */
      const wfunc *wf = &f->j->c->funcs[f->fidx];
      for (uint32_t n = 0; n < wf->nosr; n++)
        if (wf->osr[2 * n] == f->op_off && !(f->osr_linked & (1u << n))) {
          LLVMAddCase(f->osr_switch, k32(f, n), k->head);
          f->osr_linked |= 1u << n;
        }
    }
    at_end(f, k->head);
    f->nst = k->height;
    for (uint32_t i = 0; i < k->nparams; i++) push(f, k->phis[i]);
    return;
  }
  k->end = new_bb(f);
  k->phis = make_phis(f, k->end, k->nresults, k->rtypes);
  if (op == 0x04) {
    k->ifparams = malloc((k->nparams ? k->nparams : 1) * sizeof *k->ifparams);
    if (!k->ifparams) {
      f->bad = true;
      return;
    }
    memcpy(k->ifparams, top(f, k->nparams), k->nparams * sizeof *k->ifparams);
    LLVMBasicBlockRef then = new_bb(f);
    k->els = new_bb(f);
    LLVMBuildCondBr(f->b, LLVMBuildICmp(f->b, LLVMIntNE, cond, k32(f, 0), ""), then, k->els);
    at_end(f, then);
  }
}

static void op_else(jfn *f) {
  jctl *k = &f->ctl[f->nctl - 1];
  if (k->skip) return;
  if (!k->dead) emit_br(f, 0);
  at_end(f, k->els);
  f->nst = k->height;
  for (uint32_t i = 0; i < k->nparams; i++) push(f, k->ifparams[i]);
  k->has_else = true;
  k->dead = false;
}

static void op_end(jfn *f) {
  jctl *k = &f->ctl[f->nctl - 1];
  if (k->skip) {
    pop_ctl(f);
    return;
  }
  if (k->kind == CK_FUNC) {
    if (!k->dead) emit_return(f);
    pop_ctl(f);
    return;
  }
  if (k->kind == CK_LOOP) {
    /* Falling out of a loop is the only way to its end. */
    bool dead = k->dead;
    uint32_t h = k->height;
    pop_ctl(f);
    if (dead) {
      f->nst = h;
      set_dead(f);
    }
    return;
  }
  if (!k->dead) emit_br(f, 0);
  if (k->kind == CK_IF && !k->has_else) {
    /* No else: the params go through as the results. */
    at_end(f, k->els);
    add_incoming(f, k->phis, k->nresults, k->ifparams);
    k->npreds++;
    LLVMBuildBr(f->b, k->end);
  }
  f->nst = k->height;
  if (k->npreds == 0) {
    LLVMDeleteBasicBlock(k->end);
    pop_ctl(f);
    set_dead(f);
    return;
  }
  at_end(f, k->end);
  for (uint32_t i = 0; i < k->nresults; i++) push(f, k->phis[i]);
  pop_ctl(f);
}

static void op_br_if(jfn *f, uint32_t d) {
  LLVMValueRef cond = LLVMBuildICmp(f->b, LLVMIntNE, pop(f), k32(f, 0), "");
  if (d >= f->nctl) {
    f->bad = true;
    return;
  }
  jctl *t = &f->ctl[f->nctl - 1 - d];
  LLVMBasicBlockRef cont = new_bb(f);
  if (t->kind == CK_BLOCK || t->kind == CK_IF) {
    add_incoming(f, t->phis, t->nresults, top(f, t->nresults));
    t->npreds++;
    LLVMBuildCondBr(f->b, cond, t->end, cont);
  } else {
    LLVMBasicBlockRef taken = new_bb(f);
    LLVMBuildCondBr(f->b, cond, taken, cont);
    at_end(f, taken);
    emit_br(f, d);
  }
  at_end(f, cont);
}

/* Every distinct target gets a block of its own that does the branch, so
** that the switch's edges never reach a phi twice. */
static void op_br_table(jfn *f) {
  uint32_t n = ru32(f);
  if (n > (uint32_t)(f->end - f->p)) {
    f->bad = true;
    return;
  }
  uint32_t *ds = malloc(((size_t)n + 1) * sizeof *ds);
  LLVMBasicBlockRef *by_depth = calloc(f->nctl, sizeof *by_depth);
  if (!ds || !by_depth) {
    free(ds);
    free(by_depth);
    f->bad = true;
    return;
  }
  for (uint32_t i = 0; i <= n; i++) {
    ds[i] = ru32(f);
    if (ds[i] >= f->nctl) f->bad = true;
  }
  if (!f->bad) {
    LLVMValueRef idx = pop(f);
    for (uint32_t i = 0; i <= n; i++)
      if (!by_depth[ds[i]]) by_depth[ds[i]] = new_bb(f);
    LLVMValueRef sw = LLVMBuildSwitch(f->b, idx, by_depth[ds[n]], n);
    for (uint32_t i = 0; i < n; i++) LLVMAddCase(sw, k32(f, i), by_depth[ds[i]]);
    for (uint32_t d = 0; d < f->nctl; d++) {
      if (!by_depth[d]) continue;
      at_end(f, by_depth[d]);
      emit_br(f, d);
    }
    set_dead(f);
  }
  free(ds);
  free(by_depth);
}

/* ------------------------------------------------------------ calls */

/* The slot buffer of slow calls (one per function, in the entry block). */
static LLVMValueRef slot_buf(jfn *f) {
  if (f->slots) return f->slots;
  LLVMBuilderRef ab = LLVMCreateBuilderInContext(f->j->ctx);
  LLVMValueRef first = LLVMGetFirstInstruction(f->entry);
  if (first) LLVMPositionBuilderBefore(ab, first);
  else LLVMPositionBuilderAtEnd(ab, f->entry);
  LLVMTypeRef t = LLVMArrayType2(f->j->i64, f->j->max_slots);
  f->slots = LLVMBuildAlloca(ab, t, "");
  LLVMSetAlignment(f->slots, 8);
  LLVMDisposeBuilder(ab);
  return f->slots;
}

/* wslot i of buf as type t: i32 and f32 are the low half, zero-extended. */
static LLVMValueRef slot_load(jfn *f, LLVMValueRef buf, uint32_t i, LLVMTypeRef t) {
  return LLVMBuildLoad2(f->b, t, field(f, buf, 8ull * i), "");
}
static void slot_store(jfn *f, LLVMValueRef buf, uint32_t i, LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  if (t == f->j->f32) v = LLVMBuildBitCast(f->b, v, f->j->i32, "");
  if (t == f->j->f32 || t == f->j->i32) v = LLVMBuildZExt(f->b, v, f->j->i64, "");
  LLVMBuildStore(f->b, v, field(f, buf, 8ull * i));
}

/* Pops the params of t into args[k..] (args[0..1] are root and inst,
** args[2] the fuel for the internal convention, k = 3). */
static LLVMValueRef *call_args(jfn *f, const wasm_functype *t, uint32_t k) {
  LLVMValueRef *a = malloc((t->nparams + k) * sizeof *a);
  LLVMValueRef *v = top(f, t->nparams);
  if (!a || !v) {
    free(a);
    f->bad = true;
    return NULL;
  }
  memcpy(a + k, v, t->nparams * sizeof *a);
  f->nst -= t->nparams;
  a[0] = f->root;
  a[1] = f->inst;
  return a;
}

static void call_through(jfn *f, LLVMValueRef fi, uint32_t tidx, const wasm_functype *t);

static void result_values(jfn *f, const wasm_functype *t, LLVMValueRef r, LLVMValueRef *out) {
  if (t->nresults == 1) out[0] = r;
  else
    for (uint32_t i = 0; i < t->nresults; i++) out[i] = LLVMBuildExtractValue(f->b, r, i, "");
}

/* A direct call of defined function i (internal convention) with args
** from a[3..]: returns the fuel left and writes the results to out. */
static LLVMValueRef call_internal(jfn *f, uint32_t i, LLVMValueRef *a, LLVMValueRef fuel,
                                  LLVMValueRef *out) {
  const wasm_module *m = f->j->m;
  const wasm_functype *t = &m->types[m->funcs[i].type];
  a[2] = fuel;
  LLVMValueRef r = LLVMBuildCall2(f->b, internal_type(f->j, m->funcs[i].type), f->j->ifn[i], a,
                                  t->nparams + 3, "");
  if (!t->nresults) return r;
  for (uint32_t k = 0; k < t->nresults; k++) out[k] = LLVMBuildExtractValue(f->b, r, 1 + k, "");
  return LLVMBuildExtractValue(f->b, r, 0, "");
}

static void op_call(jfn *f, uint32_t callee) {
  const wasm_module *m = f->j->m;
  if (callee >= m->nfuncs) {
    f->bad = true;
    return;
  }
  const wasm_functype *t = &m->types[m->funcs[callee].type];
  if (callee < m->num_imported_funcs) {
    LLVMValueRef fi = ld_fixed(f, ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, funcs)),
                               8ull * callee);
    call_through(f, fi, m->funcs[callee].type, t);
    return;
  }
  LLVMValueRef *a = call_args(f, t, 3);
  if (!a) return;
  LLVMValueRef res[t->nresults ? t->nresults : 1];
  LLVMBuildStore(f->b, call_internal(f, callee, a, ld_var(f, f->j->i64, f->fuel), res), f->fuel);
  free(a);
  for (uint32_t i = 0; i < t->nresults; i++) push(f, res[i]);
  mem_reload(f);
}

/* A call through function instance fi (an import, or call_indirect):
** natively if it has a native entry, else through wasm_jit_call_slow. */
static void call_through(jfn *f, LLVMValueRef fi, uint32_t tidx, const wasm_functype *t) {
  LLVMValueRef *a = call_args(f, t, 2);
  if (!a) return;
  uint32_t nr = t->nresults;
  LLVMValueRef rn[nr ? nr : 1], rs[nr ? nr : 1];
  fuel_spill(f);
  /* Atomic (a plain load on x86-64): a tier-up on another thread may set
  ** it while this runs (tier.c). */
  LLVMValueRef nat = ld_rt(f, f->j->ptr, fi, offsetof(wfuncinst, jit_native));
  LLVMSetOrdering(nat, LLVMAtomicOrderingMonotonic);
  LLVMSetAlignment(nat, sizeof(void *));
  LLVMBasicBlockRef bn = new_bb(f), bs = new_bb(f), join = new_bb(f);
  LLVMBuildCondBr(f->b, LLVMBuildIsNotNull(f->b, nat, ""), bn, bs);

  at_end(f, bn);
  a[1] = ld_fixed(f, fi, offsetof(wfuncinst, inst));
  LLVMValueRef r = LLVMBuildCall2(f->b, native_type(f->j, tidx), nat, a, t->nparams + 2, "");
  result_values(f, t, r, rn);
  bn = LLVMGetInsertBlock(f->b);
  LLVMBuildBr(f->b, join);

  at_end(f, bs);
  LLVMValueRef buf = slot_buf(f);
  for (uint32_t i = 0; i < t->nparams; i++) slot_store(f, buf, i, a[2 + i]);
  uint64_t where = (uint64_t)f->fidx << 32 | f->op_off;
  LLVMValueRef sa[5] = {f->root, f->inst, fi, buf, k64(f, where)};
  call_h(f, H_CALL_SLOW, sa, 5);
  for (uint32_t i = 0; i < nr; i++) rs[i] = slot_load(f, buf, i, vtype(f->j, t->types[t->nparams + i]));
  bs = LLVMGetInsertBlock(f->b);
  LLVMBuildBr(f->b, join);

  at_end(f, join);
  for (uint32_t i = 0; i < nr; i++) {
    LLVMValueRef ph = LLVMBuildPhi(f->b, LLVMTypeOf(rn[i]), "");
    LLVMValueRef v[2] = {rn[i], rs[i]};
    LLVMBasicBlockRef from[2] = {bn, bs};
    LLVMAddIncoming(ph, v, from, 2);
    push(f, ph);
  }
  free(a);
  after_call(f);
}

static void op_call_indirect(jfn *f, uint32_t tidx, uint32_t tab) {
  const wasm_module *m = f->j->m;
  if (tidx >= m->ntypes || tab >= m->ntables) {
    f->bad = true;
    return;
  }
  const wasm_functype *want = &m->types[f->j->c->canon[tidx]];
  LLVMValueRef i = pop(f);
  LLVMValueRef t = ld_fixed(f, ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, tables)), 8ull * tab);
  LLVMValueRef size = ld_rt(f, f->j->i32, t, offsetof(wtable, size));
  trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGE, i, size, ""), RUSM_WASM_TRAP_UNDEFINED_ELEMENT);
  LLVMValueRef elems = ld_rt(f, f->j->ptr, t, offsetof(wtable, elems));
  LLVMValueRef idx = LLVMBuildZExt(f->b, i, f->j->i64, "");
  LLVMValueRef slot = LLVMBuildInBoundsGEP2(f->b, f->j->ptr, elems, &idx, 1, "");
  LLVMValueRef g = LLVMBuildLoad2(f->b, f->j->ptr, slot, "");
  set_md(g, f->j->md_tbaa, f->j->tbaa_rt);
  trap_if(f, LLVMBuildIsNull(f->b, g, ""), RUSM_WASM_TRAP_UNINITIALIZED_ELEMENT);
  /* Same-module types are one canonical pointer; others compare by
  ** structure, out of line. */
  LLVMValueRef wantp = LLVMConstIntToPtr(k64(f, (uintptr_t)want), f->j->ptr);
  LLVMValueRef gt = ld_rt(f, f->j->ptr, g, offsetof(wfuncinst, type));
  LLVMBasicBlockRef slow = new_bb(f), ok = new_bb(f);
  br_cold(f, LLVMBuildICmp(f->b, LLVMIntNE, gt, wantp, ""), slow, ok);
  at_end(f, slow);
  LLVMValueRef ea[2] = {g, wantp};
  LLVMValueRef eq = call_h(f, H_TYPE_EQ, ea, 2);
  LLVMBasicBlockRef bad = new_bb(f);
  br_cold(f, LLVMBuildICmp(f->b, LLVMIntEQ, eq, k32(f, 0), ""), bad, ok);
  at_end(f, bad);
  emit_trap(f, RUSM_WASM_TRAP_INDIRECT_CALL_TYPE);
  at_end(f, ok);
  call_through(f, g, f->j->c->canon[tidx], want);
}

/* ------------------------------------------------------------ memory */

/* The host address of an access of n bytes at addr + offset, after the
** bounds check. */
static LLVMValueRef mem_addr(jfn *f, LLVMValueRef addr, uint64_t offset, unsigned n) {
  LLVMValueRef ea = LLVMBuildZExt(f->b, addr, f->j->i64, "");
  if (offset) ea = LLVMBuildNUWAdd(f->b, ea, k64(f, offset), "");
  LLVMValueRef last = LLVMBuildNUWAdd(f->b, ea, k64(f, n), "");
  LLVMValueRef size = ld_var(f, f->j->i64, f->memsize);
  trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGT, last, size, ""), RUSM_WASM_TRAP_OOB_MEMORY);
  LLVMValueRef base = ld_var(f, f->j->ptr, f->membase);
  return LLVMBuildInBoundsGEP2(f->b, f->j->i8, base, &ea, 1, "");
}

static void op_load(jfn *f, uint8_t op) {
  /* By opcode 0x28..0x35: bytes, result type, sign-extending. */
  static const struct { uint8_t n, vt; bool s; } L[] = {
      {4, WASM_I32, 0}, {8, WASM_I64, 0}, {4, WASM_F32, 0}, {8, WASM_F64, 0},
      {1, WASM_I32, 1}, {1, WASM_I32, 0}, {2, WASM_I32, 1}, {2, WASM_I32, 0},
      {1, WASM_I64, 1}, {1, WASM_I64, 0}, {2, WASM_I64, 1}, {2, WASM_I64, 0},
      {4, WASM_I64, 1}, {4, WASM_I64, 0}};
  ru32(f);
  uint64_t off = ru32(f);
  const jmod *j = f->j;
  unsigned n = L[op - 0x28].n;
  LLVMTypeRef rt = vtype(j, L[op - 0x28].vt);
  LLVMTypeRef mt = op <= 0x2b ? rt : n == 1 ? j->i8 : n == 2 ? j->i16 : j->i32;
  LLVMValueRef p = mem_addr(f, pop(f), off, n);
  LLVMValueRef v = LLVMBuildLoad2(f->b, mt, p, "");
  LLVMSetAlignment(v, 1);
  set_md(v, j->md_tbaa, j->tbaa_mem);
  if (mt != rt) v = L[op - 0x28].s ? LLVMBuildSExt(f->b, v, rt, "") : LLVMBuildZExt(f->b, v, rt, "");
  push(f, v);
}

static void op_store(jfn *f, uint8_t op) {
  /* By opcode 0x36..0x3e: bytes stored. */
  static const uint8_t N[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
  ru32(f);
  uint64_t off = ru32(f);
  unsigned n = N[op - 0x36];
  LLVMValueRef v = pop(f);
  LLVMValueRef p = mem_addr(f, pop(f), off, n);
  if (op >= 0x3a) v = LLVMBuildTrunc(f->b, v, LLVMIntTypeInContext(f->j->ctx, 8 * n), "");
  LLVMValueRef s = LLVMBuildStore(f->b, v, p);
  LLVMSetAlignment(s, 1);
  set_md(s, f->j->md_tbaa, f->j->tbaa_mem);
}

static void op_memory_grow(jfn *f) {
  LLVMValueRef a[2] = {f->inst, pop(f)};
  push(f, call_h(f, H_MEMORY_GROW, a, 2));
  mem_reload(f);
}

/* A bulk memory or table helper taking inst, its immediates, then the
** top n operands; traps with the kind it returns. */
static void bulk_op(jfn *f, int h, const uint32_t *imm, unsigned nimm, unsigned n) {
  LLVMValueRef a[8];
  a[0] = f->inst;
  for (unsigned i = 0; i < nimm; i++) a[1 + i] = k32(f, imm[i]);
  LLVMValueRef *v = top(f, n);
  if (!v) return;
  memcpy(a + 1 + nimm, v, n * sizeof *a);
  f->nst -= n;
  LLVMValueRef r = call_h(f, h, a, 1 + nimm + n);
  if (h != H_DATA_DROP && h != H_ELEM_DROP) trap_unless_zero(f, r);
  mem_reload(f);
}

/* ------------------------------------------------------------ tables, globals */

static LLVMValueRef table_ptr(jfn *f, uint32_t t) {
  return ld_fixed(f, ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, tables)), 8ull * t);
}

/* &t->elems[i] after the bounds check. */
static LLVMValueRef table_elem(jfn *f, uint32_t tab, LLVMValueRef i) {
  LLVMValueRef t = table_ptr(f, tab);
  LLVMValueRef size = ld_rt(f, f->j->i32, t, offsetof(wtable, size));
  trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGE, i, size, ""), RUSM_WASM_TRAP_OOB_TABLE);
  LLVMValueRef elems = ld_rt(f, f->j->ptr, t, offsetof(wtable, elems));
  LLVMValueRef idx = LLVMBuildZExt(f->b, i, f->j->i64, "");
  return LLVMBuildInBoundsGEP2(f->b, f->j->ptr, elems, &idx, 1, "");
}

static void op_table_get(jfn *f, uint32_t tab) {
  LLVMValueRef p = table_elem(f, tab, pop(f));
  LLVMValueRef v = LLVMBuildLoad2(f->b, f->j->ptr, p, "");
  set_md(v, f->j->md_tbaa, f->j->tbaa_rt);
  push(f, v);
}

static void op_table_set(jfn *f, uint32_t tab) {
  LLVMValueRef v = pop(f);
  LLVMValueRef p = table_elem(f, tab, pop(f));
  LLVMValueRef s = LLVMBuildStore(f->b, v, p);
  set_md(s, f->j->md_tbaa, f->j->tbaa_rt);
}

static LLVMValueRef global_ptr(jfn *f, uint32_t g) {
  return ld_fixed(f, ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, globals)), 8ull * g);
}

static void op_global_get(jfn *f, uint32_t g) {
  const wasm_module *m = f->j->m;
  if (g >= m->nglobals) {
    f->bad = true;
    return;
  }
  LLVMValueRef v = ld_rt(f, vtype(f->j, m->globals[g].type.type), global_ptr(f, g), offsetof(wglobal, val));
  /* An immutable global never changes once compiled code can run. */
  if (!m->globals[g].type.mut) set_md(v, f->j->md_inv, f->j->empty_md);
  push(f, v);
}

static void op_global_set(jfn *f, uint32_t g) {
  if (g >= f->j->m->nglobals) {
    f->bad = true;
    return;
  }
  LLVMValueRef v = pop(f);
  LLVMTypeRef t = LLVMTypeOf(v);
  /* The whole slot, i32/f32 zero-extended, as the interpreter keeps it. */
  if (t == f->j->f32) v = LLVMBuildBitCast(f->b, v, f->j->i32, "");
  if (t == f->j->f32 || t == f->j->i32) v = LLVMBuildZExt(f->b, v, f->j->i64, "");
  st_rt(f, v, global_ptr(f, g), offsetof(wglobal, val));
}

/* ------------------------------------------------------------ numbers */

static LLVMValueRef bool32(jfn *f, LLVMValueRef c) { return LLVMBuildZExt(f->b, c, f->j->i32, ""); }

static LLVMValueRef kint(LLVMTypeRef t, uint64_t v) { return LLVMConstInt(t, v, 0); }

/* i32/i64 add..rotr (opcode minus 0x6a, or minus 0x7c for i64). */
static LLVMValueRef int_binop(jfn *f, unsigned k, LLVMValueRef x, LLVMValueRef y) {
  LLVMBuilderRef b = f->b;
  LLVMTypeRef t = LLVMTypeOf(x);
  unsigned bits = LLVMGetIntTypeWidth(t);
  LLVMValueRef zero = kint(t, 0), m1 = LLVMConstAllOnes(t);
  switch (k) {
  case 0: return LLVMBuildAdd(b, x, y, "");
  case 1: return LLVMBuildSub(b, x, y, "");
  case 2: return LLVMBuildMul(b, x, y, "");
  case 3: /* div_s */
    trap_if(f, LLVMBuildICmp(b, LLVMIntEQ, y, zero, ""), RUSM_WASM_TRAP_DIV_BY_ZERO);
    trap_if(f,
            LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, x, kint(t, 1ull << (bits - 1)), ""),
                         LLVMBuildICmp(b, LLVMIntEQ, y, m1, ""), ""),
            RUSM_WASM_TRAP_INT_OVERFLOW);
    return LLVMBuildSDiv(b, x, y, "");
  case 4:
    trap_if(f, LLVMBuildICmp(b, LLVMIntEQ, y, zero, ""), RUSM_WASM_TRAP_DIV_BY_ZERO);
    return LLVMBuildUDiv(b, x, y, "");
  case 5: /* rem_s: x % -1 is 0, computed as x % 1 (INT_MIN % -1 overflows) */
    trap_if(f, LLVMBuildICmp(b, LLVMIntEQ, y, zero, ""), RUSM_WASM_TRAP_DIV_BY_ZERO);
    y = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, y, m1, ""), kint(t, 1), y, "");
    return LLVMBuildSRem(b, x, y, "");
  case 6:
    trap_if(f, LLVMBuildICmp(b, LLVMIntEQ, y, zero, ""), RUSM_WASM_TRAP_DIV_BY_ZERO);
    return LLVMBuildURem(b, x, y, "");
  case 7: return LLVMBuildAnd(b, x, y, "");
  case 8: return LLVMBuildOr(b, x, y, "");
  case 9: return LLVMBuildXor(b, x, y, "");
  case 10: return LLVMBuildShl(b, x, LLVMBuildAnd(b, y, kint(t, bits - 1), ""), "");
  case 11: return LLVMBuildAShr(b, x, LLVMBuildAnd(b, y, kint(t, bits - 1), ""), "");
  case 12: return LLVMBuildLShr(b, x, LLVMBuildAnd(b, y, kint(t, bits - 1), ""), "");
  case 13: {
    LLVMValueRef a[3] = {x, x, y};
    return intrinsic(f, "llvm.fshl", &t, 1, a, 3);
  }
  default: {
    LLVMValueRef a[3] = {x, x, y};
    return intrinsic(f, "llvm.fshr", &t, 1, a, 3);
  }
  }
}

static LLVMValueRef int_unop(jfn *f, unsigned k, LLVMValueRef x) {
  LLVMTypeRef t = LLVMTypeOf(x);
  if (k == 2) return intrinsic1(f, "llvm.ctpop", x);
  /* Zero is not poison: clz(0) and ctz(0) are the width. */
  LLVMValueRef a[2] = {x, LLVMConstInt(f->j->i1, 0, 0)};
  return intrinsic(f, k == 0 ? "llvm.ctlz" : "llvm.cttz", &t, 1, a, 2);
}

static LLVMValueRef int_cmp(jfn *f, unsigned k, LLVMValueRef x, LLVMValueRef y) {
  static const LLVMIntPredicate P[] = {LLVMIntEQ, LLVMIntNE, LLVMIntSLT, LLVMIntULT, LLVMIntSGT,
                                       LLVMIntUGT, LLVMIntSLE, LLVMIntULE, LLVMIntSGE, LLVMIntUGE};
  return bool32(f, LLVMBuildICmp(f->b, P[k], x, y, ""));
}

static LLVMValueRef float_cmp(jfn *f, unsigned k, LLVMValueRef x, LLVMValueRef y) {
  static const LLVMRealPredicate P[] = {LLVMRealOEQ, LLVMRealUNE, LLVMRealOLT,
                                        LLVMRealOGT, LLVMRealOLE, LLVMRealOGE};
  return bool32(f, LLVMBuildFCmp(f->b, P[k], x, y, ""));
}

/* f32/f64 abs..sqrt (opcode minus 0x8b, or minus 0x99 for f64). */
static LLVMValueRef float_unop(jfn *f, unsigned k, LLVMValueRef x) {
  static const char *const I[] = {"llvm.fabs", NULL, "llvm.ceil", "llvm.floor",
                                  "llvm.trunc", "llvm.roundeven", "llvm.sqrt"};
  if (k == 1) return LLVMBuildFNeg(f->b, x, "");
  return intrinsic1(f, I[k], x);
}

/* LLVM folds x * 1, x / 1, x - 0, x + -0, x * -1, -0 - x and the like to
** x or -x, which passes a signaling NaN through where Wasm requires an
** arithmetic (quiet) one.  An operand that is such a constant is hidden
** behind an empty asm so that the operation stays.  (clang folds these
** before emitting Wasm, so real code hardly ever has them.) */
static LLVMValueRef opaque(jfn *f, LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
  LLVMValueRef as = LLVMGetInlineAsm(fty, "", 0, "=x,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
  return LLVMBuildCall2(f->b, fty, as, &v, 1, "");
}
static LLVMValueRef opaque_if_identity(jfn *f, LLVMValueRef v) {
  if (!LLVMIsAConstantFP(v)) return v;
  LLVMBool lossy;
  double d = LLVMConstRealGetDouble(v, &lossy);
  return d == 0.0 || d == 1.0 || d == -1.0 ? opaque(f, v) : v;
}

/* min/max: llvm.minimum/maximum order -0 < +0 and propagate NaN, but may
** return a signaling NaN operand as it is; x + y quiets it as Wasm wants. */
static LLVMValueRef float_minmax(jfn *f, const char *name, LLVMValueRef x, LLVMValueRef y) {
  LLVMValueRef r = intrinsic2(f, name, x, y);
  LLVMValueRef nan = LLVMBuildFCmp(f->b, LLVMRealUNO, x, y, "");
  return LLVMBuildSelect(f->b, nan, LLVMBuildFAdd(f->b, x, y, ""), r, "");
}

/* f32/f64 add..copysign (opcode minus 0x92, or minus 0xa0 for f64). */
static LLVMValueRef float_binop(jfn *f, unsigned k, LLVMValueRef x, LLVMValueRef y) {
  if (k <= 3) {
    x = opaque_if_identity(f, x);
    y = opaque_if_identity(f, y);
  }
  switch (k) {
  case 0: return LLVMBuildFAdd(f->b, x, y, "");
  case 1: return LLVMBuildFSub(f->b, x, y, "");
  case 2: return LLVMBuildFMul(f->b, x, y, "");
  case 3: return LLVMBuildFDiv(f->b, x, y, "");
  case 4: return float_minmax(f, "llvm.minimum", x, y);
  case 5: return float_minmax(f, "llvm.maximum", x, y);
  default: return intrinsic2(f, "llvm.copysign", x, y);
  }
}

/* Trapping float -> int: NaN, then the range of numeric.h (x in range
** iff trunc(x) fits: lo < x, or lo <= x when lo is exact, and x < hi). */
static LLVMValueRef trunc_checked(jfn *f, uint8_t op, LLVMValueRef x) {
  static const struct { bool to64, sgn, lo_incl; double lo, hi; } T[] = {
      [0] = {0, 1, 1, -2147483648.0, 2147483648.0},                 /* i32.trunc_f32_s */
      [1] = {0, 0, 0, -1.0, 4294967296.0},                          /* i32.trunc_f32_u */
      [2] = {0, 1, 0, -2147483649.0, 2147483648.0},                 /* i32.trunc_f64_s */
      [3] = {0, 0, 0, -1.0, 4294967296.0},                          /* i32.trunc_f64_u */
      [6] = {1, 1, 1, -9223372036854775808.0, 9223372036854775808.0}, /* i64.trunc_f32_s */
      [7] = {1, 0, 0, -1.0, 18446744073709551616.0},                /* i64.trunc_f32_u */
      [8] = {1, 1, 1, -9223372036854775808.0, 9223372036854775808.0}, /* i64.trunc_f64_s */
      [9] = {1, 0, 0, -1.0, 18446744073709551616.0}};               /* i64.trunc_f64_u */
  unsigned k = op - 0xa8;
  LLVMTypeRef ft = LLVMTypeOf(x);
  trap_if(f, LLVMBuildFCmp(f->b, LLVMRealUNO, x, x, ""), RUSM_WASM_TRAP_INVALID_CONVERSION);
  LLVMValueRef lo = LLVMConstReal(ft, T[k].lo), hi = LLVMConstReal(ft, T[k].hi);
  LLVMValueRef below = LLVMBuildFCmp(f->b, T[k].lo_incl ? LLVMRealOLT : LLVMRealOLE, x, lo, "");
  LLVMValueRef above = LLVMBuildFCmp(f->b, LLVMRealOGE, x, hi, "");
  trap_if(f, LLVMBuildOr(f->b, below, above, ""), RUSM_WASM_TRAP_INT_OVERFLOW);
  LLVMTypeRef it = T[k].to64 ? f->j->i64 : f->j->i32;
  return T[k].sgn ? LLVMBuildFPToSI(f->b, x, it, "") : LLVMBuildFPToUI(f->b, x, it, "");
}

/* i32.wrap_i64 .. f64.reinterpret_i64 and the sign extensions (0xa7..0xc4). */
static LLVMValueRef conversion(jfn *f, uint8_t op, LLVMValueRef x) {
  const jmod *j = f->j;
  LLVMBuilderRef b = f->b;
  switch (op) {
  case 0xa7: return LLVMBuildTrunc(b, x, j->i32, "");
  case 0xac: return LLVMBuildSExt(b, x, j->i64, "");
  case 0xad: return LLVMBuildZExt(b, x, j->i64, "");
  case 0xb2: case 0xb4: return LLVMBuildSIToFP(b, x, j->f32, "");
  case 0xb3: case 0xb5: return LLVMBuildUIToFP(b, x, j->f32, "");
  case 0xb6:
    /* fptrunc(fpext(x)) folds to x, keeping a signaling NaN signaling. */
    if (LLVMIsAFPExtInst(x)) x = opaque(f, x);
    return LLVMBuildFPTrunc(b, x, j->f32, "");
  case 0xb7: case 0xb9: return LLVMBuildSIToFP(b, x, j->f64, "");
  case 0xb8: case 0xba: return LLVMBuildUIToFP(b, x, j->f64, "");
  case 0xbb: return LLVMBuildFPExt(b, x, j->f64, "");
  case 0xbc: return LLVMBuildBitCast(b, x, j->i32, "");
  case 0xbd: return LLVMBuildBitCast(b, x, j->i64, "");
  case 0xbe: return LLVMBuildBitCast(b, x, j->f32, "");
  case 0xbf: return LLVMBuildBitCast(b, x, j->f64, "");
  case 0xc0: case 0xc2: return LLVMBuildSExt(b, LLVMBuildTrunc(b, x, j->i8, ""), LLVMTypeOf(x), "");
  case 0xc1: case 0xc3: return LLVMBuildSExt(b, LLVMBuildTrunc(b, x, j->i16, ""), LLVMTypeOf(x), "");
  case 0xc4: return LLVMBuildSExt(b, LLVMBuildTrunc(b, x, j->i32, ""), j->i64, "");
  default: return trunc_checked(f, op, x);
  }
}

/* i32/i64.trunc_sat_f32/f64_s/u (0xfc 0..7). */
static LLVMValueRef trunc_sat(jfn *f, uint32_t sub, LLVMValueRef x) {
  LLVMTypeRef ov[2] = {sub >= 4 ? f->j->i64 : f->j->i32, LLVMTypeOf(x)};
  return intrinsic(f, sub & 1 ? "llvm.fptoui.sat" : "llvm.fptosi.sat", ov, 2, &x, 1);
}

static void unop(jfn *f, LLVMValueRef (*fn)(jfn *, unsigned, LLVMValueRef), unsigned k) {
  LLVMValueRef x = pop(f);
  push(f, fn(f, k, x));
}
static void binop(jfn *f, LLVMValueRef (*fn)(jfn *, unsigned, LLVMValueRef, LLVMValueRef),
                  unsigned k) {
  LLVMValueRef y = pop(f), x = pop(f);
  push(f, fn(f, k, x, y));
}

/* Opcodes 0x45..0xc4. */
static void numeric(jfn *f, uint8_t op) {
  if (op == 0x45 || op == 0x50) {
    LLVMValueRef x = pop(f);
    push(f, bool32(f, LLVMBuildICmp(f->b, LLVMIntEQ, x, kint(LLVMTypeOf(x), 0), "")));
  } else if (op >= 0x46 && op <= 0x4f) binop(f, int_cmp, op - 0x46);
  else if (op >= 0x51 && op <= 0x5a) binop(f, int_cmp, op - 0x51);
  else if (op >= 0x5b && op <= 0x60) binop(f, float_cmp, op - 0x5b);
  else if (op >= 0x61 && op <= 0x66) binop(f, float_cmp, op - 0x61);
  else if (op >= 0x67 && op <= 0x69) unop(f, int_unop, op - 0x67);
  else if (op >= 0x6a && op <= 0x78) binop(f, int_binop, op - 0x6a);
  else if (op >= 0x79 && op <= 0x7b) unop(f, int_unop, op - 0x79);
  else if (op >= 0x7c && op <= 0x8a) binop(f, int_binop, op - 0x7c);
  else if (op >= 0x8b && op <= 0x91) unop(f, float_unop, op - 0x8b);
  else if (op >= 0x92 && op <= 0x98) binop(f, float_binop, op - 0x92);
  else if (op >= 0x99 && op <= 0x9f) unop(f, float_unop, op - 0x99);
  else if (op >= 0xa0 && op <= 0xa6) binop(f, float_binop, op - 0xa0);
  else if (op >= 0xa7 && op <= 0xc4) {
    LLVMValueRef x = pop(f);
    push(f, conversion(f, op, x));
  } else f->bad = true;
}

/* ------------------------------------------------------------ 0xfc */

static void op_fc(jfn *f) {
  uint32_t sub = ru32(f), imm[2];
  if (sub <= 7) {
    LLVMValueRef x = pop(f);
    push(f, trunc_sat(f, sub, x));
    return;
  }
  switch (sub) {
  case 8: /* memory.init seg: d s n */
    imm[0] = ru32(f);
    rd8(f);
    bulk_op(f, H_MEMORY_INIT, imm, 1, 3);
    break;
  case 9:
    imm[0] = ru32(f);
    bulk_op(f, H_DATA_DROP, imm, 1, 0);
    break;
  case 10:
    rd8(f);
    rd8(f);
    bulk_op(f, H_MEMORY_COPY, imm, 0, 3);
    break;
  case 11:
    rd8(f);
    bulk_op(f, H_MEMORY_FILL, imm, 0, 3);
    break;
  case 12: /* table.init seg t: d s n -> helper(inst, t, seg, d, s, n) */
    imm[1] = ru32(f);
    imm[0] = ru32(f);
    bulk_op(f, H_TABLE_INIT, imm, 2, 3);
    break;
  case 13:
    imm[0] = ru32(f);
    bulk_op(f, H_ELEM_DROP, imm, 1, 0);
    break;
  case 14: /* table.copy dst src: d s n */
    imm[0] = ru32(f);
    imm[1] = ru32(f);
    bulk_op(f, H_TABLE_COPY, imm, 2, 3);
    break;
  case 15: { /* table.grow t: init n -> old */
    uint32_t t = ru32(f);
    LLVMValueRef n = pop(f), init = pop(f);
    LLVMValueRef a[4] = {f->inst, k32(f, t), init, n};
    push(f, call_h(f, H_TABLE_GROW, a, 4));
    mem_reload(f);
    break;
  }
  case 16: { /* table.size */
    uint32_t t = ru32(f);
    push(f, ld_rt(f, f->j->i32, table_ptr(f, t), offsetof(wtable, size)));
    break;
  }
  case 17: /* table.fill t: i v n */
    imm[0] = ru32(f);
    bulk_op(f, H_TABLE_FILL, imm, 1, 3);
    break;
  default:
    f->bad = true;
  }
}

/* ------------------------------------------------------------ bodies */

static LLVMValueRef const_bits(LLVMTypeRef ft, LLVMTypeRef it, uint64_t bits) {
  return LLVMConstBitCast(LLVMConstInt(it, bits, 0), ft);
}

static uint64_t rd_bytes(jfn *f, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)rd8(f) << (8 * i);
  return v;
}

static void op_local(jfn *f, uint8_t op) {
  uint32_t n = ru32(f);
  if (n >= f->nlocals) {
    f->bad = true;
    return;
  }
  if (op == 0x20) {
    push(f, ld_var(f, f->ltypes[n], f->locals[n]));
    return;
  }
  LLVMValueRef v = pop(f);
  LLVMBuildStore(f->b, v, f->locals[n]);
  if (op == 0x22) push(f, v);
}

static void op_select(jfn *f) {
  LLVMValueRef c = pop(f), y = pop(f), x = pop(f);
  push(f, LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntNE, c, k32(f, 0), ""), x, y, ""));
}

/* One instruction (op already read) in reachable code. */
static void instruction(jfn *f, uint8_t op) {
  switch (op) {
  case 0x00:
    emit_trap(f, RUSM_WASM_TRAP_UNREACHABLE);
    set_dead(f);
    break;
  case 0x01: break;
  case 0x0c:
    emit_br(f, ru32(f));
    set_dead(f);
    break;
  case 0x0d: op_br_if(f, ru32(f)); break;
  case 0x0e: op_br_table(f); break;
  case 0x0f:
    emit_return(f);
    set_dead(f);
    break;
  case 0x10: op_call(f, ru32(f)); break;
  case 0x11: {
    uint32_t t = ru32(f), tab = ru32(f);
    op_call_indirect(f, t, tab);
    break;
  }
  case 0x1a: pop(f); break;
  case 0x1c: {
    uint32_t n = ru32(f);
    for (uint32_t i = 0; i < n && !f->bad; i++) rd8(f);
    op_select(f);
    break;
  }
  case 0x1b: op_select(f); break;
  case 0x20: case 0x21: case 0x22: op_local(f, op); break;
  case 0x23: op_global_get(f, ru32(f)); break;
  case 0x24: op_global_set(f, ru32(f)); break;
  case 0x25: op_table_get(f, ru32(f)); break;
  case 0x26: op_table_set(f, ru32(f)); break;
  case 0x3f:
    rd8(f);
    push(f, ld_rt(f, f->j->i32, f->mem, offsetof(wasm_memory, pages)));
    break;
  case 0x40:
    rd8(f);
    op_memory_grow(f);
    break;
  case 0x41: push(f, k32(f, (uint32_t)rsleb(f))); break;
  case 0x42: push(f, k64(f, (uint64_t)rsleb(f))); break;
  case 0x43: push(f, const_bits(f->j->f32, f->j->i32, rd_bytes(f, 4))); break;
  case 0x44: push(f, const_bits(f->j->f64, f->j->i64, rd_bytes(f, 8))); break;
  case 0xd0:
    rd8(f);
    push(f, LLVMConstPointerNull(f->j->ptr));
    break;
  case 0xd1: push(f, bool32(f, LLVMBuildIsNull(f->b, pop(f), ""))); break;
  case 0xd2: {
    uint32_t i = ru32(f);
    push(f, ld_fixed(f, ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, funcs)), 8ull * i));
    break;
  }
  case 0xfc: op_fc(f); break;
  default:
    if (op >= 0x28 && op <= 0x35) op_load(f, op);
    else if (op >= 0x36 && op <= 0x3e) op_store(f, op);
    else if (op >= 0x45 && op <= 0xc4) numeric(f, op);
    else f->bad = true;
  }
}

/* Where the stack is, for the check on entry.  On x86-64 the stack
** pointer itself: it is at or below the frame address jit.h names, so the
** check is never weaker, and llvm.frameaddress would cost every function
** a frame pointer (4% on a call-bound kernel). */
static LLVMValueRef stack_pos(jfn *f) {
  jmod *j = f->j;
#if defined(__x86_64__)
  LLVMMetadataRef rsp = md_str(j, "rsp");
  LLVMValueRef reg = LLVMMetadataAsValue(j->ctx, LLVMMDNodeInContext2(j->ctx, &rsp, 1));
  return intrinsic(f, "llvm.read_register", &j->i64, 1, &reg, 1);
#else
  LLVMValueRef zero = k32(f, 0);
  LLVMValueRef fa = intrinsic(f, "llvm.frameaddress", &j->ptr, 1, &zero, 1);
  return LLVMBuildPtrToInt(f->b, fa, j->i64, "");
#endif
}

static void prologue(jfn *f, const wasm_func *wf) {
  jmod *j = f->j;
  f->entry = LLVMAppendBasicBlockInContext(j->ctx, f->fn, "");
  at_end(f, f->entry);
  f->root = LLVMGetParam(f->fn, 0);
  f->inst = LLVMGetParam(f->fn, 1);
  f->fuel = LLVMBuildAlloca(f->b, j->i64, "");
  if (j->m->nmemories) {
    f->membase = LLVMBuildAlloca(f->b, j->ptr, "");
    f->memsize = LLVMBuildAlloca(f->b, j->i64, "");
  }
  uint32_t np = f->ft->nparams;
  for (uint32_t i = 0; i < f->nlocals; i++) {
    f->ltypes[i] = vtype(j, i < np ? f->ft->types[i] : wf->local_types[i - np]);
    f->locals[i] = LLVMBuildAlloca(f->b, f->ltypes[i], "");
  }
  if (f->osr) {
    /* Every local from the interpreter's frame; the fuel from the root. */
    for (uint32_t i = 0; i < f->nlocals; i++)
      LLVMBuildStore(f->b, slot_load(f, f->osr_slots, i, f->ltypes[i]), f->locals[i]);
  } else {
    for (uint32_t i = 0; i < f->nlocals; i++)
      LLVMBuildStore(f->b, i < np ? LLVMGetParam(f->fn, 3 + i) : LLVMConstNull(f->ltypes[i]),
                     f->locals[i]);
  }
  if (j->m->nmemories) f->mem = ld_fixed(f, f->inst, offsetof(rusm_wasm_instance, mem));
  LLVMBuildStore(f->b,
                 f->osr ? ld_rt(f, j->i64, f->root, offsetof(rusm_wasm_exec, fuel_left))
                        : LLVMGetParam(f->fn, 2),
                 f->fuel);
  /* The stack check is charged to the function's first instruction. */
  f->op_off = f->body_off;
  LLVMValueRef lim = ld_rt(f, j->i64, f->root, offsetof(rusm_wasm_exec, stack_limit));
  trap_if(f, LLVMBuildICmp(f->b, LLVMIntULT, stack_pos(f), lim, ""), RUSM_WASM_TRAP_STACK_EXHAUSTED);
  if (f->osr) {
    /* The call was charged when it was made.  A switch on the loop number
    ** goes to the loops' heads (cases added by op_block); the function's
    ** own start follows, unreachable (O2 drops it). */
    mem_reload(f);
    LLVMBasicBlockRef none = new_bb(f), start = new_bb(f);
    f->osr_switch = LLVMBuildSwitch(f->b, LLVMGetParam(f->fn, 3), none, WFUNC_MAX_OSR);
    at_end(f, none);
    LLVMBuildUnreachable(f->b);
    at_end(f, start);
    return;
  }
  fuel_charge(f);
  mem_reload(f);
}

/* The body of defined function fidx into fn: rusm_i<fidx>, or with osr
** its entry for on-stack replacement (f->osr_linked: the loops it
** reaches). */
static bool emit_function(jmod *j, jfn *f, uint32_t fidx, LLVMValueRef fn, bool osr) {
  const wasm_func *wf = &j->m->funcs[fidx];
  f->fidx = fidx;
  f->ft = &j->m->types[wf->type];
  f->fn = fn;
  f->osr = osr;
  f->osr_linked = 0;
  f->osr_slots = osr ? LLVMGetParam(fn, 2) : NULL;
  f->osr_switch = NULL;
  f->p = f->body = wf->code;
  f->end = wf->code + wf->code_len;
  f->body_off = wf->code_offset;
  f->nlocals = f->ft->nparams + wf->nlocals;
  f->locals = malloc((f->nlocals + 1) * sizeof *f->locals);
  f->ltypes = malloc((f->nlocals + 1) * sizeof *f->ltypes);
  f->nst = f->nctl = 0;
  memset(f->trapbb, 0, sizeof f->trapbb);
  if (!f->st) push(f, NULL); /* so that top(f, 0) is never NULL */
  f->nst = 0;
  f->slots = NULL;
  f->mem = NULL;
  f->bad = !f->locals || !f->ltypes;
  if (!f->bad) prologue(f, wf);
  jctl *k = push_ctl(f, CK_FUNC);
  if (k) {
    k->nresults = f->ft->nresults;
    k->rtypes = f->ft->types + f->ft->nparams;
  }
  while (!f->bad && f->nctl > 0) {
    f->op_off = f->body_off + (uint32_t)(f->p - f->body);
    uint8_t op = rd8(f);
    if (f->bad) break;
    if (op >= 0x02 && op <= 0x04) op_block(f, op);
    else if (op == 0x05) op_else(f);
    else if (op == 0x0b) op_end(f);
    else if (f->ctl[f->nctl - 1].dead) skip_imm(f, op);
    else instruction(f, op);
  }
  while (f->nctl) pop_ctl(f);
  free(f->locals);
  free(f->ltypes);
  return !f->bad;
}

/* rusm_o<i>: function i continued from loop k of wfunc.osr, for a call
** the interpreter started: void(root, inst, slots, k), the locals in
** slots[0..), the results back to slots[0..) and the fuel in and out
** through root->fuel_left, as a slot wrapper; nothing charged on entry
** (the interpreter charged the branch that got there).  One function for
** all of i's loops, so a tier-up compiles each function twice, not once
** per loop.  *linked: the loops it can enter (0: none, and no function). */
static bool emit_osr(jmod *j, jfn *f, uint32_t fidx, LLVMTypeRef oty, uint8_t *linked) {
  char name[32];
  snprintf(name, sizeof name, "rusm_o%u", fidx);
  LLVMValueRef fn = LLVMAddFunction(j->mod, name, oty);
  LLVMSetVisibility(fn, LLVMHiddenVisibility);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, j->a_nounwind);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, j->a_no_tail);
  *linked = 0;
  if (!emit_function(j, f, fidx, fn, true)) return false;
  *linked = (uint8_t)f->osr_linked;
  if (!*linked) LLVMDeleteFunction(fn);
  return true;
}

/* A function of the jit.h faces of rusm_i<fidx>, with the builder at its
** entry; f is set up for call_internal. */
static LLVMValueRef face(jmod *j, jfn *f, LLVMBuilderRef b, const char *prefix, uint32_t fidx,
                         LLVMTypeRef ty) {
  char name[32];
  snprintf(name, sizeof name, "%s%u", prefix, fidx);
  LLVMValueRef fn = LLVMAddFunction(j->mod, name, ty);
  /* Hidden: not through the PLT, yet found by the JIT's lookup. */
  LLVMSetVisibility(fn, LLVMHiddenVisibility);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, j->a_nounwind);
  memset(f, 0, sizeof *f);
  f->j = j;
  f->b = b;
  f->fn = fn;
  f->root = LLVMGetParam(fn, 0);
  f->inst = LLVMGetParam(fn, 1);
  at_end(f, LLVMAppendBasicBlockInContext(j->ctx, fn, ""));
  return fn;
}

/* Calls rusm_i<fidx> with a[3..], the fuel from and back to root. */
static void face_call(jfn *f, uint32_t fidx, LLVMValueRef *a, LLVMValueRef *res) {
  a[0] = f->root;
  a[1] = f->inst;
  LLVMValueRef fuel = ld_rt(f, f->j->i64, f->root, offsetof(rusm_wasm_exec, fuel_left));
  st_rt(f, call_internal(f, fidx, a, fuel, res), f->root, offsetof(rusm_wasm_exec, fuel_left));
}

/* rusm_f<i>: the native entry of jit.h's ABI. */
static void emit_entry(jmod *j, LLVMBuilderRef b, uint32_t fidx) {
  uint32_t t = j->m->funcs[fidx].type;
  const wasm_functype *ft = &j->m->types[t];
  jfn f;
  LLVMValueRef fn = face(j, &f, b, "rusm_f", fidx, native_type(j, t));
  LLVMValueRef *a = malloc((ft->nparams + 3) * sizeof *a);
  LLVMValueRef res[ft->nresults ? ft->nresults : 1];
  if (!a) return;
  for (uint32_t i = 0; i < ft->nparams; i++) a[3 + i] = LLVMGetParam(fn, 2 + i);
  face_call(&f, fidx, a, res);
  free(a);
  if (ft->nresults == 0) {
    LLVMBuildRetVoid(b);
  } else if (ft->nresults == 1) {
    LLVMBuildRet(b, res[0]);
  } else {
    LLVMValueRef agg = LLVMGetUndef(LLVMGetReturnType(native_type(j, t)));
    for (uint32_t i = 0; i < ft->nresults; i++) agg = LLVMBuildInsertValue(b, agg, res[i], i, "");
    LLVMBuildRet(b, agg);
  }
}

/* rusm_w<i>: params from slots, the call, results back to slots. */
static void emit_slot_wrapper(jmod *j, LLVMBuilderRef b, uint32_t fidx, LLVMTypeRef wty) {
  const wasm_functype *ft = &j->m->types[j->m->funcs[fidx].type];
  jfn f;
  LLVMValueRef fn = face(j, &f, b, "rusm_w", fidx, wty);
  LLVMValueRef slots = LLVMGetParam(fn, 2);
  LLVMValueRef *a = malloc((ft->nparams + 3) * sizeof *a);
  LLVMValueRef res[ft->nresults ? ft->nresults : 1];
  if (!a) return;
  for (uint32_t i = 0; i < ft->nparams; i++) a[3 + i] = slot_load(&f, slots, i, vtype(j, ft->types[i]));
  face_call(&f, fidx, a, res);
  free(a);
  for (uint32_t i = 0; i < ft->nresults; i++) slot_store(&f, slots, i, res[i]);
  LLVMBuildRetVoid(b);
}

/* ------------------------------------------------------------ module */

static void declare_helper(jmod *j, int h, void *addr, LLVMTypeRef ret, unsigned n, ...) {
  LLVMTypeRef ps[8];
  va_list ap;
  va_start(ap, n);
  for (unsigned i = 0; i < n; i++) ps[i] = va_arg(ap, LLVMTypeRef);
  va_end(ap);
  j->h[h].ty = LLVMFunctionType(ret, ps, n, 0);
  j->h[h].fn = LLVMConstIntToPtr(LLVMConstInt(j->i64, (uintptr_t)addr, 0), j->ptr);
}

static void declare_helpers(jmod *j) {
  LLVMTypeRef P = j->ptr, I = j->i32, L = j->i64, V = j->voidt;
  declare_helper(j, H_TRAP, (void *)(uintptr_t)wasm_jit_trap, V, 4, P, I, I, I);
  declare_helper(j, H_OUT_OF_FUEL, (void *)(uintptr_t)wasm_jit_out_of_fuel, L, 1, P);
  declare_helper(j, H_CALL_SLOW, (void *)(uintptr_t)wasm_jit_call_slow, V, 5, P, P, P, P, L);
  declare_helper(j, H_TYPE_EQ, (void *)(uintptr_t)wasm_jit_type_eq, I, 2, P, P);
  declare_helper(j, H_MEMORY_GROW, (void *)(uintptr_t)wasm_op_memory_grow, I, 2, P, I);
  declare_helper(j, H_MEMORY_INIT, (void *)(uintptr_t)wasm_op_memory_init, I, 5, P, I, I, I, I);
  declare_helper(j, H_MEMORY_COPY, (void *)(uintptr_t)wasm_op_memory_copy, I, 4, P, I, I, I);
  declare_helper(j, H_MEMORY_FILL, (void *)(uintptr_t)wasm_op_memory_fill, I, 4, P, I, I, I);
  declare_helper(j, H_DATA_DROP, (void *)(uintptr_t)wasm_op_data_drop, V, 2, P, I);
  declare_helper(j, H_TABLE_GROW, (void *)(uintptr_t)wasm_op_table_grow, I, 4, P, I, P, I);
  declare_helper(j, H_TABLE_FILL, (void *)(uintptr_t)wasm_op_table_fill, I, 5, P, I, I, P, I);
  declare_helper(j, H_TABLE_COPY, (void *)(uintptr_t)wasm_op_table_copy, I, 6, P, I, I, I, I, I);
  declare_helper(j, H_TABLE_INIT, (void *)(uintptr_t)wasm_op_table_init, I, 6, P, I, I, I, I, I);
  declare_helper(j, H_ELEM_DROP, (void *)(uintptr_t)wasm_op_elem_drop, V, 2, P, I);
}

static LLVMAttributeRef enum_attr(LLVMContextRef ctx, const char *name) {
  return LLVMCreateEnumAttribute(ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), 0);
}

static LLVMMetadataRef md_str(jmod *j, const char *s) { return LLVMMDStringInContext2(j->ctx, s, strlen(s)); }

/* Metadata shared by every function: cold branch weights, the empty node
** of !invariant.load and the two TBAA access tags. */
static void init_metadata(jmod *j) {
  LLVMContextRef ctx = j->ctx;
  j->md_prof = LLVMGetMDKindIDInContext(ctx, "prof", 4);
  j->md_inv = LLVMGetMDKindIDInContext(ctx, "invariant.load", 14);
  j->md_tbaa = LLVMGetMDKindIDInContext(ctx, "tbaa", 4);
  LLVMMetadataRef w[3] = {md_str(j, "branch_weights"), LLVMValueAsMetadata(LLVMConstInt(j->i32, 1, 0)),
                          LLVMValueAsMetadata(LLVMConstInt(j->i32, 1u << 20, 0))};
  j->cold_weights = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, w, 3));
  j->empty_md = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, NULL, 0));
  LLVMMetadataRef root_name = md_str(j, "rusm wasm tbaa");
  LLVMMetadataRef root = LLVMMDNodeInContext2(ctx, &root_name, 1);
  LLVMMetadataRef zero = LLVMValueAsMetadata(LLVMConstInt(j->i64, 0, 0));
  const char *names[2] = {"linear memory", "runtime"};
  LLVMValueRef *tags[2] = {&j->tbaa_mem, &j->tbaa_rt};
  for (int i = 0; i < 2; i++) {
    LLVMMetadataRef ty[3] = {md_str(j, names[i]), root, zero};
    LLVMMetadataRef tn = LLVMMDNodeInContext2(ctx, ty, 3);
    LLVMMetadataRef tag[3] = {tn, tn, zero};
    *tags[i] = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, tag, 3));
  }
}

static void init_types(jmod *j) {
  LLVMContextRef ctx = j->ctx;
  j->i1 = LLVMInt1TypeInContext(ctx);
  j->i8 = LLVMInt8TypeInContext(ctx);
  j->i16 = LLVMInt16TypeInContext(ctx);
  j->i32 = LLVMInt32TypeInContext(ctx);
  j->i64 = LLVMInt64TypeInContext(ctx);
  j->f32 = LLVMFloatTypeInContext(ctx);
  j->f64 = LLVMDoubleTypeInContext(ctx);
  j->ptr = LLVMPointerTypeInContext(ctx, 0);
  j->voidt = LLVMVoidTypeInContext(ctx);
  j->a_nounwind = enum_attr(ctx, "nounwind");
  j->a_noreturn = enum_attr(ctx, "noreturn");
  j->a_cold = enum_attr(ctx, "cold");
  j->a_no_tail = LLVMCreateStringAttribute(ctx, "disable-tail-calls", 18, "true", 4);
  j->max_slots = 1;
  for (uint32_t t = 0; t < j->m->ntypes; t++) {
    uint32_t n = j->m->types[t].nparams > j->m->types[t].nresults ? j->m->types[t].nparams
                                                                  : j->m->types[t].nresults;
    if (n > j->max_slots) j->max_slots = n;
  }
}

/* Declares rusm_i<i> for every defined function, so calls can go to any.
** Internal: LLVM may inline them, drop unused params, and so on. */
static bool declare_functions(jmod *j) {
  const wasm_module *m = j->m;
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
    LLVMTypeRef t = internal_type(j, m->funcs[i].type);
    if (!t || !native_type(j, m->funcs[i].type)) return false;
    char name[32];
    snprintf(name, sizeof name, "rusm_i%u", i);
    j->ifn[i] = LLVMAddFunction(j->mod, name, t);
    LLVMSetLinkage(j->ifn[i], LLVMInternalLinkage);
    LLVMAddAttributeAtIndex(j->ifn[i], LLVMAttributeFunctionIndex, j->a_nounwind);
    LLVMAddAttributeAtIndex(j->ifn[i], LLVMAttributeFunctionIndex, j->a_no_tail);
  }
  return true;
}

bool wasm_jit_emit(LLVMContextRef ctx, LLVMModuleRef mod, const wasm_module *m, const wcompiled *c,
                   uint8_t *osr_linked, rusm_wasm_error *err) {
  jmod j;
  memset(&j, 0, sizeof j);
  j.ctx = ctx;
  j.mod = mod;
  j.m = m;
  j.c = c;
  j.ifn = calloc(m->nfuncs + 1, sizeof *j.ifn);
  j.fnty = calloc(m->ntypes + 1, sizeof *j.fnty);
  j.ifnty = calloc(m->ntypes + 1, sizeof *j.ifnty);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  bool ok = j.ifn && j.fnty && j.ifnty && b;
  if (ok) {
    init_types(&j);
    init_metadata(&j);
    declare_helpers(&j);
    ok = declare_functions(&j);
  }
  jfn f;
  memset(&f, 0, sizeof f);
  f.j = &j;
  f.b = b;
  LLVMTypeRef ps[3] = {j.ptr, j.ptr, j.ptr};
  LLVMTypeRef wty = ok ? LLVMFunctionType(j.voidt, ps, 3, 0) : NULL;
  LLVMTypeRef ops[4] = {j.ptr, j.ptr, j.ptr, j.i32};
  LLVMTypeRef oty = ok ? LLVMFunctionType(j.voidt, ops, 4, 0) : NULL;
  for (uint32_t i = m->num_imported_funcs; ok && i < m->nfuncs; i++) {
    if (!emit_function(&j, &f, i, j.ifn[i], false)) {
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: cannot translate function %u", i);
      ok = false;
      break;
    }
    emit_entry(&j, b, i);
    emit_slot_wrapper(&j, b, i, wty);
    if (osr_linked && c->funcs[i].nosr && !emit_osr(&j, &f, i, oty, &osr_linked[i])) {
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: cannot translate function %u", i);
      ok = false;
    }
  }
  if (!ok && err && err->kind == RUSM_WASM_OK)
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: out of memory");
  free(f.st);
  free(f.ctl);
  if (b) LLVMDisposeBuilder(b);
  free(j.ifn);
  free(j.fnty);
  free(j.ifnty);
  return ok;
}
