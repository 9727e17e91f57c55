/*
** test_supervisor_tree: nested supervision. A crash three levels down is
** repaired by the supervisor right above it and nothing else restarts;
** restart intensity exceeded escalates exactly one level; restarts outside
** the period do not add up; an EXIT from a supervisor's parent takes the
** whole subtree down in order.
*/
#include "test_supervisor_worker.h"

/* root(one_for_one) -> r1, L1, r2
**   L1(one_for_one) -> l1w, L2
**     L2(one_for_all) -> l2w, L3
**       L3(one_for_one) -> l3a, l3b
** The specs live in the driver's frame, which outlives the tree. */
typedef struct tree {
  wk_arg a_r1, a_r2, a_l1w, a_l2w, a_l3a, a_l3b;
  rusm_child_spec root_c[3], l1_c[2], l2_c[2], l3_c[2];
  rusm_sup_spec root, l1, l2, l3;
} tree;

static rusm_child_spec sup_child(const char *id, const rusm_sup_spec *s)
{
  rusm_child_spec c;
  memset(&c, 0, sizeof c);
  c.id = id;
  c.sup = s;
  return c;
}

static void tree_init(tree *t, elog *log)
{
  t->a_r1 = wk(log, "r1");
  t->a_r2 = wk(log, "r2");
  t->a_l1w = wk(log, "l1w");
  t->a_l2w = wk(log, "l2w");
  t->a_l3a = wk(log, "l3a");
  t->a_l3b = wk(log, "l3b");
  t->l3_c[0] = wk_spec("l3a", &t->a_l3a, RUSM_PERMANENT, 1000);
  t->l3_c[1] = wk_spec("l3b", &t->a_l3b, RUSM_PERMANENT, 1000);
  t->l3 = (rusm_sup_spec){RUSM_ONE_FOR_ONE, 3, 5000, t->l3_c, 2};
  t->l2_c[0] = wk_spec("l2w", &t->a_l2w, RUSM_PERMANENT, 1000);
  t->l2_c[1] = sup_child("L3", &t->l3);
  t->l2 = (rusm_sup_spec){RUSM_ONE_FOR_ALL, 3, 5000, t->l2_c, 2};
  t->l1_c[0] = wk_spec("l1w", &t->a_l1w, RUSM_PERMANENT, 1000);
  t->l1_c[1] = sup_child("L2", &t->l2);
  t->l1 = (rusm_sup_spec){RUSM_ONE_FOR_ONE, 3, 5000, t->l1_c, 2};
  t->root_c[0] = wk_spec("r1", &t->a_r1, RUSM_PERMANENT, 1000);
  t->root_c[1] = sup_child("L1", &t->l1);
  t->root_c[2] = wk_spec("r2", &t->a_r2, RUSM_PERMANENT, 1000);
  t->root = (rusm_sup_spec){RUSM_ONE_FOR_ONE, 3, 5000, t->root_c, 3};
}

enum { P_ROOT, P_R1, P_L1, P_R2, P_L1W, P_L2, P_L2W, P_L3, P_L3A, P_L3B, P_N };
static const char *const PNAMES[P_N] = {"root", "r1", "L1", "r2", "l1w",
                                        "L2", "l2w", "L3", "l3a", "l3b"};

static void snapshot(rusm_pid root, rusm_pid p[P_N])
{
  p[P_ROOT] = root;
  p[P_R1] = h_child_pid(NULL, root, "r1");
  p[P_L1] = h_child_pid(NULL, root, "L1");
  p[P_R2] = h_child_pid(NULL, root, "r2");
  p[P_L1W] = h_child_pid(NULL, p[P_L1], "l1w");
  p[P_L2] = h_child_pid(NULL, p[P_L1], "L2");
  p[P_L2W] = h_child_pid(NULL, p[P_L2], "l2w");
  p[P_L3] = h_child_pid(NULL, p[P_L2], "L3");
  p[P_L3A] = h_child_pid(NULL, p[P_L3], "l3a");
  p[P_L3B] = h_child_pid(NULL, p[P_L3], "l3b");
}

static void check_changed(tctx *ctx, const rusm_pid a[P_N], const rusm_pid b[P_N],
                          unsigned changed_mask)
{
  for (int i = 0; i < P_N; i++) {
    bool changed = a[i] != b[i];
    bool want = (changed_mask >> i) & 1u;
    if (!b[i] || changed != want) {
      fprintf(stderr, "  %s: %llx -> %llx (%s expected)\n", PNAMES[i], (unsigned long long)a[i],
              (unsigned long long)b[i], want ? "change" : "no change");
      CHECK(ctx, b[i] && changed == want);
    }
  }
}

