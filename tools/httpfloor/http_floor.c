/* http_floor.c — see http_floor.h.
 *
 * A connection moves NEW → SENDING → HEAD → BODY, then back to SENDING for its
 * next request, and is closed after its K-th body. Its first request is written
 * right after connect() (on loopback the handshake is already done by then).
 * Its epoll interest is EPOLLOUT only while a request waits for the connect or
 * for socket buffer space, EPOLLIN otherwise, so on loopback a connection costs
 * one EPOLL_CTL_ADD and no other epoll_ctl. All reads go into one buffer of the
 * context; the response head is gathered per connection (it may arrive split),
 * the body is verified in place. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness/run/cell.h"
#include "tools/httpfloor/http_floor.h"
#include "workloads/body.h"
#include "workloads/http_seed.h"

#define HEAD_MAX 512      /* delayd's heads are about 100 bytes */
#define READ_BUF 65536    /* a 16 KiB response arrives in one read */
#define MAX_EVENTS 512

typedef enum { NEW, SENDING, HEAD, BODY } conn_state;

typedef struct conn {
  int fd;               /* -1 once closed */
  conn_state st;        /* NEW: before its first request */
  uint32_t interest;    /* EPOLLIN or EPOLLOUT as registered, 0 before */
  uint64_t k;           /* the request under way, 0..K-1 */
  uint64_t acc;         /* the job's result so far (cb_http_combine) */
  uint64_t body_left;
  cb_body_check check;
  uint16_t req_len, req_sent, head_len;
  char req[224];
  char head[HEAD_MAX];
} conn;

typedef struct floor_ctx {
  const cb_http_floor_opts *o;
  cb_http_floor_result *r;
  conn *conns;
  int ep;
  uint64_t connected, finished;
  int64_t t0, t_connected, t_done;
  unsigned char rbuf[READ_BUF];
} floor_ctx;

static double tv_s(struct timeval t) { return (double)t.tv_sec + t.tv_usec / 1e6; }

/* Records the run's first failure; returns err so callers can `return fail(...)`. */
static int fail(floor_ctx *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(floor_ctx *x, int err, const char *fmt, ...) {
  if (x->r->err) return err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->r->error, sizeof x->r->error, fmt, ap);
  va_end(ap);
  x->r->err = err;
  return err;
}

static uint64_t job_of(const floor_ctx *x, const conn *c) { return (uint64_t)(c - x->conns); }

static uint64_t seed_of(const floor_ctx *x, const conn *c) {
  return cb_http_request_seed(job_of(x, c), c->k, x->o->requests);
}

/* Registers c for ev (EPOLLIN or EPOLLOUT) unless it already is. */
static int set_interest(floor_ctx *x, conn *c, uint32_t ev) {
  if (c->interest == ev) return 0;
  struct epoll_event e = {.events = ev, .data.ptr = c};
  if (epoll_ctl(x->ep, c->interest ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) != 0)
    return fail(x, -errno, "epoll_ctl: %s", strerror(errno));
  c->interest = ev;
  return 0;
}

/* Writes what is left of the current request; waits for EPOLLOUT if the socket
 * takes only part of it, or nothing yet because it is still connecting. A write
 * also reports a failed connect (ECONNREFUSED...). */
static int send_request(floor_ctx *x, conn *c) {
  if (c->st != SENDING) {
    const cb_http_floor_opts *o = x->o;
    int n = snprintf(c->req, sizeof c->req,
                     "GET /?ms=%" PRIu64 "&bytes=%" PRIu64 "&seed=%" PRIu64 " HTTP/1.1\r\nHost: %s\r\n\r\n",
                     o->delay_ms, o->bytes, seed_of(x, c), o->host);
    if (n < 0 || (size_t)n >= sizeof c->req) return fail(x, -EINVAL, "request line too long for host %s", o->host);
    c->req_len = (uint16_t)n;
    c->req_sent = 0;
    c->st = SENDING;
  }
  ssize_t w = write(c->fd, c->req + c->req_sent, (size_t)(c->req_len - c->req_sent));
  if (w < 0 && errno != EAGAIN)
    return fail(x, -errno, "job %" PRIu64 " request %" PRIu64 ": %s", job_of(x, c), c->k, strerror(errno));
  if (w > 0) c->req_sent = (uint16_t)(c->req_sent + w);
  if (c->req_sent < c->req_len) return set_interest(x, c, EPOLLOUT);
  if (c->k == 0 && ++x->connected == x->o->tasks) x->t_connected = cb_now_ns();
  c->st = HEAD;
  c->head_len = 0;
  return set_interest(x, c, EPOLLIN);
}

