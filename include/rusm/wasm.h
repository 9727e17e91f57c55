/*
** rusm/wasm.h -- RUSM's WebAssembly engine: load (decode + validate),
** instantiate, call with a fuel budget, suspend and resume.
**
** The engine is the only part of RUSM that knows what Wasm is.  Errors are
** values (rusm_wasm_error), never aborts.  Objects are not thread-safe
** except rusm_wasm_module, which is immutable once loaded.
*/
#ifndef RUSM_WASM_H
#define RUSM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rusm_wasm_valtype {
  RUSM_WASM_I32 = 0x7F,
  RUSM_WASM_I64 = 0x7E,
  RUSM_WASM_F32 = 0x7D,
  RUSM_WASM_F64 = 0x7C,
  RUSM_WASM_FUNCREF = 0x70,
  RUSM_WASM_EXTERNREF = 0x6F
} rusm_wasm_valtype;

/* A typed value. Floats are carried bit-exact (NaN payloads preserved):
** read and write them through f32_bits / f64_bits when that matters.
** A null reference is ref == NULL. A funcref is an engine-owned pointer,
** valid while the instance defining (or importing) the function lives; an
** externref is any host pointer, passed through untouched. */
typedef struct rusm_wasm_val {
  rusm_wasm_valtype type;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint32_t f32_bits;
    uint64_t f64_bits;
    void *ref;               /* funcref: engine-owned; externref: the host's */
  } of;
} rusm_wasm_val;

typedef enum rusm_wasm_error_kind {
  RUSM_WASM_OK = 0,
  RUSM_WASM_ERR_MALFORMED,   /* the binary cannot be decoded */
  RUSM_WASM_ERR_INVALID,     /* decoded, but fails validation */
  RUSM_WASM_ERR_LINK,        /* an import is missing or has the wrong type */
  RUSM_WASM_ERR_TRAP,        /* a trap during instantiation or a call */
  RUSM_WASM_ERR_RESOURCE,    /* out of memory, limits */
  RUSM_WASM_ERR_ARGS         /* API misuse: wrong arity/types, unknown name */
} rusm_wasm_error_kind;

typedef struct rusm_wasm_error {
  rusm_wasm_error_kind kind;
  uint32_t offset;           /* byte offset in the module, when it applies */
  char message[256];         /* e.g. "type mismatch (code section, func 3,
                                offset 0x1a2)"; spec wording comes first */
} rusm_wasm_error;

typedef enum rusm_wasm_trap {
  RUSM_WASM_TRAP_NONE = 0,
  RUSM_WASM_TRAP_UNREACHABLE,
  RUSM_WASM_TRAP_DIV_BY_ZERO,
  RUSM_WASM_TRAP_INT_OVERFLOW,
  RUSM_WASM_TRAP_INVALID_CONVERSION,
  RUSM_WASM_TRAP_OOB_MEMORY,
  RUSM_WASM_TRAP_OOB_TABLE,
  RUSM_WASM_TRAP_UNDEFINED_ELEMENT,
  RUSM_WASM_TRAP_UNINITIALIZED_ELEMENT,
  RUSM_WASM_TRAP_INDIRECT_CALL_TYPE,
  RUSM_WASM_TRAP_STACK_EXHAUSTED,
  RUSM_WASM_TRAP_HOST        /* a host function reported a trap */
} rusm_wasm_trap;

/* The spec's wording of a trap ("integer divide by zero", ...). Static. */
const char *rusm_wasm_trap_message(rusm_wasm_trap t);

/* ---------------------------------------------------------------- modules */

typedef struct rusm_wasm_module rusm_wasm_module;

/* Decodes and validates bytes (copied). Caller frees with
** rusm_wasm_module_free; on failure returns NULL and fills *err. A module
** must outlive every instance made from it. */
rusm_wasm_module *rusm_wasm_module_load(const uint8_t *bytes, size_t len,
                                        rusm_wasm_error *err);
