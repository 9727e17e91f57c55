/*
** bench_otp -- the RUSM side of the actor benchmarks (bench/otp/run.sh).
**
**   bench_otp NAME [RUNS]
**
** Starts one runtime (RUSM_BENCH_WORKERS workers, default 2), runs workload
** NAME RUNS times (default 1) and prints one `RESULT <value>` line per run:
** a rate in units per second, or bytes per process for idle_mem_*. run.sh
** takes the median and prints the figures. Exit status: 0 done, 1 a check
** failed (message on stderr), 2 NAME is not a workload of this program.
**
** Every workload is written as a user of the public API would write it, and
** mirrors rusm_bench.erl one for one: a driver process (a coroutine, like
** the Erlang driver process) builds the processes, times the workload with
** the monotonic clock and verifies what happened (token values, message
** counts and sums, EXIT reasons); the main thread then waits until the
** runtime is idle and checks that exactly the expected number of processes
** was spawned and has exited.
*/
#include "bench_otp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --------------------------------------------------------------- sizes */

enum {
  SPAWN_N = 1000000,
  IDLE_N = 1000000,
  IDLE_CORO_N = 100000,
  PING_N = 1000000,
  RING_N = 10000,
  RING_LAPS = 100,
  MRING_N = 1000,
  MRING_HOPS = 10000,
  FAN_SENDERS = 1000,
  FAN_MSGS = 1000,
  LINK_N = 100000
};

/* --------------------------------------------------------------- helpers */

static const char *g_name = "?";
static _Atomic int g_have_result;
static double g_result;

void bench_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "bench_otp %s: FAILED: ", g_name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stdout);
  fflush(stderr);
  _exit(1);
}

void bench_result(double v) {
  g_result = v;
  atomic_store_explicit(&g_have_result, 1, memory_order_release);
}

/* With RUSM_BENCH_PERF_FIFO=path (a perf --control fifo), the timed part
** of each run is the only part perf records:
**   mkfifo /tmp/ctl; RUSM_BENCH_PERF_FIFO=/tmp/ctl perf record -D -1 \
**     --control fifo:/tmp/ctl -g build/bench/otp/bench_otp NAME 3 */
static FILE *perf_ctl(void) {
  static FILE *f;
  static bool tried;
  if (!tried) {
    tried = true;
    const char *path = getenv("RUSM_BENCH_PERF_FIFO");
    if (path && *path && !(f = fopen(path, "w"))) bench_fail("cannot open %s", path);
  }
  return f;
}

uint64_t bench_start(void) {
  FILE *f = perf_ctl();
  if (f) fputs("enable\n", f), fflush(f);
  return bench_now_ns();
}

uint64_t bench_stop(void) {
  uint64_t t = bench_now_ns();
  FILE *f = perf_ctl();
  if (f) fputs("disable\n", f), fflush(f);
  return t;
}

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_rate(uint64_t count, uint64_t t0, uint64_t t1) {
  if (t1 <= t0) bench_fail("clock did not advance");
  return (double)count / ((double)(t1 - t0) / 1e9);
}

void bench_send(rusm_pid to, uint32_t tag, uint64_t val) {
  bmsg m = {tag, 0, val};
  if (rusm_send(to, &m, sizeof m) != 0) bench_fail("rusm_send failed");
}

bmsg bench_read(const rusm_msg *m) {
  bmsg b;
  if (rusm_msg_kind_of(m) != RUSM_MSG_USER || rusm_msg_size(m) != sizeof b)
    bench_fail("unexpected message (kind %d, %zu bytes)", (int)rusm_msg_kind_of(m),
               rusm_msg_size(m));
  memcpy(&b, rusm_msg_data(m), sizeof b);
  return b;
}

bmsg bench_receive(uint32_t want_tag) {
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  if (!m) bench_fail("receive returned nothing (waiting for tag %u)", want_tag);
  bmsg b = bench_read(m);
  rusm_msg_free(m);
  if (b.tag != want_tag) bench_fail("got tag %u, want %u", b.tag, want_tag);
  return b;
}

