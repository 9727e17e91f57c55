/*
** timer.c -- timers: a hashed timing wheel per worker (1 ms ticks, 1024
** slots; an entry further out than one turn stays in its slot and is looked
** at once per turn), O(1) start and cancel.  Entries live in chunked tables
** that are never freed before runtime stop, so a timer reference (generation
** | index) can be checked by anyone with one CAS; the owning worker unlinks
** and frees.  A timer started outside a worker is handed to a worker through
** a small locked list.  Firing delivers a prepared message (send_after) or a
** TIMEOUT signal carrying the wait sequence number (receive timeouts).
*/
#include "internal.h"

#include <time.h>

#define IDX_MASK ((1u << RU_TIMER_IDX_BITS) - 1)
/* A reference is gen (34 bits) | owner worker (8) | entry index (22): the
** canceller learns from the reference alone whether it owns the entry, and
** reads nothing of an entry that another worker may be recycling. */
#define OWNER_SHIFT RU_TIMER_IDX_BITS
#define GEN_SHIFT (RU_TIMER_IDX_BITS + 8)
#define GEN_MASK ((1ull << (64 - GEN_SHIFT)) - 1)
#define LOCAL_FREE_MAX 256u

int64_t ru_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ru_timers_init(rusm_runtime *rt) { (void)rt; }

void ru_timers_destroy(rusm_runtime *rt) {
  for (uint32_t i = 0; i < rt->tchunk_count; i++) free(atomic_load(&rt->tchunks[i]));
  rt->tchunk_count = 0;
  free(rt->tfree);
  rt->tfree = NULL;
}

void ru_wheel_init(ru_wheel *wh) {
  memset(wh, 0, sizeof *wh);
  wh->now = ru_now_ms();
}

static inline ru_timer *entry(rusm_runtime *rt, uint32_t idx) {
  ru_timer *c = atomic_load_explicit(&rt->tchunks[idx / RU_TIMER_CHUNK], memory_order_acquire);
  return c ? &c[idx % RU_TIMER_CHUNK] : NULL;
}

static ru_timer *timer_alloc(rusm_runtime *rt, ru_worker *w) {
  uint32_t idx;
  if (w && w->tfree_len) {
    idx = w->tfree[--w->tfree_len];
    return entry(rt, idx);
  }
  pthread_mutex_lock(&rt->timer_lock);
  if (!rt->tfree_len) {
    if (rt->tchunk_count >= RU_TIMER_MAX_CHUNKS) {
      pthread_mutex_unlock(&rt->timer_lock);
      return NULL;
    }
    ru_timer *c = calloc(RU_TIMER_CHUNK, sizeof *c);
    size_t ncap = rt->tfree_cap + RU_TIMER_CHUNK;
    uint32_t *nf = c ? realloc(rt->tfree, ncap * sizeof *nf) : NULL;
    if (!c || !nf) {
      free(c);
      pthread_mutex_unlock(&rt->timer_lock);
      return NULL;
    }
    rt->tfree = nf;
    rt->tfree_cap = ncap;
    uint32_t base = rt->tchunk_count * RU_TIMER_CHUNK;
    for (uint32_t i = 0; i < RU_TIMER_CHUNK; i++) {
      c[i].idx = base + i;
      atomic_init(&c[i].st, (uint64_t)1 << 2);
    }
    for (uint32_t i = RU_TIMER_CHUNK; i-- > 0;) rt->tfree[rt->tfree_len++] = base + i;
    atomic_store_explicit(&rt->tchunks[rt->tchunk_count], c, memory_order_release);
    rt->tchunk_count++;
  }
  idx = rt->tfree[--rt->tfree_len];
  pthread_mutex_unlock(&rt->timer_lock);
  return entry(rt, idx);
}

static void timer_free(rusm_runtime *rt, ru_worker *w, ru_timer *t) {
  uint64_t gen = ((atomic_load_explicit(&t->st, memory_order_relaxed) >> 2) + 1) & GEN_MASK;
  if (!gen) gen = 1;
  atomic_store_explicit(&t->st, gen << 2 | RU_T_FREE, memory_order_release);
  t->msg = NULL;
  if (w && !atomic_load_explicit(&rt->stopping, memory_order_relaxed)) {
    if (!w->tfree) w->tfree = malloc(LOCAL_FREE_MAX * sizeof *w->tfree);
    if (w->tfree && w->tfree_len < LOCAL_FREE_MAX) {
      w->tfree[w->tfree_len++] = t->idx;
      return;
    }
  }
  pthread_mutex_lock(&rt->timer_lock);
  rt->tfree[rt->tfree_len++] = t->idx;
  pthread_mutex_unlock(&rt->timer_lock);
}