static void t_deep_crash(tctx *ctx)
{
  tree t;
  tree_init(&t, &ctx->log);
  rusm_pid root = rusm_supervisor_start_link(&t.root);
  CHECK(ctx, root != 0);
  rusm_pid before[P_N], after[P_N];
  snapshot(root, before);
  /* ordered, depth-first start: each supervisor answers its parent's start
  ** ping only once its own children are up */
  CHECK_EVENTS(ctx, 0, "start:r1 start:l1w start:l2w start:l3a start:l3b start:r2");

  /* a crash three levels down (under L3): L3 repairs it, nobody else moves */
  int mark = elog_count(&ctx->log);
  rusm_cast(before[P_L3A], "crash", 5);
  int64_t end = h_now_ms() + 2000;
  do {
    rusm_sleep(1);
    snapshot(root, after);
  } while (after[P_L3A] == before[P_L3A] && h_now_ms() < end);
  rusm_sleep(20);
  snapshot(root, after);
  CHECK_EVENTS(ctx, mark, "crash:l3a start:l3a");
  check_changed(ctx, before, after, 1u << P_L3A);

  /* a crash under L2 (one_for_all): l2w and the whole L3 subtree restart,
  ** L3's children stopped in reverse order by L3 itself */
  memcpy(before, after, sizeof before);
  mark = elog_count(&ctx->log);
  rusm_cast(before[P_L2W], "crash", 5);
  CHECK(ctx, elog_wait(&ctx->log, mark + 6, 2000));
  rusm_sleep(20);
  snapshot(root, after);
  CHECK_EVENTS(ctx, mark, "crash:l2w stop:l3b stop:l3a start:l2w start:l3a start:l3b");
  check_changed(ctx, before, after,
                (1u << P_L2W) | (1u << P_L3) | (1u << P_L3A) | (1u << P_L3B));

  /* the whole tree goes down depth-first in reverse order */
  mark = elog_count(&ctx->log);
  CHECK(ctx, rusm_supervisor_stop(NULL, root) == RUSM_SUP_OK);
  CHECK_EVENTS(ctx, mark, "stop:r2 stop:l3b stop:l3a stop:l2w stop:l1w stop:r1");
  for (int i = 0; i < P_N; i++) CHECK(ctx, !h_alive(ctx->rt, after[i]));
}

/* More than `intensity` restarts in the period: the supervisor stops its
** children and exits with reason shutdown; its parent restarts it; the
** parent's other children and the parent itself are untouched. */
static void t_escalation(tctx *ctx)
{
  wk_arg aw1 = wk(&ctx->log, "w1"), aw2 = wk(&ctx->log, "w2"), ar = wk(&ctx->log, "r");
  rusm_child_spec mid_c[2] = {wk_spec("w1", &aw1, RUSM_PERMANENT, 1000),
                              wk_spec("w2", &aw2, RUSM_PERMANENT, 1000)};
  rusm_sup_spec mid = {RUSM_ONE_FOR_ONE, 1, 5000, mid_c, 2};
  rusm_child_spec root_c[2] = {wk_spec("r", &ar, RUSM_PERMANENT, 1000), sup_child("mid", &mid)};
  rusm_sup_spec root_s = {RUSM_ONE_FOR_ONE, 5, 5000, root_c, 2};
  rusm_pid root = rusm_supervisor_start_link(&root_s);
  rusm_pid r = h_child_pid(NULL, root, "r"), m = h_child_pid(NULL, root, "mid");
  rusm_pid w1 = h_child_pid(NULL, m, "w1");
  int mark = elog_count(&ctx->log);
  rusm_cast(w1, "crash", 5); /* restart 1: within intensity */
  int64_t end = h_now_ms() + 2000;
  rusm_pid w1b;
  while ((w1b = h_child_pid(NULL, m, "w1")) == w1 && h_now_ms() < end) rusm_sleep(1);
  CHECK(ctx, w1b && w1b != w1);
  CHECK(ctx, h_child_pid(NULL, root, "mid") == m);
  rusm_cast(w1b, "crash", 5); /* restart 2: too many */
  rusm_pid m2;
  while ((m2 = h_child_pid(NULL, root, "mid")) == m && h_now_ms() < end) rusm_sleep(1);
  CHECK(ctx, m2 && m2 != m);
  CHECK(ctx, elog_wait(&ctx->log, mark + 6, 2000));
  rusm_sleep(20);
  CHECK_EVENTS(ctx, mark, "crash:w1 start:w1 crash:w1 stop:w2 start:w1 start:w2");
  CHECK(ctx, !h_alive(ctx->rt, m));
  CHECK(ctx, h_child_pid(NULL, root, "r") == r && h_alive(ctx->rt, root));
  CHECK(ctx, rusm_supervisor_stop(NULL, root) == RUSM_SUP_OK);
}

