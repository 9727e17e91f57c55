/*
** validate.c -- decodes and validates one expression (a function body or a
** constant expression) in a single pass, with the algorithm of the spec's
** validation appendix: a stack of operand types where WASM_UNKNOWN stands
** for any type in unreachable code, and a stack of control frames holding
** the operand height at entry and an unreachable flag.
**
** Once a validation error has been recorded (d->invalid), the loop keeps
** decoding (a later binary-format error takes precedence, as in the
** reference interpreter) but stops typing: only control frames are kept,
** so that `else`/`end` still match.
*/
#include <stdlib.h>
#include <string.h>

#include "decoder.h"

struct wasm_ctl {
  uint8_t op;                /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else,
                                0x00 the function / constant expression */
  bool unreachable;
  uint32_t height;           /* operand-stack height at entry */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
};

typedef struct wasm_vctx {
  wasm_dec *d;
  wasm_module *m;
  size_t at;                 /* offset of the instruction being checked */
  bool konst;                /* constant expression: only constant instrs */
  uint32_t nlocals;          /* params + locals (function bodies) */
  uint32_t nglobals;         /* globals visible to global.get */
  uint32_t max_vals, max_depth;
  uint32_t ninstrs;          /* constant expressions: instructions seen */
  wasm_const_expr last;      /* constant expressions: the last instruction */
} wasm_vctx;

/* One-element result lists for block types given as a single value type.
** Frames point at these (they live in a realloc'ed array, so they cannot
** point into themselves). */
static const uint8_t ONE_I32[1] = {WASM_I32}, ONE_I64[1] = {WASM_I64},
                     ONE_F32[1] = {WASM_F32}, ONE_F64[1] = {WASM_F64},
                     ONE_FUNCREF[1] = {WASM_FUNCREF},
                     ONE_EXTERNREF[1] = {WASM_EXTERNREF};

static const uint8_t *one_type(uint8_t t) {
  switch (t) {
  case WASM_I32: return ONE_I32;
  case WASM_I64: return ONE_I64;
  case WASM_F32: return ONE_F32;
  case WASM_F64: return ONE_F64;
  case WASM_FUNCREF: return ONE_FUNCREF;
  default: return ONE_EXTERNREF;
  }
}

const char *wasm_type_name(uint8_t t) {
  switch (t) {
  case WASM_I32: return "i32";
  case WASM_I64: return "i64";
  case WASM_F32: return "f32";
  case WASM_F64: return "f64";
  case WASM_V128: return "v128";
  case WASM_FUNCREF: return "funcref";
  case WASM_EXTERNREF: return "externref";
  case WASM_UNKNOWN: return "nothing";
  default: return "?";
  }
}

/* Grows a scratch array to hold at least `need` elements. */
static bool grow(wasm_dec *d, void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * elem);
  if (!q) return wasm_fail(d, RUSM_WASM_ERR_RESOURCE, d->pos, "out of memory");
  *p = q;
  *cap = n;
  return true;
}

void wasm_dec_free_scratch(wasm_dec *d) {
  free(d->vals);
  free(d->ctls);
  free(d->locals);
  free(d->tmp);
  d->vals = NULL; d->ctls = NULL; d->locals = NULL; d->tmp = NULL;
  d->cap_vals = d->cap_ctls = d->cap_locals = d->cap_tmp = 0;
}

/* ------------------------------------------------------------ operand stack */

static bool mismatch(wasm_vctx *v, uint8_t want, uint8_t got) {
  return WASM_INVALID(v->d, v->at, "type mismatch: expected %s, found %s",
                      wasm_type_name(want), wasm_type_name(got));
}

static bool push(wasm_vctx *v, uint8_t t) {
  wasm_dec *d = v->d;
  if (d->nvals >= WASM_MAX_STACK)
    return wasm_fail(d, RUSM_WASM_ERR_RESOURCE, v->at,
                     "operand stack too deep (limit %u values)", WASM_MAX_STACK);
  if (!grow(d, (void **)&d->vals, &d->cap_vals, d->nvals + 1, 1)) return false;
  d->vals[d->nvals++] = t;
  if (d->nvals > v->max_vals) v->max_vals = (uint32_t)d->nvals;
  return true;
}

