/*
** server.c -- the gen_server behaviour and its request/reply protocol
** (call, cast, reply, stop), built only on the public API of rusm/otp.h.
**
** The wire format is documented in rusm/server.h.  A call is made safe by
** monitoring the callee under the call's reference: whichever of the reply
** or the DOWN comes first settles the call, so a dead or dying server can
** never leave the caller hanging.
*/
#include "rusm/server.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ wire format */

#define HDR RUSM_SERVER_HEADER_SIZE
/* Internal type: the runtime-call proxy's own timeout tick. Never parsed as
** protocol by others (rusm_server_msg_parse rejects it). */
#define TYPE_PROXY_TIMEOUT 'T'
/* Requests this small are assembled on the stack, the common case. */
#define STACK_MSG 256

static void put_header(unsigned char *p, char type, uint32_t flags, uint64_t ref)
{
  p[0] = 'R';
  p[1] = 'S';
  p[2] = 'V';
  p[3] = (unsigned char)type;
  memcpy(p + 4, &flags, 4);
  memcpy(p + 8, &ref, 8);
}

/* Decodes the header of raw bytes; returns the type byte or 0. */
static char get_header(const unsigned char *p, size_t n, uint32_t *flags, uint64_t *ref)
{
  if (n < HDR || p[0] != 'R' || p[1] != 'S' || p[2] != 'V') return 0;
  if (flags) memcpy(flags, p + 4, 4);
  if (ref) memcpy(ref, p + 8, 8);
  return (char)p[3];
}

/* Builds header + payload and sends it, from a process (rt NULL) or from
** any thread (rt given). */
static int send_proto(rusm_runtime *rt, rusm_pid to, char type, uint32_t flags,
                      uint64_t ref, const void *data, size_t len)
{
  unsigned char stackbuf[STACK_MSG];
  unsigned char *buf = stackbuf;
  if (len > SIZE_MAX - HDR || (len && !data)) return -1;
  size_t total = HDR + len;
  if (total > sizeof stackbuf) {
    buf = malloc(total);
    if (!buf) return -1;
  }
  put_header(buf, type, flags, ref);
  if (len) memcpy(buf + HDR, data, len);
  int rc = rt ? rusm_runtime_send(rt, to, buf, total) : rusm_send(to, buf, total);
  if (buf != stackbuf) free(buf);
  return rc;
}

rusm_server_msg_type rusm_server_msg_parse(const rusm_msg *m, rusm_server_msg *out)
{
  if (!m || rusm_msg_kind_of(m) != RUSM_MSG_USER) return RUSM_SMSG_NONE;
  const unsigned char *p = rusm_msg_data(m);
  size_t n = rusm_msg_size(m);
  uint32_t flags = 0;
  uint64_t ref = 0;
  char t = get_header(p, n, &flags, &ref);
  if (t != RUSM_SMSG_CALL && t != RUSM_SMSG_CAST && t != RUSM_SMSG_REPLY &&
      t != RUSM_SMSG_STOP && t != RUSM_SMSG_PING)
    return RUSM_SMSG_NONE;
  if (out) {
    out->type = (rusm_server_msg_type)t;
    out->flags = flags;
    out->from.pid = rusm_msg_sender(m);
    out->from.ref = ref;
    out->from.flags = flags;
    out->data = p + HDR;
    out->len = n - HDR;
  }
  return (rusm_server_msg_type)t;
}

/* Stop requests carry a reason: kind, length, bytes. */
static size_t encode_reason(rusm_reason why, unsigned char **out)
{
  size_t n = 8 + why.len;
  unsigned char *p = malloc(n);
  if (!p) return 0;
  uint32_t k = (uint32_t)why.kind;
  memcpy(p, &k, 4);
  memcpy(p + 4, &why.len, 4);
  if (why.len) memcpy(p + 8, why.data, why.len);
  *out = p;
  return n;
}

static bool decode_reason(const void *data, size_t len, rusm_reason *why)
{
  if (len < 8) return false;
  uint32_t k, n;
  memcpy(&k, data, 4);
  memcpy(&n, (const unsigned char *)data + 4, 4);
  if (k > RUSM_EXIT_USER || n != len - 8) return false;
  why->kind = (rusm_exit_kind)k;
  why->len = n;
  why->data = n ? (const unsigned char *)data + 8 : NULL;
  return true;
}

