/*
** test_server_perf: many call round trips, from a coroutine and from a plain
** thread, each answered correctly; the test's deadline catches a call path
** that stalls. The rate is printed for the record, never asserted: figures
** come from `make bench` (bench/otp, call_rtt).
*/
#include "test_supervisor_harness.h"

enum { CALLS = 200000, THREAD_CALLS = 2000 };

static int echo(void *state, const rusm_from *from, const void *req, size_t len)
{
  (void)state;
  rusm_reply(from, req, len);
  return 0;
}

static const rusm_server_ops echo_ops = {.handle_call = echo};

static void t_call_rtt(tctx *ctx)
{
  rusm_pid srv = rusm_server_start(&echo_ops, NULL, 0, NULL);
  CHECK(ctx, srv != 0);
  int64_t t0 = h_now_ms();
  for (uint64_t i = 0; i < CALLS; i++) {
    rusm_call_result r;
    if (rusm_call(srv, &i, sizeof i, 5000, &r) != 0 || r.len != sizeof i ||
        memcmp(r.data, &i, sizeof i) != 0) {
      CHECK(ctx, !"call failed");
      rusm_call_result_free(&r);
      break;
    }
    rusm_call_result_free(&r);
  }
  int64_t dt = h_now_ms() - t0;
  double rate = CALLS / (dt > 0 ? dt / 1000.0 : 0.001);
  printf("call_rtt (coroutine caller): %d calls in %lld ms = %.0f calls/s (%.2f us each)\n", CALLS,
         (long long)dt, rate, 1000.0 * (double)dt / CALLS);
  /* the caller's mailbox holds nothing after all those monitors */
  rusm_msg *m = rusm_receive(0);
  CHECK(ctx, m == NULL);
  if (m) rusm_msg_free(m);
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = run_test(rt, "call_rtt", t_call_rtt, 120000);
  /* from a plain thread: each call goes through a proxy process */
  rusm_pid srv = rusm_runtime_server_start(rt, &echo_ops, NULL, 0, NULL);
  int64_t t0 = h_now_ms();
  for (int i = 0; i < THREAD_CALLS; i++) {
    rusm_call_result r;
    if (rusm_runtime_call(rt, srv, &i, sizeof i, 5000, &r) != 0) {
      fprintf(stderr, "FAIL: thread call %d\n", i);
      fails++;
      rusm_call_result_free(&r);
      break;
    }
    rusm_call_result_free(&r);
  }
  int64_t dt = h_now_ms() - t0;
  printf("call_rtt (thread caller, via proxy): %d calls in %lld ms = %.1f us each\n", THREAD_CALLS,
         (long long)dt, 1000.0 * (double)dt / THREAD_CALLS);
  rusm_runtime_stop(rt);
  printf(fails ? "test_server_perf: %d failure(s)\n" : "test_server_perf: ok\n", fails);
  return fails ? 1 : 0;
}
