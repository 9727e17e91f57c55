/* sieve: sieve of Eratosthenes over a 1 MiB byte array (loops over an
** array). Work per unit of n: one sieve up to ~2^20. */
#include "kernel.h"

#define SIEVE_MAX (1u << 20)
static uint8_t composite[SIEVE_MAX];

static uint32_t sieve(uint32_t lim) {
  for (uint32_t i = 0; i < lim; i++) composite[i] = 0;
  uint32_t count = 0, last = 0;
  for (uint32_t i = 2; i < lim; i++) {
    if (composite[i]) continue;
    count++;
    last = i;
    for (uint32_t j = i * 2; j < lim; j += i) composite[j] = 1;
  }
  return count * 2654435761u + last;
}

uint32_t run(uint32_t n) {
  uint32_t acc = 0;
  for (uint32_t i = 0; i < n; i++) acc = k_mix(acc, sieve(SIEVE_MAX - (i * 97u) % 4096u));
  return acc;
}
