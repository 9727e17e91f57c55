/*
** test_server: the gen_server behaviour and the call protocol.
** Each scenario runs in its own driver coroutine; the thread-side calls run
** on the main thread.
*/
#include "test_supervisor_harness.h"

/* ------------------------------------------------------------ a test server */

typedef struct counter {
  uint64_t count;
  rusm_from held;
  bool holding;
  elog *log;
} counter;

static bool is(const void *req, size_t len, const char *s)
{
  return len == strlen(s) && memcmp(req, s, len) == 0;
}

static int c_init(void *state, const void *arg, size_t len)
{
  counter *c = state;
  if (len == sizeof c->log) memcpy(&c->log, arg, sizeof c->log);
  return 0;
}

static int c_call(void *state, const rusm_from *from, const void *req, size_t len)
{
  counter *c = state;
  if (is(req, len, "get")) {
    rusm_reply(from, &c->count, sizeof c->count);
  } else if (is(req, len, "wait")) {
    c->held = *from; /* answered later, from handle_cast("release") */
    c->holding = true;
  } else if (is(req, len, "die")) {
    rusm_exit(rusm_reason_str("boom"));
    return 1;
  } else {
    rusm_reply(from, req, len); /* echo */
  }
  return 0;
}

static int c_cast(void *state, const void *req, size_t len)
{
  counter *c = state;
  if (is(req, len, "inc")) {
    c->count++;
  } else if (is(req, len, "release") && c->holding) {
    c->holding = false;
    rusm_reply(&c->held, &c->count, sizeof c->count);
  } else if (is(req, len, "stop")) {
    return 1;
  }
  return 0;
}

static int c_info(void *state, rusm_msg *m)
{
  counter *c = state;
  if (!c->log) return 0;
  char buf[40];
  switch (rusm_msg_kind_of(m)) {
    case RUSM_MSG_USER:
      snprintf(buf, sizeof buf, "%.*s", (int)rusm_msg_size(m), (const char *)rusm_msg_data(m));
      elog_add(c->log, "info:raw:%s", buf);
      break;
    case RUSM_MSG_EXIT:
      elog_add(c->log, "info:exit:%s", rusm_reason_format(rusm_msg_reason(m), buf, sizeof buf));
      break;
    case RUSM_MSG_DOWN:
      elog_add(c->log, "info:down");
      break;
  }
  return 0;
}

static void c_terminate(void *state, rusm_reason why)
{
  counter *c = state;
  char buf[40];
  if (c->log) elog_add(c->log, "terminate:%s", rusm_reason_format(why, buf, sizeof buf));
}

static const rusm_server_ops counter_ops = {
    .state_size = sizeof(counter),
    .init = c_init,
    .handle_call = c_call,
    .handle_cast = c_cast,
    .handle_info = c_info,
    .terminate = c_terminate,
};

/* A server whose state is bigger than the inline space (heap path). */
typedef struct big_state {
  counter c;
  char pad[4096];
} big_state;

static const rusm_server_ops big_ops = {
    .state_size = sizeof(big_state),
    .init = c_init,
    .handle_call = c_call,
    .handle_cast = c_cast,
    .terminate = c_terminate,
};

static rusm_pid start_counter(tctx *ctx)
{
  elog *l = &ctx->log;
  return rusm_server_start(&counter_ops, &l, sizeof l, NULL);
}

static uint64_t get_count(tctx *ctx, rusm_pid srv)
{
  rusm_call_result r;
  uint64_t v = UINT64_MAX;
  int rc = rusm_call(srv, "get", 3, 1000, &r);
  CHECK(ctx, rc == 0);
  if (rc == 0 && r.len == sizeof v) memcpy(&v, r.data, sizeof v);
  rusm_call_result_free(&r);
  return v;
}

static bool reason_is_user(rusm_reason r, const char *text)
{
  return r.kind == RUSM_EXIT_USER && r.len == strlen(text) && memcmp(r.data, text, r.len) == 0;
}

/* ------------------------------------------------------------ scenarios */

