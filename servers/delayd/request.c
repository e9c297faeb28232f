/* request.c — delayd's request reader; contract in request.h.
 *
 * libhttp-parser is fed the bytes not yet parsed and paused at the end of each
 * request (on_message_complete), so it stops right after that request; the bytes
 * behind it stay in buf for the next call. Between two requests nothing moves in
 * buf, so the target is an offset into it, never copied. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/util.h"
#include "servers/delayd/delayd.h"
#include "servers/delayd/request.h"

/* Parses one query value: a decimal integer in [0, max]. */
static int parse_value(const char *s, size_t n, int64_t max, int64_t *out) {
  char tmp[24];
  if (n == 0 || n >= sizeof tmp) return -EINVAL;
  for (size_t k = 0; k < n; k++)
    if (!isdigit((unsigned char)s[k])) return -EINVAL;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  return cb_parse_int(tmp, 0, max, out);
}

/* Parses "k=v&k=v..." with k one of ms, bytes, seed. */
static int parse_query(const char *q, size_t n, cb__dreq_request *r) {
  while (n > 0) {
    const char *amp = memchr(q, '&', n);
    size_t part = amp ? (size_t)(amp - q) : n;
    const char *eq = memchr(q, '=', part);
    if (!eq) return -EINVAL;
    size_t klen = (size_t)(eq - q), vlen = part - klen - 1;
    int rc;
    if (klen == 2 && memcmp(q, "ms", 2) == 0) rc = parse_value(eq + 1, vlen, CB_DELAYD_MAX_MS, &r->ms);
    else if (klen == 5 && memcmp(q, "bytes", 5) == 0) rc = parse_value(eq + 1, vlen, CB_DELAYD_MAX_BYTES, &r->bytes);
    else if (klen == 4 && memcmp(q, "seed", 4) == 0) rc = parse_value(eq + 1, vlen, INT64_MAX, &r->seed);
    else rc = -EINVAL;
    if (rc != 0) return rc;
    q += part;
    n -= part;
    if (n > 0) { /* skip '&' */
      q++;
      n--;
    }
  }
  return 0;
}

static int on_message_begin(http_parser *p) {
  cb__dreq *q = p->data;
  q->url_len = 0;
  q->complete = 0;
  return 0;
}

/* The target may come in pieces (one per read); they are contiguous in buf. */
static int on_url(http_parser *p, const char *at, size_t n) {
  cb__dreq *q = p->data;
  if (q->url_len == 0) q->url_off = (size_t)(at - q->buf);
  q->url_len += n;
  if (q->url_len > CB__DREQ_URL_MAX) {
    q->status = 414;
    return -1;
  }
  return 0;
}

/* The whole head is in: is it a request delayd serves? */
static int on_headers_complete(http_parser *p) {
  cb__dreq *q = p->data;
  cb__dreq_request *r = &q->req;
  *r = (cb__dreq_request){0};
  const char *url = q->buf + q->url_off;
  int ok = p->method == HTTP_GET && p->http_major == 1 && p->http_minor <= 1 && !p->upgrade &&
           !(p->flags & F_CHUNKED) && (p->content_length == 0 || p->content_length == ULLONG_MAX) &&
           q->url_len > 0 && url[0] == '/';
  const char *qm = ok ? memchr(url, '?', q->url_len) : NULL;
  if (ok && qm && parse_query(qm + 1, q->url_len - (size_t)(qm + 1 - url), r) != 0) ok = 0;
  if (!ok) {
    q->status = 400;
    return -1;
  }
  r->keep_alive = http_should_keep_alive(p);
  return 0;
}

static int on_message_complete(http_parser *p) {
  cb__dreq *q = p->data;
  q->complete = 1;
  http_parser_pause(p, 1); /* stop right after this request */
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void cb__dreq_init(cb__dreq *q) {
  q->len = q->parsed = q->url_off = q->url_len = 0;
  q->status = q->complete = 0;
  http_parser_init(&q->parser, HTTP_REQUEST);
  q->parser.data = q;
}

int cb__dreq_next(cb__dreq *q, cb__dreq_request *out) {
  if (q->status) return q->status;
  if (q->parsed < q->len) {
    http_parser_pause(&q->parser, 0);
    q->parsed += http_parser_execute(&q->parser, &settings, q->buf + q->parsed, q->len - q->parsed);
    enum http_errno e = HTTP_PARSER_ERRNO(&q->parser);
    if (e != HPE_OK && e != HPE_PAUSED) {
      if (!q->status) q->status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
      return q->status;
    }
  }
  if (q->complete) {
    *out = q->req;
    q->len -= q->parsed;
    memmove(q->buf, q->buf + q->parsed, q->len);
    q->parsed = 0;
    q->complete = 0;
    return 1;
  }
  if (q->len == sizeof q->buf) return q->status = 431;
  return 0;
}
