/* test_serve.c — the server workloads (echo, serve) under the sync-world server
 * models (sync, threads C=0 and C=4, procs C=0 and C=2) and serve's async world on
 * a loop, in-process and without the load generator: a listening socket on
 * 127.0.0.1:0, the model's serve in a thread, a small blocking client here.
 * Checked: replies byte for byte (cb_body_check), keep-alive, pipelining in order,
 * 400 and close for a malformed request with the server going on, Connection:
 * close, a backend call through delayd, stop with a connection open, max_conns
 * refusals, the idle bound, and the totals. No timed assertion: the client's
 * receive timeout only turns a hang into a failure. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtimes/loop/model.h"
#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/proctree.h"
#include "tests/helpers/serve_thread.h"
#include "workloads/body.h"
#include "workloads/workloads.h"

static void setup(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

TestSuite(serve, .timeout = 120, .init = setup);

/* ---- a server under test: serve_thread, waited for until it serves ---- */
typedef serve_thread server;

static void server_start(server *s, const char *model, const cb_workload *w, const char *const params[],
                         uint64_t conc, uint64_t max_conns, int64_t idle_ms, const char *server_url) {
  serve_thread_start(s, cb_model_find(model), w, params, server_url, conc, max_conns, idle_ms);
  cr_assert(serve_thread_ready(s), "the model never said it serves: %s", s->report.error);
}

/* Stops the server and checks that serve returned 0 with no error. */
static void server_stop(server *s) {
  serve_thread_stop(s);
  cr_assert_eq(s->rc, 0, "%s: serve returned %d: %s", s->model->name, s->rc, s->report.error);
  cr_expect_str_empty(s->report.error, "%s", s->model->name);
}

/* ---- a blocking client ---- */
typedef struct client {
  int fd;
  char *buf;
  size_t len, cap;
} client;

static void cli_open(client *c, int port) {
  c->fd = loopback_connect(port);
  struct timeval tv = {.tv_sec = 30}; /* a hang guard, not a timing */
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->len = 0;
  c->cap = 1 << 16;
  c->buf = malloc(c->cap);
}

static void cli_close(client *c) {
  close(c->fd);
  free(c->buf);
}

static void cli_send(client *c, const void *data, size_t n) { send_all(c->fd, data, n); }

static void cli_send_str(client *c, const char *s) { cli_send(c, s, strlen(s)); }

/* Reads more into the buffer: the count, 0 at EOF, -1 on error (reset, timeout). */
static ssize_t cli_fill(client *c) {
  if (c->len == c->cap) c->buf = realloc(c->buf, c->cap *= 2);
  ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
  if (r > 0) c->len += (size_t)r;
  return r;
}

static void cli_take(client *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* 1 when the server closed the connection (EOF or reset) with nothing unread. */
static int cli_closed(client *c) { return c->len == 0 && cli_fill(c) <= 0; }

/* Reads one reply: its status, and whether it says Connection: close; the body
 * must be `bytes` bytes of seed's. */
static int cli_reply(client *c, uint64_t seed, uint64_t bytes, int *conn_close) {
  char *end;
  while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) cr_assert_gt(cli_fill(c), 0, "no reply head");
  size_t head = (size_t)(end + 4 - c->buf);
  int status = 0;
  unsigned long long clen = 0;
  cr_assert_eq(sscanf(c->buf, "HTTP/1.1 %d", &status), 1);
  char *cl = memmem(c->buf, head, "Content-Length: ", 16);
  cr_assert_not_null(cl);
  clen = strtoull(cl + 16, NULL, 10);
  if (conn_close) *conn_close = memmem(c->buf, head, "Connection: close", 17) != NULL;
  while (c->len < head + clen) cr_assert_gt(cli_fill(c), 0, "reply body cut short");
  if (status == 200) {
    cr_assert_eq(clen, bytes);
    cb_body_check chk;
    cb_body_check_init(&chk, seed);
    cb_body_check_feed(&chk, c->buf + head, clen);
    cr_assert(chk.ok, "the body differs from seed %llu's", (unsigned long long)seed);
  }
  cli_take(c, head + clen);
  return status;
}