static void t_call_cast(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  CHECK(ctx, srv != 0);
  for (int i = 0; i < 100; i++) CHECK(ctx, rusm_cast(srv, "inc", 3) == 0);
  /* casts from one sender arrive before its later call */
  CHECK(ctx, get_count(ctx, srv) == 100);

  /* a payload bigger than any stack buffer, both ways */
  size_t n = 100000;
  unsigned char *big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = (unsigned char)(i * 7 + 1);
  rusm_call_result r;
  CHECK(ctx, rusm_call(srv, big, n, 1000, &r) == 0);
  CHECK(ctx, r.len == n && memcmp(r.data, big, n) == 0);
  rusm_call_result_free(&r);
  free(big);

  /* an empty request is a call too (echoed as an empty reply) */
  CHECK(ctx, rusm_call(srv, NULL, 0, 1000, &r) == 0);
  CHECK(ctx, r.len == 0 && r.reason.kind == RUSM_EXIT_NORMAL);
  rusm_call_result_free(&r);

  /* a state beyond the inline space */
  elog *l = &ctx->log;
  rusm_pid b = rusm_server_start(&big_ops, &l, sizeof l, NULL);
  CHECK(ctx, rusm_cast(b, "inc", 3) == 0);
  CHECK(ctx, get_count(ctx, b) == 1);
  CHECK(ctx, rusm_server_stop(NULL, b, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
}

typedef struct release_arg {
  rusm_pid srv;
  int64_t delay_ms;
} release_arg;

static void releaser(const void *arg, size_t len)
{
  release_arg a;
  if (len != sizeof a) return;
  memcpy(&a, arg, sizeof a);
  rusm_sleep(a.delay_ms);
  rusm_cast(a.srv, "release", 7);
}

static void t_late_reply(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  rusm_cast(srv, "inc", 3);
  release_arg a = {srv, 30};
  CHECK(ctx, rusm_spawn(releaser, &a, sizeof a, NULL) != 0);
  int64_t t0 = h_now_ms();
  rusm_call_result r;
  /* the server keeps the handle and replies while handling another process's cast */
  int rc = rusm_call(srv, "wait", 4, 5000, &r);
  CHECK(ctx, rc == 0);
  CHECK(ctx, r.len == 8 && *(const uint64_t *)r.data == 1);
  CHECK(ctx, h_now_ms() - t0 >= 25);
  rusm_call_result_free(&r);
  rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000);
}

static void killer(const void *arg, size_t len)
{
  release_arg a;
  if (len != sizeof a) return;
  memcpy(&a, arg, sizeof a);
  rusm_sleep(a.delay_ms);
  rusm_kill(a.srv);
}

static void t_dies_mid_call(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  rusm_call_result r;
  int rc = rusm_call(srv, "die", 3, 5000, &r);
  CHECK(ctx, rc == -1);
  CHECK(ctx, reason_is_user(r.reason, "boom"));
  rusm_call_result_free(&r);
  /* it ran terminate with that reason */
  CHECK(ctx, elog_wait(&ctx->log, 1, 1000));
  CHECK_EVENTS(ctx, 0, "terminate:user:boom");

  /* a server killed while a call waits: the caller sees killed */
  srv = start_counter(ctx);
  release_arg a = {srv, 20};
  CHECK(ctx, rusm_spawn(killer, &a, sizeof a, NULL) != 0);
  rc = rusm_call(srv, "wait", 4, 5000, &r);
  CHECK(ctx, rc == -1);
  CHECK(ctx, r.reason.kind == RUSM_EXIT_KILLED);
  rusm_call_result_free(&r);
}

static void t_noproc(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
  rusm_call_result r;
  CHECK(ctx, rusm_call(srv, "get", 3, 1000, &r) == -1);
  CHECK(ctx, r.reason.kind == RUSM_EXIT_NOPROC);
  rusm_call_result_free(&r);
  CHECK(ctx, rusm_call(RUSM_PID_NONE, "get", 3, 1000, &r) == -1);
  CHECK(ctx, r.reason.kind == RUSM_EXIT_NOPROC);
  rusm_call_result_free(&r);
  /* calling oneself would deadlock: refused */
  CHECK(ctx, rusm_call(rusm_self(), "get", 3, 1000, &r) == -1);
  CHECK(ctx, reason_is_user(r.reason, "calling_self"));
  rusm_call_result_free(&r);
  /* stopping a dead server is an error, not a hang */
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == -1);
}

