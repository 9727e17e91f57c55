/*
** test_decode.c -- unit tests of the Wasm decoder/validator on hand-made
** binaries: one valid module using every section (checked field by field
** in the decoded wasm_module), then malformed and invalid modules, each
** checked for the error kind and the spec's message prefix.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "wasm_check.h"

#include "../../src/wasm/module.h"

/* ---------------------------------------------------------------- builder */

typedef struct { uint8_t b[4096]; size_t n; } buf;

static void put(buf *o, const uint8_t *p, size_t n) {
  if (o->n + n > sizeof o->b) abort();
  memcpy(o->b + o->n, p, n);
  o->n += n;
}

static void put_leb(buf *o, uint32_t x) {
  do {
    uint8_t byte = x & 0x7f;
    x >>= 7;
    if (x) byte |= 0x80;
    put(o, &byte, 1);
  } while (x);
}

static void header(buf *o) {
  static const uint8_t h[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  o->n = 0;
  put(o, h, sizeof h);
}

/* Appends a section with its size computed from the payload. */
static void section(buf *o, uint8_t id, const uint8_t *p, size_t n) {
  put(o, &id, 1);
  put_leb(o, (uint32_t)n);
  put(o, p, n);
}

#define SEC(o, id, ...)                                                     \
  do {                                                                      \
    static const uint8_t p_[] = {__VA_ARGS__};                              \
    section((o), (id), p_, sizeof p_);                                      \
  } while (0)
#define RAW(o, ...)                                                         \
  do {                                                                      \
    static const uint8_t p_[] = {__VA_ARGS__};                              \
    put((o), p_, sizeof p_);                                                \
  } while (0)

/* Common prefixes: type 0 = [] -> [], type 1 = [] -> [i32]; one function
** of type 0 whose body the test supplies. */
#define TYPES(o) SEC(o, 1, 0x02, 0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f)
#define ONE_FUNC(o) SEC(o, 3, 0x01, 0x00)

/* A code section with one body (no locals) given as its instructions. */
static void body(buf *o, const uint8_t *ins, size_t n) {
  buf c = {.n = 0};
  put_leb(&c, 1);
  put_leb(&c, (uint32_t)n + 1);
  put_leb(&c, 0);
  put(&c, ins, n);
  section(o, 10, c.b, c.n);
}
#define BODY(o, ...)                                                        \
  do {                                                                      \
    static const uint8_t p_[] = {__VA_ARGS__};                              \
    body((o), p_, sizeof p_);                                               \
  } while (0)

/* ---------------------------------------------------------------- checks */

static void expect_error(int line, const buf *o, rusm_wasm_error_kind kind,
                         const char *prefix) {
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load(o->b, o->n, &err);
  if (m || err.kind != kind || strncmp(err.message, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "line %d: expected %s \"%s\", got %s \"%s\"\n", line,
            kind == RUSM_WASM_ERR_MALFORMED ? "malformed" : "invalid", prefix,
            m ? "success" : err.kind == RUSM_WASM_ERR_MALFORMED ? "malformed"
                          : err.kind == RUSM_WASM_ERR_INVALID   ? "invalid"
                                                                : "other",
            m ? "" : err.message);
    failures++;
  }
  rusm_wasm_module_free(m);
}
#define MALFORMED(o, text) expect_error(__LINE__, (o), RUSM_WASM_ERR_MALFORMED, (text))
#define INVALID(o, text) expect_error(__LINE__, (o), RUSM_WASM_ERR_INVALID, (text))

static void expect_ok(int line, const buf *o) {
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load(o->b, o->n, &err);
  if (!m) {
    fprintf(stderr, "line %d: expected success, got \"%s\"\n", line, err.message);
    failures++;
  }
  rusm_wasm_module_free(m);
}
#define OK(o) expect_ok(__LINE__, (o))

/* ---------------------------------------------------------------- tests */

static void test_full_module(void) {
  buf o;
  header(&o);
  /* custom section first: skipped */
  SEC(&o, 0, 0x04, 'n', 'o', 't', 'e', 0x01, 0x02, 0x03);
  /* types: 0 = [] -> [], 1 = [i32 i32] -> [i32] */
  SEC(&o, 1, 0x02, 0x60, 0x00, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f);
  /* imports: env.f func type 1, env.t table funcref min 1, env.g global i32 */
  SEC(&o, 2, 0x03,
      0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x01,
      0x03, 'e', 'n', 'v', 0x01, 't', 0x01, 0x70, 0x00, 0x01,
      0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x00);
  /* functions 1 (type 0) and 2 (type 1) */
  SEC(&o, 3, 0x02, 0x00, 0x01);
  /* table 1: externref, min 0 max 4 */
  SEC(&o, 4, 0x01, 0x6f, 0x01, 0x00, 0x04);
  /* memory 0: min 1 max 2 */
  SEC(&o, 5, 0x01, 0x01, 0x01, 0x02);
  /* globals 1: mut i64 = -1; 2: funcref = ref.func 2 */
  SEC(&o, 6, 0x02, 0x7e, 0x01, 0x42, 0x7f, 0x0b, 0x70, 0x00, 0xd2, 0x02, 0x0b);
  /* exports: "add" func 2, "mem" memory 0, "a\0b" global 1 */
  SEC(&o, 7, 0x03,
      0x03, 'a', 'd', 'd', 0x00, 0x02,
      0x03, 'm', 'e', 'm', 0x02, 0x00,
      0x03, 'a', 0x00, 'b', 0x03, 0x01);
  SEC(&o, 8, 0x01);                                 /* start: func 1 */
  /* elems: active table 0 at i32.const 0 funcs [0, 2]; passive funcref
  ** expressions [ref.null func] */
  SEC(&o, 9, 0x02,
      0x00, 0x41, 0x00, 0x0b, 0x02, 0x00, 0x02,
      0x05, 0x70, 0x01, 0xd0, 0x70, 0x0b);
  SEC(&o, 12, 0x02);                                /* data count */
  /* code: func 1 = memory.init 1 (0 0 0); data.drop 0
  **       func 2 = local (1 x i64); local.get 0 + local.get 1 */
  SEC(&o, 10, 0x02,
      0x0f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x01, 0x00,
      0xfc, 0x09, 0x00, 0x0b,
      0x09, 0x01, 0x01, 0x7e, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b);
  /* data: active at i32.const 8 "hi"; passive "xyz" */
  SEC(&o, 11, 0x02,
      0x00, 0x41, 0x08, 0x0b, 0x02, 'h', 'i',
      0x01, 0x03, 'x', 'y', 'z');
  SEC(&o, 0, 0x01, 'z');                            /* trailing custom */

  rusm_wasm_error err;
  wasm_module *m = rusm_wasm_module_load(o.b, o.n, &err);
  if (!m) {
    fprintf(stderr, "full module rejected: %s\n", err.message);
    failures++;
    return;
  }
  CHECK(m->size == o.n && m->bytes != o.b && memcmp(m->bytes, o.b, o.n) == 0);
  CHECK(m->ntypes == 2);
  CHECK(m->types[1].nparams == 2 && m->types[1].nresults == 1);
  CHECK(m->types[1].types[0] == WASM_I32 && m->types[1].types[2] == WASM_I32);
  CHECK(m->nimports == 3);
  CHECK(m->imports[0].module_len == 3 && strcmp(m->imports[0].module, "env") == 0);
  CHECK(strcmp(m->imports[1].name, "t") == 0 && m->imports[1].kind == WASM_EXT_TABLE);
  CHECK(m->imports[2].u.global.type == WASM_I32 && !m->imports[2].u.global.mut);
  CHECK(m->nfuncs == 3 && m->num_imported_funcs == 1);
  CHECK(m->funcs[0].type == 1 && m->funcs[0].code == NULL);
  CHECK(m->funcs[1].type == 0 && m->funcs[2].type == 1);
  CHECK(m->ntables == 2 && m->num_imported_tables == 1);
  CHECK(m->tables[0].elem == WASM_FUNCREF && m->tables[0].lim.min == 1 && !m->tables[0].lim.has_max);
  CHECK(m->tables[1].elem == WASM_EXTERNREF && m->tables[1].lim.has_max && m->tables[1].lim.max == 4);
  CHECK(m->nmemories == 1 && m->num_imported_memories == 0);
  CHECK(m->memories[0].min == 1 && m->memories[0].max == 2 && m->memories[0].has_max);
  CHECK(m->nglobals == 3 && m->num_imported_globals == 1);
  CHECK(m->globals[1].type.type == WASM_I64 && m->globals[1].type.mut);
  CHECK(m->globals[1].init.kind == WASM_CONST_I64 && m->globals[1].init.value == UINT64_MAX);
  CHECK(m->globals[2].init.kind == WASM_CONST_REF_FUNC && m->globals[2].init.value == 2);
  CHECK(m->nexports == 3);
  CHECK(strcmp(m->exports[0].name, "add") == 0 && m->exports[0].kind == WASM_EXT_FUNC &&
        m->exports[0].index == 2);
  CHECK(m->exports[2].name_len == 3 && memcmp(m->exports[2].name, "a\0b", 4) == 0);
  CHECK(m->has_start && m->start == 1);
  CHECK(m->nelems == 2);
  CHECK(m->elems[0].mode == WASM_SEG_ACTIVE && m->elems[0].table == 0 && m->elems[0].count == 2);
  CHECK(m->elems[0].offset.kind == WASM_CONST_I32 && m->elems[0].offset.value == 0);
  CHECK(m->elems[0].items[1].kind == WASM_CONST_REF_FUNC && m->elems[0].items[1].value == 2);
  CHECK(m->elems[1].mode == WASM_SEG_PASSIVE && m->elems[1].type == WASM_FUNCREF);
  CHECK(m->elems[1].count == 1 && m->elems[1].items[0].kind == WASM_CONST_REF_NULL);
  CHECK(m->ndatas == 2);
  CHECK(m->datas[0].mode == WASM_SEG_ACTIVE && m->datas[0].offset.value == 8 &&
        m->datas[0].len == 2 && memcmp(m->datas[0].bytes, "hi", 2) == 0);
  CHECK(m->datas[1].mode == WASM_SEG_PASSIVE && m->datas[1].len == 3);
  CHECK(m->func_declared[0] && !m->func_declared[1] && m->func_declared[2]);
  /* bodies: code points after the locals, through the final end */
  CHECK(m->funcs[1].nlocals == 0 && m->funcs[1].max_stack == 3 && m->funcs[1].max_depth == 1);
  CHECK(m->funcs[1].code == m->bytes + m->funcs[1].code_offset);
  CHECK(m->funcs[1].code[0] == 0x41 && m->funcs[1].code[m->funcs[1].code_len - 1] == 0x0b);
  CHECK(m->funcs[2].nlocals == 1 && m->funcs[2].local_types[0] == WASM_I64);
  CHECK(m->funcs[2].code_len == 6 && m->funcs[2].max_stack == 2);
  rusm_wasm_module_free(m);
}

static void test_valid_corners(void) {
  buf o;
  /* the empty module */
  header(&o);
  OK(&o);
  /* unreachable code is polymorphic: i32.add on nothing, then end with a
  ** result from nowhere */
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01);
  BODY(&o, 0x00, 0x6a, 0x1a, 0x0b);
  OK(&o);
  /* padded (non-minimal) LEB128 indices, as wasm-ld emits them */
  header(&o); TYPES(&o); ONE_FUNC(&o);
  BODY(&o, 0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b);
  OK(&o);
  /* multi-value block typed by a type index: block (type 1) i32.const 1 end drop */
  header(&o); TYPES(&o); ONE_FUNC(&o);
  BODY(&o, 0x02, 0x01, 0x41, 0x01, 0x0b, 0x1a, 0x0b);
  OK(&o);
  /* br_table with labels of the same arity, typed select */
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01);
  BODY(&o, 0x02, 0x7f, 0x41, 0x07, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x00, 0x0b,
       0x41, 0x01, 0x41, 0x02, 0x1c, 0x01, 0x7f, 0x0b);
  OK(&o);
}

