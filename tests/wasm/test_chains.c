/*
** test_chains.c -- two i32 operations in a row, where the second reads the
** result of the first (the translator merges most of these into one "chain"
** instruction, or into an older superinstruction), against C arithmetic.
** Every pair of add sub mul and or xor shl shr_u, with the first result on
** the left or the right of the second, each operand from a local or a
** constant, over inputs with high bits set, shift counts of 32 and more,
** and wrapping products.
*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rusm/wasm.h>

static int failures;

static const uint8_t opcode[] = {0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x76};
static const char *const opname[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u"};
enum { NOPS = 8 };

static uint32_t ref(int op, uint32_t a, uint32_t b) {
  switch (op) {
  case 0: return a + b;
  case 1: return a - b;
  case 2: return a * b;
  case 3: return a & b;
  case 4: return a | b;
  case 5: return a ^ b;
  case 6: return a << (b & 31);
  default: return a >> (b & 31);
  }
}

/* A body under construction. */
typedef struct body {
  uint8_t b[64];
  size_t n;
} body;

static void put(body *x, uint8_t v) { x->b[x->n++] = v; }
static void get_local(body *x, uint8_t i) { put(x, 0x20), put(x, i); }
static void i32_const(body *x, int32_t v) {
  put(x, 0x41);
  for (;;) { /* signed LEB128 */
    uint8_t byte = (uint8_t)(v & 0x7f);
    v >>= 7;
    bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    put(x, done ? byte : (uint8_t)(byte | 0x80));
    if (done) break;
  }
}

/* Module: (func (export "f") (param i32 i32 i32) (result i32) <body>). */
static size_t module_of(const body *x, uint8_t *out) {
  static const uint8_t head[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,            /* magic, version */
      0x01, 0x08, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, /* type */
      0x03, 0x02, 0x01, 0x00,                                    /* function */
      0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00};                  /* export */
  size_t n = 0;
  memcpy(out, head, sizeof head);
  n = sizeof head;
  size_t fn = x->n + 2; /* locals count + body + end */
  out[n++] = 0x0a;
  out[n++] = (uint8_t)(fn + 2);
  out[n++] = 0x01;
  out[n++] = (uint8_t)fn;
  out[n++] = 0x00;
  memcpy(out + n, x->b, x->n);
  n += x->n;
  out[n++] = 0x0b;
  return n;
}

/* Shapes: how op1's operands (x, y) and op2's other operand z are given,
** and on which side of op2 op1's result t is. */
enum { Y_LOCAL = 1, Z_LOCAL = 2, T_RIGHT = 4 };

static const uint32_t inputs[][3] = {
    {0xdeadbeefu, 13u, 7u},         {5u, 33u, 0xffffffffu}, {0x80000000u, 31u, 3u},
    {0x12345678u, 0xfffffff0u, 40u}, {0u, 0u, 0u},           {0xffffffffu, 1u, 0x7fffffffu},
};
static const int32_t consts[][2] = {{7, -3}, {33, 1000000}, {-1, 31}, {0x7fffffff, -65536}};

static void check_one(int op1, int op2, int shape, const int32_t k[2]) {
  body x = {{0}, 0};
  if (shape & T_RIGHT) {
    if (shape & Z_LOCAL) get_local(&x, 2);
    else i32_const(&x, k[1]);
  }
  get_local(&x, 0);
  if (shape & Y_LOCAL) get_local(&x, 1);
  else i32_const(&x, k[0]);
  put(&x, opcode[op1]);
  if (!(shape & T_RIGHT)) {
    if (shape & Z_LOCAL) get_local(&x, 2);
    else i32_const(&x, k[1]);
  }
  put(&x, opcode[op2]);
  uint8_t bytes[128];
  size_t len = module_of(&x, bytes);
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load(bytes, len, &err);
  rusm_wasm_instance *inst = m ? rusm_wasm_instantiate(m, NULL, &err) : NULL;
  if (!inst) {
    fprintf(stderr, "%s/%s shape %d: %s\n", opname[op1], opname[op2], shape, err.message);
    failures++;
    rusm_wasm_module_free(m);
    return;
  }
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    const uint32_t *in = inputs[i];
    uint32_t y = shape & Y_LOCAL ? in[1] : (uint32_t)k[0];
    uint32_t z = shape & Z_LOCAL ? in[2] : (uint32_t)k[1];
    uint32_t t = ref(op1, in[0], y);
    uint32_t want = shape & T_RIGHT ? ref(op2, z, t) : ref(op2, t, z);
    rusm_wasm_val args[3], res;
    for (int a = 0; a < 3; a++) {
      args[a].type = RUSM_WASM_I32;
      args[a].of.i32 = (int32_t)in[a];
    }
    rusm_wasm_status s = rusm_wasm_call(inst, "f", args, 3, &res, 1, &err);
    if (s != RUSM_WASM_RETURNED || (uint32_t)res.of.i32 != want) {
      fprintf(stderr, "%s then %s, shape %d, input %zu: got %u (status %d), want %u\n", opname[op1],
              opname[op2], shape, i, (uint32_t)res.of.i32, (int)s, want);
      failures++;
    }
  }
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
}

int main(void) {
  int cases = 0;
  for (int op1 = 0; op1 < NOPS; op1++)
    for (int op2 = 0; op2 < NOPS; op2++)
      for (int shape = 0; shape < 8; shape++)
        for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++, cases++)
          check_one(op1, op2, shape, consts[k]);
  if (failures) {
    fprintf(stderr, "test_chains: %d failures\n", failures);
    return 1;
  }
  printf("test_chains: ok (%d modules)\n", cases);
  return 0;
}
