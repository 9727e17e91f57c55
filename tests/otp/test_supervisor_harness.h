/*
** test_supervisor_harness.h -- the little harness shared by the server and
** supervisor tests: a driver coroutine per scenario, failure counting, and
** an event log that children write to (from any worker thread) so that a
** test can check what happened and in which order.
*/
#ifndef TEST_SUPERVISOR_HARNESS_H
#define TEST_SUPERVISOR_HARNESS_H

#include "rusm/otp.h"
#include "rusm/server.h"
#include "rusm/supervisor.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EV_MAX 4096
#define EV_LEN 48

typedef struct elog {
  pthread_mutex_t mu;
  int n;
  char ev[EV_MAX][EV_LEN];
} elog;

typedef struct tctx {
  rusm_runtime *rt;
  atomic_int done;
  atomic_int failures;
  elog log;
  const char *name;
} tctx;

static inline void elog_add(elog *l, const char *fmt, ...)
{
  char buf[EV_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&l->mu);
  if (l->n < EV_MAX) memcpy(l->ev[l->n++], buf, EV_LEN);
  pthread_mutex_unlock(&l->mu);
}

static inline int elog_count(elog *l)
{
  pthread_mutex_lock(&l->mu);
  int n = l->n;
  pthread_mutex_unlock(&l->mu);
  return n;
}

static inline void elog_reset(elog *l)
{
  pthread_mutex_lock(&l->mu);
  l->n = 0;
  pthread_mutex_unlock(&l->mu);
}

static inline int64_t h_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (in a coroutine when inside a process, else on the thread) until
** the log has at least n events; false after timeout_ms. */
static inline bool elog_wait(elog *l, int n, int64_t timeout_ms)
{
  int64_t end = h_now_ms() + timeout_ms;
  while (elog_count(l) < n) {
    if (h_now_ms() > end) return false;
    if (rusm_self()) {
      rusm_sleep(1);
    } else {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  return true;
}

/* The events joined by spaces, from index `from`. */
static inline void elog_join(elog *l, int from, char *out, size_t size)
{
  out[0] = 0;
  size_t used = 0;
  pthread_mutex_lock(&l->mu);
  for (int i = from; i < l->n && used + EV_LEN + 2 < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%s", i > from ? " " : "", l->ev[i]);
  pthread_mutex_unlock(&l->mu);
}

#define CHECK(ctx, cond)                                                           \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, (ctx)->name,    \
              #cond);                                                              \
      atomic_fetch_add(&(ctx)->failures, 1);                                       \
    }                                                                              \
  } while (0)

/* Checks that the events from index `from` are exactly `want`. */
#define CHECK_EVENTS(ctx, from, want)                                              \
  do {                                                                             \
    char got_[4096];                                                               \
    elog_join(&(ctx)->log, (from), got_, sizeof got_);                             \
    if (strcmp(got_, (want)) != 0) {                                               \
      fprintf(stderr, "FAIL %s:%d [%s]: events\n  got:  %s\n  want: %s\n",         \
              __FILE__, __LINE__, (ctx)->name, got_, (want));                      \
      atomic_fetch_add(&(ctx)->failures, 1);                                       \
    }                                                                              \
  } while (0)

typedef void (*test_fn)(tctx *ctx);

typedef struct driver_arg {
  tctx *ctx;
  test_fn fn;
} driver_arg;

static inline void h_driver(const void *arg, size_t len)
{
  driver_arg a;
  if (len != sizeof a) return;
  memcpy(&a, arg, sizeof a);
  a.fn(a.ctx);
  atomic_store(&a.ctx->done, 1);
}

/* After a hang: what the processes that are not idle are doing. */
static inline void h_dump(rusm_runtime *rt)
{
  size_t n = rusm_processes(rt, NULL, 0);
  rusm_pid *pids = malloc((n + 16) * sizeof *pids);
  if (!pids) return;
  n = rusm_processes(rt, pids, n + 16);
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    rusm_process_info in;
    if (!rusm_process_info_get(rt, pids[i], &in)) continue;
    bool plain = strcmp(in.body_kind, "handler") == 0 && in.mailbox_len == 0;
    if (plain || shown++ >= 20) continue;
    fprintf(stderr, "  pid %llx %s status %d mailbox %zu links %zu monitors %zu parent %llx\n",
            (unsigned long long)pids[i], in.body_kind, (int)in.status, in.mailbox_len, in.links,
            in.monitors, (unsigned long long)in.parent);
  }
  fprintf(stderr, "  (%zu processes)\n", n);
  free(pids);
}

/* Runs fn in a fresh driver coroutine; returns its failures (a hang counts). */
static inline int run_test(rusm_runtime *rt, const char *name, test_fn fn, int64_t timeout_ms)
{
  tctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return 1;
  pthread_mutex_init(&ctx->log.mu, NULL);
  ctx->rt = rt;
  ctx->name = name;
  driver_arg a = {ctx, fn};
  rusm_pid d = rusm_runtime_spawn(rt, h_driver, &a, sizeof a, NULL);
  int fails = 0;
  if (!d) {
    fprintf(stderr, "FAIL [%s]: cannot spawn the driver\n", name);
    fails = 1;
  } else {
    int64_t end = h_now_ms() + timeout_ms;
    while (!atomic_load(&ctx->done) && h_now_ms() < end) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    if (!atomic_load(&ctx->done)) {
      fprintf(stderr, "FAIL [%s]: timed out after %lld ms\n", name, (long long)timeout_ms);
      h_dump(rt);
      fails = 1;
      /* the driver may still touch ctx: leak it rather than free under it */
      return fails;
    }
    fails += atomic_load(&ctx->failures);
  }
  printf("%s %s\n", fails ? "FAIL" : "ok  ", name);
  fflush(stdout);
  pthread_mutex_destroy(&ctx->log.mu);
  free(ctx);
  return fails;
}

/* Waits until `pred(ctx, arg)` holds, sleeping 1 ms at a time, in a process. */
static inline bool h_wait_until(bool (*pred)(void *), void *arg, int64_t timeout_ms)
{
  int64_t end = h_now_ms() + timeout_ms;
  while (!pred(arg)) {
    if (h_now_ms() > end) return false;
    rusm_sleep(1);
  }
  return true;
}

/* The pid of child `id` under sup, 0 if absent or not running. */
static inline rusm_pid h_child_pid(rusm_runtime *rt, rusm_pid sup, const char *id)
{
  rusm_child_info ci[64];
  int n = rusm_supervisor_which_children(rt, sup, ci, 64);
  for (int i = 0; i < n && i < 64; i++)
    if (strcmp(ci[i].id, id) == 0) return ci[i].pid;
  return 0;
}

static inline bool h_alive(rusm_runtime *rt, rusm_pid pid)
{
  rusm_process_info info;
  return rusm_process_info_get(rt, pid, &info) && info.status != RUSM_STATUS_DEAD;
}

#endif
