/*
** proc.c -- the life of a process: allocation (per-worker free lists of
** fixed-size blocks, handler state inline when small), spawn, one scheduling
** turn (drain signals, run the body, decide yield / wait / exit), exit
** (notify links and monitors, unpublish, retire to the epoch limbo), and
** message delivery by pid.  Spawning is charged to the parent's worker and
** the child starts on it, so spawn-heavy code stays core-local until
** another worker steals.
*/
#include "internal.h"

#define RU_PROC_CACHE_MAX 4096u
#define RU_SPAWN_COST 4u

uint32_t ru_pidtab_alloc(rusm_runtime *rt, ru_worker *w);

static size_t block_size(void) {
  size_t s = sizeof(ru_proc) + RU_PROC_INLINE_STATE;
  return (s + RU_CACHELINE - 1) & ~(size_t)(RU_CACHELINE - 1);
}

/* Blocks freed on one worker are often needed on another (a spawner on one
** worker, children stolen to the other): full caches hand batches to a
** runtime pool instead of free(), empty caches take a batch back. */
#define RU_PROC_BATCH 512u

static void pool_put_batch(rusm_runtime *rt, ru_proc *head) {
  pthread_mutex_lock(&rt->pool_lock);
  if (rt->pool_count < 16) {
    head->batch_next = rt->pool_batches;
    rt->pool_batches = head;
    rt->pool_count++;
    head = NULL;
  }
  pthread_mutex_unlock(&rt->pool_lock);
  while (head) {
    ru_proc *n = head->rq_next;
    free(head);
    head = n;
  }
}

static ru_proc *pool_get_batch(rusm_runtime *rt) {
  if (!atomic_load_explicit(&rt->pool_count, memory_order_relaxed)) return NULL;
  pthread_mutex_lock(&rt->pool_lock);
  ru_proc *b = rt->pool_batches;
  if (b) {
    rt->pool_batches = b->batch_next;
    rt->pool_count--;
  }
  pthread_mutex_unlock(&rt->pool_lock);
  return b;
}

ru_proc *ru_proc_alloc(ru_worker *w, size_t extra) {
  (void)extra;
  ru_proc *p = NULL;
  if (w) {
    if (!w->proc_free) {
      ru_proc *b = pool_get_batch(w->rt);
      if (b) {
        w->proc_free = b;
        w->proc_free_len = RU_PROC_BATCH;
      }
    }
    if (w->proc_free) {
      p = w->proc_free;
      w->proc_free = p->rq_next;
      w->proc_free_len--;
      /* the next spawn's block: often last touched by another worker */
      if (w->proc_free) {
        const char *n = (const char *)w->proc_free;
        for (size_t off = 0; off < sizeof(ru_proc); off += RU_CACHELINE)
          __builtin_prefetch(n + off, 1, 3);
      }
    }
  }
  if (!p) {
    p = aligned_alloc(RU_CACHELINE, block_size());
    if (!p) return NULL;
  }
  ru_mbox_init(&p->mbox);
  memset((char *)p + offsetof(ru_proc, pid), 0, sizeof(ru_proc) - offsetof(ru_proc, pid));
  p->block_size = (uint32_t)block_size();
  p->wait_ms = RUSM_INFINITY;
  return p;
}

void ru_proc_block_free(ru_worker *w, ru_proc *p) {
  free(p->reason_data);
  p->reason_data = NULL;
  if (!w) {
    free(p);
    return;
  }
  p->rq_next = w->proc_free;
  w->proc_free = p;
  if (++w->proc_free_len >= RU_PROC_CACHE_MAX) {
    /* cut a batch off the front of the list and hand it over */
    ru_proc *head = w->proc_free, *last = head;
    for (unsigned i = 1; i < RU_PROC_BATCH; i++) last = last->rq_next;
    w->proc_free = last->rq_next;
    last->rq_next = NULL;
    w->proc_free_len -= RU_PROC_BATCH;
    pool_put_batch(w->rt, head);
  }
}

void ru_proc_pool_destroy(rusm_runtime *rt) {
  ru_proc *b;
  while ((b = rt->pool_batches)) {
    rt->pool_batches = b->batch_next;
    while (b) {
      ru_proc *n = b->rq_next;
      free(b);
      b = n;
    }
  }
}

void ru_proc_caches_destroy(ru_worker *w) {
  while (w->proc_free) {
    ru_proc *p = w->proc_free;
    w->proc_free = p->rq_next;
    free(p);
  }
  for (int c = 0; c < RU_MSG_CLASSES; c++) {
    while (w->msg_free[c]) {
      ru_msg *m = w->msg_free[c];
      w->msg_free[c] = m->pnext;
      free(m);
    }
  }
  free(w->tfree);
  w->tfree = NULL;
}

