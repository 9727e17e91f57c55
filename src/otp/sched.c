/*
** sched.c -- the M:N scheduler: worker threads, where a runnable process
** goes (the "next" slot of the worker that woke it, the worker's local ring,
** the global inject queue), how an idle worker finds work (global queue,
** stealing half of a victim's ring) and parks on a futex when there is none,
** so an idle runtime burns no CPU.  Also the thread-local "current worker /
** current process" (the only mutable state outside a runtime) and runtime-
** wide idleness for rusm_runtime_wait_idle.
*/
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ thread-local */

static _Thread_local ru_worker *tls_worker;
static _Thread_local ru_proc *tls_proc;

/* Not inlined: a coroutine may resume on another thread, and the compiler
** must not keep a TLS address computed before the switch. */
__attribute__((noinline)) ru_worker *ru_cur_worker(void) {
  ru_worker *w = tls_worker;
  __asm__ volatile("" ::: "memory");
  return w;
}
__attribute__((noinline)) ru_proc *ru_cur_proc(void) {
  ru_proc *p = tls_proc;
  __asm__ volatile("" ::: "memory");
  return p;
}
__attribute__((noinline)) void ru_set_cur(ru_worker *w, ru_proc *p) {
  tls_worker = w;
  tls_proc = p;
}

/* ------------------------------------------------------------ futex */

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t ms) {
  struct timespec ts, *tp = NULL;
  if (ms >= 0) {
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    tp = &ts;
  }
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, tp, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ wake / park */

void ru_wake_worker(ru_worker *w) {
  rusm_runtime *rt = w->rt;
  pthread_mutex_lock(&rt->park_lock);
  if (w->parked) {
    for (unsigned i = 0; i < rt->n_idle; i++) {
      if (rt->idle_stack[i] == w->idx) {
        rt->idle_stack[i] = rt->idle_stack[--rt->n_idle];
        break;
      }
    }
    w->parked = false;
    atomic_fetch_sub(&rt->nparked_hot, 1);
  }
  pthread_mutex_unlock(&rt->park_lock);
  atomic_store(&w->park_word, 1);
  futex_wake(&w->park_word);
}

/* how: 1 = help now (the woken worker may steal at once), 2 = look in a
** while (it steals only if work is still queued 1 ms later) */
static void wake_one_how(rusm_runtime *rt, uint32_t how);

void ru_wake_one(rusm_runtime *rt) { wake_one_how(rt, 1); }

static void wake_one_how(rusm_runtime *rt, uint32_t how) {
  if (atomic_load(&rt->nparked_hot) == 0) return;
  ru_worker *w = NULL;
  pthread_mutex_lock(&rt->park_lock);
  if (rt->n_idle) {
    w = rt->workers[rt->idle_stack[--rt->n_idle]];
    w->parked = false;
    atomic_fetch_sub(&rt->nparked_hot, 1);
  }
  pthread_mutex_unlock(&rt->park_lock);
  if (w) {
    atomic_store(&w->park_word, how);
    futex_wake(&w->park_word);
  }
}

static void wake_all(rusm_runtime *rt) {
  for (unsigned i = 0; i < rt->nworkers; i++) ru_wake_worker(rt->workers[i]);
}

/* ------------------------------------------------------------ queues */

static void inject_push_list(rusm_runtime *rt, ru_proc *first, ru_proc *last, size_t n) {
  last->rq_next = NULL;
  pthread_mutex_lock(&rt->inject_lock);
  if (rt->inject_tail)
    rt->inject_tail->rq_next = first;
  else
    rt->inject_head = first;
  rt->inject_tail = last;
  atomic_fetch_add(&rt->inject_len, n);
  pthread_mutex_unlock(&rt->inject_lock);
}

/* Wakes a parked worker when this one has work queued.  The fence pairs
** with the parker's registration followed by its re-check of the queues
** (no lost wake-up); it costs a full barrier, so it is paid when the ring
** goes from empty to non-empty and then every 32 pushes: a missed chance at
** parallelism is caught at the next check, and the pushing worker runs its
** own queue anyway. */
static inline void maybe_wake(ru_worker *w, uint32_t len) {
  if (len != 1 && (len & 31) != 0) return;
  rusm_runtime *rt = w->rt;
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&rt->nparked_hot, memory_order_relaxed)) ru_wake_one(rt);
}

