/* http_request.c — the request reader; contract in http_request.h.
 *
 * libhttp-parser is fed the bytes not yet parsed and paused at the end of each
 * request (on_message_complete), so it stops right after that request; the bytes
 * behind it stay in buf for the next call. The request returned stays at the front
 * of buf until the next call drops it, so its target is an offset into buf, never
 * copied. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/http_request.h"
#include "common/util.h"

static int on_message_begin(http_parser *p) {
  cb_http_reader *r = p->data;
  r->url_len = 0;
  r->complete = 0;
  return 0;
}

/* The target may come in pieces (one per read); they are contiguous in buf. */
static int on_url(http_parser *p, const char *at, size_t n) {
  cb_http_reader *r = p->data;
  if (r->url_len == 0) r->url_off = (size_t)(at - r->buf);
  r->url_len += n;
  if (r->url_len > CB_HTTP_URL_MAX) {
    r->status = 414;
    return -1;
  }
  return 0;
}

/* The whole head is in: a GET without a body, of a target starting with '/'? */
static int on_headers_complete(http_parser *p) {
  cb_http_reader *r = p->data;
  int ok = p->method == HTTP_GET && p->http_major == 1 && p->http_minor <= 1 && !p->upgrade &&
           !(p->flags & F_CHUNKED) && (p->content_length == 0 || p->content_length == ULLONG_MAX) &&
           r->url_len > 0 && r->buf[r->url_off] == '/';
  if (!ok) {
    r->status = 400;
    return -1;
  }
  r->keep_alive = http_should_keep_alive(p);
  return 0;
}

static int on_message_complete(http_parser *p) {
  cb_http_reader *r = p->data;
  r->complete = 1;
  http_parser_pause(p, 1); /* stop right after this request */
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void cb_http_reader_init(cb_http_reader *r) {
  r->len = r->parsed = r->done = r->url_off = r->url_len = 0;
  r->status = r->complete = r->keep_alive = 0;
  http_parser_init(&r->parser, HTTP_REQUEST);
  r->parser.data = r;
}

/* Drops the request returned last: the parser stopped right after it. */
static void drop_done(cb_http_reader *r) {
  if (r->done == 0) return;
  r->len -= r->done;
  memmove(r->buf, r->buf + r->done, r->len);
  r->parsed -= r->done;
  r->done = 0;
}

char *cb_http_reader_room(cb_http_reader *r, size_t *room) {
  drop_done(r);
  *room = sizeof r->buf - r->len;
  return r->buf + r->len;
}

void cb_http_reader_wrote(cb_http_reader *r, size_t n) { r->len += n; }

size_t cb_http_reader_feed(cb_http_reader *r, const void *data, size_t n) {
  size_t room;
  char *at = cb_http_reader_room(r, &room);
  if (n > room) n = room;
  memcpy(at, data, n);
  r->len += n;
  return n;
}

size_t cb_http_reader_pending(const cb_http_reader *r) { return r->len - r->done; }

/* After a parser error: had it read more than CB_HTTP_URL_MAX bytes of the target?
 * The parser reports the target (on_url) only at its end or at the end of the
 * bytes it was given, so an error inside a long target would otherwise be 414 or
 * 400 depending on how the bytes were cut. The failed request starts at buf[0]
 * (the one before it was dropped), after the line ends the parser skips; the
 * scan follows the parser's request line: METHOD, spaces, the target up to a
 * space or a line end. */
static int target_too_long(const cb_http_reader *r) {
  size_t k = 0, end = r->parsed;
  while (k < end && (r->buf[k] == '\r' || r->buf[k] == '\n')) k++;
  while (k < end && r->buf[k] != ' ') k++; /* the method */
  while (k < end && r->buf[k] == ' ') k++;  /* the parser takes several spaces */
  size_t start = k;
  while (k < end && r->buf[k] != ' ' && r->buf[k] != '\r' && r->buf[k] != '\n') k++;
  return k > start && k - start > CB_HTTP_URL_MAX;
}

int cb_http_next(cb_http_reader *r, cb_http_request *out) {
  if (r->status) return r->status;
  drop_done(r);
  if (r->parsed < r->len) {
    http_parser_pause(&r->parser, 0);
    r->parsed += http_parser_execute(&r->parser, &settings, r->buf + r->parsed, r->len - r->parsed);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (e != HPE_OK && e != HPE_PAUSED) {
      if (!r->status) r->status = e == HPE_HEADER_OVERFLOW ? 431 : target_too_long(r) ? 414 : 400;
      return r->status;
    }
  }
  if (r->complete) {
    r->complete = 0;
    r->done = r->parsed;
    *out = (cb_http_request){.target = r->buf + r->url_off, .target_len = r->url_len, .keep_alive = r->keep_alive};
    return 1;
  }
  if (r->len == sizeof r->buf) return r->status = 431;
  return 0;
}

/* Calls fn on each KEY=VALUE part of the target's query; stops at the first
 * nonzero answer. -EINVAL for a part without '='. */
static int each_part(const char *target, size_t len, int (*fn)(const char *k, size_t kl, const char *v, size_t vl, void *arg),
                     void *arg) {
  const char *q = memchr(target, '?', len);
  if (!q) return 0;
  size_t n = len - (size_t)(q + 1 - target);
  q++;
  while (n > 0) {
    const char *amp = memchr(q, '&', n);
    size_t part = amp ? (size_t)(amp - q) : n;
    const char *eq = memchr(q, '=', part);
    if (!eq) return -EINVAL;
    size_t kl = (size_t)(eq - q);
    int rc = fn(q, kl, eq + 1, part - kl - 1, arg);
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

/* A decimal integer in [0, max]. */
static int parse_value(const char *s, size_t n, int64_t max, int64_t *out) {
  char tmp[24];
  if (n == 0 || n >= sizeof tmp) return -EINVAL;
  for (size_t k = 0; k < n; k++)
    if (!isdigit((unsigned char)s[k])) return -EINVAL;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  return cb_parse_int(tmp, 0, max, out) == 0 ? 0 : -EINVAL;
}

typedef struct find_arg {
  const char *name;
  int64_t max, value;
  int found;
} find_arg;

static int find_one(const char *k, size_t kl, const char *v, size_t vl, void *arg) {
  find_arg *a = arg;
  if (strlen(a->name) != kl || memcmp(a->name, k, kl) != 0) return 0;
  a->found = 1;
  return parse_value(v, vl, a->max, &a->value);
}

int cb_http_query_int(const char *target, size_t len, const char *name, int64_t max, int64_t *out) {
  find_arg a = {.name = name, .max = max};
  int rc = each_part(target, len, find_one, &a);
  if (rc != 0) return rc;
  if (a.found) *out = a.value;
  return a.found;
}

static int check_one(const char *k, size_t kl, const char *v, size_t vl, void *arg) {
  int64_t ignored;
  for (const char *const *key = arg; *key; key++)
    if (strlen(*key) == kl && memcmp(*key, k, kl) == 0) return parse_value(v, vl, INT64_MAX, &ignored);
  return -EINVAL;
}

int cb_http_query_check(const char *target, size_t len, const char *const keys[]) {
  return each_part(target, len, check_one, (void *)keys);
}
