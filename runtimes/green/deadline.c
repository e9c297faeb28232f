/* deadline.c — the scheduler's deadlines: sleeps and IO timeouts of green threads.
 *
 * One libuv timer per scheduler, armed for the earliest deadline, instead of one per
 * green thread: libuv's timer heap links its nodes through every handle, and 100,000
 * sleepers made its insert and remove the hottest user-space code of a sleep run.
 * The queue itself is the timer queue the loop uses too (common/timer_heap.h): a
 * deadline-ordered FIFO lane plus a binary min-heap; most sleeps and timeouts of a
 * program have the same length, so deadlines arrive non-decreasing and append to the
 * lane in O(1); an earlier one goes to the heap, O(log n). Equal deadlines wake in
 * the order they were set.
 *
 * Deadlines are CLOCK_MONOTONIC nanoseconds and a green thread is woken only once its
 * deadline has passed on that clock; libuv's millisecond timer (which may fire early)
 * only tells the scheduler when to look. Once the earliest deadline is less than a
 * millisecond away, a timerfd armed for it (absolute, in ns) takes over from libuv's
 * timer, so that sleeps and timeouts below or past a whole millisecond end on time
 * instead of up to ~1-2 ms late: one timerfd_settime when the earliest deadline
 * changes within that last millisecond, one read when it fires, and the timerfd's
 * registration in libuv (started then, stopped once the earliest deadline is further
 * away or none is left, so that it cannot hide a deadlock). The timerfd is made on
 * first need, one per scheduler (under M:N one per worker). */
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"

#define CB__SUBMS_NS 1000000

static cb_green *green_of(cb_timer_node *n) { return cb__container_of(n, cb_green, tnode); }

static void on_uv_timer(uv_timer_t *h);
static void on_tfd(uv_poll_t *h, int status, int events);

static void tfd_stop(cb__subms *t) {
  if (!t->on) return;
  uv_poll_stop(&t->poll);
  t->on = 0;
}

/* Arms the timerfd for deadline (made on first use); 0, or -1 when no timerfd can be
 * had (then libuv's timer serves, with its millisecond grain). */
static int tfd_arm(cb_green_sched *s, int64_t deadline) {
  cb__subms *t = &s->subms;
  if (t->fd == -1) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd >= 0 && uv_poll_init(&s->loop, &t->poll, fd) != 0) {
      syscall(SYS_close, fd);
      fd = -1;
    }
    t->fd = fd < 0 ? -2 : fd;
  }
  if (t->fd < 0) return -1;
  struct itimerspec its = {.it_value = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)}};
  if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) return -1;
  if (!t->on) {
    CB_CHECK(uv_poll_start(&t->poll, UV_READABLE, on_tfd) == 0);
    t->on = 1;
  }
  return 0;
}

/* Keeps the libuv timer (or, within the deadline's last millisecond, the timerfd)
 * armed for the earliest deadline, both stopped when none is queued (so that a
 * scheduler with nothing to wait for can see its deadlock). No call while the
 * earliest deadline stays the same. */
static void rearm(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  cb_timer_node *n = cb__timer_heap_min(&t->q);
  if (!n) {
    if (t->armed_for >= 0) uv_timer_stop(&t->uv);
    tfd_stop(&s->subms);
    t->armed_for = -1;
    return;
  }
  int64_t deadline = (int64_t)n->when;
  if (deadline == t->armed_for) return;
  int64_t rem = deadline - cb__mono_ns();
  if (rem > 0 && rem < CB__SUBMS_NS && tfd_arm(s, deadline) == 0) {
    uv_timer_stop(&t->uv);
    t->armed_for = deadline;
    return;
  }
  tfd_stop(&s->subms);
  uv_update_time(&s->loop);
  /* rounded down while the timerfd can take the last millisecond over, so that libuv's
   * timer is never the one that ends a deadline late; else up (it may fire early) */
  uint64_t ms = rem <= 0 ? 0 : s->subms.fd == -2 ? (uint64_t)(rem + 999999) / 1000000 : (uint64_t)rem / 1000000;
  CB_CHECK(uv_timer_start(&t->uv, on_uv_timer, ms, 0) == 0);
  t->armed_for = deadline;
}

/* Wakes every green thread whose deadline has passed, then re-arms for the rest;
 * libuv may call this up to a millisecond early, then it only re-arms. */
static void fire(cb_green_sched *s);
static void on_uv_timer(uv_timer_t *h) { fire(h->loop->data); }

static void on_tfd(uv_poll_t *h, int status, int events) {
  (void)status, (void)events;
  cb_green_sched *s = h->loop->data;
  uint64_t ticks;
  (void)!syscall(SYS_read, s->subms.fd, &ticks, sizeof ticks); /* EAGAIN if re-armed meanwhile */
  fire(s);
}

static void fire(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  t->armed_for = -1; /* libuv has stopped its timer (no repeat); the timerfd has expired */
  uint64_t now = (uint64_t)cb__mono_ns();
  cb_timer_node *n;
  while ((n = cb__timer_heap_pop_due(&t->q, now)) != NULL) {
    cb_green *g = green_of(n);
    g->timer_fired = 1;
    cb__green_ready(s, g);
  }
  rearm(s);
}

void cb__green_timers_init(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  CB_CHECK(uv_timer_init(&s->loop, &t->uv) == 0);
  cb__timer_heap_init(&t->q, CB__TIMER_LINK_OFF(cb_green, tnode, timer_link));
  t->armed_for = -1;
  s->subms.fd = -1;
  s->subms.on = 0;
}

static void close_noop(uv_handle_t *h) { (void)h; }

static void close_tfd(uv_handle_t *h) {
  cb_green_sched *s = h->loop->data;
  syscall(SYS_close, s->subms.fd); /* not through the close hook: no watcher of s's */
  s->subms.fd = -1;
}

void cb__green_timers_close(cb_green_sched *s) {
  if (s->subms.fd >= 0) uv_close((uv_handle_t *)&s->subms.poll, close_tfd);
  uv_close((uv_handle_t *)&s->timers.uv, close_noop);
  cb__timer_heap_free(&s->timers.q);
}

/* Contract: see green_int.h. Cost: O(1) for a deadline no earlier than the latest
 * queued one, else O(log n); a libuv call only when the earliest deadline changes. */
void cb__green_timer_start(cb_green_sched *s, cb_green *g, int64_t deadline_ns) {
  CB_CHECK(deadline_ns >= 0);
  cb__timer_heap_remove(&s->timers.q, &g->tnode);
  g->timer_fired = 0;
  cb__timer_heap_add(&s->timers.q, &g->tnode, (uint64_t)deadline_ns);
  rearm(s);
}

void cb__green_timer_stop(cb_green *g) {
  if (cb__timer_heap_remove(&g->sched->timers.q, &g->tnode)) rearm(g->sched);
}
