/* io.c — parking green threads on file descriptor readiness (libuv uv_poll).
 *
 * libuv allows one uv_poll_t per fd per loop, so the scheduler keeps one watcher per
 * fd number (s->fds, allocated on first use and kept) with the list of green threads
 * waiting on it.
 *
 * Lazy stop: when the last waiter leaves, the watcher stays registered in epoll (it
 * goes on s->idle_fds), because a green thread that just waited on an fd usually
 * waits on it again soon (libcurl: poll, recv, poll...); re-adding it would cost two
 * epoll_ctl calls per wait. It is stopped when it reports an event nobody waits
 * for, when the scheduler is about to block with nothing ready (so that stale
 * registrations can neither wake it nor hide a deadlock), and when the fd is
 * closed through close() (hooks.c calls cb__io_forget first, so a reused fd number
 * never inherits a stale registration). Limit: an fd watched here and closed behind
 * libc's back (fclose of a socket FILE, dup2 over it) leaves libuv with a stale
 * registration. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"

static int waiter_events(const cb__fdw *w) {
  int ev = 0;
  for (const cb__link *l = w->waiters.next; l != &w->waiters; l = l->next)
    ev |= CB__CONTAINER(l, cb__fdwait, link)->events;
  return ev;
}

static void stop(cb__fdw *w) {
  if (w->events) uv_poll_stop(&w->poll);
  w->events = 0;
  cb__list_remove(&w->idle_link);
}

/* Makes the registration exactly what the waiters want (stops it if none). */
static void narrow(cb__fdw *w) {
  int ev = waiter_events(w);
  if (ev == 0) {
    stop(w);
  } else if (ev != w->events) {
    CB_CHECK(uv_poll_start(&w->poll, ev, w->poll.poll_cb) == 0);
    w->events = ev;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  cb__fdw *w = h->data;
  cb_green_sched *s = h->loop->data;
  int wanted = 0;
  s->io_events++;
  for (cb__link *l = w->waiters.next; l != &w->waiters; l = l->next) {
    cb__fdwait *fw = CB__CONTAINER(l, cb__fdwait, link);
    /* on error, wake everyone: the retried system call reports it */
    int hit = status < 0 ? fw->events : (events & fw->events);
    if (hit) {
      fw->revents |= hit;
      cb__green_ready(s, fw->g);
    }
    wanted |= fw->events;
  }
  if (status < 0 || (events & ~wanted)) narrow(w); /* an event nobody waits for */
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
    cb__list_init(&w->idle_link);
    s->fds[fd] = w;
  }
  *out = s->fds[fd];
  return 0;
}

/* Contract: see green_int.h. Cost: nothing for an fd still registered from its last
 * wait, else one epoll_ctl (libuv); plus the park. */
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
    cb__list_remove(&fw->idle_link);
    if ((w[added].events | fw->events) != fw->events) {
      int ev = w[added].events | fw->events;
      CB_CHECK(uv_poll_start(&fw->poll, ev, on_poll) == 0);
      fw->events = ev;
    }
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
    cb__fdw *fw = s->fds[w[i].fd];
    cb__list_remove(&w[i].link);
    if (cb__list_empty(&fw->waiters) && fw->events) cb__list_push_back(&s->idle_fds, &fw->idle_link);
  }
  return r;
}

void cb__io_stop_idle(cb_green_sched *s) {
  while (!cb__list_empty(&s->idle_fds)) stop(CB__CONTAINER(s->idle_fds.next, cb__fdw, idle_link));
}

void cb__io_forget(cb_green_sched *s, int fd) {
  if (fd < 0 || (size_t)fd >= s->nfds || !s->fds[fd]) return;
  cb__fdw *w = s->fds[fd];
  /* green threads still waiting on it are woken to find it closed (EBADF) */
  for (cb__link *l = w->waiters.next; l != &w->waiters; l = l->next) {
    cb__fdwait *fw = CB__CONTAINER(l, cb__fdwait, link);
    fw->revents |= fw->events;
    cb__green_ready(s, fw->g);
  }
  stop(w);
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
