/*
** test_basic.c -- the core's basic calls end to end: spawning both native
** bodies, send/receive between them and from outside, rusm_self, exit with
** a reason, message accessors, resources (moved into messages and released
** exactly once), process flags, basic process info, wait_idle, a full pid
** table, and stop with a process still blocked.
*/
#include "otp_test.h"

static _Atomic int echo_done, client_ok, handler_count, handler_terminated;
static _Atomic int res_freed;

static void echo(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (;;) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    CHECK(m);
    if (rusm_msg_size(m) == 4 && memcmp(rusm_msg_data(m), "stop", 4) == 0) {
      rusm_msg_free(m);
      break;
    }
    CHECK(rusm_send(rusm_msg_sender(m), rusm_msg_data(m), rusm_msg_size(m)) == 0);
    rusm_msg_free(m);
  }
  atomic_store(&echo_done, 1);
}

static void client(const void *arg, size_t len) {
  CHECK(len == sizeof(int));
  int n;
  memcpy(&n, arg, sizeof n);
  rusm_pid e = rusm_spawn(echo, NULL, 0, NULL);
  CHECK(e != 0 && e != rusm_self());
  for (int i = 0; i < n; i++) {
    CHECK(rusm_send(e, &i, sizeof i) == 0);
    rusm_msg *m = rusm_receive(5000);
    CHECK(m);
    CHECK(rusm_msg_kind_of(m) == RUSM_MSG_USER);
    CHECK(rusm_msg_sender(m) == e);
    CHECK(rusm_msg_size(m) == sizeof i);
    int v;
    memcpy(&v, rusm_msg_data(m), sizeof v);
    CHECK(v == i);
    rusm_msg_free(m);
  }
  rusm_send(e, "stop", 4);
  /* a big message crosses the inline size classes */
  static char big[100000];
  memset(big, 'x', sizeof big);
  rusm_pid me = rusm_self();
  CHECK(rusm_send(me, big, sizeof big) == 0);
  rusm_msg *m = rusm_receive(1000);
  CHECK(m && rusm_msg_size(m) == sizeof big && ((const char *)rusm_msg_data(m))[99999] == 'x');
  rusm_msg_free(m);
  /* flags return the old value */
  CHECK(rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true) == false);
  CHECK(rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, false) == true);
  CHECK(rusm_runtime_current() != NULL);
  atomic_store(&client_ok, 1);
}

typedef struct counter {
  int n;
  int init_arg;
} counter;

static int c_init(void *st, const void *arg, size_t len) {
  counter *c = st;
  CHECK(len == sizeof(int));
  memcpy(&c->init_arg, arg, sizeof(int));
  return 0;
}
static int c_handle(void *st, rusm_msg *m) {
  counter *c = st;
  if (rusm_msg_size(m) == 4 && memcmp(rusm_msg_data(m), "quit", 4) == 0) {
    rusm_exit(rusm_reason_str("asked to"));
    return 1;
  }
  for (size_t i = 0; i < rusm_msg_resource_count(m); i++) {
    int *p = rusm_resource_ptr(rusm_msg_resource(m, i));
    CHECK(*p == 42);
  }
  c->n++;
  atomic_store(&handler_count, c->n);
  return 0;
}
static void c_term(void *st, rusm_reason why) {
  counter *c = st;
  CHECK(c->init_arg == 7);
  char buf[64];
  CHECK(strcmp(rusm_reason_format(why, buf, sizeof buf), "user:asked to") == 0);
  atomic_store(&handler_terminated, 1);
}
static const rusm_handler_ops counter_ops = {sizeof(counter), c_init, c_handle, c_term};

static void free_int(void *p) {
  free(p);
  atomic_fetch_add(&res_freed, 1);
}

static void res_sender(const void *arg, size_t len) {
  rusm_pid to;
  CHECK(len == sizeof to);
  memcpy(&to, arg, sizeof to);
  int *v = malloc(sizeof *v);
  *v = 42;
  rusm_resource *r = rusm_resource_new(v, free_int);
  rusm_resource *both[2] = {r, rusm_resource_ref(r)};
  CHECK(rusm_send_res(to, "r", 1, both, 2) == 0);
  /* to a dead pid: the references still move and are dropped */
  int *w = malloc(sizeof *w);
  rusm_resource *r2 = rusm_resource_new(w, free_int);
  CHECK(rusm_send_res((rusm_pid)0xfffff0, "r", 1, &r2, 1) == 0);
}

