/*
** rusm/otp.h -- the RUSM core: a native C actor runtime in the Erlang/OTP
** mould.  Processes, an M:N work-stealing scheduler, mailboxes with
** selective receive, timers, links, monitors, exit signals and a registry.
**
** This header knows nothing of guest code engines: the core is usable on
** its own.
**
** Calling context.  Functions documented "in a process" act on the calling
** process (found through a thread-local set by the scheduler); called from a
** thread that is not running a process they fail (return 0 / NULL / -1).
** Functions taking a rusm_runtime * may be called from any thread.
**
** Ownership is stated at each declaration: "caller frees" means the caller
** owns the result and releases it with the function named.
*/
#ifndef RUSM_OTP_H
#define RUSM_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- runtime */

typedef struct rusm_runtime rusm_runtime;

typedef struct rusm_runtime_config {
  unsigned workers;        /* worker threads; 0 = one per online core */
  uint32_t reductions;     /* budget of one time slice; 0 = 4000 */
  size_t coro_stack_size;  /* reserved bytes per coroutine stack; 0 = 128 KiB
                           ** (committed only as touched; min 16 KiB) */
  uint32_t max_processes;  /* capacity of the pid table; 0 = 4 Mi (max 16 Mi) */
} rusm_runtime_config;

/* Starts a runtime; cfg may be NULL for defaults. Caller frees with
** rusm_runtime_stop. Returns NULL on failure. */
rusm_runtime *rusm_runtime_start(const rusm_runtime_config *cfg);

/* Blocks the calling (non-process) thread until no process is alive, or
** timeout_ms passes (-1 = forever). Returns true if all processes ended. */
bool rusm_runtime_wait_idle(rusm_runtime *rt, int64_t timeout_ms);

/* Kills every process, joins the workers and frees everything, rt included.
** Killed at stop, processes notify no one (everyone is going); handler
** terminate callbacks run, and their sends are dropped. Not from a process. */
void rusm_runtime_stop(rusm_runtime *rt);

/* The runtime of the calling process, or NULL outside a process. */
rusm_runtime *rusm_runtime_current(void);

/* ---------------------------------------------------------------- pids */

/* 64 bits: node id (16) | generation (24) | table index (24), the split
** being the runtime's business; 0 is never a process. */
typedef uint64_t rusm_pid;
#define RUSM_PID_NONE ((rusm_pid)0)

/* ---------------------------------------------------------------- exit reasons */

typedef enum rusm_exit_kind {
  RUSM_EXIT_NORMAL = 0,
  RUSM_EXIT_KILL,      /* untrappable; linked processes see KILLED */
  RUSM_EXIT_KILLED,
  RUSM_EXIT_NOPROC,
  RUSM_EXIT_SHUTDOWN,  /* orderly stop, e.g. by a supervisor */
  RUSM_EXIT_TIMEOUT,   /* a call timed out */
  RUSM_EXIT_USER       /* bytes in data/len */
} rusm_exit_kind;

/* A borrowed view of a reason: the runtime copies whatever it keeps. */
typedef struct rusm_reason {
  rusm_exit_kind kind;
  uint32_t len;
  const void *data;
} rusm_reason;

#define RUSM_REASON(k) ((rusm_reason){(k), 0, NULL})
/* A user reason viewing the NUL-terminated string s (not copied). */
rusm_reason rusm_reason_str(const char *s);
/* Writes a short printable form ("normal", "killed", "user:<text>") into buf,
** always NUL-terminated; returns buf. */
const char *rusm_reason_format(rusm_reason r, char *buf, size_t size);

/* ---------------------------------------------------------------- resources */

/* A ref-counted opaque handle for data that must not be copied (big binaries,
** sockets, store handles). Thread-safe counting. */
typedef struct rusm_resource rusm_resource;

/* New handle with one reference, owned by the caller (release with
** rusm_resource_unref); dtor(ptr) runs when the last reference goes. */
rusm_resource *rusm_resource_new(void *ptr, void (*dtor)(void *ptr));
/* Adds a reference, owned by the caller. Returns r. */
rusm_resource *rusm_resource_ref(rusm_resource *r);
/* Drops one reference the caller owned. */
void rusm_resource_unref(rusm_resource *r);
void *rusm_resource_ptr(const rusm_resource *r);

/* ---------------------------------------------------------------- messages */

