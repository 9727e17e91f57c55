/*
** test_supervisor_scale: a simple_one_for_one supervisor with 100,000
** children: added one by one at run time, all crashed at once and all
** restarted, then shut down all at once. Checks the counts, that every old
** child is gone and every new one alive, and prints the rates.
*/
#include "test_supervisor_worker.h"

enum { N = 100000 };

static int idle_handle(void *state, rusm_msg *m)
{
  (void)state, (void)m;
  return 0;
}

static const rusm_handler_ops idle_ops = {0, NULL, idle_handle, NULL};

static void t_scale(tctx *ctx)
{
  rusm_child_spec tmpl = {.handler = &idle_ops, .restart = RUSM_PERMANENT,
                          .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL};
  rusm_sup_spec s = {RUSM_SIMPLE_ONE_FOR_ONE, 2 * N, 10000, &tmpl, 1};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  CHECK(ctx, sup != 0);
  rusm_pid *old = malloc(N * sizeof *old);
  int64_t t0 = h_now_ms();
  for (int i = 0; i < N; i++) {
    if (rusm_supervisor_start_dynamic(NULL, sup, NULL, 0, &old[i]) != RUSM_SUP_OK || !old[i]) {
      CHECK(ctx, !"start_dynamic failed");
      free(old);
      return;
    }
  }
  int64_t t1 = h_now_ms();
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == N);

  /* every child crashes at once: N restarts, each one a spawn + link */
  for (int i = 0; i < N; i++) rusm_exit_signal(old[i], rusm_reason_str("crash"));
  int64_t t2 = h_now_ms();
  rusm_child_info *ci = malloc(N * sizeof *ci);
  bool all_new = false;
  int64_t end = t2 + 60000;
  while (!all_new && h_now_ms() < end) {
    int n = rusm_supervisor_which_children(NULL, sup, ci, N);
    CHECK(ctx, n == N);
    if (n != N) break;
    /* restarted children have pids newer than any old one: all old dead? */
    all_new = true;
    for (int i = 0; i < N && all_new; i++) all_new = !h_alive(ctx->rt, old[i]);
    if (!all_new) rusm_sleep(5);
  }
  int64_t t3 = h_now_ms();
  CHECK(ctx, all_new);
  int n = rusm_supervisor_which_children(NULL, sup, ci, N);
  CHECK(ctx, n == N);
  int alive = 0;
  for (int i = 0; i < n && i < N; i++) alive += h_alive(ctx->rt, ci[i].pid);
  CHECK(ctx, alive == N);
  int64_t t4 = h_now_ms();
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  int64_t t5 = h_now_ms();
  int left = 0;
  for (int i = 0; i < n && i < N; i++) left += h_alive(ctx->rt, ci[i].pid);
  CHECK(ctx, left == 0);
  printf("scale: %d start_dynamic calls in %lld ms; %d simultaneous crashes repaired in "
         "<= %lld ms; stop of %d children in %lld ms\n",
         N, (long long)(t1 - t0), N, (long long)(t3 - t2), N, (long long)(t5 - t4));
  free(ci);
  free(old);
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = run_test(rt, "scale", t_scale, 120000);
  rusm_runtime_stop(rt);
  printf(fails ? "test_supervisor_scale: %d failure(s)\n" : "test_supervisor_scale: ok\n", fails);
  return fails ? 1 : 0;
}
