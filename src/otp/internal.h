/*
** internal.h -- the shared internal structures of rusm-otp: runtime, worker,
** process, signal node, timers, the epoch scheme that lets a sender touch a
** process struct without reference counting, and the small helpers every
** file of the core uses.  Nothing here is public API.
*/
#ifndef RUSM_OTP_INTERNAL_H
#define RUSM_OTP_INTERNAL_H

#include "rusm/otp.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RU_CACHELINE 64
#define RU_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RU_LIKELY(x) __builtin_expect(!!(x), 1)

static inline void ru_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

#if defined(RUSM_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(RUSM_TSAN)
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

typedef struct ru_worker ru_worker;
typedef struct ru_proc ru_proc;
typedef struct ru_timer ru_timer;

/* ------------------------------------------------------------ u64 map */

/* Open-addressing map from non-zero u64 keys to u64 values (links use it as
** a set of pids, monitors as ref -> pid).  Starts empty without allocating. */
typedef struct ru_map {
  uint64_t *keys;
  uint64_t *vals;
  uint32_t cap;   /* power of two, or 0: then up to one entry in k1/v1 */
  uint32_t len;
  uint64_t k1, v1;
} ru_map;

bool ru_map_put(ru_map *m, uint64_t k, uint64_t v);  /* false on OOM */
bool ru_map_get(const ru_map *m, uint64_t k, uint64_t *v);
bool ru_map_del(ru_map *m, uint64_t k, uint64_t *v);
void ru_map_free(ru_map *m);
/* Visits every entry: k and v are set for the body. */
#define RU_MAP_EACH(m, k, v)                                                   \
  for (uint32_t i_ = 0, n_ = (m)->cap ? (m)->cap : (m)->len; i_ < n_; i_++)    \
    for (uint64_t k = (m)->cap ? (m)->keys[i_] : (m)->k1,                       \
                  v = (m)->cap ? (m)->vals[i_] : (m)->v1, once_ = 1;           \
         once_ && k; once_ = 0)

/* ------------------------------------------------------------ signals/messages */

/* Every signal between processes, user messages included, is one node in the
** receiver's MPSC queue: that alone gives per-pair ordering. */
typedef enum ru_sig {
  RU_SIG_MSG = 0,      /* user message (public kind USER) */
  RU_SIG_EXIT_MSG,     /* an exit turned into a message (public kind EXIT) */
  RU_SIG_DOWN,         /* DOWN message (public kind DOWN) */
  RU_SIG_EXIT,         /* explicit exit signal (rusm_exit_signal) */
  RU_SIG_EXIT_LINK,    /* exit signal because a linked process ended */
  RU_SIG_LINK,
  RU_SIG_UNLINK,
  RU_SIG_MONITOR,      /* ref: from starts monitoring the receiver */
  RU_SIG_DEMONITOR,
  RU_SIG_TIMEOUT,      /* ref: wait sequence number of the receive it ends */
  RU_SIG_SUSPEND,
  RU_SIG_RESUME
} ru_sig;

struct rusm_msg {
  _Atomic(struct rusm_msg *) next;   /* MPSC link */
  struct rusm_msg *pnext;            /* private queue link, owner only */
  uint8_t sig;                       /* ru_sig */
  uint8_t cls;                       /* allocation class */
  uint16_t nres;
  uint32_t len;
  rusm_pid from;
  uint64_t ref;
  uint32_t reason_kind;              /* rusm_exit_kind for EXIT/DOWN kinds */
  uint32_t pad_;
  /* then nres resource pointers, then len payload bytes */
};
typedef struct rusm_msg ru_msg;

/* 64 bytes hold a 16-byte payload: most messages are a tag and a value */
#define RU_MSG_CLASSES 3
#define RU_MSG_CLASS0 64
#define RU_MSG_CLASS1 128
#define RU_MSG_CLASS2 320

ru_msg *ru_msg_alloc(ru_worker *w, size_t len, size_t nres);
void ru_msg_pool_destroy(rusm_runtime *rt);
void ru_msg_release(ru_worker *w, ru_msg *m);
ru_msg *ru_msg_make(ru_worker *w, ru_sig sig, rusm_pid from, uint64_t ref,
                    rusm_reason r);
static inline rusm_resource **ru_msg_res(ru_msg *m) {
  return (rusm_resource **)(void *)((char *)(m + 1));
}
static inline unsigned char *ru_msg_payload(const ru_msg *m) {
  return (unsigned char *)(uintptr_t)(m + 1) + m->nres * sizeof(rusm_resource *);
}

