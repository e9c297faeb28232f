/* wait_for.c — one future with a deadline; the timeout cancels it. */
#include <errno.h>

#include "runtimes/loop/slots.h"

static void on_inner(void *arg) {
  cb_wait_for *wf = cb__slot_of(arg)->owner;
  cb_timer_cancel(wf->fut.loop, &wf->timer);
  if (cb_future_done(&wf->fut)) return;
  if (wf->timed_out && cb_future_cancelled(wf->inner)) {
    CB_CHECK(cb_future_set_error(&wf->fut, -ETIMEDOUT, "wait_for: timed out") == 0);
  } else {
    /* Not timed out, or inner did not end cancelled although the timeout cancelled
     * it: it suppressed the cancellation and returned, or raised another error
     * while being cancelled. asyncio's wait_for passes either on (only a
     * CancelledError becomes TimeoutError). */
    cb__future_copy(&wf->fut, wf->inner);
  }
}

static void on_timeout(void *arg) {
  cb_wait_for *wf = arg;
  /* If inner is already done its outcome is on its way (the slot is queued). */
  if (cb_future_cancel(wf->inner, "wait_for: timed out")) wf->timed_out = 1;
}

void cb_wait_for_init(cb_wait_for *wf, cb_loop *l, cb_future *inner, uint64_t timeout_ns) {
  cb_future_init(&wf->fut, l);
  wf->fut.kind = CB__FUT_WAIT_FOR;
  wf->inner = inner;
  wf->slot = (cb_slot){.owner = wf};
  wf->timer = (cb_timer){0};
  wf->timed_out = 0;
  if (cb_future_done(inner)) {
    cb__future_copy(&wf->fut, inner);
    return;
  }
  cb_future_add_done_callback(inner, &wf->slot.h, on_inner, &wf->slot);
  if (timeout_ns == 0) {
    /* asyncio: timeout <= 0 cancels inner at once (a task not started yet never
     * runs) and waits for it to finish. */
    on_timeout(wf);
  } else if (timeout_ns != CB_WAIT_FOR_FOREVER) {
    cb_call_later(l, &wf->timer, timeout_ns, on_timeout, wf);
  }
}

/* Cancelling the wait_for cancels inner; it ends when inner has. */
int cb__wait_for_cancel(cb_future *f, const char *msg) {
  cb_wait_for *wf = (cb_wait_for *)f;
  if (cb_future_done(f)) return 0;
  if (cb_future_cancel(wf->inner, msg)) return 1;
  cb_wait_for_dispose(wf);
  return cb__future_cancel_plain(f, msg);
}

void cb_wait_for_dispose(cb_wait_for *wf) {
  cb__slots_unhook(&wf->slot, 1);
  cb_timer_cancel(wf->fut.loop, &wf->timer);
}
