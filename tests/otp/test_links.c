/*
** test_links.c -- links and exit signals with Erlang semantics: a linked
** crash kills a non-trapping partner and becomes an EXIT message for a
** trapping one; normal exits do not propagate; kill is untrappable and
** linked processes see killed; exit_signal with a user reason; link to a
** dead pid gives noproc; unlink stops propagation; an exit signal arrives
** after the messages its sender sent before it; links are removed on both
** sides when either end dies.
*/
#include "otp_test.h"

static rusm_runtime *rt;
static _Atomic int done;

static rusm_msg *recv_kind(rusm_msg_kind k) {
  rusm_msg *m = rusm_receive(5000);
  CHECK(m);
  CHECK(rusm_msg_kind_of(m) == k);
  return m;
}

static const char *fmt(rusm_reason r) {
  static _Thread_local char buf[64];
  return rusm_reason_format(r, buf, sizeof buf);
}

static void crasher(const void *arg, size_t len) {
  (void)len;
  const char *how = arg;
  if (strcmp(how, "normal") == 0) return;
  if (strcmp(how, "wait") == 0) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    rusm_msg_free(m);
    return;
  }
  rusm_sleep(5);
  rusm_exit(rusm_reason_str(how));
}

/* Links to a crashing child without trapping: dies with the child's reason. */
static void doomed_parent(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  CHECK(rusm_spawn(crasher, "boom", 5, &o));
  rusm_receive(RUSM_INFINITY);
  CHECK(0 && "not reached: the link kills us");
}

static void links_main(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_pid self = rusm_self();
  rusm_process_info info;

  /* 1. a linked crash kills a non-trapping process; we see it by monitor */
  uint64_t ref = 0;
  rusm_spawn_opts mo = {RUSM_SPAWN_MONITOR, &ref};
  rusm_pid dp = rusm_spawn(doomed_parent, NULL, 0, &mo);
  rusm_msg *m = recv_kind(RUSM_MSG_DOWN);
  CHECK(rusm_msg_sender(m) == dp && rusm_msg_monitor_ref(m) == ref);
  CHECK(strcmp(fmt(rusm_msg_reason(m)), "user:boom") == 0);
  rusm_msg_free(m);

  /* 2. trapping: the crash arrives as an EXIT message */
  CHECK(rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true) == false);
  rusm_spawn_opts lo = {RUSM_SPAWN_LINK, NULL};
  rusm_pid c = rusm_spawn(crasher, "bang", 5, &lo);
  CHECK(rusm_process_info_get(rt, self, &info) && info.links == 1 && info.trap_exit);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == c);
  CHECK(strcmp(fmt(rusm_msg_reason(m)), "user:bang") == 0);
  rusm_msg_free(m);
  /* the link is gone on our side */
  CHECK(rusm_process_info_get(rt, self, &info) && info.links == 0);

  /* 3. a normal exit reaches a trapping process as EXIT normal */
  c = rusm_spawn(crasher, "normal", 7, &lo);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == c && rusm_msg_reason(m).kind == RUSM_EXIT_NORMAL);
  rusm_msg_free(m);

  /* 4. kill is untrappable; linked processes then see killed */
  c = rusm_spawn(crasher, "wait", 5, &lo);
  CHECK(rusm_kill(c) == 0);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == c && rusm_msg_reason(m).kind == RUSM_EXIT_KILLED);
  rusm_msg_free(m);

  /* 5. exit_signal with a user reason to a non-trapping process kills it */
  c = rusm_spawn(crasher, "wait", 5, &lo);
  CHECK(rusm_exit_signal(c, rusm_reason_str("go away")) == 0);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == c && strcmp(fmt(rusm_msg_reason(m)), "user:go away") == 0);
  rusm_msg_free(m);

  /* 6. a normal exit signal from another process is ignored */
  c = rusm_spawn(crasher, "wait", 5, &lo);
  CHECK(rusm_exit_signal(c, RUSM_REASON(RUSM_EXIT_NORMAL)) == 0);
  CHECK(rusm_receive(50) == NULL);
  CHECK(rusm_process_info_get(rt, c, &info));
  rusm_send(c, "x", 1);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_reason(m).kind == RUSM_EXIT_NORMAL);
  rusm_msg_free(m);

  /* 7. link to a dead pid: noproc */
  CHECK(rusm_link(c) == 0);
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == c && rusm_msg_reason(m).kind == RUSM_EXIT_NOPROC);
  rusm_msg_free(m);
  CHECK(rusm_process_info_get(rt, self, &info) && info.links == 0);

  /* 8. unlink: the crash no longer reaches us; both sides forget the link */
  c = rusm_spawn(crasher, "wait", 5, NULL);
  CHECK(rusm_link(c) == 0);
  CHECK(PWAIT_FOR(rusm_process_info_get(rt, c, &info) && info.links == 1, 2000));
  CHECK(rusm_unlink(c) == 0);
  CHECK(PWAIT_FOR(rusm_process_info_get(rt, c, &info) && info.links == 0, 2000));
  CHECK(rusm_exit_signal(c, rusm_reason_str("bye")) == 0);
  CHECK(rusm_receive(50) == NULL);

  /* 9. a trapped exit signal comes after the messages sent before it */
  rusm_pid me = self;
  for (int i = 0; i < 3; i++) rusm_send(me, &i, sizeof i);
  rusm_exit_signal(me, rusm_reason_str("ordered"));
  int three = 3;
  rusm_send(me, &three, sizeof three);
  for (int i = 0; i < 3; i++) {
    m = recv_kind(RUSM_MSG_USER);
    int v;
    memcpy(&v, rusm_msg_data(m), sizeof v);
    CHECK(v == i);
    rusm_msg_free(m);
  }
  m = recv_kind(RUSM_MSG_EXIT);
  CHECK(strcmp(fmt(rusm_msg_reason(m)), "user:ordered") == 0 && rusm_msg_sender(m) == me);
  rusm_msg_free(m);
  m = recv_kind(RUSM_MSG_USER);
  rusm_msg_free(m);

  /* 10. when we die, our partners drop the link (checked from main) */
  atomic_store(&done, 1);
  m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

