/*
** trap.c -- the spec's wording of each trap kind.
*/
#include <rusm/wasm.h>

const char *rusm_wasm_trap_message(rusm_wasm_trap t) {
  switch (t) {
  case RUSM_WASM_TRAP_NONE: return "no trap";
  case RUSM_WASM_TRAP_UNREACHABLE: return "unreachable";
  case RUSM_WASM_TRAP_DIV_BY_ZERO: return "integer divide by zero";
  case RUSM_WASM_TRAP_INT_OVERFLOW: return "integer overflow";
  case RUSM_WASM_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
  case RUSM_WASM_TRAP_OOB_MEMORY: return "out of bounds memory access";
  case RUSM_WASM_TRAP_OOB_TABLE: return "out of bounds table access";
  case RUSM_WASM_TRAP_UNDEFINED_ELEMENT: return "undefined element";
  case RUSM_WASM_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
  case RUSM_WASM_TRAP_INDIRECT_CALL_TYPE: return "indirect call type mismatch";
  case RUSM_WASM_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
  case RUSM_WASM_TRAP_HOST: return "host function trapped";
  }
  return "unknown trap";
}
