/*
** tier.c -- loading a module for a tier: the interpreter translates on
** first instantiation (compile.c); the compiled tier compiles everything
** at load (jit.c), so instantiation stays as cheap as for the interpreter.
*/
#include <string.h>

#include "jit.h"
#include "rt.h"

rusm_wasm_module *rusm_wasm_module_load_tier(const uint8_t *bytes, size_t len,
                                             rusm_wasm_tier tier, rusm_wasm_error *err) {
  rusm_wasm_error scratch;
  if (!err) err = &scratch;
  if (tier != RUSM_WASM_TIER_INTERP && tier != RUSM_WASM_TIER_COMPILED) {
    memset(err, 0, sizeof *err);
    wasm_set_err(err, RUSM_WASM_ERR_ARGS, "unknown tier %d", (int)tier);
    return NULL;
  }
  wasm_module *m = rusm_wasm_module_load(bytes, len, err);
  if (!m || tier == RUSM_WASM_TIER_INTERP) return m;
  /* The translation supplies canonical types shared by both tiers. */
  const wcompiled *c = wasm_compiled_get(m, err);
  wjit *j = c ? wasm_jit_compile(m, c, err) : NULL;
  if (!j) {
    rusm_wasm_module_free(m);
    return NULL;
  }
  m->jit = j;
  m->jit_free = wasm_jit_free;
  m->tier = RUSM_WASM_TIER_COMPILED;
  return m;
}

rusm_wasm_tier rusm_wasm_module_tier(const rusm_wasm_module *m) {
  return m && m->tier == RUSM_WASM_TIER_COMPILED ? RUSM_WASM_TIER_COMPILED : RUSM_WASM_TIER_INTERP;
}