/* A full ring spills into a private FIFO list behind it (not the global
** queue: that would let a spawning loop run ahead of its children forever);
** the ring is refilled from it as it drains, and thieves steal from the ring. */
static void local_push_nowake(ru_worker *w, ru_proc *p) {
  if (RU_LIKELY(w->ovf_head == NULL) && RU_LIKELY(ru_runq_push(&w->rq, p))) {
    /* a parked worker must not sleep forever while this worker is held by
    ** a long run: on an empty-to-one transition it is asked to look later */
    if (ru_runq_len(&w->rq) == 1) {
      atomic_thread_fence(memory_order_seq_cst);
      if (atomic_load_explicit(&w->rt->nparked_hot, memory_order_relaxed))
        wake_one_how(w->rt, 2);
    }
    return;
  }
  p->rq_next = NULL;
  if (w->ovf_tail)
    w->ovf_tail->rq_next = p;
  else
    w->ovf_head = p;
  w->ovf_tail = p;
  atomic_store_explicit(&w->ovf_len, atomic_load_explicit(&w->ovf_len, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

static void local_push(ru_worker *w, ru_proc *p) {
  if (RU_LIKELY(w->ovf_head == NULL) && RU_LIKELY(ru_runq_push(&w->rq, p))) {
    maybe_wake(w, ru_runq_len(&w->rq));
    return;
  }
  p->rq_next = NULL;
  if (w->ovf_tail)
    w->ovf_tail->rq_next = p;
  else
    w->ovf_head = p;
  w->ovf_tail = p;
  size_t n = atomic_load_explicit(&w->ovf_len, memory_order_relaxed) + 1;
  atomic_store_explicit(&w->ovf_len, n, memory_order_relaxed);
  maybe_wake(w, (uint32_t)n);
}

static ru_proc *local_pop(ru_worker *w) {
  ru_proc *p = ru_runq_pop(&w->rq);
  if (p || !w->ovf_head) return p;
  p = w->ovf_head;
  w->ovf_head = p->rq_next;
  size_t n = atomic_load_explicit(&w->ovf_len, memory_order_relaxed) - 1;
  while (w->ovf_head) {
    /* read the link first: once q is in the ring a thief may run it, and
    ** its rq_next then belongs to whatever queue it lands in next */
    ru_proc *q = w->ovf_head, *qn = q->rq_next;
    if (!ru_runq_push(&w->rq, q)) break;
    w->ovf_head = qn;
    n--;
  }
  atomic_store_explicit(&w->ovf_len, n, memory_order_relaxed);
  if (!w->ovf_head) w->ovf_tail = NULL;
  p->rq_next = NULL;
  maybe_wake(w, 1);
  return p;
}

/* From a thread that is not a worker (or while stopping): the global queue,
** and a parked worker is woken to take it. */
static void inject_one(rusm_runtime *rt, ru_proc *p) {
  inject_push_list(rt, p, p, 1);
  ru_wake_one(rt);
}

void ru_schedule(rusm_runtime *rt, ru_proc *p) {
  atomic_store_explicit(&p->status, RUSM_STATUS_RUNNABLE, memory_order_relaxed);
  ru_worker *w = ru_worker_of(rt);
  if (w && !atomic_load_explicit(&rt->stopping, memory_order_relaxed)) {
    ru_proc *old = w->next_slot;
    w->next_slot = p;
    if (old) local_push(w, old);
    return;
  }
  inject_one(rt, p);
}

void ru_sched_enqueue_new(ru_worker *w, rusm_runtime *rt, ru_proc *p) {
  if (w) {
    local_push(w, p);
    return;
  }
  inject_one(rt, p);
}

/* A new child stays with its parent: spawning wakes no parked worker (a
** spinning one may still steal it).  Parallelism comes from the next wake
** check: a yield, a displaced "next" process, a refill from the overflow. */
void ru_sched_spawned(ru_worker *w, rusm_runtime *rt, ru_proc *p) {
  if (w) {
    local_push_nowake(w, p);
    return;
  }
  inject_one(rt, p);
}

static ru_proc *inject_take(ru_worker *w) {
  rusm_runtime *rt = w->rt;
  if (!atomic_load_explicit(&rt->inject_len, memory_order_relaxed)) return NULL;
  pthread_mutex_lock(&rt->inject_lock);
  size_t len = atomic_load_explicit(&rt->inject_len, memory_order_relaxed);
  size_t n = len / rt->nworkers + 1;
  if (n > len) n = len;
  if (n > RU_RQ_CAP / 2) n = RU_RQ_CAP / 2;
  /* only the owner pushes to its ring, so this much room stays free */
  size_t room = RU_RQ_CAP - ru_runq_len(&w->rq) + 1;
  if (n > room) n = room;
  ru_proc *first = NULL;
  for (size_t i = 0; i < n; i++) {
    ru_proc *p = rt->inject_head;
    rt->inject_head = p->rq_next;
    if (!rt->inject_head) rt->inject_tail = NULL;
    p->rq_next = NULL;
    if (!first)
      first = p;
    else
      ru_runq_push(&w->rq, p);
  }
  atomic_fetch_sub(&rt->inject_len, n);
  pthread_mutex_unlock(&rt->inject_lock);
  return first;
}

static ru_proc *steal(ru_worker *w) {
  rusm_runtime *rt = w->rt;
  unsigned n = rt->nworkers;
  if (n < 2) return NULL;
  w->rng = w->rng * 1103515245u + 12345u;
  unsigned start = (w->rng >> 16) % n;
  for (unsigned i = 0; i < n; i++) {
    ru_worker *v = rt->workers[(start + i) % n];
    if (v == w || ru_runq_len(&v->rq) == 0) continue;
    uint32_t n = ru_runq_steal(&v->rq, &w->rq);
    if (n) {
      atomic_store_explicit(&w->steals, atomic_load_explicit(&w->steals, memory_order_relaxed) + n,
                            memory_order_relaxed);
      return ru_runq_pop(&w->rq);
    }
  }
  return NULL;
}

#define RU_NEXT_STREAK 64u

static ru_proc *find_work(ru_worker *w, bool may_steal) {
  ru_proc *p;
  /* fairness: the global queue is looked at now and then even when busy */
  if ((w->tick % 61) == 60 && (p = inject_take(w))) return p;
  if (w->next_slot) {
    p = w->next_slot;
    w->next_slot = NULL;
    if (w->next_streak++ < RU_NEXT_STREAK) return p;
    local_push(w, p);
  }
  w->next_streak = 0;
  if ((p = local_pop(w))) return p;
  if ((p = inject_take(w))) return p;
  if (may_steal && (p = steal(w))) return p;
  return NULL;
}

static bool others_queued(rusm_runtime *rt, ru_worker *self) {
  for (unsigned i = 0; i < rt->nworkers; i++)
    if (rt->workers[i] != self && ru_runq_len(&rt->workers[i]->rq)) return true;
  return false;
}

/* ------------------------------------------------------------ idleness */

static uint64_t alive_count(rusm_runtime *rt) {
  /* exits first, spawns second: a counted exit's spawn is then counted too,
  ** so zero means "no process alive" at some instant */
  uint64_t ex = 0, sp = 0;
  for (unsigned i = 0; i < rt->nworkers; i++)
    ex += atomic_load(&rt->workers[i]->exited);
  for (unsigned i = 0; i < rt->nworkers; i++)
    sp += atomic_load(&rt->workers[i]->spawned);
  sp += atomic_load(&rt->foreign_spawned);
  return sp - ex;
}

void ru_idle_check(rusm_runtime *rt) {
  if (!atomic_load(&rt->idle_waiters)) return;
  if (alive_count(rt)) return;
  pthread_mutex_lock(&rt->idle_lock);
  pthread_cond_broadcast(&rt->idle_cond);
  pthread_mutex_unlock(&rt->idle_lock);
}

bool rusm_runtime_wait_idle(rusm_runtime *rt, int64_t timeout_ms) {
  if (!rt) return false;
  int64_t deadline = timeout_ms < 0 ? -1 : now_ns() + timeout_ms * 1000000LL;
  pthread_mutex_lock(&rt->idle_lock);
  atomic_fetch_add(&rt->idle_waiters, 1);
  bool ok;
  for (;;) {
    ok = alive_count(rt) == 0;
    if (ok) break;
    int64_t now = now_ns();
    if (deadline >= 0 && now >= deadline) break;
    /* bounded waits: the wake-up is an optimisation, the count is the truth */
    int64_t until = now + 50000000LL;
    if (deadline >= 0 && deadline < until) until = deadline;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t rel = until - now;
    ts.tv_sec += rel / 1000000000LL;
    ts.tv_nsec += rel % 1000000000LL;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&rt->idle_cond, &rt->idle_lock, &ts);
  }
  atomic_fetch_sub(&rt->idle_waiters, 1);
  pthread_mutex_unlock(&rt->idle_lock);
  return ok;
}

/* ------------------------------------------------------------ worker loop */

/* Returns false if the worker was only asked to look later (no stealing
** yet), true otherwise. */
static bool park(ru_worker *w) {
  rusm_runtime *rt = w->rt;
  ru_timer_remote_drain(w);
  int64_t tmo = w->wheel.count ? ru_wheel_advance(w) : -1;
  if (tmo == 0 || w->next_slot || ru_runq_len(&w->rq) || w->ovf_head) return true;
  ru_reclaim(w, true);
  ru_pidtab_worker_flush(w);
  if (w->limbo_head && (tmo < 0 || tmo > 1)) tmo = 1;
  ru_idle_check(rt);

  pthread_mutex_lock(&rt->park_lock);
  rt->idle_stack[rt->n_idle++] = w->idx;
  w->parked = true;
  atomic_fetch_add(&rt->nparked_hot, 1);
  pthread_mutex_unlock(&rt->park_lock);
  atomic_store(&w->epoch, 0);   /* offline: reclamation need not wait for us */

  /* Work queued on a busy worker does not keep us up: its owner will get to
  ** it, and taking it would drag its blocks to this core.  We come back in
  ** 1 ms and take half if it is still there (the owner is overloaded), or
  ** earlier when the owner's wake check asks for help. */
  if (others_queued(rt, w) && (tmo < 0 || tmo > 1)) tmo = 1;
  if (!atomic_load(&rt->inject_len) && !ru_runq_len(&w->rq) && !atomic_load(&rt->stopping) &&
      !atomic_load(&w->remote_pending)) {
    int64_t t0 = now_ns();
    futex_wait(&w->park_word, 0, tmo);
    atomic_fetch_add_explicit(&w->idle_ns, (uint64_t)(now_ns() - t0), memory_order_relaxed);
  }
  pthread_mutex_lock(&rt->park_lock);
  if (w->parked) {
    for (unsigned i = 0; i < rt->n_idle; i++) {
      if (rt->idle_stack[i] == w->idx) {
        rt->idle_stack[i] = rt->idle_stack[--rt->n_idle];
        break;
      }
    }
    w->parked = false;
    atomic_fetch_sub(&rt->nparked_hot, 1);
  }
  pthread_mutex_unlock(&rt->park_lock);
  uint32_t how = atomic_exchange(&w->park_word, 0);
  atomic_store(&w->epoch, atomic_load(&rt->epoch));
  return how != 2;
}

static void *worker_main(void *arg) {
  ru_worker *w = arg;
  rusm_runtime *rt = w->rt;
  ru_set_cur(w, NULL);
  ru_altstack_setup(w);
#if defined(RUSM_TSAN)
  w->tsan_fiber = __tsan_get_current_fiber();
#endif
  atomic_store(&w->epoch, atomic_load(&rt->epoch));
  unsigned spins = 0;
  bool may_steal = false;
  while (!atomic_load_explicit(&rt->stopping, memory_order_relaxed)) {
    ru_proc *p = find_work(w, may_steal);
    may_steal = false;
    if (p) {
      spins = 0;
      /* the next process in the ring was most likely written by another
      ** core (a spawner or a sender): start pulling its block now */
      uint32_t h = atomic_load_explicit(&w->rq.head, memory_order_relaxed);
      if (h != atomic_load_explicit(&w->rq.tail, memory_order_relaxed)) {
        const char *n = (const char *)atomic_load_explicit(&w->rq.buf[h % RU_RQ_CAP],
                                                           memory_order_relaxed);
        for (size_t off = 0; off < sizeof(ru_proc); off += RU_CACHELINE)
          __builtin_prefetch(n + off, 1, 3);
      }
      ru_run_proc(w, p);
      w->tick++;
      ru_epoch_quiescent(w);
      if (w->limbo_len >= 64) ru_reclaim(w, false);
      if ((w->tick & 15) == 0) {
        if (atomic_load_explicit(&w->remote_pending, memory_order_relaxed))
          ru_timer_remote_drain(w);
        if (w->wheel.count) ru_wheel_advance(w);
      }
      continue;
    }
    ru_epoch_quiescent(w);
    if (atomic_load_explicit(&w->remote_pending, memory_order_relaxed))
      ru_timer_remote_drain(w);
    if (w->wheel.count && ru_wheel_advance(w) == 0) continue;
    if (w->limbo_head) ru_reclaim(w, true);
    /* a short spin catches work that is about to appear (a message in
    ** flight to a process of another worker) without a futex round trip */
    if (spins++ < 32) {
      for (int i = 0; i < 16; i++) ru_cpu_relax();
      continue;
    }
    spins = 0;
    may_steal = park(w);
  }
  ru_altstack_teardown(w);
  ru_set_cur(NULL, NULL);
  return NULL;
}

/* ------------------------------------------------------------ runtime */

void ru_pidtab_init(rusm_runtime *rt);
void ru_pidtab_destroy(rusm_runtime *rt);
void ru_proc_caches_destroy(ru_worker *w);
void ru_proc_pool_destroy(rusm_runtime *rt);

rusm_runtime *rusm_runtime_start(const rusm_runtime_config *cfg) {
  rusm_runtime_config c = {0, 0, 0, 0};
  if (cfg) c = *cfg;
  if (!c.workers) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c.workers = n > 0 ? (unsigned)n : 1;
  }
  if (c.workers > 256) c.workers = 256;
  if (!c.reductions) c.reductions = 4000;
  if (!c.coro_stack_size) c.coro_stack_size = 128 * 1024;
  if (c.coro_stack_size < 16 * 1024) c.coro_stack_size = 16 * 1024;
  if (!c.max_processes) c.max_processes = 1u << 22;
  if (c.max_processes > (1u << RU_IDX_BITS) - 1) c.max_processes = (1u << RU_IDX_BITS) - 1;
  if (c.max_processes < 16) c.max_processes = 16;

  rusm_runtime *rt = aligned_alloc(RU_CACHELINE, (sizeof *rt + RU_CACHELINE - 1) & ~(size_t)(RU_CACHELINE - 1));
  if (!rt) return NULL;
  memset(rt, 0, sizeof *rt);
  rt->nworkers = c.workers;
  rt->reductions = c.reductions;
  rt->stack_size = c.coro_stack_size;
  rt->max_procs = c.max_processes;
  atomic_init(&rt->epoch, 1);
  pthread_mutex_init(&rt->slot_lock, NULL);
  pthread_mutex_init(&rt->inject_lock, NULL);
  pthread_mutex_init(&rt->park_lock, NULL);
  pthread_mutex_init(&rt->idle_lock, NULL);
  pthread_cond_init(&rt->idle_cond, NULL);
  pthread_mutex_init(&rt->timer_lock, NULL);
  pthread_mutex_init(&rt->stack_lock, NULL);
  pthread_mutex_init(&rt->pool_lock, NULL);
  pthread_rwlock_init(&rt->reg_lock, NULL);
  ru_pidtab_init(rt);
  ru_timers_init(rt);
  ru_segv_install();
  rt->idle_stack = calloc(c.workers, sizeof *rt->idle_stack);
  rt->workers = calloc(c.workers, sizeof *rt->workers);
  if (!rt->slots || !rt->idle_stack || !rt->workers) goto fail;
  for (unsigned i = 0; i < c.workers; i++) {
    ru_worker *w = aligned_alloc(RU_CACHELINE, (sizeof *w + RU_CACHELINE - 1) & ~(size_t)(RU_CACHELINE - 1));
    if (!w) goto fail;
    memset(w, 0, sizeof *w);
    w->rt = rt;
    w->idx = i;
    w->rng = 0x9e3779b9u * (i + 1);
    w->mon_counter = 0;
    w->t_last_ns = now_ns();
    pthread_mutex_init(&w->remote_lock, NULL);
    ru_wheel_init(&w->wheel);
    rt->workers[i] = w;
  }
  for (unsigned i = 0; i < c.workers; i++) {
    if (pthread_create(&rt->workers[i]->thread, NULL, worker_main, rt->workers[i]) != 0) {
      atomic_store(&rt->stopping, true);
      for (unsigned j = 0; j < i; j++) {
        ru_wake_worker(rt->workers[j]);
        pthread_join(rt->workers[j]->thread, NULL);
      }
      goto fail;
    }
  }
  return rt;
fail:
  if (rt->workers)
    for (unsigned i = 0; i < c.workers; i++) free(rt->workers[i]);
  free(rt->workers);
  free(rt->idle_stack);
  ru_timers_destroy(rt);
  ru_pidtab_destroy(rt);
  free(rt);
  return NULL;
}

void rusm_runtime_stop(rusm_runtime *rt) {
  if (!rt) return;
  atomic_store(&rt->stopping, true);
  wake_all(rt);
  for (unsigned i = 0; i < rt->nworkers; i++) {
    /* keep waking: a worker may have registered as parked after wake_all */
    ru_worker *w = rt->workers[i];
    for (;;) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 20000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0) break;
      ru_wake_worker(w);
    }
  }
  /* Single-threaded from here.  Every live process is killed without
  ** notifying anyone (everyone dies), then all memory goes. */
  ru_worker *w0 = rt->workers[0];
  ru_set_cur(w0, NULL);
  for (uint32_t i = 0; i < atomic_load(&rt->slot_bump); i++) {
    ru_proc *p = atomic_load(&rt->slots[i].p);
    if (!p) continue;
    atomic_store(&rt->slots[i].p, NULL);
    ru_proc_free_all(rt, p);
  }
  for (unsigned i = 0; i < rt->nworkers; i++) {
    ru_worker *w = rt->workers[i];
    while (w->limbo_head) {
      ru_proc *p = w->limbo_head;
      w->limbo_head = p->rq_next;
      ru_dead_drain(NULL, rt, p);
      free(p->reason_data);
      free(p);
    }
    ru_wheel_destroy(w);
  }
  for (unsigned i = 0; i < rt->nworkers; i++) {
    ru_worker *w = rt->workers[i];
    ru_proc_caches_destroy(w);
    ru_stack_worker_destroy(w);
    pthread_mutex_destroy(&w->remote_lock);
  }
  ru_set_cur(NULL, NULL);
  for (unsigned i = 0; i < rt->nworkers; i++) free(rt->workers[i]);
  free(rt->workers);
  free(rt->idle_stack);
  ru_stack_pool_destroy(rt);
  ru_proc_pool_destroy(rt);
  ru_msg_pool_destroy(rt);
  pthread_mutex_destroy(&rt->pool_lock);
  ru_timers_destroy(rt);
  ru_registry_destroy(rt);
  ru_pidtab_destroy(rt);
  pthread_mutex_destroy(&rt->slot_lock);
  pthread_mutex_destroy(&rt->inject_lock);
  pthread_mutex_destroy(&rt->park_lock);
  pthread_mutex_destroy(&rt->idle_lock);
  pthread_cond_destroy(&rt->idle_cond);
  pthread_mutex_destroy(&rt->timer_lock);
  pthread_mutex_destroy(&rt->stack_lock);
  pthread_rwlock_destroy(&rt->reg_lock);
  free(rt);
}

