/* io.c — parking green threads on file descriptor readiness (libuv uv_poll).
 *
 * libuv allows one uv_poll_t per fd per loop, so the scheduler keeps one watcher per
 * fd (s->fds, indexed by fd, allocated on first use and kept) with a list of the green
 * threads waiting on it. A watcher is started only while someone waits and stopped
 * as soon as the last waiter leaves: libuv then drops the fd from epoll, so a later
 * close() and reuse of the number is harmless. Limit: closing an fd while another
 * green thread waits on it is not supported (libuv aborts on the stale epoll entry). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"

static void on_poll(uv_poll_t *h, int status, int events) {
  cb__fdw *w = h->data;
  cb_green_sched *s = h->loop->data;
  for (cb__link *l = w->waiters.next; l != &w->waiters; l = l->next) {
    cb__fdwait *fw = CB__CONTAINER(l, cb__fdwait, link);
    /* on error, wake everyone: the retried system call reports it */
    int hit = status < 0 ? fw->events : (events & fw->events);
    if (hit) {
      fw->revents |= hit;
      cb__green_ready(s, fw->g);
    }
  }
}

static int watcher(cb_green_sched *s, int fd, cb__fdw **out) {
  if (fd < 0) return -EBADF;
  if ((size_t)fd >= s->nfds) {
    size_t n = s->nfds ? s->nfds : 64;
    while (n <= (size_t)fd) n *= 2;
    cb__fdw **t = realloc(s->fds, n * sizeof *t);
    if (!t) return -ENOMEM;
    memset(t + s->nfds, 0, (n - s->nfds) * sizeof *t);
    s->fds = t;
    s->nfds = n;
  }
  if (!s->fds[fd]) {
    cb__fdw *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    /* uv_poll_init makes the fd non-blocking for good; give the caller its flags back */
    int flags = fcntl(fd, F_GETFL);
    int r = flags < 0 ? -errno : uv_poll_init(&s->loop, &w->poll, fd);
    if (r == 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags);
    if (r != 0) {
      free(w);
      return r;
    }
    w->poll.data = w;
    cb__list_init(&w->waiters);
    s->fds[fd] = w;
  }
  *out = s->fds[fd];
  return 0;
}

/* Starts, changes or stops w so that it watches exactly what its waiters want. */
static void rewatch(cb__fdw *w) {
  int ev = 0;
  for (cb__link *l = w->waiters.next; l != &w->waiters; l = l->next)
    ev |= CB__CONTAINER(l, cb__fdwait, link)->events;
  if (ev == w->events) return;
  if (ev == 0) {
    uv_poll_stop(&w->poll);
  } else {
    CB_CHECK(uv_poll_start(&w->poll, ev, on_poll) == 0);
  }
  w->events = ev;
}

/* Contract: see green_int.h. Cost: per fd one epoll_ctl to add and one to remove
 * (libuv), plus the park. */
int cb__io_wait(cb_green_sched *s, cb__fdwait *w, size_t n, int64_t deadline_ns) {
  cb_green *g = s->current;
  size_t added = 0;
  int r = 0;
  for (; added < n; added++) {
    cb__fdw *fw;
    r = watcher(s, w[added].fd, &fw);
    if (r != 0) break;
    w[added].g = g;
    w[added].revents = 0;
    cb__list_push_back(&fw->waiters, &w[added].link);
    rewatch(fw);
  }
  if (r == 0) {
    if (deadline_ns >= 0) cb__green_timer_start(s, g, deadline_ns);
    cb__green_park(s);
    if (deadline_ns >= 0) cb__green_timer_stop(g);
    r = -ETIMEDOUT;
    for (size_t i = 0; i < n; i++)
      if (w[i].revents) r = 0;
  }
  for (size_t i = 0; i < added; i++) {
    cb__list_remove(&w[i].link);
    rewatch(s->fds[w[i].fd]);
  }
  return r;
}

static void close_free(uv_handle_t *h) { free(h->data); }

void cb__io_destroy(cb_green_sched *s) {
  for (size_t i = 0; i < s->nfds; i++) {
    if (!s->fds[i]) continue;
    CB_CHECK(cb__list_empty(&s->fds[i]->waiters));
    uv_close((uv_handle_t *)&s->fds[i]->poll, close_free);
  }
  free(s->fds);
  s->fds = NULL;
  s->nfds = 0;
}
