/*
** stress_links.c -- 100,000 linked processes killed at once, twice: (1) a
** non-trapping parent linked to all of them is killed and the exit signal
** fans out to every child; (2) a trapping parent kills all its children and
** must receive exactly one EXIT (reason killed) from each, after which its
** link set is empty.  Nothing may remain alive, and every spawn must be
** matched by an exit.  Run under TSan; RUSM_TEST_N scales the count.
*/
#include "otp_test.h"

static long n;
static _Atomic int phase1_ready, phase2_ok;

static const rusm_handler_ops idle_ops = {0, NULL, NULL, NULL};

static void parent_plain(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  for (long i = 0; i < n; i++) CHECK(rusm_spawn_handler(&idle_ops, NULL, 0, &o));
  atomic_store(&phase1_ready, 1);
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

static void parent_trap(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  rusm_pid *kids = malloc((size_t)n * sizeof *kids);
  CHECK(kids);
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  for (long i = 0; i < n; i++) CHECK((kids[i] = rusm_spawn_handler(&idle_ops, NULL, 0, &o)));
  for (long i = 0; i < n; i++) rusm_kill(kids[i]);
  free(kids);
  for (long i = 0; i < n; i++) {
    rusm_msg *m = rusm_receive(60000);
    CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT);
    CHECK(rusm_msg_reason(m).kind == RUSM_EXIT_KILLED);
    rusm_msg_free(m);
  }
  CHECK(rusm_receive(0) == NULL);
  rusm_process_info info;
  CHECK(rusm_process_info_get(rusm_runtime_current(), rusm_self(), &info) && info.links == 0);
  atomic_store(&phase2_ok, 1);
}

int main(void) {
  n = env_long("RUSM_TEST_N", 100000);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  double t0 = t_now();
  rusm_pid p = rusm_runtime_spawn(rt, parent_plain, NULL, 0, NULL);
  CHECK(p);
  CHECK(WAIT_FOR(atomic_load(&phase1_ready) == 1, 60000));
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == (size_t)n + 1);
  double t1 = t_now();
  rusm_runtime_exit_signal(rt, p, RUSM_REASON(RUSM_EXIT_KILL));
  CHECK(rusm_runtime_wait_idle(rt, 60000));
  double t2 = t_now();
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 0 && st.spawned_total == st.exited_total);
  CHECK(rusm_processes(rt, NULL, 0) == 0);
  printf("stress_links: %ld linked spawned in %.3f s, killed in %.3f s\n", n, t1 - t0, t2 - t1);

  t0 = t_now();
  CHECK(rusm_runtime_spawn(rt, parent_trap, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 60000));
  CHECK(atomic_load(&phase2_ok) == 1);
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 0 && st.spawned_total == st.exited_total);
  printf("stress_links: %ld trapped EXITs in %.3f s\n", n, t_now() - t0);
  rusm_runtime_stop(rt);
  printf("stress_links: ok\n");
  return 0;
}
