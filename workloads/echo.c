/* echo.c — the TCP echo server (asyncio's start_server example, vmbench's echo):
 * each connection's bytes are written back as they arrive, until the peer closes.
 * The generator sends messages of `bytes` and checks each one it reads back;
 * counts.requests is the bytes echoed over `bytes` (whole messages). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/model.h"
#include "workloads/load_params.h"
#include "workloads/serve_io.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_BYTES };

static const cb_param_def echo_params[] = {
    [P_BYTES] = {"bytes", 1024, 1, 1048576, "size of each message the generator sends and reads back", NULL},
    CB_LOAD_PARAMS,
};

/* The sync world's receive buffer: a message at once, within [4 KiB, 64 KiB]. */
static size_t buffer_size(int64_t bytes) { return bytes < 4096 ? 4096 : bytes > 65536 ? 65536 : (size_t)bytes; }

static int echo_conn(const cb_job_env *env, int fd, int64_t idle_ms, cb_serve_counts *counts) {
  int64_t bytes = env->params->v[P_BYTES];
  size_t cap = buffer_size(bytes);
  char *buf = malloc(cap); /* not on the stack: green threads' stacks are small */
  if (!buf) return -ENOMEM;
  uint64_t echoed = 0;
  int rc = cb__conn_set_idle(fd, idle_ms);
  while (rc == 0) {
    ssize_t r = cb__conn_recv(fd, buf, cap, counts);
    if (r <= 0) {
      rc = (int)r;
      break;
    }
    rc = cb__conn_send(fd, buf, (size_t)r, counts);
    if (rc == 0) echoed += (uint64_t)r;
  }
  counts->requests += echoed / (uint64_t)bytes;
  free(buf);
  return rc;
}

/* ---- async world (loop model): the same on the loop's streams ---- */
typedef struct echo_frame {
  cb_stream_handler_frame h;
  cb_wait_for idle;
  cb_err e;
  uint64_t echoed;
} echo_frame;

static int echo_co(cb_task *task, void *vf) {
  echo_frame *f = vf;
  cb_loop_serve_ctx *ctx = f->h.arg;
  cb_stream *s = f->h.stream;
  CB_CO_BEGIN(task, &f->h);
  for (;;) {
    cb_stream_read(s, 65536);
    if (ctx->idle_ms > 0) {
      cb_wait_for_init(&f->idle, cb_task_loop(task), &s->rd, (uint64_t)ctx->idle_ms * 1000000u);
      CB_AWAIT_TRY(&f->idle.fut, f->e);
    } else {
      CB_AWAIT_TRY(&f->h.stream->rd, f->e);
    }
    if (f->e.code || s->rd.result.u == 0) break;
    ctx->counts.bytes_in += s->rd.result.u;
    f->e.code = cb_stream_write(s, cb_stream_data(s), s->rd.result.u);
    if (f->e.code) {
      f->e.msg = "write failed";
      break;
    }
    ctx->counts.bytes_out += s->rd.result.u;
    f->echoed += s->rd.result.u;
    CB_AWAIT_TRY(cb_stream_drain(f->h.stream), f->e);
    if (f->e.code) break;
  }
  ctx->counts.requests += f->echoed / (uint64_t)ctx->env->params->v[P_BYTES];
  if (f->e.code) CB_RAISE_ERR(f->e);
  CB_CO_END();
}

static const struct cb_async_conn echo_async = {.fn = echo_co, .frame_size = sizeof(echo_frame)};
/* ---- end of the async world ---- */

static int echo_loadgen_args(const cb_job_env *env, char *argv[CB_LOADGEN_ARGS_MAX],
                             char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN]) {
  int n = cb__loadgen_arg(argv, bufs, 0, "--proto");
  n = cb__loadgen_arg(argv, bufs, n, "echo");
  n = cb__loadgen_arg(argv, bufs, n, "--bytes");
  n = cb__loadgen_arg(argv, bufs, n, "%" PRId64, env->params->v[P_BYTES]);
  n = cb__loadgen_arg(argv, bufs, n, "--seed");
  return cb__loadgen_arg(argv, bufs, n, "1"); /* echo's messages: the generator's bytes of seed 1 */
}

const cb_workload cb_workload_echo = {
    .name = "echo",
    .kind = CB_KIND_SERVER,
    .summary = "TCP echo server: every connection's bytes written back (messages of `bytes`)",
    .params = echo_params,
    .nparams = sizeof echo_params / sizeof echo_params[0],
    .serve_conn = echo_conn,
    .serve_async = &echo_async,
    .loadgen_args = echo_loadgen_args,
};
