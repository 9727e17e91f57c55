/*
** coro.c -- coroutines (see coro.h).
**
** A coroutine's life: FRESH (no context yet, or its frames were dropped)
** -> wcoro_call boots it: coro_main runs fn(arg) in a loop, parking in
** IDLE between calls (so a call after a finished one is one switch, not a
** new boot) -> RUNNING, PAUSED in wcoro_yield, back to FRESH after
** wcoro_abandon.
**
** Decisions:
** - The context of a parked or paused coroutine is only its saved stack
**   pointer: the switch pushes the callee-saved registers and the control
**   words on the stack it leaves.  A fresh stack gets a frame laid out as
**   if the switch had left it, returning into rusm_wcoro_boot.
** - The MXCSR and x87 control words are saved and restored (they are
**   callee-saved in the SysV ABI); a fresh coroutine starts with those of
**   the thread that boots it.
** - Under ASan, dropped frames (wcoro_abandon, or freeing a paused
**   coroutine) are unpoisoned from the stack pointer up, since their
**   redzones would otherwise poison the next frames put there; under TSan
**   the fiber is destroyed and recreated on the next boot.
*/
#include "coro.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WCORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define WCORO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(WCORO_ASAN)
#define WCORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(WCORO_TSAN)
#define WCORO_TSAN 1
#endif

#ifdef WCORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef WCORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if defined(__x86_64__) && !defined(RUSM_CORO_UCONTEXT)
#define WCORO_ASM 1
#else
#include <ucontext.h>
#endif

enum { WCORO_FRESH, WCORO_IDLE, WCORO_RUNNING, WCORO_PAUSED };

struct wcoro {
#ifdef WCORO_ASM
  void *sp;                  /* the coroutine's, while it is switched out */
  void *caller_sp;           /* the caller's, while the coroutine runs */
#else
  ucontext_t ctx, caller;
#endif
  void (*fn)(void *);
  void *arg;
  int state;
  bool dirty;                /* frames were dropped (wcoro_abandon) */
  void *map;                 /* the mapping: the guard, then the stack */
  uintptr_t low, high;
  size_t page;
#ifdef WCORO_ASAN
  void *fake;                /* the coroutine's fake stack while switched out */
  const void *caller_bottom; /* the caller's stack, for switching back */
  size_t caller_size;
#endif
#ifdef WCORO_TSAN
  void *fiber, *caller_fiber;
#endif
};

/* ------------------------------------------------------------ the switch */
#ifdef WCORO_ASM
/* rusm_wcoro_swap(save, to): pushes the callee-saved registers and the
** control words, stores rsp in *save, loads `to` as rsp and pops the same
** from there.  rusm_wcoro_boot: where a fresh stack's frame returns to;
** calls r13(r12) = coro_main(c), which never returns.  No unwind info
** past boot (rip undefined), so backtraces end there. */
void rusm_wcoro_swap(void **save, void *to);
void rusm_wcoro_boot(void);
__asm__(
    ".text\n"
    ".globl rusm_wcoro_swap\n"
    ".hidden rusm_wcoro_swap\n"
    ".type rusm_wcoro_swap,@function\n"
    ".p2align 4\n"
    "rusm_wcoro_swap:\n"
    "  .cfi_startproc\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  subq $8, %rsp\n"
    "  stmxcsr (%rsp)\n"
    "  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n"
    "  fldcw 4(%rsp)\n"
    "  addq $8, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    "  .cfi_endproc\n"
    ".size rusm_wcoro_swap, .-rusm_wcoro_swap\n"
    ".globl rusm_wcoro_boot\n"
    ".hidden rusm_wcoro_boot\n"
    ".type rusm_wcoro_boot,@function\n"
    ".p2align 4\n"
    "rusm_wcoro_boot:\n"
    "  .cfi_startproc\n"
    "  .cfi_undefined rip\n"
    "  movq %r12, %rdi\n"
    "  callq *%r13\n"
    "  ud2\n"
    "  .cfi_endproc\n"
    ".size rusm_wcoro_boot, .-rusm_wcoro_boot\n");
#endif

static void coro_main(wcoro *c);

#ifndef WCORO_ASM
/* makecontext passes ints: the pointer in two halves. */
static void coro_boot_uc(unsigned hi, unsigned lo) {
  coro_main((wcoro *)(((uintptr_t)hi << 32) | lo));
}
#endif

/* Lays out a fresh context at the top of the stack. */
static void prepare(wcoro *c) {
#ifdef WCORO_TSAN
  if (c->dirty || !c->fiber) {
    if (c->fiber) __tsan_destroy_fiber(c->fiber);
    c->fiber = __tsan_create_fiber(0);
  }
#endif
  c->dirty = false;
#ifdef WCORO_ASM
  uint32_t mxcsr;
  uint16_t fpucw;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(fpucw));
  uint64_t *p = (uint64_t *)(c->high & ~(uintptr_t)15);
  p[-1] = 0;
  p[-2] = 0;                          /* boot runs with rsp here (aligned) */
  p[-3] = (uint64_t)(uintptr_t)rusm_wcoro_boot;
  p[-4] = 0;                          /* rbp: ends frame-pointer chains */
  p[-5] = 0;                          /* rbx */
  p[-6] = (uint64_t)(uintptr_t)c;     /* r12: coro_main's argument */
  p[-7] = (uint64_t)(uintptr_t)coro_main; /* r13 */
  p[-8] = 0;                          /* r14 */
  p[-9] = 0;                          /* r15 */
  p[-10] = mxcsr | (uint64_t)fpucw << 32;
  c->sp = &p[-10];
