/* test_asyncio_events.c — the call_soon / call_later / call_at / threadsafe and
 * run parts of CPython's Lib/test/test_asyncio/test_base_events.py
 * (BaseEventLoopTests: suite asyncio_base_events) and test_events.py
 * (EventLoopTestsMixin: asyncio_events), ported; one test per Python test,
 * named after it (runtimes/loop/CONFORMANCE.md). A callback takes one argument
 * and cannot raise in C, so the exception-in-callback cases do not apply. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtimes/loop/executor.h"
#include "tests/helpers/asyncio_port.h"

typedef struct { cb_handle h; cb_timer t; cb_loop *l; int v, stop_at; int *results, *n; } rec;
static void record(void *arg) {
  rec *r = arg;
  r->results[(*r->n)++] = r->v;
  if (r->stop_at && *r->n >= r->stop_at) cb_loop_stop(r->l);
}
static void stop_cb(void *l) { cb_loop_stop(l); }
static void noop(void *arg) {}

/* ---- HandleTests / TimerTests (test_events.py) ---- */

Test(asyncio_handles, test_handle) {
  cb_loop *l = cb_loop_new();
  cb_handle h = {0};
  cb_call_soon(l, &h, noop, l);
  cr_assert_eq(h.fn, noop);
  cr_assert_eq(h.arg, l);
  cr_assert(cb__list_linked(&h.node), "not cancelled");
  cr_assert_eq(cb_handle_cancel(l, &h), 1);
  cr_assert(!cb__list_linked(&h.node), "cancelled");
  cr_assert_eq(cb_handle_cancel(l, &h), 0);
  cb_loop_close(l);
}

Test(asyncio_timers, test_timer) {
  cb_loop *l = cb_loop_new();
  cb_timer t = {0};
  cb_call_at(l, &t, cb_loop_time(l) + 1000 * MS, noop, l);
  cr_assert_eq(t.h.fn, noop);
  cr_assert_eq(l->timers.count, 1);
  cr_assert_eq(cb_timer_cancel(l, &t), 1);
  cr_assert_eq(l->timers.count, 0);
  cr_assert_eq(cb_timer_cancel(l, &t), 0);
  cb_loop_close(l);
}

/* TimerHandle ordering: equal deadlines are equal (they run in call order),
 * an earlier one runs first; a cancelled one does not run. */