static void test_malformed(void) {
  buf o;
  o.n = 0;
  MALFORMED(&o, "unexpected end");
  RAW(&o, 0x00, 0x61, 0x73);
  MALFORMED(&o, "unexpected end");
  o.n = 0; RAW(&o, 0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00);
  MALFORMED(&o, "magic header not detected");
  o.n = 0; RAW(&o, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
  MALFORMED(&o, "unknown binary version");

  header(&o); SEC(&o, 13, 0x00);
  MALFORMED(&o, "malformed section id");
  header(&o); ONE_FUNC(&o); TYPES(&o);
  MALFORMED(&o, "unexpected content after last section");
  header(&o); TYPES(&o); TYPES(&o);
  MALFORMED(&o, "unexpected content after last section");

  /* LEB128: 6 bytes for a u32; 5th byte with bits beyond 32 */
  header(&o); SEC(&o, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  MALFORMED(&o, "integer representation too long");
  header(&o); SEC(&o, 1, 0x80, 0x80, 0x80, 0x80, 0x70);
  MALFORMED(&o, "integer too large");
  /* i32.const whose 5th byte does not sign-extend */
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01);
  BODY(&o, 0x41, 0xff, 0xff, 0xff, 0xff, 0x4f, 0x0b);
  MALFORMED(&o, "integer too large");

  /* section longer than its content */
  header(&o); SEC(&o, 1, 0x01, 0x60, 0x00, 0x00, 0x00);
  MALFORMED(&o, "section size mismatch");
  /* section size beyond the module; vector count beyond the module */
  header(&o); RAW(&o, 0x01, 0x20, 0x01, 0x60, 0x00, 0x00);
  MALFORMED(&o, "length out of bounds");
  header(&o); SEC(&o, 1, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED(&o, "length out of bounds");
  /* vector running out of items inside the module */
  header(&o); RAW(&o, 0x04, 0x01, 0x01);
  MALFORMED(&o, "unexpected end");

  header(&o); SEC(&o, 0, 0x02, 0xc0, 0x80);
  MALFORMED(&o, "malformed UTF-8 encoding");
  header(&o); SEC(&o, 0, 0x03, 0xed, 0xa0, 0x80);           /* surrogate */
  MALFORMED(&o, "malformed UTF-8 encoding");

  header(&o); TYPES(&o); ONE_FUNC(&o);
  MALFORMED(&o, "function and code section have inconsistent lengths");
  header(&o); TYPES(&o); ONE_FUNC(&o);
  SEC(&o, 10, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x01, 0x7e, 0x0b);
  MALFORMED(&o, "too many locals");

  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0xff, 0x0b);
  MALFORMED(&o, "illegal opcode");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0xfc, 0x12, 0x0b);
  MALFORMED(&o, "illegal opcode");
  header(&o); TYPES(&o); ONE_FUNC(&o); SEC(&o, 5, 0x01, 0x00, 0x01);
  BODY(&o, 0x3f, 0x01, 0x1a, 0x0b);
  MALFORMED(&o, "zero byte expected");
  /* else outside an if */
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x05, 0x0b);
  MALFORMED(&o, "END opcode expected");
  /* body missing its end at the end of the module */
  header(&o); TYPES(&o); ONE_FUNC(&o); SEC(&o, 10, 0x01, 0x02, 0x00, 0x01);
  MALFORMED(&o, "unexpected end");

  /* memory.init with data segments but no data count section */
  header(&o); TYPES(&o); ONE_FUNC(&o); SEC(&o, 5, 0x01, 0x00, 0x01);
  BODY(&o, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x00, 0x00, 0x0b);
  SEC(&o, 11, 0x01, 0x01, 0x00);
  MALFORMED(&o, "data count section required");
  header(&o); SEC(&o, 5, 0x01, 0x00, 0x01); SEC(&o, 12, 0x02); SEC(&o, 11, 0x01, 0x01, 0x00);
  MALFORMED(&o, "data count and data section have inconsistent lengths");

  header(&o); SEC(&o, 4, 0x01, 0x7f, 0x00, 0x00);
  MALFORMED(&o, "malformed reference type");
  header(&o); SEC(&o, 2, 0x01, 0x01, 'm', 0x01, 'n', 0x04, 0x00);
  MALFORMED(&o, "malformed import kind");
  header(&o); SEC(&o, 6, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b);
  MALFORMED(&o, "malformed mutability");

  /* found by fuzzing: ref.func in a data offset before any code section */
  o.n = 0;
  RAW(&o, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
      0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0b, 0x01, 0x09, 0x00, 0xd2,
      0x00, 0x41, 0x70, 0xfc, 0x0f, 0x00, 0x0b);
  MALFORMED(&o, "unexpected end");

  /* malformed beats invalid: a type error in a body, then a bad section id */
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x6a, 0x0b); SEC(&o, 14, 0x00);
  MALFORMED(&o, "malformed section id");
}