/* ------------------------------------------------------------ mailbox */

/* Intrusive Vyukov MPSC queue whose head carries a tag bit: a producer whose
** exchange returns a tagged head has found the process idle and must
** schedule it; the consumer sets the tag only on an empty queue (by CAS). */
typedef struct ru_mbox {
  _Alignas(RU_CACHELINE) _Atomic(uintptr_t) head;     /* producers */
  _Alignas(RU_CACHELINE) ru_msg *tail;                /* consumer */
  ru_msg stub;
} ru_mbox;

void ru_mbox_init(ru_mbox *q);
/* true if the receiver was idle (caller must schedule it) */
static inline bool ru_mbox_push(ru_mbox *q, ru_msg *m) {
  atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
  uintptr_t prev = atomic_exchange_explicit(&q->head, (uintptr_t)m, memory_order_acq_rel);
  ru_msg *p = (ru_msg *)(prev & ~(uintptr_t)1);
  atomic_store_explicit(&p->next, m, memory_order_release);
  return (prev & 1) != 0;
}
ru_msg *ru_mbox_pop(ru_mbox *q);       /* consumer; NULL if empty or in flux */
bool ru_mbox_try_idle(ru_mbox *q);     /* consumer: tag idle if empty */
bool ru_mbox_maybe_nonempty(ru_mbox *q);

/* ------------------------------------------------------------ processes */

enum { RU_BODY_HANDLER = 1, RU_BODY_CORO, RU_BODY_OTHER };

typedef struct ru_coro {
  void *sp;              /* saved context while switched out */
  void *stack;           /* ru_stack */
  rusm_coro_fn fn;
  void *arg;
  size_t len;
  int result;            /* rusm_run_result set before switching out */
#if defined(RUSM_TSAN)
  void *tsan_fiber;
#endif
} ru_coro;

typedef struct ru_handler {
  const rusm_handler_ops *ops;
  void *state;
  void *arg;
  size_t len;
  bool inited;
  bool state_inline;
} ru_handler;

struct ru_proc {
  ru_mbox mbox;
  /* everything below is touched by the owner (the worker running it) */
  _Atomic rusm_pid pid;
  rusm_runtime *rt;
  const rusm_body_vtable *vt;
  void *body;
  int body_type;
  _Atomic int status;            /* rusm_proc_status, read by info */
  /* private queue of drained messages, oldest first */
  ru_msg *q_head, *q_tail;
  _Atomic size_t q_len;
  ru_msg *mark;                  /* rusm_receive_mark: last node before it */
  bool mark_valid;
  /* wait state */
  bool waiting;
  bool wakeup;                   /* something arrived that may end the wait */
  bool timed_out;
  bool suspended;
  bool exiting;                  /* exit decided; reason below */
  _Atomic bool trap_exit;
  bool overflow;
  bool exit_req;                 /* rusm_exit called in a stackless body */
  bool init_ok;
  bool in_run;
  int64_t wait_ms;               /* from rusm_body_wait */
  uint64_t wait_seq;
  rusm_timer_ref wait_timer;
  uint32_t budget;
  _Atomic uint64_t reductions;
  _Atomic size_t body_mem;       /* coroutine: stack bytes in use, for info */
  /* exit reason */
  rusm_exit_kind reason_kind;
  uint32_t reason_len;
  void *reason_data;
  /* signals state */
  ru_map links;                  /* pid -> 1 */
  ru_map monitors;               /* ref -> target pid (we watch them) */
  ru_map watchers;               /* ref -> watcher pid (they watch us) */
  _Atomic size_t n_links, n_monitors;
  _Atomic(char *) name;          /* registered name; written under registry lock */
  rusm_pid parent;
  /* scheduling */
  ru_proc *rq_next;              /* global queue / free list / limbo */
  ru_proc *batch_next;           /* chains free-list batches in the pool */
  uint64_t retire_epoch;
  uint32_t block_size;
  union {
    ru_handler h;
    ru_coro c;
  } u;
};

#define RU_PROC_INLINE_STATE 128

/* ------------------------------------------------------------ pid table */

typedef struct ru_slot {
  _Atomic(ru_proc *) p;
  uint32_t gen;
  uint32_t pad_;
} ru_slot;

