/* test_loadgen.c — bin/loadgen and its latency histogram.
 *
 * The histogram: bucket bounds within 1% everywhere from 1 µs to 100 s, percentiles
 * of known distributions. The program, against delayd and small servers of the
 * test's own (threads on blocking sockets): closed and open loop verify with equal
 * checksums (chunked replies, Connection: close and 3 MB echo messages too), a
 * wrong seed or a corrupted echo is caught (wrong > 0, exit 1), the open loop keeps
 * its rate, coordinated omission is corrected (a 500 ms stall shows in
 * the corrected latencies and not in the uncorrected p99; a stall past the window's
 * end leaves requests unsent), a killed server, a silent server, --max-requests,
 * too few descriptors and bad input all end in bounded time with the right exit
 * code, SIGTERM prints what was measured with "interrupted": true. No test bounds wall time
 * tightly: rates are checked within wide margins. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/run/server_child.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/ports.h"
#include "tests/helpers/proctree.h"
#include "tests/helpers/run_cmd.h"
#include "tools/loadgen/hist.h"
#include "workloads/body.h"

/* ---- the histogram ---- */

Test(loadgen_hist, buckets_are_within_one_percent_from_1us_to_100s) {
  int last = -1;
  for (double v = 1000; v <= 100e9; v *= 1.0137) {
    int64_t ns = (int64_t)v, low, high;
    int idx = cb_lat_hist_index(ns);
    cr_assert_geq(idx, last, "index not monotonic at %lld", (long long)ns);
    cr_assert_lt(idx, CB_LAT_HIST_BUCKETS);
    last = idx;
    cb_lat_hist_bounds(idx, &low, &high);
    cr_assert(low <= ns && ns <= high, "%lld not in bucket [%lld, %lld]", (long long)ns, (long long)low, (long long)high);
    cr_assert_leq((double)(high - low), 0.01 * (double)low, "bucket [%lld, %lld] wider than 1%%", (long long)low,
                  (long long)high);
  }
  cr_assert_eq(cb_lat_hist_index(-5), 0);
  cr_assert_eq(cb_lat_hist_index(INT64_MAX), CB_LAT_HIST_BUCKETS - 1);
}

static void assert_near(int64_t got, double want, const char *what) {
  cr_assert_leq(fabs((double)got - want), 0.01 * want, "%s: %lld, want %.0f within 1%%", what, (long long)got, want);
}

Test(loadgen_hist, percentiles_of_a_uniform_distribution) {
  cb_lat_hist *h = malloc(sizeof *h);
  cb_lat_hist_init(h);
  cr_assert_eq(cb_lat_hist_percentile(h, 50), 0); /* empty */
  for (int64_t us = 1; us <= 100000; us++) cb_lat_hist_record(h, us * 1000); /* 1 µs .. 100 ms */
  cr_assert_eq(h->count, 100000);
  assert_near(cb_lat_hist_percentile(h, 50), 50e6, "p50");
  assert_near(cb_lat_hist_percentile(h, 90), 90e6, "p90");
  assert_near(cb_lat_hist_percentile(h, 99), 99e6, "p99");
  assert_near(cb_lat_hist_percentile(h, 99.9), 99.9e6, "p99.9");
  cr_assert_eq(cb_lat_hist_percentile(h, 100), 100000000); /* clamped to the exact max */
  cr_assert_eq(h->max_ns, 100000000);
  cr_assert_eq(h->min_ns, 1000);
  cr_assert_float_eq(cb_lat_hist_mean(h), 50000.5 * 1000, 1e-3);
  free(h);
}

