/*
** test_supervisor: restart strategies (who restarts, in which order),
** restart types (permanent / transient / temporary), ordered start, start
** failures, and the run-time management calls from a process and from a
** plain thread.
*/
#include "test_supervisor_worker.h"

static const char *const IDS[4] = {"a", "b", "c", "d"};

static int count_tokens(const char *s)
{
  int n = 0;
  for (bool in = false; *s; s++) {
    if (*s != ' ' && !in) n++;
    in = *s != ' ';
  }
  return n;
}

/* Polls which_children until id's pid differs from old; returns it. */
static rusm_pid wait_pid_change(rusm_pid sup, const char *id, rusm_pid old)
{
  int64_t end = h_now_ms() + 2000;
  rusm_pid p;
  while ((p = h_child_pid(NULL, sup, id)) == old && h_now_ms() < end) rusm_sleep(1);
  return p;
}

/* Four workers a..d; crash b; the events after the crash must be `want` and
** exactly the children flagged in `restarted` get new pids. */
static void strategy_case(tctx *ctx, rusm_sup_strategy st, const char *want,
                          const bool restarted[4])
{
  wk_arg args[4];
  rusm_child_spec specs[4];
  for (int i = 0; i < 4; i++) {
    args[i] = wk(&ctx->log, IDS[i]);
    specs[i] = wk_spec(IDS[i], &args[i], RUSM_PERMANENT, 1000);
  }
  rusm_sup_spec spec = {st, 10, 5000, specs, 4};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  CHECK(ctx, sup != 0);
  rusm_child_info before[4], after[4];
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, before, 4) == 4);
  /* starts are synchronous: the tree is up, in order, when the first request is answered */
  CHECK_EVENTS(ctx, 0, "start:a start:b start:c start:d");
  for (int i = 0; i < 4; i++) CHECK(ctx, strcmp(before[i].id, IDS[i]) == 0 && before[i].pid);

  int mark = elog_count(&ctx->log);
  rusm_cast(before[1].pid, "crash", 5);
  CHECK(ctx, elog_wait(&ctx->log, mark + count_tokens(want), 3000));
  CHECK(ctx, wait_pid_change(sup, "b", before[1].pid) != 0);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, after, 4) == 4);
  rusm_sleep(20); /* nothing else happens afterwards */
  CHECK_EVENTS(ctx, mark, want);
  for (int i = 0; i < 4; i++) {
    CHECK(ctx, after[i].pid != 0);
    CHECK(ctx, (after[i].pid != before[i].pid) == restarted[i]);
    CHECK(ctx, h_alive(ctx->rt, before[i].pid) == !restarted[i]);
  }
  /* shutdown in reverse start order */
  mark = elog_count(&ctx->log);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  CHECK_EVENTS(ctx, mark, "stop:d stop:c stop:b stop:a");
  CHECK(ctx, !h_alive(ctx->rt, sup));
  for (int i = 0; i < 4; i++) CHECK(ctx, !h_alive(ctx->rt, after[i].pid));
}

static void t_one_for_one(tctx *ctx)
{
  static const bool r[4] = {false, true, false, false};
  strategy_case(ctx, RUSM_ONE_FOR_ONE, "crash:b start:b", r);
}

static void t_one_for_all(tctx *ctx)
{
  static const bool r[4] = {true, true, true, true};
  strategy_case(ctx, RUSM_ONE_FOR_ALL,
                "crash:b stop:d stop:c stop:a start:a start:b start:c start:d", r);
}

static void t_rest_for_one(tctx *ctx)
{
  static const bool r[4] = {false, true, true, true};
  strategy_case(ctx, RUSM_REST_FOR_ONE, "crash:b stop:d stop:c start:b start:c start:d", r);
}