static bool push_n(wasm_vctx *v, const uint8_t *ts, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!push(v, ts[i])) return false;
  return true;
}

/* Pops an operand of type `want` (any type if WASM_UNKNOWN); *got is what
** was there (WASM_UNKNOWN below an unreachable frame's base). */
static bool pop_got(wasm_vctx *v, uint8_t want, uint8_t *got) {
  wasm_dec *d = v->d;
  wasm_ctl *c = &d->ctls[d->nctls - 1];
  *got = WASM_UNKNOWN;
  if (d->nvals == c->height) {
    if (c->unreachable) return true;
    return WASM_INVALID(d, v->at, "type mismatch: expected %s, stack is empty",
                        want == WASM_UNKNOWN ? "a value" : wasm_type_name(want));
  }
  *got = d->vals[--d->nvals];
  if (*got != want && *got != WASM_UNKNOWN && want != WASM_UNKNOWN)
    return mismatch(v, want, *got);
  return true;
}

static bool pop(wasm_vctx *v, uint8_t want) {
  uint8_t got;
  return pop_got(v, want, &got);
}

static bool pop_any(wasm_vctx *v, uint8_t *got) {
  return pop_got(v, WASM_UNKNOWN, got);
}

/* Pops ts[n-1] .. ts[0] (the last type is on top). */
static bool pop_n(wasm_vctx *v, const uint8_t *ts, uint32_t n) {
  for (uint32_t i = n; i-- > 0;)
    if (!pop(v, ts[i])) return false;
  return true;
}

/* ------------------------------------------------------------ control stack */

static bool push_ctl(wasm_vctx *v, uint8_t op, uint32_t np, const uint8_t *ps,
                     uint32_t nr, const uint8_t *rs) {
  wasm_dec *d = v->d;
  if (!grow(d, (void **)&d->ctls, &d->cap_ctls, d->nctls + 1, sizeof(wasm_ctl)))
    return false;
  wasm_ctl *c = &d->ctls[d->nctls++];
  c->op = op;
  c->unreachable = false;
  c->height = (uint32_t)d->nvals;
  c->nparams = np; c->params = ps;
  c->nresults = nr; c->results = rs;
  if (d->nctls > v->max_depth) v->max_depth = (uint32_t)d->nctls;
  if (d->invalid) return true;
  return push_n(v, ps, np);
}

/* Checks the frame's results are exactly what is on its part of the stack;
** leaves the frame in place. */
static bool end_frame(wasm_vctx *v) {
  wasm_dec *d = v->d;
  wasm_ctl *c = &d->ctls[d->nctls - 1];
  if (!pop_n(v, c->results, c->nresults)) return false;
  if (d->nvals != c->height)
    return WASM_INVALID(d, v->at, "type mismatch: %zu value(s) left at the end of the block",
                        d->nvals - c->height);
  return true;
}

static void set_unreachable(wasm_vctx *v) {
  wasm_dec *d = v->d;
  wasm_ctl *c = &d->ctls[d->nctls - 1];
  d->nvals = c->height;
  c->unreachable = true;
}

/* The types a branch to label l carries (a loop's params, else results). */
static void label_types(wasm_ctl *c, uint32_t *n, const uint8_t **ts) {
  if (c->op == 0x03) { *n = c->nparams; *ts = c->params; }
  else { *n = c->nresults; *ts = c->results; }
}

/* ------------------------------------------------------------ immediates */

static bool zero_byte(wasm_dec *d) {
  uint8_t b;
  if (!wasm_u8(d, &b)) return false;
  if (b != 0) return WASM_MALFORMED(d, d->pos - 1, "zero byte expected");
  return true;
}

