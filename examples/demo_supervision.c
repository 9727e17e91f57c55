/*
** demo_supervision -- a supervision tree repairing itself.
**
**   app (one_for_one)
**   |-- config            a server
**   |-- store (rest_for_one)
**   |   |-- db            a server
**   |   `-- cache         a server that depends on db
**   `-- jobs (simple_one_for_one)
**       `-- job#1..#3     servers added at run time
**
** The main thread (not a process) starts the tree, breaks pieces of it and
** prints what the supervisors do about it. Every child prints its own start
** and stop from its init and terminate callbacks.
*/
#include "rusm/otp.h"
#include "rusm/server.h"
#include "rusm/supervisor.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct svc {
  char name[24];
} svc;

static int svc_init(void *state, const void *arg, size_t len)
{
  svc *s = state;
  snprintf(s->name, sizeof s->name, "%.*s", (int)len, (const char *)arg);
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true); /* so a shutdown runs terminate */
  printf("    start  %-8s pid %llx\n", s->name, (unsigned long long)rusm_self());
  return 0;
}

static int svc_cast(void *state, const void *req, size_t len)
{
  (void)state, (void)req, (void)len;
  rusm_exit(rusm_reason_str("crash")); /* any cast: crash */
  return 1;
}

static void svc_terminate(void *state, rusm_reason why)
{
  svc *s = state;
  char buf[48];
  printf("    stop   %-8s (%s)\n", s->name, rusm_reason_format(why, buf, sizeof buf));
}

static const rusm_server_ops svc_ops = {
    .state_size = sizeof(svc),
    .init = svc_init,
    .handle_cast = svc_cast,
    .terminate = svc_terminate,
};

#define SVC(id_) {.id = id_, .server = &svc_ops, .arg = id_, .arg_len = sizeof id_ - 1, .shutdown = 1000}

static const rusm_child_spec store_children[] = {SVC("db"), SVC("cache")};
static const rusm_sup_spec store_spec = {RUSM_REST_FOR_ONE, 2, 5000, store_children, 2};
static const rusm_child_spec job_template = {.server = &svc_ops, .restart = RUSM_TRANSIENT,
                                             .shutdown = 1000};
static const rusm_sup_spec jobs_spec = {RUSM_SIMPLE_ONE_FOR_ONE, 5, 5000, &job_template, 1};
static const rusm_child_spec app_children[] = {
    SVC("config"),
    {.id = "store", .sup = &store_spec},
    {.id = "jobs", .sup = &jobs_spec},
};
static const rusm_sup_spec app_spec = {RUSM_ONE_FOR_ONE, 3, 5000, app_children, 3};

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static rusm_pid child_pid(rusm_runtime *rt, rusm_pid sup, const char *id)
{
  rusm_child_info ci[8];
  int n = rusm_supervisor_which_children(rt, sup, ci, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (strcmp(ci[i].id, id) == 0) return ci[i].pid;
  return 0;
}

/* Waits until child id of sup has a pid other than old (a restart). */
static rusm_pid await_change(rusm_runtime *rt, rusm_pid sup, const char *id, rusm_pid old)
{
  for (int i = 0; i < 2000; i++) {
    rusm_pid p = child_pid(rt, sup, id);
    if (p != old) return p;
    sleep_ms(1);
  }
  return old;
}

static void print_tree(rusm_runtime *rt, rusm_pid sup, int depth)
{
  rusm_child_info ci[16];
  int n = rusm_supervisor_which_children(rt, sup, ci, 16);
  for (int i = 0; i < n && i < 16; i++) {
    printf("  %*s%s %-8s pid %llx\n", depth * 4, "", ci[i].is_supervisor ? "+" : "-",
           ci[i].id[0] ? ci[i].id : "(job)", (unsigned long long)ci[i].pid);
    if (ci[i].is_supervisor && ci[i].pid) print_tree(rt, ci[i].pid, depth + 1);
  }
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  rusm_runtime *rt = rusm_runtime_start(NULL);
  if (!rt) {
    fprintf(stderr, "demo_supervision: cannot start the runtime\n");
    return 1;
  }
  int status = 1;
  printf("== starting the tree (children start in order, depth first)\n");
  rusm_pid app = rusm_runtime_supervisor_start(rt, &app_spec);
  if (!app) goto out;
  rusm_pid store = child_pid(rt, app, "store"), jobs = child_pid(rt, app, "jobs");
  rusm_pid job[3];
  for (int i = 0; i < 3; i++) {
    char name[16];
    int len = snprintf(name, sizeof name, "job#%d", i + 1);
    if (rusm_supervisor_start_dynamic(rt, jobs, name, (size_t)len, &job[i]) != RUSM_SUP_OK) goto out;
  }
  printf("== the tree\n");
  print_tree(rt, app, 0);

  printf("\n== job#2 crashes: 'jobs' restarts it alone\n");
  rusm_runtime_cast(rt, job[1], "x", 1);
  for (int i = 0; i < 2000; i++) { /* its new pid replaces the old one */
    rusm_child_info ci[8];
    int n = rusm_supervisor_which_children(rt, jobs, ci, 8);
    bool old_gone = true;
    for (int k = 0; k < n && k < 8; k++) old_gone &= ci[k].pid != job[1];
    if (old_gone) break;
    sleep_ms(1);
  }

  printf("\n== db crashes: 'store' is rest_for_one, so cache (started after db) restarts too\n");
  rusm_pid db = child_pid(rt, store, "db");
  rusm_runtime_cast(rt, db, "x", 1);
  db = await_change(rt, store, "db", db);

  printf("\n== cache crashes twice: with db's crash that makes 3 restarts within 5 s, more\n"
         "   than store's intensity (2), so store gives up (exits with shutdown) and app\n"
         "   restarts the whole store subtree\n");
  rusm_pid cache = child_pid(rt, store, "cache");
  rusm_runtime_cast(rt, cache, "x", 1);
  cache = await_change(rt, store, "cache", cache);
  rusm_runtime_cast(rt, cache, "x", 1);
  rusm_pid store2 = await_change(rt, app, "store", store);
  printf("    store: pid %llx -> %llx; config and jobs untouched: %s\n",
         (unsigned long long)store, (unsigned long long)store2,
         child_pid(rt, app, "jobs") == jobs ? "yes" : "NO");

  printf("\n== the repaired tree\n");
  print_tree(rt, app, 0);

  printf("\n== shutting down: reverse start order, depth first\n");
  if (rusm_supervisor_stop(rt, app) != RUSM_SUP_OK) goto out;
  rusm_runtime_wait_idle(rt, 1000); /* the last helper processes wind down */
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  printf("== done: %zu processes left, %llu spawned in all\n", st.process_count,
         (unsigned long long)st.spawned_total);
  status = 0;
out:
  rusm_runtime_stop(rt);
  if (status) fprintf(stderr, "demo_supervision: FAILED\n");
  return status;
}
