/* request.h — delayd's request reader (private to servers/delayd and its fuzz target).
 *
 * One per connection: bytes are appended to buf (at most CB__DREQ_HEAD_MAX), and
 * cb__dreq_next parses them with libhttp-parser and takes complete requests off the
 * front, one at a time, so pipelined requests wait in buf. It holds no body: a GET
 * with a body is refused. */
#ifndef CB_DELAYD_REQUEST_H
#define CB_DELAYD_REQUEST_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#define CB__DREQ_HEAD_MAX 8192 /* request line + headers; more gets 431 */
#define CB__DREQ_URL_MAX 4096  /* the request target; longer gets 414 */

typedef struct cb__dreq_request {
  int64_t ms, bytes, seed;
  int keep_alive;
} cb__dreq_request;

typedef struct cb__dreq {
  http_parser parser;
  size_t len;      /* bytes in buf */
  size_t parsed;   /* bytes of buf the parser has consumed */
  size_t url_off;  /* the current request's target: buf[url_off..url_off+url_len) */
  size_t url_len;
  int status;      /* an HTTP error status decided by a callback, or 0 */
  int complete;    /* the current request has been read to its end */
  cb__dreq_request req;
  char buf[CB__DREQ_HEAD_MAX];
} cb__dreq;

void cb__dreq_init(cb__dreq *q);

/* Parses what buf holds. Returns 1 when a complete request was taken off the front
 * of buf (*out filled), 0 when more bytes are needed (buf has room for them), or an
 * HTTP status to answer before closing: 400 (malformed, or not a GET of /?ms=&bytes=
 * &seed= in HTTP/1.0 or 1.1 without a body), 414 (target longer than
 * CB__DREQ_URL_MAX) or 431 (head longer than CB__DREQ_HEAD_MAX). After an error the
 * reader is spent. Accepts bare LF line ends (RFC 9112 section 2.2). */
int cb__dreq_next(cb__dreq *q, cb__dreq_request *out);

#endif
