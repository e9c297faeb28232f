/* test_loopio_fetch.c — the awaitable HTTP fetch on libcurl's multi interface
 * driven by libuv: delayd bodies verified, many in flight, refused connections
 * and a server closing mid-body surface as errors, cancellation aborts the
 * transfer; and the http workload under --model loop. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tests/helpers/ports.h"
#include "runtimes/loop/fetch.h"
#include "runtimes/loop/model.h"
#include "runtimes/loop/transport.h"
#include "tests/helpers/inproc.h"
#include "workloads/body.h"
#include "workloads/workloads.h"

typedef struct {
  cb_co co;
  const char *base;
  uint64_t seed, bytes, ms;
  cb_fetch fetch;
  cb_err e;
  char url[256];
} fetch_frame;

static int fetch_verified(cb_task *task, void *vf) {
  fetch_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_fetch_init(&f->fetch, cb_task_loop(task)), 0);
  snprintf(f->url, sizeof f->url, "%s/?ms=%" PRIu64 "&bytes=%" PRIu64 "&seed=%" PRIu64, f->base, f->ms, f->bytes,
           f->seed);
  cr_assert_eq(cb_fetch_start(&f->fetch, f->url, NULL, NULL), 0);
  CB_AWAIT_TRY(&f->fetch.fut, f->e);
  if (f->e.code) {
    cb_fetch_free(&f->fetch);
    CB_RAISE_ERR(f->e);
  }
  cr_assert_eq(cb_future_result(&f->fetch.fut).i, 200);
  cr_assert_eq(f->fetch.len, f->bytes);
  {
    cb_body_check c;
    cb_body_check_init(&c, f->seed);
    cb_body_check_feed(&c, f->fetch.body, f->fetch.len);
    cr_assert(c.ok, "body of seed %" PRIu64 " differs", f->seed);
  }
  cb_fetch_free(&f->fetch);
  CB_CO_END();
}

static void fetch_many(const char *base, int n, uint64_t bytes, uint64_t ms) {
  cb_loop *l = cb_loop_new();
  cb_task **t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n; i++) {
    t[i] = cb_create_task(l, fetch_verified, sizeof(fetch_frame), NULL);
    fetch_frame *f = cb_task_frame(t[i]);
    *f = (fetch_frame){.base = base, .seed = (uint64_t)i + 1, .bytes = bytes + (uint64_t)i % 7, .ms = ms};
  }
  for (int i = 0; i < n; i++) {
    cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t[i])), 0);
    cb_err e = cb_task_error(t[i]);
    cr_assert_eq(e.code, 0, "fetch %d: %s", i, e.msg ? e.msg : "");
    cb_task_release(t[i]);
  }
  free(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loopio_fetch, delayd_bodies_verified) {
  cb_server s;
  inproc_start_delayd(&s);
  fetch_many(s.url, 8, 100000, 10);
  cb_server_stop(&s);
}

Test(loopio_fetch, many_concurrent_fetches, .timeout = 60) {
  cb_server s;
  inproc_start_delayd(&s);
  int64_t t0 = cb_now_ns();
  fetch_many(s.url, 2000, 512, 200);
  double dt = (cb_now_ns() - t0) / 1e9;
  cr_assert_lt(dt, 10.0, "2000 concurrent 200 ms fetches took %.2f s: not concurrent", dt);
  cb_server_stop(&s);
}

/* ---- errors ---- */
static void expect_error(const char *url, int code) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, fetch_verified, sizeof(fetch_frame), NULL);
  fetch_frame *f = cb_task_frame(t);
  f->base = url;
  f->seed = 1;
  f->bytes = 10;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, code, "got %d (%s), want %d", e.code, e.msg ? e.msg : "", code);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loopio_fetch, connection_refused_is_an_error) {
  int port = unused_loopback_port();
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  expect_error(url, -ECONNREFUSED);
}

/* A raw transport server promising 1000 bytes and closing after 10. */
static void cut_data(cb_transport *t, void *arg, const char *data, size_t len) {
  if (!memmem(data, len, "\r\n\r\n", 4)) return;
  static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
  cr_assert_eq(cb_transport_write(t, resp, sizeof resp - 1), 0);
  cb_transport_close(t);
}
static const cb_protocol cut_proto = {.data_received = cut_data};
static int cut_factory(void *arg, cb_transport *t, const cb_protocol **p, void **parg) {
  *p = &cut_proto;
  return 0;
}

typedef struct { cb_co co; fetch_frame ff; } cut_frame;
static int cut_client(cb_task *task, void *vf) {
  cut_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_CALL(fetch_verified, &f->ff);
  CB_CO_END();
}

Test(loopio_fetch, server_closing_mid_body_is_an_error) {
  cb_loop *l = cb_loop_new();
  static cb_listener srv;
  cr_assert_eq(cb_create_server(l, &srv, "127.0.0.1", 0, cut_factory, NULL), 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", cb_listener_port(&srv));
  cb_task *t = cb_create_task(l, cut_client, sizeof(cut_frame), "cut");
  cut_frame *f = cb_task_frame(t);
  f->ff.base = url;
  f->ff.seed = 1;
  f->ff.bytes = 1000;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, -EPIPE, "got %d (%s)", e.code, e.msg ? e.msg : "");
  cb_task_release(t);
  cb_listener_close(&srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &srv.closed), 0);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* Cancelling the task awaiting a fetch aborts the transfer; the frame may die. */
typedef struct { cb_co co; cb_task *victim; } canceller_frame;
static int canceller(cb_task *task, void *vf) {
  canceller_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(50 * 1000000ull);
  cr_assert(cb_task_cancel(f->victim, "enough"));
  CB_CO_END();
}

Test(loopio_fetch, cancelling_aborts_the_transfer) {
  cb_server s;
  inproc_start_delayd(&s);
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, fetch_verified, sizeof(fetch_frame), "slow");
  fetch_frame *f = cb_task_frame(t);
  *f = (fetch_frame){.base = s.url, .seed = 1, .bytes = 10, .ms = 5000};
  cb_task *c = cb_create_task(l, canceller, sizeof(canceller_frame), "canceller");
  ((canceller_frame *)cb_task_frame(c))->victim = t;
  int64_t t0 = cb_now_ns();
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert(cb_task_cancelled(t));
  cr_assert_lt((cb_now_ns() - t0) / 1e9, 2.0);
  cb_task_release(t);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(c)), 0);
  cb_task_release(c);
  cr_assert_eq(cb_loop_close(l), 0);
  cb_server_stop(&s);
}

Test(loopio_fetch, http_workload_under_the_loop_model, .timeout = 60) {
  cb_server s;
  inproc_start_delayd(&s);
  inproc_run r;
  const char *const params[] = {"requests=3", "delay_ms=20", "bytes=3000", NULL};
  inproc_execute(&r, &cb_model_loop, &cb_workload_http, params, 300, 100, s.url);
  cr_assert_eq(r.rc, 0, "%s", r.report.error);
  cr_assert(r.verdict.verified, "ok %" PRIu64 " failed %" PRIu64 " wrong %" PRIu64 ": %s", r.verdict.ok,
            r.verdict.failed, r.verdict.wrong, r.report.error);
  cr_assert_eq(r.verdict.ok, 300);
  inproc_free(&r);
  cb_server_stop(&s);
}
