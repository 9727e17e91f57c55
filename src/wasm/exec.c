/*
** exec.c -- execs: a stack of values and call records on which calls run,
** with the public call/run/resume API around the interpreter.
**
** The stack buffer (value slots from the bottom, call records from the
** top) grows by reallocation; WEXEC_MAX_SLOTS bounds it and
** WEXEC_MAX_XFRAMES the nesting of calls into other instances, and
** hitting either traps with "call stack exhausted".
**
** Fuel: exec_run puts the budget in e->fuel_left, which the interpreter,
** compiled code and sub execs all draw on, and adds what went to
** fuel_used when the run returns.
**
** Compiled code (jit.h) runs on a coroutine the exec owns (jit_rt.c): a
** run continues the coroutine if it is paused mid-run, starts on it if
** the exec has met compiled code before, and otherwise runs the
** interpreter on the caller's stack, moving to the coroutine when the
** interpreter stops in front of a call of compiled code (WASM_NEED_CORO).
*/
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "rt.h"

#define INITIAL_SLOTS 1024u
#define INITIAL_XFRAMES 16u

rusm_wasm_exec *rusm_wasm_exec_new(rusm_wasm_instance *inst) {
  if (!inst) return NULL;
  rusm_wasm_exec *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->inst = inst;
  e->cur = inst;
  e->root = e;
  e->stack = calloc(INITIAL_SLOTS, sizeof *e->stack);
  e->xframes = malloc(INITIAL_XFRAMES * sizeof *e->xframes);
  if (!e->stack || !e->xframes) {
    rusm_wasm_exec_free(e);
    return NULL;
  }
  e->stack_cap = INITIAL_SLOTS;
  e->xframes_cap = INITIAL_XFRAMES;
  e->stack_end = e->stack + e->stack_cap;
  e->state = WEXEC_IDLE;
  return e;
}

void rusm_wasm_exec_free(rusm_wasm_exec *e) {
  if (!e) return;
  wasm_jit_release(e);
  free(e->stack);
  free(e->xframes);
  free(e);
}

bool wasm_exec_grow_stack(rusm_wasm_exec *e, size_t need) {
  size_t recs = e->nframes * WREC_SLOTS;
  if (need + recs <= e->stack_cap) return true;
  if (need + recs > WEXEC_MAX_SLOTS) return false;
  size_t nc = e->stack_cap * 2;
  while (nc < need + recs) nc *= 2;
  if (nc > WEXEC_MAX_SLOTS) nc = WEXEC_MAX_SLOTS;
  uintptr_t old = (uintptr_t)e->stack;
  wslot *ns = realloc(e->stack, nc * sizeof *ns);
  if (!ns) return false;
  /* The records move to the new top; they hold raw frame pointers,
  ** which move with the stack. */
  wframe *fr = (wframe *)(ns + nc) - e->nframes;
  memmove(fr, (wframe *)(ns + e->stack_cap) - e->nframes, e->nframes * sizeof *fr);
  for (size_t i = 0; i < e->nframes; i++)
    fr[i].fp = (wslot *)((uintptr_t)fr[i].fp - old + (uintptr_t)ns);
  e->stack = ns;
  e->stack_cap = nc;
  e->stack_end = ns + nc;
  return true;
}

/* Both tiers call host functions through here (out of line: cold, and it
** needs variable-length arrays): arguments from slots, results back to
** them unless the host suspends (exec_resume writes them then). */
rusm_wasm_host_status wasm_host_call(const wfuncinst *fi, rusm_wasm_instance *caller, wslot *slots) {
  const wasm_functype *ft = fi->type;
  uint32_t np = ft->nparams, nr = ft->nresults;
  rusm_wasm_val args[np ? np : 1], res[nr ? nr : 1];
  for (uint32_t i = 0; i < np; i++) args[i] = wasm_slot_to_val(slots[i], ft->types[i]);
  for (uint32_t i = 0; i < nr; i++) {
    memset(&res[i], 0, sizeof res[i]);
    res[i].type = (rusm_wasm_valtype)ft->types[np + i];
  }
  rusm_wasm_host_status hs = fi->host(fi->env, caller, args, res);
  if (hs == RUSM_WASM_HOST_OK)
    for (uint32_t i = 0; i < nr; i++) slots[i] = wasm_val_to_slot(&res[i]);
  return hs;
}