static void cli_get(client *c, uint64_t seed, uint64_t bytes) {
  char req[256];
  snprintf(req, sizeof req, "GET /?bytes=%llu&seed=%llu HTTP/1.1\r\nHost: x\r\n\r\n", (unsigned long long)bytes,
           (unsigned long long)seed);
  cli_send_str(c, req);
  int cc;
  cr_assert_eq(cli_reply(c, seed, bytes, &cc), 200);
  cr_assert_not(cc);
}

/* ---- serve: the sync-world scenario every model passes ---- */
static const char *const serve_small[] = {"bytes=3000", "seed=7", NULL};

static void serve_scenario(const char *model, uint64_t conc) {
  server s;
  server_start(&s, model, &cb_workload_serve, serve_small, conc, 64, 0, NULL);
  uint64_t ok = 0, bad = 0, conns = 0;
  /* several connections, several keep-alive requests each: the cell's own body,
   * a shorter prefix of it, another seed, a body beyond one chunk, none at all */
  for (int k = 0; k < 3; k++, conns++) {
    client c;
    cli_open(&c, s.port);
    cli_get(&c, 7, 3000);
    cli_get(&c, 7, 100);
    cli_get(&c, 99 + (uint64_t)k, 40000);
    cli_get(&c, 5, 0);
    cli_send_str(&c, "GET / HTTP/1.1\r\n\r\n"); /* no query: the cell's values */
    cr_assert_eq(cli_reply(&c, 7, 3000, NULL), 200);
    ok += 5;
    cli_close(&c);
  }
  { /* pipelined, answered in order; bare LF line ends */
    client c;
    cli_open(&c, s.port);
    cli_send_str(&c, "GET /?bytes=10&seed=1 HTTP/1.1\r\n\r\nGET /?bytes=20000&seed=2 HTTP/1.1\n\n"
                     "GET /?bytes=5&seed=3&work_us=50 HTTP/1.1\r\nHost: y\r\n\r\n");
    cr_assert_eq(cli_reply(&c, 1, 10, NULL), 200);
    cr_assert_eq(cli_reply(&c, 2, 20000, NULL), 200);
    cr_assert_eq(cli_reply(&c, 3, 5, NULL), 200);
    ok += 3;
    cli_close(&c);
    conns++;
  }
  { /* Connection: close honoured */
    client c;
    cli_open(&c, s.port);
    cli_send_str(&c, "GET /?bytes=64&seed=4 HTTP/1.1\r\nConnection: close\r\n\r\n");
    int cc;
    cr_assert_eq(cli_reply(&c, 4, 64, &cc), 200);
    cr_assert(cc);
    cr_assert(cli_closed(&c));
    ok++;
    cli_close(&c);
    conns++;
  }
  /* malformed: 400 (or 414), Connection: close, the connection ends, the server goes on */
  static const char *const malformed[] = {
      "GET /?bytes=1&nope=2 HTTP/1.1\r\n\r\n",
      "GET /?bytes=99999999999 HTTP/1.1\r\n\r\n",
      "GET /other?bytes=1 HTTP/1.1\r\n\r\n",
      "POST /?bytes=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
      "GET /?bytes=1&seed= HTTP/1.1\r\n\r\n",
      "NOT HTTP AT ALL\r\n\r\n",
  };
  for (size_t k = 0; k < sizeof malformed / sizeof malformed[0]; k++, conns++) {
    client c;
    cli_open(&c, s.port);
    cli_get(&c, 8, 10); /* a good one first: the bad one ends a served connection */
    ok++;
    cli_send_str(&c, malformed[k]);
    int cc;
    cr_assert_eq(cli_reply(&c, 0, 0, &cc), 400, "%s", malformed[k]);
    cr_assert(cc);
    cr_assert(cli_closed(&c), "%s: still open after 400", malformed[k]);
    bad++;
    cli_close(&c);
  }
  { /* a target over 4 KiB: 414 */
    client c;
    cli_open(&c, s.port);
    char big[6000];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /?", 6);
    memcpy(big + sizeof big - 14, " HTTP/1.1\r\n\r\n", 14);
    cli_send(&c, big, sizeof big);
    cr_assert_eq(cli_reply(&c, 0, 0, NULL), 414);
    cr_assert(cli_closed(&c));
    bad++;
    cli_close(&c);
    conns++;
  }
  /* stop with a connection open and served: serve returns */
  client c;
  cli_open(&c, s.port);
  cli_get(&c, 9, 1000);
  ok++;
  conns++;
  server_stop(&s);
  cr_assert(cli_closed(&c), "the open connection survived stop");
  cli_close(&c);
  cb_serve_totals *t = &s.report.serve;
  cr_expect_eq(t->counts.requests, ok, "%s: requests %llu, expected %llu", model,
               (unsigned long long)t->counts.requests, (unsigned long long)ok);
  cr_expect_eq(t->counts.bad_requests, bad, "%s", model);
  cr_expect_eq(t->accepted, conns, "%s: accepted %llu, expected %llu", model, (unsigned long long)t->accepted,
               (unsigned long long)conns);
  cr_expect_eq(t->refused, 0);
  cr_expect_gt(t->counts.bytes_in, 0);
  cr_expect_gt(t->counts.bytes_out, 0);
  cr_expect_geq(t->peak_open, 1);
}