Test(loadgen_hist, percentiles_of_a_bimodal_and_an_exponential_distribution) {
  cb_lat_hist *h = malloc(sizeof *h);
  cb_lat_hist_init(h);
  /* 990 at 100 µs, 10 at 2 s: p99 is still 100 µs, p99.9 and max 2 s */
  for (int k = 0; k < 990; k++) cb_lat_hist_record(h, 100000);
  for (int k = 0; k < 10; k++) cb_lat_hist_record(h, 2000000000);
  assert_near(cb_lat_hist_percentile(h, 99), 100000, "bimodal p99");
  assert_near(cb_lat_hist_percentile(h, 99.9), 2e9, "bimodal p99.9");
  cr_assert_eq(h->max_ns, 2000000000);
  cb_lat_hist_init(h);
  /* exponential with mean 1 ms by its quantile function: p-th value = -ln(1 - p) ms */
  int n = 100000;
  for (int k = 0; k < n; k++) cb_lat_hist_record(h, (int64_t)(-log(1.0 - (k + 0.5) / n) * 1e6));
  assert_near(cb_lat_hist_percentile(h, 50), -log(0.5) * 1e6, "exp p50");
  assert_near(cb_lat_hist_percentile(h, 99), -log(0.01) * 1e6, "exp p99");
  assert_near(cb_lat_hist_percentile(h, 99.9), -log(0.001) * 1e6, "exp p99.9");
  cr_assert_float_eq(cb_lat_hist_mean(h) / 1e6, 1.0, 0.01);
  /* beyond the top: counted, max exact */
  cb_lat_hist_record(h, INT64_C(500) * 1000000000);
  cr_assert_eq(h->max_ns, INT64_C(500) * 1000000000);
  cr_assert_eq(cb_lat_hist_percentile(h, 100), INT64_C(500) * 1000000000);
  free(h);
}

/* ---- running the program ---- */

static json_t *json_of(const cmd_result *r) {
  json_error_t je;
  json_t *o = json_loads(r->out, 0, &je);
  cr_assert_not_null(o, "not JSON: '%s' (stderr: %s)", r->out, r->err);
  cr_assert_eq(count_lines(r->out), 1, "%s", r->out);
  return o;
}

static long long ival(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  cr_assert(json_is_integer(v), "%s missing or not an integer", key);
  return json_integer_value(v);
}

static double num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  cr_assert(json_is_number(v), "%s missing or not a number", key);
  return json_number_value(v);
}

static double lat(json_t *o, const char *which, const char *key) { return num(json_object_get(o, which), key); }

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  cr_assert_not_null(s, "%s missing or not a string", key);
  return s;
}

static char hostport[64];

static void start_delayd(cb_server *s) {
  inproc_start_delayd(s);
  snprintf(hostport, sizeof hostport, "%s", s->url + strlen("http://"));
}

/* Runs loadgen with the given arguments after the program name (NULL-ended). */
static void loadgen(const char *const args[], int timeout_s, cmd_result *r) {
  char *argv[40] = {CB_BIN_DIR "/loadgen"};
  int n = 1;
  for (; args[n - 1]; n++) argv[n] = (char *)args[n - 1];
  argv[n] = NULL;
  run_cmd(argv, timeout_s, r);
}

/* Runs loadgen (args as for loadgen()), asserts its exit code and returns its one
 * line of JSON; the caller ends with loadgen_free. */
static json_t *loadgen_json(const char *const args[], int timeout_s, int want_code, cmd_result *r) {
  loadgen(args, timeout_s, r);
  cr_assert(r->exited && r->code == want_code, "exit %d, expected %d: %s %s", r->code, want_code, r->out, r->err);
  return json_of(r);
}

static void loadgen_free(json_t *o, cmd_result *r) {
  json_decref(o);
  cmd_result_free(r);
}

static const char *const KEYS[] = {"tool", "mode", "proto", "connections", "connected", "rate", "duration_s",
                                   "requests", "req_per_s", "bytes_per_s", "errors", "timeouts", "wrong", "reconnects",
                                   "unsent", "total_sent", "total_ok", "latency_ms", "latency_uncorrected_ms",
                                   "generator_cpu", "generator_bound", "checksum", "expected_checksum", "verified",
                                   "error", NULL};

static void assert_not_verified(json_t *o) { cr_assert(json_is_false(json_object_get(o, "verified"))); }

static void assert_verified(json_t *o) {
  cr_assert(json_is_true(json_object_get(o, "verified")), "not verified: %s", str(o, "error"));
  cr_assert(json_is_null(json_object_get(o, "error")));
  cr_assert_gt(ival(o, "requests"), 0);
  cr_assert_eq(ival(o, "errors") + ival(o, "timeouts") + ival(o, "wrong"), 0);
  cr_assert_str_eq(str(o, "checksum"), str(o, "expected_checksum"));
  cr_assert_geq(ival(o, "total_ok"), ival(o, "requests"));
  cr_assert_eq(ival(o, "total_ok"), ival(o, "total_sent"));
}