#define RU_IDX_BITS 24
#define RU_GEN_BITS 24
#define RU_IDX_MASK ((1u << RU_IDX_BITS) - 1)
#define RU_GEN_MASK ((1u << RU_GEN_BITS) - 1)

static inline rusm_pid ru_pid_make(uint32_t idx, uint32_t gen) {
  return ((uint64_t)(gen & RU_GEN_MASK) << RU_IDX_BITS) | (idx & RU_IDX_MASK);
}
static inline uint32_t ru_pid_idx(rusm_pid p) { return (uint32_t)(p & RU_IDX_MASK); }

/* ------------------------------------------------------------ run queue */

#define RU_RQ_CAP 256u
typedef struct ru_runq {
  _Alignas(RU_CACHELINE) _Atomic uint32_t head;   /* stealers and owner (CAS) */
  _Alignas(RU_CACHELINE) _Atomic uint32_t tail;   /* owner */
  _Atomic(ru_proc *) buf[RU_RQ_CAP];
} ru_runq;

bool ru_runq_push(ru_runq *q, ru_proc *p);          /* owner; false if full */
ru_proc *ru_runq_pop(ru_runq *q);                   /* owner */
uint32_t ru_runq_steal(ru_runq *victim, ru_runq *dst); /* into empty dst; returns n */
static inline uint32_t ru_runq_len(ru_runq *q) {
  uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
  uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
  return t - h;
}

/* ------------------------------------------------------------ timers */

#define RU_WHEEL_SLOTS 1024u
#define RU_TIMER_IDX_BITS 22
#define RU_TIMER_CHUNK 4096u
#define RU_TIMER_MAX_CHUNKS ((1u << RU_TIMER_IDX_BITS) / RU_TIMER_CHUNK)

enum { RU_T_FREE = 0, RU_T_PENDING, RU_T_CANCELLED, RU_T_FIRED };
enum { RU_TK_SEND = 0, RU_TK_WAKE };

struct ru_timer {
  ru_timer *next, *prev;        /* wheel slot list (owner worker) */
  _Atomic uint64_t st;          /* gen << 2 | state */
  uint32_t idx;
  int owner;                    /* worker index whose wheel holds it, -1 none */
  int kind;
  bool in_wheel;                /* owner only */
  int64_t deadline;             /* ms, monotonic */
  rusm_pid to;
  uint64_t seq;                 /* RU_TK_WAKE */
  ru_msg *msg;                  /* RU_TK_SEND */
};

typedef struct ru_wheel {
  ru_timer *slots[RU_WHEEL_SLOTS];
  uint64_t bits[RU_WHEEL_SLOTS / 64];
  int64_t now;                  /* last processed tick (ms) */
  size_t count;
} ru_wheel;

int64_t ru_now_ms(void);
void ru_timers_init(rusm_runtime *rt);
void ru_timers_destroy(rusm_runtime *rt);
void ru_wheel_init(ru_wheel *wh);
/* worker: fires what is due; returns ms until the next possible deadline or -1 */
int64_t ru_wheel_advance(ru_worker *w);
void ru_timer_remote_drain(ru_worker *w);
rusm_timer_ref ru_timer_start(rusm_runtime *rt, int kind, int64_t ms, rusm_pid to,
                              uint64_t seq, ru_msg *msg);
bool ru_timer_cancel(rusm_runtime *rt, rusm_timer_ref ref);
bool rusm_runtime_cancel_timer(rusm_runtime *rt, rusm_timer_ref t);
void ru_wheel_destroy(ru_worker *w);

/* ------------------------------------------------------------ worker */

