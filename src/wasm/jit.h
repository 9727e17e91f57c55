/*
** jit.h -- the compiled tier: every function of a module loaded with
** RUSM_WASM_TIER_COMPILED (or tiered up later, see tier.c) is translated
** to LLVM IR (jit_emit.c), optimized and compiled to native code in
** process (jit.c), and called through the function instances like any
** other function.
**
** Why it can still be preempted and suspended: compiled code does nest C
** frames, so it runs on a coroutine stack owned by the root exec (coro.h).
** Out of fuel, or a host call that suspends, switches back to the caller
** of rusm_wasm_exec_run with the compiled frames left in place; the next
** run switches back in.  A trap switches out for good and the coroutine is
** reset.  The interpreter runs on the same coroutine once an exec has
** called compiled code, so the two tiers call each other freely (see
** jit_rt.c for the bridges).
**
** This header is the contract between the IR emitter (jit_emit.c), the
** driver (jit.c) and the runtime helpers (jit_rt.c).  It has no LLVM types:
** only jit_emit.c and jit.c include LLVM's headers.
*/
#ifndef RUSM_WASM_JIT_H
#define RUSM_WASM_JIT_H

#include <stdint.h>

#include "rt.h"

/* ------------------------------------------------------------ the ABI
** A compiled function of type (P0..Pn) -> (R0..Rm) is
**     R f(rusm_wasm_exec *root, rusm_wasm_instance *inst, P0 p0, ..., Pn pn)
** with i32 -> i32, i64 -> i64, f32 -> float, f64 -> double, funcref and
** externref -> ptr (a wfuncinst * or the host's pointer; NULL is null).
** R is void when m == 0, the one type when m == 1, and a literal struct
** { R0, ..., Rm } returned by value when m > 1.
** `root` is the exec that owns the coroutine (never a sub exec); `inst`
** is the instance the function belongs to (fi->inst of its wfuncinst).
**
** Its slot wrapper is
**     void w(rusm_wasm_exec *root, rusm_wasm_instance *inst, wslot *slots)
** reading the params from slots[0..n) and writing the results to
** slots[0..m) (i32/f32 zero-extended, as wslot says).  The wrapper does
** not charge fuel; the function charges one unit on entry.
**
** Names in the LLVM module: "rusm_f<i>" and "rusm_w<i>" for function index
** i (defined functions only), external linkage so jit.c can look them up.
** A tier-up also makes "rusm_o<i>", the entry for on-stack replacement:
**     void o(rusm_wasm_exec *root, rusm_wasm_instance *inst, wslot *slots, uint32_t k)
** continues a call of i from the head of loop k of wfunc.osr.  Like the
** slot wrapper, but slots is the interpreter's frame, the locals are read
** from it (wslot n = local n, params first), nothing is charged on entry
** (the interpreter charged the branch that arrived), and the call's
** results go back to slots[0..m).
**
** Fuel: the function keeps the count in a local (an alloca that mem2reg
** turns into a register).  rusm_f<i>/rusm_w<i> load it from
** root->fuel_left on entry and store it back on return; direct calls
** inside the module go to an internal twin that takes and returns the
** count in registers (jit_emit.c).  It is stored to root->fuel_left before
** anything that runs runtime code (wasm_jit_call_slow, calls through
** function instances, wasm_jit_out_of_fuel, wasm_jit_trap) and reloaded
** after.  One unit is charged on entry and one on every branch to a loop
** header (a backward branch); when the local goes negative the code calls
** wasm_jit_out_of_fuel and continues with the value it returns.  The
** callee charges, never the call site (wasm_jit_call_slow charges hosts).
**
** Stack: on entry, if the stack pointer (x86-64: rsp, read directly, so no
** frame pointer is needed; elsewhere llvm.frameaddress(0)) is below
** root->stack_limit, trap with RUSM_WASM_TRAP_STACK_EXHAUSTED.  No call is
** turned into a jump ("disable-tail-calls"): recursion must exhaust.
**
** Memory 0: base and size are read from inst->mem (a wasm_memory *, fixed
** for the instance's life) on entry and re-read after every call and
** every helper (memory.grow can move the memory).  An access of n bytes at
** 64-bit ea = zext(addr) + offset traps OOB_MEMORY unless ea + n <= size.
**
** Traps: compiled code calls wasm_jit_trap(root, kind, func, offset) with
** func = the function index and offset = the byte offset of the trapping
** instruction in the module (wasm_func.code_offset + its position in the
** body), the same numbers the interpreter reports.
**
** Everything else compiled code reads is reached from inst through the
** structs of rt.h and memory.h, by offsetof (the emitter runs in the same
** process, so layouts agree): inst->funcs[i] (wfuncinst *), inst->tables[t]
** (wtable *: elems, size), inst->globals[g] (wglobal *: val at offset 0),
** inst->mem (wasm_memory *: base, size, pages).  Addresses of the helpers
** below and of module-owned data (the canonical wasm_functype of a type
** index, &m->types[c->canon[t]]) are baked into the IR as constants.
*/

