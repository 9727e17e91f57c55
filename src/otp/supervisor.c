/*
** supervisor.c -- the OTP supervisor as a stackless process body.
**
** Why a body of its own rather than a coroutine: a supervisor must be
** killable at any moment (kill cannot be trapped) without leaking its child
** table, and the runtime promises to call a body's destroy() exactly once.
** Why not the plain handler body: shutting a child down means waiting for
** that child's DOWN while every other message (crashes of other children,
** management calls) stays queued in order, which is Erlang's selective
** receive; rusm_body_take with a match function gives exactly that.
**
** The restart path is: EXIT taken from the mailbox, child found by pid in a
** hash map, intensity checked against a ring of timestamps, the child's start
** run (a spawn with a link). No sleep, no polling, no allocation beyond the
** spawn itself.
*/
#include "rusm/supervisor.h"

#include "sup_pidmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_MAX 64
#define DEFAULT_WORKER_SHUTDOWN_MS 5000
#define DEFAULT_PERIOD_MS 5000

/* ------------------------------------------------------------ state */

/* ------------------------------------------------------------ state */

typedef struct child {
  char *id;                 /* owned; NULL for a simple_one_for_one child */
  rusm_pid (*start)(const void *arg, size_t len);
  rusm_coro_fn coro;
  const rusm_handler_ops *handler;
  const rusm_server_ops *server;
  const rusm_sup_spec *sup;
  void *arg;                /* owned copy */
  size_t arg_len;
  rusm_restart restart;
  int64_t shutdown;         /* resolved: ms > 0, RUSM_SHUTDOWN_INFINITY or _BRUTAL_KILL */
  bool is_sup;
  rusm_pid pid;             /* 0 when not running */
  uint64_t mref;            /* while being shut down */
  size_t index;             /* position in sup.kids */
} child;

/* What a job is for; it decides what a failed start means and what is done
** at the end. */
typedef enum job_kind {
  JOB_NONE = 0,
  JOB_INITIAL,        /* start every child in order */
  JOB_RESTART,        /* a child ended: the strategy's shutdowns, then starts */
  JOB_START_CHILD,    /* start_child / start_dynamic request */
  JOB_RESTART_CHILD,  /* restart_child request */
  JOB_TERMINATE,      /* terminate_child / terminate_pid request */
  JOB_STOP            /* shut everything down, then exit */
} job_kind;

/* The work that waits. A job first shuts down a list of children (one by
** one in the given order, or all at once for simple_one_for_one), then
** starts kids[si..send) in order, waiting after each server or supervisor
** child until its init has run (the start ack), then finishes. Only one job
** exists at a time; while it runs, only the messages it waits for are taken
** from the mailbox and everything else stays queued, in order. */
typedef struct job {
  job_kind kind;
  /* phase 1: shutdowns */
  child **list;             /* owned array: the order of shutdown */
  size_t n, i;
  bool parallel;
  sup_pidmap by_mref;       /* parallel: monitor ref -> child */
  size_t pending;           /* parallel: DOWNs still awaited */
  child *cur;               /* sequential: the child being shut down */
  rusm_timer_ref timer;     /* the shutdown deadline, a message to ourselves */
  uint64_t timer_seq;       /* tells the current deadline from stale ones */
  /* phase 2: starts */
  bool starting;
  size_t si, send;
  child *await;             /* started, its start ack not yet in */
  uint64_t await_ref;
  /* the end */
  child *subject;           /* RESTART: the child that ended; requests: the child */
  rusm_from from;           /* requests: whom to answer */
  bool has_from;
  bool forget;              /* TERMINATE: drop the spec afterwards */
} job;

typedef struct sup {
  rusm_pid parent;          /* who started us; 0 for a root */
  rusm_sup_strategy strategy;
  uint32_t intensity;
  int64_t period_ns;
  child **kids;             /* start order (simple_one_for_one: any order) */
  size_t nkids, cap;
  child *tmpl;              /* simple_one_for_one template */
  sup_pidmap by_pid;
  int64_t *rs;              /* ring of restart times within the period */
  size_t rs_cap, rs_head, rs_len;
  uint64_t ack_seq;         /* refs of start acks */
  uint64_t timer_seq;       /* refs of shutdown deadlines */
  rusm_pid self;
  bool started;
  bool done;                /* exit with the reason below on the next run */
  job job;
  rusm_exit_kind exit_kind;
  void *exit_data;          /* owned copy of a USER reason */
  uint32_t exit_len;
} sup;

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ children */

static void child_free(child *c)
{
  if (!c) return;
  free(c->id);
  free(c->arg);
  free(c);
}

static int spec_methods(const rusm_child_spec *cs)
{
  return !!cs->start + !!cs->coro + !!cs->handler + !!cs->server + !!cs->sup;
}

