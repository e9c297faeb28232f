/* slots.h — helpers the combinators share (private). */
#ifndef CB_LOOP_SLOTS_H
#define CB_LOOP_SLOTS_H

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/loop_int.h"

/* Unhooks every slot still linked (to a child's callbacks or the ready queue). */
static inline void cb__slots_unhook(cb_slot *slots, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (cb__list_linked(&slots[i].h.node)) cb__list_remove(&slots[i].h.node);
}

static inline cb_slot *cb__slot_of(void *arg) { return arg; }

/* Completes pending dst with src's outcome (src's error counts as retrieved). */
static inline void cb__future_copy(cb_future *dst, cb_future *src) {
  if (src->state == CB_FUT_CANCELLED) {
    cb__future_cancel_plain(dst, src->msg);
  } else if (src->err) {
    src->retrieved = 1;
    CB_CHECK(cb_future_set_error(dst, src->err, src->msg) == 0);
  } else {
    CB_CHECK(cb_future_set_result(dst, src->result) == 0);
  }
}

#endif
