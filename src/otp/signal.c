/*
** signal.c -- links, monitors and exit signals, Erlang semantics.  Every
** request travels as a node in the receiver's mailbox (behind any message
** the same sender sent earlier) and is acted on by the receiver itself when
** it drains its mailbox, so both sides of a link or monitor are only ever
** changed by their owner.  A process that dies answers requests still in
** flight with noproc, at exit and once more when its struct is reclaimed.
*/
#include "internal.h"

static const rusm_reason no_reason = {RUSM_EXIT_NORMAL, 0, NULL};
static const rusm_reason noproc = {RUSM_EXIT_NOPROC, 0, NULL};

static inline rusm_pid pid_of(const ru_proc *p) {
  return atomic_load_explicit(&p->pid, memory_order_relaxed);
}

static void die(ru_proc *p, ru_msg *m, rusm_exit_kind kind) {
  rusm_reason r = {kind, m->len, m->len ? ru_msg_payload(m) : NULL};
  ru_proc_set_reason(p, r);
  p->exiting = true;
}

static void handle_exit(ru_proc *p, ru_msg *m, bool linked) {
  ru_worker *w = ru_cur_worker();
  rusm_exit_kind kind = (rusm_exit_kind)m->reason_kind;
  if (!linked && kind == RUSM_EXIT_KILL) {
    die(p, m, RUSM_EXIT_KILLED);
  } else if (atomic_load_explicit(&p->trap_exit, memory_order_relaxed)) {
    m->sig = RU_SIG_EXIT_MSG;
    ru_q_append(p, m);
    p->wakeup = true;
    return;
  } else if (kind == RUSM_EXIT_NORMAL) {
    /* a normal exit signal is ignored, except from the process itself */
    if (!linked && m->from == pid_of(p)) die(p, m, RUSM_EXIT_NORMAL);
  } else {
    die(p, m, kind);
  }
  ru_msg_release(w, m);
}

void ru_handle_signal(ru_proc *p, ru_msg *m) {
  ru_worker *w = ru_cur_worker();
  switch (m->sig) {
    case RU_SIG_EXIT_MSG:
      ru_q_append(p, m);
      p->wakeup = true;
      return;
    case RU_SIG_DOWN:
      /* only for a live monitor: after demonitor no DOWN may show up */
      if (ru_map_del(&p->monitors, m->ref, NULL)) {
        atomic_store_explicit(&p->n_monitors, p->monitors.len, memory_order_relaxed);
        ru_q_append(p, m);
        p->wakeup = true;
        return;
      }
      break;
    case RU_SIG_EXIT_LINK:
      /* a link exit counts only while the link exists (unlink wins) */
      if (!ru_map_del(&p->links, m->from, NULL)) break;
      atomic_store_explicit(&p->n_links, p->links.len, memory_order_relaxed);
      handle_exit(p, m, true);
      return;
    case RU_SIG_EXIT:
      handle_exit(p, m, false);
      return;
    case RU_SIG_LINK:
      ru_map_put(&p->links, m->from, 1);
      atomic_store_explicit(&p->n_links, p->links.len, memory_order_relaxed);
      break;
    case RU_SIG_UNLINK:
      ru_map_del(&p->links, m->from, NULL);
      atomic_store_explicit(&p->n_links, p->links.len, memory_order_relaxed);
      break;
    case RU_SIG_MONITOR:
      ru_map_put(&p->watchers, m->ref, m->from);
      break;
    case RU_SIG_DEMONITOR:
      ru_map_del(&p->watchers, m->ref, NULL);
      break;
    case RU_SIG_TIMEOUT:
      if (m->ref == p->wait_seq && p->wait_timer) {
        p->wait_timer = 0;
        p->timed_out = true;
        p->wakeup = true;
      }
      break;
    case RU_SIG_SUSPEND:
      p->suspended = true;
      break;
    case RU_SIG_RESUME:
      if (p->suspended) {
        p->suspended = false;
        p->wakeup = true;
      }
      break;
    default:
      break;
  }
  ru_msg_release(w, m);
}

void ru_dead_drain(ru_worker *w, rusm_runtime *rt, ru_proc *p) {
  bool live = w && !atomic_load_explicit(&rt->stopping, memory_order_relaxed);
  rusm_pid self = pid_of(p);
  ru_msg *m;
  while ((m = ru_mbox_pop(&p->mbox))) {
    switch (m->sig) {
      case RU_SIG_LINK:
        if (live) ru_send_sig(rt, m->from, RU_SIG_EXIT_LINK, self, 0, noproc);
        break;
      case RU_SIG_MONITOR:
        if (live) ru_send_sig(rt, m->from, RU_SIG_DOWN, self, m->ref, noproc);
        break;
      case RU_SIG_UNLINK:
        ru_map_del(&p->links, m->from, NULL);
        break;
      case RU_SIG_DEMONITOR:
        ru_map_del(&p->watchers, m->ref, NULL);
        break;
      default:
        break;
    }
    ru_msg_release(w, m);
  }
}

