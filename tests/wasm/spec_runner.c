/*
** spec_runner.c -- runs the Wasm spec suite, as converted by wabt's
** wast2json (one .json command list + .wasm modules per .wast), against
** RUSM's engine through its public API (rusm/wasm.h) only.
**
**   wasm_spec_runner [--verbose] [--no-fork] [--fuel-chunk N] [--suspend]
**                    [--tier interp|compiled|auto|switch] [--timeout S] FILE.json...
**
** --fuel-chunk N runs every call N fuel units at a time (resuming after each
** OUT_OF_FUEL); --suspend makes the spectest print* functions suspend the
** call (resumed at once): both check that preemption and suspension change
** no result.
**
** Output: one line per file, "<file>.wast: P passed, F failed, S skipped",
** then "message mismatches: N" and last "N passed, N failed, N skipped"
** (assertions counted). Exit status 1 if anything failed.
**
** Counting rules (why each is what it is):
** - Every assert_* command is one assertion: passed, failed or skipped.
** - module / register / action commands are set-up: they are not counted
**   when they succeed, but a failure is counted as a failure, so a module
**   the engine wrongly rejects can never hide behind skipped assertions.
** - Text modules ("module_type": "text", the quote cases of
**   assert_malformed/assert_invalid) test a text parser RUSM does not have:
**   skipped. SIMD files (simd_*) are out of scope: every assertion skipped.
** - Unknown command kinds and unknown value types are failures.
** - An action on an export whose name holds a NUL byte is skipped: wasm.h
**   names exports by C string (one case, names.wast line 637).
** - assert_invalid / assert_malformed require the exact error kind
**   (RUSM_WASM_ERR_INVALID resp. MALFORMED), except for the few cases in
**   either_kind[] below. Their message, and the error message of
**   assert_unlinkable / assert_uninstantiable, is compared as "ours starts
**   with the expected text"; a mismatch is counted and reported (listed with
**   --verbose) but is not a failure: the kind is the contract, the wording
**   is a goal. Trap messages (assert_trap / assert_exhaustion) name the
**   trap kind, so there a mismatch IS a failure.
**
** Every file runs in its own child process (unless --no-fork) with shared
** counters, so a crash or hang on one file is reported as a failure of that
** file and hides nothing else.
*/
#include "spec_host.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct counts {
  unsigned long passed, failed, skipped, mismatches;
  unsigned long preemptions; /* OUT_OF_FUEL returns that were resumed */
  unsigned long suspensions; /* SUSPENDED returns that were resumed */
} counts;

/* ---------------------------------------------------------------- options */

static bool opt_verbose;
static bool opt_fork = true;
static bool opt_suspend;
/* --tier compiled: every module of the file is loaded for the compiled tier.
** --tier auto: for AUTO with a threshold of 0, so each module compiles on
** its own thread as soon as it has run, while its calls go on (which of
** them still interpret depends on timing; the results must not).
** --tier switch: for the interpreter, and rusm_wasm_module_compile runs
** at a call's first preemption (with --fuel-chunk): the module switches
** tiers in the middle of that call, at a known point. */
static rusm_wasm_tier opt_tier = RUSM_WASM_TIER_INTERP;
static bool opt_switch;
static uint64_t opt_fuel_chunk = UINT64_C(1) << 26;
static unsigned opt_timeout = 300;
/* A call that burns this much fuel is a hang, not a result. */
static const uint64_t FUEL_CAP = UINT64_C(1) << 34;
/* Failures printed per file without --verbose. */
enum { MAX_PRINTED = 40 };

/* ---------------------------------------------------------------- either kind */

/* Cases of the suite where a one-pass decoder+validator may legitimately
** report "invalid" for an assert_malformed module or vice versa, because
** the binary is both (the spec's reference interpreter decodes fully before
** it validates; a one-pass engine meets the validation error first). Each
** entry is (file, line) with the reason; both kinds are accepted there. */
static const struct {
  const char *file;
  int line;
  const char *why;
} either_kind[] = {
    /* (data.drop 0) / (memory.init 1 ...) in a module with no data
    ** segments: wast2json writes no data count section, so the binary is
    ** malformed ("data count section required") before it is invalid
    ** ("unknown data segment" / "unknown memory 0"). */
    {"memory_init.wast", 190, "no data count section: malformed first"},
    {"memory_init.wast", 227, "no data count section: malformed first"},
    {NULL, 0, NULL},
};

static bool either_kind_ok(const char *file, int line) {
  for (size_t i = 0; i < sizeof either_kind / sizeof either_kind[0]; i++)
    if (either_kind[i].file && either_kind[i].line == line &&
        strcmp(either_kind[i].file, file) == 0)
      return true;
  return false;
}