/* A child record from a spec; arg/len override the spec's arg when given
** (simple_one_for_one children). */
static child *child_new(const rusm_child_spec *cs, bool want_id, const void *arg, size_t len)
{
  if (spec_methods(cs) != 1) return NULL;
  if (cs->restart > RUSM_TEMPORARY) return NULL;
  if (cs->shutdown < RUSM_SHUTDOWN_BRUTAL_KILL) return NULL;
  if (want_id && (!cs->id || !cs->id[0] || strlen(cs->id) >= ID_MAX)) return NULL;
  child *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->start = cs->start;
  c->coro = cs->coro;
  c->handler = cs->handler;
  c->server = cs->server;
  c->sup = cs->sup;
  c->restart = cs->restart;
  c->is_sup = cs->is_supervisor || cs->sup != NULL;
  c->shutdown = cs->shutdown;
  if (c->shutdown == RUSM_SHUTDOWN_DEFAULT)
    c->shutdown = c->is_sup ? RUSM_SHUTDOWN_INFINITY : DEFAULT_WORKER_SHUTDOWN_MS;
  if (want_id) {
    c->id = strdup(cs->id);
    if (!c->id) goto fail;
  }
  if (!arg) {
    arg = cs->arg;
    len = cs->arg_len;
  }
  if (len) {
    if (!arg) goto fail;
    c->arg = malloc(len);
    if (!c->arg) goto fail;
    memcpy(c->arg, arg, len);
    c->arg_len = len;
  }
  return c;
fail:
  child_free(c);
  return NULL;
}

static child *find_id(const sup *s, const char *id)
{
  for (size_t i = 0; i < s->nkids; i++)
    if (s->kids[i]->id && strcmp(s->kids[i]->id, id) == 0) return s->kids[i];
  return NULL;
}

static int kids_push(sup *s, child *c)
{
  if (s->nkids == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 8;
    child **nk = realloc(s->kids, ncap * sizeof *nk);
    if (!nk) return -1;
    s->kids = nk;
    s->cap = ncap;
  }
  c->index = s->nkids;
  s->kids[s->nkids++] = c;
  return 0;
}

/* Removes and frees a child record (it must not be running). Start order
** matters for static children; dynamic ones have none, so they swap. */
static void kids_remove(sup *s, child *c)
{
  size_t i = c->index;
  if (s->strategy == RUSM_SIMPLE_ONE_FOR_ONE) {
    s->nkids--;
    if (i != s->nkids) {
      s->kids[i] = s->kids[s->nkids];
      s->kids[i]->index = i;
    }
  } else {
    memmove(&s->kids[i], &s->kids[i + 1], (s->nkids - i - 1) * sizeof *s->kids);
    s->nkids--;
    for (size_t j = i; j < s->nkids; j++) s->kids[j]->index = j;
  }
  child_free(c);
}

/* ------------------------------------------------------------ intensity */

/* Records a restart now; true if that makes more than `intensity` restarts
** within the period, i.e. the supervisor must give up. */
static bool add_restart(sup *s)
{
  int64_t now = now_ns();
  while (s->rs_len && now - s->rs[s->rs_head] >= s->period_ns) {
    s->rs_head = (s->rs_head + 1) % s->rs_cap;
    s->rs_len--;
  }
  if (s->rs_len == s->rs_cap) {
    /* grows to at most intensity + 1 entries: beyond that we have given up */
    size_t ncap = s->rs_cap ? s->rs_cap * 2 : 8;
    int64_t *n = malloc(ncap * sizeof *n);
    if (!n) return true;
    for (size_t i = 0; i < s->rs_len; i++) n[i] = s->rs[(s->rs_head + i) % s->rs_cap];
    free(s->rs);
    s->rs = n;
    s->rs_cap = ncap;
    s->rs_head = 0;
  }
  s->rs[(s->rs_head + s->rs_len) % s->rs_cap] = now;
  s->rs_len++;
  return s->rs_len > s->intensity;
}

/* ------------------------------------------------------------ jobs */

static void set_exit_reason(sup *s, rusm_reason why)
{
  free(s->exit_data);
  s->exit_data = NULL;
  s->exit_len = 0;
  s->exit_kind = why.kind;
  if (why.kind == RUSM_EXIT_USER && why.len) {
    s->exit_data = malloc(why.len);
    if (s->exit_data) {
      memcpy(s->exit_data, why.data, why.len);
      s->exit_len = why.len;
    }
  }
}

static void job_clear(job *j)
{
  free(j->list);
  sup_pidmap_free(&j->by_mref);
  memset(j, 0, sizeof *j);
}

static job *job_begin(sup *s, job_kind kind, child *subject)
{
  job *j = &s->job;
  job_clear(j);
  j->kind = kind;
  j->subject = subject;
  return j;
}

static void reply_status(const rusm_from *from, int32_t status, rusm_pid pid)
{
  unsigned char buf[16];
  memset(buf, 0, sizeof buf);
  memcpy(buf, &status, 4);
  memcpy(buf + 8, &pid, 8);
  rusm_reply(from, buf, sizeof buf);
}

/* Running children, in reverse start order, among kids[from..]; skip one. */
static child **running_reversed(sup *s, size_t from, const child *skip, size_t *n)
{
  child **l = malloc((s->nkids ? s->nkids : 1) * sizeof *l);
  *n = 0;
  if (!l) return NULL;
  for (size_t i = s->nkids; i-- > from;)
    if (s->kids[i]->pid && s->kids[i] != skip) l[(*n)++] = s->kids[i];
  return l;
}

/* Out of memory while planning a shutdown: nothing orderly is possible, so
** end now and let the links take the children down. */
static void give_up(sup *s)
{
  job_clear(&s->job);
  set_exit_reason(s, rusm_reason_str("enomem"));
  s->done = true;
}

static void begin_stop(sup *s, rusm_reason why, const rusm_from *from)
{
  set_exit_reason(s, why);
  job *j = job_begin(s, JOB_STOP, NULL);
  j->parallel = s->strategy == RUSM_SIMPLE_ONE_FOR_ONE;
  j->list = running_reversed(s, 0, NULL, &j->n);
  if (!j->list) return give_up(s);
  if (from) {
    j->from = *from;
    j->has_from = true;
  }
}

