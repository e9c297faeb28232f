/* serve.c — the HTTP/1.1 keep-alive server workload (uvloop's HTTP benchmark,
 * TechEmpower's plaintext with a knob for work): each request is answered with
 * `bytes` bytes of seed's body after work_us of CPU work and a wait_ms backend call
 * to delayd. The request form and the replies: serve_http.h; the loop's handler:
 * serve_loop.c; this file: the parameters, prepare(), the sync world. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "runtimes/loop/model.h"
#include "workloads/body.h"
#include "workloads/calibrate.h"
#include "workloads/load_params.h"
#include "workloads/serve_http.h"
#include "workloads/serve_io.h"
#include "workloads/workloads.h"

static const cb_param_def serve_params[] = {
    [CB__SERVE_BYTES] = {"bytes", 1024, 0, CB__SERVE_MAX_BYTES, "body size of each reply", NULL},
    [CB__SERVE_WORK_US] = {"work_us", 0, 0, CB__SERVE_MAX_WORK_US, "CPU work per request (a calibrated loop), us", NULL},
    [CB__SERVE_WAIT_MS] = {"wait_ms", 0, 0, CB__SERVE_MAX_WAIT_MS, "backend call per request: the handler waits on delayd this long, ms", NULL},
    [CB__SERVE_SEED] = {"seed", 1, 0, INT64_MAX, "seed of the reply bodies (workloads/body.h)", NULL},
    CB_LOAD_PARAMS,
};

/* Iterations of cb__serve_work's loop per µs. */
static void serve_kernel(void *unit, uint64_t iters) { cb__serve_work(unit, iters); }

static double calibrate(void) {
  cb__serve_prep unit = {.iters_per_us = 1.0};
  return cb_calibrate_per_us(serve_kernel, &unit, 200000, 5);
}

static int serve_prepare(cb_job_env *env, char err[CB_ERR_LEN]) {
  const int64_t *v = env->params->v;
  cb__serve_prep *p = calloc(1, sizeof *p);
  if (!p || !(p->body = malloc(v[CB__SERVE_BYTES] > 0 ? (size_t)v[CB__SERVE_BYTES] : 1))) {
    free(p);
    snprintf(err, CB_ERR_LEN, "cannot allocate the %" PRId64 "-byte reply body", v[CB__SERVE_BYTES]);
    return -ENOMEM;
  }
  p->seed = (uint64_t)v[CB__SERVE_SEED];
  p->bytes = (uint64_t)v[CB__SERVE_BYTES];
  cb_body_fill(p->seed, 0, p->body, p->bytes);
  snprintf(p->path, sizeof p->path, "/?bytes=%" PRId64 "&work_us=%" PRId64 "&wait_ms=%" PRId64 "&seed=%" PRId64,
           v[CB__SERVE_BYTES], v[CB__SERVE_WORK_US], v[CB__SERVE_WAIT_MS], v[CB__SERVE_SEED]);
  p->iters_per_us = calibrate();
  env->prepared = p;
  return 0;
}

static void serve_release(cb_job_env *env) {
  cb__serve_prep *p = env->prepared;
  if (!p) return;
  free(p->body);
  free(p);
  env->prepared = NULL;
}

/* ---- sync world: one connection on a blocking socket ---- */
typedef struct conn {
  cb_http_reader rd;
  CURL *backend;          /* the backend calls' handle: one keep-alive connection to delayd */
  uint64_t backend_bytes; /* of the last backend reply's body (delayd's bytes=0: none) */
  unsigned char out[CB__SERVE_OUT_CAP];
} conn;

static size_t count_body(char *data, size_t size, size_t nmemb, void *arg) {
  *(uint64_t *)arg += size * nmemb;
  return size * nmemb;
}