Test(loadgen, closed_loop_against_delayd_verifies, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "8", "--duration", "1",
                        "--warmup", "0.2", "--path", "/?ms=0&bytes=1024&seed=7", "--seed", "7", "--bytes", "1024", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  size_t nkeys = 0;
  for (; KEYS[nkeys]; nkeys++) cr_assert_not_null(json_object_get(o, KEYS[nkeys]), "key %s missing", KEYS[nkeys]);
  cr_assert_eq(json_object_size(o), nkeys, "unexpected keys: %s", r.out);
  assert_verified(o);
  cr_assert_str_eq(str(o, "tool"), "loadgen");
  cr_assert_str_eq(str(o, "mode"), "closed");
  cr_assert_str_eq(str(o, "proto"), "http");
  cr_assert(json_is_null(json_object_get(o, "rate")));
  cr_assert_eq(ival(o, "connected"), 8);
  cr_assert_float_eq(num(o, "duration_s"), 1.0, 0.05);
  cr_assert_float_eq(num(o, "bytes_per_s"), num(o, "req_per_s") * 1024, 1.0);
  /* closed loop: corrected and plain are the same measurement */
  cr_assert_float_eq(lat(o, "latency_ms", "p99"), lat(o, "latency_uncorrected_ms", "p99"), 1e-9);
  cr_assert_leq(lat(o, "latency_ms", "p50"), lat(o, "latency_ms", "p99"));
  cr_assert_leq(lat(o, "latency_ms", "p99"), lat(o, "latency_ms", "max"));
  cr_assert_gt(num(o, "generator_cpu"), 0);
  loadgen_free(o, &r);
  cb_server_stop(&s);
}

Test(loadgen, a_wrong_seed_or_length_is_caught, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "2", "--duration", "0.3",
                        "--path", "/?ms=0&bytes=1024&seed=7", "--seed", "8", "--bytes", "1024", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 1, &r);
  assert_not_verified(o);
  cr_assert_gt(ival(o, "wrong"), 0);
  cr_assert_eq(ival(o, "total_ok"), 0);
  cr_assert_str_neq(str(o, "checksum"), str(o, "expected_checksum"));
  cr_assert(strstr(str(o, "error"), "differ"), "%s", r.out);
  loadgen_free(o, &r);
  /* a body of another length: an error (the framing disagrees), not a wrong reply */
  const char *args2[] = {"--connect", hostport, "--proto", "http", "--connections", "2", "--duration", "0.3",
                         "--path", "/?ms=0&bytes=1000&seed=7", "--seed", "7", "--bytes", "1024", NULL};
  o = loadgen_json(args2, 30, 1, &r);
  cr_assert_gt(ival(o, "errors"), 0);
  cr_assert(strstr(str(o, "error"), "Content-Length 1000, not 1024"), "%s", r.out);
  loadgen_free(o, &r);
  cb_server_stop(&s);
}

/* ---- a small server of the test's own: a thread per connection, blocking ---- */
enum { SRV_ECHO, SRV_SILENT, SRV_HTTP };

/* SRV_HTTP: answers each GET with the 1024 bytes of seed 7, by turns with
 * Content-Length and chunked (in two chunks), and closes the connection after
 * every fifth answer, which says Connection: close. */
static int http_answer(int fd, long n) {
  unsigned char body[1024];
  cb_body_fill(7, 0, body, sizeof body);
  char head[256];
  int close_after = n % 5 == 4, len;
  if (n % 2 == 0) {
    len = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n%s\r\n",
                   close_after ? "Connection: close\r\n" : "");
    if (write(fd, head, (size_t)len) != len || write(fd, body, sizeof body) != (ssize_t)sizeof body) return -1;
  } else {
    len = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n100\r\n",
                   close_after ? "Connection: close\r\n" : "");
    if (write(fd, head, (size_t)len) != len || write(fd, body, 256) != 256) return -1;
    if (write(fd, "\r\n300\r\n", 7) != 7 || write(fd, body + 256, 768) != 768) return -1;
    if (write(fd, "\r\n0\r\n\r\n", 7) != 7) return -1;
  }
  return close_after ? -1 : 0;
}

