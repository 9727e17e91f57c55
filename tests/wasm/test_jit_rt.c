/*
** test_jit_rt.c -- the compiled tier's runtime (jit_rt.c, coro.c) with
** hand-written C functions standing in for compiled code: they follow the
** ABI of jit.h (fuel local, stack check, helpers) and are installed on the
** function instances of an instantiated module ("comp") by hand.
**
** Covered: interpreted code calling "compiled" code that calls a host
** function which suspends, then resume; "compiled" loops running out of
** fuel and resumed many times with tiny budgets, fuel_used exact; compiled
** code calling interpreted code (a sub exec) that runs out of fuel and
** suspends; traps from compiled code, from a host and from a sub exec,
** with kinds and locations, and the exec reused afterwards; runaway
** recursion in compiled code and between the tiers trapping with "call
** stack exhausted"; multi-value results; memory growth seen by the
** interpreter after a compiled call; a host function running other execs
** (with their own coroutines) from inside compiled code; two execs
** alternating on one instance; a paused exec moved to another thread; an
** exec freed while paused on its coroutine; coroutines lent per call from
** the module's pool.
*/
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "wasm_check.h"

#include "jit.h"
#include "rt.h"


/* ---------------------------------------------------------------- modules
** Assembled with wabt's wat2wasm.
**
** interp:
** (module
**   (import "env" "susp" (func $susp (param i32) (result i32)))
**   (func (export "spin_then_host") (param $n i32) (result i32)
**     (local $i i32)
**     (loop $l
**       (local.set $i (i32.add (local.get $i) (i32.const 1)))
**       (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
**     (i32.add (call $susp (local.get $i)) (i32.const 7)))
**   (func (export "div") (param i32 i32) (result i32)
**     (i32.div_s (local.get 0) (local.get 1))))
**
** comp (every defined function is replaced by a C stand-in below):
** (module
**   (import "env" "susp" (func (param i32) (result i32)))
**   (import "interp" "spin_then_host" (func (param i32) (result i32)))
**   (import "interp" "div" (func (param i32 i32) (result i32)))
**   (import "env" "nest" (func (param i32) (result i32)))
**   (memory (export "mem") 1)
**   (func (export "host1") (param i32) (result i32) unreachable)
**   (func (export "spin") (param i32) (result i32) unreachable)
**   (func (export "to_interp") (param i32) (result i32) unreachable)
**   (func (export "trap") (param i32) (result i32) unreachable)
**   (func (export "div") (param i32 i32) (result i32) unreachable)
**   (func (export "rec") (param i32) (result i32) unreachable)
**   (func (export "nest") (param i32) (result i32) unreachable)
**   (func (export "pair") (param i32) (result i32 i32) unreachable)
**   (func (export "grow") (param i32) (result i32) unreachable)
**   (func (export "mutual") (param i32) (result i32) unreachable))
**
** top:
** (module
**   (import "comp" "host1" (func $host1 (param i32) (result i32)))
**   (import "comp" "spin" (func $spin (param i32) (result i32)))
**   (import "comp" "to_interp" (func $ti (param i32) (result i32)))
**   (import "comp" "trap" (func $trap (param i32) (result i32)))
**   (import "comp" "div" (func $div (param i32 i32) (result i32)))
**   (import "comp" "rec" (func $rec (param i32) (result i32)))
**   (import "comp" "nest" (func $nest (param i32) (result i32)))
**   (import "comp" "pair" (func $pair (param i32) (result i32 i32)))
**   (import "comp" "grow" (func $grow (param i32) (result i32)))
**   (import "comp" "mutual" (func $mutual (param i32) (result i32)))
**   (import "comp" "mem" (memory 1))
**   (func (export "host1") (param i32) (result i32)
**     (i32.add (call $host1 (local.get 0)) (i32.const 1000)))
**   (func (export "spin") (param i32) (result i32) (call $spin (local.get 0)))
**   (func (export "to_interp") (param i32) (result i32)
**     (i32.add (call $ti (local.get 0)) (i32.const 1)))
**   (func (export "trap") (param i32) (result i32) (call $trap (local.get 0)))
**   (func (export "div") (param i32 i32) (result i32) (call $div (local.get 0) (local.get 1)))
**   (func (export "rec") (param i32) (result i32) (call $rec (local.get 0)))
**   (func (export "nest") (param i32) (result i32) (call $nest (local.get 0)))
**   (func (export "pair") (param i32) (result i32)
**     (i32.sub (call $pair (local.get 0))))
**   (func (export "grow_load") (param i32) (result i32)
**     (drop (call $grow (local.get 0)))
**     (i32.store (i32.const 70000) (i32.const 5))
**     (i32.load (i32.const 70000)))
**   (func (export "bounce") (param i32) (result i32)
**     (call $mutual (i32.add (local.get 0) (i32.const 1))))
**   (func (export "loop_host1") (param $n i32) (result i32)
**     (local $acc i32)
**     (loop $l
**       (local.set $acc (i32.add (local.get $acc) (call $host1 (local.get $n))))
**       (local.set $n (i32.sub (local.get $n) (i32.const 1)))
**       (br_if $l (local.get $n)))
**     (local.get $acc)))
*/
static const uint8_t interp_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x73, 0x75,
    0x73, 0x70, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x01, 0x07, 0x18, 0x02, 0x0e, 0x73, 0x70, 0x69,
    0x6e, 0x5f, 0x74, 0x68, 0x65, 0x6e, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x01, 0x03, 0x64, 0x69,
    0x76, 0x00, 0x02, 0x0a, 0x26, 0x02, 0x1c, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x41, 0x01,
    0x6a, 0x21, 0x01, 0x20, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x10, 0x00, 0x41,
    0x07, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b,
};
static const uint8_t comp_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x02, 0x7f, 0x7f, 0x02, 0x3c, 0x04, 0x03,
    0x65, 0x6e, 0x76, 0x04, 0x73, 0x75, 0x73, 0x70, 0x00, 0x00, 0x06, 0x69, 0x6e, 0x74, 0x65, 0x72,
    0x70, 0x0e, 0x73, 0x70, 0x69, 0x6e, 0x5f, 0x74, 0x68, 0x65, 0x6e, 0x5f, 0x68, 0x6f, 0x73, 0x74,
    0x00, 0x00, 0x06, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70, 0x03, 0x64, 0x69, 0x76, 0x00, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x04, 0x6e, 0x65, 0x73, 0x74, 0x00, 0x00, 0x03, 0x0b, 0x0a, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x53, 0x0b, 0x03,
    0x6d, 0x65, 0x6d, 0x02, 0x00, 0x05, 0x68, 0x6f, 0x73, 0x74, 0x31, 0x00, 0x04, 0x04, 0x73, 0x70,
    0x69, 0x6e, 0x00, 0x05, 0x09, 0x74, 0x6f, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70, 0x00, 0x06,
    0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x07, 0x03, 0x64, 0x69, 0x76, 0x00, 0x08, 0x03, 0x72, 0x65,
    0x63, 0x00, 0x09, 0x04, 0x6e, 0x65, 0x73, 0x74, 0x00, 0x0a, 0x04, 0x70, 0x61, 0x69, 0x72, 0x00,
    0x0b, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x0c, 0x06, 0x6d, 0x75, 0x74, 0x75, 0x61, 0x6c, 0x00,
    0x0d, 0x0a, 0x29, 0x0a, 0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b,
    0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b,
    0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b,
};
static const uint8_t top_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x02, 0x7f, 0x7f, 0x02, 0x8b, 0x01, 0x0b,
    0x04, 0x63, 0x6f, 0x6d, 0x70, 0x05, 0x68, 0x6f, 0x73, 0x74, 0x31, 0x00, 0x00, 0x04, 0x63, 0x6f,
    0x6d, 0x70, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x00, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x09, 0x74,
    0x6f, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70, 0x00, 0x00, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x04,
    0x74, 0x72, 0x61, 0x70, 0x00, 0x00, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x03, 0x64, 0x69, 0x76, 0x00,
    0x01, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x03, 0x72, 0x65, 0x63, 0x00, 0x00, 0x04, 0x63, 0x6f, 0x6d,
    0x70, 0x04, 0x6e, 0x65, 0x73, 0x74, 0x00, 0x00, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x04, 0x70, 0x61,
    0x69, 0x72, 0x00, 0x02, 0x04, 0x63, 0x6f, 0x6d, 0x70, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
    0x04, 0x63, 0x6f, 0x6d, 0x70, 0x06, 0x6d, 0x75, 0x74, 0x75, 0x61, 0x6c, 0x00, 0x00, 0x04, 0x63,
    0x6f, 0x6d, 0x70, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x0c, 0x0b, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x5f, 0x0b, 0x05, 0x68, 0x6f, 0x73, 0x74,
    0x31, 0x00, 0x0a, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x0b, 0x09, 0x74, 0x6f, 0x5f, 0x69, 0x6e,
    0x74, 0x65, 0x72, 0x70, 0x00, 0x0c, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x0d, 0x03, 0x64, 0x69,
    0x76, 0x00, 0x0e, 0x03, 0x72, 0x65, 0x63, 0x00, 0x0f, 0x04, 0x6e, 0x65, 0x73, 0x74, 0x00, 0x10,
    0x04, 0x70, 0x61, 0x69, 0x72, 0x00, 0x11, 0x09, 0x67, 0x72, 0x6f, 0x77, 0x5f, 0x6c, 0x6f, 0x61,
    0x64, 0x00, 0x12, 0x06, 0x62, 0x6f, 0x75, 0x6e, 0x63, 0x65, 0x00, 0x13, 0x0a, 0x6c, 0x6f, 0x6f,
    0x70, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x31, 0x00, 0x14, 0x0a, 0x83, 0x01, 0x0b, 0x0a, 0x00, 0x20,
    0x00, 0x10, 0x00, 0x41, 0xe8, 0x07, 0x6a, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x01, 0x0b, 0x09,
    0x00, 0x20, 0x00, 0x10, 0x02, 0x41, 0x01, 0x6a, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x03, 0x0b,
    0x08, 0x00, 0x20, 0x00, 0x20, 0x01, 0x10, 0x04, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x05, 0x0b,
    0x06, 0x00, 0x20, 0x00, 0x10, 0x06, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x10, 0x07, 0x6b, 0x0b, 0x17,
    0x00, 0x20, 0x00, 0x10, 0x08, 0x1a, 0x41, 0xf0, 0xa2, 0x04, 0x41, 0x05, 0x36, 0x02, 0x00, 0x41,
    0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x09,
    0x0b, 0x1d, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x10, 0x00, 0x6a, 0x21, 0x01,
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b,
};

