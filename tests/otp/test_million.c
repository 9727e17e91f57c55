/*
** test_million.c -- a million processes spawn and exit with nothing left
** behind: every spawn is matched by an exit, the pid table is empty, and
** the third and fourth millions do not grow the resident set (blocks, pids
** and stacks are recycled, not leaked; the ASan build checks the rest at
** stop).  Also 100,000 coroutines, which take stacks from the pool.
*/
#include "otp_test.h"

static int quit_init(void *st, const void *arg, size_t len) {
  (void)st;
  (void)arg;
  (void)len;
  return 1;   /* exit at once */
}
static const rusm_handler_ops quitter = {16, quit_init, NULL, NULL};

static void nothing(const void *arg, size_t len) {
  (void)arg;
  (void)len;
}

static void spawner(const void *arg, size_t len) {
  long n[2];
  CHECK(len == sizeof n);
  memcpy(n, arg, sizeof n);
  for (long i = 0; i < n[0]; i++) CHECK(rusm_spawn_handler(&quitter, &i, sizeof i, NULL));
  for (long i = 0; i < n[1]; i++) CHECK(rusm_spawn(nothing, &i, sizeof i, NULL));
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void) {
  long n = env_long("RUSM_TEST_N", 1000000);
  long spawners = 4;
  long each[2] = {n / spawners, n / 10 / spawners};
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  int rounds = (int)env_long("RUSM_TEST_ROUNDS", 4);
  if (rounds < 4) rounds = 4;
  long rss[64];
  if (rounds > 64) rounds = 64;
  for (int round = 0; round < rounds; round++) {
    double t0 = t_now();
    for (long s = 0; s < spawners; s++) CHECK(rusm_runtime_spawn(rt, spawner, each, sizeof each, NULL));
    CHECK(rusm_runtime_wait_idle(rt, 120000));
    double dt = t_now() - t0;
    rusm_runtime_stats st;
    rusm_runtime_stats_get(rt, &st);
    uint64_t expect = (uint64_t)(round + 1) * (uint64_t)(spawners * (1 + each[0] + each[1]));
    CHECK(st.process_count == 0);
    CHECK(st.spawned_total == expect);
    CHECK(st.exited_total == expect);
    CHECK(rusm_processes(rt, NULL, 0) == 0);
    rss[round] = rss_kb();
    printf("test_million: round %d: %ld processes in %.3f s, rss %ld KiB\n", round,
           spawners * (each[0] + each[1]), dt, rss[round]);
  }
  /* later rounds reuse what the first allocated (sanitizers keep freed
  ** memory in quarantine, and check leaks themselves at exit) */
#if !defined(RUSM_SANITIZER)
  /* bounded caches (per-worker free lists, the runtime pools) may still
  ** fill up after round 1; a leak of even 8 bytes a process would add 17 MB */
  CHECK(rss[rounds - 1] - rss[1] < 16 * 1024);
#endif
  rusm_runtime_stop(rt);
  printf("test_million: ok\n");
  return 0;
}
