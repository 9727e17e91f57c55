/*
** memory.c -- linear memory allocation.
**
** Small memories come from the C heap: a freed instance's pages are reused
** already faulted in, which keeps instantiation in the microseconds (a fresh
** mmap'd page costs ~1.5 us on first touch here).  Growth reallocates (glibc
** turns large reallocs into mremap, so big memories move without copying).
** The allocation is kept one byte larger than the memory so that base is
** never NULL and memcpy/memset with length 0 stay defined.
*/
#include "memory.h"

#include <stdlib.h>
#include <string.h>

bool wasm_memory_init(wasm_memory *mem, uint32_t min, uint32_t max, bool has_max) {
  memset(mem, 0, sizeof *mem);
  if (min > WASM_MAX_PAGES) return false;
  mem->max_pages = has_max && max < WASM_MAX_PAGES ? max : WASM_MAX_PAGES;
  mem->has_max = has_max;
  size_t bytes = (size_t)min * WASM_PAGE_SIZE;
  mem->base = calloc(1, bytes + 1);
  if (!mem->base) return false;
  mem->alloc = bytes + 1;
  mem->pages = min;
  mem->size = bytes;
  return true;
}

void wasm_memory_destroy(wasm_memory *mem) {
  free(mem->base);
  mem->base = NULL;
  mem->size = 0;
  mem->pages = 0;
}

int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta) {
  uint32_t old = mem->pages;
  if (delta == 0) return old;
  if (delta > mem->max_pages || old > mem->max_pages - delta) return -1;
  size_t bytes = (size_t)(old + delta) * WASM_PAGE_SIZE;
  if (bytes + 1 > mem->alloc) {
    uint8_t *nb = realloc(mem->base, bytes + 1);
    if (!nb) return -1;
    mem->base = nb;
    mem->alloc = bytes + 1;
  }
  memset(mem->base + mem->size, 0, bytes - mem->size + 1);
  mem->pages = old + delta;
  mem->size = bytes;
  return old;
}
