/* test_loop_exec.c — run_in_executor, call_soon_threadsafe and
 * run_coroutine_threadsafe from a pthread, debug-mode warnings. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/loop/executor.h"
#include "runtimes/loop/loop.h"
#include "runtimes/loop/task.h"

#define MS 1000000ull

/* ---- executor: blocking work runs on pool threads, results come back ---- */
typedef struct { uint64_t n; pthread_t thread; } sq_data;
static int square_slowly(void *vd, uint64_t *result) {
  sq_data *d = vd;
  usleep(60000);
  d->thread = pthread_self();
  if (d->n == 13) return -EDOM;
  *result = d->n * d->n;
  return 0;
}
typedef struct {
  cb_co co;
  sq_data data[4];
  cb_exec_job jobs[4];
  int i, ticks;
  uint64_t results[4];
  cb_err e13;
} ex_frame;
static int ex_main(cb_task *task, void *vf) {
  ex_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->i = 0; f->i < 4; f->i++) {
    f->data[f->i].n = f->i == 3 ? 13 : (uint64_t)f->i + 2;
    cr_assert_eq(cb_run_in_executor(cb_task_loop(task), &f->jobs[f->i], square_slowly, &f->data[f->i],
                                    sizeof f->data[f->i]), 0);
  }
  /* the loop stays responsive while the pool works */
  while (!cb_future_done(&f->jobs[2].fut)) {
    f->ticks++;
    CB_SLEEP(MS);
  }
  for (f->i = 0; f->i < 3; f->i++) {
    CB_AWAIT(&f->jobs[f->i].fut);
    f->results[f->i] = f->jobs[f->i].fut.result.u;
  }
  CB_AWAIT_TRY(&f->jobs[3].fut, f->e13);
  CB_CO_END();
}
Test(loop_exec, run_in_executor_result_and_error) {
  cr_assert_eq(cb_executor_set_pool_size(4), 0);
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, ex_main, sizeof(ex_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  ex_frame *f = cb_task_frame(t);
  cr_assert_eq(cb_task_error(t).code, 0);
  cr_assert_eq(f->results[0], 4);
  cr_assert_eq(f->results[1], 9);
  cr_assert_eq(f->results[2], 16);
  cr_assert_eq(f->e13.code, -EDOM);
  cr_assert_gt(f->ticks, 2, "loop ticked %d times while the pool worked", f->ticks);
  cr_assert(!pthread_equal(f->data[0].thread, pthread_self()), "ran on a pool thread");
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- a cancelled executor future completes at once; close waits for the work ---- */
Test(loop_exec, cancel_executor_job) {
  cb_loop *l = cb_loop_new();
  sq_data d[8];
  cb_exec_job jobs[8];
  for (int i = 0; i < 8; i++) {
    d[i].n = 2;
    cr_assert_eq(cb_run_in_executor(l, &jobs[i], square_slowly, &d[i], sizeof d[i]), 0);
  }
  for (int i = 0; i < 8; i++) cr_assert_eq(cb_future_cancel(&jobs[i].fut, NULL), 1);
  for (int i = 0; i < 8; i++) cr_assert(cb_future_cancelled(&jobs[i].fut));
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- threadsafe submission from a pthread ---- */
typedef struct { cb_co co; uint64_t x; } twice_frame;
static int twice(cb_task *task, void *vf) {
  twice_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(MS);
  if (f->x == 0) CB_RAISE(-EINVAL, "zero");
  CB_RETURN((cb_val){.u = 2 * f->x});
  CB_CO_END();
}
typedef struct { cb_loop *loop; uint64_t results[8]; cb_err zero_err; cb_handle stop; } ts_ctx;
static void stop_cb(void *l) { cb_loop_stop(l); }
static void *submitter(void *arg) {
  ts_ctx *c = arg;
  cb_cfuture cf[8];
  twice_frame init[8];
  for (int i = 0; i < 8; i++) {
    memset(&init[i], 0, sizeof init[i]);
    init[i].x = (uint64_t)i + 1;
    cb_run_coroutine_threadsafe(c->loop, &cf[i], twice, sizeof init[i], &init[i], "from-thread");
  }
  for (int i = 0; i < 8; i++) {
    cb_val v;
    cb_err e = cb_cfuture_wait(&cf[i], &v);
    c->results[i] = e.code ? 0 : v.u;
  }
  cb_cfuture z;
  twice_frame zi = {.x = 0};
  cb_run_coroutine_threadsafe(c->loop, &z, twice, sizeof zi, &zi, "zero");
  c->zero_err = cb_cfuture_wait(&z, NULL);
  cb_call_soon_threadsafe(c->loop, &c->stop, stop_cb, c->loop);
  return NULL;
}
Test(loop_exec, threadsafe_submission_from_pthread) {
  ts_ctx c = {.loop = cb_loop_new()};
  cb_loop_hold(c.loop);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, submitter, &c), 0);
  cr_assert_eq(cb_loop_run_forever(c.loop), 0);
  cr_assert_eq(pthread_join(th, NULL), 0);
  for (int i = 0; i < 8; i++) cr_assert_eq(c.results[i], 2 * ((uint64_t)i + 1));
  cr_assert_eq(c.zero_err.code, -EINVAL);
  cr_assert_eq(cb_loop_tasks_alive(c.loop), 0);
  cb_loop_unhold(c.loop);
  cr_assert_eq(cb_loop_close(c.loop), 0);
}

/* ---- the concurrent future: a timed wait, cancel (running and not started) ---- */
typedef struct { cb_co co; int *ran, *saw_cancel; uint64_t ms; cb_err e; } slow_frame;
static int slow_co(cb_task *task, void *vf) {
  slow_frame *f = vf;
  CB_CO_BEGIN(task, f);
  __atomic_store_n(f->ran, 1, __ATOMIC_RELEASE);
  CB_SLEEP_TRY(f->ms * MS, f->e);
  if (f->e.code == -ECANCELED) *f->saw_cancel = 1;
  CB__RAISE_IF(f->e);
  CB_RETURN((cb_val){.u = 7});
  CB_CO_END();
}
typedef struct {
  cb_loop *loop;
  int ran[3], saw_cancel[3];
  cb_err timed_out, late, cancelled, after_cancel, before_start;
  int cancel_rc, cancel_again, done_after_cancel;
  uint64_t late_v;
  cb_handle stop;
} cf_ctx;
static void *cf_user(void *arg) {
  cf_ctx *c = arg;
  cb_cfuture a, b, z;
  slow_frame ia = {.ran = &c->ran[0], .saw_cancel = &c->saw_cancel[0], .ms = 30};
  cb_run_coroutine_threadsafe(c->loop, &a, slow_co, sizeof ia, &ia, "timed");
  c->timed_out = cb_cfuture_result(&a, 0, NULL); /* not done yet: -ETIMEDOUT, keeps running */
  cb_val v = {0};
  c->late = cb_cfuture_result(&a, 10000 * (int64_t)MS, &v);
  c->late_v = v.u;
  cb_cfuture_wait(&a, NULL);

  slow_frame ib = {.ran = &c->ran[1], .saw_cancel = &c->saw_cancel[1], .ms = 100000};
  cb_run_coroutine_threadsafe(c->loop, &b, slow_co, sizeof ib, &ib, "cancelled");
  while (!__atomic_load_n(&c->ran[1], __ATOMIC_ACQUIRE)) usleep(1000);
  c->cancel_rc = cb_cfuture_cancel(&b, "stop it");
  c->cancel_again = cb_cfuture_cancel(&b, NULL);
  c->done_after_cancel = cb_cfuture_done(&b) && cb_cfuture_cancelled(&b);
  c->cancelled = cb_cfuture_result(&b, -1, NULL);
  c->after_cancel = cb_cfuture_wait(&b, NULL);

  /* cancelled before the loop created its task: the coroutine never runs */
  slow_frame iz = {.ran = &c->ran[2], .saw_cancel = &c->saw_cancel[2], .ms = 1};
  cb_run_coroutine_threadsafe(c->loop, &z, slow_co, sizeof iz, &iz, "never");
  cb_cfuture_cancel(&z, NULL);
  c->before_start = cb_cfuture_wait(&z, NULL);
  cb_call_soon_threadsafe(c->loop, &c->stop, stop_cb, c->loop);
  return NULL;
}
Test(loop_exec, cfuture_timed_wait_and_cancel) {
  cf_ctx c = {.loop = cb_loop_new()};
  cb_loop_hold(c.loop);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, cf_user, &c), 0);
  cr_assert_eq(cb_loop_run_forever(c.loop), 0);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_assert_eq(c.timed_out.code, -ETIMEDOUT);
  cr_assert_eq(c.late.code, 0);
  cr_assert_eq(c.late_v, 7);
  cr_assert_eq(c.cancel_rc, 1);
  cr_assert_eq(c.cancel_again, 0, "already done");
  cr_assert(c.done_after_cancel);
  cr_assert_eq(c.cancelled.code, -ECANCELED);
  cr_assert_str_eq(c.cancelled.msg, "stop it");
  cr_assert_eq(c.after_cancel.code, -ECANCELED);
  /* the loop saw the cancel (before it handled z, then the stop): the task got
   * -ECANCELED at its await and ended */
  cr_assert(c.saw_cancel[1]);
  cr_assert_eq(cb_loop_tasks_alive(c.loop), 0);
  cr_assert_eq(c.before_start.code, -ECANCELED);
  cr_assert_eq(c.ran[2], 0, "cancelled before it started: never ran");
  cb_loop_unhold(c.loop);
  cr_assert_eq(cb_loop_close(c.loop), 0);
}