/* ---------------------------------------------------------------- hosts */

/* env.susp(x): x * 10, or a suspension, or a trap. */
static rusm_wasm_host_status susp_mode = RUSM_WASM_HOST_OK;
static int susp_calls;
static rusm_wasm_host_status host_susp(void *env, rusm_wasm_instance *caller,
                                       const rusm_wasm_val *args, rusm_wasm_val *results) {
  (void)env;
  (void)caller;
  susp_calls++;
  if (susp_mode != RUSM_WASM_HOST_OK) return susp_mode;
  results[0] = I32(args[0].of.i32 * 10);
  return RUSM_WASM_HOST_OK;
}

static rusm_wasm_instance *g_interp, *g_comp, *g_top;
static const wfuncinst *g_bounce;   /* top's "bounce", for comp's "mutual" */

/* Runs e to the end in slices of `slice` fuel, resuming every suspension
** with resume_base + (number of suspensions so far). */
static rusm_wasm_status drive(rusm_wasm_exec *e, uint64_t slice, int32_t resume_base, int *stops,
                              int *suspensions) {
  rusm_wasm_status s;
  int st = 0, su = 0;
  for (;;) {
    s = rusm_wasm_exec_run(e, slice);
    if (s == RUSM_WASM_OUT_OF_FUEL) {
      if (++st > 50000000) break;
      continue;
    }
    if (s != RUSM_WASM_SUSPENDED) break;
    rusm_wasm_val v = I32(resume_base + su++);
    if (rusm_wasm_exec_resume(e, &v, 1) != 0) break;
  }
  if (stops) *stops = st;
  if (suspensions) *suspensions = su;
  return s;
}

