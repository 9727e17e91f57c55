/*
** rt.h -- the executor's runtime objects: translated code, function
** instances, tables, globals, instances and execs.  Shared by the
** translator (compile.c), the interpreter (interp.c), instantiation
** (instance.c, linker.c) and the exec API (exec.c).  Private to rusm-wasm.
*/
#ifndef RUSM_WASM_RT_H
#define RUSM_WASM_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rusm/wasm.h>

#include "memory.h"
#include "module.h"

/* One value slot of a frame.  Every value takes one 8-byte slot, so the
** translator can address operands by index without knowing their types.
** Invariant: i32 and f32 values are stored zero-extended (upper 32 bits 0),
** which makes i64.extend_i32_u and the reinterpretations free. */
typedef union wslot {
  uint64_t u64;
  int64_t i64;
  uint32_t u32;
  int32_t i32;
  float f32;
  double f64;
  void *ref;
} wslot;

/* One cell of translated code: an instruction is a handler address followed
** by operand cells.  32-bit operands (slot indices, small immediates) are
** packed two to a cell; 64-bit immediates and branch targets take a cell. */
typedef union wcell {
  const void *h;
  uint64_t u64;
  int64_t i64;
  uint32_t u32[2];
  const union wcell *tgt;
  const void *ptr;
} wcell;

/* A translated function, shared by every instance of its module. */
typedef struct wfunc {
  wcell *code;
  /* Where calls enter: code, until the module tiers up (tier.c) and a
  ** stub that runs the function's native code replaces it.  Read it with
  ** WFUNC_ENTRY: another thread may switch it while instances run. */
  const wcell *entry;
  uint32_t ncode;
  uint32_t index;            /* in the module's function space */
  uint32_t nparams, nresults;
  uint32_t nlocals;          /* beyond the params */
  /* Slots [zero_from, zero_from + nzero) are zeroed on entry: the non-
  ** param locals, or only those that may be read before being written
  ** (see cc.zero_lo in compile.c).  The slot right after may be zeroed
  ** too, so it must not hold a value live at entry (it never does: it is
  ** a local outside the range, a constant slot or an operand slot). */
  uint32_t zero_from, nzero;
  uint32_t frame_slots;      /* params + locals + operand stack */
  uint32_t frame_need;       /* frame_slots + a call record (WREC_SLOTS) */
  /* Sorted (code cell index, byte offset) pairs for trap locations. */
  uint32_t *offmap;
  uint32_t noffmap;
  /* On-stack replacement (tier.c): the loops where native code can take
  ** over a running call, as (module offset of the loop, code index of its
  ** label) pairs, and the branches back to them, as (cell holding the
  ** target, loop number) pairs. */
  uint32_t *osr, nosr;
  uint32_t *osr_backs, nosr_backs;
} wfunc;

/* Loops per function that get an entry for on-stack replacement: the
** first outermost ones in code order. */
#define WFUNC_MAX_OSR 4

#define WFUNC_ENTRY(f) __atomic_load_n(&(f)->entry, __ATOMIC_ACQUIRE)

/* The translation of a whole module (hangs on wasm_module.compiled). */
typedef struct wcompiled {
  wfunc *funcs;              /* indexed by function index; imports unused */
  uint32_t nfuncs;
  /* canon[t] = the first type index structurally equal to t, so that
  ** same-module type checks are pointer compares. */
  uint32_t *canon;
  uint32_t ntypes;
  uint64_t *type_hash;       /* per type index */
  /* Per type index: params then results as public value types. */
  rusm_wasm_valtype **pub;
} wcompiled;

/* A function instance: what a funcref points at.  Carries its instance,
** so a table may hold functions of several instances. */
typedef struct wfuncinst {
  const wasm_functype *type; /* canonical type of the defining module */
  uint64_t type_hash;        /* structural hash: fast cross-module reject */
  const rusm_wasm_valtype *pub; /* the type as public value types */
  struct rusm_wasm_instance *inst; /* instance that runs it (NULL: host) */
  const wfunc *code;         /* wasm functions */
  rusm_wasm_host_fn host;    /* host functions */
  void *env;
  /* Functions of a module loaded with RUSM_WASM_TIER_COMPILED (code and
  ** host are NULL): the native entry and the slot wrapper (see jit.h).
  ** A module that tiers up later (tier.c) sets them in its live instances
  ** while those may run, keeping code: read them with WFI_NATIVE/WFI_SLOT. */
  void *jit_native;
  void (*jit_slot)(struct rusm_wasm_exec *root, struct rusm_wasm_instance *inst, wslot *slots);
} wfuncinst;

#define WFI_NATIVE(fi) __atomic_load_n(&(fi)->jit_native, __ATOMIC_ACQUIRE)
#define WFI_SLOT(fi) __atomic_load_n(&(fi)->jit_slot, __ATOMIC_ACQUIRE)