struct ru_worker {
  rusm_runtime *rt;
  unsigned idx;
  pthread_t thread;
  ru_runq rq;
  ru_proc *next_slot;
  ru_proc *ovf_head, *ovf_tail;  /* owner-only FIFO behind a full ring */
  _Atomic size_t ovf_len;
  unsigned next_streak;
  uint64_t tick;
  uint32_t rng;
  /* epoch-based reclamation */
  _Alignas(RU_CACHELINE) _Atomic uint64_t epoch;   /* 0 = offline */
  ru_proc *limbo_head, *limbo_tail;
  size_t limbo_len;
  uint64_t limbo_head_epoch;     /* retire epoch of limbo_head (no miss on it) */
  /* parking */
  _Atomic uint32_t park_word;
  bool parked;
  /* caches (owner only) */
  ru_proc *proc_free;
  size_t proc_free_len;
  ru_msg *msg_free[RU_MSG_CLASSES];
  size_t msg_free_len[RU_MSG_CLASSES];
  void *stack_free;
  size_t stack_free_len;
  uint32_t *tfree;              /* free timer indices */
  size_t tfree_len;
  uint64_t mon_counter;
  uint32_t idx_cache[64];       /* free pid-table indices for spawning */
  unsigned idx_n;
  uint32_t idx_freed[64];       /* freed indices, returned in batches */
  unsigned idx_fn;
  /* counters, written by owner, read by anyone */
  _Atomic uint64_t spawned, exited;
  _Atomic uint64_t idle_ns;       /* time parked, for utilisation */
  _Atomic uint64_t steals;
  uint64_t stat_idle_last;       /* under park_lock, by rusm_worker_stats_get */
  int64_t t_last_ns;
  /* timers */
  ru_wheel wheel;
  pthread_mutex_t remote_lock;
  ru_timer *remote;             /* inserted by foreign threads */
  _Atomic bool remote_pending;
  /* context of the scheduler loop while a coroutine runs */
  void *sched_sp;
  ru_proc *cur;
  void *altstack;
#if defined(RUSM_TSAN)
  void *tsan_fiber;
#endif
#if defined(RUSM_ASAN)
  const void *asan_stack_bottom;
  size_t asan_stack_size;
#endif
};

/* ------------------------------------------------------------ runtime */

struct rusm_runtime {
  unsigned nworkers;
  uint32_t reductions;
  size_t stack_size;
  uint32_t max_procs;
  ru_worker **workers;
  _Atomic bool stopping;
  /* pid table */
  ru_slot *slots;
  size_t slots_bytes;
  _Atomic uint32_t slot_bump;
  pthread_mutex_t slot_lock;    /* guards the free index ring */
  uint32_t *slot_ring;
  uint32_t ring_head, ring_tail; /* free-running counters */
  uint32_t ring_cap;             /* power of two; grows with the free count */
  /* epochs */
  _Alignas(RU_CACHELINE) _Atomic uint64_t epoch;
  _Atomic int foreign_active;
  /* global inject queue */
  _Alignas(RU_CACHELINE) pthread_mutex_t inject_lock;
  ru_proc *inject_head, *inject_tail;
  _Atomic size_t inject_len;
  /* parking */
  pthread_mutex_t park_lock;
  unsigned *idle_stack;
  unsigned n_idle;
  /* idle waiters */
  pthread_mutex_t idle_lock;
  pthread_cond_t idle_cond;
  _Atomic int idle_waiters;
  _Atomic uint64_t foreign_spawned;
  /* timers */
  pthread_mutex_t timer_lock;
  _Atomic(ru_timer *) tchunks[RU_TIMER_MAX_CHUNKS];
  uint32_t tchunk_count;
  uint32_t *tfree;              /* global free timer index stack */
  size_t tfree_len, tfree_cap;
  /* registry */
  pthread_rwlock_t reg_lock;
  struct ru_regent **reg;
  size_t reg_cap, reg_len;
  /* foreign monitor refs */
  _Atomic uint64_t mon_foreign;
  /* process blocks and message nodes moving between workers' caches, in
  ** batches (a sender's worker allocates, the receiver's frees) */
  pthread_mutex_t pool_lock;
  ru_proc *pool_batches;
  _Atomic size_t pool_count;    /* peeked without the lock */
  ru_msg *msg_pool[RU_MSG_CLASSES];
  _Atomic size_t msg_pool_count[RU_MSG_CLASSES];
  /* parking counter on its own line: read by every local push */
  _Alignas(RU_CACHELINE) _Atomic unsigned nparked_hot;
  /* stack pool overflow (cold) */
  pthread_mutex_t stack_lock;
  void *stack_cold;
  size_t stack_unguarded;
  size_t stack_guarded;
  size_t guard_budget;          /* guarded stacks allowed (kernel map count) */
  char *chunk;                  /* carving unguarded stacks from a big mapping */
  size_t chunk_left;
};

/* ------------------------------------------------------------ thread-local */

ru_worker *ru_cur_worker(void);
ru_proc *ru_cur_proc(void);
void ru_set_cur(ru_worker *w, ru_proc *p);
/* Worker of rt for the calling thread, or NULL if foreign. */
static inline ru_worker *ru_worker_of(rusm_runtime *rt) {
  ru_worker *w = ru_cur_worker();
  return (w && w->rt == rt) ? w : NULL;
}

