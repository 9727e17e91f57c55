/*
** interp.c -- the interpreter for translated code (see interp.h).
**
** Direct threaded code: every instruction starts with the address of its
** handler label and each handler ends with `goto *pc->h`, so dispatch is
** one indirect jump whose prediction is per handler.  Operands are frame
** slot indices (register style), so most Wasm instructions become one
** handler with no stack traffic.
**
** The loop is non-recursive and resumable: a Wasm call pushes a wframe
** (return pc, fp) at the top of the exec's stack buffer and switches fp
** (a call into another instance also pushes a wxframe, see rt.h); nothing
** about the guest lives on the C stack.  Leaving the loop (out of fuel,
** host suspend, trap, halt) stores pc/fp/instance in the exec, and
** wasm_interp picks them up again.
**
** Fuel: one unit per loop iteration (charged by every backward branch;
** loop entry is free) and per call.  The counter is a local, loaded from
** the root exec's fuel_left on entry and stored back on leaving (the
** compiled tier and sub execs draw on the same count); with unlimited fuel
** it starts at INT64_MAX and the check is a never-taken branch.  Building
** with -DRUSM_WASM_NO_FUEL removes the checks (for measuring their cost
** only).
**
** Compiled functions (jit.h; fi->code == NULL, fi->jit_slot set) are
** called from call_fi's cold path: on the root's coroutine directly
** (wasm_jit_enter), otherwise the run stops in front of the call with
** WASM_NEED_CORO and exec_run runs it again on the coroutine.  Functions
** whose module tiered up while this code ran (tier.c) are entered as
** usual, through wfunc.entry, which is then a stub (L_jit_entry) that
** runs the native code on the frame just pushed.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "jit.h"
#include "numeric.h"
#include "rt.h"

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PIN(r) __asm__(#r)
#else
#define PIN(r)
#endif

#define A(i) (pc[1 + (i) / 2].u32[(i) % 2])
#define S(i) fp[A(i)]
#define NEXT() goto *pc->h
/* The target of a backward branch: a tier-up (tier.c) may redirect it
** while this runs (for on-stack replacement), so it is read atomically
** (a plain load on x86-64, yet measurably slower where the compiler must
** treat it so: forward branches, never redirected, read .tgt directly).
** Acquire, because the stub it may point to was written just before. */
#define TGT(cell) __atomic_load_n(&(cell).tgt, __ATOMIC_ACQUIRE)
#define DISPATCH(n) do { pc += (n); NEXT(); } while (0)
#define TRAP(k) do { trapk = (k); goto do_trap; } while (0)

/* Zeroes the locals callee f reads before writing them, two slots at a
** time: for an odd count, the slot after them also becomes zero, which is
** harmless (a local written before it is read, a constant slot that the
** prologue sets, or a free operand stack slot: all inside the frame). */
#define ZERO_LOCALS(cfp, f)                                                    \
  for (wslot *z_ = (cfp) + (f)->zero_from, *ze_ = z_ + (f)->nzero; z_ < ze_; z_ += 2) \
    z_[0].u64 = z_[1].u64 = 0

/* Enters Wasm function f of the current instance from the call
** instruction at pc (len cells; the callee's frame starts at the caller's
** slot A(0)): charges the call, makes room for the frame and a call record
** (or grows the stack and runs this instruction again), pushes the record,
** zeroes the callee's locals with `zero` (which may use cfp and f) and
** jumps.  One body for every direct call form. */
#define ENTER(fexpr, len, zero)                                                \
  do {                                                                         \
    const wfunc *f = (fexpr);                                                  \
    CHARGE();                                                                  \
    wslot *cfp = fp + A(0);                                                    \
    if (UNLIKELY(cfp + f->frame_need > (wslot *)fr)) {                         \
      need = A(0) + f->frame_need;                                             \
      goto grow_call;                                                          \
    }                                                                          \
    fr--;                                                                      \
    fr->ret_pc = pc + (len);                                                   \
    fr->fp = fp;                                                               \
    zero;                                                                      \
    fp = cfp;                                                                  \
    pc = WFUNC_ENTRY(f);                                                       \
    NEXT();                                                                    \
  } while (0)

/* Reload what depends on the current instance or may move: memory base
** and size (memory.grow, calls that may grow) and the globals array. */
#define RELOAD() do { mb = inst->mem->base; ms = inst->mem->size; } while (0)

#ifdef RUSM_WASM_NO_FUEL
#define CHARGE() ((void)0)
#else
/* Charges one unit; when none is left, leaves with pc at this instruction
** so that resuming re-executes it (and charges again). */
#define CHARGE() do { if (UNLIKELY(--fuel < 0)) { fuel = 0; goto out_of_fuel; } } while (0)
#endif
/* Gives back the unit CHARGE took. */
#ifdef RUSM_WASM_NO_FUEL
#define REFUND() ((void)0)
#else
#define REFUND() (fuel++)
#endif

#ifdef RUSM_WASM_NO_BOUNDS_MEASURE
/* UNSAFE, for measuring what explicit checks cost (what a guard-region
** scheme could save at best); never for real use. */
#define MEMCHK(ea, n) ((void)(ea), (void)ms)
#else
#define MEMCHK(ea, n) do { if (UNLIKELY((ea) + (n) > ms)) TRAP(RUSM_WASM_TRAP_OOB_MEMORY); } while (0)
#endif

/* GCC turns the loop zeroing a callee's locals into a memset call, which
** costs a call and spills around it on every Wasm call; keep it a loop.
** It also pairs the two stores of a call record through an SSE register
** (three more instructions per call). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns", "no-tree-slp-vectorize")))
#endif
static rusm_wasm_status run(rusm_wasm_exec *e, const void *const **table) {
#define WOP_ADDR(n) &&L_##n,
  static const void *const handlers[WOP_COUNT] = {WOPS(WOP_ADDR)};
#undef WOP_ADDR
  if (table) {
    *table = handlers;
    return RUSM_WASM_RETURNED;
  }

  int64_t fuel = e->root->fuel_left;
  /* GCC's allocator, facing hundreds of handlers behind computed gotos,
  ** may leave even pc or fp in memory (a load and a store per dispatch);
  ** pin the hottest state to callee-saved registers.  (A request, not a
  ** guarantee; clang ignores it and allocates these well anyway.) */
  register const wcell *pc PIN(rbx) = e->pc;
  register wslot *fp PIN(r12) = e->stack + e->fp_off;
  rusm_wasm_instance *inst = e->cur;
  register wframe *fr PIN(r15) = (wframe *)e->stack_end - e->nframes; /* last record pushed */
  register uint8_t *mb PIN(r13);
  register uint64_t ms PIN(r14);
  rusm_wasm_trap trapk = RUSM_WASM_TRAP_NONE;
  if (e->charge_owed) {
    /* The iteration a previous run stopped in front of. */
    if (fuel < 1) {
      e->state = WEXEC_PAUSED;
      return RUSM_WASM_OUT_OF_FUEL;
    }
    fuel--;
    e->charge_owed = false;
  }
  rusm_wasm_status status;
  const wfuncinst *fi;
  wslot *nfp;
  size_t need;
  const wcell *retpc;
  RELOAD();
  NEXT();

  /* ------------------------------------------------------------ control */
L_unreachable:
  TRAP(RUSM_WASM_TRAP_UNREACHABLE);
L_halt:
  status = RUSM_WASM_RETURNED;
  e->state = WEXEC_DONE;
  goto leave;
L_loop_head:
  CHARGE();
  DISPATCH(1);
L_br:
  pc = pc[1].tgt;
  NEXT();
L_br_if_nz:
  if (S(0).u32) { pc = pc[2].tgt; NEXT(); }
  DISPATCH(3);
L_br_if_z:
  if (!S(0).u32) { pc = pc[2].tgt; NEXT(); }
  DISPATCH(3);
L_br_if_nz64:
  if (S(0).u64) { pc = pc[2].tgt; NEXT(); }
  DISPATCH(3);
L_br_if_z64:
  if (!S(0).u64) { pc = pc[2].tgt; NEXT(); }
  DISPATCH(3);
  /* Backward branches: charge one unit per iteration.  Out of fuel, stop
  ** at the target with the charge owed: the next run pays it first. */
#ifdef RUSM_WASM_NO_FUEL
#define BACK() NEXT()
#else
#define BACK() do { if (UNLIKELY(--fuel < 0)) { fuel = 0; goto out_of_fuel_back; } NEXT(); } while (0)
#endif
L_br_back:
  pc = TGT(pc[1]);
  BACK();
L_br_if_nz_back:
  if (S(0).u32) { pc = TGT(pc[2]); BACK(); }
  DISPATCH(3);
L_br_if_z_back:
  if (!S(0).u32) { pc = TGT(pc[2]); BACK(); }
  DISPATCH(3);
L_br_if_nz64_back:
  if (S(0).u64) { pc = TGT(pc[2]); BACK(); }
  DISPATCH(3);
