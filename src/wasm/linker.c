/*
** linker.c -- where imports come from: host functions defined by name,
** and instances whose exports are importable under a module name.
** Later definitions shadow earlier ones with the same names.
*/
#include <stdlib.h>
#include <string.h>

#include "rt.h"

typedef struct lentry {
  char *module, *name;       /* name NULL: a whole instance */
  size_t module_len, name_len;
  rusm_wasm_functype sig;    /* host functions (own copies of the types) */
  rusm_wasm_host_fn fn;
  void *env;
  rusm_wasm_instance *inst;
} lentry;

struct rusm_wasm_linker {
  lentry *v;
  size_t n, cap;
  rusm_wasm_instance **kept;
  size_t nkept, capkept;
};

rusm_wasm_linker *rusm_wasm_linker_new(void) { return calloc(1, sizeof(rusm_wasm_linker)); }

void rusm_wasm_linker_free(rusm_wasm_linker *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].module);
    free(l->v[i].name);
    free((void *)l->v[i].sig.params);
  }
  for (size_t i = 0; i < l->nkept; i++) rusm_wasm_instance_free(l->kept[i]);
  free(l->kept);
  free(l->v);
  free(l);
}

static lentry *add(rusm_wasm_linker *l, const char *module) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2 * l->cap : 16;
    lentry *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv) return NULL;
    l->v = nv;
    l->cap = nc;
  }
  lentry *e = &l->v[l->n];
  memset(e, 0, sizeof *e);
  e->module = strdup(module);
  if (!e->module) return NULL;
  e->module_len = strlen(module);
  l->n++;
  return e;
}

int rusm_wasm_linker_define_func(rusm_wasm_linker *l, const char *module, const char *name,
                                 const rusm_wasm_functype *sig, rusm_wasm_host_fn fn, void *env) {
  if (!l || !module || !name || !sig || !fn) return -1;
  size_t n = (size_t)sig->nparams + sig->nresults;
  rusm_wasm_valtype *types = malloc((n ? n : 1) * sizeof *types);
  char *nm = strdup(name);
  lentry *e = types && nm ? add(l, module) : NULL;
  if (!e) {
    free(types);
    free(nm);
    return -1;
  }
  if (sig->nparams) memcpy(types, sig->params, sig->nparams * sizeof *types);
  if (sig->nresults) memcpy(types + sig->nparams, sig->results, sig->nresults * sizeof *types);
  e->name = nm;
  e->name_len = strlen(name);
  e->sig.nparams = sig->nparams;
  e->sig.nresults = sig->nresults;
  e->sig.params = types;
  e->sig.results = types + sig->nparams;
  e->fn = fn;
  e->env = env;
  return 0;
}

int rusm_wasm_linker_define_instance(rusm_wasm_linker *l, const char *module,
                                     rusm_wasm_instance *inst) {
  if (!l || !module || !inst) return -1;
  lentry *e = add(l, module);
  if (!e) return -1;
  e->inst = inst;
  return 0;
}

bool wasm_linker_lookup(rusm_wasm_linker *l, const char *mod, size_t modlen, const char *name,
                        size_t namelen, wextern *out) {
  for (size_t i = l->n; i-- > 0;) {
    lentry *e = &l->v[i];
    if (e->module_len != modlen || memcmp(e->module, mod, modlen) != 0) continue;
    if (e->inst) {
      if (wasm_instance_export(e->inst, name, namelen, out)) return true;
      continue;
    }
    if (e->name_len != namelen || memcmp(e->name, name, namelen) != 0) continue;
    memset(out, 0, sizeof *out);
    out->kind = WASM_EXT_FUNC;
    out->host_sig = &e->sig;
    out->fn = e->fn;
    out->env = e->env;
    return true;
  }
  return false;
}

void wasm_linker_keep(rusm_wasm_linker *l, rusm_wasm_instance *inst) {
  if (l->nkept == l->capkept) {
    size_t nc = l->capkept ? 2 * l->capkept : 8;
    rusm_wasm_instance **nk = realloc(l->kept, nc * sizeof *nk);
    if (!nk) return; /* leak rather than leave dangling references */
    l->kept = nk;
    l->capkept = nc;
  }
  l->kept[l->nkept++] = inst;
}
