/*
** test_exec.c -- unit tests of the Wasm executor through the public API:
** arithmetic and numeric corner cases, every trap kind, fuel exhaustion
** and resumption (same result as an unlimited run), an infinite loop that
** always comes back, host functions that return, trap or suspend (and are
** resumed), deep recursion that traps with "call stack exhausted", memory
** and global access from the host, and imports across instances.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "wasm_check.h"

#include "test_exec_modules.h"

/* `compiled` as the first argument runs every test on the compiled tier:
** both tiers must give the same answers, traps, fuel and suspensions. */
static rusm_wasm_tier tier = RUSM_WASM_TIER_INTERP;
static rusm_wasm_module *load_module(const uint8_t *b, size_t n, rusm_wasm_error *err) {
  return rusm_wasm_module_load_tier(b, n, tier, err);
}


/* ---------------------------------------------------------------- hosts */

typedef struct host_env {
  int calls;
  rusm_wasm_host_status mode;  /* what "get" answers */
} host_env;

/* env.get(x) = x * 10, or a trap / a suspension, as env->mode says. */
static rusm_wasm_host_status host_get(void *env, rusm_wasm_instance *caller,
                                      const rusm_wasm_val *args, rusm_wasm_val *results) {
  host_env *h = env;
  (void)caller;
  h->calls++;
  if (h->mode != RUSM_WASM_HOST_OK) return h->mode;
  results[0] = I32(args[0].of.i32 * 10);
  return RUSM_WASM_HOST_OK;
}

/* env.twice(x) = (3x, x): a multi-value host function. */
static rusm_wasm_host_status host_twice(void *env, rusm_wasm_instance *caller,
                                        const rusm_wasm_val *args, rusm_wasm_val *results) {
  (void)env;
  (void)caller;
  results[0] = I64(args[0].of.i64 * 3);
  results[1] = I64(args[0].of.i64);
  return RUSM_WASM_HOST_OK;
}

static rusm_wasm_linker *make_linker(host_env *h) {
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32};
  static const rusm_wasm_valtype i64[] = {RUSM_WASM_I64};
  static const rusm_wasm_valtype i64x2[] = {RUSM_WASM_I64, RUSM_WASM_I64};
  rusm_wasm_functype get = {1, 1, i32, i32}, twice = {1, 2, i64, i64x2};
  CHECK(rusm_wasm_linker_define_func(l, "env", "get", &get, host_get, h) == 0);
  CHECK(rusm_wasm_linker_define_func(l, "env", "twice", &twice, host_twice, NULL) == 0);
  return l;
}

/* Calls name(args) to completion; returns the status, results in out. */
static rusm_wasm_status call(rusm_wasm_instance *inst, const char *name, const rusm_wasm_val *args,
                             size_t n, rusm_wasm_val *out, size_t max) {
  rusm_wasm_error err;
  return rusm_wasm_call(inst, name, args, n, out, max, &err);
}

static rusm_wasm_trap trap_of(rusm_wasm_instance *inst, const char *name, const rusm_wasm_val *args,
                              size_t n) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  rusm_wasm_trap t = RUSM_WASM_TRAP_NONE;
  if (rusm_wasm_exec_call(e, name, args, n, &err) == 0 &&
      rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED)
    t = rusm_wasm_exec_trap(e, NULL, NULL);
  rusm_wasm_exec_free(e);
  return t;
}

/* ---------------------------------------------------------------- tests */

