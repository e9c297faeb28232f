/* delayd.c — the loopback latency server; contract in delayd.h.
 *
 * One libuv loop, one struct per connection holding its request reader (request.h),
 * two timers (the delay; the idle, header, write or linger timeout) and its
 * response buffer (at most OUT_MAX, kept for the connection's life, so a busy server
 * does not fault in fresh heap pages for every response). Memory is bounded: about
 * 25 KiB per connection, at most max_conns connections. A connection serves one
 * request at a time; it keeps reading while a response is delayed or written
 * (pipelined requests wait in the buffer, reading pauses only when it is full),
 * so the read watcher is not re-armed for every request. A peer's EOF is noted
 * and the connection closes once the responses already asked for are written. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "common/check.h"
#include "servers/delayd/delayd.h"
#include "common/util.h"
#include "servers/delayd/request.h"
#include "workloads/body.h"

/* The response buffer holds a head and up to 16 KiB of body (the http workload's
 * whole response, written at once); a longer body is generated into it chunk by
 * chunk as the previous chunk is written, so a connection never holds more than
 * this however large the body it serves. */
#define OUT_MAX (16 * 1024 + 512)
/* After an answer that closes the connection (an error, Connection: close) the
 * server half-closes and discards what the client still sends for up to this long
 * before closing: closing a socket with unread input resets the connection, and the
 * reset can destroy the answer before the client reads it. */
#define LINGER_MS 2000

typedef struct server {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_signal_t sigint, sigterm;
  /* spinning (cb_delayd_options.spin_us): while the idle handle is active, libuv
   * polls with a zero timeout; the check handle stops it spin_ns after last_event */
  uv_idle_t spin;
  uv_check_t spin_check;
  uint64_t spin_ns, last_event;
  uint64_t header_timeout_ms, idle_timeout_ms;
  int64_t conns, max_conns; /* open connections and the cap */
  int64_t refused;          /* connections refused since the cap was last reached */
  /* Connections the descriptor limit leaves room for. At room, a new connection is
   * not accepted but waits in the listen backlog until one closes (accepting would
   * fail with EMFILE, and libuv then resets the waiting connections); waiting: libuv
   * holds one for us and stops listening until on_connection accepts it. */
  int64_t room;
  int waiting;
} server;

/* What a connection's guard timer enforces (see guard()). */
enum { G_NONE, G_IDLE, G_HEAD, G_WRITE, G_LINGER };

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* the delay */
  uv_timer_t guard; /* the idle, header, write or linger timeout */
  uv_write_t wreq;
  uv_shutdown_t sreq;
  int open_handles; /* freed when all three handles have closed */
  int busy;         /* a response is delayed or being written */
  int reading;      /* uv_read_start is in effect */
  int close_after;  /* close once the response is written */
  int peer_done;    /* the peer sent EOF: no more requests will come */
  int draining;     /* half-closed after the last answer, discarding input */
  int guard_mode;   /* G_* */
  uint64_t guard_since, guard_due; /* loop ms: when guard_mode began, when the timer fires */
  uint64_t seed, body_off, body_left; /* the body still to write */
  uint64_t due_ns;  /* uv_hrtime at which the delayed response may go out */
  char *out;        /* response buffer, out_cap <= OUT_MAX bytes, reused */
  size_t out_cap;
  cb_http_reader rq; /* the request reader and its buffer */
} conn;

int cb_is_loopback_host(const char *host) {
  unsigned char a[16];
  if (strcmp(host, "localhost") == 0) return 1;
  if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
  if (inet_pton(AF_INET6, host, a) == 1) return IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
  return 0;
}

static void on_connection(uv_stream_t *listener, int status);

static void on_conn_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->open_handles > 0) return;
  server *srv = h->loop->data;
  if (--srv->conns < srv->max_conns && srv->refused > 0) {
    fprintf(stderr, "delayd: below the connection cap (%" PRId64 ") again; %" PRId64 " connections were refused\n",
            srv->max_conns, srv->refused);
    srv->refused = 0;
  }
  free(c->out);
  free(c);
  if (srv->waiting && !uv_is_closing((uv_handle_t *)&srv->listener)) {
    srv->waiting = 0;
    on_connection((uv_stream_t *)&srv->listener, 0);
  }
}

static void conn_close(conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  if (!uv_is_closing((uv_handle_t *)&c->timer)) uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
  if (!uv_is_closing((uv_handle_t *)&c->guard)) uv_close((uv_handle_t *)&c->guard, on_conn_handle_closed);
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
  size_t room;
  char *at = cb_http_reader_room(&c->rq, &room);
  *b = uv_buf_init(at, (unsigned)room);
}

static void stop_reading(conn *c) {
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = 0;
}

/* Reads on unless the buffer is full or the peer is done. */
static void keep_reading(conn *c) {
  if (c->reading || c->peer_done || cb_http_reader_pending(&c->rq) == sizeof c->rq.buf) return;
  CB_CHECK(uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0);
  c->reading = 1;
}

