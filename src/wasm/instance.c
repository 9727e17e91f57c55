/*
** instance.c -- instantiation: imports matched against the linker with
** the spec's rules, tables/memories/globals allocated, element and data
** segments applied in order (Wasm 2.0: a failing segment traps and leaves
** earlier writes in place), then the start function.  Also exports by name
** and memory access for the host.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"
#include "rt.h"

void wasm_set_err(rusm_wasm_error *err, rusm_wasm_error_kind kind, const char *fmt, ...) {
  if (!err) return;
  err->kind = kind;
  err->offset = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

rusm_wasm_val wasm_slot_to_val(wslot s, uint8_t t) {
  rusm_wasm_val v;
  memset(&v, 0, sizeof v);
  v.type = (rusm_wasm_valtype)t;
  switch (t) {
  case WASM_I32: v.of.i32 = s.i32; break;
  case WASM_F32: v.of.f32_bits = s.u32; break;
  case WASM_I64: v.of.i64 = s.i64; break;
  case WASM_F64: v.of.f64_bits = s.u64; break;
  default: v.of.ref = s.ref; break;
  }
  return v;
}

wslot wasm_val_to_slot(const rusm_wasm_val *v) {
  wslot s;
  s.u64 = 0;
  switch ((int)v->type) {
  case WASM_I32: s.u64 = (uint32_t)v->of.i32; break;
  case WASM_F32: s.u64 = v->of.f32_bits; break;
  case WASM_I64: s.u64 = (uint64_t)v->of.i64; break;
  case WASM_F64: s.u64 = v->of.f64_bits; break;
  default: s.ref = v->of.ref; break;
  }
  return s;
}

int64_t wasm_table_grow(wtable *t, uint32_t delta, void *init) {
  uint32_t old = t->size;
  if (delta == 0) return old;
  uint64_t want = (uint64_t)old + delta;
  uint64_t lim = t->has_max ? t->max : UINT32_MAX;
  /* A policy bound well below 2^32 so that a hostile grow cannot ask for
  ** 32 GiB of table. */
  if (want > lim || want > (1u << 24)) return -1;
  void **ne = realloc(t->elems, (size_t)want * sizeof *ne);
  if (!ne) return -1;
  for (uint64_t i = old; i < want; i++) ne[i] = init;
  t->elems = ne;
  t->size = (uint32_t)want;
  return old;
}

/* A constant expression's value in inst (globals below are initialized). */
static wslot eval_const(const rusm_wasm_instance *inst, const wasm_const_expr *ce) {
  wslot s;
  s.u64 = 0;
  switch (ce->kind) {
  case WASM_CONST_I32: case WASM_CONST_F32: s.u64 = (uint32_t)ce->value; break;
  case WASM_CONST_I64: case WASM_CONST_F64: s.u64 = ce->value; break;
  case WASM_CONST_REF_NULL: s.ref = NULL; break;
  case WASM_CONST_REF_FUNC: s.ref = inst->funcs[ce->value]; break;
  case WASM_CONST_GLOBAL_GET: s = inst->globals[ce->value]->val; break;
  }
  return s;
}

void *wasm_elem_item(const rusm_wasm_instance *inst, const wasm_elem *seg, uint32_t i) {
  return eval_const(inst, &seg->items[i]).ref;
}

static bool limits_match(uint64_t amin, bool ahas, uint64_t amax, const wasm_limits *want) {
  if (amin < want->min) return false;
  if (want->has_max && (!ahas || amax > want->max)) return false;
  return true;
}

static bool host_sig_match(const rusm_wasm_functype *hs, const wasm_functype *ft) {
  if (hs->nparams != ft->nparams || hs->nresults != ft->nresults) return false;
  for (uint32_t i = 0; i < hs->nparams; i++)
    if ((uint8_t)hs->params[i] != ft->types[i]) return false;
  for (uint32_t i = 0; i < hs->nresults; i++)
    if ((uint8_t)hs->results[i] != ft->types[ft->nparams + i]) return false;
  return true;
}

