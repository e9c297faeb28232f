/* datagram.c — see datagram.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/datagram.h"
#include "runtimes/loop/io_int.h"

typedef struct send_req {
  uv_udp_send_t req;
  cb_datagram *d;
  char data[];
} send_req;

static int parse(const char *host, int port, struct sockaddr_storage *ss) {
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return 0;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return 0;
  return -EINVAL;
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
  cb_datagram *d = h->data;
  *buf = uv_buf_init(d->rbuf, sizeof d->rbuf);
}

static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags) {
  cb_datagram *d = u->data;
  if (n < 0) {
    if (d->proto->error_received) d->proto->error_received(d, d->arg, (int)n);
    return;
  }
  if (addr) d->proto->datagram_received(d, d->arg, buf->base, (size_t)n, addr);
}

static void on_closed(uv_handle_t *h) {
  cb_datagram *d = h->data;
  cb_future_set_result(&d->closed, (cb_val){.u = 0});
  if (d->proto->connection_lost) d->proto->connection_lost(d, d->arg, 0);
}

int cb_create_datagram_endpoint(cb_loop *l, cb_datagram *d, const char *local_host, int local_port,
                                const char *remote_host, int remote_port, const cb_datagram_protocol *proto,
                                void *arg) {
  struct sockaddr_storage local, remote;
  if (local_host && parse(local_host, local_port, &local)) return -EINVAL;
  if (remote_host && parse(remote_host, remote_port, &remote)) return -EINVAL;
  memset(d, 0, offsetof(cb_datagram, rbuf));
  d->loop = l;
  d->proto = proto;
  d->arg = arg;
  cb_future_init(&d->closed, l);
  int rc = uv_udp_init(&l->uv, &d->udp);
  if (rc) return rc;
  d->udp.data = d;
  d->open = 1;
  if (!rc && local_host) rc = uv_udp_bind(&d->udp, (struct sockaddr *)&local, 0);
  if (!rc && remote_host) rc = uv_udp_connect(&d->udp, (struct sockaddr *)&remote);
  if (!rc) rc = uv_udp_recv_start(&d->udp, on_alloc, on_recv);
  if (rc) {
    cb_datagram_close(d);
    return rc;
  }
  d->connected = remote_host != NULL;
  return 0;
}

static void on_sent(uv_udp_send_t *req, int status) {
  send_req *s = cb__container_of(req, send_req, req);
  cb_datagram *d = s->d;
  free(s);
  if (status < 0 && status != UV_ECANCELED && d->proto->error_received) d->proto->error_received(d, d->arg, status);
}

int cb_datagram_sendto(cb_datagram *d, const void *data, size_t len, const struct sockaddr *addr) {
  if (!d->open) return -EBADF;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int n = uv_udp_try_send(&d->udp, &b, 1, addr);
  if (n >= 0) return 0;
  if (n != UV_EAGAIN) return n;
  send_req *s = malloc(sizeof *s + len);
  if (!s) return -ENOMEM;
  memcpy(s->data, data, len);
  s->d = d;
  b = uv_buf_init(s->data, (unsigned)len);
  int rc = uv_udp_send(&s->req, &d->udp, &b, 1, addr, on_sent);
  if (rc) free(s);
  return rc;
}

int cb_datagram_port(cb_datagram *d) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int rc = uv_udp_getsockname(&d->udp, (struct sockaddr *)&ss, &len);
  if (rc) return rc;
  return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

void cb_datagram_close(cb_datagram *d) {
  if (!d->open) return;
  d->open = 0;
  uv_close((uv_handle_t *)&d->udp, on_closed);
}