static uint64_t guard_ms(conn *c, int mode) {
  server *srv = c->tcp.loop->data;
  return mode == G_HEAD ? srv->header_timeout_ms : mode == G_LINGER ? LINGER_MS : srv->idle_timeout_ms;
}

/* The guard's deadline came: close, or sleep again for what is left of it. */
static void on_guard(uv_timer_t *t) {
  conn *c = t->data;
  if (c->guard_mode == G_NONE) return;
  uint64_t now = uv_now(t->loop), end = c->guard_since + guard_ms(c, c->guard_mode);
  if (now >= end) {
    conn_close(c);
    return;
  }
  c->guard_due = end;
  CB_CHECK(uv_timer_start(t, on_guard, end - now, 0) == 0);
}

/* Enters guard mode `mode` (G_NONE: nothing is enforced, e.g. during a delay) as of
 * now; re-entering G_HEAD keeps its start (a head's time runs from its first byte).
 * Lazy: the timer is restarted only when the new deadline is earlier than the one
 * it is set for; a later one is caught up by on_guard. So serving a request costs
 * no timer operation beyond its delay. */
static void guard(conn *c, int mode) {
  if (mode == G_HEAD && c->guard_mode == G_HEAD) return;
  c->guard_mode = mode;
  if (mode == G_NONE) return;
  uint64_t now = uv_now(c->tcp.loop), end = now + guard_ms(c, mode);
  c->guard_since = now;
  if (!uv_is_active((uv_handle_t *)&c->guard) || c->guard_due > end) {
    c->guard_due = end;
    CB_CHECK(uv_timer_start(&c->guard, on_guard, end - now, 0) == 0);
  }
}

static void on_shutdown(uv_shutdown_t *s, int status) {
  conn *c = s->data;
  if (status != 0 || c->peer_done) {
    conn_close(c);
    return;
  }
  c->draining = 1;
  cb_http_reader_init(&c->rq); /* what still comes is read into it and discarded */
  guard(c, G_LINGER);
  keep_reading(c);
}

/* The last answer is out: half-close, then close at the peer's EOF or LINGER_MS. */
static void finish(conn *c) {
  stop_reading(c);
  c->sreq.data = c;
  if (c->peer_done || uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) conn_close(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  conn *c = s->data;
  if (nread == UV_EOF) { /* answer what was asked, then close (serve_next) */
    c->peer_done = 1;
    stop_reading(c);
    if (c->draining) conn_close(c);
    else serve_next(c);
    return;
  }
  if (nread < 0) { /* reset or other error */
    conn_close(c);
    return;
  }
  if (c->draining) return; /* discarded: never added to the reader */
  note_event(s->loop);
  cb_http_reader_wrote(&c->rq, (size_t)nread);
  if (cb_http_reader_pending(&c->rq) == sizeof c->rq.buf) stop_reading(c);
  serve_next(c);
}

/* Writes out[0..n); a write the kernel could not take at once is guarded by the
 * idle timeout, counted from the last chunk the client took. */
static void write_out(conn *c, size_t n) {
  uv_buf_t b = uv_buf_init(c->out, (unsigned)n);
  c->wreq.data = c;
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    conn_close(c);
    return;
  }
  guard(c, c->tcp.write_queue_size > 0 ? G_WRITE : G_NONE);
}

/* Generates the next chunk of the body into out and writes it. */
static void write_body_chunk(conn *c) {
  size_t n = c->body_left < c->out_cap ? (size_t)c->body_left : c->out_cap;
  cb_body_fill(c->seed, c->body_off, (unsigned char *)c->out, n);
  c->body_off += n;
  c->body_left -= n;
  write_out(c, n);
}

/* Sends the head and as much of the body as fits in out; the rest follows chunk by
 * chunk (on_written). A 200's body is seed's; another status's is its reason. */
static void send_response(conn *c, int status, const char *reason, uint64_t seed, uint64_t bytes) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %" PRIu64
                   "\r\nConnection: %s\r\n\r\n",
                   status, reason, bytes, c->close_after ? "close" : "keep-alive");
  size_t want = (size_t)n + bytes < OUT_MAX ? (size_t)n + (size_t)bytes : OUT_MAX;
  if (want > c->out_cap) {
    free(c->out);
    c->out_cap = want;
    c->out = malloc(c->out_cap);
    CB_CHECK(c->out != NULL);
  }
  memcpy(c->out, head, (size_t)n);
  size_t first = bytes < c->out_cap - (size_t)n ? (size_t)bytes : c->out_cap - (size_t)n;
  if (status == 200) cb_body_fill(seed, 0, (unsigned char *)c->out + n, first);
  else memcpy(c->out + n, reason, first); /* bytes == strlen(reason): fits */
  c->seed = seed;
  c->body_off = first;
  c->body_left = bytes - first;
  c->busy = 1;
  if (c->close_after) stop_reading(c);
  write_out(c, (size_t)n + first);
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
  send_response(c, 200, "OK", c->seed, c->body_left);
}