bool wasm_exec_grow_xframes(rusm_wasm_exec *e) {
  if (e->xframes_cap >= WEXEC_MAX_XFRAMES) return false;
  uint32_t nc = e->xframes_cap * 2;
  if (nc > WEXEC_MAX_XFRAMES) nc = WEXEC_MAX_XFRAMES;
  wxframe *nf = realloc(e->xframes, nc * sizeof *nf);
  if (!nf) return false;
  e->xframes = nf;
  e->xframes_cap = nc;
  return true;
}

/* The entry trampoline: [call_ref base=0 fi][halt].  Running it calls fi
** (host or Wasm, any instance) with the arguments in stack[0..] and halts
** with the results there.  Then the xret cell (see wframe). */
void wasm_exec_enter(rusm_wasm_exec *e, const wfuncinst *fi) {
  const void *const *H = wasm_interp_handlers();
  memset(e->entry, 0, sizeof e->entry);
  e->entry[0].h = H[WOP_call_ref];
  e->entry[1].u32[0] = 0;
  e->entry[2].ptr = fi;
  e->entry[3].h = H[WOP_halt];
  e->entry[WEXEC_XRET].h = H[WOP_xret];
  e->target = fi;
  e->nresults = fi->type->nresults;
  e->pc = e->entry;
  e->fp_off = 0;
  e->cur = e->inst;
  e->nframes = 0;
  e->nxframes = 0;
  e->trap = RUSM_WASM_TRAP_NONE;
  e->charge_owed = false;
  e->state = WEXEC_READY;
}

int rusm_wasm_exec_call(rusm_wasm_exec *e, const char *name, const rusm_wasm_val *args,
                        size_t nargs, rusm_wasm_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (e->state == WEXEC_PAUSED || e->state == WEXEC_SUSPENDED || e->running) {
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "exec is in the middle of a call");
    return -1;
  }
  wextern x;
  if (!name || !wasm_instance_export(e->inst, name, strlen(name), &x) || x.kind != WASM_EXT_FUNC) {
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "no exported function \"%s\"", name ? name : "");
    return -1;
  }
  const wasm_functype *ft = x.func->type;
  if (nargs != ft->nparams) {
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "\"%s\" takes %u arguments, not %zu", name, ft->nparams,
                 nargs);
    return -1;
  }
  for (size_t i = 0; i < nargs; i++)
    if ((uint8_t)args[i].type != ft->types[i]) {
      wasm_set_err(err, RUSM_WASM_ERR_ARGS, "argument %zu of \"%s\" has the wrong type", i, name);
      return -1;
    }
  size_t need = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
  e->nframes = 0;            /* records a trap left are dropped */
  if (!wasm_exec_grow_stack(e, need + 1)) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < nargs; i++) e->stack[i] = wasm_val_to_slot(&args[i]);
  wasm_exec_enter(e, x.func);
  /* A compiled target: straight to the coroutine. */
  if (WFI_SLOT(x.func)) e->use_coro = true;
  return 0;
}

static rusm_wasm_status run_root(rusm_wasm_exec *e) {
  if (!e->coro_live && !e->use_coro) {
    rusm_wasm_status st = wasm_interp(e);
    if (st != WASM_NEED_CORO) return st;
    e->use_coro = true;
  }
  return wasm_jit_run_on_coro(e);
}

