/*
** decode.c -- rusm_wasm_module_load: decodes the module's sections into a
** wasm_module and validates everything outside function bodies (the
** bodies and constant expressions go through validate.c) in the same pass.
**
** Every count read from the input is checked against the bytes left before
** anything is allocated for it (an item takes at least one byte), so the
** memory we allocate is bounded by a small multiple of the input size; the
** exceptions (locals, operand stack) have explicit limits in decoder.h.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"

/* ------------------------------------------------------------ errors */

bool wasm_fail(wasm_dec *d, rusm_wasm_error_kind kind, size_t off,
               const char *fmt, ...) {
  if (d->failed) return false;
  if (kind == RUSM_WASM_ERR_INVALID && d->invalid) return false;
  char msg[128], where[96];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (d->section && d->in_func)
    snprintf(where, sizeof where, "%s section, func %u, offset 0x%zx", d->section,
             d->func, off);
  else if (d->section)
    snprintf(where, sizeof where, "%s section, offset 0x%zx", d->section, off);
  else
    snprintf(where, sizeof where, "offset 0x%zx", off);
  snprintf(d->err->message, sizeof d->err->message, "%s (%s)", msg, where);
  d->err->kind = kind;
  d->err->offset = (uint32_t)off;
  if (kind == RUSM_WASM_ERR_INVALID) d->invalid = true;
  else d->failed = true;
  return false;
}

static bool oom(wasm_dec *d) {
  return wasm_fail(d, RUSM_WASM_ERR_RESOURCE, d->pos, "out of memory");
}

/* ------------------------------------------------------------ small items */

bool wasm_valtype(wasm_dec *d, uint8_t *t) {
  uint8_t b;
  if (!wasm_u8(d, &b)) return false;
  switch (b) {
  case WASM_I32: case WASM_I64: case WASM_F32: case WASM_F64:
  case WASM_FUNCREF: case WASM_EXTERNREF:
    *t = b;
    return true;
  default:
    /* The reference decoder reads bytes above 0x70 as number types and the
    ** rest as reference types; v128 (SIMD) is out of scope. */
    return WASM_MALFORMED(d, d->pos - 1, b > WASM_FUNCREF ? "malformed value type %02x"
                                                         : "malformed reference type %02x", b);
  }
}

bool wasm_reftype(wasm_dec *d, uint8_t *t) {
  uint8_t b;
  if (!wasm_u8(d, &b)) return false;
  if (b != WASM_FUNCREF && b != WASM_EXTERNREF)
    return WASM_MALFORMED(d, d->pos - 1, "malformed reference type %02x", b);
  *t = b;
  return true;
}

/* Checks UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF). */
static bool utf8_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

/* A name: length-prefixed UTF-8. If out is non-NULL, stores a NUL-terminated
** copy (names may contain NULs: *len is the real length). */
static bool name(wasm_dec *d, char **out, uint32_t *len) {
  size_t at = d->pos;
  uint32_t n;
  if (!wasm_count(d, &n) || !wasm_avail(d, n)) return false;
  if (!utf8_ok(d->b + d->pos, n))
    return WASM_MALFORMED(d, at, "malformed UTF-8 encoding");
  if (out) {
    char *s = malloc((size_t)n + 1);
    if (!s) return oom(d);
    memcpy(s, d->b + d->pos, n);
    s[n] = 0;
    *out = s;
    *len = n;
  }
  d->pos += n;
  return true;
}

static bool limits(wasm_dec *d, wasm_limits *l) {
  uint64_t flag;
  if (!wasm_uleb(d, 1, &flag)) return false;
  l->has_max = flag == 1;
  if (!wasm_u32(d, &l->min)) return false;
  l->max = 0;
  if (l->has_max && !wasm_u32(d, &l->max)) return false;
  return true;
}