void rusm_wasm_instance_free(rusm_wasm_instance *inst) {
  if (!inst) return;
  const wasm_module *m = inst->m;
  if (inst->tier_listed) wasm_tier_detach(inst);
  if (inst->own_tables)
    for (uint32_t i = m->num_imported_tables; i < m->ntables; i++) free(inst->own_tables[i].elems);
  if (inst->own_mem) {
    wasm_memory_destroy(inst->own_mem);
    free(inst->own_mem);
  }
  free(inst->funcs);
  free(inst->own_funcs);
  free(inst->tables);
  free(inst->own_tables);
  free(inst->globals);
  free(inst->own_globals);
  free(inst->elem_dropped);
  free(inst->data_dropped);
  free(inst);
}

static bool resolve_imports(rusm_wasm_instance *inst, rusm_wasm_linker *l, rusm_wasm_error *err) {
  const wasm_module *m = inst->m;
  uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
  for (uint32_t i = 0; i < m->nimports; i++) {
    const wasm_import *imp = &m->imports[i];
    wextern x;
    memset(&x, 0, sizeof x);
    if (!l || !wasm_linker_lookup(l, imp->module, imp->module_len, imp->name, imp->name_len, &x)) {
      wasm_set_err(err, RUSM_WASM_ERR_LINK, "unknown import \"%s\".\"%s\"", imp->module, imp->name);
      return false;
    }
    bool ok = x.kind == imp->kind;
    switch (imp->kind) {
    case WASM_EXT_FUNC: {
      const wasm_functype *want = &m->types[inst->c->canon[imp->u.func_type]];
      if (!ok) break;
      if (x.func) {
        ok = wasm_functype_eq(x.func->type, want);
        inst->funcs[fi] = x.func;
      } else {
        ok = host_sig_match(x.host_sig, want);
        wfuncinst *f = &inst->own_funcs[fi];
        f->type = want;
        f->pub = inst->c->pub[inst->c->canon[imp->u.func_type]];
        f->type_hash = inst->c->type_hash[imp->u.func_type];
        f->host = x.fn;
        f->env = x.env;
        inst->funcs[fi] = f;
      }
      fi++;
      break;
    }
    case WASM_EXT_TABLE:
      ok = ok && x.table->type == imp->u.table.elem &&
           limits_match(x.table->size, x.table->has_max, x.table->max, &imp->u.table.lim);
      if (ok) inst->tables[ti++] = x.table;
      break;
    case WASM_EXT_MEMORY:
      ok = ok && limits_match(x.mem->pages, x.mem->has_max, x.mem->max_pages, &imp->u.memory);
      if (ok && mi++ == 0) inst->mem = x.mem;
      break;
    case WASM_EXT_GLOBAL:
      ok = ok && x.global->type == imp->u.global.type && x.global->mut == imp->u.global.mut;
      if (ok) inst->globals[gi++] = x.global;
      break;
    default:
      ok = false;
    }
    if (!ok) {
      wasm_set_err(err, RUSM_WASM_ERR_LINK, "incompatible import type \"%s\".\"%s\"", imp->module,
                   imp->name);
      return false;
    }
  }
  return true;
}

/* Runs the start function (or any function instance) to completion. */
static bool run_start(rusm_wasm_instance *inst, wfuncinst *f, rusm_wasm_error *err) {
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  if (!e) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
    return false;
  }
  wasm_exec_enter(e, f);
  if (WFI_SLOT(f)) e->use_coro = true;
  rusm_wasm_status st = rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED);
  bool ok = st == RUSM_WASM_RETURNED;
  if (!ok) {
    rusm_wasm_trap t = st == RUSM_WASM_TRAPPED ? e->trap : RUSM_WASM_TRAP_HOST;
    wasm_set_err(err, RUSM_WASM_ERR_TRAP, "%s", rusm_wasm_trap_message(t));
  }
  rusm_wasm_exec_free(e);
  return ok;
}

