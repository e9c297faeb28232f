/* test_http_request.c — the shared request reader (common/http_request.h): requests
 * one at a time however the bytes are cut, pipelined ones kept in order, the
 * errors (400, 414, 431) final, bare LF line ends, and the query helpers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/http_request.h"

/* Feeds s in pieces of `piece` bytes (0: all at once) and collects the targets
 * ("T:target,keep_alive" per request, "E:status" for an error) into out. */
static void feed(const char *s, size_t piece, char *out, size_t cap) {
  static cb_http_reader r;
  cb_http_reader_init(&r);
  size_t n = strlen(s), off = 0;
  out[0] = '\0';
  while (off < n) {
    size_t k = piece && n - off > piece ? piece : n - off;
    size_t fed = cb_http_reader_feed(&r, s + off, k);
    cr_assert_gt(fed, 0, "no room in the reader");
    off += fed;
    for (;;) {
      cb_http_request h;
      int rc = cb_http_next(&r, &h);
      if (rc == 0) break;
      size_t len = strlen(out);
      if (rc == 1) {
        snprintf(out + len, cap - len, "T:%.*s,%d;", (int)h.target_len, h.target, h.keep_alive);
        continue;
      }
      cr_assert_eq(cb_http_next(&r, &h), rc, "an error is final");
      snprintf(out + len, cap - len, "E:%d;", rc);
      return;
    }
  }
}

static void expect(const char *in, const char *want) {
  char got[4096];
  for (size_t piece = 0; piece < 8; piece++) {
    feed(in, piece, got, sizeof got);
    cr_expect_str_eq(got, want, "piece %zu", piece);
  }
}

Test(http_request, one_request) { expect("GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", "T:/?a=1,1;"); }

Test(http_request, pipelined_in_order_with_keep_alive_flags) {
  expect("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nConnection: close\r\n\r\nGET /3 HTTP/1.0\r\n\r\n"
         "GET /4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
         "T:/1,1;T:/2,0;T:/3,0;T:/4,1;");
}

Test(http_request, bare_lf) { expect("GET /a HTTP/1.1\nHost: x\n\nGET /b HTTP/1.1\n\n", "T:/a,1;T:/b,1;"); }

Test(http_request, errors) {
  expect("POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", "E:400;");
  expect("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "E:400;");
  expect("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "E:400;");
  expect("GET / HTTP/2.0\r\n\r\n", "E:400;");
  expect("GET x HTTP/1.1\r\n\r\n", "E:400;");
  expect("GARBAGE\r\n\r\n", "E:400;");
  expect("GET /ok HTTP/1.1\r\n\r\nBAD\r\n\r\n", "T:/ok,1;E:400;");
}

Test(http_request, too_long) {
  static char big[CB_HTTP_HEAD_MAX + 100];
  memset(big, 'a', sizeof big - 1);
  memcpy(big, "GET /", 5);
  expect(big, "E:414;"); /* the target passes 4 KiB first */
  memset(big, 'h', sizeof big - 1);
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  char got[64];
  feed(big, 0, got, sizeof got);
  cr_expect_str_eq(got, "E:431;");
  /* a bad byte past 4 KiB of target: 414 however the bytes are cut (the parser
   * reports a target only at its end or at the end of what it was given) */
  static char bad[5100];
  memset(bad, 'a', sizeof bad - 1);
  memcpy(bad, "GET /", 5);
  bad[5000] = '\x01';
  expect(bad, "E:414;");
  memcpy(bad, "GET  /", 6); /* the parser takes two spaces before the target */
  expect(bad, "E:414;");
  bad[3000] = '\x01'; /* within 4 KiB: 400 */
  expect(bad, "E:400;");
}

Test(http_request, room_after_a_returned_request) {
  cb_http_reader r;
  cb_http_reader_init(&r);
  const char *two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  cb_http_reader_feed(&r, two, strlen(two));
  cb_http_request h;
  cr_assert_eq(cb_http_next(&r, &h), 1);
  cr_expect_eq(cb_http_reader_pending(&r), strlen(two) / 2);
  cr_expect_eq(memcmp(h.target, "/a", 2), 0, "the target stays valid until the next call");
  size_t room;
  cb_http_reader_room(&r, &room);
  cr_expect_eq(room, sizeof r.buf - strlen(two) / 2, "room drops the returned request");
  cr_assert_eq(cb_http_next(&r, &h), 1);
  cr_expect_eq(memcmp(h.target, "/b", 2), 0);
  cr_assert_eq(cb_http_next(&r, &h), 0);
  cr_expect_eq(cb_http_reader_pending(&r), 0);
}

Test(http_request, query_int) {
  const char *t = "/?bytes=12&seed=7&bytes=13";
  int64_t v = -1;
  cr_expect_eq(cb_http_query_int(t, strlen(t), "bytes", 100, &v), 1);
  cr_expect_eq(v, 13, "the last one counts");
  cr_expect_eq(cb_http_query_int(t, strlen(t), "seed", 100, &v), 1);
  cr_expect_eq(v, 7);
  v = -1;
  cr_expect_eq(cb_http_query_int(t, strlen(t), "ms", 100, &v), 0);
  cr_expect_eq(v, -1, "absent: untouched");
  cr_expect_eq(cb_http_query_int(t, strlen(t), "bytes", 12, &v), -EINVAL, "beyond max");
  static const char *const bad[] = {"/?a=", "/?a=-1", "/?a=1x", "/?a", "/?a=99999999999999999999999", "/?a=1&b"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    cr_expect_eq(cb_http_query_int(bad[k], strlen(bad[k]), "a", INT64_MAX, &v), -EINVAL, "%s", bad[k]);
  cr_expect_eq(cb_http_query_int("/", 1, "a", 10, &v), 0);
  cr_expect_eq(cb_http_query_int("/?", 2, "a", 10, &v), 0);
}

Test(http_request, query_check) {
  static const char *const keys[] = {"ms", "bytes", NULL};
  static const char *const ok[] = {"/", "/?", "/?ms=1", "/?bytes=2&ms=3", "/path?ms=1", "/?ms=1&"};
  static const char *const bad[] = {"/?seed=1", "/?ms=1&x=2", "/?ms", "/?ms=a", "/?ms=1&&ms=2", "/?=1"};
  for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
    cr_expect_eq(cb_http_query_check(ok[k], strlen(ok[k]), keys), 0, "%s", ok[k]);
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    cr_expect_eq(cb_http_query_check(bad[k], strlen(bad[k]), keys), -EINVAL, "%s", bad[k]);
}
