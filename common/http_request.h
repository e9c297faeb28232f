/* http_request.h — the one HTTP/1.x request reader (libhttp-parser) every server of
 * the project uses: delayd and the serve workload in both worlds.
 *
 * One per connection. Bytes go in at cb_http_reader_room; cb_http_next parses them
 * and returns complete requests one at a time, so pipelined requests wait in the
 * buffer. A request is a GET (HTTP/1.0 or 1.1) without a body; anything else is
 * answered with an error status and the reader is spent. Bare LF line ends are
 * accepted (RFC 9112 section 2.2). What the target means is the caller's: see
 * cb_http_query_int and cb_http_query_check. */
#ifndef CB_HTTP_REQUEST_H
#define CB_HTTP_REQUEST_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#define CB_HTTP_HEAD_MAX 8192 /* request line + headers; more gets 431 */
#define CB_HTTP_URL_MAX 4096  /* the request target; longer gets 414 */

typedef struct cb_http_request {
  const char *target; /* inside the reader's buffer: valid until the reader's next call */
  size_t target_len;
  int keep_alive;     /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
} cb_http_request;

typedef struct cb_http_reader {
  http_parser parser;
  size_t len;      /* bytes in buf */
  size_t parsed;   /* bytes of buf the parser has consumed */
  size_t done;     /* bytes of the request last returned, dropped at the next call */
  size_t url_off;  /* the current request's target: buf[url_off..url_off+url_len) */
  size_t url_len;
  int status;      /* an HTTP error status decided by a callback, or 0 */
  int complete;    /* the current request has been read to its end */
  int keep_alive;
  char buf[CB_HTTP_HEAD_MAX];
} cb_http_reader;

void cb_http_reader_init(cb_http_reader *r);

/* Where the next bytes go: *room bytes at the returned pointer; add what was
 * written with cb_http_reader_wrote. Drops the request last returned (its target
 * is gone afterwards). *room is 0 only while a returned request still waits to be
 * dropped behind a full buffer of pipelined ones: call cb_http_next first. */
char *cb_http_reader_room(cb_http_reader *r, size_t *room);
void cb_http_reader_wrote(cb_http_reader *r, size_t n);
/* Copies up to n bytes in; returns how many fit. */
size_t cb_http_reader_feed(cb_http_reader *r, const void *data, size_t n);

/* Parses what the buffer holds. Returns 1 when a complete request is at its front
 * (*out filled; it is dropped at the next call), 0 when more bytes are needed (the
 * buffer has room for them), or an HTTP status to answer before closing: 400
 * (malformed, not a GET, not HTTP/1.0 or 1.1, a body, an upgrade, a target not
 * starting with '/'), 414 (target longer than CB_HTTP_URL_MAX) or 431 (head longer
 * than CB_HTTP_HEAD_MAX). After an error every call returns it again. */
int cb_http_next(cb_http_reader *r, cb_http_request *out);

/* Bytes buffered and not yet returned as a request (a partial or pipelined one). */
size_t cb_http_reader_pending(const cb_http_reader *r);

/* The query of a target ("/path?k=v&k=v"): 1 with *out set when `name` is there
 * with a decimal value in [0, max] (the last one counts when it repeats), 0 when it
 * is absent (*out untouched), -EINVAL when its value is empty, not decimal digits or
 * beyond max. */
int cb_http_query_int(const char *target, size_t len, const char *name, int64_t max, int64_t *out);

/* 0 when every part of the target's query is KEY=DIGITS with KEY one of keys (a
 * NULL-terminated list), -EINVAL otherwise (an unknown key, a part without '=', a
 * value that is not decimal digits). No query is fine. */
int cb_http_query_check(const char *target, size_t len, const char *const keys[]);

#endif
