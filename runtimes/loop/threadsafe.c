/* threadsafe.c — run_coroutine_threadsafe: submit a coroutine from another OS
 * thread; block on its outcome (with a timeout), or cancel it.
 *
 * The loop side touches cf until `released`: the task's done callback and the
 * cancel handle are in cf. Without a cancel, the done callback releases it; after
 * a cancel, the cancel handle (queued after the submit handle on the same FIFO)
 * does, having unhooked the done callback and cancelled the task. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "runtimes/loop/executor.h"
#include "runtimes/loop/loop_int.h"

/* Loop thread: the task finished. A cancelled cf keeps its cancellation. */
static void on_task_done(void *arg) {
  cb_cfuture *cf = arg;
  cb_task *t = cf->task;
  cb_val v = cb_task_result(t);
  cb_err e = cb_task_error(t);
  cf->task = NULL;
  cb_task_release(t);
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  if (!cf->cancelled) {
    cf->result = v;
    cf->err = e;
    cf->done = 1;
    cf->released = 1;
    CB_CHECK(pthread_cond_broadcast(&cf->cv) == 0);
  }
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
}

/* Loop thread. */
static void on_submit(void *arg) {
  cb_cfuture *cf = arg;
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  int cancelled = cf->cancelled;
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  if (cancelled) return; /* cancelled before it started: never runs (on_cancel follows) */
  cb_task *t = cb_task_new(cf->loop, cf->fn, cf->frame_size, cf->name);
  CB_CHECK(t != NULL);
  memcpy(cb_task_frame(t), cf->frame_init, cf->frame_size);
  memset(cb_task_frame(t), 0, sizeof(cb_co));
  cf->task = t;
  cb_future_add_done_callback(cb_task_future(t), &cf->on_done, on_task_done, cf);
  cb_task_start(t);
}

/* Loop thread, after on_submit: cancels the task, unhooks cf, releases it. */
static void on_cancel(void *arg) {
  cb_cfuture *cf = arg;
  cb_task *t = cf->task;
  if (t) {
    /* Linked to the task's callbacks, or already on the ready queue. */
    if (!cb_future_remove_done_callback(cb_task_future(t), &cf->on_done))
      cb_handle_cancel(cf->loop, &cf->on_done);
    cb_task_cancel(t, cf->cancel_msg);
    cf->task = NULL;
    cb_task_release(t);
  }
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  cf->released = 1;
  CB_CHECK(pthread_cond_broadcast(&cf->cv) == 0);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
}

void cb_run_coroutine_threadsafe(cb_loop *l, cb_cfuture *cf, cb_co_fn fn, size_t frame_size,
                                 const void *frame_init, const char *name) {
  memset(cf, 0, sizeof *cf);
  pthread_condattr_t ca;
  CB_CHECK(pthread_condattr_init(&ca) == 0);
  CB_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
  CB_CHECK(pthread_mutex_init(&cf->mu, NULL) == 0);
  CB_CHECK(pthread_cond_init(&cf->cv, &ca) == 0);
  CB_CHECK(pthread_condattr_destroy(&ca) == 0);
  cf->loop = l;
  cf->fn = fn;
  cf->frame_size = frame_size;
  cf->frame_init = frame_init;
  cf->name = name;
  cb_call_soon_threadsafe(l, &cf->submit, on_submit, cf);
}

/* With cf->mu held. */
static cb_err outcome(const cb_cfuture *cf, cb_val *result) {
  if (result && !cf->err.code) *result = cf->result;
  return cf->err;
}

cb_err cb_cfuture_result(cb_cfuture *cf, int64_t timeout_ns, cb_val *result) {
  struct timespec until;
  if (timeout_ns >= 0) {
    CB_CHECK(clock_gettime(CLOCK_MONOTONIC, &until) == 0);
    until.tv_sec += (time_t)(timeout_ns / 1000000000);
    until.tv_nsec += (long)(timeout_ns % 1000000000);
    if (until.tv_nsec >= 1000000000) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000;
    }
  }
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  while (!cf->done) {
    if (timeout_ns < 0) {
      CB_CHECK(pthread_cond_wait(&cf->cv, &cf->mu) == 0);
      continue;
    }
    int rc = pthread_cond_timedwait(&cf->cv, &cf->mu, &until);
    CB_CHECK(rc == 0 || rc == ETIMEDOUT);
    if (rc == ETIMEDOUT && !cf->done) {
      CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
      return (cb_err){-ETIMEDOUT, "cfuture: timed out"};
    }
  }
  cb_err e = outcome(cf, result);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  return e;
}

int cb_cfuture_done(cb_cfuture *cf) {
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  int d = cf->done;
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  return d;
}

int cb_cfuture_cancelled(cb_cfuture *cf) {
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  int c = cf->done && cf->err.code == -ECANCELED;
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  return c;
}

int cb_cfuture_cancel(cb_cfuture *cf, const char *msg) {
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  if (cf->done) {
    CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
    return 0;
  }
  cf->cancelled = 1;
  cf->cancel_msg = msg;
  cf->err = (cb_err){-ECANCELED, msg};
  cf->done = 1;
  CB_CHECK(pthread_cond_broadcast(&cf->cv) == 0);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  cb_call_soon_threadsafe(cf->loop, &cf->cancel, on_cancel, cf);
  return 1;
}

cb_err cb_cfuture_wait(cb_cfuture *cf, cb_val *result) {
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  while (!cf->done || !cf->released) CB_CHECK(pthread_cond_wait(&cf->cv, &cf->mu) == 0);
  cb_err e = outcome(cf, result);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  CB_CHECK(pthread_mutex_destroy(&cf->mu) == 0);
  CB_CHECK(pthread_cond_destroy(&cf->cv) == 0);
  return e;
}