/* Calls name(args) on e and drives it; returns the status, result in *r. */
static rusm_wasm_status call_on(rusm_wasm_exec *e, const char *name, const rusm_wasm_val *args,
                                size_t n, uint64_t slice, int32_t resume_base, int32_t *r,
                                int *stops, int *suspensions) {
  rusm_wasm_error err;
  if (rusm_wasm_exec_call(e, name, args, n, &err) != 0) {
    fprintf(stderr, "exec_call %s: %s\n", name, err.message);
    return RUSM_WASM_TRAPPED;
  }
  rusm_wasm_status s = drive(e, slice, resume_base, stops, suspensions);
  rusm_wasm_val v = I32(0);
  if (s == RUSM_WASM_RETURNED) CHECK(rusm_wasm_exec_results(e, &v, 1) == 1);
  if (r) *r = v.of.i32;
  return s;
}

/* env.nest(x): from inside compiled code, runs execs of its own on "top":
** host1(x) which suspends (resumed with 5: 1006), then spin(x) in slices
** of 3 fuel; returns the sum of the results.  Also one that traps in
** compiled code and one left paused there and freed; and it may not run
** the exec it was called from (g_outer). */
static rusm_wasm_exec *g_outer;
static rusm_wasm_host_status host_nest(void *env, rusm_wasm_instance *caller,
                                       const rusm_wasm_val *args, rusm_wasm_val *results) {
  (void)env;
  (void)caller;
  rusm_wasm_error err;
  if (g_outer) {
    if (rusm_wasm_exec_run(g_outer, 1) != RUSM_WASM_TRAPPED) return RUSM_WASM_HOST_TRAP;
    if (rusm_wasm_exec_call(g_outer, "spin", args, 1, &err) == 0) return RUSM_WASM_HOST_TRAP;
  }
  rusm_wasm_exec *t = rusm_wasm_exec_new(g_top);
  rusm_wasm_val z = I32(0);
  uint32_t tf = 0;
  bool trapped = rusm_wasm_exec_call(t, "trap", &z, 1, &err) == 0 &&
                 rusm_wasm_exec_run(t, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED &&
                 rusm_wasm_exec_trap(t, &tf, NULL) == RUSM_WASM_TRAP_DIV_BY_ZERO && tf == 7;
  bool paused = rusm_wasm_exec_call(t, "spin", args, 1, &err) == 0 &&
                rusm_wasm_exec_run(t, 4) == RUSM_WASM_OUT_OF_FUEL;
  rusm_wasm_exec_free(t);
  if (!trapped || !paused) return RUSM_WASM_HOST_TRAP;
  rusm_wasm_host_status saved = susp_mode;
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  rusm_wasm_exec *a = rusm_wasm_exec_new(g_top), *b = rusm_wasm_exec_new(g_top);
  int32_t r1 = 0, r2 = 0;
  int stops = 0, sus = 0;
  rusm_wasm_status s1 = call_on(a, "host1", args, 1, RUSM_WASM_FUEL_UNLIMITED, 5, &r1, NULL, &sus);
  susp_mode = saved;
  rusm_wasm_status s2 = call_on(b, "spin", args, 1, 3, 0, &r2, &stops, NULL);
  rusm_wasm_exec_free(a);
  rusm_wasm_exec_free(b);
  if (s1 != RUSM_WASM_RETURNED || s2 != RUSM_WASM_RETURNED || sus != 1 || stops < 1)
    return RUSM_WASM_HOST_TRAP;
  results[0] = I32(r1 + r2);
  return RUSM_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- "compiled" code
** Stand-ins for what the emitter generates: the fuel local loaded on
** entry and after calls, stored before calls, helpers and returns; one
** unit on entry and per loop iteration; the stack check on entry; traps
** with (function index, offset).  Offsets are made up: OFF(f, k). */

#define OFF(f, k) (0x1000u + (f) * 16u + (k))
#define WHERE(f, k) ((uint64_t)(f) << 32 | OFF(f, k))

#define JENTER(f)                                                              \
  int64_t fuel = root->fuel_left;                                              \
  if ((uintptr_t)__builtin_frame_address(0) < root->stack_limit)              \
    wasm_jit_trap(root, RUSM_WASM_TRAP_STACK_EXHAUSTED, (f), OFF(f, 0));       \
  JCHARGE()
#define JCHARGE() do { if (--fuel < 0) fuel = wasm_jit_out_of_fuel(root); } while (0)
#define JSLOW(fi, s, f, k)                                                     \
  do {                                                                         \
    root->fuel_left = fuel;                                                    \
    wasm_jit_call_slow(root, inst, (fi), (s), WHERE(f, k));                    \
    fuel = root->fuel_left;                                                    \
  } while (0)
#define JRET(v) do { root->fuel_left = fuel; return (v); } while (0)

typedef rusm_wasm_exec X;
typedef rusm_wasm_instance N;

/* Calls a one-param, one-result function through call_slow. */
#define SLOW1(f, k, fi, x, out)                                                \
  do {                                                                         \
    wslot s_[1];                                                               \
    s_[0].u64 = (uint32_t)(x);                                                 \
    JSLOW(fi, s_, f, k);                                                       \
    (out) = s_[0].i32;                                                         \
  } while (0)

/* 4 host1(x) = susp(x) + 1 */
static int32_t c_host1(X *root, N *inst, int32_t x) {
  JENTER(4);
  int32_t r;
  SLOW1(4, 1, inst->funcs[0], x, r);
  JRET(r + 1);
}
/* 5 spin(n) = 0 + 1 + ... + n-1, one unit per iteration */
static int32_t c_spin(X *root, N *inst, int32_t n) {
  (void)inst;
  JENTER(5);
  int32_t sum = 0;
  for (int32_t i = 0; i < n; i++) {
    sum += i;
    JCHARGE();
  }
  JRET(sum);
}
/* 6 to_interp(x) = 2 * interp.spin_then_host(x) */
static int32_t c_to_interp(X *root, N *inst, int32_t x) {
  JENTER(6);
  int32_t r;
  SLOW1(6, 1, inst->funcs[1], x, r);
  JRET(2 * r);
}
/* 7 trap(x): 0 traps (divide by zero), 1 calls susp (set to trap), else x */
static int32_t c_trap(X *root, N *inst, int32_t x) {
  JENTER(7);
  if (x == 0) {
    root->fuel_left = fuel;   /* optional: keeps fuel_used exact */
    wasm_jit_trap(root, RUSM_WASM_TRAP_DIV_BY_ZERO, 7, OFF(7, 2));
  }
  if (x == 1) SLOW1(7, 3, inst->funcs[0], x, x);
  JRET(x);
}
/* 8 div(a, b) = interp.div(a, b) */
static int32_t c_div(X *root, N *inst, int32_t a, int32_t b) {
  JENTER(8);
  wslot s[2];
  s[0].u64 = (uint32_t)a;
  s[1].u64 = (uint32_t)b;
  JSLOW(inst->funcs[2], s, 8, 1);
  JRET(s[0].i32);
}
/* 9 rec(n) = rec(n + 1) + n, forever, with a big frame; called through a
** volatile pointer so that it stays a real recursion.  (The frame is big
** enough to reach the limit within 64Ki calls: TSan's shadow call stack
** holds no more.) */
static int32_t c_rec(X *root, N *inst, int32_t n);
static int32_t (*volatile rec_ptr)(X *, N *, int32_t) = c_rec;
static int32_t c_rec(X *root, N *inst, int32_t n) {
  JENTER(9);
  volatile char pad[2048];
  pad[n % 2048] = (char)n;
  root->fuel_left = fuel;
  int32_t r = rec_ptr(root, inst, n + 1);
  fuel = root->fuel_left;
  JRET(r + pad[n % 2048]);
}
/* 10 nest(x) = env.nest(x) + susp(x) */
static int32_t c_nest(X *root, N *inst, int32_t x) {
  JENTER(10);
  int32_t a, b;
  SLOW1(10, 1, inst->funcs[3], x, a);
  SLOW1(10, 2, inst->funcs[0], x, b);
  JRET(a + b);
}
/* 11 pair(x) = (x + 1, host1(x)), host1 through its slot wrapper */
typedef struct { int32_t a, b; } i32x2;
static i32x2 c_pair(X *root, N *inst, int32_t x) {
  JENTER(11);
  int32_t h;
  SLOW1(11, 1, inst->funcs[4], x, h);
  i32x2 r = {x + 1, h};
  JRET(r);
}
/* 12 grow(n): memory.grow */
static int32_t c_grow(X *root, N *inst, int32_t n) {
  JENTER(12);
  JRET((int32_t)wasm_memory_grow(inst->mem, (uint32_t)n));
}
/* 13 mutual(n) = top.bounce(n) = mutual(n + 1) ..., forever */
static int32_t c_mutual(X *root, N *inst, int32_t n) {
  JENTER(13);
  int32_t r;
  SLOW1(13, 1, g_bounce, n, r);
  JRET(r);
}

/* Slot wrappers. */
#define W1(name)                                                               \
  static void w_##name(X *root, N *inst, wslot *s) {                           \
    s[0].u64 = (uint32_t)c_##name(root, inst, s[0].i32);                       \
  }
W1(host1) W1(spin) W1(to_interp) W1(trap) W1(rec) W1(nest) W1(grow) W1(mutual)
static void w_div(X *root, N *inst, wslot *s) { s[0].u64 = (uint32_t)c_div(root, inst, s[0].i32, s[1].i32); }
static void w_pair(X *root, N *inst, wslot *s) {
  i32x2 r = c_pair(root, inst, s[0].i32);
  s[0].u64 = (uint32_t)r.a;
  s[1].u64 = (uint32_t)r.b;
}

static void install(N *inst) {
  static void *const natives[] = {(void *)c_host1, (void *)c_spin, (void *)c_to_interp,
                                  (void *)c_trap, (void *)c_div, (void *)c_rec, (void *)c_nest,
                                  (void *)c_pair, (void *)c_grow, (void *)c_mutual};
  static void (*const slots[])(X *, N *, wslot *) = {w_host1, w_spin, w_to_interp, w_trap, w_div,
                                                      w_rec, w_nest, w_pair, w_grow, w_mutual};
  for (uint32_t i = 0; i < 10; i++) {
    wfuncinst *f = &inst->own_funcs[4 + i];
    CHECK(inst->funcs[4 + i] == f && f->code && !f->host);
    f->code = NULL;
    f->jit_native = natives[i];
    f->jit_slot = slots[i];
  }
}

/* ---------------------------------------------------------------- tests */

static void test_host_suspend(void) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(3), r;
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  /* top.host1 -> comp.host1 -> env.susp, which suspends. */
  CHECK(rusm_wasm_exec_call(e, "host1", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_SUSPENDED);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_SUSPENDED);
  CHECK(rusm_wasm_exec_call(e, "host1", &a, 1, &err) != 0);
  rusm_wasm_val bad = {.type = RUSM_WASM_I64};
  CHECK(rusm_wasm_exec_resume(e, &bad, 1) != 0);
  rusm_wasm_val v = I32(42);
  CHECK(rusm_wasm_exec_resume(e, &v, 1) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 42 + 1 + 1000);
  /* Units: top.host1, comp.host1, env.susp. */
  CHECK(rusm_wasm_exec_fuel_used(e) == 3);
  /* Not suspending, and then a loop in the interpreter over compiled
  ** calls that suspend, run with tiny budgets: the interpreter's own
  ** out-of-fuel stops happen on the coroutine too. */
  susp_mode = RUSM_WASM_HOST_OK;
  int32_t x;
  CHECK(call_on(e, "host1", &a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &x, NULL, NULL) == RUSM_WASM_RETURNED &&
        x == 30 + 1 + 1000);
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  for (uint64_t slice = 1; slice <= 4; slice++) {
    int stops, sus;
    uint64_t before = rusm_wasm_exec_fuel_used(e);
    a = I32(10);
    CHECK(call_on(e, "loop_host1", &a, 1, slice, 100, &x, &stops, &sus) == RUSM_WASM_RETURNED);
    /* Sum of (100 + k) + 1 for k < 10. */
    CHECK(x == 10 * 101 + 45);
    CHECK(sus == 10);
    /* 1 for the call, then per iteration host1 + susp + the backward
    ** branch (not after the last one). */
    CHECK(rusm_wasm_exec_fuel_used(e) - before == 1 + 10 * 3 - 1);
    CHECK(slice > 2 || stops >= 10);
  }
  susp_mode = RUSM_WASM_HOST_OK;
  rusm_wasm_exec_free(e);
}