Test(serve, serve_sync) { serve_scenario("sync", 0); }
Test(serve, serve_threads_per_connection) { serve_scenario("threads", 0); }
Test(serve, serve_threads_pool) { serve_scenario("threads", 4); }
Test(serve, serve_procs_per_connection) { serve_scenario("procs", 0); }
Test(serve, serve_procs_pool) { serve_scenario("procs", 2); }

/* ---- echo ---- */
static void echo_scenario(const char *model, uint64_t conc) {
  static const char *const params[] = {"bytes=1000", NULL};
  server s;
  server_start(&s, model, &cb_workload_echo, params, conc, 64, 0, NULL);
  char msg[1000], back[1000];
  uint64_t msgs = 0;
  for (int k = 0; k < 3; k++) {
    client c;
    cli_open(&c, s.port);
    for (int m = 0; m < 5; m++, msgs++) {
      cb_body_fill((uint64_t)(k * 10 + m), 0, (unsigned char *)msg, sizeof msg);
      cli_send(&c, msg, sizeof msg);
      cr_assert_eq(recv_all(c.fd, back, sizeof back), sizeof back);
      cr_assert_eq(memcmp(msg, back, sizeof msg), 0);
    }
    cli_close(&c);
  }
  client c;
  cli_open(&c, s.port);
  cli_send(&c, msg, 10); /* a partial message, and the connection stays open */
  cr_assert_eq(recv(c.fd, back, 10, MSG_WAITALL), 10);
  server_stop(&s);
  cr_assert(cli_closed(&c));
  cli_close(&c);
  cb_serve_totals *t = &s.report.serve;
  cr_expect_eq(t->counts.requests, msgs, "%s: %llu messages, expected %llu", model,
               (unsigned long long)t->counts.requests, (unsigned long long)msgs);
  cr_expect_eq(t->counts.bytes_in, msgs * 1000 + 10);
  cr_expect_eq(t->counts.bytes_out, msgs * 1000 + 10);
  cr_expect_eq(t->accepted, 4);
}

Test(serve, echo_sync) { echo_scenario("sync", 0); }
Test(serve, echo_threads_per_connection) { echo_scenario("threads", 0); }
Test(serve, echo_threads_pool) { echo_scenario("threads", 4); }
Test(serve, echo_procs_per_connection) { echo_scenario("procs", 0); }
Test(serve, echo_procs_pool) { echo_scenario("procs", 2); }

/* ---- limits ---- */

/* max_conns open: one more is accepted and closed at once, and counted. */
static void refusal(const char *model) {
  server s;
  server_start(&s, model, &cb_workload_serve, serve_small, 0, 2, 0, NULL);
  client a, b, c;
  cli_open(&a, s.port);
  cli_get(&a, 1, 10);
  cli_open(&b, s.port);
  cli_get(&b, 2, 10);
  cli_open(&c, s.port);
  cr_assert(cli_closed(&c), "a third connection over max_conns 2 was served");
  cli_close(&c);
  cli_get(&a, 3, 10); /* the two still served */
  cli_get(&b, 4, 10);
  server_stop(&s);
  cli_close(&a);
  cli_close(&b);
  cr_expect_eq(s.report.serve.refused, 1);
  cr_expect_eq(s.report.serve.accepted, 3);
  cr_expect_eq(s.report.serve.peak_open, 2);
  cr_expect_eq(s.report.serve.counts.requests, 4);
  cr_expect_eq(s.report.concurrency, 2);
}

