/* test_delayd.c — the loopback latency server: correct bodies, keep-alive and
 * pipelining, the delay, malformed and truncated requests, loopback-only binds,
 * clean stop on SIGTERM, and the bounds on what clients may hold: memory for large
 * unread bodies, the header and idle timeouts, the connection cap, 414 and 431
 * delivered (not reset), bare-LF requests. */
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
#include <fcntl.h>
#include <time.h>
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

static int dial_port(int p) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}
static int dial(void) { return dial_port(port); }

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

/* delayd's resident set in KiB, from /proc/PID/status. */
static long vm_rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  cr_assert(f != NULL);
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  fclose(f);
  cr_assert_gt(kib, 0);
  return kib;
}

/* 20 clients ask for 64 MiB each and read nothing: delayd generates bodies as they
 * are written, so it holds a chunk per connection, not 1.28 GB. The one body then
 * read in full is still right byte for byte. */
Test(delayd, unread_large_bodies_keep_memory_small, .timeout = 120) {
  enum { N = 20 };
  int fds[N];
  long before = vm_rss_kib(srv.pid);
  for (int k = 0; k < N; k++) {
    fds[k] = dial();
    char req[96];
    snprintf(req, sizeof req, "GET /?bytes=%d&seed=%d HTTP/1.1\r\n\r\n", CB_DELAYD_MAX_BYTES, k + 7);
    send_str(fds[k], req);
  }
  usleep(1500 * 1000); /* the answers start, then stall on full socket buffers */
  long rss = vm_rss_kib(srv.pid);
  cr_expect_lt(rss - before, 200 * 1024, "delayd grew by %ld KiB with %d unread 64 MiB answers", rss - before, N);
  /* Read one answer whole and verify it. */
  char head[512];
  size_t n = 0;
  while (n < sizeof head && !memmem(head, n, "\r\n\r\n", 4)) {
    cr_assert_eq(read_upto(fds[3], head + n, 1), 1);
    n++;
  }
  cr_assert_eq(strncmp(head, "HTTP/1.1 200", 12), 0);
  cb_body_check chk;
  cb_body_check_init(&chk, 3 + 7);
  static char buf[1 << 16];
  while (chk.offset < CB_DELAYD_MAX_BYTES) {
    size_t want = CB_DELAYD_MAX_BYTES - chk.offset < sizeof buf ? CB_DELAYD_MAX_BYTES - chk.offset : sizeof buf;
    size_t got = read_upto(fds[3], buf, want);
    cr_assert_gt(got, 0, "body ends at %llu", (unsigned long long)chk.offset);
    cb_body_check_feed(&chk, buf, got);
  }
  cr_expect(chk.ok, "the 64 MiB body differs from cb_body_fill's");
  cr_expect_eq(chk.digest, cb_body_digest(3 + 7, CB_DELAYD_MAX_BYTES));
  for (int k = 0; k < N; k++) close(fds[k]);
}

/* A delayd of the test's own, started with extra flags; its stderr goes to a file. */
typedef struct own_delayd {
  pid_t pid;
  int port;
  char err_path[64];
} own_delayd;

static void own_start(own_delayd *d, const char *const flags[]) {
  char *argv[16] = {CB_BIN_DIR "/delayd", "--port", "0"};
  int n = 3;
  for (int k = 0; flags[k]; k++) argv[n++] = (char *)flags[k];
  argv[n] = NULL;
  snprintf(d->err_path, sizeof d->err_path, "/tmp/test_delayd_err.%d", (int)getpid());
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  d->pid = fork();
  cr_assert_geq(d->pid, 0);
  if (d->pid == 0) {
    int e = open(d->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fds[1], 1);
    dup2(e, 2);
    close(fds[0]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(fds[1]);
  char line[128] = {0};
  size_t got = read_upto(fds[0], line, sizeof line - 1);
  close(fds[0]);
  char *colon = got > 0 ? strrchr(line, ':') : NULL;
  cr_assert_not_null(colon, "delayd with flags did not start: '%s'", line);
  d->port = atoi(colon + 1);
}

/* Stops it and returns what it wrote on stderr (static buffer). */
static const char *own_stop(own_delayd *d) {
  static char err[4096];
  kill(d->pid, SIGTERM);
  waitpid(d->pid, NULL, 0);
  FILE *f = fopen(d->err_path, "r");
  size_t n = f ? fread(err, 1, sizeof err - 1, f) : 0;
  err[n] = '\0';
  if (f) fclose(f);
  unlink(d->err_path);
  return err;
}

/* 1 if the server closed fd (EOF or reset) within ms, discarding what it sent. */
static int closed_within(int fd, int ms) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    int left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0) return 0;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, left) != 1) return 0;
    char buf[4096];
    if (read(fd, buf, sizeof buf) <= 0) return 1;
  }
}