typedef struct wtable {
  void **elems;              /* wfuncinst* or externref; NULL = null */
  uint32_t size, max;        /* max == UINT32_MAX when !has_max */
  uint8_t type;
  bool has_max;
} wtable;

typedef struct wglobal {
  wslot val;
  uint8_t type;
  bool mut;
} wglobal;

struct rusm_wasm_instance {
  const wasm_module *m;
  const wcompiled *c;
  wfuncinst **funcs;         /* function index space */
  wtable **tables;
  wasm_memory *mem;          /* memory 0, or &no_mem (size 0) */
  wglobal **globals;
  /* Owned storage (imports point to other instances' objects). */
  wfuncinst *own_funcs;      /* one per function: imports are copied in */
  wtable *own_tables;
  wasm_memory *own_mem;
  wglobal *own_globals;
  uint8_t *elem_dropped;     /* per element segment */
  uint8_t *data_dropped;     /* per data segment */
  wasm_memory no_mem;
  /* In the list of its module's live instances (tier.c), which a tier-up
  ** switches to native code. */
  struct rusm_wasm_instance *tier_prev, *tier_next;
  bool tier_listed;
};

/* Something an import resolves to (linker.c, instance exports). */
typedef struct wextern {
  uint8_t kind;              /* WASM_EXT_* */
  /* A host function (func == NULL): */
  const rusm_wasm_functype *host_sig;
  rusm_wasm_host_fn fn;
  void *env;
  /* Objects of another instance: */
  wfuncinst *func;
  wtable *table;
  wasm_memory *mem;
  wglobal *global;
} wextern;

/* linker.c */
bool wasm_linker_lookup(rusm_wasm_linker *l, const char *mod, size_t modlen,
                        const char *name, size_t namelen, wextern *out);
/* Keeps an instance whose instantiation trapped alive until the linker is
** freed: its functions may already sit in other instances' tables. */
void wasm_linker_keep(rusm_wasm_linker *l, rusm_wasm_instance *inst);
/* instance.c: export lookup. */
bool wasm_instance_export(rusm_wasm_instance *inst, const char *name, size_t len, wextern *out);

/* A call record: the caller's state.  Records sit at the top of the
** exec's stack buffer and grow down towards the value slots (which grow
** up), so one compare checks room for both.  When the buffer is
** reallocated, wasm_exec_grow_stack moves the records and rebases fp.
** The record holds no instance: a call into another instance also pushes
** a wxframe and returns through the exec's xret cell, which restores the
** instance, so that returns never check for a change of instance. */
typedef struct wframe {
  const wcell *ret_pc;
  wslot *fp;
} wframe;
#define WREC_SLOTS (sizeof(wframe) / sizeof(wslot))
typedef struct wxframe {
  const wcell *ret_pc;       /* where the xret cell continues */
  struct rusm_wasm_instance *inst;
} wxframe;

enum { WEXEC_IDLE, WEXEC_READY, WEXEC_PAUSED, WEXEC_SUSPENDED, WEXEC_DONE, WEXEC_TRAPPED };

/* Limits that make runaway recursion trap instead of eating memory: the
** stack buffer (values and call records) and the nesting of calls into
** other instances. */
#define WEXEC_MAX_XFRAMES 100000u
#define WEXEC_MAX_SLOTS (8u << 20)   /* 64 MiB of stack */

struct rusm_wasm_exec {
  struct rusm_wasm_instance *inst;
  wslot *stack;              /* values from the bottom, records from the top */
  size_t stack_cap;          /* in slots */
  wslot *stack_end;          /* stack + stack_cap */
  size_t nframes;            /* call records below stack_end */
  wxframe *xframes;          /* calls into other instances */
  uint32_t nxframes, xframes_cap;
  int state;
  /* Where a paused run continues. */
  const wcell *pc;
  size_t fp_off;
  const wfunc *func;
  struct rusm_wasm_instance *cur;
  /* The entry trampoline: call the target, then halt; then the xret
  ** cell, where returns from calls into another instance go. */
  wcell entry[6];
#define WEXEC_XRET 4               /* index of the xret cell in entry */
  const wfuncinst *target;
  uint32_t nresults;
  /* A suspended host call writes its results at stack[host_fp_off..]. */
  size_t host_fp_off;
  const wasm_functype *host_type;
  rusm_wasm_trap trap;
  uint32_t trap_func, trap_offset;
  uint64_t fuel_used;
  bool charge_owed;          /* a backward branch stopped for lack of fuel */