typedef struct tsrv {
  int mode, lfd, port;
  long corrupt_at;          /* echo: flip a byte of the message starting at this byte offset of the whole stream (-1: never) */
  long stall_after;         /* echo: stall every connection once this many bytes were echoed (-1: never) */
  int stall_ms;
  atomic_long echoed;
  atomic_int stalled;
  pthread_mutex_t mu;       /* held while echoing: a stall holds it and stops everyone */
} tsrv;

typedef struct tconn {
  tsrv *s;
  int fd;
} tconn;

static void *tsrv_conn(void *arg) {
  tconn *tc = arg;
  tsrv *s = tc->s;
  char buf[65536];
  for (;;) {
    ssize_t n = read(tc->fd, buf, sizeof buf);
    if (n <= 0) break;
    if (s->mode == SRV_SILENT) continue;
    if (s->mode == SRV_HTTP) { /* one request per read is enough for a client that never pipelines */
      if (!memmem(buf, (size_t)n, "\r\n\r\n", 4) || http_answer(tc->fd, atomic_fetch_add(&s->echoed, 1)) != 0) break;
      continue;
    }
    pthread_mutex_lock(&s->mu);
    long at = atomic_fetch_add(&s->echoed, n);
    if (s->corrupt_at >= 0 && at <= s->corrupt_at && s->corrupt_at < at + n) buf[s->corrupt_at - at] ^= 1;
    if (s->stall_after >= 0 && at >= s->stall_after && !atomic_exchange(&s->stalled, 1)) usleep((useconds_t)s->stall_ms * 1000);
    pthread_mutex_unlock(&s->mu);
    for (ssize_t w = 0; w < n;) {
      ssize_t k = write(tc->fd, buf + w, (size_t)(n - w));
      if (k <= 0) goto out;
      w += k;
    }
  }
out:
  close(tc->fd);
  free(tc);
  return NULL;
}

static void *tsrv_accept(void *arg) {
  tsrv *s = arg;
  for (;;) {
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) continue;
    tconn *tc = malloc(sizeof *tc);
    tc->s = s;
    tc->fd = fd;
    pthread_t t;
    pthread_create(&t, NULL, tsrv_conn, tc);
    pthread_detach(t);
  }
  return NULL;
}

/* Starts s (its mode and options set) and returns it; the threads end with the
 * test's process. */
static tsrv *tsrv_start(tsrv *s) {
  pthread_mutex_init(&s->mu, NULL);
  s->lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int one = 1;
  setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(s->lfd, 1024), 0);
  getsockname(s->lfd, (struct sockaddr *)&a, &len);
  s->port = ntohs(a.sin_port);
  snprintf(hostport, sizeof hostport, "127.0.0.1:%d", s->port);
  pthread_t t;
  pthread_create(&t, NULL, tsrv_accept, s);
  pthread_detach(t);
  return s;
}

static tsrv *tsrv_new(int mode) {
  tsrv *s = calloc(1, sizeof *s);
  s->mode = mode;
  s->corrupt_at = s->stall_after = -1;
  return s;
}

Test(loadgen, chunked_replies_and_connection_close_are_handled, .timeout = 60) {
  tsrv_start(tsrv_new(SRV_HTTP));
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "3", "--duration", "0.5",
                        "--seed", "7", "--bytes", "1024", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  cr_assert_gt(ival(o, "total_ok"), 10);
  cr_assert_geq(ival(o, "reconnects"), ival(o, "total_ok") / 5 - 3, "%s", r.out);
  loadgen_free(o, &r);
}

Test(loadgen, echo_closed_loop_verifies, .timeout = 60) {
  tsrv_start(tsrv_new(SRV_ECHO));
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "4", "--duration", "0.5",
                        "--bytes", "3000", "--seed", "5", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  cr_assert_str_eq(str(o, "proto"), "echo");
  loadgen_free(o, &r);
}

/* Messages far larger than the socket buffers: written a chunk at a time while the
 * echo comes back. */
Test(loadgen, large_echo_messages_verify, .timeout = 60) {
  tsrv_start(tsrv_new(SRV_ECHO));
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "3", "--duration", "0.5",
                        "--bytes", "3000001", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  loadgen_free(o, &r);
}