static bool check_table_limits(wasm_dec *d, size_t at, const wasm_limits *l) {
  if (l->has_max && l->min > l->max)
    return WASM_INVALID(d, at, "size minimum must not be greater than maximum");
  return true;
}

static bool check_memory_limits(wasm_dec *d, size_t at, const wasm_limits *l) {
  if (l->min > 65536 || (l->has_max && l->max > 65536))
    return WASM_INVALID(d, at, "memory size must be at most 65536 pages (4GiB)");
  return check_table_limits(d, at, l);
}

static bool table_type(wasm_dec *d, wasm_tabletype *t) {
  size_t at = d->pos;
  if (!wasm_reftype(d, &t->elem) || !limits(d, &t->lim)) return false;
  return check_table_limits(d, at, &t->lim);
}

static bool global_type(wasm_dec *d, wasm_globaltype *g) {
  uint8_t mut;
  if (!wasm_valtype(d, &g->type) || !wasm_u8(d, &mut)) return false;
  if (mut > 1) return WASM_MALFORMED(d, d->pos - 1, "malformed mutability");
  g->mut = mut == 1;
  return true;
}

static bool add_memory(wasm_dec *d, size_t at) {
  if (d->m->nmemories > 1) return WASM_INVALID(d, at, "multiple memories");
  return true;
}

/* ------------------------------------------------------------ sections */

static bool type_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (!(m->types = calloc(n ? n : 1, sizeof *m->types))) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_functype *ft = &m->types[i];
    int64_t form;
    uint32_t np, nr;
    if (!wasm_sleb(d, 7, &form)) return false;
    if (form != -0x20) return WASM_MALFORMED(d, d->pos - 1, "malformed function type");
    if (!wasm_count(d, &np)) return false;
    /* Results are counted after the params: size the array for params
    ** first and grow it once the result count is known. */
    if (!(ft->types = malloc(np ? np : 1))) return oom(d);
    m->ntypes = i + 1;
    for (uint32_t k = 0; k < np; k++)
      if (!wasm_valtype(d, &ft->types[k])) return false;
    ft->nparams = np;
    if (!wasm_count(d, &nr)) return false;
    uint8_t *t = realloc(ft->types, (size_t)np + nr + 1);
    if (!t) return oom(d);
    ft->types = t;
    for (uint32_t k = 0; k < nr; k++)
      if (!wasm_valtype(d, &ft->types[np + k])) return false;
    ft->nresults = nr;
  }
  return true;
}

static bool import_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (!(m->imports = calloc(n ? n : 1, sizeof *m->imports))) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_import *im = &m->imports[i];
    m->nimports = i + 1;
    if (!name(d, &im->module, &im->module_len) || !name(d, &im->name, &im->name_len) ||
        !wasm_u8(d, &im->kind))
      return false;
    size_t at = d->pos;
    switch (im->kind) {
    case WASM_EXT_FUNC:
      if (!wasm_u32(d, &im->u.func_type)) return false;
      if (im->u.func_type >= m->ntypes &&
          !WASM_INVALID(d, at, "unknown type %u", im->u.func_type))
        return false;
      break;
    case WASM_EXT_TABLE:
      if (!table_type(d, &im->u.table)) return false;
      break;
    case WASM_EXT_MEMORY:
      if (!limits(d, &im->u.memory) || !check_memory_limits(d, at, &im->u.memory))
        return false;
      break;
    case WASM_EXT_GLOBAL:
      if (!global_type(d, &im->u.global)) return false;
      break;
    default:
      return WASM_MALFORMED(d, d->pos - 1, "malformed import kind");
    }
  }
  /* Lay out the index spaces' imported parts. */
  uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
  for (uint32_t i = 0; i < n; i++) {
    switch (m->imports[i].kind) {
    case WASM_EXT_FUNC: nf++; break;
    case WASM_EXT_TABLE: nt++; break;
    case WASM_EXT_MEMORY: nm++; break;
    default: ng++; break;
    }
  }
  m->funcs = calloc(nf ? nf : 1, sizeof *m->funcs);
  m->tables = calloc(nt ? nt : 1, sizeof *m->tables);
  m->memories = calloc(nm ? nm : 1, sizeof *m->memories);
  m->globals = calloc(ng ? ng : 1, sizeof *m->globals);
  if (!m->funcs || !m->tables || !m->memories || !m->globals) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_import *im = &m->imports[i];
    switch (im->kind) {
    case WASM_EXT_FUNC: m->funcs[m->nfuncs++].type = im->u.func_type; break;
    case WASM_EXT_TABLE: m->tables[m->ntables++] = im->u.table; break;
    case WASM_EXT_MEMORY: m->memories[m->nmemories++] = im->u.memory; break;
    default: m->globals[m->nglobals++].type = im->u.global; break;
    }
  }
  m->num_imported_funcs = nf;
  m->num_imported_tables = nt;
  m->num_imported_memories = nm;
  m->num_imported_globals = ng;
  if (nm > 1) return WASM_INVALID(d, d->pos, "multiple memories");
  return true;
}