/* ---------------------------------------------------------------- state */

typedef struct inst_rec {
  char *name;                /* "$name" from the .wast, or NULL */
  rusm_wasm_module *mod;
  rusm_wasm_instance *inst;
  rusm_wasm_exec *exec;      /* created on first call, reused */
} inst_rec;

typedef struct file_state {
  const char *file;          /* "<name>.wast", for messages */
  char dir[4096];            /* where the .wasm files are */
  counts *c;
  unsigned printed;
  rusm_wasm_linker *linker;
  rusm_wasm_instance *spectest;
  inst_rec *recs;
  size_t nrecs, caprecs;
  inst_rec *current;         /* last module command; NULL if it failed */
  int line;                  /* of the command being run */
} file_state;

static void report(file_state *st, const char *what, const char *fmt, va_list ap) {
  if (!opt_verbose && st->printed >= MAX_PRINTED) {
    if (st->printed++ == MAX_PRINTED)
      printf("%s: ... (more failures: --verbose lists them all)\n", st->file);
    return;
  }
  st->printed++;
  printf("%s:%d: %s: ", st->file, st->line, what);
  vprintf(fmt, ap);
  printf("\n");
}

static void fail(file_state *st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(st, "FAIL", fmt, ap);
  va_end(ap);
  st->c->failed++;
}

static void pass(file_state *st) { st->c->passed++; }
static void skip(file_state *st) { st->c->skipped++; }

static void check_message(file_state *st, const char *ours, const char *expected) {
  if (strncmp(ours, expected, strlen(expected)) == 0) return;
  st->c->mismatches++;
  if (opt_verbose)
    printf("%s:%d: message mismatch: expected \"%s\", got \"%s\"\n", st->file,
           st->line, expected, ours);
}

static const char *kind_name(rusm_wasm_error_kind k) {
  switch (k) {
  case RUSM_WASM_OK: return "ok";
  case RUSM_WASM_ERR_MALFORMED: return "malformed";
  case RUSM_WASM_ERR_INVALID: return "invalid";
  case RUSM_WASM_ERR_LINK: return "link";
  case RUSM_WASM_ERR_TRAP: return "trap";
  case RUSM_WASM_ERR_RESOURCE: return "resource";
  case RUSM_WASM_ERR_ARGS: return "args";
  }
  return "?";
}

/* ---------------------------------------------------------------- values */

/* Externref values of the suite are small integers; each names a distinct,
** non-null host pointer (the engine never dereferences them). */
enum { EXTERN_POOL = 4096 };
static char extern_pool[EXTERN_POOL];

