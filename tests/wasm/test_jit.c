/*
** test_jit.c -- the compiled tier against the interpreter.  The same calls
** on instances of the same modules, one instance per tier, must give
** bit-identical results, the same trap kinds and locations and the same
** fuel, also when run in slices of a few fuel units.  Then calls across
** instances of mixed tiers (native entries, the slow path, type checks
** across modules, memory growing under a caller) and modules compiled and
** run by several threads at once.
*/
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "wasm_check.h"

#include "test_jit_modules.h"

/* The same as initializers of the case tables (floats by their bits). */
#define VI32(v) {.type = RUSM_WASM_I32, .of.i32 = (int32_t)(v)}
#define VI64(v) {.type = RUSM_WASM_I64, .of.i64 = (int64_t)(v)}
#define VF32(b) {.type = RUSM_WASM_F32, .of.f32_bits = (b)}
#define VF64(b) {.type = RUSM_WASM_F64, .of.f64_bits = (b)}

/* ---------------------------------------------------------------- outcomes */

typedef struct outcome {
  rusm_wasm_status st;
  size_t nres;
  rusm_wasm_val res[8];
  rusm_wasm_trap trap;
  uint32_t func, off;
  uint64_t fuel;
} outcome;

/* Runs name(args) on a fresh exec, `slice` fuel units at a time. */
static outcome run(rusm_wasm_instance *inst, const char *name, const rusm_wasm_val *args, size_t n,
                   uint64_t slice) {
  outcome o;
  memset(&o, 0, sizeof o);
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  if (rusm_wasm_exec_call(e, name, args, n, &err) != 0) {
    fprintf(stderr, "cannot call %s: %s\n", name, err.message);
    failures++;
    rusm_wasm_exec_free(e);
    o.st = RUSM_WASM_SUSPENDED;
    return o;
  }
  uint64_t spent = 0;
  do {
    o.st = rusm_wasm_exec_run(e, slice);
    spent += slice;
  } while (o.st == RUSM_WASM_OUT_OF_FUEL && spent < (UINT64_C(1) << 40));
  if (o.st == RUSM_WASM_RETURNED) o.nres = rusm_wasm_exec_results(e, o.res, 8);
  o.trap = rusm_wasm_exec_trap(e, &o.func, &o.off);
  o.fuel = rusm_wasm_exec_fuel_used(e);
  rusm_wasm_exec_free(e);
  return o;
}

static bool same_val(const rusm_wasm_val *a, const rusm_wasm_val *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
  case RUSM_WASM_I32: case RUSM_WASM_F32: return a->of.f32_bits == b->of.f32_bits;
  case RUSM_WASM_I64: case RUSM_WASM_F64: return a->of.f64_bits == b->of.f64_bits;
  default: return (a->of.ref == NULL) == (b->of.ref == NULL); /* each instance's own funcref */
  }
}

static void describe(const char *what, const outcome *o) {
  fprintf(stderr, "  %s: status %d trap %d at func %" PRIu32 " offset %" PRIu32 ", fuel %" PRIu64 ", results",
          what, (int)o->st, (int)o->trap, o->func, o->off, o->fuel);
  for (size_t i = 0; i < o->nres; i++) fprintf(stderr, " %016" PRIx64, o->res[i].of.f64_bits);
  fprintf(stderr, "\n");
}

/* want: the interpreter's; got: the compiled tier's.  Fuel is compared
** when cmp_fuel (calls through host functions are charged by the runtime,
** not by compiled code). */
static void expect_same(const char *name, const outcome *want, const outcome *got, bool cmp_fuel) {
  bool ok = want->st == got->st && want->nres == got->nres && want->trap == got->trap &&
            want->func == got->func && want->off == got->off && (!cmp_fuel || want->fuel == got->fuel);
  for (size_t i = 0; ok && i < want->nres; i++) ok = same_val(&want->res[i], &got->res[i]);
  if (!ok) {
    fprintf(stderr, "%s: the tiers differ\n", name);
    describe("interp  ", want);
    describe("compiled", got);
    failures++;
  }
}

/* ---------------------------------------------------------------- hosts */

