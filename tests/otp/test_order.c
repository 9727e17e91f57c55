/*
** test_order.c -- messages from one sender to one receiver arrive in send
** order, with several senders interleaving (processes on both workers and a
** foreign thread).  Fails if any sender's sequence arrives out of order or
** a message is lost.
*/
#include "otp_test.h"

#define SENDERS 6
static long per_sender;
static _Atomic int recv_ok;

typedef struct tagged {
  int sender;
  long seq;
} tagged;

static void receiver(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  long next[SENDERS + 1] = {0};
  long total = (SENDERS + 1) * per_sender;
  for (long i = 0; i < total; i++) {
    rusm_msg *m = rusm_receive(10000);
    CHECK(m);
    CHECK(rusm_msg_size(m) == sizeof(tagged));
    tagged t;
    memcpy(&t, rusm_msg_data(m), sizeof t);
    CHECK(t.sender >= 0 && t.sender <= SENDERS);
    CHECK(t.seq == next[t.sender]);
    next[t.sender]++;
    rusm_msg_free(m);
  }
  CHECK(rusm_receive(0) == NULL);
  atomic_store(&recv_ok, 1);
}

static void sender(const void *arg, size_t len) {
  CHECK(len == sizeof(tagged));
  tagged t;
  memcpy(&t, arg, sizeof t);
  rusm_pid to = (rusm_pid)t.seq;
  for (long i = 0; i < per_sender; i++) {
    tagged m = {t.sender, i};
    CHECK(rusm_send(to, &m, sizeof m) == 0);
    if (i % 100 == 0) rusm_yield();  /* interleave and let thieves move us */
  }
}

int main(void) {
  per_sender = env_long("RUSM_TEST_N", 20000);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  rusm_pid r = rusm_runtime_spawn(rt, receiver, NULL, 0, NULL);
  CHECK(r);
  for (int s = 0; s < SENDERS; s++) {
    tagged a = {s, (long)r};
    CHECK(rusm_runtime_spawn(rt, sender, &a, sizeof a, NULL));
  }
  for (long i = 0; i < per_sender; i++) {
    tagged m = {SENDERS, i};
    CHECK(rusm_runtime_send(rt, r, &m, sizeof m) == 0);
  }
  CHECK(rusm_runtime_wait_idle(rt, 60000));
  CHECK(atomic_load(&recv_ok) == 1);
  rusm_runtime_stop(rt);
  printf("test_order: ok\n");
  return 0;
}