static const char *jstr(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* An argument (or a non-NaN-pattern expectation) as a value. Returns 1 on
** success, 0 if the type is one we skip (v128), -1 if unknown/garbled. */
static int parse_value(json_t *j, rusm_wasm_val *out) {
  const char *type = jstr(j, "type");
  const char *value = jstr(j, "value");
  uint64_t u;
  if (!type) return -1;
  memset(out, 0, sizeof *out);
  if (strcmp(type, "i32") == 0) {
    if (!parse_u64(value, &u)) return -1;
    out->type = RUSM_WASM_I32;
    out->of.i32 = (int32_t)(uint32_t)u;
  } else if (strcmp(type, "i64") == 0) {
    if (!parse_u64(value, &u)) return -1;
    out->type = RUSM_WASM_I64;
    out->of.i64 = (int64_t)u;
  } else if (strcmp(type, "f32") == 0) {
    if (!parse_u64(value, &u)) return -1;
    out->type = RUSM_WASM_F32;
    out->of.f32_bits = (uint32_t)u;
  } else if (strcmp(type, "f64") == 0) {
    if (!parse_u64(value, &u)) return -1;
    out->type = RUSM_WASM_F64;
    out->of.f64_bits = u;
  } else if (strcmp(type, "externref") == 0) {
    out->type = RUSM_WASM_EXTERNREF;
    if (value && strcmp(value, "null") == 0) out->of.ref = NULL;
    else if (parse_u64(value, &u) && u < EXTERN_POOL) out->of.ref = &extern_pool[u];
    else return -1;
  } else if (strcmp(type, "funcref") == 0) {
    out->type = RUSM_WASM_FUNCREF;
    if (value && strcmp(value, "null") == 0) out->of.ref = NULL;
    else return -1;          /* a host cannot name a function by number */
  } else if (strcmp(type, "v128") == 0) {
    return 0;
  } else {
    return -1;
  }
  return 1;
}

static void format_value(const rusm_wasm_val *v, char *buf, size_t n) {
  switch (v->type) {
  case RUSM_WASM_I32:
    snprintf(buf, n, "i32:%" PRIu32 " (%" PRId32 ")", (uint32_t)v->of.i32, v->of.i32);
    break;
  case RUSM_WASM_I64:
    snprintf(buf, n, "i64:%" PRIu64 " (%" PRId64 ")", (uint64_t)v->of.i64, v->of.i64);
    break;
  case RUSM_WASM_F32:
    snprintf(buf, n, "f32:0x%08" PRIx32 " (%.9g)", v->of.f32_bits, (double)v->of.f32);
    break;
  case RUSM_WASM_F64:
    snprintf(buf, n, "f64:0x%016" PRIx64 " (%.17g)", v->of.f64_bits, v->of.f64);
    break;
  case RUSM_WASM_FUNCREF:
    snprintf(buf, n, "funcref:%s", v->of.ref ? "non-null" : "null");
    break;
  case RUSM_WASM_EXTERNREF:
    if (!v->of.ref)
      snprintf(buf, n, "externref:null");
    else if ((char *)v->of.ref >= extern_pool && (char *)v->of.ref < extern_pool + EXTERN_POOL)
      snprintf(buf, n, "externref:%td", (char *)v->of.ref - extern_pool);
    else
      snprintf(buf, n, "externref:%p", v->of.ref);
    break;
  default:
    snprintf(buf, n, "type 0x%x?", (unsigned)v->type);
    break;
  }
}

/* Does got satisfy the expectation j? 1 yes, 0 no, -1 skip (v128), -2 the
** expectation cannot be parsed (a failure of the runner, reported). */
static int match_value(json_t *j, const rusm_wasm_val *got) {
  const char *type = jstr(j, "type");
  const char *value = jstr(j, "value");
  if (type && value && strncmp(value, "nan:", 4) == 0) {
    bool canonical = strcmp(value, "nan:canonical") == 0;
    if (!canonical && strcmp(value, "nan:arithmetic") != 0) return -2;
    if (strcmp(type, "f32") == 0) {
      if (got->type != RUSM_WASM_F32) return 0;
      uint32_t b = got->of.f32_bits & 0x7fffffffu;
      return canonical ? b == 0x7fc00000u : (b & 0x7fc00000u) == 0x7fc00000u;
    }
    if (strcmp(type, "f64") == 0) {
      if (got->type != RUSM_WASM_F64) return 0;
      uint64_t b = got->of.f64_bits & UINT64_C(0x7fffffffffffffff);
      return canonical ? b == UINT64_C(0x7ff8000000000000)
                       : (b & UINT64_C(0x7ff8000000000000)) == UINT64_C(0x7ff8000000000000);
    }
    return -2;
  }
  if (type && strcmp(type, "funcref") == 0 && !value) {
    /* (ref.func) without an index: any non-null function reference */
    return got->type == RUSM_WASM_FUNCREF && got->of.ref != NULL;
  }
  rusm_wasm_val want;
  int r = parse_value(j, &want);
  if (r == 0) return -1;
  if (r < 0) return -2;
  if (got->type != want.type) return 0;
  switch (want.type) {
  case RUSM_WASM_I32: return got->of.i32 == want.of.i32;
  case RUSM_WASM_I64: return got->of.i64 == want.of.i64;
  case RUSM_WASM_F32: return got->of.f32_bits == want.of.f32_bits;
  case RUSM_WASM_F64: return got->of.f64_bits == want.of.f64_bits;
  default: return got->of.ref == want.of.ref;
  }
}

/* ---------------------------------------------------------------- modules */

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      buf = nb;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

/* Loads the command's module file. NULL + *err on failure; *io is set if
** the file itself could not be read (a runner problem, not an engine one). */
static rusm_wasm_module *load_module(file_state *st, json_t *cmd, rusm_wasm_error *err,
                                     bool *io) {
  const char *fname = jstr(cmd, "filename");
  char path[8192];
  size_t len;
  *io = true;
  memset(err, 0, sizeof *err);
  if (!fname) {
    snprintf(err->message, sizeof err->message, "command has no filename");
    return NULL;
  }
  snprintf(path, sizeof path, "%s/%s", st->dir, fname);
  uint8_t *bytes = read_file(path, &len);
  if (!bytes) {
    snprintf(err->message, sizeof err->message, "cannot read %.200s", fname);
    return NULL;
  }
  *io = false;
  rusm_wasm_module *m = rusm_wasm_module_load_tier(bytes, len, opt_tier, err);
  free(bytes);
  if (m && opt_tier == RUSM_WASM_TIER_AUTO) rusm_wasm_module_set_tierup_fuel(m, 0);
  return m;
}

static inst_rec *add_rec(file_state *st) {
  if (st->nrecs == st->caprecs) {
    size_t cap = st->caprecs ? st->caprecs * 2 : 16;
    inst_rec *n = realloc(st->recs, cap * sizeof *n);
    if (!n) return NULL;
    st->recs = n;
    st->caprecs = cap;
  }
  inst_rec *r = &st->recs[st->nrecs++];
  memset(r, 0, sizeof *r);
  return r;
}

static inst_rec *find_instance(file_state *st, const char *name) {
  if (!name) return st->current;
  /* the latest module of that name wins, as in the reference interpreter */
  for (size_t i = st->nrecs; i-- > 0;)
    if (st->recs[i].name && strcmp(st->recs[i].name, name) == 0) return &st->recs[i];
  return NULL;
}

static void cmd_module(file_state *st, json_t *cmd) {
  rusm_wasm_error err;
  bool io;
  st->current = NULL;
  rusm_wasm_module *m = load_module(st, cmd, &err, &io);
  if (!m) {
    fail(st, "module does not load: %s%s: %s", io ? "" : "error ",
         io ? "" : kind_name(err.kind), err.message);
    return;
  }
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m, st->linker, &err);
  if (!inst) {
    fail(st, "module does not instantiate: %s: %s", kind_name(err.kind), err.message);
    rusm_wasm_module_free(m);
    return;
  }
  inst_rec *r = add_rec(st);
  if (!r) {
    rusm_wasm_instance_free(inst);
    rusm_wasm_module_free(m);
    fail(st, "out of memory");
    return;
  }
  const char *name = jstr(cmd, "name");
  r->name = name ? strdup(name) : NULL;
  r->mod = m;
  r->inst = inst;
  st->current = r;
}