static void on_written(uv_write_t *w, int status) {
  conn *c = w->data;
  if (status != 0) {
    conn_close(c);
    return;
  }
  if (c->body_left > 0) {
    write_body_chunk(c);
    return;
  }
  c->busy = 0;
  if (c->close_after) finish(c);
  else serve_next(c);
}

static const char *reason_of(int status) {
  switch (status) {
  case 414: return "URI Too Long";
  case 431: return "Request Header Fields Too Large";
  default: return "Bad Request";
  }
}

/* Serves the first complete request in the buffer, if any; otherwise reads on
 * under the idle or header timeout, or closes when the peer is done. */
static void serve_next(conn *c) {
  if (c->busy || c->draining || uv_is_closing((uv_handle_t *)&c->tcp)) return;
  cb__dreq_request r;
  int rc = cb__dreq_next(&c->rq, &r);
  if (rc == 0) {
    if (c->peer_done) {
      conn_close(c);
      return;
    }
    guard(c, cb_http_reader_pending(&c->rq) == 0 ? G_IDLE : G_HEAD);
    keep_reading(c);
    return;
  }
  if (rc != 1) {
    const char *reason = reason_of(rc);
    c->close_after = 1;
    send_response(c, rc, reason, 0, strlen(reason));
    return;
  }
  c->close_after = !r.keep_alive;
  c->seed = (uint64_t)r.seed;
  c->body_left = (uint64_t)r.bytes; /* the length, until send_response */
  c->busy = 1;
  keep_reading(c); /* room was made for pipelined requests */
  uv_update_time(c->tcp.loop);
  c->due_ns = uv_hrtime() + (uint64_t)r.ms * 1000000;
  guard(c, G_NONE);
  CB_CHECK(uv_timer_start(&c->timer, on_delay_done, (uint64_t)r.ms, 0) == 0);
}

static void free_handle(uv_handle_t *h) { free(h); }

/* Over the cap: the connection is accepted (so the backlog does not fill), told
 * 503 if its socket takes it, and closed; the first refusal is logged. */
static void refuse(server *srv, uv_stream_t *listener) {
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  uv_tcp_t *t = malloc(sizeof *t);
  CB_CHECK(t != NULL);
  uv_tcp_init(listener->loop, t);
  t->data = NULL;
  if (uv_accept(listener, (uv_stream_t *)t) == 0) {
    uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
    uv_try_write((uv_stream_t *)t, &b, 1);
    if (srv->refused++ == 0)
      fprintf(stderr, "delayd: %" PRId64 " connections open, the cap (--max-conns %" PRId64
              "): refusing new connections until some close\n", srv->conns, srv->max_conns);
  }
  uv_close((uv_handle_t *)t, free_handle);
}

/* The descriptor limit less those open now (the loop's, the listener's) and a few
 * to spare (the one libuv accepts for us, a refusal's): one per connection. */
static int64_t conn_room(void) {
  struct rlimit rl;
  int64_t open_now = 0;
  DIR *d = opendir("/proc/self/fd");
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT64_MAX / 2 || !d) {
    if (d) closedir(d);
    return INT64_MAX;
  }
  while (readdir(d)) open_now++; /* ".", ".." and d's own count among the spares */
  closedir(d);
  return (int64_t)rl.rlim_cur > open_now + 4 ? (int64_t)rl.rlim_cur - open_now - 4 : 1;
}

static void on_connection(uv_stream_t *listener, int status) {
  if (status != 0) return;
  server *srv = listener->loop->data;
  note_event(listener->loop);
  if (srv->conns >= srv->room) {
    srv->waiting = 1;
    return;
  }
  if (srv->conns >= srv->max_conns) {
    refuse(srv, listener);
    return;
  }
  conn *c = calloc(1, sizeof *c);
  CB_CHECK(c != NULL);
  srv->conns++;
  uv_tcp_init(listener->loop, &c->tcp);
  uv_timer_init(listener->loop, &c->timer);
  uv_timer_init(listener->loop, &c->guard);
  c->tcp.data = c->timer.data = c->guard.data = c;
  c->open_handles = 3;
  cb_http_reader_init(&c->rq);
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
  signal(SIGPIPE, SIG_IGN); /* a write to a gone client fails with EPIPE instead */
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
  srv.header_timeout_ms = (uint64_t)(opt->header_timeout_ms > 0 ? opt->header_timeout_ms : CB_DELAYD_HEADER_TIMEOUT_MS_DEFAULT);
  srv.idle_timeout_ms = (uint64_t)(opt->idle_timeout_ms > 0 ? opt->idle_timeout_ms : CB_DELAYD_IDLE_TIMEOUT_MS_DEFAULT);
  srv.max_conns = opt->max_conns > 0 ? opt->max_conns : CB_DELAYD_MAX_CONNS_DEFAULT;
  srv.room = conn_room();
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
