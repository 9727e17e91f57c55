/* jit_rt.c -- PLACEHOLDER until the runtime lands (helper B replaces this file). */
#include <stdlib.h>
#include "jit.h"
void wasm_jit_trap(rusm_wasm_exec *root, uint32_t kind, uint32_t func, uint32_t offset) {
  (void)root; (void)kind; (void)func; (void)offset; abort();
}
int64_t wasm_jit_out_of_fuel(rusm_wasm_exec *root) { (void)root; abort(); }
void wasm_jit_call_slow(rusm_wasm_exec *root, rusm_wasm_instance *caller, const wfuncinst *fi,
                        wslot *slots, uint64_t where) {
  (void)root; (void)caller; (void)fi; (void)slots; (void)where; abort();
}
uint32_t wasm_jit_type_eq(const wfuncinst *g, const wasm_functype *want) {
  return wasm_functype_eq(g->type, want);
}
void wasm_jit_enter(rusm_wasm_exec *e, const wfuncinst *fi, wslot *slots) {
  (void)e; (void)fi; (void)slots; abort();
}
