/* nbody: a 5-body gravitational simulation in f64 with sqrt (float math).
** The bodies are made up here. Work per unit of n: one time step (10 pair
** interactions). Checksum: bits of the final total energy and positions. */
#include "kernel.h"

#define NB 5
typedef struct body { double x, y, z, vx, vy, vz, m; } body;
static body bodies[NB];

static double energy(void) {
  double e = 0.0;
  for (int i = 0; i < NB; i++) {
    body *p = &bodies[i];
    e += 0.5 * p->m * (p->vx * p->vx + p->vy * p->vy + p->vz * p->vz);
    for (int j = i + 1; j < NB; j++) {
      body *q = &bodies[j];
      double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
      e -= p->m * q->m / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

uint32_t run(uint32_t n) {
  uint32_t s = 777;
  for (int i = 0; i < NB; i++) {
    body *p = &bodies[i];
    double r = 1.0 + 3.0 * i;
    p->x = r;
    p->y = (double)(k_rand(&s) % 1000u) / 500.0 - 1.0;
    p->z = (double)(k_rand(&s) % 1000u) / 2000.0 - 0.25;
    p->vx = (double)(k_rand(&s) % 1000u) / 10000.0 - 0.05;
    p->vy = i == 0 ? 0.0 : 6.0 / __builtin_sqrt(r);
    p->vz = 0.0;
    p->m = i == 0 ? 40.0 : 0.01 * (1 + i);
  }
  const double dt = 0.001;
  for (uint32_t step = 0; step < n; step++) {
    for (int i = 0; i < NB; i++) {
      body *p = &bodies[i];
      for (int j = i + 1; j < NB; j++) {
        body *q = &bodies[j];
        double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
        double d2 = dx * dx + dy * dy + dz * dz;
        double mag = dt / (d2 * __builtin_sqrt(d2));
        p->vx -= dx * q->m * mag;
        p->vy -= dy * q->m * mag;
        p->vz -= dz * q->m * mag;
        q->vx += dx * p->m * mag;
        q->vy += dy * p->m * mag;
        q->vz += dz * p->m * mag;
      }
    }
    for (int i = 0; i < NB; i++) {
      body *p = &bodies[i];
      p->x += dt * p->vx;
      p->y += dt * p->vy;
      p->z += dt * p->vz;
    }
  }
  uint64_t e = k_f64_bits(energy());
  uint32_t acc = k_mix((uint32_t)e, (uint32_t)(e >> 32));
  for (int i = 0; i < NB; i++) {
    uint64_t b = k_f64_bits(bodies[i].x + bodies[i].y + bodies[i].z);
    acc = k_mix(acc, (uint32_t)b ^ (uint32_t)(b >> 32));
  }
  return acc;
}
