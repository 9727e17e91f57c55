/*
** tier.c -- which tier runs a module's functions, and switching tiers.
**
** The interpreter translates on first instantiation (compile.c); the
** compiled tier compiles everything at load (jit.c), so instantiation
** stays as cheap as for the interpreter.  A module loaded for the
** interpreter can move to native code later (tier-up): explicitly with
** rusm_wasm_module_compile, or by itself when loaded with
** RUSM_WASM_TIER_AUTO, once its execs have spent a threshold of fuel; a
** thread of the module then compiles it, so no caller waits for LLVM.
**
** The switch happens under the module's lock, while instances may run on
** other threads, without stopping them:
**   - each translated function's entry (wfunc.entry) becomes a stub that
**     runs the native code on the interpreter frame already pushed
**     (L_jit_entry in interp.c), so interpreted callers, whose direct
**     calls name the wfunc, switch at their next call;
**   - each function instance of a live instance gets its native entry and
**     slot wrapper (compiled callers then call it natively through tables
**     and imports); its interpreter code stays, for the frames running it;
**   - an instance made afterwards gets the native code only.
**   - a call running on the interpreter moves to native code at its next
**     branch back to one of its function's first loops (on-stack
**     replacement): such branches are redirected to a stub (L_osr_entry)
**     that calls the function's entry for loops (rusm_o<i>, jit.h), which
**     takes the locals from the frame and finishes the call.  The
**     translator lists those loops and branches (wfunc.osr): loops entered
**     with an empty operand stack, where every local is in its slot.
** Fuel, traps and suspension are the same in both tiers (jit.h), so a
** switch in the middle of a run is invisible but for speed.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "jit.h"
#include "rt.h"

enum { TIER_COLD, TIER_COMPILING, TIER_DONE, TIER_FAILED };

typedef struct wtierup {
  pthread_mutex_t lock;
  pthread_cond_t changed;    /* state left TIER_COMPILING */
  int state;                 /* written under lock, read atomically */
  uint64_t spent;            /* AUTO: fuel spent so far (atomic) */
  uint64_t threshold;        /* AUTO: compile once spent reaches it (atomic) */
  rusm_wasm_job_runner runner; /* AUTO: runs the compile (NULL: own thread) */
  void *runner_ctx;
  bool thread_started;
  pthread_t thread;
  rusm_wasm_instance *live;  /* instances made and not freed (under lock) */
  wcell *stubs;              /* 3 cells per function: the entry stubs */
  wcell *osr_stubs;          /* 3 cells per loop of wfunc.osr */
} wtierup;

static void tierup_free(void *p) {
  wtierup *t = p;
  if (t->thread_started) pthread_join(t->thread, NULL);
  /* A compile handed to the embedder's runner: wait until it has run. */
  pthread_mutex_lock(&t->lock);
  while (t->state == TIER_COMPILING) pthread_cond_wait(&t->changed, &t->lock);
  pthread_mutex_unlock(&t->lock);
  pthread_cond_destroy(&t->changed);
  pthread_mutex_destroy(&t->lock);
  free(t->stubs);
  free(t->osr_stubs);
  free(t);
}

/* The module's tier-up state, made on first use (wasm_module_hang). */
static wtierup *tier_get(const wasm_module *cm) {
  wasm_module *m = (wasm_module *)cm;
  wtierup *t = __atomic_load_n((wtierup **)&m->tierup, __ATOMIC_ACQUIRE);
  if (t) return t;
  t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (pthread_mutex_init(&t->lock, NULL) != 0) {
    free(t);
    return NULL;
  }
  if (pthread_cond_init(&t->changed, NULL) != 0) {
    pthread_mutex_destroy(&t->lock);
    free(t);
    return NULL;
  }
  t->threshold = RUSM_WASM_TIERUP_FUEL;
  return wasm_module_hang(&m->tierup, &m->tierup_free, t, tierup_free);
}

/* Gives inst's functions the native code of j; fresh: inst is not yet
** visible to anyone, so its interpreter code can go too. */
static void switch_instance(rusm_wasm_instance *inst, const wjit *j, bool fresh) {
  const wasm_module *m = inst->m;
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
    wfuncinst *fi = &inst->own_funcs[i];
    void (*slot)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *) =
        (void (*)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *))wasm_jit_slot(j, i);
    __atomic_store_n(&fi->jit_slot, slot, __ATOMIC_RELEASE);
    __atomic_store_n(&fi->jit_native, wasm_jit_native(j, i), __ATOMIC_RELEASE);
    if (fresh) fi->code = NULL;
  }
}