/* ------------------------------------------------------------ results */

void rusm_call_result_free(rusm_call_result *r)
{
  if (!r) return;
  if (r->msg_) rusm_msg_free(r->msg_);
  free(r->buf_);
  memset(r, 0, sizeof *r);
}

static void result_error(rusm_call_result *out, rusm_exit_kind k)
{
  out->reason = RUSM_REASON(k);
}

static void result_error_str(rusm_call_result *out, const char *static_text)
{
  /* static text: the view needs no owner */
  out->reason = rusm_reason_str(static_text);
}

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t now_ms(void)
{
  return now_ns() / 1000000;
}

/* ------------------------------------------------------------ calls in a process */

typedef struct call_wait {
  uint64_t ref;
} call_wait;

/* The call's reply or DOWN; also stray replies of earlier synchronous calls
** (late answers to calls that timed out), so they are discarded here rather
** than left to confuse the process. Asynchronous replies are left alone. */
static bool match_call(const rusm_msg *m, void *ctx)
{
  const call_wait *w = ctx;
  rusm_msg_kind k = rusm_msg_kind_of(m);
  if (k == RUSM_MSG_DOWN) return rusm_msg_monitor_ref(m) == w->ref;
  if (k != RUSM_MSG_USER) return false;
  uint32_t flags = 0;
  uint64_t ref = 0;
  char t = get_header(rusm_msg_data(m), rusm_msg_size(m), &flags, &ref);
  if (t != RUSM_SMSG_REPLY) return false;
  return ref == w->ref || (flags & RUSM_SMSG_FLAG_SYNC);
}

/* Only this call's reply: the last look after a timeout. */
static bool match_reply_only(const rusm_msg *m, void *ctx)
{
  const call_wait *w = ctx;
  if (rusm_msg_kind_of(m) != RUSM_MSG_USER) return false;
  uint64_t ref = 0;
  char t = get_header(rusm_msg_data(m), rusm_msg_size(m), NULL, &ref);
  return t == RUSM_SMSG_REPLY && ref == w->ref;
}

static int take_reply(rusm_msg *m, rusm_call_result *out)
{
  out->msg_ = m;
  out->data = (const unsigned char *)rusm_msg_data(m) + HDR;
  out->len = rusm_msg_size(m) - HDR;
  out->reason = RUSM_REASON(RUSM_EXIT_NORMAL);
  return 0;
}

static int call_in_process(char type, rusm_pid pid, const void *req, size_t len,
                           int64_t timeout_ms, rusm_call_result *out)
{
  memset(out, 0, sizeof *out);
  rusm_pid self = rusm_self();
  if (!self) {
    result_error_str(out, "not_in_process");
    return -1;
  }
  if (!pid) {
    result_error(out, RUSM_EXIT_NOPROC);
    return -1;
  }
  if (pid == self) {
    result_error_str(out, "calling_self");
    return -1;
  }
  call_wait w = {rusm_monitor(pid)};
  if (!w.ref) {
    result_error(out, RUSM_EXIT_NOPROC);
    return -1;
  }
  if (send_proto(NULL, pid, type, RUSM_SMSG_FLAG_SYNC, w.ref, req, len) != 0) {
    rusm_demonitor(w.ref, true);
    result_error_str(out, "bad_request");
    return -1;
  }
  int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    int64_t left = RUSM_INFINITY;
    if (deadline >= 0) {
      left = deadline - now_ms();
      if (left < 0) left = 0;
    }
    int64_t asked = deadline >= 0 ? now_ns() : 0; /* only a timed wait can end early */
    rusm_msg *m = rusm_receive_match(match_call, &w, left);
    if (!m) {
      int64_t now = now_ms();
      if (deadline < 0 || now < deadline) {
        /* NULL at once, with time left: this process cannot block (a
        ** handler body); say so rather than spin. NULL after a real wait
        ** (a timer that fired a little early): wait out the rest. */
        if (deadline < 0 || (now_ns() - asked < 200000 && left != 0)) {
          rusm_demonitor(w.ref, true);
          result_error_str(out, "cannot_block_here");
          return -1;
        }
        continue;
      }
      rusm_demonitor(w.ref, true);
      /* The reply may have raced the timeout in: it is then a success. */
      m = rusm_receive_match(match_reply_only, &w, 0);
      if (m) return take_reply(m, out);
      result_error(out, RUSM_EXIT_TIMEOUT);
      return -1;
    }
    if (rusm_msg_kind_of(m) == RUSM_MSG_DOWN) {
      out->msg_ = m;
      out->reason = rusm_msg_reason(m);
      return -1;
    }
    uint64_t ref = 0;
    get_header(rusm_msg_data(m), rusm_msg_size(m), NULL, &ref);
    if (ref != w.ref) { /* a stale reply of an earlier call: drop it */
      rusm_msg_free(m);
      continue;
    }
    rusm_demonitor(w.ref, true);
    return take_reply(m, out);
  }
}

