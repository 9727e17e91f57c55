/*
** test_spread.c -- work spreads over the workers when it should: a process
** that hogs its worker (no yield, no receive) does not keep the processes
** queued behind it from running, since an idle worker takes over a ring
** that stays non-empty; and CPU-bound processes that yield end up running
** in parallel (wall time well under the sum of their CPU times).
*/
#include "otp_test.h"

static _Atomic double hog_end, queued_start;

static void hog(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  double t0 = t_now();
  while (t_now() - t0 < 1.0) {
  }
  atomic_store(&hog_end, t_now());
}

static void queued(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  atomic_store(&queued_start, t_now());
}

static void parent(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_spawn(hog, NULL, 0, NULL);
  rusm_spawn(queued, NULL, 0, NULL);
}

static _Atomic int busy_done;
static void busy(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  double t0 = t_now();
  while (t_now() - t0 < 0.4) rusm_consume_reductions(50);
  atomic_fetch_add(&busy_done, 1);
}

static void parent2(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (int i = 0; i < 2; i++) rusm_spawn(busy, NULL, 0, NULL);
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  CHECK(rusm_runtime_spawn(rt, parent, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 20000));
  CHECK(atomic_load(&queued_start) > 0 && atomic_load(&hog_end) > 0);
  /* the queued process ran while the hog still held its worker */
  CHECK(atomic_load(&queued_start) < atomic_load(&hog_end) - 0.5);

  double t0 = t_now();
  CHECK(rusm_runtime_spawn(rt, parent2, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 20000));
  double wall = t_now() - t0;
  CHECK(atomic_load(&busy_done) == 2);
  printf("test_spread: two 0.4 s CPU-bound processes took %.3f s\n", wall);
  CHECK(wall < 0.75);
  rusm_runtime_stop(rt);
  printf("test_spread: ok\n");
  return 0;
}
