/*
** rusm/supervisor.h -- OTP supervisors: processes that start children, watch
** them through links (trapping exits) and restart them by a strategy, within
** a restart intensity.
**
** Semantics follow Erlang/OTP's supervisor:
**  - children start in spec order and are shut down in reverse order;
**  - one_for_one restarts the child that ended; one_for_all shuts down the
**    others (reverse order) and restarts all (in order); rest_for_one shuts
**    down the children started after it (reverse order) and restarts it and
**    them (in order); simple_one_for_one has one template and children added
**    at run time, shut down all at once;
**  - permanent children are always restarted, transient ones only after an
**    abnormal exit (not normal, not shutdown), temporary ones never (their
**    spec is dropped when they end, even when a sibling's restart ended them);
**  - more than `intensity` restarts within `period_ms` ends the supervisor:
**    it shuts down every child and exits with reason shutdown, for its own
**    supervisor to react;
**  - shutdown of a child: brutal_kill = kill; a timeout = exit signal
**    shutdown, then kill if it has not ended within the time; infinity =
**    exit signal shutdown and wait. The supervisor monitors and unlinks the
**    child first, so the child's end is never mistaken for a crash.
**  - an EXIT from the process that started the supervisor (or an exit
**    signal sent from outside any process) shuts the tree down and ends the
**    supervisor with that reason.
**
** A supervisor is a stackless process of body kind "supervisor" (it traps
** exits). rusm_supervisor_start_link returns the pid at once; the
** supervisor's first act is to start its children, and it answers no
** request before that is over, so a request always sees the tree started.
** Starts are ordered as in OTP: a server child or a supervisor child is
** asked for a start ack (rusm_send_ping) and the next child starts only
** once the ack is in -- for a nested supervisor, once its own children are
** up -- so the whole tree starts depth first, in order. Coroutine, handler
** and start-function children cannot ack: their start is the spawn alone,
** and their init runs concurrently with the next start.
**
** A start failure (a start that returns 0, or a child that dies before its
** ack, e.g. its init fails) at the supervisor's own start ends the
** supervisor with reason "failed_to_start_child:<id>" after shutting down
** the children already started; during a restart it counts as one more
** restart (so a child that cannot start exhausts the intensity); for
** start_child / restart_child it is the error RUSM_SUP_ERR_START.
**
** While it shuts a child down or waits for a start ack, a supervisor takes
** only the message it waits for; crashes of other children and requests
** stay queued, in order, and are handled afterwards (OTP does the same).
**
** Management functions (which_children, start_child, ...) are calls: they
** work from a coroutine process (rt may be NULL) or from any non-process
** thread (rt required); not from a handler body, which cannot block. All
** return RUSM_SUP_OK or a RUSM_SUP_ERR_* code; nothing they return needs
** freeing.
*/
#ifndef RUSM_SUPERVISOR_H
#define RUSM_SUPERVISOR_H

#include "rusm/otp.h"
#include "rusm/server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rusm_sup_strategy {
  RUSM_ONE_FOR_ONE = 0,
  RUSM_ONE_FOR_ALL,
  RUSM_REST_FOR_ONE,
  RUSM_SIMPLE_ONE_FOR_ONE
} rusm_sup_strategy;

typedef enum rusm_restart {
  RUSM_PERMANENT = 0,
  RUSM_TRANSIENT,
  RUSM_TEMPORARY
} rusm_restart;

/* Child spec `shutdown` values; a positive value is a timeout in ms. */
#define RUSM_SHUTDOWN_DEFAULT 0      /* 5000 ms for a worker, infinity for a supervisor */
#define RUSM_SHUTDOWN_INFINITY (-1)
#define RUSM_SHUTDOWN_BRUTAL_KILL (-2)

typedef struct rusm_sup_spec rusm_sup_spec;

/* How to start one child. Set exactly one of start / coro / handler /
** server / sup. All pointers are borrowed and must outlive the supervisor
** (make them static); id and arg are copied. */
typedef struct rusm_child_spec {
  const char *id;            /* unique in its supervisor; < 64 bytes; NULL for a template */
  /* A start function, run in the supervisor process: it must spawn the
  ** child linked to the caller (RUSM_SPAWN_LINK) and return its pid, or 0
  ** on failure. It must not block. */
  rusm_pid (*start)(const void *arg, size_t len);
  rusm_coro_fn coro;                 /* a coroutine child */
  const rusm_handler_ops *handler;   /* a handler-body child */
  const rusm_server_ops *server;     /* a server child */
  const rusm_sup_spec *sup;          /* a nested supervisor */
  const void *arg;                   /* bytes for the child's start (copied) */
  size_t arg_len;
  rusm_restart restart;
  int64_t shutdown;                  /* RUSM_SHUTDOWN_* or ms > 0 */
  bool is_supervisor;                /* with `start`: the child is a supervisor */
} rusm_child_spec;

