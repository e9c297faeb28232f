/* test_asyncio_waitfor.c — CPython's Lib/test/test_asyncio/test_waitfor.py,
 * ported (one test per Python test, named after it; runtimes/loop/CONFORMANCE.md).
 * asyncio.TimeoutError is -ETIMEDOUT; timeout=None is CB_WAIT_FOR_FOREVER;
 * a timeout <= 0 is 0 (the C timeout is unsigned). Durations become short real
 * sleeps; outcomes are checked, not times. */
#include "tests/helpers/asyncio_port.h"

#define EPS (MS / 10) /* _EPSILON: a very small timeout */

/* SlowTask: runs for ~TASK_TIMEOUT ignoring cancel requests. */
typedef struct { cb_co co; uint64_t exitat; int *exited; cb_err e; } slow_frame;
static int slow_run(cb_task *task, void *vf) {
  slow_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->exitat = cb_loop_time(cb_task_loop(task)) + 40 * MS;
  while (cb_loop_time(cb_task_loop(task)) < f->exitat) CB_SLEEP_TRY(f->exitat - cb_loop_time(cb_task_loop(task)), f->e);
  *f->exited = 1;
  CB_CO_END();
}
static cb_task *slow_task(cb_loop *l, int *exited) {
  cb_task *t = cb_create_task(l, slow_run, sizeof(slow_frame), "SlowTask");
  ((slow_frame *)cb_task_frame(t))->exited = exited;
  return t;
}

/* A task running `await wait_for(inner, timeout)`, optionally holding inner. */
typedef struct { cb_co co; cb_future *inner; uint64_t timeout; cb_wait_for wf; } wf_frame;
static int wf_co(cb_task *task, void *vf) {
  wf_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_wait_for_init(&f->wf, cb_task_loop(task), f->inner, f->timeout);
  CB_AWAIT(&f->wf.fut);
  CB_RETURN(cb_future_result(&f->wf.fut));
  CB_CO_END();
}
static cb_task *wait_for_task(cb_loop *l, cb_future *inner, uint64_t timeout) {
  cb_task *t = cb_create_task(l, wf_co, sizeof(wf_frame), "wait_for");
  wf_frame *f = cb_task_frame(t);
  f->inner = inner;
  f->timeout = timeout;
  return t;
}
static cb_err run_wait_for(cb_loop *l, cb_future *inner, uint64_t timeout, cb_val *v) {
  cb_task *t = wait_for_task(l, inner, timeout);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  if (v) *v = cb_task_result(t);
  cb_task_release(t);
  return e;
}

Test(asyncio_waitfor, test_asyncio_wait_for_cancelled) {
  cb_loop *l = cb_loop_new();
  int exited = 0;
  cb_task *slow = slow_task(l, &exited);
  cb_task *w = wait_for_task(l, cb_task_future(slow), 80 * MS);
  run_briefly(l);
  cb_task_cancel(w, NULL);
  cb_loop_run_until_complete(l, cb_task_future(w));
  cr_assert(exited);
  cb_task_release(w);
  cb_task_release(slow);
  cb_loop_close(l);
}

Test(asyncio_waitfor, test_asyncio_wait_for_timeout) {
  cb_loop *l = cb_loop_new();
  int exited = 0;
  cb_task *slow = slow_task(l, &exited);
  cb_err e = run_wait_for(l, cb_task_future(slow), 20 * MS, NULL);
  cr_assert(e.code == -ETIMEDOUT || e.code == 0, "%d", e.code);
  cr_assert(exited);
  cb_task_release(slow);
  cb_loop_close(l);
}

Test(asyncio_waitfor, test_wait_for_timeout_less_then_0_or_0_future_done) {
  cb_loop *l = cb_loop_new();
  cb_future fut;
  cb_future_init(&fut, l);
  cb_future_set_result(&fut, (cb_val){.u = 0x646f6e65}); /* 'done' */
  cb_val v;
  cr_assert_eq(run_wait_for(l, &fut, 0, &v).code, 0);
  cr_assert_eq(v.u, 0x646f6e65);
  cr_assert(cb_future_done(&fut));
  cb_loop_close(l);
}