/* Grows an index space by n entries (zeroed). */
static bool extend(wasm_dec *d, void **arr, uint32_t have, uint32_t n, size_t elem) {
  void *p = realloc(*arr, ((size_t)have + n + 1) * elem);
  if (!p) return oom(d);
  memset((char *)p + (size_t)have * elem, 0, ((size_t)n + 1) * elem);
  *arr = p;
  return true;
}

static bool function_section(wasm_dec *d, uint32_t *ndefined) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (!extend(d, (void **)&m->funcs, m->nfuncs, n, sizeof *m->funcs)) return false;
  for (uint32_t i = 0; i < n; i++) {
    size_t at = d->pos;
    uint32_t t;
    if (!wasm_u32(d, &t)) return false;
    if (t >= m->ntypes && !WASM_INVALID(d, at, "unknown type %u", t)) return false;
    m->funcs[m->nfuncs++].type = t;
  }
  *ndefined = n;
  return true;
}

static bool table_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (!extend(d, (void **)&m->tables, m->ntables, n, sizeof *m->tables)) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!table_type(d, &m->tables[m->ntables])) return false;
    m->ntables++;
  }
  return true;
}

static bool memory_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (!extend(d, (void **)&m->memories, m->nmemories, n, sizeof *m->memories)) return false;
  for (uint32_t i = 0; i < n; i++) {
    size_t at = d->pos;
    wasm_limits *l = &m->memories[m->nmemories];
    if (!limits(d, l) || !check_memory_limits(d, at, l)) return false;
    m->nmemories++;
    if (!add_memory(d, at)) return false;
  }
  return true;
}

/* The declared-function flags (C.refs) are needed from the global section
** on; the function index space is complete by then. */
static bool need_declared(wasm_dec *d) {
  wasm_module *m = d->m;
  if (m->func_declared) return true;
  if (!(m->func_declared = calloc(m->nfuncs ? m->nfuncs : 1, 1))) return oom(d);
  return true;
}

static bool global_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n) || !need_declared(d)) return false;
  if (!extend(d, (void **)&m->globals, m->nglobals, n, sizeof *m->globals)) return false;
  for (uint32_t i = 0; i < n; i++) {
    wasm_global *g = &m->globals[m->nglobals];
    if (!global_type(d, &g->type)) return false;
    /* A global's initialiser sees only the imported globals. */
    if (!wasm_validate_const(d, g->type.type, m->num_imported_globals, &g->init))
      return false;
    m->nglobals++;
  }
  return true;
}

static int export_cmp(const void *a, const void *b) {
  const wasm_export *x = *(const wasm_export *const *)a, *y = *(const wasm_export *const *)b;
  if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
  return memcmp(x->name, y->name, x->name_len);
}

