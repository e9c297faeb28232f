/* serve_http.h — what the serve workload's two worlds share (serve.c: the sync
 * world and the workload; serve_loop.c: the loop's handler): the request form, the
 * replies, the calibrated CPU work and the state prepare() builds.
 *
 * Request: GET /?bytes=B&work_us=W&wait_ms=D&seed=S (HTTP/1.1 keep-alive or 1.0;
 * a key left out takes the cell's value). Reply: "HTTP/1.1 200 OK", Content-Length
 * B (and "Connection: close" when the client asked for it), then bytes 0..B of
 * cb_body_fill(S), after W µs of CPU work and, when D > 0, a GET of delayd's
 * /?ms=D&bytes=0&seed=S. Anything else: 400 (or the reader's 414, 431) with
 * Connection: close, and the connection closes. A failed backend call: 502 and
 * close. */
#ifndef CB_SERVE_HTTP_H
#define CB_SERVE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/http_request.h"
#include "workloads/workload.h"

enum { CB__SERVE_BYTES, CB__SERVE_WORK_US, CB__SERVE_WAIT_MS, CB__SERVE_SEED };

#define CB__SERVE_MAX_BYTES (16 * 1024 * 1024)
#define CB__SERVE_MAX_WORK_US 1000000
#define CB__SERVE_MAX_WAIT_MS 60000
/* A reply's head and first body bytes go out in one send of at most this; a body
 * that is not the prepared one is generated in pieces of CB__SERVE_CHUNK. */
#define CB__SERVE_CHUNK (16 * 1024)
#define CB__SERVE_HEAD_MAX 128
#define CB__SERVE_OUT_CAP (CB__SERVE_HEAD_MAX + CB__SERVE_CHUNK)

typedef struct cb__serve_req {
  int64_t bytes, work_us, wait_ms, seed;
  int keep_alive;
} cb__serve_req;

/* env->prepared: read-only once made. */
typedef struct cb__serve_prep {
  double iters_per_us;  /* of cb__serve_work's loop, measured in prepare() */
  uint64_t seed, bytes; /* the cell's own reply body ... */
  unsigned char *body;  /* ... made once */
  char path[CB_LOADGEN_ARG_LEN]; /* the target the generator sends */
} cb__serve_prep;

/* The request h asks for, into *out: 0, or -EPROTO when it is not this form (a
 * path other than "/", an unknown key, a value out of bounds). */
int cb__serve_parse(const cb_job_env *env, const cb_http_request *h, cb__serve_req *out);

/* The 200 reply's head into out (CB__SERVE_HEAD_MAX bytes); returns its length. */
size_t cb__serve_head(char *out, const cb__serve_req *r);
/* A whole error reply (400, 414, 431, 502) with Connection: close; its length. */
size_t cb__serve_error(char *out, int status);

/* Body bytes [off, off + n) of r's reply: a pointer into the prepared body when it
 * holds them, else generated into scratch (n <= CB__SERVE_CHUNK then). */
const unsigned char *cb__serve_body(const cb__serve_prep *p, const cb__serve_req *r, uint64_t off, size_t n,
                                    unsigned char *scratch);
/* The most body bytes from off that one cb__serve_body call gives. */
size_t cb__serve_piece(const cb__serve_prep *p, const cb__serve_req *r, uint64_t off);

/* us microseconds of CPU work (the calibrated loop). */
void cb__serve_work(const cb__serve_prep *p, int64_t us);

/* The loop's connection handler (serve_loop.c). */
extern const struct cb_async_conn cb__serve_async;

/* The backend call's URL: delayd's /?ms=D&bytes=0&seed=S. */
void cb__serve_backend_url(char url[256], const cb_job_env *env, const cb__serve_req *r);

#endif
