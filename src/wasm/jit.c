/*
** jit.c -- the compiled tier's driver: a module's functions to LLVM IR
** (jit_emit.c), verified, optimized at O2 for the host CPU and compiled
** in process by an ORC LLJIT, one per module so that freeing the module
** frees its code.
**
** Everything is compiled at load (rusm_wasm_module_load_tier), once per
** module; instances only copy the entry points (instance.c).  A module is
** immutable and may be loaded from several threads at once: each load has
** its own LLVM context and LLJIT, and LLJIT compiles in the calling thread.
**
** RUSM_JIT_DUMP_IR=1 in the environment prints each module's optimized IR
** to stderr (=raw: as emitted, before O2), RUSM_JIT_DUMP_ASM=1 its machine
** code (for looking at what the emitter, O2 and the code generator made of
** a kernel).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "jit.h"
#include "jit_emit.h"

struct wjit {
  LLVMOrcLLJITRef lljit;
  uint32_t nfuncs;
  void **native, **slot;     /* by function index; NULL for imports */
  void **osr;                /* with osr: rusm_o<i>, or NULL */
  uint8_t *osr_linked;       /* with osr: bit k, loop k of wfunc.osr has an entry */
};

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static bool llvm_ready;
/* The host's CPU and features, asked once: asking costs a few percent of
** compiling a small module.  Kept for the process's life. */
static char *host_cpu, *host_features;

static void init_llvm(void) {
  llvm_ready = !LLVMInitializeNativeTarget() && !LLVMInitializeNativeAsmPrinter();
  host_cpu = LLVMGetHostCPUName();
  host_features = LLVMGetHostCPUFeatures();
}

/* Reports an LLVM message (freed here) as a RESOURCE error. */
static void fail_msg(rusm_wasm_error *err, const char *what, char *msg) {
  wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: %s: %s", what, msg ? msg : "?");
  if (msg) LLVMDisposeMessage(msg);
}
static void fail_error(rusm_wasm_error *err, const char *what, LLVMErrorRef e) {
  char *msg = LLVMGetErrorMessage(e);
  wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: %s: %s", what, msg);
  LLVMDisposeErrorMessage(msg);
}

/* A target machine for the host CPU with all its features, at O2. */
static LLVMTargetMachineRef host_machine(rusm_wasm_error *err) {
  char *triple = LLVMGetDefaultTargetTriple();
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
    fail_msg(err, "no target", msg);
    LLVMDisposeMessage(triple);
    return NULL;
  }
  /* Small code model and PIC, as LLJIT's JITLink wants: a module's code
  ** is one allocation, so its calls are direct (the JIT default, the large
  ** model, makes every call an indirect one through a 64-bit immediate). */
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, host_cpu, host_features,
                                                    LLVMCodeGenLevelDefault, LLVMRelocPIC, LLVMCodeModelSmall);
  LLVMDisposeMessage(triple);
  if (!tm) wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: cannot create a target machine");
  return tm;
}

static bool env_flag(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

static void dump_ir(LLVMModuleRef mod) {
  char *ir = LLVMPrintModuleToString(mod);
  fputs(ir, stderr);
  LLVMDisposeMessage(ir);
}

/* The machine code tm makes of mod, as assembly on stderr (codegen
** changes the IR it runs on, so it runs on a copy). */
static void dump_asm(LLVMModuleRef mod, LLVMTargetMachineRef tm) {
  LLVMModuleRef copy = LLVMCloneModule(mod);
  LLVMMemoryBufferRef buf = NULL;
  char *msg = NULL;
  if (!LLVMTargetMachineEmitToMemoryBuffer(tm, copy, LLVMAssemblyFile, &msg, &buf)) {
    fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), stderr);
    LLVMDisposeMemoryBuffer(buf);
  } else {
    fprintf(stderr, "RUSM_JIT_DUMP_ASM: %s\n", msg ? msg : "?");
  }
  LLVMDisposeMessage(msg);
  LLVMDisposeModule(copy);
}

/* IR of the whole module, verified and optimized for tm. */
static bool build_module(LLVMModuleRef mod, LLVMTargetMachineRef tm, const wasm_module *m,
                         uint8_t *osr_linked,
                         const wcompiled *c, rusm_wasm_error *err) {
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(mod, dl);
  LLVMDisposeTargetData(dl);
  char *triple = LLVMGetTargetMachineTriple(tm);
  LLVMSetTarget(mod, triple);
  LLVMDisposeMessage(triple);
  if (!wasm_jit_emit(LLVMGetModuleContext(mod), mod, m, c, osr_linked, err)) return false;
  char *msg = NULL;
  if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
    fail_msg(err, "invalid IR", msg);
    return false;
  }
  LLVMDisposeMessage(msg);
  const char *dump = getenv("RUSM_JIT_DUMP_IR");
  bool raw = dump && strcmp(dump, "raw") == 0;
  if (raw) dump_ir(mod);
  /* What clang's O2 does: the tuning options default to off in the C API. */
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
  LLVMPassBuilderOptionsSetLoopUnrolling(opts, 1);
  LLVMErrorRef e = LLVMRunPasses(mod, "default<O2>", tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (e) {
    fail_error(err, "optimization failed", e);
    return false;
  }
  if (!raw && env_flag("RUSM_JIT_DUMP_IR")) dump_ir(mod);
  if (env_flag("RUSM_JIT_DUMP_ASM")) dump_asm(mod, tm);
  return true;
}

