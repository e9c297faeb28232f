/* test_serve_models.c — the green and loop servers, served in-process on a loopback
 * listening socket: many connections at once with the right bytes, stop with
 * connections still open, max_conns refusal, idle connections closed. The workload
 * is this file's own echo, so the models are tested on their own. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/util.h"
#include "runtimes/green/green.h"
#include "runtimes/loop/combinators.h"
#include "runtimes/loop/model.h"
#include "runtimes/models.h"

TestSuite(serve_models, .timeout = 120);

/* ---- the test's echo workload: every byte read is written back ---- */

static int echo_conn(const cb_job_env *env, int fd, int64_t idle_ms, cb_serve_counts *counts) {
  struct timeval tv = {idle_ms / 1000, (idle_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return -errno;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) return errno == EAGAIN ? -ETIMEDOUT : -errno;
    counts->bytes_in += (uint64_t)n;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
      if (w < 0) return -errno;
      off += w;
    }
    counts->bytes_out += (uint64_t)n;
    counts->requests++;
  }
}

typedef struct echo_frame {
  cb_stream_handler_frame h;
  cb_wait_for wf;
} echo_frame;

static int echo_co(cb_task *task, void *vf) {
  echo_frame *f = vf;
  cb_loop_serve_ctx *ctx = f->h.arg;
  cb_stream *s = f->h.stream;
  CB_CO_BEGIN(task, &f->h);
  for (;;) {
    cb_stream_read(f->h.stream, 65536);
    cb_wait_for_init(&f->wf, cb_task_loop(task), &f->h.stream->rd, (uint64_t)ctx->idle_ms * 1000000);
    CB_AWAIT(&f->wf.fut);
    if (s->rd.result.u == 0) break;
    ctx->counts.bytes_in += s->rd.result.u;
    if (cb_stream_write(s, cb_stream_data(s), s->rd.result.u) != 0) CB_RAISE(-EPIPE, "write failed");
    ctx->counts.bytes_out += s->rd.result.u;
    ctx->counts.requests++;
    CB_AWAIT(cb_stream_drain(f->h.stream));
  }
  CB_CO_END();
}

static const struct cb_async_conn echo_async = {.fn = echo_co, .frame_size = sizeof(echo_frame)};

static const cb_workload test_echo = {
    .name = "test-echo",
    .kind = CB_KIND_SERVER,
    .serve_conn = echo_conn,
    .serve_async = &echo_async,
};

/* ---- a server in a thread of this process ---- */

typedef struct server {
  const cb_model *model;
  cb_params params;
  cb_job_env env;
  cb_serve_spec spec;
  cb_run_report report;
  int stop_wr, ready_rd, port, rc;
  pthread_t tid;
} server;

static void *server_main(void *p) {
  server *sv = p;
  sv->rc = sv->model->serve(&sv->spec, &sv->report);
  close(sv->spec.ready_fd); /* a server that failed before it served: the test sees EOF */
  return NULL;
}

static void server_start(server *sv, const cb_model *m, const cb_workload *w, uint64_t max_conns, int64_t idle_ms) {
  signal(SIGPIPE, SIG_IGN);
  cb_raise_fd_limit();
  memset(sv, 0, sizeof *sv);
  sv->model = m;
  sv->env = (cb_job_env){.workload = w, .params = &sv->params};
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4096) == 0 &&
            getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
  sv->port = ntohs(a.sin_port);
  int stop[2], ready[2];
  cr_assert(pipe2(stop, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0);
  sv->stop_wr = stop[1];
  sv->ready_rd = ready[0];
  sv->spec = (cb_serve_spec){.workload = w, .env = &sv->env, .listen_fd = lfd, .stop_fd = stop[0],
                             .max_conns = max_conns, .idle_ms = idle_ms, .ready_fd = ready[1]};
  cr_assert(pthread_create(&sv->tid, NULL, server_main, sv) == 0);
}

/* 1 once the server said it serves, 0 if it ended first. */
static int server_ready(server *sv) {
  char b;
  return read(sv->ready_rd, &b, 1) == 1;
}

