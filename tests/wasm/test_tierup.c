/*
** test_tierup.c -- a module of the interpreter moving to native code while
** it runs (tier.c).  Every call must end exactly as on the interpreter
** alone (results, trap kind and location, fuel used, the host calls it
** suspended in), whether the switch comes at a chosen preemption, at a
** suspended host call, from another thread while instances run, from an
** AUTO module's own background compile, or from a compile job handed to
** the embedder's runner.  White-box where the switch
** itself is checked (the entry stubs and the instances' native entries),
** so it includes the private headers.
*/
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "rt.h"
#include "wasm_check.h"

#include "test_tierup_module.h"

/* Function indices in tierup_wasm (the import $yield is 0). */
enum { F_SQ = 1, F_FIB = 3, F_STEP = 4, F_WORK = 5, F_DEEP = 8, NFUNCS = 9 };

/* ---------------------------------------------------------------- the host */

/* env.yield(x) = 3x + 1; with `suspend`, it suspends and the driver
** resumes it with that value. */
typedef struct host_state {
  bool suspend;
  int32_t arg;
} host_state;

static rusm_wasm_host_status yield_fn(void *env, rusm_wasm_instance *caller, const rusm_wasm_val *args,
                                      rusm_wasm_val *results) {
  (void)caller;
  host_state *h = env;
  if (h->suspend) {
    h->arg = args[0].of.i32;
    return RUSM_WASM_HOST_SUSPEND;
  }
  results[0] = I32((int32_t)((uint32_t)args[0].of.i32 * 3u + 1u));
  return RUSM_WASM_HOST_OK;
}

static rusm_wasm_instance *instantiate(rusm_wasm_module *m, host_state *h) {
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32};
  rusm_wasm_functype ft = {1, 1, i32, i32};
  CHECK(rusm_wasm_linker_define_func(l, "env", "yield", &ft, yield_fn, h) == 0);
  rusm_wasm_error err;
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m, l, &err);
  if (!inst) fprintf(stderr, "instantiate: %s\n", err.message);
  CHECK(inst != NULL);
  rusm_wasm_linker_free(l);
  return inst;
}

static rusm_wasm_module *load(rusm_wasm_tier tier) {
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load_tier(tierup_wasm, sizeof tierup_wasm, tier, &err);
  if (!m) fprintf(stderr, "load: %s\n", err.message);
  CHECK(m != NULL);
  return m;
}

/* ---------------------------------------------------------------- driving a call */

typedef struct outcome {
  rusm_wasm_status st;
  int32_t result;
  rusm_wasm_trap trap;
  uint32_t func, off;
  uint64_t fuel;
  unsigned suspensions;
} outcome;

/* When a driven call calls rusm_wasm_module_compile: at its n-th return
** with OUT_OF_FUEL (at_slice) or its n-th suspension (at_suspend); 0: never. */
typedef struct switch_point {
  rusm_wasm_module *m;
  unsigned at_slice, at_suspend;
} switch_point;

static void do_switch(rusm_wasm_module *m) {
  rusm_wasm_error err;
  int rc = rusm_wasm_module_compile(m, &err);
  if (rc != 0) fprintf(stderr, "compile: %s\n", err.message);
  CHECK(rc == 0);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_COMPILED);
}

/* Calls name(args) on e and runs it `slice` fuel units at a time, resuming
** suspended host calls, until it ends. */
static outcome drive(rusm_wasm_exec *e, host_state *h, const char *name, const rusm_wasm_val *args,
                     size_t n, uint64_t slice, const switch_point *sw) {
  outcome o;
  memset(&o, 0, sizeof o);
  rusm_wasm_error err;
  if (rusm_wasm_exec_call(e, name, args, n, &err) != 0) {
    fprintf(stderr, "cannot call %s: %s\n", name, err.message);
    failures++;
    o.st = RUSM_WASM_SUSPENDED;
    return o;
  }
  uint64_t before = rusm_wasm_exec_fuel_used(e);
  unsigned slices = 0;
  for (;;) {
    o.st = rusm_wasm_exec_run(e, slice);
    if (o.st == RUSM_WASM_OUT_OF_FUEL) {
      if (sw && ++slices == sw->at_slice) do_switch(sw->m);
      continue;
    }
    if (o.st != RUSM_WASM_SUSPENDED) break;
    o.suspensions++;
    if (sw && o.suspensions == sw->at_suspend) do_switch(sw->m);
    rusm_wasm_val r = I32((int32_t)((uint32_t)h->arg * 3u + 1u));
    CHECK(rusm_wasm_exec_resume(e, &r, 1) == 0);
  }
  if (o.st == RUSM_WASM_RETURNED) {
    rusm_wasm_val r;
    CHECK(rusm_wasm_exec_results(e, &r, 1) == 1);
    o.result = r.of.i32;
  }
  o.trap = rusm_wasm_exec_trap(e, &o.func, &o.off);
  o.fuel = rusm_wasm_exec_fuel_used(e) - before;
  return o;
}

