/*
** handler.c -- the handler body: stackless callbacks (init, handle,
** terminate), the cheapest kind of process.  One turn handles queued
** messages until the mailbox is empty or the budget (one reduction per
** message) is spent; the state lives inline in the process block when it
** fits, so an idle handler costs one block and nothing else.
*/
#include "internal.h"

static rusm_run_result handler_run(void *body, uint32_t budget) {
  ru_proc *p = body;
  ru_handler *h = &p->u.h;
  if (RU_UNLIKELY(!h->inited)) {
    h->inited = true;
    int rc = h->ops->init ? h->ops->init(h->state, h->arg, h->len) : 0;
    free(h->arg);
    h->arg = NULL;
    if (rc || p->exit_req) return RUSM_RUN_EXIT;
    p->init_ok = true;
    if (p->exiting) return RUSM_RUN_EXIT;
  }
  ru_worker *w = ru_cur_worker();
  uint32_t n = 0;
  uint64_t red = atomic_load_explicit(&p->reductions, memory_order_relaxed);
  rusm_run_result res;
  for (;;) {
    ru_msg *m = ru_q_scan(p, NULL, NULL);
    if (!m) {
      ru_drain(p);
      if (p->exiting) {
        res = RUSM_RUN_EXIT;
        break;
      }
      m = ru_q_scan(p, NULL, NULL);
      if (!m) {
        res = RUSM_RUN_WAIT;
        break;
      }
    }
    int rc = h->ops->handle ? h->ops->handle(h->state, m) : 0;
    ru_msg_release(w, m);
    n++;
    if (rc || p->exit_req || p->exiting) {
      res = RUSM_RUN_EXIT;
      break;
    }
    if (n >= budget) {
      res = RUSM_RUN_YIELD;
      break;
    }
  }
  atomic_store_explicit(&p->reductions, red + n, memory_order_relaxed);
  p->budget = n >= p->budget ? 0 : p->budget - n;
  return res;
}

static void handler_destroy(void *body) {
  ru_proc *p = body;
  ru_handler *h = &p->u.h;
  if (p->init_ok && h->ops->terminate) h->ops->terminate(h->state, ru_proc_reason(p));
  if (!h->state_inline) free(h->state);
  h->state = NULL;
  free(h->arg);
  h->arg = NULL;
}

static size_t handler_memory(const void *body) {
  const ru_proc *p = body;
  return p->u.h.state_inline ? 0 : p->u.h.ops->state_size;
}

const rusm_body_vtable ru_handler_vt = {"handler", handler_run, handler_destroy, handler_memory};
