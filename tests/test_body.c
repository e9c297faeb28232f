/* test_body.c — delayd bodies: printable, the same bytes at any offset, and a
 * streaming check that agrees with the digest however the body is cut and that
 * notices a single flipped bit. */
#include <criterion/criterion.h>
#include <string.h>

#include "workloads/body.h"

TestSuite(body, .timeout = 30);

Test(body, fill_is_printable_and_offset_independent) {
  static unsigned char whole[20000], part[20000];
  for (uint64_t seed = 1; seed < 60; seed++) {
    size_t len = 1 + (size_t)(cb_mix64(seed) % 19999);
    cb_body_fill(seed, 0, whole, len);
    for (size_t k = 0; k < len; k++) cr_assert(whole[k] >= '!' && whole[k] <= '`', "seed %llu byte %zu = %d", (unsigned long long)seed, k, whole[k]);
    size_t off = (size_t)(cb_mix64(seed + 7) % len);
    cb_body_fill(seed, off, part, len - off);
    cr_assert(memcmp(part, whole + off, len - off) == 0, "seed %llu: fill at offset %zu differs", (unsigned long long)seed, off);
  }
  unsigned char a[64], b[64];
  cb_body_fill(1, 0, a, sizeof a);
  cb_body_fill(2, 0, b, sizeof b);
  cr_expect(memcmp(a, b, sizeof a) != 0, "two seeds gave the same body");
}

Test(body, chunked_check_matches_the_digest_and_catches_a_flipped_bit) {
  static unsigned char body[20000];
  for (uint64_t seed = 1; seed < 60; seed++) {
    size_t len = 1 + (size_t)(cb_mix64(seed ^ 0x55) % 19999);
    cb_body_fill(seed, 0, body, len);
    cb_body_check c;
    cb_body_check_init(&c, seed);
    for (size_t at = 0; at < len;) {
      size_t n = 1 + (size_t)(cb_mix64(at ^ seed) % 37);
      if (n > len - at) n = len - at;
      cb_body_check_feed(&c, body + at, n);
      at += n;
    }
    cr_expect(c.ok, "seed %llu: a correct body failed the check", (unsigned long long)seed);
    cr_expect_eq(c.offset, len);
    cr_expect_eq(c.digest, cb_body_digest(seed, len), "seed %llu: digest differs", (unsigned long long)seed);
    body[len / 2] ^= 1;
    cb_body_check_init(&c, seed);
    cb_body_check_feed(&c, body, len);
    cr_expect_not(c.ok, "seed %llu: a flipped bit went unnoticed", (unsigned long long)seed);
  }
}