typedef struct { cb_co co; int *started; } foo_frame;
static int foo_starts(cb_task *task, void *vf) {
  foo_frame *f = vf;
  CB_CO_BEGIN(task, f);
  *f->started = 1;
  CB_CO_END();
}
/* wait_for(coro, 0): the coroutine (here: a task not started yet) never runs. */
Test(asyncio_waitfor, test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started) {
  cb_loop *l = cb_loop_new();
  int started = 0;
  cb_task *w = cb_create_task(l, wf_co, sizeof(wf_frame), NULL);
  cb_task *foo = cb_task_new(l, foo_starts, sizeof(foo_frame), "foo");
  ((foo_frame *)cb_task_frame(foo))->started = &started;
  cb_task_start(foo); /* scheduled after w: w's wait_for sees it unstarted */
  wf_frame *f = cb_task_frame(w);
  f->inner = cb_task_future(foo);
  f->timeout = 0;
  cb_loop_run_until_complete(l, cb_task_future(w));
  cr_assert_eq(cb_task_error(w).code, -ETIMEDOUT);
  cr_assert_eq(started, 0);
  cb_task_release(w);
  cb_task_release(foo);
  cb_loop_close(l);
}

/* foo(): foo_running = True; started.set_result(None); try: sleep(10) finally: foo_running = False */
typedef struct { cb_co co; int *running; cb_future *started; cb_err e; } fr_frame;
static int foo_running_co(cb_task *task, void *vf) {
  fr_frame *f = vf;
  CB_CO_BEGIN(task, f);
  *f->running = 1;
  if (f->started) cb_future_set_result(f->started, (cb_val){0});
  CB_SLEEP_TRY(10000 * MS, f->e);
  *f->running = 0;
  CB__RAISE_IF(f->e);
  CB_RETURN((cb_val){.u = 0x646f6e65});
  CB_CO_END();
}
static cb_task *foo_task(cb_loop *l, int *running, cb_future *started) {
  cb_task *t = cb_create_task(l, foo_running_co, sizeof(fr_frame), "foo");
  fr_frame *f = cb_task_frame(t);
  f->running = running;
  f->started = started;
  return t;
}
Test(asyncio_waitfor, test_wait_for_timeout_less_then_0_or_0) {
  cb_loop *l = cb_loop_new();
  int running = -1;
  cb_future started;
  cb_future_init(&started, l);
  cb_task *fut = foo_task(l, &running, &started);
  cb_loop_run_until_complete(l, &started);
  cr_assert_eq(run_wait_for(l, cb_task_future(fut), 0, NULL).code, -ETIMEDOUT);
  cr_assert(cb_task_done(fut));
  cr_assert(cb_task_cancelled(fut), "cancelled by the timeout");
  cr_assert_eq(running, 0);
  cb_task_release(fut);
  cb_loop_close(l);
}

Test(asyncio_waitfor, test_wait_for) {
  cb_loop *l = cb_loop_new();
  int running = -1;
  cb_task *fut = foo_task(l, &running, NULL);
  cr_assert_eq(run_wait_for(l, cb_task_future(fut), 10 * MS, NULL).code, -ETIMEDOUT);
  cr_assert(cb_task_done(fut));
  cr_assert(cb_task_cancelled(fut));
  cr_assert_eq(running, 0);
  cb_task_release(fut);
  cb_loop_close(l);
}

Test(asyncio_waitfor, test_wait_for_blocking) {
  cb_loop *l = cb_loop_new();
  cb_task *c = sleep_task(l, 0, 0x646f6e65, 0);
  cb_val v;
  cr_assert_eq(run_wait_for(l, cb_task_future(c), CB_WAIT_FOR_FOREVER, &v).code, 0);
  cr_assert_eq(v.u, 0x646f6e65);
  cb_task_release(c);
  cb_loop_close(l);
}

static void set_ok(void *f) { cb_future_set_result(f, (cb_val){.u = 0x6f6b}); }
Test(asyncio_waitfor, test_wait_for_race_condition) {
  cb_loop *l = cb_loop_new();
  cb_future fut;
  cb_future_init(&fut, l);
  cb_timer tm = {0};
  cb_call_later(l, &tm, 10 * MS, set_ok, &fut);
  cb_val v;
  cr_assert_eq(run_wait_for(l, &fut, 2000 * MS, &v).code, 0);
  cr_assert_eq(v.u, 0x6f6b);
  cb_loop_close(l);
}