typedef enum rusm_msg_kind {
  RUSM_MSG_USER = 0,   /* bytes (+ resources) sent by a process */
  RUSM_MSG_EXIT,       /* an exit signal turned into a message (trap_exit) */
  RUSM_MSG_DOWN        /* a monitored process ended */
} rusm_msg_kind;

/* A received message. The receiver owns it and frees it with rusm_msg_free,
** except in handler bodies, where the runtime frees it after handle(). */
typedef struct rusm_msg rusm_msg;

rusm_msg_kind rusm_msg_kind_of(const rusm_msg *m);
rusm_pid rusm_msg_sender(const rusm_msg *m);      /* 0 if sent from outside */
const void *rusm_msg_data(const rusm_msg *m);     /* borrowed, lives with m */
size_t rusm_msg_size(const rusm_msg *m);
size_t rusm_msg_resource_count(const rusm_msg *m);
/* Borrowed from m; take rusm_resource_ref to keep it past rusm_msg_free. */
rusm_resource *rusm_msg_resource(const rusm_msg *m, size_t i);
/* EXIT and DOWN: the reason (a view that lives with m). */
rusm_reason rusm_msg_reason(const rusm_msg *m);
/* DOWN: the monitor reference it answers. */
uint64_t rusm_msg_monitor_ref(const rusm_msg *m);
void rusm_msg_free(rusm_msg *m);

/* In a process (or, with rusm_runtime_send, from any thread): copies len
** bytes of data into a message for `to`. Sending to a dead pid is silently
** dropped. Returns 0, or -1 if the arguments are unusable. */
int rusm_send(rusm_pid to, const void *data, size_t len);
int rusm_runtime_send(rusm_runtime *rt, rusm_pid to, const void *data, size_t len);
/* As rusm_send, with resources: the caller's reference on each of res[0..n)
** moves into the message (also when the message is dropped). */
int rusm_send_res(rusm_pid to, const void *data, size_t len,
                  rusm_resource *const *res, size_t nres);

/* ---------------------------------------------------------------- receive */

#define RUSM_INFINITY ((int64_t)-1)

/* Returns true if m is the message the receiver wants. Must not block. */
typedef bool (*rusm_match_fn)(const rusm_msg *m, void *ctx);

/* In a coroutine process: the oldest message, waiting up to timeout_ms
** (0 = poll, RUSM_INFINITY = forever). NULL on timeout. Caller frees. */
rusm_msg *rusm_receive(int64_t timeout_ms);
/* Selective receive: the oldest message for which match returns true; the
** others stay in place and in order. While the call waits, each wake-up
** looks only at messages that arrived since (the save position). Each new
** call starts from the oldest message (a match may depend on state that
** changed), unless rusm_receive_mark was called before it. Caller frees. */
rusm_msg *rusm_receive_match(rusm_match_fn match, void *ctx, int64_t timeout_ms);
/* In a process: the next rusm_receive / rusm_receive_match of this process
** skips every message queued before this call (Erlang's receive mark for
** request/reply: take the mark, send the request, receive the reply; a long
** mailbox is then not rescanned). */
void rusm_receive_mark(void);

/* ---------------------------------------------------------------- timers */

typedef uint64_t rusm_timer_ref;   /* 0 = no timer */

/* In a process (or via the runtime variant): delivers a copy of data to `to`
** after ms milliseconds, as if sent by the caller. */
rusm_timer_ref rusm_send_after(int64_t ms, rusm_pid to, const void *data, size_t len);
rusm_timer_ref rusm_runtime_send_after(rusm_runtime *rt, int64_t ms, rusm_pid to,
                                       const void *data, size_t len);
/* In a process: returns true if the timer was pending and will now never
** fire. The runtime variant works from any thread. */
bool rusm_cancel_timer(rusm_timer_ref t);
bool rusm_runtime_cancel_timer(rusm_runtime *rt, rusm_timer_ref t);
/* In a coroutine process: sleeps ms milliseconds; messages stay queued. */
void rusm_sleep(int64_t ms);

/* ---------------------------------------------------------------- bodies */

/* What a body's run() returns to the scheduler. */
typedef enum rusm_run_result {
  RUSM_RUN_YIELD = 0,  /* budget spent: back of the run queue */
  RUSM_RUN_WAIT,       /* wants a message or a timeout (see rusm_body_wait) */
  RUSM_RUN_EXIT        /* finished: reason given with rusm_exit before returning */
} rusm_run_result;