rusm_wasm_status rusm_wasm_exec_run(rusm_wasm_exec *e, uint64_t fuel) {
  /* Run again from inside its own run (a host function it called): the
  ** API does not allow it; refuse rather than corrupt the run. */
  if (e->running) return RUSM_WASM_TRAPPED;
  switch (e->state) {
  case WEXEC_READY:
  case WEXEC_PAUSED: {
    int64_t budget = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
    int64_t left = budget;
    rusm_wasm_status st;
    e->running = true;
    for (;;) {
      /* A module loaded with RUSM_WASM_TIER_AUTO counts the fuel its
      ** execs spend until it is hot (tier.c): the run goes in slices that
      ** end at its threshold, which is invisible to the caller (running
      ** out of fuel and running again is exact). */
      int64_t watch = wasm_tier_slice(e->inst->m);
      int64_t slice = watch > 0 && watch < left ? watch : left;
      e->fuel_left = slice;
      st = run_root(e);
      int64_t spent = slice - e->fuel_left;
      left -= spent;
      if (watch > 0) wasm_tier_spent(e->inst->m, spent);
      if (st != RUSM_WASM_OUT_OF_FUEL || slice == left + spent) break;
    }
    e->running = false;
    e->fuel_used += (uint64_t)(budget - left);
    return st;
  }
  case WEXEC_SUSPENDED:
    return RUSM_WASM_SUSPENDED;
  case WEXEC_DONE:
    return RUSM_WASM_RETURNED;
  default:
    if (e->state == WEXEC_IDLE) e->trap = RUSM_WASM_TRAP_NONE;
    return RUSM_WASM_TRAPPED;
  }
}

int rusm_wasm_exec_resume(rusm_wasm_exec *e, const rusm_wasm_val *results, size_t n) {
  if (e->state != WEXEC_SUSPENDED) return -1;
  const wasm_functype *ft = e->host_type;
  if (n != ft->nresults) return -1;
  for (size_t i = 0; i < n; i++)
    if ((uint8_t)results[i].type != ft->types[ft->nparams + i]) return -1;
  /* Under compiled code or a sub exec, the results go where the
  ** suspended call waits for them (host_results). */
  wslot *dst = e->host_results ? e->host_results : e->stack + e->host_fp_off;
  for (size_t i = 0; i < n; i++) dst[i] = wasm_val_to_slot(&results[i]);
  e->host_results = NULL;
  e->state = WEXEC_PAUSED;
  return 0;
}

size_t rusm_wasm_exec_results(rusm_wasm_exec *e, rusm_wasm_val *out, size_t max) {
  if (e->state != WEXEC_DONE || !e->target) return 0;
  const wasm_functype *ft = e->target->type;
  size_t n = ft->nresults;
  for (size_t i = 0; i < n && i < max; i++) out[i] = wasm_slot_to_val(e->stack[i], ft->types[ft->nparams + i]);
  return n;
}

rusm_wasm_trap rusm_wasm_exec_trap(rusm_wasm_exec *e, uint32_t *func, uint32_t *offset) {
  if (e->state != WEXEC_TRAPPED) return RUSM_WASM_TRAP_NONE;
  if (func) *func = e->trap_func;
  if (offset) *offset = e->trap_offset;
  return e->trap;
}

uint64_t rusm_wasm_exec_fuel_used(const rusm_wasm_exec *e) { return e->fuel_used; }

rusm_wasm_status rusm_wasm_call(rusm_wasm_instance *inst, const char *name,
                                const rusm_wasm_val *args, size_t nargs, rusm_wasm_val *results,
                                size_t max, rusm_wasm_error *err) {
  if (err) memset(err, 0, sizeof *err);
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  if (!e) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
    return RUSM_WASM_TRAPPED;
  }
  rusm_wasm_status st;
  if (rusm_wasm_exec_call(e, name, args, nargs, err) != 0) {
    st = RUSM_WASM_TRAPPED;
  } else {
    st = rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED);
    if (st == RUSM_WASM_RETURNED) {
      rusm_wasm_exec_results(e, results, max);
    } else if (st == RUSM_WASM_TRAPPED) {
      wasm_set_err(err, RUSM_WASM_ERR_TRAP, "%s", rusm_wasm_trap_message(e->trap));
    } else {
      /* Nothing can resume a suspension here: report it as a host trap. */
      st = RUSM_WASM_TRAPPED;
      wasm_set_err(err, RUSM_WASM_ERR_TRAP, "%s", rusm_wasm_trap_message(RUSM_WASM_TRAP_HOST));
    }
  }
  rusm_wasm_exec_free(e);
  return st;
}
