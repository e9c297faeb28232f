/* conn.c — one connection of bin/loadgen: connect, send a request, read and check
 * its reply (http: libhttp-parser in HTTP_RESPONSE mode, Content-Length or chunked
 * framing; echo: exactly --bytes bytes), close and reopen. The run (run.c) decides
 * what happens around it; schedule.c decides when a request goes out.
 *
 * Writes go out with uv_try_write from bytes that outlive the call (the run's one
 * http request) or from scratch (an echo message, generated a chunk at a time);
 * what the socket does not take at once is queued with uv_write, copied when it
 * came from scratch. Reads land in
 * the run's one buffer and are checked as they stream in (cb_body_check); a reply
 * is never buffered. Bytes that arrive with no request in flight, or beyond the
 * reply, are a protocol error: we never pipeline, the server has nothing else to say. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "tools/loadgen/loadgen_int.h"

typedef struct lg_write {
  uv_write_t req;
  uint64_t seq; /* the request it belongs to */
  char data[];  /* the copied rest of an echo chunk */
} lg_write;

static uint64_t echo_seed(const cb__lg_run *run, const cb__lg_conn *c) {
  return cb_mix64(run->o->seed ^ ((uint64_t)c->index << 32) ^ c->seq);
}

static void echo_write_more(cb__lg_run *run, cb__lg_conn *c);

static void on_written(uv_write_t *req, int status) {
  cb__lg_conn *c = req->data;
  uint64_t seq = ((lg_write *)req)->seq;
  free(req); /* req is the first member of lg_write */
  cb__lg_run *run = c->run;
  if (run->phase == PH_DONE || c->state != LG_WAITING || seq != c->seq) return; /* closed, or an older request's */
  if (status < 0) {
    cb__lg_conn_fail(run, c, 0, status, "connection %" PRIu32 " request %" PRIu64 ": write: %s", c->index, c->seq,
                     uv_strerror(status));
    return;
  }
  if (run->o->proto == CB_LOADGEN_ECHO) echo_write_more(run, c);
}

/* Writes len bytes of data: what the socket does not take at once is queued, from
 * data itself when it outlives the write (copy = 0), else from a copy. Returns 1
 * when all of it was written now, 0 when some is queued, -1 after a failure. */