/* A process body: the core calls run() when the process is runnable, on a
** worker thread, with the body's own pointer. run() must return when the
** process waits, has spent `budget` reductions, or exits. destroy() frees
** the body; it runs exactly once. memory() reports bytes held (may be NULL). */
typedef struct rusm_body_vtable {
  const char *kind;   /* "handler", "coroutine", ... (static string) */
  rusm_run_result (*run)(void *body, uint32_t budget);
  void (*destroy)(void *body);
  size_t (*memory)(const void *body);
} rusm_body_vtable;

/* For body authors: before returning RUSM_RUN_WAIT, says how long the process
** may sleep without a message (0 = rerun at once if nothing, RUSM_INFINITY).
** The process is run again when a message arrives or the time is up. */
void rusm_body_wait(int64_t timeout_ms);
/* For body authors: takes the next message matching `match` (NULL = any)
** without blocking; NULL if none. Caller frees. */
rusm_msg *rusm_body_take(rusm_match_fn match, void *ctx);

/* ---------------------------------------------------------------- spawning */

typedef enum rusm_spawn_flags {
  RUSM_SPAWN_LINK = 1u << 0,     /* link to the caller atomically */
  RUSM_SPAWN_MONITOR = 1u << 1,  /* monitor from the caller; ref in *monitor_ref */
  RUSM_SPAWN_TRAP_EXIT = 1u << 2
} rusm_spawn_flags;

typedef struct rusm_spawn_opts {
  uint32_t flags;          /* rusm_spawn_flags */
  uint64_t *monitor_ref;   /* out, with RUSM_SPAWN_MONITOR */
} rusm_spawn_opts;

/* Handler body: stackless callbacks, the cheapest process. The runtime
** allocates state_size zeroed bytes for the process and frees them. */
typedef struct rusm_handler_ops {
  size_t state_size;
  /* Called once, in the process. Return 0 to run; non-zero to exit at once
  ** (call rusm_exit first to give a reason other than normal). */
  int (*init)(void *state, const void *arg, size_t len);
  /* One message (borrowed; freed after return). Return 0 to continue,
  ** non-zero to stop (reason normal unless rusm_exit was called). */
  int (*handle)(void *state, rusm_msg *m);
  /* Optional; called when the process ends after a successful init, for any
  ** reason (kill included), in the process, before its state is freed. */
  void (*terminate)(void *state, rusm_reason why);
} rusm_handler_ops;

/* Coroutine body: fn runs on its own stack and may block in rusm_receive,
** rusm_sleep, rusm_call. arg is a copy of the len bytes given to spawn,
** valid until fn returns. Returning from fn is exit(normal). A stack
** overflow that hits the guard page ends the process with the user reason
** "stack overflow" (beyond a few tens of thousands of live coroutines the
** kernel's map limit leaves new stacks unguarded; see stack.c). A killed
** coroutine is not unwound: what its C code allocated is not freed. */
typedef void (*rusm_coro_fn)(const void *arg, size_t len);

/* In a process, or from any thread with the runtime variants. The arg bytes
** are copied. opts may be NULL. Returns the new pid, or 0 on failure. */
rusm_pid rusm_spawn(rusm_coro_fn fn, const void *arg, size_t len,
                    const rusm_spawn_opts *opts);
rusm_pid rusm_spawn_handler(const rusm_handler_ops *ops, const void *arg, size_t len,
                            const rusm_spawn_opts *opts);
/* A body of another kind: ownership of body moves to the runtime, which
** calls vt->destroy(body) when the process ends (or if spawning fails). */
rusm_pid rusm_spawn_body(const rusm_body_vtable *vt, void *body,
                         const rusm_spawn_opts *opts);
rusm_pid rusm_runtime_spawn(rusm_runtime *rt, rusm_coro_fn fn, const void *arg,
                            size_t len, const rusm_spawn_opts *opts);
rusm_pid rusm_runtime_spawn_handler(rusm_runtime *rt, const rusm_handler_ops *ops,
                                    const void *arg, size_t len,
                                    const rusm_spawn_opts *opts);
rusm_pid rusm_runtime_spawn_body(rusm_runtime *rt, const rusm_body_vtable *vt,
                                 void *body, const rusm_spawn_opts *opts);

/* ---------------------------------------------------------------- the process itself */

