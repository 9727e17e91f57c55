/*
** stress_monitors.c -- monitors under concurrency: watchers on both workers
** monitor targets that die on their own, are killed by a third party, or
** are already dead; half the monitors are removed with demonitor(flush).
** Invariants: a kept monitor yields exactly one DOWN with its ref and the
** target's pid; after demonitor(flush) no DOWN with that ref is ever seen.
** Run under TSan; RUSM_TEST_N scales the rounds.
*/
#include "otp_test.h"

#define WATCHERS 16
static long rounds;
static _Atomic long downs, flushed;

static void target(const void *arg, size_t len) {
  (void)len;
  int how;
  memcpy(&how, arg, sizeof how);
  if (how == 0) return;   /* dies at once */
  rusm_msg *m = rusm_receive(how);   /* or after a moment, or when killed */
  if (m) rusm_msg_free(m);
}

static void killer(const void *arg, size_t len) {
  rusm_pid t;
  CHECK(len == sizeof t);
  memcpy(&t, arg, sizeof t);
  rusm_kill(t);
}

static void watcher(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  uint32_t seed = (uint32_t)rusm_self();
  for (long r = 0; r < rounds; r++) {
    seed = seed * 1103515245u + 12345u;
    int how = (int)((seed >> 16) % 4);   /* 0: at once, 1-3 ms */
    rusm_pid t = rusm_spawn(target, &how, sizeof how, NULL);
    CHECK(t);
    if ((seed >> 20) & 1) CHECK(rusm_spawn(killer, &t, sizeof t, NULL));
    uint64_t ref = rusm_monitor(t);
    CHECK(ref);
    bool drop = (seed >> 24) & 1;
    if (drop) {
      if ((seed >> 25) & 1) rusm_yield();
      rusm_demonitor(ref, true);
      atomic_fetch_add(&flushed, 1);
      /* nothing for ref may arrive, now or later (checked on the next DOWNs) */
      rusm_msg *m = rusm_receive(0);
      CHECK(!m || rusm_msg_monitor_ref(m) != ref);
      if (m) rusm_msg_free(m);
      continue;
    }
    for (;;) {
      rusm_msg *m = rusm_receive(10000);
      CHECK(m);
      CHECK(rusm_msg_kind_of(m) == RUSM_MSG_DOWN);
      uint64_t got = rusm_msg_monitor_ref(m);
      rusm_pid from = rusm_msg_sender(m);
      rusm_msg_free(m);
      if (got == ref) {
        CHECK(from == t);
        atomic_fetch_add(&downs, 1);
        break;
      }
      CHECK(0 && "a DOWN for a monitor that was not live");
    }
  }
  /* no stray DOWN left over */
  CHECK(rusm_receive(20) == NULL);
}

int main(void) {
  rounds = env_long("RUSM_TEST_N", 1000);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  for (int i = 0; i < WATCHERS; i++) CHECK(rusm_runtime_spawn(rt, watcher, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 120000));
  long d = atomic_load(&downs), f = atomic_load(&flushed);
  printf("stress_monitors: %ld DOWNs, %ld flushed\n", d, f);
  CHECK(d + f == WATCHERS * rounds);
  rusm_runtime_stop(rt);
  printf("stress_monitors: ok\n");
  return 0;
}
