/* bintree: allocation-heavy work with a small allocator written here:
** segregated free lists (16-byte size classes up to 256 bytes) over a bump
** region of a static 8 MiB heap. One long-lived tree of depth 14, then per
** unit of n: build a tree of depth 10 with variable-size nodes, walk it,
** free it, and replace one path of the long-lived tree. */
#include "kernel.h"

#define HEAP_SIZE (8u << 20)
#define NCLASS 16
static _Alignas(16) uint8_t heap[HEAP_SIZE];
static uint32_t bump, nallocs;
typedef struct free_block { struct free_block *next; } free_block;
static free_block *free_list[NCLASS];

/* Each block has a 16-byte header holding its size class. */
static void *k_malloc(uint32_t size) {
  uint32_t cls = (size + 15u) / 16u; /* 1..16 */
  if (cls == 0 || cls > NCLASS) return 0;
  nallocs++;
  free_block *b = free_list[cls - 1];
  if (b) {
    free_list[cls - 1] = b->next;
    return b;
  }
  uint32_t need = 16u + cls * 16u;
  if (bump + need > HEAP_SIZE) return 0;
  uint8_t *p = heap + bump;
  bump += need;
  *(uint32_t *)(void *)p = cls;
  return p + 16;
}

static void k_free(void *p) {
  if (!p) return;
  uint32_t cls = *(uint32_t *)(void *)((uint8_t *)p - 16);
  free_block *b = p;
  b->next = free_list[cls - 1];
  free_list[cls - 1] = b;
}

typedef struct node {
  struct node *left, *right;
  uint32_t value;
  uint32_t npayload;
  uint32_t payload[];
} node;

static uint32_t seed;

static node *build(int depth, uint32_t v) {
  uint32_t extra = k_rand(&seed) % 8u;
  node *t = k_malloc((uint32_t)sizeof(node) + extra * 4u);
  if (!t) return 0;
  t->value = v;
  t->npayload = extra;
  for (uint32_t i = 0; i < extra; i++) t->payload[i] = v + i;
  if (depth > 0) {
    t->left = build(depth - 1, v * 2u);
    t->right = build(depth - 1, v * 2u + 1u);
  } else {
    t->left = t->right = 0;
  }
  return t;
}

static uint32_t check(const node *t) {
  if (!t) return 0;
  uint32_t h = t->value;
  for (uint32_t i = 0; i < t->npayload; i++) h += t->payload[i] >> 1;
  return h + 3u * check(t->left) + check(t->right);
}

static void release(node *t) {
  if (!t) return;
  release(t->left);
  release(t->right);
  k_free(t);
}

uint32_t run(uint32_t n) {
  bump = 0;
  nallocs = 0;
  for (int i = 0; i < NCLASS; i++) free_list[i] = 0;
  seed = 4242;
  node *keep = build(14, 1);
  uint32_t acc = check(keep);
  for (uint32_t it = 0; it < n; it++) {
    node *t = build(10, it);
    acc = k_mix(acc, check(t));
    release(t);
    /* replace a subtree of the long-lived tree: a mix of ages in the heap */
    node **slot = &keep;
    for (int d = 0; d < 8 && *slot; d++) slot = ((it >> d) & 1u) ? &(*slot)->right : &(*slot)->left;
    release(*slot);
    *slot = build(14 - 8, it);
  }
  acc = k_mix(acc, check(keep));
  release(keep);
  /* (not bump: node sizes differ between 32- and 64-bit targets) */
  return k_mix(acc, nallocs);
}