static bool same(const outcome *a, const outcome *b) {
  return a->st == b->st && a->result == b->result && a->trap == b->trap && a->func == b->func &&
         a->off == b->off && a->fuel == b->fuel && a->suspensions == b->suspensions;
}

static void expect_same(const char *what, const outcome *want, const outcome *got) {
  if (same(want, got)) return;
  fprintf(stderr, "%s: differs from the interpreter\n", what);
  const outcome *o[2] = {want, got};
  for (int i = 0; i < 2; i++)
    fprintf(stderr, "  %s: status %d result %" PRId32 " trap %d at %" PRIu32 "+%" PRIu32 " fuel %" PRIu64
                    " suspensions %u\n",
            i ? "got " : "want", (int)o[i]->st, o[i]->result, (int)o[i]->trap, o[i]->func, o[i]->off,
            o[i]->fuel, o[i]->suspensions);
  failures++;
}

/* ---------------------------------------------------------------- the calls */

typedef struct tcall {
  const char *name;
  size_t nargs;
  int32_t a, b;
} tcall;

static const tcall calls[] = {
    {"work", 1, 6000, 0},     /* loops, indirect calls, host calls, fib */
    {"fib", 1, 22, 0},        /* recursion: interpreted frames call stubs */
    {"trap_at", 2, 3000, 1234}, /* a trap in a callee, after the switch */
    {"trap_at", 2, 40, 7},    /* ... or before it */
    {"deep", 1, 400, 0},      /* a trap 400 frames down */
};
#define NCALLS (sizeof calls / sizeof calls[0])
#define SLICE 997

static outcome ref[NCALLS];

static outcome call_on(rusm_wasm_exec *e, host_state *h, const tcall *c, const switch_point *sw) {
  rusm_wasm_val args[2] = {I32(c->a), I32(c->b)};
  return drive(e, h, c->name, args, c->nargs, SLICE, sw);
}

/* The interpreter alone, with suspending host calls: the reference. */
static void reference(void) {
  rusm_wasm_module *m = load(RUSM_WASM_TIER_INTERP);
  host_state h = {.suspend = true};
  rusm_wasm_instance *inst = instantiate(m, &h);
  for (size_t i = 0; i < NCALLS; i++) {
    rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
    ref[i] = call_on(e, &h, &calls[i], NULL);
    rusm_wasm_exec_free(e);
  }
  /* The loops of work and trap_at can take native code over. */
  const wcompiled *c = m->compiled;
  CHECK(c && c->funcs[F_WORK].nosr >= 1 && c->funcs[F_WORK].nosr_backs >= 1);
  CHECK(ref[0].st == RUSM_WASM_RETURNED && ref[0].suspensions > 10);
  CHECK(ref[1].st == RUSM_WASM_RETURNED && ref[1].result == 17711);
  CHECK(ref[2].st == RUSM_WASM_TRAPPED && ref[2].trap == RUSM_WASM_TRAP_UNREACHABLE);
  CHECK(ref[4].st == RUSM_WASM_TRAPPED && ref[4].trap == RUSM_WASM_TRAP_OOB_MEMORY && ref[4].func == F_DEEP);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_INTERP);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

/* The switch as seen from inside: stubs at every defined function's
** entry and behind the branches back to its first loops, native entries
** in the live instance (if any), nothing left to interpret in an
** instance made afterwards. */
static void check_switched(rusm_wasm_module *m, rusm_wasm_instance *live) {
  const wcompiled *c = m->compiled;
  CHECK(c != NULL);
  for (uint32_t i = 1; c && i < NFUNCS; i++) {
    CHECK(c->funcs[i].entry != c->funcs[i].code);
    /* Branches back to a loop native code can enter now leave the code. */
    const wfunc *f = &c->funcs[i];
    for (uint32_t b = 0; b < f->nosr_backs; b++) {
      const wcell *to = f->code[f->osr_backs[2 * b]].tgt;
      CHECK(to < f->code || to >= f->code + f->ncode);
    }
    if (!live) continue;
    CHECK(live->own_funcs[i].jit_slot != NULL && live->own_funcs[i].jit_native != NULL);
    CHECK(live->own_funcs[i].code == &c->funcs[i]);   /* kept for running frames */
  }
  host_state h = {.suspend = true};
  rusm_wasm_instance *fresh = instantiate(m, &h);
  if (!fresh) return;
  for (uint32_t i = 1; i < NFUNCS; i++) CHECK(fresh->own_funcs[i].code == NULL);
  rusm_wasm_exec *e = rusm_wasm_exec_new(fresh);
  for (size_t i = 0; i < NCALLS; i++) {
    outcome o = call_on(e, &h, &calls[i], NULL);
    expect_same("an instance made after the switch", &ref[i], &o);
  }
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(fresh);
}