void rusm_wasm_module_free(rusm_wasm_module *m);

/* How a module's functions run.  INTERP: the interpreter (instant to load,
** about 5x native time).  COMPILED: every function is compiled to native
** code through LLVM when the module is loaded (milliseconds per module,
** near native speed).  AUTO: loads like INTERP; once the module's execs
** have spent RUSM_WASM_TIERUP_FUEL units of fuel (see
** rusm_wasm_module_set_tierup_fuel), a thread of the module compiles it
** and its instances, running ones included, switch to the native code as
** rusm_wasm_module_compile describes.  All tiers keep the same semantics:
** fuel, host suspension, traps and their locations, limits; modules of
** any tiers may import from each other and share tables.  Compiled code
** runs on a coroutine stack (64 MiB of address space, committed as used)
** lent to the exec for the call: a paused compiled call holds one, an exec
** between calls does not. */
typedef enum rusm_wasm_tier {
  RUSM_WASM_TIER_INTERP = 0,
  RUSM_WASM_TIER_COMPILED = 1,
  RUSM_WASM_TIER_AUTO = 2
} rusm_wasm_tier;
/* AUTO's default threshold: a few tens of milliseconds of interpretation,
** about what compiling a small module costs. */
#define RUSM_WASM_TIERUP_FUEL ((uint64_t)1 << 22)
/* As rusm_wasm_module_load, choosing the tier. Caller frees with
** rusm_wasm_module_free (which waits for a compile AUTO started). A
** failure to compile at load is RUSM_WASM_ERR_RESOURCE; AUTO's background
** compile failing leaves the module on the interpreter. */
rusm_wasm_module *rusm_wasm_module_load_tier(const uint8_t *bytes, size_t len,
                                             rusm_wasm_tier tier, rusm_wasm_error *err);
/* The tier running m's functions now: COMPILED once m is compiled (at
** load or by a tier-up), else INTERP. */
rusm_wasm_tier rusm_wasm_module_tier(const rusm_wasm_module *m);
/* Tier-up: compiles m now, on the calling thread (or waits for the
** compile AUTO started), and switches its instances, live ones included,
** to the native code: every call that starts afterwards runs compiled; a
** call already running on the interpreter finishes there (there is no
** on-stack replacement).  Safe while m's instances run on other threads.
** Returns 0 (also when m is compiled already), or -1 with *err
** (RUSM_WASM_ERR_RESOURCE) if compiling fails; m then stays on the
** interpreter. */
int rusm_wasm_module_compile(rusm_wasm_module *m, rusm_wasm_error *err);
/* AUTO: the fuel m's execs spend on the interpreter before it compiles
** (0: at the end of the first run slice). No effect on other tiers. */
void rusm_wasm_module_set_tierup_fuel(rusm_wasm_module *m, uint64_t fuel);
/* AUTO: where the compile runs once m is hot.  By default a thread of
** the module's own; an embedder with its own workers (a scheduler that
** wants compiles off its cores, or one at a time) sets run, which is
** called (from whichever thread ran the exec that made m hot, between
** two run slices) as run(ctx, job, arg) and must call job(arg) exactly
** once, on any thread, now or later.  m stays on the interpreter until
** then, and rusm_wasm_module_free waits for it.  run NULL: the default
** again. */
typedef void (*rusm_wasm_job_fn)(void *arg);
typedef void (*rusm_wasm_job_runner)(void *ctx, rusm_wasm_job_fn job, void *arg);
void rusm_wasm_module_set_tierup_runner(rusm_wasm_module *m, rusm_wasm_job_runner run, void *ctx);

/* ---------------------------------------------------------------- linking */