/* rest_for_one on the last child restarts only it; on the first, all. */
static void t_rest_for_one_edges(tctx *ctx)
{
  wk_arg args[3];
  rusm_child_spec specs[3];
  for (int i = 0; i < 3; i++) {
    args[i] = wk(&ctx->log, IDS[i]);
    specs[i] = wk_spec(IDS[i], &args[i], RUSM_PERMANENT, 1000);
  }
  rusm_sup_spec spec = {RUSM_REST_FOR_ONE, 10, 5000, specs, 3};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  rusm_pid c0 = h_child_pid(NULL, sup, "c");
  int mark = elog_count(&ctx->log);
  rusm_cast(c0, "crash", 5);
  CHECK(ctx, wait_pid_change(sup, "c", c0) != 0);
  CHECK_EVENTS(ctx, mark, "crash:c start:c");
  mark = elog_count(&ctx->log);
  rusm_cast(h_child_pid(NULL, sup, "a"), "crash", 5);
  CHECK(ctx, elog_wait(&ctx->log, mark + 6, 2000));
  CHECK_EVENTS(ctx, mark, "crash:a stop:c stop:b start:a start:b start:c");
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

/* permanent: always; transient: only abnormal exits; temporary: never. */
static void t_restart_types(tctx *ctx)
{
  wk_arg ap = wk(&ctx->log, "p"), at = wk(&ctx->log, "t"), am = wk(&ctx->log, "m");
  rusm_child_spec specs[3] = {wk_spec("p", &ap, RUSM_PERMANENT, 1000),
                              wk_spec("t", &at, RUSM_TRANSIENT, 1000),
                              wk_spec("m", &am, RUSM_TEMPORARY, 1000)};
  rusm_sup_spec spec = {RUSM_ONE_FOR_ONE, 20, 5000, specs, 3};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  CHECK(ctx, sup != 0);

  /* permanent: a normal exit is restarted too */
  rusm_pid p = h_child_pid(NULL, sup, "p");
  rusm_cast(p, "normal", 6);
  rusm_pid p2 = wait_pid_change(sup, "p", p);
  CHECK(ctx, p2 != 0 && p2 != p);

  /* transient: normal exit -> not restarted, spec kept */
  rusm_pid t = h_child_pid(NULL, sup, "t");
  rusm_cast(t, "normal", 6);
  CHECK(ctx, wait_pid_change(sup, "t", t) == 0);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == 3);
  /* ... restart_child brings it back; a crash is then restarted */
  rusm_pid t2 = 0;
  CHECK(ctx, rusm_supervisor_restart_child(NULL, sup, "t", &t2) == RUSM_SUP_OK && t2 != 0);
  rusm_cast(t2, "crash", 5);
  rusm_pid t3 = wait_pid_change(sup, "t", t2);
  CHECK(ctx, t3 != 0 && t3 != t2);
  /* ... and a shutdown exit is not */
  rusm_cast(t3, "shutdown", 8);
  CHECK(ctx, wait_pid_change(sup, "t", t3) == 0);

  /* temporary: a crash is not restarted and the spec goes */
  rusm_pid m = h_child_pid(NULL, sup, "m");
  CHECK(ctx, m != 0);
  rusm_cast(m, "crash", 5);
  int64_t end = h_now_ms() + 2000;
  while (rusm_supervisor_which_children(NULL, sup, NULL, 0) != 2 && h_now_ms() < end)
    rusm_sleep(1);
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == 2);
  CHECK(ctx, h_child_pid(NULL, sup, "m") == 0);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

/* A temporary sibling ended by a one_for_all restart is not restarted. */
static void t_temporary_sibling(tctx *ctx)
{
  wk_arg aa = wk(&ctx->log, "a"), am = wk(&ctx->log, "m"), ab = wk(&ctx->log, "b");
  rusm_child_spec specs[3] = {wk_spec("a", &aa, RUSM_PERMANENT, 1000),
                              wk_spec("m", &am, RUSM_TEMPORARY, 1000),
                              wk_spec("b", &ab, RUSM_PERMANENT, 1000)};
  rusm_sup_spec spec = {RUSM_ONE_FOR_ALL, 10, 5000, specs, 3};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  rusm_supervisor_which_children(NULL, sup, NULL, 0); /* the start is over */
  int mark = elog_count(&ctx->log);
  rusm_pid a = crash_child(NULL, sup, "a");
  CHECK(ctx, wait_pid_change(sup, "a", a) != 0);
  CHECK_EVENTS(ctx, mark, "crash:a stop:b stop:m start:a start:b");
  rusm_child_info ci[3];
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, ci, 3) == 2);
  CHECK(ctx, strcmp(ci[0].id, "a") == 0 && strcmp(ci[1].id, "b") == 0);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
}

