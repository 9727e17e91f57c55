/*
** memory.h -- linear memory behind a small interface (create, grow,
** destroy, bounds policy), so that pooled and copy-on-write memories can
** replace the allocation strategy without touching the interpreter.
**
** Bounds policy: explicit checks.  The interpreter keeps `base` and `size`
** in registers and tests `ea + n > size` on every access (ea is a 64-bit
** sum of a 32-bit address and a 32-bit offset, so it cannot wrap).  Chosen
** by measurement: removing the checks altogether (interp.c built with
** -DRUSM_WASM_NO_BOUNDS_MEASURE, the best a guard-region scheme could do)
** gained about 1% on the guest kernels (within noise), while guard regions
** would cost 8 GiB of address space per memory, a process-wide SIGSEGV
** handler, and the small heap-allocated memories that make instantiation
** take microseconds.  Compiled code (jit.h) checks the same way, and
** there the checks do cost: without them (a measuring build, 2026-11-30)
** the kernels ran about 7% faster on the geomean, matmul 30% and lz 24%,
** since a check in an inner loop stops LLVM from vectorizing or hoisting.
** Still explicit, for the same reasons: an actor runtime wants very many
** small instances, and 8 GiB each would allow about 16k in 47 bits.  The
** memory may move on grow; the interpreter reloads base/size after
** memory.grow, host calls and instance switches.
*/
#ifndef RUSM_WASM_MEMORY_H
#define RUSM_WASM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WASM_PAGE_SIZE 65536u
#define WASM_MAX_PAGES 65536u        /* 4 GiB: the memory32 limit */

typedef struct wasm_memory {
  uint8_t *base;             /* never NULL, even for 0 pages */
  uint64_t size;             /* bytes == pages * WASM_PAGE_SIZE */
  uint32_t pages;
  uint32_t max_pages;        /* declared max, capped at WASM_MAX_PAGES */
  bool has_max;              /* declared (for import matching) */
  size_t alloc;              /* bytes allocated at base */
} wasm_memory;

/* Allocates `min` zeroed pages. Returns false when out of memory. */
bool wasm_memory_init(wasm_memory *mem, uint32_t min, uint32_t max, bool has_max);
void wasm_memory_destroy(wasm_memory *mem);
/* memory.grow: returns the old size in pages, or -1 (limit or no memory).
** New pages are zeroed.  base may change. */
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta);

static inline bool wasm_memory_in_bounds(const wasm_memory *mem, uint64_t off, uint64_t len) {
  return off <= mem->size && len <= mem->size - off;
}

#endif
