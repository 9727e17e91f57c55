/* intmath: integer arithmetic: Collatz trajectories (64-bit), Euclid's
** gcd (32-bit remainder), 64-bit modular squaring and digit sums
** (division by constants). Work per unit of n: one of each, on i. */
#include "kernel.h"

uint32_t run(uint32_t n) {
  uint32_t acc = 0;
  uint64_t m = 1;
  for (uint32_t i = 1; i <= n; i++) {
    uint64_t c = (uint64_t)i * 3u + 7u;
    uint32_t steps = 0;
    while (c != 1) {
      c = (c & 1u) ? 3u * c + 1u : c >> 1;
      steps++;
    }
    uint32_t x = i * 2654435761u, y = (i * 7919u) % 100003u + 1u;
    while (y) {
      uint32_t t = x % y;
      x = y;
      y = t;
    }
    m = (m * m + i) % 1000000007u;
    m = (m * 48271u) % 2147483647u;
    uint64_t d = (uint64_t)i * i, ds = 0;
    while (d) {
      ds += d % 10u;
      d /= 10u;
    }
    acc = k_mix(acc, steps + x + (uint32_t)m + (uint32_t)ds);
  }
  return acc;
}