/* A child whose init fails at the supervisor's start fails the start: the
** ones started are shut down, later ones never start, the reason says why. */
static void t_start_failure(tctx *ctx)
{
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  wk_arg aa = wk(&ctx->log, "a"), ab = wk(&ctx->log, "bad"), ac = wk(&ctx->log, "c");
  ab.fail_init = true;
  rusm_child_spec specs[3] = {wk_spec("a", &aa, RUSM_PERMANENT, 1000),
                              wk_spec("bad", &ab, RUSM_PERMANENT, 1000),
                              wk_spec("c", &ac, RUSM_PERMANENT, 1000)};
  rusm_sup_spec spec = {RUSM_ONE_FOR_ONE, 10, 5000, specs, 3};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  CHECK(ctx, sup != 0);
  rusm_msg *m = rusm_receive(3000);
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT && rusm_msg_sender(m) == sup);
  if (m) {
    rusm_reason r = rusm_msg_reason(m);
    const char *want = "failed_to_start_child:bad";
    CHECK(ctx, r.kind == RUSM_EXIT_USER && r.len == strlen(want) && memcmp(r.data, want, r.len) == 0);
    rusm_msg_free(m);
  }
  CHECK_EVENTS(ctx, 0, "start:a initfail:bad stop:a");

  /* a bad spec is refused at once */
  rusm_child_spec none = {.id = "x"};
  rusm_sup_spec badspec = {RUSM_ONE_FOR_ONE, 1, 0, &none, 1};
  CHECK(ctx, rusm_supervisor_start_link(&badspec) == 0);
  rusm_child_spec dup[2] = {wk_spec("a", &aa, RUSM_PERMANENT, 0), wk_spec("a", &aa, RUSM_PERMANENT, 0)};
  rusm_sup_spec dupspec = {RUSM_ONE_FOR_ONE, 1, 0, dup, 2};
  CHECK(ctx, rusm_supervisor_start_link(&dupspec) == 0);
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, false);
}

/* ---- run-time management */

static rusm_pid plain_start(const void *arg, size_t len)
{
  /* a start function: spawns a server linked to the caller */
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  return rusm_server_start(&worker_ops, arg, len, &o);
}

static rusm_pid failing_start(const void *arg, size_t len)
{
  (void)arg, (void)len;
  return 0;
}

static void mgmt(tctx *ctx, rusm_runtime *rt, rusm_pid sup, const char *x)
{
  wk_arg ax = wk(&ctx->log, x);
  rusm_child_spec sx = wk_spec(x, &ax, RUSM_PERMANENT, 1000);
  rusm_pid px = 0;
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sx, &px) == RUSM_SUP_OK && px != 0);
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sx, NULL) == RUSM_SUP_ERR_EXISTS);
  rusm_child_info ci[8];
  int n = rusm_supervisor_which_children(rt, sup, ci, 8);
  CHECK(ctx, n >= 2 && strcmp(ci[n - 1].id, x) == 0 && ci[n - 1].pid == px);
  CHECK(ctx, rusm_supervisor_delete_child(rt, sup, x) == RUSM_SUP_ERR_RUNNING);
  CHECK(ctx, rusm_supervisor_terminate_child(rt, sup, x) == RUSM_SUP_OK);
  CHECK(ctx, !h_alive(ctx->rt, px));
  CHECK(ctx, h_child_pid(rt, sup, x) == 0);
  CHECK(ctx, rusm_supervisor_terminate_child(rt, sup, x) == RUSM_SUP_OK); /* already stopped */
  rusm_pid px2 = 0;
  CHECK(ctx, rusm_supervisor_restart_child(rt, sup, x, &px2) == RUSM_SUP_OK && px2 && px2 != px);
  CHECK(ctx, rusm_supervisor_restart_child(rt, sup, x, NULL) == RUSM_SUP_ERR_RUNNING);
  CHECK(ctx, rusm_supervisor_terminate_child(rt, sup, x) == RUSM_SUP_OK);
  CHECK(ctx, rusm_supervisor_delete_child(rt, sup, x) == RUSM_SUP_OK);
  CHECK(ctx, rusm_supervisor_which_children(rt, sup, NULL, 0) == n - 1);
  CHECK(ctx, rusm_supervisor_terminate_child(rt, sup, "nope") == RUSM_SUP_ERR_NOT_FOUND);
  CHECK(ctx, rusm_supervisor_restart_child(rt, sup, "nope", NULL) == RUSM_SUP_ERR_NOT_FOUND);
  CHECK(ctx, rusm_supervisor_delete_child(rt, sup, "nope") == RUSM_SUP_ERR_NOT_FOUND);
  CHECK(ctx, rusm_supervisor_start_dynamic(rt, sup, NULL, 0, NULL) == RUSM_SUP_ERR_BADARG);
  /* a child with a start function; one whose start fails; one whose init fails */
  rusm_child_spec sf = {.id = "fn", .start = plain_start, .arg = &ax, .arg_len = sizeof ax};
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sf, &px) == RUSM_SUP_OK && px != 0);
  CHECK(ctx, rusm_supervisor_terminate_child(rt, sup, "fn") == RUSM_SUP_OK);
  CHECK(ctx, rusm_supervisor_delete_child(rt, sup, "fn") == RUSM_SUP_OK);
  rusm_child_spec sbad = {.id = "nostart", .start = failing_start};
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sbad, &px) == RUSM_SUP_ERR_START && px == 0);
  wk_arg afail = wk(&ctx->log, "if");
  afail.fail_init = true;
  rusm_child_spec sinit = wk_spec("if", &afail, RUSM_PERMANENT, 1000);
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sinit, &px) == RUSM_SUP_ERR_START);
  rusm_child_spec sneither = {.id = "neither"};
  CHECK(ctx, rusm_supervisor_start_child(rt, sup, &sneither, NULL) == RUSM_SUP_ERR_BADARG);
  CHECK(ctx, rusm_supervisor_which_children(rt, sup, NULL, 0) == n - 1);
}

