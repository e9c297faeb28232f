/* body.c — deterministic delayd bodies and their streaming verification. */
#include <string.h>

#include "workloads/body.h"

uint64_t cb_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* '!' + b % 94 for every byte value b, built by the preprocessor. */
#define P1(b) (unsigned char)('!' + (b) % 94)
#define P4(b) P1(b), P1((b) + 1), P1((b) + 2), P1((b) + 3)
#define P16(b) P4(b), P4((b) + 4), P4((b) + 8), P4((b) + 12)
#define P64(b) P16(b), P16((b) + 16), P16((b) + 32), P16((b) + 48)
static const unsigned char printable[256] = {P64(0), P64(64), P64(128), P64(192)};

/* Eight printable bytes ('!'..'~' is 94 characters) per block of the body. */
static inline void body_block(uint64_t seed, uint64_t block, unsigned char out[8]) {
  uint64_t x = cb_mix64(seed * 0x100000001b3ULL ^ cb_mix64(block));
  for (int k = 0; k < 8; k++) {
    out[k] = printable[x & 0xff];
    x >>= 8;
  }
}

/* Cost: about 1.5 cycles per byte (two independent mixes per 8 bytes and a
 * table lookup per byte); whole aligned blocks are written in place. */
void cb_body_fill(uint64_t seed, uint64_t offset, unsigned char *out, size_t len) {
  unsigned char blk[8];
  while (len > 0) {
    if (offset % 8 == 0 && len >= 8) {
      uint64_t block = offset / 8, nblocks = len / 8;
      for (uint64_t b = 0; b < nblocks; b++) body_block(seed, block + b, out + 8 * b);
      out += 8 * nblocks;
      offset += 8 * nblocks;
      len -= 8 * nblocks;
      continue;
    }
    uint64_t block = offset / 8;
    size_t within = (size_t)(offset % 8);
    size_t take = 8 - within < len ? 8 - within : len;
    body_block(seed, block, blk);
    memcpy(out, blk + within, take);
    out += take;
    offset += take;
    len -= take;
  }
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

void cb_body_check_init(cb_body_check *c, uint64_t seed) {
  c->seed = seed;
  c->offset = 0;
  c->digest = FNV_OFFSET;
  c->ok = 1;
}

/* FNV-1a over n bytes: the one serial chain (about 4 cycles a byte) that every
 * verified byte pays; the fused loops below let block generation overlap it. */
static inline uint64_t fnv(uint64_t d, const unsigned char *p, size_t n) {
  for (size_t k = 0; k < n; k++) d = (d ^ p[k]) * FNV_PRIME;
  return d;
}



void cb_body_check_feed(cb_body_check *c, const void *data, size_t len) {
  const unsigned char *p = data;
  unsigned char want[256];
  while (len > 0) {
    if (c->offset % 8 == 0 && len >= 8) { /* whole blocks: generate, compare, hash in one pass */
      uint64_t block = c->offset / 8, nblocks = len / 8, d = c->digest;
      unsigned char diff = 0;
      for (uint64_t b = 0; b < nblocks; b++, p += 8) {
        body_block(c->seed, block + b, want);
        for (int k = 0; k < 8; k++) diff |= want[k] ^ p[k];
        d = fnv(d, p, 8);
      }
      if (diff) c->ok = 0;
      c->digest = d;
      c->offset += 8 * nblocks;
      len -= 8 * nblocks;
      continue;
    }
    size_t take = len < 8 - c->offset % 8 ? len : 8 - c->offset % 8;
    cb_body_fill(c->seed, c->offset, want, take);
    if (memcmp(want, p, take) != 0) c->ok = 0;
    c->digest = fnv(c->digest, p, take);
    c->offset += take;
    p += take;
    len -= take;
  }
}

uint64_t cb_body_digest(uint64_t seed, uint64_t len) {
  unsigned char blk[8];
  uint64_t d = FNV_OFFSET, nblocks = len / 8;
  for (uint64_t b = 0; b < nblocks; b++) {
    body_block(seed, b, blk);
    d = fnv(d, blk, 8);
  }
  cb_body_fill(seed, 8 * nblocks, blk, (size_t)(len % 8));
  return fnv(d, blk, (size_t)(len % 8));
}
