/* interp_entry.c -- for wabt's wasm-interp, which (in 1.0.32) cannot pass
** arguments to an export: a no-argument export "bench" that calls run with
** the size fixed at build time (-DINTERP_N=...). */
#include "kernel.h"

uint32_t bench(void);
uint32_t bench(void) { return run(INTERP_N); }
