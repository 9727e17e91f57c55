/*
** fuzz_load.c -- libFuzzer harness for the Wasm engine: decode + validate
** every input; if it loads, instantiate it against spectest-like imports and
** call each exported function once with zero arguments and a small fuel
** budget (so every input ends quickly, even an infinite loop).
**
** One input in eight (chosen by a hash of its bytes, so a crash replays)
** is also loaded for the compiled tier and run the same way on fresh
** instances: both tiers must agree on every call's status, trap kind and
** results (NaNs compare equal to NaNs: payloads are not promised), or the
** harness aborts; a stack exhaustion on either side ends the comparison
** (recursion depth is each tier's own limit).  Another one in eight runs
** again on the interpreter and tiers up (rusm_wasm_module_compile) where
** a call first runs out of fuel: that call goes on natively (entry stubs,
** on-stack replacement at its loops), and so do the calls after it; the
** same agreement is required.
**
** Built with clang -fsanitize=fuzzer,address by scripts/fuzz.sh (CMake
** option RUSM_FUZZ); also linked into fuzz_regress.c, which replays the
** crash inputs kept in tests/wasm/regress/ in every build.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fuel per exported call, and at most this many calls per input: bounded
** work per input keeps the fuzzer fast and -timeout meaningful. */
enum { FUEL = 20000, MAX_CALLS = 64, MAX_ARGS = 64 };

typedef struct reader {
  const uint8_t *p, *end;
  bool bad;
} reader;

static uint32_t leb_u32(reader *r) {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (r->p >= r->end) { r->bad = true; return 0; }
    uint8_t b = *r->p++;
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}

/* The public API cannot enumerate exports, so the harness reads the export
** section itself. The module has passed validation, but this parser still
** checks every bound: it must never be the thing that crashes. Calls fn
** for each function export whose name is a C string. */
static void for_each_func_export(const uint8_t *data, size_t size,
                                 void (*fn)(const char *name, void *ctx), void *ctx) {
  reader r = {data + 8, data + size, false};
  if (size < 8) return;
  while (r.p < r.end && !r.bad) {
    uint8_t id = *r.p++;
    uint32_t len = leb_u32(&r);
    if (r.bad || len > (size_t)(r.end - r.p)) return;
    reader s = {r.p, r.p + len, false};
    r.p += len;
    if (id != 7) continue;
    uint32_t n = leb_u32(&s);
    for (uint32_t i = 0; i < n && !s.bad; i++) {
      uint32_t nlen = leb_u32(&s);
      if (s.bad || nlen > (size_t)(s.end - s.p) || (size_t)(s.end - s.p) - nlen < 1) return;
      const uint8_t *name = s.p;
      s.p += nlen;
      uint8_t kind = *s.p++;
      (void)leb_u32(&s);
      if (kind != 0 || memchr(name, 0, nlen)) continue;
      char *cname = malloc(nlen + 1u);
      if (!cname) return;
      memcpy(cname, name, nlen);
      cname[nlen] = 0;
      fn(cname, ctx);
      free(cname);
    }
    return;
  }
}

/* What one exported call did, for the comparison between tiers. */
typedef struct outcome {
  rusm_wasm_status st;
  rusm_wasm_trap trap;
  size_t nres;
  rusm_wasm_val res[8];
} outcome;

typedef struct call_ctx {
  rusm_wasm_instance *inst;
  unsigned calls;
  outcome *out;              /* MAX_CALLS entries */
  rusm_wasm_module *tier_up; /* compile this at the first out of fuel */
} call_ctx;

static void call_export(const char *name, void *vctx) {
  call_ctx *ctx = vctx;
  rusm_wasm_functype ft;
  if (ctx->calls++ >= MAX_CALLS) return;
  outcome *o = &ctx->out[ctx->calls - 1];
  memset(o, 0, sizeof *o);
  o->st = (rusm_wasm_status)-1;    /* the call could not be made */
  if (!rusm_wasm_export_func_type(ctx->inst, name, &ft) || ft.nparams > MAX_ARGS) return;
  rusm_wasm_val args[MAX_ARGS];
  memset(args, 0, sizeof args);    /* zero of every type; null references */
  for (uint32_t i = 0; i < ft.nparams; i++) args[i].type = ft.params[i];
  rusm_wasm_exec *e = rusm_wasm_exec_new(ctx->inst);
  if (!e) return;
  rusm_wasm_error err;
  if (rusm_wasm_exec_call(e, name, args, ft.nparams, &err) == 0) {
    /* print* suspend: resume them (a few times at most), and resume once
    ** after running out of fuel, so both paths see fuzzed code */
    spec_host_allow_suspend(true);
    rusm_wasm_status s = rusm_wasm_exec_run(e, FUEL);
    for (int i = 0; i < 4 && s == RUSM_WASM_SUSPENDED; i++)
      if (rusm_wasm_exec_resume(e, NULL, 0) == 0) s = rusm_wasm_exec_run(e, FUEL);
    if (s == RUSM_WASM_OUT_OF_FUEL) {
      if (ctx->tier_up && rusm_wasm_module_tier(ctx->tier_up) != RUSM_WASM_TIER_COMPILED &&
          rusm_wasm_module_compile(ctx->tier_up, &err) != 0) {
        fprintf(stderr, "fuzz: valid module failed to tier up: %s\n", err.message);
        abort();
      }
      s = rusm_wasm_exec_run(e, FUEL);
    }
    spec_host_allow_suspend(false);
    o->st = s;
    if (s == RUSM_WASM_RETURNED) o->nres = rusm_wasm_exec_results(e, o->res, 8);
    else if (s == RUSM_WASM_TRAPPED) o->trap = rusm_wasm_exec_trap(e, NULL, NULL);
  }
  rusm_wasm_exec_free(e);
}

