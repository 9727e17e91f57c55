/*
** jit_rt.c -- the runtime side of the compiled tier (jit.h): the root
** exec's coroutine, and the helpers compiled code calls to trap, to run
** out of fuel, and to call what it cannot call directly (host functions,
** interpreted Wasm, slot wrappers).  The memory and table helpers live in
** ops.c.
**
** The coroutine (coro.h) is lent to the root exec for as long as its call
** lasts: taken when a run needs it, given back when the call is over
** (returned or trapped), kept while the call is paused (out of fuel,
** suspended).  Idle coroutines wait in a pool per module (the execs of
** its instances share it; see coro_take).  Its body runs the interpreter on the root from its saved state
** (the entry trampoline, or wherever a run stopped) and hands the status
** back; compiled code is entered from the interpreter's call_fi
** (wasm_jit_enter), so the interpreter's frame is the bottom one and
** compiled and interpreted code call each other freely above it.
**
** Switching out:
**   out of fuel, host suspension  wcoro_yield; exec_run hands the status to
**                                 its caller and the next run resumes.
**   trap                          wcoro_abandon: the frames are dropped,
**                                 the next run starts the coroutine afresh.
**   the interpreter returns       the body ends (RETURNED, or the
**                                 interpreter's own OUT_OF_FUEL/SUSPENDED/
**                                 TRAPPED, with its state saved in the
**                                 exec as usual).
**
** Interpreted callees of compiled code run on sub execs (root->subs[d]
** for nesting depth d, made on first use and kept): an exec whose root is
** the public one, so it shares its fuel and coroutine; its OUT_OF_FUEL and
** SUSPENDED become the root's by switching out, and its trap becomes the
** root's trap.
**
** Decisions beyond jit.h:
** - A host function called through wasm_jit_call_slow is charged one fuel
**   unit here, as the interpreter charges every call; compiled and
**   interpreted callees charge their own (on entry, and at the sub exec's
**   entry call).  With none left it switches out with OUT_OF_FUEL first,
**   so the host is never called twice.
** - Stack: the coroutine's 64 MiB, compiled frames kept above
**   stack_limit = the low end + WJIT_STACK_MARGIN (1 MiB), which leaves room for
**   what runs below the last compiled frame without checking the stack:
**   this file's helpers, the interpreter on a sub exec, and host
**   functions.  Sub execs nest at most WJIT_MAX_SUBS deep
**   (STACK_EXHAUSTED at the call beyond).
** - If the coroutine's stack cannot be mapped, the run traps with
**   STACK_EXHAUSTED at no location (UINT32_MAX, 0).
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "jit.h"
#include "rt.h"

/* The interpreter's frame is small (144 bytes with gcc -O2), so the margin
** is mostly for host functions: 1 MiB, generous (libc calls such as
** getaddrinfo use 100 KiB and more), for 1/64 of the coroutine's stack.
** Sanitizer builds compile the interpreter at -O0, where its frame is
** 448 KiB (ASan) or 147 KiB (TSan): 8 MiB there. */
#if defined(RUSM_SANITIZER)
#define WJIT_STACK_MARGIN ((uintptr_t)8 << 20)
#else
#define WJIT_STACK_MARGIN ((uintptr_t)1 << 20)
#endif
#define WJIT_MAX_SUBS 1000u

/* ------------------------------------------------------------ coroutine pool
** Why lend rather than own: each coroutine is two mappings (guard and
** stack), and Linux allows 65530 per process by default; owned for the
** exec's life, 32k execs that had once called compiled code used them up
** and every exec after that trapped.  Lent, only the execs paused in the
** middle of a call hold one.  A pool per module keeps a few idle ones so
** that a call does not map and unmap a stack (three system calls). */
#define WCORO_POOL_MAX 16

typedef struct wcoro_pool {
  pthread_mutex_t lock;
  uint32_t n;
  wcoro *idle[WCORO_POOL_MAX];
} wcoro_pool;

static void coro_pool_free(void *p) {
  wcoro_pool *pool = p;
  for (uint32_t i = 0; i < pool->n; i++) wcoro_free(pool->idle[i]);
  pthread_mutex_destroy(&pool->lock);
  free(pool);
}