static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (!f) bench_fail("cannot open /proc/self/statm");
  if (fscanf(f, "%lu %lu", &size, &resident) != 2) bench_fail("cannot read statm");
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* A pid array, touched before any measurement so its pages are resident. */
static rusm_pid *pid_array(size_t n) {
  rusm_pid *p = malloc(n * sizeof *p);
  if (!p) bench_fail("out of memory");
  memset(p, 0, n * sizeof *p);
  return p;
}

/* Yields until the runtime holds `count` processes again. */
static void wait_process_count(size_t count) {
  rusm_runtime *rt = rusm_runtime_current();
  uint64_t deadline = bench_now_ns() + (uint64_t)BENCH_TIMEOUT_MS * 1000000u;
  for (;;) {
    rusm_runtime_stats s;
    rusm_runtime_stats_get(rt, &s);
    if (s.process_count == count) return;
    if (bench_now_ns() > deadline)
      bench_fail("timed out: %zu processes, want %zu", s.process_count, count);
    rusm_yield();
  }
}

/* Yields until every process in pids[0..n) is blocked waiting for a message. */
static void wait_all_waiting(const rusm_pid *pids, size_t n) {
  rusm_runtime *rt = rusm_runtime_current();
  uint64_t deadline = bench_now_ns() + (uint64_t)BENCH_TIMEOUT_MS * 1000000u;
  for (size_t i = 0; i < n; i++) {
    for (;;) {
      rusm_process_info info;
      if (!rusm_process_info_get(rt, pids[i], &info))
        bench_fail("idle process %zu died", i);
      if (info.status == RUSM_STATUS_WAITING) break;
      if (bench_now_ns() > deadline) bench_fail("timed out waiting for process %zu", i);
      rusm_yield();
    }
  }
}

/* --------------------------------------------------------------- process bodies */

/* Exits at once (spawn_storm). */
static int exiting_init(void *state, const void *arg, size_t len) {
  (void)state, (void)arg, (void)len;
  return 1;
}
static int exiting_handle(void *state, rusm_msg *m) {
  (void)state, (void)m;
  return 1;
}
static const rusm_handler_ops exiting_ops = {sizeof(uint64_t), exiting_init,
                                             exiting_handle, NULL};

static void exiting_fn(const void *arg, size_t len) { (void)arg, (void)len; }

/* Idle until told to stop (spawn_idle, idle_mem_*, link_exit). */
static int idle_init(void *state, const void *arg, size_t len) {
  (void)state, (void)arg, (void)len;
  return 0;
}
static int idle_handle(void *state, rusm_msg *m) {
  (void)state;
  bmsg b = bench_read(m);
  if (b.tag != T_STOP) bench_fail("idle process got tag %u", b.tag);
  return 1;
}
static const rusm_handler_ops idle_ops = {sizeof(uint64_t), idle_init, idle_handle, NULL};

static void idle_fn(const void *arg, size_t len) {
  (void)arg, (void)len;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  if (!m) bench_fail("idle coroutine: receive returned NULL");
  bmsg b = bench_read(m);
  rusm_msg_free(m);
  if (b.tag != T_STOP) bench_fail("idle coroutine got tag %u", b.tag);
}

/* ping_pong: pong echoes every value to its sender. */
static int pong_handle(void *state, rusm_msg *m) {
  (void)state;
  bmsg b = bench_read(m);
  if (b.tag == T_STOP) return 1;
  if (b.tag != T_VALUE) bench_fail("pong got tag %u", b.tag);
  if (rusm_send(rusm_msg_sender(m), &b, sizeof b) != 0) bench_fail("pong: send failed");
  return 0;
}
static const rusm_handler_ops pong_ops = {0, NULL, pong_handle, NULL};

typedef struct ping_arg { rusm_pid pong, driver; uint64_t n; } ping_arg;
typedef struct ping_state { rusm_pid pong, driver; uint64_t k; } ping_state;

