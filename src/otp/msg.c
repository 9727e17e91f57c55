/*
** msg.c -- message and signal nodes: allocation (one block holding header,
** resource pointers and payload; two size classes recycled through per-
** worker free lists, so a small message costs no malloc in steady state),
** the public accessors of rusm_msg, resources and exit reasons.
*/
#include "internal.h"

#include <stdio.h>

#define RU_MSG_CACHE_MAX 4096u
#define RU_MSG_BATCH 1024u
#define RU_MSG_POOL_MAX 16u

static const size_t class_size[RU_MSG_CLASSES] = {RU_MSG_CLASS0, RU_MSG_CLASS1,
                                                   RU_MSG_CLASS2};

/* A batch is a free list of RU_MSG_BATCH nodes linked by pnext; batches are
** chained through their first node's MPSC link, unused while free. */
static void pool_put(rusm_runtime *rt, uint8_t cls, ru_msg *head) {
  pthread_mutex_lock(&rt->pool_lock);
  if (rt->msg_pool_count[cls] < RU_MSG_POOL_MAX) {
    atomic_store_explicit(&head->next, rt->msg_pool[cls], memory_order_relaxed);
    rt->msg_pool[cls] = head;
    rt->msg_pool_count[cls]++;
    head = NULL;
  }
  pthread_mutex_unlock(&rt->pool_lock);
  while (head) {
    ru_msg *n = head->pnext;
    free(head);
    head = n;
  }
}

static ru_msg *pool_get(rusm_runtime *rt, uint8_t cls) {
  pthread_mutex_lock(&rt->pool_lock);
  ru_msg *b = rt->msg_pool[cls];
  if (b) {
    rt->msg_pool[cls] = atomic_load_explicit(&b->next, memory_order_relaxed);
    rt->msg_pool_count[cls]--;
  }
  pthread_mutex_unlock(&rt->pool_lock);
  return b;
}

void ru_msg_pool_destroy(rusm_runtime *rt) {
  for (int c = 0; c < RU_MSG_CLASSES; c++) {
    ru_msg *b;
    while ((b = rt->msg_pool[c])) {
      rt->msg_pool[c] = atomic_load_explicit(&b->next, memory_order_relaxed);
      while (b) {
        ru_msg *n = b->pnext;
        free(b);
        b = n;
      }
    }
  }
}

ru_msg *ru_msg_alloc(ru_worker *w, size_t len, size_t nres) {
  if (len > UINT32_MAX || nres > UINT16_MAX) return NULL;
  size_t need = sizeof(ru_msg) + nres * sizeof(rusm_resource *) + len;
  ru_msg *m = NULL;
  uint8_t cls = need <= RU_MSG_CLASS0   ? 0
                : need <= RU_MSG_CLASS1 ? 1
                : need <= RU_MSG_CLASS2 ? 2
                                        : 0xff;
  if (cls != 0xff) {
    if (w) {
      if (RU_UNLIKELY(!w->msg_free[cls]) &&
          atomic_load_explicit(&w->rt->msg_pool_count[cls], memory_order_relaxed)) {
        ru_msg *b = pool_get(w->rt, cls);
        if (b) {
          w->msg_free[cls] = b;
          w->msg_free_len[cls] = RU_MSG_BATCH;
        }
      }
      m = w->msg_free[cls];
      if (m) {
        w->msg_free[cls] = m->pnext;
        w->msg_free_len[cls]--;
      }
    }
    if (!m) m = malloc(class_size[cls]);
  } else {
    m = malloc(need);
  }
  if (!m) return NULL;
  m->pnext = NULL;
  m->sig = RU_SIG_MSG;
  m->cls = cls;
  m->nres = (uint16_t)nres;
  m->len = (uint32_t)len;
  m->from = 0;
  m->ref = 0;
  m->reason_kind = 0;
  return m;
}

void ru_msg_release(ru_worker *w, ru_msg *m) {
  if (!m) return;
  for (uint16_t i = 0; i < m->nres; i++) rusm_resource_unref(ru_msg_res(m)[i]);
  uint8_t cls = m->cls;
  if (cls == 0xff || !w) {
    free(m);
    return;
  }
  m->pnext = w->msg_free[cls];
  w->msg_free[cls] = m;
  if (RU_UNLIKELY(++w->msg_free_len[cls] >= RU_MSG_CACHE_MAX)) {
    ru_msg *head = w->msg_free[cls], *last = head;
    for (unsigned i = 1; i < RU_MSG_BATCH; i++) last = last->pnext;
    w->msg_free[cls] = last->pnext;
    last->pnext = NULL;
    w->msg_free_len[cls] -= RU_MSG_BATCH;
    pool_put(w->rt, cls, head);
  }
}