/* m's pool, made on first use (wasm_module_hang); NULL when out of memory
** (coroutines are then made and freed each time). */
static wcoro_pool *coro_pool(const wasm_module *cm) {
  wasm_module *m = (wasm_module *)cm;
  wcoro_pool *pool = __atomic_load_n((wcoro_pool **)&m->coro_pool, __ATOMIC_ACQUIRE);
  if (pool) return pool;
  pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  if (pthread_mutex_init(&pool->lock, NULL) != 0) {
    free(pool);
    return NULL;
  }
  return wasm_module_hang(&m->coro_pool, &m->coro_pool_free, pool, coro_pool_free);
}

static wcoro *coro_take(const wasm_module *m) {
  wcoro_pool *pool = coro_pool(m);
  wcoro *c = NULL;
  if (pool) {
    pthread_mutex_lock(&pool->lock);
    if (pool->n) c = pool->idle[--pool->n];
    pthread_mutex_unlock(&pool->lock);
  }
  return c ? c : wcoro_new();
}

/* c is idle (its call is over): to the pool, or unmapped if it is full. */
static void coro_give(const wasm_module *m, wcoro *c) {
  wcoro_pool *pool = coro_pool(m);
  if (pool) {
    pthread_mutex_lock(&pool->lock);
    bool kept = pool->n < WCORO_POOL_MAX;
    if (kept) pool->idle[pool->n++] = c;
    pthread_mutex_unlock(&pool->lock);
    if (kept) return;
  }
  wcoro_free(c);
}

/* ------------------------------------------------------------ coroutine */

static void coro_body(void *arg) {
  rusm_wasm_exec *e = arg;
  e->coro_status = wasm_interp(e);
}

rusm_wasm_status wasm_jit_run_on_coro(rusm_wasm_exec *e) {
  if (!e->coro) {
    e->coro = coro_take(e->inst->m);
    if (!e->coro) {
      e->trap = RUSM_WASM_TRAP_STACK_EXHAUSTED;
      e->trap_func = UINT32_MAX;
      e->trap_offset = 0;
      e->state = WEXEC_TRAPPED;
      return RUSM_WASM_TRAPPED;
    }
    e->stack_limit = wcoro_stack_low(e->coro) + WJIT_STACK_MARGIN;
  }
  e->on_coro = true;
  if (e->coro_live) {
    e->coro_live = false;
    wcoro_resume(e->coro);
  } else {
    e->sub_depth = 0;
    wcoro_call(e->coro, coro_body, e);
  }
  e->on_coro = false;
  if (!e->coro_live) {
    /* The call is over: the next run takes a coroutine again. */
    coro_give(e->inst->m, e->coro);
    e->coro = NULL;
  }
  return (rusm_wasm_status)e->coro_status;
}

void wasm_jit_release(rusm_wasm_exec *e) {
  for (uint32_t i = 0; i < e->nsubs; i++) rusm_wasm_exec_free(e->subs[i]);
  free(e->subs);
  e->subs = NULL;
  e->nsubs = e->sub_depth = 0;
  if (e->coro && !e->coro_live) coro_give(e->inst->m, e->coro);
  else wcoro_free(e->coro);   /* a paused call's frames go with it */
  e->coro = NULL;
  e->coro_live = false;
}

/* On root's coroutine: hands st to the caller of exec_run, and returns
** when it is run again. */
static void yield_status(rusm_wasm_exec *root, rusm_wasm_status st) {
  root->coro_status = st;
  root->coro_live = true;
  wcoro_yield(root->coro);
}

/* Takes one unit from root->fuel_left, switching out with OUT_OF_FUEL
** while there is none. */
static void pay_unit(rusm_wasm_exec *root) {
  while (root->fuel_left < 1) {
    root->fuel_left = 0;
    root->state = WEXEC_PAUSED;
    yield_status(root, RUSM_WASM_OUT_OF_FUEL);
  }
  root->fuel_left--;
}

/* ------------------------------------------------------------ helpers */

_Noreturn void wasm_jit_trap(rusm_wasm_exec *root, uint32_t kind, uint32_t func, uint32_t offset) {
  if (!root->coro || !root->on_coro) abort();   /* compiled code runs only there */
  root->trap = (rusm_wasm_trap)kind;
  root->trap_func = func;
  root->trap_offset = offset;
  root->state = WEXEC_TRAPPED;
  root->sub_depth = 0;
  root->host_results = NULL;
  root->coro_status = RUSM_WASM_TRAPPED;
  root->coro_live = false;
  wcoro_abandon(root->coro);
}

