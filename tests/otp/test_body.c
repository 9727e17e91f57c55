/*
** test_body.c -- the body vtable contract for bodies other than the built-in
** ones: run() is called when runnable, rusm_body_wait(ms) makes the process
** sleep until a message or the timeout (and a timeout does not leak into the
** next wait), rusm_body_take with and without a match, YIELD puts the process
** back in the queue without starving others, rusm_exit ends it, destroy()
** runs exactly once (also when spawning fails), process info shows the kind,
** rusm_spawn_body from a process with LINK and TRAP_EXIT flags.
*/
#include "otp_test.h"

typedef struct tbody {
  int runs;
  int timeouts;
  int msgs;
  int yields;
  double last;
} tbody;

static _Atomic int destroyed, result_timeouts, result_msgs, other_ran;

static rusm_run_result tb_run(void *b, uint32_t budget) {
  tbody *t = b;
  (void)budget;
  t->runs++;
  if (t->yields < 100) {
    t->yields++;
    return RUSM_RUN_YIELD;
  }
  rusm_msg *m;
  while ((m = rusm_body_take(NULL, NULL))) {
    t->msgs++;
    rusm_msg_free(m);
  }
  double now = t_now();
  if (t->last > 0 && now - t->last >= 0.019) t->timeouts++;
  t->last = now;
  if (t->timeouts >= 3 && t->msgs >= 2) {
    atomic_store(&result_timeouts, t->timeouts);
    atomic_store(&result_msgs, t->msgs);
    rusm_exit(rusm_reason_str("done"));
    return RUSM_RUN_EXIT;
  }
  rusm_body_wait(20);
  return RUSM_RUN_WAIT;
}
static void tb_destroy(void *b) {
  atomic_fetch_add(&destroyed, 1);
  free(b);
}
static const rusm_body_vtable tb_vt = {"test-body", tb_run, tb_destroy, NULL};

static void other(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  atomic_store(&other_ran, 1);
}

static _Atomic int spawner_ok;
static void spawner(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_process_info info;
  CHECK(rusm_process_info_get(rusm_runtime_current(), rusm_self(), &info) && !info.trap_exit);
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  rusm_spawn_opts o = {RUSM_SPAWN_LINK | RUSM_SPAWN_TRAP_EXIT, NULL};
  tbody *b = calloc(1, sizeof *b);
  rusm_pid p = rusm_spawn_body(&tb_vt, b, &o);
  CHECK(p);
  CHECK(rusm_process_info_get(rusm_runtime_current(), p, &info) && info.trap_exit &&
        info.parent == rusm_self() && info.links == 1);
  rusm_send(p, "a", 1);
  rusm_send(p, "b", 1);
  rusm_msg *m = rusm_receive(10000);
  CHECK(m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT && rusm_msg_sender(m) == p);
  char buf[32];
  CHECK(strcmp(rusm_reason_format(rusm_msg_reason(m), buf, sizeof buf), "user:done") == 0);
  rusm_msg_free(m);
  atomic_store(&spawner_ok, 1);
}

int main(void) {
  rusm_runtime_config cfg = {1, 0, 0, 0};   /* one worker: YIELD must not starve */
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  tbody *b = calloc(1, sizeof *b);
  double t0 = t_now();
  rusm_pid p = rusm_runtime_spawn_body(rt, &tb_vt, b, NULL);
  CHECK(p);
  CHECK(rusm_runtime_spawn(rt, other, NULL, 0, NULL));
  CHECK(WAIT_FOR(atomic_load(&other_ran) == 1, 2000));
  rusm_process_info info;
  CHECK(rusm_process_info_get(rt, p, &info) && strcmp(info.body_kind, "test-body") == 0);
  usleep(30000);
  rusm_runtime_send(rt, p, "a", 1);
  rusm_runtime_send(rt, p, "b", 1);
  CHECK(rusm_runtime_wait_idle(rt, 10000));
  CHECK(t_now() - t0 >= 0.059);
  CHECK(atomic_load(&result_timeouts) >= 3 && atomic_load(&result_msgs) == 2);
  CHECK(atomic_load(&destroyed) == 1);

  /* from inside a process, with a link: the parent (trapping, by spawn
  ** flag) gets the body's exit reason */
  CHECK(rusm_runtime_spawn(rt, spawner, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 10000));
  CHECK(atomic_load(&spawner_ok) == 1);
  CHECK(atomic_load(&destroyed) == 2);
  atomic_store(&destroyed, 1);

  /* a failed spawn still destroys the body: linking needs a parent */
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  CHECK(rusm_runtime_spawn_body(rt, &tb_vt, calloc(1, sizeof(tbody)), &o) == 0);
  CHECK(atomic_load(&destroyed) == 2);
  /* a body still alive at stop is destroyed by stop */
  CHECK(rusm_runtime_spawn_body(rt, &tb_vt, calloc(1, sizeof(tbody)), NULL));
  usleep(20000);
  rusm_runtime_stop(rt);
  CHECK(atomic_load(&destroyed) == 3);
  printf("test_body: ok\n");
  return 0;
}