/* A restart is due for c (already not running): count it, then apply the
** strategy. A start that fails comes back here, so a child that cannot
** start exhausts the intensity instead of looping forever. */
static void restart(sup *s, child *c)
{
  if (add_restart(s)) {
    begin_stop(s, RUSM_REASON(RUSM_EXIT_SHUTDOWN), NULL);
    return;
  }
  job *j = job_begin(s, JOB_RESTART, c);
  if (s->strategy == RUSM_ONE_FOR_ALL || s->strategy == RUSM_REST_FOR_ONE) {
    size_t from = s->strategy == RUSM_REST_FOR_ONE ? c->index : 0;
    j->list = running_reversed(s, from, c, &j->n);
    if (!j->list) return give_up(s);
  }
}

/* In the supervisor process: starts c linked to us. Returns its pid or 0. */
static rusm_pid start_one(sup *s, child *c)
{
  rusm_spawn_opts link = {RUSM_SPAWN_LINK, NULL};
  rusm_pid pid = 0;
  if (c->start)
    pid = c->start(c->arg, c->arg_len);
  else if (c->coro)
    pid = rusm_spawn(c->coro, c->arg, c->arg_len, &link);
  else if (c->handler)
    pid = rusm_spawn_handler(c->handler, c->arg, c->arg_len, &link);
  else if (c->server)
    pid = rusm_server_start(c->server, c->arg, c->arg_len, &link);
  else if (c->sup)
    pid = rusm_supervisor_start_link(c->sup);
  if (!pid) return 0;
  if (sup_pidmap_put(&s->by_pid, pid, c) != 0) {
    /* cannot track it: do not leave an unsupervised child behind */
    rusm_unlink(pid);
    rusm_kill(pid);
    return 0;
  }
  c->pid = pid;
  return pid;
}

/* Servers and supervisors answer a PING once their init has run (for a
** supervisor: once its own children are started), which makes the start
** synchronous as in OTP: child N+1 starts after child N's init. Other
** bodies cannot answer, so their start is the spawn alone. */
static bool wants_ack(const child *c)
{
  return c->server != NULL || c->sup != NULL;
}

/* Sends the shutdown signal to c (monitored and unlinked first, so its end
** arrives as this DOWN and never as a crash). */
static void shutdown_send(child *c)
{
  c->mref = rusm_monitor(c->pid);
  rusm_unlink(c->pid);
  if (c->shutdown == RUSM_SHUTDOWN_BRUTAL_KILL)
    rusm_kill(c->pid);
  else
    rusm_exit_signal(c->pid, RUSM_REASON(RUSM_EXIT_SHUTDOWN));
}

/* The shutdown deadline is a message we send ourselves (rather than a timed
** wait of the body) so that it travels through the mailbox like the DOWN it
** races with, and a stale one is recognisable by its sequence number. */
#define DEADLINE_TYPE 'K'

static void arm_deadline(sup *s, int64_t ms)
{
  job *j = &s->job;
  unsigned char msg[RUSM_SERVER_HEADER_SIZE];
  uint32_t flags = 0;
  j->timer_seq = ++s->timer_seq;
  msg[0] = 'R';
  msg[1] = 'S';
  msg[2] = 'V';
  msg[3] = DEADLINE_TYPE;
  memcpy(msg + 4, &flags, 4);
  memcpy(msg + 8, &j->timer_seq, 8);
  j->timer = rusm_send_after(ms, s->self, msg, sizeof msg);
}

static void disarm_deadline(job *j)
{
  if (j->timer) rusm_cancel_timer(j->timer);
  j->timer = 0;
  j->timer_seq = 0;
}

static bool is_deadline(const sup *s, const rusm_msg *m)
{
  if (!s->job.timer_seq || rusm_msg_sender(m) != s->self ||
      rusm_msg_size(m) != RUSM_SERVER_HEADER_SIZE)
    return false;
  const unsigned char *p = rusm_msg_data(m);
  uint64_t seq;
  memcpy(&seq, p + 8, 8);
  return p[0] == 'R' && p[1] == 'S' && p[2] == 'V' && p[3] == DEADLINE_TYPE &&
         seq == s->job.timer_seq;
}

/* Phase 1. Returns true while waiting for a DOWN. */
static bool stop_phase(sup *s)
{
  job *j = &s->job;
  if (j->parallel) {
    if (j->i == 0 && j->n) {
      /* signal everyone at once; one deadline, the longest shutdown */
      int64_t longest = 0;
      bool forever = false, brutal_only = true;
      for (size_t k = 0; k < j->n; k++) {
        child *c = j->list[k];
        sup_pidmap_del(&s->by_pid, c->pid);
        shutdown_send(c);
        if (!c->mref || sup_pidmap_put(&j->by_mref, c->mref, c) != 0) {
          if (c->mref) rusm_demonitor(c->mref, true);
          c->mref = 0;
          c->pid = 0;
          continue;
        }
        j->pending++;
        if (c->shutdown == RUSM_SHUTDOWN_INFINITY) forever = true;
        if (c->shutdown > longest) longest = c->shutdown;
        if (c->shutdown != RUSM_SHUTDOWN_BRUTAL_KILL) brutal_only = false;
      }
      j->i = j->n;
      if (!forever && !brutal_only && j->pending) arm_deadline(s, longest);
    }
    return j->pending != 0;
  }
  while (!j->cur) {
    if (j->i == j->n) return false;
    child *c = j->list[j->i++];
    if (!c->pid) continue;
    sup_pidmap_del(&s->by_pid, c->pid);
    shutdown_send(c);
    if (!c->mref) { /* cannot be watched: count it gone */
      c->pid = 0;
      continue;
    }
    j->cur = c;
    if (c->shutdown > 0) arm_deadline(s, c->shutdown);
  }
  return true;
}