Test(asyncio_timers, test_timer_comparison) {
  cb_loop *l = cb_loop_new();
  int results[8], n = 0;
  uint64_t when = cb_loop_time(l) + 5 * MS;
  rec h1 = {.v = 1, .results = results, .n = &n}, h2 = {.v = 2, .results = results, .n = &n};
  rec h3 = {.v = 3, .results = results, .n = &n}, h4 = {.v = 4, .results = results, .n = &n};
  rec h5 = {.v = 5, .results = results, .n = &n};
  cb_call_at(l, &h4.t, when + 10 * MS, record, &h4); /* later, queued first */
  cb_call_at(l, &h1.t, when, record, &h1);
  cb_call_at(l, &h2.t, when, record, &h2);
  cb_call_at(l, &h5.t, when, record, &h5);
  cb_call_at(l, &h3.t, when, record, &h3);
  cb_timer_cancel(l, &h5.t);
  cb_timer stop = {0};
  cb_call_at(l, &stop, when + 10 * MS, stop_cb, l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(n, 4);
  static const int want[4] = {1, 2, 3, 4};
  for (int i = 0; i < 4; i++) cr_assert_eq(results[i], want[i], "results[%d] = %d", i, results[i]);
  cb_loop_close(l);
}

/* ---- BaseEventLoopTests ---- */

Test(asyncio_base_events, test_call_soon) {
  cb_loop *l = cb_loop_new();
  cb_handle h = {0};
  cb_call_soon(l, &h, noop, NULL);
  cr_assert_eq(h.fn, noop);
  cr_assert(cb__list_linked(&h.node), "in loop._ready");
  cr_assert_eq(l->ready.next, &h.node);
  cb_handle_cancel(l, &h);
  cb_loop_close(l);
}

Test(asyncio_base_events, test_call_later) {
  cb_loop *l = cb_loop_new();
  cb_timer t = {0};
  cb_call_later(l, &t, 10000 * MS, noop, NULL);
  cr_assert_eq(l->timers.count, 1, "in loop._scheduled");
  cr_assert(cb__list_empty(&l->ready), "not in loop._ready");
  cr_assert_eq(cb_timer_cancel(l, &t), 1);
  cb_loop_close(l);
}

/* call_later(-1) / call_later(-2): in C, deadlines in the past (call_at). */
Test(asyncio_base_events, test_call_later_negative_delays) {
  cb_loop *l = cb_loop_new();
  int results[4], n = 0;
  rec a = {.v = 'a', .results = results, .n = &n}, b = {.v = 'b', .results = results, .n = &n};
  uint64_t now = cb_loop_time(l);
  cb_call_at(l, &a.t, now - 1 * MS, record, &a);
  cb_call_at(l, &b.t, now - 2 * MS, record, &b);
  run_briefly(l);
  cr_assert_eq(n, 2);
  cr_assert_eq(results[0], 'b');
  cr_assert_eq(results[1], 'a');
  cb_loop_close(l);
}

Test(asyncio_base_events, test_time_and_call_at) {
  cb_loop *l = cb_loop_new();
  uint64_t delay = 20 * MS;
  cb_timer t = {0};
  uint64_t when = cb_loop_time(l) + delay;
  cb_call_at(l, &t, when, stop_cb, l);
  uint64_t t0 = cb_loop_time(l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_geq(cb_loop_time(l) - t0, delay - 1 * MS, "the callback did not run early");
  cr_assert_geq(cb_loop_time(l), when);
  cb_loop_close(l);
}

Test(asyncio_base_events, test_set_debug) {
  cb_loop *l = cb_loop_new();
  cb_loop_set_debug(l, 1);
  cr_assert(cb_loop_get_debug(l));
  cb_loop_set_debug(l, 0);
  cr_assert(!cb_loop_get_debug(l));
  cb_loop_close(l);
}

/* Python: a callback raising ShowStopper ends run_until_complete(foo(0.1)); in C
 * a stop does. The next run_until_complete must work: the first one took its
 * done callback off foo's future (it lived on that run's stack). */
Test(asyncio_base_events, test_run_until_complete_loop_orphan_future_close_loop) {
  cb_loop *l = cb_loop_new();
  cb_handle h = {0};
  cb_call_soon(l, &h, stop_cb, l);
  cb_task *foo1 = sleep_task(l, 10, 0, 0);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(foo1)), -EINTR);
  cb_task *foo2 = sleep_task(l, 20, 0, 0);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(foo2)), 0);
  cr_assert(cb_task_done(foo1) && cb_task_done(foo2));
  cb_task_release(foo1);
  cb_task_release(foo2);
  cb_loop_close(l);
}

Test(asyncio_base_events, test_default_exc_handler_coro) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *fut = sleep_task(l, 5, 0, -EDOM); /* zero_error_coro */
  cb_loop_run_until_complete(l, cb_task_future(fut));
  cb_task_release(fut); /* Future.__del__ */
  cr_assert_eq(log.n, 1);
  cr_assert(strstr(log.last, "exception was never retrieved") != NULL, "%s", log.last);
  cb_loop_close(l);
}

/* PYTHONASYNCIODEBUG is CONCBENCH_LOOP_DEBUG here. */
Test(asyncio_base_events, test_env_var_debug) {
  static const char *const vals[] = {NULL, "", "0", "1"};
  static const int want[] = {0, 0, 0, 1};
  for (int i = 0; i < 4; i++) {
    if (vals[i])
      setenv("CONCBENCH_LOOP_DEBUG", vals[i], 1);
    else
      unsetenv("CONCBENCH_LOOP_DEBUG");
    cb_loop *l = cb_loop_new();
    cr_assert_eq(cb_loop_get_debug(l), want[i], "CONCBENCH_LOOP_DEBUG=%s", vals[i] ? vals[i] : "(unset)");
    cb_loop_close(l);
  }
  unsetenv("CONCBENCH_LOOP_DEBUG");
}

Test(asyncio_base_events, test_create_named_task_with_default_factory) {
  cb_loop *l = cb_loop_new();
  cb_task *t = sleep_task(l, 0, 0, 0);
  cb_task_release(t);
  t = cb_create_task(l, ap_once, sizeof(ap_once_frame), "test_task");
  char name[32];
  cr_assert_str_eq(cb_task_name(t, name, sizeof name), "test_task");
  cb_loop_run_until_complete(l, cb_task_future(t));
  cb_task_release(t);
  cb_loop_close(l);
}