static void test_invalid(void) {
  buf o;
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x41, 0x00, 0x6a, 0x0b);
  INVALID(&o, "type mismatch");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x41, 0x00, 0x0b);
  INVALID(&o, "type mismatch");                 /* value left on the stack */
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01); BODY(&o, 0x42, 0x00, 0x0b);
  INVALID(&o, "type mismatch");                 /* i64 for an i32 result */
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x20, 0x00, 0x1a, 0x0b);
  INVALID(&o, "unknown local");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x23, 0x00, 0x1a, 0x0b);
  INVALID(&o, "unknown global");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x10, 0x05, 0x0b);
  INVALID(&o, "unknown function 5");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x0c, 0x01, 0x0b);
  INVALID(&o, "unknown label");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b);
  INVALID(&o, "unknown memory 0");
  header(&o); TYPES(&o); ONE_FUNC(&o); SEC(&o, 5, 0x01, 0x00, 0x01);
  BODY(&o, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1a, 0x0b);
  INVALID(&o, "alignment must not be larger than natural");
  header(&o); TYPES(&o); ONE_FUNC(&o); SEC(&o, 6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x0b);
  BODY(&o, 0x41, 0x01, 0x24, 0x00, 0x0b);
  INVALID(&o, "global is immutable");
  header(&o); SEC(&o, 6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x6a, 0x0b);
  INVALID(&o, "constant expression required");
  header(&o); SEC(&o, 6, 0x01, 0x7f, 0x00, 0x42, 0x00, 0x0b);
  INVALID(&o, "type mismatch");
  header(&o); SEC(&o, 6, 0x02, 0x7f, 0x00, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b);
  INVALID(&o, "unknown global 0");             /* initialisers see imports only */
  header(&o); TYPES(&o); ONE_FUNC(&o);
  SEC(&o, 7, 0x02, 0x01, 'x', 0x00, 0x00, 0x01, 'x', 0x00, 0x00);
  BODY(&o, 0x0b);
  INVALID(&o, "duplicate export name");
  header(&o); SEC(&o, 5, 0x02, 0x00, 0x01, 0x00, 0x01);
  INVALID(&o, "multiple memories");
  header(&o); SEC(&o, 5, 0x01, 0x00, 0x81, 0x80, 0x04);
  INVALID(&o, "memory size must be at most 65536 pages (4GiB)");
  header(&o); SEC(&o, 4, 0x01, 0x70, 0x01, 0x02, 0x01);
  INVALID(&o, "size minimum must not be greater than maximum");
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01); SEC(&o, 8, 0x00);
  BODY(&o, 0x41, 0x00, 0x0b);
  INVALID(&o, "start function");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0xd2, 0x00, 0x1a, 0x0b);
  INVALID(&o, "undeclared function reference");
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x05); BODY(&o, 0x0b);
  INVALID(&o, "unknown type");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x25, 0x00, 0x1a, 0x0b);
  INVALID(&o, "unknown table 0");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0xfc, 0x0d, 0x00, 0x0b);
  INVALID(&o, "unknown elem segment 0");
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x1c, 0x02, 0x7f, 0x7f, 0x0b);
  INVALID(&o, "invalid result arity");
  /* untyped select on references */
  header(&o); TYPES(&o); ONE_FUNC(&o);
  BODY(&o, 0xd0, 0x70, 0xd0, 0x70, 0x41, 0x00, 0x1b, 0x1a, 0x0b);
  INVALID(&o, "type mismatch");
  /* if without else whose params are not its results: if (type 1) end */
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x41, 0x00, 0x04, 0x01, 0x0b, 0x1a, 0x0b);
  INVALID(&o, "type mismatch");
}

