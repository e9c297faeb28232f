/* asyncio_port.h — what the ports of CPython's Lib/test/test_asyncio share
 * (tests/test_asyncio_*.c; the cases are listed in runtimes/loop/CONFORMANCE.md).
 *
 * asyncio's test loop runs on virtual time; these run on the real clock with
 * short sleeps, and check order and outcomes, never durations. */
#ifndef CB_TESTS_ASYNCIO_PORT_H
#define CB_TESTS_ASYNCIO_PORT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/loop_int.h" /* run_ready peeks at the ready queue */
#include "runtimes/loop/task.h"

#define MS 1000000ull

/* test_utils.run_briefly: one task with one empty step, run to its end. */
typedef struct { cb_co co; } ap_once_frame;
static int ap_once(cb_task *task, void *vf) {
  ap_once_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_CO_END();
}
static inline void run_briefly(cb_loop *l) {
  cb_task *t = cb_create_task(l, ap_once, sizeof(ap_once_frame), "run_briefly");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_task_release(t);
}
/* GatherTestsBase._run_loop: while loop._ready: run_briefly(loop). */
static inline void run_ready(cb_loop *l) {
  while (!cb__list_empty(&l->ready)) run_briefly(l);
}

/* A done callback that appends v to a bag (the tests' _make_callback). */
typedef struct { cb_handle h; int v; int *bag, *n; } ap_bag_cb;
static void ap_bag_append(void *arg) {
  ap_bag_cb *b = arg;
  b->bag[(*b->n)++] = b->v;
}
static inline void bag_add(cb_future *f, ap_bag_cb *b, int v, int *bag, int *n) {
  *b = (ap_bag_cb){.v = v, .bag = bag, .n = n};
  cb_future_add_done_callback(f, &b->h, ap_bag_append, b);
}

/* Counts what reaches the loop's exception handler (asyncio's mocked logger). */
typedef struct { int n; char last[256]; } ap_exc_log;
static void ap_exc_count(cb_loop *l, const char *msg, void *arg) {
  ap_exc_log *e = arg;
  e->n++;
  snprintf(e->last, sizeof e->last, "%s", msg);
}
static inline cb_loop *new_loop_logged(ap_exc_log *log) {
  cb_loop *l = cb_loop_new();
  cr_assert_not_null(l);
  *log = (ap_exc_log){0};
  cb_loop_set_exception_handler(l, ap_exc_count, log);
  return l;
}

/* A coroutine that awaits *fut and returns its result (raises its error). */
typedef struct { cb_co co; cb_future *fut; } ap_await_frame;
static int ap_await(cb_task *task, void *vf) {
  ap_await_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_AWAIT(f->fut);
  CB_RETURN(cb_future_result(f->fut));
  CB_CO_END();
}
static inline cb_task *task_awaiting(cb_loop *l, cb_future *fut, const char *name) {
  cb_task *t = cb_create_task(l, ap_await, sizeof(ap_await_frame), name);
  ((ap_await_frame *)cb_task_frame(t))->fut = fut;
  return t;
}

/* asyncio.sleep(ms) as a task, returning val (or raising err if set). */
typedef struct { cb_co co; uint64_t ms, val; int err; } ap_sleep_frame;
static int ap_sleep(cb_task *task, void *vf) {
  ap_sleep_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(f->ms * MS);
  if (f->err) CB_RAISE(f->err, "ap_sleep: raised");
  CB_RETURN((cb_val){.u = f->val});
  CB_CO_END();
}
static inline cb_task *sleep_task(cb_loop *l, uint64_t ms, uint64_t val, int err) {
  cb_task *t = cb_create_task(l, ap_sleep, sizeof(ap_sleep_frame), NULL);
  ap_sleep_frame *f = cb_task_frame(t);
  f->ms = ms;
  f->val = val;
  f->err = err;
  return t;
}

static inline void assert_msg(const char *got, const char *want) {
  if (!want)
    cr_assert_null(got, "message %s, expected none", got);
  else
    cr_assert(got && strcmp(got, want) == 0, "message %s, expected %s", got ? got : "(none)", want);
}

#endif
