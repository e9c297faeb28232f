/* as_completed.c — the children one by one, in the order they complete. */
#include <errno.h>

#include "runtimes/loop/slots.h"

static void deliver(cb_as_completed *ac) {
  if (cb_future_done(&ac->next)) return;
  if (ac->nyielded < ac->ndone) {
    cb_future *child = ac->futs[ac->order[ac->nyielded++]];
    CB_CHECK(cb_future_set_result(&ac->next, (cb_val){.p = child}) == 0);
  } else if (ac->timed_out) { /* ndone no longer grows: the slots are unhooked */
    ac->nyielded++;
    CB_CHECK(cb_future_set_error(&ac->next, -ETIMEDOUT, "as_completed: timed out") == 0);
  } else {
    return;
  }
  if (ac->nyielded >= ac->n) cb_timer_cancel(ac->next.loop, &ac->timer);
}

static void on_timeout(void *arg) {
  cb_as_completed *ac = arg;
  ac->timed_out = 1;
  cb__slots_unhook(ac->slots, ac->n);
  deliver(ac);
}

void cb_as_completed_set_timeout(cb_as_completed *ac, uint64_t timeout_ns) {
  CB_CHECK(!ac->timed_out && ac->timer.tnode.where == CB__TIMER_NONE); /* once */
  cb_call_later(ac->next.loop, &ac->timer, timeout_ns, on_timeout, ac);
}

static void on_child(void *arg) {
  cb_slot *s = cb__slot_of(arg);
  cb_as_completed *ac = s->owner;
  ac->order[ac->ndone++] = (uint32_t)(s - ac->slots);
  deliver(ac);
}

void cb_as_completed_init(cb_as_completed *ac, cb_loop *l, cb_future **futs, cb_slot *slots,
                          uint32_t *order, size_t n) {
  CB_CHECK(n <= UINT32_MAX);
  cb_future_init(&ac->next, l);
  ac->next.kind = CB__FUT_AS_COMPLETED;
  ac->next.state = CB_FUT_FINISHED; /* not armed yet */
  ac->futs = futs;
  ac->slots = slots;
  ac->order = order;
  ac->n = (uint32_t)n;
  ac->ndone = ac->nyielded = 0;
  ac->timer = (cb_timer){0};
  ac->timed_out = 0;
  for (size_t i = 0; i < n; i++) {
    slots[i] = (cb_slot){.owner = ac};
    if (cb_future_done(futs[i]))
      order[ac->ndone++] = (uint32_t)i;
    else
      cb_future_add_done_callback(futs[i], &slots[i].h, on_child, &slots[i]);
  }
}

/* Makes ac->next pending for the next child (done at once if one is waiting). */
void cb_as_completed_arm(cb_as_completed *ac) {
  CB_CHECK(ac->nyielded < ac->n);
  cb_future_reset(&ac->next);
  deliver(ac);
}

int cb__as_completed_cancel(cb_future *f, const char *msg) {
  if (!cb__future_cancel_plain(f, msg)) return 0;
  cb_as_completed_dispose((cb_as_completed *)f);
  return 1;
}

void cb_as_completed_dispose(cb_as_completed *ac) {
  cb__slots_unhook(ac->slots, ac->n);
  cb_timer_cancel(ac->next.loop, &ac->timer);
}