/* A supervisor's flags and children, borrowed for the duration of a start
** (the supervisor copies it), except the pointers inside the child specs. */
struct rusm_sup_spec {
  rusm_sup_strategy strategy;
  uint32_t intensity;              /* max restarts in period (0: none allowed) */
  uint32_t period_ms;              /* 0 = 5000 */
  const rusm_child_spec *children; /* simple_one_for_one: exactly one template */
  size_t nchildren;
};

/* In a process: starts a supervisor linked to the caller (the usual way,
** and how a supervisor starts a nested one). spec is copied; the pointers
** in its child specs stay borrowed. Returns its pid, or 0 (a bad spec: no
** or several start methods, a missing or duplicate id, ...). */
rusm_pid rusm_supervisor_start_link(const rusm_sup_spec *spec);
/* From any thread: starts a root supervisor, linked to nothing; spec as
** above. Returns its pid, or 0. Stop it with rusm_supervisor_stop. */
rusm_pid rusm_runtime_supervisor_start(rusm_runtime *rt, const rusm_sup_spec *spec);

/* Errors of the management functions. */
#define RUSM_SUP_OK 0
#define RUSM_SUP_ERR_NOT_FOUND (-1)  /* no child with that id / pid */
#define RUSM_SUP_ERR_RUNNING (-2)    /* restart/delete of a running child */
#define RUSM_SUP_ERR_EXISTS (-3)     /* start_child with an id already present */
#define RUSM_SUP_ERR_START (-4)      /* the start returned 0, or the child died before its ack */
#define RUSM_SUP_ERR_CALL (-5)       /* the supervisor is dead or the call failed */
#define RUSM_SUP_ERR_BADARG (-6)     /* a bad spec, or an operation the strategy forbids */

typedef struct rusm_child_info {
  char id[64];          /* "" for a simple_one_for_one child */
  rusm_pid pid;         /* 0 when not running */
  rusm_restart restart;
  bool is_supervisor;
} rusm_child_info;

/* Fills up to max entries of the caller's array out (NULL with max 0 just
** counts) in start order; returns the number of children (may exceed max),
** or RUSM_SUP_ERR_CALL. */
int rusm_supervisor_which_children(rusm_runtime *rt, rusm_pid sup, rusm_child_info *out,
                                   size_t max);
/* Adds a child (spec copied as for the supervisor's own children) and
** starts it; *pid_out (may be NULL) gets its pid. Not for simple_one_for_one. */
int rusm_supervisor_start_child(rusm_runtime *rt, rusm_pid sup, const rusm_child_spec *spec,
                                rusm_pid *pid_out);
/* simple_one_for_one: starts a child from the template with these arg
** bytes (copied; NULL/0 = the template's arg). */
int rusm_supervisor_start_dynamic(rusm_runtime *rt, rusm_pid sup, const void *arg,
                                  size_t len, rusm_pid *pid_out);
/* Shuts a child down by its spec's shutdown rule and keeps its spec (a
** temporary child's spec is dropped). Not restarted. */
int rusm_supervisor_terminate_child(rusm_runtime *rt, rusm_pid sup, const char *id);
/* simple_one_for_one: shuts down the child with this pid and forgets it. */
int rusm_supervisor_terminate_pid(rusm_runtime *rt, rusm_pid sup, rusm_pid child);
/* Starts a terminated child again from its spec; *pid_out may be NULL. */
int rusm_supervisor_restart_child(rusm_runtime *rt, rusm_pid sup, const char *id,
                                  rusm_pid *pid_out);
/* Forgets a terminated child's spec. */
int rusm_supervisor_delete_child(rusm_runtime *rt, rusm_pid sup, const char *id);
/* Shuts the tree down in order and ends the supervisor with reason normal;
** returns when it is gone. */
int rusm_supervisor_stop(rusm_runtime *rt, rusm_pid sup);

#ifdef __cplusplus
}
#endif
#endif
