/* serve_util.c — the accept wait and the open-connection table; contract in
 * serve_util.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/check.h"
#include "runtimes/serve/serve_util.h"

int cb_serve_accept_or(const cb_serve_spec *spec, int extra_fd, int *fd) {
  for (;;) {
    struct pollfd pf[3] = {{.fd = spec->stop_fd, .events = POLLIN},
                           {.fd = extra_fd, .events = POLLIN},
                           {.fd = spec->listen_fd, .events = POLLIN}};
    int n = poll(pf, 3, -1); /* a negative fd (no extra_fd) is ignored by poll */
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (pf[0].revents) return 0; /* a byte, EOF or an error: serving ends */
    if (pf[1].revents) return 2;
    if (!pf[2].revents) continue;
    int c = accept4(spec->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return -errno;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd = c;
    return 1;
  }
}

int cb_serve_accept(const cb_serve_spec *spec, int *fd) { return cb_serve_accept_or(spec, -1, fd); }

int cb_serve_pause(const cb_serve_spec *spec, int ms) {
  struct pollfd pf = {.fd = spec->stop_fd, .events = POLLIN};
  int n = poll(&pf, 1, ms);
  return n > 0 ? 0 : 1;
}

int cb_conn_table_init(cb_conn_table *t, uint64_t max_conns) {
  if (max_conns == 0) return -EINVAL;
  *t = (cb_conn_table){.cap = max_conns};
  t->fds = malloc(max_conns * sizeof *t->fds);
  if (!t->fds) return -ENOMEM;
  CB_CHECK(pthread_mutex_init(&t->mu, NULL) == 0);
  return 0;
}

void cb_conn_table_free(cb_conn_table *t) {
  pthread_mutex_destroy(&t->mu);
  free(t->fds);
  t->fds = NULL;
}

int cb_conn_table_add(cb_conn_table *t, int fd) {
  int rc = -EBUSY;
  pthread_mutex_lock(&t->mu);
  if (!t->stopping && t->n < t->cap) {
    t->fds[t->n++] = fd;
    if (t->n > t->peak) t->peak = t->n;
    rc = 0;
  }
  pthread_mutex_unlock(&t->mu);
  return rc;
}

void cb_conn_table_remove(cb_conn_table *t, int fd) {
  pthread_mutex_lock(&t->mu);
  for (uint64_t k = t->n; k-- > 0;) {
    if (t->fds[k] == fd) {
      t->fds[k] = t->fds[--t->n];
      break;
    }
  }
  pthread_mutex_unlock(&t->mu);
}

void cb_conn_table_shutdown_all(cb_conn_table *t) {
  pthread_mutex_lock(&t->mu);
  t->stopping = 1;
  for (uint64_t k = 0; k < t->n; k++) shutdown(t->fds[k], SHUT_RDWR);
  pthread_mutex_unlock(&t->mu);
}

static void *watch_main(void *arg) {
  cb_serve_watch *w = arg;
  struct pollfd pf = {.fd = w->stop_fd, .events = POLLIN};
  while (poll(&pf, 1, -1) < 0 && errno == EINTR) { /* poll is a cancellation point */
  }
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  cb_conn_table_shutdown_all(w->table);
  return NULL;
}

int cb_serve_watch_start(cb_serve_watch *w, int stop_fd, cb_conn_table *table) {
  w->stop_fd = stop_fd;
  w->table = table;
  return -pthread_create(&w->tid, NULL, watch_main, w);
}

void cb_serve_watch_end(cb_serve_watch *w) {
  pthread_cancel(w->tid); /* a watcher that already returned ignores it */
  pthread_join(w->tid, NULL);
}

void cb_serve_totals_add(cb_serve_totals *totals, const cb_serve_counts *c, int closed_idle) {
  __atomic_fetch_add(&totals->counts.requests, c->requests, __ATOMIC_RELAXED);
  __atomic_fetch_add(&totals->counts.bad_requests, c->bad_requests, __ATOMIC_RELAXED);
  __atomic_fetch_add(&totals->counts.bytes_in, c->bytes_in, __ATOMIC_RELAXED);
  __atomic_fetch_add(&totals->counts.bytes_out, c->bytes_out, __ATOMIC_RELAXED);
  if (closed_idle) __atomic_fetch_add(&totals->closed_idle, 1, __ATOMIC_RELAXED);
}
