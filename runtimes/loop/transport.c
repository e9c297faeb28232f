/* transport.c — stream transports: reading, queued writes with water marks,
 * half-close, close/abort, and the final connection_lost. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport.h"
#include "runtimes/loop/transport_int.h"

typedef struct write_req {
  uv_write_t req;
  cb_transport *t;
  char data[];
} write_req;

cb_transport *cb__transport_new(cb_loop *l, int kind) {
  cb_transport *t = calloc(1, sizeof *t);
  if (!t || !cb__io_get(l)) {
    free(t);
    return NULL;
  }
  t->loop = l;
  t->kind = (uint8_t)kind;
  t->high = CB_WRITE_HIGH_DEFAULT;
  t->low = CB_WRITE_HIGH_DEFAULT / 4;
  int rc = kind == CB_TRANSPORT_TCP ? uv_tcp_init(&l->uv, &t->h.tcp) : uv_pipe_init(&l->uv, &t->h.pipe, 0);
  if (rc) {
    free(t);
    return NULL;
  }
  t->h.handle.data = t;
  cb__list_push_back(&cb__io_get(l)->transports, &t->link);
  return t;
}

static void on_closed(uv_handle_t *h) {
  cb_transport *t = h->data;
  if (t->made && t->proto->connection_lost) t->proto->connection_lost(t, t->arg, t->err);
  uv_freeaddrinfo(t->addrs);
  t->addrs = NULL;
  t->closed = 1;
  if (!t->resolving) free(t);
}

static void really_close(cb_transport *t) {
  if (t->close_started) return;
  t->close_started = 1;
  t->closing = 1;
  cb__list_remove(&t->link);
  uv_close(&t->h.handle, on_closed);
}

void cb_transport_abort(cb_transport *t, int err) {
  if (!t->err) t->err = err;
  really_close(t);
}

void cb_transport_close(cb_transport *t) {
  if (t->closing) return;
  t->closing = 1;
  if (t->reading) uv_read_stop(&t->h.stream);
  t->reading = 0;
  if (t->nwrites == 0) really_close(t);
}

int cb_transport_is_closing(const cb_transport *t) { return t->closing; }

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  cb_transport *t = h->data;
  cb__io *io = cb__io_get(t->loop);
  *buf = io ? uv_buf_init(io->rbuf, sizeof io->rbuf) : uv_buf_init(NULL, 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  cb_transport *t = s->data;
  if (nread > 0) {
    t->proto->data_received(t, t->arg, buf->base, (size_t)nread);
  } else if (nread == UV_EOF) {
    uv_read_stop(s);
    t->reading = 0;
    int keep = t->proto->eof_received ? t->proto->eof_received(t, t->arg) : 0;
    if (!keep) cb_transport_close(t);
  } else if (nread < 0) {
    cb_transport_abort(t, (int)nread);
  }
}

void cb_transport_resume_reading(cb_transport *t) {
  if (t->reading || t->closing) return;
  if (uv_read_start(&t->h.stream, on_alloc, on_read) == 0) t->reading = 1;
}

void cb_transport_pause_reading(cb_transport *t) {
  if (!t->reading) return;
  uv_read_stop(&t->h.stream);
  t->reading = 0;
}

void cb__transport_made(cb_transport *t, const cb_protocol *proto, void *arg) {
  t->proto = proto;
  t->arg = arg;
  t->made = 1;
  cb_transport_resume_reading(t); /* first: connection_made may pause it */
  if (proto->connection_made) proto->connection_made(t, arg);
}

size_t cb_transport_write_buffer_size(const cb_transport *t) { return t->h.stream.write_queue_size; }

void cb_transport_set_write_buffer_limits(cb_transport *t, size_t high, size_t low) {
  t->high = high ? high : CB_WRITE_HIGH_DEFAULT;
  t->low = low && low <= t->high ? low : t->high / 4;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  cb_transport *t = req->handle->data;
  if (status < 0 && status != UV_ECANCELED) cb_transport_abort(t, status);
}

static void send_eof(cb_transport *t) {
  t->eof_sent = 1;
  int rc = uv_shutdown(&t->shutdown_req, &t->h.stream, on_shutdown);
  if (rc) cb_transport_abort(t, rc);
}

void cb_transport_write_eof(cb_transport *t) {
  if (t->closing || t->eof_wanted) return;
  t->eof_wanted = 1;
  if (t->nwrites == 0) send_eof(t);
}

static void on_write(uv_write_t *req, int status) {
  write_req *w = cb__container_of(req, write_req, req);
  cb_transport *t = w->t;
  free(w);
  t->nwrites--;
  if (status < 0) {
    if (status != UV_ECANCELED) cb_transport_abort(t, status);
    return;
  }
  if (t->write_paused && t->h.stream.write_queue_size <= t->low) {
    t->write_paused = 0;
    if (t->proto->resume_writing) t->proto->resume_writing(t, t->arg);
  }
  if (t->nwrites == 0) {
    if (t->closing)
      really_close(t);
    else if (t->eof_wanted && !t->eof_sent)
      send_eof(t);
  }
}

int cb_transport_write(cb_transport *t, const void *data, size_t len) {
  if (t->closing || t->eof_wanted) return -EPIPE;
  if (len == 0) return 0;
  size_t done = 0;
  if (t->nwrites == 0) {
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(&t->h.stream, &b, 1);
    if (n > 0)
      done = (size_t)n;
    else if (n != UV_EAGAIN && n != UV_ENOSYS) {
      cb_transport_abort(t, n);
      return n;
    }
  }
  if (done == len) return 0;
  write_req *w = malloc(sizeof *w + (len - done));
  if (!w) return -ENOMEM;
  memcpy(w->data, (const char *)data + done, len - done);
  w->t = t;
  uv_buf_t b = uv_buf_init(w->data, (unsigned)(len - done));
  int rc = uv_write(&w->req, &t->h.stream, &b, 1, on_write);
  if (rc) {
    free(w);
    cb_transport_abort(t, rc);
    return rc;
  }
  t->nwrites++;
  if (!t->write_paused && t->h.stream.write_queue_size > t->high) {
    t->write_paused = 1;
    if (t->proto->pause_writing) t->proto->pause_writing(t, t->arg);
  }
  return 0;
}

int cb_transport_peername(cb_transport *t, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (t->kind == CB_TRANSPORT_TCP) {
    int len = sizeof *ss;
    return uv_tcp_getpeername(&t->h.tcp, (struct sockaddr *)ss, &len);
  }
  struct sockaddr_un *un = (struct sockaddr_un *)ss;
  size_t len = sizeof un->sun_path;
  un->sun_family = AF_UNIX;
  int rc = uv_pipe_getpeername(&t->h.pipe, un->sun_path, &len);
  return rc == UV_ENOBUFS ? -ENAMETOOLONG : rc;
}