/* Under t->lock: makes j the module's code (see the top of this file). */
static bool publish(wasm_module *m, wtierup *t, const wcompiled *c, wjit *j) {
  const void *const *H = wasm_interp_handlers();
  size_t nloops = 0;
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) nloops += c->funcs[i].nosr;
  wcell *stubs = calloc((size_t)m->nfuncs * 3 + 1, sizeof *stubs);
  wcell *osr_stubs = calloc(nloops * 3 + 1, sizeof *osr_stubs);
  if (!stubs || !osr_stubs) {
    free(stubs);
    free(osr_stubs);
    return false;
  }
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
    stubs[3 * i].h = H[WOP_jit_entry];
    stubs[3 * i + 2].ptr = wasm_jit_slot(j, i);
  }
  t->stubs = stubs;
  t->osr_stubs = osr_stubs;
  /* Running calls: their branches back to a loop that native code can
  ** enter go to a stub that does (L_osr_entry). */
  wcell *os = osr_stubs;
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
    const wfunc *f = &c->funcs[i];
    for (uint32_t k = 0; k < f->nosr; k++) {
      os[3 * k].h = H[WOP_osr_entry];
      os[3 * k + 1].u32[0] = k;
      os[3 * k + 2].ptr = wasm_jit_osr(j, i, k);
    }
    for (uint32_t b = 0; b < f->nosr_backs; b++) {
      uint32_t cell = f->osr_backs[2 * b], k = f->osr_backs[2 * b + 1];
      if (os[3 * k + 2].ptr) __atomic_store_n(&f->code[cell].tgt, &os[3 * k], __ATOMIC_RELEASE);
    }
    os += 3 * f->nosr;
  }
  m->jit_free = wasm_jit_free;
  __atomic_store_n(&m->jit, j, __ATOMIC_RELEASE);
  wfunc *funcs = (wfunc *)c->funcs;
  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++)
    __atomic_store_n(&funcs[i].entry, &stubs[3 * i], __ATOMIC_RELEASE);
  for (rusm_wasm_instance *inst = t->live; inst; inst = inst->tier_next) switch_instance(inst, j, false);
  return true;
}

/* Compiles m (state TIER_COMPILING, set by the caller) and switches to the
** result; ends in TIER_DONE or TIER_FAILED. */
static bool compile_and_switch(wasm_module *m, wtierup *t, rusm_wasm_error *err) {
  const wcompiled *c = wasm_compiled_get(m, err);
  wjit *j = c ? wasm_jit_compile(m, c, true, err) : NULL;
  pthread_mutex_lock(&t->lock);
  bool ok = j && publish(m, t, c, j);
  if (j && !ok) {
    wasm_jit_free(j);
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
  }
  __atomic_store_n(&t->state, ok ? TIER_DONE : TIER_FAILED, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&t->changed);
  pthread_mutex_unlock(&t->lock);
  return ok;
}

/* AUTO's compile, on the module's thread or the embedder's runner. */
static void tierup_job(void *arg) {
  wasm_module *m = arg;
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  compile_and_switch(m, m->tierup, &err);   /* a failure leaves the interpreter */
}

static void *tierup_thread(void *arg) {
  tierup_job(arg);
  return NULL;
}

/* ------------------------------------------------------------ internal */

bool wasm_tier_attach(rusm_wasm_instance *inst) {
  wtierup *t = tier_get(inst->m);
  if (!t) return false;
  pthread_mutex_lock(&t->lock);
  inst->tier_prev = NULL;
  inst->tier_next = t->live;
  if (t->live) t->live->tier_prev = inst;
  t->live = inst;
  inst->tier_listed = true;
  if (t->state == TIER_DONE) switch_instance(inst, inst->m->jit, true);
  pthread_mutex_unlock(&t->lock);
  return true;
}

void wasm_tier_detach(rusm_wasm_instance *inst) {
  wtierup *t = inst->m->tierup;
  pthread_mutex_lock(&t->lock);
  if (inst->tier_prev) inst->tier_prev->tier_next = inst->tier_next;
  else t->live = inst->tier_next;
  if (inst->tier_next) inst->tier_next->tier_prev = inst->tier_prev;
  inst->tier_listed = false;
  pthread_mutex_unlock(&t->lock);
}

int64_t wasm_tier_slice(const wasm_module *m) {
  if (m->tier != RUSM_WASM_TIER_AUTO) return 0;
  wtierup *t = __atomic_load_n((wtierup **)&m->tierup, __ATOMIC_ACQUIRE);
  if (!t || __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != TIER_COLD) return 0;
  uint64_t spent = __atomic_load_n(&t->spent, __ATOMIC_RELAXED);
  uint64_t threshold = __atomic_load_n(&t->threshold, __ATOMIC_RELAXED);
  if (spent >= threshold) return 1;   /* wasm_tier_spent starts it */
  uint64_t rest = threshold - spent;
  return rest > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)rest;
}

