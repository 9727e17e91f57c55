/*
** test_many_coros.c -- 100,000 coroutine processes alive at the same time:
** stacks past the guarded budget are carved from shared mappings, so the
** kernel's map-count limit is not exhausted (spawn and malloc keep working);
** each idle coroutine stays within 8 KiB by process info; all then receive a
** message and exit.
*/
#include "otp_test.h"

static _Atomic long finished;

static void idle(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  CHECK(m);
  rusm_msg_free(m);
  atomic_fetch_add(&finished, 1);
}

static long n;
static rusm_pid *pids;
static _Atomic int spawned_all;

static void driver(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (long i = 0; i < n; i++) CHECK((pids[i] = rusm_spawn(idle, NULL, 0, NULL)));
  atomic_store(&spawned_all, 1);
}

static long map_count(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  long c = 0;
  char buf[512];
  while (f && fgets(buf, sizeof buf, f)) c++;
  if (f) fclose(f);
  return c;
}

int main(void) {
#if defined(RUSM_TSAN)
  /* TSan maps a shadow stack per fiber, which runs into the kernel's map
  ** limit long before our stacks do: check the same rules at a smaller size */
  n = env_long("RUSM_TEST_N", 10000);
#else
  n = env_long("RUSM_TEST_N", 100000);
#endif
  pids = calloc((size_t)n, sizeof *pids);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt && pids);
  CHECK(rusm_runtime_spawn(rt, driver, NULL, 0, NULL));
  CHECK(WAIT_FOR(atomic_load(&spawned_all) == 1, 60000));
  rusm_process_info info;
  CHECK(WAIT_FOR(rusm_process_info_get(rt, pids[n - 1], &info) && info.status == RUSM_STATUS_WAITING,
                 30000));
  CHECK(info.memory <= 8192);
  long maps = map_count();
  printf("test_many_coros: %ld coroutines alive, %ld kernel mappings\n", n, maps);
  CHECK(maps < 60000);
  void *probe = malloc(1 << 20);   /* malloc still gets memory */
  CHECK(probe);
  free(probe);
  for (long i = 0; i < n; i++) CHECK(rusm_runtime_send(rt, pids[i], "x", 1) == 0);
  CHECK(rusm_runtime_wait_idle(rt, 60000));
  CHECK(atomic_load(&finished) == n);
  rusm_runtime_stop(rt);
  free(pids);
  printf("test_many_coros: ok\n");
  return 0;
}
