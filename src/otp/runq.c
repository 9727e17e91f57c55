/*
** runq.c -- a worker's local run queue: a bounded ring owned by one worker,
** from which any other worker can steal half in O(1) per item.  The owner
** pushes at the tail; the owner and thieves take from the head by CAS, so a
** thief copies its batch first and commits it with a single CAS.  Indices are
** free-running 32-bit counters (ring position = index mod capacity).
*/
#include "internal.h"

bool ru_runq_push(ru_runq *q, ru_proc *p) {
  uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
  uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
  if (t - h >= RU_RQ_CAP) return false;
  atomic_store_explicit(&q->buf[t % RU_RQ_CAP], p, memory_order_relaxed);
  atomic_store_explicit(&q->tail, t + 1, memory_order_release);
  return true;
}

ru_proc *ru_runq_pop(ru_runq *q) {
  for (;;) {
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (h == t) return NULL;
    ru_proc *p = atomic_load_explicit(&q->buf[h % RU_RQ_CAP], memory_order_relaxed);
    if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_acq_rel,
                                              memory_order_relaxed))
      return p;
  }
}

uint32_t ru_runq_steal(ru_runq *victim, ru_runq *dst) {
  uint32_t dt = atomic_load_explicit(&dst->tail, memory_order_relaxed);
  for (;;) {
    uint32_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&victim->tail, memory_order_acquire);
    uint32_t n = t - h;
    if (n == 0 || n > RU_RQ_CAP) {
      if (n == 0) return 0;
      continue;  /* torn read of a moving queue */
    }
    n -= n / 2;
    if (n > RU_RQ_CAP / 2) n = RU_RQ_CAP / 2;
    for (uint32_t i = 0; i < n; i++) {
      ru_proc *p = atomic_load_explicit(&victim->buf[(h + i) % RU_RQ_CAP], memory_order_relaxed);
      atomic_store_explicit(&dst->buf[(dt + i) % RU_RQ_CAP], p, memory_order_relaxed);
    }
    if (atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n, memory_order_acq_rel,
                                                memory_order_relaxed)) {
      atomic_store_explicit(&dst->tail, dt + n, memory_order_release);
      return n;
    }
  }
}
