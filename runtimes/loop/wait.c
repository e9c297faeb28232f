/* wait.c — wait for some or all children, with an optional timeout. */
#include <errno.h>

#include "runtimes/loop/slots.h"

static void wait_complete(cb_wait *w) {
  cb__slots_unhook(w->slots, w->n);
  cb_timer_cancel(w->fut.loop, &w->timer);
  if (!cb_future_done(&w->fut)) CB_CHECK(cb_future_set_result(&w->fut, (cb_val){.u = w->ndone}) == 0);
}

static int met(const cb_wait *w, const cb_future *child) {
  if (w->ndone == w->n) return 1;
  if (w->return_when == CB_FIRST_COMPLETED) return w->ndone > 0;
  if (w->return_when == CB_FIRST_EXCEPTION)
    return child && child->state == CB_FUT_FINISHED && child->err != 0;
  return 0;
}

static void on_child(void *arg) {
  cb_slot *s = cb__slot_of(arg);
  cb_wait *w = s->owner;
  w->ndone++;
  if (met(w, w->futs[s - w->slots])) wait_complete(w);
}

static void on_timeout(void *arg) { wait_complete(arg); }

void cb_wait_init(cb_wait *w, cb_loop *l, cb_future **futs, cb_slot *slots, size_t n,
                  int return_when, int64_t timeout_ns) {
  CB_CHECK(n <= UINT32_MAX && return_when >= CB_ALL_COMPLETED && return_when <= CB_FIRST_EXCEPTION);
  cb_future_init(&w->fut, l);
  w->fut.kind = CB__FUT_WAIT;
  w->futs = futs;
  w->slots = slots;
  w->timer = (cb_timer){0};
  w->n = (uint32_t)n;
  w->ndone = 0;
  w->return_when = (uint8_t)return_when;
  if (n == 0) { /* asyncio: ValueError('Set of Tasks/Futures is empty.') */
    CB_CHECK(cb_future_set_error(&w->fut, -EINVAL, "wait: set of futures is empty") == 0);
    return;
  }
  int hit = 0;
  for (size_t i = 0; i < n; i++) {
    slots[i] = (cb_slot){.owner = w};
    if (cb_future_done(futs[i])) {
      w->ndone++;
      hit |= met(w, futs[i]);
    }
  }
  if (hit || met(w, NULL)) {
    wait_complete(w);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (!cb_future_done(futs[i])) cb_future_add_done_callback(futs[i], &slots[i].h, on_child, &slots[i]);
  if (timeout_ns >= 0) cb_call_later(l, &w->timer, (uint64_t)timeout_ns, on_timeout, w);
}

size_t cb_wait_split(const cb_wait *w, size_t *done, size_t *pending, size_t *npending) {
  size_t nd = 0, np = 0;
  for (uint32_t i = 0; i < w->n; i++) {
    if (cb_future_done(w->futs[i])) {
      if (done) done[nd] = i;
      nd++;
    } else {
      if (pending) pending[np] = i;
      np++;
    }
  }
  if (npending) *npending = np;
  return nd;
}

/* Cancelling a wait cancels the wait only (asyncio.wait does not cancel children). */
int cb__wait_cancel(cb_future *f, const char *msg) {
  cb_wait *w = (cb_wait *)f;
  if (!cb__future_cancel_plain(f, msg)) return 0;
  cb__slots_unhook(w->slots, w->n);
  cb_timer_cancel(f->loop, &w->timer);
  return 1;
}

void cb_wait_dispose(cb_wait *w) {
  cb__slots_unhook(w->slots, w->n);
  cb_timer_cancel(w->fut.loop, &w->timer);
}