/* inner(): with assertRaises(CancelledError): await sleep(1); return 1 */
typedef struct { cb_co co; cb_err e; int raised; } race_frame;
static int race_inner(cb_task *task, void *vf) {
  race_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(1000 * MS, f->e);
  f->raised = f->e.code == -ECANCELED;
  CB_RETURN((cb_val){.u = 1});
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_cancellation_race_condition) {
  cb_loop *l = cb_loop_new();
  cb_task *inner = cb_create_task(l, race_inner, sizeof(race_frame), NULL);
  cb_val v;
  cr_assert_eq(run_wait_for(l, cb_task_future(inner), 10 * MS, &v).code, 0);
  cr_assert_eq(v.u, 1, "the suppressed cancellation's result comes through");
  cr_assert(((race_frame *)cb_task_frame(inner))->raised);
  cb_task_release(inner);
  cb_loop_close(l);
}

/* inner(): try: sleep(10) except CancelledError: sleep(EPS); raise  finally: task_done = True */
typedef struct { cb_co co; int *done; cb_err e; } wwc_frame;
static int wwc_inner(cb_task *task, void *vf) {
  wwc_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(10000 * MS, f->e);
  if (f->e.code == -ECANCELED) CB_SLEEP_TRY(EPS, cb__e);
  *f->done = 1;
  CB__RAISE_IF(f->e);
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_waits_for_task_cancellation) {
  cb_loop *l = cb_loop_new();
  int task_done = 0;
  cb_task *inner = cb_create_task(l, wwc_inner, sizeof(wwc_frame), NULL);
  ((wwc_frame *)cb_task_frame(inner))->done = &task_done;
  cr_assert_eq(run_wait_for(l, cb_task_future(inner), EPS, NULL).code, -ETIMEDOUT);
  cr_assert(task_done);
  cr_assert(cb_task_cancelled(inner), "the CancelledError behind the TimeoutError");
  cb_task_release(inner);
  cb_loop_close(l);
}

typedef struct { cb_co co; int *done; cb_task *inner; cb_wait_for wf; } wwc0_frame;
static int wwc0_foo(cb_task *task, void *vf) {
  wwc0_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->inner = cb_create_task(cb_task_loop(task), wwc_inner, sizeof(wwc_frame), NULL);
  ((wwc_frame *)cb_task_frame(f->inner))->done = f->done;
  CB_SLEEP(EPS);
  cb_wait_for_init(&f->wf, cb_task_loop(task), cb_task_future(f->inner), 0);
  CB_AWAIT(&f->wf.fut);
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_waits_for_task_cancellation_w_timeout_0) {
  cb_loop *l = cb_loop_new();
  int task_done = 0;
  cb_task *t = cb_create_task(l, wwc0_foo, sizeof(wwc0_frame), NULL);
  wwc0_frame *f = cb_task_frame(t);
  f->done = &task_done;
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert_eq(cb_task_error(t).code, -ETIMEDOUT);
  cr_assert(task_done);
  cr_assert(cb_task_cancelled(f->inner));
  cb_task_release(f->inner);
  cb_task_release(t);
  cb_loop_close(l);
}

/* inner(): try: sleep(0.2) finally: raise FooException — wait_for passes it on. */
typedef struct { cb_co co; cb_err e; } foo_exc_frame;
static int foo_exc_inner(cb_task *task, void *vf) {
  foo_exc_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(200 * MS, f->e);
  CB_RAISE(-EBADMSG, "FooException");
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_reraises_exception_during_cancellation) {
  cb_loop *l = cb_loop_new();
  cb_task *inner = cb_create_task(l, foo_exc_inner, sizeof(foo_exc_frame), NULL);
  cb_err e = run_wait_for(l, cb_task_future(inner), EPS, NULL);
  cr_assert_eq(e.code, -EBADMSG);
  assert_msg(e.msg, "FooException");
  cb_task_release(inner);
  cb_loop_close(l);
}