static bool export_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n) || !need_declared(d)) return false;
  if (!(m->exports = calloc(n ? n : 1, sizeof *m->exports))) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_export *e = &m->exports[i];
    m->nexports = i + 1;
    if (!name(d, &e->name, &e->name_len) || !wasm_u8(d, &e->kind)) return false;
    if (e->kind > WASM_EXT_GLOBAL) return WASM_MALFORMED(d, d->pos - 1, "malformed export kind");
    size_t at = d->pos;
    if (!wasm_u32(d, &e->index)) return false;
    if (d->invalid) continue;
    static const char *what[] = {"function", "table", "memory", "global"};
    uint32_t limit[] = {m->nfuncs, m->ntables, m->nmemories, m->nglobals};
    if (e->index >= limit[e->kind]) {
      if (!WASM_INVALID(d, at, "unknown %s %u", what[e->kind], e->index)) return false;
      continue;
    }
    if (e->kind == WASM_EXT_FUNC) m->func_declared[e->index] = 1;
  }
  if (d->invalid || n < 2) return true;
  /* Names must be unique: sort pointers to the exports and compare
  ** neighbours (quadratic comparison would let a big module stall us). */
  wasm_export **s = malloc((size_t)n * sizeof *s);
  if (!s) return oom(d);
  for (uint32_t i = 0; i < n; i++) s[i] = &m->exports[i];
  qsort(s, n, sizeof *s, export_cmp);
  bool ok = true;
  for (uint32_t i = 1; i < n && ok; i++)
    if (export_cmp(&s[i - 1], &s[i]) == 0) {
      ok = WASM_INVALID(d, d->pos, "duplicate export name \"%.40s\"", s[i]->name);
      break;
    }
  free(s);
  return ok;
}

static bool start_section(wasm_dec *d) {
  wasm_module *m = d->m;
  size_t at = d->pos;
  if (!wasm_u32(d, &m->start)) return false;
  m->has_start = true;
  if (d->invalid) return true;
  if (m->start >= m->nfuncs) return WASM_INVALID(d, at, "unknown function %u", m->start);
  uint32_t t = m->funcs[m->start].type;
  if (t < m->ntypes && (m->types[t].nparams || m->types[t].nresults))
    return WASM_INVALID(d, at, "start function must take no arguments and return nothing");
  return true;
}

/* The offset of an active segment: a constant i32 expression. */
static bool offset_expr(wasm_dec *d, wasm_const_expr *ce) {
  return wasm_validate_const(d, WASM_I32, d->m->num_imported_globals, ce);
}

static bool elem_section(wasm_dec *d) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n) || !need_declared(d)) return false;
  if (!(m->elems = calloc(n ? n : 1, sizeof *m->elems))) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_elem *e = &m->elems[i];
    m->nelems = i + 1;
    size_t at = d->pos;
    uint32_t flags;
    if (!wasm_u32(d, &flags)) return false;
    if (flags > 7) return WASM_MALFORMED(d, at, "malformed elements segment kind");
    /* bit 0: passive or declarative; bit 1: explicit table index (active)
    ** or declarative (otherwise); bit 2: items are expressions. */
    bool active = !(flags & 1), exprs = flags & 4;
    e->mode = active ? WASM_SEG_ACTIVE : (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
    e->type = WASM_FUNCREF;
    if (active && (flags & 2) && !wasm_u32(d, &e->table)) return false;
    if (active && !offset_expr(d, &e->offset)) return false;
    if (flags & 3) {                     /* an element kind / type follows */
      if (exprs) {
        if (!wasm_reftype(d, &e->type)) return false;
      } else {
        uint8_t kind;
        if (!wasm_u8(d, &kind)) return false;
        if (kind != 0) return WASM_MALFORMED(d, d->pos - 1, "malformed element kind");
      }
    }
    uint32_t cnt;
    if (!wasm_count(d, &cnt)) return false;
    if (!(e->items = calloc(cnt ? cnt : 1, sizeof *e->items))) return oom(d);
    for (uint32_t k = 0; k < cnt; k++) {
      size_t iat = d->pos;
      if (exprs) {
        if (!wasm_validate_const(d, e->type, m->num_imported_globals, &e->items[k]))
          return false;
      } else {
        uint32_t f;
        if (!wasm_u32(d, &f)) return false;
        e->items[k] = (wasm_const_expr){WASM_CONST_REF_FUNC, f};
        if (d->invalid) continue;
        if (f >= m->nfuncs) {
          if (!WASM_INVALID(d, iat, "unknown function %u", f)) return false;
          continue;
        }
        m->func_declared[f] = 1;
      }
      e->count = k + 1;
    }
    e->count = cnt;
    if (active && !d->invalid) {
      if (e->table >= m->ntables) {
        if (!WASM_INVALID(d, at, "unknown table %u", e->table)) return false;
      } else if (m->tables[e->table].elem != e->type &&
                 !WASM_INVALID(d, at, "type mismatch: %s segment for a %s table",
                               wasm_type_name(e->type),
                               wasm_type_name(m->tables[e->table].elem)))
        return false;
    }
  }
  return true;
}