int64_t wasm_jit_out_of_fuel(rusm_wasm_exec *root) {
  /* The local went below zero: the budget is spent, and the unit it
  ** wanted is paid from the next one. */
  root->fuel_left = 0;
  pay_unit(root);
  return root->fuel_left;
}

uint32_t wasm_jit_type_eq(const wfuncinst *g, const wasm_functype *want) {
  return wasm_functype_eq(g->type, want);
}

void wasm_jit_enter(rusm_wasm_exec *e, const wfuncinst *fi, wslot *slots) {
  WFI_SLOT(fi)(e->root, fi->inst, slots);
}

/* A host function: values in, values out (or a trap, or a suspension
** that exec_resume answers by writing to slots). */
static void call_host(rusm_wasm_exec *root, rusm_wasm_instance *caller, const wfuncinst *fi,
                      wslot *slots, uint64_t where) {
  pay_unit(root);
  rusm_wasm_host_status hs = wasm_host_call(fi, caller, slots);
  if (hs == RUSM_WASM_HOST_SUSPEND) {
    root->host_type = fi->type;
    root->host_results = slots;
    root->state = WEXEC_SUSPENDED;
    yield_status(root, RUSM_WASM_SUSPENDED);
  } else if (hs != RUSM_WASM_HOST_OK) {
    wasm_jit_trap(root, RUSM_WASM_TRAP_HOST, (uint32_t)(where >> 32), (uint32_t)where);
  }
}

/* The sub exec for depth d, made on first use. */
static rusm_wasm_exec *sub_at(rusm_wasm_exec *root, uint32_t d, rusm_wasm_instance *inst) {
  if (d < root->nsubs) return root->subs[d];
  rusm_wasm_exec **ns = realloc(root->subs, (size_t)(d + 1) * sizeof *ns);
  if (!ns) return NULL;
  root->subs = ns;
  rusm_wasm_exec *sub = rusm_wasm_exec_new(inst);
  if (!sub) return NULL;
  sub->root = root;
  root->subs[root->nsubs++] = sub;
  return sub;
}

/* Interpreted Wasm: on the sub exec of the current depth. */
static void call_interp(rusm_wasm_exec *root, const wfuncinst *fi, wslot *slots, uint64_t where) {
  uint32_t d = root->sub_depth;
  rusm_wasm_exec *sub = d < WJIT_MAX_SUBS ? sub_at(root, d, fi->inst) : NULL;
  const wasm_functype *ft = fi->type;
  uint32_t np = ft->nparams, nr = ft->nresults;
  if (sub) {
    sub->inst = fi->inst;
    sub->nframes = 0;
    if (!wasm_exec_grow_stack(sub, (np > nr ? np : nr) + 1)) sub = NULL;
  }
  if (!sub)
    wasm_jit_trap(root, RUSM_WASM_TRAP_STACK_EXHAUSTED, (uint32_t)(where >> 32), (uint32_t)where);
  memcpy(sub->stack, slots, np * sizeof *slots);
  wasm_exec_enter(sub, fi);
  root->sub_depth = d + 1;
  for (;;) {
    rusm_wasm_status st = wasm_interp(sub);
    if (st == RUSM_WASM_RETURNED) break;
    switch (st) {
    case RUSM_WASM_OUT_OF_FUEL:
      root->state = WEXEC_PAUSED;
      yield_status(root, RUSM_WASM_OUT_OF_FUEL);
      break;
    case RUSM_WASM_SUSPENDED:
      root->host_type = sub->host_type;
      root->host_results = sub->stack + sub->host_fp_off;
      root->state = WEXEC_SUSPENDED;
      yield_status(root, RUSM_WASM_SUSPENDED);
      sub->state = WEXEC_PAUSED;
      break;
    default: /* TRAPPED (the sub is on the coroutine: never NEED_CORO) */
      wasm_jit_trap(root, sub->trap, sub->trap_func, sub->trap_offset);
    }
  }
  memcpy(slots, sub->stack, nr * sizeof *slots);
  root->sub_depth = d;
}

void wasm_jit_call_slow(rusm_wasm_exec *root, rusm_wasm_instance *caller, const wfuncinst *fi,
                        wslot *slots, uint64_t where) {
  /* Native code first: a function whose module tiered up keeps its
  ** interpreter code too. */
  void (*slot)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *) = WFI_SLOT(fi);
  if (fi->host)
    call_host(root, caller, fi, slots, where);
  else if (slot)
    slot(root, fi->inst, slots);
  else
    call_interp(root, fi, slots, where);
}
