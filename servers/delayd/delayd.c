/* delayd.c — the loopback latency server; contract in delayd.h.
 *
 * One libuv loop, one struct per connection holding its request buffer, its delay
 * timer and its response buffer (kept for the connection's life, so a busy server
 * does not fault in fresh heap pages for every response). A connection serves one
 * request at a time; it keeps reading while a response is delayed or written
 * (pipelined requests wait in the buffer, reading pauses only when it is full),
 * so the read watcher is not re-armed for every request. A peer's EOF is noted
 * and the connection closes once the responses already asked for are written. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "common/check.h"
#include "servers/delayd/delayd.h"
#include "common/util.h"
#include "workloads/body.h"

#define REQUEST_MAX 8192

typedef struct server {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_signal_t sigint, sigterm;
  /* spinning (cb_delayd_options.spin_us): while the idle handle is active, libuv
   * polls with a zero timeout; the check handle stops it spin_ns after last_event */
  uv_idle_t spin;
  uv_check_t spin_check;
  uint64_t spin_ns, last_event;
} server;

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wreq;
  int open_handles; /* freed when both handles have closed */
  int busy;         /* a response is delayed or being written */
  int reading;      /* uv_read_start is in effect */
  int close_after;  /* close once the response is written */
  int peer_done;    /* the peer sent EOF: no more requests will come */
  uint64_t seed, bytes;
  uint64_t due_ns;  /* uv_hrtime at which the delayed response may go out */
  char *out;        /* response buffer, out_cap bytes, reused */
  size_t out_cap;
  size_t len;       /* bytes in buf */
  char buf[REQUEST_MAX];
} conn;

typedef struct request {
  int64_t ms, bytes, seed;
  int keep_alive;
} request;

int cb_is_loopback_host(const char *host) {
  unsigned char a[16];
  if (strcmp(host, "localhost") == 0) return 1;
  if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
  if (inet_pton(AF_INET6, host, a) == 1) return IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
  return 0;
}

static void on_conn_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->open_handles == 0) {
    free(c->out);
    free(c);
  }
}

static void conn_close(conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  if (!uv_is_closing((uv_handle_t *)&c->timer)) uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

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

static int parse_query(const char *q, size_t n, request *r) {
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

/* Parses the request head in buf[0..head_len) (which ends in CRLF CRLF). */
static int parse_request(const char *buf, size_t head_len, request *r) {
  *r = (request){0};
  for (size_t k = 0; k < head_len; k++) {
    unsigned char ch = (unsigned char)buf[k];
    if (ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') return -EINVAL;
    if (ch >= 0x7f) return -EINVAL;
  }
  const char *line_end = memchr(buf, '\r', head_len);
  if (!line_end || line_end[1] != '\n') return -EINVAL;
  size_t line_len = (size_t)(line_end - buf);
  if (line_len < 14 || memcmp(buf, "GET /", 5) != 0) return -EINVAL;
  const char *sp = memchr(buf + 4, ' ', line_len - 4);
  if (!sp) return -EINVAL;
  const char *version = sp + 1;
  size_t vlen = (size_t)(line_end - version);
  int http11;
  if (vlen == 8 && memcmp(version, "HTTP/1.1", 8) == 0) http11 = 1;
  else if (vlen == 8 && memcmp(version, "HTTP/1.0", 8) == 0) http11 = 0;
  else return -EINVAL;
  const char *target = buf + 4;
  size_t tlen = (size_t)(sp - target);
  const char *qm = memchr(target, '?', tlen);
  if (qm && parse_query(qm + 1, tlen - (size_t)(qm + 1 - target), r) != 0) return -EINVAL;
  r->keep_alive = http11;

  /* Header lines: "Name: value" CRLF, until the empty line. */
  const char *p = line_end + 2, *end = buf + head_len - 2;
  while (p < end) {
    const char *eol = memchr(p, '\r', (size_t)(end - p) + 1);
    if (!eol || eol[1] != '\n') return -EINVAL;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon || colon == p) return -EINVAL;
    size_t nlen = (size_t)(colon - p);
    const char *val = colon + 1;
    while (val < eol && (*val == ' ' || *val == '\t')) val++;
    size_t val_len = (size_t)(eol - val);
    if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
      if (val_len == 5 && strncasecmp(val, "close", 5) == 0) r->keep_alive = 0;
      else if (val_len == 10 && strncasecmp(val, "keep-alive", 10) == 0) r->keep_alive = 1;
    } else if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
      if (!(val_len == 1 && val[0] == '0')) return -EINVAL; /* GET has no body here */
    } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
      return -EINVAL;
    }
    p = eol + 2;
  }
  return 0;
}