/* Block type: 0x40 (none), one value type, or a type index (s33). */
static bool block_type(wasm_vctx *v, uint32_t *np, const uint8_t **ps,
                       uint32_t *nr, const uint8_t **rs) {
  wasm_dec *d = v->d;
  *np = *nr = 0;
  *ps = *rs = NULL;
  if (d->pos >= d->end) return wasm_eof(d);
  uint8_t b = d->b[d->pos];
  if (b == 0x40) { d->pos++; return true; }
  if ((b & 0xc0) == 0x40) {
    uint8_t t;
    if (!wasm_valtype(d, &t)) return false;
    *nr = 1;
    *rs = one_type(t);
    return true;
  }
  int64_t x;
  if (!wasm_sleb(d, 33, &x)) return false;
  if (x < 0 || (uint64_t)x >= v->m->ntypes)
    return WASM_INVALID(d, v->at, "unknown type %lld", (long long)x);
  wasm_functype *ft = &v->m->types[x];
  *np = ft->nparams; *ps = ft->types;
  *nr = ft->nresults; *rs = ft->types + ft->nparams;
  return true;
}

static bool memarg(wasm_vctx *v, uint32_t natural) {
  wasm_dec *d = v->d;
  uint32_t align, offset;
  if (!wasm_u32(d, &align) || !wasm_u32(d, &offset)) return false;
  if (d->invalid) return true;
  if (v->m->nmemories == 0) return WASM_INVALID(d, v->at, "unknown memory 0");
  if (align > natural)
    return WASM_INVALID(d, v->at, "alignment must not be larger than natural");
  return true;
}

static bool need_memory(wasm_vctx *v) {
  if (v->m->nmemories == 0) return WASM_INVALID(v->d, v->at, "unknown memory 0");
  return true;
}

/* Looks up table x; NULL (after recording the error) if it does not exist. */
static wasm_tabletype *table_at(wasm_vctx *v, uint32_t x) {
  if (x >= v->m->ntables) {
    WASM_INVALID(v->d, v->at, "unknown table %u", x);
    return NULL;
  }
  return &v->m->tables[x];
}

/* ------------------------------------------------------------ numeric ops */

/* Operand and result types of the plain numeric instructions 0x45..0xc4:
** {first operand, second operand (0 = unary), result}. */
typedef struct { uint8_t a, b, r; } wasm_sig;

static wasm_sig numeric_sig(uint8_t op) {
  const uint8_t I = WASM_I32, L = WASM_I64, F = WASM_F32, D = WASM_F64;
  if (op == 0x45) return (wasm_sig){I, 0, I};
  if (op <= 0x4f) return (wasm_sig){I, I, I};
  if (op == 0x50) return (wasm_sig){L, 0, I};
  if (op <= 0x5a) return (wasm_sig){L, L, I};
  if (op <= 0x60) return (wasm_sig){F, F, I};
  if (op <= 0x66) return (wasm_sig){D, D, I};
  if (op <= 0x69) return (wasm_sig){I, 0, I};
  if (op <= 0x78) return (wasm_sig){I, I, I};
  if (op <= 0x7b) return (wasm_sig){L, 0, L};
  if (op <= 0x8a) return (wasm_sig){L, L, L};
  if (op <= 0x91) return (wasm_sig){F, 0, F};
  if (op <= 0x98) return (wasm_sig){F, F, F};
  if (op <= 0x9f) return (wasm_sig){D, 0, D};
  if (op <= 0xa6) return (wasm_sig){D, D, D};
  switch (op) {
  case 0xa7: return (wasm_sig){L, 0, I};
  case 0xa8: case 0xa9: return (wasm_sig){F, 0, I};
  case 0xaa: case 0xab: return (wasm_sig){D, 0, I};
  case 0xac: case 0xad: return (wasm_sig){I, 0, L};
  case 0xae: case 0xaf: return (wasm_sig){F, 0, L};
  case 0xb0: case 0xb1: return (wasm_sig){D, 0, L};
  case 0xb2: case 0xb3: return (wasm_sig){I, 0, F};
  case 0xb4: case 0xb5: return (wasm_sig){L, 0, F};
  case 0xb6: return (wasm_sig){D, 0, F};
  case 0xb7: case 0xb8: return (wasm_sig){I, 0, D};
  case 0xb9: case 0xba: return (wasm_sig){L, 0, D};
  case 0xbb: return (wasm_sig){F, 0, D};
  case 0xbc: return (wasm_sig){F, 0, I};
  case 0xbd: return (wasm_sig){D, 0, L};
  case 0xbe: return (wasm_sig){I, 0, F};
  case 0xbf: return (wasm_sig){L, 0, D};
  case 0xc0: case 0xc1: return (wasm_sig){I, 0, I};
  default: return (wasm_sig){L, 0, L};   /* 0xc2..0xc4 */
  }
}

