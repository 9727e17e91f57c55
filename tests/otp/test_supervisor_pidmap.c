/* The supervisor's pid map (the core u64 map) against a brute-force model: random
** puts, gets and deletes (deletes shift runs back, the tricky part). */
#include "../../src/otp/sup_pidmap.h"

#include <stdio.h>
#include <stdlib.h>

#define N 4096

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(void)
{
  sup_pidmap m = {0};
  static uint64_t keys[N];
  static int present[N];
  for (int i = 0; i < N; i++) keys[i] = (next() % 5000) * 16777216ULL + (uint64_t)i + 1;
  for (int round = 0; round < 400000; round++) {
    int i = (int)(next() % N);
    int op = (int)(next() % 3);
    if (op == 0) {
      if (sup_pidmap_put(&m, keys[i], &keys[i]) != 0) return printf("FAIL put\n"), 1;
      present[i] = 1;
    } else if (op == 1) {
      void *v = sup_pidmap_del(&m, keys[i]);
      if ((v != NULL) != (present[i] != 0) || (v && v != &keys[i]))
        return printf("FAIL del %d\n", i), 1;
      present[i] = 0;
    } else {
      void *v = sup_pidmap_get(&m, keys[i]);
      if ((v != NULL) != (present[i] != 0)) return printf("FAIL get %d\n", i), 1;
    }
  }
  size_t live = 0;
  for (int i = 0; i < N; i++) {
    live += present[i] != 0;
    if ((sup_pidmap_get(&m, keys[i]) != NULL) != (present[i] != 0))
      return printf("FAIL final %d\n", i), 1;
  }
  if (live != m.len) return printf("FAIL len %zu vs %zu\n", live, (size_t)m.len), 1;
  sup_pidmap_free(&m);
  printf("pidmap: ok (%zu live)\n", live);
  return 0;
}
