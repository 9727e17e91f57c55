/*
** stack.c -- coroutine stacks: reservation with a guard page below each
** stack, pooling (a small hot cache per worker, a cold list per runtime whose
** pages are returned to the kernel), the initial context of a new coroutine,
** and the SIGSEGV handler that turns a guard-page fault into the death of
** the one process that overflowed.
**
** A stack is reserved with mmap and committed lazily by the kernel on first
** touch, so an idle coroutine costs the pages it actually used.  Each guard
** splits a kernel mapping, and the kernel caps mappings per process
** (vm.max_map_count, 65530 by default): a runtime guards at most a quarter
** of that budget's worth of stacks, and carves further stacks, unguarded,
** out of large shared mappings, so 100,000 coroutines do not exhaust the
** map count (which would make malloc fail).  rt->stack_unguarded counts them.
*/
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Valgrind is told which regions are stacks (the macros cost a few
** instructions and do nothing outside it); without this every coroutine
** frame looks like an invalid access to it. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && !defined(RUSM_SANITIZER)
#include <valgrind/valgrind.h>
#define RU_HAVE_VALGRIND 1
#endif
#endif

#define RU_GUARD_SIZE (64u * 1024u)
#define RU_STACK_HOT_MAX 16u

typedef struct ru_stack {
  char *map;          /* start of the mapping (guard first) */
  size_t map_len;
  size_t size;        /* usable bytes above the guard */
  bool guarded;
  unsigned vg_id;     /* valgrind stack id */
  struct ru_stack *next;
} ru_stack;

static size_t page_size(void) {
  static _Atomic size_t ps;
  size_t v = atomic_load_explicit(&ps, memory_order_relaxed);
  if (!v) {
    v = (size_t)sysconf(_SC_PAGESIZE);
    atomic_store_explicit(&ps, v, memory_order_relaxed);
  }
  return v;
}

/* The header lives at the very top of the usable area, so a stack costs no
** separate allocation and its top page (touched anyway) holds it. */
static ru_stack *hdr_of(char *map, size_t map_len) {
  return (ru_stack *)(void *)(map + map_len - sizeof(ru_stack));
}

void *ru_stack_top(void *stack) {
  uintptr_t t = (uintptr_t)stack;
  return (void *)(t & ~(uintptr_t)63);
}
void *ru_stack_base(void *stack) {
  ru_stack *s = stack;
  return s->map + (s->map_len - s->size);
}
size_t ru_stack_size(void *stack) {
  ru_stack *s = stack;
  return s->size - sizeof(ru_stack);
}
bool ru_stack_in_guard(void *stack, const void *addr) {
  ru_stack *s = stack;
  const char *a = addr;
  return s->guarded && a >= s->map && a < s->map + (s->map_len - s->size);
}

#define RU_CHUNK_STACKS 64u

static size_t guard_budget(void) {
#if defined(RUSM_TSAN)
  /* TSan needs the map count for itself, and overflow detection is off */
  return 0;
#endif
  long mmc = 65530;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (f) {
    if (fscanf(f, "%ld", &mmc) != 1) mmc = 65530;
    fclose(f);
  }
  return mmc > 8192 ? (size_t)(mmc - 4096) / 4 : 1024;
}

