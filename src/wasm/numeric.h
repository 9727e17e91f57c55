/*
** numeric.h -- WebAssembly numeric operations whose C spelling is not a
** single operator: fmin/fmax (NaN and signed-zero rules), nearest
** (round-half-even), bit-level copysign/abs/neg (NaN payloads untouched),
** and the range checks of the float-to-int truncations.
**
** Floats are SSE on x86-64: + - * / sqrt are IEEE-754 with round-to-
** nearest-even and quiet NaN propagation, which is what the spec allows.
** Bit casts go through memcpy.  Never build with -ffast-math.
*/
#ifndef RUSM_WASM_NUMERIC_H
#define RUSM_WASM_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t wn_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float wn_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t wn_f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static inline double wn_bits_f64(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* min/max: any NaN operand gives a NaN (a + b quiets and propagates it);
** -0 < +0 (decided on the bits, since -0 == +0 compares equal). */
static inline float wn_fminf(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return wn_bits_f32(wn_f32_bits(a) | wn_f32_bits(b));
  return a < b ? a : b;
}
static inline float wn_fmaxf(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return wn_bits_f32(wn_f32_bits(a) & wn_f32_bits(b));
  return a > b ? a : b;
}
static inline double wn_fmin(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return wn_bits_f64(wn_f64_bits(a) | wn_f64_bits(b));
  return a < b ? a : b;
}
static inline double wn_fmax(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return wn_bits_f64(wn_f64_bits(a) & wn_f64_bits(b));
  return a > b ? a : b;
}

/* nearest: the default rounding mode is round-to-nearest-even, and we
** never change it, so nearbyint is roundeven. */
static inline float wn_nearestf(float a) { return nearbyintf(a); }
static inline double wn_nearest(double a) { return nearbyint(a); }

/* Sign operations on the bits only. */
static inline uint32_t wn_copysign32(uint32_t a, uint32_t b) { return (a & 0x7fffffffu) | (b & 0x80000000u); }
static inline uint64_t wn_copysign64(uint64_t a, uint64_t b) {
  return (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull);
}

/* Truncation ranges: x is in range iff trunc(x) fits.  The bounds are
** exact powers of two (or one below -2^31 for f64, which is exact too). */
static inline bool wn_f32_i32s_ok(float x) { return x >= -2147483648.0f && x < 2147483648.0f; }
static inline bool wn_f32_i32u_ok(float x) { return x > -1.0f && x < 4294967296.0f; }
static inline bool wn_f64_i32s_ok(double x) { return x > -2147483649.0 && x < 2147483648.0; }
static inline bool wn_f64_i32u_ok(double x) { return x > -1.0 && x < 4294967296.0; }
static inline bool wn_f32_i64s_ok(float x) { return x >= -9223372036854775808.0f && x < 9223372036854775808.0f; }
static inline bool wn_f32_i64u_ok(float x) { return x > -1.0f && x < 18446744073709551616.0f; }
static inline bool wn_f64_i64s_ok(double x) { return x >= -9223372036854775808.0 && x < 9223372036854775808.0; }
static inline bool wn_f64_i64u_ok(double x) { return x > -1.0 && x < 18446744073709551616.0; }

/* Saturating truncations: NaN -> 0, out of range -> the nearest bound. */
static inline int32_t wn_sat_i32s(double x) {
  if (x != x) return 0;
  if (x <= -2147483648.0) return INT32_MIN;
  if (x >= 2147483647.0) return INT32_MAX;
  return (int32_t)x;
}
static inline uint32_t wn_sat_i32u(double x) {
  if (x != x || x <= 0) return 0;
  if (x >= 4294967295.0) return UINT32_MAX;
  return (uint32_t)x;
}
static inline int64_t wn_sat_i64s(double x) {
  if (x != x) return 0;
  if (x < -9223372036854775808.0) return INT64_MIN;
  if (x >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)x;
}
static inline uint64_t wn_sat_i64u(double x) {
  if (x != x || x <= 0) return 0;
  if (x >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)x;
}

static inline uint32_t wn_rotl32(uint32_t x, uint32_t n) { n &= 31; return (x << n) | (x >> ((32 - n) & 31)); }
static inline uint32_t wn_rotr32(uint32_t x, uint32_t n) { n &= 31; return (x >> n) | (x << ((32 - n) & 31)); }
static inline uint64_t wn_rotl64(uint64_t x, uint64_t n) { n &= 63; return (x << n) | (x >> ((64 - n) & 63)); }
static inline uint64_t wn_rotr64(uint64_t x, uint64_t n) { n &= 63; return (x >> n) | (x << ((64 - n) & 63)); }

#endif
