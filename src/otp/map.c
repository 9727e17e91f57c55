/*
** map.c -- a small open-addressing hash map from non-zero u64 keys to u64
** values, used for a process's links (a pid set) and monitors (ref -> pid).
** Most processes have none or one, so an empty map allocates nothing and a
** single entry lives inline; a parent linked to 100,000 children still adds
** and removes in O(1).
** Deletion shifts back the following cluster, so there are no tombstones.
*/
#include "internal.h"

static inline uint32_t hash64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (uint32_t)k;
}

static bool grow(ru_map *m) {
  uint32_t ncap = m->cap ? m->cap * 2 : 4;
  uint64_t *nk = calloc(ncap, sizeof *nk);
  uint64_t *nv = malloc(ncap * sizeof *nv);
  if (!nk || !nv) {
    free(nk);
    free(nv);
    return false;
  }
  if (!m->cap && m->len) {
    uint32_t j = hash64(m->k1) & (ncap - 1);
    nk[j] = m->k1;
    nv[j] = m->v1;
  }
  for (uint32_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    uint32_t j = hash64(m->keys[i]) & (ncap - 1);
    while (nk[j]) j = (j + 1) & (ncap - 1);
    nk[j] = m->keys[i];
    nv[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = nk;
  m->vals = nv;
  m->cap = ncap;
  return true;
}

bool ru_map_put(ru_map *m, uint64_t k, uint64_t v) {
  if (!m->cap) {
    if (!m->len || m->k1 == k) {
      m->k1 = k;
      m->v1 = v;
      m->len = 1;
      return true;
    }
    if (!grow(m)) return false;
  } else if ((m->len + 1) * 4 > m->cap * 3 && !grow(m)) {
    return false;
  }
  uint32_t mask = m->cap - 1;
  uint32_t i = hash64(k) & mask;
  while (m->keys[i]) {
    if (m->keys[i] == k) {
      m->vals[i] = v;
      return true;
    }
    i = (i + 1) & mask;
  }
  m->keys[i] = k;
  m->vals[i] = v;
  m->len++;
  return true;
}

bool ru_map_get(const ru_map *m, uint64_t k, uint64_t *v) {
  if (!m->len) return false;
  if (!m->cap) {
    if (m->k1 != k) return false;
    if (v) *v = m->v1;
    return true;
  }
  uint32_t mask = m->cap - 1;
  uint32_t i = hash64(k) & mask;
  while (m->keys[i]) {
    if (m->keys[i] == k) {
      if (v) *v = m->vals[i];
      return true;
    }
    i = (i + 1) & mask;
  }
  return false;
}

bool ru_map_del(ru_map *m, uint64_t k, uint64_t *v) {
  if (!m->len) return false;
  if (!m->cap) {
    if (m->k1 != k) return false;
    if (v) *v = m->v1;
    m->k1 = m->v1 = 0;
    m->len = 0;
    return true;
  }
  uint32_t mask = m->cap - 1;
  uint32_t i = hash64(k) & mask;
  while (m->keys[i] != k) {
    if (!m->keys[i]) return false;
    i = (i + 1) & mask;
  }
  if (v) *v = m->vals[i];
  m->keys[i] = 0;
  m->len--;
  /* backward-shift: re-place every key of the cluster after the hole */
  uint32_t j = (i + 1) & mask;
  while (m->keys[j]) {
    uint64_t kk = m->keys[j], vv = m->vals[j];
    m->keys[j] = 0;
    uint32_t h = hash64(kk) & mask;
    while (m->keys[h]) h = (h + 1) & mask;
    m->keys[h] = kk;
    m->vals[h] = vv;
    j = (j + 1) & mask;
  }
  return true;
}

void ru_map_free(ru_map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}
