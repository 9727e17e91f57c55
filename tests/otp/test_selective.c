/*
** test_selective.c -- selective receive: the oldest matching message is
** taken, non-matching ones stay in place and in order, the save position
** means a waiting receive looks only at new messages on each wake-up, a
** new call starts from the oldest again, rusm_receive_mark skips older
** messages, a poll (timeout 0) returns at once, and rusm_body_take works in
** handlers.
*/
#include "otp_test.h"

static _Atomic int ok;
static int match_calls;

static bool is_odd(const rusm_msg *m, void *ctx) {
  (void)ctx;
  match_calls++;
  int v;
  memcpy(&v, rusm_msg_data(m), sizeof v);
  return v & 1;
}

static bool is_value(const rusm_msg *m, void *ctx) {
  int v;
  memcpy(&v, rusm_msg_data(m), sizeof v);
  return v == *(int *)ctx;
}

static int take(rusm_msg *m) {
  CHECK(m);
  int v;
  memcpy(&v, rusm_msg_data(m), sizeof v);
  rusm_msg_free(m);
  return v;
}

static void late_sender(const void *arg, size_t len) {
  rusm_pid to;
  CHECK(len == sizeof to);
  memcpy(&to, arg, sizeof to);
  int v = 2000;
  rusm_sleep(10);
  rusm_send(to, &v, sizeof v);
  v = 2002;
  rusm_sleep(10);
  rusm_send(to, &v, sizeof v);
  v = 7;
  rusm_sleep(10);
  rusm_send(to, &v, sizeof v);
}

static void proc(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_pid me = rusm_self();
  for (int i = 0; i < 10; i++) rusm_send(me, &i, sizeof i);
  /* odd ones first, in order */
  for (int i = 1; i < 10; i += 2) CHECK(take(rusm_receive_match(is_odd, NULL, 1000)) == i);
  CHECK(rusm_receive_match(is_odd, NULL, 0) == NULL);
  /* the even ones are untouched, in order */
  for (int i = 0; i < 10; i += 2) CHECK(take(rusm_receive(0)) == i);
  CHECK(rusm_receive(0) == NULL);

  /* save position: while one receive waits, 1000 non-matching messages are
  ** scanned once, and each wake-up looks only at the new arrivals */
  for (int i = 0; i < 1000; i++) {
    int v = 2 * i;
    rusm_send(me, &v, sizeof v);
  }
  CHECK(rusm_spawn(late_sender, &me, sizeof me, NULL));
  match_calls = 0;
  CHECK(take(rusm_receive_match(is_odd, NULL, 5000)) == 7);
  CHECK(match_calls == 1000 + 3);   /* the 1000, then 2000, 2002, 7 once each */
  /* a new call starts from the oldest again: conditions may have changed */
  int want = 2002;
  CHECK(take(rusm_receive_match(is_value, &want, 0)) == 2002);
  want = 0;
  CHECK(take(rusm_receive_match(is_value, &want, 0)) == 0);
  /* a mark skips what is queued before it */
  rusm_receive_mark();
  int nine = 9;
  rusm_send(me, &nine, sizeof nine);
  match_calls = 0;
  CHECK(take(rusm_receive_match(is_odd, NULL, 1000)) == 9);
  CHECK(match_calls == 1);
  for (int i = 1; i < 1001; i++) CHECK(take(rusm_receive(0)) == 2 * i);
  CHECK(rusm_receive(0) == NULL);

  /* a match that never succeeds times out, leaving the queue as it was */
  int v = 4;
  rusm_send(me, &v, sizeof v);
  double t0 = t_now();
  CHECK(rusm_receive_match(is_odd, NULL, 30) == NULL);
  CHECK(t_now() - t0 >= 0.025);
  CHECK(take(rusm_receive(0)) == 4);
  atomic_store(&ok, 1);
}

/* a handler using rusm_body_take for its own selective receive */
static _Atomic int handler_seen;
static int h_handle(void *st, rusm_msg *m) {
  (void)st;
  int v;
  memcpy(&v, rusm_msg_data(m), sizeof v);
  if (v == 100) {
    /* take the queued odd values now, leaving the evens */
    rusm_msg *o;
    int n = 0;
    while ((o = rusm_body_take(is_odd, NULL))) {
      rusm_msg_free(o);
      n++;
    }
    atomic_store(&handler_seen, n);
  }
  return 0;
}
static const rusm_handler_ops hops = {0, NULL, h_handle, NULL};

static void feeder(const void *arg, size_t len) {
  rusm_pid h;
  CHECK(len == sizeof h);
  memcpy(&h, arg, sizeof h);
  rusm_runtime *rt = rusm_runtime_current();
  CHECK(rusm_suspend(rt, h));   /* so that everything below is queued together */
  rusm_sleep(20);
  int v = 100;
  rusm_send(h, &v, sizeof v);
  for (int i = 0; i < 10; i++) rusm_send(h, &i, sizeof i);
  CHECK(rusm_resume(rt, h));
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  CHECK(rusm_runtime_spawn(rt, proc, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 10000));
  CHECK(atomic_load(&ok) == 1);

  rusm_pid h = rusm_runtime_spawn_handler(rt, &hops, NULL, 0, NULL);
  CHECK(h);
  CHECK(rusm_runtime_spawn(rt, feeder, &h, sizeof h, NULL));
  CHECK(WAIT_FOR(atomic_load(&handler_seen) == 5, 5000));
  rusm_process_info info;
  CHECK(WAIT_FOR(rusm_process_info_get(rt, h, &info) && info.status == RUSM_STATUS_WAITING, 2000));
  rusm_runtime_stop(rt);
  printf("test_selective: ok\n");
  return 0;
}
