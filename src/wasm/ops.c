/*
** ops.c -- the bulk memory and table instructions of compiled code
** (declared in jit.h), out of line because they loop or allocate.  They
** check bounds exactly as the interpreter's handlers (interp.c) do: in 64
** bits, so that s + n cannot wrap, and before touching anything, so that
** a trapping instruction writes nothing.  They return a trap kind (0:
** none); compiled code traps at its own location.
*/
#include <string.h>

#include "jit.h"

int32_t wasm_op_memory_grow(rusm_wasm_instance *inst, uint32_t delta) {
  return (int32_t)wasm_memory_grow(inst->mem, delta);
}

uint32_t wasm_op_memory_init(rusm_wasm_instance *inst, uint32_t seg, uint32_t dst, uint32_t src,
                             uint32_t n) {
  const wasm_data *ds = &inst->m->datas[seg];
  uint64_t slen = inst->data_dropped[seg] ? 0 : ds->len;
  const wasm_memory *mem = inst->mem;
  if ((uint64_t)src + n > slen || (uint64_t)dst + n > mem->size) return RUSM_WASM_TRAP_OOB_MEMORY;
  if (n) memcpy(mem->base + dst, ds->bytes + src, n);
  return RUSM_WASM_TRAP_NONE;
}

uint32_t wasm_op_memory_copy(rusm_wasm_instance *inst, uint32_t dst, uint32_t src, uint32_t n) {
  const wasm_memory *mem = inst->mem;
  if ((uint64_t)src + n > mem->size || (uint64_t)dst + n > mem->size) return RUSM_WASM_TRAP_OOB_MEMORY;
  if (n) memmove(mem->base + dst, mem->base + src, n);
  return RUSM_WASM_TRAP_NONE;
}

uint32_t wasm_op_memory_fill(rusm_wasm_instance *inst, uint32_t dst, uint32_t val, uint32_t n) {
  const wasm_memory *mem = inst->mem;
  if ((uint64_t)dst + n > mem->size) return RUSM_WASM_TRAP_OOB_MEMORY;
  if (n) memset(mem->base + dst, (int)(uint8_t)val, n);
  return RUSM_WASM_TRAP_NONE;
}

void wasm_op_data_drop(rusm_wasm_instance *inst, uint32_t seg) { inst->data_dropped[seg] = 1; }

int32_t wasm_op_table_grow(rusm_wasm_instance *inst, uint32_t table, void *init, uint32_t delta) {
  return (int32_t)wasm_table_grow(inst->tables[table], delta, init);
}

uint32_t wasm_op_table_fill(rusm_wasm_instance *inst, uint32_t table, uint32_t i, void *val,
                            uint32_t n) {
  wtable *t = inst->tables[table];
  if ((uint64_t)i + n > t->size) return RUSM_WASM_TRAP_OOB_TABLE;
  for (uint64_t k = 0; k < n; k++) t->elems[i + k] = val;
  return RUSM_WASM_TRAP_NONE;
}

uint32_t wasm_op_table_copy(rusm_wasm_instance *inst, uint32_t dst_table, uint32_t src_table,
                            uint32_t dst, uint32_t src, uint32_t n) {
  wtable *dt = inst->tables[dst_table], *st = inst->tables[src_table];
  if ((uint64_t)src + n > st->size || (uint64_t)dst + n > dt->size) return RUSM_WASM_TRAP_OOB_TABLE;
  if (n) memmove(dt->elems + dst, st->elems + src, (size_t)n * sizeof(void *));
  return RUSM_WASM_TRAP_NONE;
}

uint32_t wasm_op_table_init(rusm_wasm_instance *inst, uint32_t table, uint32_t seg, uint32_t dst,
                            uint32_t src, uint32_t n) {
  wtable *t = inst->tables[table];
  const wasm_elem *es = &inst->m->elems[seg];
  uint64_t slen = inst->elem_dropped[seg] ? 0 : es->count;
  if ((uint64_t)src + n > slen || (uint64_t)dst + n > t->size) return RUSM_WASM_TRAP_OOB_TABLE;
  for (uint64_t k = 0; k < n; k++) t->elems[dst + k] = wasm_elem_item(inst, es, (uint32_t)(src + k));
  return RUSM_WASM_TRAP_NONE;
}

void wasm_op_elem_drop(rusm_wasm_instance *inst, uint32_t seg) { inst->elem_dropped[seg] = 1; }