/* After a run_until_complete whose task failed, no stale stop is left:
 * call_soon(call_soon, func) then run_forever runs func, which stops. */
typedef struct { cb_handle h1, h2; cb_loop *l; int called; } rucb;
static void func(void *arg) {
  rucb *r = arg;
  cb_loop_stop(r->l);
  r->called = 1;
}
static void schedule_func(void *arg) {
  rucb *r = arg;
  cb_call_soon(r->l, &r->h2, func, r);
}
Test(asyncio_base_events, test_run_until_complete_baseexception) {
  cb_loop *l = cb_loop_new();
  cb_task *t = sleep_task(l, 0, 0, -EINTR); /* raise KeyboardInterrupt */
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, -EINTR);
  cb_task_release(t);
  rucb r = {.l = l};
  cb_call_soon(l, &r.h1, schedule_func, &r);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert(r.called);
  cb_loop_close(l);
}

/* The idiom: loop.call_soon(loop.stop); loop.run_forever(). */
static void count_cb(void *p) { ++*(int *)p; }
Test(asyncio_base_events, test_run_once) {
  cb_loop *l = cb_loop_new();
  int count = 0;
  cb_handle h1 = {0}, h2 = {0};
  cb_call_soon(l, &h1, count_cb, &count);
  cb_call_soon(l, &h2, stop_cb, l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(count, 1);
  cb_loop_close(l);
}

/* stop() before run_forever(): one iteration, without waiting (select(0)). */
Test(asyncio_base_events, test_run_forever_pre_stopped) {
  cb_loop *l = cb_loop_new();
  int count = 0;
  cb_timer t = {0};
  cb_call_later(l, &t, 60000 * MS, count_cb, &count); /* would block the poll */
  cb_handle h = {0};
  cb_call_soon(l, &h, count_cb, &count);
  cb_loop_stop(l);
  uint64_t t0 = cb_loop_time(l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(count, 1, "one iteration ran");
  cr_assert_lt(cb_loop_time(l) - t0, 30000 * MS, "it did not wait for the timer");
  cb_timer_cancel(l, &t);
  cb_loop_close(l);
}

/* ---- EventLoopTestsMixin (test_events.py) ---- */

/* f2 = run_in_executor(run sleeping 50 ms); f2.cancel(): when the work ends,
 * nothing reaches the loop for it (asyncio: no call_soon) — f2 stays cancelled
 * and the caller's data is not written back. */
typedef struct { int written; } slow_data;
static int run_slowly(void *vd, uint64_t *result) {
  slow_data *d = vd;
  usleep(50000);
  d->written = 1;
  *result = 1;
  return 0;
}
Test(asyncio_events, test_run_in_executor_cancel) {
  cb_loop *l = cb_loop_new();
  slow_data d = {0};
  cb_exec_job f2;
  cr_assert_eq(cb_run_in_executor(l, &f2, run_slowly, &d, sizeof d), 0);
  cr_assert_eq(cb_future_cancel(&f2.fut, NULL), 1);
  cb_task *t = sleep_task(l, 100, 0, 0);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cb_task_release(t);
  cr_assert(cb_future_cancelled(&f2.fut));
  cr_assert_eq(d.written, 0, "a cancelled job's result is dropped");
  cb_loop_close(l);
}

typedef struct { cb_co co; int rc; } nest_frame;
static int coro2(cb_task *task, void *vf) {
  nest_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->rc = cb_loop_run_until_complete(cb_task_loop(task), cb_task_future(task));
  CB_CO_END();
}
/* RuntimeError('This event loop is already running') is -EBUSY. */
Test(asyncio_events, test_run_until_complete_nesting) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, coro2, sizeof(nest_frame), NULL);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert_eq(((nest_frame *)cb_task_frame(t))->rc, -EBUSY);
  cb_task_release(t);
  cb_loop_close(l);
}

Test(asyncio_events, test_run_until_complete) {
  cb_loop *l = cb_loop_new();
  uint64_t t0 = cb_loop_time(l);
  cb_task *t = sleep_task(l, 10, 0, 0);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_geq(cb_loop_time(l) - t0, 10 * MS, "slept (no upper bound: noisy machine)");
  cb_task_release(t);
  cb_loop_close(l);
}

