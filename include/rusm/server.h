/*
** rusm/server.h -- a gen_server-shaped behaviour on the handler body, and
** the request/reply protocol (call, cast, reply) every RUSM process can use.
**
** A server is a handler-body process whose messages are sorted into calls
** (handle_call: answer now or later with rusm_reply), casts (handle_cast) and
** everything else (handle_info: EXIT, DOWN, plain user messages).
**
** Wire format (local to one runtime; both ends are in the same address
** space, so fields are in native byte order).  A protocol message is a USER
** message whose bytes start with this 16-byte header:
**
**     offset 0  'R' 'S' 'V'          magic
**     offset 3  type                 'C' call, 'S' cast, 'R' reply,
**                                    'X' stop request (a call whose answer
**                                    is the server's exit; see rusm_server_stop),
**                                    'P' start ping (answered with an empty
**                                    reply once init has run; see rusm_send_ping);
**                                    'T' and 'K' are private timer messages a
**                                    process sends itself (call proxy, supervisor)
**     offset 4  flags (uint32)       bit 0 SYNC: made by rusm_call (a reply
**                                    echoes the request's flags)
**     offset 8  ref (uint64)         call reference; 0 for a cast
**     offset 16 payload              request or reply bytes
**
** A call's ref is the monitor reference the caller holds on the server, so it
** is unique among the caller's outstanding calls and the caller can match
** the reply (same ref) or the server's DOWN (same ref), whichever comes
** first.  A reply goes to the sender of the call.  Any USER message that does
** not start with the header (or is shorter) is "info".  A process that sends
** raw bytes beginning with "RSV" and a valid type is misread: do not.
**
** Calling context.  rusm_call blocks: use it in a coroutine process.  From a
** thread that is not a process use rusm_runtime_call.  A handler body cannot
** block: it uses rusm_send_request and receives the reply (a REPLY message,
** see rusm_server_msg_parse) or the DOWN for the returned reference.
*/
#ifndef RUSM_SERVER_H
#define RUSM_SERVER_H

#include "rusm/otp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --------------------------------------------------------------- wire format */

#define RUSM_SERVER_HEADER_SIZE 16u

typedef enum rusm_server_msg_type {
  RUSM_SMSG_NONE = 0,   /* not a protocol message: info */
  RUSM_SMSG_CALL = 'C',
  RUSM_SMSG_CAST = 'S',
  RUSM_SMSG_REPLY = 'R',
  RUSM_SMSG_STOP = 'X', /* payload: uint32 kind, uint32 len, reason bytes */
  RUSM_SMSG_PING = 'P'  /* no payload */
} rusm_server_msg_type;

#define RUSM_SMSG_FLAG_SYNC 1u

/* Who is waiting for a reply: the caller and its call reference. A plain
** value: copy it to reply later, from any message or from another thread. */
typedef struct rusm_from {
  rusm_pid pid;
  uint64_t ref;
  uint32_t flags;      /* the request's flags, echoed in the reply */
} rusm_from;

/* A decoded protocol message: views into the rusm_msg it came from. */
typedef struct rusm_server_msg {
  rusm_server_msg_type type;
  uint32_t flags;
  rusm_from from;      /* CALL: the caller, ref, flags; REPLY: ref (pid = sender) */
  const void *data;    /* payload, borrowed from the message */
  size_t len;
} rusm_server_msg;

/* Decodes m; returns its type (RUSM_SMSG_NONE for info). out may be NULL;
** its views live as long as m. */
rusm_server_msg_type rusm_server_msg_parse(const rusm_msg *m, rusm_server_msg *out);

/* --------------------------------------------------------------- calls */

/* The outcome of a call. On success reason.kind is RUSM_EXIT_NORMAL and
** data/len view the reply; on failure reason is RUSM_EXIT_NOPROC (no such
** process), RUSM_EXIT_TIMEOUT, or the reason the server exited with while
** the call was pending (a USER reason's bytes live in this result). Always
** release with rusm_call_result_free, which frees whatever the call kept. */
typedef struct rusm_call_result {
  const void *data;
  size_t len;
  rusm_reason reason;
  rusm_msg *msg_;      /* private: the message the views point into */
  void *buf_;          /* private: a malloc'd copy the views point into */
} rusm_call_result;

/* Frees what r holds (not r itself) and zeroes it; safe on a zeroed r. */
void rusm_call_result_free(rusm_call_result *r);

