/*
** coro.h -- a coroutine: a C stack of its own and a context switch, for
** the compiled tier (jit.h).  Compiled code nests C frames, so it runs on
** a coroutine; pausing it (out of fuel, a host call that suspends) switches
** back to whoever switched in, with the frames left in place, and the next
** switch in continues them.
**
** The stack is reserved once with mmap: WCORO_STACK_SIZE bytes of address
** space (MAP_NORESERVE, committed by the kernel as pages are touched) with
** a PROT_NONE guard at its low end (WCORO_GUARD bytes rather than one page,
** so that a frame of a few KiB cannot step over it: only address space).  The switch is a few instructions
** of x86-64 assembly saving the callee-saved registers, rsp and the
** MXCSR/x87 control words (all callee-saved in the SysV ABI); elsewhere
** (or with -DRUSM_CORO_UCONTEXT) it is ucontext's swapcontext, portable
** and slower (a system call per switch, for the signal mask).
**
** One coroutine runs one function at a time:
**   wcoro_call(c, fn, arg)  runs fn(arg) on c from the top of its stack;
**                           returns when fn returns, yields or abandons.
**   wcoro_yield(c)          (on c) switches back to the caller of
**                           wcoro_call/wcoro_resume, keeping the frames.
**   wcoro_resume(c)         switches back into c where it yielded.
**   wcoro_abandon(c)        (on c) leaves for good: the frames on c are
**                           dropped and the next wcoro_call starts afresh.
** A coroutine may switch into another one (a host function running another
** exec): each switch in records its own caller.  A coroutine may be
** switched into from any thread, one at a time.
**
** Sanitizers: under ASan every switch is announced with
** __sanitizer_start/finish_switch_fiber and dropped frames are unpoisoned;
** under TSan the coroutine is a TSan fiber (recreated after frames were
** dropped, so its shadow call stack does not fill up).
*/
#ifndef RUSM_WASM_CORO_H
#define RUSM_WASM_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address space reserved per coroutine, guard page included. */
#define WCORO_STACK_SIZE ((size_t)64 << 20)
#define WCORO_GUARD ((size_t)64 << 10)

typedef struct wcoro wcoro;

/* Reserves the stack; NULL if mmap fails. */
wcoro *wcoro_new(void);
/* Releases c, also while it is paused in wcoro_yield (its frames are
** dropped, nothing on them runs).  Must not be called on c itself. */
void wcoro_free(wcoro *c);
/* The usable stack: [low, high), low just above the guard. */
uintptr_t wcoro_stack_low(const wcoro *c);
uintptr_t wcoro_stack_high(const wcoro *c);
/* true between a wcoro_yield and the wcoro_resume that continues it. */
bool wcoro_paused(const wcoro *c);

/* Runs fn(arg) on c (which must not be paused or running). */
void wcoro_call(wcoro *c, void (*fn)(void *), void *arg);
/* Continues c where it yielded (c must be paused). */
void wcoro_resume(wcoro *c);
/* On c: back to the caller of wcoro_call/wcoro_resume, until resumed. */
void wcoro_yield(wcoro *c);
/* On c: back to the caller for good. */
_Noreturn void wcoro_abandon(wcoro *c);

#endif
