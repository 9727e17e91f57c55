/* fptr: calls through a table of function pointers chosen by data (what
** C callbacks and vtables compile to: call_indirect in wasm), over an
** array of small records. Work per unit of n: 32768 indirect calls. */
#include "kernel.h"

typedef struct rec { uint32_t a, b; } rec;
typedef uint32_t (*op_fn)(uint32_t acc, const rec *r);

static uint32_t op_add(uint32_t acc, const rec *r) { return acc + r->a; }
static uint32_t op_xor(uint32_t acc, const rec *r) { return acc ^ (r->b * 3u); }
static uint32_t op_mul(uint32_t acc, const rec *r) { return acc * (r->a | 1u); }
static uint32_t op_rot(uint32_t acc, const rec *r) {
  uint32_t s = r->b & 31u;
  return s ? (acc << s) | (acc >> (32u - s)) : acc;
}
static uint32_t op_sub(uint32_t acc, const rec *r) { return acc - r->b + r->a; }
static uint32_t op_min(uint32_t acc, const rec *r) { return acc < r->a ? acc + 1u : r->a ^ acc; }
static uint32_t op_div(uint32_t acc, const rec *r) { return acc / ((r->b & 255u) + 1u) + r->a; }
static uint32_t op_mix(uint32_t acc, const rec *r) { return k_mix(acc, r->a + r->b); }

#define NREC 4096
static rec recs[NREC];
static op_fn table[8];

uint32_t run(uint32_t n) {
  table[0] = op_add; table[1] = op_xor; table[2] = op_mul; table[3] = op_rot;
  table[4] = op_sub; table[5] = op_min; table[6] = op_div; table[7] = op_mix;
  uint32_t s = 31337;
  for (int i = 0; i < NREC; i++) {
    recs[i].a = k_rand(&s);
    recs[i].b = k_rand(&s);
  }
  uint32_t acc = 1;
  for (uint32_t it = 0; it < n; it++)
    for (uint32_t j = 0; j < 8u * NREC; j++) {
      const rec *r = &recs[(j * 2654435761u + it) % NREC];
      acc = table[(r->a ^ acc ^ j) & 7u](acc, r);
    }
  return acc;
}
