/*
** module.h -- a decoded and validated WebAssembly module, as the decoder
** (decode.c, validate.c) hands it to the compiler and the instantiator.
**
** Everything here is immutable after rusm_wasm_module_load returns, so one
** module may be instantiated many times from many threads.  Function bodies
** stay as the original bytes (code/code_len point into `bytes`); the
** compiler translates them into its own form.
*/
#ifndef RUSM_WASM_MODULE_H
#define RUSM_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types, by their binary encoding. */
enum {
  WASM_I32 = 0x7F,
  WASM_I64 = 0x7E,
  WASM_F32 = 0x7D,
  WASM_F64 = 0x7C,
  WASM_V128 = 0x7B,      /* decoded only to reject it: SIMD is out of scope */
  WASM_FUNCREF = 0x70,
  WASM_EXTERNREF = 0x6F
};

/* External kinds, by their binary encoding. */
enum { WASM_EXT_FUNC = 0, WASM_EXT_TABLE = 1, WASM_EXT_MEMORY = 2, WASM_EXT_GLOBAL = 3 };

typedef struct wasm_functype {
  uint32_t nparams, nresults;
  uint8_t *types;            /* nparams param types, then nresults result types */
} wasm_functype;

typedef struct wasm_limits {
  uint32_t min, max;         /* in pages (memory) or elements (table) */
  bool has_max;
} wasm_limits;

typedef struct wasm_tabletype {
  uint8_t elem;              /* WASM_FUNCREF or WASM_EXTERNREF */
  wasm_limits lim;
} wasm_tabletype;

typedef struct wasm_globaltype {
  uint8_t type;
  bool mut;
} wasm_globaltype;

/* A constant expression (global init, segment offset, element item). */
enum {
  WASM_CONST_I32, WASM_CONST_I64, WASM_CONST_F32, WASM_CONST_F64,
  WASM_CONST_REF_NULL,       /* value = the reference type */
  WASM_CONST_REF_FUNC,       /* value = function index */
  WASM_CONST_GLOBAL_GET      /* value = global index (an imported global) */
};
typedef struct wasm_const_expr {
  uint8_t kind;
  uint64_t value;            /* integer, float bits, or index; see kind */
} wasm_const_expr;

typedef struct wasm_import {
  char *module, *name;       /* NUL-terminated copies, owned by the module */
  uint32_t module_len, name_len;  /* names may hold NULs: compare with these */
  uint8_t kind;              /* WASM_EXT_* */
  union {
    uint32_t func_type;      /* type index */
    wasm_tabletype table;
    wasm_limits memory;
    wasm_globaltype global;
  } u;
} wasm_import;

typedef struct wasm_func {
  uint32_t type;             /* type index */
  /* Defined functions only (imports have code == NULL): */
  uint32_t nlocals;          /* locals beyond the parameters */
  uint8_t *local_types;      /* nlocals entries */
  const uint8_t *code;       /* the body's instructions, after the local
                                declarations, through the final `end` */
  uint32_t code_len;
  uint32_t code_offset;      /* offset of `code` in the module's bytes */
  uint32_t max_stack;        /* most operand-stack values live at once
                                (from validation), locals not included */
  uint32_t max_depth;        /* deepest nesting of blocks/loops/ifs, the
                                function's own block included (so >= 1) */
} wasm_func;

typedef struct wasm_global {
  wasm_globaltype type;
  wasm_const_expr init;      /* defined globals only */
} wasm_global;

typedef struct wasm_export {
  char *name;
  uint32_t name_len;
  uint8_t kind;              /* WASM_EXT_* */
  uint32_t index;
} wasm_export;

enum { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

typedef struct wasm_elem {
  uint8_t mode;              /* WASM_SEG_* */
  uint8_t type;              /* WASM_FUNCREF or WASM_EXTERNREF */
  uint32_t table;            /* active only */
  wasm_const_expr offset;    /* active only */
  uint32_t count;
  wasm_const_expr *items;    /* REF_FUNC / REF_NULL / GLOBAL_GET */
} wasm_elem;

typedef struct wasm_data {
  uint8_t mode;              /* WASM_SEG_ACTIVE or WASM_SEG_PASSIVE */
  uint32_t memory;           /* active only */
  wasm_const_expr offset;    /* active only */
  const uint8_t *bytes;      /* points into the module's bytes */
  uint32_t len;
} wasm_data;

/* Index spaces put imports first, as the spec does: funcs[0..num_imported
** _funcs) are imports, the rest defined; likewise tables, memories, globals.
** The import entries themselves are also listed in `imports`, in order.
** The public handle rusm_wasm_module (wasm.h) is this struct, so the two
** pointer types convert without casts. */
typedef struct rusm_wasm_module wasm_module;
struct rusm_wasm_module {
  uint8_t *bytes;            /* owned copy of the binary */
  size_t size;

  wasm_functype *types;      uint32_t ntypes;
  wasm_import *imports;      uint32_t nimports;
  wasm_func *funcs;          uint32_t nfuncs, num_imported_funcs;
  wasm_tabletype *tables;    uint32_t ntables, num_imported_tables;
  wasm_limits *memories;     uint32_t nmemories, num_imported_memories;
  wasm_global *globals;      uint32_t nglobals, num_imported_globals;
  wasm_export *exports;      uint32_t nexports;
  wasm_elem *elems;          uint32_t nelems;
  wasm_data *datas;          uint32_t ndatas;
  bool has_start;            uint32_t start;
  /* Functions named by ref.func outside function bodies (exports, globals,
  ** element segments): the "declared" set C.refs of the spec. */
  uint8_t *func_declared;    /* nfuncs flags */
  /* Left NULL by the decoder, for the executor to hang its translation of
  ** the module on; rusm_wasm_module_free calls compiled_free(compiled) if
  ** both are set. */
  void *compiled;
  void (*compiled_free)(void *compiled);
  /* The compiled tier (jit.c): the tier asked for at load, and the native
  ** code, made at load for RUSM_WASM_TIER_COMPILED or by a later tier-up
  ** (then published atomically: read with acquire); jit_free(jit) frees
  ** it.  tierup is tier.c's state for switching tiers (freed first, by
  ** tierup_free, which waits for a compile under way). */
  uint8_t tier;              /* rusm_wasm_tier */
  void *jit;
  void (*jit_free)(void *jit);
  void *tierup;
  void (*tierup_free)(void *tierup);
  /* Idle coroutine stacks for compiled code, lent to the execs of the
  ** module's instances (jit_rt.c); coro_pool_free frees them. */
  void *coro_pool;
  void (*coro_pool_free)(void *pool);
};

#endif
