/* loop.h — the event loop: ready queue, timers, run/stop/close, thread-safe entry.
 *
 * One cb_loop per thread; every piece of its state is in its struct (no globals).
 * A callback never runs inline: call_soon queues a caller-owned cb_handle on the
 * ready queue, drained once per iteration (only what was ready when the iteration
 * began, as asyncio does); call_later/call_at put a caller-owned cb_timer on the
 * timer queue (common/timer_heap.h: a deadline-ordered FIFO lane plus a binary heap
 * for out-of-order deadlines) driven by ONE uv_timer. The libuv loop underneath does the waiting.
 *
 * Errors: 0 / negative errno. Broken invariants abort (CB_CHECK). */
#ifndef CB_LOOP_LOOP_H
#define CB_LOOP_LOOP_H

#include <stdint.h>

#include "common/list.h"
#include "common/timer_heap.h"

typedef struct cb_loop cb_loop;
typedef void (*cb_callback)(void *arg);

/* A value a future or coroutine produces. */
typedef union cb_val {
  uint64_t u;
  int64_t i;
  void *p;
  double d;
} cb_val;

/* An error in flight, the C analogue of an exception: a negative errno and a
 * message with static storage duration (never freed). code 0 = no error.
 * -ECANCELED is cancellation, -ETIMEDOUT a timeout (wait_for). */
typedef struct cb_err {
  int code;
  const char *msg;
} cb_err;

/* A scheduled callback; storage owned by the caller, who must keep it alive
 * while it is scheduled. Zero-initialise before first use. */
typedef struct cb_handle {
  cb_list node; /* linked iff scheduled */
  cb_callback fn;
  void *arg;
} cb_handle;

/* A timed callback (call_later/call_at); caller-owned like cb_handle. While queued
 * on the lane of the timer queue it is linked there through h.node; once due, h.node
 * takes it to the ready queue. */
typedef struct cb_timer {
  cb_handle h;
  cb_timer_node tnode; /* internal: deadline (loop time, ns) and place in the queue */
} cb_timer;

typedef void (*cb_exception_handler)(cb_loop *loop, const char *message, void *arg);

/* Creates a loop (one uv_loop inside). Debug mode is on when the environment has
 * CONCBENCH_LOOP_DEBUG=1. Returns NULL with errno set on failure. */
cb_loop *cb_loop_new(void);

/* Closes and frees the loop. Waits for executor jobs still running; every task
 * still alive is freed (a pending one is reported "destroyed but it is pending",
 * a failed one whose error nobody retrieved is reported). Task references held
 * by callers die with the loop. Returns 0 or -EBUSY if called while running. */
int cb_loop_close(cb_loop *loop);

/* Runs until fut (a cb_future *) is done and the done callbacks it had when
 * this was called have run (asyncio's stop callback on fut; fut done already:
 * one iteration): 0, -EDEADLK when nothing left could
 * ever complete it (no ready callbacks, timers, IO, executor jobs or holds),
 * -EINTR when cb_loop_stop() ended it first (asyncio's "Event loop stopped
 * before Future completed."; fut is untouched and may be run again), -EBUSY
 * when called from inside the running loop. */
struct cb_future;
int cb_loop_run_until_complete(cb_loop *loop, struct cb_future *fut);

/* Runs until cb_loop_stop() (returns 0) or until nothing is left to run and
 * nobody holds the loop (returns -EDEADLK); -EBUSY if already running. */
int cb_loop_run_forever(cb_loop *loop);

/* Makes run_forever / run_until_complete return after the current iteration;
 * called while the loop is not running, the next run does one iteration and
 * returns (asyncio's pre-stopped loop). */
void cb_loop_stop(cb_loop *loop);

/* Holds the loop open for other threads (call_soon_threadsafe may arrive while
 * nothing else is pending). Counted; pair with cb_loop_unhold. Loop thread only. */
void cb_loop_hold(cb_loop *loop);
void cb_loop_unhold(cb_loop *loop);

/* Monotonic loop time in ns (CLOCK_MONOTONIC, same base as cb_now_ns()). */
uint64_t cb_loop_time(const cb_loop *loop);

/* Queues h to run fn(arg) on a later iteration, after the handles queued before
 * it — threadsafe ones included (queued by any thread before this call). h must
 * not be scheduled already. From the loop's thread only (not checked; asyncio's
 * debug mode raises RuntimeError). O(1), no allocation. */
void cb_call_soon(cb_loop *loop, cb_handle *h, cb_callback fn, void *arg);

/* Runs fn(arg) once loop time >= when (call_at) or after delay_ns (call_later).
 * Equal deadlines run in call order. O(1) for non-decreasing deadlines (the lane),
 * O(log n) otherwise (the heap). No allocation besides amortised heap growth. */
void cb_call_at(cb_loop *loop, cb_timer *t, uint64_t when, cb_callback fn, void *arg);
void cb_call_later(cb_loop *loop, cb_timer *t, uint64_t delay_ns, cb_callback fn, void *arg);

/* Cancels a scheduled handle/timer; 1 if it was scheduled, 0 otherwise. O(1) /
 * O(log n). */
int cb_handle_cancel(cb_loop *loop, cb_handle *h);
int cb_timer_cancel(cb_loop *loop, cb_timer *t);

/* From any thread: queues h like cb_call_soon and wakes the loop (uv_async).
 * h must stay alive until it ran. The loop must be running or held. */
void cb_call_soon_threadsafe(cb_loop *loop, cb_handle *h, cb_callback fn, void *arg);

/* Where errors nobody could deliver go (unretrieved task errors, tasks destroyed
 * while pending, debug warnings). Default: one line on stderr. */
void cb_loop_set_exception_handler(cb_loop *loop, cb_exception_handler fn, void *arg);

/* Debug mode: warns about never-awaited coroutines, tasks destroyed while pending,
 * and callbacks holding the loop longer than 100 ms (naming the task). */
void cb_loop_set_debug(cb_loop *loop, int on);
int cb_loop_get_debug(const cb_loop *loop);

/* Counters: tasks created so far, alive now, most alive at once. */
uint64_t cb_loop_tasks_created(const cb_loop *loop);
uint64_t cb_loop_tasks_alive(const cb_loop *loop);
uint64_t cb_loop_tasks_peak(const cb_loop *loop);

#endif