static void wheel_insert(ru_wheel *wh, ru_timer *t) {
  if (t->deadline <= wh->now) t->deadline = wh->now + 1;
  uint32_t s = (uint32_t)(t->deadline % RU_WHEEL_SLOTS);
  t->in_wheel = true;
  t->prev = NULL;
  t->next = wh->slots[s];
  if (t->next) t->next->prev = t;
  wh->slots[s] = t;
  wh->bits[s / 64] |= 1ull << (s % 64);
  wh->count++;
}

static void wheel_unlink(ru_wheel *wh, ru_timer *t) {
  int64_t d = t->deadline;
  uint32_t s;
  if (t->prev) {
    t->prev->next = t->next;
  } else {
    /* the head of its slot: find which (deadline may have been clamped) */
    s = (uint32_t)(d % RU_WHEEL_SLOTS);
    wh->slots[s] = t->next;
    if (!t->next) wh->bits[s / 64] &= ~(1ull << (s % 64));
  }
  if (t->next) t->next->prev = t->prev;
  t->next = t->prev = NULL;
  t->in_wheel = false;
  wh->count--;
}

rusm_timer_ref ru_timer_start(rusm_runtime *rt, int kind, int64_t ms, rusm_pid to,
                              uint64_t seq, ru_msg *msg) {
  ru_worker *w = ru_worker_of(rt);
  ru_timer *t = timer_alloc(rt, w);
  if (!t) {
    ru_msg_release(w, msg);
    return 0;
  }
  t->kind = kind;
  t->in_wheel = false;
  t->to = to;
  t->seq = seq;
  t->msg = msg;
  t->deadline = ru_now_ms() + (ms < 0 ? 0 : ms);
  uint64_t gen = atomic_load_explicit(&t->st, memory_order_relaxed) >> 2;
  ru_worker *o = w ? w : rt->workers[(uint32_t)(to >> 3) % rt->nworkers];
  rusm_timer_ref ref = (gen << GEN_SHIFT) | ((uint64_t)o->idx << OWNER_SHIFT) | t->idx;
  if (w) {
    t->owner = (int)w->idx;
    atomic_store_explicit(&t->st, gen << 2 | RU_T_PENDING, memory_order_release);
    if (t->deadline <= w->wheel.now) t->deadline = w->wheel.now + 1;
    wheel_insert(&w->wheel, t);
    return ref;
  }
  t->owner = (int)o->idx;
  atomic_store_explicit(&t->st, gen << 2 | RU_T_PENDING, memory_order_release);
  pthread_mutex_lock(&o->remote_lock);
  t->next = o->remote;
  o->remote = t;
  atomic_store(&o->remote_pending, true);
  pthread_mutex_unlock(&o->remote_lock);
  ru_wake_worker(o);
  return ref;
}

bool ru_timer_cancel(rusm_runtime *rt, rusm_timer_ref ref) {
  if (!rt || !ref) return false;
  uint32_t idx = (uint32_t)(ref & IDX_MASK);
  unsigned owner = (unsigned)((ref >> OWNER_SHIFT) & 0xff);
  uint64_t gen = ref >> GEN_SHIFT;
  if (idx / RU_TIMER_CHUNK >= RU_TIMER_MAX_CHUNKS) return false;
  ru_timer *t = entry(rt, idx);
  if (!t) return false;
  uint64_t expect = gen << 2 | RU_T_PENDING;
  if (!atomic_compare_exchange_strong(&t->st, &expect, gen << 2 | RU_T_CANCELLED)) return false;
  /* the owner unlinks at once (only it frees entries, so the entry is
  ** stable for it); anyone else leaves it for the wheel to drop */
  ru_worker *w = ru_worker_of(rt);
  if (w && owner == w->idx && t->in_wheel) {
    wheel_unlink(&w->wheel, t);
    ru_msg_release(w, t->msg);
    timer_free(rt, w, t);
  }
  return true;
}

void ru_timer_remote_drain(ru_worker *w) {
  pthread_mutex_lock(&w->remote_lock);
  ru_timer *t = w->remote;
  w->remote = NULL;
  atomic_store(&w->remote_pending, false);
  pthread_mutex_unlock(&w->remote_lock);
  while (t) {
    ru_timer *n = t->next;
    if (t->deadline <= w->wheel.now) t->deadline = w->wheel.now + 1;
    wheel_insert(&w->wheel, t);
    t = n;
  }
}

