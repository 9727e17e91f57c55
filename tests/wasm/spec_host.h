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

/* Flags for spec_host_define. */
enum {
  SPEC_HOST_VERBOSE = 1,     /* print* write their arguments to stdout */
  SPEC_HOST_SUSPEND = 2      /* print* suspend the call (when allowed) */
};

/* Defines everything under "spectest" in l: a fresh instance of
** spec_host_module (returned in *inst, caller frees it after the linker's
** last use) plus the print* host functions. Returns 0, or -1 with *err. */
int spec_host_define(rusm_wasm_linker *l, rusm_wasm_instance **inst,
                     unsigned flags, rusm_wasm_error *err);

/* With SPEC_HOST_SUSPEND, print* suspend only while this is on: the caller
** turns it on around its own rusm_wasm_exec_run loop, which resumes them
** (a start function run by rusm_wasm_instantiate has no one to resume it). */
void spec_host_allow_suspend(bool on);

/* Frees the module made by spec_host_module (at exit). */
void spec_host_cleanup(void);

#endif
