/*
** stress_timers.c -- timers under concurrency: pairs of processes on both
** workers start timers for each other, pass the references across and
** cancel about half of them from the other side (often another worker than
** the wheel that holds them) while others fire.  Invariant: every timer is
** either cancelled (cancel returned true) or delivered, exactly once, never
** both.  Receive timeouts run alongside.  Run under TSan; RUSM_TEST_N
** scales the rounds.
*/
#include "otp_test.h"

#define PAIRS 32
static long rounds;
static _Atomic long started, cancelled, delivered, timeouts;

enum { T_FIRE = 1, T_REF = 2, T_DONE = 3 };
typedef struct tmsg {
  int tag;
  uint64_t v;
} tmsg;

static void side(const void *arg, size_t len) {
  CHECK(len == sizeof(rusm_pid));
  rusm_pid peer;
  memcpy(&peer, arg, sizeof peer);
  if (!peer) {   /* the second of the pair learns its peer from a message */
    rusm_msg *m = rusm_receive(10000);
    CHECK(m && rusm_msg_size(m) == sizeof peer);
    memcpy(&peer, rusm_msg_data(m), sizeof peer);
    rusm_msg_free(m);
  } else {
    rusm_pid me = rusm_self();
    rusm_send(peer, &me, sizeof me);
  }
  uint32_t seed = (uint32_t)rusm_self();
  bool peer_done = false;
  for (long r = 0; r < rounds; r++) {
    seed = seed * 1103515245u + 12345u;
    tmsg f = {T_FIRE, (uint64_t)r};
    rusm_timer_ref t = rusm_send_after((seed >> 16) % 3, peer, &f, sizeof f);
    CHECK(t);
    atomic_fetch_add(&started, 1);
    tmsg ref = {T_REF, t};
    rusm_send(peer, &ref, sizeof ref);
    /* handle what arrived: fires count, refs get cancelled half the time */
    rusm_msg *m;
    while ((m = rusm_receive(r % 7 == 0 ? 1 : 0))) {
      tmsg x;
      memcpy(&x, rusm_msg_data(m), sizeof x);
      rusm_msg_free(m);
      if (x.tag == T_FIRE) atomic_fetch_add(&delivered, 1);
      if (x.tag == T_REF && (x.v & 2) && rusm_cancel_timer(x.v)) atomic_fetch_add(&cancelled, 1);
      if (x.tag == T_DONE) peer_done = true;
    }
    if (r % 7 == 0) atomic_fetch_add(&timeouts, 1);
  }
  tmsg d = {T_DONE, 0};
  rusm_send(peer, &d, sizeof d);
  /* drain until the peer is done and its last timers had time to fire */
  double until = 0;
  for (;;) {
    rusm_msg *m = rusm_receive(20);
    if (!m) {
      if (peer_done && until == 0) until = t_now() + 0.2;
      if (until && t_now() > until) break;
      continue;
    }
    tmsg x;
    memcpy(&x, rusm_msg_data(m), sizeof x);
    rusm_msg_free(m);
    if (x.tag == T_FIRE) atomic_fetch_add(&delivered, 1);
    if (x.tag == T_DONE) peer_done = true;
  }
}

int main(void) {
  rounds = env_long("RUSM_TEST_N", 300);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  for (int i = 0; i < PAIRS; i++) {
    rusm_pid none = 0;
    rusm_pid b = rusm_runtime_spawn(rt, side, &none, sizeof none, NULL);
    CHECK(b && rusm_runtime_spawn(rt, side, &b, sizeof b, NULL));
  }
  CHECK(rusm_runtime_wait_idle(rt, 120000));
  long s = atomic_load(&started), c = atomic_load(&cancelled), d = atomic_load(&delivered);
  printf("stress_timers: %ld timers, %ld cancelled, %ld delivered\n", s, c, d);
  CHECK(s == 2L * PAIRS * rounds);
  CHECK(c + d == s);
  CHECK(c > 0 && d > 0);
  rusm_runtime_stop(rt);
  printf("stress_timers: ok\n");
  return 0;
}
