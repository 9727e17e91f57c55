/*
** decoder.h -- the state shared by decode.c (sections) and validate.c
** (expressions): a bounded byte reader over the module, LEB128 readers with
** the spec's exact malformedness rules, and error reporting.
**
** Errors follow the reference interpreter's precedence: the whole binary is
** decoded before anything is validated, so a malformed module is reported as
** malformed even if an earlier part is also invalid.  We decode and validate
** in one pass, so a validation error is only *recorded* (the first one wins)
** and decoding continues with validation switched off; a later binary-format
** error replaces it.  Every check that guards an array access must therefore
** skip the access when it fails, not merely report.
*/
#ifndef RUSM_WASM_DECODER_H
#define RUSM_WASM_DECODER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rusm/wasm.h>

#include "module.h"

/* Type of an operand whose type is unconstrained (unreachable code). */
#define WASM_UNKNOWN 0

/* Limits that the spec leaves to the implementation.  They bound what a
** hostile module can make us allocate: locals and operand-stack slots cost
** memory out of proportion to the bytes that declare them. */
#define WASM_MAX_LOCALS 50000u            /* per function, params excluded */
#define WASM_MAX_MODULE_LOCALS (1u << 24) /* all functions together */
#define WASM_MAX_STACK (1u << 20)         /* operand values live at once */

typedef struct wasm_ctl wasm_ctl;

typedef struct wasm_dec {
  wasm_module *m;
  const uint8_t *b;          /* the module's bytes (m->bytes) */
  size_t size;
  size_t pos;                /* next byte to read */
  size_t end;                /* reads stop here: the module's end. Like the
                                reference interpreter, we read across section
                                and body boundaries and then check that the
                                sizes matched ("section size mismatch"). */
  rusm_wasm_error *err;
  bool failed;               /* a malformed/resource error is in *err: stop */
  bool invalid;              /* a validation error is in *err: decode only */
  const char *section;       /* for messages, e.g. "code"; NULL = header */
  bool in_func;
  uint32_t func;             /* function index, when in_func */
  bool has_datacount;
  uint32_t datacount;
  /* memory.init/data.drop seen without a data count section: "data count
  ** section required" if the module has data segments; if it has none,
  ** the index is simply unknown (wabt omits the section then). */
  bool need_datacount;
  size_t need_datacount_at;
  uint32_t need_datacount_func, need_datacount_index;
  uint32_t total_locals;     /* locals of all bodies so far */
  /* Validator scratch, reused from function to function. */
  uint8_t *vals;             size_t nvals, cap_vals;
  wasm_ctl *ctls;            size_t nctls, cap_ctls;
  uint8_t *locals;           size_t cap_locals;    /* params + locals */
  uint8_t *tmp;              size_t cap_tmp;       /* br_table label types */
} wasm_dec;