/* A host function. args/results follow the declared signature (each
** results[i].type is preset to the declared type). Return
** RUSM_WASM_HOST_OK with results filled, RUSM_WASM_HOST_TRAP to trap the
** caller (trap kind RUSM_WASM_TRAP_HOST), or RUSM_WASM_HOST_SUSPEND to pause
** the call: the run returns RUSM_WASM_SUSPENDED (results ignored) and
** continues after rusm_wasm_exec_resume(results) + rusm_wasm_exec_run.
** `caller` is the instance whose code made the call.  A host function may
** use the engine (other execs, memory access) but must not free `caller`. */
typedef enum rusm_wasm_host_status {
  RUSM_WASM_HOST_OK = 0,
  RUSM_WASM_HOST_TRAP,
  RUSM_WASM_HOST_SUSPEND
} rusm_wasm_host_status;

typedef struct rusm_wasm_instance rusm_wasm_instance;

typedef rusm_wasm_host_status (*rusm_wasm_host_fn)(
    void *env, rusm_wasm_instance *caller,
    const rusm_wasm_val *args, rusm_wasm_val *results);

typedef struct rusm_wasm_functype {
  uint32_t nparams, nresults;
  const rusm_wasm_valtype *params, *results;
} rusm_wasm_functype;

/* Where imports come from: host functions and other instances' exports,
** looked up by (module, name). Caller frees with rusm_wasm_linker_free;
** it must outlive instantiations that use it (not the instances). */
typedef struct rusm_wasm_linker rusm_wasm_linker;
rusm_wasm_linker *rusm_wasm_linker_new(void);
void rusm_wasm_linker_free(rusm_wasm_linker *l);
/* Copies the names and the signature. env is passed through, not owned. */
int rusm_wasm_linker_define_func(rusm_wasm_linker *l, const char *module,
                                 const char *name, const rusm_wasm_functype *sig,
                                 rusm_wasm_host_fn fn, void *env);
/* Makes every export of inst importable as (module, export name). The
** instance is borrowed: it must outlive the linker's use of it. */
int rusm_wasm_linker_define_instance(rusm_wasm_linker *l, const char *module,
                                     rusm_wasm_instance *inst);

/* ---------------------------------------------------------------- instances */

/* Resolves imports through l (may be NULL if there are none), allocates
** memories/tables/globals, applies segments and runs the start function.
** Caller frees with rusm_wasm_instance_free. NULL + *err on failure (LINK
** "unknown import" / "incompatible import type" for unresolvable imports,
** TRAP "out of bounds table access" / "out of bounds memory access" or the
** start function's trap).  Segments are applied in order (Wasm 2.0): a
** failing one leaves earlier writes to imported tables/memories in place;
** such a half-made instance (its functions may now sit in another
** instance's table) is kept alive by l until rusm_wasm_linker_free.
** Imported memories, tables and globals are shared by reference: their
** exporter must outlive the importer.  The module is translated once, on
** its first instantiation, and the translation is shared. */
rusm_wasm_instance *rusm_wasm_instantiate(const rusm_wasm_module *m,
                                          rusm_wasm_linker *l,
                                          rusm_wasm_error *err);
void rusm_wasm_instance_free(rusm_wasm_instance *inst);

/* Exported function's signature; false if there is no such function export. */
bool rusm_wasm_export_func_type(rusm_wasm_instance *inst, const char *name,
                                rusm_wasm_functype *out);
/* Reads an exported global; false if there is none by that name. */
bool rusm_wasm_export_global_get(rusm_wasm_instance *inst, const char *name,
                                 rusm_wasm_val *out);

/* Memory 0 of the instance: base pointer and size in bytes (NULL and 0 if
** the size is 0). The pointer is invalidated by memory.grow (the memory may
** move when it grows). */
uint8_t *rusm_wasm_memory(rusm_wasm_instance *inst, size_t *size);
/* Bounds-checked copies; false if [offset, offset+len) is outside memory 0. */
bool rusm_wasm_memory_read(rusm_wasm_instance *inst, uint64_t offset, void *dst, size_t len);
bool rusm_wasm_memory_write(rusm_wasm_instance *inst, uint64_t offset, const void *src, size_t len);

/* ---------------------------------------------------------------- execution */