static void test_arith(rusm_wasm_instance *inst) {
  rusm_wasm_val r[2];
  rusm_wasm_val a[2];
  a[0] = I32(100);
  CHECK(call(inst, "sum", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 5050);
  a[0] = I32(20);
  CHECK(call(inst, "fib", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 6765);
  a[0] = I32(-7), a[1] = I32(2);
  CHECK(call(inst, "div_s", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == -3);
  CHECK(call(inst, "rem_s", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == -1);
  a[0] = I32(INT32_MIN), a[1] = I32(-1);
  CHECK(call(inst, "rem_s", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 0);
  a[0] = I64(0x100000001), a[1] = I64(0x100000001);
  CHECK(call(inst, "mul64", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i64 == 0x200000001);
  /* fmin: -0 below +0, NaN wins. */
  a[0] = F32(0.0f), a[1] = F32(-0.0f);
  CHECK(call(inst, "fmin", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.f32_bits == 0x80000000u);
  a[0] = F32(NAN), a[1] = F32(1.0f);
  CHECK(call(inst, "fmin", a, 2, r, 1) == RUSM_WASM_RETURNED && isnan(r[0].of.f32));
  /* neg flips only the sign bit, even of a signalling NaN's payload. */
  a[0].type = RUSM_WASM_F64;
  a[0].of.f64_bits = 0x7ff0000000000001ull;
  CHECK(call(inst, "neg", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.f64_bits == 0xfff0000000000001ull);
  /* nearest rounds half to even. */
  a[0] = F64(2.5);
  CHECK(call(inst, "nearest", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.f64 == 2.0);
  a[0] = F64(-3.5);
  CHECK(call(inst, "nearest", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.f64 == -4.0);
  a[0] = F64(1e10);
  CHECK(call(inst, "trunc_sat", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == INT32_MAX);
  a[0] = F64(NAN);
  CHECK(call(inst, "trunc_sat", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 0);
  a[0] = F64(-2147483648.9);
  CHECK(call(inst, "trunc", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == INT32_MIN);
  /* Multi-value: results of a host function and of a Wasm function. */
  a[0] = I64(7);
  CHECK(call(inst, "multi", a, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i64 == 14);
  a[0] = I32(1), a[1] = I32(2);
  CHECK(call(inst, "swap", a, 2, r, 2) == RUSM_WASM_RETURNED && r[0].of.i32 == 2 && r[1].of.i32 == 1);
  /* call_indirect through the table. */
  a[0] = I32(0), a[1] = I32(10);
  CHECK(call(inst, "calli", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 55);
  a[0] = I32(1);
  CHECK(call(inst, "calli", a, 2, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 55);
}

/* Fused compare-and-branch and other merged instructions keep the exact
** semantics (NaN compares are false, so "branch if not less" differs from
** "branch if greater or equal"). */
static void test_fused(rusm_wasm_instance *inst) {
  rusm_wasm_val r, a[3];
  a[0] = F64(1.0), a[1] = F64(2.0);
  CHECK(call(inst, "flt_if", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1);
  a[0] = F64(NAN);
  CHECK(call(inst, "flt_if", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0);
  a[0] = F64(3.0);
  CHECK(call(inst, "flt_if", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0);
  a[0] = F32(2.0f), a[1] = F32(2.0f);
  CHECK(call(inst, "fge_brif", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1);
  a[1] = F32(NAN);
  CHECK(call(inst, "fge_brif", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0);
  a[0] = F64(1.0);
  CHECK(call(inst, "fne_loop", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1);
  a[0] = I64(0x100000000ll), a[1] = I32(7), a[2] = I32(9);
  CHECK(call(inst, "sel_eqz", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 9);
  a[0] = I64(0);
  CHECK(call(inst, "sel_eqz", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 7);
  a[0] = I64(-5);
  CHECK(call(inst, "muladd64", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i64 == -14);
  a[0] = I32(-1), a[1] = I32(5);
  CHECK(call(inst, "add_ret", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 4);
  /* select(a, b, eqz(x & 6)) merged into one instruction. */
  a[0] = I64(0x100000004ll), a[1] = I32(7), a[2] = I32(9);
  CHECK(call(inst, "sel_and", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 9);
  a[0] = I64(0x100000001ll);
  CHECK(call(inst, "sel_and", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 7);
  a[0] = I32(2);
  CHECK(call(inst, "sel_and32", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 9);
  a[0] = I32(9);
  CHECK(call(inst, "sel_and32", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 7);
  /* mem[a + 16] += x * mem[b + 8] (and at b + 24 + 8): offsets honoured. */
  double v[8] = {0, 1.5, 2, 3, 4.25, 5, 6, 7};
  CHECK(rusm_wasm_memory_write(inst, 4096, v, sizeof v));
  a[0] = I32(4096), a[1] = I32(4096 + 16), a[2] = F64(2.0);
  CHECK(call(inst, "axpy", a, 3, NULL, 0) == RUSM_WASM_RETURNED);
  double got = 0;
  CHECK(rusm_wasm_memory_read(inst, 4096 + 16, &got, 8) && got == 2.0 + 2.0 * 3.0);
  CHECK(call(inst, "axpy_si", a, 3, NULL, 0) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_memory_read(inst, 4096 + 16, &got, 8) && got == 8.0 + 2.0 * 6.0);
  a[0] = I32(65528);
  CHECK(trap_of(inst, "axpy", a, 3) == RUSM_WASM_TRAP_OOB_MEMORY);
  /* Constants in a row merged into const2 (in order: the last one wins;
  ** -7 zero-extended as an i32). */
  a[0] = I32(4);
  CHECK(call(inst, "const2", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 29);
  /* local.tee A; local.set B: one instruction writing both locals, even
  ** when they are its own operands; a negative i64 immediate. */
  a[0] = I32(5), a[1] = I32(-3);
  CHECK(call(inst, "tee_set", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 4084);
  a[0] = I64(0x100000000ll);
  CHECK(call(inst, "tee_set64", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i64 == -8589934582ll);
  a[0] = F64(3.0), a[1] = F64(5.0);
  CHECK(call(inst, "tee_setf", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.f64 == 7.5);
  /* x = x + imm then a load at x + off: one ld*_sit writing x and the
  ** loaded value; out of bounds it traps. */
  uint8_t bytes[16] = {0, 1, 0xfe, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x78, 0x56, 0x34, 0x12};
  CHECK(rusm_wasm_memory_write(inst, 8192, bytes, sizeof bytes));
  a[0] = I32(8192);
  CHECK(call(inst, "bump_ld", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0x12345678 + 8200);
  a[0] = I32(65530);
  CHECK(trap_of(inst, "bump_ld", a, 1) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(8193);
  CHECK(call(inst, "bump_ld8", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0xfe + (8192 << 8));
  /* A copy then a branch on a local (backward in a loop; forward around
  ** an if, its condition being the copy's destination). */
  a[0] = I32(4);
  CHECK(call(inst, "mov_brif", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 10);
  a[0] = I32(5), a[1] = I32(0);
  CHECK(call(inst, "mov_if", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0);
  a[0] = I32(0), a[1] = I32(3);
  CHECK(call(inst, "mov_if", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 77);
}

static void test_traps(rusm_wasm_instance *inst) {
  rusm_wasm_val a[2];
  CHECK(trap_of(inst, "unreachable", NULL, 0) == RUSM_WASM_TRAP_UNREACHABLE);
  a[0] = I32(1), a[1] = I32(0);
  CHECK(trap_of(inst, "div_s", a, 2) == RUSM_WASM_TRAP_DIV_BY_ZERO);
  a[0] = I32(INT32_MIN), a[1] = I32(-1);
  CHECK(trap_of(inst, "div_s", a, 2) == RUSM_WASM_TRAP_INT_OVERFLOW);
  a[0] = F64(NAN);
  CHECK(trap_of(inst, "trunc", a, 1) == RUSM_WASM_TRAP_INVALID_CONVERSION);
  a[0] = F64(3e9);
  CHECK(trap_of(inst, "trunc", a, 1) == RUSM_WASM_TRAP_INT_OVERFLOW);
  a[0] = I32(65533);
  CHECK(trap_of(inst, "load", a, 1) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(-1);
  CHECK(trap_of(inst, "load", a, 1) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(65532), a[1] = I32(1);
  CHECK(trap_of(inst, "store", a, 2) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(9), a[1] = I32(0);
  CHECK(trap_of(inst, "calli", a, 2) == RUSM_WASM_TRAP_UNDEFINED_ELEMENT);
  a[0] = I32(3);
  CHECK(trap_of(inst, "calli", a, 2) == RUSM_WASM_TRAP_UNINITIALIZED_ELEMENT);
  a[0] = I32(0);
  CHECK(trap_of(inst, "calli_bad", a, 1) == RUSM_WASM_TRAP_INDIRECT_CALL_TYPE);
  a[0] = I32(0);
  CHECK(trap_of(inst, "recurse", a, 1) == RUSM_WASM_TRAP_STACK_EXHAUSTED);
  /* Bulk fill: bounds are checked before any write. */
  rusm_wasm_val f[3] = {I32(65530), I32(0x55), I32(100)};
  CHECK(trap_of(inst, "fill", f, 3) == RUSM_WASM_TRAP_OOB_MEMORY);
  uint8_t b = 0;
  CHECK(rusm_wasm_memory_read(inst, 65535, &b, 1) && b == 0);
  /* The trap location names the function and an offset in the module. */
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  CHECK(rusm_wasm_exec_call(e, "unreachable", NULL, 0, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED);
  uint32_t func = 0, off = 0;
  CHECK(rusm_wasm_exec_trap(e, &func, &off) == RUSM_WASM_TRAP_UNREACHABLE);
  CHECK(func == 18 && off > 0 && off < sizeof m1_wasm && m1_wasm[off] == 0x00);
  /* A load merged with the add before it reports the load (0x28). */
  rusm_wasm_val li[2] = {I32(65530), I32(0)};
  CHECK(rusm_wasm_exec_call(e, "load_idx", li, 2, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED);
  CHECK(rusm_wasm_exec_trap(e, &func, &off) == RUSM_WASM_TRAP_OOB_MEMORY);
  CHECK(off > 0 && off < sizeof m1_wasm && m1_wasm[off] == 0x28);
  rusm_wasm_exec_free(e);
  CHECK(strcmp(rusm_wasm_trap_message(RUSM_WASM_TRAP_STACK_EXHAUSTED), "call stack exhausted") == 0);
  CHECK(strcmp(rusm_wasm_trap_message(RUSM_WASM_TRAP_DIV_BY_ZERO), "integer divide by zero") == 0);
}

static void test_deep_recursion(rusm_wasm_instance *inst) {
  /* Legitimately deep recursion works (no C stack involved)... */
  rusm_wasm_val a = I32(50000), r;
  CHECK(call(inst, "depth", &a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 50000);
  /* One unit per call, also for the calls that had to grow the stack. */
  uint64_t used[2];
  for (int k = 0; k < 2; k++) {
    rusm_wasm_exec *x = rusm_wasm_exec_new(inst);
    rusm_wasm_error xerr;
    rusm_wasm_val d = I32(k ? 20000 : 10);
    CHECK(rusm_wasm_exec_call(x, "depth", &d, 1, &xerr) == 0);
    CHECK(rusm_wasm_exec_run(x, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
    used[k] = rusm_wasm_exec_fuel_used(x);
    rusm_wasm_exec_free(x);
  }
  CHECK(used[1] - used[0] == 20000 - 10);
  /* ...and the exec is reusable after an exhaustion trap. */
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  a = I32(0);
  CHECK(rusm_wasm_exec_call(e, "recurse", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED);
  CHECK(rusm_wasm_exec_trap(e, NULL, NULL) == RUSM_WASM_TRAP_STACK_EXHAUSTED);
  a = I32(30);
  CHECK(rusm_wasm_exec_call(e, "sum", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 465);
  rusm_wasm_exec_free(e);
}

/* Runs name(arg) in slices of `slice` fuel; returns the result and counts
** the OUT_OF_FUEL stops. */
static int32_t run_sliced(rusm_wasm_instance *inst, const char *name, int32_t arg, uint64_t slice,
                          int *stops, uint64_t *used) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(arg), r = I32(-1);
  *stops = 0;
  CHECK(rusm_wasm_exec_call(e, name, &a, 1, &err) == 0);
  rusm_wasm_status s;
  uint64_t last = 0;
  while ((s = rusm_wasm_exec_run(e, slice)) == RUSM_WASM_OUT_OF_FUEL) {
    (*stops)++;
    CHECK(rusm_wasm_exec_fuel_used(e) > last);
    last = rusm_wasm_exec_fuel_used(e);
    if (*stops > 10000000) break;
  }
  CHECK(s == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1);
  *used = rusm_wasm_exec_fuel_used(e);
  rusm_wasm_exec_free(e);
  return r.of.i32;
}

static void test_fuel(rusm_wasm_instance *inst) {
  int stops;
  uint64_t used, used1;
  /* A loop and a recursion, stopped and resumed every few units, give the
  ** same results as unlimited runs. */
  CHECK(run_sliced(inst, "sum", 1000, RUSM_WASM_FUEL_UNLIMITED, &stops, &used) == 500500 && stops == 0);
  CHECK(used >= 1000);
  CHECK(run_sliced(inst, "sum", 1000, 1, &stops, &used1) == 500500 && stops >= 1000);
  CHECK(run_sliced(inst, "sum", 1000, 7, &stops, &used1) == 500500 && stops >= 100);
  CHECK(run_sliced(inst, "fib", 18, 3, &stops, &used1) == 2584 && stops > 1000);
  CHECK(run_sliced(inst, "fib", 18, 1000, &stops, &used1) == 2584 && stops > 0);
  /* Zero fuel makes no progress but can be resumed. */
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(10), r;
  CHECK(rusm_wasm_exec_call(e, "sum", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, 0) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 55);
  /* An infinite loop always comes back. */
  CHECK(rusm_wasm_exec_call(e, "forever", NULL, 0, &err) == 0);
  for (int i = 0; i < 100; i++) CHECK(rusm_wasm_exec_run(e, 1000) == RUSM_WASM_OUT_OF_FUEL);
  uint64_t before = rusm_wasm_exec_fuel_used(e);
  CHECK(rusm_wasm_exec_run(e, 5000) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_fuel_used(e) - before == 5000);
  /* A new call may be prepared only when the exec is not mid-call. */
  CHECK(rusm_wasm_exec_call(e, "sum", &a, 1, &err) != 0 && err.kind == RUSM_WASM_ERR_ARGS);
  rusm_wasm_exec_free(e);
}

static void test_host(rusm_wasm_instance *inst, host_env *h) {
  rusm_wasm_val a = I32(4), r;
  h->mode = RUSM_WASM_HOST_OK;
  CHECK(call(inst, "host", &a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1040);
  h->mode = RUSM_WASM_HOST_TRAP;
  CHECK(trap_of(inst, "host", &a, 1) == RUSM_WASM_TRAP_HOST);
  /* Suspend: the run returns SUSPENDED; resume supplies the result. */
  h->mode = RUSM_WASM_HOST_SUSPEND;
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  CHECK(rusm_wasm_exec_call(e, "host", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_SUSPENDED);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_SUSPENDED);
  rusm_wasm_val bad = I64(1), good = I32(5);
  CHECK(rusm_wasm_exec_resume(e, &bad, 1) != 0);
  CHECK(rusm_wasm_exec_resume(e, &good, 1) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 1005);
  /* Suspending inside a loop, with fuel stops in between. */
  a = I32(50);
  CHECK(rusm_wasm_exec_call(e, "host_loop", &a, 1, &err) == 0);
  int32_t expect = 0, suspends = 0;
  for (;;) {
    rusm_wasm_status s = rusm_wasm_exec_run(e, 2);
    if (s == RUSM_WASM_OUT_OF_FUEL) continue;
    if (s != RUSM_WASM_SUSPENDED) {
      CHECK(s == RUSM_WASM_RETURNED);
      break;
    }
    suspends++;
    rusm_wasm_val v = I32(suspends * 3);
    expect += suspends * 3;
    CHECK(rusm_wasm_exec_resume(e, &v, 1) == 0);
  }
  CHECK(suspends == 50);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == expect);
  rusm_wasm_exec_free(e);
  /* rusm_wasm_call cannot resume: a suspension is reported as a trap. */
  rusm_wasm_val b = I32(1);
  CHECK(call(inst, "host", &b, 1, &r, 1) == RUSM_WASM_TRAPPED);
  h->mode = RUSM_WASM_HOST_OK;
}

static void test_memory_globals(rusm_wasm_instance *inst) {
  size_t size = 0;
  uint8_t *base = rusm_wasm_memory(inst, &size);
  CHECK(base && size == 65536 && memcmp(base + 16, "hello", 5) == 0);
  CHECK(rusm_wasm_memory_write(inst, 100, "\x01\x02\x03\x04", 4));
  rusm_wasm_val a = I32(100), r;
  CHECK(call(inst, "load", &a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 0x04030201);
  CHECK(!rusm_wasm_memory_write(inst, 65534, "abc", 3));
  CHECK(!rusm_wasm_memory_read(inst, UINT64_MAX, &r, 1));
  a = I32(2);
  CHECK(call(inst, "grow", &a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1);
  rusm_wasm_memory(inst, &size);
  CHECK(size == 3 * 65536);
  a = I32(65536);
  CHECK(call(inst, "grow", &a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == -1);
  CHECK(rusm_wasm_export_global_get(inst, "g", &r) && r.type == RUSM_WASM_I32 && r.of.i32 == 42);
  a = I32(-9);
  CHECK(call(inst, "gset", &a, 1, NULL, 0) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_export_global_get(inst, "g", &r) && r.of.i32 == -9);
  CHECK(!rusm_wasm_export_global_get(inst, "sum", &r));
  rusm_wasm_functype ft;
  CHECK(rusm_wasm_export_func_type(inst, "swap", &ft) && ft.nparams == 2 && ft.nresults == 2 &&
        ft.params[0] == RUSM_WASM_I32 && ft.results[1] == RUSM_WASM_I32);
  CHECK(!rusm_wasm_export_func_type(inst, "nope", &ft));
  /* Wrong arity or types are refused before running. */
  rusm_wasm_error err;
  rusm_wasm_val f = F32(1.0f);
  CHECK(rusm_wasm_call(inst, "sum", &f, 1, &r, 1, &err) == RUSM_WASM_TRAPPED && err.kind == RUSM_WASM_ERR_ARGS);
  CHECK(rusm_wasm_call(inst, "nope", NULL, 0, &r, 1, &err) == RUSM_WASM_TRAPPED && err.kind == RUSM_WASM_ERR_ARGS);
}

static void test_cross_instance(rusm_wasm_module *m2, rusm_wasm_instance *a_inst) {
  rusm_wasm_error err;
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  /* Without the exporter: unknown import. */
  CHECK(rusm_wasm_instantiate(m2, l, &err) == NULL && err.kind == RUSM_WASM_ERR_LINK &&
        strncmp(err.message, "unknown import", 14) == 0);
  CHECK(rusm_wasm_linker_define_instance(l, "a", a_inst) == 0);
  rusm_wasm_instance *b = rusm_wasm_instantiate(m2, l, &err);
  CHECK(b != NULL);
  if (b) {
    /* The memory and the global are shared, not copied. */
    rusm_wasm_val args[2] = {I32(200), I32(77)}, r;
    CHECK(call(b, "poke", args, 2, NULL, 0) == RUSM_WASM_RETURNED);
    uint8_t v = 0;
    CHECK(rusm_wasm_memory_read(a_inst, 200, &v, 1) && v == 77);
    rusm_wasm_val g = I32(1234);
    CHECK(call(a_inst, "gset", &g, 1, NULL, 0) == RUSM_WASM_RETURNED);
    CHECK(call(b, "gget", NULL, 0, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 1234);
    rusm_wasm_val n = I32(15);
    CHECK(call(b, "fib2", &n, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 610);
    rusm_wasm_instance_free(b);
  }
  rusm_wasm_linker_free(l);
  /* A host function of the wrong type: incompatible import. */
  l = rusm_wasm_linker_new();
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32};
  rusm_wasm_functype wrong = {0, 1, NULL, i32};
  CHECK(rusm_wasm_linker_define_func(l, "env", "get", &wrong, host_get, NULL) == 0);
  rusm_wasm_module *m1 = load_module(m1_wasm, sizeof m1_wasm, &err);
  CHECK(m1 && rusm_wasm_instantiate(m1, l, &err) == NULL && err.kind == RUSM_WASM_ERR_LINK &&
        strncmp(err.message, "incompatible import type", 24) == 0);
  rusm_wasm_module_free(m1);
  rusm_wasm_linker_free(l);
}

/* Calls that switch instance at every level (m3 <-> m4), deep enough to
** grow the exec's stacks mid-recursion, also in fuel slices; results past
** the params and locals; runaway recursion across instances. */
static void test_calls(rusm_wasm_module *m3, rusm_wasm_module *m4) {
  rusm_wasm_error err;
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  rusm_wasm_instance *a = rusm_wasm_instantiate(m3, l, &err);
  CHECK(a != NULL);
  if (!a) { rusm_wasm_linker_free(l); return; }
  CHECK(rusm_wasm_linker_define_instance(l, "a", a) == 0);
  rusm_wasm_instance *b = rusm_wasm_instantiate(m4, l, &err);
  CHECK(b != NULL);
  if (b) {
    rusm_wasm_val r[3], n;
    for (int32_t k = 0; k < 6; k++) {
      n = I32(k);
      CHECK(call(b, "pong", &n, 1, r, 1) == RUSM_WASM_RETURNED &&
            r[0].of.i32 == (k + 1) / 2 * 20002 + k / 2 * 1001);
      CHECK(call(a, "ping", &n, 1, r, 1) == RUSM_WASM_RETURNED &&
            r[0].of.i32 == (k + 1) / 2 * 1001 + k / 2 * 20002);
    }
    n = I32(5001);
    int32_t want = 2501 * 20002 + 2500 * 1001;
    CHECK(call(b, "pong", &n, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == want);
    rusm_wasm_exec *e = rusm_wasm_exec_new(b);
    CHECK(rusm_wasm_exec_call(e, "pong", &n, 1, &err) == 0);
    rusm_wasm_status s;
    int stops = 0;
    while ((s = rusm_wasm_exec_run(e, 7)) == RUSM_WASM_OUT_OF_FUEL) stops++;
    CHECK(s == RUSM_WASM_RETURNED && stops > 700);
    CHECK(rusm_wasm_exec_results(e, r, 1) == 1 && r[0].of.i32 == want);
    /* Runaway recursion across instances traps, and the exec is reusable. */
    n = I32(-1);
    CHECK(rusm_wasm_exec_call(e, "pong", &n, 1, &err) == 0);
    CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED);
    CHECK(rusm_wasm_exec_trap(e, NULL, NULL) == RUSM_WASM_TRAP_STACK_EXHAUSTED);
    n = I32(4);
    CHECK(rusm_wasm_exec_call(e, "pong", &n, 1, &err) == 0);
    CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
    CHECK(rusm_wasm_exec_results(e, r, 1) == 1 && r[0].of.i32 == 2 * 21003);
    rusm_wasm_exec_free(e);
    rusm_wasm_instance_free(b);
  }
  /* Three results written over where the call record would be if it
  ** were not placed past them. */
  rusm_wasm_val r[3], n = I32(2);
  CHECK(call(a, "three", NULL, 0, r, 3) == RUSM_WASM_RETURNED && r[0].of.i32 == 5 &&
        r[1].of.i32 == 6 && r[2].of.i32 == 7);
  CHECK(call(a, "three_sum", &n, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 36);
  /* Locals read before being written are zero, whatever the call form. */
  n = I32(5);
  CHECK(call(a, "zeroes", &n, 1, r, 1) == RUSM_WASM_RETURNED && r[0].of.i32 == 5 + 5 + 6);
  rusm_wasm_instance_free(a);
  rusm_wasm_linker_free(l);
}

/* Liveness over locals (compile.c): zeroing on entry only what may be read
** before written, and skipped dead writes, over every kind of edge. */
static void test_liveness(rusm_wasm_module *m5) {
  rusm_wasm_error err;
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m5, NULL, &err);
  CHECK(inst != NULL);
  if (!inst) return;
  static const struct { const char *name; int32_t arg, want; } cases[] = {
      {"if", 0, 0},      {"if", 1, 5},       {"else", 1, 0},     {"else", 0, 5},
      {"brif", 1, 0},    {"brif", 0, 5},     {"brtable", 0, 50}, {"brtable", 1, 1},
      {"brtable", 2, 0}, {"brtable", 9, 0},  {"brtable2", 0, 0}, {"brtable2", 1, 3},
      {"brtable2", 2, 100}, {"brtable2", 5, 100}, {"loop", 1, 0}, {"loop", 4, 3},
      {"loop", 6, 10},   {"exit", 1, 0},     {"exit", 0, 9},     {"dead", 4, 13 + 42},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rusm_wasm_val a = I32(cases[i].arg), r = I32(-1);
    rusm_wasm_status st = call(inst, cases[i].name, &a, 1, &r, 1);
    if (st != RUSM_WASM_RETURNED || r.of.i32 != cases[i].want)
      fprintf(stderr, "liveness case %s(%d) = %d, want %d\n", cases[i].name, cases[i].arg, r.of.i32,
              cases[i].want);
    CHECK(st == RUSM_WASM_RETURNED && r.of.i32 == cases[i].want);
  }
  /* Lazy local + imm addresses: the base written while the address waits
  ** on the stack, or while a local is bound to it; a local bound to itself
  ** plus imm; merged read-modify-writes and axpys at local + imm. */
  rusm_wasm_val a[3], r;
  a[0] = I32(8);
  CHECK(call(inst, "st_tee", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 192);
  a[0] = I32(0);
  CHECK(call(inst, "bind_flush", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 542);
  CHECK(call(inst, "bind_flush2", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 542);
  a[0] = I32(4);
  CHECK(call(inst, "bind_self", a, 1, &r, 1) == RUSM_WASM_RETURNED && r.of.i32 == 84);
  a[0] = I32(1000), a[1] = I32(2000), a[2] = F64(10);
  CHECK(call(inst, "axpy", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.f64 == 32);
  a[1] = I32(2008);
  CHECK(call(inst, "axpy_ld", a, 3, &r, 1) == RUSM_WASM_RETURNED && r.of.f64 == 32);
  a[0] = I32(65530);
  CHECK(trap_of(inst, "axpy_ld", a, 3) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(1000), a[1] = I32(65530);
  CHECK(trap_of(inst, "axpy", a, 3) == RUSM_WASM_TRAP_OOB_MEMORY);
  a[0] = I32(1000), a[1] = F64(10);
  CHECK(call(inst, "rmw", a, 2, &r, 1) == RUSM_WASM_RETURNED && r.of.f64 == 8);
  a[0] = I32(-4);
  CHECK(trap_of(inst, "rmw", a, 2) == RUSM_WASM_TRAP_NONE);
  a[0] = I32(65530);
  CHECK(trap_of(inst, "rmw", a, 2) == RUSM_WASM_TRAP_OOB_MEMORY);
  rusm_wasm_instance_free(inst);
}

/* ---------------------------------------------------------------- sums */

/* A reference of memory 0 (64 KiB) for the m6 functions: loads and
** stores at ((a + b + k) mod 2^32) + off, traps past the end. */
static uint8_t refm[65536];
static bool ref_trap;
static uint64_t ref_ea(uint32_t s, uint32_t k, uint32_t off, uint32_t n) {
  uint64_t ea = (uint64_t)(uint32_t)(s + k) + off;
  if (ea + n > sizeof refm) ref_trap = true;
  return ea;
}
static int64_t ref_ld(uint32_t s, uint32_t k, uint32_t off, uint32_t n, bool sgn) {
  uint64_t ea = ref_ea(s, k, off, n), v = 0;
  if (ref_trap || ea > sizeof refm - n) return 0;
  memcpy(&v, refm + ea, n); /* little-endian, as Wasm */
  if (sgn && n < 8 && (v >> (8 * n - 1) & 1)) v |= ~(uint64_t)0 << (8 * n);
  return (int64_t)v;
}
static void ref_st(uint32_t s, uint32_t k, uint32_t off, uint32_t n, uint64_t v) {
  uint64_t ea = ref_ea(s, k, off, n);
  if (!ref_trap && ea <= sizeof refm - n) memcpy(refm + ea, &v, n);
}
static double ref_f64(uint64_t ea) { double d; memcpy(&d, refm + ea, 8); return d; }
/* mem[ea] = x * mem[eb] + mem[ea], loads first. */
static void ref_axpy(uint32_t sa, uint32_t ka, uint32_t offa, uint32_t sb, uint32_t kb, uint32_t offb, double x) {
  uint64_t eb = ref_ea(sb, kb, offb, 8), ea = ref_ea(sa, ka, offa, 8);
  if (ref_trap || ea > sizeof refm - 8 || eb > sizeof refm - 8) return;
  double p = x * ref_f64(eb) + ref_f64(ea);
  memcpy(refm + ea, &p, 8);
}
/* Fills memory and the reference with bytes, or with f64 values. */
static void sums_fill(rusm_wasm_instance *inst, bool f64) {
  for (uint32_t i = 0; i < sizeof refm; i += 8) {
    uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15u;
    double d = (double)(i % 1000) * 0.25 - 100;
    if (f64) memcpy(&v, &d, 8);
    memcpy(refm + i, &v, 8);
  }
  CHECK(rusm_wasm_memory_write(inst, 0, refm, sizeof refm));
}
static bool sums_same(rusm_wasm_instance *inst) {
  static uint8_t m[65536];
  return rusm_wasm_memory_read(inst, 0, m, sizeof m) && memcmp(m, refm, sizeof m) == 0;
}
/* Runs name(args) and checks its result (i64, if want_r) or its trap
** against the reference's, and memory against the reference. */
static void sums_check(rusm_wasm_instance *inst, const char *name, rusm_wasm_val *a, size_t n,
                       bool want_r, int64_t want) {
  rusm_wasm_trap t = trap_of(inst, name, a, n);
  bool ok = t == (ref_trap ? RUSM_WASM_TRAP_OOB_MEMORY : RUSM_WASM_TRAP_NONE);
  if (ok && !ref_trap && want_r) {
    rusm_wasm_val r;
    ok = call(inst, name, a, n, &r, 1) == RUSM_WASM_RETURNED && r.of.i64 == want;
  }
  ok = ok && sums_same(inst);
  if (!ok) fprintf(stderr, "sums case %s(%d, %d) wrong\n", name, a[0].of.i32, a[1].of.i32);
  CHECK(ok);
}

static void test_sums(rusm_wasm_module *m) {
  rusm_wasm_error err;
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m, NULL, &err);
  CHECK(inst != NULL);
  if (!inst) return;
  rusm_wasm_val a[4];
  /* Loads of every width at a + b + k: plain, a + b wrapping, out of
  ** bounds (also by the wrapped sum's offset). */
  static const int32_t lds[][2] = {{100, 23}, {-16, 40}, {40, -16}, {-1, 1}, {65520, 0},
                                   {65530, 0}, {0x7fffffff, 0x7fffffff}, {-8, 0}};
  sums_fill(inst, false);
  for (size_t i = 0; i < sizeof lds / sizeof lds[0]; i++) {
    uint32_t s = (uint32_t)lds[i][0] + (uint32_t)lds[i][1];
    ref_trap = false;
    int64_t acc = ref_ld(s, 0, 5, 4, false);
    static const struct { uint32_t k, off, n; bool sgn; } l[] = {
        {3, 1, 4, 0}, {5, 2, 8, 0}, {7, 1, 1, 1}, {2, 3, 1, 0}, {4, 1, 2, 1},
        {6, 2, 2, 0}, {1, 4, 1, 1}, {9, 1, 2, 1}, {8, 2, 4, 1}};
    for (size_t j = 0; j < sizeof l / sizeof l[0]; j++)
      acc = (int64_t)((uint64_t)acc * 31 + (uint64_t)ref_ld(s, l[j].k, l[j].off, l[j].n, l[j].sgn));
    a[0] = I32(lds[i][0]), a[1] = I32(lds[i][1]);
    sums_check(inst, "lds", a, 2, true, acc);
  }
  /* Stores of every width at a + b + k (a trap keeps the earlier ones). */
  static const int32_t sts[][2] = {{1000, 24}, {-24, 1048}, {1048, -24}, {65470, 0}, {65480, 0},
                                   {65490, 0}, {65520, 0}, {-4, 0}};
  for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
    uint32_t s = (uint32_t)sts[i][0] + (uint32_t)sts[i][1];
    uint64_t v = 0x0123456789abcdefu + i;
    ref_trap = false;
    ref_st(s, 0, 40, 8, v);
    ref_st(s, 1, 0, 1, v);
    ref_st(s, 3, 1, 2, v);
    ref_st(s, 9, 2, 4, v);
    ref_st(s, 17, 3, 8, v);
    ref_st(s, 30, 0, 1, 0x55);
    uint64_t w = (uint64_t)ref_ld(s, 0, 50, 8, false);
    ref_st(s, 48, 1, 8, w);
    a[0] = I32(sts[i][0]), a[1] = I32(sts[i][1]), a[2] = I64((int64_t)v);
    sums_check(inst, "sts", a, 3, false, 0);
  }
  /* a + b + k wrapping, for a store and a load. */
  static const int32_t kw[][2] = {{100, 0}, {-8, 0}, {0, -12}, {65520, 0}, {-20, 0}};
  for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
    uint32_t s = (uint32_t)kw[i][0] + (uint32_t)kw[i][1];
    uint64_t v = 0xfedcba9876543210u - i;
    ref_trap = false;
    ref_st(s, 16, 1, 8, v);
    int64_t want = ref_ld(s, 12, 2, 8, false);
    a[0] = I32(kw[i][0]), a[1] = I32(kw[i][1]), a[2] = I64((int64_t)v);
    sums_check(inst, "kwrap", a, 3, true, want);
  }
  /* matmul's axpys at sums of locals: a + c and b + c wrapping, out of
  ** bounds in either load, in the second element only. */
  static const int32_t ax[][3] = {{1000, 2000, 16}, {-16, 2032, 1032}, {1000, -8, 8},  {1003, 2005, 0},
                                  {65528, 0, 0},    {1000, 65530, 0},   {-24, 2000, 8}, {-16, 2000, 0},
                                  {-24, 2000, 0},   {1000, 65504, 0}};
  sums_fill(inst, true);
  for (size_t i = 0; i < sizeof ax / sizeof ax[0]; i++) {
    uint32_t sa = (uint32_t)ax[i][0] + (uint32_t)ax[i][2], sb = (uint32_t)ax[i][1] + (uint32_t)ax[i][2];
    double x = 1.5 + (double)i;
    a[0] = I32(ax[i][0]), a[1] = I32(ax[i][1]), a[2] = I32(ax[i][2]), a[3] = F64(x);
    ref_trap = false;
    ref_axpy(sa, 0, 0, sb, 0, 0, x);
    ref_axpy(sa, 8, 0, sb, 8, 0, x);
    sums_check(inst, "axpy", a, 4, false, 0);
    ref_trap = false;
    ref_axpy(sa, 16, 8, sb, 16, 16, x);
    sums_check(inst, "axpy_k", a, 4, false, 0);
  }
  /* (x * y) * z subtracted from mem[p + 8], added to mem[q + 16 + 8]
  ** (wrapping; out of bounds either, also by the offset past 2^32). */
  static const int32_t mm[][2] = {{1000, 2000}, {1001, -16}, {-8, 3000}, {65530, 3000}, {3000, 65520}, {3000, -20}};
  for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) {
    double x = 1.5, y = 2.25 + (double)i, z = -3;
    a[0] = I32(mm[i][0]), a[1] = I32(mm[i][1]), a[2] = F64(x), a[3] = F64(y);
    rusm_wasm_val args[5] = {a[0], a[1], a[2], a[3], F64(z)};
    ref_trap = false;
    uint64_t ea = (uint64_t)(uint32_t)mm[i][0] + 8;
    if (ea > sizeof refm - 8) ref_trap = true;
    else {
      double d = ref_f64(ea) - x * y * z;
      memcpy(refm + ea, &d, 8);
    }
    ea = ref_ea((uint32_t)mm[i][1], 16, 8, 8);
    if (!ref_trap && ea <= sizeof refm - 8) {
      double d = x * y * z + ref_f64(ea);
      memcpy(refm + ea, &d, 8);
    }
    sums_check(inst, "mm", args, 5, false, 0);
  }
  /* x * y - x, y - x * y stored (out of bounds, past 2^32 by the offset);
  ** x * sqrt(y), sqrt(x) * y. */
  static const int32_t ms[] = {1000, 1003, 65530, 65516, 65512, -8};
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
    double x = 2.5 + (double)i, y = 7.25;
    double r[4] = {x * y - x, y - x * y, x * sqrt(y), sqrt(x) * y};
    ref_trap = false;
    for (int j = 0; j < 4; j++) {
      uint64_t ea = ref_ea((uint32_t)ms[i], 0, 8 * (uint32_t)(j + 1), 8);
      if (ref_trap || ea > sizeof refm - 8) break;
      memcpy(refm + ea, &r[j], 8);
    }
    rusm_wasm_val args[3] = {I32(ms[i]), F64(x), F64(y)};
    sums_check(inst, "msq", args, 3, false, 0);
  }
  rusm_wasm_instance_free(inst);
}

/* Loads merged with the add into a local before them (ld*_sha): the
** loaded value and the local, over wrapping addresses and indexes, a load
** at the index the add has just written, and a trap at the load. */
static void test_fetch(void) {
  rusm_wasm_error err;
  rusm_wasm_module *m = load_module(m8_wasm, sizeof m8_wasm, &err);
  rusm_wasm_instance *inst = m ? rusm_wasm_instantiate(m, NULL, &err) : NULL;
  CHECK(inst != NULL);
  if (!inst) {
    rusm_wasm_module_free(m);
    return;
  }
  uint8_t mem[65536 + 8] = {0};
  static const uint8_t data[16] = {1, 2, 3, 4, 0x85, 0x86, 0x87, 0x88, 9, 10, 11, 12, 0x8d, 0x8e, 0x8f, 0x90};
  memcpy(mem + 16, data, sizeof data);
  static const uint32_t pcs[] = {0, 1, 2, 3, 5, 16379, 0x40000000u, 0x40000001u, 0xffffffffu};
  for (size_t i = 0; i < sizeof pcs / sizeof pcs[0]; i++) {
    uint32_t pc = pcs[i], ea;
    rusm_wasm_val a = I32((int32_t)pc), r = I32(-1);
    uint32_t w32;
    ea = (pc << 2) + 16;
    memcpy(&w32, mem + ea, 4);
    CHECK(call(inst, "fetch", &a, 1, &r, 1) == RUSM_WASM_RETURNED && (uint32_t)r.of.i32 == w32 + (pc + 1) * 1000);
    int16_t w16 = 0;
    ea = ((pc - 1) << 1) + 16;
    bool in = (uint64_t)ea + 3 <= 65536;
    if (in) memcpy(&w16, mem + (uint64_t)ea + 1, 2);
    rusm_wasm_status st = call(inst, "fetch_self", &a, 1, &r, 1);
    if (in) CHECK(st == RUSM_WASM_RETURNED && (uint32_t)r.of.i32 == (uint32_t)(int32_t)w16 + (pc - 1) * 1000);
    else CHECK(st == RUSM_WASM_TRAPPED);
    uint64_t w64 = 0;
    ea = (pc << 3) + 12;
    in = (uint64_t)ea + 12 <= 65536;
    if (in) memcpy(&w64, mem + (uint64_t)ea + 4, 8);
    st = call(inst, "fetch64", &a, 1, &r, 1);
    if (in) CHECK(st == RUSM_WASM_RETURNED && (uint64_t)r.of.i64 == w64 + (uint32_t)(pc + 3));
    else CHECK(st == RUSM_WASM_TRAPPED);
    ea = pc + 16;
    if (ea < 65536)
      CHECK(call(inst, "fetch8", &a, 1, &r, 1) == RUSM_WASM_RETURNED &&
            (uint32_t)r.of.i32 == (uint32_t)(int8_t)mem[ea] - (pc + 1));
    else CHECK(trap_of(inst, "fetch8", &a, 1) == RUSM_WASM_TRAP_OOB_MEMORY);
  }
  /* Out of bounds: the trap names the load (0x28). */
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_val a = I32(16380);
  uint32_t func = 0, off = 0;
  CHECK(rusm_wasm_exec_call(e, "fetch", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED);
  CHECK(rusm_wasm_exec_trap(e, &func, &off) == RUSM_WASM_TRAP_OOB_MEMORY);
  CHECK(func == 0 && off > 0 && off < sizeof m8_wasm && m8_wasm[off] == 0x28);
  rusm_wasm_exec_free(e);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

/* Masks of narrow loads (m9): each case against C. */
static void test_narrow(void) {
  rusm_wasm_error err;
  rusm_wasm_module *m = load_module(m9_wasm, sizeof m9_wasm, &err);
  rusm_wasm_instance *inst = m ? rusm_wasm_instantiate(m, NULL, &err) : NULL;
  CHECK(inst != NULL);
  if (!inst) {
    rusm_wasm_module_free(m);
    return;
  }
  static const uint8_t b[16] = {0xfe, 0xff, 0x80, 0x7f, 1, 2, 3, 4};
  static const uint32_t ps[] = {0, 1, 2, 3, 4, 6};
  static const uint32_t qs[] = {0, 1, 0x100};
  for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
    for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
      uint32_t p = ps[i], q = qs[j], x8 = b[p], x16 = b[p] | (uint32_t)b[p + 1] << 8, x32;
      memcpy(&x32, b + p, 4);
      struct { const char *f; uint32_t want; } cs[] = {
          {"n8", (x8 & 255) + (x8 & 0x7f) * 1000 + x8 * 1000000 + (b[p + 1] & 0x3fu) * 0x10000000u},
          {"n16", x16 + (x16 & 0xff) * 100000},
          {"nif", (q ? x8 : x32) & 0xffff},
          {"nelse", q ? x8 : x32 & 0xffff},
          {"nset", (x8 + q) & 0xff},
          {"ncopy", (q + x8) & 0xff},
          {"n64", x8 + x8 * 1000},
      };
      for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        rusm_wasm_val a[2] = {I32((int32_t)p), I32((int32_t)q)}, r = I32(-1);
        rusm_wasm_status st = call(inst, cs[k].f, a, 2, &r, 1);
        if (st != RUSM_WASM_RETURNED || (uint32_t)r.of.i32 != cs[k].want)
          fprintf(stderr, "narrow %s(%u, %u) = %u, want %u\n", cs[k].f, p, q, (uint32_t)r.of.i32, cs[k].want);
        CHECK(st == RUSM_WASM_RETURNED && (uint32_t)r.of.i32 == cs[k].want);
      }
    }
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "compiled") == 0) tier = RUSM_WASM_TIER_COMPILED;
  rusm_wasm_error err;
  rusm_wasm_module *m1 = load_module(m1_wasm, sizeof m1_wasm, &err);
  rusm_wasm_module *m2 = load_module(m2_wasm, sizeof m2_wasm, &err);
  rusm_wasm_module *m5 = load_module(m5_wasm, sizeof m5_wasm, &err);
  if (!m1 || !m2 || !m5) {
    fprintf(stderr, "load failed: %s\n", err.message);
    return 1;
  }
  host_env h = {0, RUSM_WASM_HOST_OK};
  rusm_wasm_linker *l = make_linker(&h);
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m1, l, &err);
  if (!inst) {
    fprintf(stderr, "instantiate failed: %s\n", err.message);
    return 1;
  }
  test_arith(inst);
  test_fused(inst);
  test_traps(inst);
  test_deep_recursion(inst);
  test_fuel(inst);
  test_host(inst, &h);
  test_memory_globals(inst);
  test_cross_instance(m2, inst);
  rusm_wasm_module *m3 = load_module(m3_wasm, sizeof m3_wasm, &err);
  rusm_wasm_module *m4 = load_module(m4_wasm, sizeof m4_wasm, &err);
  CHECK(m3 && m4);
  if (m3 && m4) test_calls(m3, m4);
  rusm_wasm_module_free(m3);
  rusm_wasm_module_free(m4);
  test_liveness(m5);
  rusm_wasm_module *m6 = load_module(m6_wasm, sizeof m6_wasm, &err);
  CHECK(m6 != NULL);
  if (m6) test_sums(m6);
  rusm_wasm_module_free(m6);
  test_fetch();
  test_narrow();
  /* A second instance of the same module shares the translation but not
  ** the state. */
  rusm_wasm_instance *inst2 = rusm_wasm_instantiate(m1, l, &err);
  CHECK(inst2 != NULL);
  if (inst2) {
    rusm_wasm_val r;
    CHECK(rusm_wasm_export_global_get(inst2, "g", &r) && r.of.i32 == 42);
    rusm_wasm_instance_free(inst2);
  }
  rusm_wasm_instance_free(inst);
  rusm_wasm_linker_free(l);
  rusm_wasm_module_free(m1);
  rusm_wasm_module_free(m2);
  rusm_wasm_module_free(m5);
  if (failures) {
    fprintf(stderr, "test_exec: %d failures\n", failures);
    return 1;
  }
  printf("test_exec: ok\n");
  return 0;
}
