/*
** wasm_invoke.c -- `rusm wasm invoke FILE.wasm NAME [ARGS...]`: load a
** module, instantiate it, call the exported function NAME with ARGS parsed
** by its signature, print each result on its own line.
**
** The module may have no imports: the engine provides none yet (WASI and
** the rusm host ABI come with Wasm processes), so a module with imports is
** reported as unlinkable (exit 2).
*/
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rusm/wasm.h>

#include "cli.h"

void cli_wasm_invoke_usage(FILE *out) {
  fprintf(out,
          "usage: rusm wasm invoke [--tier interp|compiled|auto] FILE.wasm NAME [ARGS...]\n"
          "  Instantiates FILE.wasm (which must have no imports) and calls its\n"
          "  exported function NAME. ARGS are parsed by the function's signature:\n"
          "  i32/i64 in decimal (signed or unsigned) or 0x hex; f32/f64 in\n"
          "  decimal or hex float, inf, -inf, nan. Each result is printed on its\n"
          "  own line (integers as signed decimal, floats round-trippably).\n"
          "  --tier compiled compiles the module to native code with LLVM first;\n"
          "  auto starts in the interpreter and compiles on a second thread once\n"
          "  the call has run a while (functions called after that run compiled);\n"
          "  the default, interp, runs it in the interpreter.\n"
          "  Exit status: 0 ok, 1 trap (kind on stderr), 2 malformed, invalid or\n"
          "  unlinkable module, 64 usage error, 66 unreadable file.\n");
}

static const char *type_name(rusm_wasm_valtype t) {
  switch (t) {
  case RUSM_WASM_I32: return "i32";
  case RUSM_WASM_I64: return "i64";
  case RUSM_WASM_F32: return "f32";
  case RUSM_WASM_F64: return "f64";
  case RUSM_WASM_FUNCREF: return "funcref";
  case RUSM_WASM_EXTERNREF: return "externref";
  }
  return "?";
}

/* An integer of `bits` bits: decimal (with an optional sign) or 0x hex.
** Both the signed and the unsigned range are accepted (-1 and 0xffffffff
** are the same i32), since Wasm integers are sign-agnostic. */
static bool parse_int(const char *s, int bits, uint64_t *out) {
  bool neg = false;
  const char *p = s;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  }
  /* strtoull would take a second sign and leading spaces: digits only */
  if (!*p || !(base == 16 ? strchr("0123456789abcdefABCDEF", *p) : strchr("0123456789", *p)))
    return false;
  char *end;
  errno = 0;
  unsigned long long mag = strtoull(p, &end, base);
  if (errno || *end) return false;
  uint64_t umax = bits == 32 ? UINT32_MAX : UINT64_MAX;
  uint64_t neg_max = (uint64_t)1 << (bits - 1);    /* |INT_MIN| */
  if (neg ? mag > neg_max : mag > umax) return false;
  *out = neg ? (uint64_t)0 - mag : mag;
  return true;
}

static bool parse_arg(const char *s, rusm_wasm_valtype t, rusm_wasm_val *v) {
  uint64_t u;
  char *end;
  v->type = t;
  switch (t) {
  case RUSM_WASM_I32:
    if (!parse_int(s, 32, &u)) return false;
    v->of.i32 = (int32_t)(uint32_t)u;
    return true;
  case RUSM_WASM_I64:
    if (!parse_int(s, 64, &u)) return false;
    v->of.i64 = (int64_t)u;
    return true;
  case RUSM_WASM_F32:
    /* strtof, not strtod + cast: one rounding, straight to float */
    errno = 0;
    v->of.f32 = strtof(s, &end);
    return *s && !*end;      /* ERANGE is fine: it rounds to 0 or inf */
  case RUSM_WASM_F64:
    v->of.f64 = strtod(s, &end);
    return *s && !*end;
  case RUSM_WASM_FUNCREF:
  case RUSM_WASM_EXTERNREF:
    v->of.ref = NULL;        /* only null can be named from a command line */
    return strcmp(s, "null") == 0;
  }
  return false;
}

/* Floats print as C does (%g family), with enough digits to read back the
** same value; nan and inf are spelled plainly (with "-" when negative). */
static void print_float(double d, int digits) {
  if (isnan(d)) printf("%snan\n", signbit(d) ? "-" : "");
  else if (isinf(d)) printf("%sinf\n", d < 0 ? "-" : "");
  else printf("%.*g\n", digits, d);
}

static void print_value(const rusm_wasm_val *v) {
  switch (v->type) {
  case RUSM_WASM_I32: printf("%" PRId32 "\n", v->of.i32); break;
  case RUSM_WASM_I64: printf("%" PRId64 "\n", v->of.i64); break;
  case RUSM_WASM_F32: print_float((double)v->of.f32, 9); break;
  case RUSM_WASM_F64: print_float(v->of.f64, 17); break;
  case RUSM_WASM_FUNCREF: printf("%s\n", v->of.ref ? "funcref" : "null"); break;
  case RUSM_WASM_EXTERNREF: printf("%s\n", v->of.ref ? "externref" : "null"); break;
  }
}

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0, got;
  uint8_t *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) free(buf);
      buf = nb;
      cap *= 2;
    }
  }
  int failed = ferror(f);
  fclose(f);
  if (failed) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static void print_signature(FILE *out, const rusm_wasm_functype *ft) {
  fprintf(out, "(");
  for (uint32_t i = 0; i < ft->nparams; i++)
    fprintf(out, "%s%s", i ? ", " : "", type_name(ft->params[i]));
  fprintf(out, ") -> (");
  for (uint32_t i = 0; i < ft->nresults; i++)
    fprintf(out, "%s%s", i ? ", " : "", type_name(ft->results[i]));
  fprintf(out, ")");
}