/* The deadline passed with children still up: kill them. */
static void job_deadline(sup *s)
{
  job *j = &s->job;
  j->timer = 0; /* it fired */
  j->timer_seq = 0;
  if (!j->parallel) {
    if (j->cur) rusm_kill(j->cur->pid);
    return;
  }
  for (size_t k = 0; k < j->n; k++)
    if (j->list[k]->mref) rusm_kill(j->list[k]->pid);
}

/* Between the phases: what to start, in which order. */
static void enter_start_phase(sup *s)
{
  job *j = &s->job;
  j->starting = true;
  j->si = j->send = 0;
  child *c = j->subject;
  switch (j->kind) {
    case JOB_INITIAL:
      j->send = s->nkids;
      break;
    case JOB_RESTART: {
      size_t from = s->strategy == RUSM_ONE_FOR_ALL ? 0 : c->index;
      if (s->strategy == RUSM_ONE_FOR_ALL || s->strategy == RUSM_REST_FOR_ONE) {
        /* temporary siblings ended by this restart are not restarted: their
        ** specs go (OTP semantics) */
        for (size_t i = s->nkids; i-- > from;) {
          child *k = s->kids[i];
          if (k != c && !k->pid && k->restart == RUSM_TEMPORARY) kids_remove(s, k);
        }
        from = s->strategy == RUSM_ONE_FOR_ALL ? 0 : c->index;
        j->si = from;
        j->send = s->nkids;
      } else {
        j->si = c->index;
        j->send = c->index + 1;
      }
      break;
    }
    case JOB_START_CHILD:
    case JOB_RESTART_CHILD:
      j->si = c->index;
      j->send = c->index + 1;
      break;
    default:
      break; /* TERMINATE, STOP: nothing to start */
  }
}

/* The job is over: answer, forget, or exit. */
static void finish(sup *s)
{
  job *j = &s->job;
  job_kind kind = j->kind;
  child *c = j->subject;
  rusm_from from = j->from;
  bool has_from = j->has_from, forget = j->forget;
  job_clear(j);
  switch (kind) {
    case JOB_STOP:
      if (has_from) reply_status(&from, RUSM_SUP_OK, 0);
      s->done = true;
      break;
    case JOB_TERMINATE:
      if (forget) kids_remove(s, c);
      if (has_from) reply_status(&from, RUSM_SUP_OK, 0);
      break;
    case JOB_START_CHILD:
    case JOB_RESTART_CHILD:
      if (has_from) reply_status(&from, RUSM_SUP_OK, c->pid);
      break;
    default:
      break;
  }
}

/* Child c could not be started (its start returned 0, or it died before
** its start ack). */
static void start_failed(sup *s, child *c)
{
  job *j = &s->job;
  switch (j->kind) {
    case JOB_INITIAL: {
      /* OTP: a child that cannot start fails the supervisor's start; those
      ** already started are shut down in reverse order */
      char buf[ID_MAX + 32];
      snprintf(buf, sizeof buf, "failed_to_start_child:%s", c->id ? c->id : "");
      begin_stop(s, rusm_reason_str(buf), NULL);
      return;
    }
    case JOB_RESTART:
      if (c->restart == RUSM_TEMPORARY) { /* not to be restarted anyway */
        size_t i = c->index;
        kids_remove(s, c);
        j->si = i;
        j->send--;
        return;
      }
      restart(s, c); /* counts; a new job, or the stop */
      return;
    case JOB_START_CHILD: {
      rusm_from from = j->from;
      bool has_from = j->has_from;
      job_clear(j);
      kids_remove(s, c);
      if (has_from) reply_status(&from, RUSM_SUP_ERR_START, 0);
      return;
    }
    case JOB_RESTART_CHILD: {
      rusm_from from = j->from;
      bool has_from = j->has_from;
      job_clear(j);
      if (has_from) reply_status(&from, RUSM_SUP_ERR_START, 0);
      return;
    }
    default:
      job_clear(j);
      return;
  }
}

/* Moves the job on as far as it goes without waiting. Returns true while it
** waits for a message (a DOWN or a start ack). */
static bool job_advance(sup *s)
{
  job *j = &s->job;
  while (j->kind != JOB_NONE && !s->done) {
    if (!j->starting) {
      if (stop_phase(s)) return true;
      enter_start_phase(s);
      continue;
    }
    if (j->await) return true;
    if (j->si >= j->send) {
      finish(s);
      continue;
    }
    child *c = s->kids[j->si++];
    if (c->pid) continue;
    if (!start_one(s, c)) {
      start_failed(s, c);
      continue;
    }
    if (wants_ack(c)) {
      j->await = c;
      j->await_ref = ++s->ack_seq;
      rusm_send_ping(c->pid, j->await_ref);
    }
  }
  return false;
}