static int write_bytes(cb__lg_run *run, cb__lg_conn *c, const char *data, size_t len, int copy) {
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (w < 0 && w != UV_EAGAIN) {
    cb__lg_conn_fail(run, c, 0, w, "connection %" PRIu32 " request %" PRIu64 ": write: %s", c->index, c->seq,
                     uv_strerror(w));
    return -1;
  }
  size_t done = w > 0 ? (size_t)w : 0;
  if (done == len) return 1;
  size_t rest = len - done;
  lg_write *lw = malloc(sizeof *lw + (copy ? rest : 0));
  if (!lw) {
    run->r->out_of_resources = 1;
    cb__lg_conn_fail(run, c, 0, -ENOMEM, "out of memory for a write of %zu bytes", rest);
    return -1;
  }
  if (copy) memcpy(lw->data, data + done, rest);
  lw->req.data = c;
  lw->seq = c->seq;
  b = uv_buf_init(copy ? lw->data : (char *)data + done, (unsigned)rest);
  int rc = uv_write(&lw->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  if (rc != 0) {
    free(lw);
    cb__lg_conn_fail(run, c, 0, rc, "connection %" PRIu32 " request %" PRIu64 ": write: %s", c->index, c->seq,
                     uv_strerror(rc));
    return -1;
  }
  return 0;
}

/* Echo: writes the message from c->wr_off on, one chunk of at most LG_ECHO_CHUNK
 * bytes generated at a time (cb_body_fill at an offset), until the socket is full:
 * then the rest of that chunk is queued and its completion writes on. A connection
 * holds at most one chunk however large the message. */
static void echo_write_more(cb__lg_run *run, cb__lg_conn *c) {
  uint64_t seed = echo_seed(run, c), bytes = run->o->bytes;
  while (c->wr_off < bytes) {
    size_t n = bytes - c->wr_off < LG_ECHO_CHUNK ? (size_t)(bytes - c->wr_off) : LG_ECHO_CHUNK;
    cb_body_fill(seed, c->wr_off, run->msg, n);
    c->wr_off += n;
    if (write_bytes(run, c, (const char *)run->msg, n, 1) != 1) return;
  }
}

void cb__lg_conn_send(cb__lg_run *run, cb__lg_conn *c, int64_t intended, int64_t now) {
  CB_CHECK(c->state == LG_IDLE);
  const cb_loadgen_opts *o = run->o;
  c->seq = c->next_k++;
  c->intended_ns = intended;
  c->sent_ns = c->since_ns = now;
  c->got = 0;
  c->wr_off = 0;
  c->msg_done = 0;
  c->perr = 0;
  c->state = LG_WAITING;
  run->waiting++;
  cb__list_push_back(&run->timed, &c->timed);
  if (++run->r->total_sent >= o->max_requests) run->capped = 1;
  if (o->proto == CB_LOADGEN_HTTP) {
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    cb_body_check_init(&c->check, o->seed);
    write_bytes(run, c, run->req, run->req_len, 0);
  } else {
    cb_body_check_init(&c->check, echo_seed(run, c));
    echo_write_more(run, c);
  }
}

/* The reply is complete: count it (run.c), then send the next or close. */
static void reply_complete(cb__lg_run *run, cb__lg_conn *c, int keep_alive) {
  int64_t now = cb_now_ns();
  cb__lg_on_reply(run, c, c->check.ok, c->check.digest, now);
  if (!keep_alive)
    cb__lg_conn_close(run, c, REOPEN_NOW); /* the server said Connection: close */
  else
    cb__lg_maybe_send(run, c, now);
}

/* ---- http ---- */
static int on_headers_complete(http_parser *p) {
  cb__lg_conn *c = p->data;
  uint64_t want = c->run->o->bytes;
  if (p->status_code != 200) {
    c->perr = PERR_STATUS;
    c->perr_val = p->status_code;
    return -1;
  }
  if (!(p->flags & F_CHUNKED) && (!(p->flags & F_CONTENTLENGTH) || p->content_length != want)) {
    c->perr = PERR_LENGTH;
    c->perr_val = (p->flags & F_CONTENTLENGTH) ? p->content_length : UINT64_MAX;
    return -1;
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  cb__lg_conn *c = p->data;
  if (c->got + len > c->run->o->bytes) {
    c->perr = PERR_BODY_LONG;
    c->perr_val = c->got + len;
    return -1;
  }
  cb_body_check_feed(&c->check, at, len);
  c->got += len;
  return 0;
}

static int on_message_complete(http_parser *p) {
  cb__lg_conn *c = p->data;
  if (c->got != c->run->o->bytes) {
    c->perr = PERR_BODY_SHORT;
    c->perr_val = c->got;
    return -1;
  }
  c->msg_done = 1;
  http_parser_pause(p, 1); /* http_parser_execute returns right after this message */
  return 0;
}

static void http_failed(cb__lg_run *run, cb__lg_conn *c) {
  const char *what = "malformed response";
  char detail[128];
  switch (c->perr) {
  case PERR_STATUS:
    snprintf(detail, sizeof detail, "status %" PRIu64 ", not 200", c->perr_val);
    what = detail;
    break;
  case PERR_LENGTH:
    if (c->perr_val == UINT64_MAX)
      snprintf(detail, sizeof detail, "neither Content-Length nor chunked");
    else
      snprintf(detail, sizeof detail, "Content-Length %" PRIu64 ", not %" PRIu64, c->perr_val, run->o->bytes);
    what = detail;
    break;
  case PERR_BODY_LONG:
  case PERR_BODY_SHORT:
    snprintf(detail, sizeof detail, "body of %s%" PRIu64 " bytes, not %" PRIu64, c->perr == PERR_BODY_LONG ? "at least " : "",
             c->perr_val, run->o->bytes);
    what = detail;
    break;
  default:
    snprintf(detail, sizeof detail, "malformed response: %s", http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    what = detail;
  }
  cb__lg_conn_fail(run, c, 0, -EPROTO, "connection %" PRIu32 " request %" PRIu64 ": %s", c->index, c->seq, what);
}

static void http_read(cb__lg_run *run, cb__lg_conn *c, const char *data, size_t n) {
  size_t used = http_parser_execute(&c->parser, &run->settings, data, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->perr || (e != HPE_OK && e != HPE_PAUSED)) {
    http_failed(run, c);
    return;
  }
  if (!c->msg_done) return;
  if (used < n) {
    cb__lg_conn_fail(run, c, 0, -EPROTO, "connection %" PRIu32 " request %" PRIu64 ": %zu bytes after the response",
                     c->index, c->seq, n - used);
    return;
  }
  int keep = http_should_keep_alive(&c->parser);
  http_parser_pause(&c->parser, 0);
  reply_complete(run, c, keep);
}

/* ---- echo ---- */
static void echo_read(cb__lg_run *run, cb__lg_conn *c, const char *data, size_t n) {
  uint64_t left = run->o->bytes - c->got;
  size_t take = n < left ? n : (size_t)left;
  cb_body_check_feed(&c->check, data, take);
  c->got += take;
  if (take < n) {
    cb__lg_conn_fail(run, c, 0, -EPROTO, "connection %" PRIu32 " message %" PRIu64 ": %zu bytes beyond the %" PRIu64 " echoed",
                     c->index, c->seq, n - take, run->o->bytes);
    return;
  }
  if (c->got == run->o->bytes) reply_complete(run, c, 1);
}

/* ---- the socket ---- */
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  cb__lg_run *run = ((cb__lg_conn *)h->data)->run;
  *buf = uv_buf_init(run->rbuf, sizeof run->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  cb__lg_conn *c = s->data;
  cb__lg_run *run = c->run;
  if (n == 0 || c->state == LG_CLOSING) return;
  if (n < 0) {
    if (n == UV_EOF && c->state == LG_IDLE) { /* the server closed an idle keep-alive connection */
      cb__lg_conn_close(run, c, REOPEN_NOW);
      return;
    }
    cb__lg_conn_fail(run, c, 0, (int)n, "connection %" PRIu32 " request %" PRIu64 ": %s", c->index, c->seq,
                     n == UV_EOF ? "the server closed the connection before the reply was complete" : uv_strerror((int)n));
    return;
  }
  if (c->state != LG_WAITING) {
    cb__lg_conn_fail(run, c, 0, -EPROTO, "connection %" PRIu32 ": %zd bytes arrived with no request in flight", c->index, n);
    return;
  }
  if (run->o->proto == CB_LOADGEN_HTTP)
    http_read(run, c, buf->base, (size_t)n);
  else
    echo_read(run, c, buf->base, (size_t)n);
}

static void on_connect(uv_connect_t *req, int status) {
  cb__lg_conn *c = req->data;
  cb__lg_run *run = c->run;
  if (c->state != LG_CONNECTING || run->phase == PH_DONE) return; /* closed meanwhile (UV_ECANCELED) */
  int in_connect_phase = run->phase == PH_CONNECT;
  if (status < 0) {
    cb__lg_conn_fail(run, c, 0, status, "connection %" PRIu32 ": connect: %s", c->index, uv_strerror(status));
  } else {
    cb__list_remove(&c->timed);
    c->state = LG_IDLE;
    run->open_now++;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0)
      cb__lg_conn_fail(run, c, 0, rc, "connection %" PRIu32 ": read: %s", c->index, uv_strerror(rc));
    else
      cb__lg_on_connected(run, c, cb_now_ns());
  }
  if (in_connect_phase) cb__lg_connect_resolved(run);
}

int cb__lg_conn_open(cb__lg_run *run, cb__lg_conn *c, int64_t now) {
  CB_CHECK(c->state == LG_NONE);
  const struct sockaddr *sa = (const struct sockaddr *)&run->o->addr;
  int rc = uv_tcp_init_ex(&run->loop, &c->tcp, sa->sa_family);
  if (rc != 0) { /* no socket: the handle was not registered, nothing to close */
    if (rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_ENOMEM) run->r->out_of_resources = 1;
    run->r->errors++;
    cb__lg_set_error(run, "connection %" PRIu32 ": socket: %s%s", c->index, uv_strerror(rc),
                     rc == UV_EMFILE || rc == UV_ENFILE ? " (out of descriptors)" : "");
    return rc;
  }
  c->tcp.data = c;
  c->creq.data = c;
  c->state = LG_CONNECTING;
  c->since_ns = now;
  if (run->phase != PH_CONNECT) cb__list_push_back(&run->timed, &c->timed);
  uv_tcp_nodelay(&c->tcp, 1);
  rc = uv_tcp_connect(&c->creq, &c->tcp, sa, on_connect);
  if (rc != 0) {
    cb__lg_conn_fail(run, c, 0, rc, "connection %" PRIu32 ": connect: %s", c->index, uv_strerror(rc));
    return rc;
  }
  return 0;
}

static void on_closed(uv_handle_t *h) {
  cb__lg_conn *c = h->data;
  c->state = LG_NONE;
  cb__lg_on_closed(c->run, c);
}

void cb__lg_conn_close(cb__lg_run *run, cb__lg_conn *c, int reopen) {
  if (c->state == LG_NONE || c->state == LG_CLOSING || uv_is_closing((uv_handle_t *)&c->tcp)) return;
  if (c->state == LG_WAITING) run->waiting--;
  if (c->state == LG_IDLE || c->state == LG_WAITING) run->open_now--;
  cb__list_remove(&c->timed);
  c->state = LG_CLOSING;
  c->reopen = (uint8_t)reopen;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void cb__lg_conn_fail(cb__lg_run *run, cb__lg_conn *c, int is_timeout, int err, const char *fmt, ...) {
  if (is_timeout)
    run->r->timeouts++;
  else
    run->r->errors++;
  if (err == UV_EMFILE || err == UV_ENFILE || err == -ENOMEM) run->r->out_of_resources = 1;
  va_list ap;
  va_start(ap, fmt);
  cb__lg_vset_error(run, fmt, ap);
  va_end(ap);
  cb__lg_conn_close(run, c, is_timeout ? REOPEN_NOW : REOPEN_LATER);
}

int cb__lg_proto_init(cb__lg_run *run) {
  const cb_loadgen_opts *o = run->o;
  memset(&run->settings, 0, sizeof run->settings);
  run->settings.on_headers_complete = on_headers_complete;
  run->settings.on_body = on_body;
  run->settings.on_message_complete = on_message_complete;
  if (o->proto == CB_LOADGEN_HTTP) {
    size_t cap = strlen(o->path) + strlen(o->connect) + 64;
    run->req = malloc(cap);
    if (!run->req) return -ENOMEM;
    run->req_len = (size_t)snprintf(run->req, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->path, o->connect);
    run->http_digest = cb_body_digest(o->seed, o->bytes);
  } else {
    run->msg = malloc(o->bytes < LG_ECHO_CHUNK ? o->bytes : LG_ECHO_CHUNK);
    if (!run->msg) return -ENOMEM;
  }
  return 0;
}

void cb__lg_proto_free(cb__lg_run *run) {
  free(run->req);
  free(run->msg);
}
