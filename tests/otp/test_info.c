/*
** test_info.c -- process management: enumeration of live processes,
** process info fields (status, kind, mailbox length, links, monitors,
** trap_exit, parent), suspend (messages queue, nothing runs, status
** SUSPENDED) and resume, kill from outside, runtime and worker stats, and
** an idle runtime that parks its workers (CPU time stays near zero).
*/
#include "otp_test.h"

#include <sys/resource.h>

static rusm_runtime *rt;
static _Atomic int handled;

static int h_handle(void *st, rusm_msg *m) {
  (void)st;
  (void)m;
  atomic_fetch_add(&handled, 1);
  return 0;
}
static const rusm_handler_ops hops = {0, NULL, h_handle, NULL};

static void idle_child(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

static _Atomic rusm_pid parent_pid, child_pid;
static void parent(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  atomic_store(&parent_pid, rusm_self());
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  rusm_pid c = rusm_spawn(idle_child, NULL, 0, &o);
  rusm_monitor(c);
  atomic_store(&child_pid, c);
  rusm_msg *m = rusm_receive(RUSM_INFINITY);   /* the child's EXIT */
  rusm_msg_free(m);
  m = rusm_receive(RUSM_INFINITY);   /* its DOWN */
  rusm_msg_free(m);
  m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);

  /* an idle runtime parks: well under 5% of one core over 300 ms */
  usleep(50000);
  double c0 = cpu_seconds();
  usleep(300000);
  CHECK(cpu_seconds() - c0 < 0.015);

  rusm_pid h = rusm_runtime_spawn_handler(rt, &hops, NULL, 0, NULL);
  CHECK(h);
  CHECK(rusm_runtime_spawn(rt, parent, NULL, 0, NULL));
  CHECK(WAIT_FOR(atomic_load(&child_pid) != 0, 5000));
  rusm_pid p = atomic_load(&parent_pid), c = atomic_load(&child_pid);

  rusm_process_info info;
  CHECK(WAIT_FOR(rusm_process_info_get(rt, p, &info) && info.status == RUSM_STATUS_WAITING, 2000));
  CHECK(info.links == 1 && info.monitors == 1 && info.trap_exit && info.parent == 0);
  CHECK(strcmp(info.body_kind, "coroutine") == 0);
  CHECK(WAIT_FOR(rusm_process_info_get(rt, c, &info) && info.status == RUSM_STATUS_WAITING, 2000));
  CHECK(info.links == 1 && info.parent == p && !info.trap_exit);

  rusm_pid all[8];
  CHECK(rusm_processes(rt, all, 8) == 3);
  bool seen_h = false, seen_p = false, seen_c = false;
  for (int i = 0; i < 3; i++) {
    seen_h |= all[i] == h;
    seen_p |= all[i] == p;
    seen_c |= all[i] == c;
  }
  CHECK(seen_h && seen_p && seen_c);
  CHECK(rusm_processes(rt, all, 1) == 3);

  /* suspend: messages queue up, nothing is handled */
  CHECK(rusm_suspend(rt, h));
  for (int i = 0; i < 10; i++) rusm_runtime_send(rt, h, "m", 1);
  CHECK(WAIT_FOR(rusm_process_info_get(rt, h, &info) && info.status == RUSM_STATUS_SUSPENDED &&
                     info.mailbox_len == 10, 2000));
  CHECK(atomic_load(&handled) == 0);
  CHECK(rusm_resume(rt, h));
  CHECK(WAIT_FOR(atomic_load(&handled) == 10, 2000));
  CHECK(WAIT_FOR(rusm_process_info_get(rt, h, &info) && info.mailbox_len == 0, 2000));
  CHECK(info.reductions >= 10);

  /* kill from outside: the linked, trapping parent gets EXIT then DOWN */
  rusm_runtime_exit_signal(rt, c, RUSM_REASON(RUSM_EXIT_KILL));
  CHECK(WAIT_FOR(!rusm_process_info_get(rt, c, &info), 2000));
  CHECK(WAIT_FOR(rusm_process_info_get(rt, p, &info) && info.links == 0 && info.monitors == 0, 2000));

  rusm_runtime_stats st;
  /* the exit is counted just after the pid stops resolving */
  CHECK(WAIT_FOR((rusm_runtime_stats_get(rt, &st), st.exited_total == 1), 2000));
  CHECK(st.workers == 2 && st.process_count == 2 && st.spawned_total == 3);
  rusm_worker_stats ws[4];
  CHECK(rusm_worker_stats_get(rt, ws, 4) == 2);
  for (int i = 0; i < 2; i++) CHECK(ws[i].utilisation >= 0 && ws[i].utilisation <= 1);
  CHECK(!rusm_suspend(rt, c));   /* dead */

  rusm_runtime_exit_signal(rt, p, RUSM_REASON(RUSM_EXIT_KILL));
  rusm_runtime_exit_signal(rt, h, rusm_reason_str("done"));
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  rusm_runtime_stop(rt);
  printf("test_info: ok\n");
  return 0;
}
