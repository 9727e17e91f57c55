/*
** epoch.c -- epoch-based reclamation of process structs.  A sender looks a
** pid up and pushes into the process's queue with no reference count; the
** struct of a dead process is therefore kept in its worker's limbo list until
** every worker has passed a quiescent point (between two process runs, or
** parked) twice, and no foreign thread is inside an operation.  Only then
** can no sender still hold the pointer: the queue is drained one last time
** (late link/monitor requests get their noproc answer) and the block reused.
*/
#include "internal.h"

void ru_foreign_enter(rusm_runtime *rt) {
  atomic_fetch_add_explicit(&rt->foreign_active, 1, memory_order_seq_cst);
}

void ru_foreign_leave(rusm_runtime *rt) {
  atomic_fetch_sub_explicit(&rt->foreign_active, 1, memory_order_release);
}

void ru_epoch_quiescent(ru_worker *w) {
  uint64_t g = atomic_load_explicit(&w->rt->epoch, memory_order_acquire);
  if (atomic_load_explicit(&w->epoch, memory_order_relaxed) != g)
    atomic_store_explicit(&w->epoch, g, memory_order_seq_cst);
}

static bool try_advance(rusm_runtime *rt, uint64_t g) {
  for (unsigned i = 0; i < rt->nworkers; i++) {
    uint64_t e = atomic_load_explicit(&rt->workers[i]->epoch, memory_order_seq_cst);
    if (e != 0 && e != g) return false;
  }
  if (atomic_load_explicit(&rt->foreign_active, memory_order_seq_cst) != 0) return false;
  return atomic_compare_exchange_strong(&rt->epoch, &g, g + 1);
}

void ru_retire(ru_worker *w, ru_proc *p) {
  p->retire_epoch = atomic_load_explicit(&w->rt->epoch, memory_order_seq_cst);
  p->rq_next = NULL;
  if (w->limbo_tail) {
    w->limbo_tail->rq_next = p;
  } else {
    w->limbo_head = p;
    w->limbo_head_epoch = p->retire_epoch;
  }
  w->limbo_tail = p;
  w->limbo_len++;
}

void ru_reclaim(ru_worker *w, bool force) {
  if (!w->limbo_head) return;
  rusm_runtime *rt = w->rt;
  uint64_t g = atomic_load_explicit(&rt->epoch, memory_order_acquire);
  if (w->limbo_head_epoch + 2 > g) {
    ru_epoch_quiescent(w);
    if (try_advance(rt, g)) g++;
    if (force) {
      ru_epoch_quiescent(w);
      if (try_advance(rt, g)) g++;
    }
    ru_epoch_quiescent(w);
  }
  while (w->limbo_head && w->limbo_head_epoch + 2 <= g) {
    ru_proc *p = w->limbo_head;
    w->limbo_head = p->rq_next;
    if (w->limbo_head)
      w->limbo_head_epoch = w->limbo_head->retire_epoch;
    else
      w->limbo_tail = NULL;
    w->limbo_len--;
    ru_dead_drain(w, rt, p);
    ru_pidtab_release(rt, ru_pid_idx(atomic_load_explicit(&p->pid, memory_order_relaxed)));
    ru_proc_block_free(w, p);
  }
}