static int ping_init(void *state, const void *arg, size_t len) {
  ping_state *s = state;
  ping_arg a;
  if (len != sizeof a) bench_fail("ping: bad arg");
  memcpy(&a, arg, sizeof a);
  s->pong = a.pong, s->driver = a.driver, s->k = a.n;
  bench_send(s->pong, T_VALUE, s->k);
  return 0;
}
static int ping_handle(void *state, rusm_msg *m) {
  ping_state *s = state;
  bmsg b = bench_read(m);
  if (b.tag != T_VALUE || b.val != s->k)
    bench_fail("ping: got %u/%llu, want value %llu", b.tag, (unsigned long long)b.val,
               (unsigned long long)s->k);
  if (--s->k == 0) {
    bench_send(s->pong, T_STOP, 0);
    bench_send(s->driver, T_DONE, 0);
    return 1;
  }
  bench_send(s->pong, T_VALUE, s->k);
  return 0;
}
static const rusm_handler_ops ping_ops = {sizeof(ping_state), ping_init, ping_handle, NULL};

/* ring: forwards {token, r-1}; {token, 0} reports the time to the driver and
** sends stop around the ring. */
typedef struct ring_state { rusm_pid next, driver; } ring_state;

static int ring_init(void *state, const void *arg, size_t len) {
  if (len != sizeof(ring_state)) bench_fail("ring: bad arg");
  memcpy(state, arg, sizeof(ring_state));
  return 0;
}
static int ring_handle(void *state, rusm_msg *m) {
  ring_state *s = state;
  bmsg b = bench_read(m);
  switch (b.tag) {
  case T_TOKEN:
    if (b.val == 0) {
      bench_send(s->driver, T_DONE, bench_now_ns());
      bench_send(s->next, T_STOP, 0);
    } else {
      bench_send(s->next, T_TOKEN, b.val - 1);
    }
    return 0;
  case T_NEXT: s->next = b.val; return 0;
  case T_STOP: bench_send(s->next, T_STOP, 0); return 1;
  default: bench_fail("ring node got tag %u", b.tag);
  }
  return 1;
}
static const rusm_handler_ops ring_ops = {sizeof(ring_state), ring_init, ring_handle, NULL};

/* ring_multi: as ring, but {token, 0} sends done to the driver, which counts. */
static int mring_handle(void *state, rusm_msg *m) {
  ring_state *s = state;
  bmsg b = bench_read(m);
  switch (b.tag) {
  case T_TOKEN:
    if (b.val == 0)
      bench_send(s->driver, T_DONE, 0);
    else
      bench_send(s->next, T_TOKEN, b.val - 1);
    return 0;
  case T_NEXT: s->next = b.val; return 0;
  case T_STOP: return 1;
  default: bench_fail("ring_multi node got tag %u", b.tag);
  }
  return 1;
}
static const rusm_handler_ops mring_ops = {sizeof(ring_state), ring_init, mring_handle, NULL};

/* fan_in: the receiver counts and sums; every sender sends its values then exits. */
typedef struct fan_recv_state { rusm_pid driver; uint64_t left, sum; } fan_recv_state;

static int fan_recv_init(void *state, const void *arg, size_t len) {
  fan_recv_state *s = state;
  if (len != 2 * sizeof(uint64_t)) bench_fail("fan_in: bad arg");
  memcpy(&s->driver, arg, sizeof s->driver);
  memcpy(&s->left, (const char *)arg + sizeof(uint64_t), sizeof s->left);
  return 0;
}
static int fan_recv_handle(void *state, rusm_msg *m) {
  fan_recv_state *s = state;
  bmsg b = bench_read(m);
  if (b.tag != T_VALUE) bench_fail("fan_in receiver got tag %u", b.tag);
  s->sum += b.val;
  if (--s->left == 0) {
    bench_send(s->driver, T_DONE, s->sum);
    return 1;
  }
  return 0;
}
static const rusm_handler_ops fan_recv_ops = {sizeof(fan_recv_state), fan_recv_init,
                                              fan_recv_handle, NULL};

static int fan_send_init(void *state, const void *arg, size_t len) {
  (void)state;
  uint64_t a[2];
  if (len != sizeof a) bench_fail("fan_in sender: bad arg");
  memcpy(a, arg, sizeof a);
  for (uint64_t k = a[1]; k > 0; k--) bench_send(a[0], T_VALUE, k);
  return 1;
}
static const rusm_handler_ops fan_send_ops = {sizeof(uint64_t), fan_send_init,
                                              exiting_handle, NULL};

