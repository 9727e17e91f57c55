/*
** sup_pidmap.h -- the supervisor's map from a non-zero 64-bit key (a pid or
** a monitor reference) to a child, so that the EXIT or DOWN naming a child
** finds it in O(1) however many children there are.  A typed view of the
** core's u64 map (map.c): one hash map implementation serves links,
** monitors and supervisors.
*/
#ifndef RUSM_SUP_PIDMAP_H
#define RUSM_SUP_PIDMAP_H

#include "internal.h"

typedef ru_map sup_pidmap;

/* A zeroed sup_pidmap is empty and valid. Frees the table, not the values. */
static inline void sup_pidmap_free(sup_pidmap *m) { ru_map_free(m); }

/* Inserts or replaces; key must be non-zero. Returns 0, or -1 out of memory. */
static inline int sup_pidmap_put(sup_pidmap *m, uint64_t key, void *val) {
  return ru_map_put(m, key, (uint64_t)(uintptr_t)val) ? 0 : -1;
}

/* The value for key, or NULL. */
static inline void *sup_pidmap_get(const sup_pidmap *m, uint64_t key) {
  uint64_t v;
  return ru_map_get(m, key, &v) ? (void *)(uintptr_t)v : NULL;
}

/* Removes key; returns its value, or NULL if absent. */
static inline void *sup_pidmap_del(sup_pidmap *m, uint64_t key) {
  uint64_t v;
  return ru_map_del(m, key, &v) ? (void *)(uintptr_t)v : NULL;
}

#endif