/* ---- debug mode: never awaited, slow callback naming the task ---- */
typedef struct { char msgs[4][512]; int n; } exc_log;
static void capture(cb_loop *l, const char *message, void *arg) {
  exc_log *x = arg;
  if (x->n < 4) snprintf(x->msgs[x->n++], sizeof x->msgs[0], "%s", message);
}
typedef struct { cb_co co; } hog_frame;
static int hog(cb_task *task, void *vf) {
  hog_frame *f = vf;
  CB_CO_BEGIN(task, f);
  usleep(120000); /* blocks the loop: exactly what debug mode should flag */
  CB_CO_END();
}
Test(loop_exec, debug_mode_warnings) {
  setenv("CONCBENCH_LOOP_DEBUG", "1", 1);
  cb_loop *l = cb_loop_new();
  unsetenv("CONCBENCH_LOOP_DEBUG");
  cr_assert_eq(cb_loop_get_debug(l), 1);
  exc_log x = {.n = 0};
  cb_loop_set_exception_handler(l, capture, &x);
  cb_task *never = cb_task_new(l, hog, sizeof(hog_frame), "forgotten");
  cb_task_release(never);
  cr_assert_eq(x.n, 1);
  cr_assert(strstr(x.msgs[0], "never awaited") && strstr(x.msgs[0], "forgotten"), "%s", x.msgs[0]);
  cb_task *t = cb_create_task(l, hog, sizeof(hog_frame), "hog");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_task_release(t);
  cr_assert_eq(x.n, 2);
  cr_assert(strstr(x.msgs[1], "took") && strstr(x.msgs[1], "'hog'"), "%s", x.msgs[1]);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loop_exec, no_debug_warning_when_off) {
  unsetenv("CONCBENCH_LOOP_DEBUG");
  cb_loop *l = cb_loop_new();
  exc_log x = {.n = 0};
  cb_loop_set_exception_handler(l, capture, &x);
  cb_task_release(cb_task_new(l, hog, sizeof(hog_frame), "forgotten"));
  cr_assert_eq(x.n, 0);
  cr_assert_eq(cb_loop_close(l), 0);
}
