/*
** receive.c -- the receiver's private queue (messages already taken out of
** the MPSC mailbox, oldest first) and selective receive over it.  The save
** position remembers the last node rejected by a given (match, ctx): the
** next receive with the same pair starts after it, so a server waiting for
** Within one receive call the position of the last rejected node is kept
** while the process waits, so each wake-up looks only at new messages; a
** mark (rusm_receive_mark) lets the next receive skip everything queued
** before it, which is what a request/reply in a long mailbox needs.  Across
** calls nothing else is remembered: a match may depend on state that has
** changed, so each call starts from the oldest message.
** Also the blocking calls of coroutines: receive with timeout and sleep.
*/
#include "internal.h"

void ru_q_append(ru_proc *p, ru_msg *m) {
  m->pnext = NULL;
  if (p->q_tail)
    p->q_tail->pnext = m;
  else
    p->q_head = m;
  p->q_tail = m;
  atomic_store_explicit(&p->q_len, atomic_load_explicit(&p->q_len, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

static inline void q_unlink(ru_proc *p, ru_msg *prev, ru_msg *m) {
  if (p->mark == m) p->mark = prev;
  if (prev)
    prev->pnext = m->pnext;
  else
    p->q_head = m->pnext;
  if (p->q_tail == m) p->q_tail = prev;
  m->pnext = NULL;
  atomic_store_explicit(&p->q_len, atomic_load_explicit(&p->q_len, memory_order_relaxed) - 1,
                        memory_order_relaxed);
}

void ru_q_free_all(ru_worker *w, ru_proc *p) {
  ru_msg *m = p->q_head;
  while (m) {
    ru_msg *n = m->pnext;
    ru_msg_release(w, m);
    m = n;
  }
  p->q_head = p->q_tail = NULL;
  p->mark = NULL;
  p->mark_valid = false;
  atomic_store_explicit(&p->q_len, 0, memory_order_relaxed);
}

/* Scans the nodes after `after` (NULL: from the oldest); a match is
** unlinked and returned, otherwise *last is the last node looked at. */
static ru_msg *scan_from(ru_proc *p, ru_msg *after, rusm_match_fn match, void *ctx,
                         ru_msg **last) {
  ru_msg *prev = after, *m = after ? after->pnext : p->q_head;
  while (m) {
    if (!match || match(m, ctx)) {
      q_unlink(p, prev, m);
      return m;
    }
    prev = m;
    m = m->pnext;
  }
  if (last) *last = prev;
  return NULL;
}

ru_msg *ru_q_scan(ru_proc *p, rusm_match_fn match, void *ctx) {
  return scan_from(p, NULL, match, ctx, NULL);
}

void rusm_receive_mark(void) {
  ru_proc *p = ru_cur_proc();
  if (!p) return;
  ru_drain(p);
  p->mark = p->q_tail;
  p->mark_valid = true;
}

/* demonitor(flush): drops a DOWN for ref wherever it sits */
void ru_q_remove_down(ru_proc *p, uint64_t ref) {
  ru_msg *prev = NULL, *m = p->q_head;
  while (m) {
    if (m->sig == RU_SIG_DOWN && m->ref == ref) {
      q_unlink(p, prev, m);
      ru_msg_release(ru_cur_worker(), m);
      return;
    }
    prev = m;
    m = m->pnext;
  }
}

rusm_msg *rusm_body_take(rusm_match_fn match, void *ctx) {
  ru_proc *p = ru_cur_proc();
  if (!p) return NULL;
  ru_msg *m = ru_q_scan(p, match, ctx);
  if (m) return m;
  ru_drain(p);
  if (p->exiting) return NULL;
  return ru_q_scan(p, match, ctx);
}

void rusm_body_wait(int64_t timeout_ms) {
  ru_proc *p = ru_cur_proc();
  if (p) p->wait_ms = timeout_ms < 0 ? RUSM_INFINITY : timeout_ms;
}

static inline ru_proc *cur_coro(void) {
  ru_proc *p = ru_cur_proc();
  return (p && p->body_type == RU_BODY_CORO && p->u.c.stack) ? p : NULL;
}

rusm_msg *rusm_receive_match(rusm_match_fn match, void *ctx, int64_t timeout_ms) {
  ru_proc *p = cur_coro();
  if (!p) return NULL;
  if (p->budget == 0) ru_coro_switch_out(p, RUSM_RUN_YIELD);
  p->budget--;
  atomic_store_explicit(&p->reductions,
                        atomic_load_explicit(&p->reductions, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  ru_msg *after = NULL;
  if (p->mark_valid) {
    after = p->mark;
    p->mark_valid = false;
    p->mark = NULL;
  }
  for (;;) {
    ru_msg *m = scan_from(p, after, match, ctx, &after);
    if (!m) {
      ru_drain(p);
      if (p->exiting) ru_coro_switch_out(p, RUSM_RUN_EXIT);
      m = scan_from(p, after, match, ctx, &after);
    }
    if (m) {
      if (p->wait_timer || p->timed_out) ru_wait_clear(p);
      return m;
    }
    if (timeout_ms == 0 || p->timed_out) {
      ru_wait_clear(p);
      return NULL;
    }
    p->wait_ms = timeout_ms < 0 ? RUSM_INFINITY : timeout_ms;
    ru_coro_switch_out(p, RUSM_RUN_WAIT);
  }
}

rusm_msg *rusm_receive(int64_t timeout_ms) {
  return rusm_receive_match(NULL, NULL, timeout_ms);
}

void rusm_sleep(int64_t ms) {
  ru_proc *p = cur_coro();
  if (!p) return;
  if (ms <= 0) {
    ru_coro_switch_out(p, RUSM_RUN_YIELD);
    return;
  }
  if (p->wait_timer) ru_wait_clear(p);
  for (;;) {
    p->wait_ms = ms;
    ru_coro_switch_out(p, RUSM_RUN_WAIT);
    if (p->timed_out) break;
  }
  ru_wait_clear(p);
}
