/* shield.c — protect a future from the cancellation of whoever awaits it. */
#include "runtimes/loop/slots.h"

static void on_inner(void *arg) {
  cb_shield *s = cb__slot_of(arg)->owner;
  if (!cb_future_done(&s->fut)) cb__future_copy(&s->fut, s->inner);
}

void cb_shield_init(cb_shield *s, cb_loop *l, cb_future *inner) {
  cb_future_init(&s->fut, l);
  s->fut.kind = CB__FUT_SHIELD;
  s->inner = inner;
  s->slot = (cb_slot){.owner = s};
  if (cb_future_done(inner))
    cb__future_copy(&s->fut, inner);
  else
    cb_future_add_done_callback(inner, &s->slot.h, on_inner, &s->slot);
}

/* Only the shield is cancelled; inner runs on, no longer watched. */
int cb__shield_cancel(cb_future *f, const char *msg) {
  cb_shield *s = (cb_shield *)f;
  if (!cb__future_cancel_plain(f, msg)) return 0;
  cb_shield_dispose(s);
  return 1;
}

void cb_shield_dispose(cb_shield *s) { cb__slots_unhook(&s->slot, 1); }