Test(loadgen, a_corrupted_echo_byte_is_wrong, .timeout = 60) {
  tsrv *s = tsrv_new(SRV_ECHO);
  s->corrupt_at = 5 * 512 + 100; /* a byte of the sixth message */
  tsrv_start(s);
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "1", "--duration", "0.5",
                        "--bytes", "512", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 1, &r);
  assert_not_verified(o);
  cr_assert_eq(ival(o, "wrong"), 1, "%s", r.out);
  cr_assert_eq(ival(o, "errors"), 0);
  cr_assert_gt(ival(o, "total_ok"), 5);
  cr_assert_str_neq(str(o, "checksum"), str(o, "expected_checksum"));
  loadgen_free(o, &r);
}

Test(loadgen, open_loop_keeps_its_rate, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "5", "--rate", "400",
                        "--duration", "2", "--path", "/?ms=1&bytes=100&seed=3", "--seed", "3", "--bytes", "100", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  cr_assert_str_eq(str(o, "mode"), "open");
  cr_assert_eq(ival(o, "rate"), 400);
  double rps = num(o, "req_per_s");
  cr_assert(rps >= 200 && rps <= 600, "req_per_s %f not near 400", rps);
  /* a 1 ms server: no request can come back sooner */
  cr_assert_geq(lat(o, "latency_ms", "p50"), 0.9);
  cr_assert_geq(lat(o, "latency_ms", "p50"), lat(o, "latency_uncorrected_ms", "p50"));
  loadgen_free(o, &r);
  cb_server_stop(&s);
}

/* The server stalls once for 500 ms, a third into the run, at a rate far below its
 * capacity. Without correction only the requests in flight see the stall (2 of
 * about 600: beyond p99); corrected, the ~100 requests that should have gone out
 * during it are charged for their wait. */
Test(loadgen, coordinated_omission_is_corrected, .timeout = 60) {
  tsrv *s = tsrv_new(SRV_ECHO);
  s->stall_after = 200 * 64;
  s->stall_ms = 500;
  tsrv_start(s);
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "2", "--rate", "200",
                        "--duration", "3", "--bytes", "64", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  double cmax = lat(o, "latency_ms", "max"), cp99 = lat(o, "latency_ms", "p99");
  double ump99 = lat(o, "latency_uncorrected_ms", "p99"), umax = lat(o, "latency_uncorrected_ms", "max");
  cr_assert_geq(cmax, 300, "corrected max %f ms: the stall is missing (%s)", cmax, r.out);
  cr_assert_geq(umax, 300, "uncorrected max %f ms: the request in flight saw the stall", umax);
  cr_assert_gt(cp99, 3 * ump99, "corrected p99 %f not far above uncorrected p99 %f (%s)", cp99, ump99, r.out);
  cr_assert_gt(cp99, 100, "corrected p99 %f ms", cp99);
  loadgen_free(o, &r);
}

/* A server that stays stalled past the end of the window: the requests that could
 * not go out are counted unsent, and charged at least their wait. */
Test(loadgen, requests_behind_a_stall_at_the_end_are_unsent, .timeout = 60) {
  tsrv *s = tsrv_new(SRV_ECHO);
  s->stall_after = 20 * 64;
  s->stall_ms = 1500;
  tsrv_start(s);
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "2", "--rate", "100",
                        "--duration", "1", "--timeout-ms", "3000", "--bytes", "64", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  cr_assert_gt(ival(o, "unsent"), 50, "%s", r.out);
  cr_assert_geq(lat(o, "latency_ms", "p90"), 200, "%s", r.out);
  loadgen_free(o, &r);
}

static void *kill_later(void *arg) {
  usleep(500 * 1000);
  kill(*(pid_t *)arg, SIGKILL);
  return NULL;
}

