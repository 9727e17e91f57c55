/*
** otp_test.h -- tiny helpers shared by the core's tests: a CHECK that works
** from any thread (a failure prints and exits non-zero at once), and a
** result mailbox the test's main thread polls.
*/
#ifndef RUSM_OTP_TEST_H
#define RUSM_OTP_TEST_H

#include <rusm/otp.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);   \
      fflush(stderr);                                                         \
      _exit(1);                                                               \
    }                                                                         \
  } while (0)

static inline double t_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Polls cond (an expression) until true or ms pass; returns its value. */
#define WAIT_FOR(cond, ms)                                                    \
  ({                                                                          \
    double until_ = t_now() + (ms) / 1000.0;                                  \
    while (!(cond) && t_now() < until_) usleep(200);                          \
    (cond);                                                                   \
  })

/* The same inside a coroutine process: sleeps the process, not the worker. */
#define PWAIT_FOR(cond, ms)                                                   \
  ({                                                                          \
    double until_ = t_now() + (ms) / 1000.0;                                  \
    while (!(cond) && t_now() < until_) rusm_sleep(1);                        \
    (cond);                                                                   \
  })

static inline long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

#endif