static void test_fuel(void) {
  /* top.spin(n): 1 + 1 + n units. */
  const int32_t n = 1000;
  int32_t want = n * (n - 1) / 2;
  uint64_t slices[] = {RUSM_WASM_FUEL_UNLIMITED, 1, 2, 3, 7, 100, 1001};
  for (size_t i = 0; i < sizeof slices / sizeof *slices; i++) {
    rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
    rusm_wasm_val a = I32(n);
    int32_t r = -1;
    int stops;
    CHECK(call_on(e, "spin", &a, 1, slices[i], 0, &r, &stops, NULL) == RUSM_WASM_RETURNED);
    CHECK(r == want);
    CHECK(rusm_wasm_exec_fuel_used(e) == (uint64_t)n + 2);
    if (slices[i] != RUSM_WASM_FUEL_UNLIMITED)
      CHECK((uint64_t)stops == (n + 2 + slices[i] - 1) / slices[i] - 1);
    else
      CHECK(stops == 0);
    rusm_wasm_exec_free(e);
  }
  /* Zero fuel: no progress, but resumable; the run that ends the
  ** budget exactly stops with nothing owed. */
  rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(10), r;
  CHECK(rusm_wasm_exec_call(e, "spin", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, 0) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_run(e, 5) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_fuel_used(e) == 5);
  CHECK(rusm_wasm_exec_run(e, 0) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_run(e, 0) == RUSM_WASM_OUT_OF_FUEL);
  CHECK(rusm_wasm_exec_fuel_used(e) == 5);
  CHECK(rusm_wasm_exec_run(e, 7) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_fuel_used(e) == 12);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 45);
  /* Straight into compiled code: comp.spin called directly (1 + n). */
  rusm_wasm_exec *d = rusm_wasm_exec_new(g_comp);
  int32_t x;
  CHECK(call_on(d, "spin", &a, 1, 2, 0, &x, NULL, NULL) == RUSM_WASM_RETURNED && x == 45);
  CHECK(rusm_wasm_exec_fuel_used(d) == 11);
  rusm_wasm_exec_free(d);
  /* And through the convenience call. */
  rusm_wasm_val ra;
  CHECK(rusm_wasm_call(g_comp, "host1", &a, 1, &ra, 1, &err) == RUSM_WASM_RETURNED && ra.of.i32 == 101);
  rusm_wasm_exec_free(e);
}

