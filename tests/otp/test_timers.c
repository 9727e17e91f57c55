/*
** test_timers.c -- receive timeouts fire (and not early), send_after
** delivers as if from the caller, cancel stops a pending timer (and says so
** only once), sleep keeps messages queued, timers started and cancelled from
** a foreign thread work, and 10,000 processes waiting with timeouts all
** time out.
*/
#include "otp_test.h"

static _Atomic int stage;
static _Atomic int timeouts;

static void timing(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_pid me = rusm_self();
  double t0 = t_now();
  CHECK(rusm_receive(50) == NULL);
  double dt = t_now() - t0;
  CHECK(dt >= 0.049 && dt < 2.0);

  t0 = t_now();
  CHECK(rusm_send_after(30, me, "later", 5) != 0);
  rusm_msg *m = rusm_receive(5000);
  CHECK(m && rusm_msg_size(m) == 5 && memcmp(rusm_msg_data(m), "later", 5) == 0);
  CHECK(rusm_msg_sender(m) == me);
  CHECK(t_now() - t0 >= 0.029);
  rusm_msg_free(m);

  rusm_timer_ref t = rusm_send_after(30, me, "never", 5);
  CHECK(t);
  CHECK(rusm_cancel_timer(t));
  CHECK(!rusm_cancel_timer(t));
  CHECK(rusm_receive(80) == NULL);

  /* a fired timer cannot be cancelled */
  t = rusm_send_after(1, me, "x", 1);
  m = rusm_receive(1000);
  CHECK(m);
  rusm_msg_free(m);
  CHECK(!rusm_cancel_timer(t));

  /* sleep: time passes, the message stays queued */
  rusm_send(me, "kept", 4);
  t0 = t_now();
  rusm_sleep(40);
  CHECK(t_now() - t0 >= 0.039);
  m = rusm_receive(0);
  CHECK(m && rusm_msg_size(m) == 4);
  rusm_msg_free(m);

  /* a message ends a timed wait early */
  rusm_send_after(10, me, "y", 1);
  t0 = t_now();
  m = rusm_receive(5000);
  CHECK(m && t_now() - t0 < 2.0);
  rusm_msg_free(m);
  atomic_store(&stage, 1);

  /* from the foreign thread */
  m = rusm_receive(5000);
  CHECK(m && rusm_msg_size(m) == 7 && rusm_msg_sender(m) == 0);
  rusm_msg_free(m);
  CHECK(rusm_receive(100) == NULL);  /* the cancelled one never comes */
  atomic_store(&stage, 2);
}

static void waiter(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  if (rusm_receive(20) == NULL) atomic_fetch_add(&timeouts, 1);
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  rusm_pid p = rusm_runtime_spawn(rt, timing, NULL, 0, NULL);
  CHECK(p);
  CHECK(WAIT_FOR(atomic_load(&stage) == 1, 10000));
  rusm_timer_ref t1 = rusm_runtime_send_after(rt, 20, p, "foreign", 7);
  rusm_timer_ref t2 = rusm_runtime_send_after(rt, 20, p, "cancel!", 7);
  CHECK(t1 && t2);
  CHECK(rusm_runtime_cancel_timer(rt, t2));
  CHECK(!rusm_runtime_cancel_timer(rt, t2));
  CHECK(WAIT_FOR(atomic_load(&stage) == 2, 10000));
  CHECK(rusm_runtime_wait_idle(rt, 5000));

  long n = env_long("RUSM_TEST_N", 10000);
  double t0 = t_now();
  for (long i = 0; i < n; i++) CHECK(rusm_runtime_spawn(rt, waiter, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 30000));
  CHECK(atomic_load(&timeouts) == n);
  printf("test_timers: %ld timeouts in %.3f s\n", n, t_now() - t0);
  rusm_runtime_stop(rt);
  printf("test_timers: ok\n");
  return 0;
}
