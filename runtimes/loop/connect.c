/* connect.c — client connections: resolve (unless numeric), connect to each
 * resolved address in turn until one accepts, then hand the transport to its
 * protocol and complete the caller's future. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport_int.h"

static void fail(cb_transport *t, int err, const char *msg) {
  cb_connect *c = t->connecting;
  t->connecting = NULL;
  if (c) {
    c->t = NULL;
    cb_future_set_error(&c->fut, err, msg);
  }
  cb_transport_abort(t, err);
}

static void try_next(cb_transport *t);

/* The attempt on t failed and addresses are left: go on with a fresh
 * transport (a socket that failed to connect cannot be reused). */
static int retry(cb_transport *t, int status) {
  cb_transport *t2 = cb__transport_new(t->loop, CB_TRANSPORT_TCP);
  if (!t2) return -ENOMEM;
  t2->proto = t->proto;
  t2->arg = t->arg;
  t2->connecting = t->connecting;
  t2->connecting->t = t2;
  t2->addrs = t->addrs;
  t2->next_addr = t->next_addr;
  t->addrs = t->next_addr = NULL;
  t->connecting = NULL;
  cb_transport_abort(t, status);
  try_next(t2);
  return 0;
}

static void on_connect(uv_connect_t *req, int status) {
  cb_transport *t = req->handle->data;
  cb_connect *c = t->connecting;
  if (!c) return; /* cancelled: the transport is closing already */
  if (status < 0) {
    if (t->next_addr && status != UV_ECANCELED && retry(t, status) == 0) return;
    fail(t, status, status == UV_ECONNREFUSED ? "connection refused" : "cannot connect");
    return;
  }
  t->connecting = NULL;
  c->t = NULL;
  uv_freeaddrinfo(t->addrs);
  t->addrs = t->next_addr = NULL;
  if (t->kind == CB_TRANSPORT_TCP) uv_tcp_nodelay(&t->h.tcp, 1);
  cb__transport_made(t, t->proto, t->arg);
  cb_future_set_result(&c->fut, (cb_val){.p = t});
}

static void start_tcp(cb_transport *t, const struct sockaddr *sa) {
  int rc = uv_tcp_connect(&t->connect_req, &t->h.tcp, sa, on_connect);
  if (rc) fail(t, rc, "cannot connect");
}

/* Connects to the next resolved address (asyncio tries them all in order). */
static void try_next(cb_transport *t) {
  struct addrinfo *ai = t->next_addr;
  struct sockaddr_storage ss;
  t->next_addr = ai->ai_next;
  memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
  start_tcp(t, (struct sockaddr *)&ss);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  cb_transport *t = req->data;
  t->resolving = 0;
  if (!t->connecting) { /* cancelled: the handle is closing or closed */
    uv_freeaddrinfo(res);
    if (t->closed) free(t);
    return;
  }
  if (status < 0 || !res) {
    uv_freeaddrinfo(res);
    fail(t, status < 0 ? status : -ENOENT, "cannot resolve the host name");
    return;
  }
  t->addrs = t->next_addr = res;
  try_next(t);
}

/* First done callback of the caller's future: if it was cancelled while we
 * were still connecting, drop the half-made connection. */
static void fut_done(void *arg) {
  cb_connect *c = arg;
  cb_transport *t = c->t;
  if (!t) return;
  c->t = NULL;
  t->connecting = NULL;
  if (t->resolving) uv_cancel((uv_req_t *)&t->gai);
  cb_transport_abort(t, -ECANCELED);
}

static cb_transport *begin(cb_loop *l, cb_connect *c, int kind, const cb_protocol *proto, void *arg) {
  memset(c, 0, sizeof *c);
  cb_future_init(&c->fut, l);
  cb_transport *t = cb__transport_new(l, kind);
  if (!t) return NULL;
  t->proto = proto;
  t->arg = arg;
  t->connecting = c;
  c->t = t;
  cb_future_add_done_callback(&c->fut, &c->on_done, fut_done, c);
  return t;
}

int cb_create_connection(cb_loop *l, cb_connect *c, const char *host, int port, const cb_protocol *proto,
                         void *arg) {
  cb_transport *t = begin(l, c, CB_TRANSPORT_TCP, proto, arg);
  if (!t) return -ENOMEM;
  struct sockaddr_storage ss;
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0 ||
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0) {
    start_tcp(t, (struct sockaddr *)&ss);
    return 0;
  }
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  t->gai.data = t;
  int rc = uv_getaddrinfo(&l->uv, &t->gai, on_resolved, host, service, &hints);
  if (rc)
    fail(t, rc, "cannot resolve the host name");
  else
    t->resolving = 1;
  return 0;
}

int cb_create_unix_connection(cb_loop *l, cb_connect *c, const char *path, const cb_protocol *proto, void *arg) {
  cb_transport *t = begin(l, c, CB_TRANSPORT_UNIX, proto, arg);
  if (!t) return -ENOMEM;
  uv_pipe_connect(&t->connect_req, &t->h.pipe, path, on_connect);
  return 0;
}