L_br_if_z64_back:
  if (!S(0).u64) { pc = TGT(pc[2]); BACK(); }
  DISPATCH(3);
L_mov2:
  S(1) = S(0);
  S(3) = S(2);
  DISPATCH(3);
L_mov2_br:
  S(1) = S(0);
  S(3) = S(2);
  pc = pc[3].tgt;
  NEXT();
L_mov2_br_back:
  S(1) = S(0);
  S(3) = S(2);
  pc = TGT(pc[3]);
  BACK();
L_mov_br:
  S(1) = S(0);
  pc = pc[2].tgt;
  NEXT();
L_mov_br_back:
  S(1) = S(0);
  pc = TGT(pc[2]);
  BACK();
L_br_table_and: {
  uint32_t i = S(0).u32 & A(2), n = A(1);
  pc = pc[3 + (i < n ? i : n)].tgt;
  NEXT();
}
L_br_table: {
  uint32_t i = S(0).u32, n = A(1);
  pc = pc[2 + (i < n ? i : n)].tgt;
  NEXT();
}
L_i32_add_ret:
  fp[0].u64 = (uint32_t)(S(0).u32 + S(1).u32);
  goto L_return;
L_return1:
  fp[0] = S(0);
  /* fall through */
L_return:
  /* mb/ms are this loop's locals, so a memory.grow in the callee already
  ** updated them; a change of instance returns through xret. */
  pc = fr->ret_pc;
  fp = fr->fp;
  fr++;
  NEXT();
L_call:
  /* The frame and the call records grow towards each other. */
  ENTER((const wfunc *)pc[2].ptr, 3, ZERO_LOCALS(cfp, f));
L_call_ref:
  fi = pc[2].ptr;
  retpc = pc + 3;
  goto call_fi;
L_call_import:
  fi = inst->funcs[A(1)];
  retpc = pc + 2;
  goto call_fi;
L_call_indirect: {
  const wtable *t = inst->tables[A(1)];
  uint32_t i = S(2).u32;
  if (UNLIKELY(i >= t->size)) TRAP(RUSM_WASM_TRAP_UNDEFINED_ELEMENT);
  const wfuncinst *g = t->elems[i];
  if (UNLIKELY(!g)) TRAP(RUSM_WASM_TRAP_UNINITIALIZED_ELEMENT);
  const wasm_functype *ft = pc[3].ptr;
  if (UNLIKELY(g->type != ft) &&
      (g->type_hash != inst->c->type_hash[A(3)] || !wasm_functype_eq(g->type, ft)))
    TRAP(RUSM_WASM_TRAP_INDIRECT_CALL_TYPE);
  if (UNLIKELY(g->inst != inst)) {
    /* A host function (no instance) or another instance's. */
    fi = g;
    retpc = pc + 4;
    goto call_fi;
  }
  /* Wasm code of this instance: as L_call, with nothing shared with
  ** call_fi (whose variables GCC keeps in memory). */
  ENTER(g->code, 4, ZERO_LOCALS(cfp, f));
}
call_fi: {
  /* A call through a function instance: a host function, or Wasm code
  ** possibly of another instance (which then becomes current). */
  CHARGE();
  nfp = fp + A(0);
  const wfunc *f = fi->code;
  if (UNLIKELY(!f)) goto call_native;
  if (UNLIKELY(nfp + f->frame_need > (wslot *)fr)) {
    need = (size_t)(nfp - fp) + f->frame_need;
    goto grow_call;
  }
  if (fi->inst != inst) {
    if (UNLIKELY(e->nxframes == e->xframes_cap) && !wasm_exec_grow_xframes(e))
      TRAP(RUSM_WASM_TRAP_STACK_EXHAUSTED);
    e->xframes[e->nxframes++] = (wxframe){retpc, inst};
    retpc = &e->entry[WEXEC_XRET];
    inst = fi->inst;
    RELOAD();
  }
  fr--;
  fr->ret_pc = retpc;
  fr->fp = fp;
  ZERO_LOCALS(nfp, f);
  fp = nfp;
  pc = WFUNC_ENTRY(f);
  NEXT();
}
call_native: {
  /* A host function or a compiled one: arguments at nfp, results back
  ** there (the caller's frame has room for both). */
  if (fi->host) {
    e->pc = pc;
    e->fp_off = (size_t)(fp - e->stack);
    e->nframes = (size_t)((wframe *)e->stack_end - fr);
    e->cur = inst;
    rusm_wasm_host_status hs = wasm_host_call(fi, inst, nfp);
    if (hs == RUSM_WASM_HOST_TRAP) TRAP(RUSM_WASM_TRAP_HOST);
    if (hs == RUSM_WASM_HOST_SUSPEND) {
      e->host_fp_off = (size_t)(nfp - e->stack);
      e->host_type = fi->type;
      pc = retpc;
      status = RUSM_WASM_SUSPENDED;
      e->state = WEXEC_SUSPENDED;
      goto leave;
    }
    pc = retpc;
    RELOAD();
    NEXT();
  }
  /* Compiled code nests C frames, so it runs on the root's coroutine.
  ** Off it: stop in front of this call, giving back its unit, for
  ** exec_run to run again on the coroutine (which executes the call
  ** again).  On it: the compiled function charges its own unit on entry,
  ** so the one CHARGE took is given back there too. */
  REFUND();
  if (!e->root->on_coro) {
    status = WASM_NEED_CORO;
    goto leave;
  }
  e->pc = pc;
  e->fp_off = (size_t)(fp - e->stack);
  e->nframes = (size_t)((wframe *)e->stack_end - fr);
  e->cur = inst;
  e->root->fuel_left = fuel;
  wasm_jit_enter(e, fi, nfp);
  fuel = e->root->fuel_left;
  pc = retpc;
  RELOAD();   /* the callee may have grown the memory */
  NEXT();
}
L_jit_entry:
  /* The entry stub of a function whose module tiered up (tier.c) after
  ** its caller started: [h][-][slot wrapper].  The frame is pushed and
  ** the call charged, so run the native code on the frame and return.
  ** Off the coroutine: stop here, keeping the unit, for exec_run to run
  ** this stub again on the coroutine. */
  if (!e->root->on_coro) {
    status = WASM_NEED_CORO;
    goto leave;
  }
  REFUND();   /* the native function charges its own unit */
  goto run_native_frame;
L_osr_entry:
  /* Where a running call's branch back to a loop goes once its module
  ** tiered up (tier.c): [h][loop -][entry].  The branch was charged; the
  ** entry takes the locals from the frame and finishes the call. */
  if (!e->root->on_coro) {
    status = WASM_NEED_CORO;
    goto leave;
  }
run_native_frame: {
  e->pc = pc;
  e->fp_off = (size_t)(fp - e->stack);
  e->nframes = (size_t)((wframe *)e->stack_end - fr);
  e->cur = inst;
  e->root->fuel_left = fuel;
  if (pc->h == &&L_osr_entry)
    ((void (*)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *, uint32_t))pc[2].ptr)(e->root, inst, fp, A(0));
  else
    ((void (*)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *))pc[2].ptr)(e->root, inst, fp);
  fuel = e->root->fuel_left;
  RELOAD();
  goto L_return;
}
grow_call: {
  /* Out of line, so that the calls keep nothing alive for it: grows the
  ** stack for `need` slots from fp (the callee's frame and a record),
  ** then runs the call again, refunding the unit it charged. */
  size_t off = (size_t)(fp - e->stack);
  e->nframes = (size_t)((wframe *)e->stack_end - fr);
  if (!wasm_exec_grow_stack(e, off + need)) TRAP(RUSM_WASM_TRAP_STACK_EXHAUSTED);
  fp = e->stack + off;
  fr = (wframe *)e->stack_end - e->nframes;
#ifndef RUSM_WASM_NO_FUEL
  fuel++;
#endif
  NEXT();
}

  /* ------------------------------------------------------------ data */
L_mov:
  S(1) = S(0);
  DISPATCH(2);
L_const:
  S(0).u64 = pc[2].u64;
  DISPATCH(3);
L_const32:
  S(0).u64 = A(1);
  DISPATCH(2);
L_select: {
  wslot v = S(2).u32 ? S(0) : S(1);
  S(3) = v;
  DISPATCH(3);
}
L_global_get:
  S(1) = inst->globals[A(0)]->val;
  DISPATCH(2);
L_global_set:
  inst->globals[A(0)]->val = S(1);
  DISPATCH(2);
L_ref_func:
  S(1).ref = inst->funcs[A(0)];
  DISPATCH(2);

  /* ------------------------------------------------------------ integers */
  /* x, y: the operands; the result is stored after both are read, so the
  ** destination may be one of the sources. */