/* ---------------------------------------------------------------- switching at a known point */

static void switch_at(const char *what, unsigned at_slice, unsigned at_suspend) {
  for (size_t i = 0; i < NCALLS; i++) {
    rusm_wasm_module *m = load(RUSM_WASM_TIER_INTERP);
    host_state h = {.suspend = true};
    rusm_wasm_instance *inst = instantiate(m, &h);
    rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
    switch_point sw = {m, at_slice, at_suspend};
    outcome o = call_on(e, &h, &calls[i], &sw);
    char label[96];
    snprintf(label, sizeof label, "%s, %s(%d)", what, calls[i].name, calls[i].a);
    expect_same(label, &ref[i], &o);
    /* Reached the switch point or not, compile now: the next calls on the
    ** same exec and instance run compiled from their start. */
    do_switch(m);
    for (size_t k = 0; k < NCALLS; k++) {
      o = call_on(e, &h, &calls[k], NULL);
      snprintf(label, sizeof label, "%s, then %s(%d)", what, calls[k].name, calls[k].a);
      expect_same(label, &ref[k], &o);
    }
    if (i == 0) check_switched(m, inst);
    rusm_wasm_exec_free(e);
    rusm_wasm_instance_free(inst);
    rusm_wasm_module_free(m);
  }
}

/* ---------------------------------------------------------------- threads */

typedef struct worker {
  rusm_wasm_module *m;
  int rounds;
  int bad;
} worker;

/* Runs every call `rounds` times on its own instance and exec. */
static void *work_thread(void *arg) {
  worker *w = arg;
  host_state h = {.suspend = true};
  rusm_wasm_instance *inst = instantiate(w->m, &h);
  if (!inst) {
    w->bad++;
    return NULL;
  }
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  for (int r = 0; r < w->rounds; r++)
    for (size_t i = 0; i < NCALLS; i++) {
      outcome o = call_on(e, &h, &calls[i], NULL);
      if (!same(&ref[i], &o)) w->bad++;
    }
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  return NULL;
}

#define NWORKERS 2

static void run_workers(rusm_wasm_module *m, int rounds, bool compile_meanwhile) {
  pthread_t th[NWORKERS];
  worker w[NWORKERS];
  for (int i = 0; i < NWORKERS; i++) {
    w[i] = (worker){m, rounds, 0};
    CHECK(pthread_create(&th[i], NULL, work_thread, &w[i]) == 0);
  }
  if (compile_meanwhile) do_switch(m);
  for (int i = 0; i < NWORKERS; i++) {
    pthread_join(th[i], NULL);
    if (w[i].bad) fprintf(stderr, "worker %d: %d calls differ from the interpreter\n", i, w[i].bad);
    CHECK(w[i].bad == 0);
  }
}

/* Another thread compiles while two run. */
static void switch_from_another_thread(void) {
  rusm_wasm_module *m = load(RUSM_WASM_TIER_INTERP);
  run_workers(m, 3, true);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_COMPILED);
  rusm_wasm_module_free(m);
}

/* AUTO: the module compiles itself once its execs spent the threshold. */
static void auto_tier(void) {
  rusm_wasm_module *m = load(RUSM_WASM_TIER_AUTO);
  if (!m) return;
  rusm_wasm_module_set_tierup_fuel(m, 20000);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_INTERP);
  run_workers(m, 4, false);
  /* Started by the workers' fuel; this waits for it. */
  do_switch(m);
  check_switched(m, NULL);
  rusm_wasm_module_free(m);
}

/* AUTO with the embedder running the compile (rusm_wasm_module_set_
** tierup_runner): at once, on the thread of the exec that made the module
** hot (so at a known point of that call), or later on another thread. */
typedef struct runner_state {
  int calls;
  rusm_wasm_job_fn job;
  void *arg;
  bool now;
} runner_state;