/* procs, a fork per connection: a child that dies mid-connection (a crash) has its
 * connection closed at once, not at stop, and the death is in the report. */
Test(serve, procs_child_killed) {
  server s;
  server_start(&s, "procs", &cb_workload_serve, serve_small, 0, 8, 0, NULL);
  client c;
  cli_open(&c, s.port);
  cli_get(&c, 1, 10);
  pid_t kids[8];
  int n = proc_add_descendants(getpid(), kids, 0, 8);
  cr_assert_eq(n, 1, "one child per open connection");
  kill(kids[0], SIGTERM);
  cr_assert(cli_closed(&c), "the dead child's connection stayed open");
  cli_close(&c);
  cli_open(&c, s.port); /* the server goes on */
  cli_get(&c, 2, 10);
  cli_close(&c);
  serve_thread_stop(&s); /* not server_stop: the child's death is an error here */
  cr_expect_eq(s.rc, 0);
  cr_expect(strstr(s.report.error, "killed by signal 15") != NULL, "error: '%s'", s.report.error);
  cr_expect_eq(s.report.serve.counts.requests, 1, "the killed child's request is lost with it");
}

Test(serve, refusal_threads) { refusal("threads"); }
Test(serve, refusal_procs) { refusal("procs"); }

/* A connection that sends nothing for idle_ms is closed and counted. */
static void idle(const char *model, uint64_t conc) {
  server s;
  server_start(&s, model, &cb_workload_serve, serve_small, conc, 8, 500, NULL);
  client c;
  cli_open(&c, s.port);
  cli_get(&c, 1, 10);
  cr_assert(cli_closed(&c), "an idle connection stayed open");
  cli_close(&c);
  cli_open(&c, s.port); /* the server goes on */
  cli_get(&c, 2, 10);
  cli_close(&c);
  server_stop(&s);
  cr_expect_geq(s.report.serve.closed_idle, 1);
}

Test(serve, idle_sync) { idle("sync", 0); }
Test(serve, idle_threads) { idle("threads", 0); }
Test(serve, idle_procs_pool) { idle("procs", 2); }

/* The backend call: wait_ms on delayd, in the sync world. */
Test(serve, backend_call_threads) {
  cb_server d;
  inproc_start_delayd(&d);
  static const char *const params[] = {"bytes=500", "wait_ms=5", NULL};
  server s;
  server_start(&s, "threads", &cb_workload_serve, params, 0, 8, 0, d.url);
  client c;
  cli_open(&c, s.port);
  cli_send_str(&c, "GET /?bytes=500&wait_ms=5&seed=1 HTTP/1.1\r\n\r\nGET /?wait_ms=1&seed=3 HTTP/1.1\r\n\r\n");
  cr_assert_eq(cli_reply(&c, 1, 500, NULL), 200);
  cr_assert_eq(cli_reply(&c, 3, 500, NULL), 200);
  cli_close(&c);
  server_stop(&s);
  cb_server_stop(&d);
  cr_expect_eq(s.report.serve.counts.requests, 2);
}

/* A workload without a server side: -ENOTSUP. */
Test(serve, not_a_server_workload) {
  cb_params p;
  inproc_params(&cb_workload_sleep, &p, NULL);
  cb_job_env env = {.workload = &cb_workload_sleep, .params = &p};
  cb_serve_spec spec = {.workload = &cb_workload_sleep, .env = &env, .listen_fd = -1, .stop_fd = -1, .max_conns = 1,
                        .ready_fd = -1};
  static const char *const models[] = {"sync", "threads", "procs"};
  for (size_t k = 0; k < 3; k++) {
    cb_run_report r = {0};
    cr_expect_eq(cb_model_find(models[k])->serve(&spec, &r), -ENOTSUP, "%s", models[k]);
  }
}