uint64_t ru_new_ref(rusm_runtime *rt) {
  ru_worker *w = ru_worker_of(rt);
  if (w) return ((uint64_t)(w->idx + 1) << 48) | ++w->mon_counter;
  return (0xffffull << 48) | (atomic_fetch_add(&rt->mon_foreign, 1) + 1);
}

/* ------------------------------------------------------------ reasons */

void ru_proc_set_reason(ru_proc *p, rusm_reason r) {
  free(p->reason_data);
  p->reason_data = NULL;
  p->reason_len = 0;
  p->reason_kind = r.kind == RUSM_EXIT_KILL ? RUSM_EXIT_KILLED : r.kind;
  if (r.len && r.data) {
    p->reason_data = malloc(r.len);
    if (p->reason_data) {
      memcpy(p->reason_data, r.data, r.len);
      p->reason_len = r.len;
    }
  }
}

rusm_reason ru_proc_reason(const ru_proc *p) {
  rusm_reason r = {p->reason_kind, p->reason_len, p->reason_data};
  return r;
}

/* ------------------------------------------------------------ delivery */

bool ru_deliver(rusm_runtime *rt, rusm_pid to, ru_msg *m) {
  ru_worker *w = ru_worker_of(rt);
  if (!w) ru_foreign_enter(rt);
  ru_proc *p = ru_lookup(rt, to);
  if (RU_LIKELY(p != NULL)) {
    if (ru_mbox_push(&p->mbox, m)) ru_schedule(rt, p);
  } else {
    ru_msg_release(w, m);
  }
  if (!w) ru_foreign_leave(rt);
  return p != NULL;
}

bool ru_send_sig(rusm_runtime *rt, rusm_pid to, ru_sig sig, rusm_pid from,
                 uint64_t ref, rusm_reason r) {
  ru_msg *m = ru_msg_make(ru_worker_of(rt), sig, from, ref, r);
  if (!m) return false;
  return ru_deliver(rt, to, m);
}

static int send_common(rusm_runtime *rt, rusm_pid from, rusm_pid to, const void *data,
                       size_t len, rusm_resource *const *res, size_t nres) {
  if (len && !data) return -1;
  ru_worker *w = ru_worker_of(rt);
  ru_msg *m = ru_msg_alloc(w, len, nres);
  if (!m) {
    for (size_t i = 0; i < nres; i++) rusm_resource_unref(res[i]);
    return -1;
  }
  m->from = from;
  if (len) memcpy(ru_msg_payload(m), data, len);
  for (size_t i = 0; i < nres; i++) ru_msg_res(m)[i] = res[i];
  ru_deliver(rt, to, m);
  return 0;
}