static void blocker(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_msg *m = rusm_receive(RUSM_INFINITY);
  rusm_msg_free(m);
}

int main(void) {
  /* outside a process the in-process calls fail cleanly */
  CHECK(rusm_self() == 0);
  CHECK(rusm_send(1, "x", 1) == -1);
  CHECK(rusm_receive(0) == NULL);
  CHECK(rusm_runtime_current() == NULL);

  char buf[64];
  CHECK(strcmp(rusm_reason_format(RUSM_REASON(RUSM_EXIT_KILLED), buf, sizeof buf), "killed") == 0);
  CHECK(strcmp(rusm_reason_format(rusm_reason_str("a\nb"), buf, sizeof buf), "user:a\\x0ab") == 0);

  rusm_runtime_config cfg = {2, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  int n = 1000;
  rusm_pid c = rusm_runtime_spawn(rt, client, &n, sizeof n, NULL);
  CHECK(c);
  CHECK(rusm_runtime_wait_idle(rt, 10000));
  CHECK(atomic_load(&client_ok) == 1 && atomic_load(&echo_done) == 1);

  int seven = 7;
  rusm_pid h = rusm_runtime_spawn_handler(rt, &counter_ops, &seven, sizeof seven, NULL);
  CHECK(h);
  for (int i = 0; i < 100; i++) CHECK(rusm_runtime_send(rt, h, &i, sizeof i) == 0);
  CHECK(WAIT_FOR(atomic_load(&handler_count) == 100, 5000));
  rusm_process_info info;
  CHECK(WAIT_FOR(rusm_process_info_get(rt, h, &info) && info.status == RUSM_STATUS_WAITING, 2000));
  CHECK(strcmp(info.body_kind, "handler") == 0);
  CHECK(info.reductions >= 100);
  CHECK(info.memory > 0 && info.memory <= 1024);
  CHECK(info.mailbox_len == 0);

  rusm_pid rs = rusm_runtime_spawn(rt, res_sender, &h, sizeof h, NULL);
  CHECK(rs);
  CHECK(WAIT_FOR(atomic_load(&handler_count) == 101, 5000));
  CHECK(WAIT_FOR(atomic_load(&res_freed) == 2, 5000));

  CHECK(rusm_runtime_send(rt, h, "quit", 4) == 0);
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  CHECK(atomic_load(&handler_terminated) == 1);
  CHECK(!rusm_process_info_get(rt, h, &info));
  /* sending to the dead is silently dropped */
  CHECK(rusm_runtime_send(rt, h, "late", 4) == 0);

  /* a process blocked forever keeps the runtime busy */
  rusm_pid b = rusm_runtime_spawn(rt, blocker, NULL, 0, NULL);
  CHECK(b);
  CHECK(!rusm_runtime_wait_idle(rt, 50));
  CHECK(WAIT_FOR(rusm_process_info_get(rt, b, &info) && info.status == RUSM_STATUS_WAITING, 2000));
  CHECK(strcmp(info.body_kind, "coroutine") == 0);
  CHECK(info.memory <= 8192 + 1024);
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  CHECK(st.process_count == 1 && st.workers == 2);
  CHECK(st.spawned_total == st.exited_total + 1);
  rusm_runtime_send(rt, b, "go", 2);
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  rusm_runtime_stop(rt);

  /* a full pid table makes spawn fail cleanly; a freed slot is reusable */
  rusm_runtime_config small = {1, 0, 0, 16};
  rt = rusm_runtime_start(&small);
  CHECK(rt);
  rusm_pid blockers[16];
  for (int i = 0; i < 16; i++) CHECK((blockers[i] = rusm_runtime_spawn(rt, blocker, NULL, 0, NULL)));
  CHECK(rusm_runtime_spawn(rt, blocker, NULL, 0, NULL) == 0);
  CHECK(rusm_runtime_spawn_handler(rt, &counter_ops, &seven, sizeof seven, NULL) == 0);
  for (int i = 0; i < 16; i++) rusm_runtime_send(rt, blockers[i], "go", 2);
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  CHECK(WAIT_FOR((b = rusm_runtime_spawn(rt, blocker, NULL, 0, NULL)) != 0, 2000));
  for (int i = 0; i < 16; i++) CHECK(b != blockers[i]);   /* new generation */
  rusm_runtime_stop(rt);   /* with b still blocked: stop kills it */
  printf("test_basic: ok\n");
  return 0;
}
