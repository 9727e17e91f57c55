/*
** test_supervisor_worker.h -- the children the supervisor tests supervise.
**
** worker_ops: a server that logs "start:<id>" from init, and from terminate
** "stop:<id>" (reason shutdown), "crash:<id>" (reason user "crash") or
** "end:<id>:<reason>"; it traps exits so that a supervisor's shutdown goes
** through terminate (and is logged). Casts: "crash", "normal" (exit
** normal), "shutdown" (exit shutdown). Call "pid" answers its pid.
**
** stubborn_ops: a handler that traps exits and ignores them, so only a kill
** ends it (to test shutdown timeouts); logs "start:<id>".
*/
#ifndef TEST_SUPERVISOR_WORKER_H
#define TEST_SUPERVISOR_WORKER_H

#include "test_supervisor_harness.h"

typedef struct wk_arg {
  elog *log;
  char id[16];
  bool no_trap;   /* do not trap exits: a shutdown signal kills it outright */
  bool fail_init; /* init fails (reason user "init_failed") */
} wk_arg;

static inline wk_arg wk(elog *log, const char *id)
{
  wk_arg a;
  memset(&a, 0, sizeof a);
  a.log = log;
  snprintf(a.id, sizeof a.id, "%s", id);
  return a;
}

static inline int wk_init(void *state, const void *arg, size_t len)
{
  wk_arg *w = state;
  if (len != sizeof *w) return 1;
  memcpy(w, arg, sizeof *w);
  if (w->fail_init) {
    elog_add(w->log, "initfail:%s", w->id);
    rusm_exit(rusm_reason_str("init_failed"));
    return 1;
  }
  if (!w->no_trap) rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  elog_add(w->log, "start:%s", w->id);
  return 0;
}

static inline int wk_cast(void *state, const void *req, size_t len)
{
  (void)state;
  if (len == 5 && memcmp(req, "crash", 5) == 0) {
    rusm_exit(rusm_reason_str("crash"));
    return 1;
  }
  if (len == 6 && memcmp(req, "normal", 6) == 0) return 1;
  if (len == 8 && memcmp(req, "shutdown", 8) == 0) {
    rusm_exit(RUSM_REASON(RUSM_EXIT_SHUTDOWN));
    return 1;
  }
  return 0;
}

static inline int wk_call(void *state, const rusm_from *from, const void *req, size_t len)
{
  (void)state, (void)req, (void)len;
  rusm_pid self = rusm_self();
  rusm_reply(from, &self, sizeof self);
  return 0;
}

static inline void wk_terminate(void *state, rusm_reason why)
{
  wk_arg *w = state;
  char buf[32];
  if (why.kind == RUSM_EXIT_SHUTDOWN)
    elog_add(w->log, "stop:%s", w->id);
  else if (why.kind == RUSM_EXIT_USER && why.len == 5 && memcmp(why.data, "crash", 5) == 0)
    elog_add(w->log, "crash:%s", w->id);
  else
    elog_add(w->log, "end:%s:%s", w->id, rusm_reason_format(why, buf, sizeof buf));
}

static const rusm_server_ops worker_ops = {
    .state_size = sizeof(wk_arg),
    .init = wk_init,
    .handle_call = wk_call,
    .handle_cast = wk_cast,
    .terminate = wk_terminate,
};

static inline int stubborn_init(void *state, const void *arg, size_t len)
{
  wk_arg *w = state;
  if (len != sizeof *w) return 1;
  memcpy(w, arg, sizeof *w);
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  elog_add(w->log, "start:%s", w->id);
  return 0;
}

static inline int stubborn_handle(void *state, rusm_msg *m)
{
  (void)state, (void)m; /* EXIT messages included: ignored */
  return 0;
}

static const rusm_handler_ops stubborn_ops = {sizeof(wk_arg), stubborn_init, stubborn_handle,
                                              NULL};

/* A worker child spec; a is copied by the supervisor. */
static inline rusm_child_spec wk_spec(const char *id, const wk_arg *a, rusm_restart r,
                                      int64_t shutdown)
{
  rusm_child_spec c;
  memset(&c, 0, sizeof c);
  c.id = id;
  c.server = &worker_ops;
  c.arg = a;
  c.arg_len = sizeof *a;
  c.restart = r;
  c.shutdown = shutdown;
  return c;
}

/* Casts "crash" to child id of sup; returns its (old) pid. */
static inline rusm_pid crash_child(rusm_runtime *rt, rusm_pid sup, const char *id)
{
  rusm_pid p = h_child_pid(rt, sup, id);
  if (p) rusm_cast(p, "crash", 5);
  return p;
}

#endif