int rusm_call(rusm_pid pid, const void *req, size_t len, int64_t timeout_ms,
              rusm_call_result *out)
{
  return call_in_process(RUSM_SMSG_CALL, pid, req, len, timeout_ms, out);
}

uint64_t rusm_send_request(rusm_pid pid, const void *req, size_t len)
{
  if (!pid || pid == rusm_self()) return 0;
  uint64_t ref = rusm_monitor(pid);
  if (!ref) return 0;
  if (send_proto(NULL, pid, RUSM_SMSG_CALL, 0, ref, req, len) != 0) {
    rusm_demonitor(ref, true);
    return 0;
  }
  return ref;
}

int rusm_send_ping(rusm_pid pid, uint64_t ref)
{
  return send_proto(NULL, pid, RUSM_SMSG_PING, 0, ref, NULL, 0);
}

int rusm_cast(rusm_pid pid, const void *req, size_t len)
{
  return send_proto(NULL, pid, RUSM_SMSG_CAST, 0, 0, req, len);
}

int rusm_runtime_cast(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len)
{
  if (!rt) return -1;
  return send_proto(rt, pid, RUSM_SMSG_CAST, 0, 0, req, len);
}

/* The reply echoes the request's SYNC flag, so that a synchronous caller can
** tell a stale synchronous reply (drop it) from the answer to one of its own
** asynchronous requests (leave it). See match_call. */
int rusm_reply(const rusm_from *from, const void *data, size_t len)
{
  if (!from || !from->pid) return -1;
  return send_proto(NULL, from->pid, RUSM_SMSG_REPLY, from->flags & RUSM_SMSG_FLAG_SYNC,
                    from->ref, data, len);
}

int rusm_runtime_reply(rusm_runtime *rt, const rusm_from *from, const void *data,
                       size_t len)
{
  if (!rt || !from || !from->pid) return -1;
  return send_proto(rt, from->pid, RUSM_SMSG_REPLY, from->flags & RUSM_SMSG_FLAG_SYNC,
                    from->ref, data, len);
}

/* ------------------------------------------------------------ calls from threads */

/* Shared by the waiting thread and the proxy process; two references, the
** last one out frees it, so neither side can outlive the memory. */
typedef struct rt_call {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int refs;
  bool done;
  int rc;
  rusm_exit_kind kind;
  void *buf;      /* reply payload or USER reason bytes (malloc'd) */
  size_t len;
} rt_call;

static void rt_call_unref(rt_call *c)
{
  if (atomic_fetch_sub(&c->refs, 1) != 1) return;
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c->buf);
  free(c);
}

typedef struct proxy_state {
  rt_call *sh;
  rusm_pid target;
  uint64_t ref;
  rusm_timer_ref timer;
} proxy_state;

typedef struct proxy_arg {
  rt_call *sh;
  rusm_pid target;
  int64_t timeout_ms;
  char type;
} proxy_arg;

