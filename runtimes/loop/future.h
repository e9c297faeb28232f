/* future.h — the awaitable result of something not done yet.
 *
 * States: pending, cancelled, finished (with a result or an error). Done callbacks
 * are caller-owned cb_handles linked into the future; when it completes they are
 * spliced onto the ready queue in registration order (never run inline) — O(1)
 * however many there are. A cb_future is caller-owned storage (usually a
 * coroutine frame field); tasks and combinators embed one as first member. */
#ifndef CB_LOOP_FUTURE_H
#define CB_LOOP_FUTURE_H

#include "runtimes/loop/loop.h"

enum { CB_FUT_PENDING, CB_FUT_CANCELLED, CB_FUT_FINISHED };

typedef struct cb_future {
  cb_loop *loop;
  cb_list callbacks;
  cb_val result;
  const char *msg; /* error or cancellation message */
  int32_t err;     /* 0, or negative errno when finished with an error / cancelled */
  uint8_t state;
  uint8_t kind;      /* internal: what cancel() does (plain, task, gather, ...) */
  uint8_t retrieved; /* the error was looked at */
  uint8_t flags;     /* internal, per kind */
} cb_future;

void cb_future_init(cb_future *f, cb_loop *loop);
/* Makes a done future pending again for reuse; no callbacks may be linked. */
void cb_future_reset(cb_future *f);

static inline int cb_future_done(const cb_future *f) { return f->state != CB_FUT_PENDING; }
static inline int cb_future_cancelled(const cb_future *f) { return f->state == CB_FUT_CANCELLED; }

/* Complete a pending future: 0, or -EINVAL if already done (InvalidStateError).
 * code must be negative. A task's future is completed by its coroutine only:
 * completing it from outside is undefined (asyncio raises RuntimeError; not
 * checked here, it is the hot path). */
int cb_future_set_result(cb_future *f, cb_val v);
int cb_future_set_error(cb_future *f, int code, const char *msg);

/* Requests cancellation; 1 if accepted, 0 if the future is already done (its
 * error, if any, then counts as retrieved, as asyncio's cancel() clears the log
 * flag). For a plain future it becomes cancelled at once; tasks, gather,
 * wait_for forward it. */
int cb_future_cancel(cb_future *f, const char *msg);

/* The result (meaningful when finished without error; asyncio's result() of a
 * pending future raises InvalidStateError, this one is not checked). */
static inline cb_val cb_future_result(const cb_future *f) { return f->result; }
/* The error (code 0 when none; -ECANCELED when cancelled); marks it retrieved. */
cb_err cb_future_error(cb_future *f);

/* Done callbacks: fn(arg) via call_soon once f is done (at once if it is). */
void cb_future_add_done_callback(cb_future *f, cb_handle *h, cb_callback fn, void *arg);
/* 1 if h was removed before it was scheduled, 0 if it was not linked to f. */
int cb_future_remove_done_callback(cb_future *f, cb_handle *h);

#endif
