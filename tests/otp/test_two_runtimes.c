/*
** test_two_runtimes.c -- two runtimes live in one OS process without
** sharing anything: both run ping-pong at the same time, a registered name
** in one is unknown in the other, one is stopped while the other keeps
** working, then the other is stopped.
*/
#include "otp_test.h"

static _Atomic long rounds_done[2];

typedef struct ppa {
  int which;
  long rounds;
} ppa;

static void ponger(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (;;) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    if (rusm_msg_size(m) == 1) {
      rusm_msg_free(m);
      return;
    }
    rusm_send(rusm_msg_sender(m), rusm_msg_data(m), rusm_msg_size(m));
    rusm_msg_free(m);
  }
}

static void pinger(const void *arg, size_t len) {
  ppa a;
  CHECK(len == sizeof a);
  memcpy(&a, arg, sizeof a);
  rusm_pid p = rusm_spawn(ponger, NULL, 0, NULL);
  for (long i = 0; i < a.rounds; i++) {
    rusm_send(p, &i, sizeof i);
    rusm_msg *m = rusm_receive(10000);
    CHECK(m);
    long v;
    memcpy(&v, rusm_msg_data(m), sizeof v);
    CHECK(v == i);
    rusm_msg_free(m);
    atomic_store(&rounds_done[a.which], i + 1);
  }
  rusm_send(p, "q", 1);
}

static void forever(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *a = rusm_runtime_start(&cfg);
  rusm_runtime *b = rusm_runtime_start(&cfg);
  CHECK(a && b && a != b);
  long n = env_long("RUSM_TEST_N", 100000);
  ppa pa = {0, n}, pb = {1, n};
  CHECK(rusm_runtime_spawn(a, pinger, &pa, sizeof pa, NULL));
  CHECK(rusm_runtime_spawn(b, pinger, &pb, sizeof pb, NULL));
  rusm_pid fa = rusm_runtime_spawn(a, forever, NULL, 0, NULL);
  CHECK(fa);
  CHECK(rusm_register(a, "only_in_a", fa) == 0);
  CHECK(rusm_whereis(a, "only_in_a") == fa);
  CHECK(rusm_whereis(b, "only_in_a") == 0);
  CHECK(WAIT_FOR(atomic_load(&rounds_done[0]) == n && atomic_load(&rounds_done[1]) == n, 60000));
  rusm_runtime_stats sa, sb;
  /* the forever process, in a only (pinger and ponger are on their way out) */
  CHECK(WAIT_FOR((rusm_runtime_stats_get(a, &sa), sa.process_count == 1), 5000));
  CHECK(WAIT_FOR((rusm_runtime_stats_get(b, &sb), sb.process_count == 0), 5000));
  /* stop a (killing its blocked process); b is unaffected */
  rusm_runtime_stop(a);
  pb.rounds = 1000;
  atomic_store(&rounds_done[1], 0);
  CHECK(rusm_runtime_spawn(b, pinger, &pb, sizeof pb, NULL));
  CHECK(rusm_runtime_wait_idle(b, 20000));
  CHECK(atomic_load(&rounds_done[1]) == 1000);
  rusm_runtime_stop(b);
  printf("test_two_runtimes: ok\n");
  return 0;
}