/* Hands the outcome to the thread and lets go of the shared block. */
static void proxy_finish(proxy_state *st, int rc, rusm_exit_kind kind, const void *data,
                         size_t len)
{
  rt_call *c = st->sh;
  if (!c) return;
  st->sh = NULL;
  if (st->timer) rusm_cancel_timer(st->timer);
  if (st->ref) rusm_demonitor(st->ref, true);
  void *copy = NULL;
  if (len) {
    copy = malloc(len);
    if (copy) {
      memcpy(copy, data, len);
    } else {
      rc = -1;
      kind = RUSM_EXIT_USER;
      len = 0;
    }
  }
  pthread_mutex_lock(&c->mu);
  c->rc = rc;
  c->kind = kind;
  c->buf = copy;
  c->len = copy ? len : 0;
  c->done = true;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
  rt_call_unref(c);
}

static int proxy_init(void *state, const void *arg, size_t len)
{
  proxy_state *st = state;
  proxy_arg a;
  if (len < sizeof a) return 1;
  memcpy(&a, arg, sizeof a);
  st->sh = a.sh;
  st->target = a.target;
  st->ref = rusm_monitor(a.target);
  if (!st->ref) {
    proxy_finish(st, -1, RUSM_EXIT_NOPROC, NULL, 0);
    return 1;
  }
  if (send_proto(NULL, a.target, a.type, 0, st->ref, (const unsigned char *)arg + sizeof a,
                 len - sizeof a) != 0) {
    proxy_finish(st, -1, RUSM_EXIT_USER, NULL, 0);
    return 1;
  }
  if (a.timeout_ms >= 0) {
    unsigned char tick[HDR];
    put_header(tick, TYPE_PROXY_TIMEOUT, 0, st->ref);
    st->timer = rusm_send_after(a.timeout_ms, rusm_self(), tick, sizeof tick);
  }
  return 0;
}

static int proxy_handle(void *state, rusm_msg *m)
{
  proxy_state *st = state;
  rusm_msg_kind k = rusm_msg_kind_of(m);
  if (k == RUSM_MSG_DOWN) {
    if (rusm_msg_monitor_ref(m) != st->ref) return 0;
    rusm_reason r = rusm_msg_reason(m);
    st->ref = 0; /* the monitor is gone with the DOWN */
    proxy_finish(st, -1, r.kind, r.data, r.len);
    return 1;
  }
  if (k != RUSM_MSG_USER) return 0;
  uint64_t ref = 0;
  char t = get_header(rusm_msg_data(m), rusm_msg_size(m), NULL, &ref);
  if (ref != st->ref) return 0;
  if (t == RUSM_SMSG_REPLY) {
    proxy_finish(st, 0, RUSM_EXIT_NORMAL, (const unsigned char *)rusm_msg_data(m) + HDR,
                 rusm_msg_size(m) - HDR);
    return 1;
  }
  if (t == TYPE_PROXY_TIMEOUT) {
    st->timer = 0;
    proxy_finish(st, -1, RUSM_EXIT_TIMEOUT, NULL, 0);
    return 1;
  }
  return 0;
}

static void proxy_terminate(void *state, rusm_reason why)
{
  /* Killed before an outcome (e.g. the runtime stopping): still wake the
  ** thread, with the proxy's own reason. */
  proxy_state *st = state;
  if (st->sh) proxy_finish(st, -1, why.kind == RUSM_EXIT_NORMAL ? RUSM_EXIT_KILLED : why.kind,
                           NULL, 0);
}

static const rusm_handler_ops proxy_ops = {
    .state_size = sizeof(proxy_state),
    .init = proxy_init,
    .handle = proxy_handle,
    .terminate = proxy_terminate,
};