rusm_wasm_instance *rusm_wasm_instantiate(const rusm_wasm_module *m, rusm_wasm_linker *l,
                                          rusm_wasm_error *err) {
  if (err) memset(err, 0, sizeof *err);
  const wcompiled *c = wasm_compiled_get(m, err);
  if (!c) return NULL;
  rusm_wasm_instance *inst = calloc(1, sizeof *inst);
  if (!inst) goto oom;
  inst->m = m;
  inst->c = c;
  inst->mem = &inst->no_mem;
  inst->funcs = calloc(m->nfuncs + 1, sizeof *inst->funcs);
  inst->own_funcs = calloc(m->nfuncs + 1, sizeof *inst->own_funcs);
  inst->tables = calloc(m->ntables + 1, sizeof *inst->tables);
  inst->own_tables = calloc(m->ntables + 1, sizeof *inst->own_tables);
  inst->globals = calloc(m->nglobals + 1, sizeof *inst->globals);
  inst->own_globals = calloc(m->nglobals + 1, sizeof *inst->own_globals);
  inst->elem_dropped = calloc(m->nelems + 1, 1);
  inst->data_dropped = calloc(m->ndatas + 1, 1);
  if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->own_tables || !inst->globals ||
      !inst->own_globals || !inst->elem_dropped || !inst->data_dropped)
    goto oom;

  if (!resolve_imports(inst, l, err)) goto fail;

  for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
    wfuncinst *f = &inst->own_funcs[i];
    uint32_t t = c->canon[m->funcs[i].type];
    f->type = &m->types[t];
    f->pub = c->pub[t];
    f->type_hash = c->type_hash[t];
    f->inst = inst;
    if (m->tier == RUSM_WASM_TIER_COMPILED) {
      /* Compiled at load: no interpreter code, so the interpreter takes
      ** its bridge into native code (jit_rt.c) when it calls one.  (A
      ** module that may tier up later is switched by wasm_tier_attach.) */
      f->jit_native = wasm_jit_native(m->jit, i);
      f->jit_slot = (void (*)(rusm_wasm_exec *, rusm_wasm_instance *, wslot *))wasm_jit_slot(m->jit, i);
    } else {
      f->code = &c->funcs[i];
    }
    inst->funcs[i] = f;
  }
  if (m->tier != RUSM_WASM_TIER_COMPILED && !wasm_tier_attach(inst)) goto oom;
  for (uint32_t i = m->num_imported_tables; i < m->ntables; i++) {
    wtable *t = &inst->own_tables[i];
    const wasm_tabletype *tt = &m->tables[i];
    t->type = tt->elem;
    t->has_max = tt->lim.has_max;
    t->max = tt->lim.has_max ? tt->lim.max : UINT32_MAX;
    if (tt->lim.min > (1u << 24)) {
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "table too large");
      goto fail;
    }
    t->elems = calloc(tt->lim.min + 1, sizeof *t->elems);
    if (!t->elems) goto oom;
    t->size = tt->lim.min;
    inst->tables[i] = t;
  }
  if (m->nmemories > m->num_imported_memories) {
    const wasm_limits *ml = &m->memories[m->num_imported_memories];
    inst->own_mem = calloc(1, sizeof *inst->own_mem);
    if (!inst->own_mem) goto oom;
    if (!wasm_memory_init(inst->own_mem, ml->min, ml->max, ml->has_max)) {
      free(inst->own_mem);
      inst->own_mem = NULL;
      wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "cannot allocate memory of %u pages", ml->min);
      goto fail;
    }
    inst->mem = inst->own_mem;
  }
  for (uint32_t i = m->num_imported_globals; i < m->nglobals; i++) {
    wglobal *g = &inst->own_globals[i];
    g->type = m->globals[i].type.type;
    g->mut = m->globals[i].type.mut;
    g->val = eval_const(inst, &m->globals[i].init);
    inst->globals[i] = g;
  }

  /* Element segments, then data segments, in order. */
  for (uint32_t i = 0; i < m->nelems; i++) {
    const wasm_elem *seg = &m->elems[i];
    if (seg->mode == WASM_SEG_DECLARATIVE) inst->elem_dropped[i] = 1;
    if (seg->mode != WASM_SEG_ACTIVE) continue;
    wtable *t = inst->tables[seg->table];
    uint64_t off = eval_const(inst, &seg->offset).u32;
    if (off + seg->count > t->size) {
      wasm_set_err(err, RUSM_WASM_ERR_TRAP, "out of bounds table access");
      goto trapped;
    }
    for (uint32_t k = 0; k < seg->count; k++) t->elems[off + k] = wasm_elem_item(inst, seg, k);
    inst->elem_dropped[i] = 1;
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const wasm_data *seg = &m->datas[i];
    if (seg->mode != WASM_SEG_ACTIVE) continue;
    uint64_t off = eval_const(inst, &seg->offset).u32;
    if (!wasm_memory_in_bounds(inst->mem, off, seg->len)) {
      wasm_set_err(err, RUSM_WASM_ERR_TRAP, "out of bounds memory access");
      goto trapped;
    }
    if (seg->len) memcpy(inst->mem->base + off, seg->bytes, seg->len);
    inst->data_dropped[i] = 1;
  }
  if (m->has_start && !run_start(inst, inst->funcs[m->start], err)) goto trapped;
  return inst;