static bool match_job(const rusm_msg *m, void *ctx)
{
  const sup *s = ctx;
  const job *j = &s->job;
  switch (rusm_msg_kind_of(m)) {
    case RUSM_MSG_DOWN: {
      uint64_t ref = rusm_msg_monitor_ref(m);
      if (j->parallel) return sup_pidmap_get(&j->by_mref, ref) != NULL;
      return j->cur && j->cur->mref == ref;
    }
    case RUSM_MSG_EXIT:
      return j->await && rusm_msg_sender(m) == j->await->pid;
    case RUSM_MSG_USER: {
      if (is_deadline(s, m)) return true;
      if (!j->await) return false;
      rusm_server_msg sm;
      return rusm_server_msg_parse(m, &sm) == RUSM_SMSG_REPLY && sm.from.ref == j->await_ref &&
             sm.from.pid == j->await->pid;
    }
  }
  return false;
}

/* A message match_job took. */
static void job_msg(sup *s, const rusm_msg *m)
{
  job *j = &s->job;
  switch (rusm_msg_kind_of(m)) {
    case RUSM_MSG_DOWN: {
      child *c = j->parallel ? sup_pidmap_del(&j->by_mref, rusm_msg_monitor_ref(m)) : j->cur;
      if (!c) return;
      c->pid = 0;
      c->mref = 0;
      if (j->parallel)
        j->pending--;
      else
        j->cur = NULL;
      if (!j->cur && !j->pending) disarm_deadline(j);
      return;
    }
    case RUSM_MSG_EXIT: { /* the child died before its start ack */
      child *c = j->await;
      j->await = NULL;
      sup_pidmap_del(&s->by_pid, c->pid);
      c->pid = 0;
      start_failed(s, c);
      return;
    }
    case RUSM_MSG_USER:
      if (is_deadline(s, m))
        job_deadline(s);
      else
        j->await = NULL;
      return;
  }
}

/* ------------------------------------------------------------ requests */

enum sup_op {
  OP_WHICH = 1,
  OP_START_CHILD,
  OP_START_DYNAMIC,
  OP_TERMINATE,
  OP_TERMINATE_PID,
  OP_RESTART,
  OP_DELETE
};

/* A child spec on the wire: same address space, so pointers travel as is;
** id and arg bytes follow. */
typedef struct wire_spec {
  rusm_pid (*start)(const void *arg, size_t len);
  rusm_coro_fn coro;
  const rusm_handler_ops *handler;
  const rusm_server_ops *server;
  const rusm_sup_spec *sup;
  int64_t shutdown;
  uint32_t restart;
  uint32_t is_sup;
  uint32_t id_len;
  uint32_t pad;
  uint64_t arg_len;
} wire_spec;

static void do_which(sup *s, const rusm_from *from, const unsigned char *p, size_t n)
{
  uint64_t max = 0;
  if (n >= 8) memcpy(&max, p, 8);
  if (max > s->nkids) max = s->nkids;
  size_t bytes = 8 + (size_t)max * sizeof(rusm_child_info);
  unsigned char *buf = calloc(1, bytes);
  if (!buf) return reply_status(from, RUSM_SUP_ERR_CALL, 0);
  uint64_t count = s->nkids;
  memcpy(buf, &count, 8);
  for (size_t i = 0; i < max; i++) {
    const child *c = s->kids[i];
    rusm_child_info ci;
    memset(&ci, 0, sizeof ci);
    if (c->id) snprintf(ci.id, sizeof ci.id, "%s", c->id);
    ci.pid = c->pid;
    ci.restart = c->restart;
    ci.is_supervisor = c->is_sup;
    memcpy(buf + 8 + i * sizeof ci, &ci, sizeof ci);
  }
  rusm_reply(from, buf, bytes);
  free(buf);
}

/* A new child record is started by a job, answered when started. */
static void begin_start_request(sup *s, const rusm_from *from, child *c, job_kind kind)
{
  job *j = job_begin(s, kind, c);
  j->from = *from;
  j->has_from = true;
  j->starting = false; /* no shutdowns: the first advance goes to starting */
}

static void do_start_child(sup *s, const rusm_from *from, const unsigned char *p, size_t n)
{
  wire_spec w;
  if (s->strategy == RUSM_SIMPLE_ONE_FOR_ONE || n < sizeof w)
    return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  memcpy(&w, p, sizeof w);
  if (w.id_len >= ID_MAX || w.id_len > n - sizeof w || w.arg_len != n - sizeof w - w.id_len)
    return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  char id[ID_MAX];
  memcpy(id, p + sizeof w, w.id_len);
  id[w.id_len] = 0;
  if (find_id(s, id)) return reply_status(from, RUSM_SUP_ERR_EXISTS, 0);
  rusm_child_spec cs = {
      .id = id,
      .start = w.start,
      .coro = w.coro,
      .handler = w.handler,
      .server = w.server,
      .sup = w.sup,
      .arg = w.arg_len ? p + sizeof w + w.id_len : NULL,
      .arg_len = (size_t)w.arg_len,
      .restart = (rusm_restart)w.restart,
      .shutdown = w.shutdown,
      .is_supervisor = w.is_sup != 0,
  };
  child *c = child_new(&cs, true, NULL, 0);
  if (!c) return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  if (kids_push(s, c) != 0) {
    child_free(c);
    return reply_status(from, RUSM_SUP_ERR_CALL, 0);
  }
  begin_start_request(s, from, c, JOB_START_CHILD);
}

