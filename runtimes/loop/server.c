/* server.c — listening transports: create_server on TCP and Unix paths, or on a
 * socket already listening. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport_int.h"

static void on_connection(uv_stream_t *ls, int status) {
  cb_listener *s = ls->data;
  if (status < 0) return; /* e.g. EMFILE: the client sees a reset; keep listening */
  cb_transport *t = cb__transport_new(s->loop, s->kind);
  if (!t) return;
  const cb_protocol *proto = NULL;
  void *parg = NULL;
  if (uv_accept(ls, &t->h.stream) != 0 || !s->factory || s->factory(s->arg, t, &proto, &parg) != 0) {
    cb_transport_abort(t, -ECONNABORTED);
    return;
  }
  s->accepted++;
  if (s->kind == CB_TRANSPORT_TCP) uv_tcp_nodelay(&t->h.tcp, 1);
  cb__transport_made(t, proto, parg);
}

static int listen_on(cb_listener *s, int backlog) {
  int rc = uv_listen(&s->h.stream, backlog, on_connection);
  if (rc) return rc;
  s->open = 1;
  return 0;
}

static void init_server(cb_loop *l, cb_listener *s, int kind, cb_protocol_factory factory, void *arg) {
  memset(s, 0, sizeof *s);
  s->loop = l;
  s->kind = (uint8_t)kind;
  s->factory = factory;
  s->arg = arg;
  cb_future_init(&s->closed, l);
}

static void on_failed_close(uv_handle_t *h) {}

int cb_create_server(cb_loop *l, cb_listener *s, const char *host, int port, cb_protocol_factory factory,
                     void *arg) {
  struct sockaddr_storage ss;
  if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
    return -EINVAL;
  init_server(l, s, CB_TRANSPORT_TCP, factory, arg);
  int rc = uv_tcp_init(&l->uv, &s->h.tcp);
  if (rc) return rc;
  s->h.handle.data = s;
  rc = uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&ss, 0);
  if (!rc) rc = listen_on(s, 1024);
  if (rc) uv_close(&s->h.handle, on_failed_close);
  return rc;
}

int cb_create_unix_server(cb_loop *l, cb_listener *s, const char *path, cb_protocol_factory factory, void *arg) {
  init_server(l, s, CB_TRANSPORT_UNIX, factory, arg);
  int rc = uv_pipe_init(&l->uv, &s->h.pipe, 0);
  if (rc) return rc;
  s->h.handle.data = s;
  rc = uv_pipe_bind(&s->h.pipe, path);
  if (!rc) rc = listen_on(s, 1024);
  if (rc) uv_close(&s->h.handle, on_failed_close);
  return rc;
}

int cb_create_server_fd(cb_loop *l, cb_listener *s, int fd, cb_protocol_factory factory, void *arg) {
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return -errno;
  init_server(l, s, CB_TRANSPORT_TCP, factory, arg);
  int rc = uv_tcp_init(&l->uv, &s->h.tcp);
  if (rc) {
    close(own);
    return rc;
  }
  s->h.handle.data = s;
  rc = uv_tcp_open(&s->h.tcp, own);
  if (rc) close(own); /* not the handle's then */
  else rc = listen_on(s, INT_MAX); /* the kernel caps it at net.core.somaxconn */
  if (rc) uv_close(&s->h.handle, on_failed_close);
  return rc;
}

int cb_listener_port(cb_listener *s) {
  if (s->kind != CB_TRANSPORT_TCP) return -EINVAL;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int rc = uv_tcp_getsockname(&s->h.tcp, (struct sockaddr *)&ss, &len);
  if (rc) return rc;
  return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void on_server_closed(uv_handle_t *h) {
  cb_listener *s = h->data;
  cb_future_set_result(&s->closed, (cb_val){.u = s->accepted});
}

void cb_listener_close(cb_listener *s) {
  if (!s->open) return;
  s->open = 0;
  uv_close(&s->h.handle, on_server_closed);
}