typedef enum rusm_wasm_status {
  RUSM_WASM_RETURNED = 0,    /* results ready: rusm_wasm_exec_results */
  RUSM_WASM_TRAPPED,         /* rusm_wasm_exec_trap says which */
  RUSM_WASM_OUT_OF_FUEL,     /* rusm_wasm_exec_run again to continue */
  RUSM_WASM_SUSPENDED        /* a host function paused: resume with results */
} rusm_wasm_status;

#define RUSM_WASM_FUEL_UNLIMITED UINT64_MAX

/* One thread of execution (call stack + operand stack) on an instance,
** reusable for call after call (also after a trap). Interpreted Wasm calls
** never nest C frames: the stack is the exec's own, growing on demand up
** to 64 MiB of values and call records (calls between instances: up to
** 100000 deep). Compiled code runs on a coroutine stack (64 MiB
** reserved, committed as used) that the module's pool lends the exec
** while a call lasts, so that pausing it never blocks the caller's
** thread (each paused compiled call holds one stack; Linux's default
** limit on mappings allows about 32000 at once). Past either limit the
** call traps with RUSM_WASM_TRAP_STACK_EXHAUSTED. An exec runs on one
** thread at a time; a paused exec may be continued on another thread.
** Caller frees with rusm_wasm_exec_free. */
typedef struct rusm_wasm_exec rusm_wasm_exec;
rusm_wasm_exec *rusm_wasm_exec_new(rusm_wasm_instance *inst);
void rusm_wasm_exec_free(rusm_wasm_exec *e);

/* Prepares a call of the exported function `name` with args (checked
** against its signature). Returns 0, or -1 with *err (ARGS), also when the
** exec is paused (OUT_OF_FUEL) or suspended in the middle of a call. */
int rusm_wasm_exec_call(rusm_wasm_exec *e, const char *name,
                        const rusm_wasm_val *args, size_t nargs,
                        rusm_wasm_error *err);
/* Runs for at most `fuel` units: one unit per loop iteration (charged at
** the loop's entry and at every backward branch) and one per call, so an
** infinite loop or recursion always comes back. OUT_OF_FUEL: call again to
** continue exactly where it stopped. RUSM_WASM_FUEL_UNLIMITED disables the
** limit. After RETURNED/TRAPPED, running again repeats that status. */
rusm_wasm_status rusm_wasm_exec_run(rusm_wasm_exec *e, uint64_t fuel);
/* After RUSM_WASM_SUSPENDED: the suspended host function's results (count
** and types checked: -1 if wrong or not suspended, else 0). Then call
** rusm_wasm_exec_run to continue. */
int rusm_wasm_exec_resume(rusm_wasm_exec *e, const rusm_wasm_val *results, size_t n);
/* After RUSM_WASM_RETURNED: copies up to max results; returns their count. */
size_t rusm_wasm_exec_results(rusm_wasm_exec *e, rusm_wasm_val *out, size_t max);
/* After RUSM_WASM_TRAPPED: the trap, and where (function index, byte
** offset of the trapping instruction in the module; UINT32_MAX and 0 if the
** trap was outside Wasm code, e.g. a host function called directly).
** RUSM_WASM_TRAP_NONE if the exec has not trapped. */
rusm_wasm_trap rusm_wasm_exec_trap(rusm_wasm_exec *e, uint32_t *func, uint32_t *offset);
/* Fuel units consumed by this exec since it was created. */
uint64_t rusm_wasm_exec_fuel_used(const rusm_wasm_exec *e);

/* Convenience: call `name` to completion with unlimited fuel. Returns the
** status (never OUT_OF_FUEL; SUSPENDED traps as a host error) and fills
** results (up to max) or *err. */
rusm_wasm_status rusm_wasm_call(rusm_wasm_instance *inst, const char *name,
                                const rusm_wasm_val *args, size_t nargs,
                                rusm_wasm_val *results, size_t max,
                                rusm_wasm_error *err);

#ifdef __cplusplus
}
#endif
#endif
