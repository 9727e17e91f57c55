/*
** pidtab.c -- the pid table: pid -> process in one array access.  A pid is
** generation (24 bits) | index (24 bits); the upper 16 bits, the node id, are
** 0 for local processes.  Freed indices go to a FIFO ring and are handed out
** again only once RU_REUSE_DISTANCE other indices have been freed since, so a
** given pid value comes back only after ~2^16 * 2^24 spawns.  Workers move
** indices in batches to keep the lock off the spawn path.  The table is
** reserved with mmap and committed as it is used; the ring is a growable
** array sized by how many indices are free, so cycling through it does not
** touch ever more memory.
*/
#include "internal.h"

#include <sys/mman.h>

#define RU_REUSE_DISTANCE 65536u
#define RU_IDX_BATCH 32u

void ru_pidtab_init(rusm_runtime *rt) {
  size_t n = rt->max_procs;
  rt->slots_bytes = n * sizeof(ru_slot);
  void *m = mmap(NULL, rt->slots_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    rt->slots = NULL;
    return;
  }
  rt->slots = m;
  rt->ring_cap = 1024;
  rt->slot_ring = malloc(rt->ring_cap * sizeof(uint32_t));
  if (!rt->slot_ring) {
    munmap(m, rt->slots_bytes);
    rt->slots = NULL;
    return;
  }
  /* generations start at 1, so no pid is ever 0 */
  atomic_init(&rt->slot_bump, 0);
}

void ru_pidtab_destroy(rusm_runtime *rt) {
  if (rt->slots) munmap(rt->slots, rt->slots_bytes);
  rt->slots = NULL;
  free(rt->slot_ring);
  rt->slot_ring = NULL;
}

/* Called with slot_lock held: takes up to n indices into out. */
static unsigned take_locked(rusm_runtime *rt, uint32_t *out, unsigned n) {
  unsigned got = 0;
  uint32_t cap = rt->max_procs;
  uint32_t mask = rt->ring_cap - 1;
  while (got < n) {
    uint32_t queued = rt->ring_tail - rt->ring_head;
    uint32_t bump = atomic_load_explicit(&rt->slot_bump, memory_order_relaxed);
    if (queued > RU_REUSE_DISTANCE || (bump >= cap && queued)) {
      out[got++] = rt->slot_ring[rt->ring_head++ & mask];
    } else if (bump < cap) {
      rt->slots[bump].gen = 1;
      atomic_store_explicit(&rt->slot_bump, bump + 1, memory_order_release);
      out[got++] = bump;
    } else {
      break;
    }
  }
  return got;
}

static void give_locked(rusm_runtime *rt, const uint32_t *in, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (rt->ring_tail - rt->ring_head == rt->ring_cap) {
      /* full: double, unwrapping the live span to the start */
      uint32_t ncap = rt->ring_cap * 2;
      uint32_t *nr = malloc(ncap * sizeof *nr);
      if (!nr) continue;   /* the index is lost to reuse, nothing worse */
      uint32_t len = rt->ring_tail - rt->ring_head;
      for (uint32_t k = 0; k < len; k++)
        nr[k] = rt->slot_ring[(rt->ring_head + k) & (rt->ring_cap - 1)];
      free(rt->slot_ring);
      rt->slot_ring = nr;
      rt->ring_cap = ncap;
      rt->ring_head = 0;
      rt->ring_tail = len;
    }
    rt->slot_ring[rt->ring_tail++ & (rt->ring_cap - 1)] = in[i];
  }
}

/* Returns an index, or UINT32_MAX if the table is full. */
uint32_t ru_pidtab_alloc(rusm_runtime *rt, ru_worker *w) {
  if (w) {
    if (!w->idx_n) {
      /* recycle our own freed batch first: no lock, and still FIFO-ish
      ** only if the ring is long, so go through the ring */
      pthread_mutex_lock(&rt->slot_lock);
      if (w->idx_fn) {
        give_locked(rt, w->idx_freed, w->idx_fn);
        w->idx_fn = 0;
      }
      /* a small table is not hoarded by one worker's cache */
      unsigned batch = rt->max_procs / (4 * rt->nworkers);
      if (batch > RU_IDX_BATCH) batch = RU_IDX_BATCH;
      if (batch < 1) batch = 1;
      w->idx_n = take_locked(rt, w->idx_cache, batch);
      pthread_mutex_unlock(&rt->slot_lock);
      if (!w->idx_n) return UINT32_MAX;
      /* hand out in the order taken */
      for (unsigned i = 0; i < w->idx_n / 2; i++) {
        uint32_t t = w->idx_cache[i];
        w->idx_cache[i] = w->idx_cache[w->idx_n - 1 - i];
        w->idx_cache[w->idx_n - 1 - i] = t;
      }
    }
    return w->idx_cache[--w->idx_n];
  }
  uint32_t idx;
  pthread_mutex_lock(&rt->slot_lock);
  unsigned got = take_locked(rt, &idx, 1);
  pthread_mutex_unlock(&rt->slot_lock);
  return got ? idx : UINT32_MAX;
}

void ru_pidtab_release(rusm_runtime *rt, uint32_t idx) {
  rt->slots[idx].gen = (rt->slots[idx].gen + 1) & RU_GEN_MASK;
  if (!rt->slots[idx].gen) rt->slots[idx].gen = 1;
  ru_worker *w = ru_worker_of(rt);
  if (w && !atomic_load_explicit(&rt->stopping, memory_order_relaxed)) {
    w->idx_freed[w->idx_fn++] = idx;
    if (w->idx_fn == 64) {
      pthread_mutex_lock(&rt->slot_lock);
      give_locked(rt, w->idx_freed, w->idx_fn);
      pthread_mutex_unlock(&rt->slot_lock);
      w->idx_fn = 0;
    }
    return;
  }
  pthread_mutex_lock(&rt->slot_lock);
  give_locked(rt, &idx, 1);
  pthread_mutex_unlock(&rt->slot_lock);
}

/* An idle worker hands its freed indices back, so that spawns from other
** threads can use them. */
void ru_pidtab_worker_flush(ru_worker *w) {
  if (!w->idx_fn) return;
  rusm_runtime *rt = w->rt;
  pthread_mutex_lock(&rt->slot_lock);
  give_locked(rt, w->idx_freed, w->idx_fn);
  w->idx_fn = 0;
  pthread_mutex_unlock(&rt->slot_lock);
}

ru_proc *ru_lookup(rusm_runtime *rt, rusm_pid pid) {
  if (RU_UNLIKELY(!pid || (pid >> (RU_IDX_BITS + RU_GEN_BITS)))) return NULL;
  uint32_t idx = ru_pid_idx(pid);
  if (RU_UNLIKELY(idx >= atomic_load_explicit(&rt->slot_bump, memory_order_acquire))) return NULL;
  ru_proc *p = atomic_load_explicit(&rt->slots[idx].p, memory_order_acquire);
  if (!p || atomic_load_explicit(&p->pid, memory_order_relaxed) != pid) return NULL;
  return p;
}
