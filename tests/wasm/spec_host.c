/*
** spec_host.c -- the "spectest" host module every spec .wast may import:
**
**   print, print_i32, print_i64, print_f32, print_f64, print_i32_f32,
**   print_f64_f64                       host functions (no results)
**   global_i32 = 666, global_i64 = 666,
**   global_f32 = 666.6, global_f64 = 666.6   immutable globals
**   table  = 10 funcref, max 20
**   memory = 1 page, max 2
**
** wasm.h can define host functions but not host tables/memories/globals, so
** those come from a tiny module assembled here byte by byte, instantiated
** and registered with rusm_wasm_linker_define_instance under the same
** module name as the functions.
*/
#include "spec_host.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct bytes {
  uint8_t b[256];
  size_t n;
} bytes;

static void put(bytes *o, uint8_t v) {
  if (o->n < sizeof o->b) o->b[o->n++] = v;
}

static void put_name(bytes *o, const char *s) {
  size_t len = strlen(s);
  put(o, (uint8_t)len);      /* every name here is shorter than 128 bytes */
  for (size_t i = 0; i < len; i++) put(o, (uint8_t)s[i]);
}

/* Little-endian, as the binary format stores float constants. */
static void put_le(bytes *o, uint64_t v, int n) {
  for (int i = 0; i < n; i++) put(o, (uint8_t)(v >> (8 * i)));
}

static void put_section(bytes *o, uint8_t id, const bytes *body) {
  put(o, id);
  put(o, (uint8_t)body->n);  /* every section here is shorter than 128 bytes */
  for (size_t i = 0; i < body->n; i++) put(o, body->b[i]);
}

static size_t build_module(uint8_t *out, size_t cap) {
  static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  bytes m = {.n = 0}, s;
  for (size_t i = 0; i < sizeof header; i++) put(&m, header[i]);

  /* table: funcref, limits {min 10, max 20} */
  s = (bytes){.n = 0};
  put(&s, 1); put(&s, 0x70); put(&s, 0x01); put(&s, 10); put(&s, 20);
  put_section(&m, 4, &s);

  /* memory: limits {min 1, max 2} */
  s = (bytes){.n = 0};
  put(&s, 1); put(&s, 0x01); put(&s, 1); put(&s, 2);
  put_section(&m, 5, &s);

  /* globals, immutable: i32 666, i64 666, f32 666.6, f64 666.6 */
  float f32 = 666.6f;
  double f64 = 666.6;
  uint32_t f32_bits;
  uint64_t f64_bits;
  memcpy(&f32_bits, &f32, sizeof f32_bits);
  memcpy(&f64_bits, &f64, sizeof f64_bits);
  s = (bytes){.n = 0};
  put(&s, 4);
  put(&s, 0x7f); put(&s, 0); put(&s, 0x41); put(&s, 0x9a); put(&s, 0x05); put(&s, 0x0b);
  put(&s, 0x7e); put(&s, 0); put(&s, 0x42); put(&s, 0x9a); put(&s, 0x05); put(&s, 0x0b);
  put(&s, 0x7d); put(&s, 0); put(&s, 0x43); put_le(&s, f32_bits, 4); put(&s, 0x0b);
  put(&s, 0x7c); put(&s, 0); put(&s, 0x44); put_le(&s, f64_bits, 8); put(&s, 0x0b);
  put_section(&m, 6, &s);

  /* exports */
  s = (bytes){.n = 0};
  put(&s, 6);
  put_name(&s, "global_i32"); put(&s, 3); put(&s, 0);
  put_name(&s, "global_i64"); put(&s, 3); put(&s, 1);
  put_name(&s, "global_f32"); put(&s, 3); put(&s, 2);
  put_name(&s, "global_f64"); put(&s, 3); put(&s, 3);
  put_name(&s, "table"); put(&s, 1); put(&s, 0);
  put_name(&s, "memory"); put(&s, 2); put(&s, 0);
  put_section(&m, 7, &s);

  if (m.n > cap) return 0;
  memcpy(out, m.b, m.n);
  return m.n;
}

static rusm_wasm_module *host_module;

rusm_wasm_module *spec_host_module(rusm_wasm_error *err) {
  if (!host_module) {
    uint8_t buf[256];
    size_t n = build_module(buf, sizeof buf);
    host_module = rusm_wasm_module_load(buf, n, err);
  }
  return host_module;
}

void spec_host_cleanup(void) {
  rusm_wasm_module_free(host_module);
  host_module = NULL;
}

/* ---------------------------------------------------------- print* */

static bool suspend_allowed;

