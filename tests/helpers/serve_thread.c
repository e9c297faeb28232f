/* serve_thread.c — test helper: a model's serve in a thread (serve_thread.h). */
#include "tests/helpers/serve_thread.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/helpers/inproc.h"

static void *serve_main(void *p) {
  serve_thread *st = p;
  st->rc = st->model->serve(&st->spec, &st->report);
  close(st->spec.ready_fd); /* a server that failed before it served: the test sees EOF */
  return NULL;
}

void serve_thread_start(serve_thread *st, const cb_model *m, const cb_workload *w, const char *const overrides[],
                        const char *server_url, uint64_t conc, uint64_t max_conns, int64_t idle_ms) {
  signal(SIGPIPE, SIG_IGN);
  cb_raise_fd_limit();
  memset(st, 0, sizeof *st);
  cr_assert_not_null(m);
  st->model = m;
  inproc_params(w, &st->params, overrides);
  st->env = (cb_job_env){.workload = w, .params = &st->params, .server_url = server_url};
  char err[CB_ERR_LEN] = "";
  cr_assert(!w->prepare || w->prepare(&st->env, err) == 0, "%s: prepare: %s", w->name, err);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4096) == 0 &&
                getsockname(lfd, (struct sockaddr *)&a, &len) == 0,
            "listen on 127.0.0.1: %s", strerror(errno));
  st->port = ntohs(a.sin_port);
  int stop[2], ready[2];
  cr_assert(pipe2(stop, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0);
  st->stop_wr = stop[1];
  st->ready_rd = ready[0];
  st->spec = (cb_serve_spec){.workload = w, .env = &st->env, .listen_fd = lfd, .stop_fd = stop[0],
                             .concurrency = conc, .max_conns = max_conns, .idle_ms = idle_ms, .ready_fd = ready[1]};
  cr_assert(pthread_create(&st->tid, NULL, serve_main, st) == 0);
}

int serve_thread_ready(serve_thread *st) {
  char b;
  return read(st->ready_rd, &b, 1) == 1;
}

void serve_thread_end(serve_thread *st) {
  pthread_join(st->tid, NULL);
  close(st->stop_wr);
  close(st->ready_rd);
  close(st->spec.stop_fd);
  close(st->spec.listen_fd);
  if (st->env.workload->release) st->env.workload->release(&st->env);
}

void serve_thread_stop(serve_thread *st) {
  char b = 1;
  cr_assert(write(st->stop_wr, &b, 1) == 1);
  serve_thread_end(st);
}

int loopback_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
  return fd;
}

void send_all(int fd, const void *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);
    cr_assert(w > 0, "send: %s", strerror(errno));
    off += (size_t)w;
  }
}

size_t recv_all(int fd, void *buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = recv(fd, (char *)buf + off, n - off, 0);
    if (r <= 0) break;
    off += (size_t)r;
  }
  return off;
}