static int call_from_thread(rusm_runtime *rt, char type, rusm_pid pid, const void *req,
                            size_t len, int64_t timeout_ms, rusm_call_result *out)
{
  memset(out, 0, sizeof *out);
  if (!rt) {
    result_error_str(out, "no_runtime");
    return -1;
  }
  if (!pid) {
    result_error(out, RUSM_EXIT_NOPROC);
    return -1;
  }
  if (len > SIZE_MAX - sizeof(proxy_arg) || (len && !req)) {
    result_error_str(out, "bad_request");
    return -1;
  }
  rt_call *c = calloc(1, sizeof *c);
  unsigned char *arg = malloc(sizeof(proxy_arg) + len);
  if (!c || !arg) {
    free(c);
    free(arg);
    result_error_str(out, "enomem");
    return -1;
  }
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  atomic_init(&c->refs, 2);
  proxy_arg a = {c, pid, timeout_ms, type};
  memcpy(arg, &a, sizeof a);
  if (len) memcpy(arg + sizeof a, req, len);
  rusm_pid proxy = rusm_runtime_spawn_handler(rt, &proxy_ops, arg, sizeof a + len, NULL);
  free(arg);
  if (!proxy) {
    atomic_store(&c->refs, 1);
    rt_call_unref(c);
    result_error_str(out, "spawn_failed");
    return -1;
  }
  pthread_mutex_lock(&c->mu);
  while (!c->done) {
    /* Normally woken by the proxy; the periodic look covers a proxy that was
    ** killed before its init ran (it then cannot know whom to wake). */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    int e = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    if (e == ETIMEDOUT && !c->done) {
      rusm_process_info info;
      pthread_mutex_unlock(&c->mu);
      bool alive = rusm_process_info_get(rt, proxy, &info);
      pthread_mutex_lock(&c->mu);
      if (!alive && !c->done) {
        pthread_mutex_unlock(&c->mu);
        rt_call_unref(c);
        result_error(out, RUSM_EXIT_KILLED);
        return -1;
      }
    }
  }
  pthread_mutex_unlock(&c->mu);
  int rc = c->rc;
  out->buf_ = c->buf;
  c->buf = NULL;
  if (rc == 0) {
    out->data = out->buf_;
    out->len = c->len;
    out->reason = RUSM_REASON(RUSM_EXIT_NORMAL);
  } else {
    out->reason.kind = c->kind;
    out->reason.len = (uint32_t)c->len;
    out->reason.data = out->buf_;
    if (c->kind == RUSM_EXIT_USER && !out->buf_) out->reason = rusm_reason_str("call_failed");
  }
  rt_call_unref(c);
  return rc;
}

int rusm_runtime_call(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len,
                      int64_t timeout_ms, rusm_call_result *out)
{
  return call_from_thread(rt, RUSM_SMSG_CALL, pid, req, len, timeout_ms, out);
}

int rusm_call_any(rusm_runtime *rt, rusm_pid pid, const void *req, size_t len,
                  int64_t timeout_ms, rusm_call_result *out)
{
  if (rusm_self()) return call_in_process(RUSM_SMSG_CALL, pid, req, len, timeout_ms, out);
  return call_from_thread(rt, RUSM_SMSG_CALL, pid, req, len, timeout_ms, out);
}

/* ------------------------------------------------------------ the behaviour */

/* User states up to this size live inside the handler state: no second
** allocation for the common small server. */
#define SRV_INLINE 128

typedef struct srv {
  const rusm_server_ops *ops;
  void *user;         /* inline_state, or calloc'd when bigger */
  rusm_pid parent;    /* who started the server: its EXIT stops us */
  bool user_inited;   /* user init succeeded: terminate is owed */
  alignas(max_align_t) unsigned char inline_state[SRV_INLINE];
} srv;

typedef struct srv_arg {
  const rusm_server_ops *ops;
  rusm_pid parent;
} srv_arg;

static void srv_free_user(srv *s)
{
  if (s->user && s->user != (void *)s->inline_state) free(s->user);
  s->user = NULL;
}

static int srv_init(void *state, const void *arg, size_t len)
{
  srv *s = state;
  srv_arg a;
  if (len < sizeof a) return 1;
  memcpy(&a, arg, sizeof a);
  s->ops = a.ops;
  s->parent = a.parent;
  if (a.ops->state_size <= SRV_INLINE) {
    s->user = s->inline_state;
  } else {
    s->user = calloc(1, a.ops->state_size);
    if (!s->user) {
      rusm_exit(rusm_reason_str("enomem"));
      return 1;
    }
  }
  if (a.ops->init) {
    int rc = a.ops->init(s->user, (const unsigned char *)arg + sizeof a, len - sizeof a);
    if (rc != 0) {
      /* gen_server: a failed init has no terminate. Free now rather than
      ** rely on the terminate hook. */
      srv_free_user(s);
      return rc;
    }
  }
  s->user_inited = true;
  return 0;
}