static bool datacount_section(wasm_dec *d) {
  if (!wasm_u32(d, &d->datacount)) return false;
  d->has_datacount = true;
  return true;
}

static bool code_section(wasm_dec *d, uint32_t ndefined) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  if (n != ndefined)
    return WASM_MALFORMED(d, d->pos, "function and code section have inconsistent lengths");
  if (!need_declared(d)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t fi = m->num_imported_funcs + i;
    wasm_func *f = &m->funcs[fi];
    uint32_t size;
    if (!wasm_count(d, &size)) return false;
    size_t body_end = d->pos + size;
    d->in_func = true;
    d->func = fi;
    /* Local declarations: groups of (count, type). Sum the counts first,
    ** then expand them, so a huge count is refused before allocating. */
    uint32_t ngroups, np = 0;
    if (!wasm_count(d, &ngroups)) return false;
    size_t groups = d->pos;
    uint64_t total = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
      uint32_t c;
      uint8_t t;
      if (!wasm_u32(d, &c) || !wasm_valtype(d, &t)) return false;
      total += c;
      if (total > WASM_MAX_LOCALS)
        return WASM_MALFORMED(d, groups, "too many locals (limit %u)", WASM_MAX_LOCALS);
    }
    if (total + d->total_locals > WASM_MAX_MODULE_LOCALS)
      return wasm_fail(d, RUSM_WASM_ERR_RESOURCE, groups,
                       "too many locals in the module (limit %u)", WASM_MAX_MODULE_LOCALS);
    d->total_locals += (uint32_t)total;
    if (!d->invalid && f->type < m->ntypes) np = m->types[f->type].nparams;
    size_t nl = (size_t)np + total;
    if (nl > d->cap_locals) {
      uint8_t *p = realloc(d->locals, nl);
      if (!p) return oom(d);
      d->locals = p;
      d->cap_locals = nl;
    }
    if (np) memcpy(d->locals, m->types[f->type].types, np);
    if (!(f->local_types = malloc(total ? total : 1))) return oom(d);
    f->nlocals = (uint32_t)total;
    size_t after = d->pos, k = 0;
    d->pos = groups;
    for (uint32_t g = 0; g < ngroups; g++) {
      uint32_t c;
      uint8_t t;
      wasm_u32(d, &c);             /* decoded fine above */
      wasm_valtype(d, &t);
      memset(f->local_types + k, t, c);
      k += c;
    }
    d->pos = after;
    if (total) memcpy(d->locals + np, f->local_types, total);
    f->code = d->b + d->pos;
    f->code_offset = (uint32_t)d->pos;
    if (!wasm_validate_body(d, f, (uint32_t)nl)) return false;
    f->code_len = (uint32_t)(d->pos - f->code_offset);
    if (d->pos != body_end)
      return WASM_MALFORMED(d, d->pos, "section size mismatch (function body)");
    d->in_func = false;
  }
  return true;
}