/* An LLJIT for tm (which it takes over) that also resolves symbols of
** the process (libcalls LLVM may emit: memcpy, memset, libm). */
static LLVMOrcLLJITRef make_lljit(LLVMTargetMachineRef tm, rusm_wasm_error *err) {
  LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
  LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder,
                                                LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
  LLVMOrcLLJITRef jit = NULL;
  LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit, builder);
  if (e) {
    fail_error(err, "cannot create the JIT", e);
    return NULL;
  }
  LLVMOrcDefinitionGeneratorRef gen = NULL;
  e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL,
                                                           NULL);
  if (e) {
    fail_error(err, "cannot search the process", e);
    LLVMOrcDisposeLLJIT(jit);
    return NULL;
  }
  LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(jit), gen);
  return jit;
}

static bool lookup(wjit *j, const char *prefix, uint32_t i, void **out, rusm_wasm_error *err) {
  char name[32];
  snprintf(name, sizeof name, "%s%u", prefix, i);
  LLVMOrcExecutorAddress addr = 0;
  LLVMErrorRef e = LLVMOrcLLJITLookup(j->lljit, &addr, name);
  if (e) {
    fail_error(err, "cannot compile", e);
    return false;
  }
  *out = (void *)(uintptr_t)addr;
  return true;
}

wjit *wasm_jit_compile(const wasm_module *m, const wcompiled *c, bool osr, rusm_wasm_error *err) {
  pthread_once(&llvm_once, init_llvm);
  if (!llvm_ready) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "compiled tier: LLVM has no native target");
    return NULL;
  }
  wjit *j = calloc(1, sizeof *j);
  if (j) {
    j->nfuncs = m->nfuncs;
    j->native = calloc(m->nfuncs + 1, sizeof *j->native);
    j->slot = calloc(m->nfuncs + 1, sizeof *j->slot);
    if (osr) {
      j->osr = calloc(m->nfuncs + 1, sizeof *j->osr);
      j->osr_linked = calloc(m->nfuncs + 1, 1);
    }
  }
  if (!j || !j->native || !j->slot || (osr && (!j->osr || !j->osr_linked))) {
    wasm_set_err(err, RUSM_WASM_ERR_RESOURCE, "out of memory");
    wasm_jit_free(j);
    return NULL;
  }
  LLVMTargetMachineRef tm = host_machine(err);
  LLVMOrcThreadSafeContextRef tsc = tm ? LLVMOrcCreateNewThreadSafeContext() : NULL;
  LLVMModuleRef mod =
      tsc ? LLVMModuleCreateWithNameInContext("rusm", LLVMOrcThreadSafeContextGetContext(tsc)) : NULL;
  bool ok = mod && build_module(mod, tm, m, j->osr_linked, c, err);
  if (ok) {
    j->lljit = make_lljit(tm, err); /* takes tm */
    tm = NULL;
    ok = j->lljit != NULL;
  }
  if (ok) {
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    mod = NULL;
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), tsm);
    if (e) {
      fail_error(err, "cannot add the module", e);
      LLVMOrcDisposeThreadSafeModule(tsm);
      ok = false;
    }
  }
  /* The first lookup compiles the whole module. */
  for (uint32_t i = m->num_imported_funcs; ok && i < m->nfuncs; i++)
    ok = lookup(j, "rusm_f", i, &j->native[i], err) && lookup(j, "rusm_w", i, &j->slot[i], err);
  for (uint32_t i = m->num_imported_funcs; ok && osr && i < m->nfuncs; i++)
    if (j->osr_linked[i]) ok = lookup(j, "rusm_o", i, &j->osr[i], err);
  if (mod) LLVMDisposeModule(mod);
  if (tsc) LLVMOrcDisposeThreadSafeContext(tsc);
  if (tm) LLVMDisposeTargetMachine(tm);
  if (!ok) {
    wasm_jit_free(j);
    return NULL;
  }
  return j;
}

void wasm_jit_free(void *p) {
  wjit *j = p;
  if (!j) return;
  if (j->lljit) {
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->lljit);
    if (e) LLVMConsumeError(e);
  }
  free(j->osr);
  free(j->osr_linked);
  free(j->native);
  free(j->slot);
  free(j);
}

void *wasm_jit_native(const wjit *j, uint32_t i) { return j && i < j->nfuncs ? j->native[i] : NULL; }
void *wasm_jit_slot(const wjit *j, uint32_t i) { return j && i < j->nfuncs ? j->slot[i] : NULL; }
void *wasm_jit_osr(const wjit *j, uint32_t i, uint32_t k) {
  return j && j->osr && i < j->nfuncs && k < 8 && (j->osr_linked[i] >> k & 1) ? j->osr[i] : NULL;
}