  /* ---- The compiled tier (jit.h).  Compiled code reads and writes only
  ** fuel_left and stack_limit, of the root exec, by offset. */
  /* The public exec this one works for: itself, or, for a sub exec that
  ** runs an interpreted function called from compiled code, the exec
  ** whose coroutine it runs on. */
  struct rusm_wasm_exec *root;
  /* Root only: fuel units left in the current run (exec_run sets it from
  ** the budget; the interpreter and compiled code both draw on it). */
  int64_t fuel_left;
  /* Root only: compiled frames must stay above this address (the
  ** coroutine stack's low end plus a margin for host code). */
  uintptr_t stack_limit;
  /* Root only: where exec_resume writes the results of a host call that
  ** suspended under compiled code or a sub exec; NULL: stack + host_fp_off. */
  wslot *host_results;
  /* Root only: the coroutine compiled code runs on (coro.h) and its state. */
  struct wcoro *coro;
  bool on_coro;              /* the current run is on the coroutine */
  bool coro_live;            /* the coroutine is paused mid-run (fuel, suspend) */
  int coro_status;           /* what the coroutine handed back */
  /* Root only: sub execs for interpreted callees of compiled code, by depth. */
  struct rusm_wasm_exec **subs;
  uint32_t nsubs, sub_depth;
  /* Root only: runs start on the coroutine (the exec has met compiled
  ** code: sticky), and a run is in progress (exec_run/exec_call refuse to
  ** re-enter it, e.g. from a host function it called). */
  bool use_coro;
  bool running;
};

/* A private status of wasm_interp: the run stopped in front of a call of
** compiled code while off the coroutine; run it again on the coroutine
** (exec.c).  Never seen outside rusm-wasm. */
#define WASM_NEED_CORO ((rusm_wasm_status)0x100)

/* Hangs obj, made lazily by one of possibly several racing threads, on
** one of a module's slots (compiled, tierup, coro_pool) with its free
** function: the first to get there wins, a loser frees its own obj.
** Returns what the slot holds.  The free function is the same whoever
** wins; it is stored atomically first so that racers do not race on it. */
static inline void *wasm_module_hang(void **slot, void (**slot_free)(void *), void *obj,
                                     void (*obj_free)(void *)) {
  __atomic_store_n(slot_free, obj_free, __ATOMIC_RELEASE);
  void *expected = NULL;
  if (__atomic_compare_exchange_n(slot, &expected, obj, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return obj;
  obj_free(obj);
  return expected;
}

/* compile.c */
const wcompiled *wasm_compiled_get(const wasm_module *m, rusm_wasm_error *err);
bool wasm_functype_eq(const wasm_functype *a, const wasm_functype *b);
uint64_t wasm_functype_hash(const wasm_functype *t);

/* interp.c: runs e from its saved state, on the fuel in e->root->fuel_left
** (what is left is stored back there).  The handler table is what the
** translator writes into code (indexed by the WOP_* numbers of interp.h). */
rusm_wasm_status wasm_interp(rusm_wasm_exec *e);
const void *const *wasm_interp_handlers(void);

/* exec.c: grows the stack buffer so that `need` value slots fit below the
** nframes call records; false at the limit. */
bool wasm_exec_grow_stack(rusm_wasm_exec *e, size_t need);
bool wasm_exec_grow_xframes(rusm_wasm_exec *e);
/* Calls host function fi from caller's code with its params in slots;
** results back to slots when it returns RUSM_WASM_HOST_OK. */
rusm_wasm_host_status wasm_host_call(const wfuncinst *fi, rusm_wasm_instance *caller, wslot *slots);
/* Prepares e to call fi with the arguments already in stack[0..]. */
void wasm_exec_enter(rusm_wasm_exec *e, const wfuncinst *fi);

/* jit_rt.c: runs root exec e on its coroutine (created on first use):
** continues the paused coroutine, or starts the interpreter from e's saved
** state on it; returns the status handed back.  And releases the
** coroutine and the sub execs (exec_free). */
rusm_wasm_status wasm_jit_run_on_coro(rusm_wasm_exec *e);
void wasm_jit_release(rusm_wasm_exec *e);

/* tier.c: a module of the interpreter switching to native code.
** Instances join the module's list when made (false: out of memory) and
** leave it when freed; an instance made after the switch gets the native
** code directly.  exec_run asks how much fuel may run before the module
** of an AUTO load has spent its threshold (0: not watching, run freely)
** and reports what a slice spent, which starts the compile when due. */
bool wasm_tier_attach(rusm_wasm_instance *inst);
void wasm_tier_detach(rusm_wasm_instance *inst);
int64_t wasm_tier_slice(const wasm_module *m);
void wasm_tier_spent(const wasm_module *m, int64_t fuel);

/* instance.c */
void wasm_set_err(rusm_wasm_error *err, rusm_wasm_error_kind kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Table operations shared by instantiation and the interpreter. */
int64_t wasm_table_grow(wtable *t, uint32_t delta, void *init);
/* Element segment item i evaluated in inst. */
void *wasm_elem_item(const rusm_wasm_instance *inst, const wasm_elem *seg, uint32_t i);
/* Converts a slot of type t to a public value and back. */
rusm_wasm_val wasm_slot_to_val(wslot s, uint8_t t);
wslot wasm_val_to_slot(const rusm_wasm_val *v);

#endif
