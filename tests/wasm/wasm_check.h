/*
** wasm_check.h -- what the Wasm unit tests share: a CHECK that counts
** failures and goes on (so one run reports them all), and typed values.
** Each test's main returns non-zero when failures > 0.
*/
#ifndef RUSM_TESTS_WASM_CHECK_H
#define RUSM_TESTS_WASM_CHECK_H

#include <stdio.h>

#include <rusm/wasm.h>

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static inline rusm_wasm_val I32(int32_t v) { rusm_wasm_val x = {.type = RUSM_WASM_I32}; x.of.i32 = v; return x; }
static inline rusm_wasm_val I64(int64_t v) { rusm_wasm_val x = {.type = RUSM_WASM_I64}; x.of.i64 = v; return x; }
static inline rusm_wasm_val F32(float v) { rusm_wasm_val x = {.type = RUSM_WASM_F32}; x.of.f32 = v; return x; }
static inline rusm_wasm_val F64(double v) { rusm_wasm_val x = {.type = RUSM_WASM_F64}; x.of.f64 = v; return x; }

#endif