/* env.host(x) = 3x, a trap for x == 13; env.pair(i, l) = (2l, i + 1). */
static rusm_wasm_host_status host_fn(void *env, rusm_wasm_instance *caller, const rusm_wasm_val *args,
                                     rusm_wasm_val *results) {
  (void)env;
  (void)caller;
  if (args[0].of.i32 == 13) return RUSM_WASM_HOST_TRAP;
  results[0] = I32(args[0].of.i32 * 3);
  return RUSM_WASM_HOST_OK;
}
static rusm_wasm_host_status pair_fn(void *env, rusm_wasm_instance *caller, const rusm_wasm_val *args,
                                     rusm_wasm_val *results) {
  (void)env;
  (void)caller;
  results[0] = I64(args[1].of.i64 * 2);
  results[1] = I32(args[0].of.i32 + 1);
  return RUSM_WASM_HOST_OK;
}

static rusm_wasm_linker *host_linker(void) {
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32}, i32i64[] = {RUSM_WASM_I32, RUSM_WASM_I64},
                                 i64i32[] = {RUSM_WASM_I64, RUSM_WASM_I32};
  rusm_wasm_functype h = {1, 1, i32, i32}, p = {2, 2, i32i64, i64i32};
  CHECK(rusm_wasm_linker_define_func(l, "env", "host", &h, host_fn, NULL) == 0);
  CHECK(rusm_wasm_linker_define_func(l, "env", "pair", &p, pair_fn, NULL) == 0);
  return l;
}

/* ---------------------------------------------------------------- differential */

typedef struct jcase {
  const char *name;
  size_t nargs;
  rusm_wasm_val args[4];
  bool host;                 /* goes through a host function: fuel not compared */
} jcase;

#define C0(n) {n, 0, {{0}}, false}
#define C1(n, a) {n, 1, {a}, false}
#define C2(n, a, b) {n, 2, {a, b}, false}
#define C3(n, a, b, c) {n, 3, {a, b, c}, false}
#define H1(n, a) {n, 1, {a}, true}
#define H2(n, a, b) {n, 2, {a, b}, true}

