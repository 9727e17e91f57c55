/*
** stress_mpsc.c -- many senders, one receiver, and stealing between
** workers: senders are spawned from one process (so they start on its
** worker and the idle worker must steal them), each sends a numbered
** sequence to one receiver that checks count and per-sender order; foreign
** threads send at the same time.  Run under TSan (label concurrency);
** RUSM_TEST_N scales the message count.
*/
#include "otp_test.h"

#include <pthread.h>

#define SENDERS 64
#define THREADS 2
static long per_sender;
static _Atomic int receiver_ok;
static rusm_runtime *rt;

typedef struct tag {
  int who;
  long seq;
} tag;

static void receiver(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  static long next[SENDERS + THREADS];
  long total = (SENDERS + THREADS) * per_sender;
  for (long i = 0; i < total; i++) {
    rusm_msg *m = rusm_receive(30000);
    CHECK(m);
    tag t;
    memcpy(&t, rusm_msg_data(m), sizeof t);
    CHECK(t.who >= 0 && t.who < SENDERS + THREADS);
    CHECK(t.seq == next[t.who]);
    next[t.who]++;
    rusm_msg_free(m);
  }
  atomic_store(&receiver_ok, 1);
}

static void sender(const void *arg, size_t len) {
  CHECK(len == sizeof(tag));
  tag a;
  memcpy(&a, arg, sizeof a);
  rusm_pid to = (rusm_pid)a.seq;
  /* some work before sending, so the senders queued behind this one on the
  ** starter's worker stay there long enough for the idle worker to steal */
  volatile unsigned spin = 0;
  for (unsigned k = 0; k < 200000; k++) spin += k;
  (void)spin;
  for (long i = 0; i < per_sender; i++) {
    tag t = {a.who, i};
    rusm_send(to, &t, sizeof t);
    if ((i & 63) == 0) rusm_yield();
  }
}

static void starter(const void *arg, size_t len) {
  rusm_pid r;
  CHECK(len == sizeof r);
  memcpy(&r, arg, sizeof r);
  for (int s = 0; s < SENDERS; s++) {
    tag a = {s, (long)r};
    CHECK(rusm_spawn(sender, &a, sizeof a, NULL));
  }
}

typedef struct targ {
  int who;
  rusm_pid to;
} targ;

static void *thread_sender(void *p) {
  targ *a = p;
  for (long i = 0; i < per_sender; i++) {
    tag t = {a->who, i};
    CHECK(rusm_runtime_send(rt, a->to, &t, sizeof t) == 0);
  }
  return NULL;
}

int main(void) {
  per_sender = env_long("RUSM_TEST_N", 2000);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  double t0 = t_now();
  rusm_pid r = rusm_runtime_spawn(rt, receiver, NULL, 0, NULL);
  CHECK(r);
  CHECK(rusm_runtime_spawn(rt, starter, &r, sizeof r, NULL));
  pthread_t th[THREADS];
  targ ta[THREADS];
  for (int i = 0; i < THREADS; i++) {
    ta[i].who = SENDERS + i;
    ta[i].to = r;
    pthread_create(&th[i], NULL, thread_sender, &ta[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  CHECK(rusm_runtime_wait_idle(rt, 120000));
  CHECK(atomic_load(&receiver_ok) == 1);
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 0 && st.spawned_total == SENDERS + 2);
  rusm_worker_stats ws[2];
  CHECK(rusm_worker_stats_get(rt, ws, 2) == 2);
  printf("stress_mpsc: steals %llu + %llu\n", (unsigned long long)ws[0].steals,
         (unsigned long long)ws[1].steals);
  CHECK(ws[0].steals + ws[1].steals > 0);   /* the senders did move */
  printf("stress_mpsc: %ld messages in %.3f s\n", (long)(SENDERS + THREADS) * per_sender,
         t_now() - t0);
  rusm_runtime_stop(rt);
  printf("stress_mpsc: ok\n");
  return 0;
}