static void do_start_dynamic(sup *s, const rusm_from *from, const unsigned char *p, size_t n)
{
  if (s->strategy != RUSM_SIMPLE_ONE_FOR_ONE) return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  rusm_child_spec cs = {
      .start = s->tmpl->start,
      .coro = s->tmpl->coro,
      .handler = s->tmpl->handler,
      .server = s->tmpl->server,
      .sup = s->tmpl->sup,
      .arg = s->tmpl->arg,
      .arg_len = s->tmpl->arg_len,
      .restart = s->tmpl->restart,
      .shutdown = s->tmpl->shutdown,
      .is_supervisor = s->tmpl->is_sup,
  };
  child *c = child_new(&cs, false, n ? p : NULL, n);
  if (!c) return reply_status(from, RUSM_SUP_ERR_CALL, 0);
  if (kids_push(s, c) != 0) {
    child_free(c);
    return reply_status(from, RUSM_SUP_ERR_CALL, 0);
  }
  begin_start_request(s, from, c, JOB_START_CHILD);
}

/* Both terminate flavours: a one-child job answered after the DOWN. */
static void begin_terminate(sup *s, const rusm_from *from, child *c, bool forget)
{
  job *j = job_begin(s, JOB_TERMINATE, c);
  j->list = malloc(sizeof *j->list);
  if (!j->list) {
    job_clear(j);
    return reply_status(from, RUSM_SUP_ERR_CALL, 0);
  }
  j->list[0] = c;
  j->n = 1;
  j->from = *from;
  j->has_from = true;
  j->forget = forget;
}

static void do_by_id(sup *s, int op, const rusm_from *from, const unsigned char *p, size_t n)
{
  if (s->strategy == RUSM_SIMPLE_ONE_FOR_ONE || n == 0 || n >= ID_MAX)
    return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  char id[ID_MAX];
  memcpy(id, p, n);
  id[n] = 0;
  child *c = find_id(s, id);
  if (!c) return reply_status(from, RUSM_SUP_ERR_NOT_FOUND, 0);
  switch (op) {
    case OP_TERMINATE:
      if (!c->pid) {
        if (c->restart == RUSM_TEMPORARY) kids_remove(s, c);
        return reply_status(from, RUSM_SUP_OK, 0);
      }
      return begin_terminate(s, from, c, c->restart == RUSM_TEMPORARY);
    case OP_RESTART:
      if (c->pid) return reply_status(from, RUSM_SUP_ERR_RUNNING, c->pid);
      return begin_start_request(s, from, c, JOB_RESTART_CHILD);
    case OP_DELETE:
      if (c->pid) return reply_status(from, RUSM_SUP_ERR_RUNNING, c->pid);
      kids_remove(s, c);
      return reply_status(from, RUSM_SUP_OK, 0);
    default:
      return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  }
}

static void do_terminate_pid(sup *s, const rusm_from *from, const unsigned char *p, size_t n)
{
  rusm_pid pid;
  if (s->strategy != RUSM_SIMPLE_ONE_FOR_ONE || n != sizeof pid)
    return reply_status(from, RUSM_SUP_ERR_BADARG, 0);
  memcpy(&pid, p, sizeof pid);
  child *c = sup_pidmap_get(&s->by_pid, pid);
  if (!c) return reply_status(from, RUSM_SUP_ERR_NOT_FOUND, 0);
  begin_terminate(s, from, c, true);
}

static bool decode_stop_reason(const void *data, size_t len, rusm_reason *why)
{
  uint32_t k, n;
  if (len < 8) return false;
  memcpy(&k, data, 4);
  memcpy(&n, (const unsigned char *)data + 4, 4);
  if (k > RUSM_EXIT_USER || n != len - 8) return false;
  *why = (rusm_reason){(rusm_exit_kind)k, n, n ? (const unsigned char *)data + 8 : NULL};
  return true;
}

static void handle_request(sup *s, const rusm_server_msg *sm)
{
  const unsigned char *p = sm->data;
  uint32_t op;
  if (sm->len < 8) return reply_status(&sm->from, RUSM_SUP_ERR_BADARG, 0);
  memcpy(&op, p, 4);
  p += 8;
  size_t n = sm->len - 8;
  switch (op) {
    case OP_WHICH: return do_which(s, &sm->from, p, n);
    case OP_START_CHILD: return do_start_child(s, &sm->from, p, n);
    case OP_START_DYNAMIC: return do_start_dynamic(s, &sm->from, p, n);
    case OP_TERMINATE_PID: return do_terminate_pid(s, &sm->from, p, n);
    case OP_TERMINATE:
    case OP_RESTART:
    case OP_DELETE: return do_by_id(s, (int)op, &sm->from, p, n);
    default: return reply_status(&sm->from, RUSM_SUP_ERR_BADARG, 0);
  }
}

/* ------------------------------------------------------------ messages */

static bool should_restart(const child *c, rusm_reason why)
{
  switch (c->restart) {
    case RUSM_PERMANENT: return true;
    case RUSM_TRANSIENT: return why.kind != RUSM_EXIT_NORMAL && why.kind != RUSM_EXIT_SHUTDOWN;
    default: return false;
  }
}

static void handle_exit(sup *s, const rusm_msg *m)
{
  rusm_pid from = rusm_msg_sender(m);
  rusm_reason why = rusm_msg_reason(m);
  child *c = from ? sup_pidmap_del(&s->by_pid, from) : NULL;
  if (!c) {
    /* our parent, or a signal from outside any process: shut down */
    if (!from || from == s->parent) begin_stop(s, why, NULL);
    /* else: an EXIT from a process we do not supervise, ignored */
    return;
  }
  c->pid = 0;
  if (should_restart(c, why)) return restart(s, c);
  /* Not restarted: a temporary spec, or a dynamic child, is forgotten; a
  ** transient one that ended normally keeps its spec. */
  if (c->restart == RUSM_TEMPORARY || s->strategy == RUSM_SIMPLE_ONE_FOR_ONE) kids_remove(s, c);
}