trapped:
  /* Other instances' tables may now hold this instance's functions. */
  if (l && m->nimports) {
    wasm_linker_keep(l, inst);
    return NULL;
  }
  rusm_wasm_instance_free(inst);
  return NULL;
oom:
  wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
fail:
  rusm_wasm_instance_free(inst);
  return NULL;
}

/* ------------------------------------------------------------ exports */

static const wasm_export *find_export(const wasm_module *m, const char *name, size_t len) {
  for (uint32_t i = 0; i < m->nexports; i++) {
    const wasm_export *x = &m->exports[i];
    if (x->name_len == len && memcmp(x->name, name, len) == 0) return x;
  }
  return NULL;
}

bool wasm_instance_export(rusm_wasm_instance *inst, const char *name, size_t len, wextern *out) {
  const wasm_export *x = find_export(inst->m, name, len);
  if (!x) return false;
  memset(out, 0, sizeof *out);
  out->kind = x->kind;
  switch (x->kind) {
  case WASM_EXT_FUNC: out->func = inst->funcs[x->index]; break;
  case WASM_EXT_TABLE: out->table = inst->tables[x->index]; break;
  case WASM_EXT_MEMORY: out->mem = inst->mem; break;
  case WASM_EXT_GLOBAL: out->global = inst->globals[x->index]; break;
  default: return false;
  }
  return true;
}

bool rusm_wasm_export_func_type(rusm_wasm_instance *inst, const char *name, rusm_wasm_functype *out) {
  wextern x;
  if (!wasm_instance_export(inst, name, strlen(name), &x) || x.kind != WASM_EXT_FUNC) return false;
  const wasm_functype *ft = x.func->type;
  out->nparams = ft->nparams;
  out->nresults = ft->nresults;
  out->params = x.func->pub;
  out->results = x.func->pub + ft->nparams;
  return true;
}

bool rusm_wasm_export_global_get(rusm_wasm_instance *inst, const char *name, rusm_wasm_val *out) {
  wextern x;
  if (!wasm_instance_export(inst, name, strlen(name), &x) || x.kind != WASM_EXT_GLOBAL) return false;
  *out = wasm_slot_to_val(x.global->val, x.global->type);
  return true;
}

uint8_t *rusm_wasm_memory(rusm_wasm_instance *inst, size_t *size) {
  if (size) *size = (size_t)inst->mem->size;
  return inst->mem->size ? inst->mem->base : NULL;
}

bool rusm_wasm_memory_read(rusm_wasm_instance *inst, uint64_t offset, void *dst, size_t len) {
  if (!wasm_memory_in_bounds(inst->mem, offset, len)) return false;
  if (len) memcpy(dst, inst->mem->base + offset, len);
  return true;
}

bool rusm_wasm_memory_write(rusm_wasm_instance *inst, uint64_t offset, const void *src, size_t len) {
  if (!wasm_memory_in_bounds(inst->mem, offset, len)) return false;
  if (len) memcpy(inst->mem->base + offset, src, len);
  return true;
}
