/* io.c — parking green threads on file descriptor readiness (libuv uv_poll).
 *
 * libuv allows one uv_poll_t per fd per loop, so the scheduler keeps one watcher per
 * fd number (s->fds, allocated on first use and kept) with the list of green threads
 * waiting on it.
 *
 * Lazy registration: registering a fresh fd with libuv costs about six system calls
 * (F_GETFL; uv_poll_init's epoll ADD+DEL probe and FIONBIO; uv_poll_start's DEL; the
 * ADD in the next poll), and a busy scheduler often does not need it: the wait may be
 * over before the scheduler would block (a burst of new connections; libcurl's
 * wake-up socketpair, polled next to every socket and never ready). So a wait that
 * the fd's registration does not cover puts the watcher on s->pending_fds instead,
 * and the main context checks all pending fds with one ppoll when it polls libuv
 * (cb__io_check_pending). Those checks take at most about 1/CB__IO_CHECK_SHARE of
 * its time: after a check that took t, the next one waits until CB__IO_CHECK_SHARE * t
 * has passed (2,000 fds take ~1 ms here, a few fds microseconds); only before
 * blocking are up to CB__IO_CHEAP_CHECK fds checked regardless. A pending fd is
 * registered with libuv
 *   - when the scheduler is about to block (nothing else could wake it);
 *   - once it has been through CB__IO_CHECKS_BEFORE_REGISTER checks, over all its
 *     waits since it was last registered (ski rental: checking one fd costs ~0.5 us
 *     here, registering it ~15-20 us);
 *   - when more than CB__IO_PENDING_MAX are pending.
 * Readiness comes from libuv for registered fds, from that ppoll for pending ones;
 * epoll is level-triggered, so nothing is lost while an fd is pending.
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
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"

#define CB__IO_CHECKS_BEFORE_REGISTER 32
#define CB__IO_CHECK_SHARE 16
#define CB__IO_CHEAP_CHECK 64
#define CB__IO_PENDING_MAX 4096

static int waiter_events(const cb__fdw *w) {
  int ev = 0;
  for (const cb_list *l = w->waiters.next; l != &w->waiters; l = l->next)
    ev |= cb__container_of(l, cb__fdwait, link)->events;
  return ev;
}

static void stop(cb__fdw *w) {
  if (w->events) uv_poll_stop(&w->poll);
  w->events = 0;
  cb__list_remove(&w->idle_link);
}

static void unpend(cb_green_sched *s, cb__fdw *w) {
  if (!cb__list_linked(&w->pending_link)) return;
  cb__list_remove(&w->pending_link);
  s->npending--;
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

/* Readies every waiter of w whose events hit (all of them on error: the retried
 * system call reports it). */
static void wake_waiters(cb_green_sched *s, cb__fdw *w, int events, int error) {
  s->io_events++;
  for (cb_list *l = w->waiters.next; l != &w->waiters; l = l->next) {
    cb__fdwait *fw = cb__container_of(l, cb__fdwait, link);
    int hit = error ? fw->events : (events & fw->events);
    if (hit) {
      fw->revents |= hit;
      cb__green_ready(s, fw->g);
    }
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  cb__fdw *w = h->data;
  cb_green_sched *s = h->loop->data;
  wake_waiters(s, w, events, status < 0);
  if (status < 0 || (events & ~waiter_events(w))) narrow(w); /* an event nobody waits for */
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
    w->fd = fd;
    cb__list_init(&w->waiters); /* idle_link, pending_link: unlinked (zeroed) */
    s->fds[fd] = w;
  }
  *out = s->fds[fd];
  return 0;
}

/* Registers w with libuv for everything its waiters want (first time for this fd
 * number: uv_poll_init, which makes the fd non-blocking for good, so the caller gets
 * its flags back). On failure wakes the waiters with the error. */
static void register_fd(cb_green_sched *s, cb__fdw *w) {
  unpend(s, w);
  int r = 0;
  if (!w->inited) {
    int flags = fcntl(w->fd, F_GETFL);
    r = flags < 0 ? -errno : uv_poll_init(&s->loop, &w->poll, w->fd);
    if (r == 0) {
      if (!(flags & O_NONBLOCK)) fcntl(w->fd, F_SETFL, flags);
      w->poll.data = w;
      w->inited = 1;
    }
  }
  w->checks = 0;
  int ev = waiter_events(w) | w->events;
  if (r == 0 && ev != w->events) {
    r = uv_poll_start(&w->poll, ev, on_poll);
    if (r == 0) {
      w->events = ev;
      s->io_registrations++;
    }
  }
  if (r == 0) return;
  for (cb_list *l = w->waiters.next; l != &w->waiters; l = l->next) cb__container_of(l, cb__fdwait, link)->error = r;
  wake_waiters(s, w, 0, 1);
}

