/* fib: naive doubly-recursive Fibonacci (call-heavy). Work per unit of n:
** one fib(k) for k cycling over 20..25 (~100k calls on average). */
#include "kernel.h"

static uint32_t fib(uint32_t k) {
  if (k < 2) return k;
  return fib(k - 1) + fib(k - 2);
}

uint32_t run(uint32_t n) {
  uint32_t acc = 0;
  for (uint32_t i = 0; i < n; i++) acc = k_mix(acc, fib(20u + i % 6u));
  return acc;
}