static ru_stack *stack_new(rusm_runtime *rt) {
  size_t ps = page_size();
  size_t size = (rt->stack_size + ps - 1) & ~(ps - 1);
  size_t guard = RU_GUARD_SIZE;
  size_t len = size + guard;
  char *map = NULL;
  bool guarded = false;
  pthread_mutex_lock(&rt->stack_lock);
  if (!rt->guard_budget) rt->guard_budget = guard_budget();
  bool want_guard = rt->stack_guarded < rt->guard_budget;
  if (want_guard) rt->stack_guarded++;
  if (!want_guard) {
    /* unguarded: a slice of a shared mapping (one kernel map per 64) */
    if (rt->chunk_left < len) {
      char *c = mmap(NULL, len * RU_CHUNK_STACKS, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
      if (c != MAP_FAILED) {
        rt->chunk = c;
        rt->chunk_left = len * RU_CHUNK_STACKS;
      }
    }
    if (rt->chunk_left >= len) {
      map = rt->chunk;
      rt->chunk += len;
      rt->chunk_left -= len;
      rt->stack_unguarded++;
    }
  }
  pthread_mutex_unlock(&rt->stack_lock);
  if (want_guard) {
    map = mmap(NULL, len, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) return NULL;
    guarded = mprotect(map, guard, PROT_NONE) == 0;
    if (!guarded) {
      pthread_mutex_lock(&rt->stack_lock);
      rt->stack_unguarded++;
      pthread_mutex_unlock(&rt->stack_lock);
    }
  }
  if (!map) return NULL;
  ru_stack *s = hdr_of(map, len);
  s->map = map;
  s->map_len = len;
  s->size = size;
  s->guarded = guarded;
  s->next = NULL;
  s->vg_id = 0;
#if defined(RU_HAVE_VALGRIND)
  s->vg_id = VALGRIND_STACK_REGISTER(map + (len - size), (char *)s);
#endif
  return s;
}

static void stack_unmap(ru_stack *s) {
  char *map = s->map;
  size_t len = s->map_len;
#if defined(RU_HAVE_VALGRIND)
  VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
  munmap(map, len);
}

void *ru_stack_get(ru_worker *w, rusm_runtime *rt) {
  ru_stack *s = NULL;
  if (w && w->stack_free) {
    s = w->stack_free;
    w->stack_free = s->next;
    w->stack_free_len--;
  } else {
    pthread_mutex_lock(&rt->stack_lock);
    s = rt->stack_cold;
    if (s) rt->stack_cold = s->next;
    pthread_mutex_unlock(&rt->stack_lock);
    if (!s) s = stack_new(rt);
  }
  if (s) s->next = NULL;
  return s;
}

void ru_stack_put(ru_worker *w, rusm_runtime *rt, void *stack) {
  ru_stack *s = stack;
#if defined(RUSM_ASAN)
  /* frames abandoned by a killed coroutine leave poisoned redzones */
  __asan_unpoison_memory_region(ru_stack_base(s), ru_stack_size(s));
#endif
  if (w && w->stack_free_len < RU_STACK_HOT_MAX) {
    s->next = w->stack_free;
    w->stack_free = s;
    w->stack_free_len++;
    return;
  }
  /* Cold: give the used pages back, keep the reservation (and the header
  ** page) so a later spawn does not pay for mmap + mprotect again. */
  size_t ps = page_size();
  char *base = ru_stack_base(s);
  size_t keep = ps;
  if (s->size > keep) madvise(base, s->size - keep, MADV_DONTNEED);
  pthread_mutex_lock(&rt->stack_lock);
  s->next = rt->stack_cold;
  rt->stack_cold = s;
  pthread_mutex_unlock(&rt->stack_lock);
}

void ru_stack_worker_destroy(ru_worker *w) {
  ru_stack *s = w->stack_free;
  while (s) {
    ru_stack *n = s->next;
    stack_unmap(s);
    s = n;
  }
  w->stack_free = NULL;
  w->stack_free_len = 0;
}

void ru_stack_pool_destroy(rusm_runtime *rt) {
  ru_stack *s = rt->stack_cold;
  while (s) {
    ru_stack *n = s->next;
    stack_unmap(s);
    s = n;
  }
  rt->stack_cold = NULL;
  /* the part of the last shared mapping no stack was carved from */
  if (rt->chunk_left) munmap(rt->chunk, rt->chunk_left);
  rt->chunk_left = 0;
}

extern void ru_ctx_trampoline(void);

void *ru_ctx_init(void *stack_top, void (*entry)(void *), void *arg) {
  uintptr_t top = ((uintptr_t)stack_top) & ~(uintptr_t)15;
#if defined(__x86_64__)
  /* after six pops and the ret into the trampoline, rsp must be 16-aligned
  ** so that the trampoline's call gives entry a conforming frame */
  uint64_t *sp = (uint64_t *)(top - 72);
  sp[0] = 0;                          /* r15 */
  sp[1] = 0;                          /* r14 */
  sp[2] = 0;                          /* r13 */
  sp[3] = (uint64_t)(uintptr_t)entry; /* r12 */
  sp[4] = (uint64_t)(uintptr_t)arg;   /* rbx */
  sp[5] = 0;                          /* rbp */
  sp[6] = (uint64_t)(uintptr_t)ru_ctx_trampoline;
  sp[7] = 0;
  sp[8] = 0;
  return sp;
#elif defined(__aarch64__)
  uint64_t *sp = (uint64_t *)(top - 176);
  memset(sp, 0, 176);
  sp[0] = (uint64_t)(uintptr_t)arg;   /* x19 */
  sp[1] = (uint64_t)(uintptr_t)entry; /* x20 */
  sp[11] = (uint64_t)(uintptr_t)ru_ctx_trampoline; /* x30 */
  return sp;
#else
#error "rusm-otp: no context switch for this architecture"
#endif
}

/* ------------------------------------------------------------ guard faults */

static struct sigaction old_segv;

static void segv_handler(int sig, siginfo_t *si, void *uc) {
  ru_worker *w = ru_cur_worker();
  ru_proc *p = w ? w->cur : NULL;
  if (p && p->body_type == RU_BODY_CORO && p->u.c.stack && w->sched_sp &&
      ru_stack_in_guard(p->u.c.stack, si->si_addr)) {
    /* The faulting context is abandoned: the scheduler resumes as if the
    ** coroutine had switched out with EXIT.  SA_NODEFER keeps SIGSEGV
    ** unblocked, since this handler never returns. */
    p->overflow = true;
    p->u.c.result = RUSM_RUN_EXIT;
    ru_ctx_jump(w->sched_sp);
  }
  if (old_segv.sa_flags & SA_SIGINFO) {
    if (old_segv.sa_sigaction) {
      old_segv.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
    old_segv.sa_handler(sig);
    return;
  }
  /* not ours: default action on return (the fault repeats) */
  signal(SIGSEGV, SIG_DFL);
}

static pthread_once_t segv_once = PTHREAD_ONCE_INIT;

static void segv_install_once(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
}

void ru_segv_install(void) {
#if !defined(RUSM_SANITIZER)
  /* sanitizers own SIGSEGV; overflow detection is for the normal build */
  pthread_once(&segv_once, segv_install_once);
#else
  (void)segv_install_once;
  (void)segv_once;
#endif
}

#define RU_ALTSTACK_SIZE (64u * 1024u)

void ru_altstack_setup(ru_worker *w) {
#if !defined(RUSM_SANITIZER)
  void *m = mmap(NULL, RU_ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return;
  stack_t ss;
  ss.ss_sp = m;
  ss.ss_size = RU_ALTSTACK_SIZE;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) {
    munmap(m, RU_ALTSTACK_SIZE);
    return;
  }
  w->altstack = m;
#else
  (void)w;
#endif
}

void ru_altstack_teardown(ru_worker *w) {
  if (!w->altstack) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(w->altstack, RU_ALTSTACK_SIZE);
  w->altstack = NULL;
}
