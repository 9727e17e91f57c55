/*
** test_supervisor_perf: many crash/restart cycles under one_for_one, each
** answered by a fresh pid; the test's deadline catches a restart path that
** stalls. The rate is printed for the record, never asserted: figures come
** from `make bench` (bench/otp, sup_restart).
*/
#include "test_supervisor_worker.h"

enum { CYCLES = 20000 };

/* A child that tells the driver its pid from init, then waits to be killed. */
static int announce_init(void *state, const void *arg, size_t len)
{
  (void)state;
  rusm_pid driver;
  if (len != sizeof driver) return 1;
  memcpy(&driver, arg, sizeof driver);
  rusm_pid self = rusm_self();
  rusm_send(driver, &self, sizeof self);
  return 0;
}

static int ignore(void *state, rusm_msg *m)
{
  (void)state, (void)m;
  return 0;
}

static const rusm_handler_ops announce_handler = {0, announce_init, ignore, NULL};
static const rusm_server_ops announce_server = {.init = announce_init};

static rusm_pid next_pid(tctx *ctx)
{
  rusm_msg *m = rusm_receive(5000);
  CHECK(ctx, m != NULL);
  rusm_pid p = 0;
  if (m) {
    memcpy(&p, rusm_msg_data(m), sizeof p);
    rusm_msg_free(m);
  }
  return p;
}

static void cycles(tctx *ctx, const char *what, rusm_child_spec *c)
{
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 10 * CYCLES, 1000, c, 1};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  CHECK(ctx, sup != 0);
  rusm_pid p = next_pid(ctx);
  int64_t t0 = h_now_ms();
  for (int i = 0; i < CYCLES && p; i++) {
    rusm_exit_signal(p, rusm_reason_str("crash"));
    rusm_pid q = next_pid(ctx);
    CHECK(ctx, q != p && q != 0);
    p = q;
  }
  int64_t dt = h_now_ms() - t0;
  double rate = CYCLES / (dt > 0 ? dt / 1000.0 : 0.001);
  printf("sup_restart(%s child): %d crash/restart cycles in %lld ms = %.0f restarts/s\n", what,
         CYCLES, (long long)dt, rate);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

static void t_restart_rate(tctx *ctx)
{
  rusm_pid self = rusm_self();
  rusm_child_spec h = {.id = "h", .handler = &announce_handler, .arg = &self,
                       .arg_len = sizeof self, .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL};
  cycles(ctx, "handler", &h);
  rusm_child_spec sv = {.id = "s", .server = &announce_server, .arg = &self,
                        .arg_len = sizeof self, .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL};
  cycles(ctx, "server", &sv);
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = run_test(rt, "restart_rate", t_restart_rate, 120000);
  rusm_runtime_stop(rt);
  printf(fails ? "test_supervisor_perf: %d failure(s)\n" : "test_supervisor_perf: ok\n", fails);
  return fails ? 1 : 0;
}
