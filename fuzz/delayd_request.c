/* delayd_request.c — libFuzzer target for the shared request reader
 * (common/http_request.h) as delayd uses it (servers/delayd/request.h).
 *
 * The input is a byte stream a client sends; the first byte picks how it is cut
 * into reads. It is fed twice, in those pieces and in pieces as large as the
 * buffer takes, checking the reader's contract each time: every request taken has
 * values within delayd's bounds, a "need more" answer leaves room in the buffer,
 * errors are 400, 414 or 431 and final; and both feedings must give the same
 * answers (how a client's bytes are split must not change what it gets).
 * Run by `make fuzz` (FUZZ_SECONDS, 60 by default), not by `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "servers/delayd/delayd.h"
#include "servers/delayd/request.h"

#define MAX_ANSWERS 4096

/* Feeds data in pieces of at most `piece` bytes (0: as many as fit) and records
 * each answer (1 per request with its values folded in, or the error status). */
static size_t feed(const uint8_t *data, size_t size, size_t piece, uint64_t *answers) {
  static cb_http_reader q;
  size_t n_ans = 0, off = 0;
  cb_http_reader_init(&q);
  while (off < size) {
    size_t room, n = size - off;
    char *at = cb_http_reader_room(&q, &room);
    CB_CHECK(room > 0);
    if (n > room) n = room;
    if (piece && n > piece) n = piece;
    memcpy(at, data + off, n);
    cb_http_reader_wrote(&q, n);
    off += n;
    for (;;) {
      cb__dreq_request r;
      int rc = cb__dreq_next(&q, &r);
      if (rc == 0) {
        CB_CHECK(cb_http_reader_pending(&q) < sizeof q.buf);
        break;
      }
      if (rc == 1) {
        CB_CHECK(r.ms >= 0 && r.ms <= CB_DELAYD_MAX_MS);
        CB_CHECK(r.bytes >= 0 && r.bytes <= CB_DELAYD_MAX_BYTES);
        CB_CHECK(r.seed >= 0 && (r.keep_alive == 0 || r.keep_alive == 1));
        if (n_ans < MAX_ANSWERS) answers[n_ans++] = (uint64_t)r.ms * 31 + (uint64_t)r.bytes * 17 + (uint64_t)r.seed * 7 + (uint64_t)r.keep_alive;
        continue;
      }
      CB_CHECK(rc == 400 || rc == 414 || rc == 431);
      CB_CHECK(cb__dreq_next(&q, &r) == rc); /* final */
      if (n_ans < MAX_ANSWERS) answers[n_ans++] = (uint64_t)rc << 48;
      return n_ans;
    }
  }
  return n_ans;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint64_t a[MAX_ANSWERS], b[MAX_ANSWERS];
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 64;
  size_t na = feed(data + 1, size - 1, piece, a);
  size_t nb = feed(data + 1, size - 1, 0, b);
  CB_CHECK(na == nb && memcmp(a, b, na * sizeof a[0]) == 0);
  return 0;
}