static void serve_next(conn *c);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void on_written(uv_write_t *w, int status);

/* One turn of the spin; a thread that is runnable on this core (a client's, say)
 * goes first: the spin uses only time the core would otherwise idle. */
static void spin_yield(uv_idle_t *h) {
  (void)h;
  sched_yield();
}

/* Something happened: keep polling without sleeping for the next spin_ns. */
static void note_event(uv_loop_t *loop) {
  server *srv = loop->data;
  if (srv->spin_ns == 0) return;
  srv->last_event = uv_hrtime();
  if (!uv_is_active((uv_handle_t *)&srv->spin)) uv_idle_start(&srv->spin, spin_yield);
}

/* After each poll: stop spinning once nothing has happened for spin_ns. */
static void on_spin_check(uv_check_t *h) {
  server *srv = h->loop->data;
  if (uv_is_active((uv_handle_t *)&srv->spin) && uv_hrtime() - srv->last_event > srv->spin_ns)
    uv_idle_stop(&srv->spin);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  conn *c = h->data;
  *b = uv_buf_init(c->buf + c->len, (unsigned)(REQUEST_MAX - c->len));
}

static void stop_reading(conn *c) {
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = 0;
}

/* Reads on unless the buffer is full or the peer is done. */
static void keep_reading(conn *c) {
  if (c->reading || c->peer_done || c->len == REQUEST_MAX) return;
  CB_CHECK(uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0);
  c->reading = 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  conn *c = s->data;
  if (nread == UV_EOF) { /* answer what was asked, then close (serve_next) */
    c->peer_done = 1;
    stop_reading(c);
    serve_next(c);
    return;
  }
  if (nread < 0) { /* reset or other error */
    conn_close(c);
    return;
  }
  note_event(s->loop);
  c->len += (size_t)nread;
  if (c->len == REQUEST_MAX) stop_reading(c);
  serve_next(c);
}

static void send_response(conn *c, int status, const char *reason, uint64_t seed, uint64_t bytes) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %" PRIu64
                   "\r\nConnection: %s\r\n\r\n",
                   status, reason, bytes, c->close_after ? "close" : "keep-alive");
  if ((size_t)n + bytes > c->out_cap) {
    free(c->out);
    c->out_cap = (size_t)n + bytes;
    c->out = malloc(c->out_cap);
    CB_CHECK(c->out != NULL);
  }
  memcpy(c->out, head, (size_t)n);
  if (status == 200) cb_body_fill(seed, 0, (unsigned char *)c->out + n, bytes);
  else memcpy(c->out + n, reason, bytes);
  uv_buf_t b = uv_buf_init(c->out, (unsigned)((size_t)n + bytes));
  c->wreq.data = c;
  c->busy = 1;
  if (c->close_after) stop_reading(c);
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) conn_close(c);
}

/* libuv timers count whole milliseconds of the loop's clock (a truncated, possibly
 * coarse CLOCK_MONOTONIC), so a timer armed for ms may fire up to a millisecond or so
 * before ms have passed on uv_hrtime. Such a response waits one more millisecond:
 * never early, at most about 1 ms late. */
static void on_delay_done(uv_timer_t *t) {
  conn *c = t->data;
  if (uv_hrtime() < c->due_ns) {
    CB_CHECK(uv_timer_start(&c->timer, on_delay_done, 1, 0) == 0);
    return;
  }
  note_event(t->loop);
  send_response(c, 200, "OK", c->seed, c->bytes);
}

static void on_written(uv_write_t *w, int status) {
  conn *c = w->data;
  c->busy = 0;
  if (status != 0 || c->close_after) {
    conn_close(c);
    return;
  }
  serve_next(c);
}

/* Serves the first complete request in the buffer, if any; otherwise reads on,
 * or closes when the peer is done. */