Test(loadgen, a_server_killed_mid_run_is_errors_not_a_hang, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  pthread_t t;
  pthread_create(&t, NULL, kill_later, &s.pid);
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "10", "--duration", "2",
                        "--path", "/?ms=1&bytes=1024&seed=1", "--seed", "1", "--bytes", "1024", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 1, &r);
  pthread_join(t, NULL);
  assert_not_verified(o);
  cr_assert_gt(ival(o, "errors"), 0);
  cr_assert_gt(ival(o, "total_ok"), 0, "nothing ran before the kill: %s", r.out);
  cr_assert_not_null(json_string_value(json_object_get(o, "error")));
  loadgen_free(o, &r);
  waitpid(s.pid, NULL, 0);
}

Test(loadgen, a_silent_server_times_out, .timeout = 60) {
  tsrv_start(tsrv_new(SRV_SILENT));
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "3", "--duration", "1",
                        "--timeout-ms", "200", "--bytes", "100", NULL};
  cmd_result r;
  time_t t0 = time(NULL);
  json_t *o = loadgen_json(args, 30, 1, &r);
  cr_assert_leq(time(NULL) - t0, 20, "took %ld s (its window is 1 s)", (long)(time(NULL) - t0));
  assert_not_verified(o);
  cr_assert_geq(ival(o, "timeouts"), 3, "%s", r.out);
  cr_assert_gt(ival(o, "reconnects"), 0, "a timed-out connection is reopened: %s", r.out);
  cr_assert_eq(ival(o, "total_ok"), 0);
  cr_assert(strstr(str(o, "error"), "no whole reply after 200 ms"), "%s", r.out);
  loadgen_free(o, &r);
}

/* --max-requests reached and the last requests time out: the run still ends then,
 * not at the end of its 60 s window. */
Test(loadgen, max_requests_ending_in_timeouts_ends_the_run, .timeout = 60) {
  tsrv_start(tsrv_new(SRV_SILENT));
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "3", "--duration", "60",
                        "--timeout-ms", "200", "--max-requests", "3", "--bytes", "10", NULL};
  cmd_result r;
  time_t t0 = time(NULL);
  json_t *o = loadgen_json(args, 30, 1, &r);
  cr_assert_leq(time(NULL) - t0, 20, "took %ld s (its window is 60 s)", (long)(time(NULL) - t0));
  cr_assert_eq(ival(o, "timeouts"), 3, "%s", r.out);
  cr_assert_eq(ival(o, "total_sent"), 3);
  loadgen_free(o, &r);
}

Test(loadgen, nothing_listening_fails_at_connect, .timeout = 60) {
  char hp[64];
  snprintf(hp, sizeof hp, "127.0.0.1:%d", unused_loopback_port());
  const char *args[] = {"--connect", hp, "--proto", "http", "--connections", "3", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 1, &r);
  cr_assert_eq(ival(o, "connected"), 0);
  cr_assert_gt(ival(o, "errors"), 0);
  cr_assert_eq(ival(o, "total_sent"), 0);
  cr_assert(json_is_null(json_object_get(o, "req_per_s")));
  loadgen_free(o, &r);
}

Test(loadgen, max_requests_ends_the_run_early, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  const char *args[] = {"--connect", hostport, "--proto", "http", "--connections", "4", "--duration", "60",
                        "--max-requests", "100", "--path", "/?ms=0&bytes=10&seed=1", "--bytes", "10", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 30, 0, &r);
  assert_verified(o);
  cr_assert_eq(ival(o, "total_sent"), 100);
  cr_assert_eq(ival(o, "requests"), 100);
  cr_assert_lt(num(o, "duration_s"), 30);
  loadgen_free(o, &r);
  cb_server_stop(&s);
}

