/* serve_loop.c — the serve workload's async world: one task per connection on the
 * loop's streams, the same reader and replies as the sync world (serve_http.h).
 * The CPU work runs inline on the loop, as it would in any event-loop server: the
 * other connections wait meanwhile. The backend call is the loop's fetch. */
#include <errno.h>
#include <string.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/fetch.h"
#include "runtimes/loop/model.h"
#include "workloads/serve_http.h"

typedef struct serve_frame {
  cb_stream_handler_frame h;
  cb_wait_for wf;       /* the idle bound on a read, or the linger bound */
  cb_fetch fetch;       /* the backend calls, once the first one is made */
  int fetch_made;
  int closing;          /* the last reply is queued: the server closes */
  cb_err e, e2;         /* the connection's error; the linger's */
  cb__serve_req req;
  uint64_t off;         /* body bytes of the current reply written */
  uint64_t backend_bytes;
  int linger_reads;
  char url[256];
  cb_http_reader rd;
} serve_frame;

static int count_body(void *arg, const char *data, size_t len) {
  *(uint64_t *)arg += len;
  return 0;
}

/* Queues an error reply; the connection then lingers and closes. */
static void queue_error(serve_frame *f, cb_loop_serve_ctx *ctx, int status) {
  char out[CB__SERVE_HEAD_MAX];
  size_t n = cb__serve_error(out, status);
  if (cb_stream_write(f->h.stream, out, n) == 0) ctx->counts.bytes_out += n;
}

/* Queues the reply's head and first body bytes, in one write. */
static int queue_head(serve_frame *f, cb_loop_serve_ctx *ctx) {
  const cb__serve_prep *p = ctx->env->prepared;
  unsigned char out[CB__SERVE_OUT_CAP]; /* on the loop thread's stack, within this step */
  size_t head = cb__serve_head((char *)out, &f->req);
  uint64_t total = (uint64_t)f->req.bytes, first = total < CB__SERVE_CHUNK ? total : CB__SERVE_CHUNK;
  const unsigned char *b = cb__serve_body(p, &f->req, 0, (size_t)first, out + head);
  if (b != out + head) memcpy(out + head, b, (size_t)first);
  f->off = first;
  ctx->counts.bytes_out += head + first;
  return cb_stream_write(f->h.stream, out, head + (size_t)first);
}

/* Queues the next piece of the body (at most 64 KiB, then the caller drains). */
static int queue_piece(serve_frame *f, cb_loop_serve_ctx *ctx) {
  const cb__serve_prep *p = ctx->env->prepared;
  unsigned char scratch[CB__SERVE_CHUNK];
  size_t n = cb__serve_piece(p, &f->req, f->off);
  if (n > 65536) n = 65536;
  f->off += n;
  ctx->counts.bytes_out += n;
  return cb_stream_write(f->h.stream, cb__serve_body(p, &f->req, f->off - n, n, scratch), n);
}

static int serve_co(cb_task *task, void *vf) {
  serve_frame *f = vf;
  cb_loop_serve_ctx *ctx = f->h.arg;
  cb_stream *s = f->h.stream;
  cb_http_request h;
  int st;
  CB_CO_BEGIN(task, &f->h);
  cb_http_reader_init(&f->rd);
  for (;;) {
    st = cb_http_next(&f->rd, &h);
    if (st == 0) { /* more bytes, within the idle bound; EOF ends the connection */
      {
        size_t room;
        cb_http_reader_room(&f->rd, &room);
        cb_stream_read(s, room);
      }
      if (ctx->idle_ms > 0) {
        cb_wait_for_init(&f->wf, cb_task_loop(task), &s->rd, (uint64_t)ctx->idle_ms * 1000000u);
        CB_AWAIT_TRY(&f->wf.fut, f->e);
      } else {
        CB_AWAIT_TRY(&f->h.stream->rd, f->e);
      }
      if (f->e.code || s->rd.result.u == 0) break;
      ctx->counts.bytes_in += s->rd.result.u;
      cb_http_reader_feed(&f->rd, cb_stream_data(s), s->rd.result.u);
      continue;
    }
    if (st != 1 || cb__serve_parse(ctx->env, &h, &f->req) != 0) {
      ctx->counts.bad_requests++;
      f->closing = 1;
      queue_error(f, ctx, st == 1 ? 400 : st);
      f->e = (cb_err){-EPROTO, "malformed request: answered 400"};
      break;
    }
    if (f->req.work_us > 0) cb__serve_work(ctx->env->prepared, f->req.work_us);
    if (f->req.wait_ms > 0) {
      if (!f->fetch_made && (f->e.code = cb_fetch_init(&f->fetch, cb_task_loop(task))) != 0) {
        f->e.msg = "cannot make a curl handle";
        break;
      }
      f->fetch_made = 1;
      cb__serve_backend_url(f->url, ctx->env, &f->req);
      f->backend_bytes = 0;
      if ((f->e.code = cb_fetch_start(&f->fetch, f->url, count_body, &f->backend_bytes)) != 0) {
        f->e.msg = "cannot start the backend call";
        break;
      }
      CB_AWAIT_TRY(&f->fetch.fut, f->e);
      if (f->e.code == -ECANCELED) break;
      if (f->e.code || cb_future_result(&f->fetch.fut).i != 200 || f->backend_bytes != 0) {
        f->closing = 1;
        queue_error(f, ctx, 502);
        f->e = (cb_err){-EIO, "the backend call failed: answered 502"};
        break;
      }
    }
    f->e = (cb_err){queue_head(f, ctx), "write failed"};
    while (f->e.code == 0 && f->off < (uint64_t)f->req.bytes) {
      CB_AWAIT_TRY(cb_stream_drain(f->h.stream), f->e);
      if (f->e.code == 0) f->e = (cb_err){queue_piece(f, ctx), "write failed"};
    }
    if (f->e.code == 0) CB_AWAIT_TRY(cb_stream_drain(f->h.stream), f->e);
    if (f->e.code) break;
    ctx->counts.requests++;
    if (!f->req.keep_alive) {
      f->closing = 1;
      break;
    }
  }
  /* After the last reply of a connection the server closes (an error, Connection:
   * close): half-close and read until the peer's EOF, briefly, so that closing
   * with unread input does not reset the connection before the reply is read. */
  if (f->closing && f->h.stream->t) {
    cb_stream_write_eof(f->h.stream);
    for (f->linger_reads = 0; f->linger_reads < 64; f->linger_reads++) {
      cb_stream_read(f->h.stream, 65536);
      cb_wait_for_init(&f->wf, cb_task_loop(task), &f->h.stream->rd, 500 * 1000000u);
      CB_AWAIT_TRY(&f->wf.fut, f->e2);
      if (f->e2.code || f->h.stream->rd.result.u == 0) break;
    }
  }
  if (f->fetch_made) cb_fetch_free(&f->fetch);
  if (f->e.code) CB_RAISE_ERR(f->e);
  CB_CO_END();
}

const struct cb_async_conn cb__serve_async = {.fn = serve_co, .frame_size = sizeof(serve_frame)};
