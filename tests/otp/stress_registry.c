/*
** stress_registry.c -- the registry under concurrency: processes on both
** workers and a foreign thread register short-lived children under shared
** names, look them up, send by name and unregister, while the children exit
** on their own.  Invariants: a name never resolves to a pid registered under
** another name, and once every process is gone no name is left.  Run under
** TSan; RUSM_TEST_N scales the rounds.
*/
#include "otp_test.h"

#include <pthread.h>

#define WORKERS 8
#define NAMES 4
static long rounds;
static rusm_runtime *rt;
static _Atomic long registered_ok, sent_named;

static void child(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  rusm_msg *m = rusm_receive(2);   /* a short life */
  if (m) rusm_msg_free(m);
}

static void name_of(char *buf, long i) { snprintf(buf, 16, "n%ld", i % NAMES); }

static void registrar(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  char name[16];
  for (long r = 0; r < rounds; r++) {
    name_of(name, r);
    rusm_pid c = rusm_spawn(child, NULL, 0, NULL);
    CHECK(c);
    int rc = rusm_register(rt, name, c);
    CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc == 0) atomic_fetch_add(&registered_ok, 1);
    rusm_pid w = rusm_whereis(rt, name);
    if (w && w == c) {
      rusm_process_info info;
      if (rusm_process_info_get(rt, w, &info)) CHECK(info.registered_name[0] == 0 ||
                                                     strcmp(info.registered_name, name) == 0);
    }
    if (rusm_send_named(name, "hi", 2) == 0) atomic_fetch_add(&sent_named, 1);
    if (r % 3 == 0) rusm_unregister(rt, name);
    if (r % 16 == 0) rusm_yield();
  }
}

static void *foreign(void *p) {
  (void)p;
  char name[16];
  for (long r = 0; r < rounds; r++) {
    name_of(name, r + 1);
    rusm_pid w = rusm_whereis(rt, name);
    if (w) rusm_runtime_send(rt, w, "x", 1);
    char *names[NAMES + 1];
    size_t n = rusm_registered(rt, names, NAMES + 1);
    CHECK(n <= NAMES);
    for (size_t i = 0; i < n; i++) {
      CHECK(names[i][0] == 'n');
      free(names[i]);
    }
  }
  return NULL;
}

int main(void) {
  rounds = env_long("RUSM_TEST_N", 2000);
  rusm_runtime_config cfg = {2, 0, 0, 0};
  rt = rusm_runtime_start(&cfg);
  CHECK(rt);
  for (int i = 0; i < WORKERS; i++) CHECK(rusm_runtime_spawn(rt, registrar, NULL, 0, NULL));
  pthread_t th;
  pthread_create(&th, NULL, foreign, NULL);
  pthread_join(th, NULL);
  CHECK(rusm_runtime_wait_idle(rt, 60000));
  CHECK(rusm_registered(rt, NULL, 0) == 0);   /* names went with their processes */
  printf("stress_registry: %ld registrations, %ld sends by name\n", atomic_load(&registered_ok),
         atomic_load(&sent_named));
  CHECK(atomic_load(&registered_ok) > 0);
  rusm_runtime_stop(rt);
  printf("stress_registry: ok\n");
  return 0;
}
