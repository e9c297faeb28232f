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
 * only tells the scheduler when to look. */
#include "runtimes/green/green_int.h"

static cb_green *green_of(cb_timer_node *n) { return cb__container_of(n, cb_green, tnode); }

static void on_uv_timer(uv_timer_t *h);

/* Keeps the libuv timer armed for the earliest deadline, stopped when none is
 * queued (so that a scheduler with nothing to wait for can see its deadlock). No
 * libuv call while the earliest deadline stays the same. */
static void rearm(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  cb_timer_node *n = cb__timer_heap_min(&t->q);
  if (!n) {
    if (t->armed_for >= 0) uv_timer_stop(&t->uv);
    t->armed_for = -1;
    return;
  }
  int64_t deadline = (int64_t)n->when;
  if (deadline == t->armed_for) return;
  uv_update_time(&s->loop);
  int64_t rem = deadline - cb__mono_ns();
  uint64_t ms = rem <= 0 ? 0 : (uint64_t)(rem + 999999) / 1000000;
  CB_CHECK(uv_timer_start(&t->uv, on_uv_timer, ms, 0) == 0);
  t->armed_for = deadline;
}

/* Wakes every green thread whose deadline has passed, then re-arms for the rest;
 * libuv may call this up to a millisecond early, then it only re-arms. */
static void on_uv_timer(uv_timer_t *h) {
  cb_green_sched *s = h->loop->data;
  cb__timers *t = &s->timers;
  t->armed_for = -1; /* libuv has stopped it (no repeat) */
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
}

static void close_noop(uv_handle_t *h) { (void)h; }

void cb__green_timers_close(cb_green_sched *s) {
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
