/*
** native_driver.c -- runs one kernel (linked in) natively:
**   native_<kernel> N REPS
** calls run(N) REPS times and prints "checksum C ns MEDIAN_NS".
** Fails if the checksum differs between calls.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint32_t run(uint32_t n);

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s N REPS\n", argv[0]);
    return 2;
  }
  uint32_t n = (uint32_t)strtoul(argv[1], NULL, 10);
  int reps = atoi(argv[2]);
  if (reps < 1 || reps > 1000) reps = 1;
  uint64_t t[1000];
  uint32_t first = 0;
  for (int r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    uint32_t c = run(n);
    t[r] = now_ns() - t0;
    if (r == 0) first = c;
    else if (c != first) {
      fprintf(stderr, "checksum changed between calls: %u vs %u\n", first, c);
      return 1;
    }
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_u64);
  printf("checksum %u ns %llu\n", first, (unsigned long long)t[reps / 2]);
  return 0;
}
