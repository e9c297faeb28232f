/* serve_http.c — contract in serve_http.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "workloads/body.h"
#include "workloads/serve_http.h"

static const char *const keys[] = {"bytes", "work_us", "wait_ms", "seed", NULL};

int cb__serve_parse(const cb_job_env *env, const cb_http_request *h, cb__serve_req *out) {
  const int64_t *v = env->params->v;
  const char *t = h->target;
  size_t n = h->target_len;
  *out = (cb__serve_req){.bytes = v[CB__SERVE_BYTES], .work_us = v[CB__SERVE_WORK_US],
                         .wait_ms = v[CB__SERVE_WAIT_MS], .seed = v[CB__SERVE_SEED], .keep_alive = h->keep_alive};
  if (n == 0 || t[0] != '/' || (n > 1 && t[1] != '?') || cb_http_query_check(t, n, keys) != 0 ||
      cb_http_query_int(t, n, "bytes", CB__SERVE_MAX_BYTES, &out->bytes) < 0 ||
      cb_http_query_int(t, n, "work_us", CB__SERVE_MAX_WORK_US, &out->work_us) < 0 ||
      cb_http_query_int(t, n, "wait_ms", CB__SERVE_MAX_WAIT_MS, &out->wait_ms) < 0 ||
      cb_http_query_int(t, n, "seed", INT64_MAX, &out->seed) < 0)
    return -EPROTO;
  return 0;
}

size_t cb__serve_head(char *out, const cb__serve_req *r) {
  int n = snprintf(out, CB__SERVE_HEAD_MAX, "HTTP/1.1 200 OK\r\nContent-Length: %" PRId64 "\r\n%s\r\n", r->bytes,
                   r->keep_alive ? "" : "Connection: close\r\n");
  return (size_t)n;
}

size_t cb__serve_error(char *out, int status) {
  const char *reason = status == 414   ? "URI Too Long"
                       : status == 431 ? "Request Header Fields Too Large"
                       : status == 502 ? "Bad Gateway"
                                       : "Bad Request";
  int n = snprintf(out, CB__SERVE_HEAD_MAX, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                   status, reason);
  return (size_t)n;
}

static int prepared_has(const cb__serve_prep *p, const cb__serve_req *r, uint64_t end) {
  return p->body && (uint64_t)r->seed == p->seed && end <= p->bytes;
}

const unsigned char *cb__serve_body(const cb__serve_prep *p, const cb__serve_req *r, uint64_t off, size_t n,
                                    unsigned char *scratch) {
  if (prepared_has(p, r, off + n)) return p->body + off;
  cb_body_fill((uint64_t)r->seed, off, scratch, n);
  return scratch;
}

size_t cb__serve_piece(const cb__serve_prep *p, const cb__serve_req *r, uint64_t off) {
  uint64_t rest = (uint64_t)r->bytes - off;
  if (prepared_has(p, r, (uint64_t)r->bytes)) return (size_t)rest;
  return rest < CB__SERVE_CHUNK ? (size_t)rest : CB__SERVE_CHUNK;
}

void cb__serve_work(const cb__serve_prep *p, int64_t us) {
  uint64_t x = 0x9e3779b97f4a7c15u, iters = (uint64_t)((double)us * p->iters_per_us);
  for (uint64_t k = 0; k < iters; k++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    __asm__ volatile("" : "+r"(x)); /* one dependent multiply-add a turn, never folded away */
  }
}

void cb__serve_backend_url(char url[256], const cb_job_env *env, const cb__serve_req *r) {
  snprintf(url, 256, "%s/?ms=%" PRId64 "&bytes=0&seed=%" PRId64, env->server_url, r->wait_ms, r->seed);
}
