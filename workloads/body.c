/* body.c — deterministic delayd bodies and their streaming verification. */
#include <string.h>

#include "workloads/body.h"

uint64_t cb_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Eight printable bytes ('!'..'~' is 94 characters) per block of the body. */
static void body_block(uint64_t seed, uint64_t block, unsigned char out[8]) {
  uint64_t x = cb_mix64(seed * 0x100000001b3ULL ^ cb_mix64(block));
  for (int k = 0; k < 8; k++) {
    out[k] = (unsigned char)('!' + (x & 0xff) % 94);
    x >>= 8;
  }
}

void cb_body_fill(uint64_t seed, uint64_t offset, unsigned char *out, size_t len) {
  unsigned char blk[8];
  while (len > 0) {
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

void cb_body_check_feed(cb_body_check *c, const void *data, size_t len) {
  const unsigned char *p = data;
  unsigned char want[256];
  while (len > 0) {
    size_t take = len < sizeof want ? len : sizeof want;
    cb_body_fill(c->seed, c->offset, want, take);
    if (memcmp(want, p, take) != 0) c->ok = 0;
    for (size_t k = 0; k < take; k++) c->digest = (c->digest ^ p[k]) * FNV_PRIME;
    c->offset += take;
    p += take;
    len -= take;
  }
}

uint64_t cb_body_digest(uint64_t seed, uint64_t len) {
  unsigned char buf[256];
  uint64_t d = FNV_OFFSET;
  for (uint64_t off = 0; off < len;) {
    size_t take = len - off < sizeof buf ? (size_t)(len - off) : sizeof buf;
    cb_body_fill(seed, off, buf, take);
    for (size_t k = 0; k < take; k++) d = (d ^ buf[k]) * FNV_PRIME;
    off += take;
  }
  return d;
}