static void cmd_register(file_state *st, json_t *cmd) {
  const char *as = jstr(cmd, "as");
  inst_rec *r = find_instance(st, jstr(cmd, "name"));
  if (!as || !r) {
    fail(st, "register: no such module instance");
    return;
  }
  if (rusm_wasm_linker_define_instance(st->linker, as, r->inst) != 0)
    fail(st, "register as \"%s\": the linker refused", as);
}

/* ---------------------------------------------------------------- actions */

typedef enum { OUT_RETURNED, OUT_TRAPPED, OUT_ERROR, OUT_SKIP } outcome_kind;

typedef struct outcome {
  outcome_kind kind;
  rusm_wasm_val *results;    /* malloc'd */
  size_t nresults;
  rusm_wasm_trap trap;
  char why[512];             /* OUT_ERROR: what went wrong */
} outcome;

static void run_action(file_state *st, json_t *action, outcome *o) {
  memset(o, 0, sizeof *o);
  o->kind = OUT_ERROR;
  const char *type = jstr(action, "type");
  const char *field = jstr(action, "field");
  const char *modname = jstr(action, "module");
  inst_rec *r = find_instance(st, modname);
  if (!type || !field) {
    snprintf(o->why, sizeof o->why, "action without type or field");
    return;
  }
  if (strlen(field) != json_string_length(json_object_get(action, "field"))) {
    /* wasm.h names exports by C string, so a name with a NUL byte (one
    ** case, in names.wast) cannot be called at all: skipped, not failed. */
    o->kind = OUT_SKIP;
    return;
  }
  if (!r) {
    snprintf(o->why, sizeof o->why, "no module instance%s%s (did it fail to load?)",
             modname ? " " : "", modname ? modname : "");
    return;
  }

  if (strcmp(type, "get") == 0) {
    o->results = calloc(1, sizeof *o->results);
    if (!o->results || !rusm_wasm_export_global_get(r->inst, field, o->results)) {
      snprintf(o->why, sizeof o->why, "no exported global \"%s\"", field);
      return;
    }
    o->nresults = 1;
    o->kind = OUT_RETURNED;
    return;
  }
  if (strcmp(type, "invoke") != 0) {
    snprintf(o->why, sizeof o->why, "unknown action type \"%s\"", type);
    return;
  }

  rusm_wasm_functype ft;
  if (!rusm_wasm_export_func_type(r->inst, field, &ft)) {
    snprintf(o->why, sizeof o->why, "no exported function \"%s\"", field);
    return;
  }
  json_t *jargs = json_object_get(action, "args");
  size_t nargs = json_array_size(jargs);
  rusm_wasm_val *args = calloc(nargs + 1, sizeof *args);
  o->results = calloc(ft.nresults + 1, sizeof *o->results);
  if (!args || !o->results) {
    free(args);
    snprintf(o->why, sizeof o->why, "out of memory");
    return;
  }
  for (size_t i = 0; i < nargs; i++) {
    int p = parse_value(json_array_get(jargs, i), &args[i]);
    if (p <= 0) {
      free(args);
      if (p == 0) o->kind = OUT_SKIP;
      else snprintf(o->why, sizeof o->why, "argument %zu cannot be parsed", i);
      return;
    }
  }

  if (!r->exec && !(r->exec = rusm_wasm_exec_new(r->inst))) {
    free(args);
    snprintf(o->why, sizeof o->why, "rusm_wasm_exec_new failed");
    return;
  }
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  if (rusm_wasm_exec_call(r->exec, field, args, nargs, &err) != 0) {
    free(args);
    snprintf(o->why, sizeof o->why, "call \"%s\" refused: %s: %s", field,
             kind_name(err.kind), err.message);
    return;
  }
  free(args);

  /* Run in chunks of fuel, so a runaway call ends as a failure instead of
  ** a hung test, and the out-of-fuel/resume path is exercised. */
  uint64_t spent = 0;
  rusm_wasm_status s;
  spec_host_allow_suspend(opt_suspend);
  for (;;) {
    s = rusm_wasm_exec_run(r->exec, opt_fuel_chunk);
    if (s == RUSM_WASM_SUSPENDED && opt_suspend) {
      /* a print* paused the call: resume it with its (zero) results */
      st->c->suspensions++;
      if (rusm_wasm_exec_resume(r->exec, NULL, 0) != 0) break;
      continue;
    }
    if (s != RUSM_WASM_OUT_OF_FUEL) break;
    if (opt_switch && rusm_wasm_module_tier(r->mod) != RUSM_WASM_TIER_COMPILED &&
        rusm_wasm_module_compile(r->mod, &err) != 0) {
      spec_host_allow_suspend(false);
      snprintf(o->why, sizeof o->why, "tier-up failed: %s", err.message);
      rusm_wasm_exec_free(r->exec);
      r->exec = NULL;
      return;
    }
    st->c->preemptions++;
    spent += opt_fuel_chunk;
    if (spent >= FUEL_CAP) {
      spec_host_allow_suspend(false);
      snprintf(o->why, sizeof o->why, "no result after %" PRIu64 " fuel units", spent);
      rusm_wasm_exec_free(r->exec);
      r->exec = NULL;
      return;
    }
  }
  spec_host_allow_suspend(false);
  switch (s) {
  case RUSM_WASM_RETURNED:
    o->nresults = rusm_wasm_exec_results(r->exec, o->results, ft.nresults);
    o->kind = OUT_RETURNED;
    return;
  case RUSM_WASM_TRAPPED:
    /* wasm.h: an exec stays reusable after a trap; keep it, so the next
    ** call checks that contract too */
    o->trap = rusm_wasm_exec_trap(r->exec, NULL, NULL);
    o->kind = OUT_TRAPPED;
    return;
  case RUSM_WASM_SUSPENDED:
    snprintf(o->why, sizeof o->why, opt_suspend ? "suspended, and rusm_wasm_exec_resume refused"
                                                : "suspended, but no spectest function suspends");
    break;
  default:
    snprintf(o->why, sizeof o->why, "unknown run status %d", (int)s);
    break;
  }
  /* A fresh exec after anything unexpected: one broken call must not
  ** taint the next one's report. */
  rusm_wasm_exec_free(r->exec);
  r->exec = NULL;
}

