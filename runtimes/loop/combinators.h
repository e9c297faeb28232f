/* combinators.h — gather, wait, wait_for, as_completed, shield.
 *
 * Each is a caller-owned struct whose first member is the cb_future to await.
 * Per-child bookkeeping lives in a caller-provided cb_slot array (one per child),
 * so a combinator allocates nothing. When the combinator completes (or is
 * cancelled) it unhooks every slot, so its storage may be freed right after the
 * await. Abandoning one still pending without cancelling it requires *_dispose.
 * Children are never owned: the caller keeps its task references. */
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
 * child error (or cancellation) completes the gather with that error at once (the
 * other children keep running); with it, the gather waits for all and the caller
 * inspects each child. Cancelling the gather cancels every child. O(1) per child. */
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
 * never an error, never cancels children. result.u = number of done children;
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
 * cancelled and, once it has finished, wait_for fails with -ETIMEDOUT.
 * Cancelling the wait_for cancels inner. */
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
 * order[] is caller storage for n indexes. */
typedef struct cb_as_completed {
  cb_future next;
  cb_future **futs;
  cb_slot *slots;
  uint32_t *order;
  uint32_t n, ndone, nyielded;
} cb_as_completed;
void cb_as_completed_init(cb_as_completed *ac, cb_loop *loop, cb_future **futs, cb_slot *slots,
                          uint32_t *order, size_t n);
void cb_as_completed_arm(cb_as_completed *ac);
void cb_as_completed_dispose(cb_as_completed *ac);

#endif
