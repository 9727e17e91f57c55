/* lz: a small LZ77 byte compressor and decompressor written here (greedy
** matching through a hash table of 3-byte prefixes; tokens of literal run
** + match length + 16-bit distance), over 64 KiB of generated word text.
** Byte loads and stores, hashing, short copies, data-dependent branches.
** Work per unit of n: compress, decompress and compare the buffer (a few
** bytes changed each time). */
#include "kernel.h"

#define LEN 65536u
#define HBITS 12u
#define MINMATCH 4u
static uint8_t text[LEN], packed[LEN + LEN / 8 + 64], unpacked[LEN];
static uint32_t head[1u << HBITS];

static inline uint32_t hash3(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
  return (v * 2654435761u) >> (32u - HBITS);
}

static uint8_t *put_len(uint8_t *o, uint32_t extra) { /* the part of a length past 15 */
  while (extra >= 255u) {
    *o++ = 255u;
    extra -= 255u;
  }
  *o++ = (uint8_t)extra;
  return o;
}

static uint8_t *emit(uint8_t *o, const uint8_t *lit, uint32_t nlit, uint32_t mlen, uint32_t dist) {
  uint32_t ml = mlen ? mlen - MINMATCH : 0;
  uint8_t *tok = o++;
  *tok = (uint8_t)((nlit < 15u ? nlit : 15u) << 4 | (ml < 15u ? ml : 15u));
  if (nlit >= 15u) o = put_len(o, nlit - 15u);
  for (uint32_t i = 0; i < nlit; i++) *o++ = lit[i];
  if (mlen) {
    *o++ = (uint8_t)dist;
    *o++ = (uint8_t)(dist >> 8);
    if (ml >= 15u) o = put_len(o, ml - 15u);
  }
  return o;
}

static uint32_t compress(const uint8_t *in, uint32_t len, uint8_t *out) {
  for (uint32_t i = 0; i < (1u << HBITS); i++) head[i] = 0xffffffffu;
  uint8_t *o = out;
  uint32_t i = 0, lit = 0;
  while (i + MINMATCH <= len) {
    uint32_t h = hash3(in + i), cand = head[h];
    head[h] = i;
    uint32_t mlen = 0;
    if (cand != 0xffffffffu && i - cand <= 0xffffu) {
      while (i + mlen < len && in[cand + mlen] == in[i + mlen]) mlen++;
    }
    if (mlen >= MINMATCH) {
      o = emit(o, in + lit, i - lit, mlen, i - cand);
      for (uint32_t k = i + 1; k < i + mlen && k + 3 <= len; k++) head[hash3(in + k)] = k;
      i += mlen;
      lit = i;
    } else {
      i++;
    }
  }
  o = emit(o, in + lit, len - lit, 0, 0);
  return (uint32_t)(o - out);
}

static uint32_t get_len(const uint8_t **pp, uint32_t base) {
  const uint8_t *p = *pp;
  if (base == 15u) {
    uint8_t b;
    do {
      b = *p++;
      base += b;
    } while (b == 255u);
  }
  *pp = p;
  return base;
}

static uint32_t decompress(const uint8_t *in, uint32_t n, uint8_t *out) {
  const uint8_t *p = in, *end = in + n;
  uint8_t *o = out;
  while (p < end) {
    uint8_t tok = *p++;
    uint32_t nlit = get_len(&p, tok >> 4);
    for (uint32_t k = 0; k < nlit; k++) *o++ = *p++;
    if (p >= end) break;
    uint32_t dist = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    p += 2;
    uint32_t mlen = get_len(&p, tok & 15u) + MINMATCH;
    const uint8_t *from = o - dist;
    for (uint32_t k = 0; k < mlen; k++) o[k] = from[k]; /* may overlap: byte by byte */
    o += mlen;
  }
  return (uint32_t)(o - out);
}

uint32_t run(uint32_t n) {
  static const char *const words[] = {"actor ", "mailbox ", "process ", "link ", "monitor ", "the ",
                                      "a ", "of ", "supervisor ", "restart ", "message ", "queue ",
                                      "scheduler ", "wasm ", "fuel ", "trap ", "\n"};
  uint32_t s = 5150, o = 0;
  while (o < LEN) {
    const char *w = words[k_rand(&s) % (sizeof words / sizeof words[0])];
    while (*w && o < LEN) text[o++] = (uint8_t)*w++;
  }
  uint32_t acc = 0;
  for (uint32_t it = 0; it < n; it++) {
    for (int k = 0; k < 8; k++) text[k_rand(&s) % LEN] = (uint8_t)('a' + k_rand(&s) % 26u);
    uint32_t c = compress(text, LEN, packed);
    uint32_t d = decompress(packed, c, unpacked);
    uint32_t bad = d != LEN;
    for (uint32_t k = 0; k < LEN && !bad; k++) bad = unpacked[k] != text[k];
    acc = k_mix(acc, c);
    acc = k_mix(acc, bad ? 0xbadu : unpacked[(acc >> 5) % LEN]);
  }
  return acc;
}