#define BIN(p, name, T, UT, RT, expr)                                          \
  L_##p##_##name##_ss: {                                                       \
    T x = (T)S(0).UT, y = (T)S(1).UT;                                          \
    S(2).u64 = (RT)(expr);                                                     \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##p##_##name##_si: {                                                       \
    T x = (T)S(0).UT, y = (T)(int32_t)A(1);                                    \
    S(2).u64 = (RT)(expr);                                                     \
    DISPATCH(3);                                                               \
  }
#define BINCHK(p, name, T, UT, RT, check, expr)                                \
  L_##p##_##name##_ss: {                                                       \
    T x = (T)S(0).UT, y = (T)S(1).UT;                                          \
    check;                                                                     \
    S(2).u64 = (RT)(expr);                                                     \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##p##_##name##_si: {                                                       \
    T x = (T)S(0).UT, y = (T)(int32_t)A(1);                                    \
    check;                                                                     \
    S(2).u64 = (RT)(expr);                                                     \
    DISPATCH(3);                                                               \
  }
#define INT_BINS(p, U, I, BITS, ROTL, ROTR)                                    \
  BIN(p, add, U, u64, U, x + y)                                                \
  BIN(p, sub, U, u64, U, x - y)                                                \
  BIN(p, mul, U, u64, U, x * y)                                                \
  BINCHK(p, div_s, U, u64, U,                                                  \
         if (UNLIKELY(y == 0)) TRAP(RUSM_WASM_TRAP_DIV_BY_ZERO);               \
         if (UNLIKELY((I)x == (I)((U)1 << (BITS - 1)) && (I)y == -1))          \
           TRAP(RUSM_WASM_TRAP_INT_OVERFLOW),                                  \
         (U)((I)x / (I)y))                                                     \
  BINCHK(p, div_u, U, u64, U,                                                  \
         if (UNLIKELY(y == 0)) TRAP(RUSM_WASM_TRAP_DIV_BY_ZERO), x / y)        \
  BINCHK(p, rem_s, U, u64, U,                                                  \
         if (UNLIKELY(y == 0)) TRAP(RUSM_WASM_TRAP_DIV_BY_ZERO),               \
         (I)y == -1 ? 0 : (U)((I)x % (I)y))                                    \
  BINCHK(p, rem_u, U, u64, U,                                                  \
         if (UNLIKELY(y == 0)) TRAP(RUSM_WASM_TRAP_DIV_BY_ZERO), x % y)        \
  BIN(p, and, U, u64, U, x & y)                                                \
  BIN(p, or, U, u64, U, x | y)                                                 \
  BIN(p, xor, U, u64, U, x ^ y)                                                \
  BIN(p, shl, U, u64, U, x << (y & (BITS - 1)))                                \
  BIN(p, shr_s, U, u64, U, (U)((I)x >> (y & (BITS - 1))))                      \
  BIN(p, shr_u, U, u64, U, x >> (y & (BITS - 1)))                              \
  BIN(p, rotl, U, u64, U, ROTL(x, y))                                          \
  BIN(p, rotr, U, u64, U, ROTR(x, y))                                          \
  BIN(p, eq, U, u64, uint32_t, x == y)                                         \
  BIN(p, ne, U, u64, uint32_t, x != y)                                         \
  BIN(p, lt_s, U, u64, uint32_t, (I)x < (I)y)                                  \
  BIN(p, lt_u, U, u64, uint32_t, x < y)                                        \
  BIN(p, gt_s, U, u64, uint32_t, (I)x > (I)y)                                  \
  BIN(p, gt_u, U, u64, uint32_t, x > y)                                        \
  BIN(p, le_s, U, u64, uint32_t, (I)x <= (I)y)                                 \
  BIN(p, le_u, U, u64, uint32_t, x <= y)                                       \
  BIN(p, ge_s, U, u64, uint32_t, (I)x >= (I)y)                                 \
  BIN(p, ge_u, U, u64, uint32_t, x >= y)
  INT_BINS(i32, uint32_t, int32_t, 32, wn_rotl32, wn_rotr32)
  INT_BINS(i64, uint64_t, int64_t, 64, wn_rotl64, wn_rotr64)

  /* Fused compare and branch: [h][a b][target]. */
#define BRC(p, name, U, I, cond)                                               \
  L_brc_##p##_##name##_ss: {                                                   \
    U x = (U)S(0).u64, y = (U)S(1).u64;                                        \
    if (cond) { pc = pc[2].tgt; NEXT(); }                                      \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_brc_##p##_##name##_si: {                                                   \
    U x = (U)S(0).u64, y = (U)(int32_t)A(1);                                   \
    if (cond) { pc = pc[2].tgt; NEXT(); }                                      \
    DISPATCH(3);                                                               \
  }
#define BRCB(p, name, U, I, cond)                                              \
  L_brcb_##p##_##name##_ss: {                                                  \
    U x = (U)S(0).u64, y = (U)S(1).u64;                                        \
    if (cond) { pc = TGT(pc[2]); BACK(); }                                      \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_brcb_##p##_##name##_si: {                                                  \
    U x = (U)S(0).u64, y = (U)(int32_t)A(1);                                   \
    if (cond) { pc = TGT(pc[2]); BACK(); }                                      \
    DISPATCH(3);                                                               \
  }
#define BRC2(p, name, U, I, cond) BRC(p, name, U, I, cond) BRCB(p, name, U, I, cond)
#define BRCS(p, U, I)                                                          \
  BRC2(p, eq, U, I, x == y) BRC2(p, ne, U, I, x != y)                          \
  BRC2(p, lt_s, U, I, (I)x < (I)y) BRC2(p, lt_u, U, I, x < y)                  \
  BRC2(p, gt_s, U, I, (I)x > (I)y) BRC2(p, gt_u, U, I, x > y)                  \
  BRC2(p, le_s, U, I, (I)x <= (I)y) BRC2(p, le_u, U, I, x <= y)                \
  BRC2(p, ge_s, U, I, (I)x >= (I)y) BRC2(p, ge_u, U, I, x >= y)
  BRCS(i32, uint32_t, int32_t)
  BRCS(i64, uint64_t, int64_t)

#define UN(name, expr)                                                         \
  L_##name: {                                                                  \
    wslot a = S(0);                                                            \
    S(1).u64 = (expr);                                                         \
    DISPATCH(2);                                                               \
  }
  /* eqz has the binop size (see interp.h). */
L_i32_eqz:
  S(1).u64 = S(0).u32 == 0;
  DISPATCH(3);
L_i64_eqz:
  S(1).u64 = S(0).u64 == 0;
  DISPATCH(3);
  UN(i32_clz, a.u32 ? (uint32_t)__builtin_clz(a.u32) : 32)
  UN(i32_ctz, a.u32 ? (uint32_t)__builtin_ctz(a.u32) : 32)
  UN(i32_popcnt, (uint32_t)__builtin_popcount(a.u32))
  UN(i32_extend8_s, (uint32_t)(int32_t)(int8_t)a.u32)
  UN(i32_extend16_s, (uint32_t)(int32_t)(int16_t)a.u32)
  UN(i64_clz, a.u64 ? (uint64_t)__builtin_clzll(a.u64) : 64)
  UN(i64_ctz, a.u64 ? (uint64_t)__builtin_ctzll(a.u64) : 64)
  UN(i64_popcnt, (uint64_t)__builtin_popcountll(a.u64))
  UN(i64_extend8_s, (uint64_t)(int64_t)(int8_t)a.u64)
  UN(i64_extend16_s, (uint64_t)(int64_t)(int16_t)a.u64)
  UN(i64_extend32_s, (uint64_t)(int64_t)(int32_t)a.u64)
  UN(i32_wrap_i64, (uint32_t)a.u64)

  /* ------------------------------------------------------------ floats */
#define FBIN(p, name, T, BITS, FROMB, expr)                                    \
  L_##p##_##name: {                                                            \
    T x = FROMB(S(0).BITS), y = FROMB(S(1).BITS);                              \
    S(2).u64 = (expr);                                                         \
    DISPATCH(3);                                                               \
  }
#define FUN(p, name, T, BITS, FROMB, expr)                                     \
  L_##p##_##name: {                                                            \
    T x = FROMB(S(0).BITS);                                                    \
    S(1).u64 = (expr);                                                         \
    DISPATCH(2);                                                               \
  }
