/* Shared by the bench_otp sources (see bench_otp.c). */
#ifndef RUSM_BENCH_OTP_H
#define RUSM_BENCH_OTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rusm/otp.h"

/* Every wait in a benchmark gives up (and fails loudly) after this long.
** Receives in the timed parts have no timeout (an Erlang receive arms no
** timer either): a message that never comes shows as a runtime that does not
** become idle, which the main thread reports after this long. */
#define BENCH_TIMEOUT_MS 30000

/* The one message shape of the workloads: 16 bytes, like a small Erlang tuple. */
typedef struct bmsg {
  uint32_t tag;
  uint32_t pad;
  uint64_t val;
} bmsg;

enum { T_VALUE = 1, T_TOKEN, T_NEXT, T_STOP, T_DONE };

/* Prints "bench_otp NAME: FAILED: ..." on stderr and exits with status 1. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Records the figure of the current run (rate per second, or bytes). */
void bench_result(double v);
uint64_t bench_now_ns(void);
/* The clock at the start / end of the timed part (see RUSM_BENCH_PERF_FIFO). */
uint64_t bench_start(void);
uint64_t bench_stop(void);
double bench_rate(uint64_t count, uint64_t t0, uint64_t t1);
/* Sends {tag, val} (fails loudly if the send is refused). */
void bench_send(rusm_pid to, uint32_t tag, uint64_t val);
/* The bmsg in m (fails loudly on anything else). */
bmsg bench_read(const rusm_msg *m);
/* In a coroutine: the next message, which must carry want_tag. */
bmsg bench_receive(uint32_t want_tag);

/* bench_otp_server.c (built when rusm/server.h and rusm/supervisor.h exist). */
void bench_drv_sup_restart(const void *arg, size_t len);
void bench_drv_call_rtt(const void *arg, size_t len);

#endif