static void t_mgmt_in_process(tctx *ctx)
{
  wk_arg aa = wk(&ctx->log, "a");
  rusm_child_spec sa = wk_spec("a", &aa, RUSM_PERMANENT, 1000);
  rusm_sup_spec spec = {RUSM_ONE_FOR_ONE, 10, 5000, &sa, 1};
  rusm_pid sup = rusm_supervisor_start_link(&spec);
  mgmt(ctx, NULL, sup, "x");
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  /* requests to a dead supervisor fail cleanly */
  CHECK(ctx, rusm_supervisor_which_children(NULL, sup, NULL, 0) == RUSM_SUP_ERR_CALL);
  CHECK(ctx, rusm_supervisor_terminate_child(NULL, sup, "a") == RUSM_SUP_ERR_CALL);
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_ERR_CALL);
}

/* ---- the same management from a plain thread */

static int thread_side(rusm_runtime *rt)
{
  tctx *ctx = calloc(1, sizeof *ctx);
  pthread_mutex_init(&ctx->log.mu, NULL);
  ctx->rt = rt;
  ctx->name = "mgmt_from_thread";
  wk_arg aa = wk(&ctx->log, "a");
  rusm_child_spec sa = wk_spec("a", &aa, RUSM_PERMANENT, 1000);
  rusm_sup_spec spec = {RUSM_REST_FOR_ONE, 10, 5000, &sa, 1};
  rusm_pid sup = rusm_runtime_supervisor_start(rt, &spec);
  CHECK(ctx, sup != 0);
  mgmt(ctx, rt, sup, "y");
  /* a root supervisor is stopped by an exit signal from outside too */
  rusm_pid a = h_child_pid(rt, sup, "a");
  CHECK(ctx, rusm_runtime_exit_signal(rt, sup, RUSM_REASON(RUSM_EXIT_SHUTDOWN)) == 0);
  int64_t end = h_now_ms() + 2000;
  while ((h_alive(rt, sup) || h_alive(rt, a)) && h_now_ms() < end) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  CHECK(ctx, !h_alive(rt, sup) && !h_alive(rt, a));
  int fails = atomic_load(&ctx->failures);
  printf("%s %s\n", fails ? "FAIL" : "ok  ", ctx->name);
  pthread_mutex_destroy(&ctx->log.mu);
  free(ctx);
  return fails;
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = 0;
  fails += run_test(rt, "one_for_one", t_one_for_one, 20000);
  fails += run_test(rt, "one_for_all", t_one_for_all, 20000);
  fails += run_test(rt, "rest_for_one", t_rest_for_one, 20000);
  fails += run_test(rt, "rest_for_one_edges", t_rest_for_one_edges, 20000);
  fails += run_test(rt, "restart_types", t_restart_types, 20000);
  fails += run_test(rt, "temporary_sibling", t_temporary_sibling, 20000);
  fails += run_test(rt, "start_failure", t_start_failure, 20000);
  fails += run_test(rt, "mgmt_in_process", t_mgmt_in_process, 20000);
  fails += thread_side(rt);
  rusm_runtime_stop(rt);
  printf(fails ? "test_supervisor: %d failure(s)\n" : "test_supervisor: ok\n", fails);
  return fails ? 1 : 0;
}
