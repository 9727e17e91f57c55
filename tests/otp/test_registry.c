/*
** test_registry.c -- the registry rules: register / whereis / send_named /
** unregister; a taken name (-1), a dead or unknown pid (-2), a second name
** for one process (-3) and a bad name (-4) are errors; a name is released
** when its process exits; registered() lists the names; the registered name
** shows in process info.
*/
#include "otp_test.h"

static rusm_runtime *rt;
static _Atomic int got_named;

static void named(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  for (;;) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    bool stop = rusm_msg_size(m) == 4 && memcmp(rusm_msg_data(m), "stop", 4) == 0;
    if (!stop) atomic_fetch_add(&got_named, 1);
    rusm_msg_free(m);
    if (stop) return;
  }
}

static void client(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  CHECK(rusm_send_named("svc", "hi", 2) == 0);
  CHECK(rusm_send_named("nobody", "hi", 2) == -2);
  CHECK(rusm_send_named(NULL, "hi", 2) == -1);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  rusm_pid a = rusm_runtime_spawn(rt, named, NULL, 0, NULL);
  rusm_pid b = rusm_runtime_spawn(rt, named, NULL, 0, NULL);
  CHECK(a && b);

  CHECK(rusm_register(rt, "svc", a) == 0);
  CHECK(rusm_whereis(rt, "svc") == a);
  CHECK(rusm_register(rt, "svc", b) == -1);         /* taken */
  CHECK(rusm_register(rt, "other", a) == -3);       /* a has a name */
  CHECK(rusm_register(rt, "", b) == -4);
  CHECK(rusm_register(rt, NULL, b) == -4);
  char longname[80];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  CHECK(rusm_register(rt, longname, b) == -4);
  CHECK(rusm_register(rt, "ghost", (rusm_pid)0x777777) == -2);
  CHECK(rusm_register(rt, "other", b) == 0);

  rusm_process_info info;
  CHECK(rusm_process_info_get(rt, a, &info) && strcmp(info.registered_name, "svc") == 0);

  char *names[4];
  size_t n = rusm_registered(rt, names, 4);
  CHECK(n == 2);
  qsort(names, 2, sizeof names[0], cmp);
  CHECK(strcmp(names[0], "other") == 0 && strcmp(names[1], "svc") == 0);
  free(names[0]);
  free(names[1]);

  CHECK(rusm_runtime_spawn(rt, client, NULL, 0, NULL));
  CHECK(WAIT_FOR(atomic_load(&got_named) == 1, 5000));

  /* unregister frees the name, not the process */
  CHECK(rusm_unregister(rt, "other") == 0);
  CHECK(rusm_unregister(rt, "other") == -2);
  CHECK(rusm_whereis(rt, "other") == 0);
  CHECK(rusm_process_info_get(rt, b, &info) && info.registered_name[0] == 0);
  CHECK(rusm_register(rt, "b2", b) == 0);

  /* the name goes with its process */
  rusm_runtime_send(rt, a, "stop", 4);
  CHECK(WAIT_FOR(rusm_whereis(rt, "svc") == 0, 5000));
  CHECK(rusm_register(rt, "svc", a) == -2);         /* dead */
  CHECK(rusm_register(rt, "svc", b) == -3);         /* b is b2 */
  CHECK(rusm_unregister(rt, "b2") == 0);
  CHECK(rusm_register(rt, "svc", b) == 0);
  CHECK(rusm_registered(rt, NULL, 0) == 1);
  rusm_runtime_send(rt, b, "stop", 4);
  CHECK(rusm_runtime_wait_idle(rt, 5000));
  CHECK(rusm_registered(rt, NULL, 0) == 0);

  /* a name still registered at stop is freed with the runtime */
  rusm_pid c = rusm_runtime_spawn(rt, named, NULL, 0, NULL);
  CHECK(rusm_register(rt, "left", c) == 0);
  rusm_runtime_stop(rt);
  printf("test_registry: ok\n");
  return 0;
}
