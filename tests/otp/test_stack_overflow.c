/*
** test_stack_overflow.c -- a coroutine that overflows its stack hits the
** guard page and only that process dies, with reason "stack overflow": a
** monitor sees it, its neighbours keep running, the runtime keeps spawning,
** and it happens again (the handler re-arms).  Skipped under sanitizers,
** which own SIGSEGV.
*/
#include "otp_test.h"

static _Atomic int survivor_count, down_ok;

__attribute__((noinline)) static long recurse(volatile char *prev, long depth) {
  volatile char buf[512];
  if (depth > (1L << 40)) return 0;   /* never: keeps the compiler quiet */
  buf[0] = (char)depth;
  buf[511] = prev ? prev[0] : 0;
  return recurse(buf, depth + 1) + buf[511];
}

static void overflow(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  recurse(NULL, 0);
}

static void survivor(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (int i = 0; i < 5; i++) rusm_sleep(5);
  atomic_fetch_add(&survivor_count, 1);
}

static void watcher(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (int round = 0; round < 3; round++) {
    rusm_pid s = rusm_spawn(survivor, NULL, 0, NULL);
    CHECK(s);
    uint64_t ref = 0;
    rusm_spawn_opts o = {RUSM_SPAWN_MONITOR, &ref};
    rusm_pid v = rusm_spawn(overflow, NULL, 0, &o);
    CHECK(v && ref);
    rusm_msg *m = rusm_receive(10000);
    CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN);
    CHECK(rusm_msg_sender(m) == v && rusm_msg_monitor_ref(m) == ref);
    rusm_reason r = rusm_msg_reason(m);
    char buf[64];
    CHECK(strcmp(rusm_reason_format(r, buf, sizeof buf), "user:stack overflow") == 0);
    rusm_msg_free(m);
  }
  atomic_store(&down_ok, 1);
}

int main(void) {
#if defined(RUSM_SANITIZER)
  printf("test_stack_overflow: skipped under sanitizers\n");
  return 0;
#endif
  rusm_runtime_config cfg = {2, 0, 64 * 1024, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  CHECK(rusm_runtime_spawn(rt, watcher, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 20000));
  CHECK(atomic_load(&down_ok) == 1);
  CHECK(atomic_load(&survivor_count) == 3);
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 0 && st.spawned_total == 7);
  rusm_runtime_stop(rt);
  printf("test_stack_overflow: ok\n");
  return 0;
}
