/*
** demo_tree.c -- the `make run` demo: starts a runtime, grows a tree of
** processes (each node spawns and links its children, leaves compute a
** value, sums flow back up as messages), lets one leaf crash so its trapping
** parent sees the EXIT and replaces it, then runs a message relay across the
** whole tree and prints what happened and a one-line throughput figure.
*/
#include <rusm/otp.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FANOUT 4
#define DEPTH 5      /* 1 + 4 + 16 + 64 + 256 + 1024 = 1365 processes */
#define RELAY_ROUNDS 200

typedef struct node_arg {
  int depth;
  int index;        /* position among the leaves, for the leaf's value */
  rusm_pid parent;
} node_arg;

typedef struct report {
  long sum;
  long nodes;
} report;

static _Atomic long crashes_seen, replaced;
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void node(const void *arg, size_t len);

static rusm_pid spawn_child(const node_arg *me, int i) {
  node_arg c = {me->depth + 1, me->index * FANOUT + i, rusm_self()};
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  return rusm_spawn(node, &c, sizeof c, &o);
}

/* Phase 1: report the subtree sum up; phase 2: relay tokens down and back. */
static void node(const void *arg, size_t len) {
  node_arg me;
  if (len != sizeof me) return;
  memcpy(&me, arg, sizeof me);
  if (me.depth == DEPTH) {
    /* a leaf: one of them crashes on its first life */
    if (me.index == 7 && atomic_fetch_add(&crashes_seen, 0) == 0)
      rusm_exit(rusm_reason_str("leaf 7 hit a bad input"));
    report r = {me.index + 1, 1};
    rusm_send(me.parent, &r, sizeof r);
    for (;;) {
      rusm_msg *m = rusm_receive(RUSM_INFINITY);
      size_t n = rusm_msg_size(m);
      if (n == 1) {   /* stop */
        rusm_msg_free(m);
        return;
      }
      rusm_send(me.parent, rusm_msg_data(m), n);   /* relay back up */
      rusm_msg_free(m);
    }
  }
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  rusm_pid kids[FANOUT];
  for (int i = 0; i < FANOUT; i++) kids[i] = spawn_child(&me, i);
  report total = {0, 1};
  int reports = 0;
  while (reports < FANOUT) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    if (rusm_msg_kind_of(m) == RUSM_MSG_EXIT) {
      if (rusm_msg_reason(m).kind != RUSM_EXIT_NORMAL) {
        /* a child crashed before reporting: restart it in place */
        char buf[96];
        printf("  node at depth %d: child %#llx exited (%s), restarting it\n", me.depth,
               (unsigned long long)rusm_msg_sender(m),
               rusm_reason_format(rusm_msg_reason(m), buf, sizeof buf));
        atomic_fetch_add(&crashes_seen, 1);
        for (int i = 0; i < FANOUT; i++)
          if (kids[i] == rusm_msg_sender(m)) kids[i] = spawn_child(&me, i);
        atomic_fetch_add(&replaced, 1);
      }
    } else {
      report r;
      memcpy(&r, rusm_msg_data(m), sizeof r);
      total.sum += r.sum;
      total.nodes += r.nodes;
      reports++;
    }
    rusm_msg_free(m);
  }
  rusm_send(me.parent, &total, sizeof total);
  /* relay phase: pass every token down to all children, forward replies up */
  for (;;) {
    rusm_msg *m = rusm_receive(RUSM_INFINITY);
    if (rusm_msg_kind_of(m) != RUSM_MSG_USER) {
      rusm_msg_free(m);
      continue;
    }
    size_t n = rusm_msg_size(m);
    bool from_child = false;
    for (int i = 0; i < FANOUT; i++) from_child |= rusm_msg_sender(m) == kids[i];
    if (n == 1) {
      for (int i = 0; i < FANOUT; i++) rusm_send(kids[i], "q", 1);
      rusm_msg_free(m);
      return;
    }
    if (from_child)
      rusm_send(me.parent, rusm_msg_data(m), n);
    else
      for (int i = 0; i < FANOUT; i++) rusm_send(kids[i], rusm_msg_data(m), n);
    rusm_msg_free(m);
  }
}

static _Atomic long tree_sum, tree_nodes, relayed;
static _Atomic int tree_ready;

static bool is_report(const rusm_msg *m, void *ctx) {
  (void)ctx;
  return rusm_msg_size(m) == sizeof(report);
}