void ru_exit_notify(ru_worker *w, ru_proc *p) {
  (void)w;
  rusm_runtime *rt = p->rt;
  rusm_pid self = pid_of(p);
  rusm_reason r = ru_proc_reason(p);
  RU_MAP_EACH(&p->links, pid, one) {
    (void)one;
    ru_send_sig(rt, pid, RU_SIG_EXIT_LINK, self, 0, r);
  }
  RU_MAP_EACH(&p->watchers, ref, watcher) ru_send_sig(rt, watcher, RU_SIG_DOWN, self, ref, r);
  /* our own monitors: the targets may forget us */
  RU_MAP_EACH(&p->monitors, ref, target)
  ru_send_sig(rt, target, RU_SIG_DEMONITOR, self, ref, no_reason);
  ru_map_free(&p->links);
  ru_map_free(&p->watchers);
  ru_map_free(&p->monitors);
  atomic_store_explicit(&p->n_links, 0, memory_order_relaxed);
  atomic_store_explicit(&p->n_monitors, 0, memory_order_relaxed);
}

/* ------------------------------------------------------------ public API */

int rusm_link(rusm_pid pid) {
  ru_proc *p = ru_cur_proc();
  if (!p || !pid) return -1;
  rusm_pid self = pid_of(p);
  if (pid == self || ru_map_get(&p->links, pid, NULL)) return 0;
  if (!ru_map_put(&p->links, pid, 1)) return -1;
  atomic_store_explicit(&p->n_links, p->links.len, memory_order_relaxed);
  if (!ru_send_sig(p->rt, pid, RU_SIG_LINK, self, 0, no_reason)) {
    /* dead already: the link breaks at once with noproc, through our own
    ** mailbox so it is handled like any other exit signal */
    ru_msg *m = ru_msg_make(ru_cur_worker(), RU_SIG_EXIT_LINK, pid, 0, noproc);
    if (m && ru_mbox_push(&p->mbox, m)) ru_schedule(p->rt, p);
  }
  return 0;
}

int rusm_unlink(rusm_pid pid) {
  ru_proc *p = ru_cur_proc();
  if (!p || !pid) return -1;
  if (!ru_map_del(&p->links, pid, NULL)) return 0;
  atomic_store_explicit(&p->n_links, p->links.len, memory_order_relaxed);
  ru_send_sig(p->rt, pid, RU_SIG_UNLINK, pid_of(p), 0, no_reason);
  return 0;
}

int rusm_exit_signal(rusm_pid pid, rusm_reason why) {
  ru_proc *p = ru_cur_proc();
  if (!p || !pid) return -1;
  ru_send_sig(p->rt, pid, RU_SIG_EXIT, pid_of(p), 0, why);
  return 0;
}

int rusm_runtime_exit_signal(rusm_runtime *rt, rusm_pid pid, rusm_reason why) {
  if (!rt || !pid) return -1;
  ru_proc *p = ru_cur_proc();
  rusm_pid from = (p && p->rt == rt) ? pid_of(p) : 0;
  ru_send_sig(rt, pid, RU_SIG_EXIT, from, 0, why);
  return 0;
}

int rusm_kill(rusm_pid pid) { return rusm_exit_signal(pid, RUSM_REASON(RUSM_EXIT_KILL)); }

uint64_t rusm_monitor(rusm_pid pid) {
  ru_proc *p = ru_cur_proc();
  if (!p || !pid) return 0;
  uint64_t ref = ru_new_ref(p->rt);
  if (!ru_map_put(&p->monitors, ref, pid)) return 0;
  atomic_store_explicit(&p->n_monitors, p->monitors.len, memory_order_relaxed);
  if (!ru_send_sig(p->rt, pid, RU_SIG_MONITOR, pid_of(p), ref, no_reason)) {
    ru_msg *m = ru_msg_make(ru_cur_worker(), RU_SIG_DOWN, pid, ref, noproc);
    if (m && ru_mbox_push(&p->mbox, m)) ru_schedule(p->rt, p);
  }
  return ref;
}

void ru_q_remove_down(ru_proc *p, uint64_t ref);

bool rusm_demonitor(uint64_t ref, bool flush) {
  ru_proc *p = ru_cur_proc();
  if (!p || !ref) return false;
  uint64_t target = 0;
  bool active = ru_map_del(&p->monitors, ref, &target);
  atomic_store_explicit(&p->n_monitors, p->monitors.len, memory_order_relaxed);
  if (active) ru_send_sig(p->rt, target, RU_SIG_DEMONITOR, pid_of(p), ref, no_reason);
  if (flush) ru_q_remove_down(p, ref);
  return active;
}