/* Parses a complete head (status line and headers, CRLF CRLF included): status
 * 200 and a Content-Length equal to the bytes asked for. */
static int parse_head(floor_ctx *x, conn *c) {
  const char *h = c->head, *end = c->head + c->head_len;
  uint64_t job = job_of(x, c), seed = seed_of(x, c);
  if (c->head_len < 13 || memcmp(h, "HTTP/1.", 7) != 0 || memcmp(h + 8, " 200 ", 5) != 0)
    return fail(x, -EPROTO, "job %" PRIu64 " seed %" PRIu64 ": status line is not HTTP/1.x 200: %.*s", job, seed,
                (int)strcspn(h, "\r"), h);
  int64_t length = -1;
  for (const char *p = h; (p = memchr(p, '\n', (size_t)(end - p))) != NULL && ++p < end;) {
    if ((size_t)(end - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) {
      char *num_end;
      length = strtoll(p + 15, &num_end, 10);
      if (num_end == p + 15 || *num_end != '\r') length = -1;
    }
  }
  if (length < 0 || (uint64_t)length != x->o->bytes)
    return fail(x, -EPROTO, "job %" PRIu64 " seed %" PRIu64 ": Content-Length missing or not %" PRIu64, job, seed,
                x->o->bytes);
  c->body_left = (uint64_t)length;
  cb_body_check_init(&c->check, seed);
  c->st = BODY;
  return 0;
}

/* The current body is complete: fold it into the job, then ask for the next one
 * or close the connection after the K-th. */
static int response_done(floor_ctx *x, conn *c) {
  if (!c->check.ok)
    return fail(x, -EBADMSG, "job %" PRIu64 " seed %" PRIu64 ": body differs from the one asked for", job_of(x, c),
                seed_of(x, c));
  c->acc = cb_http_combine(c->acc, c->check.digest);
  if (++c->k < x->o->requests) return send_request(x, c);
  close(c->fd); /* also leaves the epoll set */
  c->fd = -1;
  if (++x->finished == x->o->tasks) x->t_done = cb_now_ns();
  return 0;
}

/* Consumes len received bytes: head bytes into c->head until CRLF CRLF, then
 * body bytes through the checker. Bytes beyond the body are a protocol error:
 * we never pipeline, so the server has nothing else to say. */
static int consume(floor_ctx *x, conn *c, const unsigned char *p, size_t len) {
  if (c->st == HEAD) {
    size_t old = c->head_len, take = len < HEAD_MAX - old ? len : HEAD_MAX - old;
    memcpy(c->head + old, p, take);
    c->head_len = (uint16_t)(old + take);
    size_t from = old > 3 ? old - 3 : 0;
    char *crlf2 = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
    if (!crlf2) {
      if (c->head_len < HEAD_MAX) return 0;
      return fail(x, -EPROTO, "job %" PRIu64 ": response head longer than %d bytes", job_of(x, c), HEAD_MAX);
    }
    c->head_len = (uint16_t)(crlf2 + 4 - c->head);
    p += c->head_len - old;
    len -= c->head_len - old;
    if (parse_head(x, c) != 0) return x->r->err;
  }
  size_t take = len < c->body_left ? len : (size_t)c->body_left;
  cb_body_check_feed(&c->check, p, take);
  c->body_left -= take;
  if (take < len)
    return fail(x, -EPROTO, "job %" PRIu64 " seed %" PRIu64 ": %zu bytes arrived after the body", job_of(x, c),
                seed_of(x, c), len - take);
  return c->body_left == 0 ? response_done(x, c) : 0;
}

/* One readable event: one read (level-triggered epoll calls again if more is
 * waiting). EOF before the K-th body is a failure. */
static int on_readable(floor_ctx *x, conn *c) {
  ssize_t n = read(c->fd, x->rbuf, sizeof x->rbuf);
  if (n > 0) return consume(x, c, x->rbuf, (size_t)n);
  if (n < 0 && errno == EAGAIN) return 0;
  return fail(x, n == 0 ? -ECONNRESET : -errno, "job %" PRIu64 " seed %" PRIu64 ": %s", job_of(x, c), seed_of(x, c),
              n == 0 ? "server closed the connection before the response was complete" : strerror(errno));
}

static int on_event(floor_ctx *x, conn *c) { return c->st == SENDING ? send_request(x, c) : on_readable(x, c); }

/* Opens connection c with a non-blocking connect and writes its first request
 * at once: on loopback the handshake completes inside connect(), so the request
 * usually goes out now and the connection is registered for EPOLLIN only. */
static int open_conn(floor_ctx *x, conn *c) {
  const cb_http_floor_opts *o = x->o;
  c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return fail(x, -errno, "socket for job %" PRIu64 ": %s%s", job_of(x, c), strerror(errno),
                errno == EMFILE || errno == ENFILE ? " (out of descriptors)" : "");
  if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) != 0 && errno != EINPROGRESS)
    return fail(x, -errno, "connect for job %" PRIu64 ": %s", job_of(x, c), strerror(errno));
  return send_request(x, c);
}

