/*
** test_supervisor_shutdown: how children are shut down -- brutal_kill, a
** timeout (shutdown signal, then kill), infinity -- and in which order; and
** the dynamic (simple_one_for_one) supervisor: children added at run time,
** restarted with their own arguments, removed by pid, shut down all at once.
*/
#include "test_supervisor_worker.h"

/* Terminates child `id` while monitoring it; returns the DOWN reason kind
** and the time terminate_child took. */
static rusm_exit_kind terminate_watched(tctx *ctx, rusm_pid sup, const char *id, int64_t *ms)
{
  rusm_pid p = h_child_pid(NULL, sup, id);
  CHECK(ctx, p != 0);
  uint64_t ref = rusm_monitor(p);
  int64_t t0 = h_now_ms();
  CHECK(ctx, rusm_supervisor_terminate_child(NULL, sup, id) == RUSM_SUP_OK);
  *ms = h_now_ms() - t0;
  CHECK(ctx, !h_alive(ctx->rt, p));
  rusm_msg *m = rusm_receive(2000);
  rusm_exit_kind k = (rusm_exit_kind)-1;
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN && rusm_msg_monitor_ref(m) == ref);
  if (m) {
    k = rusm_msg_reason(m).kind;
    rusm_msg_free(m);
  }
  return k;
}

static void t_shutdown_kinds(tctx *ctx)
{
  wk_arg a = wk(&ctx->log, "x");
  wk_arg nt = wk(&ctx->log, "nt");
  nt.no_trap = true;
  rusm_child_spec c[6];
  c[0] = (rusm_child_spec){.id = "brutal", .handler = &stubborn_ops, .arg = &a,
                           .arg_len = sizeof a, .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL};
  c[1] = (rusm_child_spec){.id = "stubborn", .handler = &stubborn_ops, .arg = &a,
                           .arg_len = sizeof a, .shutdown = 150};
  c[2] = wk_spec("polite", &a, RUSM_PERMANENT, 5000);
  c[3] = wk_spec("forever", &a, RUSM_PERMANENT, RUSM_SHUTDOWN_INFINITY);
  c[4] = wk_spec("notrap", &nt, RUSM_PERMANENT, 1000);
  c[5] = wk_spec("brutal_srv", &a, RUSM_PERMANENT, RUSM_SHUTDOWN_BRUTAL_KILL);
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 10, 5000, c, 6};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  CHECK(ctx, sup != 0);
  int64_t ms;
  /* brutal_kill: killed at once, even though it traps exits (the bound only
  ** tells it apart from the 5000 ms default; a loaded CI machine is slow) */
  CHECK(ctx, terminate_watched(ctx, sup, "brutal", &ms) == RUSM_EXIT_KILLED);
  CHECK(ctx, ms < 2500);
  /* a timeout with a child that ignores shutdown: killed when it expires */
  CHECK(ctx, terminate_watched(ctx, sup, "stubborn", &ms) == RUSM_EXIT_KILLED);
  CHECK(ctx, ms >= 140 && ms < 2000);
  /* a timeout with a child that obeys: it ends with shutdown, long before */
  CHECK(ctx, terminate_watched(ctx, sup, "polite", &ms) == RUSM_EXIT_SHUTDOWN);
  CHECK(ctx, ms < 2500);
  CHECK(ctx, terminate_watched(ctx, sup, "forever", &ms) == RUSM_EXIT_SHUTDOWN);
  /* not trapping exits: the shutdown signal itself ends it */
  CHECK(ctx, terminate_watched(ctx, sup, "notrap", &ms) == RUSM_EXIT_SHUTDOWN);
  CHECK(ctx, terminate_watched(ctx, sup, "brutal_srv", &ms) == RUSM_EXIT_KILLED);
  /* none of those ends was taken for a crash: nothing restarted */
  rusm_child_info ci[6];
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, ci, 6) == 6);
  for (int i = 0; i < 6; i++) CHECK(ctx, ci[i].pid == 0);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

/* Reverse order holds even when one child needs its full timeout: the ones
** before it wait their turn. */
static void t_shutdown_order(tctx *ctx)
{
  wk_arg aa = wk(&ctx->log, "a"), ab = wk(&ctx->log, "b"), ac = wk(&ctx->log, "c");
  rusm_child_spec c[3] = {
      wk_spec("a", &aa, RUSM_PERMANENT, 1000),
      {.id = "b", .handler = &stubborn_ops, .arg = &ab, .arg_len = sizeof ab, .shutdown = 100},
      wk_spec("c", &ac, RUSM_PERMANENT, 1000)};
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 10, 5000, c, 3};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  rusm_supervisor_which_children(NULL, sup, NULL, 0);
  CHECK_EVENTS(ctx, 0, "start:a start:b start:c");
  int64_t t0 = h_now_ms();
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  int64_t dt = h_now_ms() - t0;
  CHECK_EVENTS(ctx, 3, "stop:c stop:a");
  CHECK(ctx, dt >= 90);
}