/* Ordering across processes: the sender sends messages then an exit
** signal; the trapping receiver sees them in that order. */
static _Atomic int order_ok;
static void order_sender(const void *arg, size_t len) {
  rusm_pid to;
  CHECK(len == sizeof to);
  memcpy(&to, arg, sizeof to);
  for (int i = 0; i < 100; i++) rusm_send(to, &i, sizeof i);
  rusm_exit_signal(to, rusm_reason_str("last"));
}
static void order_receiver(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  rusm_pid me = rusm_self();
  rusm_pid s = rusm_spawn(order_sender, &me, sizeof me, NULL);
  for (int i = 0; i < 100; i++) {
    rusm_msg *m = recv_kind(RUSM_MSG_USER);
    CHECK(rusm_msg_sender(m) == s);
    int v;
    memcpy(&v, rusm_msg_data(m), sizeof v);
    CHECK(v == i);
    rusm_msg_free(m);
  }
  rusm_msg *m = recv_kind(RUSM_MSG_EXIT);
  CHECK(rusm_msg_sender(m) == s);
  rusm_msg_free(m);
  atomic_store(&order_ok, 1);
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  rusm_pid lm = rusm_runtime_spawn(rt, links_main, NULL, 0, NULL);
  CHECK(lm);
  CHECK(WAIT_FOR(atomic_load(&done) == 1, 20000));

  /* cleanup on the other side: a partner linked to lm loses the link when
  ** lm is killed (the partner traps, so it survives and reports) */
  CHECK(rusm_runtime_spawn(rt, order_receiver, NULL, 0, NULL));
  CHECK(rusm_runtime_wait_idle(rt, 1) == false);
  rusm_runtime_exit_signal(rt, lm, RUSM_REASON(RUSM_EXIT_KILL));
  CHECK(rusm_runtime_wait_idle(rt, 20000));
  CHECK(atomic_load(&order_ok) == 1);
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 0);
  rusm_runtime_stop(rt);
  printf("test_links: ok\n");
  return 0;
}
