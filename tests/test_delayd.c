/* test_delayd.c — the loopback latency server: correct bodies, keep-alive and
 * pipelining, the delay, malformed and truncated requests, loopback-only binds,
 * clean stop on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "servers/delayd/delayd.h"
#include "runtimes/runtime.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/run_cmd.h"
#include "workloads/body.h"

static cb_server srv;
static int port;

static void start(void) {
  inproc_start_delayd(&srv);
  port = atoi(strrchr(srv.url, ':') + 1);
}
static void stop(void) { cb_server_stop(&srv); }

TestSuite(delayd, .init = start, .fini = stop, .timeout = 60);

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static void send_str(int fd, const char *s) { cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s)); }

/* Reads until the peer closes or `want` bytes arrived or 5 s passed. */
static size_t read_upto(int fd, char *buf, size_t want) {
  size_t have = 0;
  while (have < want) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, 5000) != 1) break;
    ssize_t r = read(fd, buf + have, want - have);
    if (r <= 0) break;
    have += (size_t)r;
  }
  return have;
}

/* Reads one response: returns the status and copies the body (Content-Length). */
static int read_response(int fd, char *body, size_t cap, size_t *body_len) {
  char head[1024];
  size_t n = 0;
  while (n < sizeof head - 1) {
    if (read_upto(fd, head + n, 1) != 1) return -1;
    n++;
    if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[n] = '\0';
  int status = atoi(head + 9);
  const char *cl = strcasestr(head, "Content-Length:");
  cr_assert_not_null(cl, "no Content-Length in %s", head);
  size_t len = strtoul(cl + 15, NULL, 10);
  cr_assert_leq(len, cap);
  *body_len = read_upto(fd, body, len);
  cr_assert_eq(*body_len, len, "short body");
  return status;
}

static void expect_body(const char *body, size_t len, uint64_t seed) {
  char *want = malloc(len + 1);
  cb_body_fill(seed, 0, (unsigned char *)want, len);
  cr_expect(memcmp(body, want, len) == 0, "body for seed %llu differs", (unsigned long long)seed);
  free(want);
}

Test(delayd, serves_the_seeded_body_after_the_delay) {
  int fd = dial();
  static char body[100000];
  size_t len;
  int64_t t0 = cb_now_ns();
  send_str(fd, "GET /?ms=60&bytes=100000&seed=42 HTTP/1.1\r\nHost: x\r\n\r\n");
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  int64_t waited = cb_now_ns() - t0;
  cr_expect_eq(len, 100000);
  expect_body(body, len, 42);
  cr_expect_geq(waited, 60 * 1000000LL, "answered after %lld ns, before the 60 ms delay", (long long)waited);
  close(fd);
}

Test(delayd, keep_alive_and_pipelining_on_one_connection) {
  int fd = dial();
  char body[4096];
  size_t len;
  send_str(fd, "GET /?bytes=100&seed=1 HTTP/1.1\r\n\r\n");
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  expect_body(body, len, 1);
  /* Two requests in one write: both answered, in order. */
  send_str(fd, "GET /?bytes=10&seed=2&ms=5 HTTP/1.1\r\n\r\nGET /?bytes=20&seed=3 HTTP/1.1\r\n\r\n");
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(len, 10);
  expect_body(body, len, 2);
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(len, 20);
  expect_body(body, len, 3);
  close(fd);
}

/* A client that sends its requests and then half-closes still gets every answer,
 * in order, and then the server closes. */
Test(delayd, requests_before_a_half_close_are_answered) {
  int fd = dial();
  char body[4096], extra[16];
  size_t len;
  send_str(fd, "GET /?bytes=10&seed=5&ms=20 HTTP/1.1\r\n\r\nGET /?bytes=30&seed=6&ms=5 HTTP/1.1\r\n\r\n");
  cr_assert_eq(shutdown(fd, SHUT_WR), 0);
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(len, 10);
  expect_body(body, len, 5);
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(len, 30);
  expect_body(body, len, 6);
  cr_expect_eq(read_upto(fd, extra, sizeof extra), 0, "connection not closed after the peer's EOF");
  close(fd);
}

/* Pipelined requests beyond the request buffer (8 KiB) while a response is
 * delayed: reading pauses, then every one is answered. */
Test(delayd, a_long_pipeline_is_answered_in_order) {
  int fd = dial();
  enum { N = 400 }; /* ~40 bytes each: about twice the request buffer */
  static char reqs[N * 64];
  size_t off = 0;
  for (int k = 0; k < N; k++) off += (size_t)snprintf(reqs + off, sizeof reqs - off, "GET /?bytes=8&seed=%d HTTP/1.1\r\n\r\n", k + 1);
  cr_assert_eq(write(fd, reqs, off), (ssize_t)off);
  char body[64];
  size_t len;
  for (int k = 0; k < N; k++) {
    cr_assert_eq(read_response(fd, body, sizeof body, &len), 200, "response %d", k);
    expect_body(body, len, (uint64_t)k + 1);
  }
  close(fd);
}

static void expect_rejected(const char *request, int want_status) {
  int fd = dial();
  char body[4096], extra[16];
  size_t len;
  send_str(fd, request);
  cr_expect_eq(read_response(fd, body, sizeof body, &len), want_status, "request: %s", request);
  cr_expect_eq(read_upto(fd, extra, sizeof extra), 0, "connection not closed after %d", want_status);
  close(fd);
}

Test(delayd, malformed_requests_get_400_and_close) {
  expect_rejected("POST / HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET / HTTP/9.9\r\n\r\n", 400);
  expect_rejected("GET /?ms=abc HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET /?ms=99999999999 HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET /?bytes=-1 HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET /?what=1 HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400);
  expect_rejected("\x01\x02\x03\r\n\r\n", 400);
  expect_rejected("garbage\r\n\r\n", 400);
}

Test(delayd, oversized_head_gets_431) {
  int fd = dial();
  char big[9000];
  memset(big, 'a', sizeof big);
  cr_assert_eq(write(fd, "GET / HTTP/1.1\r\nX: ", 19), 19);
  cr_assert_eq(write(fd, big, sizeof big), (ssize_t)sizeof big);
  char body[4096];
  size_t len;
  cr_expect_eq(read_response(fd, body, sizeof body, &len), 431);
  close(fd);
}

Test(delayd, survives_truncated_requests_and_resets) {
  for (int k = 0; k < 50; k++) {
    int fd = dial();
    send_str(fd, "GET /?ms=1&bytes=10");
    if (k % 2) {
      struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* RST on close */
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(fd);
  }
  /* A request whose client leaves before the delayed answer. */
  int gone = dial();
  send_str(gone, "GET /?ms=30&bytes=100000 HTTP/1.1\r\n\r\n");
  close(gone);
  usleep(60000);
  int fd = dial();
  char body[64];
  size_t len;
  send_str(fd, "GET /?bytes=5&seed=9 HTTP/1.1\r\n\r\n");
  cr_expect_eq(read_response(fd, body, sizeof body, &len), 200, "server died after truncated requests");
  close(fd);
}

Test(delayd, connection_close_is_honoured) {
  int fd = dial();
  char body[64], extra[8];
  size_t len;
  send_str(fd, "GET /?bytes=5 HTTP/1.1\r\nConnection: close\r\n\r\n");
  cr_expect_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(read_upto(fd, extra, sizeof extra), 0);
  close(fd);
}

Test(delayd, refuses_non_loopback_binds) {
  const char *hosts[] = {"0.0.0.0", "192.0.2.7", "::", "example.com"};
  for (size_t k = 0; k < 4; k++) {
    char *const argv[] = {CB_BIN_DIR "/delayd", "--host", (char *)hosts[k], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_expect_eq(r.code, 2, "--host %s: exit %d", hosts[k], r.code);
    cr_expect(strstr(r.err, "loopback") != NULL, "--host %s: %s", hosts[k], r.err);
    cmd_result_free(&r);
  }
  cb_delayd_options opt = {.host = "0.0.0.0", .port = 0};
  cr_expect_eq(cb_delayd_serve(&opt), -EPERM);
  cr_expect(cb_is_loopback_host("127.3.4.5"));
  cr_expect(cb_is_loopback_host("::1"));
  cr_expect_not(cb_is_loopback_host("128.0.0.1"));
}

Test(delayd, bad_spin_us_is_refused) {
  const char *bad[] = {"-1", "100001", "2x", ""};
  for (size_t k = 0; k < 4; k++) {
    char *const argv[] = {CB_BIN_DIR "/delayd", "--spin-us", (char *)bad[k], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_expect_eq(r.code, 2, "--spin-us '%s': exit %d", bad[k], r.code);
    cr_expect(strstr(r.err, "--spin-us") != NULL, "--spin-us '%s': %s", bad[k], r.err);
    cmd_result_free(&r);
  }
}

/* CPU seconds (user + system) the process has used, from /proc/PID/stat. */
static double cpu_s(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  cr_assert(f != NULL);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  unsigned long ut = 0, st = 0;
  const char *p = strrchr(buf, ')'); /* fields after the command name */
  cr_assert(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2);
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The spin after each event (CB_DELAYD_SPIN_US_DEFAULT) is bounded: once requests
 * stop, the server sleeps in epoll instead of burning its core. */
Test(delayd, sleeps_when_idle_after_its_spin) {
  int fd = dial();
  char body[64];
  size_t len;
  for (int i = 0; i < 20; i++) {
    send_str(fd, "GET /?ms=0&bytes=16&seed=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  }
  usleep(100 * 1000); /* far past the spin */
  double before = cpu_s(srv.pid);
  usleep(500 * 1000);
  double used = cpu_s(srv.pid) - before;
  cr_expect(used < 0.1, "an idle delayd used %.2f s of CPU in 0.5 s (spinning?)", used);
  close(fd);
}

Test(delayd, stops_cleanly_on_sigterm_with_open_connections) {
  cb_server own;
  inproc_start_delayd(&own);
  int own_port = atoi(strrchr(own.url, ':') + 1);
  int fds[20];
  for (int k = 0; k < 20; k++) {
    fds[k] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)own_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fds[k], (struct sockaddr *)&a, sizeof a), 0);
    if (k % 2) send_str(fds[k], "GET /?ms=5000 HTTP/1.1\r\n\r\n");
  }
  usleep(50000);
  kill(own.pid, SIGTERM);
  int status;
  cr_assert_eq(waitpid(own.pid, &status, 0), own.pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
  own.pid = 0;
  for (int k = 0; k < 20; k++) close(fds[k]);
}

/* 10,000 connections open at once, each with a delayed request in flight: every
 * one is answered with its own body. Served one at a time this would take 50 min. */
Test(delayd, holds_ten_thousand_concurrent_connections, .timeout = 120) {
  enum { CONNS = 10000 };
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < CONNS + 100) cr_skip_test("RLIMIT_NOFILE hard limit %lu < %d", (unsigned long)rl.rlim_max, CONNS + 100);
  static struct pollfd pf[CONNS];
  static char got[CONNS][128];
  static size_t have[CONNS];
  for (int k = 0; k < CONNS; k++) {
    pf[k].fd = dial();
    pf[k].events = POLLIN;
  }
  for (int k = 0; k < CONNS; k++) {
    char req[96];
    snprintf(req, sizeof req, "GET /?ms=300&bytes=16&seed=%d HTTP/1.1\r\n\r\n", k);
    send_str(pf[k].fd, req);
  }
  int pending = CONNS;
  while (pending > 0) {
    int n = poll(pf, CONNS, 10000);
    cr_assert_gt(n, 0, "no progress in 10 s with %d responses pending", pending);
    for (int k = 0; k < CONNS; k++) {
      if (pf[k].fd < 0 || !pf[k].revents) continue;
      ssize_t r = read(pf[k].fd, got[k] + have[k], sizeof got[k] - 1 - have[k]);
      if (r > 0) have[k] += (size_t)r;
      char *body = memmem(got[k], have[k], "\r\n\r\n", 4);
      if (r <= 0 || (body && (size_t)(got[k] + have[k] - body) >= 4 + 16)) {
        close(pf[k].fd);
        pf[k].fd = -1;
        pending--;
      }
    }
  }
  for (int k = 0; k < CONNS; k++) {
    char *body = memmem(got[k], have[k], "\r\n\r\n", 4);
    cr_assert_not_null(body, "connection %d: no response", k);
    cr_assert_eq(strncmp(got[k], "HTTP/1.1 200", 12), 0, "connection %d: %.20s", k, got[k]);
    expect_body(body + 4, 16, (uint64_t)k);
  }
}
