/* timer.c — the loop's timer queue: call_later/call_at on the shared lane + heap of
 * common/timer_heap.h (constant delays O(1), others O(log n); equal deadlines run in
 * call order, as asyncio's). A queued timer sits on the lane through its handle's
 * node, and a due one moves to the ready queue through the same node. */
#include "runtimes/loop/loop_int.h"

void cb__timers_init(cb_loop *l) { cb__timer_heap_init(&l->timers, CB__TIMER_LINK_OFF(cb_timer, tnode, h.node)); }

void cb__timers_free(cb_loop *l) { cb__timer_heap_free(&l->timers); }

uint64_t cb__timers_next(const cb_loop *l) {
  cb_timer_node *n = cb__timer_heap_min(&l->timers);
  return n ? n->when : 0;
}

void cb__timers_fire(cb_loop *l, uint64_t now) {
  cb_timer_node *n;
  while ((n = cb__timer_heap_pop_due(&l->timers, now)) != NULL)
    cb__list_push_back(&l->ready, cb__timer_link(&l->timers, n));
}

void cb_call_at(cb_loop *l, cb_timer *t, uint64_t when, cb_callback fn, void *arg) {
  t->h.fn = fn;
  t->h.arg = arg;
  cb__timer_add(l, t, when);
}

void cb_call_later(cb_loop *l, cb_timer *t, uint64_t delay_ns, cb_callback fn, void *arg) {
  cb_call_at(l, t, cb__now() + delay_ns, fn, arg);
}

/* Cancels a queued timer, or a fired one still waiting on the ready queue. */
int cb_timer_cancel(cb_loop *l, cb_timer *t) {
  if (cb__timer_remove(l, t)) return 1;
  return cb_handle_cancel(l, &t->h);
}
