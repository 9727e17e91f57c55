/*
** sup_pidmap.c -- open addressing with linear probing and backward-shift
** deletion (no tombstones, so heavy restart churn never degrades lookups).
*/
#include "sup_pidmap.h"

#include <stdbool.h>
#include <stdlib.h>

static size_t slot_of(uint64_t k, size_t mask)
{
  /* pids keep their entropy in the low index bits and the generation in
  ** the middle: mix them so that neighbours do not cluster. */
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (size_t)k & mask;
}

void sup_pidmap_free(sup_pidmap *m)
{
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->len = 0;
}

static int grow(sup_pidmap *m)
{
  size_t ncap = m->cap ? m->cap * 2 : 16;
  uint64_t *nk = calloc(ncap, sizeof *nk);
  void **nv = calloc(ncap, sizeof *nv);
  if (!nk || !nv) {
    free(nk);
    free(nv);
    return -1;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = slot_of(m->keys[i], ncap - 1);
    while (nk[j]) j = (j + 1) & (ncap - 1);
    nk[j] = m->keys[i];
    nv[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = nk;
  m->vals = nv;
  m->cap = ncap;
  return 0;
}

int sup_pidmap_put(sup_pidmap *m, uint64_t key, void *val)
{
  if (!key) return -1;
  /* load factor <= 1/2 keeps probe runs short */
  if ((m->len + 1) * 2 > m->cap && grow(m) != 0) return -1;
  size_t mask = m->cap - 1, i = slot_of(key, mask);
  while (m->keys[i]) {
    if (m->keys[i] == key) {
      m->vals[i] = val;
      return 0;
    }
    i = (i + 1) & mask;
  }
  m->keys[i] = key;
  m->vals[i] = val;
  m->len++;
  return 0;
}

void *sup_pidmap_get(const sup_pidmap *m, uint64_t key)
{
  if (!m->cap || !key) return NULL;
  size_t mask = m->cap - 1, i = slot_of(key, mask);
  while (m->keys[i]) {
    if (m->keys[i] == key) return m->vals[i];
    i = (i + 1) & mask;
  }
  return NULL;
}

void *sup_pidmap_del(sup_pidmap *m, uint64_t key)
{
  if (!m->cap || !key) return NULL;
  size_t mask = m->cap - 1, i = slot_of(key, mask);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & mask;
  if (!m->keys[i]) return NULL;
  void *val = m->vals[i];
  m->len--;
  /* Shift later members of the run back so that every key stays reachable
  ** from its home slot without tombstones. */
  size_t hole = i, j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!m->keys[j]) break;
    size_t home = slot_of(m->keys[j], mask);
    /* j may move into the hole if its home is not cyclically in (hole, j] */
    bool stay = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stay) continue;
    m->keys[hole] = m->keys[j];
    m->vals[hole] = m->vals[j];
    hole = j;
  }
  m->keys[hole] = 0;
  m->vals[hole] = NULL;
  return val;
}