static void handle_msg(sup *s, rusm_msg *m)
{
  rusm_msg_kind k = rusm_msg_kind_of(m);
  if (k == RUSM_MSG_EXIT) return handle_exit(s, m);
  if (k != RUSM_MSG_USER) return; /* a DOWN left from a finished shutdown */
  rusm_server_msg sm;
  switch (rusm_server_msg_parse(m, &sm)) {
    case RUSM_SMSG_CALL: return handle_request(s, &sm);
    case RUSM_SMSG_PING: /* our own start ack: the initial job is done */
      rusm_reply(&sm.from, NULL, 0);
      return;
    case RUSM_SMSG_STOP: {
      rusm_reason why;
      if (decode_stop_reason(sm.data, sm.len, &why)) begin_stop(s, why, NULL);
      return;
    }
    default: return; /* casts and stray messages mean nothing to a supervisor */
  }
}

/* ------------------------------------------------------------ the body */

static rusm_run_result sup_run(void *body, uint32_t budget)
{
  sup *s = body;
  if (!s->started) {
    s->started = true;
    s->self = rusm_self();
    if (s->nkids && s->strategy != RUSM_SIMPLE_ONE_FOR_ONE) job_begin(s, JOB_INITIAL, NULL);
  }
  uint32_t used = 0;
  for (;;) {
    /* advance the job as far as it goes; it then waits, or is over */
    if (s->job.kind != JOB_NONE && !s->done) job_advance(s);
    if (s->done) {
      rusm_exit((rusm_reason){s->exit_kind, s->exit_len, s->exit_data});
      return RUSM_RUN_EXIT;
    }
    rusm_msg *m;
    if (s->job.kind != JOB_NONE) {
      m = rusm_body_take(match_job, s);
      if (!m) {
        rusm_body_wait(RUSM_INFINITY);
        return RUSM_RUN_WAIT;
      }
      job_msg(s, m);
    } else {
      m = rusm_body_take(NULL, NULL);
      if (!m) {
        rusm_body_wait(RUSM_INFINITY);
        return RUSM_RUN_WAIT;
      }
      handle_msg(s, m);
    }
    rusm_msg_free(m);
    if (++used >= budget) return RUSM_RUN_YIELD;
  }
}

static void sup_destroy(void *body)
{
  sup *s = body;
  for (size_t i = 0; i < s->nkids; i++) child_free(s->kids[i]);
  free(s->kids);
  child_free(s->tmpl);
  sup_pidmap_free(&s->by_pid);
  job_clear(&s->job);
  free(s->rs);
  free(s->exit_data);
  free(s);
}

static size_t sup_memory(const void *body)
{
  const sup *s = body;
  size_t n = sizeof *s + s->cap * sizeof(child *) + s->by_pid.cap * 16 + s->rs_cap * 8;
  for (size_t i = 0; i < s->nkids; i++) n += sizeof(child) + s->kids[i]->arg_len + ID_MAX;
  return n;
}

static const rusm_body_vtable sup_vtable = {
    .kind = "supervisor",
    .run = sup_run,
    .destroy = sup_destroy,
    .memory = sup_memory,
};

/* Validates and copies a spec into a new body; NULL if the spec is bad. */
static sup *sup_new(const rusm_sup_spec *spec, rusm_pid parent)
{
  if (!spec || spec->strategy > RUSM_SIMPLE_ONE_FOR_ONE) return NULL;
  if (spec->nchildren && !spec->children) return NULL;
  if (spec->strategy == RUSM_SIMPLE_ONE_FOR_ONE && spec->nchildren != 1) return NULL;
  sup *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->parent = parent;
  s->strategy = spec->strategy;
  s->intensity = spec->intensity;
  s->period_ns = (int64_t)(spec->period_ms ? spec->period_ms : DEFAULT_PERIOD_MS) * 1000000LL;
  if (spec->strategy == RUSM_SIMPLE_ONE_FOR_ONE) {
    s->tmpl = child_new(&spec->children[0], false, NULL, 0);
    if (!s->tmpl) goto fail;
    return s;
  }
  for (size_t i = 0; i < spec->nchildren; i++) {
    child *c = child_new(&spec->children[i], true, NULL, 0);
    if (!c || find_id(s, c->id) || kids_push(s, c) != 0) {
      child_free(c);
      goto fail;
    }
  }
  return s;
fail:
  sup_destroy(s);
  return NULL;
}

rusm_pid rusm_supervisor_start_link(const rusm_sup_spec *spec)
{
  rusm_pid self = rusm_self();
  if (!self) return 0;
  sup *s = sup_new(spec, self);
  if (!s) return 0;
  rusm_spawn_opts o = {RUSM_SPAWN_LINK | RUSM_SPAWN_TRAP_EXIT, NULL};
  return rusm_spawn_body(&sup_vtable, s, &o); /* the runtime owns s now */
}

rusm_pid rusm_runtime_supervisor_start(rusm_runtime *rt, const rusm_sup_spec *spec)
{
  if (!rt) return 0;
  sup *s = sup_new(spec, 0);
  if (!s) return 0;
  rusm_spawn_opts o = {RUSM_SPAWN_TRAP_EXIT, NULL};
  return rusm_runtime_spawn_body(rt, &sup_vtable, s, &o);
}

/* ------------------------------------------------------------ the client side */