static void describe(const outcome *o, char *buf, size_t n) {
  switch (o->kind) {
  case OUT_RETURNED: {
    size_t used = (size_t)snprintf(buf, n, "returned [");
    for (size_t i = 0; i < o->nresults && used < n; i++) {
      char v[96];
      format_value(&o->results[i], v, sizeof v);
      used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", v);
    }
    if (used < n) snprintf(buf + used, n - used, "]");
    break;
  }
  case OUT_TRAPPED:
    snprintf(buf, n, "trapped: %s", rusm_wasm_trap_message(o->trap));
    break;
  case OUT_ERROR:
    snprintf(buf, n, "%s", o->why);
    break;
  case OUT_SKIP:
    snprintf(buf, n, "skipped");
    break;
  }
}

static bool trap_text_matches(const char *ours, const char *expected) {
  if (!ours || !*ours) return false;
  /* Either may be the longer: "uninitialized element 2" names an index
  ** that rusm_wasm_trap_message does not carry. */
  return strncmp(ours, expected, strlen(expected)) == 0 ||
         strncmp(expected, ours, strlen(ours)) == 0;
}

static void cmd_action(file_state *st, json_t *cmd) {
  outcome o;
  run_action(st, json_object_get(cmd, "action"), &o);
  if (o.kind != OUT_RETURNED && o.kind != OUT_SKIP) {
    char d[1024];
    describe(&o, d, sizeof d);
    fail(st, "action %s: %s", jstr(json_object_get(cmd, "action"), "field"), d);
  }
  free(o.results);
}