/* A supervisor child (default shutdown: infinity) stopped at run time takes
** its own children down first, in reverse order. */
static void t_terminate_subtree(tctx *ctx)
{
  wk_arg ax = wk(&ctx->log, "x"), ay = wk(&ctx->log, "y"), aw = wk(&ctx->log, "w");
  rusm_child_spec inner_c[2] = {wk_spec("x", &ax, RUSM_PERMANENT, 1000),
                                wk_spec("y", &ay, RUSM_PERMANENT, 1000)};
  rusm_sup_spec inner = {RUSM_ONE_FOR_ONE, 1, 5000, inner_c, 2};
  rusm_child_spec c[2] = {wk_spec("w", &aw, RUSM_PERMANENT, 1000), {.id = "inner", .sup = &inner}};
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 1, 5000, c, 2};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  rusm_child_info ci[2];
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, ci, 2) == 2);
  CHECK(ctx, ci[1].is_supervisor && !ci[0].is_supervisor);
  int mark = elog_count(&ctx->log);
  CHECK(ctx, rusm_supervisor_terminate_child(NULL, sup, "inner") == RUSM_SUP_OK);
  CHECK_EVENTS(ctx, mark, "stop:y stop:x");
  rusm_pid inner_pid = 0;
  CHECK(ctx, rusm_supervisor_restart_child(NULL, sup, "inner", &inner_pid) == RUSM_SUP_OK);
  CHECK_EVENTS(ctx, mark, "stop:y stop:x start:x start:y");
  CHECK(ctx, rusm_supervisor_which_children(NULL, inner_pid, NULL, 0) == 2);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

/* ---- dynamic children */

static void t_dynamic(tctx *ctx)
{
  wk_arg tmpl_arg = wk(&ctx->log, "tmpl");
  rusm_child_spec tmpl = wk_spec(NULL, &tmpl_arg, RUSM_PERMANENT, 1000);
  rusm_sup_spec s = {RUSM_SIMPLE_ONE_FOR_ONE, 10, 5000, &tmpl, 1};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  CHECK(ctx, sup != 0);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == 0);
  enum { N = 50 };
  rusm_pid pids[N];
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "d%d", i);
    wk_arg a = wk(&ctx->log, id);
    CHECK(ctx, rusm_supervisor_start_dynamic(NULL, sup, &a, sizeof a, &pids[i]) == RUSM_SUP_OK);
    CHECK(ctx, pids[i] != 0);
  }
  /* the template's own arg when none is given */
  rusm_pid tp = 0;
  CHECK(ctx, rusm_supervisor_start_dynamic(NULL, sup, NULL, 0, &tp) == RUSM_SUP_OK && tp);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == N + 1);
  CHECK(ctx, elog_wait(&ctx->log, N + 1, 1000));
  char buf[EV_LEN];
  snprintf(buf, sizeof buf, "%s", ctx->log.ev[N]);
  CHECK(ctx, strcmp(buf, "start:tmpl") == 0);

  /* a crash: restarted with its own argument */
  int mark = elog_count(&ctx->log);
  rusm_cast(pids[7], "crash", 5);
  CHECK(ctx, elog_wait(&ctx->log, mark + 2, 2000));
  CHECK_EVENTS(ctx, mark, "crash:d7 start:d7");
  rusm_sleep(10);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == N + 1);
  CHECK(ctx, !h_alive(ctx->rt, pids[7]));

  /* removed by pid: gone, not restarted */
  CHECK(ctx, rusm_supervisor_terminate_pid(NULL, sup, pids[3]) == RUSM_SUP_OK);
  CHECK(ctx, !h_alive(ctx->rt, pids[3]));
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == N);
  CHECK(ctx, rusm_supervisor_terminate_pid(NULL, sup, pids[3]) == RUSM_SUP_ERR_NOT_FOUND);
  /* static-only operations are refused */
  CHECK(ctx, rusm_supervisor_terminate_child(NULL, sup, "d1") == RUSM_SUP_ERR_BADARG);
  CHECK(ctx, rusm_supervisor_start_child(NULL, sup, &tmpl, NULL) == RUSM_SUP_ERR_BADARG);

  /* which_children lists the live ones with empty ids */
  rusm_child_info ci[N + 1];
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, ci, N + 1) == N);
  for (int i = 0; i < N; i++) CHECK(ctx, ci[i].id[0] == 0 && h_alive(ctx->rt, ci[i].pid));

  /* stop: every child gets the shutdown signal at once */
  mark = elog_count(&ctx->log);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  CHECK(ctx, elog_count(&ctx->log) - mark == N);
  for (int i = 0; i < N; i++) CHECK(ctx, !h_alive(ctx->rt, ci[i].pid));
}

