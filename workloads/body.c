/* body.c — deterministic delayd bodies and their streaming verification.
 *
 * Body bytes come in 8-byte blocks: block b of seed S is a cheap mix of key(S)
 * and b (block_word), each byte one of the 64 printable characters '!'..'`'.
 * The digest of a body is the position-weighted sum over its little-endian
 * 64-bit words, Σ word_b × (2b + 1) mod 2^64: a sum, so it can be fed in chunks
 * cut anywhere and costs one multiply per 8 bytes with no serial chain. The byte-for-byte comparison is what proves a body right; the
 * digest binds the job's result to the bytes it received. */
#include <string.h>

#include "workloads/body.h"

uint64_t cb_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static uint64_t seed_key(uint64_t seed) { return cb_mix64(seed * 0x100000001b3ULL); }

/* Block b of the body whose seed_key is key, as a little-endian word: a Weyl step
 * and one multiply-xorshift round (48 random-looking bits per block, so a block
 * from another offset or seed mismatches with probability 1 - 2^-48; no serial
 * chain, about 1 ns), each byte's low six bits then moved into '!'..'`'. */
static inline uint64_t block_word(uint64_t key, uint64_t b) {
  uint64_t x = key + b * 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 32)) * 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return (x & 0x3f3f3f3f3f3f3f3fULL) + 0x2121212121212121ULL;
}

/* Little-endian 64-bit load and store; one instruction each on little-endian
 * machines (gcc 12 does not merge the byte loops at -O2, hence the memcpy). */
static inline uint64_t load_le64(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

static inline void store_le64(unsigned char *p, uint64_t w) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  memcpy(p, &w, 8);
}

/* The digest contribution of byte value v at body offset off. */
static inline uint64_t byte_term(unsigned char v, uint64_t off) {
  return ((uint64_t)v << (8 * (off % 8))) * (2 * (off / 8) + 1);
}

void cb_body_fill(uint64_t seed, uint64_t offset, unsigned char *out, size_t len) {
  uint64_t key = seed_key(seed);
  while (len > 0 && offset % 8 != 0) {
    *out++ = (unsigned char)(block_word(key, offset / 8) >> (8 * (offset % 8)));
    offset++;
    len--;
  }
  for (; len >= 8; len -= 8, out += 8, offset += 8) store_le64(out, block_word(key, offset / 8));
  if (len > 0) {
    uint64_t w = block_word(key, offset / 8);
    for (size_t k = 0; k < len; k++) out[k] = (unsigned char)(w >> (8 * k));
  }
}

void cb_body_check_init(cb_body_check *c, uint64_t seed) {
  c->seed = seed;
  c->offset = 0;
  c->digest = 0;
  c->ok = 1;
}

void cb_body_check_feed(cb_body_check *c, const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t key = seed_key(c->seed), off = c->offset, d = c->digest, diff = 0;
  while (len > 0 && off % 8 != 0) { /* up to the next block boundary */
    diff |= (uint64_t)(*p ^ (unsigned char)(block_word(key, off / 8) >> (8 * (off % 8))));
    d += byte_term(*p, off);
    p++, off++, len--;
  }
  for (; len >= 8; len -= 8, p += 8, off += 8) { /* whole blocks: compare and sum */
    uint64_t b = off / 8, got = load_le64(p);
    diff |= got ^ block_word(key, b);
    d += got * (2 * b + 1);
  }
  for (size_t k = 0; k < len; k++, off++) {
    diff |= (uint64_t)(p[k] ^ (unsigned char)(block_word(key, off / 8) >> (8 * (off % 8))));
    d += byte_term(p[k], off);
  }
  if (diff) c->ok = 0;
  c->digest = d;
  c->offset = off;
}

uint64_t cb_body_digest(uint64_t seed, uint64_t len) {
  uint64_t key = seed_key(seed), d = 0, nblocks = len / 8;
  for (uint64_t b = 0; b < nblocks; b++) d += block_word(key, b) * (2 * b + 1);
  uint64_t w = block_word(key, nblocks);
  for (uint64_t off = 8 * nblocks; off < len; off++) d += byte_term((unsigned char)(w >> (8 * (off % 8))), off);
  return d;
}