static void cmd_assert_return(file_state *st, json_t *cmd) {
  json_t *action = json_object_get(cmd, "action");
  json_t *expected = json_object_get(cmd, "expected");
  outcome o;
  run_action(st, action, &o);
  char d[1024];
  if (o.kind == OUT_SKIP) {
    skip(st);
  } else if (o.kind != OUT_RETURNED) {
    describe(&o, d, sizeof d);
    fail(st, "assert_return %s: %s", jstr(action, "field"), d);
  } else if (o.nresults != json_array_size(expected)) {
    describe(&o, d, sizeof d);
    fail(st, "assert_return %s: expected %zu results, %s", jstr(action, "field"),
         json_array_size(expected), d);
  } else {
    int verdict = 1;
    size_t bad = 0;
    for (size_t i = 0; i < o.nresults && verdict == 1; i++) {
      int m = match_value(json_array_get(expected, i), &o.results[i]);
      if (m != 1) { verdict = m; bad = i; }
    }
    if (verdict == 1) {
      pass(st);
    } else if (verdict == -1) {
      skip(st);
    } else {
      char *want = json_dumps(json_array_get(expected, bad), JSON_COMPACT);
      describe(&o, d, sizeof d);
      fail(st, "assert_return %s: result %zu: expected %s, %s%s", jstr(action, "field"),
           bad, want ? want : "?", d, verdict == -2 ? " (expectation not understood)" : "");
      free(want);
    }
  }
  free(o.results);
}

/* assert_trap and assert_exhaustion on an action. */
static void cmd_assert_trap_action(file_state *st, json_t *cmd, const char *what) {
  json_t *action = json_object_get(cmd, "action");
  const char *text = jstr(cmd, "text");
  outcome o;
  run_action(st, action, &o);
  if (o.kind == OUT_SKIP) {
    skip(st);
  } else if (o.kind != OUT_TRAPPED) {
    char d[1024];
    describe(&o, d, sizeof d);
    fail(st, "%s %s: expected trap \"%s\", %s", what, jstr(action, "field"),
         text ? text : "?", d);
  } else if (!text || !trap_text_matches(rusm_wasm_trap_message(o.trap), text)) {
    fail(st, "%s %s: expected trap \"%s\", trapped: %s", what, jstr(action, "field"),
         text ? text : "?", rusm_wasm_trap_message(o.trap));
  } else {
    pass(st);
  }
  free(o.results);
}

/* assert_invalid / assert_malformed: the module must not load, with the
** given error kind. */
static void cmd_assert_bad(file_state *st, json_t *cmd, rusm_wasm_error_kind want,
                           const char *what) {
  const char *text = jstr(cmd, "text");
  const char *mt = jstr(cmd, "module_type");
  if (mt && strcmp(mt, "binary") != 0) {
    skip(st);
    return;
  }
  rusm_wasm_error err;
  bool io;
  rusm_wasm_module *m = load_module(st, cmd, &err, &io);
  if (m) {
    rusm_wasm_module_free(m);
    fail(st, "%s: module loaded; expected %s error \"%s\"", what, kind_name(want),
         text ? text : "?");
    return;
  }
  if (io) {
    fail(st, "%s: %s", what, err.message);
    return;
  }
  if (err.kind != want &&
      !((err.kind == RUSM_WASM_ERR_INVALID || err.kind == RUSM_WASM_ERR_MALFORMED) &&
        either_kind_ok(st->file, st->line))) {
    fail(st, "%s: expected %s error \"%s\", got %s: %s", what, kind_name(want),
         text ? text : "?", kind_name(err.kind), err.message);
    return;
  }
  if (text) check_message(st, err.message, text);
  pass(st);
}

/* assert_unlinkable (want LINK) / assert_uninstantiable (want TRAP): the
** module loads, its instantiation fails with that kind. */
static void cmd_assert_instantiate_fails(file_state *st, json_t *cmd,
                                         rusm_wasm_error_kind want, const char *what) {
  const char *text = jstr(cmd, "text");
  const char *mt = jstr(cmd, "module_type");
  if (mt && strcmp(mt, "binary") != 0) {
    skip(st);
    return;
  }
  rusm_wasm_error err;
  bool io;
  rusm_wasm_module *m = load_module(st, cmd, &err, &io);
  if (!m) {
    fail(st, "%s: module does not load: %s: %s", what, io ? "io" : kind_name(err.kind),
         err.message);
    return;
  }
  memset(&err, 0, sizeof err);
  rusm_wasm_instance *inst = rusm_wasm_instantiate(m, st->linker, &err);
  if (inst) {
    fail(st, "%s: module instantiated; expected %s error \"%s\"", what, kind_name(want),
         text ? text : "?");
    rusm_wasm_instance_free(inst);
  } else if (err.kind != want) {
    fail(st, "%s: expected %s error \"%s\", got %s: %s", what, kind_name(want),
         text ? text : "?", kind_name(err.kind), err.message);
  } else {
    if (text) check_message(st, err.message, text);
    pass(st);
  }
  /* The module stays loaded to the end of the file: a failed instantiation
  ** may already have put its functions into an imported table. */
  inst_rec *r = add_rec(st);
  if (r) r->mod = m;
  else rusm_wasm_module_free(m);
}