#define F32B(expr) wn_f32_bits(expr)
#define F64B(expr) wn_f64_bits(expr)
  FBIN(f32, add, float, u32, wn_bits_f32, F32B(x + y))
  FBIN(f32, sub, float, u32, wn_bits_f32, F32B(x - y))
  FBIN(f32, mul, float, u32, wn_bits_f32, F32B(x * y))
  FBIN(f32, div, float, u32, wn_bits_f32, F32B(x / y))
  FBIN(f32, min, float, u32, wn_bits_f32, F32B(wn_fminf(x, y)))
  FBIN(f32, max, float, u32, wn_bits_f32, F32B(wn_fmaxf(x, y)))
  FBIN(f32, eq, float, u32, wn_bits_f32, x == y)
  FBIN(f32, ne, float, u32, wn_bits_f32, x != y)
  FBIN(f32, lt, float, u32, wn_bits_f32, x < y)
  FBIN(f32, gt, float, u32, wn_bits_f32, x > y)
  FBIN(f32, le, float, u32, wn_bits_f32, x <= y)
  FBIN(f32, ge, float, u32, wn_bits_f32, x >= y)
  FUN(f32, ceil, float, u32, wn_bits_f32, F32B(x != x ? x + x : ceilf(x)))
  FUN(f32, floor, float, u32, wn_bits_f32, F32B(x != x ? x + x : floorf(x)))
  FUN(f32, trunc, float, u32, wn_bits_f32, F32B(x != x ? x + x : truncf(x)))
  FUN(f32, nearest, float, u32, wn_bits_f32, F32B(x != x ? x + x : wn_nearestf(x)))
  FUN(f32, sqrt, float, u32, wn_bits_f32, F32B(sqrtf(x)))
  FBIN(f64, add, double, u64, wn_bits_f64, F64B(x + y))
  FBIN(f64, sub, double, u64, wn_bits_f64, F64B(x - y))
  FBIN(f64, mul, double, u64, wn_bits_f64, F64B(x * y))
  FBIN(f64, div, double, u64, wn_bits_f64, F64B(x / y))
  FBIN(f64, min, double, u64, wn_bits_f64, F64B(wn_fmin(x, y)))
  FBIN(f64, max, double, u64, wn_bits_f64, F64B(wn_fmax(x, y)))
  FBIN(f64, eq, double, u64, wn_bits_f64, x == y)
  FBIN(f64, ne, double, u64, wn_bits_f64, x != y)
  FBIN(f64, lt, double, u64, wn_bits_f64, x < y)
  FBIN(f64, gt, double, u64, wn_bits_f64, x > y)
  FBIN(f64, le, double, u64, wn_bits_f64, x <= y)
  FBIN(f64, ge, double, u64, wn_bits_f64, x >= y)
  FUN(f64, ceil, double, u64, wn_bits_f64, F64B(x != x ? x + x : ceil(x)))
  FUN(f64, floor, double, u64, wn_bits_f64, F64B(x != x ? x + x : floor(x)))
  FUN(f64, trunc, double, u64, wn_bits_f64, F64B(x != x ? x + x : trunc(x)))
  FUN(f64, nearest, double, u64, wn_bits_f64, F64B(x != x ? x + x : wn_nearest(x)))
  FUN(f64, sqrt, double, u64, wn_bits_f64, F64B(sqrt(x)))
  /* Sign operations touch only the sign bit (NaN payloads survive). */
L_f32_copysign:
  S(2).u64 = wn_copysign32(S(0).u32, S(1).u32);
  DISPATCH(3);
L_f32_abs:
  S(1).u64 = S(0).u32 & 0x7fffffffu;
  DISPATCH(2);
L_f32_neg:
  S(1).u64 = S(0).u32 ^ 0x80000000u;
  DISPATCH(2);
L_f64_copysign:
  S(2).u64 = wn_copysign64(S(0).u64, S(1).u64);
  DISPATCH(3);
L_f64_abs:
  S(1).u64 = S(0).u64 & 0x7fffffffffffffffull;
  DISPATCH(2);
L_f64_neg:
  S(1).u64 = S(0).u64 ^ 0x8000000000000000ull;
  DISPATCH(2);

  /* Trapping truncations. */
#define TRUNC(name, T, BITS, FROMB, OK, RT, CT)                                \
  L_##name: {                                                                  \
    T x = FROMB(S(0).BITS);                                                    \
    if (UNLIKELY(x != x)) TRAP(RUSM_WASM_TRAP_INVALID_CONVERSION);             \
    if (UNLIKELY(!OK(x))) TRAP(RUSM_WASM_TRAP_INT_OVERFLOW);                   \
    S(1).u64 = (RT)(CT)x;                                                      \
    DISPATCH(2);                                                               \
  }
  TRUNC(i32_trunc_f32_s, float, u32, wn_bits_f32, wn_f32_i32s_ok, uint32_t, int32_t)
  TRUNC(i32_trunc_f32_u, float, u32, wn_bits_f32, wn_f32_i32u_ok, uint32_t, uint32_t)
  TRUNC(i32_trunc_f64_s, double, u64, wn_bits_f64, wn_f64_i32s_ok, uint32_t, int32_t)
  TRUNC(i32_trunc_f64_u, double, u64, wn_bits_f64, wn_f64_i32u_ok, uint32_t, uint32_t)
  TRUNC(i64_trunc_f32_s, float, u32, wn_bits_f32, wn_f32_i64s_ok, uint64_t, int64_t)
  TRUNC(i64_trunc_f32_u, float, u32, wn_bits_f32, wn_f32_i64u_ok, uint64_t, uint64_t)
  TRUNC(i64_trunc_f64_s, double, u64, wn_bits_f64, wn_f64_i64s_ok, uint64_t, int64_t)
  TRUNC(i64_trunc_f64_u, double, u64, wn_bits_f64, wn_f64_i64u_ok, uint64_t, uint64_t)
  UN(i32_trunc_sat_f32_s, (uint32_t)wn_sat_i32s(wn_bits_f32(a.u32)))
  UN(i32_trunc_sat_f32_u, wn_sat_i32u(wn_bits_f32(a.u32)))
  UN(i32_trunc_sat_f64_s, (uint32_t)wn_sat_i32s(wn_bits_f64(a.u64)))
  UN(i32_trunc_sat_f64_u, wn_sat_i32u(wn_bits_f64(a.u64)))
  UN(i64_trunc_sat_f32_s, (uint64_t)wn_sat_i64s(wn_bits_f32(a.u32)))
  UN(i64_trunc_sat_f32_u, wn_sat_i64u(wn_bits_f32(a.u32)))
  UN(i64_trunc_sat_f64_s, (uint64_t)wn_sat_i64s(wn_bits_f64(a.u64)))
  UN(i64_trunc_sat_f64_u, wn_sat_i64u(wn_bits_f64(a.u64)))
  UN(f32_convert_i32_s, wn_f32_bits((float)a.i32))
  UN(f32_convert_i32_u, wn_f32_bits((float)a.u32))
  UN(f32_convert_i64_s, wn_f32_bits((float)a.i64))
  UN(f32_convert_i64_u, wn_f32_bits((float)a.u64))
  UN(f32_demote_f64, wn_f32_bits((float)wn_bits_f64(a.u64)))
  UN(f64_convert_i32_s, wn_f64_bits((double)a.i32))
  UN(f64_convert_i32_u, wn_f64_bits((double)a.u32))
  UN(f64_convert_i64_s, wn_f64_bits((double)a.i64))
  UN(f64_convert_i64_u, wn_f64_bits((double)a.u64))
  UN(f64_promote_f32, wn_f64_bits((double)wn_bits_f32(a.u32)))

  /* ------------------------------------------------------------ memory */
#define LOAD(name, N, T, RT)                                                   \
  L_##name: {                                                                  \
    uint64_t ea = (uint64_t)S(0).u32 + A(2);                                   \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(1).u64 = (RT)v;                                                          \
    DISPATCH(3);                                                               \
  }
#define LOADSS(name, N, T, RT)                                                 \
  L_##name##_ss: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + S(1).u32) + A(3);            \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(3);                                                               \
  }
#define LOADSI(name, N, T, RT)                                                 \
  L_##name##_si: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + A(1)) + A(3);                \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(3);                                                               \
  }
#define LOADSH(name, N, T, RT)                                                 \
  L_##name##_sh: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)((S(0).u32 << (A(1) & 31)) + A(3)) + A(4); \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(4);                                                               \
  }
#define LOADASH(name, N, T, RT)                                                \
  L_##name##_ash: {                                                            \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + (S(1).u32 << (A(3) & 31))) + A(4); \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(4);                                                               \
  }
#define LOADABS(name, N, T, RT)                                                \
  L_##name##_abs: {                                                            \
    uint64_t ea = pc[2].u64;                                                   \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(0).u64 = (RT)v;                                                          \
    DISPATCH(3);                                                               \
  }
#define LOADSIT(name, N, T, RT)                                                \
  L_##name##_sit: {                                                            \
    uint32_t x = S(0).u32 + A(1);                                              \
    S(2).u64 = x;                                                              \
    uint64_t ea = (uint64_t)x + A(4);                                          \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(3).u64 = (RT)v;                                                          \
    DISPATCH(4);                                                               \
  }