static void t_timeout(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  rusm_call_result r;
  int64_t t0 = h_now_ms();
  CHECK(ctx, rusm_call(srv, "wait", 4, 50, &r) == -1);
  int64_t dt = h_now_ms() - t0;
  CHECK(ctx, r.reason.kind == RUSM_EXIT_TIMEOUT);
  CHECK(ctx, dt >= 45 && dt < 1000);
  rusm_call_result_free(&r);
  /* the server now answers the abandoned call, then the next one: the late
  ** reply must not be taken for the answer, nor stay behind */
  rusm_cast(srv, "inc", 3);
  rusm_cast(srv, "release", 7);
  CHECK(ctx, get_count(ctx, srv) == 1);
  rusm_msg *m = rusm_receive(20);
  CHECK(ctx, m == NULL);
  if (m) rusm_msg_free(m);
  /* no DOWN left over from the call's monitor either, after a stop */
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
  m = rusm_receive(20);
  CHECK(ctx, m == NULL);
  if (m) rusm_msg_free(m);
}

static void t_async_reply_kept(tctx *ctx)
{
  /* an asynchronous request's reply is not eaten by a synchronous call */
  rusm_pid srv = start_counter(ctx);
  rusm_cast(srv, "inc", 3);
  uint64_t ref = rusm_send_request(srv, "get", 3);
  CHECK(ctx, ref != 0);
  rusm_cast(srv, "inc", 3);
  CHECK(ctx, get_count(ctx, srv) == 2);
  rusm_msg *m = rusm_receive(200);
  CHECK(ctx, m != NULL);
  if (m) {
    rusm_server_msg sm;
    CHECK(ctx, rusm_server_msg_parse(m, &sm) == RUSM_SMSG_REPLY);
    CHECK(ctx, sm.from.ref == ref && sm.len == 8 && *(const uint64_t *)sm.data == 1);
    rusm_msg_free(m);
  }
  rusm_demonitor(ref, true);
  rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000);
}

static void t_info_and_stop(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  CHECK(ctx, rusm_send(srv, "hello", 5) == 0);
  /* a message shorter than the header, and one with a wrong magic */
  CHECK(ctx, rusm_send(srv, "RSVC", 4) == 0);
  CHECK(ctx, rusm_send(srv, "XSVCxxxxxxxxxxxxyy", 18) == 0);
  CHECK(ctx, rusm_server_stop(NULL, srv, rusm_reason_str("bye"), 1000) == 0);
  CHECK(ctx, elog_wait(&ctx->log, 4, 1000));
  CHECK_EVENTS(ctx, 0, "info:raw:hello info:raw:RSVC info:raw:XSVCxxxxxxxxxxxxyy terminate:user:bye");

  /* terminate runs for a kill too (the state is freed after it) */
  srv = start_counter(ctx);
  rusm_cast(srv, "inc", 3);
  CHECK(ctx, get_count(ctx, srv) == 1);
  uint64_t ref = rusm_monitor(srv);
  CHECK(ctx, rusm_kill(srv) == 0);
  rusm_msg *m = rusm_receive(1000);
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN && rusm_msg_monitor_ref(m) == ref &&
                 rusm_msg_reason(m).kind == RUSM_EXIT_KILLED);
  if (m) rusm_msg_free(m);
  CHECK_EVENTS(ctx, 0,
               "info:raw:hello info:raw:RSVC info:raw:XSVCxxxxxxxxxxxxyy terminate:user:bye "
               "terminate:killed");
}

/* ---- the server's parent exits: a trapping server ends with its reason */

static int trap_init(void *state, const void *arg, size_t len)
{
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  return c_init(state, arg, len);
}

static const rusm_server_ops trapping_ops = {
    .state_size = sizeof(counter),
    .init = trap_init,
    .handle_call = c_call,
    .handle_info = c_info,
    .terminate = c_terminate,
};

typedef struct parent_arg {
  elog *log;
  rusm_pid driver;
} parent_arg;

