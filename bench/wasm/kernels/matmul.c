/* matmul: dense f64 matrix multiply, 96x96 (loops over arrays, float
** multiply-add). Work per unit of n: one 96^3 product. */
#include "kernel.h"

#define N 96
static double a[N][N], b[N][N], c[N][N];

uint32_t run(uint32_t n) {
  uint32_t s = 12345;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      a[i][j] = (double)(k_rand(&s) % 1000u) / 64.0 - 7.0;
      b[i][j] = (double)(k_rand(&s) % 1000u) / 128.0 - 3.0;
    }
  uint32_t acc = 0;
  for (uint32_t it = 0; it < n; it++) {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) c[i][j] = 0.0;
      for (int k = 0; k < N; k++) {
        double aik = a[i][k];
        for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
      }
    }
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += c[i][(i * 7 + (int)it) % N];
    uint64_t bits = k_f64_bits(sum);
    acc = k_mix(acc, (uint32_t)bits ^ (uint32_t)(bits >> 32));
    /* feed the result back so no iteration repeats another */
    a[it % N][(it * 5) % N] += 0.5;
  }
  return acc;
}