static void serve_next(conn *c) {
  if (c->busy || uv_is_closing((uv_handle_t *)&c->tcp)) return;
  char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
  if (!end) {
    if (c->len == REQUEST_MAX) {
      c->close_after = 1;
      send_response(c, 431, "Request Header Fields Too Large", 0, 31);
    } else if (c->peer_done) {
      conn_close(c);
    } else {
      keep_reading(c);
    }
    return;
  }
  size_t head_len = (size_t)(end - c->buf) + 4;
  request r;
  int rc = parse_request(c->buf, head_len, &r);
  memmove(c->buf, c->buf + head_len, c->len - head_len);
  c->len -= head_len;
  if (rc != 0) {
    c->close_after = 1;
    send_response(c, 400, "Bad Request", 0, 11);
    return;
  }
  c->close_after = !r.keep_alive;
  c->seed = (uint64_t)r.seed;
  c->bytes = (uint64_t)r.bytes;
  c->busy = 1;
  keep_reading(c); /* room was made for pipelined requests */
  uv_update_time(c->tcp.loop);
  c->due_ns = uv_hrtime() + (uint64_t)r.ms * 1000000;
  CB_CHECK(uv_timer_start(&c->timer, on_delay_done, (uint64_t)r.ms, 0) == 0);
}

static void on_connection(uv_stream_t *listener, int status) {
  if (status != 0) return;
  note_event(listener->loop);
  conn *c = calloc(1, sizeof *c);
  CB_CHECK(c != NULL);
  uv_tcp_init(listener->loop, &c->tcp);
  uv_timer_init(listener->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open_handles = 2;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  serve_next(c);
}

static void close_any(uv_handle_t *h, void *arg) {
  if (uv_is_closing(h)) return;
  if (h->type == UV_TCP && h->data) conn_close(h->data);
  else if (!h->data) uv_close(h, NULL);
}

static void on_stop_signal(uv_signal_t *s, int signum) { uv_walk(s->loop, close_any, NULL); }

static int bind_address(const cb_delayd_options *opt, struct sockaddr_storage *ss) {
  const char *host = strcmp(opt->host, "localhost") == 0 ? "127.0.0.1" : opt->host;
  if (strchr(host, ':')) return uv_ip6_addr(host, opt->port, (struct sockaddr_in6 *)ss);
  return uv_ip4_addr(host, opt->port, (struct sockaddr_in *)ss);
}

int cb_delayd_serve(const cb_delayd_options *opt) {
  if (!cb_is_loopback_host(opt->host)) {
    fprintf(stderr, "delayd: refusing to bind non-loopback address %s\n", opt->host);
    return -EPERM;
  }
  cb_raise_fd_limit();
  server srv;
  memset(&srv, 0, sizeof srv);
  CB_CHECK(uv_loop_init(&srv.loop) == 0);
  srv.loop.data = &srv;
  struct sockaddr_storage ss;
  int rc = bind_address(opt, &ss);
  if (rc == 0) rc = uv_tcp_init(&srv.loop, &srv.listener);
  if (rc == 0) rc = uv_tcp_bind(&srv.listener, (struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&srv.listener, 4096, on_connection);
  if (rc != 0) {
    fprintf(stderr, "delayd: cannot listen on %s port %d: %s\n", opt->host, opt->port, uv_strerror(rc));
    uv_walk(&srv.loop, close_any, NULL);
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(&srv.loop);
    return rc;
  }
  uv_signal_init(&srv.loop, &srv.sigint);
  uv_signal_init(&srv.loop, &srv.sigterm);
  uv_signal_start(&srv.sigint, on_stop_signal, SIGINT);
  uv_signal_start(&srv.sigterm, on_stop_signal, SIGTERM);
  srv.spin_ns = (uint64_t)opt->spin_us * 1000;
  uv_idle_init(&srv.loop, &srv.spin);
  uv_check_init(&srv.loop, &srv.spin_check);
  uv_check_start(&srv.spin_check, on_spin_check);
  uv_unref((uv_handle_t *)&srv.spin_check); /* neither keeps a stopped server alive */
  uv_unref((uv_handle_t *)&srv.spin);

  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &blen);
  char ip[64];
  int port;
  if (bound.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&bound, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    printf("http://[%s]:%d\n", ip, port);
  } else {
    uv_ip4_name((struct sockaddr_in *)&bound, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    printf("http://%s:%d\n", ip, port);
  }
  fflush(stdout);

  uv_run(&srv.loop, UV_RUN_DEFAULT);
  CB_CHECK(uv_loop_close(&srv.loop) == 0);
  return 0;
}
