/*
** test_chains.c -- two i32 (or two i64) operations in a row, where the
** second reads the result of the first (the translator merges most of these
** into one "chain" instruction, or into an older superinstruction), against
** C arithmetic.
** Every pair of add sub mul and or xor shl shr_u, with the first result on
** the left or the right of the second, each operand from a local or a
** constant (for i64 also one too wide for an immediate), over inputs with
** high bits set, shift counts past the width, and wrapping products.  Then
** loop tails "add; br_if" on the sum, shr_u; local.tee; and (two
** results), and float loop tails "f64 op; compare; br_if".
*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

/* `compiled` as the first argument runs every test on the compiled tier:
** both tiers must give the same answers, traps, fuel and suspensions. */
static rusm_wasm_tier tier = RUSM_WASM_TIER_INTERP;
static rusm_wasm_module *load_module(const uint8_t *b, size_t n, rusm_wasm_error *err) {
  return rusm_wasm_module_load_tier(b, n, tier, err);
}

static int failures;

static const uint8_t opcode32[] = {0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x76};
static const uint8_t opcode64[] = {0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x85, 0x86, 0x88};
static const char *const opname[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u"};
enum { NOPS = 8 };

/* The width under test: i64 if set, else i32 (values are then 32-bit).
** f64_params: f's params are f64 instead (bits passed in the inputs),
** its result and locals i32. */
static bool w64, f64_params;

static uint64_t ref(int op, uint64_t a, uint64_t b) {
  uint64_t mask = w64 ? ~0ull : 0xffffffffull, bits = w64 ? 63 : 31, r;
  a &= mask, b &= mask;
  switch (op) {
  case 0: r = a + b; break;
  case 1: r = a - b; break;
  case 2: r = a * b; break;
  case 3: r = a & b; break;
  case 4: r = a | b; break;
  case 5: r = a ^ b; break;
  case 6: r = a << (b & bits); break;
  default: r = a >> (b & bits); break;
  }
  return r & mask;
}

/* A body under construction. */
typedef struct body {
  uint8_t b[64];
  size_t n;
} body;

static void put(body *x, uint8_t v) {
  if (x->n == sizeof x->b) {
    fprintf(stderr, "test_chains: body too long\n");
    exit(2);
  }
  x->b[x->n++] = v;
}
static void get_local(body *x, uint8_t i) { put(x, 0x20), put(x, i); }
static void const_of(body *x, int64_t v) {
  put(x, w64 ? 0x42 : 0x41);
  for (;;) { /* signed LEB128 */
    uint8_t byte = (uint8_t)(v & 0x7f);
    v >>= 7;
    bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    put(x, done ? byte : (uint8_t)(byte | 0x80));
    if (done) break;
  }
}

/* Module: (func (export "f") (param T T T) (result T) (local T * nlocals)
** <body>), T the width under test. */
static size_t module_of(const body *x, uint8_t nlocals, uint8_t *out) {
  static const uint8_t head[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,            /* magic, version */
      0x01, 0x08, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, /* type */
      0x03, 0x02, 0x01, 0x00,                                    /* function */
      0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00};                  /* export */
  size_t n = 0;
  memcpy(out, head, sizeof head);
  n = sizeof head;
  uint8_t t = w64 ? 0x7e : 0x7f;
  out[13] = out[14] = out[15] = f64_params ? 0x7c : t;
  out[17] = t;
  uint8_t locals[3] = {0x01, nlocals, t};
  size_t nl = nlocals ? 3 : 1;
  if (!nlocals) locals[0] = 0x00;
  size_t fn = nl + x->n + 1; /* locals + body + end */
  out[n++] = 0x0a;
  out[n++] = (uint8_t)(fn + 2);
  out[n++] = 0x01;
  out[n++] = (uint8_t)fn;
  memcpy(out + n, locals, nl);
  n += nl;
  memcpy(out + n, x->b, x->n);
  n += x->n;
  out[n++] = 0x0b;
  return n;
}

/* The last module loaded, reused while the same body is run on other
** inputs (loading for the compiled tier compiles). */
static uint8_t cached_bytes[160];
static size_t cached_len;
static rusm_wasm_module *cached_m;

static rusm_wasm_module *module_for(const uint8_t *bytes, size_t len, rusm_wasm_error *err) {
  if (cached_m && len == cached_len && memcmp(bytes, cached_bytes, len) == 0) return cached_m;
  rusm_wasm_module_free(cached_m);
  cached_m = load_module(bytes, len, err);
  memcpy(cached_bytes, bytes, len);
  cached_len = len;
  return cached_m;
}

/* Calls f(a, b, c) of a fresh instance of the module; false if that fails. */
static bool run_f(const body *x, uint8_t nlocals, const uint64_t in[3], uint64_t *out) {
  uint8_t bytes[160];
  size_t len = module_of(x, nlocals, bytes);
  rusm_wasm_error err;
  rusm_wasm_module *m = module_for(bytes, len, &err);
  rusm_wasm_instance *inst = m ? rusm_wasm_instantiate(m, NULL, &err) : NULL;
  bool ok = false;
  if (inst) {
    rusm_wasm_val args[3], res;
    for (int a = 0; a < 3; a++) {
      args[a].type = f64_params ? RUSM_WASM_F64 : w64 ? RUSM_WASM_I64 : RUSM_WASM_I32;
      if (f64_params) memcpy(&args[a].of.f64, &in[a], 8);
      else if (w64) args[a].of.i64 = (int64_t)in[a];
      else args[a].of.i32 = (int32_t)in[a];
    }
    /* With a fuel budget: a wrong loop tail must fail, not hang. */
    rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
    ok = e && rusm_wasm_exec_call(e, "f", args, 3, &err) == 0 &&
         rusm_wasm_exec_run(e, 100000) == RUSM_WASM_RETURNED && rusm_wasm_exec_results(e, &res, 1) == 1;
    if (ok) *out = w64 ? (uint64_t)res.of.i64 : (uint32_t)res.of.i32;
    rusm_wasm_exec_free(e);
  } else {
    fprintf(stderr, "module: %s\n", err.message);
  }
  rusm_wasm_instance_free(inst);
  return ok;
}

/* Shapes: how op1's operands (x, y) and op2's other operand z are given,
** and on which side of op2 op1's result t is. */
enum { Y_LOCAL = 1, Z_LOCAL = 2, T_RIGHT = 4 };

static const uint64_t inputs[][3] = {
    {0xdeadbeefu, 13u, 7u},         {5u, 33u, 0xffffffffu}, {0x80000000u, 31u, 3u},
    {0x12345678u, 0xfffffff0u, 40u}, {0u, 0u, 0u},           {0xffffffffu, 1u, 0x7fffffffu},
    {0x8000000000000001ull, 65u, 0xfedcba9876543210ull}, {0xffffffff00000000ull, 63u, 0x100000000ull},
};
static const int64_t consts[][2] = {{7, -3}, {33, 1000000}, {-1, 31}, {0x7fffffff, -65536},
                                    {0x123456789ll, 0x7fffffffffffll}};

/* False if the case does not exist at this width (nothing checked). */
static bool check_one(int op1, int op2, int shape, const int64_t k[2]) {
  const uint8_t *opcode = w64 ? opcode64 : opcode32;
  if (!w64 && (k[0] != (int32_t)k[0] || k[1] != (int32_t)k[1])) return false;
  body x = {{0}, 0};
  if (shape & T_RIGHT) {
    if (shape & Z_LOCAL) get_local(&x, 2);
    else const_of(&x, k[1]);
  }
  get_local(&x, 0);
  if (shape & Y_LOCAL) get_local(&x, 1);
  else const_of(&x, k[0]);
  put(&x, opcode[op1]);
  if (!(shape & T_RIGHT)) {
    if (shape & Z_LOCAL) get_local(&x, 2);
    else const_of(&x, k[1]);
  }
  put(&x, opcode[op2]);
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    const uint64_t *in = inputs[i];
    uint64_t y = shape & Y_LOCAL ? in[1] : (uint64_t)k[0];
    uint64_t z = shape & Z_LOCAL ? in[2] : (uint64_t)k[1];
    uint64_t t = ref(op1, in[0], y);
    uint64_t want = shape & T_RIGHT ? ref(op2, z, t) : ref(op2, t, z), got = 0;
    if (!run_f(&x, 0, in, &got) || got != want) {
      fprintf(stderr, "i%d: %s then %s, shape %d, input %zu: got %llu, want %llu\n", w64 ? 64 : 32,
              opname[op1], opname[op2], shape, i, (unsigned long long)got, (unsigned long long)want);
      failures++;
    }
  }
  return true;
}