/* One request: op + payload; the reply is status + pid (or which_children's
** table, which the caller decodes itself). */
static int sup_request(rusm_runtime *rt, rusm_pid sup_pid, uint32_t op, const void *a,
                       size_t alen, const void *b, size_t blen, const void *c, size_t clen,
                       rusm_call_result *r)
{
  size_t n = 8 + alen + blen + clen;
  unsigned char *req = malloc(n);
  if (!req) return -1;
  memset(req, 0, 8);
  memcpy(req, &op, 4);
  if (alen) memcpy(req + 8, a, alen);
  if (blen) memcpy(req + 8 + alen, b, blen);
  if (clen) memcpy(req + 8 + alen + blen, c, clen);
  int rc = rusm_call_any(rt, sup_pid, req, n, RUSM_INFINITY, r);
  free(req);
  return rc;
}

static int status_of(int rc, rusm_call_result *r, rusm_pid *pid_out)
{
  int32_t st = RUSM_SUP_ERR_CALL;
  rusm_pid pid = 0;
  if (rc == 0 && r->len >= 16) {
    memcpy(&st, r->data, 4);
    memcpy(&pid, (const unsigned char *)r->data + 8, 8);
  }
  rusm_call_result_free(r);
  if (pid_out) *pid_out = st == RUSM_SUP_OK ? pid : 0;
  return st;
}

int rusm_supervisor_which_children(rusm_runtime *rt, rusm_pid sup_pid, rusm_child_info *out,
                                   size_t max)
{
  rusm_call_result r;
  uint64_t m = out ? max : 0;
  if (sup_request(rt, sup_pid, OP_WHICH, &m, 8, NULL, 0, NULL, 0, &r) != 0 || r.len < 8) {
    rusm_call_result_free(&r);
    return RUSM_SUP_ERR_CALL;
  }
  uint64_t count;
  memcpy(&count, r.data, 8);
  size_t got = (r.len - 8) / sizeof(rusm_child_info);
  if (got > m) got = (size_t)m;
  if (got) memcpy(out, (const unsigned char *)r.data + 8, got * sizeof(rusm_child_info));
  rusm_call_result_free(&r);
  return (int)count;
}

int rusm_supervisor_start_child(rusm_runtime *rt, rusm_pid sup_pid, const rusm_child_spec *spec,
                                rusm_pid *pid_out)
{
  if (pid_out) *pid_out = 0;
  if (!spec || !spec->id || strlen(spec->id) >= ID_MAX || (spec->arg_len && !spec->arg))
    return RUSM_SUP_ERR_BADARG;
  wire_spec w;
  memset(&w, 0, sizeof w);
  w.start = spec->start;
  w.coro = spec->coro;
  w.handler = spec->handler;
  w.server = spec->server;
  w.sup = spec->sup;
  w.shutdown = spec->shutdown;
  w.restart = (uint32_t)spec->restart;
  w.is_sup = spec->is_supervisor;
  w.id_len = (uint32_t)strlen(spec->id);
  w.arg_len = spec->arg_len;
  rusm_call_result r;
  int rc = sup_request(rt, sup_pid, OP_START_CHILD, &w, sizeof w, spec->id, w.id_len, spec->arg,
                       spec->arg_len, &r);
  return status_of(rc, &r, pid_out);
}

int rusm_supervisor_start_dynamic(rusm_runtime *rt, rusm_pid sup_pid, const void *arg,
                                  size_t len, rusm_pid *pid_out)
{
  if (pid_out) *pid_out = 0;
  if (len && !arg) return RUSM_SUP_ERR_BADARG;
  rusm_call_result r;
  int rc = sup_request(rt, sup_pid, OP_START_DYNAMIC, arg, len, NULL, 0, NULL, 0, &r);
  return status_of(rc, &r, pid_out);
}

static int by_id(rusm_runtime *rt, rusm_pid sup_pid, uint32_t op, const char *id,
                 rusm_pid *pid_out)
{
  if (pid_out) *pid_out = 0;
  if (!id || !id[0] || strlen(id) >= ID_MAX) return RUSM_SUP_ERR_BADARG;
  rusm_call_result r;
  int rc = sup_request(rt, sup_pid, op, id, strlen(id), NULL, 0, NULL, 0, &r);
  return status_of(rc, &r, pid_out);
}

int rusm_supervisor_terminate_child(rusm_runtime *rt, rusm_pid sup_pid, const char *id)
{
  return by_id(rt, sup_pid, OP_TERMINATE, id, NULL);
}

int rusm_supervisor_terminate_pid(rusm_runtime *rt, rusm_pid sup_pid, rusm_pid child_pid)
{
  rusm_call_result r;
  int rc = sup_request(rt, sup_pid, OP_TERMINATE_PID, &child_pid, sizeof child_pid, NULL, 0,
                       NULL, 0, &r);
  return status_of(rc, &r, NULL);
}

int rusm_supervisor_restart_child(rusm_runtime *rt, rusm_pid sup_pid, const char *id,
                                  rusm_pid *pid_out)
{
  return by_id(rt, sup_pid, OP_RESTART, id, pid_out);
}

int rusm_supervisor_delete_child(rusm_runtime *rt, rusm_pid sup_pid, const char *id)
{
  return by_id(rt, sup_pid, OP_DELETE, id, NULL);
}

int rusm_supervisor_stop(rusm_runtime *rt, rusm_pid sup_pid)
{
  return rusm_server_stop(rt, sup_pid, RUSM_REASON(RUSM_EXIT_NORMAL), RUSM_INFINITY) == 0
             ? RUSM_SUP_OK
             : RUSM_SUP_ERR_CALL;
}