#define LOAD2(name, N, T, RT) LOAD(name, N, T, RT) LOADSS(name, N, T, RT) LOADSI(name, N, T, RT) LOADSH(name, N, T, RT) LOADASH(name, N, T, RT) LOADABS(name, N, T, RT)
  LOAD2(ld32, 4, uint32_t, uint64_t)
  LOAD2(ld64, 8, uint64_t, uint64_t)
  LOAD2(ld8s32, 1, int8_t, uint32_t)
  LOAD2(ld8u, 1, uint8_t, uint64_t)
  LOAD2(ld16s32, 2, int16_t, uint32_t)
  LOAD2(ld16u, 2, uint16_t, uint64_t)
  LOAD2(ld8s64, 1, int8_t, uint64_t)
  LOAD2(ld16s64, 2, int16_t, uint64_t)
  LOAD2(ld32s64, 4, int32_t, uint64_t)
#define STORE(name, N, T)                                                      \
  L_##name: {                                                                  \
    uint64_t ea = (uint64_t)S(0).u32 + A(2);                                   \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(1).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }
#define STORESS(name, N, T)                                                    \
  L_##name##_ss: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + S(1).u32) + A(3);            \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(2).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }
#define STORESI(name, N, T)                                                    \
  L_##name##_si: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + A(1)) + A(3);                \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(2).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }
#define STORESH(name, N, T)                                                    \
  L_##name##_sh: {                                                             \
    uint64_t ea = (uint64_t)(uint32_t)((S(0).u32 << (A(1) & 31)) + A(3)) + A(4); \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(2).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(4);                                                               \
  }
#define STOREASH(name, N, T)                                                   \
  L_##name##_ash: {                                                            \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + (S(1).u32 << (A(3) & 31))) + A(4); \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(2).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(4);                                                               \
  }
#define STOREABS(name, N, T)                                                   \
  L_##name##_abs: {                                                            \
    uint64_t ea = pc[2].u64;                                                   \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(0).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }
#define STORE2(name, N, T) STORE(name, N, T) STORESS(name, N, T) STORESI(name, N, T) STORESH(name, N, T) STOREASH(name, N, T) STOREABS(name, N, T)
  STORE2(st8, 1, uint8_t)
  STORE2(st16, 2, uint16_t)
  STORE2(st32, 4, uint32_t)
  STORE2(st64, 8, uint64_t)

L_i32_add_shl:
  S(2).u64 = (uint32_t)(S(0).u32 + (S(1).u32 << (A(3) & 31)));
  DISPATCH(3);
#define STOREVI(name, N, T)                                                    \
  L_##name##_vi: {                                                             \
    uint64_t ea = (uint64_t)S(0).u32 + A(2);                                   \
    MEMCHK(ea, N);                                                             \
    T v = (T)A(1);                                                             \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##name##_ssvi: {                                                           \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + S(1).u32) + A(3);            \
    MEMCHK(ea, N);                                                             \
    T v = (T)A(2);                                                             \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##name##_sivi: {                                                           \
    uint64_t ea = (uint64_t)(uint32_t)(S(0).u32 + A(1)) + A(3);                \
    MEMCHK(ea, N);                                                             \
    T v = (T)A(2);                                                             \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(3);                                                               \
  }
  STOREVI(st8, 1, uint8_t)
  STOREVI(st16, 2, uint16_t)
  STOREVI(st32, 4, uint32_t)
  STOREVI(st64, 8, uint64_t)
  /* Float arithmetic with a memory operand (a plain load merged in). */
#define FLD(p, name, T, LT, FROMB, TOB, expr)                                  \
  L_##p##_##name##_ld: {                                                       \
    uint64_t ea = (uint64_t)S(1).u32 + A(3);                                   \
    MEMCHK(ea, sizeof(LT));                                                    \
    LT bits;                                                                   \
    memcpy(&bits, mb + ea, sizeof bits);                                       \
    T x = FROMB(S(0).u64), m = FROMB(bits);                                    \
    T r = (expr);                                                              \
    S(2).u64 = TOB(r);                                                         \
    DISPATCH(3);                                                               \
  }
#define F32FROM(b) wn_bits_f32((uint32_t)(b))
#define F64FROM(b) wn_bits_f64((uint64_t)(b))
  FLD(f32, add, float, uint32_t, F32FROM, wn_f32_bits, x + m)
  FLD(f32, sub, float, uint32_t, F32FROM, wn_f32_bits, x - m)
  FLD(f32, rsub, float, uint32_t, F32FROM, wn_f32_bits, m - x)
  FLD(f32, mul, float, uint32_t, F32FROM, wn_f32_bits, x * m)
  FLD(f64, add, double, uint64_t, F64FROM, wn_f64_bits, x + m)
  FLD(f64, sub, double, uint64_t, F64FROM, wn_f64_bits, x - m)
  FLD(f64, rsub, double, uint64_t, F64FROM, wn_f64_bits, m - x)
  FLD(f64, mul, double, uint64_t, F64FROM, wn_f64_bits, x * m)
#define ABRC1(p, name, ADD, YS, cond)                                          \
  L_##p##_brcb_##name##_##YS: {                                                \
    uint32_t x = S(0).u32 + (ADD);                                             \
    S(2).u64 = x;                                                              \
    uint32_t y = ABRC_Y_##YS;                                                  \
    if (cond) { pc = TGT(pc[5]); BACK(); }                                      \
    DISPATCH(6);                                                               \
  }
#define ABRC_Y_ss S(3).u32
#define ABRC_Y_si A(3)
#define ABRC2(name, cond)                                                      \
  ABRC1(addi, name, A(1), ss, cond) ABRC1(addi, name, A(1), si, cond)          \
  ABRC1(adds, name, S(1).u32, ss, cond) ABRC1(adds, name, S(1).u32, si, cond)
  ABRC2(eq, x == y)
  ABRC2(ne, x != y)
  ABRC2(lt_s, (int32_t)x < (int32_t)y)
  ABRC2(lt_u, x < y)
  ABRC2(gt_s, (int32_t)x > (int32_t)y)
  ABRC2(gt_u, x > y)
  ABRC2(le_s, (int32_t)x <= (int32_t)y)
  ABRC2(le_u, x <= y)
  ABRC2(ge_s, (int32_t)x >= (int32_t)y)
  ABRC2(ge_u, x >= y)
#define FLDST(name, expr)                                                      \
  L_f64_##name##_ldst: {                                                       \
    uint64_t ea = (uint64_t)S(1).u32 + A(3);                                   \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits;                                                             \
    memcpy(&bits, mb + ea, 8);                                                 \
    double x = wn_bits_f64(S(0).u64), m = wn_bits_f64(bits);                   \
    double r = (expr);                                                         \
    bits = wn_f64_bits(r);                                                     \
    memcpy(mb + ea, &bits, 8);                                                 \
    DISPATCH(3);                                                               \
  }
  FLDST(add, x + m)
  FLDST(sub, x - m)
  FLDST(mul, x * m)
#define F3(name, expr)                                                         \
  L_f64_##name: {                                                              \
    double a = wn_bits_f64(S(0).u64), b = wn_bits_f64(S(1).u64), c = wn_bits_f64(S(2).u64); \
    double p = a * b;                                                          \
    double r = (expr);                                                         \
    S(3).u64 = wn_f64_bits(r);                                                 \
    DISPATCH(3);                                                               \
  }
  F3(mulsub, p - c)
  F3(rmulsub, c - p)
  F3(mulmul, p * c)
#define FST(name, expr)                                                        \
  L_f64_##name##_st: {                                                         \
    double x = wn_bits_f64(S(0).u64), y = wn_bits_f64(S(1).u64);               \
    double r = (expr);                                                         \
    uint64_t ea = (uint64_t)S(2).u32 + A(3);                                   \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits = wn_f64_bits(r);                                            \
    memcpy(mb + ea, &bits, 8);                                                 \
    DISPATCH(3);                                                               \
  }
  FST(add, x + y)
  FST(sub, x - y)
  FST(mul, x * y)
#define FLDSI(name, expr)                                                      \
  L_f64_##name##_ldsi: {                                                       \
    uint64_t ea = (uint64_t)(uint32_t)(S(1).u32 + A(3)) + A(4);                \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits;                                                             \
    memcpy(&bits, mb + ea, 8);                                                 \
    double x = wn_bits_f64(S(0).u64), m = wn_bits_f64(bits);                   \
    double r = (expr);                                                         \
    S(2).u64 = wn_f64_bits(r);                                                 \
    DISPATCH(4);                                                               \
  }
  FLDSI(mul, x * m)
  FLDSI(add, x + m)
  FLDSI(sub, x - m)
#define FBRC(p, name, T, BITS, FROMB, cond, GO)                                 \
  L_##p##_##name: {                                                            \
    T x = FROMB(S(0).BITS), y = FROMB(S(1).BITS);                              \
    if (cond) { pc = TGT(pc[2]); GO(); }                                        \
    DISPATCH(3);                                                               \
  }