/* ---- the workloads' other parts ---- */
Test(serve, loadgen_args_and_static_reply) {
  static const char *const params[] = {"bytes=2048", "seed=5", NULL};
  cb_params p;
  inproc_params(&cb_workload_serve, &p, params);
  cb_job_env env = {.workload = &cb_workload_serve, .params = &p};
  char err[CB_ERR_LEN];
  cr_assert_eq(cb_workload_serve.prepare(&env, err), 0);
  char *argv[CB_LOADGEN_ARGS_MAX];
  char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN];
  int n = cb_workload_serve.loadgen_args(&env, argv, bufs);
  cr_assert_eq(n, 8);
  cr_expect_str_eq(argv[1], "http");
  cr_expect_str_eq(argv[3], "/?bytes=2048&work_us=0&wait_ms=0&seed=5");
  cr_expect_str_eq(argv[5], "2048");
  cr_expect_str_eq(argv[7], "5");
  cb_static_reply sr;
  cr_assert_eq(cb_workload_serve.static_reply(&env, &sr), 0);
  cr_expect_eq(sr.seed, 5);
  cr_expect_eq(sr.bytes, 2048);
  cr_expect_str_eq(sr.path, argv[3]);
  cb_workload_serve.release(&env);
  p.v[cb_param_index(&cb_workload_serve, "work_us")] = 10;
  cr_assert_eq(cb_workload_serve.prepare(&env, err), 0);
  cr_expect_eq(cb_workload_serve.static_reply(&env, &sr), -ENOTSUP);
  cb_workload_serve.release(&env);

  cb_params e;
  inproc_params(&cb_workload_echo, &e, NULL);
  env = (cb_job_env){.workload = &cb_workload_echo, .params = &e};
  n = cb_workload_echo.loadgen_args(&env, argv, bufs);
  cr_assert_eq(n, 6);
  cr_expect_str_eq(argv[1], "echo");
  cr_expect_str_eq(argv[3], "1024");
  cr_expect_null(cb_workload_echo.static_reply);
  cr_expect_null(cb_workload_echo.job);
  cr_expect_null(cb_workload_serve.job);
}

/* ---- the async world: the handlers on a loop's start_server ---- */
typedef struct loop_test {
  cb_loop *loop;
  cb_stream_server ss;
  cb_handle stop;
  cb_timer check;
  int port;
  void (*client)(struct loop_test *);
  pthread_t tid;
} loop_test;

/* Every connection's task has ended: the loop stops (a curl connection to delayd
 * may keep it busy otherwise). */
static void check_done(void *arg) {
  loop_test *lt = arg;
  if (cb_loop_tasks_alive(lt->loop) == 0) cb_loop_stop(lt->loop);
  else cb_call_later(lt->loop, &lt->check, 10 * 1000000u, check_done, lt);
}

static void on_stop(void *arg) {
  loop_test *lt = arg;
  cb_listener_close(&lt->ss.srv);
  cb_loop_unhold(lt->loop);
  check_done(lt);
}

static void *client_main(void *arg) {
  loop_test *lt = arg;
  lt->client(lt);
  cb_call_soon_threadsafe(lt->loop, &lt->stop, on_stop, lt);
  return NULL;
}

/* Serves with w's handler on a loop in this thread while client runs in another;
 * the loop runs until the client is done and every connection has ended. */
static void loop_serve(const cb_workload *w, const char *const params[], int64_t idle_ms, void (*run_client)(loop_test *),
                       cb_loop_serve_ctx *ctx, cb_params *p, const char *server_url) {
  static cb_job_env env;
  inproc_params(w, p, params);
  env = (cb_job_env){.workload = w, .params = p, .server_url = server_url};
  char err[CB_ERR_LEN];
  if (w->prepare) cr_assert_eq(w->prepare(&env, err), 0);
  *ctx = (cb_loop_serve_ctx){.env = &env, .idle_ms = idle_ms};
  loop_test lt = {.client = run_client};
  lt.loop = cb_loop_new();
  cr_assert_not_null(lt.loop);
  cr_assert_eq(cb_start_server(lt.loop, &lt.ss, w->serve_async->fn, w->serve_async->frame_size, ctx, "127.0.0.1", 0), 0);
  lt.port = cb_listener_port(&lt.ss.srv);
  cb_loop_hold(lt.loop);
  cr_assert_eq(pthread_create(&lt.tid, NULL, client_main, &lt), 0);
  cb_loop_run_forever(lt.loop);
  pthread_join(lt.tid, NULL);
  cr_assert_eq(cb_loop_tasks_alive(lt.loop), 0);
  cb_loop_close(lt.loop);
  if (w->release) w->release(&env);
}