/* The timed phase: open every connection, then serve events until every job is
 * done, a failure, or the deadline. */
static void drive(floor_ctx *x) {
  const cb_http_floor_opts *o = x->o;
  int64_t deadline = x->t0 + (int64_t)(o->timeout_s * 1e9);
  for (uint64_t i = 0; i < o->tasks; i++)
    if (open_conn(x, &x->conns[i]) != 0) return;
  struct epoll_event evs[MAX_EVENTS];
  while (x->finished < o->tasks && !x->r->err) {
    int64_t left_ns = deadline - cb_now_ns();
    if (left_ns <= 0) {
      fail(x, -ETIMEDOUT, "timed out after %.0f s: %" PRIu64 " of %" PRIu64 " jobs done", o->timeout_s, x->finished,
           o->tasks);
      return;
    }
    int n = epoll_wait(x->ep, evs, MAX_EVENTS, (int)((left_ns + 999999) / 1000000));
    if (n < 0 && errno != EINTR) {
      fail(x, -errno, "epoll_wait: %s", strerror(errno));
      return;
    }
    for (int e = 0; e < n && !x->r->err; e++) on_event(x, evs[e].data.ptr);
  }
}

static void verify(floor_ctx *x) {
  const cb_http_floor_opts *o = x->o;
  cb_http_floor_result *r = x->r;
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < o->tasks; i++) {
    uint64_t want = 0;
    for (uint64_t k = 0; k < o->requests; k++)
      want = cb_http_combine(want, cb_body_digest(cb_http_request_seed(i, k, o->requests), o->bytes));
    r->expected_checksum += cb_verify_fold(i, want);
    const conn *c = &x->conns[i];
    if (c->k < o->requests) continue; /* not done */
    r->jobs_done++;
    r->checksum += cb_verify_fold(i, c->acc);
    if (c->acc != want) wrong++;
  }
  if (wrong && !r->err) fail(x, -EBADMSG, "%" PRIu64 " job(s) returned a wrong result", wrong);
  r->verified = !r->err && r->jobs_done == o->tasks && r->checksum == r->expected_checksum;
}

int cb_http_floor_run(const cb_http_floor_opts *o, cb_http_floor_result *r) {
  *r = (cb_http_floor_result){0};
  floor_ctx *x = calloc(1, sizeof *x);
  conn *conns = calloc(o->tasks, sizeof *conns);
  if (!x || !conns) {
    free(x);
    free(conns);
    snprintf(r->error, sizeof r->error, "out of memory for %" PRIu64 " connections", o->tasks);
    return r->err = -ENOMEM;
  }
  x->o = o;
  x->r = r;
  x->conns = conns;
  for (uint64_t i = 0; i < o->tasks; i++) conns[i].fd = -1;
  x->ep = epoll_create1(EPOLL_CLOEXEC);
  if (x->ep < 0) {
    fail(x, -errno, "epoll_create1: %s", strerror(errno));
  } else {
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    x->t0 = cb_now_ns();
    drive(x);
    getrusage(RUSAGE_SELF, &ru1);
    r->user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    r->sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    close(x->ep);
  }
  for (uint64_t i = 0; i < o->tasks; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  verify(x);
  if (r->verified) {
    r->wall_s = (x->t_done - x->t0) / 1e9;
    r->connect_phase_s = (x->t_connected - x->t0) / 1e9;
  }
  free(conns);
  free(x);
  return r->err;
}