/* The message names the rule, the section, the function and the offset. */
static void test_message_location(void) {
  buf o;
  header(&o); TYPES(&o); ONE_FUNC(&o); BODY(&o, 0x41, 0x00, 0x6a, 0x0b);
  rusm_wasm_error err;
  rusm_wasm_module *m = rusm_wasm_module_load(o.b, o.n, &err);
  CHECK(m == NULL);
  CHECK(strstr(err.message, "(code section, func 0, offset 0x") != NULL);
  /* the offset is that of the i32.add, the second-to-last byte */
  CHECK(err.offset == o.n - 2);
  rusm_wasm_module_free(m);
}

/* Every prefix of a valid module and every single-byte corruption of it
** must load or fail cleanly (run under ASan in the sanitizer build). */
static void test_truncations_and_flips(void) {
  buf o;
  header(&o); TYPES(&o); SEC(&o, 3, 0x01, 0x01); SEC(&o, 5, 0x01, 0x00, 0x01);
  SEC(&o, 6, 0x01, 0x7f, 0x01, 0x41, 0x05, 0x0b);
  BODY(&o, 0x02, 0x7f, 0x23, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x6a, 0x0b, 0x0b);
  SEC(&o, 11, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x2a);
  OK(&o);
  for (size_t n = 0; n < o.n; n++) {
    rusm_wasm_error err;
    rusm_wasm_module *m = rusm_wasm_module_load(o.b, n, &err);
    CHECK(m != NULL || err.kind == RUSM_WASM_ERR_MALFORMED);
    rusm_wasm_module_free(m);
  }
  for (size_t i = 8; i < o.n; i++)
    for (int v = 0; v < 256; v += 7) {
      buf c = o;
      c.b[i] = (uint8_t)v;
      rusm_wasm_error err;
      rusm_wasm_module *m = rusm_wasm_module_load(c.b, c.n, &err);
      CHECK(m != NULL || err.kind == RUSM_WASM_ERR_MALFORMED ||
            err.kind == RUSM_WASM_ERR_INVALID || err.kind == RUSM_WASM_ERR_RESOURCE);
      rusm_wasm_module_free(m);
    }
}

int main(void) {
  test_full_module();
  test_valid_corners();
  test_malformed();
  test_invalid();
  test_message_location();
  test_truncations_and_flips();
  if (failures) {
    fprintf(stderr, "test_decode: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_decode: ok\n");
  return 0;
}