#define FBRCS(p, GO, NOT)                                                      \
  FBRC(p, f32_eq, float, u32, wn_bits_f32, NOT(x == y), GO)                    \
  FBRC(p, f32_ne, float, u32, wn_bits_f32, NOT(x != y), GO)                    \
  FBRC(p, f32_lt, float, u32, wn_bits_f32, NOT(x < y), GO)                     \
  FBRC(p, f32_gt, float, u32, wn_bits_f32, NOT(x > y), GO)                     \
  FBRC(p, f32_le, float, u32, wn_bits_f32, NOT(x <= y), GO)                    \
  FBRC(p, f32_ge, float, u32, wn_bits_f32, NOT(x >= y), GO)                    \
  FBRC(p, f64_eq, double, u64, wn_bits_f64, NOT(x == y), GO)                   \
  FBRC(p, f64_ne, double, u64, wn_bits_f64, NOT(x != y), GO)                   \
  FBRC(p, f64_lt, double, u64, wn_bits_f64, NOT(x < y), GO)                    \
  FBRC(p, f64_gt, double, u64, wn_bits_f64, NOT(x > y), GO)                    \
  FBRC(p, f64_le, double, u64, wn_bits_f64, NOT(x <= y), GO)                   \
  FBRC(p, f64_ge, double, u64, wn_bits_f64, NOT(x >= y), GO)
#define FB_YES(c) (c)
#define FB_NOT(c) (!(c))
  FBRCS(brcf, NEXT, FB_YES)
  FBRCS(brcfn, NEXT, FB_NOT)
  FBRCS(brcfb, BACK, FB_YES)
L_select64: {
  wslot v = S(2).u64 ? S(0) : S(1);
  S(3) = v;
  DISPATCH(3);
}
L_i32_mul_add_si:
  S(2).u64 = (uint32_t)(S(0).u32 * A(1) + A(3));
  DISPATCH(3);
L_i64_mul_add_si:
  S(2).u64 = S(0).u64 * (uint64_t)(int64_t)(int32_t)A(1) + (uint64_t)(int64_t)(int32_t)A(3);
  DISPATCH(3);
#define ILD(name, l, T, EA, LEN, expr)                                         \
  L_i32_##name##_##l: {                                                        \
    uint64_t ea = (EA);                                                        \
    MEMCHK(ea, sizeof(T));                                                     \
    T mv;                                                                      \
    memcpy(&mv, mb + ea, sizeof mv);                                           \
    uint32_t x = S(0).u32, m = mv;                                             \
    S(2).u64 = (uint32_t)(expr);                                               \
    DISPATCH(LEN);                                                             \
  }
#define ILDS(l, T, EA, LEN)                                                    \
  ILD(add, l, T, EA, LEN, x + m) ILD(sub, l, T, EA, LEN, x - m)                \
  ILD(xor, l, T, EA, LEN, x ^ m) ILD(and, l, T, EA, LEN, x & m)                \
  ILD(or, l, T, EA, LEN, x | m) ILD(mul, l, T, EA, LEN, x * m)
#define EA_PLAIN ((uint64_t)S(1).u32 + A(3))
#define EA_SI ((uint64_t)(uint32_t)(S(1).u32 + A(3)) + A(4))
  ILDS(ld32, uint32_t, EA_PLAIN, 3)
  ILDS(ld8u, uint8_t, EA_PLAIN, 3)
  ILDS(ld32si, uint32_t, EA_SI, 4)
  ILDS(ld8usi, uint8_t, EA_SI, 4)
L_i32_or_shl:
  S(2).u64 = S(0).u32 | (uint32_t)(S(1).u32 << (A(3) & 31));
  DISPATCH(3);
L_i32_or_shr_u:
  S(2).u64 = S(0).u32 | (S(1).u32 >> (A(3) & 31));
  DISPATCH(3);
L_i32_xor_shr_u:
  S(2).u64 = S(0).u32 ^ (S(1).u32 >> (A(3) & 31));
  DISPATCH(3);
L_i32_xor_shl:
  S(2).u64 = S(0).u32 ^ (uint32_t)(S(1).u32 << (A(3) & 31));
  DISPATCH(3);
L_i64_xor_shr_u:
  S(2).u64 = S(0).u64 ^ (S(1).u64 >> (A(3) & 63));
  DISPATCH(3);
L_i64_xor_shl:
  S(2).u64 = S(0).u64 ^ (S(1).u64 << (A(3) & 63));
  DISPATCH(3);
#define AXPY(name, EAB, OFF1, LEN)                                              \
  L_f64_##name: {                                                              \
    uint64_t eb = (EAB);                                                       \
    MEMCHK(eb, 8);                                                             \
    uint64_t bb;                                                               \
    memcpy(&bb, mb + eb, 8);                                                   \
    double p = wn_bits_f64(S(0).u64) * wn_bits_f64(bb);                        \
    uint64_t ea = (uint64_t)S(2).u32 + (OFF1);                                 \
    MEMCHK(ea, 8);                                                             \
    uint64_t ab;                                                               \
    memcpy(&ab, mb + ea, 8);                                                   \
    double r = p + wn_bits_f64(ab);                                            \
    ab = wn_f64_bits(r);                                                       \
    memcpy(mb + ea, &ab, 8);                                                   \
    DISPATCH(LEN);                                                             \
  }
  AXPY(axpy_ld, (uint64_t)S(1).u32 + A(3), A(4), 6)
  AXPY(axpy_ldsi, (uint64_t)(uint32_t)(S(1).u32 + A(3)) + A(4), A(5), 7)
#define IST(name, expr)                                                        \
  L_i32_##name##_st32: {                                                       \
    uint32_t x = S(0).u32, y = S(1).u32;                                       \
    uint32_t r = (expr);                                                       \
    uint64_t ea = (uint64_t)S(2).u32 + A(3);                                   \
    MEMCHK(ea, 4);                                                             \
    memcpy(mb + ea, &r, 4);                                                    \
    DISPATCH(3);                                                               \
  }
  IST(add, x + y)
  IST(sub, x - y)
  IST(mul, x * y)
  IST(xor, x ^ y)
  IST(and, x & y)
  IST(or, x | y)
L_select_and: {
  wslot v = (S(2).u32 & A(4)) ? S(0) : S(1);
  S(3) = v;
  DISPATCH(6);
}
L_select_and64: {
  wslot v = (S(2).u64 & (uint64_t)(int64_t)(int32_t)A(4)) ? S(0) : S(1);
  S(3) = v;
  DISPATCH(6);
}
L_i32_shr_u_and:
  S(2).u64 = (S(0).u32 >> (A(1) & 31)) & A(3);
  DISPATCH(3);
L_i32_shl_add:
  S(2).u64 = (uint32_t)((S(0).u32 << (A(1) & 31)) + A(3));
  DISPATCH(3);
L_f32_muladd: {
  /* Two roundings, as the separate Wasm instructions: no FMA. */
  float p = wn_bits_f32(S(0).u32) * wn_bits_f32(S(1).u32);
  float r = p + wn_bits_f32(S(2).u32);
  S(3).u64 = wn_f32_bits(r);
  DISPATCH(3);
}
L_f64_muladd: {
  double p = wn_bits_f64(S(0).u64) * wn_bits_f64(S(1).u64);
  double r = p + wn_bits_f64(S(2).u64);
  S(3).u64 = wn_f64_bits(r);
  DISPATCH(3);
}

L_memory_size:
  S(0).u64 = inst->mem->pages;
  DISPATCH(2);
L_memory_grow: {
  int64_t r = wasm_memory_grow(inst->mem, S(0).u32);
  S(1).u64 = (uint32_t)(int32_t)r;
  RELOAD();
  DISPATCH(2);
}
  /* Bulk operations run out of line, shared with compiled code (ops.c). */
#define OP_OR_TRAP(call) do { uint32_t k_ = (call); if (k_) TRAP((rusm_wasm_trap)k_); } while (0)
L_memory_init:
  /* [h][d s][n seg] */
  OP_OR_TRAP(wasm_op_memory_init(inst, A(3), S(0).u32, S(1).u32, S(2).u32));
  DISPATCH(3);
L_data_drop:
  wasm_op_data_drop(inst, A(0));
  DISPATCH(2);
L_memory_copy:
  OP_OR_TRAP(wasm_op_memory_copy(inst, S(0).u32, S(1).u32, S(2).u32));
  DISPATCH(3);
L_memory_fill:
  OP_OR_TRAP(wasm_op_memory_fill(inst, S(0).u32, S(1).u32, S(2).u32));
  DISPATCH(3);

  /* ------------------------------------------------------------ tables */
L_table_get: {
  /* [h][i d][t] */
  const wtable *t = inst->tables[A(2)];
  uint32_t i = S(0).u32;
  if (i >= t->size) TRAP(RUSM_WASM_TRAP_OOB_TABLE);
  S(1).ref = t->elems[i];
  DISPATCH(3);
}
L_table_set: {
  wtable *t = inst->tables[A(2)];
  uint32_t i = S(0).u32;
  if (i >= t->size) TRAP(RUSM_WASM_TRAP_OOB_TABLE);
  t->elems[i] = S(1).ref;
  DISPATCH(3);
}
L_table_size:
  /* [h][t d] */
  S(1).u64 = inst->tables[A(0)]->size;
  DISPATCH(2);
