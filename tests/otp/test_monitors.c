/*
** test_monitors.c -- monitors: DOWN carries the ref, the pid and the exit
** reason; a pid that died before the monitor was set gives DOWN noproc at
** once; demonitor stops the DOWN, and with flush also removes one already
** queued; spawn with RUSM_SPAWN_MONITOR; the watcher's monitor count drops
** when the DOWN arrives; monitors work from handler bodies too.
*/
#include "otp_test.h"

static rusm_runtime *rt;
static _Atomic int ok, handler_down;

static void target(const void *arg, size_t len) {
  (void)len;
  const char *how = arg;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
  if (strcmp(how, "crash") == 0) rusm_exit(rusm_reason_str("crashed"));
}

static void dies_at_once(const void *arg, size_t len) {
  (void)arg;
  (void)len;
}

static void watcher(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  char buf[64];
  rusm_process_info info;
  rusm_pid self = rusm_self();

  /* DOWN with ref, pid, reason */
  rusm_pid t = rusm_spawn(target, "crash", 6, NULL);
  uint64_t ref = rusm_monitor(t);
  CHECK(ref);
  CHECK(rusm_process_info_get(rt, self, &info) && info.monitors == 1);
  rusm_send(t, "go", 2);
  rusm_msg *m = rusm_receive(5000);
  CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN);
  CHECK(rusm_msg_monitor_ref(m) == ref && rusm_msg_sender(m) == t);
  CHECK(strcmp(rusm_reason_format(rusm_msg_reason(m), buf, sizeof buf), "user:crashed") == 0);
  rusm_msg_free(m);
  CHECK(rusm_process_info_get(rt, self, &info) && info.monitors == 0);

  /* a pid that is already dead: DOWN noproc at once */
  rusm_pid d = rusm_spawn(dies_at_once, NULL, 0, NULL);
  CHECK(PWAIT_FOR(!rusm_process_info_get(rt, d, &info), 2000));
  ref = rusm_monitor(d);
  CHECK(ref);
  m = rusm_receive(1000);
  CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN && rusm_msg_monitor_ref(m) == ref);
  CHECK(rusm_msg_sender(m) == d && rusm_msg_reason(m).kind == RUSM_EXIT_NOPROC);
  rusm_msg_free(m);
  /* also for a pid that never existed */
  ref = rusm_monitor((rusm_pid)0x123456);
  m = rusm_receive(1000);
  CHECK(m && rusm_msg_monitor_ref(m) == ref && rusm_msg_reason(m).kind == RUSM_EXIT_NOPROC);
  rusm_msg_free(m);

  /* two monitors on one target give two DOWNs */
  t = rusm_spawn(target, "normal", 7, NULL);
  uint64_t r1 = rusm_monitor(t), r2 = rusm_monitor(t);
  CHECK(r1 && r2 && r1 != r2);
  rusm_send(t, "go", 2);
  uint64_t seen = 0;
  for (int i = 0; i < 2; i++) {
    m = rusm_receive(5000);
    CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN);
    CHECK(rusm_msg_monitor_ref(m) == r1 || rusm_msg_monitor_ref(m) == r2);
    CHECK(rusm_msg_monitor_ref(m) != seen);
    seen = rusm_msg_monitor_ref(m);
    CHECK(rusm_msg_reason(m).kind == RUSM_EXIT_NORMAL);
    rusm_msg_free(m);
  }

  /* demonitor: no DOWN later; the target forgets us too */
  t = rusm_spawn(target, "normal", 7, NULL);
  ref = rusm_monitor(t);
  CHECK(rusm_demonitor(ref, false) == true);
  CHECK(rusm_demonitor(ref, false) == false);
  rusm_send(t, "go", 2);
  CHECK(rusm_receive(100) == NULL);

  /* demonitor with flush removes a DOWN already queued */
  t = rusm_spawn(target, "normal", 7, NULL);
  ref = rusm_monitor(t);
  rusm_send(t, "go", 2);
  CHECK(PWAIT_FOR(!rusm_process_info_get(rt, t, &info), 2000));
  rusm_sleep(10);
  rusm_send(self, "marker", 6);
  /* make sure the DOWN has been taken into the private queue */
  m = rusm_receive(1000);
  CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN);
  /* put a second one there to flush: re-monitor the dead pid */
  rusm_msg_free(m);
  ref = rusm_monitor(t);
  m = rusm_receive(1000);   /* takes "marker"; the noproc DOWN is now queued */
  CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_USER);
  rusm_msg_free(m);
  CHECK(rusm_demonitor(ref, true) == false);   /* already fired */
  CHECK(rusm_receive(50) == NULL);             /* and flushed */

  /* spawn with a monitor */
  uint64_t sref = 0;
  rusm_spawn_opts o = {RUSM_SPAWN_MONITOR, &sref};
  t = rusm_spawn(target, "crash", 6, &o);
  CHECK(t && sref);
  rusm_send(t, "go", 2);
  m = rusm_receive(5000);
  CHECK(m && rusm_msg_monitor_ref(m) == sref && rusm_msg_sender(m) == t);
  rusm_msg_free(m);

  atomic_store(&ok, 1);
}

/* A handler body that monitors and gets DOWN as a message. */
static int h_init(void *st, const void *arg, size_t len) {
  (void)st;
  rusm_pid t;
  CHECK(len == sizeof t);
  memcpy(&t, arg, sizeof t);
  CHECK(rusm_monitor(t));
  return 0;
}
static int h_handle(void *st, rusm_msg *m) {
  (void)st;
  if (rusm_msg_kind_of(m) == RUSM_MSG_DOWN) {
    atomic_store(&handler_down, 1);
    return 1;
  }
  return 0;
}
static const rusm_handler_ops hops = {0, h_init, h_handle, NULL};

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  CHECK(rusm_runtime_spawn(rt, watcher, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 20000));
  CHECK(atomic_load(&ok) == 1);

  rusm_pid t = rusm_runtime_spawn(rt, target, "normal", 7, NULL);
  CHECK(rusm_runtime_spawn_handler(rt, &hops, &t, sizeof t, NULL));
  rusm_runtime_send(rt, t, "go", 2);
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  CHECK(atomic_load(&handler_down) == 1);
  rusm_runtime_stop(rt);
  printf("test_monitors: ok\n");
  return 0;
}