static void test_to_interp(void) {
  /* top.to_interp(x) -> comp.to_interp -> interp.spin_then_host: loops x
  ** times, then env.susp suspends; result 2 * (v + 7) + 1.
  ** Units: 1 + 1 + (1 + (x - 1) + 1). */
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  const int32_t x = 500;
  uint64_t slices[] = {RUSM_WASM_FUEL_UNLIMITED, 1, 2, 5, 499, 503};
  for (size_t i = 0; i < sizeof slices / sizeof *slices; i++) {
    rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
    rusm_wasm_val a = I32(x);
    int32_t r = -1;
    int stops, sus;
    for (int round = 0; round < 2; round++) {
      uint64_t before = rusm_wasm_exec_fuel_used(e);
      CHECK(call_on(e, "to_interp", &a, 1, slices[i], 33, &r, &stops, &sus) == RUSM_WASM_RETURNED);
      CHECK(r == 2 * (33 + 7) + 1);
      CHECK(sus == 1);
      CHECK(rusm_wasm_exec_fuel_used(e) - before == (uint64_t)x + 3);
      if (slices[i] == 1) CHECK(stops >= x);
    }
    rusm_wasm_exec_free(e);
  }
  susp_mode = RUSM_WASM_HOST_OK;
  /* Multi-value through a slot wrapper calling another compiled function
  ** through its slot wrapper: (x + 1) - (10x + 1). */
  rusm_wasm_val a = I32(7), r;
  rusm_wasm_error err;
  CHECK(rusm_wasm_call(g_top, "pair", &a, 1, &r, 1, &err) == RUSM_WASM_RETURNED && r.of.i32 == -63);
  /* The interpreter sees memory grown by compiled code (a store past the
  ** old end right after the call). */
  a = I32(1);
  CHECK(rusm_wasm_call(g_top, "grow_load", &a, 1, &r, 1, &err) == RUSM_WASM_RETURNED && r.of.i32 == 5);
}