static bool apply_sig(wasm_vctx *v, wasm_sig s) {
  if (s.b && !pop(v, s.b)) return false;
  if (!pop(v, s.a)) return false;
  return push(v, s.r);
}

/* Natural alignment (log2 of the access size) of loads 0x28..0x35 and
** stores 0x36..0x3e, and the value type they move. */
static void mem_access(uint8_t op, uint32_t *natural, uint8_t *type) {
  static const uint8_t nat[] = {2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2,
                                2, 3, 2, 3, 0, 1, 0, 1, 2};
  static const uint8_t ty[] = {
      WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_I32, WASM_I32, WASM_I32,
      WASM_I32, WASM_I64, WASM_I64, WASM_I64, WASM_I64, WASM_I64, WASM_I64,
      WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_I32, WASM_I32, WASM_I64,
      WASM_I64, WASM_I64};
  *natural = nat[op - 0x28];
  *type = ty[op - 0x28];
}

/* ------------------------------------------------------------ the loop */

/* Instructions allowed in constant expressions (Wasm 2.0). */
static bool is_const_op(uint8_t op) {
  return op == 0x41 || op == 0x42 || op == 0x43 || op == 0x44 || op == 0xd0 ||
         op == 0xd2 || op == 0x23 || op == 0x0b;
}

static bool fc_op(wasm_vctx *v);
static bool br_table(wasm_vctx *v);