static const jcase ops_cases[] = {
    C2("div_s", VI32(7), VI32(-2)), C2("div_s", VI32(1), VI32(0)), C2("div_s", VI32(INT32_MIN), VI32(-1)),
    C2("div_u", VI32(-1), VI32(3)), C2("div_u", VI32(5), VI32(0)),
    C2("rem_s", VI32(INT32_MIN), VI32(-1)), C2("rem_s", VI32(-7), VI32(2)), C2("rem_s", VI32(3), VI32(0)),
    C2("rem_u", VI32(-7), VI32(2)), C2("rem_u", VI32(3), VI32(0)),
    C2("div_s64", VI64(INT64_MIN), VI64(-1)), C2("div_s64", VI64(-9), VI64(4)), C2("div_s64", VI64(1), VI64(0)),
    C2("rem_s64", VI64(INT64_MIN), VI64(-1)), C2("rem_s64", VI64(9), VI64(0)),
    C2("shifts", VI32(0x80000001), VI32(33)), C2("shifts", VI32(12345), VI32(-1)),
    C1("bits64", VI64(0)), C1("bits64", VI64(0x00f0000000000100)),
    C1("trunc_f32_s", VF32(0x4effffff)), C1("trunc_f32_s", VF32(0x4f000000)),
    C1("trunc_f32_s", VF32(0xcf000000)), C1("trunc_f32_s", VF32(0x7fc00000)),
    C1("trunc_f64_u", VF64(0xbfefffffffffffff)), C1("trunc_f64_u", VF64(0xbff0000000000000)),
    C1("trunc_f64_u", VF64(0x41efffffffe00000)), C1("trunc_f64_u", VF64(0x41f0000000000000)),
    C1("trunc_f64_u64", VF64(0x43efffffffffffff)), C1("trunc_f64_u64", VF64(0x43f0000000000000)),
    C1("trunc_f64_u64", VF64(0xfff8000000000000)),
    C1("sat_f32_u64", VF32(0x7f800000)), C1("sat_f32_u64", VF32(0xbf800000)), C1("sat_f32_u64", VF32(0x7fa00000)),
    C2("fminmax", VF64(0x8000000000000000), VF64(0)), C2("fminmax", VF64(0x7ff4000000000000), VF64(0)),
    C1("fnearest", VF32(0x40200000)), C1("fnearest", VF32(0xbfc00000)),
    C3("fill", VI32(100), VI32(0x1ff), VI32(20)), C1("load8", VI32(100)), C1("load64", VI32(96)),
    C1("load8", VI32(65532)), C1("load8", VI32(65533)), C1("load64", VI32(65527)), C1("load64", VI32(65528)),
    C1("loadf", VI32(65532)), C1("loadf", VI32(-1)),
    C2("store16", VI32(65532), VI32(0x1234)), C2("store16", VI32(65533), VI32(0x1234)),
    {"store64", 2, {VI32(65528), VI64(-1)}, false}, {"store64", 2, {VI32(65529), VI64(-1)}, false},
    C1("load64", VI32(65520)),
    C3("fill", VI32(65530), VI32(7), VI32(6)), C3("fill", VI32(65530), VI32(7), VI32(7)),
    C3("copy", VI32(0), VI32(100), VI32(30)), C3("copy", VI32(65535), VI32(0), VI32(2)), C3("copy", VI32(0), VI32(-1), VI32(0)),
    C3("init", VI32(200), VI32(2), VI32(6)), C3("init", VI32(200), VI32(2), VI32(7)), C1("load64", VI32(199)),
    C0("ddrop"), C3("init", VI32(0), VI32(0), VI32(0)), C3("init", VI32(0), VI32(0), VI32(1)),
    C2("callind", VI32(0), VI32(42)), C2("callind", VI32(1), VI32(42)), C2("callind", VI32(2), VI32(1)),
    C2("callind", VI32(4), VI32(1)), C2("callind", VI32(-1), VI32(1)), C1("callind_v", VI32(0)),
    C1("tget", VI32(1)), C1("tget", VI32(2)), C1("tget", VI32(4)), C1("tset", VI32(1)), C1("tset", VI32(2)),
    C3("tinit", VI32(2), VI32(1), VI32(2)), C2("callind", VI32(2), VI32(5)), C2("callind", VI32(3), VI32(5)),
    C3("tinit", VI32(3), VI32(1), VI32(2)), C3("tinit", VI32(0), VI32(3), VI32(1)),
    C0("edrop"), C3("tinit", VI32(0), VI32(0), VI32(1)), C3("tinit", VI32(4), VI32(0), VI32(0)),
    C3("tcopy", VI32(1), VI32(0), VI32(3)), C2("callind", VI32(1), VI32(6)), C3("tcopy", VI32(2), VI32(0), VI32(3)),
    C2("tfill", VI32(2), VI32(2)), C2("callind", VI32(3), VI32(8)), C2("tfill", VI32(3), VI32(2)),
    C1("tgrow", VI32(3)), C0("tsize"), C1("tget", VI32(6)), C1("tgrow", VI32(4)), C0("tsize"),
    C0("msize"), C1("grow", VI32(1)), C1("load8", VI32(70000)), C1("grow", VI32(2)), C0("msize"),
    C1("unreach", VI32(0)), C1("unreach", VI32(1)),
    C1("globals", VI32(3)), C1("globals", VI32(-2)),
    {"sel", 3, {VI32(0), VI64(1), VI64(2)}, false}, {"sel", 3, {VI32(9), VI64(1), VI64(2)}, false},
    C1("selref", VI32(0)), C1("selref", VI32(1)),
    H1("host", VI32(5)), H1("host", VI32(13)), H2("pair", VI32(4), VI64(-8)),
    H1("host_ind", VI32(7)), H1("host_ind", VI32(13)),
};

