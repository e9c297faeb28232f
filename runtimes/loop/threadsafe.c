/* threadsafe.c — run_coroutine_threadsafe: submit a coroutine from another OS
 * thread and block on its outcome. */
#include <string.h>

#include "runtimes/loop/executor.h"
#include "runtimes/loop/loop_int.h"

static void on_task_done(void *arg) {
  cb_cfuture *cf = arg;
  cb_task *t = cf->task;
  cb_val v = cb_task_result(t);
  cb_err e = cb_task_error(t);
  cb_task_release(t);
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  cf->result = v;
  cf->err = e;
  cf->done = 1;
  CB_CHECK(pthread_cond_broadcast(&cf->cv) == 0);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
}

/* On the loop thread. */
static void on_submit(void *arg) {
  cb_cfuture *cf = arg;
  cb_task *t = cb_task_new(cf->loop, cf->fn, cf->frame_size, cf->name);
  CB_CHECK(t != NULL);
  memcpy(cb_task_frame(t), cf->frame_init, cf->frame_size);
  memset(cb_task_frame(t), 0, sizeof(cb_co));
  cf->task = t;
  cb_future_add_done_callback(cb_task_future(t), &cf->on_done, on_task_done, cf);
  cb_task_start(t);
}

void cb_run_coroutine_threadsafe(cb_loop *l, cb_cfuture *cf, cb_co_fn fn, size_t frame_size,
                                 const void *frame_init, const char *name) {
  memset(cf, 0, sizeof *cf);
  CB_CHECK(pthread_mutex_init(&cf->mu, NULL) == 0);
  CB_CHECK(pthread_cond_init(&cf->cv, NULL) == 0);
  cf->loop = l;
  cf->fn = fn;
  cf->frame_size = frame_size;
  cf->frame_init = frame_init;
  cf->name = name;
  cb_call_soon_threadsafe(l, &cf->submit, on_submit, cf);
}

cb_err cb_cfuture_wait(cb_cfuture *cf, cb_val *result) {
  CB_CHECK(pthread_mutex_lock(&cf->mu) == 0);
  while (!cf->done) CB_CHECK(pthread_cond_wait(&cf->cv, &cf->mu) == 0);
  CB_CHECK(pthread_mutex_unlock(&cf->mu) == 0);
  CB_CHECK(pthread_mutex_destroy(&cf->mu) == 0);
  CB_CHECK(pthread_cond_destroy(&cf->cv) == 0);
  if (result) *result = cf->result;
  return cf->err;
}