L_table_grow: {
  /* [h][init n][t d] */
  int64_t r = wasm_table_grow(inst->tables[A(2)], S(1).u32, S(0).ref);
  S(3).u64 = (uint32_t)(int32_t)r;
  DISPATCH(3);
}
L_table_fill:
  /* [h][i v][n t] */
  OP_OR_TRAP(wasm_op_table_fill(inst, A(3), S(0).u32, S(1).ref, S(2).u32));
  DISPATCH(3);
L_table_copy:
  /* [h][d s][n dt][st -] */
  OP_OR_TRAP(wasm_op_table_copy(inst, A(3), A(4), S(0).u32, S(1).u32, S(2).u32));
  DISPATCH(4);
L_table_init:
  /* [h][d s][n t][seg -] */
  OP_OR_TRAP(wasm_op_table_init(inst, A(3), A(4), S(0).u32, S(1).u32, S(2).u32));
  DISPATCH(4);
L_elem_drop:
  wasm_op_elem_drop(inst, A(0));
  DISPATCH(2);
  /* Newer superinstructions, after the others (adding handlers in the
  ** middle moves the hot ones, and their alignment shows in timings). */
L_const2:
  S(0).u64 = A(1);
  S(2).u64 = A(3);
  DISPATCH(3);
  /* One result to two slots: [h][a b|imm][d e]. */
#define D2(name, expr)                                                         \
  L_##name##_d2: {                                                             \
    uint64_t r = (expr);                                                       \
    S(2).u64 = r;                                                              \
    S(3).u64 = r;                                                              \
    DISPATCH(3);                                                               \
  }
  D2(i32_add_ss, (uint32_t)(S(0).u32 + S(1).u32))
  D2(i32_add_si, (uint32_t)(S(0).u32 + A(1)))
  D2(i32_sub_ss, (uint32_t)(S(0).u32 - S(1).u32))
  D2(i64_add_ss, S(0).u64 + S(1).u64)
  D2(i64_add_si, S(0).u64 + (uint64_t)(int64_t)(int32_t)A(1))
  D2(f64_add, wn_f64_bits(wn_bits_f64(S(0).u64) + wn_bits_f64(S(1).u64)))
  D2(f64_sub, wn_f64_bits(wn_bits_f64(S(0).u64) - wn_bits_f64(S(1).u64)))
  D2(f64_mul, wn_f64_bits(wn_bits_f64(S(0).u64) * wn_bits_f64(S(1).u64)))
#undef D2
  LOADSIT(ld32, 4, uint32_t, uint64_t)
  LOADSIT(ld64, 8, uint64_t, uint64_t)
  LOADSIT(ld8s32, 1, int8_t, uint32_t)
  LOADSIT(ld8u, 1, uint8_t, uint64_t)
  LOADSIT(ld16s32, 2, int16_t, uint32_t)
  LOADSIT(ld16u, 2, uint16_t, uint64_t)
  LOADSIT(ld8s64, 1, int8_t, uint64_t)
  LOADSIT(ld16s64, 2, int16_t, uint64_t)
  LOADSIT(ld32s64, 4, int32_t, uint64_t)
L_mov_br_if_nz:
  S(1) = S(0);
  if (S(2).u32) { pc = pc[3].tgt; NEXT(); }
  DISPATCH(4);
L_mov_br_if_z:
  S(1) = S(0);
  if (!S(2).u32) { pc = pc[3].tgt; NEXT(); }
  DISPATCH(4);
L_mov_br_if_nz_back:
  S(1) = S(0);
  if (S(2).u32) { pc = TGT(pc[3]); BACK(); }
  DISPATCH(4);
L_mov_br_if_z_back:
  S(1) = S(0);
  if (!S(2).u32) { pc = TGT(pc[3]); BACK(); }
  DISPATCH(4);
L_xret: {
  /* The callee of another instance returned here, with pc and fp the
  ** caller's already: resume at the call's return pc, in its instance. */
  const wxframe *x = &e->xframes[--e->nxframes];
  pc = x->ret_pc;
  inst = x->inst;
  RELOAD();
  NEXT();
}
  /* L_call with the zeroing loop unrolled (the translator picks them by
  ** the callee's nzero). */
L_call0:
  ENTER((const wfunc *)pc[2].ptr, 3, (void)0);
L_call1:
  ENTER((const wfunc *)pc[2].ptr, 3, cfp[f->zero_from].u64 = 0);
#define FLDSIST(name, expr)                                                    \
  L_f64_##name##_ldsist: {                                                     \
    uint64_t ea = (uint64_t)(uint32_t)(S(1).u32 + A(3)) + A(4);                \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits;                                                             \
    memcpy(&bits, mb + ea, 8);                                                 \
    double x = wn_bits_f64(S(0).u64), m = wn_bits_f64(bits);                   \
    bits = wn_f64_bits(expr);                                                  \
    memcpy(mb + ea, &bits, 8);                                                 \
    DISPATCH(4);                                                               \
  }
  FLDSIST(add, x + m)
  FLDSIST(sub, x - m)
  FLDSIST(mul, x * m)
#define AXPY2(name, LEN)                                                       \
  L_f64_##name: {                                                              \
    uint64_t eb = (uint64_t)(uint32_t)(S(1).u32 + A(3)) + A(5);                \
    MEMCHK(eb, 8);                                                             \
    uint64_t bb;                                                               \
    memcpy(&bb, mb + eb, 8);                                                   \
    double p = wn_bits_f64(S(0).u64) * wn_bits_f64(bb);                        \
    uint64_t ea = (uint64_t)(uint32_t)(S(2).u32 + A(4)) + A(6);                \
    MEMCHK(ea, 8);                                                             \
    uint64_t ab;                                                               \
    memcpy(&ab, mb + ea, 8);                                                   \
    ab = wn_f64_bits(p + wn_bits_f64(ab));                                     \
    memcpy(mb + ea, &ab, 8);                                                   \
    DISPATCH(LEN);                                                             \
  }
  AXPY2(axpy_si2, 8)
  AXPY2(axpy_ld_si, 7)

  /* ------------------------------------------------------------ chains */
  /* i32 chains (interp.h): t = x op1 (y | k1), d = t op2 (z | k2). */
#define CH_add(a, b) ((a) + (b))
#define CH_sub(a, b) ((a) - (b))
#define CH_rsub(a, b) ((b) - (a))
#define CH_mul(a, b) ((a) * (b))
#define CH_and(a, b) ((a) & (b))
#define CH_or(a, b) ((a) | (b))
#define CH_xor(a, b) ((a) ^ (b))
#define CH_shl(a, b) ((a) << ((b) & (sizeof(a) * 8 - 1)))
#define CH_shr_u(a, b) ((a) >> ((b) & (sizeof(a) * 8 - 1)))
/* p: label prefix, T: the width's type, F: its slot field, K(i): operand
** i as an immediate of that width. */
#define CHAIN_V(p, T, F, K, o1, o2)                                            \
  L_##p##_##o1##_##o2##_si_s: {                                                \
    T t = CH_##o1(S(0).F, K(1));                                               \
    S(3).u64 = (T)CH_##o2(t, S(2).F);                                          \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##p##_##o1##_##o2##_si_i: {                                                \
    T t = CH_##o1(S(0).F, K(1));                                               \
    S(2).u64 = (T)CH_##o2(t, K(3));                                            \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##p##_##o1##_##o2##_ss_s: {                                                \
    T t = CH_##o1(S(0).F, S(1).F);                                             \
    S(3).u64 = (T)CH_##o2(t, S(2).F);                                          \
    DISPATCH(3);                                                               \
  }                                                                            \
  L_##p##_##o1##_##o2##_ss_i: {                                                \
    T t = CH_##o1(S(0).F, S(1).F);                                             \
    S(2).u64 = (T)CH_##o2(t, K(3));                                            \
    DISPATCH(3);                                                               \
  }
#define CHAIN_B(p, T, F, K, o1)                                                \
  CHAIN_V(p, T, F, K, o1, add) CHAIN_V(p, T, F, K, o1, sub)                    \
  CHAIN_V(p, T, F, K, o1, rsub) CHAIN_V(p, T, F, K, o1, mul)                   \
  CHAIN_V(p, T, F, K, o1, and) CHAIN_V(p, T, F, K, o1, or)                     \
  CHAIN_V(p, T, F, K, o1, xor) CHAIN_V(p, T, F, K, o1, shl)                    \
  CHAIN_V(p, T, F, K, o1, shr_u)
#define CHAIN_P(p, T, F, K)                                                    \
  CHAIN_B(p, T, F, K, add) CHAIN_B(p, T, F, K, sub) CHAIN_B(p, T, F, K, mul)   \
  CHAIN_B(p, T, F, K, and) CHAIN_B(p, T, F, K, or) CHAIN_B(p, T, F, K, xor)    \
  CHAIN_B(p, T, F, K, shl) CHAIN_B(p, T, F, K, shr_u)