/* ------------------------------------------------------------ epochs */

void ru_foreign_enter(rusm_runtime *rt);
void ru_foreign_leave(rusm_runtime *rt);
void ru_epoch_quiescent(ru_worker *w);
void ru_retire(ru_worker *w, ru_proc *p);
void ru_reclaim(ru_worker *w, bool force);

/* ------------------------------------------------------------ scheduler */

void ru_schedule(rusm_runtime *rt, ru_proc *p);     /* p became runnable */
void ru_sched_enqueue_new(ru_worker *w, rusm_runtime *rt, ru_proc *p);
void ru_sched_spawned(ru_worker *w, rusm_runtime *rt, ru_proc *p);
void ru_wake_one(rusm_runtime *rt);
void ru_wake_worker(ru_worker *w);
void ru_idle_check(rusm_runtime *rt);

/* ------------------------------------------------------------ proc core */

ru_proc *ru_lookup(rusm_runtime *rt, rusm_pid pid);    /* in a critical section */
/* Pushes sig into pid's queue; false if pid is not alive. */
bool ru_deliver(rusm_runtime *rt, rusm_pid to, ru_msg *m);
bool ru_send_sig(rusm_runtime *rt, rusm_pid to, ru_sig sig, rusm_pid from,
                 uint64_t ref, rusm_reason r);
void ru_drain(ru_proc *p);          /* owner: inbox -> private queue, signals */
void ru_dead_drain(ru_worker *w, rusm_runtime *rt, ru_proc *p);
void ru_proc_exit(ru_worker *w, ru_proc *p);
void ru_proc_free_all(rusm_runtime *rt, ru_proc *p);
void ru_proc_set_reason(ru_proc *p, rusm_reason r);
rusm_reason ru_proc_reason(const ru_proc *p);
void ru_run_proc(ru_worker *w, ru_proc *p);
void ru_wait_clear(ru_proc *p);
ru_msg *ru_q_scan(ru_proc *p, rusm_match_fn match, void *ctx);
rusm_pid ru_spawn(rusm_runtime *rt, int type, const void *a, const void *b,
                  size_t len, const rusm_spawn_opts *opts, void *body);
ru_proc *ru_proc_alloc(ru_worker *w, size_t extra);
void ru_proc_block_free(ru_worker *w, ru_proc *p);
void ru_pidtab_release(rusm_runtime *rt, uint32_t idx);
void ru_pidtab_worker_flush(ru_worker *w);
uint64_t ru_new_ref(rusm_runtime *rt);
void ru_unregister_proc(rusm_runtime *rt, ru_proc *p);
void ru_registry_destroy(rusm_runtime *rt);
/* Signal handling on the receiver side (signal.c). */
void ru_handle_signal(ru_proc *p, ru_msg *m);
void ru_exit_notify(ru_worker *w, ru_proc *p);
/* Private queue helpers (receive.c). */
void ru_q_append(ru_proc *p, ru_msg *m);
void ru_q_free_all(ru_worker *w, ru_proc *p);

/* ------------------------------------------------------------ bodies */

extern const rusm_body_vtable ru_handler_vt;
extern const rusm_body_vtable ru_coro_vt;
void ru_coro_release(ru_worker *w, ru_proc *p);
void ru_coro_switch_out(ru_proc *p, int result);  /* in a coroutine */

/* ------------------------------------------------------------ stacks & context */

void *ru_stack_get(ru_worker *w, rusm_runtime *rt);
void ru_stack_put(ru_worker *w, rusm_runtime *rt, void *stack);
void *ru_stack_top(void *stack);
void *ru_stack_base(void *stack);      /* lowest usable byte */
size_t ru_stack_size(void *stack);
bool ru_stack_in_guard(void *stack, const void *addr);
void ru_stack_pool_destroy(rusm_runtime *rt);
void ru_stack_worker_destroy(ru_worker *w);
void ru_segv_install(void);
void ru_altstack_setup(ru_worker *w);
void ru_altstack_teardown(ru_worker *w);

void ru_ctx_switch(void **save_sp, void *new_sp);
void ru_ctx_jump(void *new_sp) __attribute__((noreturn));
void *ru_ctx_init(void *stack_top, void (*entry)(void *), void *arg);

#endif