static int srv_handle(void *state, rusm_msg *m)
{
  srv *s = state;
  const rusm_server_ops *ops = s->ops;
  rusm_server_msg sm;
  switch (rusm_server_msg_parse(m, &sm)) {
    case RUSM_SMSG_CALL:
      return ops->handle_call ? ops->handle_call(s->user, &sm.from, sm.data, sm.len) : 0;
    case RUSM_SMSG_CAST:
      return ops->handle_cast ? ops->handle_cast(s->user, sm.data, sm.len) : 0;
    case RUSM_SMSG_PING: /* init has run, or we would not be here */
      rusm_reply(&sm.from, NULL, 0);
      return 0;
    case RUSM_SMSG_STOP: {
      rusm_reason why;
      if (!decode_reason(sm.data, sm.len, &why)) return 0;
      rusm_exit(why);
      return 1;
    }
    default:
      break;
  }
  if (rusm_msg_kind_of(m) == RUSM_MSG_EXIT && s->parent &&
      rusm_msg_sender(m) == s->parent) {
    rusm_exit(rusm_msg_reason(m));
    return 1;
  }
  return ops->handle_info ? ops->handle_info(s->user, m) : 0;
}

static void srv_terminate(void *state, rusm_reason why)
{
  srv *s = state;
  if (s->user_inited && s->ops->terminate) s->ops->terminate(s->user, why);
  s->user_inited = false;
  srv_free_user(s);
}

static const rusm_handler_ops srv_handler = {
    .state_size = sizeof(srv),
    .init = srv_init,
    .handle = srv_handle,
    .terminate = srv_terminate,
};

static rusm_pid server_spawn(rusm_runtime *rt, const rusm_server_ops *ops, const void *arg,
                             size_t len, const rusm_spawn_opts *opts)
{
  if (!ops || len > SIZE_MAX - sizeof(srv_arg) || (len && !arg)) return 0;
  unsigned char stackbuf[STACK_MSG];
  unsigned char *buf = stackbuf;
  size_t total = sizeof(srv_arg) + len;
  if (total > sizeof stackbuf) {
    buf = malloc(total);
    if (!buf) return 0;
  }
  srv_arg a = {ops, rusm_self()};
  memcpy(buf, &a, sizeof a);
  if (len) memcpy(buf + sizeof a, arg, len);
  rusm_pid pid = rt ? rusm_runtime_spawn_handler(rt, &srv_handler, buf, total, opts)
                    : rusm_spawn_handler(&srv_handler, buf, total, opts);
  if (buf != stackbuf) free(buf);
  return pid;
}

rusm_pid rusm_server_start(const rusm_server_ops *ops, const void *arg, size_t len,
                           const rusm_spawn_opts *opts)
{
  return server_spawn(NULL, ops, arg, len, opts);
}

rusm_pid rusm_runtime_server_start(rusm_runtime *rt, const rusm_server_ops *ops,
                                   const void *arg, size_t len,
                                   const rusm_spawn_opts *opts)
{
  if (!rt) return 0;
  return server_spawn(rt, ops, arg, len, opts);
}

/* Stop is a call whose only answer is the server's DOWN: it succeeded when
** the server went down with the reason asked for. */
int rusm_server_stop(rusm_runtime *rt, rusm_pid pid, rusm_reason why, int64_t timeout_ms)
{
  unsigned char *req = NULL;
  size_t n = encode_reason(why, &req);
  if (!n) return -1;
  rusm_call_result r;
  if (rusm_self())
    call_in_process(RUSM_SMSG_STOP, pid, req, n, timeout_ms, &r);
  else
    call_from_thread(rt, RUSM_SMSG_STOP, pid, req, n, timeout_ms, &r);
  free(req);
  bool ok = r.reason.kind == why.kind && r.reason.len == why.len &&
            (why.len == 0 || memcmp(r.reason.data, why.data, why.len) == 0);
  rusm_call_result_free(&r);
  return ok ? 0 : -1;
}
