/* mandel: Mandelbrot escape-time iteration in f64 (float math, data-
** dependent loop exits). Work per unit of n: one 32x32 tile, at most 64
** iterations per point, the tile moving along the set's boundary. */
#include "kernel.h"

uint32_t run(uint32_t n) {
  uint32_t acc = 0;
  for (uint32_t t = 0; t < n; t++) {
    double cx0 = -2.0 + (double)(t % 40u) * 0.065;
    double cy0 = -1.2 + (double)((t / 40u) % 30u) * 0.08;
    uint32_t total = 0;
    for (int py = 0; py < 32; py++) {
      double ci = cy0 + py * 0.0025;
      for (int px = 0; px < 32; px++) {
        double cr = cx0 + px * 0.002;
        double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0;
        int k = 0;
        while (k < 64 && zr2 + zi2 <= 4.0) {
          zi = 2.0 * zr * zi + ci;
          zr = zr2 - zi2 + cr;
          zr2 = zr * zr;
          zi2 = zi * zi;
          k++;
        }
        total += (uint32_t)k;
      }
    }
    acc = k_mix(acc, total);
  }
  return acc;
}