#define CH_K32(i) A(i)
#define CH_K64(i) ((uint64_t)(int64_t)(int32_t)A(i))
  CHAIN_P(ch, uint32_t, u32, CH_K32)

#define ABR(p, name, ADD, cond)                                                \
  L_##p##_##name##b: {                                                         \
    uint32_t x = S(0).u32 + (ADD);                                             \
    S(2).u64 = x;                                                              \
    if (cond) { pc = TGT(pc[5]); BACK(); }                                      \
    DISPATCH(6);                                                               \
  }
  ABR(addi, brnz, A(1), x != 0)
  ABR(addi, brz, A(1), x == 0)
  ABR(adds, brnz, S(1).u32, x != 0)
  ABR(adds, brz, S(1).u32, x == 0)
  CHAIN_P(ch64, uint64_t, u64, CH_K64)

  /* ------------------------------------------------------------ sums */
/* [a b][- k][off -]: (a + b + k) wrapped, + off. */
#define EA_SSI() ((uint64_t)(uint32_t)(S(0).u32 + S(1).u32 + A(3)) + A(4))
#define LOADSSI(name, N, T, RT)                                                \
  L_##name##_ssi: {                                                            \
    uint64_t ea = EA_SSI();                                                    \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(4);                                                               \
  }
  LOADSSI(ld32, 4, uint32_t, uint64_t)
  LOADSSI(ld64, 8, uint64_t, uint64_t)
  LOADSSI(ld8s32, 1, int8_t, uint32_t)
  LOADSSI(ld8u, 1, uint8_t, uint64_t)
  LOADSSI(ld16s32, 2, int16_t, uint32_t)
  LOADSSI(ld16u, 2, uint16_t, uint64_t)
  LOADSSI(ld8s64, 1, int8_t, uint64_t)
  LOADSSI(ld16s64, 2, int16_t, uint64_t)
  LOADSSI(ld32s64, 4, int32_t, uint64_t)
#define STORESSI(name, N, T)                                                   \
  L_##name##_ssi: {                                                            \
    uint64_t ea = EA_SSI();                                                    \
    MEMCHK(ea, N);                                                             \
    T v = (T)S(2).u64;                                                         \
    memcpy(mb + ea, &v, N);                                                    \
    DISPATCH(4);                                                               \
  }
  STORESSI(st8, 1, uint8_t)
  STORESSI(st16, 2, uint16_t)
  STORESSI(st32, 4, uint32_t)
  STORESSI(st64, 8, uint64_t)
L_f64_axpy_ss2: {
  uint64_t eb = (uint64_t)(uint32_t)(S(1).u32 + S(2).u32 + A(3)) + A(4);
  MEMCHK(eb, 8);
  uint64_t bb;
  memcpy(&bb, mb + eb, 8);
  double p = wn_bits_f64(S(0).u64) * wn_bits_f64(bb);
  uint64_t ea = (uint64_t)(uint32_t)(S(5).u32 + S(6).u32 + A(7)) + A(8);
  MEMCHK(ea, 8);
  uint64_t ab;
  memcpy(&ab, mb + ea, 8);
  ab = wn_f64_bits(p + wn_bits_f64(ab));
  memcpy(mb + ea, &ab, 8);
  DISPATCH(6);
}
#define FMMST(name, EA, expr)                                                  \
  L_f64_mulmul_##name: {                                                       \
    double p = wn_bits_f64(S(0).u64) * wn_bits_f64(S(1).u64) * wn_bits_f64(S(2).u64); \
    uint64_t ea = (EA);                                                        \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits;                                                             \
    memcpy(&bits, mb + ea, 8);                                                 \
    double m = wn_bits_f64(bits);                                              \
    bits = wn_f64_bits(expr);                                                  \
    memcpy(mb + ea, &bits, 8);                                                 \
    DISPATCH(4);                                                               \
  }
  FMMST(addsist, (uint64_t)(uint32_t)(S(3).u32 + A(4)) + A(5), p + m)
  FMMST(subldst, (uint64_t)S(3).u32 + A(4), m - p)
L_f64_mul_sqrt:
  S(2).u64 = wn_f64_bits(wn_bits_f64(S(0).u64) * sqrt(wn_bits_f64(S(1).u64)));
  DISPATCH(3);
#define FMSST(name, expr)                                                      \
  L_f64_##name##_st: {                                                         \
    double p = wn_bits_f64(S(0).u64) * wn_bits_f64(S(1).u64), x = wn_bits_f64(S(2).u64); \
    uint64_t ea = (uint64_t)S(3).u32 + A(4);                                   \
    MEMCHK(ea, 8);                                                             \
    uint64_t bits = wn_f64_bits(expr);                                         \
    memcpy(mb + ea, &bits, 8);                                                 \
    DISPATCH(4);                                                               \
  }
  FMSST(mulsub, p - x)
  FMSST(rmulsub, x - p)
L_i32_shr_u_and_t: {
  uint32_t t = S(0).u32 >> (A(1) & 31);
  S(4).u64 = t;
  S(2).u64 = t & A(3); /* last: d may be t's local */
  DISPATCH(4);
}
#define LOADSHA(name, N, T, RT)                                                \
  L_##name##_sha: {                                                            \
    S(7).u64 = (uint32_t)(S(5).u32 + A(6)); /* first: x may be d2 */          \
    uint64_t ea = (uint64_t)(uint32_t)((S(0).u32 << (A(1) & 31)) + A(3)) + A(4); \
    MEMCHK(ea, N);                                                             \
    T v;                                                                       \
    memcpy(&v, mb + ea, N);                                                    \
    S(2).u64 = (RT)v;                                                          \
    DISPATCH(5);                                                               \
  }
  LOADSHA(ld32, 4, uint32_t, uint64_t)
  LOADSHA(ld64, 8, uint64_t, uint64_t)
  LOADSHA(ld8s32, 1, int8_t, uint32_t)
  LOADSHA(ld8u, 1, uint8_t, uint64_t)
  LOADSHA(ld16s32, 2, int16_t, uint32_t)
  LOADSHA(ld16u, 2, uint16_t, uint64_t)
  LOADSHA(ld8s64, 1, int8_t, uint64_t)
  LOADSHA(ld16s64, 2, int16_t, uint64_t)
  LOADSHA(ld32s64, 4, int32_t, uint64_t)

#define FOPCB1(o, OP, name, CMP)                                               \
  L_f64_##o##_brcfb_##name: {                                                  \
    double t = wn_bits_f64(S(0).u64) OP wn_bits_f64(S(1).u64);                 \
    if (t CMP wn_bits_f64(S(2).u64)) { pc = TGT(pc[5]); BACK(); }               \
    DISPATCH(6);                                                               \
  }
#define FOPCB(o, OP)                                                           \
  FOPCB1(o, OP, eq, ==) FOPCB1(o, OP, ne, !=) FOPCB1(o, OP, lt, <)             \
  FOPCB1(o, OP, gt, >) FOPCB1(o, OP, le, <=) FOPCB1(o, OP, ge, >=)
  FOPCB(add, +)
  FOPCB(sub, -)
  FOPCB(mul, *)

  /* ------------------------------------------------------------ exits */
#ifndef RUSM_WASM_NO_FUEL
out_of_fuel_back:
  e->charge_owed = true;
  /* fall through */
out_of_fuel:
  status = RUSM_WASM_OUT_OF_FUEL;
  e->state = WEXEC_PAUSED;
  goto leave;
#endif
do_trap: {
  e->trap = trapk;
  e->trap_func = UINT32_MAX;
  e->trap_offset = 0;
  /* The trapping function is the one whose code holds pc (cold path, so
  ** a scan instead of a per-frame record). */
  for (uint32_t k = 0; inst && k < inst->c->nfuncs; k++) {
    const wfunc *f = &inst->c->funcs[k];
    if (!f->code || pc < f->code || pc >= f->code + f->ncode) continue;
    e->trap_func = f->index;
    if (f->noffmap) {
      uint32_t at = (uint32_t)(pc - f->code), lo = 0, hi = f->noffmap;
      while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (f->offmap[2 * mid] <= at) lo = mid; else hi = mid;
      }
      e->trap_offset = f->offmap[2 * lo + 1];
    }
    break;
  }
  status = RUSM_WASM_TRAPPED;
  e->state = WEXEC_TRAPPED;
  goto leave;
}
leave:
  e->nframes = (size_t)((wframe *)e->stack_end - fr);
  e->pc = pc;
  e->fp_off = (size_t)(fp - e->stack);
  e->cur = inst;
  e->root->fuel_left = fuel;
  return status;
}

rusm_wasm_status wasm_interp(rusm_wasm_exec *e) {
  return run(e, NULL);
}

const void *const *wasm_interp_handlers(void) {
  const void *const *t = NULL;
  run(NULL, &t);
  return t;
}
