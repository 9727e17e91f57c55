/* hash: three hashes over a 64 KiB buffer: FNV-1a (byte loads, 32-bit
** multiply), table-driven CRC-32 and a 4-lane multiply-rotate hash over
** 64-bit words. Work per unit of n: one pass of each over the buffer. */
#include "kernel.h"

#define LEN 65536u
static uint8_t buf[LEN];
static uint32_t crc_table[256];

static uint32_t fnv1a(const uint8_t *p, uint32_t len) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

static uint32_t crc32(const uint8_t *p, uint32_t len) {
  uint32_t c = 0xffffffffu;
  for (uint32_t i = 0; i < len; i++) c = crc_table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return ~c;
}

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t lanes4(const uint8_t *p, uint32_t len) {
  const uint64_t k1 = 0x9E3779B185EBCA87ull, k2 = 0xC2B2AE3D27D4EB4Full;
  uint64_t v[4] = {k1 + k2, k2, 0, 0 - k1};
  for (uint32_t i = 0; i + 32 <= len; i += 32)
    for (int l = 0; l < 4; l++) {
      v[l] += load64(p + i + 8u * (uint32_t)l) * k2;
      v[l] = rotl64(v[l], 31) * k1;
    }
  uint64_t h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
  h ^= h >> 33;
  h *= k2;
  h ^= h >> 29;
  return h;
}

uint32_t run(uint32_t n) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  uint32_t s = 99;
  for (uint32_t i = 0; i < LEN; i++) buf[i] = (uint8_t)k_rand(&s);
  uint32_t acc = 0;
  for (uint32_t it = 0; it < n; it++) {
    uint32_t a = fnv1a(buf, LEN), b = crc32(buf, LEN);
    uint64_t c = lanes4(buf, LEN);
    acc = k_mix(acc, a);
    acc = k_mix(acc, b);
    acc = k_mix(acc, (uint32_t)c ^ (uint32_t)(c >> 32));
    buf[(acc >> 3) % LEN] ^= (uint8_t)acc; /* no two passes hash the same bytes */
  }
  return acc;
}
