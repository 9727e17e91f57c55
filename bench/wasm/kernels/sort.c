/* sort: quicksort (median of three, insertion sort for short ranges,
** explicit stack) of 40000 u32 and heapsort of 16000 u32. Work per unit
** of n: fill both arrays from a generator, sort both, sample the results. */
#include "kernel.h"

#define QN 40000
#define HN 16000
static uint32_t qa[QN], ha[HN];

static void insertion(uint32_t *a, int lo, int hi) {
  for (int i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    int j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static inline void swap(uint32_t *a, int i, int j) {
  uint32_t t = a[i];
  a[i] = a[j];
  a[j] = t;
}

static void quicksort(uint32_t *a, int n) {
  int stack[128], sp = 0;
  stack[sp++] = 0;
  stack[sp++] = n - 1;
  while (sp) {
    int hi = stack[--sp], lo = stack[--sp];
    while (hi - lo > 16) {
      int mid = lo + (hi - lo) / 2;
      if (a[mid] < a[lo]) swap(a, mid, lo);
      if (a[hi] < a[lo]) swap(a, hi, lo);
      if (a[hi] < a[mid]) swap(a, hi, mid);
      uint32_t pivot = a[mid];
      int i = lo, j = hi;
      while (i <= j) {
        while (a[i] < pivot) i++;
        while (a[j] > pivot) j--;
        if (i <= j) swap(a, i++, j--);
      }
      /* recurse (push) into the larger part, loop on the smaller */
      if (j - lo > hi - i) {
        stack[sp++] = lo;
        stack[sp++] = j;
        lo = i;
      } else {
        stack[sp++] = i;
        stack[sp++] = hi;
        hi = j;
      }
    }
    insertion(a, lo, hi);
  }
}

static void sift(uint32_t *a, int root, int n) {
  uint32_t v = a[root];
  for (;;) {
    int child = 2 * root + 1;
    if (child >= n) break;
    if (child + 1 < n && a[child + 1] > a[child]) child++;
    if (a[child] <= v) break;
    a[root] = a[child];
    root = child;
  }
  a[root] = v;
}

static void heapsort(uint32_t *a, int n) {
  for (int i = n / 2 - 1; i >= 0; i--) sift(a, i, n);
  for (int end = n - 1; end > 0; end--) {
    swap(a, 0, end);
    sift(a, 0, end);
  }
}

uint32_t run(uint32_t n) {
  uint32_t acc = 0, s = 2024;
  for (uint32_t it = 0; it < n; it++) {
    for (int i = 0; i < QN; i++) qa[i] = k_rand(&s) % 1000000u;
    for (int i = 0; i < HN; i++) ha[i] = k_rand(&s);
    quicksort(qa, QN);
    heapsort(ha, HN);
    uint32_t bad = 0;
    for (int i = 1; i < QN; i++) bad += qa[i - 1] > qa[i];
    for (int i = 1; i < HN; i++) bad += ha[i - 1] > ha[i];
    for (int i = 0; i < QN; i += 997) acc = k_mix(acc, qa[i]);
    for (int i = 0; i < HN; i += 499) acc = k_mix(acc, ha[i]);
    acc = k_mix(acc, bad);
  }
  return acc;
}