Test(loadgen, sigterm_prints_what_was_measured_and_exits_130, .timeout = 60) {
  cb_server s;
  start_delayd(&s);
  int po[2];
  cr_assert_eq(pipe(po), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(po[1], 1);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2); /* the one line it writes there is not this test's output */
    close(po[0]);
    execl(CB_BIN_DIR "/loadgen", "loadgen", "--connect", hostport, "--proto", "http", "--connections", "4",
          "--duration", "30", "--path", "/?ms=1&bytes=10&seed=1", "--bytes", "10", (char *)NULL);
    _exit(127);
  }
  close(po[1]);
  usleep(700 * 1000);
  kill(pid, SIGTERM);
  char out[8192];
  size_t len = 0;
  struct pollfd pf = {.fd = po[0], .events = POLLIN};
  while (len < sizeof out - 1 && poll(&pf, 1, 10000) == 1) {
    ssize_t n = read(po[0], out + len, sizeof out - 1 - len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  out[len] = '\0';
  int status;
  waitpid(pid, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d", status);
  json_error_t je;
  json_t *o = json_loads(out, 0, &je);
  cr_assert_not_null(o, "not JSON: %s", out);
  cr_assert(json_is_true(json_object_get(o, "interrupted")));
  cr_assert_gt(ival(o, "requests"), 0);
  cr_assert_lt(num(o, "duration_s"), 10);
  json_decref(o);
  close(po[0]);
  cb_server_stop(&s);
}

/* Starts loadgen (a long run against a silent server) as the child of an
 * intermediate process, which then exits; returns loadgen's pid. */
static pid_t orphaned_loadgen(int die_with_parent) {
  int p[2];
  cr_assert_eq(pipe(p), 0);
  pid_t mid = fork();
  if (mid == 0) {
    pid_t gen = fork();
    if (gen == 0) {
      if (die_with_parent) setenv("CONCBENCH_DIE_WITH_PARENT", "1", 1);
      else unsetenv("CONCBENCH_DIE_WITH_PARENT");
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(CB_BIN_DIR "/loadgen", "loadgen", "--connect", hostport, "--proto", "echo", "--connections", "1",
            "--duration", "20", "--timeout-ms", "60000", (char *)NULL);
      _exit(127);
    }
    if (write(p[1], &gen, sizeof gen) != sizeof gen) _exit(1);
    usleep(300 * 1000); /* loadgen is running by now */
    _exit(0);
  }
  pid_t gen;
  cr_assert_eq(read(p[0], &gen, sizeof gen), (ssize_t)sizeof gen);
  waitpid(mid, NULL, 0);
  close(p[0]);
  close(p[1]);
  return gen;
}

Test(loadgen, dies_with_its_parent_only_when_asked, .timeout = 30) {
  tsrv_start(tsrv_new(SRV_SILENT));
  pid_t asked = orphaned_loadgen(1), not_asked = orphaned_loadgen(0);
  usleep(300 * 1000);
  int asked_alive = proc_alive(asked), not_asked_alive = proc_alive(not_asked);
  kill(not_asked, SIGKILL);
  kill(asked, SIGKILL);
  cr_assert_not(asked_alive, "loadgen with CONCBENCH_DIE_WITH_PARENT=1 outlived its parent");
  cr_assert(not_asked_alive, "loadgen without CONCBENCH_DIE_WITH_PARENT died with its parent");
}

/* Criterion runs each test in its own process, so the lowered limit stays here. A
 * process that may raise its hard limit (CAP_SYS_RESOURCE) passes that on to
 * loadgen, whose cb_raise_fd_limit would lift it: nothing to test then. */
Test(loadgen, out_of_descriptors_exits_3, .timeout = 30) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  tsrv_start(tsrv_new(SRV_ECHO));
  const char *args[] = {"--connect", hostport, "--proto", "echo", "--connections", "200", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 20, 3, &r);
  assert_not_verified(o);
  cr_assert(strstr(str(o, "error"), "out of descriptors"), "%s", r.out);
  loadgen_free(o, &r);
}

/* Each: the arguments after a valid base, then what the one stderr line must hold. */
static const char *const bad_inputs[][4] = {
    {"--connections", "0", NULL, "--connections: must be an integer from 1 to 100000"},
    {"--connections", "100001", NULL, "--connections: must be an integer from 1 to 100000"},
    {"--connections", "x", NULL, "--connections: must be an integer"},
    {"--proto", "ftp", NULL, "--proto: must be http or echo"},
    {"--rate", "-1", NULL, "--rate: must be an integer from 0"},
    {"--rate", "10000001", NULL, "--rate: must be an integer from 0"},
    {"--duration", "0", NULL, "--duration: must be seconds from 0.01 to 3600"},
    {"--duration", "3601", NULL, "--duration: must be seconds"},
    {"--duration", "1.", NULL, "--duration: must be seconds"},
    {"--duration", " 1", NULL, "--duration: must be seconds"},
    {"--warmup", "-1", NULL, "--warmup: must be seconds from 0"},
    {"--timeout-ms", "0", NULL, "--timeout-ms: must be an integer from 1 to 600000"},
    {"--max-requests", "0", NULL, "--max-requests: must be an integer from 1"},
    {"--bytes", "-1", NULL, "--bytes: must be an integer from 0"},
    {"--bytes", "67108865", NULL, "--bytes: must be an integer from 0"},
    {"--path", "x", NULL, "--path: must start with '/'"},
    {"--path", "/a b", NULL, "--path: must start with '/'"},
    {"--path", "/a\nb", NULL, "--path: must start with '/'"},
    {"--seed", "-1", NULL, "--seed: must be an integer from 0"},
    {"--connect", "127.0.0.1", NULL, "--connect: must be HOST:PORT"},
    {"--connect", "127.0.0.1:0", NULL, "--connect: must be HOST:PORT"},
    {"--connect", "127.0.0.1:70000", NULL, "--connect: must be HOST:PORT"},
    {"--connect", "::1:80", NULL, "--connect: must be HOST:PORT"},
    {"--connect", "8.8.8.8:80", NULL, "--connect: HOST must be a loopback address"},
    {"--connect", "example.com:80", NULL, "--connect: HOST must be a loopback address"},
    {"--connect", "128.0.0.1:80", NULL, "--connect: HOST must be a loopback address"},
    {"--bogus", "1", NULL, "unknown option '--bogus'"},
    {"--rate", NULL, NULL, "--rate: must be an integer"},
};

Test(loadgen, bad_input_exits_2_with_one_line_naming_it, .timeout = 60) {
  for (size_t k = 0; k < sizeof bad_inputs / sizeof bad_inputs[0]; k++) {
    /* the bad flag last, so that a missing value is really missing */
    char *argv[] = {CB_BIN_DIR "/loadgen", "--connect", "127.0.0.1:9", "--proto", "http", "--connections", "1",
                    (char *)bad_inputs[k][0], (char *)bad_inputs[k][1], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_assert(r.exited && r.code == 2, "%s %s: exit %d", bad_inputs[k][0], bad_inputs[k][1], r.code);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    cr_assert(strncmp(r.err, "loadgen: ", 9) == 0, "%s", r.err);
    cr_assert(strstr(r.err, bad_inputs[k][3]), "expected '%s' in: %s", bad_inputs[k][3], r.err);
    cr_assert_str_eq(r.out, "");
    cmd_result_free(&r);
  }
}

Test(loadgen, missing_arguments_and_echo_without_bytes_exit_2, .timeout = 30) {
  static const char *const cases[][8] = {
      {"--proto", "http", "--connections", "1", NULL, NULL, NULL, "--connect: required"},
      {"--connect", "127.0.0.1:9", "--connections", "1", NULL, NULL, NULL, "--proto: required"},
      {"--connect", "127.0.0.1:9", "--proto", "echo", NULL, NULL, NULL, "--connections: required"},
      {"--connect", "127.0.0.1:9", "--proto", "echo", "--connections", "1", "--bytes", "--bytes: must be an integer"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char *argv[12] = {CB_BIN_DIR "/loadgen"};
    int n = 1;
    for (int j = 0; j < 7 && cases[k][j]; j++) argv[n++] = (char *)cases[k][j];
    if (k == 3) argv[n++] = "0";
    argv[n] = NULL;
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_assert(r.exited && r.code == 2, "case %zu: exit %d", k, r.code);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    cr_assert(strstr(r.err, cases[k][7]), "expected '%s' in: %s", cases[k][7], r.err);
    cmd_result_free(&r);
  }
}

Test(loadgen, allow_remote_lifts_the_loopback_rule, .timeout = 30) {
  /* 192.0.2.1 (TEST-NET-1) is allowed with the flag; nothing answers there, so the
   * connect phase fails (exit 1) rather than the arguments (exit 2). */
  const char *args[] = {"--connect", "192.0.2.1:80", "--proto", "http", "--connections", "1", "--timeout-ms", "100",
                        "--allow-remote", NULL};
  cmd_result r;
  json_t *o = loadgen_json(args, 20, 1, &r);
  cr_assert_eq(ival(o, "connected"), 0);
  loadgen_free(o, &r);
}