/* A send costs a reduction; a coroutine that has spent its slice on sends
** yields after the message is out, so a flooding sender cannot hold its
** worker (handlers yield between messages instead). */
static inline void charge_send(ru_proc *self) {
  atomic_store_explicit(&self->reductions,
                        atomic_load_explicit(&self->reductions, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  if (self->budget) self->budget--;
}

static inline void maybe_yield_after_send(ru_proc *self) {
  if (RU_UNLIKELY(!self->budget) && self->body_type == RU_BODY_CORO && self->u.c.stack)
    ru_coro_switch_out(self, RUSM_RUN_YIELD);
}

int rusm_send(rusm_pid to, const void *data, size_t len) {
  ru_proc *self = ru_cur_proc();
  if (!self) return -1;
  charge_send(self);
  int rc = send_common(self->rt, atomic_load_explicit(&self->pid, memory_order_relaxed), to,
                       data, len, NULL, 0);
  maybe_yield_after_send(self);
  return rc;
}

int rusm_send_res(rusm_pid to, const void *data, size_t len, rusm_resource *const *res,
                  size_t nres) {
  ru_proc *self = ru_cur_proc();
  if (!self || (nres && !res)) {
    for (size_t i = 0; res && i < nres; i++) rusm_resource_unref(res[i]);
    return -1;
  }
  charge_send(self);
  int rc = send_common(self->rt, atomic_load_explicit(&self->pid, memory_order_relaxed), to,
                       data, len, res, nres);
  maybe_yield_after_send(self);
  return rc;
}

int rusm_runtime_send(rusm_runtime *rt, rusm_pid to, const void *data, size_t len) {
  if (!rt) return -1;
  ru_proc *self = ru_cur_proc();
  rusm_pid from = (self && self->rt == rt) ? atomic_load(&self->pid) : 0;
  return send_common(rt, from, to, data, len, NULL, 0);
}

/* ------------------------------------------------------------ spawn */

rusm_pid ru_spawn(rusm_runtime *rt, int type, const void *a, const void *b, size_t len,
                  const rusm_spawn_opts *opts, void *body) {
  uint32_t flags = opts ? opts->flags : 0;
  ru_worker *w = ru_worker_of(rt);
  ru_proc *parent = ru_cur_proc();
  if (parent && parent->rt != rt) parent = NULL;
  const rusm_body_vtable *ovt = type == RU_BODY_OTHER ? a : NULL;
  if (!rt || atomic_load_explicit(&rt->stopping, memory_order_relaxed) ||
      ((flags & (RUSM_SPAWN_LINK | RUSM_SPAWN_MONITOR)) && !parent) ||
      ((flags & RUSM_SPAWN_MONITOR) && !opts->monitor_ref) || !a ||
      (len && !b && type != RU_BODY_OTHER)) {
    if (ovt && ovt->destroy && body) ovt->destroy(body);
    return 0;
  }
  uint32_t idx = ru_pidtab_alloc(rt, w);
  if (idx == UINT32_MAX) {
    if (ovt && ovt->destroy && body) ovt->destroy(body);
    return 0;
  }
  ru_proc *p = ru_proc_alloc(w, 0);
  void *argcopy = NULL;
  if (p && len && type != RU_BODY_OTHER) {
    argcopy = malloc(len);
    if (argcopy) memcpy(argcopy, b, len);
  }
  if (!p || (len && type != RU_BODY_OTHER && !argcopy)) {
    free(argcopy);
    if (p) ru_proc_block_free(w, p);
    ru_pidtab_release(rt, idx);
    if (ovt && ovt->destroy && body) ovt->destroy(body);
    return 0;
  }
  rusm_pid pid = ru_pid_make(idx, rt->slots[idx].gen);
  p->rt = rt;
  atomic_store_explicit(&p->pid, pid, memory_order_relaxed);
  p->body_type = type;
  if (type == RU_BODY_HANDLER) {
    const rusm_handler_ops *ops = a;
    p->vt = &ru_handler_vt;
    p->body = p;
    p->u.h.ops = ops;
    if (ops->state_size <= RU_PROC_INLINE_STATE) {
      p->u.h.state = (char *)p + sizeof(ru_proc);
      memset(p->u.h.state, 0, ops->state_size);
      p->u.h.state_inline = true;
    } else {
      p->u.h.state = calloc(1, ops->state_size);
      if (!p->u.h.state) {
        free(argcopy);
        ru_proc_block_free(w, p);
        ru_pidtab_release(rt, idx);
        return 0;
      }
    }
    p->u.h.arg = argcopy;
    p->u.h.len = len;
  } else if (type == RU_BODY_CORO) {
    p->vt = &ru_coro_vt;
    p->body = p;
    p->u.c.fn = (rusm_coro_fn)(uintptr_t)a;
    p->u.c.arg = argcopy;
    p->u.c.len = len;
  } else {
    p->vt = ovt;
    p->body = body;
  }
  atomic_store_explicit(&p->trap_exit, (flags & RUSM_SPAWN_TRAP_EXIT) != 0, memory_order_relaxed);
  if (parent) {
    rusm_pid ppid = atomic_load_explicit(&parent->pid, memory_order_relaxed);
    p->parent = ppid;
    if (flags & RUSM_SPAWN_LINK) {
      ru_map_put(&parent->links, pid, 1);
      ru_map_put(&p->links, ppid, 1);
      atomic_store_explicit(&parent->n_links, parent->links.len, memory_order_relaxed);
      atomic_store_explicit(&p->n_links, 1, memory_order_relaxed);
    }
    if (flags & RUSM_SPAWN_MONITOR) {
      uint64_t ref = ru_new_ref(rt);
      ru_map_put(&parent->monitors, ref, pid);
      ru_map_put(&p->watchers, ref, ppid);
      atomic_store_explicit(&parent->n_monitors, parent->monitors.len, memory_order_relaxed);
      *opts->monitor_ref = ref;
    }
  }
  atomic_store_explicit(&p->status, RUSM_STATUS_RUNNABLE, memory_order_relaxed);
  if (w)
    atomic_store_explicit(&w->spawned, atomic_load_explicit(&w->spawned, memory_order_relaxed) + 1,
                          memory_order_release);
  else
    atomic_fetch_add(&rt->foreign_spawned, 1);
  atomic_store_explicit(&rt->slots[idx].p, p, memory_order_release);
  ru_sched_spawned(w, rt, p);
  if (parent) {
    /* spawning costs reductions, so a spawning loop lets its children run
    ** (and their blocks be recycled) instead of piling up a million */
    parent->budget = parent->budget > RU_SPAWN_COST ? parent->budget - RU_SPAWN_COST : 0;
    if (!parent->budget && parent->body_type == RU_BODY_CORO && parent->u.c.stack)
      ru_coro_switch_out(parent, RUSM_RUN_YIELD);
  }
  return pid;
}

rusm_pid rusm_spawn(rusm_coro_fn fn, const void *arg, size_t len, const rusm_spawn_opts *opts) {
  ru_proc *self = ru_cur_proc();
  if (!self) return 0;
  return ru_spawn(self->rt, RU_BODY_CORO, (const void *)(uintptr_t)fn, arg, len, opts, NULL);
}
rusm_pid rusm_spawn_handler(const rusm_handler_ops *ops, const void *arg, size_t len,
                            const rusm_spawn_opts *opts) {
  ru_proc *self = ru_cur_proc();
  if (!self) return 0;
  return ru_spawn(self->rt, RU_BODY_HANDLER, ops, arg, len, opts, NULL);
}
rusm_pid rusm_spawn_body(const rusm_body_vtable *vt, void *body, const rusm_spawn_opts *opts) {
  ru_proc *self = ru_cur_proc();
  if (!self) {
    if (vt && vt->destroy && body) vt->destroy(body);
    return 0;
  }
  return ru_spawn(self->rt, RU_BODY_OTHER, vt, NULL, 0, opts, body);
}
rusm_pid rusm_runtime_spawn(rusm_runtime *rt, rusm_coro_fn fn, const void *arg, size_t len,
                            const rusm_spawn_opts *opts) {
  return ru_spawn(rt, RU_BODY_CORO, (const void *)(uintptr_t)fn, arg, len, opts, NULL);
}
rusm_pid rusm_runtime_spawn_handler(rusm_runtime *rt, const rusm_handler_ops *ops,
                                    const void *arg, size_t len, const rusm_spawn_opts *opts) {
  return ru_spawn(rt, RU_BODY_HANDLER, ops, arg, len, opts, NULL);
}
rusm_pid rusm_runtime_spawn_body(rusm_runtime *rt, const rusm_body_vtable *vt, void *body,
                                 const rusm_spawn_opts *opts) {
  return ru_spawn(rt, RU_BODY_OTHER, vt, NULL, 0, opts, body);
}

/* ------------------------------------------------------------ one turn */

void ru_drain(ru_proc *p) {
  ru_msg *m;
  while (!p->exiting && (m = ru_mbox_pop(&p->mbox))) {
    if (RU_LIKELY(m->sig == RU_SIG_MSG)) {
      ru_q_append(p, m);
      p->wakeup = true;
    } else {
      ru_handle_signal(p, m);
    }
  }
}

static void arm_wait(ru_proc *p) {
  p->wait_seq++;
  p->wait_timer = ru_timer_start(p->rt, RU_TK_WAKE, p->wait_ms,
                                 atomic_load_explicit(&p->pid, memory_order_relaxed),
                                 p->wait_seq, NULL);
}

void ru_wait_clear(ru_proc *p) {
  if (p->wait_timer) ru_timer_cancel(p->rt, p->wait_timer);
  p->wait_timer = 0;
  p->timed_out = false;
  p->wait_seq++;
}

void ru_run_proc(ru_worker *w, ru_proc *p) {
  rusm_runtime *rt = w->rt;
  w->cur = p;
  ru_set_cur(w, p);
  p->budget = rt->reductions;
  for (;;) {
    ru_drain(p);
    if (p->exiting) break;
    if (p->suspended || (p->waiting && !p->wakeup)) {
      atomic_store_explicit(&p->status, p->suspended ? RUSM_STATUS_SUSPENDED : RUSM_STATUS_WAITING,
                            memory_order_relaxed);
      if (ru_mbox_try_idle(&p->mbox)) goto out;
      continue;
    }
    /* a stackless body's wait ends with this run: its timer (or the fact
    ** that it fired) must not carry over into the next wait */
    if (p->body_type != RU_BODY_CORO && (p->wait_timer || p->timed_out)) ru_wait_clear(p);
    p->waiting = false;
    p->wakeup = false;
    p->wait_ms = RUSM_INFINITY;
    atomic_store_explicit(&p->status, RUSM_STATUS_RUNNING, memory_order_relaxed);
    rusm_run_result r = p->vt->run(p->body, p->budget ? p->budget : 1);
    /* a coroutine may come back on this worker only; the pointers hold */
    if (r == RUSM_RUN_EXIT || p->exit_req || p->exiting) {
      p->exiting = true;
      break;
    }
    if (r == RUSM_RUN_YIELD || (r == RUSM_RUN_WAIT && p->wait_ms == 0)) {
      atomic_store_explicit(&p->status, RUSM_STATUS_RUNNABLE, memory_order_relaxed);
      w->cur = NULL;
      ru_set_cur(w, NULL);
      ru_sched_enqueue_new(w, rt, p);
      return;
    }
    p->waiting = true;
    if (p->wait_ms > 0 && !p->wait_timer) arm_wait(p);
    if (p->timed_out) p->wakeup = true;
  }
  ru_proc_exit(w, p);
out:
  w->cur = NULL;
  ru_set_cur(w, NULL);
}

/* ------------------------------------------------------------ exit */

void ru_proc_exit(ru_worker *w, ru_proc *p) {
  rusm_runtime *rt = w->rt;
  atomic_store_explicit(&p->status, RUSM_STATUS_EXITING, memory_order_relaxed);
  if (p->overflow) ru_proc_set_reason(p, rusm_reason_str("stack overflow"));
  if (p->wait_timer) ru_wait_clear(p);
  w->cur = p;
  ru_set_cur(w, p);
  if (p->vt->destroy) p->vt->destroy(p->body);
  rusm_pid pid = atomic_load_explicit(&p->pid, memory_order_relaxed);
  atomic_store_explicit(&rt->slots[ru_pid_idx(pid)].p, NULL, memory_order_seq_cst);
  ru_unregister_proc(rt, p);
  ru_dead_drain(w, rt, p);
  ru_exit_notify(w, p);
  ru_q_free_all(w, p);
  atomic_store_explicit(&p->status, RUSM_STATUS_DEAD, memory_order_relaxed);
  atomic_store_explicit(&w->exited, atomic_load_explicit(&w->exited, memory_order_relaxed) + 1,
                        memory_order_release);
  w->cur = NULL;
  ru_set_cur(w, NULL);
  ru_retire(w, p);
}

/* Runtime stop: no one is left to notify. */
void ru_proc_free_all(rusm_runtime *rt, ru_proc *p) {
  ru_worker *w = rt->workers[0];
  w->cur = p;
  ru_set_cur(w, p);
  p->exiting = true;
  if (!p->reason_kind) p->reason_kind = RUSM_EXIT_KILLED;
  if (p->wait_timer) p->wait_timer = 0;
  if (p->vt && p->vt->destroy) p->vt->destroy(p->body);
  w->cur = NULL;
  ru_set_cur(w, NULL);
  ru_q_free_all(NULL, p);
  ru_dead_drain(NULL, rt, p);
  ru_map_free(&p->links);
  ru_map_free(&p->monitors);
  ru_map_free(&p->watchers);
  free(p->reason_data);
  free(p);
}

/* ------------------------------------------------------------ the process itself */

rusm_pid rusm_self(void) {
  ru_proc *p = ru_cur_proc();
  return p ? atomic_load_explicit(&p->pid, memory_order_relaxed) : 0;
}

void rusm_exit(rusm_reason why) {
  ru_proc *p = ru_cur_proc();
  if (!p) return;
  ru_proc_set_reason(p, why);
  p->exit_req = true;
  if (p->body_type == RU_BODY_CORO && p->u.c.stack) ru_coro_switch_out(p, RUSM_RUN_EXIT);
}

bool rusm_process_flag_set(rusm_process_flag f, bool value) {
  ru_proc *p = ru_cur_proc();
  if (!p || f != RUSM_FLAG_TRAP_EXIT) return false;
  return atomic_exchange_explicit(&p->trap_exit, value, memory_order_relaxed);
}

void rusm_consume_reductions(uint32_t n) {
  ru_proc *p = ru_cur_proc();
  if (!p) return;
  atomic_store_explicit(&p->reductions,
                        atomic_load_explicit(&p->reductions, memory_order_relaxed) + n,
                        memory_order_relaxed);
  p->budget = n >= p->budget ? 0 : p->budget - n;
  if (!p->budget && p->body_type == RU_BODY_CORO && p->u.c.stack) rusm_yield();
}

void rusm_yield(void) {
  ru_proc *p = ru_cur_proc();
  if (!p || p->body_type != RU_BODY_CORO || !p->u.c.stack) return;
  ru_coro_switch_out(p, RUSM_RUN_YIELD);
}
