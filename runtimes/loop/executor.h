/* executor.h — run blocking work on libuv's thread pool; run coroutines from
 * other threads.
 *
 * The pool is libuv's (uv_queue_work): its size is read once per process from
 * UV_THREADPOOL_SIZE at first use; cb_executor_set_pool_size sets it before that
 * (returns -EBUSY once the pool has started in this process, as far as we know). */
#ifndef CB_LOOP_EXECUTOR_H
#define CB_LOOP_EXECUTOR_H

#include <pthread.h>

#include "runtimes/loop/task.h"

/* Runs in a pool thread: data is the job's private copy of the caller's bytes;
 * returns 0 and sets *result, or a negative errno. */
typedef int (*cb_exec_fn)(void *data, uint64_t *result);

typedef struct cb__exec_req cb__exec_req;
typedef struct cb_exec_job {
  cb_future fut; /* result.u = *result; error: the fn's errno, message "executor job failed" */
  cb__exec_req *req;
  void *out; /* where the data copy goes back on completion */
} cb_exec_job;

/* Queues fn on the pool with a private copy of data[0..size); on completion the
 * copy is written back to data (which must stay valid until then, or until the
 * job is cancelled) and job->fut completes. Cancelling the future dequeues the
 * work if it has not started, else detaches it (it runs to the end, unobserved).
 * One malloc per job. 0 or negative errno (the future is then untouched). */
int cb_run_in_executor(cb_loop *loop, cb_exec_job *job, cb_exec_fn fn, void *data, size_t size);

int cb_executor_set_pool_size(unsigned n);

/* A future another OS thread can block on (concurrent.futures.Future), made by
 * cb_run_coroutine_threadsafe. Its fields are internal: use the functions below.
 * Life: cb_run_coroutine_threadsafe starts it; any number of cb_cfuture_result /
 * cb_cfuture_done / cb_cfuture_cancel calls; one cb_cfuture_wait ends it (after
 * which cf may be freed). */
typedef struct cb_cfuture {
  pthread_mutex_t mu;
  pthread_cond_t cv;  /* CLOCK_MONOTONIC, for timed waits */
  int done;           /* outcome known: the task finished, or cf was cancelled */
  int cancelled;      /* cancelled through cb_cfuture_cancel */
  int released;       /* the loop no longer touches cf */
  cb_val result;
  cb_err err;
  /* internal, loop thread only */
  cb_handle submit, on_done, cancel;
  cb_loop *loop;
  cb_co_fn fn;
  size_t frame_size;
  const void *frame_init;
  const char *name;
  const char *cancel_msg;
  cb_task *task;
} cb_cfuture;

/* From any thread but the loop's: creates a task running fn on a copy of
 * frame_init (frame_size bytes, its cb_co zeroed) on the loop and returns at
 * once. cf must stay alive until cb_cfuture_wait returned. The loop must be
 * running or held (cb_loop_hold) until cf is done, and after a cancel until
 * cb_cfuture_wait returned. */
void cb_run_coroutine_threadsafe(cb_loop *loop, cb_cfuture *cf, cb_co_fn fn, size_t frame_size,
                                 const void *frame_init, const char *name);

/* Future.result(timeout) (never from the loop's thread): blocks until cf is done
 * or timeout_ns passed (< 0: no limit). Returns the coroutine's error (code 0 =
 * none, *result set), -ECANCELED (with the cancel message) if cf was cancelled or
 * the coroutine ended cancelled, or -ETIMEDOUT (message "cfuture: timed out") if
 * not done in time: the coroutine then keeps running, cf stays usable. */
cb_err cb_cfuture_result(cb_cfuture *cf, int64_t timeout_ns, cb_val *result);

/* Future.done() / Future.cancelled(): from any thread. */
int cb_cfuture_done(cb_cfuture *cf);
int cb_cfuture_cancelled(cb_cfuture *cf);

/* Future.cancel(msg) (never from the loop's thread): 1 if cf was not done — it
 * is now cancelled (waiters wake with -ECANCELED) and the task is cancelled on
 * the loop with msg (before it starts, if it has not); whatever the task does
 * after, cf keeps the cancellation. 0 if cf is already done. */
int cb_cfuture_cancel(cb_cfuture *cf, const char *msg);

/* Blocks until cf is done and the loop has let go of it (after a cancel: one loop
 * iteration), returns its outcome as cb_cfuture_result and destroys cf's mutex
 * and condition variable. Called once, last. */
cb_err cb_cfuture_wait(cb_cfuture *cf, cb_val *result);

#endif