/* The root: owns the tree, prints results, drives the relay. */
static void root(const void *arg, size_t len) {
  (void)arg;
  (void)len;
  node_arg top = {0, 0, 0};
  rusm_spawn_opts o = {RUSM_SPAWN_LINK, NULL};
  rusm_process_flag_set(RUSM_FLAG_TRAP_EXIT, true);
  node_arg child = top;
  child.parent = rusm_self();
  child.depth = 1;
  rusm_pid kids[FANOUT];
  report total = {0, 1};
  for (int i = 0; i < FANOUT; i++) {
    child.index = i;
    kids[i] = rusm_spawn(node, &child, sizeof child, &o);
  }
  for (int got = 0; got < FANOUT;) {
    rusm_msg *m = rusm_receive_match(is_report, NULL, 10000);
    if (!m) break;
    report r;
    memcpy(&r, rusm_msg_data(m), sizeof r);
    total.sum += r.sum;
    total.nodes += r.nodes;
    got++;
    rusm_msg_free(m);
  }
  atomic_store(&tree_sum, total.sum);
  atomic_store(&tree_nodes, total.nodes);
  atomic_store(&tree_ready, 1);
  /* relay: each round sends a token to every leaf and waits for all replies */
  long leaves = 1;
  for (int d = 0; d < DEPTH; d++) leaves *= FANOUT;
  long token = 0;
  for (int round = 0; round < RELAY_ROUNDS; round++) {
    for (int i = 0; i < FANOUT; i++) rusm_send(kids[i], &token, sizeof token);
    for (long got = 0; got < leaves;) {
      rusm_msg *m = rusm_receive(10000);
      if (!m) return;
      if (rusm_msg_kind_of(m) == RUSM_MSG_USER && rusm_msg_size(m) == sizeof token) got++;
      rusm_msg_free(m);
    }
    atomic_fetch_add(&relayed, leaves);
    token++;
  }
  for (int i = 0; i < FANOUT; i++) rusm_send(kids[i], "q", 1);
  for (int exits = 0; exits < FANOUT;) {
    rusm_msg *m = rusm_receive(10000);
    if (!m) break;
    if (rusm_msg_kind_of(m) == RUSM_MSG_EXIT) exits++;
    rusm_msg_free(m);
  }
}

int main(void) {
  rusm_runtime_config cfg = {0, 0, 0, 0};
  rusm_runtime *rt = rusm_runtime_start(&cfg);
  if (!rt) {
    fprintf(stderr, "demo_tree: cannot start the runtime\n");
    return 1;
  }
  rusm_runtime_stats st;
  rusm_runtime_stats_get(rt, &st);
  printf("RUSM demo: a supervision-style process tree (fan-out %d, depth %d) on %u workers\n",
         FANOUT, DEPTH, st.workers);
  double t0 = now_s();
  if (!rusm_runtime_spawn(rt, root, NULL, 0, NULL)) return 1;
  while (!atomic_load(&tree_ready) && now_s() - t0 < 10) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  double t1 = now_s();
  long leaves = 1;
  for (int d = 0; d < DEPTH; d++) leaves *= FANOUT;
  long expect = leaves * (leaves + 1) / 2;
  printf("  tree built: %ld processes reported, leaf values sum to %ld (expected %ld) in %.1f ms\n",
         atomic_load(&tree_nodes), atomic_load(&tree_sum), expect, (t1 - t0) * 1e3);
  printf("  crashes seen: %ld, children restarted by their parent: %ld\n",
         atomic_load(&crashes_seen), atomic_load(&replaced));
  bool idle = rusm_runtime_wait_idle(rt, 20000);
  double t2 = now_s();
  rusm_runtime_stats_get(rt, &st);
  /* per round: the token fans out to every node below the root, and each
  ** leaf's reply climbs DEPTH hops back */
  long down = 0, level = 1;
  for (int d = 1; d <= DEPTH; d++) down += (level *= FANOUT);
  long rounds = atomic_load(&relayed) / leaves;
  long hops = rounds * (down + leaves * DEPTH);
  printf("  relay: %d rounds to all %ld leaves and back; %s; %llu spawned, %llu exited\n",
         RELAY_ROUNDS, leaves, idle ? "all processes ended" : "TIMED OUT",
         (unsigned long long)st.spawned_total, (unsigned long long)st.exited_total);
  printf("throughput: %ld messages in %.3f s = %.2f M msgs/s\n", hops, t2 - t1,
         (double)hops / (t2 - t1) / 1e6);
  rusm_runtime_stop(rt);
  bool ok = idle && atomic_load(&tree_sum) == expect && atomic_load(&replaced) == 1;
  return ok ? 0 : 1;
}