#else
  getcontext(&c->ctx);
  c->ctx.uc_stack.ss_sp = (void *)c->low;
  c->ctx.uc_stack.ss_size = c->high - c->low;
  c->ctx.uc_link = NULL;
  uintptr_t a = (uintptr_t)c;
  makecontext(&c->ctx, (void (*)(void))coro_boot_uc, 2, (unsigned)(a >> 32), (unsigned)a);
#endif
}

/* From the caller into c. */
static void switch_in(wcoro *c) {
#ifdef WCORO_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, (const void *)c->low, c->high - c->low);
#endif
#ifdef WCORO_TSAN
  c->caller_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(c->fiber, 0);
#endif
#ifdef WCORO_ASM
  rusm_wcoro_swap(&c->caller_sp, c->sp);
#else
  swapcontext(&c->caller, &c->ctx);
#endif
#ifdef WCORO_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* On c, right after a switch in: learn the caller's stack (ASan). */
static void arrived(wcoro *c, bool first) {
#ifdef WCORO_ASAN
  __sanitizer_finish_switch_fiber(first ? NULL : c->fake, &c->caller_bottom, &c->caller_size);
#else
  (void)c;
  (void)first;
#endif
}

/* From c back to its caller, to be switched into again. */
static void switch_out(wcoro *c) {
#ifdef WCORO_ASAN
  __sanitizer_start_switch_fiber(&c->fake, c->caller_bottom, c->caller_size);
#endif
#ifdef WCORO_TSAN
  __tsan_switch_to_fiber(c->caller_fiber, 0);
#endif
#ifdef WCORO_ASM
  rusm_wcoro_swap(&c->sp, c->caller_sp);
#else
  swapcontext(&c->ctx, &c->caller);
#endif
  arrived(c, false);
}

static void coro_main(wcoro *c) {
  arrived(c, true);
  for (;;) {
    c->fn(c->arg);
    c->state = WCORO_IDLE;
    switch_out(c);
  }
}

/* ------------------------------------------------------------ API */

wcoro *wcoro_new(void) {
  wcoro *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  long pg = sysconf(_SC_PAGESIZE);
  c->page = pg > 0 ? (size_t)pg : 4096;
  void *m = mmap(NULL, WCORO_STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) {
    free(c);
    return NULL;
  }
  size_t guard = (WCORO_GUARD + c->page - 1) & ~(c->page - 1);
  if (mprotect(m, guard, PROT_NONE) != 0) {
    munmap(m, WCORO_STACK_SIZE);
    free(c);
    return NULL;
  }
  c->map = m;
  c->low = (uintptr_t)m + guard;
  c->high = (uintptr_t)m + WCORO_STACK_SIZE;
  c->state = WCORO_FRESH;
  return c;
}

void wcoro_free(wcoro *c) {
  if (!c) return;
#ifdef WCORO_ASAN
  if (c->state != WCORO_FRESH) {
    /* Frames left on the stack (parked or paused): unpoison them, as the
    ** addresses will be reused. */
# ifdef WCORO_ASM
    uintptr_t sp = (uintptr_t)c->sp;
# else
    uintptr_t sp = c->low;   /* where ucontext left it is opaque */
# endif
    uintptr_t from = (sp & ~(uintptr_t)(c->page - 1)) - c->page;
    if (from < c->low) from = c->low;
    ASAN_UNPOISON_MEMORY_REGION((void *)from, c->high - from);
  }
#endif
#ifdef WCORO_TSAN
  if (c->fiber) __tsan_destroy_fiber(c->fiber);
#endif
  munmap(c->map, WCORO_STACK_SIZE);
  free(c);
}

uintptr_t wcoro_stack_low(const wcoro *c) { return c->low; }
uintptr_t wcoro_stack_high(const wcoro *c) { return c->high; }
bool wcoro_paused(const wcoro *c) { return c->state == WCORO_PAUSED; }

void wcoro_call(wcoro *c, void (*fn)(void *), void *arg) {
  if (c->state == WCORO_RUNNING || c->state == WCORO_PAUSED) abort();
  c->fn = fn;
  c->arg = arg;
  if (c->state == WCORO_FRESH) prepare(c);
  c->state = WCORO_RUNNING;
  switch_in(c);
}

void wcoro_resume(wcoro *c) {
  if (c->state != WCORO_PAUSED) abort();
  c->state = WCORO_RUNNING;
  switch_in(c);
}

void wcoro_yield(wcoro *c) {
  c->state = WCORO_PAUSED;
  switch_out(c);
}

_Noreturn void wcoro_abandon(wcoro *c) {
#ifdef WCORO_ASAN
  /* Everything from here up is dropped. */
  char here;
  uintptr_t from = ((uintptr_t)&here & ~(uintptr_t)(c->page - 1)) - c->page;
  if (from < c->low) from = c->low;
  ASAN_UNPOISON_MEMORY_REGION((void *)from, c->high - from);
  __sanitizer_start_switch_fiber(NULL, c->caller_bottom, c->caller_size);
#endif
  c->state = WCORO_FRESH;
  c->dirty = true;
#ifdef WCORO_TSAN
  __tsan_switch_to_fiber(c->caller_fiber, 0);
#endif
#ifdef WCORO_ASM
  void *dropped;
  rusm_wcoro_swap(&dropped, c->caller_sp);
#else
  setcontext(&c->caller);
#endif
  abort();
}
