/* deadline.c — the scheduler's deadlines: sleeps and IO timeouts of green threads.
 *
 * One libuv timer per scheduler, armed for the earliest deadline, instead of one per
 * green thread: libuv's timer heap links its nodes through every handle, and 100,000
 * sleepers made its insert and remove the hottest user-space code of a sleep run.
 * The queue itself is a deadline-ordered FIFO lane plus a binary min-heap (the design
 * of runtimes/loop/timer.c): most sleeps and timeouts of a program have the same
 * length, so deadlines arrive non-decreasing and append to the lane in O(1); an
 * earlier one goes to the heap, O(log n). The minimum is the smaller of the two
 * heads; (deadline, seq) orders equal deadlines by arrival.
 *
 * Deadlines are CLOCK_MONOTONIC nanoseconds and a green thread is woken only once its
 * deadline has passed on that clock; libuv's millisecond timer (which may fire early)
 * only tells the scheduler when to look. */
#include <stdlib.h>

#include "runtimes/green/green_int.h"

enum { WHERE_NONE, WHERE_LANE, WHERE_HEAP };

static int before(const cb_green *a, const cb_green *b) {
  return a->deadline < b->deadline || (a->deadline == b->deadline && a->timer_seq < b->timer_seq);
}

static cb_green *lane_head(const cb__timers *t) {
  return cb__list_empty(&t->lane) ? NULL : CB__CONTAINER(t->lane.next, cb_green, timer_link);
}

static cb_green *lane_tail(const cb__timers *t) {
  return cb__list_empty(&t->lane) ? NULL : CB__CONTAINER(t->lane.prev, cb_green, timer_link);
}

static void heap_set(cb__timers *t, uint32_t i, cb_green *g) {
  t->heap[i] = g;
  g->heap_idx = i;
}

static void sift_up(cb__timers *t, uint32_t i) {
  cb_green *g = t->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!before(g, t->heap[p])) break;
    heap_set(t, i, t->heap[p]);
    i = p;
  }
  heap_set(t, i, g);
}

static void sift_down(cb__timers *t, uint32_t i) {
  cb_green *g = t->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= t->heap_len) break;
    if (c + 1 < t->heap_len && before(t->heap[c + 1], t->heap[c])) c++;
    if (!before(t->heap[c], g)) break;
    heap_set(t, i, t->heap[c]);
    i = c;
  }
  heap_set(t, i, g);
}

static void add(cb__timers *t, cb_green *g) {
  g->timer_seq = t->seq++;
  cb_green *tail = lane_tail(t);
  if (!tail || g->deadline >= tail->deadline) {
    g->timer_where = WHERE_LANE;
    cb__list_push_back(&t->lane, &g->timer_link);
    return;
  }
  if (t->heap_len == t->heap_cap) {
    uint32_t cap = t->heap_cap ? 2 * t->heap_cap : 64;
    cb_green **h = realloc(t->heap, cap * sizeof *h);
    CB_CHECK(h != NULL);
    t->heap = h;
    t->heap_cap = cap;
  }
  g->timer_where = WHERE_HEAP;
  t->heap[t->heap_len++] = g;
  sift_up(t, t->heap_len - 1);
}

static void remove_timer(cb__timers *t, cb_green *g) {
  if (g->timer_where == WHERE_LANE) {
    cb__list_remove(&g->timer_link);
  } else if (g->timer_where == WHERE_HEAP) {
    uint32_t i = g->heap_idx;
    CB_CHECK(i < t->heap_len && t->heap[i] == g);
    cb_green *last = t->heap[--t->heap_len];
    if (last != g) {
      heap_set(t, i, last);
      if (i > 0 && before(last, t->heap[(i - 1) / 2]))
        sift_up(t, i);
      else
        sift_down(t, i);
    }
  }
  g->timer_where = WHERE_NONE;
}

static cb_green *earliest(const cb__timers *t) {
  cb_green *a = lane_head(t), *b = t->heap_len ? t->heap[0] : NULL;
  if (!a) return b;
  if (!b) return a;
  return before(a, b) ? a : b;
}

static void on_uv_timer(uv_timer_t *h);

/* Keeps the libuv timer armed for the earliest deadline, stopped when none is
 * queued (so that a scheduler with nothing to wait for can see its deadlock). No
 * libuv call while the earliest deadline stays the same. */
static void rearm(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  cb_green *g = earliest(t);
  if (!g) {
    if (t->armed_for >= 0) uv_timer_stop(&t->uv);
    t->armed_for = -1;
    return;
  }
  if (g->deadline == t->armed_for) return;
  uv_update_time(&s->loop);
  int64_t rem = g->deadline - cb__mono_ns();
  uint64_t ms = rem <= 0 ? 0 : (uint64_t)(rem + 999999) / 1000000;
  CB_CHECK(uv_timer_start(&t->uv, on_uv_timer, ms, 0) == 0);
  t->armed_for = g->deadline;
}

/* Wakes every green thread whose deadline has passed, then re-arms for the rest;
 * libuv may call this up to a millisecond early, then it only re-arms. */
static void on_uv_timer(uv_timer_t *h) {
  cb_green_sched *s = h->loop->data;
  cb__timers *t = &s->timers;
  t->armed_for = -1; /* libuv has stopped it (no repeat) */
  int64_t now = cb__mono_ns();
  cb_green *g;
  while ((g = earliest(t)) != NULL && g->deadline <= now) {
    remove_timer(t, g);
    g->timer_fired = 1;
    cb__green_ready(s, g);
  }
  rearm(s);
}

void cb__green_timers_init(cb_green_sched *s) {
  cb__timers *t = &s->timers;
  CB_CHECK(uv_timer_init(&s->loop, &t->uv) == 0);
  cb__list_init(&t->lane);
  t->heap = NULL;
  t->heap_len = t->heap_cap = 0;
  t->seq = 0;
  t->armed_for = -1;
}

static void close_noop(uv_handle_t *h) { (void)h; }

void cb__green_timers_close(cb_green_sched *s) {
  uv_close((uv_handle_t *)&s->timers.uv, close_noop);
  free(s->timers.heap);
  s->timers.heap = NULL;
  s->timers.heap_len = s->timers.heap_cap = 0;
  cb__list_init(&s->timers.lane);
}

/* Contract: see green_int.h. Cost: O(1) for a deadline no earlier than the latest
 * queued one, else O(log n); a libuv call only when the earliest deadline changes. */
void cb__green_timer_start(cb_green_sched *s, cb_green *g, int64_t deadline_ns) {
  remove_timer(&s->timers, g);
  g->deadline = deadline_ns;
  g->timer_fired = 0;
  add(&s->timers, g);
  rearm(s);
}

void cb__green_timer_stop(cb_green *g) {
  if (g->timer_where == WHERE_NONE) return;
  remove_timer(&g->sched->timers, g);
  rearm(g->sched);
}