/* ---------------------------------------------------------------- files */

static bool is_assertion(const char *type) {
  return strncmp(type, "assert_", 7) == 0;
}

static void run_command(file_state *st, json_t *cmd) {
  const char *type = jstr(cmd, "type");
  json_t *line = json_object_get(cmd, "line");
  st->line = json_is_integer(line) ? (int)json_integer_value(line) : 0;
  if (!type) {
    fail(st, "command without a type");
  } else if (strcmp(type, "module") == 0) {
    cmd_module(st, cmd);
  } else if (strcmp(type, "register") == 0) {
    cmd_register(st, cmd);
  } else if (strcmp(type, "action") == 0) {
    cmd_action(st, cmd);
  } else if (strcmp(type, "assert_return") == 0) {
    cmd_assert_return(st, cmd);
  } else if (strcmp(type, "assert_trap") == 0) {
    if (json_object_get(cmd, "action"))
      cmd_assert_trap_action(st, cmd, type);
    else             /* (assert_trap (module ...)): a trap while instantiating */
      cmd_assert_instantiate_fails(st, cmd, RUSM_WASM_ERR_TRAP, type);
  } else if (strcmp(type, "assert_exhaustion") == 0) {
    cmd_assert_trap_action(st, cmd, type);
  } else if (strcmp(type, "assert_invalid") == 0) {
    cmd_assert_bad(st, cmd, RUSM_WASM_ERR_INVALID, type);
  } else if (strcmp(type, "assert_malformed") == 0) {
    cmd_assert_bad(st, cmd, RUSM_WASM_ERR_MALFORMED, type);
  } else if (strcmp(type, "assert_unlinkable") == 0) {
    cmd_assert_instantiate_fails(st, cmd, RUSM_WASM_ERR_LINK, type);
  } else if (strcmp(type, "assert_uninstantiable") == 0) {
    cmd_assert_instantiate_fails(st, cmd, RUSM_WASM_ERR_TRAP, type);
  } else {
    fail(st, "unknown command type \"%s\"", type);
  }
}

static void file_label(const char *path, char *out, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  if (len > 5 && strcmp(base + len - 5, ".json") == 0) len -= 5;
  snprintf(out, n, "%.*s.wast", (int)len, base);
}

static void run_file(const char *path, counts *c) {
  file_state st;
  char label[512];
  memset(&st, 0, sizeof st);
  file_label(path, label, sizeof label);
  st.file = label;
  st.c = c;
  const char *slash = strrchr(path, '/');
  if (slash) snprintf(st.dir, sizeof st.dir, "%.*s", (int)(slash - path), path);
  else snprintf(st.dir, sizeof st.dir, ".");

  json_error_t jerr;
  /* names.wast has an export name with NUL bytes: allow them in JSON */
  json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
  json_t *cmds = root ? json_object_get(root, "commands") : NULL;
  if (!json_is_array(cmds)) {
    fail(&st, "cannot read %s: %s", path, root ? "no command list" : jerr.text);
    json_decref(root);
    return;
  }

  /* SIMD is out of scope for now: count its assertions, run nothing. */
  if (strncmp(label, "simd_", 5) == 0) {
    for (size_t i = 0; i < json_array_size(cmds); i++) {
      const char *type = jstr(json_array_get(cmds, i), "type");
      if (type && is_assertion(type)) skip(&st);
    }
    json_decref(root);
    return;
  }

  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  st.linker = rusm_wasm_linker_new();
  unsigned flags = (opt_verbose ? SPEC_HOST_VERBOSE : 0) | (opt_suspend ? SPEC_HOST_SUSPEND : 0);
  if (!st.linker || spec_host_define(st.linker, &st.spectest, flags, &err) != 0) {
    fail(&st, "cannot set up the spectest host module: %s: %s", kind_name(err.kind),
         err.message);
  } else {
    for (size_t i = 0; i < json_array_size(cmds); i++) {
      run_command(&st, json_array_get(cmds, i));
      fflush(stdout);
    }
  }

  /* Linker first (it only borrows instances), then instances newest first
  ** (a later one may import from an earlier one), then modules. */
  rusm_wasm_linker_free(st.linker);
  for (size_t i = st.nrecs; i-- > 0;) {
    if (st.recs[i].exec) rusm_wasm_exec_free(st.recs[i].exec);
    if (st.recs[i].inst) rusm_wasm_instance_free(st.recs[i].inst);
  }
  if (st.spectest) rusm_wasm_instance_free(st.spectest);
  for (size_t i = st.nrecs; i-- > 0;) {
    rusm_wasm_module_free(st.recs[i].mod);
    free(st.recs[i].name);
  }
  free(st.recs);
  json_decref(root);
}