/* --------------------------------------------------------------- drivers */

static void spawn_storm_run(bool coro) {
  rusm_runtime *rt = rusm_runtime_current();
  rusm_runtime_stats s0;
  rusm_runtime_stats_get(rt, &s0);
  uint64_t t0 = bench_start();
  for (int i = 0; i < SPAWN_N; i++) {
    rusm_pid p = coro ? rusm_spawn(exiting_fn, NULL, 0, NULL)
                      : rusm_spawn_handler(&exiting_ops, NULL, 0, NULL);
    if (!p) bench_fail("spawn %d failed", i);
  }
  wait_process_count(s0.process_count);
  uint64_t t1 = bench_stop();
  bench_result(bench_rate(SPAWN_N, t0, t1));
}
static void drv_spawn_storm(const void *a, size_t l) { (void)a, (void)l; spawn_storm_run(false); }
static void drv_spawn_storm_coro(const void *a, size_t l) { (void)a, (void)l; spawn_storm_run(true); }

static rusm_pid spawn_idle_one(bool coro) {
  return coro ? rusm_spawn(idle_fn, NULL, 0, NULL)
              : rusm_spawn_handler(&idle_ops, NULL, 0, NULL);
}

static void stop_all(const rusm_pid *pids, size_t n) {
  for (size_t i = 0; i < n; i++) bench_send(pids[i], T_STOP, 0);
}

static void drv_spawn_idle(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_runtime *rt = rusm_runtime_current();
  rusm_pid *pids = pid_array(IDLE_N);
  rusm_runtime_stats s0, s1;
  rusm_runtime_stats_get(rt, &s0);
  uint64_t t0 = bench_start();
  for (size_t i = 0; i < IDLE_N; i++)
    if (!(pids[i] = spawn_idle_one(false))) bench_fail("spawn %zu failed", i);
  wait_all_waiting(pids, IDLE_N);
  uint64_t t1 = bench_stop();
  rusm_runtime_stats_get(rt, &s1);
  if (s1.process_count != s0.process_count + IDLE_N)
    bench_fail("%zu processes alive, want %zu", s1.process_count,
               s0.process_count + (size_t)IDLE_N);
  stop_all(pids, IDLE_N);
  free(pids);
  bench_result(bench_rate(IDLE_N, t0, t1));
}

static void idle_mem_run(bool coro, size_t n) {
  rusm_runtime *rt = rusm_runtime_current();
  rusm_pid *pids = pid_array(n);
  rusm_runtime_stats s0, s1;
  rusm_runtime_stats_get(rt, &s0);
  size_t rss0 = rss_bytes();
  for (size_t i = 0; i < n; i++)
    if (!(pids[i] = spawn_idle_one(coro))) bench_fail("spawn %zu failed", i);
  wait_all_waiting(pids, n);
  size_t rss1 = rss_bytes();
  rusm_runtime_stats_get(rt, &s1);
  if (s1.process_count != s0.process_count + n)
    bench_fail("%zu processes alive, want %zu", s1.process_count, s0.process_count + n);
  stop_all(pids, n);
  free(pids);
  bench_result(((double)rss1 - (double)rss0) / (double)n);
}
/* The process count of idle_mem_* can be changed by hand (third argument),
** for diagnosis only: run.sh always uses the defaults. */
static size_t g_count_override;
static void drv_idle_mem_handler(const void *a, size_t l) {
  (void)a, (void)l;
  idle_mem_run(false, g_count_override ? g_count_override : IDLE_N);
}
static void drv_idle_mem_coro(const void *a, size_t l) {
  (void)a, (void)l;
  idle_mem_run(true, g_count_override ? g_count_override : IDLE_CORO_N);
}