void spec_host_allow_suspend(bool on) { suspend_allowed = on; }

/* env points to the SPEC_HOST_* flags; print* never fail. Suspending
** (with no results to give back) exercises the engine's suspend/resume
** path on every suite module that calls them. */
static rusm_wasm_host_status print_fn(void *env, rusm_wasm_instance *caller,
                                      const rusm_wasm_val *args,
                                      rusm_wasm_val *results, size_t nargs) {
  unsigned flags = *(const unsigned *)env;
  (void)caller;
  (void)results;
  rusm_wasm_host_status done = (flags & SPEC_HOST_SUSPEND) && suspend_allowed
                                   ? RUSM_WASM_HOST_SUSPEND
                                   : RUSM_WASM_HOST_OK;
  if (!(flags & SPEC_HOST_VERBOSE)) return done;
  printf("spectest.print:");
  for (size_t i = 0; i < nargs; i++) {
    switch (args[i].type) {
    case RUSM_WASM_I32: printf(" %" PRId32 ":i32", args[i].of.i32); break;
    case RUSM_WASM_I64: printf(" %" PRId64 ":i64", args[i].of.i64); break;
    case RUSM_WASM_F32: printf(" %.9g:f32", (double)args[i].of.f32); break;
    case RUSM_WASM_F64: printf(" %.17g:f64", args[i].of.f64); break;
    default: printf(" ?"); break;
    }
  }
  printf("\n");
  return done;
}

/* One thin wrapper per arity: the host callback is not told its own arity. */
static rusm_wasm_host_status print0(void *env, rusm_wasm_instance *c,
                                    const rusm_wasm_val *a, rusm_wasm_val *r) {
  return print_fn(env, c, a, r, 0);
}
static rusm_wasm_host_status print1(void *env, rusm_wasm_instance *c,
                                    const rusm_wasm_val *a, rusm_wasm_val *r) {
  return print_fn(env, c, a, r, 1);
}
static rusm_wasm_host_status print2(void *env, rusm_wasm_instance *c,
                                    const rusm_wasm_val *a, rusm_wasm_val *r) {
  return print_fn(env, c, a, r, 2);
}

int spec_host_define(rusm_wasm_linker *l, rusm_wasm_instance **inst,
                     unsigned flags, rusm_wasm_error *err) {
  static const rusm_wasm_valtype i32[] = {RUSM_WASM_I32};
  static const rusm_wasm_valtype i64[] = {RUSM_WASM_I64};
  static const rusm_wasm_valtype f32[] = {RUSM_WASM_F32};
  static const rusm_wasm_valtype f64[] = {RUSM_WASM_F64};
  static const rusm_wasm_valtype i32_f32[] = {RUSM_WASM_I32, RUSM_WASM_F32};
  static const rusm_wasm_valtype f64_f64[] = {RUSM_WASM_F64, RUSM_WASM_F64};
  static const struct {
    const char *name;
    uint32_t nparams;
    const rusm_wasm_valtype *params;
    rusm_wasm_host_fn fn;
  } funcs[] = {
      {"print", 0, NULL, print0},
      {"print_i32", 1, i32, print1},
      {"print_i64", 1, i64, print1},
      {"print_f32", 1, f32, print1},
      {"print_f64", 1, f64, print1},
      {"print_i32_f32", 2, i32_f32, print2},
      {"print_f64_f64", 2, f64_f64, print2},
  };
  /* env of the print* functions: one static cell per flag combination */
  static const unsigned flag_cells[4] = {0, 1, 2, 3};

  *inst = NULL;
  rusm_wasm_module *m = spec_host_module(err);
  if (!m) return -1;
  *inst = rusm_wasm_instantiate(m, NULL, err);
  if (!*inst) return -1;
  if (rusm_wasm_linker_define_instance(l, "spectest", *inst) != 0) {
    err->kind = RUSM_WASM_ERR_ARGS;
    snprintf(err->message, sizeof err->message,
             "linker refused the spectest instance");
    return -1;
  }
  for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
    rusm_wasm_functype sig = {.nparams = funcs[i].nparams, .nresults = 0,
                              .params = funcs[i].params, .results = NULL};
    if (rusm_wasm_linker_define_func(l, "spectest", funcs[i].name, &sig, funcs[i].fn,
                                     (void *)&flag_cells[flags & 3]) != 0) {
      err->kind = RUSM_WASM_ERR_ARGS;
      snprintf(err->message, sizeof err->message,
               "linker refused spectest.%s next to the spectest instance", funcs[i].name);
      return -1;
    }
  }
  return 0;
}