static void serve_client(loop_test *lt) {
  client c;
  for (int k = 0; k < 2; k++) {
    cli_open(&c, lt->port);
    cli_get(&c, 7, 3000);
    cli_get(&c, 11, 70000); /* beyond one write: pieces and drains */
    cli_send_str(&c, "GET /?bytes=10&seed=1 HTTP/1.1\r\n\r\nGET /?bytes=20000&seed=2 HTTP/1.1\n\n"
                     "GET /?bytes=5&seed=3&work_us=20 HTTP/1.1\r\n\r\n");
    cr_assert_eq(cli_reply(&c, 1, 10, NULL), 200);
    cr_assert_eq(cli_reply(&c, 2, 20000, NULL), 200);
    cr_assert_eq(cli_reply(&c, 3, 5, NULL), 200);
    cli_close(&c);
  }
  cli_open(&c, lt->port);
  cli_send_str(&c, "GET /?bytes=64&seed=4 HTTP/1.1\r\nConnection: close\r\n\r\n");
  int cc;
  cr_assert_eq(cli_reply(&c, 4, 64, &cc), 200);
  cr_assert(cc && cli_closed(&c));
  cli_close(&c);
  cli_open(&c, lt->port);
  cli_get(&c, 8, 10);
  cli_send_str(&c, "GET /?bytes=1&nope=2 HTTP/1.1\r\n\r\n");
  cr_assert_eq(cli_reply(&c, 0, 0, &cc), 400);
  cr_assert(cc && cli_closed(&c));
  cli_close(&c);
  cli_open(&c, lt->port); /* idle: closed by the server */
  cli_get(&c, 9, 10);
  cr_assert(cli_closed(&c));
  cli_close(&c);
}

Test(serve, serve_async_on_a_loop) {
  static const char *const params[] = {"bytes=3000", "seed=7", NULL};
  cb_loop_serve_ctx ctx;
  cb_params p;
  loop_serve(&cb_workload_serve, params, 1000, serve_client, &ctx, &p, NULL);
  cr_expect_eq(ctx.counts.requests, 2 * 5 + 1 + 1 + 1);
  cr_expect_eq(ctx.counts.bad_requests, 1);
}

static void echo_client(loop_test *lt) {
  char msg[1000], back[1000];
  for (int k = 0; k < 3; k++) {
    client c;
    cli_open(&c, lt->port);
    for (int m = 0; m < 4; m++) {
      cb_body_fill((uint64_t)m, 0, (unsigned char *)msg, sizeof msg);
      cli_send(&c, msg, sizeof msg);
      cr_assert_eq(recv(c.fd, back, sizeof back, MSG_WAITALL), (ssize_t)sizeof back);
      cr_assert_eq(memcmp(msg, back, sizeof msg), 0);
    }
    cli_close(&c);
  }
}

Test(serve, echo_async_on_a_loop) {
  static const char *const params[] = {"bytes=1000", NULL};
  cb_loop_serve_ctx ctx;
  cb_params p;
  loop_serve(&cb_workload_echo, params, 0, echo_client, &ctx, &p, NULL);
  cr_expect_eq(ctx.counts.requests, 12);
  cr_expect_eq(ctx.counts.bytes_in, 12000);
  cr_expect_eq(ctx.counts.bytes_out, 12000);
}

static void backend_client(loop_test *lt) {
  client c;
  cli_open(&c, lt->port);
  cli_send_str(&c, "GET /?bytes=500&wait_ms=5&seed=1 HTTP/1.1\r\n\r\nGET /?wait_ms=1&seed=3 HTTP/1.1\r\n\r\n");
  cr_assert_eq(cli_reply(&c, 1, 500, NULL), 200);
  cr_assert_eq(cli_reply(&c, 3, 500, NULL), 200);
  cli_close(&c);
}

/* The backend call in the async world: the loop's fetch to delayd. */
Test(serve, backend_call_async_on_a_loop) {
  cb_server d;
  inproc_start_delayd(&d);
  static const char *const params[] = {"bytes=500", "wait_ms=5", NULL};
  cb_loop_serve_ctx ctx;
  cb_params p;
  loop_serve(&cb_workload_serve, params, 0, backend_client, &ctx, &p, d.url);
  cb_server_stop(&d);
  cr_expect_eq(ctx.counts.requests, 2);
}