/* ------------------------------------------------------------ helpers
** Called by compiled code; implemented in jit_rt.c.  Those returning a
** trap kind return RUSM_WASM_TRAP_NONE (0) on success, and the compiled
** code then calls wasm_jit_trap with its own location. */

/* Records the trap on root (state TRAPPED, kind, location) and leaves the
** coroutine for good; never returns. */
_Noreturn void wasm_jit_trap(rusm_wasm_exec *root, uint32_t kind, uint32_t func, uint32_t offset);

/* The fuel local went negative: hands OUT_OF_FUEL to the caller of
** exec_run (state PAUSED).  When run again, pays the unit that was owed
** from the new budget (switching out again while the budget is 0) and
** returns what is left: the compiled code's new fuel local.
** root->fuel_left holds nothing on entry. */
int64_t wasm_jit_out_of_fuel(rusm_wasm_exec *root);

/* A call through a function instance that has no native entry, or whose
** native entry compiled code does not call directly: a host function
** (converting slots to values; RUSM_WASM_HOST_SUSPEND switches out with
** SUSPENDED and continues here after exec_resume + exec_run; HOST_TRAP
** traps at `where`), interpreted Wasm code (run on a sub exec, switching
** out when it runs out of fuel or suspends), or a compiled function (its
** slot wrapper).  Params in slots[0..n), results to slots[0..m).  The
** caller stores its fuel local to root->fuel_left first and reloads it
** after.  where = func << 32 | offset of the call, for a host trap. */
void wasm_jit_call_slow(rusm_wasm_exec *root, rusm_wasm_instance *caller, const wfuncinst *fi,
                        wslot *slots, uint64_t where);

/* call_indirect's type check when g->type is not the expected canonical
** pointer: 1 if g's type is structurally `want` (functions of another
** module), else 0.  (The emitter first compares g->type == want inline.) */
uint32_t wasm_jit_type_eq(const wfuncinst *g, const wasm_functype *want);

/* The instructions both tiers run out of line (ops.c): the interpreter's
** handlers call them too, so the bounds rules live in one place. */
/* memory.grow: the old size in pages, or -1. */
int32_t wasm_op_memory_grow(rusm_wasm_instance *inst, uint32_t delta);
/* Bulk memory: return a trap kind (OOB_MEMORY) or 0. */
uint32_t wasm_op_memory_init(rusm_wasm_instance *inst, uint32_t seg, uint32_t dst, uint32_t src,
                             uint32_t n);
uint32_t wasm_op_memory_copy(rusm_wasm_instance *inst, uint32_t dst, uint32_t src, uint32_t n);
uint32_t wasm_op_memory_fill(rusm_wasm_instance *inst, uint32_t dst, uint32_t val, uint32_t n);
void wasm_op_data_drop(rusm_wasm_instance *inst, uint32_t seg);
/* Tables: return a trap kind (OOB_TABLE) or 0, except grow (old size or
** -1) and elem_drop.  table.get/set/size and call_indirect's lookup are
** inline in compiled code. */
int32_t wasm_op_table_grow(rusm_wasm_instance *inst, uint32_t table, void *init, uint32_t delta);
uint32_t wasm_op_table_fill(rusm_wasm_instance *inst, uint32_t table, uint32_t i, void *val,
                            uint32_t n);
uint32_t wasm_op_table_copy(rusm_wasm_instance *inst, uint32_t dst_table, uint32_t src_table,
                            uint32_t dst, uint32_t src, uint32_t n);
uint32_t wasm_op_table_init(rusm_wasm_instance *inst, uint32_t table, uint32_t seg, uint32_t dst,
                            uint32_t src, uint32_t n);
void wasm_op_elem_drop(rusm_wasm_instance *inst, uint32_t seg);

/* ------------------------------------------------------------ runtime
** Used by the interpreter and exec.c (jit_rt.c). */

/* The interpreter calls compiled function fi with params (and room for
** results) at slots; e may be a sub exec.  The caller must be on the
** coroutine (e->root->on_coro) and have stored its fuel to
** e->root->fuel_left. */
void wasm_jit_enter(rusm_wasm_exec *e, const wfuncinst *fi, wslot *slots);

/* ------------------------------------------------------------ driver
** jit.c: the native code of a module, made at load for the compiled tier. */
typedef struct wjit wjit;
/* Compiles every defined function of m (whose interpreter translation c
** supplies canonical types); NULL + *err (RESOURCE) if LLVM fails.  osr
** (for a tier-up, when interpreted calls are running): also the entries
** that continue those calls natively from a loop (wfunc.osr). */
wjit *wasm_jit_compile(const wasm_module *m, const wcompiled *c, bool osr, rusm_wasm_error *err);
void wasm_jit_free(void *jit);
/* Native entry and slot wrapper of defined function index i. */
void *wasm_jit_native(const wjit *j, uint32_t i);
void *wasm_jit_slot(const wjit *j, uint32_t i);
/* Function i's rusm_o<i> (see above) if it can enter at loop k of
** wfunc.osr, else NULL. */
void *wasm_jit_osr(const wjit *j, uint32_t i, uint32_t k);

#endif
