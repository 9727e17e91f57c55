/*
** mailbox.c -- the consumer side of the intrusive MPSC mailbox (the producer
** side, one atomic exchange, is inline in internal.h).  Vyukov's algorithm
** with a stub node owned by the process, plus the idle tag: the consumer
** sets bit 0 of the head, by CAS, only when the queue is empty, and the next
** producer's exchange sees the bit and knows it must schedule the process.
** Every wake-up, timer and signal included, goes through this queue, so
** "runnable" needs no second atomic word.
*/
#include "internal.h"

void ru_mbox_init(ru_mbox *q) {
  atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
  q->tail = &q->stub;
  atomic_store_explicit(&q->head, (uintptr_t)&q->stub, memory_order_relaxed);
}

static inline void push_stub(ru_mbox *q) {
  ru_msg *s = &q->stub;
  atomic_store_explicit(&s->next, NULL, memory_order_relaxed);
  uintptr_t prev = atomic_exchange_explicit(&q->head, (uintptr_t)s, memory_order_acq_rel);
  ru_msg *p = (ru_msg *)(prev & ~(uintptr_t)1);
  atomic_store_explicit(&p->next, s, memory_order_release);
}

ru_msg *ru_mbox_pop(ru_mbox *q) {
  ru_msg *tail = q->tail;
  ru_msg *next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (tail == &q->stub) {
    if (!next) return NULL;
    q->tail = next;
    tail = next;
    next = atomic_load_explicit(&next->next, memory_order_acquire);
  }
  if (next) {
    q->tail = next;
    return tail;
  }
  uintptr_t head = atomic_load_explicit(&q->head, memory_order_acquire) & ~(uintptr_t)1;
  if ((ru_msg *)head != tail) return NULL;   /* a producer is between its two steps */
  push_stub(q);
  next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (next) {
    q->tail = next;
    return tail;
  }
  return NULL;
}

bool ru_mbox_maybe_nonempty(ru_mbox *q) {
  ru_msg *tail = q->tail;
  if (atomic_load_explicit(&tail->next, memory_order_acquire)) return true;
  uintptr_t head = atomic_load_explicit(&q->head, memory_order_acquire) & ~(uintptr_t)1;
  return (ru_msg *)head != tail;
}

bool ru_mbox_try_idle(ru_mbox *q) {
  /* Only an empty queue (head == tail == the node the consumer holds, with
  ** no successor) can be tagged; any concurrent push makes the CAS fail. */
  ru_msg *tail = q->tail;
  if (atomic_load_explicit(&tail->next, memory_order_acquire)) return false;
  uintptr_t expect = (uintptr_t)tail;
  return atomic_compare_exchange_strong_explicit(&q->head, &expect, expect | 1,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire);
}