/* Loop tails "n = n + step (or + imm); br_if (n) or br_if (n == 0)":
** f(n, step, -) = 3 * iterations, counting in C what the loop does. */
static void check_loop_tail(bool imm, bool zero) {
  static const int32_t starts[] = {-7, -1, 0, 5, -12};
  static const int32_t steps[] = {1, 2, 3};
  for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++)
    for (size_t t = 0; t < sizeof steps / sizeof steps[0]; t++) {
      int32_t step = imm ? 1 : steps[t];
      body x = {{0}, 0};
      put(&x, 0x03), put(&x, 0x40);                     /* loop */
      get_local(&x, 3), const_of(&x, 3), put(&x, 0x6a);  /* acc += 3 */
      put(&x, 0x21), put(&x, 3);
      get_local(&x, 0);                                   /* n = n + step */
      if (imm) const_of(&x, 1);
      else get_local(&x, 1);
      put(&x, 0x6a);
      put(&x, 0x22), put(&x, 0);                          /* local.tee n */
      if (zero) put(&x, 0x45);                            /* i32.eqz */
      put(&x, 0x0d), put(&x, 0);                          /* br_if 0 */
      put(&x, 0x0b);                                      /* end */
      get_local(&x, 3);
      uint32_t n = (uint32_t)starts[s], iters = 0;
      do {
        iters++;
        n += (uint32_t)step;
      } while (zero ? n == 0 : n != 0 && iters < 1000);
      if (iters >= 1000) continue; /* would not stop: skip */
      uint64_t in[3] = {(uint32_t)starts[s], (uint32_t)step, 0}, got = 0;
      if (!run_f(&x, 1, in, &got) || got != 3 * iters) {
        fprintf(stderr, "loop tail (%s, %s), n %d step %d: got %llu, want %u\n", imm ? "imm" : "local",
                zero ? "zero" : "non-zero", starts[s], step, (unsigned long long)got, 3 * iters);
        failures++;
      }
    }
}