static void drv_ping_pong(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_pid pong = rusm_spawn_handler(&pong_ops, NULL, 0, NULL);
  if (!pong) bench_fail("spawn pong failed");
  ping_arg pa = {pong, rusm_self(), PING_N};
  uint64_t t0 = bench_start();
  rusm_pid ping = rusm_spawn_handler(&ping_ops, &pa, sizeof pa, NULL);
  if (!ping) bench_fail("spawn ping failed");
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  if (!m) bench_fail("timed out");
  uint64_t t1 = bench_stop();
  bmsg b = bench_read(m);
  if (b.tag != T_DONE || rusm_msg_sender(m) != ping) bench_fail("bad done message");
  rusm_msg_free(m);
  bench_result(bench_rate(PING_N, t0, t1));
}

/* Spawns a ring of n nodes (head first, its next set by message), writing the
** pids to nodes[0..n) if nodes is not NULL; returns the head. */
static rusm_pid build_ring(const rusm_handler_ops *ops, size_t n, rusm_pid *nodes) {
  ring_state st = {0, rusm_self()};
  rusm_pid head = rusm_spawn_handler(ops, &st, sizeof st, NULL);
  if (!head) bench_fail("spawn ring head failed");
  if (nodes) nodes[0] = head;
  st.next = head;
  for (size_t i = 1; i < n; i++) {
    rusm_pid p = rusm_spawn_handler(ops, &st, sizeof st, NULL);
    if (!p) bench_fail("spawn ring node %zu failed", i);
    if (nodes) nodes[i] = p;
    st.next = p;
  }
  bench_send(head, T_NEXT, st.next);
  return head;
}

static void drv_ring(const void *a, size_t l) {
  (void)a, (void)l;
  const uint64_t hops = (uint64_t)RING_N * RING_LAPS;
  rusm_pid head = build_ring(&ring_ops, RING_N, NULL);
  uint64_t t0 = bench_start();
  bench_send(head, T_TOKEN, hops);
  bmsg done = bench_receive(T_DONE);
  bench_stop();
  bench_result(bench_rate(hops, t0, done.val));
}

static void drv_ring_multi(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_pid *nodes = pid_array(MRING_N);
  build_ring(&mring_ops, MRING_N, nodes);
  uint64_t t0 = bench_start();
  for (size_t i = 0; i < MRING_N; i++) bench_send(nodes[i], T_TOKEN, MRING_HOPS);
  for (size_t i = 0; i < MRING_N; i++) bench_receive(T_DONE);
  uint64_t t1 = bench_stop();
  stop_all(nodes, MRING_N);
  free(nodes);
  bench_result(bench_rate((uint64_t)MRING_N * MRING_HOPS, t0, t1));
}

static void drv_fan_in(const void *a, size_t l) {
  (void)a, (void)l;
  const uint64_t total = (uint64_t)FAN_SENDERS * FAN_MSGS;
  uint64_t ra[2] = {rusm_self(), total};
  rusm_pid recv = rusm_spawn_handler(&fan_recv_ops, ra, sizeof ra, NULL);
  if (!recv) bench_fail("spawn receiver failed");
  uint64_t sa[2] = {recv, FAN_MSGS};
  uint64_t t0 = bench_start();
  for (int i = 0; i < FAN_SENDERS; i++)
    if (!rusm_spawn_handler(&fan_send_ops, sa, sizeof sa, NULL)) bench_fail("spawn sender failed");
  bmsg done = bench_receive(T_DONE);
  uint64_t t1 = bench_stop();
  uint64_t want = (uint64_t)FAN_SENDERS * ((uint64_t)FAN_MSGS * (FAN_MSGS + 1) / 2);
  if (done.val != want)
    bench_fail("sum %llu, want %llu", (unsigned long long)done.val, (unsigned long long)want);
  bench_result(bench_rate(total, t0, t1));
}

