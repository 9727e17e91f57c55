/* jit.c -- PLACEHOLDER until the driver lands (helper A replaces this file). */
#include <stdlib.h>
#include "jit.h"
wjit *wasm_jit_compile(const wasm_module *m, const wcompiled *c, rusm_wasm_error *err) {
  (void)m; (void)c;
  wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier not built yet");
  return NULL;
}
void wasm_jit_free(void *jit) { (void)jit; }
void *wasm_jit_native(const wjit *j, uint32_t i) { (void)j; (void)i; return NULL; }
void *wasm_jit_slot(const wjit *j, uint32_t i) { (void)j; (void)i; return NULL; }