/* Calls NAME and prints its results; the exit status. */
static int call(rusm_wasm_instance *inst, const char *name, int argc, char **argv) {
  rusm_wasm_functype ft;
  if (!rusm_wasm_export_func_type(inst, name, &ft)) {
    fprintf(stderr, "rusm: no exported function '%s'\n", name);
    return CLI_USAGE;
  }
  if ((uint32_t)argc != ft.nparams) {
    fprintf(stderr, "rusm: %s takes %" PRIu32 " argument%s, got %d: %s ", name, ft.nparams,
            ft.nparams == 1 ? "" : "s", argc, name);
    print_signature(stderr, &ft);
    fprintf(stderr, "\n");
    return CLI_USAGE;
  }
  rusm_wasm_val *args = calloc((size_t)argc + 1, sizeof *args);
  rusm_wasm_val *results = calloc((size_t)ft.nresults + 1, sizeof *results);
  int status = CLI_OK;
  if (!args || !results) {
    fprintf(stderr, "rusm: out of memory\n");
    status = CLI_BAD_MODULE;
    goto out;
  }
  for (int i = 0; i < argc; i++) {
    if (!parse_arg(argv[i], ft.params[i], &args[i])) {
      fprintf(stderr, "rusm: argument %d of %s: '%s' is not a valid %s\n", i + 1, name,
              argv[i], type_name(ft.params[i]));
      status = CLI_USAGE;
      goto out;
    }
  }
  /* The exec API rather than rusm_wasm_call: it tells which trap it was. */
  rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  if (!e || rusm_wasm_exec_call(e, name, args, (size_t)argc, &err) != 0) {
    fprintf(stderr, "rusm: cannot call %s: %s\n", name, e ? err.message : "out of memory");
    rusm_wasm_exec_free(e);
    status = CLI_USAGE;
    goto out;
  }
  rusm_wasm_status s;
  while ((s = rusm_wasm_exec_run(e, RUSM_WASM_FUEL_UNLIMITED)) == RUSM_WASM_OUT_OF_FUEL) {
  }
  if (s == RUSM_WASM_RETURNED) {
    size_t n = rusm_wasm_exec_results(e, results, ft.nresults);
    for (size_t i = 0; i < n; i++) print_value(&results[i]);
  } else if (s == RUSM_WASM_TRAPPED) {
    fprintf(stderr, "trap: %s\n", rusm_wasm_trap_message(rusm_wasm_exec_trap(e, NULL, NULL)));
    status = CLI_TRAP;
  } else {
    /* no host functions are defined, so nothing can suspend */
    fprintf(stderr, "trap: call suspended without a host to resume it\n");
    status = CLI_TRAP;
  }
  rusm_wasm_exec_free(e);
out:
  free(args);
  free(results);
  return status;
}

int cli_wasm_invoke(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    cli_wasm_invoke_usage(stdout);
    return CLI_OK;
  }
  rusm_wasm_tier tier = RUSM_WASM_TIER_INTERP;
  if (argc >= 3 && strcmp(argv[1], "--tier") == 0) {
    if (strcmp(argv[2], "compiled") == 0) {
      tier = RUSM_WASM_TIER_COMPILED;
    } else if (strcmp(argv[2], "auto") == 0) {
      tier = RUSM_WASM_TIER_AUTO;
    } else if (strcmp(argv[2], "interp") != 0) {
      fprintf(stderr, "rusm: unknown tier \"%s\" (interp, compiled or auto)\n", argv[2]);
      return CLI_USAGE;
    }
    argc -= 2;
    argv += 2;
  }
  if (argc < 3) {
    cli_wasm_invoke_usage(stderr);
    return CLI_USAGE;
  }
  const char *path = argv[1], *name = argv[2];
  size_t len = 0;
  uint8_t *bytes = read_all(path, &len);
  if (!bytes) {
    fprintf(stderr, "rusm: cannot read %s: %s\n", path, strerror(errno));
    return CLI_NO_INPUT;
  }
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  rusm_wasm_module *m = rusm_wasm_module_load_tier(bytes, len, tier, &err);
  free(bytes);
  if (!m && err.kind == RUSM_WASM_ERR_RESOURCE) {
    fprintf(stderr, "rusm: %s: cannot load: %s\n", path, err.message);
    return CLI_BAD_MODULE;
  }
  if (!m) {
    fprintf(stderr, "rusm: %s: %s module: %s\n", path,
            err.kind == RUSM_WASM_ERR_INVALID ? "invalid" : "malformed", err.message);
    return CLI_BAD_MODULE;
  }
  int status;
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m, NULL, &err);
  if (!inst) {
    if (err.kind == RUSM_WASM_ERR_TRAP) {
      fprintf(stderr, "trap: %s\n", err.message);
      status = CLI_TRAP;
    } else {
      fprintf(stderr, "rusm: %s: cannot instantiate: %s%s\n", path, err.message,
              err.kind == RUSM_WASM_ERR_LINK ? " (rusm wasm invoke provides no imports)" : "");
      status = CLI_BAD_MODULE;
    }
  } else {
    status = call(inst, name, argc - 3, argv + 3);
    rusm_wasm_instance_free(inst);
  }
  rusm_wasm_module_free(m);
  return status;
}
