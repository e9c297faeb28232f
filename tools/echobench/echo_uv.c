/* echo_uv.c — see echo_uv.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/check.h"
#include "tools/echobench/echo_uv.h"
#include "runtimes/runtime.h"

/* ---- baseline server ---- */
struct cb_echo_uv_server {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t stop;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int port, ready;
  char rbuf[65536];
};

typedef struct echo_write {
  uv_write_t req;
  char data[];
} echo_write;

static void srv_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
  cb_echo_uv_server *s = h->loop->data;
  *buf = uv_buf_init(s->rbuf, sizeof s->rbuf);
}

static void free_handle(uv_handle_t *h) { free(h); }

static void srv_written(uv_write_t *req, int status) { free(req); } /* req is the first member */

static void srv_read(uv_stream_t *c, ssize_t n, const uv_buf_t *buf) {
  if (n < 0) {
    uv_close((uv_handle_t *)c, free_handle);
    return;
  }
  if (n == 0) return;
  size_t done = 0;
  if (uv_stream_get_write_queue_size(c) == 0) {
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    int w = uv_try_write(c, &b, 1);
    if (w > 0) done = (size_t)w;
  }
  if (done == (size_t)n) return;
  echo_write *ew = malloc(sizeof *ew + (size_t)n - done);
  CB_CHECK(ew);
  memcpy(ew->data, buf->base + done, (size_t)n - done);
  uv_buf_t b = uv_buf_init(ew->data, (unsigned)((size_t)n - done));
  if (uv_write(&ew->req, c, &b, 1, srv_written) != 0) free(ew);
}

static void srv_conn(uv_stream_t *l, int status) {
  if (status < 0) return;
  uv_tcp_t *c = malloc(sizeof *c);
  CB_CHECK(c && uv_tcp_init(l->loop, c) == 0);
  c->data = NULL;
  if (uv_accept(l, (uv_stream_t *)c) != 0) {
    uv_close((uv_handle_t *)c, free_handle);
    return;
  }
  uv_tcp_nodelay(c, 1);
  uv_read_start((uv_stream_t *)c, srv_alloc, srv_read);
}

static void close_any(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, (h->data == arg) ? NULL : free_handle);
}

static void srv_stop(uv_async_t *a) {
  cb_echo_uv_server *s = a->data;
  uv_walk(&s->loop, close_any, s); /* our own handles carry data == s */
}

static void *srv_main(void *arg) {
  cb_echo_uv_server *s = arg;
  uv_run(&s->loop, UV_RUN_DEFAULT);
  return NULL;
}

cb_echo_uv_server *cb_echo_uv_server_start(int *port) {
  cb_echo_uv_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  CB_CHECK(uv_loop_init(&s->loop) == 0);
  s->loop.data = s;
  CB_CHECK(uv_tcp_init(&s->loop, &s->listener) == 0);
  s->listener.data = s;
  CB_CHECK(uv_async_init(&s->loop, &s->stop, srv_stop) == 0);
  s->stop.data = s;
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  if (uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0) != 0 ||
      uv_listen((uv_stream_t *)&s->listener, 1024, srv_conn) != 0) {
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->stop, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    free(s);
    return NULL;
  }
  struct sockaddr_storage ss;
  int len = sizeof ss;
  uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
  *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  CB_CHECK(pthread_create(&s->thread, NULL, srv_main, s) == 0);
  return s;
}

void cb_echo_uv_server_stop(cb_echo_uv_server *s) {
  uv_async_send(&s->stop);
  pthread_join(s->thread, NULL);
  CB_CHECK(uv_loop_close(&s->loop) == 0);
  free(s);
}

/* ---- load client ---- */
typedef struct load_state load_state;
typedef struct load_conn {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_write_t wreq;
  load_state *st;
  size_t got;
} load_conn;

struct load_state {
  const cb_echo_load_opts *o;
  cb_echo_load_result *r;
  char *msg;
  char rbuf[65536];
  int64_t t0, deadline;
  int open, stopping;
};

static void finish(load_state *st) {
  if (st->stopping) return;
  st->stopping = 1;
  st->r->seconds = (cb_now_ns() - st->t0) / 1e9;
}

static void conn_closed(uv_handle_t *h) { ((load_conn *)h->data)->st->open--; }

static void conn_stop(load_conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_sent(uv_write_t *req, int status) {
  load_conn *c = req->data;
  if (status < 0 && !c->st->r->err) c->st->r->err = status;
  if (status < 0) conn_stop(c);
}

static void send_msg(load_conn *c) {
  uv_buf_t b = uv_buf_init(c->st->msg, (unsigned)c->st->o->size);
  c->wreq.data = c;
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_sent) != 0) conn_stop(c);
}

static void load_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
  load_state *st = ((load_conn *)h->data)->st;
  *buf = uv_buf_init(st->rbuf, sizeof st->rbuf);
}

static void on_echo(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  load_conn *c = s->data;
  load_state *st = c->st;
  if (n < 0) {
    if (!st->stopping && !st->r->err) st->r->err = (int)n;
    conn_stop(c);
    return;
  }
  size_t size = (size_t)st->o->size;
  for (ssize_t k = 0; k < n;) {
    size_t take = size - c->got < (size_t)(n - k) ? size - c->got : (size_t)(n - k);
    if (memcmp(buf->base + k, st->msg + c->got, take) != 0) st->r->bad++;
    c->got += take;
    k += (ssize_t)take;
    if (c->got == size) {
      c->got = 0;
      st->r->round_trips++;
      if (st->r->round_trips >= st->o->count || cb_now_ns() >= st->deadline) finish(st);
      if (st->stopping) {
        conn_stop(c);
        return;
      }
      send_msg(c);
    }
  }
}

static void on_connected(uv_connect_t *req, int status) {
  load_conn *c = req->data;
  if (status < 0) {
    if (!c->st->r->err) c->st->r->err = status;
    conn_stop(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, load_alloc, on_echo);
  send_msg(c);
}

int cb_echo_load(const cb_echo_load_opts *o, cb_echo_load_result *r) {
  memset(r, 0, sizeof *r);
  uv_loop_t loop;
  int rc = uv_loop_init(&loop);
  if (rc) return rc;
  load_state *st = calloc(1, sizeof *st);
  load_conn *conns = calloc((size_t)o->conns, sizeof *conns);
  char *msg = malloc((size_t)o->size);
  if (!st || !conns || !msg) {
    free(st);
    free(conns);
    free(msg);
    uv_loop_close(&loop);
    return -ENOMEM;
  }
  for (int k = 0; k < o->size; k++) msg[k] = (char)('a' + k % 26);
  *st = (load_state){.o = o, .r = r, .msg = msg, .t0 = cb_now_ns()};
  st->deadline = st->t0 + (int64_t)(o->seconds * 1e9);
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", o->port, &sa);
  for (int i = 0; i < o->conns; i++) {
    load_conn *c = &conns[i];
    c->st = st;
    CB_CHECK(uv_tcp_init(&loop, &c->tcp) == 0);
    c->tcp.data = c;
    c->creq.data = c;
    st->open++;
    if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&sa, on_connected) != 0) conn_stop(c);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!st->stopping) finish(st); /* every connection failed */
  CB_CHECK(st->open == 0 && uv_loop_close(&loop) == 0);
  free(conns);
  free(msg);
  free(st);
  return 0;
}
