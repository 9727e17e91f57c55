/*
** sup_pidmap.h -- a private map from a non-zero 64-bit key (a pid or a
** monitor reference) to a pointer, used by the supervisor to find a child
** from the EXIT or DOWN that names it in O(1), however many children.
*/
#ifndef RUSM_SUP_PIDMAP_H
#define RUSM_SUP_PIDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sup_pidmap {
  uint64_t *keys;   /* 0 = empty slot */
  void **vals;
  size_t cap;       /* power of two, or 0 before the first put */
  size_t len;
} sup_pidmap;

/* A zeroed sup_pidmap is empty and valid. Frees the table, not the values. */
void sup_pidmap_free(sup_pidmap *m);
/* Inserts or replaces; key must be non-zero. Returns 0, or -1 out of memory. */
int sup_pidmap_put(sup_pidmap *m, uint64_t key, void *val);
/* The value for key, or NULL. */
void *sup_pidmap_get(const sup_pidmap *m, uint64_t key);
/* Removes key; returns its value, or NULL if absent. */
void *sup_pidmap_del(sup_pidmap *m, uint64_t key);

#endif
