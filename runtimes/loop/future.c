/* future.c — futures: completion, cancellation dispatch, done callbacks. */
#include <errno.h>

#include "runtimes/loop/loop_int.h"

void cb_future_init(cb_future *f, cb_loop *loop) {
  *f = (cb_future){.loop = loop};
  cb__list_init(&f->callbacks);
}

void cb_future_reset(cb_future *f) {
  CB_CHECK(cb__list_empty(&f->callbacks));
  uint8_t kind = f->kind;
  cb_future_init(f, f->loop);
  f->kind = kind;
}

/* O(1): the whole callback list is spliced onto the ready queue. */
void cb__future_schedule_callbacks(cb_future *f) { cb__list_splice(&f->loop->ready, &f->callbacks); }

int cb_future_set_result(cb_future *f, cb_val v) {
  if (f->state != CB_FUT_PENDING) return -EINVAL;
  f->result = v;
  f->state = CB_FUT_FINISHED;
  cb__future_schedule_callbacks(f);
  return 0;
}

int cb_future_set_error(cb_future *f, int code, const char *msg) {
  CB_CHECK(code < 0);
  if (f->state != CB_FUT_PENDING) return -EINVAL;
  f->err = code;
  f->msg = msg;
  f->state = CB_FUT_FINISHED;
  cb__future_schedule_callbacks(f);
  return 0;
}

int cb__future_cancel_plain(cb_future *f, const char *msg) {
  if (f->state != CB_FUT_PENDING) return 0;
  f->err = -ECANCELED;
  f->msg = msg;
  f->state = CB_FUT_CANCELLED;
  cb__future_schedule_callbacks(f);
  return 1;
}

static int (*const cancel_ops[CB__FUT_NKINDS])(cb_future *, const char *) = {
    [CB__FUT_PLAIN] = cb__future_cancel_plain,
    [CB__FUT_TASK] = cb__task_cancel_fut,
    [CB__FUT_GATHER] = cb__gather_cancel,
    [CB__FUT_WAIT] = cb__wait_cancel,
    [CB__FUT_WAIT_FOR] = cb__wait_for_cancel,
    [CB__FUT_SHIELD] = cb__shield_cancel,
    [CB__FUT_AS_COMPLETED] = cb__as_completed_cancel,
    [CB__FUT_EXEC] = cb__exec_cancel,
};

int cb_future_cancel(cb_future *f, const char *msg) {
  CB_CHECK(f->kind < CB__FUT_NKINDS);
  if (f->state == CB_FUT_FINISHED) {
    f->retrieved = 1; /* asyncio: cancel() clears the traceback log flag */
    return 0;
  }
  return cancel_ops[f->kind](f, msg);
}

cb_err cb_future_error(cb_future *f) {
  f->retrieved = 1;
  return (cb_err){f->err, f->msg};
}

void cb_future_add_done_callback(cb_future *f, cb_handle *h, cb_callback fn, void *arg) {
  CB_CHECK(!cb__list_linked(&h->node));
  h->fn = fn;
  h->arg = arg;
  cb__list_push_back(f->state == CB_FUT_PENDING ? &f->callbacks : &f->loop->ready, &h->node);
}

int cb_future_remove_done_callback(cb_future *f, cb_handle *h) {
  if (f->state != CB_FUT_PENDING || !cb__list_linked(&h->node)) return 0;
  cb__list_remove(&h->node);
  return 1;
}
