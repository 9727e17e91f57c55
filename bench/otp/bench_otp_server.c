/*
** bench_otp: the workloads on the server and supervisor behaviours
** (sup_restart, call_rtt), mirroring rusm_bench.erl's gen_server and OTP
** supervisor versions. Built only when rusm/server.h and rusm/supervisor.h
** exist (bench/otp/CMakeLists.txt).
*/
#include "bench_otp.h"

#include <string.h>

#include "rusm/server.h"
#include "rusm/supervisor.h"

enum { SUP_N = 10000, CALL_N = 1000000 };

/* Call timeout: gen_server:call's default, 5 s. */
#define CALL_TIMEOUT_MS 5000

/* ---- sup_restart: a one_for_one supervisor with one server child that
** announces itself to the driver from init and stops on a crash cast. */

static int crashy_init(void *state, const void *arg, size_t len) {
  (void)state;
  rusm_pid driver;
  if (len != sizeof driver) bench_fail("crashy: bad arg");
  memcpy(&driver, arg, sizeof driver);
  bench_send(driver, T_VALUE, rusm_self());
  return 0;
}

static int crashy_cast(void *state, const void *req, size_t len) {
  (void)state, (void)req, (void)len;
  rusm_exit(rusm_reason_str("crash"));
  return 1;
}

static const rusm_server_ops crashy_ops = {
  .state_size = sizeof(uint64_t),
  .init = crashy_init,
  .handle_cast = crashy_cast,
};

void bench_drv_sup_restart(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_pid self = rusm_self();
  rusm_child_spec child = {
    .id = "worker",
    .server = &crashy_ops,
    .arg = &self,
    .arg_len = sizeof self,
    .restart = RUSM_PERMANENT,
    .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL,
  };
  /* Intensity high enough that the benchmark's crashes never exceed it. */
  rusm_sup_spec spec = {RUSM_ONE_FOR_ONE, 2 * SUP_N + 10, 1000, &child, 1};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  if (!sup) bench_fail("supervisor start failed");
  rusm_pid p = bench_receive(T_VALUE).val;
  bmsg crash = {T_STOP, 0, 0};
  uint64_t t0 = bench_start();
  for (int i = 0; i < SUP_N; i++) {
    if (rusm_cast(p, &crash, sizeof crash) != 0) bench_fail("cast failed");
    rusm_pid p2 = bench_receive(T_VALUE).val;
    if (p2 == p || !p2) bench_fail("restart %d: no new child", i);
    p = p2;
  }
  uint64_t t1 = bench_stop();
  if (rusm_supervisor_stop(NULL, sup) != RUSM_SUP_OK) bench_fail("supervisor stop failed");
  bench_result(bench_rate(SUP_N, t0, t1));
}

/* ---- call_rtt: sequential calls to a server that echoes the request. */

static int echo_call(void *state, const rusm_from *from, const void *req, size_t len) {
  (void)state;
  if (rusm_reply(from, req, len) != 0) bench_fail("reply failed");
  return 0;
}

static const rusm_server_ops echo_ops = {
  .state_size = sizeof(uint64_t),
  .handle_call = echo_call,
};

void bench_drv_call_rtt(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_pid srv = rusm_server_start(&echo_ops, NULL, 0, NULL);
  if (!srv) bench_fail("server start failed");
  uint64_t t0 = bench_start();
  for (uint64_t k = CALL_N; k > 0; k--) {
    bmsg req = {T_VALUE, 0, k}, rep;
    rusm_call_result res;
    if (rusm_call(srv, &req, sizeof req, CALL_TIMEOUT_MS, &res) != 0)
      bench_fail("call %llu failed", (unsigned long long)k);
    if (res.len != sizeof rep) bench_fail("reply of %zu bytes", res.len);
    memcpy(&rep, res.data, sizeof rep);
    if (rep.tag != T_VALUE || rep.val != k) bench_fail("wrong reply");
    rusm_call_result_free(&res);
  }
  uint64_t t1 = bench_stop();
  if (rusm_server_stop(rusm_runtime_current(), srv, RUSM_REASON(RUSM_EXIT_NORMAL),
                       BENCH_TIMEOUT_MS) != 0)
    bench_fail("server stop failed");
  bench_result(bench_rate(CALL_N, t0, t1));
}
