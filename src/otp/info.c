/*
** info.c -- process management for observers: per-process info, process
** enumeration, suspend and resume.  Safe from any thread: the reads happen
** inside an epoch critical section, so the struct cannot be recycled under
** them, and every field read here is an atomic kept by the owner.
*/
#include "internal.h"

#include <stdio.h>

bool ru_proc_name_copy(rusm_runtime *rt, ru_proc *p, char *buf, size_t size);

bool rusm_process_info_get(rusm_runtime *rt, rusm_pid pid, rusm_process_info *out) {
  if (!rt || !out) return false;
  ru_worker *w = ru_worker_of(rt);
  if (!w) ru_foreign_enter(rt);
  ru_proc *p = ru_lookup(rt, pid);
  if (p) {
    memset(out, 0, sizeof *out);
    out->status = (rusm_proc_status)atomic_load_explicit(&p->status, memory_order_relaxed);
    out->body_kind = p->vt ? p->vt->kind : "unknown";
    ru_proc_name_copy(rt, p, out->registered_name, sizeof out->registered_name);
    out->mailbox_len = atomic_load_explicit(&p->q_len, memory_order_relaxed);
    out->reductions = atomic_load_explicit(&p->reductions, memory_order_relaxed);
    size_t mem = p->block_size + out->mailbox_len * RU_MSG_CLASS0;
    /* only the built-in bodies answer from atomics or constants; another
    ** body's memory() could race with its destroy() */
    if (p->body_type != RU_BODY_OTHER) mem += p->vt->memory(p);
    out->memory = mem;
    out->links = atomic_load_explicit(&p->n_links, memory_order_relaxed);
    out->monitors = atomic_load_explicit(&p->n_monitors, memory_order_relaxed);
    out->trap_exit = atomic_load_explicit(&p->trap_exit, memory_order_relaxed);
    out->parent = p->parent;
  }
  if (!w) ru_foreign_leave(rt);
  return p != NULL;
}

size_t rusm_processes(rusm_runtime *rt, rusm_pid *out, size_t max) {
  if (!rt) return 0;
  ru_worker *w = ru_worker_of(rt);
  if (!w) ru_foreign_enter(rt);
  size_t n = 0;
  uint32_t hi = atomic_load_explicit(&rt->slot_bump, memory_order_acquire);
  for (uint32_t i = 0; i < hi; i++) {
    ru_proc *p = atomic_load_explicit(&rt->slots[i].p, memory_order_acquire);
    if (!p) continue;
    if (out && n < max) out[n] = atomic_load_explicit(&p->pid, memory_order_relaxed);
    n++;
  }
  if (!w) ru_foreign_leave(rt);
  return n;
}

static const rusm_reason none = {RUSM_EXIT_NORMAL, 0, NULL};

bool rusm_suspend(rusm_runtime *rt, rusm_pid pid) {
  if (!rt) return false;
  return ru_send_sig(rt, pid, RU_SIG_SUSPEND, 0, 0, none);
}

bool rusm_resume(rusm_runtime *rt, rusm_pid pid) {
  if (!rt) return false;
  return ru_send_sig(rt, pid, RU_SIG_RESUME, 0, 0, none);
}