/* With a 300 ms idle timeout, a connection that sends nothing, and one left idle
 * after its answer, are closed (within a generous 5 s); one that asks in time is
 * served. */
Test(delayd, idle_connections_are_closed_after_the_idle_timeout) {
  own_delayd d;
  own_start(&d, (const char *const[]){"--idle-timeout-ms", "300", NULL});
  int silent = dial_port(d.port), served = dial_port(d.port);
  send_str(served, "GET /?bytes=5&seed=1&ms=500 HTTP/1.1\r\n\r\n"); /* a delay longer than the timeout */
  char body[64];
  size_t len;
  cr_expect_eq(read_response(served, body, sizeof body, &len), 200, "a delayed request counts as idle");
  cr_expect(closed_within(silent, 5000), "a silent connection was not closed");
  cr_expect(closed_within(served, 5000), "an idle keep-alive connection was not closed");
  close(silent);
  close(served);
  own_stop(&d);
}

/* With a 300 ms header timeout: a slowloris client (a byte every 50 ms, never
 * ending its head) and a request without its final CRLF are closed. */
Test(delayd, slow_or_unfinished_heads_are_closed_after_the_header_timeout) {
  own_delayd d;
  own_start(&d, (const char *const[]){"--header-timeout-ms", "300", NULL});
  int unfinished = dial_port(d.port);
  send_str(unfinished, "GET /?bytes=5 HTTP/1.1\r\nHost: x\r\n");
  int slow = dial_port(d.port);
  const char *head = "GET /?bytes=5 HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  int closed = 0;
  for (size_t k = 0; k < strlen(head) && !closed; k++) { /* up to ~6 s */
    if (send(slow, head + k, 1, MSG_NOSIGNAL) != 1) closed = 1;
    else closed = closed_within(slow, 50);
  }
  cr_expect(closed, "a slowloris client was never closed");
  cr_expect(closed_within(unfinished, 5000), "a head without its final CRLF was not closed");
  close(slow);
  close(unfinished);
  own_stop(&d);
}

/* Beyond --max-conns open connections a new one gets 503 and is closed, with one
 * line on stderr naming the cap; once one closes, new ones are served again. */
Test(delayd, connections_beyond_the_cap_are_refused_with_a_log_line) {
  own_delayd d;
  own_start(&d, (const char *const[]){"--max-conns", "5", NULL});
  int fds[5];
  char body[64], extra[256];
  size_t len;
  for (int k = 0; k < 5; k++) { /* each accepted and served */
    fds[k] = dial_port(d.port);
    send_str(fds[k], "GET /?bytes=5&seed=1 HTTP/1.1\r\n\r\n");
    cr_assert_eq(read_response(fds[k], body, sizeof body, &len), 200);
  }
  int over = dial_port(d.port);
  size_t n = read_upto(over, extra, sizeof extra - 1);
  extra[n] = '\0';
  cr_expect(strncmp(extra, "HTTP/1.1 503", 12) == 0, "over the cap: '%s'", extra);
  cr_expect(closed_within(over, 5000));
  close(over);
  close(fds[0]);
  usleep(200 * 1000);
  int again = dial_port(d.port);
  send_str(again, "GET /?bytes=5&seed=1 HTTP/1.1\r\n\r\n");
  cr_expect_eq(read_response(again, body, sizeof body, &len), 200, "not served after a connection closed");
  close(again);
  for (int k = 1; k < 5; k++) close(fds[k]);
  const char *err = own_stop(&d);
  cr_expect(strstr(err, "refusing new connections") && strstr(err, "--max-conns 5"), "stderr: %s", err);
}