static void runner(void *ctx, rusm_wasm_job_fn job, void *arg) {
  runner_state *r = ctx;
  r->calls++;
  if (r->now) {
    job(arg);
  } else {
    r->job = job;
    r->arg = arg;
  }
}

static void *run_job(void *p) {
  runner_state *r = p;
  r->job(r->arg);
  return NULL;
}

static void auto_runner(void) {
  /* At once: the switch comes inside work(6000), at 5000 units. */
  rusm_wasm_module *m = load(RUSM_WASM_TIER_AUTO);
  runner_state r = {.now = true};
  rusm_wasm_module_set_tierup_runner(m, runner, &r);
  rusm_wasm_module_set_tierup_fuel(m, 5000);
  host_state h = {.suspend = true};
  rusm_wasm_instance *inst = instantiate(m, &h);
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  outcome o = call_on(e, &h, &calls[0], NULL);
  expect_same("runner at once, work", &ref[0], &o);
  CHECK(r.calls == 1 && rusm_wasm_module_tier(m) == RUSM_WASM_TIER_COMPILED);
  for (size_t i = 0; i < NCALLS; i++) {
    o = call_on(e, &h, &calls[i], NULL);
    expect_same("runner at once, then", &ref[i], &o);
  }
  CHECK(r.calls == 1);
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);

  /* Later: hot, but interpreted until the job runs, on another thread
  ** while two workers run calls. */
  m = load(RUSM_WASM_TIER_AUTO);
  runner_state later = {.now = false};
  rusm_wasm_module_set_tierup_runner(m, runner, &later);
  rusm_wasm_module_set_tierup_fuel(m, 5000);
  inst = instantiate(m, &h);
  e = rusm_wasm_exec_new(inst);
  o = call_on(e, &h, &calls[0], NULL);
  expect_same("runner later, work", &ref[0], &o);
  CHECK(later.calls == 1 && later.job != NULL);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_INTERP);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, run_job, &later) == 0);
  run_workers(m, 2, false);
  pthread_join(th, NULL);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_COMPILED);
  o = call_on(e, &h, &calls[1], NULL);
  expect_same("runner later, then fib", &ref[1], &o);
  CHECK(later.calls == 1);
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

/* AUTO below its threshold stays on the interpreter; freeing a module
** whose compile is under way waits for it. */
static void auto_edges(void) {
  rusm_wasm_module *m = load(RUSM_WASM_TIER_AUTO);
  host_state h = {.suspend = false};
  rusm_wasm_instance *inst = instantiate(m, &h);
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_val a = I32(10);
  outcome o = drive(e, &h, "fib", &a, 1, RUSM_WASM_FUEL_UNLIMITED, NULL);
  CHECK(o.st == RUSM_WASM_RETURNED && o.result == 55);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_INTERP);   /* far below 2^22 */
  rusm_wasm_module_set_tierup_fuel(m, 0);
  o = drive(e, &h, "fib", &a, 1, RUSM_WASM_FUEL_UNLIMITED, NULL);   /* starts the compile */
  CHECK(o.st == RUSM_WASM_RETURNED && o.result == 55);
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);   /* most likely while LLVM still works */
}

static void api_edges(void) {
  rusm_wasm_error err;
  CHECK(rusm_wasm_module_compile(NULL, &err) == -1 && err.kind == RUSM_WASM_ERR_ARGS);
  CHECK(rusm_wasm_module_load_tier(tierup_wasm, sizeof tierup_wasm, (rusm_wasm_tier)7, &err) == NULL &&
        err.kind == RUSM_WASM_ERR_ARGS);
  rusm_wasm_module_set_tierup_fuel(NULL, 5);
  rusm_wasm_module *m = load(RUSM_WASM_TIER_COMPILED);
  CHECK(rusm_wasm_module_tier(m) == RUSM_WASM_TIER_COMPILED);
  CHECK(rusm_wasm_module_compile(m, &err) == 0);
  host_state h = {.suspend = true};
  rusm_wasm_instance *inst = instantiate(m, &h);
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  for (size_t i = 0; i < NCALLS; i++) {
    outcome o = call_on(e, &h, &calls[i], NULL);
    expect_same("compiled at load", &ref[i], &o);
  }
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

int main(void) {
  reference();
  api_edges();
  switch_at("switch at the 1st preemption", 1, 0);
  switch_at("switch at the 5th preemption", 5, 0);
  switch_at("switch at the 3rd suspension", 0, 3);
  switch_from_another_thread();
  auto_tier();
  auto_runner();
  auto_edges();
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures != 0;
}
