/* echobench — the stream echo target of the loop model: the same load (N
 * connections doing fixed-size round trips on loopback) against an echo server
 * written directly on libuv callbacks and against one written on the loop's
 * streams, in one run, each on its own thread. The time is cut into slices
 * run in the order A B B A A B ... so that machine noise drifting during the
 * run weighs on both sides alike; prints one JSON object with both
 * round-trip rates and their ratio. Exit 0 only if every echoed byte
 * matched and no connection failed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "tools/echobench/echo_loop.h"
#include "tools/echobench/echo_uv.h"
#include "common/util.h"
#include "runtimes/loop/stream.h"

/* ---- the echo server on the loop's streams ---- */
typedef struct loop_server {
  cb_loop *loop;
  cb_stream_server ss;
  cb_handle stop;
  pthread_t thread;
  int port;
} loop_server;

static void stop_now(void *arg) {
  loop_server *ls = arg;
  cb_listener_close(&ls->ss.srv);
  cb_loop_stop(ls->loop);
}

static void *loop_main(void *arg) {
  loop_server *ls = arg;
  cb_loop_run_forever(ls->loop);
  cb_loop_run_until_complete(ls->loop, &ls->ss.srv.closed);
  cb_loop_close(ls->loop);
  return NULL;
}

static int loop_server_start(loop_server *ls) {
  memset(ls, 0, sizeof *ls);
  ls->loop = cb_loop_new();
  if (!ls->loop) return -1;
  if (cb_start_server(ls->loop, &ls->ss, cb_echo_handler, sizeof(cb_echo_frame), NULL, "127.0.0.1", 0) != 0) return -1;
  ls->port = cb_listener_port(&ls->ss.srv);
  cb_loop_hold(ls->loop);
  CB_CHECK(pthread_create(&ls->thread, NULL, loop_main, ls) == 0);
  return 0;
}

static void loop_server_stop(loop_server *ls) {
  cb_call_soon_threadsafe(ls->loop, &ls->stop, stop_now, ls);
  pthread_join(ls->thread, NULL);
}

static void usage(const char *what) {
  fprintf(stderr, "echobench: %s\n", what);
  exit(2);
}

static void add(cb_echo_load_result *sum, const cb_echo_load_result *r) {
  sum->round_trips += r->round_trips;
  sum->bad += r->bad;
  sum->seconds += r->seconds;
  if (!sum->err) sum->err = r->err;
}

static void print_side(const char *name, const cb_echo_load_result *r) {
  printf("\"%s\":{\"round_trips\":%llu,\"seconds\":%.6f,\"rps\":%.1f,\"bad\":%llu,\"error\":%d}", name,
         (unsigned long long)r->round_trips, r->seconds, r->round_trips / r->seconds, (unsigned long long)r->bad,
         r->err);
}

/* --serve-uv S: only the libuv-callbacks echo server, for S seconds, its port on
 * stdout: the floor a server model's echo is measured against under bin/loadgen
 * (scripts/server-targets.sh). */
static int serve_only(const char *seconds) {
  int64_t s;
  if (cb_parse_int(seconds, 1, 3600, &s)) usage("--serve-uv: seconds, 1 to 3600");
  int port;
  cb_echo_uv_server *us = cb_echo_uv_server_start(&port);
  if (!us) usage("cannot start the libuv echo server");
  printf("{\"port\":%d}\n", port);
  fflush(stdout);
  sleep((unsigned)s);
  cb_echo_uv_server_stop(us);
  return 0;
}

int main(int argc, char **argv) {
  cb_echo_load_opts o = {.conns = 100, .size = 1024, .count = 200000, .seconds = 5};
  int64_t v, slices = 10;
  if (argc == 3 && strcmp(argv[1], "--serve-uv") == 0) return serve_only(argv[2]);
  for (int k = 1; k < argc; k++) {
    const char *a = argv[k];
    if (k + 1 >= argc) usage("every option takes a value: --conns N --size B --count N --seconds S --slices K");
    if (strcmp(a, "--conns") == 0) {
      if (cb_parse_int(argv[++k], 1, 10000, &v)) usage("--conns: 1 to 10000");
      o.conns = (int)v;
    } else if (strcmp(a, "--size") == 0) {
      if (cb_parse_int(argv[++k], 1, 1 << 20, &v)) usage("--size: 1 to 1048576");
      o.size = (int)v;
    } else if (strcmp(a, "--count") == 0) {
      if (cb_parse_int(argv[++k], 1, INT64_MAX, &v)) usage("--count: a positive integer");
      o.count = (uint64_t)v;
    } else if (strcmp(a, "--seconds") == 0) {
      if (cb_parse_int(argv[++k], 1, 3600, &v)) usage("--seconds: 1 to 3600");
      o.seconds = (double)v;
    } else if (strcmp(a, "--slices") == 0) {
      if (cb_parse_int(argv[++k], 2, 1000, &v)) usage("--slices: 2 to 1000");
      slices = v;
    } else {
      usage("unknown option; allowed: --conns N --size B --count N --seconds S --slices K, or --serve-uv S alone");
    }
  }
  cb_echo_load_result base = {0}, loop = {0}, one;
  int port;
  loop_server ls;
  cb_echo_uv_server *us = cb_echo_uv_server_start(&port);
  if (!us) usage("cannot start the libuv echo server");
  if (loop_server_start(&ls) != 0) usage("cannot start the loop echo server");
  /* Each side gets seconds/2 and count/2 in total, in slices/2 slices. */
  cb_echo_load_opts so = o;
  so.seconds = o.seconds / (double)slices;
  so.count = o.count / (uint64_t)slices ? o.count / (uint64_t)slices : 1;
  int rc1 = 0, rc2 = 0;
  for (int64_t k = 0; k < slices; k++) {
    int loop_turn = (k % 4 == 1 || k % 4 == 2); /* A B B A */
    so.port = loop_turn ? ls.port : port;
    int rc = cb_echo_load(&so, &one);
    if (loop_turn) {
      add(&loop, &one);
      if (!rc2) rc2 = rc;
    } else {
      add(&base, &one);
      if (!rc1) rc1 = rc;
    }
  }
  loop_server_stop(&ls);
  cb_echo_uv_server_stop(us);

  double ratio = (loop.round_trips / loop.seconds) / (base.round_trips / base.seconds);
  printf("{\"conns\":%d,\"size\":%d,", o.conns, o.size);
  print_side("libuv_callbacks", &base);
  printf(",");
  print_side("loop_streams", &loop);
  printf(",\"ratio\":%.3f}\n", ratio);
  int ok = rc1 == 0 && rc2 == 0 && !base.bad && !loop.bad && !base.err && !loop.err;
  return ok ? 0 : 1;
}
