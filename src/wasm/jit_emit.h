/*
** jit_emit.h -- Wasm function bodies to LLVM IR (jit_emit.c), for the
** driver (jit.c).  The ABI of what it emits is in jit.h.
*/
#ifndef RUSM_WASM_JIT_EMIT_H
#define RUSM_WASM_JIT_EMIT_H

#include <stdbool.h>

#include <llvm-c/Core.h>

#include "rt.h"

/* Adds "rusm_f<i>" (native entry) and "rusm_w<i>" (slot wrapper) to mod for
** every defined function i of m.  c is m's interpreter translation (for
** canonical types and type hashes).  With osr_linked (nfuncs entries),
** also "rusm_o<i>" for functions with loops in c->funcs[i].osr, setting
** osr_linked[i] bit k for each loop k it can enter (see emit_osr; 0: not
** made).  false + *err if something cannot be emitted (it should not
** happen for a validated module). */
bool wasm_jit_emit(LLVMContextRef ctx, LLVMModuleRef mod, const wasm_module *m,
                   const wcompiled *c, uint8_t *osr_linked, rusm_wasm_error *err);

#endif