static bool run(wasm_vctx *v) {
  wasm_dec *d = v->d;
  wasm_module *m = v->m;
  while (d->nctls > 0) {
    if (d->failed) return false;
    v->at = d->pos;
    uint8_t op;
    if (!wasm_u8(d, &op)) return false;
    if (v->konst && !is_const_op(op) && !d->invalid)
      WASM_INVALID(d, v->at, "constant expression required");
    v->ninstrs++;
    switch (op) {
    case 0x00:                                   /* unreachable */
      if (!d->invalid) set_unreachable(v);
      break;
    case 0x01:                                   /* nop */
      break;
    case 0x02: case 0x03: case 0x04: {           /* block, loop, if */
      uint32_t np, nr;
      const uint8_t *ps, *rs;
      if (!block_type(v, &np, &ps, &nr, &rs)) return false;
      if (d->invalid) { np = nr = 0; }
      else if ((op == 0x04 && !pop(v, WASM_I32)) || !pop_n(v, ps, np)) return false;
      if (!push_ctl(v, op, np, ps, nr, rs)) return false;
      break;
    }
    case 0x05: {                                 /* else */
      wasm_ctl *c = &d->ctls[d->nctls - 1];
      if (c->op != 0x04)
        return WASM_MALFORMED(d, v->at, "END opcode expected (else without if)");
      if (!d->invalid && !end_frame(v)) return false;
      d->nvals = c->height;
      c->op = 0x05;
      c->unreachable = false;
      if (!d->invalid && !push_n(v, c->params, c->nparams)) return false;
      break;
    }
    case 0x0b: {                                 /* end */
      wasm_ctl *c = &d->ctls[d->nctls - 1];
      if (!d->invalid) {
        if (!end_frame(v)) return false;
        /* An if without else behaves as if its else passed the params
        ** through unchanged, which only types when params = results. */
        if (!d->invalid && c->op == 0x04 &&
            (c->nparams != c->nresults ||
             (c->nparams && memcmp(c->params, c->results, c->nparams) != 0)))
          WASM_INVALID(d, v->at, "type mismatch: if without else must leave its parameters as results");
      }
      d->nvals = c->height;
      d->nctls--;
      if (!d->invalid && !push_n(v, c->results, c->nresults)) return false;
      break;
    }
    case 0x0c: case 0x0d: {                      /* br, br_if */
      uint32_t l;
      if (!wasm_u32(d, &l)) return false;
      if (d->invalid) break;
      if (l >= d->nctls) { WASM_INVALID(d, v->at, "unknown label %u", l); break; }
      uint32_t n;
      const uint8_t *ts;
      label_types(&d->ctls[d->nctls - 1 - l], &n, &ts);
      if (op == 0x0d) {
        if (!pop(v, WASM_I32) || !pop_n(v, ts, n) || !push_n(v, ts, n)) return false;
      } else {
        if (!pop_n(v, ts, n)) return false;
        set_unreachable(v);
      }
      break;
    }
    case 0x0e:                                   /* br_table */
      if (!br_table(v)) return false;
      break;
    case 0x0f: {                                 /* return */
      if (d->invalid) break;
      wasm_ctl *f = &d->ctls[0];
      if (!pop_n(v, f->results, f->nresults)) return false;
      set_unreachable(v);
      break;
    }
    case 0x10: {                                 /* call */
      uint32_t x;
      if (!wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      if (x >= m->nfuncs) { WASM_INVALID(d, v->at, "unknown function %u", x); break; }
      wasm_functype *ft = &m->types[m->funcs[x].type];
      if (!pop_n(v, ft->types, ft->nparams) ||
          !push_n(v, ft->types + ft->nparams, ft->nresults)) return false;
      break;
    }
    case 0x11: {                                 /* call_indirect */
      uint32_t y, x;
      if (!wasm_u32(d, &y) || !wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      wasm_tabletype *tt = table_at(v, x);
      if (!tt) break;
      if (tt->elem != WASM_FUNCREF) { mismatch(v, WASM_FUNCREF, tt->elem); break; }
      if (y >= m->ntypes) { WASM_INVALID(d, v->at, "unknown type %u", y); break; }
      wasm_functype *ft = &m->types[y];
      if (!pop(v, WASM_I32) || !pop_n(v, ft->types, ft->nparams) ||
          !push_n(v, ft->types + ft->nparams, ft->nresults)) return false;
      break;
    }
    case 0x1a: {                                 /* drop */
      uint8_t t;
      if (!d->invalid && !pop_any(v, &t)) return false;
      break;
    }
    case 0x1b: {                                 /* select */
      if (d->invalid) break;
      uint8_t t1, t2;
      if (!pop(v, WASM_I32) || !pop_any(v, &t1) || !pop_any(v, &t2)) return false;
      if (d->invalid) break;
      /* Untyped select is for numeric operands only. */
      if (wasm_is_ref(t1) || wasm_is_ref(t2)) {
        WASM_INVALID(d, v->at, "type mismatch: select without a type needs numeric operands");
        break;
      }
      if (t1 != t2 && t1 != WASM_UNKNOWN && t2 != WASM_UNKNOWN) { mismatch(v, t1, t2); break; }
      if (!push(v, t1 == WASM_UNKNOWN ? t2 : t1)) return false;
      break;
    }
    case 0x1c: {                                 /* select t* */
      uint32_t n;
      uint8_t t = WASM_UNKNOWN;
      if (!wasm_count(d, &n)) return false;
      for (uint32_t i = 0; i < n; i++)
        if (!wasm_valtype(d, &t)) return false;
      if (d->invalid) break;
      if (n != 1) { WASM_INVALID(d, v->at, "invalid result arity"); break; }
      if (!pop(v, WASM_I32) || !pop(v, t) || !pop(v, t) || !push(v, t)) return false;
      break;
    }
    case 0x20: case 0x21: case 0x22: {           /* local.get/set/tee */
      uint32_t x;
      if (!wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      if (x >= v->nlocals) { WASM_INVALID(d, v->at, "unknown local %u", x); break; }
      uint8_t t = d->locals[x];
      if (op == 0x20) { if (!push(v, t)) return false; }
      else if (!pop(v, t) || (op == 0x22 && !push(v, t))) return false;
      break;
    }
    case 0x23: case 0x24: {                      /* global.get/set */
      uint32_t x;
      if (!wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      if (x >= v->nglobals) { WASM_INVALID(d, v->at, "unknown global %u", x); break; }
      wasm_globaltype *g = &m->globals[x].type;
      if (op == 0x23) {
        if (v->konst) {
          if (g->mut) { WASM_INVALID(d, v->at, "constant expression required"); break; }
          v->last = (wasm_const_expr){WASM_CONST_GLOBAL_GET, x};
        }
        if (!push(v, g->type)) return false;
      } else {
        if (!g->mut) { WASM_INVALID(d, v->at, "global is immutable"); break; }
        if (!pop(v, g->type)) return false;
      }
      break;
    }
    case 0x25: case 0x26: {                      /* table.get/set */
      uint32_t x;
      if (!wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      wasm_tabletype *tt = table_at(v, x);
      if (!tt) break;
      if (op == 0x25) {
        if (!pop(v, WASM_I32) || !push(v, tt->elem)) return false;
      } else if (!pop(v, tt->elem) || !pop(v, WASM_I32)) return false;
      break;
    }
    case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d:
    case 0x2e: case 0x2f: case 0x30: case 0x31: case 0x32: case 0x33:
    case 0x34: case 0x35: {                      /* loads */
      uint32_t nat;
      uint8_t t;
      mem_access(op, &nat, &t);
      if (!memarg(v, nat)) return false;
      if (d->invalid) break;
      if (!pop(v, WASM_I32) || !push(v, t)) return false;
      break;
    }
    case 0x36: case 0x37: case 0x38: case 0x39: case 0x3a: case 0x3b:
    case 0x3c: case 0x3d: case 0x3e: {           /* stores */
      uint32_t nat;
      uint8_t t;
      mem_access(op, &nat, &t);
      if (!memarg(v, nat)) return false;
      if (d->invalid) break;
      if (!pop(v, t) || !pop(v, WASM_I32)) return false;
      break;
    }
    case 0x3f: case 0x40:                        /* memory.size/grow */
      if (!zero_byte(d)) return false;
      if (d->invalid || !need_memory(v)) break;
      if ((op == 0x40 && !pop(v, WASM_I32)) || !push(v, WASM_I32)) return false;
      break;
    case 0x41: {                                 /* i32.const */
      int64_t x;
      if (!wasm_sleb(d, 32, &x)) return false;
      v->last = (wasm_const_expr){WASM_CONST_I32, (uint64_t)(uint32_t)x};
      if (!d->invalid && !push(v, WASM_I32)) return false;
      break;
    }
    case 0x42: {                                 /* i64.const */
      int64_t x;
      if (!wasm_sleb(d, 64, &x)) return false;
      v->last = (wasm_const_expr){WASM_CONST_I64, (uint64_t)x};
      if (!d->invalid && !push(v, WASM_I64)) return false;
      break;
    }
    case 0x43: case 0x44: {                      /* f32/f64.const */
      size_t n = op == 0x43 ? 4 : 8;
      if (!wasm_avail(d, n)) return false;
      uint64_t bits = 0;
      for (size_t i = 0; i < n; i++) bits |= (uint64_t)d->b[d->pos + i] << (8 * i);
      d->pos += n;
      v->last = (wasm_const_expr){op == 0x43 ? WASM_CONST_F32 : WASM_CONST_F64, bits};
      if (!d->invalid && !push(v, op == 0x43 ? WASM_F32 : WASM_F64)) return false;
      break;
    }
    case 0xd0: {                                 /* ref.null t */
      uint8_t t;
      if (!wasm_reftype(d, &t)) return false;
      v->last = (wasm_const_expr){WASM_CONST_REF_NULL, t};
      if (!d->invalid && !push(v, t)) return false;
      break;
    }
    case 0xd1: {                                 /* ref.is_null */
      if (d->invalid) break;
      uint8_t t;
      if (!pop_any(v, &t)) return false;
      if (d->invalid) break;
      if (wasm_is_num(t)) {
        WASM_INVALID(d, v->at, "type mismatch: expected a reference, found %s", wasm_type_name(t));
        break;
      }
      if (!push(v, WASM_I32)) return false;
      break;
    }
    case 0xd2: {                                 /* ref.func x */
      uint32_t x;
      if (!wasm_u32(d, &x)) return false;
      if (d->invalid) break;
      if (x >= m->nfuncs) { WASM_INVALID(d, v->at, "unknown function %u", x); break; }
      if (v->konst) {
        m->func_declared[x] = 1;
        v->last = (wasm_const_expr){WASM_CONST_REF_FUNC, x};
      } else if (!m->func_declared[x]) {
        WASM_INVALID(d, v->at, "undeclared function reference %u", x);
        break;
      }
      if (!push(v, WASM_FUNCREF)) return false;
      break;
    }
    case 0xfc:
      if (!fc_op(v)) return false;
      break;
    default:
      if (op >= 0x45 && op <= 0xc4) {
        if (!d->invalid && !apply_sig(v, numeric_sig(op))) return false;
        break;
      }
      return WASM_MALFORMED(d, v->at, "illegal opcode %02x", op);
    }
  }
  return !d->failed;
}

static bool br_table(wasm_vctx *v) {
  wasm_dec *d = v->d;
  uint32_t n, l;
  if (!wasm_count(d, &n)) return false;
  size_t labels = d->pos;
  /* The default label comes last but fixes the arity: read the list once
  ** to find it, then again to check each label. */
  for (uint32_t i = 0; i < n; i++)
    if (!wasm_u32(d, &l)) return false;
  uint32_t dflt;
  if (!wasm_u32(d, &dflt)) return false;
  if (d->invalid) return true;
  if (!pop(v, WASM_I32)) return false;
  if (d->invalid) return true;
  if (dflt >= d->nctls) return WASM_INVALID(d, v->at, "unknown label %u", dflt);
  uint32_t arity, k;
  const uint8_t *ts;
  label_types(&d->ctls[d->nctls - 1 - dflt], &arity, &ts);
  size_t after = d->pos;
  d->pos = labels;
  for (uint32_t i = 0; i < n; i++) {
    wasm_u32(d, &l);                 /* decoded fine the first time */
    if (l >= d->nctls) { d->pos = after; return WASM_INVALID(d, v->at, "unknown label %u", l); }
    label_types(&d->ctls[d->nctls - 1 - l], &k, &ts);
    if (k != arity) {
      d->pos = after;
      return WASM_INVALID(d, v->at, "type mismatch: br_table labels of different arity");
    }
    /* Pop the label's types and push back what was actually there, so
    ** unknown operands stay unknown for the next label. */
    if (!grow(d, (void **)&d->tmp, &d->cap_tmp, k ? k : 1, 1)) return false;
    for (uint32_t j = k; j-- > 0;) {
      if (!pop_got(v, ts[j], &d->tmp[j])) return false;
      if (d->invalid) { d->pos = after; return true; }
    }
    if (!push_n(v, d->tmp, k)) return false;
  }
  d->pos = after;
  label_types(&d->ctls[d->nctls - 1 - dflt], &arity, &ts);
  if (!pop_n(v, ts, arity)) return false;
  if (!d->invalid) set_unreachable(v);
  return true;
}

static bool fc_op(wasm_vctx *v) {
  wasm_dec *d = v->d;
  wasm_module *m = v->m;
  uint32_t sub, x, y;
  if (!wasm_u32(d, &sub)) return false;
  if (sub <= 7) {                              /* trunc_sat */
    static const uint8_t from[8] = {WASM_F32, WASM_F32, WASM_F64, WASM_F64,
                                    WASM_F32, WASM_F32, WASM_F64, WASM_F64};
    if (d->invalid) return true;
    return pop(v, from[sub]) && push(v, sub < 4 ? WASM_I32 : WASM_I64);
  }
  switch (sub) {
  case 8: case 9:                              /* memory.init, data.drop */
    if (!wasm_u32(d, &x)) return false;
    if (sub == 8 && !zero_byte(d)) return false;
    if (!d->has_datacount && !d->need_datacount) {
      d->need_datacount = true;
      d->need_datacount_at = v->at;
      d->need_datacount_func = d->func;
      d->need_datacount_index = x;
    }
    if (d->invalid) return true;
    if (sub == 8 && !need_memory(v)) return true;
    if (d->has_datacount && x >= d->datacount)
      return WASM_INVALID(d, v->at, "unknown data segment %u", x);
    if (sub == 8) return pop(v, WASM_I32) && pop(v, WASM_I32) && pop(v, WASM_I32);
    return true;
  case 10: case 11:                            /* memory.copy, memory.fill */
    if (!zero_byte(d)) return false;
    if (sub == 10 && !zero_byte(d)) return false;
    if (d->invalid || !need_memory(v)) return true;
    return pop(v, WASM_I32) && pop(v, sub == 10 ? WASM_I32 : WASM_I32) && pop(v, WASM_I32);
  case 12: {                                   /* table.init y x */
    if (!wasm_u32(d, &y) || !wasm_u32(d, &x)) return false;
    if (d->invalid) return true;
    wasm_tabletype *tt = table_at(v, x);
    if (!tt) return true;
    if (y >= m->nelems) return WASM_INVALID(d, v->at, "unknown elem segment %u", y);
    if (m->elems[y].type != tt->elem) return mismatch(v, tt->elem, m->elems[y].type);
    return pop(v, WASM_I32) && pop(v, WASM_I32) && pop(v, WASM_I32);
  }
  case 13:                                     /* elem.drop */
    if (!wasm_u32(d, &x)) return false;
    if (d->invalid) return true;
    if (x >= m->nelems) return WASM_INVALID(d, v->at, "unknown elem segment %u", x);
    return true;
  case 14: {                                   /* table.copy x y */
    if (!wasm_u32(d, &x) || !wasm_u32(d, &y)) return false;
    if (d->invalid) return true;
    wasm_tabletype *tx = table_at(v, x);
    if (!tx) return true;
    wasm_tabletype *ty = table_at(v, y);
    if (!ty) return true;
    if (tx->elem != ty->elem) return mismatch(v, tx->elem, ty->elem);
    return pop(v, WASM_I32) && pop(v, WASM_I32) && pop(v, WASM_I32);
  }
  case 15: case 16: case 17: {                 /* table.grow/size/fill */
    if (!wasm_u32(d, &x)) return false;
    if (d->invalid) return true;
    wasm_tabletype *tt = table_at(v, x);
    if (!tt) return true;
    if (sub == 15) return pop(v, WASM_I32) && pop(v, tt->elem) && push(v, WASM_I32);
    if (sub == 16) return push(v, WASM_I32);
    return pop(v, WASM_I32) && pop(v, tt->elem) && pop(v, WASM_I32);
  }
  default:
    return WASM_MALFORMED(d, v->at, "illegal opcode fc %02x", sub);
  }
}

/* ------------------------------------------------------------ entry points */

bool wasm_validate_body(wasm_dec *d, wasm_func *func, uint32_t nlocals) {
  wasm_module *m = d->m;
  wasm_vctx v = {.d = d, .m = m, .at = d->pos, .nlocals = nlocals,
                 .nglobals = m->nglobals};
  uint32_t nr = 0;
  const uint8_t *rs = NULL;
  if (!d->invalid && func->type < m->ntypes) {
    wasm_functype *ft = &m->types[func->type];
    nr = ft->nresults;
    rs = ft->types + ft->nparams;
  }
  d->nvals = d->nctls = 0;
  if (!push_ctl(&v, 0x00, 0, NULL, nr, rs)) return false;
  if (!run(&v)) return false;
  func->max_stack = v.max_vals;
  func->max_depth = v.max_depth;
  return true;
}

bool wasm_validate_const(wasm_dec *d, uint8_t want, uint32_t globals_limit,
                         wasm_const_expr *ce) {
  wasm_module *m = d->m;
  wasm_vctx v = {.d = d, .m = m, .at = d->pos, .konst = true,
                 .nglobals = globals_limit < m->nglobals ? globals_limit : m->nglobals};
  d->nvals = d->nctls = 0;
  if (!push_ctl(&v, 0x00, 0, NULL, 1, one_type(want))) return false;
  if (!run(&v)) return false;
  /* Valid means exactly one constant instruction before the end. */
  memset(ce, 0, sizeof *ce);
  if (!d->invalid && v.ninstrs == 2) *ce = v.last;
  return true;
}
