/* body.h — the bytes delayd serves for a seed, reproducible by any client.
 * Byte k of the body for seed S is a printable character that depends only on
 * (S, k), so a client verifies a body without the server's help. */
#ifndef CB_BODY_H
#define CB_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Fills out[0..len) with body bytes offset..offset+len of seed. */
void cb_body_fill(uint64_t seed, uint64_t offset, unsigned char *out, size_t len);

/* Streaming verifier: feed received bytes in order; ok stays 1 while they match. */
typedef struct cb_body_check {
  uint64_t seed, offset, digest;
  int ok;
} cb_body_check;

void cb_body_check_init(cb_body_check *c, uint64_t seed);
void cb_body_check_feed(cb_body_check *c, const void *data, size_t len);

/* Digest of the first len bytes of seed's body (what a verified fetch yields). */
uint64_t cb_body_digest(uint64_t seed, uint64_t len);

uint64_t cb_mix64(uint64_t x); /* splitmix64 finaliser */

#endif