static bool data_section(wasm_dec *d, bool *seen) {
  wasm_module *m = d->m;
  uint32_t n;
  if (!wasm_count(d, &n)) return false;
  *seen = true;
  if (d->has_datacount && n != d->datacount)
    return WASM_MALFORMED(d, d->pos, "data count and data section have inconsistent lengths");
  if (!(m->datas = calloc(n ? n : 1, sizeof *m->datas))) return oom(d);
  for (uint32_t i = 0; i < n; i++) {
    wasm_data *s = &m->datas[i];
    m->ndatas = i + 1;
    size_t at = d->pos;
    uint32_t flags;
    if (!wasm_u32(d, &flags)) return false;
    if (flags > 2) return WASM_MALFORMED(d, at, "malformed data segment kind");
    s->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
    if (flags == 2 && !wasm_u32(d, &s->memory)) return false;
    if (flags != 1 && !offset_expr(d, &s->offset)) return false;
    uint32_t len;
    if (!wasm_count(d, &len) || !wasm_avail(d, len)) return false;
    s->bytes = d->b + d->pos;
    s->len = len;
    d->pos += len;
    if (flags != 1 && !d->invalid && s->memory >= m->nmemories &&
        !WASM_INVALID(d, at, "unknown memory %u", s->memory))
      return false;
  }
  return true;
}

/* ------------------------------------------------------------ the module */

static const char *const section_names[] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count"};

/* Position of each non-custom section id in the required order (the data
** count section sits between element and code). */
static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

static bool decode_module(wasm_dec *d) {
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
  static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
  d->end = d->size;
  if (d->size < 4) { d->pos = d->size; return WASM_MALFORMED(d, d->size, "unexpected end"); }
  if (memcmp(d->b, magic, 4) != 0) return WASM_MALFORMED(d, 0, "magic header not detected");
  if (d->size < 8) { d->pos = d->size; return WASM_MALFORMED(d, d->size, "unexpected end"); }
  if (memcmp(d->b + 4, version, 4) != 0) return WASM_MALFORMED(d, 4, "unknown binary version");
  d->pos = 8;

  uint8_t last = 0;
  uint32_t ndefined = 0;
  bool code_seen = false, data_seen = false;
  while (d->pos < d->size) {
    d->section = NULL;
    size_t at = d->pos;
    uint8_t id = d->b[d->pos++];
    if (id > 12) return WASM_MALFORMED(d, at, "malformed section id %u", id);
    if (id != 0 && section_rank[id] <= last)
      return WASM_MALFORMED(d, at, "unexpected content after last section (%s section out of order or repeated)",
                            section_names[id]);
    uint32_t size;
    if (!wasm_count(d, &size)) return false;
    size_t sec_end = d->pos + size;
    d->section = section_names[id];
    if (id != 0) last = section_rank[id];
    /* Past the function section the function index space is complete and
    ** any constant expression may name functions (ref.func). */
    if (last > section_rank[3] && !need_declared(d)) return false;
    bool ok = true;
    switch (id) {
    case 0:
      ok = name(d, NULL, NULL);
      /* The name must fit in the section and the rest is skipped. */
      if (ok && (d->pos > sec_end || sec_end > d->end)) ok = wasm_eof(d);
      if (ok) d->pos = sec_end;
      break;
    case 1: ok = type_section(d); break;
    case 2: ok = import_section(d); break;
    case 3: ok = function_section(d, &ndefined); break;
    case 4: ok = table_section(d); break;
    case 5: ok = memory_section(d); break;
    case 6: ok = global_section(d); break;
    case 7: ok = export_section(d); break;
    case 8: ok = start_section(d); break;
    case 9: ok = elem_section(d); break;
    case 10: ok = code_section(d, ndefined); code_seen = true; break;
    case 11: ok = data_section(d, &data_seen); break;
    case 12: ok = datacount_section(d); break;
    }
    if (!ok || d->failed) return false;
    if (d->pos != sec_end) return WASM_MALFORMED(d, d->pos, "section size mismatch");
  }
  d->section = NULL;
  d->in_func = false;
  if (!code_seen && ndefined != 0)
    return WASM_MALFORMED(d, d->size, "function and code section have inconsistent lengths");
  if (!data_seen && d->has_datacount && d->datacount != 0)
    return WASM_MALFORMED(d, d->size, "data count and data section have inconsistent lengths");
  if (d->need_datacount) {
    d->section = "code";
    d->in_func = true;
    d->func = d->need_datacount_func;
    if (d->m->ndatas)
      return WASM_MALFORMED(d, d->need_datacount_at, "data count section required");
    WASM_INVALID(d, d->need_datacount_at, "unknown data segment %u", d->need_datacount_index);
  }
  return !d->failed;
}