/* ---------------------------------------------------------------- main */

static void usage(void) {
  fprintf(stderr,
          "usage: wasm_spec_runner [--verbose] [--no-fork] [--fuel-chunk N] [--suspend] "
          "[--tier interp|compiled|auto|switch] "
          "[--timeout SECONDS] FILE.json...\n");
  exit(64);
}

/* Runs one file in a child with counters in shared memory, so whatever the
** child did before crashing still counts. Returns the file's counts. */
static counts run_isolated(const char *path, bool *crashed, int *sig, int *code) {
  counts *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  counts result = {0};
  *crashed = false;
  if (shared == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  memset(shared, 0, sizeof *shared);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    alarm(opt_timeout);      /* a hung file dies and is reported */
    run_file(path, shared);
    fflush(stdout);
    spec_host_cleanup();
    /* exit, not _exit: LeakSanitizer checks the child at exit (stdio was
    ** flushed before the fork, so nothing is written twice) */
    exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result = *shared;
  munmap(shared, sizeof *shared);
  if (WIFSIGNALED(status)) {
    *crashed = true;
    *sig = WTERMSIG(status);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *crashed = true;
    *sig = 0;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return result;
}

int main(int argc, char **argv) {
  int first = 1;
  for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
    const char *a = argv[first];
    if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
      opt_verbose = true;
    } else if (strcmp(a, "--suspend") == 0) {
      opt_suspend = true;
    } else if (strcmp(a, "--no-fork") == 0) {
      opt_fork = false;
    } else if (strcmp(a, "--fuel-chunk") == 0 && first + 1 < argc) {
      opt_fuel_chunk = strtoull(argv[++first], NULL, 0);
      if (!opt_fuel_chunk) usage();
    } else if (strcmp(a, "--tier") == 0 && first + 1 < argc) {
      const char *t = argv[++first];
      if (strcmp(t, "compiled") == 0) opt_tier = RUSM_WASM_TIER_COMPILED;
      else if (strcmp(t, "interp") == 0) opt_tier = RUSM_WASM_TIER_INTERP;
      else if (strcmp(t, "auto") == 0) opt_tier = RUSM_WASM_TIER_AUTO;
      else if (strcmp(t, "switch") == 0) opt_switch = true;
      else usage();
    } else if (strcmp(a, "--timeout") == 0 && first + 1 < argc) {
      opt_timeout = (unsigned)strtoul(argv[++first], NULL, 0);
    } else {
      usage();
    }
  }
  if (first >= argc) usage();
  setvbuf(stdout, NULL, _IOLBF, 0);

  counts total = {0};
  for (int i = first; i < argc; i++) {
    counts c = {0};
    char label[512];
    file_label(argv[i], label, sizeof label);
    if (opt_fork) {
      bool crashed;
      int sig = 0, code = 0;
      c = run_isolated(argv[i], &crashed, &sig, &code);
      if (crashed) {
        if (sig == SIGALRM)
          printf("%s: runner killed after %u s (a hang?)\n", label, opt_timeout);
        else if (sig)
          printf("%s: runner crashed (signal %d: %s)\n", label, sig, strsignal(sig));
        else
          printf("%s: runner exited with status %d (a sanitizer report?)\n", label, code);
        c.failed++;
      }
    } else {
      run_file(argv[i], &c);
    }
    printf("%s: %lu passed, %lu failed, %lu skipped\n", label, c.passed, c.failed,
           c.skipped);
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    total.mismatches += c.mismatches;
    total.preemptions += c.preemptions;
    total.suspensions += c.suspensions;
  }
  spec_host_cleanup();
  if (opt_verbose) {
    printf("preemptions (out of fuel, resumed): %lu\n", total.preemptions);
    printf("suspensions (host paused, resumed): %lu\n", total.suspensions);
  }
  printf("message mismatches: %lu\n", total.mismatches);
  printf("%lu passed, %lu failed, %lu skipped\n", total.passed, total.failed, total.skipped);
  return total.failed ? 1 : 0;
}