static const jcase ctl_cases[] = {
    C1("sum", VI32(0)), C1("sum", VI32(1000)), C1("brtable", VI32(0)), C1("brtable", VI32(37)),
    C1("brtable_ret", VI32(0)), C1("brtable_ret", VI32(1)), C1("brtable_ret", VI32(2)),
    C1("brtable_ret", VI32(3)), C1("brtable_ret", VI32(99)),
    {"swap", 2, {VI32(1), VI64(-2)}, false}, {"call_swap", 2, {VI32(-3), VI64(4)}, false},
    C1("mv_block", VI32(0)), C1("mv_block", VI32(1)), C1("mv_loop", VI32(0)), C1("mv_loop", VI32(30)),
    C2("mv_if", VI32(0), VI32(5)), C2("mv_if", VI32(1), VI32(5)),
    C2("if_noelse", VI32(0), VI32(5)), C2("if_noelse", VI32(1), VI32(5)),
    C1("dead", VI32(8)), C1("fib", VI32(20)), C1("nested", VI32(9)),
    C1("recurse", VI32(0)), C0("runaway"), C0("mutual"),
    C1("lanes", VI32(1000)),
};

/* Vector registers live across running out of fuel (see vec_wasm). */
static const jcase vec_cases[] = {C1("lanes", VI32(4096)), C1("lanes", VI32(100))};

/* Runs cases in order on one instance per tier (state carries over). */
static void differential(const char *label, const uint8_t *wasm, size_t len, const jcase *cases,
                         size_t ncases, uint64_t slice) {
  rusm_wasm_module *m[2];
  rusm_wasm_instance *inst[2];
  rusm_wasm_linker *l = host_linker();
  rusm_wasm_error err;
  for (int t = 0; t < 2; t++) {
    m[t] = rusm_wasm_module_load_tier(wasm, len, t ? RUSM_WASM_TIER_COMPILED : RUSM_WASM_TIER_INTERP, &err);
    inst[t] = m[t] ? rusm_wasm_instantiate(m[t], l, &err) : NULL;
    if (!inst[t]) {
      fprintf(stderr, "%s: %s\n", label, err.message);
      failures++;
      return;
    }
  }
  for (size_t i = 0; i < ncases; i++) {
    const jcase *c = &cases[i];
    outcome want = run(inst[0], c->name, c->args, c->nargs, RUSM_WASM_FUEL_UNLIMITED);
    outcome got = run(inst[1], c->name, c->args, c->nargs, slice);
    char what[96];
    snprintf(what, sizeof what, "%s: case %zu (%s), fuel slices of %" PRIu64, label, i, c->name, slice);
    /* Exhaustion is the one outcome whose fuel depends on the stack size. */
    bool exhausted = want.st == RUSM_WASM_TRAPPED && want.trap == RUSM_WASM_TRAP_STACK_EXHAUSTED;
    if (exhausted) {
      CHECK(got.st == RUSM_WASM_TRAPPED && got.trap == RUSM_WASM_TRAP_STACK_EXHAUSTED);
      continue;
    }
    expect_same(what, &want, &got, !c->host);
  }
  for (int t = 0; t < 2; t++) {
    rusm_wasm_instance_free(inst[t]);
    rusm_wasm_module_free(m[t]);
  }
  rusm_wasm_linker_free(l);
}

/* ---------------------------------------------------------------- across instances */

static const jcase user_cases[] = {
    C1("direct", VI32(21)), C1("multi", VI32(7)), C2("ind", VI32(0), VI32(8)), C2("ind", VI32(2), VI32(8)),
    C1("ind_bad", VI32(0)), C1("grow_then_load", VI32(70000)), C1("grow_then_load", VI32(140000)),
};