/* Bit fields as instruction decoders take them: t = x >> k (local.tee t),
** d = t & m (local.set d), then f returns t * 65599 + d.  The locals: t is
** local 3 or x itself (local 0); d is local 4, t's local or x's. */
static void check_shr_and_tee(void) {
  static const int32_t ks[] = {0, 8, 16, 24, 31, 32, 40};
  static const int32_t ms[] = {15, 255, -1, 0x7fffffff, 0};
  static const uint8_t tl[] = {3, 3, 3, 0, 0};
  static const uint8_t dl[] = {4, 3, 0, 4, 0};
  for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
    for (size_t m = 0; m < sizeof ms / sizeof ms[0]; m++)
      for (size_t v = 0; v < sizeof tl / sizeof tl[0]; v++) {
        body x = {{0}, 0};
        get_local(&x, 0), const_of(&x, ks[k]), put(&x, 0x76); /* x >> k */
        put(&x, 0x22), put(&x, tl[v]);                          /* local.tee t */
        const_of(&x, ms[m]), put(&x, 0x71);                    /* & m */
        put(&x, 0x21), put(&x, dl[v]);                          /* local.set d */
        get_local(&x, tl[v]), const_of(&x, 65599), put(&x, 0x6c);
        get_local(&x, dl[v]), put(&x, 0x6a);
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
          uint32_t t = (uint32_t)inputs[i][0] >> (ks[k] & 31), d = t & (uint32_t)ms[m];
          if (tl[v] == dl[v]) t = d;
          uint32_t want = t * 65599u + d;
          uint64_t got = 0;
          if (!run_f(&x, 2, inputs[i], &got) || got != want) {
            fprintf(stderr, "shr %d, tee %u, and %d, set %u, input %zu: got %llu, want %u\n", ks[k], tl[v],
                    ms[m], dl[v], i, (unsigned long long)got, want);
            failures++;
          }
        }
      }
}