/* inner() holds up two cancellations and returns 42. */
typedef struct { cb_co co; cb_err e; } hold_frame;
static int hold_inner(cb_task *task, void *vf) {
  hold_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(30 * MS, f->e);
  if (f->e.code == -ECANCELED) {
    CB_SLEEP_TRY(30 * MS, f->e);
    if (f->e.code == -ECANCELED) CB_SLEEP_TRY(30 * MS, f->e);
  }
  CB_RETURN((cb_val){.u = 42});
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_self_cancellation) {
  cb_loop *l = cb_loop_new();
  cb_task *inner = cb_create_task(l, hold_inner, sizeof(hold_frame), NULL);
  cb_task *task = wait_for_task(l, cb_task_future(inner), 10 * MS);
  cb_task_cancel(task, NULL);
  cb_loop_run_until_complete(l, cb_task_future(task));
  cr_assert(cb_task_cancelled(task));
  cb_loop_run_until_complete(l, cb_task_future(inner));
  cr_assert_eq(cb_task_result(inner).u, 42);
  cb_task_release(task);
  cb_task_release(inner);
  cb_loop_close(l);
}

static void cancel_cb(void *t) { cb_task_cancel(t, NULL); }
static void check_cancel_wait_for(uint64_t timeout) {
  cb_loop *l = cb_loop_new();
  cb_future never;
  cb_future_init(&never, l);
  cb_task *task = task_awaiting(l, &never, "blocking_coroutine");
  cb_task *wait = wait_for_task(l, cb_task_future(task), timeout);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, wait);
  cb_loop_run_until_complete(l, cb_task_future(wait));
  cr_assert(cb_task_cancelled(wait));
  cr_assert(cb_task_cancelled(task), "Python issue #23219: cancelling the wait cancels the task");
  cb_task_release(wait);
  cb_task_release(task);
  cb_loop_close(l);
}
Test(asyncio_waitfor, test_cancel_blocking_wait_for) { check_cancel_wait_for(CB_WAIT_FOR_FOREVER); }
Test(asyncio_waitfor, test_cancel_wait_for) { check_cancel_wait_for(60000 * MS); }

typedef struct { cb_co co; cb_err e; } r42_frame;
static int return_42(cb_task *task, void *vf) {
  r42_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(10000 * MS, f->e);
  if (f->e.code == -ECANCELED) CB_RETURN((cb_val){.u = 42});
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_cancel_suppressed) {
  cb_loop *l = cb_loop_new();
  cb_task *inner = cb_create_task(l, return_42, sizeof(r42_frame), NULL);
  cb_val v;
  cr_assert_eq(run_wait_for(l, cb_task_future(inner), 10 * MS, &v).code, 0);
  cr_assert_eq(v.u, 42);
  cb_task_release(inner);
  cb_loop_close(l);
}

/* wait_for done at once, then the task is cancelled in its sleep: it ends cancelled. */
typedef struct { cb_co co; cb_task *inner; cb_wait_for wf; int *reached_end; } i86_frame;
static int wait_for_coro(cb_task *task, void *vf) {
  i86_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->inner = cb_create_task(cb_task_loop(task), foo_starts, sizeof(foo_frame), NULL);
  ((foo_frame *)cb_task_frame(f->inner))->started = f->reached_end + 1;
  cb_wait_for_init(&f->wf, cb_task_loop(task), cb_task_future(f->inner), 100000 * MS);
  CB_AWAIT(&f->wf.fut);
  CB_SLEEP(1000 * MS);
  *f->reached_end = 1;
  CB_CO_END();
}
Test(asyncio_waitfor, test_wait_for_issue86296) {
  cb_loop *l = cb_loop_new();
  int flags[2] = {0, 0}; /* reached_end, inner ran */
  cb_task *task = cb_create_task(l, wait_for_coro, sizeof(i86_frame), NULL);
  ((i86_frame *)cb_task_frame(task))->reached_end = flags;
  run_briefly(l);
  cr_assert(!cb_task_done(task));
  cb_task_cancel(task, NULL);
  cb_loop_run_until_complete(l, cb_task_future(task));
  cr_assert(cb_task_cancelled(task));
  cr_assert_eq(flags[0], 0);
  cb_task_release(((i86_frame *)cb_task_frame(task))->inner);
  cb_task_release(task);
  cb_loop_close(l);
}
