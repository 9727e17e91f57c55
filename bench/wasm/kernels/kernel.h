/*
** kernel.h -- shared by the guest-speed kernels (the .c files in bench/wasm/kernels).
**
** Every kernel is freestanding C: no libc, no imports. It defines
**   uint32_t run(uint32_t n);
** which does an amount of work linear in n (n repetitions of a fixed-size
** workload, so timings at different n scale) and returns a checksum.
** run() re-initialises all of its static state, so it may be called again.
** Built natively (linked with native_driver.c) and to wasm32 (exported
** as "run"; rt.c supplies memset/memcpy/memmove there).
*/
#ifndef RUSM_BENCH_KERNEL_H
#define RUSM_BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

uint32_t run(uint32_t n);

/* A small fast deterministic generator for inputs (xorshift32). */
static inline uint32_t k_rand(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return x;
}

static inline uint32_t k_mix(uint32_t acc, uint32_t v) {
  return (acc ^ v) * 0x01000193u + (v >> 7);
}

static inline uint64_t k_f64_bits(double d) {
  union { double d; uint64_t u; } c;
  c.d = d;
  return c.u;
}

#endif