static void drv_link_exit(const void *a, size_t l) {
  (void)a, (void)l;
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  rusm_pid *pids = pid_array(LINK_N);
  rusm_spawn_opts opts = {RUSM_SPAWN_LINK, NULL};
  uint64_t pid_sum = 0, exit_sum = 0;
  for (size_t i = 0; i < LINK_N; i++) {
    if (!(pids[i] = rusm_spawn_handler(&idle_ops, NULL, 0, &opts))) bench_fail("spawn failed");
    pid_sum += pids[i];
  }
  uint64_t t0 = bench_start();
  stop_all(pids, LINK_N);
  for (size_t i = 0; i < LINK_N; i++) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    if (!m) bench_fail("receive returned nothing after %zu EXIT messages", i);
    if (rusm_msg_kind_of(m) != RUSM_MSG_EXIT) bench_fail("message %zu is not an EXIT", i);
    if (rusm_msg_reason(m).kind != RUSM_EXIT_NORMAL) bench_fail("EXIT reason is not normal");
    exit_sum += rusm_msg_sender(m);
    rusm_msg_free(m);
  }
  uint64_t t1 = bench_stop();
  if (exit_sum != pid_sum) bench_fail("EXIT messages do not name the children");
  free(pids);
  bench_result(bench_rate(LINK_N, t0, t1));
}

/* --------------------------------------------------------------- main */

typedef struct workload {
  const char *name;
  rusm_coro_fn driver;
  uint64_t spawned;   /* processes spawned per run, driver included; 0 = not checked */
} workload;

static const workload workloads[] = {
  {"spawn_storm", drv_spawn_storm, 1 + SPAWN_N},
  {"spawn_storm_coro", drv_spawn_storm_coro, 1 + SPAWN_N},
  {"spawn_idle", drv_spawn_idle, 1 + IDLE_N},
  {"idle_mem_handler", drv_idle_mem_handler, 0},
  {"idle_mem_coro", drv_idle_mem_coro, 0},
  {"ping_pong", drv_ping_pong, 3},
  {"ring", drv_ring, 1 + RING_N},
  {"ring_multi", drv_ring_multi, 1 + MRING_N},
  {"fan_in", drv_fan_in, 2 + FAN_SENDERS},
  {"link_exit", drv_link_exit, 1 + LINK_N},
#ifdef RUSM_BENCH_HAVE_SERVER
  {"sup_restart", bench_drv_sup_restart, 3 + 10000},  /* driver, supervisor, 10,001 children */
  {"call_rtt", bench_drv_call_rtt, 2},
#endif
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_otp NAME [RUNS]\n");
    return 2;
  }
  const workload *w = NULL;
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
    if (strcmp(workloads[i].name, argv[1]) == 0) w = &workloads[i];
  if (!w) return 2;
  g_name = w->name;
  int runs = argc > 2 ? atoi(argv[2]) : 1;
  if (runs < 1) runs = 1;
  if (argc > 3) g_count_override = (size_t)strtoull(argv[3], NULL, 10);
  const char *ws = getenv("RUSM_BENCH_WORKERS");
  rusm_runtime_config cfg = {0};
  cfg.workers = ws && atoi(ws) > 0 ? (unsigned)atoi(ws) : 2;
  cfg.max_processes = 1u << 21;
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  if (!rt) bench_fail("rusm_runtime_start failed");
  for (int r = 0; r < runs; r++) {
    rusm_runtime_stats s0, s1;
    rusm_runtime_stats_get(rt, &s0);
    atomic_store(&g_have_result, 0);
    if (!rusm_runtime_spawn(rt, w->driver, NULL, 0, NULL)) bench_fail("spawn driver failed");
    if (!rusm_runtime_wait_idle(rt, BENCH_TIMEOUT_MS))
      bench_fail("runtime did not become idle");
    if (!atomic_load_explicit(&g_have_result, memory_order_acquire))
      bench_fail("driver ended without a result");
    rusm_runtime_stats_get(rt, &s1);
    if (s1.process_count != 0) bench_fail("%zu processes left", s1.process_count);
    if (w->spawned && (s1.spawned_total - s0.spawned_total != w->spawned ||
                       s1.exited_total - s0.exited_total != w->spawned))
      bench_fail("spawned %llu, exited %llu, want %llu each",
                 (unsigned long long)(s1.spawned_total - s0.spawned_total),
                 (unsigned long long)(s1.exited_total - s0.exited_total),
                 (unsigned long long)w->spawned);
    printf("RESULT %.6f\n", g_result);
    fflush(stdout);
  }
  rusm_runtime_stop(rt);
  return 0;
}