rusm_pid rusm_self(void);
/* Ends the calling process with `why`. In a coroutine it does not return;
** in a handler or another body it marks the process to end when the
** callback returns. */
void rusm_exit(rusm_reason why);
/* In a coroutine: gives the worker to others; returns when rescheduled. */
void rusm_yield(void);
/* Counts n reductions against the current slice (bodies doing big work). */
void rusm_consume_reductions(uint32_t n);

typedef enum rusm_process_flag {
  RUSM_FLAG_TRAP_EXIT = 0
} rusm_process_flag;
/* Sets a flag on the calling process; returns the old value. */
bool rusm_process_flag_set(rusm_process_flag f, bool value);

/* ---------------------------------------------------------------- signals */

/* In a process. Links are bidirectional; linking to a dead pid sends the
** caller an exit signal with reason noproc (Erlang semantics). */
int rusm_link(rusm_pid pid);
int rusm_unlink(rusm_pid pid);
/* Sends an exit signal with reason why to pid, as if from the caller. */
int rusm_exit_signal(rusm_pid pid, rusm_reason why);
int rusm_runtime_exit_signal(rusm_runtime *rt, rusm_pid pid, rusm_reason why);
/* rusm_exit_signal(pid, kill). */
int rusm_kill(rusm_pid pid);
/* Returns the monitor reference; a DOWN message carrying it arrives when pid
** ends (at once, with noproc, if it is already dead). */
uint64_t rusm_monitor(rusm_pid pid);
/* Removes the monitor; with flush, also removes its DOWN message if queued. */
bool rusm_demonitor(uint64_t ref, bool flush);

/* ---------------------------------------------------------------- registry */

/* Errors: -1 name taken, -2 pid dead or unknown, -3 pid already has a name,
** -4 bad name. The name is copied. */
int rusm_register(rusm_runtime *rt, const char *name, rusm_pid pid);
int rusm_unregister(rusm_runtime *rt, const char *name);
rusm_pid rusm_whereis(rusm_runtime *rt, const char *name);
/* In a process: send to a registered name. Returns 0 if sent, -2 if the
** name is not registered (the message is dropped), -1 on bad arguments. */
int rusm_send_named(const char *name, const void *data, size_t len);
/* Writes up to max names (copies, caller frees each with free()) into out;
** returns the number registered (may exceed max). */
size_t rusm_registered(rusm_runtime *rt, char **out, size_t max);

/* ---------------------------------------------------------------- management */

typedef enum rusm_proc_status {
  RUSM_STATUS_RUNNABLE = 0,
  RUSM_STATUS_RUNNING,
  RUSM_STATUS_WAITING,
  RUSM_STATUS_SUSPENDED,
  RUSM_STATUS_EXITING,
  RUSM_STATUS_DEAD
} rusm_proc_status;

typedef struct rusm_process_info {
  rusm_proc_status status;
  const char *body_kind;     /* static string from the body's vtable */
  char registered_name[64];  /* "" if none */
  size_t mailbox_len;
  uint64_t reductions;
  size_t memory;             /* bytes: process, mailbox, body */
  size_t links;
  size_t monitors;           /* monitors this process holds on others */
  bool trap_exit;
  rusm_pid parent;
} rusm_process_info;

/* Fills *out for pid; returns false if pid is not alive. */
bool rusm_process_info_get(rusm_runtime *rt, rusm_pid pid, rusm_process_info *out);
/* Writes up to max live pids into out; returns the number alive. */
size_t rusm_processes(rusm_runtime *rt, rusm_pid *out, size_t max);
/* A suspended process is not scheduled; messages still queue. */
bool rusm_suspend(rusm_runtime *rt, rusm_pid pid);
bool rusm_resume(rusm_runtime *rt, rusm_pid pid);

typedef struct rusm_worker_stats {
  size_t run_queue_len;
  double utilisation;        /* busy fraction since the last call, 0..1 */
  uint64_t steals;           /* processes this worker took from others, total */
} rusm_worker_stats;

typedef struct rusm_runtime_stats {
  size_t process_count;
  uint64_t spawned_total;
  uint64_t exited_total;
  unsigned workers;
} rusm_runtime_stats;

void rusm_runtime_stats_get(rusm_runtime *rt, rusm_runtime_stats *out);
/* Fills up to max entries; returns the number of workers. */
unsigned rusm_worker_stats_get(rusm_runtime *rt, rusm_worker_stats *out, unsigned max);

#ifdef __cplusplus
}
#endif
#endif
