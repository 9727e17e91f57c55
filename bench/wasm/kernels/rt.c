/*
** rt.c -- the few libc symbols clang may call from freestanding code, for
** the wasm32 builds only (natively the C library provides them).
** Written byte-wise on purpose, and marked no_builtin so the compiler does
** not turn these loops back into calls to themselves.
*/
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);

__attribute__((no_builtin)) void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  uint32_t w = (uint8_t)c * 0x01010101u;
  while (n && ((uintptr_t)p & 3u)) { *p++ = (unsigned char)c; n--; }
  while (n >= 4) { *(uint32_t *)(void *)p = w; p += 4; n -= 4; }
  while (n) { *p++ = (unsigned char)c; n--; }
  return d;
}

__attribute__((no_builtin)) void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

__attribute__((no_builtin)) void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}