static void fire(ru_worker *w, ru_timer *t) {
  rusm_runtime *rt = w->rt;
  uint64_t st = atomic_load_explicit(&t->st, memory_order_acquire);
  uint64_t gen = st >> 2;
  uint64_t expect = gen << 2 | RU_T_PENDING;
  ru_msg *m = t->msg;
  t->msg = NULL;
  if (atomic_compare_exchange_strong(&t->st, &expect, gen << 2 | RU_T_FIRED)) {
    rusm_pid to = t->to;
    if (t->kind == RU_TK_WAKE) {
      rusm_reason none = {RUSM_EXIT_NORMAL, 0, NULL};
      m = ru_msg_make(w, RU_SIG_TIMEOUT, 0, t->seq, none);
    }
    timer_free(rt, w, t);
    if (m) ru_deliver(rt, to, m);
    return;
  }
  ru_msg_release(w, m);
  timer_free(rt, w, t);
}

int64_t ru_wheel_advance(ru_worker *w) {
  ru_wheel *wh = &w->wheel;
  int64_t now = ru_now_ms();
  bool fired = false;
  if (now > wh->now && wh->count) {
    int64_t from = wh->now + 1;
    if (now - from >= RU_WHEEL_SLOTS) from = now - RU_WHEEL_SLOTS + 1;
    for (int64_t tick = from; tick <= now; tick++) {
      uint32_t s = (uint32_t)(tick % RU_WHEEL_SLOTS);
      if (!(wh->bits[s / 64] & (1ull << (s % 64)))) continue;
      ru_timer *t = wh->slots[s];
      while (t) {
        ru_timer *n = t->next;
        if (t->deadline <= now ||
            (atomic_load_explicit(&t->st, memory_order_relaxed) & 3) == RU_T_CANCELLED) {
          wheel_unlink(wh, t);
          fire(w, t);
          fired = true;
        }
        t = n;
      }
    }
  }
  if (now > wh->now) wh->now = now;
  if (fired) return 0;
  if (!wh->count) return -1;
  /* distance to the next non-empty slot: a lower bound on the next deadline */
  for (uint32_t d = 1; d <= RU_WHEEL_SLOTS; d++) {
    uint32_t s = (uint32_t)((wh->now + d) % RU_WHEEL_SLOTS);
    uint64_t word = wh->bits[s / 64] >> (s % 64);
    if (word & 1) return d;
    if (!word) d += 63 - (s % 64);   /* skip the rest of an empty word */
  }
  return RU_WHEEL_SLOTS;
}

void ru_wheel_destroy(ru_worker *w) {
  ru_wheel *wh = &w->wheel;
  for (uint32_t s = 0; s < RU_WHEEL_SLOTS; s++) {
    ru_timer *t = wh->slots[s];
    while (t) {
      ru_timer *n = t->next;
      ru_msg_release(NULL, t->msg);
      t->msg = NULL;
      t = n;
    }
    wh->slots[s] = NULL;
  }
  ru_timer *t = w->remote;
  while (t) {
    ru_timer *n = t->next;
    ru_msg_release(NULL, t->msg);
    t->msg = NULL;
    t = n;
  }
  w->remote = NULL;
  wh->count = 0;
}

/* ------------------------------------------------------------ public API */

rusm_timer_ref rusm_send_after(int64_t ms, rusm_pid to, const void *data, size_t len) {
  ru_proc *p = ru_cur_proc();
  if (!p || (len && !data)) return 0;
  ru_msg *m = ru_msg_alloc(ru_cur_worker(), len, 0);
  if (!m) return 0;
  m->from = atomic_load_explicit(&p->pid, memory_order_relaxed);
  if (len) memcpy(ru_msg_payload(m), data, len);
  return ru_timer_start(p->rt, RU_TK_SEND, ms, to, 0, m);
}

rusm_timer_ref rusm_runtime_send_after(rusm_runtime *rt, int64_t ms, rusm_pid to,
                                       const void *data, size_t len) {
  if (!rt || (len && !data)) return 0;
  ru_msg *m = ru_msg_alloc(ru_worker_of(rt), len, 0);
  if (!m) return 0;
  ru_proc *p = ru_cur_proc();
  m->from = (p && p->rt == rt) ? atomic_load_explicit(&p->pid, memory_order_relaxed) : 0;
  if (len) memcpy(ru_msg_payload(m), data, len);
  return ru_timer_start(rt, RU_TK_SEND, ms, to, 0, m);
}

bool rusm_cancel_timer(rusm_timer_ref t) {
  ru_proc *p = ru_cur_proc();
  return p ? ru_timer_cancel(p->rt, t) : false;
}

bool rusm_runtime_cancel_timer(rusm_runtime *rt, rusm_timer_ref t) {
  return ru_timer_cancel(rt, t);
}