static void parent_fn(const void *arg, size_t len)
{
  parent_arg a;
  memcpy(&a, arg, len < sizeof a ? len : sizeof a);
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  rusm_pid srv = rusm_server_start(&trapping_ops, &a.log, sizeof a.log, &o);
  rusm_call_result r;
  rusm_call(srv, "get", 3, 1000, &r); /* init has run: it traps exits now */
  rusm_call_result_free(&r);
  rusm_send(a.driver, &srv, sizeof srv);
  rusm_exit(rusm_reason_str("parent_gone"));
}

/* A linked process that is not the server's parent exits. */
static void poker(const void *arg, size_t len)
{
  rusm_pid srv;
  if (len != sizeof srv) return;
  memcpy(&srv, arg, sizeof srv);
  rusm_link(srv);
  rusm_exit(rusm_reason_str("poke"));
}

static void t_parent_exit(tctx *ctx)
{
  parent_arg a = {&ctx->log, rusm_self()};
  CHECK(ctx, rusm_spawn(parent_fn, &a, sizeof a, NULL) != 0);
  rusm_msg *m = rusm_receive(1000);
  CHECK(ctx, m != NULL);
  rusm_pid srv = 0;
  if (m) {
    memcpy(&srv, rusm_msg_data(m), sizeof srv);
    rusm_msg_free(m);
  }
  CHECK(ctx, elog_wait(&ctx->log, 1, 1000));
  CHECK_EVENTS(ctx, 0, "terminate:user:parent_gone");

  /* an EXIT from a linked process that is not the parent is just info */
  elog_reset(&ctx->log);
  elog *l = &ctx->log;
  srv = rusm_server_start(&trapping_ops, &l, sizeof l, NULL);
  rusm_call_result r;
  rusm_call(srv, "get", 3, 1000, &r);
  rusm_call_result_free(&r);
  CHECK(ctx, rusm_spawn(poker, &srv, sizeof srv, NULL) != 0);
  CHECK(ctx, elog_wait(&ctx->log, 1, 1000));
  CHECK_EVENTS(ctx, 0, "info:exit:user:poke");
  CHECK(ctx, rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
}

/* ---- a handler body uses the asynchronous request */

typedef struct asker {
  elog *log;
  uint64_t ref;
} asker;

typedef struct asker_arg {
  elog *log;
  rusm_pid srv;
} asker_arg;

static int asker_init(void *state, const void *arg, size_t len)
{
  asker *s = state;
  asker_arg a;
  if (len != sizeof a) return 1;
  memcpy(&a, arg, sizeof a);
  s->log = a.log;
  /* rusm_call cannot block here: it must fail at once, not hang */
  rusm_call_result r;
  int rc = rusm_call(a.srv, "get", 3, 5000, &r);
  elog_add(s->log, "sync:%d", rc);
  rusm_call_result_free(&r);
  s->ref = rusm_send_request(a.srv, "get", 3);
  return s->ref ? 0 : 1;
}

static int asker_handle(void *state, rusm_msg *m)
{
  asker *s = state;
  rusm_server_msg sm;
  if (rusm_server_msg_parse(m, &sm) == RUSM_SMSG_REPLY && sm.from.ref == s->ref) {
    rusm_demonitor(s->ref, true);
    elog_add(s->log, "async:%llu", (unsigned long long)*(const uint64_t *)sm.data);
    return 1;
  }
  return 0;
}

static const rusm_handler_ops asker_ops = {sizeof(asker), asker_init, asker_handle, NULL};

static void t_send_request_from_handler(tctx *ctx)
{
  rusm_pid srv = start_counter(ctx);
  for (int i = 0; i < 7; i++) rusm_cast(srv, "inc", 3);
  asker_arg a = {&ctx->log, srv};
  CHECK(ctx, rusm_spawn_handler(&asker_ops, &a, sizeof a, NULL) != 0);
  CHECK(ctx, elog_wait(&ctx->log, 2, 2000));
  CHECK_EVENTS(ctx, 0, "sync:-1 async:7");
  rusm_server_stop(NULL, srv, RUSM_REASON(RUSM_EXIT_NORMAL), 1000);
}

/* ------------------------------------------------------------ from a thread */

static int thread_side(rusm_runtime *rt)
{
  int fails = 0;
#define TCHECK(c)                                                         \
  do {                                                                    \
    if (!(c)) {                                                           \
      fprintf(stderr, "FAIL %s:%d [thread]: %s\n", __FILE__, __LINE__, #c); \
      fails++;                                                            \
    }                                                                     \
  } while (0)
  rusm_pid srv = rusm_runtime_server_start(rt, &counter_ops, NULL, 0, NULL);
  TCHECK(srv != 0);
  for (int i = 0; i < 5; i++) TCHECK(rusm_runtime_cast(rt, srv, "inc", 3) == 0);
  rusm_call_result r;
  TCHECK(rusm_runtime_call(rt, srv, "get", 3, 1000, &r) == 0);
  TCHECK(r.len == 8 && *(const uint64_t *)r.data == 5);
  rusm_call_result_free(&r);
  TCHECK(rusm_call_any(rt, srv, "xyz", 3, 1000, &r) == 0);
  TCHECK(r.len == 3 && memcmp(r.data, "xyz", 3) == 0);
  rusm_call_result_free(&r);
  int64_t t0 = h_now_ms();
  TCHECK(rusm_runtime_call(rt, srv, "wait", 4, 50, &r) == -1);
  TCHECK(r.reason.kind == RUSM_EXIT_TIMEOUT && h_now_ms() - t0 >= 45);
  rusm_call_result_free(&r);
  TCHECK(rusm_runtime_call(rt, srv, "die", 3, 1000, &r) == -1);
  TCHECK(reason_is_user(r.reason, "boom"));
  rusm_call_result_free(&r);
  TCHECK(rusm_runtime_call(rt, srv, "get", 3, 1000, &r) == -1);
  TCHECK(r.reason.kind == RUSM_EXIT_NOPROC);
  rusm_call_result_free(&r);
  srv = rusm_runtime_server_start(rt, &counter_ops, NULL, 0, NULL);
  TCHECK(rusm_server_stop(rt, srv, rusm_reason_str("done"), 1000) == 0);
  TCHECK(rusm_server_stop(rt, srv, rusm_reason_str("done"), 1000) == -1);

  /* no global state: a second runtime beside the first */
  rusm_runtime *rt2 = rusm_runtime_start(&(rusm_runtime_config){.workers = 1});
  TCHECK(rt2 != NULL);
  if (rt2) {
    rusm_pid s2 = rusm_runtime_server_start(rt2, &counter_ops, NULL, 0, NULL);
    rusm_pid s1 = rusm_runtime_server_start(rt, &counter_ops, NULL, 0, NULL);
    rusm_runtime_cast(rt2, s2, "inc", 3);
    TCHECK(rusm_runtime_call(rt2, s2, "get", 3, 1000, &r) == 0);
    TCHECK(r.len == 8 && *(const uint64_t *)r.data == 1);
    rusm_call_result_free(&r);
    TCHECK(rusm_runtime_call(rt, s1, "get", 3, 1000, &r) == 0);
    TCHECK(r.len == 8 && *(const uint64_t *)r.data == 0);
    rusm_call_result_free(&r);
    rusm_runtime_stop(rt2);
    TCHECK(rusm_server_stop(rt, s1, RUSM_REASON(RUSM_EXIT_NORMAL), 1000) == 0);
  }
  printf("%s thread_side\n", fails ? "FAIL" : "ok  ");
  return fails;
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) {
    fprintf(stderr, "FAIL: runtime start\n");
    return 1;
  }
  int fails = 0;
  fails += run_test(rt, "call_cast", t_call_cast, 10000);
  fails += run_test(rt, "late_reply", t_late_reply, 10000);
  fails += run_test(rt, "dies_mid_call", t_dies_mid_call, 10000);
  fails += run_test(rt, "noproc", t_noproc, 10000);
  fails += run_test(rt, "timeout_and_stale_reply", t_timeout, 10000);
  fails += run_test(rt, "async_reply_kept", t_async_reply_kept, 10000);
  fails += run_test(rt, "info_and_stop", t_info_and_stop, 10000);
  fails += run_test(rt, "parent_exit", t_parent_exit, 10000);
  fails += run_test(rt, "send_request_from_handler", t_send_request_from_handler, 10000);
  fails += thread_side(rt);
  rusm_runtime_stop(rt);
  printf(fails ? "test_server: %d failure(s)\n" : "test_server: ok\n", fails);
  return fails ? 1 : 0;
}