void wasm_tier_spent(const wasm_module *cm, int64_t fuel) {
  wasm_module *m = (wasm_module *)cm;
  wtierup *t = m->tierup;
  uint64_t spent = __atomic_add_fetch(&t->spent, (uint64_t)fuel, __ATOMIC_RELAXED);
  if (spent < __atomic_load_n(&t->threshold, __ATOMIC_RELAXED)) return;
  pthread_mutex_lock(&t->lock);
  rusm_wasm_job_runner runner = NULL;
  void *ctx = NULL;
  if (t->state == TIER_COLD) {
    __atomic_store_n(&t->state, TIER_COMPILING, __ATOMIC_RELEASE);
    runner = t->runner;
    ctx = t->runner_ctx;
    if (runner) {
      /* called below, unlocked: it may run the job right away */
    } else if (pthread_create(&t->thread, NULL, tierup_thread, m) == 0) {
      t->thread_started = true;
    } else {
      __atomic_store_n(&t->state, TIER_FAILED, __ATOMIC_RELEASE);
      pthread_cond_broadcast(&t->changed);
    }
  }
  pthread_mutex_unlock(&t->lock);
  if (runner) runner(ctx, tierup_job, m);
}

/* ------------------------------------------------------------ public API */

rusm_wasm_module *rusm_wasm_module_load_tier(const uint8_t *bytes, size_t len,
                                             rusm_wasm_tier tier, rusm_wasm_error *err) {
  rusm_wasm_error scratch;
  if (!err) err = &scratch;
  if (tier != RUSM_WASM_TIER_INTERP && tier != RUSM_WASM_TIER_COMPILED &&
      tier != RUSM_WASM_TIER_AUTO) {
    memset(err, 0, sizeof *err);
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "unknown tier %d", (int)tier);
    return NULL;
  }
  wasm_module *m = rusm_wasm_module_load(bytes, len, err);
  if (!m || tier == RUSM_WASM_TIER_INTERP) return m;
  if (tier == RUSM_WASM_TIER_AUTO) {
    m->tier = RUSM_WASM_TIER_AUTO;
    if (!tier_get(m)) {
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
      rusm_wasm_module_free(m);
      return NULL;
    }
    return m;
  }
  /* The translation supplies canonical types shared by both tiers. */
  const wcompiled *c = wasm_compiled_get(m, err);
  wjit *j = c ? wasm_jit_compile(m, c, false, err) : NULL;
  if (!j) {
    rusm_wasm_module_free(m);
    return NULL;
  }
  m->jit = j;
  m->jit_free = wasm_jit_free;
  m->tier = RUSM_WASM_TIER_COMPILED;
  return m;
}

rusm_wasm_tier rusm_wasm_module_tier(const rusm_wasm_module *m) {
  if (!m) return RUSM_WASM_TIER_INTERP;
  if (m->tier == RUSM_WASM_TIER_COMPILED || __atomic_load_n(&m->jit, __ATOMIC_ACQUIRE))
    return RUSM_WASM_TIER_COMPILED;
  return RUSM_WASM_TIER_INTERP;
}

int rusm_wasm_module_compile(rusm_wasm_module *m, rusm_wasm_error *err) {
  rusm_wasm_error scratch;
  if (!err) err = &scratch;
  memset(err, 0, sizeof *err);
  if (!m) {
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "no module");
    return -1;
  }
  if (m->tier == RUSM_WASM_TIER_COMPILED) return 0;
  wtierup *t = tier_get(m);
  if (!t) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
    return -1;
  }
  pthread_mutex_lock(&t->lock);
  while (t->state == TIER_COMPILING) pthread_cond_wait(&t->changed, &t->lock);
  if (t->state == TIER_DONE) {
    pthread_mutex_unlock(&t->lock);
    return 0;
  }
  /* Cold, or a background compile failed: try here, reporting why. */
  __atomic_store_n(&t->state, TIER_COMPILING, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&t->lock);
  return compile_and_switch(m, t, err) ? 0 : -1;
}

void rusm_wasm_module_set_tierup_runner(rusm_wasm_module *m, rusm_wasm_job_runner run, void *ctx) {
  wtierup *t = m ? tier_get(m) : NULL;
  if (!t) return;
  pthread_mutex_lock(&t->lock);
  t->runner = run;
  t->runner_ctx = ctx;
  pthread_mutex_unlock(&t->lock);
}

void rusm_wasm_module_set_tierup_fuel(rusm_wasm_module *m, uint64_t fuel) {
  wtierup *t = m ? tier_get(m) : NULL;
  if (t) __atomic_store_n(&t->threshold, fuel, __ATOMIC_RELAXED);
}