/* In a coroutine process: sends req (copied) to pid as a call and blocks
** until the reply, the server's death or timeout_ms (RUSM_INFINITY = none).
** Returns 0 with the reply in *out, -1 with the error in out->reason. The
** caller frees *out with rusm_call_result_free in both cases. A reply that
** arrives after a timeout is discarded by the caller's next rusm_call; a
** process that also uses plain rusm_receive can recognise such leftovers
** as RUSM_SMSG_REPLY. Calling oneself fails at once (reason "calling_self"). */
int rusm_call(rusm_pid pid, const void *req, size_t len, int64_t timeout_ms,
              rusm_call_result *out);

/* From a thread that is not a process (tests, the CLI, benches): the same
** call made by a short-lived proxy process; blocks the thread. *out as above,
** caller frees with rusm_call_result_free. rt must not be stopped while a
** thread is inside this call. */
int rusm_runtime_call(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len,
                      int64_t timeout_ms, rusm_call_result *out);

/* Calls with rusm_call in a process, rusm_runtime_call outside one. */
int rusm_call_any(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len,
                  int64_t timeout_ms, rusm_call_result *out);

/* In any process (handler bodies included): sends an asynchronous call and
** returns its reference (0 on failure). The caller monitors pid under that
** reference: it later receives either a REPLY with this ref (then call
** rusm_demonitor(ref, true)) or a DOWN with this ref. */
uint64_t rusm_send_request(rusm_pid pid, const void *req, size_t len);

/* In a process: sends a cast (req copied); never fails for a dead pid. */
int rusm_cast(rusm_pid pid, const void *req, size_t len);
int rusm_runtime_cast(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len);

/* In a process (or any thread with the runtime variant): sends the reply
** (data copied) to the call identified by *from. A reply to a caller that
** gave up or died is dropped. */
int rusm_reply(const rusm_from *from, const void *data, size_t len);
int rusm_runtime_reply(rusm_runtime *rt, const rusm_from *from, const void *data,
                       size_t len);

/* In a process: asks pid, a server or a supervisor, to answer with an empty
** REPLY carrying ref (from pid) as soon as it has initialised -- for a
** supervisor, once its children are started. Supervisors use it to start
** children one after another as OTP does; the caller picks ref (unique among
** its outstanding pings). Other process kinds would see it as a message. */
int rusm_send_ping(rusm_pid pid, uint64_t ref);

/* --------------------------------------------------------------- servers */

/* The behaviour. Every callback runs in the server process, one message at
** a time; state is the server's zeroed block of state_size bytes, owned and
** freed by the runtime. Callbacks returning int return 0 to go on and
** non-zero to stop (reason normal, unless rusm_exit(reason) was called). */
typedef struct rusm_server_ops {
  size_t state_size;
  /* Optional. arg/len: the bytes given to start (borrowed). Non-zero = the
  ** server exits at once (use rusm_exit first for a reason). */
  int (*init)(void *state, const void *arg, size_t len);
  /* Optional (calls are then left unanswered). req is borrowed; reply with
  ** rusm_reply(from, ...) now, or copy *from and reply later. */
  int (*handle_call)(void *state, const rusm_from *from, const void *req, size_t len);
  /* Optional. req is borrowed. */
  int (*handle_cast)(void *state, const void *req, size_t len);
  /* Optional. Everything else: EXIT (when trapping exits), DOWN, raw
  ** messages, stray replies. m is borrowed. */
  int (*handle_info)(void *state, rusm_msg *m);
  /* Optional: runs once when the server ends, for any reason (a kill
  ** included: unlike gen_server, whose terminate needs trap_exit), provided
  ** init succeeded. The state is freed after it. */
  void (*terminate)(void *state, rusm_reason why);
} rusm_server_ops;

/* In a process, or from any thread with the runtime variant: spawns a
** server. ops is borrowed and must outlive the server (make it static);
** arg bytes are copied. opts as for rusm_spawn_handler (RUSM_SPAWN_LINK for
** a supervised child). When the server traps exits, an EXIT from the process
** that started it ends the server with that reason (gen_server semantics).
** Returns the pid, or 0. */
rusm_pid rusm_server_start(const rusm_server_ops *ops, const void *arg, size_t len,
                           const rusm_spawn_opts *opts);
rusm_pid rusm_runtime_server_start(rusm_runtime *rt, const rusm_server_ops *ops,
                                   const void *arg, size_t len,
                                   const rusm_spawn_opts *opts);

/* Asks a server to stop with `why` and waits until it has ended (terminate
** ran) or timeout_ms passes. In a coroutine process or from any thread.
** Returns 0 when it ended as asked, -1 otherwise (dead already, timeout). */
int rusm_server_stop(rusm_runtime *rt, rusm_pid pid, rusm_reason why, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