static void t_dynamic_temporary_and_parallel(tctx *ctx)
{
  /* temporary dynamic children are forgotten when they end */
  wk_arg ta = wk(&ctx->log, "t");
  rusm_child_spec tmpl = wk_spec(NULL, &ta, RUSM_TEMPORARY, 1000);
  rusm_sup_spec s = {RUSM_SIMPLE_ONE_FOR_ONE, 10, 5000, &tmpl, 1};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  rusm_pid p = 0;
  CHECK(ctx, rusm_supervisor_start_dynamic(NULL, sup, NULL, 0, &p) == RUSM_SUP_OK);
  rusm_cast(p, "crash", 5);
  int64_t end = h_now_ms() + 2000;
  while (rusm_supervisor_which_children(NULL, sup, NULL, 0) != 0 && h_now_ms() < end)
    rusm_sleep(1);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == 0);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);

  /* 20 children that each need their full 100 ms shutdown timeout: they are
  ** shut down in parallel, so the stop takes about 100 ms, not 2 s */
  wk_arg sa = wk(&ctx->log, "s");
  rusm_child_spec stmpl = {.handler = &stubborn_ops, .arg = &sa, .arg_len = sizeof sa,
                           .shutdown = 100};
  rusm_sup_spec s2 = {RUSM_SIMPLE_ONE_FOR_ONE, 10, 5000, &stmpl, 1};
  sup = rusm_supervisor_start_link(&s2);
  rusm_pid kids[20];
  int mark = elog_count(&ctx->log);
  for (int i = 0; i < 20; i++)
    CHECK(ctx, rusm_supervisor_start_dynamic(NULL, sup, NULL, 0, &kids[i]) == RUSM_SUP_OK);
  /* handler children start asynchronously (no start ack): wait until each
  ** init has run and trapped exits */
  CHECK(ctx, elog_wait(&ctx->log, mark + 20, 2000));
  int64_t t0 = h_now_ms();
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  int64_t dt = h_now_ms() - t0;
  if (dt < 90 || dt >= 1000) fprintf(stderr, "  parallel stop took %lld ms\n", (long long)dt);
  CHECK(ctx, dt >= 90 && dt < 1000);
  for (int i = 0; i < 20; i++) CHECK(ctx, !h_alive(ctx->rt, kids[i]));
}

/* Coroutine and handler children are supervised like servers. */
static void coro_child(const void *arg, size_t len)
{
  wk_arg a;
  if (len != sizeof a) return;
  memcpy(&a, arg, sizeof a);
  elog_add(a.log, "start:%s", a.id);
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  if (m) rusm_msg_free(m);
  rusm_exit(rusm_reason_str("crash"));
}

static void t_other_bodies(tctx *ctx)
{
  wk_arg ac = wk(&ctx->log, "co"), ah = wk(&ctx->log, "h");
  rusm_child_spec c[2] = {
      {.id = "co", .coro = coro_child, .arg = &ac, .arg_len = sizeof ac},
      {.id = "h", .handler = &stubborn_ops, .arg = &ah, .arg_len = sizeof ah,
       .shutdown = RUSM_SHUTDOWN_BRUTAL_KILL}};
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 10, 5000, c, 2};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  CHECK(ctx, elog_wait(&ctx->log, 2, 2000));
  rusm_pid co = h_child_pid(NULL, sup, "co");
  int mark = elog_count(&ctx->log);
  rusm_send(co, "go", 2);
  CHECK(ctx, elog_wait(&ctx->log, mark + 1, 2000));
  CHECK_EVENTS(ctx, mark, "start:co");
  rusm_pid co2 = h_child_pid(NULL, sup, "co");
  CHECK(ctx, co2 && co2 != co);
  rusm_pid h = h_child_pid(NULL, sup, "h");
  rusm_kill(h);
  int64_t end = h_now_ms() + 2000;
  while (h_child_pid(NULL, sup, "h") == h && h_now_ms() < end) rusm_sleep(1);
  CHECK(ctx, h_child_pid(NULL, sup, "h") != h);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  CHECK(ctx, !h_alive(ctx->rt, co2));
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = 0;
  fails += run_test(rt, "shutdown_kinds", t_shutdown_kinds, 20000);
  fails += run_test(rt, "shutdown_order", t_shutdown_order, 20000);
  fails += run_test(rt, "terminate_subtree", t_terminate_subtree, 20000);
  fails += run_test(rt, "dynamic", t_dynamic, 20000);
  fails += run_test(rt, "dynamic_temporary_and_parallel", t_dynamic_temporary_and_parallel, 20000);
  fails += run_test(rt, "other_bodies", t_other_bodies, 20000);
  rusm_runtime_stop(rt);
  printf(fails ? "test_supervisor_shutdown: %d failure(s)\n" : "test_supervisor_shutdown: ok\n",
         fails);
  return fails ? 1 : 0;
}