/* The backend call: a blocking GET to delayd that answers after wait_ms. */
static int backend_call(conn *c, const cb_job_env *env, const cb__serve_req *r) {
  if (!env->server_url) return -EINVAL;
  if (!c->backend) {
    if (!(c->backend = curl_easy_init())) return -ENOMEM;
    curl_easy_setopt(c->backend, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->backend, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->backend, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c->backend, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(c->backend, CURLOPT_WRITEDATA, &c->backend_bytes);
  }
  char url[256];
  cb__serve_backend_url(url, env, r);
  curl_easy_setopt(c->backend, CURLOPT_URL, url);
  curl_easy_setopt(c->backend, CURLOPT_TIMEOUT_MS, (long)(r->wait_ms + 30000));
  c->backend_bytes = 0;
  long status = 0;
  CURLcode cc = curl_easy_perform(c->backend);
  curl_easy_getinfo(c->backend, CURLINFO_RESPONSE_CODE, &status);
  return cc == CURLE_OK && status == 200 && c->backend_bytes == 0 ? 0 : -EIO;
}

/* An error reply, then the connection closes: rc is what serve_conn returns. */
static int fail(conn *c, int fd, int status, int rc, cb_serve_counts *counts) {
  size_t n = cb__serve_error((char *)c->out, status);
  if (cb__conn_send(fd, c->out, n, counts) == 0) cb__conn_linger(fd);
  return rc;
}

static int answer(conn *c, const cb_job_env *env, int fd, const cb__serve_req *r, cb_serve_counts *counts) {
  const cb__serve_prep *p = env->prepared;
  if (r->work_us > 0) cb__serve_work(p, r->work_us);
  if (r->wait_ms > 0 && backend_call(c, env, r) != 0) return fail(c, fd, 502, -EIO, counts);
  size_t head = cb__serve_head((char *)c->out, r);
  uint64_t total = (uint64_t)r->bytes, first = total < CB__SERVE_CHUNK ? total : CB__SERVE_CHUNK;
  const unsigned char *b = cb__serve_body(p, r, 0, (size_t)first, c->out + head);
  if (b != c->out + head) memcpy(c->out + head, b, (size_t)first);
  int rc = cb__conn_send(fd, c->out, head + (size_t)first, counts);
  for (uint64_t off = first; rc == 0 && off < total;) {
    size_t n = cb__serve_piece(p, r, off);
    rc = cb__conn_send(fd, cb__serve_body(p, r, off, n, c->out), n, counts);
    off += n;
  }
  if (rc == 0) counts->requests++;
  return rc;
}

static int serve_conn(const cb_job_env *env, int fd, int64_t idle_ms, cb_serve_counts *counts) {
  conn *c = malloc(sizeof *c); /* not on the stack: green threads' stacks are small */
  if (!c) return -ENOMEM;
  c->backend = NULL;
  cb_http_reader_init(&c->rd);
  int rc = cb__conn_set_idle(fd, idle_ms);
  while (rc == 0) {
    cb_http_request h;
    cb__serve_req r;
    int st = cb_http_next(&c->rd, &h);
    if (st == 0) { /* more bytes; EOF (0) ends the connection, even within a request */
      size_t room;
      char *at = cb_http_reader_room(&c->rd, &room);
      ssize_t got = cb__conn_recv(fd, at, room, counts);
      if (got <= 0) {
        rc = (int)got;
        break;
      }
      cb_http_reader_wrote(&c->rd, (size_t)got);
      continue;
    }
    if (st != 1 || cb__serve_parse(env, &h, &r) != 0) {
      counts->bad_requests++;
      rc = fail(c, fd, st == 1 ? 400 : st, -EPROTO, counts);
      break;
    }
    rc = answer(c, env, fd, &r, counts);
    if (rc == 0 && !r.keep_alive) {
      cb__conn_linger(fd);
      break;
    }
  }
  if (c->backend) curl_easy_cleanup(c->backend);
  free(c);
  return rc;
}
/* ---- end of the sync world ---- */

static int serve_loadgen_args(const cb_job_env *env, char *argv[CB_LOADGEN_ARGS_MAX],
                              char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN]) {
  const int64_t *v = env->params->v;
  const cb__serve_prep *p = env->prepared;
  int n = cb__loadgen_arg(argv, bufs, 0, "--proto");
  n = cb__loadgen_arg(argv, bufs, n, "http");
  n = cb__loadgen_arg(argv, bufs, n, "--path");
  n = cb__loadgen_arg(argv, bufs, n, "%s", p->path);
  n = cb__loadgen_arg(argv, bufs, n, "--bytes");
  n = cb__loadgen_arg(argv, bufs, n, "%" PRId64, v[CB__SERVE_BYTES]);
  n = cb__loadgen_arg(argv, bufs, n, "--seed");
  return cb__loadgen_arg(argv, bufs, n, "%" PRId64, v[CB__SERVE_SEED]);
}

static int serve_static_reply(const cb_job_env *env, cb_static_reply *out) {
  const int64_t *v = env->params->v;
  const cb__serve_prep *p = env->prepared;
  if (v[CB__SERVE_WORK_US] != 0 || v[CB__SERVE_WAIT_MS] != 0) return -ENOTSUP;
  *out = (cb_static_reply){.seed = p->seed, .bytes = p->bytes, .path = p->path};
  return 0;
}

const cb_workload cb_workload_serve = {
    .name = "serve",
    .kind = CB_KIND_SERVER,
    .summary = "HTTP/1.1 keep-alive server: GET /?bytes=&work_us=&wait_ms=&seed= answered with seeded bytes",
    .params = serve_params,
    .nparams = sizeof serve_params / sizeof serve_params[0],
    .needs_server = 1,
    .prepare = serve_prepare,
    .release = serve_release,
    .serve_conn = serve_conn,
    .serve_async = &cb__serve_async,
    .loadgen_args = serve_loadgen_args,
    .static_reply = serve_static_reply,
};