/* Calls name(args), which must trap with kind at (func, off) having used
** `units` fuel (0: not checked). */
static void expect_trap(rusm_wasm_exec *e, const char *name, const rusm_wasm_val *args, size_t n,
                        rusm_wasm_trap kind, uint32_t func, uint32_t off, uint64_t slice,
                        uint64_t units) {
  int32_t r;
  uint64_t before = rusm_wasm_exec_fuel_used(e);
  CHECK(call_on(e, name, args, n, slice, 0, &r, NULL, NULL) == RUSM_WASM_TRAPPED);
  if (units) CHECK(rusm_wasm_exec_fuel_used(e) - before == units);
  uint32_t f = 0, o = 0;
  rusm_wasm_trap t = rusm_wasm_exec_trap(e, &f, &o);
  if (t != kind || f != func || o != off)
    fprintf(stderr, "%s: trap %d at (%u, %#x), wanted %d at (%u, %#x)\n", name, (int)t, f, o,
            (int)kind, func, off);
  CHECK(t == kind && f == func && o == off);
  /* Running again repeats the status. */
  CHECK(rusm_wasm_exec_run(e, 10) == RUSM_WASM_TRAPPED);
  /* The exec is reusable at once. */
  rusm_wasm_val a = I32(20);
  CHECK(call_on(e, "spin", &a, 1, 3, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED && r == 190);
}

static void test_traps(void) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
  rusm_wasm_val a[2] = {I32(0), I32(0)};
  /* Another exec paused in compiled code meanwhile, continued after. */
  rusm_wasm_exec *other = rusm_wasm_exec_new(g_top);
  rusm_wasm_error err;
  a[0] = I32(1000);
  CHECK(rusm_wasm_exec_call(other, "spin", a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(other, 10) == RUSM_WASM_OUT_OF_FUEL);
  for (uint64_t slice = 1; slice <= 2; slice++) {
    uint64_t sl = slice == 1 ? RUSM_WASM_FUEL_UNLIMITED : 1;
    /* From compiled code. */
    a[0] = I32(0);
    expect_trap(e, "trap", a, 1, RUSM_WASM_TRAP_DIV_BY_ZERO, 7, OFF(7, 2), sl, 2);
    /* From a host function called by compiled code: at the call. */
    susp_mode = RUSM_WASM_HOST_TRAP;
    a[0] = I32(1);
    expect_trap(e, "trap", a, 1, RUSM_WASM_TRAP_HOST, 7, OFF(7, 3), sl, 3);
    susp_mode = RUSM_WASM_HOST_OK;
    /* From interpreted code on a sub exec: where the interpreter says. */
    rusm_wasm_exec *d = rusm_wasm_exec_new(g_interp);
    uint32_t df = 0, doff = 0;
    a[0] = I32(1), a[1] = I32(0);
    CHECK(call_on(d, "div", a, 2, RUSM_WASM_FUEL_UNLIMITED, 0, NULL, NULL, NULL) == RUSM_WASM_TRAPPED);
    CHECK(rusm_wasm_exec_trap(d, &df, &doff) == RUSM_WASM_TRAP_DIV_BY_ZERO && df == 2 && doff > 0);
    rusm_wasm_exec_free(d);
    expect_trap(e, "div", a, 2, RUSM_WASM_TRAP_DIV_BY_ZERO, df, doff, sl, 3);
    a[0] = I32(7), a[1] = I32(2);
    int32_t r;
    CHECK(call_on(e, "div", a, 2, sl, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED && r == 3);
    /* Runaway recursion in compiled code: the stack limit, not a crash. */
    a[0] = I32(0);
    expect_trap(e, "rec", a, 1, RUSM_WASM_TRAP_STACK_EXHAUSTED, 9, OFF(9, 0), sl, 0);
  }
  /* Runaway recursion between the tiers (compiled -> interpreted ->
  ** compiled ...): the depth of sub execs, or the stack limit. */
  int32_t r;
  a[0] = I32(0);
  CHECK(call_on(e, "bounce", a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &r, NULL, NULL) == RUSM_WASM_TRAPPED);
  uint32_t f = 0;
  CHECK(rusm_wasm_exec_trap(e, &f, NULL) == RUSM_WASM_TRAP_STACK_EXHAUSTED && f == 13);
  /* Also with a tiny budget: every level pauses and resumes. */
  CHECK(call_on(e, "bounce", a, 1, 2, 0, &r, NULL, NULL) == RUSM_WASM_TRAPPED);
  CHECK(rusm_wasm_exec_trap(e, &f, NULL) == RUSM_WASM_TRAP_STACK_EXHAUSTED && f == 13);
  a[0] = I32(20);
  CHECK(call_on(e, "spin", a, 1, 3, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED && r == 190);
  rusm_wasm_exec_free(e);
  rusm_wasm_val v;
  CHECK(rusm_wasm_exec_run(other, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(other, &v, 1) == 1 && v.of.i32 == 1000 * 999 / 2);
  CHECK(rusm_wasm_exec_fuel_used(other) == 1002);
  rusm_wasm_exec_free(other);
}

static void test_nested(void) {
  /* top.nest(x) -> comp.nest -> env.nest, which runs two execs to the end
  ** (one suspends, one runs out of fuel: their own coroutines, switched
  ** into from this exec's), then env.susp. */
  const int32_t x = 30;
  int32_t want = 1006 + x * (x - 1) / 2 + 10 * x;
  uint64_t slices[] = {RUSM_WASM_FUEL_UNLIMITED, 1, 3};
  for (size_t i = 0; i < 3; i++) {
    rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
    rusm_wasm_val a = I32(x);
    int32_t r = -1;
    g_outer = e;
    CHECK(call_on(e, "nest", &a, 1, slices[i], 0, &r, NULL, NULL) == RUSM_WASM_RETURNED && r == want);
    g_outer = NULL;
    /* top.nest, comp.nest, env.nest, env.susp. */
    CHECK(rusm_wasm_exec_fuel_used(e) == 4);
    rusm_wasm_exec_free(e);
  }
}

static void test_alternating(void) {
  /* Two execs on one instance, run a slice at a time in turn. */
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  rusm_wasm_exec *e[2] = {rusm_wasm_exec_new(g_top), rusm_wasm_exec_new(g_top)};
  rusm_wasm_error err;
  rusm_wasm_val a[2] = {I32(300), I32(700)};
  const char *names[2] = {"spin", "to_interp"};
  for (int k = 0; k < 2; k++) CHECK(rusm_wasm_exec_call(e[k], names[k], &a[k], 1, &err) == 0);
  rusm_wasm_status s[2] = {RUSM_WASM_OUT_OF_FUEL, RUSM_WASM_OUT_OF_FUEL};
  int turns = 0;
  while ((s[0] != RUSM_WASM_RETURNED || s[1] != RUSM_WASM_RETURNED) && turns < 100000) {
    for (int k = 0; k < 2; k++) {
      if (s[k] == RUSM_WASM_RETURNED) continue;
      if (s[k] == RUSM_WASM_SUSPENDED) {
        rusm_wasm_val v = I32(11);
        CHECK(rusm_wasm_exec_resume(e[k], &v, 1) == 0);
      }
      s[k] = rusm_wasm_exec_run(e[k], 3);
      CHECK(s[k] != RUSM_WASM_TRAPPED);
      if (s[k] == RUSM_WASM_TRAPPED) turns = 1000000;
    }
    turns++;
  }
  rusm_wasm_val r[2];
  CHECK(rusm_wasm_exec_results(e[0], &r[0], 1) == 1 && r[0].of.i32 == 300 * 299 / 2);
  CHECK(rusm_wasm_exec_results(e[1], &r[1], 1) == 1 && r[1].of.i32 == 2 * (11 + 7) + 1);
  CHECK(rusm_wasm_exec_fuel_used(e[0]) == 302 && rusm_wasm_exec_fuel_used(e[1]) == 703);
  susp_mode = RUSM_WASM_HOST_OK;
  for (int k = 0; k < 2; k++) rusm_wasm_exec_free(e[k]);
}

/* A paused exec continued on another thread (as a scheduler may). */
typedef struct { rusm_wasm_exec *e; rusm_wasm_status s; } thread_arg;
static void *run_some(void *p) {
  thread_arg *t = p;
  for (int i = 0; i < 10 && (t->s = rusm_wasm_exec_run(t->e, 7)) == RUSM_WASM_OUT_OF_FUEL; i++) {}
  return NULL;
}

static void test_threads(void) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(1000);
  CHECK(rusm_wasm_exec_call(e, "spin", &a, 1, &err) == 0);
  thread_arg t = {e, RUSM_WASM_OUT_OF_FUEL};
  int hops = 0;
  while (t.s == RUSM_WASM_OUT_OF_FUEL && hops < 1000) {
    if (hops++ % 2) {
      run_some(&t);
    } else {
      pthread_t th;
      CHECK(pthread_create(&th, NULL, run_some, &t) == 0);
      pthread_join(th, NULL);
    }
  }
  rusm_wasm_val r;
  CHECK(t.s == RUSM_WASM_RETURNED);
  CHECK(rusm_wasm_exec_results(e, &r, 1) == 1 && r.of.i32 == 1000 * 999 / 2);
  CHECK(rusm_wasm_exec_fuel_used(e) == 1002);
  rusm_wasm_exec_free(e);
}

static void test_free_paused(void) {
  /* Freed while paused deep in compiled code and a sub exec. */
  susp_mode = RUSM_WASM_HOST_SUSPEND;
  rusm_wasm_exec *e = rusm_wasm_exec_new(g_top);
  rusm_wasm_error err;
  rusm_wasm_val a = I32(100);
  CHECK(rusm_wasm_exec_call(e, "to_interp", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, 50) == RUSM_WASM_OUT_OF_FUEL);
  rusm_wasm_exec_free(e);
  e = rusm_wasm_exec_new(g_top);
  CHECK(rusm_wasm_exec_call(e, "to_interp", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_SUSPENDED);
  rusm_wasm_exec_free(e);
  e = rusm_wasm_exec_new(g_top);
  CHECK(rusm_wasm_exec_call(e, "spin", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e, 20) == RUSM_WASM_OUT_OF_FUEL);
  rusm_wasm_exec_free(e);
  susp_mode = RUSM_WASM_HOST_OK;
  /* Many execs, each with its coroutine, made and freed. */
  for (int i = 0; i < 200; i++) {
    e = rusm_wasm_exec_new(g_top);
    int32_t r;
    a = I32(i);
    CHECK(call_on(e, "spin", &a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED &&
          r == i * (i - 1) / 2);
    rusm_wasm_exec_free(e);
  }
}

/* Coroutines are lent for a call: an exec whose call is over holds none,
** the next exec takes the same one from its module's pool, and a paused
** call keeps its own.  (Owned for an exec's life, they ran out of
** mappings at 32k execs: see jit_rt.c.) */
static void test_lending(void) {
  const wasm_module *m = g_top->m;
  rusm_wasm_exec *e1 = rusm_wasm_exec_new(g_top), *e2 = rusm_wasm_exec_new(g_top);
  rusm_wasm_val a = I32(50);
  int32_t r;
  CHECK(call_on(e1, "spin", &a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED);
  CHECK(e1->coro == NULL && m->coro_pool != NULL);
  /* e1 paused in the middle of a call keeps a coroutine... */
  rusm_wasm_error err;
  CHECK(rusm_wasm_exec_call(e1, "spin", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e1, 10) == RUSM_WASM_OUT_OF_FUEL);
  const void *held = e1->coro;
  CHECK(held != NULL);
  /* ...while e2 takes another, and gives it back when done. */
  CHECK(call_on(e2, "spin", &a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED &&
        r == 50 * 49 / 2);
  CHECK(e2->coro == NULL);
  CHECK(rusm_wasm_exec_run(e1, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_RETURNED);
  CHECK(e1->coro == NULL);
  /* A trap gives it back too. */
  a = I32(0);
  CHECK(rusm_wasm_exec_call(e2, "trap", &a, 1, &err) == 0);
  CHECK(rusm_wasm_exec_run(e2, RUSM_WASM_FUEL_UNLIMITED) == RUSM_WASM_TRAPPED && e2->coro == NULL);
  /* Many execs alive at once, each after a compiled call: none holds a
  ** stack (so the count is not bounded by the process's mappings). */
  enum { NEXECS = 3000 };
  rusm_wasm_exec **es = calloc(NEXECS, sizeof *es);
  CHECK(es != NULL);
  for (int i = 0; es && i < NEXECS; i++) {
    es[i] = rusm_wasm_exec_new(g_top);
    a = I32(i % 100);
    CHECK(call_on(es[i], "spin", &a, 1, RUSM_WASM_FUEL_UNLIMITED, 0, &r, NULL, NULL) == RUSM_WASM_RETURNED);
    CHECK(es[i]->coro == NULL);
  }
  for (int i = 0; es && i < NEXECS; i++) rusm_wasm_exec_free(es[i]);
  free(es);
  rusm_wasm_exec_free(e1);
  rusm_wasm_exec_free(e2);
}

int main(void) {
  rusm_wasm_error err;
  rusm_wasm_module *mi = rusm_wasm_module_load(interp_wasm, sizeof interp_wasm, &err);
  rusm_wasm_module *mc = rusm_wasm_module_load(comp_wasm, sizeof comp_wasm, &err);
  rusm_wasm_module *mt = rusm_wasm_module_load(top_wasm, sizeof top_wasm, &err);
  if (!mi || !mc || !mt) {
    fprintf(stderr, "load: %s\n", err.message);
    return 1;
  }
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32};
  rusm_wasm_functype ii = {1, 1, i32, i32};
  CHECK(rusm_wasm_linker_define_func(l, "env", "susp", &ii, host_susp, NULL) == 0);
  CHECK(rusm_wasm_linker_define_func(l, "env", "nest", &ii, host_nest, NULL) == 0);
  g_interp = rusm_wasm_instantiate(mi, l, &err);
  CHECK(g_interp && rusm_wasm_linker_define_instance(l, "interp", g_interp) == 0);
  g_comp = rusm_wasm_instantiate(mc, l, &err);
  CHECK(g_comp != NULL);
  if (!g_comp) return 1;
  install(g_comp);
  CHECK(rusm_wasm_linker_define_instance(l, "comp", g_comp) == 0);
  g_top = rusm_wasm_instantiate(mt, l, &err);
  CHECK(g_top != NULL);
  if (!g_top) return 1;
  wextern x;
  CHECK(wasm_instance_export(g_top, "bounce", 6, &x) && x.kind == WASM_EXT_FUNC);
  g_bounce = x.func;

  test_host_suspend();
  test_fuel();
  test_to_interp();
  test_traps();
  test_nested();
  test_alternating();
  test_threads();
  test_free_paused();
  test_lending();

  rusm_wasm_instance_free(g_top);
  rusm_wasm_instance_free(g_comp);
  rusm_wasm_instance_free(g_interp);
  rusm_wasm_linker_free(l);
  rusm_wasm_module_free(mt);
  rusm_wasm_module_free(mc);
  rusm_wasm_module_free(mi);
  if (failures) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("test_jit_rt: ok\n");
  return 0;
}
