/* stream_open.c — open_connection and start_server: streams over new
 * connections. */
#include <errno.h>
#include <string.h>

#include "runtimes/loop/stream_int.h"

/* Runs after the connect request's own done callback, before the awaiting
 * task resumes: on failure nobody else will ever free the stream. */
static void open_done(void *arg) {
  cb_stream_open *op = arg;
  cb_future *f = &op->c.fut;
  if (f->state == CB_FUT_FINISHED && f->err == 0) return;
  cb_stream *s = op->s;
  op->s = NULL;
  s->refs = 1;
  cb_stream_release(s);
}

static int open_common(cb_loop *l, cb_stream_open *op, const char *host, int port, const char *path) {
  memset(op, 0, sizeof *op);
  cb_stream *s = cb__stream_new(l);
  if (!s) return -ENOMEM;
  int rc = path ? cb_create_unix_connection(l, &op->c, path, &cb__stream_protocol, s)
                : cb_create_connection(l, &op->c, host, port, &cb__stream_protocol, s);
  if (rc) {
    s->refs = 1;
    cb_stream_release(s);
    return rc;
  }
  op->s = s;
  cb_future_add_done_callback(&op->c.fut, &op->on_done, open_done, op);
  return 0;
}

int cb_open_connection(cb_loop *l, cb_stream_open *op, const char *host, int port) {
  return open_common(l, op, host, port, NULL);
}

int cb_open_unix_connection(cb_loop *l, cb_stream_open *op, const char *path) {
  return open_common(l, op, NULL, 0, path);
}

/* ---- start_server ---- */
typedef struct conn_frame {
  cb_co co;
  cb_stream *s;
  cb_co_fn handler;
  _Alignas(8) unsigned char inner[]; /* task frames are 8-aligned */
} conn_frame;

static int conn_co(cb_task *task, void *vf) {
  conn_frame *f = vf;
  cb_err e = {0, NULL};
  CB_CO_BEGIN(task, f);
  CB_CALL_TRY(f->handler, (cb_stream_handler_frame *)f->inner, e);
  cb_stream_close(f->s);
  cb_stream_release(f->s);
  if (e.code) CB_RAISE_ERR(e);
  CB_CO_END();
}

static int factory(void *arg, cb_transport *t, const cb_protocol **proto, void **proto_arg) {
  cb_stream_server *ss = arg;
  cb_stream *s = cb__stream_new(ss->srv.loop);
  if (!s) return -ENOMEM;
  cb_task *task = cb_create_task(ss->srv.loop, conn_co, sizeof(conn_frame) + ss->frame_size, "stream-handler");
  if (!task) {
    s->refs = 1;
    cb_stream_release(s);
    return -ENOMEM;
  }
  conn_frame *f = cb_task_frame(task);
  cb_stream_handler_frame *h = (cb_stream_handler_frame *)f->inner;
  f->s = s;
  f->handler = ss->handler;
  h->stream = s;
  h->arg = ss->arg;
  s->t = t;
  cb_task_release(task);
  *proto = &cb__stream_protocol;
  *proto_arg = s;
  return 0;
}

static void set_handler(cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg) {
  CB_CHECK(frame_size >= sizeof(cb_stream_handler_frame));
  ss->handler = handler;
  ss->frame_size = frame_size;
  ss->arg = arg;
}

int cb_start_server(cb_loop *l, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg,
                    const char *host, int port) {
  set_handler(ss, handler, frame_size, arg);
  return cb_create_server(l, &ss->srv, host, port, factory, ss);
}

int cb_start_unix_server(cb_loop *l, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg,
                         const char *path) {
  set_handler(ss, handler, frame_size, arg);
  return cb_create_unix_server(l, &ss->srv, path, factory, ss);
}

int cb_start_server_fd(cb_loop *l, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg, int fd) {
  set_handler(ss, handler, frame_size, arg);
  return cb_create_server_fd(l, &ss->srv, fd, factory, ss);
}