/* Sends all of data (the server may close meanwhile: errors are ignored). */
static void send_all_nosig(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return;
    data += w, n -= (size_t)w;
  }
}

/* A head far over 8 KiB, still being sent when the server answers, gets its 431
 * (the server drains instead of resetting); a target over 4 KiB gets 414. */
Test(delayd, oversized_heads_and_targets_get_431_and_414_not_a_reset) {
  enum { BIG = 256 * 1024 };
  char *req = malloc(BIG + 64);
  int n = sprintf(req, "GET / HTTP/1.1\r\nX: ");
  memset(req + n, 'a', BIG);
  memcpy(req + n + BIG, "\r\n\r\n", 4);
  int fd = dial();
  send_all_nosig(fd, req, (size_t)n + BIG + 4);
  char body[4096];
  size_t len;
  cr_expect_eq(read_response(fd, body, sizeof body, &len), 431);
  close(fd);

  n = sprintf(req, "GET /?ms=1&");
  memset(req + n, 'b', 10000);
  memcpy(req + n + 10000, " HTTP/1.1\r\n\r\n", 13);
  fd = dial();
  send_all_nosig(fd, req, (size_t)n + 10000 + 13);
  cr_expect_eq(read_response(fd, body, sizeof body, &len), 414);
  cr_expect(closed_within(fd, 5000));
  close(fd);
  free(req);
}

/* Bare LF line ends (RFC 9112 section 2.2 lets a server accept them): served. */
Test(delayd, lf_only_requests_are_served) {
  int fd = dial();
  char body[64];
  size_t len;
  send_str(fd, "GET /?bytes=7&seed=11 HTTP/1.1\nHost: x\n\n");
  cr_assert_eq(read_response(fd, body, sizeof body, &len), 200);
  cr_expect_eq(len, 7);
  expect_body(body, len, 11);
  close(fd);
}

/* A client that stops reading a large answer is closed after the idle timeout (it
 * gets what the socket buffers held, then EOF, not the whole 64 MiB). */
Test(delayd, a_stalled_reader_is_closed_after_the_idle_timeout) {
  own_delayd d;
  own_start(&d, (const char *const[]){"--idle-timeout-ms", "300", NULL});
  int fd = dial_port(d.port);
  char req[96];
  snprintf(req, sizeof req, "GET /?bytes=%d&seed=5 HTTP/1.1\r\n\r\n", CB_DELAYD_MAX_BYTES);
  send_str(fd, req);
  usleep(1500 * 1000); /* the socket buffers fill; the write stalls past the timeout */
  static char buf[1 << 16];
  size_t total = 0, got;
  while ((got = read_upto(fd, buf, sizeof buf)) > 0) total += got; /* to EOF, or 5 s of silence */
  cr_expect_lt(total, (size_t)CB_DELAYD_MAX_BYTES, "the stalled answer was kept and written whole (%zu bytes)", total);
  close(fd);
  int again = dial_port(d.port);
  char body[64];
  size_t len;
  send_str(again, "GET /?bytes=5&seed=2 HTTP/1.1\r\n\r\n");
  cr_expect_eq(read_response(again, body, sizeof body, &len), 200);
  close(again);
  own_stop(&d);
}

Test(delayd, bad_bound_flags_are_refused) {
  const char *cases[][2] = {{"--header-timeout-ms", "0"}, {"--header-timeout-ms", "3600001"},
                            {"--idle-timeout-ms", "-1"}, {"--idle-timeout-ms", "1s"},
                            {"--max-conns", "0"}, {"--max-conns", "x"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char *const argv[] = {CB_BIN_DIR "/delayd", (char *)cases[k][0], (char *)cases[k][1], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_expect_eq(r.code, 2, "%s '%s': exit %d", cases[k][0], cases[k][1], r.code);
    cr_expect(strstr(r.err, cases[k][0]) && strstr(r.err, "must be") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
              "%s '%s': %s", cases[k][0], cases[k][1], r.err);
    cmd_result_free(&r);
  }
}
