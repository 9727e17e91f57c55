/*
** registry.c -- the local name registry: name -> pid, at most one name per
** process, released when the process exits.  A chained hash table under a
** reader/writer lock (lookups share it).  The entry points at the process
** struct, which stays valid while the entry exists because a process removes
** its own entry before its struct is retired.
*/
#include "internal.h"

#include <stdio.h>

typedef struct ru_regent {
  struct ru_regent *next;
  ru_proc *p;
  rusm_pid pid;
  char name[];
} ru_regent;

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
  return h;
}

static ru_regent **find_slot(rusm_runtime *rt, const char *name) {
  if (!rt->reg_cap) return NULL;
  ru_regent **e = &rt->reg[hash_str(name) & (rt->reg_cap - 1)];
  while (*e && strcmp((*e)->name, name) != 0) e = &(*e)->next;
  return e;
}

static bool grow(rusm_runtime *rt) {
  size_t ncap = rt->reg_cap ? rt->reg_cap * 2 : 64;
  ru_regent **nb = calloc(ncap, sizeof *nb);
  if (!nb) return false;
  for (size_t i = 0; i < rt->reg_cap; i++) {
    ru_regent *e = rt->reg[i];
    while (e) {
      ru_regent *n = e->next;
      size_t b = hash_str(e->name) & (ncap - 1);
      e->next = nb[b];
      nb[b] = e;
      e = n;
    }
  }
  free(rt->reg);
  rt->reg = nb;
  rt->reg_cap = ncap;
  return true;
}

static bool name_ok(const char *name) {
  if (!name || !*name) return false;
  size_t n = strlen(name);
  return n < 64;
}

int rusm_register(rusm_runtime *rt, const char *name, rusm_pid pid) {
  if (!rt || !name_ok(name)) return -4;
  ru_worker *w = ru_worker_of(rt);
  pthread_rwlock_wrlock(&rt->reg_lock);
  int rc = 0;
  ru_regent **slot = find_slot(rt, name);
  if (slot && *slot) {
    rc = -1;
    goto out;
  }
  if (!w) ru_foreign_enter(rt);
  ru_proc *p = ru_lookup(rt, pid);
  if (!p) {
    rc = -2;
  } else if (atomic_load(&p->name)) {
    rc = -3;
  } else if (rt->reg_len * 2 >= rt->reg_cap && !grow(rt)) {
    rc = -4;
  } else {
    size_t n = strlen(name) + 1;
    ru_regent *e = malloc(sizeof *e + n);
    if (!e) {
      rc = -4;
    } else {
      memcpy(e->name, name, n);
      e->p = p;
      e->pid = pid;
      slot = find_slot(rt, name);
      e->next = NULL;
      *slot = e;
      rt->reg_len++;
      atomic_store(&p->name, e->name);
    }
  }
  if (!w) ru_foreign_leave(rt);
out:
  pthread_rwlock_unlock(&rt->reg_lock);
  return rc;
}

static void remove_entry(rusm_runtime *rt, ru_regent **slot) {
  ru_regent *e = *slot;
  *slot = e->next;
  rt->reg_len--;
  atomic_store(&e->p->name, NULL);
  free(e);
}

int rusm_unregister(rusm_runtime *rt, const char *name) {
  if (!rt || !name_ok(name)) return -4;
  pthread_rwlock_wrlock(&rt->reg_lock);
  ru_regent **slot = find_slot(rt, name);
  int rc = -2;
  if (slot && *slot) {
    remove_entry(rt, slot);
    rc = 0;
  }
  pthread_rwlock_unlock(&rt->reg_lock);
  return rc;
}

void ru_unregister_proc(rusm_runtime *rt, ru_proc *p) {
  /* Pairs with rusm_register: the slot was cleared (seq_cst) before this
  ** load, so a register that did not see the clear has stored the name. */
  if (!atomic_load(&p->name)) return;
  pthread_rwlock_wrlock(&rt->reg_lock);
  char *name = atomic_load(&p->name);
  if (name) {
    ru_regent **slot = find_slot(rt, name);
    if (slot && *slot) remove_entry(rt, slot);
  }
  pthread_rwlock_unlock(&rt->reg_lock);
}

rusm_pid rusm_whereis(rusm_runtime *rt, const char *name) {
  if (!rt || !name_ok(name)) return 0;
  pthread_rwlock_rdlock(&rt->reg_lock);
  ru_regent **slot = find_slot(rt, name);
  rusm_pid pid = (slot && *slot) ? (*slot)->pid : 0;
  pthread_rwlock_unlock(&rt->reg_lock);
  return pid;
}

int rusm_send_named(const char *name, const void *data, size_t len) {
  ru_proc *p = ru_cur_proc();
  if (!p || !name) return -1;
  rusm_pid pid = rusm_whereis(p->rt, name);
  if (!pid) return -2;
  return rusm_send(pid, data, len);
}

size_t rusm_registered(rusm_runtime *rt, char **out, size_t max) {
  if (!rt) return 0;
  pthread_rwlock_rdlock(&rt->reg_lock);
  size_t n = 0;
  for (size_t i = 0; i < rt->reg_cap; i++) {
    for (ru_regent *e = rt->reg[i]; e; e = e->next) {
      if (out && n < max) out[n] = strdup(e->name);
      n++;
    }
  }
  pthread_rwlock_unlock(&rt->reg_lock);
  return n;
}

bool ru_proc_name_copy(rusm_runtime *rt, ru_proc *p, char *buf, size_t size) {
  pthread_rwlock_rdlock(&rt->reg_lock);
  char *name = atomic_load(&p->name);
  if (name) snprintf(buf, size, "%s", name);
  else if (size) buf[0] = 0;
  pthread_rwlock_unlock(&rt->reg_lock);
  return name != NULL;
}

void ru_registry_destroy(rusm_runtime *rt) {
  for (size_t i = 0; i < rt->reg_cap; i++) {
    ru_regent *e = rt->reg[i];
    while (e) {
      ru_regent *n = e->next;
      free(e);
      e = n;
    }
  }
  free(rt->reg);
  rt->reg = NULL;
  rt->reg_cap = rt->reg_len = 0;
}