/* Contract: see green_int.h. Cost: nothing for an fd still registered from its last
 * wait, else a place on the pending list; plus the park. */
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
    w[added].error = 0;
    cb__list_push_back(&fw->waiters, &w[added].link);
    cb__list_remove(&fw->idle_link);
    if ((w[added].events | fw->events) != fw->events && !cb__list_linked(&fw->pending_link)) {
      cb__list_push_back(&s->pending_fds, &fw->pending_link);
      if (++s->npending > CB__IO_PENDING_MAX) register_fd(s, cb__container_of(s->pending_fds.next, cb__fdw, pending_link));
    }
  }
  for (size_t i = 0; i < added && r == 0; i++) r = w[i].error; /* registered by the cap above, and failed */
  if (r == 0) {
    if (deadline_ns >= 0) cb__green_timer_start(s, g, deadline_ns);
    cb__green_park(s);
    if (deadline_ns >= 0) cb__green_timer_stop(g);
    r = -ETIMEDOUT;
    for (size_t i = 0; i < n; i++)
      if (w[i].error) r = w[i].error;
    for (size_t i = 0; i < n && r == -ETIMEDOUT; i++)
      if (w[i].revents) r = 0;
  }
  for (size_t i = 0; i < added; i++) {
    cb__fdw *fw = s->fds[w[i].fd];
    cb__list_remove(&w[i].link);
    if (!cb__list_empty(&fw->waiters)) continue;
    unpend(s, fw); /* the wait ended before the fd needed registering */
    if (fw->events) cb__list_push_back(&s->idle_fds, &fw->idle_link);
  }
  return r;
}

static void register_all_pending(cb_green_sched *s) {
  while (!cb__list_empty(&s->pending_fds)) register_fd(s, cb__container_of(s->pending_fds.next, cb__fdw, pending_link));
}

static short uv_to_poll(int ev) { return (short)((ev & UV_READABLE ? POLLIN : 0) | (ev & UV_WRITABLE ? POLLOUT : 0)); }

/* Contract: see green_int.h. Cost: nothing when no fd is pending or the last check
 * was too recent for its cost, else one ppoll over them (and the registration of the
 * ones checked often enough). */
size_t cb__io_check_pending(cb_green_sched *s, int before_block) {
  if (s->npending == 0) return 0;
  int64_t start = cb__mono_ns();
  /* before blocking, a check of a few fds costs less than registering one of them */
  if (start < s->check_after_ns && !(before_block && s->npending <= CB__IO_CHEAP_CHECK)) return 0;
  if (s->npending > s->pfds_cap) {
    size_t cap = s->pfds_cap ? s->pfds_cap : 64;
    while (cap < s->npending) cap *= 2;
    struct pollfd *p = realloc(s->pfds, cap * sizeof *p);
    if (!p) { /* cannot check them: register them, as before blocking */
      register_all_pending(s);
      return 0;
    }
    s->pfds = p;
    s->pfds_cap = cap;
  }
  size_t n = 0;
  for (cb_list *l = s->pending_fds.next; l != &s->pending_fds; l = l->next) {
    cb__fdw *w = cb__container_of(l, cb__fdw, pending_link);
    s->pfds[n++] = (struct pollfd){.fd = w->fd, .events = uv_to_poll(waiter_events(w))};
  }
  struct timespec zero = {0, 0};
  if (ppoll(s->pfds, n, &zero, NULL) < 0) /* ENOMEM: counts as a check */
    for (size_t i = 0; i < n; i++) s->pfds[i].revents = 0;
  size_t before = s->nready, i = 0;
  for (cb_list *l = s->pending_fds.next, *next; l != &s->pending_fds; l = next, i++) {
    next = l->next;
    cb__fdw *w = cb__container_of(l, cb__fdw, pending_link);
    short re = s->pfds[i].revents;
    if (re & (POLLERR | POLLHUP | POLLNVAL)) {
      wake_waiters(s, w, 0, 1);
    } else if (re) {
      wake_waiters(s, w, (re & POLLIN ? UV_READABLE : 0) | (re & POLLOUT ? UV_WRITABLE : 0), 0);
    } else if (++w->checks >= CB__IO_CHECKS_BEFORE_REGISTER) {
      register_fd(s, w);
    }
  }
  s->check_after_ns = start + CB__IO_CHECK_SHARE * (cb__mono_ns() - start);
  return s->nready - before;
}

void cb__io_before_block(cb_green_sched *s) {
  while (!cb__list_empty(&s->idle_fds)) stop(cb__container_of(s->idle_fds.next, cb__fdw, idle_link));
  register_all_pending(s);
}

int cb__io_set_timeout(cb_green_sched *s, int fd, int dir, int64_t ns) {
  cb__fdw *w;
  int r = watcher(s, fd, &w);
  if (r == 0) w->timeout_ns[dir] = ns < 0 ? 0 : ns;
  return r;
}

void cb__io_forget(cb_green_sched *s, int fd) {
  if (fd < 0 || (size_t)fd >= s->nfds || !s->fds[fd]) return;
  cb__fdw *w = s->fds[fd];
  /* green threads still waiting on it are woken to find it closed (EBADF) */
  for (cb_list *l = w->waiters.next; l != &w->waiters; l = l->next) {
    cb__fdwait *fw = cb__container_of(l, cb__fdwait, link);
    fw->revents |= fw->events;
    cb__green_ready(s, fw->g);
  }
  unpend(s, w);
  w->checks = 0; /* the number's next fd starts afresh */
  w->timeout_ns[0] = w->timeout_ns[1] = 0;
  stop(w);
}

static void close_free(uv_handle_t *h) { free(h->data); }

void cb__io_destroy(cb_green_sched *s) {
  for (size_t i = 0; i < s->nfds; i++) {
    cb__fdw *w = s->fds[i];
    if (!w) continue;
    CB_CHECK(cb__list_empty(&w->waiters));
    if (w->inited) uv_close((uv_handle_t *)&w->poll, close_free);
    else free(w);
  }
  free(s->fds);
  s->fds = NULL;
  s->nfds = 0;
  free(s->pfds);
  s->pfds = NULL;
  s->pfds_cap = 0;
}
