/*
** body.h -- reading function bodies that validation already accepted, for
** the translator (compile.c) and the compiled tier's emitter (jit_emit.c).
** Nothing is malformed by then, so these only guard the end: past it they
** set *bad and return 0x0b (`end`), which closes the caller's loop.
** LEB128s may be padded (clang writes 5-byte relocatable ones).
*/
#ifndef RUSM_WASM_BODY_H
#define RUSM_WASM_BODY_H

#include <stdbool.h>
#include <stdint.h>

static inline uint8_t wasm_body_u8(const uint8_t **p, const uint8_t *end, bool *bad) {
  if (*p >= end) {
    *bad = true;
    return 0x0b;
  }
  return *(*p)++;
}

static inline uint64_t wasm_body_uleb(const uint8_t **p, const uint8_t *end, bool *bad) {
  uint64_t x = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = wasm_body_u8(p, end, bad);
    if (shift < 64) x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return x;
}

static inline int64_t wasm_body_sleb(const uint8_t **p, const uint8_t *end, bool *bad) {
  uint64_t x = 0;
  int shift = 0;
  uint8_t b;
  do {
    b = wasm_body_u8(p, end, bad);
    if (shift < 64) x |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
  } while ((b & 0x80) && shift < 70);
  if (shift < 64 && (b & 0x40)) x |= ~(uint64_t)0 << shift;
  return (int64_t)x;
}

#endif
