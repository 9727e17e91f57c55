/*
** coro.c -- the coroutine body: a C function on its own stack that blocks in
** rusm_receive / rusm_sleep by switching back to the scheduler.  The stack is
** taken from the pool at the first run (so a process that never runs costs
** no stack) and returned at exit; a killed coroutine is never resumed, its
** stack is simply recycled.  Sanitizer fiber annotations keep ASan and TSan
** aware of the switches.
*/
#include "internal.h"

static void coro_entry(void *arg) {
  ru_proc *p = arg;
#if defined(RUSM_ASAN)
  {
    ru_worker *w = ru_cur_worker();
    __sanitizer_finish_switch_fiber(NULL, &w->asan_stack_bottom, &w->asan_stack_size);
  }
#endif
  p->u.c.fn(p->u.c.arg, p->u.c.len);
  ru_coro_switch_out(ru_cur_proc(), RUSM_RUN_EXIT);
  __builtin_unreachable();
}

void ru_coro_switch_out(ru_proc *p, int result) {
  ru_worker *w = ru_cur_worker();
  p->u.c.result = result;
#if defined(RUSM_ASAN)
  void *fake = NULL;
  __sanitizer_start_switch_fiber(result == RUSM_RUN_EXIT ? NULL : &fake, w->asan_stack_bottom,
                                 w->asan_stack_size);
#endif
#if defined(RUSM_TSAN)
  __tsan_switch_to_fiber(w->tsan_fiber, 0);
#endif
  ru_ctx_switch(&p->u.c.sp, w->sched_sp);
  /* resumed, possibly by another worker */
#if defined(RUSM_ASAN)
  w = ru_cur_worker();
  __sanitizer_finish_switch_fiber(fake, &w->asan_stack_bottom, &w->asan_stack_size);
#endif
}

static rusm_run_result coro_run(void *body, uint32_t budget) {
  (void)budget;
  ru_proc *p = body;
  ru_coro *c = &p->u.c;
  ru_worker *w = ru_cur_worker();
  if (RU_UNLIKELY(!c->stack)) {
    c->stack = ru_stack_get(w, p->rt);
    if (!c->stack) {
      ru_proc_set_reason(p, rusm_reason_str("no memory for a coroutine stack"));
      return RUSM_RUN_EXIT;
    }
    c->sp = ru_ctx_init(ru_stack_top(c->stack), coro_entry, p);
#if defined(RUSM_TSAN)
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
  }
#if defined(RUSM_ASAN)
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, ru_stack_base(c->stack), ru_stack_size(c->stack));
#endif
#if defined(RUSM_TSAN)
  __tsan_switch_to_fiber(c->tsan_fiber, 0);
#endif
  ru_ctx_switch(&w->sched_sp, c->sp);
#if defined(RUSM_ASAN)
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
  if (p->overflow) return RUSM_RUN_EXIT;
  {
    /* what the kernel has had to commit for this coroutine, roughly: the
    ** span from its saved stack pointer to the top, in pages */
    uintptr_t top = (uintptr_t)ru_stack_top(c->stack), sp = (uintptr_t)c->sp;
    size_t used = (sp && sp < top) ? top - sp : 0;
    atomic_store_explicit(&p->body_mem, (used + 4095) & ~(size_t)4095, memory_order_relaxed);
  }
  return (rusm_run_result)c->result;
}

static void coro_destroy(void *body) {
  ru_proc *p = body;
  ru_coro *c = &p->u.c;
  if (c->stack) {
    ru_stack_put(ru_cur_worker(), p->rt, c->stack);
    c->stack = NULL;
  }
#if defined(RUSM_TSAN)
  if (c->tsan_fiber) __tsan_destroy_fiber(c->tsan_fiber);
  c->tsan_fiber = NULL;
#endif
  free(c->arg);
  c->arg = NULL;
}

static size_t coro_memory(const void *body) {
  const ru_proc *p = body;
  return atomic_load_explicit(&p->body_mem, memory_order_relaxed);
}

const rusm_body_vtable ru_coro_vt = {"coroutine", coro_run, coro_destroy, coro_memory};