ru_msg *ru_msg_make(ru_worker *w, ru_sig sig, rusm_pid from, uint64_t ref,
                    rusm_reason r) {
  size_t len = (r.data && r.len) ? r.len : 0;
  ru_msg *m = ru_msg_alloc(w, len, 0);
  if (!m) return NULL;
  m->sig = (uint8_t)sig;
  m->from = from;
  m->ref = ref;
  m->reason_kind = (uint32_t)r.kind;
  if (len) memcpy(ru_msg_payload(m), r.data, len);
  return m;
}

/* ------------------------------------------------------------ public accessors */

rusm_msg_kind rusm_msg_kind_of(const rusm_msg *m) {
  if (!m) return RUSM_MSG_USER;
  switch (m->sig) {
    case RU_SIG_EXIT_MSG: return RUSM_MSG_EXIT;
    case RU_SIG_DOWN: return RUSM_MSG_DOWN;
    default: return RUSM_MSG_USER;
  }
}
rusm_pid rusm_msg_sender(const rusm_msg *m) { return m ? m->from : 0; }
const void *rusm_msg_data(const rusm_msg *m) { return m ? ru_msg_payload(m) : NULL; }
size_t rusm_msg_size(const rusm_msg *m) { return m ? m->len : 0; }
size_t rusm_msg_resource_count(const rusm_msg *m) { return m ? m->nres : 0; }
rusm_resource *rusm_msg_resource(const rusm_msg *m, size_t i) {
  if (!m || i >= m->nres) return NULL;
  return ru_msg_res((ru_msg *)m)[i];
}
rusm_reason rusm_msg_reason(const rusm_msg *m) {
  rusm_reason r = {RUSM_EXIT_NORMAL, 0, NULL};
  if (!m || (m->sig != RU_SIG_EXIT_MSG && m->sig != RU_SIG_DOWN)) return r;
  r.kind = (rusm_exit_kind)m->reason_kind;
  r.len = m->len;
  r.data = m->len ? ru_msg_payload(m) : NULL;
  return r;
}
uint64_t rusm_msg_monitor_ref(const rusm_msg *m) {
  return (m && m->sig == RU_SIG_DOWN) ? m->ref : 0;
}
void rusm_msg_free(rusm_msg *m) { ru_msg_release(ru_cur_worker(), m); }

/* ------------------------------------------------------------ resources */

struct rusm_resource {
  _Atomic size_t refs;
  void *ptr;
  void (*dtor)(void *);
};

rusm_resource *rusm_resource_new(void *ptr, void (*dtor)(void *ptr)) {
  rusm_resource *r = malloc(sizeof *r);
  if (!r) return NULL;
  atomic_init(&r->refs, 1);
  r->ptr = ptr;
  r->dtor = dtor;
  return r;
}
rusm_resource *rusm_resource_ref(rusm_resource *r) {
  if (r) atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
  return r;
}
void rusm_resource_unref(rusm_resource *r) {
  if (!r) return;
  if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
    if (r->dtor) r->dtor(r->ptr);
    free(r);
  }
}
void *rusm_resource_ptr(const rusm_resource *r) { return r ? r->ptr : NULL; }

/* ------------------------------------------------------------ reasons */

rusm_reason rusm_reason_str(const char *s) {
  rusm_reason r = {RUSM_EXIT_USER, 0, s};
  if (s) r.len = (uint32_t)strlen(s);
  return r;
}

const char *rusm_reason_format(rusm_reason r, char *buf, size_t size) {
  if (!buf || !size) return buf;
  static const char *const names[] = {"normal", "kill", "killed", "noproc",
                                      "shutdown", "timeout", "user"};
  if (r.kind != RUSM_EXIT_USER) {
    const char *n = (unsigned)r.kind < 7 ? names[r.kind] : "unknown";
    if (r.len && r.data)
      snprintf(buf, size, "%s:%.*s", n, (int)r.len, (const char *)r.data);
    else
      snprintf(buf, size, "%s", n);
    return buf;
  }
  /* user bytes: printable as is, the rest escaped, so logs stay one line */
  size_t o = 0;
  int n = snprintf(buf, size, "user:");
  o = n > 0 ? (size_t)n : 0;
  const unsigned char *d = r.data;
  for (uint32_t i = 0; d && i < r.len && o + 1 < size; i++) {
    if (d[i] >= 32 && d[i] < 127) {
      buf[o++] = (char)d[i];
    } else {
      if (o + 5 > size) break;
      snprintf(buf + o, size - o, "\\x%02x", d[i]);
      o += 4;
    }
  }
  buf[o < size ? o : size - 1] = 0;
  return buf;
}
