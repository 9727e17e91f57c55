/*
** spec_host.h -- the spec suite's standard "spectest" host module, built
** from the public engine API only (shared by the spec runner and the fuzz
** harness).
*/
#ifndef RUSM_TESTS_SPEC_HOST_H
#define RUSM_TESTS_SPEC_HOST_H

#include <stdbool.h>
#include <rusm/wasm.h>

/* The spectest globals/table/memory as a Wasm module (wasm.h has no
** host-created tables, memories or globals, so a tiny module exports them).
** Loaded once; NULL + *err if the engine rejects it. */
rusm_wasm_module *spec_host_module(rusm_wasm_error *err);

/* Defines everything under "spectest" in l: a fresh instance of
** spec_host_module (returned in *inst, caller frees it after the linker's
** last use) plus the print* host functions. If verbose, print* write their
** arguments to stdout. Returns 0, or -1 with *err. */
int spec_host_define(rusm_wasm_linker *l, rusm_wasm_instance **inst,
                     bool verbose, rusm_wasm_error *err);

/* Frees the module made by spec_host_module (at exit). */
void spec_host_cleanup(void);

#endif