typedef struct { cb_co co; } stopper_frame;
static int stop_then_sleep(cb_task *task, void *vf) {
  stopper_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_loop_stop(cb_task_loop(task));
  CB_SLEEP(10 * MS);
  CB_CO_END();
}
Test(asyncio_events, test_run_until_complete_stopped) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, stop_then_sleep, sizeof(stopper_frame), NULL);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), -EINTR, "RuntimeError");
  cb_task_cancel(t, NULL);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cb_task_release(t);
  cb_loop_close(l);
}

Test(asyncio_events, test_call_later) {
  cb_loop *l = cb_loop_new();
  int results[2], n = 0;
  rec r = {.l = l, .v = 1, .stop_at = 1, .results = results, .n = &n};
  uint64_t t0 = cb_loop_time(l);
  cb_call_later(l, &r.t, 10 * MS, record, &r);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(n, 1);
  cr_assert_geq(cb_loop_time(l) - t0, 10 * MS);
  cb_loop_close(l);
}

Test(asyncio_events, test_call_soon) {
  cb_loop *l = cb_loop_new();
  int results[2], n = 0;
  rec r = {.l = l, .v = 1, .stop_at = 1, .results = results, .n = &n};
  cb_call_soon(l, &r.h, record, &r);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(results[0], 1);
  cb_loop_close(l);
}

/* 'hello' from another thread, queued before 'world' is (a lock orders them). */
typedef struct { cb_loop *l; rec *hello; pthread_mutex_t mu; } ts_arg;
static void *run_in_thread(void *arg) {
  ts_arg *a = arg;
  cb_call_soon_threadsafe(a->l, &a->hello->h, record, a->hello);
  pthread_mutex_unlock(&a->mu);
  return NULL;
}
Test(asyncio_events, test_call_soon_threadsafe) {
  cb_loop *l = cb_loop_new();
  int results[4], n = 0;
  rec hello = {.l = l, .v = 'h', .stop_at = 2, .results = results, .n = &n};
  rec world = {.l = l, .v = 'w', .stop_at = 2, .results = results, .n = &n};
  ts_arg a = {.l = l, .hello = &hello};
  pthread_mutex_init(&a.mu, NULL);
  pthread_mutex_lock(&a.mu);
  cb_loop_hold(l);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, run_in_thread, &a), 0);
  pthread_mutex_lock(&a.mu); /* with lock: */
  cb_call_soon(l, &world.h, record, &world);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  pthread_mutex_unlock(&a.mu);
  pthread_join(th, NULL);
  cr_assert_eq(n, 2);
  cr_assert_eq(results[0], 'h');
  cr_assert_eq(results[1], 'w');
  cb_loop_unhold(l);
  pthread_mutex_destroy(&a.mu);
  cb_loop_close(l);
}

Test(asyncio_events, test_call_soon_threadsafe_same_thread) {
  cb_loop *l = cb_loop_new();
  int results[4], n = 0;
  rec hello = {.l = l, .v = 'h', .stop_at = 2, .results = results, .n = &n};
  rec world = {.l = l, .v = 'w', .stop_at = 2, .results = results, .n = &n};
  cb_loop_hold(l);
  cb_call_soon_threadsafe(l, &hello.h, record, &hello);
  cb_call_soon(l, &world.h, record, &world);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(results[0], 'h', "the threadsafe queue is taken before the ready batch");
  cr_assert_eq(results[1], 'w');
  cb_loop_unhold(l);
  cb_loop_close(l);
}

typedef struct { pthread_t thread; uint64_t arg; } yo_data;
static int run_yo(void *vd, uint64_t *result) {
  yo_data *d = vd;
  d->thread = pthread_self();
  *result = d->arg;
  return 0;
}
Test(asyncio_events, test_run_in_executor) {
  cb_loop *l = cb_loop_new();
  yo_data d = {.arg = 0x796f};
  cb_exec_job f2;
  cr_assert_eq(cb_run_in_executor(l, &f2, run_yo, &d, sizeof d), 0);
  cr_assert_eq(cb_loop_run_until_complete(l, &f2.fut), 0);
  cr_assert_eq(f2.fut.result.u, 0x796f);
  cr_assert(!pthread_equal(d.thread, pthread_self()));
  cb_loop_close(l);
}
