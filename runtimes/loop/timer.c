/* timer.c — the timer queue: a deadline-ordered FIFO lane plus a binary min-heap.
 *
 * Most programs schedule timers with the same delay (every sleep(1 s) of a
 * benchmark, every timeout of a server), so deadlines arrive non-decreasing: those
 * append to the lane in O(1) and leave it in O(1). A deadline earlier than the
 * lane's tail goes to the heap, O(log n). The minimum is the smaller of the two
 * heads; (when, seq) orders equal deadlines by scheduling order. */
#include <stdlib.h>

#include "runtimes/loop/loop_int.h"

enum { WHERE_NONE, WHERE_LANE, WHERE_HEAP };

static cb_timer *lane_timer(cb_list *n) { return cb__container_of(n, cb_timer, h.node); }

static int before(const cb_timer *a, const cb_timer *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_set(cb_loop *l, uint32_t i, cb_timer *t) {
  l->heap[i] = t;
  t->heap_idx = i;
}

static void sift_up(cb_loop *l, uint32_t i) {
  cb_timer *t = l->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!before(t, l->heap[p])) break;
    heap_set(l, i, l->heap[p]);
    i = p;
  }
  heap_set(l, i, t);
}

static void sift_down(cb_loop *l, uint32_t i) {
  cb_timer *t = l->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= l->heap_len) break;
    if (c + 1 < l->heap_len && before(l->heap[c + 1], l->heap[c])) c++;
    if (!before(l->heap[c], t)) break;
    heap_set(l, i, l->heap[c]);
    i = c;
  }
  heap_set(l, i, t);
}

void cb__timers_init(cb_loop *l) {
  cb__list_init(&l->lane);
  l->heap = NULL;
  l->heap_len = l->heap_cap = 0;
}

void cb__timers_free(cb_loop *l) {
  free(l->heap);
  cb__timers_init(l);
  l->ntimers = 0;
}

/* O(1) on the lane, O(log n) on the heap; the heap array grows by doubling. */
void cb__timer_add(cb_loop *l, cb_timer *t) {
  CB_CHECK(t->where == WHERE_NONE && !cb__list_linked(&t->h.node));
  t->seq = l->timer_seq++;
  l->ntimers++;
  if (cb__list_empty(&l->lane) || t->when >= lane_timer(l->lane.prev)->when) {
    t->where = WHERE_LANE;
    cb__list_push(&l->lane, &t->h.node);
    return;
  }
  if (l->heap_len == l->heap_cap) {
    uint32_t cap = l->heap_cap ? 2 * l->heap_cap : 64;
    cb_timer **h = realloc(l->heap, cap * sizeof *h);
    CB_CHECK(h != NULL);
    l->heap = h;
    l->heap_cap = cap;
  }
  t->where = WHERE_HEAP;
  l->heap[l->heap_len++] = t;
  sift_up(l, l->heap_len - 1);
}

/* 1 if t was queued (and is no more). */
int cb__timer_remove(cb_loop *l, cb_timer *t) {
  if (t->where == WHERE_NONE) return 0;
  if (t->where == WHERE_LANE) {
    cb__list_remove(&t->h.node);
  } else {
    uint32_t i = t->heap_idx;
    CB_CHECK(i < l->heap_len && l->heap[i] == t);
    cb_timer *last = l->heap[--l->heap_len];
    if (last != t) {
      heap_set(l, i, last);
      if (i > 0 && before(last, l->heap[(i - 1) / 2]))
        sift_up(l, i);
      else
        sift_down(l, i);
    }
  }
  t->where = WHERE_NONE;
  l->ntimers--;
  return 1;
}

static cb_timer *timers_min(const cb_loop *l) {
  cb_timer *a = cb__list_empty(&l->lane) ? NULL : lane_timer(l->lane.next);
  cb_timer *b = l->heap_len ? l->heap[0] : NULL;
  if (!a) return b;
  if (!b) return a;
  return before(a, b) ? a : b;
}

uint64_t cb__timers_next(const cb_loop *l) {
  cb_timer *t = timers_min(l);
  return t ? t->when : 0;
}

void cb__timers_fire(cb_loop *l, uint64_t now) {
  cb_timer *t;
  while ((t = timers_min(l)) != NULL && t->when <= now) {
    cb__timer_remove(l, t);
    cb__list_push(&l->ready, &t->h.node);
  }
}

void cb_call_at(cb_loop *l, cb_timer *t, uint64_t when, cb_callback fn, void *arg) {
  t->h.fn = fn;
  t->h.arg = arg;
  t->when = when;
  cb__timer_add(l, t);
}

void cb_call_later(cb_loop *l, cb_timer *t, uint64_t delay_ns, cb_callback fn, void *arg) {
  cb_call_at(l, t, cb__now() + delay_ns, fn, arg);
}

/* Cancels a queued timer, or a fired one still waiting on the ready queue. */
int cb_timer_cancel(cb_loop *l, cb_timer *t) {
  if (cb__timer_remove(l, t)) return 1;
  return cb_handle_cancel(l, &t->h);
}