/* Float loop tails: x += 1 each iteration, then "br_if loop (x op y) cmp z"
** (or z cmp (x op y)), at most 40 iterations; f returns the count.  With
** NaNs, infinities and values that make the compare flip mid-loop. */
static void check_float_tail(void) {
  static const uint8_t ops[] = {0xa0, 0xa1, 0xa2};                   /* add sub mul */
  static const uint8_t cmps[] = {0x61, 0x62, 0x63, 0x64, 0x65, 0x66}; /* eq ne lt gt le ge */
  static const double xs[] = {-10.0, 0.5, 2.0, __builtin_nan(""), 1e308};
  static const double ys[] = {3.0, -2.5, 0.0, __builtin_nan("")};
  static const double zs[] = {5.0, -1.0, 100.0, 6.0, __builtin_inf()};
  f64_params = true;
  for (int o = 0; o < 3; o++)
    for (int k = 0; k < 6; k++)
      for (int right = 0; right < 2; right++) {
        body x = {{0}, 0};
        put(&x, 0x02), put(&x, 0x40), put(&x, 0x03), put(&x, 0x40); /* block loop */
        get_local(&x, 3), const_of(&x, 1), put(&x, 0x6a), put(&x, 0x22), put(&x, 3);
        const_of(&x, 40), put(&x, 0x4f), put(&x, 0x0d), put(&x, 1);  /* n >= 40: out */
        get_local(&x, 0), put(&x, 0x44);                              /* x += 1.0 */
        static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
        for (int i = 0; i < 8; i++) put(&x, one[i]);
        put(&x, 0xa0), put(&x, 0x21), put(&x, 0);
        if (right) get_local(&x, 2);
        get_local(&x, 0), get_local(&x, 1), put(&x, ops[o]);
        if (!right) get_local(&x, 2);
        put(&x, cmps[k]), put(&x, 0x0d), put(&x, 0);                 /* br_if loop */
        put(&x, 0x0b), put(&x, 0x0b);                                 /* end end */
        get_local(&x, 3);
        for (size_t a = 0; a < sizeof xs / sizeof xs[0]; a++)
          for (size_t b = 0; b < sizeof ys / sizeof ys[0]; b++)
            for (size_t c = 0; c < sizeof zs / sizeof zs[0]; c++) {
              double xv = xs[a], y = ys[b], z = zs[c];
              uint32_t n = 0;
              for (;;) {
                if (++n >= 40) break;
                xv += 1.0;
                double t = o == 0 ? xv + y : o == 1 ? xv - y : xv * y, l = right ? z : t, r = right ? t : z;
                bool go = k == 0 ? l == r : k == 1 ? l != r : k == 2 ? l < r : k == 3 ? l > r : k == 4 ? l <= r : l >= r;
                if (!go) break;
              }
              uint64_t in[3], got = 0;
              memcpy(&in[0], &xs[a], 8), memcpy(&in[1], &y, 8), memcpy(&in[2], &z, 8);
              if (!run_f(&x, 1, in, &got) || got != n) {
                fprintf(stderr, "float tail op %d cmp %d right %d, x %g y %g z %g: got %llu, want %u\n", o, k,
                        right, xs[a], y, z, (unsigned long long)got, n);
                failures++;
              }
            }
      }
  f64_params = false;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "compiled") == 0) tier = RUSM_WASM_TIER_COMPILED;
  int cases = 0;
  for (int w = 0; w < 2; w++) {
    w64 = w;
    for (int op1 = 0; op1 < NOPS; op1++)
      for (int op2 = 0; op2 < NOPS; op2++)
        for (int shape = 0; shape < 8; shape++)
          for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
            /* The compiled tier fuses nothing, and compiling a module
            ** takes tens of milliseconds: one case in 8, spread over
            ** every pair, shape and constant, is enough there. */
            if (tier == RUSM_WASM_TIER_COMPILED && (op1 + op2 + shape + (int)k) % 8) continue;
            cases += check_one(op1, op2, shape, consts[k]);
          }
  }
  w64 = false;
  for (int v = 0; v < 4; v++) check_loop_tail(v & 1, v & 2);
  check_shr_and_tee();
  check_float_tail();
  rusm_wasm_module_free(cached_m);
  if (failures) {
    fprintf(stderr, "test_chains: %d failures\n", failures);
    return 1;
  }
  printf("test_chains: ok (%d modules)\n", cases);
  return 0;
}