/* lib and user in every combination of tiers, against both interpreted. */
static void across_instances(void) {
  outcome want[sizeof user_cases / sizeof *user_cases];
  for (int combo = 0; combo < 4; combo++) {
    rusm_wasm_tier lt = combo & 1 ? RUSM_WASM_TIER_COMPILED : RUSM_WASM_TIER_INTERP;
    rusm_wasm_tier ut = combo & 2 ? RUSM_WASM_TIER_COMPILED : RUSM_WASM_TIER_INTERP;
    rusm_wasm_error err;
    rusm_wasm_module *lm = rusm_wasm_module_load_tier(lib_wasm, sizeof lib_wasm, lt, &err);
    rusm_wasm_module *um = rusm_wasm_module_load_tier(user_wasm, sizeof user_wasm, ut, &err);
    CHECK(lm && um);
    rusm_wasm_linker *l = rusm_wasm_linker_new();
    rusm_wasm_instance *li = lm ? rusm_wasm_instantiate(lm, NULL, &err) : NULL;
    CHECK(li && rusm_wasm_linker_define_instance(l, "lib", li) == 0);
    rusm_wasm_instance *ui = um && li ? rusm_wasm_instantiate(um, l, &err) : NULL;
    CHECK(ui != NULL);
    for (size_t i = 0; ui && i < sizeof user_cases / sizeof *user_cases; i++) {
      const jcase *c = &user_cases[i];
      outcome o = run(ui, c->name, c->args, c->nargs, combo ? 5 : RUSM_WASM_FUEL_UNLIMITED);
      char what[96];
      snprintf(what, sizeof what, "lib %s, user %s: case %zu (%s)", lt ? "compiled" : "interp",
               ut ? "compiled" : "interp", i, c->name);
      if (combo == 0) want[i] = o;
      else expect_same(what, &want[i], &o, false);
    }
    rusm_wasm_instance_free(ui);
    rusm_wasm_linker_free(l);
    rusm_wasm_instance_free(li);
    rusm_wasm_module_free(um);
    rusm_wasm_module_free(lm);
  }
}

/* ---------------------------------------------------------------- threads */

#define NTHREADS 4

typedef struct worker {
  const rusm_wasm_module *shared;
  int bad;
} worker;

/* Loads (compiles) its own module and instantiates the shared one, and
** checks a few results on both. */
static void *work(void *arg) {
  worker *w = arg;
  rusm_wasm_error err;
  rusm_wasm_module *own = rusm_wasm_module_load_tier(ctl_wasm, sizeof ctl_wasm, RUSM_WASM_TIER_COMPILED, &err);
  const rusm_wasm_module *mods[2] = {own, w->shared};
  for (int k = 0; k < 2; k++) {
    rusm_wasm_instance *inst = mods[k] ? rusm_wasm_instantiate(mods[k], NULL, &err) : NULL;
    if (!inst) {
      w->bad++;
      continue;
    }
    rusm_wasm_val a = I32(20), r;
    for (int i = 0; i < 20; i++)
      if (rusm_wasm_call(inst, "fib", &a, 1, &r, 1, &err) != RUSM_WASM_RETURNED || r.of.i32 != 6765) w->bad++;
    a = I32(1000);
    if (rusm_wasm_call(inst, "sum", &a, 1, &r, 1, &err) != RUSM_WASM_RETURNED || r.of.i32 != 500500) w->bad++;
    rusm_wasm_instance_free(inst);
  }
  rusm_wasm_module_free(own);
  return NULL;
}

static void threads(void) {
  rusm_wasm_error err;
  rusm_wasm_module *shared = rusm_wasm_module_load_tier(ctl_wasm, sizeof ctl_wasm, RUSM_WASM_TIER_COMPILED, &err);
  CHECK(shared != NULL);
  pthread_t th[NTHREADS];
  worker w[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (worker){shared, 0};
    CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(w[i].bad == 0);
  }
  rusm_wasm_module_free(shared);
}

int main(void) {
  static const uint64_t slices[] = {RUSM_WASM_FUEL_UNLIMITED, 1, 7, 1000};
  for (size_t s = 0; s < sizeof slices / sizeof *slices; s++) {
    differential("ops", ops_wasm, sizeof ops_wasm, ops_cases, sizeof ops_cases / sizeof *ops_cases, slices[s]);
    differential("ctl", ctl_wasm, sizeof ctl_wasm, ctl_cases, sizeof ctl_cases / sizeof *ctl_cases, slices[s]);
    differential("vec", vec_wasm, sizeof vec_wasm, vec_cases, sizeof vec_cases / sizeof *vec_cases, slices[s]);
  }
  across_instances();
  threads();
  if (failures) {
    fprintf(stderr, "test_jit: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_jit: ok\n");
  return 0;
}