rusm_runtime *rusm_runtime_current(void) {
  ru_worker *w = ru_cur_worker();
  return (w && ru_cur_proc()) ? w->rt : NULL;
}

/* ------------------------------------------------------------ stats */

void rusm_runtime_stats_get(rusm_runtime *rt, rusm_runtime_stats *out) {
  if (!rt || !out) return;
  uint64_t ex = 0, sp = 0;
  for (unsigned i = 0; i < rt->nworkers; i++) ex += atomic_load(&rt->workers[i]->exited);
  for (unsigned i = 0; i < rt->nworkers; i++) sp += atomic_load(&rt->workers[i]->spawned);
  sp += atomic_load(&rt->foreign_spawned);
  out->spawned_total = sp;
  out->exited_total = ex;
  out->process_count = (size_t)(sp - ex);
  out->workers = rt->nworkers;
}

unsigned rusm_worker_stats_get(rusm_runtime *rt, rusm_worker_stats *out, unsigned max) {
  if (!rt) return 0;
  pthread_mutex_lock(&rt->park_lock);   /* serialises the "since last call" state */
  int64_t now = now_ns();
  for (unsigned i = 0; i < rt->nworkers && i < max && out; i++) {
    ru_worker *w = rt->workers[i];
    out[i].run_queue_len = ru_runq_len(&w->rq) + atomic_load_explicit(&w->ovf_len, memory_order_relaxed);
    uint64_t idle = atomic_load_explicit(&w->idle_ns, memory_order_relaxed);
    uint64_t didle = idle - w->stat_idle_last;
    int64_t dt = now - w->t_last_ns;
    double u = dt > 0 ? 1.0 - (double)didle / (double)dt : 0.0;
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    out[i].utilisation = u;
    out[i].steals = atomic_load_explicit(&w->steals, memory_order_relaxed);
    w->stat_idle_last = idle;
    w->t_last_ns = now;
  }
  pthread_mutex_unlock(&rt->park_lock);
  return rt->nworkers;
}