static bool same_value(const rusm_wasm_val *a, const rusm_wasm_val *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
  case RUSM_WASM_I32: return a->of.i32 == b->of.i32;
  case RUSM_WASM_I64: return a->of.i64 == b->of.i64;
  case RUSM_WASM_F32: return a->of.f32_bits == b->of.f32_bits || (isnan(a->of.f32) && isnan(b->of.f32));
  case RUSM_WASM_F64: return a->of.f64_bits == b->of.f64_bits || (isnan(a->of.f64) && isnan(b->of.f64));
  case RUSM_WASM_EXTERNREF: return a->of.ref == b->of.ref;
  case RUSM_WASM_FUNCREF: return (a->of.ref == NULL) == (b->of.ref == NULL);
  }
  return false;
}

static void compare_tiers(const outcome *a, const outcome *b, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    /* How deep recursion goes is the tier's own limit (frames differ in
    ** size): from such a trap on, the runs may part ways. */
    if (a[i].trap == RUSM_WASM_TRAP_STACK_EXHAUSTED || b[i].trap == RUSM_WASM_TRAP_STACK_EXHAUSTED)
      return;
    bool same = a[i].st == b[i].st && a[i].trap == b[i].trap && a[i].nres == b[i].nres;
    for (size_t k = 0; same && k < a[i].nres && k < 8; k++) same = same_value(&a[i].res[k], &b[i].res[k]);
    if (!same) {
      fprintf(stderr, "fuzz: call %u: interpreter status %d trap %d, compiled status %d trap %d\n", i,
              (int)a[i].st, (int)a[i].trap, (int)b[i].st, (int)b[i].trap);
      abort();
    }
  }
}

/* Instantiates m against a fresh spectest and calls every export; returns
** how many calls were made, with their outcomes in out. */
static unsigned run_module(rusm_wasm_module *m, const uint8_t *data, size_t size, outcome *out,
                           bool tier_up) {
  rusm_wasm_error err;
  call_ctx ctx = {NULL, 0, out, tier_up ? m : NULL};
  /* A fresh spectest instance per run: state never leaks between inputs,
  ** so a crash reproduces from its input alone. */
  rusm_wasm_linker *l = rusm_wasm_linker_new();
  rusm_wasm_instance *host = NULL;
  if (l && spec_host_define(l, &host, SPEC_HOST_SUSPEND, &err) == 0) {
    ctx.inst = rusm_wasm_instantiate(m, l, &err);
    if (ctx.inst) {
      for_each_func_export(data, size, call_export, &ctx);
      rusm_wasm_instance_free(ctx.inst);
    }
  }
  rusm_wasm_linker_free(l);
  if (host) rusm_wasm_instance_free(host);
  return ctx.calls < MAX_CALLS ? ctx.calls : MAX_CALLS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load(data, size, &err);
  if (!m) return 0;
  static outcome interp_out[MAX_CALLS], compiled_out[MAX_CALLS];
  unsigned n = run_module(m, data, size, interp_out, false);
  rusm_wasm_module_free(m);
  uint32_t h = 2166136261u;                     /* FNV-1a */
  for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
  if (h % 8 != 0 && h % 8 != 4) return 0;
  bool tier_up = h % 8 == 4;
  m = rusm_wasm_module_load_tier(data, size, tier_up ? RUSM_WASM_TIER_INTERP : RUSM_WASM_TIER_COMPILED,
                                 &err);
  if (!m) {
    fprintf(stderr, "fuzz: valid module failed to load: %s\n", err.message);
    abort();
  }
  unsigned nc = run_module(m, data, size, compiled_out, tier_up);
  rusm_wasm_module_free(m);
  if (nc != n) {
    fprintf(stderr, "fuzz: %u calls on the interpreter, %u compiled\n", n, nc);
    abort();
  }
  compare_tiers(interp_out, compiled_out, n);
  return 0;
}