/* Records an error: MALFORMED/RESOURCE stop decoding (and replace a pending
** INVALID); INVALID is kept only if it is the first.  The message gets the
** location appended.  Returns false so callers can `return wasm_fail(...)`. */
bool wasm_fail(wasm_dec *d, rusm_wasm_error_kind kind, size_t off,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#define WASM_MALFORMED(d, off, ...) wasm_fail((d), RUSM_WASM_ERR_MALFORMED, (off), __VA_ARGS__)
/* Validation failure: evaluates to true while decoding can go on. */
#define WASM_INVALID(d, off, ...) \
  (wasm_fail((d), RUSM_WASM_ERR_INVALID, (off), __VA_ARGS__), !(d)->failed)

/* Running out of bytes.  The reference interpreter says "unexpected end of
** section or function" everywhere; the suite also expects just "unexpected
** end", which that text starts with. */
static inline bool wasm_eof(wasm_dec *d) {
  return WASM_MALFORMED(d, d->pos, "unexpected end of section or function");
}

static inline bool wasm_u8(wasm_dec *d, uint8_t *out) {
  *out = 0;                  /* defined even on failure */
  if (d->pos >= d->end) return wasm_eof(d);
  *out = d->b[d->pos++];
  return true;
}

/* Unsigned LEB128 of at most `bits` bits (the spec's uN). Padded encodings
** within ceil(bits/7) bytes are legal. */
static inline bool wasm_uleb(wasm_dec *d, int bits, uint64_t *out) {
  uint64_t x = 0;
  *out = 0;
  int shift = 0;
  for (int n = bits;; n -= 7, shift += 7) {
    if (n <= 0) return WASM_MALFORMED(d, d->pos, "integer representation too long");
    uint8_t byte;
    if (!wasm_u8(d, &byte)) return false;
    if (n < 7 && (byte & 0x7f) >= (1u << n))
      return WASM_MALFORMED(d, d->pos - 1, "integer too large");
    x |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  *out = x;
  return true;
}

/* Signed LEB128 of at most `bits` bits (sN): the unused high bits of the
** last byte must all copy the sign bit. */
static inline bool wasm_sleb(wasm_dec *d, int bits, int64_t *out) {
  uint64_t x = 0;
  *out = 0;
  int shift = 0;
  for (int n = bits;; n -= 7, shift += 7) {
    if (n <= 0) return WASM_MALFORMED(d, d->pos, "integer representation too long");
    uint8_t byte;
    if (!wasm_u8(d, &byte)) return false;
    if (n < 7) {
      uint8_t mask = (uint8_t)((0xffu << (n - 1)) & 0x7f);
      if ((byte & mask) != 0 && (byte & mask) != mask)
        return WASM_MALFORMED(d, d->pos - 1, "integer too large");
    }
    x |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      shift += 7;
      if (shift < 64 && (byte & 0x40)) x |= ~(uint64_t)0 << shift;
      break;
    }
  }
  *out = (int64_t)x;
  return true;
}

static inline bool wasm_u32(wasm_dec *d, uint32_t *out) {
  uint64_t x;
  *out = 0;
  if (!wasm_uleb(d, 32, &x)) return false;
  *out = (uint32_t)x;
  return true;
}

/* A vector or string length.  The reference interpreter refuses a length
** larger than what is left of the module counting from the length's own
** first byte ("length out of bounds"); a vector that then runs out of
** items is "unexpected end".  Either way n items (of at least one byte
** each) fit in the module, which bounds what we allocate for them. */
static inline bool wasm_count(wasm_dec *d, uint32_t *n) {
  size_t at = d->pos;
  if (!wasm_u32(d, n)) return false;
  if (*n > d->end - at) return WASM_MALFORMED(d, at, "length out of bounds");
  return true;
}

/* Checks that n more bytes can be read (before reading them in bulk). */
static inline bool wasm_avail(wasm_dec *d, size_t n) {
  if (n > d->end - d->pos) {
    d->pos = d->end;
    return wasm_eof(d);
  }
  return true;
}

static inline bool wasm_is_num(uint8_t t) {
  return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64;
}
static inline bool wasm_is_ref(uint8_t t) {
  return t == WASM_FUNCREF || t == WASM_EXTERNREF;
}
const char *wasm_type_name(uint8_t t);

/* A value type byte ("malformed value type" otherwise; SIMD's v128 too). */
bool wasm_valtype(wasm_dec *d, uint8_t *t);
/* A reference type byte ("malformed reference type" otherwise). */
bool wasm_reftype(wasm_dec *d, uint8_t *t);

/* validate.c: decodes and validates one expression starting at d->pos and
** ending with its `end` (inside [d->pos, d->end)).
**   - a function body (func != NULL): locals already decoded into
**     d->locals[0..nlocals); sets func->max_stack;
**   - a constant expression (func == NULL): must produce one value of type
**     `want`; if globals_limit < nglobals, only globals below it may be read
**     (global initialisers see imported globals only). Fills *ce. */
bool wasm_validate_body(wasm_dec *d, wasm_func *func, uint32_t nlocals);
bool wasm_validate_const(wasm_dec *d, uint8_t want, uint32_t globals_limit,
                         wasm_const_expr *ce);
void wasm_dec_free_scratch(wasm_dec *d);

#endif