/* Intensity exceeded at the top: the supervisor's own parent (here the
** driver, trapping exits) gets its EXIT with reason shutdown. */
static void t_intensity(tctx *ctx)
{
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  wk_arg aa = wk(&ctx->log, "a"), ab = wk(&ctx->log, "b");
  rusm_child_spec c[2] = {wk_spec("a", &aa, RUSM_PERMANENT, 1000),
                          wk_spec("b", &ab, RUSM_PERMANENT, 1000)};
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 2, 5000, c, 2};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  rusm_supervisor_which_children(NULL, sup, NULL, 0); /* the start is over */
  int mark = elog_count(&ctx->log);
  for (int i = 0; i < 3; i++) {
    rusm_pid a = crash_child(NULL, sup, "a");
    CHECK(ctx, a != 0);
    if (i < 2) {
      int64_t end = h_now_ms() + 2000;
      while (h_child_pid(NULL, sup, "a") == a && h_now_ms() < end) rusm_sleep(1);
    }
  }
  rusm_msg *m = rusm_receive(3000);
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT && rusm_msg_sender(m) == sup &&
                 rusm_msg_reason(m).kind == RUSM_EXIT_SHUTDOWN);
  if (m) rusm_msg_free(m);
  CHECK_EVENTS(ctx, mark, "crash:a start:a crash:a start:a crash:a stop:b");

  /* restarts spread wider than the period never add up */
  rusm_sup_spec s2 = {RUSM_ONE_FOR_ONE, 1, 100, c, 2};
  sup = rusm_supervisor_start_link(&s2);
  for (int i = 0; i < 3; i++) {
    rusm_pid a = crash_child(NULL, sup, "a");
    int64_t end = h_now_ms() + 2000;
    while (h_child_pid(NULL, sup, "a") == a && h_now_ms() < end) rusm_sleep(1);
    rusm_sleep(130);
  }
  CHECK(ctx, h_alive(ctx->rt, sup));
  CHECK(ctx, rusm_supervisor_stop(NULL, sup) == RUSM_SUP_OK);
  m = rusm_receive(1000); /* its EXIT normal */
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT && rusm_msg_reason(m).kind == RUSM_EXIT_NORMAL);
  if (m) rusm_msg_free(m);

  /* intensity 0: the first crash is already too many */
  rusm_sup_spec s3 = {RUSM_ONE_FOR_ONE, 0, 5000, c, 2};
  sup = rusm_supervisor_start_link(&s3);
  crash_child(NULL, sup, "a");
  m = rusm_receive(3000);
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_EXIT && rusm_msg_sender(m) == sup &&
                 rusm_msg_reason(m).kind == RUSM_EXIT_SHUTDOWN);
  if (m) rusm_msg_free(m);
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, false);
}

/* The parent of a supervisor dies: the supervisor shuts its tree down in
** order and exits with the same reason. */
typedef struct owner_arg {
  elog *log;
  rusm_pid driver;
} owner_arg;

static void owner_fn(const void *arg, size_t len)
{
  owner_arg o;
  memcpy(&o, arg, len < sizeof o ? len : sizeof o);
  wk_arg aa = wk(o.log, "a"), ab = wk(o.log, "b");
  rusm_child_spec c[2] = {wk_spec("a", &aa, RUSM_PERMANENT, 1000),
                          wk_spec("b", &ab, RUSM_PERMANENT, 1000)};
  rusm_sup_spec s = {RUSM_ONE_FOR_ONE, 2, 5000, c, 2};
  rusm_pid sup = rusm_supervisor_start_link(&s);
  rusm_supervisor_which_children(NULL, sup, NULL, 0); /* started */
  rusm_send(o.driver, &sup, sizeof sup);
  rusm_exit(rusm_reason_str("owner_died"));
}

static void t_parent_dies(tctx *ctx)
{
  owner_arg o = {&ctx->log, rusm_self()};
  rusm_spawn(owner_fn, &o, sizeof o, NULL);
  rusm_msg *m = rusm_receive(2000);
  CHECK(ctx, m != NULL);
  rusm_pid sup = 0;
  if (m) {
    memcpy(&sup, rusm_msg_data(m), sizeof sup);
    rusm_msg_free(m);
  }
  uint64_t ref = rusm_monitor(sup);
  m = rusm_receive(2000);
  CHECK(ctx, m && rusm_msg_kind_of(m) == RUSM_MSG_DOWN && rusm_msg_monitor_ref(m) == ref);
  if (m) {
    rusm_reason r = rusm_msg_reason(m);
    /* noproc if it was already gone when monitored; else the owner's reason */
    CHECK(ctx, r.kind == RUSM_EXIT_NOPROC ||
                   (r.kind == RUSM_EXIT_USER && r.len == 10 && memcmp(r.data, "owner_died", 10) == 0));
    rusm_msg_free(m);
  }
  CHECK(ctx, elog_wait(&ctx->log, 4, 2000));
  CHECK_EVENTS(ctx, 0, "start:a start:b stop:b stop:a");
}

int main(void)
{
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) return 1;
  int fails = 0;
  fails += run_test(rt, "deep_crash", t_deep_crash, 20000);
  fails += run_test(rt, "escalation", t_escalation, 20000);
  fails += run_test(rt, "intensity", t_intensity, 20000);
  fails += run_test(rt, "parent_dies", t_parent_dies, 20000);
  rusm_runtime_stop(rt);
  printf(fails ? "test_supervisor_tree: %d failure(s)\n" : "test_supervisor_tree: ok\n", fails);
  return fails ? 1 : 0;
}
