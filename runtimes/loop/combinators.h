/* combinators.h — gather, wait, wait_for, as_completed, shield.
 *
 * Each is a caller-owned struct whose first member is the cb_future to await.
 * Per-child bookkeeping lives in a caller-provided cb_slot array (one per child),
 * so a combinator allocates nothing. When the combinator completes (or is
 * cancelled) it unhooks every slot, so its storage may be freed right after the
 * await. Abandoning one still pending without cancelling it requires *_dispose.
 * Children are never owned: the caller keeps its task references. Every child
 * belongs to the combinator's loop (not checked; asyncio raises ValueError). */
#ifndef CB_LOOP_COMBINATORS_H
#define CB_LOOP_COMBINATORS_H

#include <stddef.h>

#include "runtimes/loop/task.h"

typedef struct cb_slot {
  cb_handle h;
  void *owner;
} cb_slot;

/* gather: done when every child is. Results stay in the children, read them in
 * argument order; the gather's result.u is n. Without return_exceptions the first
 * child error completes the gather with that error at once (the other children
 * keep running; an error any of them ends with later counts as retrieved, never
 * reported); a child that ends cancelled completes it the same way, with
 * -ECANCELED and the child's cancel message: the gather finishes with that error,
 * it is not itself cancelled (asyncio's gather does set_exception(CancelledError)).
 * With return_exceptions, the gather waits for all and the caller inspects each
 * child (every child's error counts as retrieved). Cancelling the gather cancels
 * every child still pending (1 if any accepted); once they have finished it ends
 * with -ECANCELED (message: the last child's cancel message, NULL if that child
 * was not cancelled) whatever return_exceptions says. O(1) per child. */
typedef struct cb_gather {
  cb_future fut;
  cb_future **children;
  cb_slot *slots;
  uint32_t n, ndone;
  uint8_t return_exceptions, cancel_requested;
} cb_gather;
void cb_gather_init(cb_gather *g, cb_loop *loop, cb_future **children, cb_slot *slots, size_t n,
                    int return_exceptions);
void cb_gather_dispose(cb_gather *g);

/* wait: done when return_when is met or the timeout (ns, < 0 = none) expires;
 * never cancels children; an error only for n == 0 (-EINVAL, asyncio's
 * ValueError for an empty set). A future passed twice counts twice (asyncio
 * makes a set of them: C keeps indexes). result.u = number of done children;
 * cb_wait_split gives the done and pending index sets. */
enum { CB_ALL_COMPLETED, CB_FIRST_COMPLETED, CB_FIRST_EXCEPTION };
typedef struct cb_wait {
  cb_future fut;
  cb_future **futs;
  cb_slot *slots;
  cb_timer timer;
  uint32_t n, ndone;
  uint8_t return_when;
} cb_wait;
void cb_wait_init(cb_wait *w, cb_loop *loop, cb_future **futs, cb_slot *slots, size_t n,
                  int return_when, int64_t timeout_ns);
/* Fills done[] and pending[] (either may be NULL) with child indexes; returns the
 * number done, *npending the rest. O(n). */
size_t cb_wait_split(const cb_wait *w, size_t *done, size_t *pending, size_t *npending);
void cb_wait_dispose(cb_wait *w);

/* wait_for: inner's outcome, unless timeout_ns passes first: then inner is
 * cancelled and, once it has finished, wait_for fails with -ETIMEDOUT if inner
 * ended cancelled; if inner suppressed the cancellation (returned a result) or
 * raised another error while being cancelled, wait_for ends with that outcome,
 * as asyncio's does. timeout_ns 0 (asyncio's timeout <= 0) cancels inner at
 * once: a task that has not started never runs. CB_WAIT_FOR_FOREVER
 * (asyncio's timeout=None) waits without a deadline. Cancelling the wait_for
 * cancels inner and ends with inner's outcome (a result if inner suppressed the
 * cancellation). If inner is done at init, wait_for is done at once with its
 * outcome. */
#define CB_WAIT_FOR_FOREVER UINT64_MAX
typedef struct cb_wait_for {
  cb_future fut;
  cb_future *inner;
  cb_slot slot;
  cb_timer timer;
  uint8_t timed_out;
} cb_wait_for;
void cb_wait_for_init(cb_wait_for *wf, cb_loop *loop, cb_future *inner, uint64_t timeout_ns);
void cb_wait_for_dispose(cb_wait_for *wf);

/* shield: inner's outcome; cancelling the shield cancels only the shield, inner
 * keeps running (hold a reference to it if it is a task). */
typedef struct cb_shield {
  cb_future fut;
  cb_future *inner;
  cb_slot slot;
} cb_shield;
void cb_shield_init(cb_shield *s, cb_loop *loop, cb_future *inner);
void cb_shield_dispose(cb_shield *s);

/* as_completed: yields the children in completion order. For each of n rounds:
 * cb_as_completed_arm(ac); CB_AWAIT(&ac->next); child = ac->next.result.p.
 * order[] is caller storage for n indexes. A future passed twice is yielded
 * twice (asyncio makes a set of them). */
typedef struct cb_as_completed {
  cb_future next;
  cb_future **futs;
  cb_slot *slots;
  uint32_t *order;
  uint32_t n, ndone, nyielded;
  cb_timer timer;
  uint8_t timed_out;
} cb_as_completed;
void cb_as_completed_init(cb_as_completed *ac, cb_loop *loop, cb_future **futs, cb_slot *slots,
                          uint32_t *order, size_t n);
/* asyncio's as_completed(timeout=): once timeout_ns have passed (from this call),
 * the children done by then are still yielded first, then each remaining round
 * fails with -ETIMEDOUT (the children keep running, no longer watched). The
 * timer goes when the last round is delivered, or at dispose. */
void cb_as_completed_set_timeout(cb_as_completed *ac, uint64_t timeout_ns);
void cb_as_completed_arm(cb_as_completed *ac);
void cb_as_completed_dispose(cb_as_completed *ac);

#endif