/* Tells the server to stop and waits for it (the suite's timeout catches a hang). */
static void server_stop(server *sv) {
  char b = 1;
  cr_assert(write(sv->stop_wr, &b, 1) == 1);
  pthread_join(sv->tid, NULL);
  close(sv->stop_wr);
  close(sv->ready_rd);
  close(sv->spec.stop_fd);
  close(sv->spec.listen_fd);
}

static int client_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
  return fd;
}

static void send_all(int fd, const void *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);
    cr_assert(w > 0, "send: %s", strerror(errno));
    off += (size_t)w;
  }
}

/* Reads exactly n bytes; returns how many came before EOF or an error. */
static size_t recv_all(int fd, void *buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = recv(fd, (char *)buf + off, n - off, 0);
    if (r <= 0) break;
    off += (size_t)r;
  }
  return off;
}

/* 1 when the server closed fd (EOF or reset), waiting as long as it takes. */
static int closed_by_server(int fd) {
  char b;
  ssize_t r = recv(fd, &b, 1, 0);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* ---- echo: green and loop ---- */

#define MSG 1000

static void fill_msg(char *m, int conn, int round) {
  for (int k = 0; k < MSG; k++) m[k] = (char)('a' + (conn * 7 + round * 13 + k) % 26);
}

/* conns connections open at once, each echoing rounds messages; then stop with all
 * of them still open: the server returns, every client sees its connection closed. */
static void echo_many(const cb_model *m, int conns, int rounds) {
  server sv;
  server_start(&sv, m, &test_echo, (uint64_t)conns + 10, 30000);
  cr_assert(server_ready(&sv), "%s: %s", m->name, sv.report.error);
  int *fds = calloc((size_t)conns, sizeof *fds);
  for (int c = 0; c < conns; c++) fds[c] = client_connect(sv.port);
  char out[MSG], in[MSG];
  for (int r = 0; r < rounds; r++) {
    for (int c = 0; c < conns; c++) {
      fill_msg(out, c, r);
      send_all(fds[c], out, MSG);
    }
    for (int c = 0; c < conns; c++) {
      fill_msg(out, c, r);
      cr_assert_eq(recv_all(fds[c], in, MSG), MSG, "%s: connection %d round %d: short echo", m->name, c, r);
      cr_assert(memcmp(in, out, MSG) == 0, "%s: connection %d round %d: wrong bytes", m->name, c, r);
    }
  }
  server_stop(&sv);
  cr_assert_eq(sv.rc, 0, "%s: serve returned %d: %s", m->name, sv.rc, sv.report.error);
  for (int c = 0; c < conns; c++) {
    cr_assert(closed_by_server(fds[c]), "%s: connection %d still open after stop", m->name, c);
    close(fds[c]);
  }
  free(fds);
  const cb_serve_totals *t = &sv.report.serve;
  uint64_t bytes = (uint64_t)conns * rounds * MSG;
  cr_expect_eq(t->counts.bytes_in, bytes, "%s: bytes in %llu", m->name, (unsigned long long)t->counts.bytes_in);
  cr_expect_eq(t->counts.bytes_out, bytes, "%s: bytes out %llu", m->name, (unsigned long long)t->counts.bytes_out);
  cr_expect_geq(t->counts.requests, (uint64_t)conns * rounds, "%s", m->name);
  cr_expect_eq(t->accepted, (uint64_t)conns, "%s: accepted %llu", m->name, (unsigned long long)t->accepted);
  cr_expect_eq(t->refused, 0, "%s", m->name);
  cr_expect_eq(t->peak_open, (uint64_t)conns, "%s: peak_open %llu", m->name, (unsigned long long)t->peak_open);
  cr_expect_eq(t->closed_idle, 0, "%s", m->name);
  cr_expect_geq(sv.report.created, (uint64_t)conns, "%s: created %llu", m->name, (unsigned long long)sv.report.created);
  cr_expect_eq(sv.report.concurrency, (uint64_t)conns + 10, "%s", m->name);
  cr_expect_str_empty(sv.report.error, "%s", m->name);
}

Test(serve_models, green_echo_many_connections) { echo_many(&cb_model_green, 200, 3); }
Test(serve_models, loop_echo_many_connections) { echo_many(&cb_model_loop, 200, 3); }

/* max_conns open: the next connection is accepted and closed at once, counted
 * refused; the open ones still echo. */
static void refuses_beyond_max(const cb_model *m) {
  enum { MAX = 5 };
  server sv;
  server_start(&sv, m, &test_echo, MAX, 30000);
  cr_assert(server_ready(&sv));
  int fds[MAX];
  char out[MSG], in[MSG];
  fill_msg(out, 1, 1);
  for (int c = 0; c < MAX; c++) { /* each one served before the next arrives */
    fds[c] = client_connect(sv.port);
    send_all(fds[c], out, MSG);
    cr_assert_eq(recv_all(fds[c], in, MSG), MSG, "%s: connection %d", m->name, c);
  }
  int extra = client_connect(sv.port);
  cr_assert(closed_by_server(extra), "%s: the connection beyond max_conns was served", m->name);
  close(extra);
  send_all(fds[0], out, MSG);
  cr_assert_eq(recv_all(fds[0], in, MSG), MSG, "%s: an open connection stopped echoing", m->name);
  server_stop(&sv);
  for (int c = 0; c < MAX; c++) close(fds[c]);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_eq(sv.report.serve.refused, 1, "%s: refused %llu", m->name, (unsigned long long)sv.report.serve.refused);
  cr_expect_eq(sv.report.serve.accepted, MAX + 1, "%s: accepted %llu", m->name,
               (unsigned long long)sv.report.serve.accepted);
  cr_expect_eq(sv.report.serve.peak_open, MAX, "%s", m->name);
}

Test(serve_models, green_refuses_beyond_max_conns) { refuses_beyond_max(&cb_model_green); }
Test(serve_models, loop_refuses_beyond_max_conns) { refuses_beyond_max(&cb_model_loop); }

/* A connection that sends nothing for idle_ms is closed and counted; one that
 * talks is served meanwhile. */
static void closes_idle(const cb_model *m) {
  server sv;
  server_start(&sv, m, &test_echo, 10, 200);
  cr_assert(server_ready(&sv));
  int idle = client_connect(sv.port), busy = client_connect(sv.port);
  char out[MSG], in[MSG];
  fill_msg(out, 2, 2);
  send_all(busy, out, MSG);
  cr_assert_eq(recv_all(busy, in, MSG), MSG);
  cr_assert(closed_by_server(idle), "%s: the idle connection was not closed", m->name);
  server_stop(&sv);
  close(idle);
  close(busy);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_geq(sv.report.serve.closed_idle, 1, "%s", m->name);
  cr_expect_eq(sv.report.serve.accepted, 2, "%s", m->name);
}

Test(serve_models, green_closes_idle_connections) { closes_idle(&cb_model_green); }
Test(serve_models, loop_closes_idle_connections) { closes_idle(&cb_model_loop); }

/* Stop before any connection: the server returns at once, nothing accepted. */
static void stops_unused(const cb_model *m) {
  server sv;
  server_start(&sv, m, &test_echo, 10, 30000);
  cr_assert(server_ready(&sv));
  server_stop(&sv);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_eq(sv.report.serve.accepted, 0, "%s", m->name);
}

Test(serve_models, green_stops_unused) { stops_unused(&cb_model_green); }
Test(serve_models, loop_stops_unused) { stops_unused(&cb_model_loop); }

/* The setsockopt hook: a green thread's read on a silent socket with SO_RCVTIMEO
 * ends with EAGAIN, as the kernel's would; a write-side timeout does not affect it. */
typedef struct rcvtimeo_case {
  int fd;
  ssize_t r;
  int err;
} rcvtimeo_case;

static void rcvtimeo_reader(void *p) {
  rcvtimeo_case *c = p;
  struct timeval tv = {0, 50000};
  cr_assert(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  char b;
  c->r = read(c->fd, &b, 1);
  c->err = errno;
}

Test(serve_models, green_read_honours_so_rcvtimeo) {
  int sp[2];
  cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  cb_green_sched *s;
  cr_assert(cb_green_sched_new(0, &s) == 0);
  rcvtimeo_case c = {.fd = sp[0]};
  cr_assert(cb_green_spawn(s, rcvtimeo_reader, &c, NULL) == 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_sched_free(s);
  cr_expect_eq(c.r, -1);
  cr_expect_eq(c.err, EAGAIN, "errno %d (%s)", c.err, strerror(c.err));
  close(sp[0]);
  close(sp[1]);
}