/* ------------------------------------------------------------ public API */

void rusm_wasm_module_free(rusm_wasm_module *m) {
  if (!m) return;
  if (m->tierup && m->tierup_free) m->tierup_free(m->tierup);
  if (m->coro_pool && m->coro_pool_free) m->coro_pool_free(m->coro_pool);
  if (m->jit && m->jit_free) m->jit_free(m->jit);
  if (m->compiled && m->compiled_free) m->compiled_free(m->compiled);
  for (uint32_t i = 0; i < m->ntypes; i++) free(m->types[i].types);
  free(m->types);
  for (uint32_t i = 0; i < m->nimports; i++) {
    free(m->imports[i].module);
    free(m->imports[i].name);
  }
  free(m->imports);
  if (m->funcs)
    for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) free(m->funcs[i].local_types);
  free(m->funcs);
  free(m->tables);
  free(m->memories);
  free(m->globals);
  for (uint32_t i = 0; i < m->nexports; i++) free(m->exports[i].name);
  free(m->exports);
  for (uint32_t i = 0; i < m->nelems; i++) free(m->elems[i].items);
  free(m->elems);
  free(m->datas);
  free(m->func_declared);
  free(m->bytes);
  free(m);
}

rusm_wasm_module *rusm_wasm_module_load(const uint8_t *bytes, size_t len,
                                        rusm_wasm_error *err) {
  rusm_wasm_error scratch;
  if (!err) err = &scratch;
  memset(err, 0, sizeof *err);
  err->kind = RUSM_WASM_OK;
  if (!bytes && len) {
    err->kind = RUSM_WASM_ERR_ARGS;
    snprintf(err->message, sizeof err->message, "no module bytes");
    return NULL;
  }
  if (len > UINT32_MAX) {
    /* Offsets in wasm_func and the error are 32-bit. */
    err->kind = RUSM_WASM_ERR_RESOURCE;
    snprintf(err->message, sizeof err->message, "module larger than 4 GiB");
    return NULL;
  }
  wasm_module *m = calloc(1, sizeof *m);
  if (m) m->bytes = malloc(len ? len : 1);
  if (!m || !m->bytes) {
    free(m);
    err->kind = RUSM_WASM_ERR_RESOURCE;
    snprintf(err->message, sizeof err->message, "out of memory");
    return NULL;
  }
  if (len) memcpy(m->bytes, bytes, len);
  m->size = len;
  wasm_dec d = {.m = m, .b = m->bytes, .size = len, .end = len, .err = err};
  bool ok = decode_module(&d);
  if (ok && !d.invalid && !m->func_declared) ok = need_declared(&d);
  wasm_dec_free_scratch(&d);
  if (!ok || d.failed || d.invalid) {
    rusm_wasm_module_free(m);
    return NULL;
  }
  return m;
}
